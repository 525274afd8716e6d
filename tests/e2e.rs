//! End to end: a real HTTP server on 127.0.0.1 replays recorded streams in random pieces with
//! pauses, and a real reqwest client reads them through the async adapters. What the client
//! assembles must equal what a `ChunkStream` makes of the whole body at once; an event must
//! reach the client while the server still holds the rest; a cut connection must surface as
//! a transport error with the partial message intact. The example client (`examples/chat.rs`)
//! runs against the same server.
//!
//! The recorded corpus is read from `$SSECHUNK_CORPUS` or `../shared/corpus` (its `fantasy`
//! folder when it has one); without it those tests say so on stderr and pass, unless
//! `SSECHUNK_REQUIRE_CORPUS=1`.
#![cfg(feature = "async")]

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
}

/// The response to one request.
struct Plan {
    status: u16,
    content_type: &'static str,
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
            }
        }
    });
    let response = Response::builder()
        .status(plan.status)
        .header("content-type", plan.content_type)
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
        content_type: "text/event-stream",
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
    (deltas, errors, stream.into_message())
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
            deltas.message().chunks(),
            1,
            "the message has the first chunk"
        );
        release.send(()).expect("the server waits");
        while let Some(delta) = timeout(READ_LIMIT, deltas.next()).await.expect("in time") {
            delta.expect("no error");
        }
        assert_eq!(deltas.message(), &expected.message);
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
                    content_type: "application/json",
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
