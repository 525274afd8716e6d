//! End to end: a real HTTP server on 127.0.0.1 replays recorded streams in random pieces with
//! pauses, and a real reqwest client reads them through the async adapters. What the client
//! assembles must equal what a `ChunkStream` makes of the whole body at once; an event must
//! reach the client while the server still holds the rest; a cut connection must surface as
//! a transport error with the partial message intact. The example client (`examples/chat.rs`)
//! runs against the same server. With the `reqwest` feature, `AsyncChunkStream::from_response`
//! meets what servers answer instead of a stream: error statuses with JSON or HTML bodies, the
//! wrong content type, endless error bodies.
//!
//! The recorded corpus is read from `$SSECHUNK_CORPUS` or `../shared/corpus` (its `fantasy`
//! folder when it has one); without it those tests say so on stderr and pass, unless
//! `SSECHUNK_REQUIRE_CORPUS=1`.
#![cfg(feature = "async")]

#[cfg(feature = "reqwest")]
#[allow(dead_code)]
#[path = "../examples/chat.rs"]
mod chat;
#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/outcomes.rs"]
mod outcomes;
#[path = "common/rng.rs"]
mod rng;

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fixtures::{CASSETTES, cassette_body};
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use outcomes::{Owned, Seen, one_shot};
use rng::Rng;
use ssechunk::{Accumulator, AsyncChunkStream, AsyncSource, Config, Delta, Ending, Error};
use tokio::net::TcpListener;
use tokio::time::timeout;

/// Every test finishes well within this, or fails.
const TEST_LIMIT: Duration = Duration::from_secs(25);
/// No single read may take longer than this.
const READ_LIMIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// What the client sees, and the one-shot reference.

// ---------------------------------------------------------------------------------------------
// The recorded streams.

// ---------------------------------------------------------------------------------------------
// The server.

/// One thing the server does while it sends a body.
enum Step {
    Write(Bytes),
    Sleep(Duration),
    /// Holds the rest until the test says so, or the time runs out.
    Hold(oneshot::Receiver<()>, Duration),
    /// Drops the connection without finishing the body.
    Cut,
    /// Writes the bytes again and again until the client hangs up, then reports how many
    /// bytes it handed to the connection.
    Endless(Bytes, oneshot::Sender<usize>),
}

/// The response to one request.
struct Plan {
    status: u16,
    /// `None` sends no `Content-Type`.
    content_type: Option<&'static str>,
    steps: Vec<Step>,
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Bytes,
}

type Handler = Arc<dyn Fn(&Received) -> Plan + Send + Sync>;

type Body = StreamBody<mpsc::Receiver<Result<Frame<Bytes>, io::Error>>>;

/// Serves HTTP/1.1 on 127.0.0.1 at a port the OS picks, in the current runtime, until the
/// runtime ends.
async fn serve(handler: Handler) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request| respond(handler.clone(), request));
                // A connection the plan cuts ends in an error here, on purpose.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

async fn respond(
    handler: Handler,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let received = Received {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default(),
    };
    let plan = handler(&received);
    let (mut tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        for step in plan.steps {
            match step {
                Step::Write(bytes) => {
                    if tx.send(Ok(Frame::data(bytes))).await.is_err() {
                        return;
                    }
                }
                Step::Sleep(pause) => tokio::time::sleep(pause).await,
                Step::Hold(release, limit) => {
                    let _ = timeout(limit, release).await;
                }
                Step::Cut => {
                    let _ = tx
                        .send(Err(io::Error::other("cut by the test server")))
                        .await;
                    return;
                }
                Step::Endless(bytes, sent) => {
                    let mut total = 0;
                    while tx.send(Ok(Frame::data(bytes.clone()))).await.is_ok() {
                        total += bytes.len();
                    }
                    let _ = sent.send(total);
                    return;
                }
            }
        }
    });
    let mut response = Response::builder().status(plan.status);
    if let Some(content_type) = plan.content_type {
        response = response.header("content-type", content_type);
    }
    let response = response
        .header("cache-control", "no-cache")
        .body(StreamBody::new(rx))
        .expect("a response");
    Ok(response)
}

/// `body` in writes of random sizes in `1..=max_write`, with a pause of up to 2 ms after
/// about one write in `pause_every`.
fn replay(body: &[u8], seed: u64, max_write: usize, pause_every: usize) -> Vec<Step> {
    let mut rng = Rng::new(seed);
    let mut steps = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let n = (1 + rng.below(max_write)).min(rest.len());
        steps.push(Step::Write(Bytes::copy_from_slice(&rest[..n])));
        rest = &rest[n..];
        if rng.below(pause_every) == 0 {
            steps.push(Step::Sleep(Duration::from_micros(rng.below(2000) as u64)));
        }
    }
    steps
}

fn sse(steps: Vec<Step>) -> Plan {
    Plan {
        status: 200,
        content_type: Some("text/event-stream"),
        steps,
    }
}

// ---------------------------------------------------------------------------------------------
// The client.

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
}

async fn get(url: &str) -> reqwest::Response {
    let response = timeout(READ_LIMIT, client().get(url).send())
        .await
        .expect("response headers in time")
        .expect("a response");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream",
        "{url}"
    );
    response
}

/// Reads `url` through the lending adapter: what it yielded, and the errors in between.
async fn fetch_outcomes(url: &str) -> (Seen, Vec<Error>) {
    let response = get(url).await;
    let mut stream = AsyncChunkStream::from_bytes_stream(response.bytes_stream());
    let (mut seen, mut errors) = (Seen::default(), Vec::new());
    while let Some(outcome) = timeout(READ_LIMIT, stream.next_outcome())
        .await
        .expect("an outcome in time")
    {
        match outcome {
            Ok(outcome) => seen.push_outcome(outcome),
            Err(Error::EventTooLarge { .. }) => seen.outcomes.push(Owned::TooLarge),
            Err(e) => errors.push(e),
        }
        assert!(errors.len() < 2, "one error ends the input: {errors:?}");
    }
    (seen, errors)
}

/// Reads `url` through the delta stream: the deltas, the errors, and the message.
async fn fetch_deltas(url: &str) -> (Vec<Delta>, Vec<Error>, Accumulator) {
    let response = get(url).await;
    let mut stream = AsyncChunkStream::from_bytes_stream(response.bytes_stream()).into_deltas();
    let (mut deltas, mut errors) = (Vec::new(), Vec::new());
    while let Some(delta) = timeout(READ_LIMIT, stream.next())
        .await
        .expect("a delta in time")
    {
        match delta {
            Ok(delta) => deltas.push(delta),
            Err(e) => errors.push(e),
        }
        assert!(errors.len() < 2, "one error ends the input: {errors:?}");
    }
    (deltas, errors, stream.into_accumulator())
}

/// Where each event of a body with LF line ends ends (after its blank line).
fn event_ends(body: &[u8]) -> Vec<usize> {
    body.windows(2)
        .enumerate()
        .filter(|(_, w)| w == b"\n\n")
        .map(|(i, _)| i + 2)
        .collect()
}

fn text_of(deltas: &[Delta]) -> String {
    deltas
        .iter()
        .filter_map(|d| match d {
            Delta::Text { choice: 0, text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// Serves each body at `/replay/{i}` in random pieces.
async fn replay_server(bodies: Arc<Vec<Vec<u8>>>, max_write: usize, pause_every: usize) -> String {
    let handler: Handler = Arc::new(move |request: &Received| {
        let i: usize = request
            .path
            .strip_prefix("/replay/")
            .and_then(|i| i.parse().ok())
            .expect("a /replay/{i} path");
        sse(replay(&bodies[i], i as u64, max_write, pause_every))
    });
    format!("http://{}", serve(handler).await)
}

/// Every body, read both ways, equals the one-shot parse of it.
async fn check_replays(bodies: Vec<(String, Vec<u8>)>, max_write: usize, pause_every: usize) {
    let (names, bodies): (Vec<String>, Vec<Vec<u8>>) = bodies.into_iter().unzip();
    let bodies = Arc::new(bodies);
    let base = replay_server(bodies.clone(), max_write, pause_every).await;
    let checks = (0..bodies.len()).map(|i| {
        let (base, bodies, name) = (&base, &bodies, &names[i]);
        async move {
            let url = format!("{base}/replay/{i}");
            let expected = one_shot(&Config::new(), &bodies[i]);
            let (seen, errors) = fetch_outcomes(&url).await;
            assert!(errors.is_empty(), "{name}: {errors:?}");
            assert_eq!(seen, expected, "{name}: lending adapter");
            let (deltas, errors, message) = fetch_deltas(&url).await;
            assert!(errors.is_empty(), "{name}: {errors:?}");
            assert_eq!(message, expected.message, "{name}: delta stream");
            let text = expected
                .message
                .choices()
                .first()
                .and_then(|c| c.content.clone());
            assert_eq!(
                text_of(&deltas),
                text.unwrap_or_default(),
                "{name}: text deltas"
            );
        }
    });
    futures::stream::iter(checks)
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[tokio::test]
async fn recorded_cassettes_replayed_over_http_equal_the_one_shot_parse() {
    let bodies: Vec<(String, Vec<u8>)> = CASSETTES
        .iter()
        .map(|name| (name.to_string(), cassette_body(name)))
        .collect();
    for (name, body) in &bodies {
        let expected = one_shot(&Config::new(), body);
        assert_eq!(expected.message.ending(), Ending::Done, "{name}");
        assert!(!expected.message.choices().is_empty(), "{name}");
    }
    timeout(TEST_LIMIT, async {
        // Tiny writes with frequent pauses, then larger ones.
        check_replays(bodies.clone(), 5, 3).await;
        check_replays(bodies, 200, 2).await;
    })
    .await
    .expect("the replays finish in time");
}

#[tokio::test]
async fn the_corpus_replayed_over_http_equals_the_one_shot_parse() {
    let Some(files) = corpus::corpus_files("sse") else {
        return;
    };
    assert_eq!(files.len(), 261, ".sse streams in the corpus");
    let bodies: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|path| {
            let body = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.display().to_string(), body)
        })
        .collect();
    let started = Instant::now();
    timeout(TEST_LIMIT, check_replays(bodies, 512, 16))
        .await
        .expect("the corpus replay finishes in time");
    eprintln!(
        "replayed {} corpus streams over HTTP in {:?}",
        files.len(),
        started.elapsed()
    );
}

/// The server sends one event and holds the rest: the client must have that event while the
/// server still holds.
#[tokio::test]
async fn an_event_arrives_while_the_server_holds_the_rest() {
    const HOLD: Duration = Duration::from_secs(2);
    let body = cassette_body(CASSETTES[0]);
    let first_end = event_ends(&body)[0];
    let releases: Arc<Mutex<Vec<oneshot::Receiver<()>>>> = Arc::default();
    let handler: Handler = Arc::new({
        let (body, releases) = (body.clone(), releases.clone());
        move |_: &Received| {
            let release = releases
                .lock()
                .unwrap()
                .pop()
                .expect("a release per request");
            sse(vec![
                Step::Write(Bytes::copy_from_slice(&body[..first_end])),
                Step::Hold(release, HOLD),
                Step::Write(Bytes::copy_from_slice(&body[first_end..])),
            ])
        }
    });
    let base = format!("http://{}", serve(handler).await);
    let expected = one_shot(&Config::new(), &body);

    timeout(TEST_LIMIT, async {
        // The lending adapter.
        let (release, held) = oneshot::channel();
        releases.lock().unwrap().push(held);
        let started = Instant::now();
        let response = get(&base).await;
        let mut stream = AsyncChunkStream::from_bytes_stream(response.bytes_stream());
        let mut seen = Seen::default();
        match timeout(HOLD, stream.next_outcome()).await {
            Ok(Some(Ok(outcome))) => seen.push_outcome(outcome),
            other => panic!("the first event did not arrive during the hold: {other:?}"),
        }
        assert!(started.elapsed() < HOLD, "arrived only after the hold");
        assert_eq!(seen.outcomes[..], expected.outcomes[..1]);
        release.send(()).expect("the server waits");
        while let Some(outcome) = timeout(READ_LIMIT, stream.next_outcome())
            .await
            .expect("in time")
        {
            seen.push_outcome(outcome.expect("no error"));
        }
        assert_eq!(seen, expected);

        // The delta stream.
        let (release, held) = oneshot::channel();
        releases.lock().unwrap().push(held);
        let started = Instant::now();
        let response = get(&base).await;
        let mut deltas = AsyncChunkStream::from_bytes_stream(response.bytes_stream()).into_deltas();
        match timeout(HOLD, deltas.next()).await {
            Ok(Some(Ok(Delta::Role { role, .. }))) => assert_eq!(role, "assistant"),
            other => panic!("the first delta did not arrive during the hold: {other:?}"),
        }
        assert!(started.elapsed() < HOLD, "arrived only after the hold");
        assert_eq!(
            deltas.accumulator().chunks(),
            1,
            "the message has the first chunk"
        );
        release.send(()).expect("the server waits");
        while let Some(delta) = timeout(READ_LIMIT, deltas.next()).await.expect("in time") {
            delta.expect("no error");
        }
        assert_eq!(deltas.accumulator(), &expected.message);
    })
    .await
    .expect("in time");
}

/// The server drops the connection in the middle of an event: the client gets a transport
/// error, then the cut event as incomplete, and keeps everything before it.
#[tokio::test]
async fn a_connection_cut_mid_event_is_a_transport_error_with_the_partial_message() {
    let body = cassette_body(CASSETTES[0]);
    // Into the third event's data.
    let cut = event_ends(&body)[1] + 40;
    let prefix = body[..cut].to_vec();
    let handler: Handler = Arc::new({
        let prefix = prefix.clone();
        move |_: &Received| {
            let mut steps = replay(&prefix, 7, 30, 2);
            // Let the bytes leave before the connection goes.
            steps.push(Step::Sleep(Duration::from_millis(50)));
            steps.push(Step::Cut);
            sse(steps)
        }
    });
    let base = format!("http://{}", serve(handler).await);
    let expected = one_shot(&Config::new(), &prefix);
    assert!(matches!(
        expected.outcomes.last(),
        Some(Owned::Incomplete { .. })
    ));
    assert_eq!(expected.message.ending(), Ending::Truncated);

    timeout(TEST_LIMIT, async {
        let (seen, errors) = fetch_outcomes(&base).await;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            matches!(errors[0], Error::Transport(_)),
            "a transport error: {:?}",
            errors[0]
        );
        assert!(std::error::Error::source(&errors[0]).is_some());
        assert_eq!(
            seen, expected,
            "everything before the cut, then the cut event"
        );

        let (deltas, errors, message) = fetch_deltas(&base).await;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(matches!(errors[0], Error::Transport(_)));
        assert!(matches!(deltas.last(), Some(Delta::Incomplete { .. })));
        assert_eq!(message, expected.message);
        assert_eq!(message.ending(), Ending::Truncated);
        assert_eq!(text_of(&deltas), "Oi");
    })
    .await
    .expect("in time");
}

/// The example client against the local server: the request it sends, and what it prints.
#[cfg(feature = "reqwest")]
#[tokio::test]
async fn the_example_chat_client_streams_a_reply() {
    let body = cassette_body(CASSETTES[0]);
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let handler: Handler = Arc::new({
        let (body, received) = (body.clone(), received.clone());
        move |request: &Received| {
            received.lock().unwrap().push(request.clone());
            if request.authorization.as_deref() != Some("Bearer test-key") {
                return Plan {
                    status: 401,
                    content_type: Some("application/json"),
                    steps: vec![Step::Write(Bytes::from_static(
                        b"{\"error\":{\"message\":\"Incorrect API key provided\"}}",
                    ))],
                };
            }
            sse(replay(&body, 3, 17, 2))
        }
    });
    let base = format!("http://{}/v1", serve(handler).await);

    timeout(TEST_LIMIT, async {
        let mut out = Vec::new();
        let message = chat::run(
            &base,
            Some("test-key"),
            "moonshotai/kimi-k2-instruct-0905",
            "Say hi in Portuguese",
            &mut out,
        )
        .await
        .expect("the example succeeds");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Oi!\n\n[usage: 20 input + 3 output = 23 tokens]\n"
        );
        assert_eq!(message, one_shot(&Config::new(), &body).message);

        let request = received.lock().unwrap()[0].clone();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v1/chat/completions");
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
        let json: serde_json::Value = serde_json::from_slice(&request.body).expect("JSON");
        assert_eq!(
            json,
            serde_json::json!({
                "model": "moonshotai/kimi-k2-instruct-0905",
                "messages": [{"role": "user", "content": "Say hi in Portuguese"}],
                "stream": true,
                "stream_options": {"include_usage": true},
            })
        );

        let mut out = Vec::new();
        let error = chat::run(&base, Some("wrong"), "m", "hi", &mut out)
            .await
            .expect_err("a 401 fails");
        let http = error
            .downcast_ref::<ssechunk::HttpError>()
            .expect("an HttpError");
        assert_eq!(http.status().map(|s| s.as_u16()), Some(401));
        let error = error.to_string();
        assert!(error.contains("401"), "{error}");
        assert!(error.contains("Incorrect API key provided"), "{error}");
        assert!(out.is_empty());
    })
    .await
    .expect("in time");
}

/// A compile-time check that the adapters' futures can move into a spawned task.
#[allow(dead_code)]
fn spawnable<S: AsyncSource + Send + 'static>(mut stream: AsyncChunkStream<S>) {
    tokio::spawn(async move { while let Some(Ok(_)) = stream.next_outcome().await {} });
}

/// `AsyncChunkStream::from_response` against the real server: what it streams, and what it
/// reports instead.
#[cfg(feature = "reqwest")]
mod from_response {
    use super::*;
    use ssechunk::{
        ERROR_BODY_START_BYTES, ErrorMessage, ErrorResponse, HttpError, MAX_ERROR_BODY_BYTES,
        Outcome, OwnedErrorCode, ResponseBody,
    };

    /// OpenAI's 429, as it sends it: pretty-printed, `param` null.
    const OPENAI_429: &str = r#"{
    "error": {
        "message": "Rate limit reached for gpt-4o-mini in organization org-test on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
        "type": "requests",
        "param": null,
        "code": "rate_limit_exceeded"
    }
}
"#;

    const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                             <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
                             </body>\r\n</html>\r\n";

    /// A server that answers every request with `status`, `content_type` and `body`, sent in
    /// pieces of up to 7 bytes.
    async fn answering(status: u16, content_type: Option<&'static str>, body: &str) -> String {
        let body = body.as_bytes().to_vec();
        let handler: Handler = Arc::new(move |_: &Received| Plan {
            status,
            content_type,
            steps: replay(&body, 11, 7, 4),
        });
        format!("http://{}", serve(handler).await)
    }

    async fn send(url: &str) -> reqwest::Response {
        timeout(READ_LIMIT, client().post(url).body("{}").send())
            .await
            .expect("response headers in time")
            .expect("a response")
    }

    /// What `from_response` makes of the first response of `url`, which must be an error.
    async fn refused(url: &str) -> HttpError {
        let response = send(url).await;
        match timeout(READ_LIMIT, AsyncChunkStream::from_response(response))
            .await
            .expect("the check in time")
        {
            Ok(stream) => panic!("{url} streamed: {stream:?}"),
            Err(e) => e,
        }
    }

    fn parts(error: &HttpError) -> &ErrorResponse {
        error.response().expect("a response")
    }

    fn api_error(message: &str, kind: Option<&str>, code: Option<OwnedErrorCode>) -> ErrorMessage {
        ErrorMessage {
            message: Some(message.to_owned()),
            kind: kind.map(str::to_owned),
            code,
            ..ErrorMessage::default()
        }
    }

    #[tokio::test]
    async fn a_429_with_openais_pretty_printed_json_error_is_a_status_error_with_the_api_error() {
        let base = answering(429, Some("application/json; charset=utf-8"), OPENAI_429).await;
        let error = timeout(TEST_LIMIT, refused(&base)).await.expect("in time");
        assert!(matches!(error, HttpError::Status(_)), "{error:?}");
        assert_eq!(error.status(), Some(reqwest::StatusCode::TOO_MANY_REQUESTS));
        let response = parts(&error);
        assert_eq!(response.status, 429);
        assert_eq!(
            response.content_type.as_deref(),
            Some("application/json; charset=utf-8")
        );
        let expected = api_error(
            "Rate limit reached for gpt-4o-mini in organization org-test on requests per min \
             (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
            Some("requests"),
            Some(OwnedErrorCode::Str("rate_limit_exceeded".into())),
        );
        assert_eq!(response.api_error.as_ref(), Some(&expected));
        assert_eq!(error.api_error(), Some(&expected));
        // The whole body was read, and is short enough to be kept whole as text.
        assert_eq!(response.body_start, OPENAI_429);
        assert_eq!(response.body_len, OPENAI_429.len());
        assert!(!response.body_truncated);
        assert!(response.body_error.is_none());
        let text = error.to_string();
        assert!(
            text.starts_with("HTTP status 429 Too Many Requests: Rate limit reached"),
            "{text}"
        );
        assert!(
            text.ends_with("(type requests, code rate_limit_exceeded)"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_502_html_page_is_a_status_error_with_the_body_start() {
        let base = answering(502, Some("text/html"), NGINX_502).await;
        let error = timeout(TEST_LIMIT, refused(&base)).await.expect("in time");
        assert!(matches!(error, HttpError::Status(_)), "{error:?}");
        let response = parts(&error);
        assert_eq!(response.status, 502);
        assert_eq!(response.content_type.as_deref(), Some("text/html"));
        assert_eq!(response.api_error, None);
        assert_eq!(response.body_start, NGINX_502);
        assert!(!response.body_truncated);
        assert_eq!(
            error.to_string(),
            "HTTP status 502 Bad Gateway (text/html): <html> <head><title>502 Bad Gateway</title></head> \
             <body> <center><h1>502 Bad Gateway</h1></center> <hr><center>nginx</center> </body> </html>"
        );
        assert!(std::error::Error::source(&error).is_none());
    }

    /// Every shape the crate reads an error in, as the body of an error status.
    #[tokio::test]
    async fn every_json_error_shape_in_an_error_body_is_decoded() {
        let gemini = r#"{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}"#;
        let cases: Vec<(u16, String, ErrorMessage)> = vec![
            (
                429,
                OPENAI_429.to_owned(),
                api_error(
                    "Rate limit reached for gpt-4o-mini in organization org-test on requests \
                     per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
                    Some("requests"),
                    Some(OwnedErrorCode::Str("rate_limit_exceeded".into())),
                ),
            ),
            (
                429,
                gemini.to_owned(),
                api_error(
                    "Resource has been exhausted (e.g. check quota).",
                    Some("RESOURCE_EXHAUSTED"),
                    Some(OwnedErrorCode::Int(429)),
                ),
            ),
            // Gemini sometimes wraps the body in an array, pretty-printed.
            (
                429,
                format!("[\n  {gemini}\n]\n"),
                api_error(
                    "Resource has been exhausted (e.g. check quota).",
                    Some("RESOURCE_EXHAUSTED"),
                    Some(OwnedErrorCode::Int(429)),
                ),
            ),
            // text-generation-inference.
            (
                422,
                r#"{"error":"Input validation error: `inputs` must have less than 4096 tokens","error_type":"validation"}"#.to_owned(),
                api_error(
                    "Input validation error: `inputs` must have less than 4096 tokens",
                    Some("validation"),
                    None,
                ),
            ),
            // vLLM's flat error object.
            (
                400,
                r#"{"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}"#.to_owned(),
                api_error(
                    "max_tokens is too large",
                    Some("BadRequestError"),
                    Some(OwnedErrorCode::Int(400)),
                ),
            ),
            // FastAPI's.
            (
                404,
                r#"{"detail":"Not Found"}"#.to_owned(),
                api_error("Not Found", None, None),
            ),
            // Anthropic's.
            (
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
                    .to_owned(),
                api_error("Overloaded", Some("overloaded_error"), None),
            ),
        ];
        timeout(TEST_LIMIT, async {
            for (status, body, expected) in cases {
                let leaked: &'static str = Box::leak(body.into_boxed_str());
                let base = answering(status, Some("application/json"), leaked).await;
                let error = refused(&base).await;
                assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{leaked}");
                assert_eq!(error.api_error(), Some(&expected), "{leaked}");
                assert_eq!(parts(&error).body_len, leaked.len());
            }
        })
        .await
        .expect("in time");
    }

    #[tokio::test]
    async fn a_success_that_is_not_an_event_stream_is_a_content_type_error() {
        timeout(TEST_LIMIT, async {
            // A proxy's JSON error with a 200.
            let body = r#"{"error":{"message":"upstream timed out","type":"proxy_error"}}"#;
            let base = answering(200, Some("application/json"), body).await;
            let error = refused(&base).await;
            assert!(matches!(error, HttpError::ContentType(_)), "{error:?}");
            assert_eq!(error.status(), Some(reqwest::StatusCode::OK));
            assert_eq!(
                error.api_error(),
                Some(&api_error("upstream timed out", Some("proxy_error"), None))
            );
            assert_eq!(
                error.to_string(),
                "expected text/event-stream, got application/json (HTTP status 200 OK): \
                 upstream timed out (type proxy_error)"
            );

            // A reply sent without streaming: not an error body, kept as text.
            let body = r#"{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Oi!"}}]}"#;
            let base = answering(200, Some("application/json"), body).await;
            let error = refused(&base).await;
            assert!(matches!(error, HttpError::ContentType(_)), "{error:?}");
            assert_eq!(error.api_error(), None);
            assert_eq!(parts(&error).body_start, body);

            // An HTML page.
            let base = answering(200, Some("text/html; charset=utf-8"), NGINX_502).await;
            let error = refused(&base).await;
            assert!(matches!(error, HttpError::ContentType(_)), "{error:?}");
            let response = parts(&error);
            assert_eq!(
                response.content_type.as_deref(),
                Some("text/html; charset=utf-8")
            );
            assert_eq!(response.api_error, None);
            assert_eq!(response.body_start, NGINX_502);

            // No content type at all, even with SSE in the body: refused, and `ResponseBody`
            // is the way around the check.
            let body = "data: {\"choices\":[{\"delta\":{\"content\":\"Oi\"}}]}\n\ndata: [DONE]\n\n";
            let base = answering(200, None, body).await;
            let error = refused(&base).await;
            assert!(matches!(error, HttpError::ContentType(_)), "{error:?}");
            assert_eq!(parts(&error).content_type, None);
            assert!(
                error.to_string().starts_with(
                    "expected text/event-stream, got no content type (HTTP status 200 OK): data: "
                ),
                "{error}"
            );
            let mut deltas = AsyncChunkStream::new(ResponseBody::new(send(&base).await)).into_deltas();
            while let Some(delta) = deltas.next().await {
                delta.expect("no error");
            }
            assert_eq!(deltas.accumulator().choices()[0].content.as_deref(), Some("Oi"));
            assert_eq!(deltas.accumulator().ending(), Ending::Done);
        })
        .await
        .expect("in time");
    }

    /// A good stream, with the content type in another case and a parameter: the message
    /// assembles, equal to the one-shot parse, through both adapters.
    #[tokio::test]
    async fn an_event_stream_streams_and_the_message_assembles() {
        let body = cassette_body(CASSETTES[0]);
        let handler: Handler = Arc::new({
            let body = body.clone();
            move |_: &Received| Plan {
                status: 200,
                content_type: Some("Text/Event-Stream; charset=utf-8"),
                steps: replay(&body, 5, 9, 2),
            }
        });
        let base = format!("http://{}", serve(handler).await);
        let expected = one_shot(&Config::new(), &body);
        timeout(TEST_LIMIT, async {
            let mut stream = AsyncChunkStream::from_response(send(&base).await)
                .await
                .expect("an event stream");
            let mut seen = Seen::default();
            while let Some(outcome) = timeout(READ_LIMIT, stream.next_outcome())
                .await
                .expect("in time")
            {
                seen.push_outcome(outcome.expect("no error"));
            }
            assert_eq!(seen, expected);

            let response = send(&base).await;
            let mut deltas = AsyncChunkStream::from_response(response)
                .await
                .expect("an event stream")
                .into_deltas();
            let mut text = String::new();
            while let Some(delta) = timeout(READ_LIMIT, deltas.next()).await.expect("in time") {
                if let Delta::Text { text: piece, .. } = delta.expect("no error") {
                    text.push_str(&piece);
                }
            }
            assert_eq!(text, "Oi!");
            assert_eq!(deltas.accumulator(), &expected.message);
            assert_eq!(deltas.accumulator().ending(), Ending::Done);
            assert_eq!(
                deltas.accumulator().usage().map(|u| u.total_tokens),
                Some(23)
            );
        })
        .await
        .expect("in time");
    }

    /// The server drops the connection inside an event: a transport error (reqwest's), then
    /// the cut event as incomplete, then the end; the message keeps what came before.
    #[tokio::test]
    async fn a_body_cut_mid_event_is_a_transport_error_then_incomplete_then_truncated() {
        let body = cassette_body(CASSETTES[0]);
        let cut = event_ends(&body)[1] + 40;
        let prefix = body[..cut].to_vec();
        let handler: Handler = Arc::new({
            let prefix = prefix.clone();
            move |_: &Received| {
                let mut steps = replay(&prefix, 7, 30, 2);
                steps.push(Step::Sleep(Duration::from_millis(50)));
                steps.push(Step::Cut);
                sse(steps)
            }
        });
        let base = format!("http://{}", serve(handler).await);
        let expected = one_shot(&Config::new(), &prefix);
        timeout(TEST_LIMIT, async {
            let mut stream = AsyncChunkStream::from_response(send(&base).await)
                .await
                .expect("an event stream");
            let mut message = Accumulator::new();
            let mut kinds = Vec::new();
            while let Some(outcome) = timeout(READ_LIMIT, stream.next_outcome())
                .await
                .expect("in time")
            {
                match outcome {
                    Ok(outcome) => {
                        kinds.push(match &outcome {
                            Outcome::Event { .. } => "event",
                            Outcome::Incomplete(_) => "incomplete",
                            _ => "other",
                        });
                        message.push_outcome(&outcome);
                    }
                    Err(Error::Transport(e)) => {
                        assert!(e.downcast_ref::<reqwest::Error>().is_some(), "{e:?}");
                        kinds.push("transport error");
                    }
                    Err(e) => panic!("{e:?}"),
                }
            }
            assert_eq!(
                kinds,
                ["event", "event", "transport error", "incomplete"],
                "two whole events, then the cut"
            );
            assert_eq!(message, expected.message);
            assert_eq!(message.ending(), Ending::Truncated);
            assert_eq!(message.choices()[0].content.as_deref(), Some("Oi"));
        })
        .await
        .expect("in time");
    }

    /// An error body that never ends is read up to the bound, and the connection is dropped:
    /// the server sees the client hang up.
    #[tokio::test]
    async fn an_endless_error_body_is_read_only_up_to_the_bound() {
        let (sent, stopped) = oneshot::channel();
        let sent = Mutex::new(Some(sent));
        let handler: Handler = Arc::new(move |_: &Received| Plan {
            status: 500,
            content_type: Some("text/plain"),
            steps: vec![
                // One byte, so that the 1 KiB bound falls inside a two-byte character.
                Step::Write(Bytes::from_static(b"x")),
                Step::Endless(
                    Bytes::from("é".repeat(8192)),
                    sent.lock().unwrap().take().expect("one request"),
                ),
            ],
        });
        let base = format!("http://{}", serve(handler).await);
        timeout(TEST_LIMIT, async {
            let error = refused(&base).await;
            let response = parts(&error);
            assert_eq!(response.status, 500);
            assert!(response.body_truncated);
            assert_eq!(response.body_len, MAX_ERROR_BODY_BYTES);
            assert!(response.body_error.is_none());
            assert_eq!(response.api_error, None);
            // "x" and 511 whole characters: the one the bound cuts is left out.
            assert_eq!(response.body_start.len(), ERROR_BODY_START_BYTES - 1);
            assert_eq!(response.body_start, format!("x{}", "é".repeat(511)));
            drop(error);
            let total = timeout(READ_LIMIT, stopped)
                .await
                .expect("the server sees the client hang up")
                .expect("a count");
            eprintln!("the server handed {total} bytes to the connection before the hang-up");
        })
        .await
        .expect("in time");
    }

    /// A body of exactly the bound is whole, not truncated.
    #[tokio::test]
    async fn an_error_body_of_exactly_the_bound_is_complete() {
        let body: &'static str = Box::leak("y".repeat(MAX_ERROR_BODY_BYTES).into_boxed_str());
        let base = answering(503, Some("text/plain"), body).await;
        let error = timeout(TEST_LIMIT, refused(&base)).await.expect("in time");
        let response = parts(&error);
        assert_eq!(response.body_len, MAX_ERROR_BODY_BYTES);
        assert!(!response.body_truncated);
        assert_eq!(response.body_start.len(), ERROR_BODY_START_BYTES);
    }

    /// A compile-time check: the check's future, the stream and the error move across
    /// threads.
    #[allow(dead_code)]
    fn sendable(response: reqwest::Response) {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<HttpError>();
        send_sync::<ResponseBody>();
        tokio::spawn(async move {
            if let Ok(mut stream) = AsyncChunkStream::from_response(response).await {
                while let Some(Ok(_)) = stream.next_outcome().await {}
            }
        });
    }
}
