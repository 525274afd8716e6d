//! The I/O adapters yield what a `ChunkStream` fed the whole input at once yields, however the
//! source cuts the bytes; errors of the source surface as their own kinds with the partial
//! message intact.
//!
//! The allocation-free claim of the lending `next_outcome` is measured in `tests/alloc.rs`.

#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/outcomes.rs"]
mod outcomes;
#[path = "common/rng.rs"]
mod rng;

use std::io::{self, Read};

use fixtures::{CASSETTES, cassette_body};
use outcomes::{Owned, Seen, one_shot};
use ssechunk::{Accumulator, ChunkReader, Config, Ending, Error, Outcome};

/// A stream with every kind of outcome: chunks with text, reasoning, refusal, tool calls and
/// two choices, usage, a comment, an API error, data that is no chunk, CRLF and multi-line
/// data, `id` and `event` fields, and `[DONE]`.
const RICH: &[u8] = b": keep-alive\n\n\
data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Think\"}}]}\r\n\r\n\
id: 7\nevent: message\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Ol\\u00e1\"}},\n\
data: {\"index\":1,\"delta\":{\"refusal\":\"no\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get\",\"arguments\":\"{\\\"a\\\"\"}}]}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\":1}\"}}]}}]}\n\n\
data: not json\n\n\
data: {\"error\":{\"message\":\"slow down\",\"type\":\"rate\",\"code\":429}}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"},{\"index\":1,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,\"total_tokens\":11}}\n\n\
data: [DONE]\n\n";

fn bodies() -> Vec<Vec<u8>> {
    let mut bodies = vec![
        RICH.to_vec(),
        cassette_body(CASSETTES[0]),
        cassette_body(CASSETTES[1]),
    ];
    // Cut short inside an event, as a dropped connection leaves it.
    bodies.push(RICH[..RICH.len() - 40].to_vec());
    bodies
}

/// A reader that hands out its bytes in reads of 1, 3 and 7 bytes in turn, and fails once
/// with `Interrupted` before its second read.
struct Choppy<'a> {
    rest: &'a [u8],
    calls: usize,
}

impl Read for Choppy<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls == 2 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = [1, 3, 7][self.calls % 3]
            .min(buf.len())
            .min(self.rest.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

fn read_all<R: Read>(mut reader: ChunkReader<R>) -> Seen {
    let mut seen = Seen::default();
    while let Some(outcome) = reader.next_outcome() {
        seen.push(outcome);
    }
    assert!(reader.is_ended());
    assert!(
        reader.next_outcome().is_none(),
        "an ended reader stays ended"
    );
    seen
}

#[test]
fn blocking_reader_with_small_reads_equals_one_shot() {
    let config = Config::new().comments(true);
    for body in bodies() {
        let expected = one_shot(&config, &body);
        assert!(expected.outcomes.len() >= 3);
        let choppy = Choppy {
            rest: &body,
            calls: 0,
        };
        assert_eq!(
            read_all(ChunkReader::with_config(choppy, config.clone())),
            expected
        );
        for read_size in [0, 1, 2, 5, 64, 100_000] {
            let reader = ChunkReader::with_config(&body[..], config.clone()).read_size(read_size);
            assert_eq!(read_all(reader), expected, "read size {read_size}");
        }
    }
}

#[test]
fn blocking_reader_reports_the_incomplete_event_at_eof() {
    let body = b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choi";
    let seen = read_all(ChunkReader::new(&body[..]));
    assert_eq!(seen.outcomes.len(), 2);
    assert_eq!(
        seen.outcomes[1],
        Owned::Incomplete {
            data: None,
            line: b"data: {\"choi".to_vec()
        }
    );
    assert_eq!(seen.message.choices()[0].content.as_deref(), Some("a"));
    assert_eq!(seen.message.ending(), Ending::Truncated);
}

/// Hands out `first`, then fails with `error` on every later read.
struct Failing {
    first: Option<Vec<u8>>,
    error: io::ErrorKind,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.first.take() {
            Some(bytes) => {
                buf[..bytes.len()].copy_from_slice(&bytes);
                Ok(bytes.len())
            }
            None => Err(io::Error::new(self.error, "connection reset by test")),
        }
    }
}

#[test]
fn blocking_io_error_mid_stream_surfaces_as_io_with_the_partial_message() {
    let first =
        b"data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"choices\":[{\"de"
            .to_vec();
    let mut reader = ChunkReader::new(Failing {
        first: Some(first),
        error: io::ErrorKind::ConnectionReset,
    });
    let mut message = Accumulator::new();
    match reader.next_outcome() {
        Some(Ok(Outcome::Event { payload, .. })) => message.push_payload(&payload),
        other => panic!("expected the first event, got {other:?}"),
    }
    match reader.next_outcome() {
        Some(Err(Error::Io(e))) => {
            assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
            let shown = Error::Io(e).to_string();
            assert!(shown.contains("connection reset by test"), "{shown}");
        }
        other => panic!("expected Error::Io, got {other:?}"),
    }
    assert!(reader.is_ended(), "an error ends the input");
    match reader.next_outcome() {
        Some(Ok(Outcome::Incomplete(inc))) => {
            assert_eq!(inc.line(), b"data: {\"choices\":[{\"de");
        }
        other => panic!("expected the cut event, got {other:?}"),
    }
    assert!(reader.next_outcome().is_none());
    assert_eq!(message.choices()[0].content.as_deref(), Some("Hel"));
    assert_eq!(message.ending(), Ending::Truncated);
}

/// Hands out one event, then fails the test if asked for more.
struct OneEventThenNothing {
    sent: bool,
}

impl Read for OneEventThenNothing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        assert!(!self.sent, "read again although an event was ready");
        self.sent = true;
        let event = b"data: {\"choices\":[{\"delta\":{\"content\":\"now\"}}]}\n\n";
        buf[..event.len()].copy_from_slice(event);
        Ok(event.len())
    }
}

#[test]
fn blocking_reader_returns_a_ready_event_without_reading_more() {
    let mut reader = ChunkReader::new(OneEventThenNothing { sent: false });
    assert!(matches!(
        reader.next_outcome(),
        Some(Ok(Outcome::Event { .. }))
    ));
    assert!(reader.get_ref().sent);
    assert!(!reader.is_ended());
}

#[test]
fn blocking_reader_reports_oversized_events_and_goes_on() {
    let body = b"data: 0123456789012345678901234567890123456789\n\ndata: [DONE]\n\n";
    let config = Config::new().max_event_bytes(16);
    let expected = one_shot(&config, body);
    assert_eq!(expected.outcomes[0], Owned::TooLarge);
    let reader = ChunkReader::with_config(&body[..], config).read_size(3);
    assert_eq!(read_all(reader), expected);
}

#[test]
fn blocking_reader_parts() {
    let body: &[u8] = b"id: 42\ndata: [DONE]\n\n";
    let mut reader = ChunkReader::new(body);
    assert!(matches!(
        reader.next_outcome(),
        Some(Ok(Outcome::Event { .. }))
    ));
    assert_eq!(reader.stream().parser().last_event_id(), b"42");
    let (rest, _stream) = reader.into_parts();
    assert!(rest.is_empty());
}

/// The adapters are `Send` whenever their source is, so they can move into a spawned task.
#[test]
fn adapters_are_send() {
    fn send<T: Send>() {}
    send::<ChunkReader<std::net::TcpStream>>();
    send::<ChunkReader<std::process::ChildStdout>>();
    send::<ChunkReader<&[u8]>>();
    #[cfg(feature = "async")]
    {
        use futures::stream::BoxStream;
        use ssechunk::{AsyncChunkStream, BytesSource, DeltaStream, ReaderSource};
        type Body = BoxStream<'static, Result<bytes::Bytes, io::Error>>;
        send::<AsyncChunkStream<BytesSource<Body>>>();
        send::<AsyncChunkStream<ReaderSource<tokio::net::TcpStream>>>();
        send::<DeltaStream<BytesSource<Body>>>();
        send::<DeltaStream<ReaderSource<tokio::io::DuplexStream>>>();
        send::<ssechunk::Delta>();
        send::<Error>();
        fn future_is_send<S: ssechunk::AsyncSource + Send>(s: &mut AsyncChunkStream<S>) {
            fn send_value<T: Send>(_: &T) {}
            let future = s.next_outcome();
            send_value(&future);
        }
        let _ = future_is_send::<BytesSource<Body>>;
    }
}

#[cfg(feature = "async")]
mod async_adapters {
    use std::collections::BTreeMap;
    use std::task::Poll;

    use bytes::Bytes;
    use futures::executor::block_on;
    use futures::{FutureExt, StreamExt};
    use ssechunk::{AsyncChunkStream, AsyncSource, Delta, DeltaStream};
    use tokio::io::AsyncWriteExt;

    use super::rng::Rng;
    use super::*;

    /// `body` cut into pieces of random sizes in `1..=max`, alternating between buffers the
    /// parser can adopt (unique, with spare room), shared ones, and empty pieces.
    fn pieces(body: &[u8], rng: &mut Rng, max: usize) -> Vec<Result<Bytes, io::Error>> {
        let mut out = Vec::new();
        let mut rest = body;
        let mut i = 0;
        while !rest.is_empty() {
            let n = (1 + rng.below(max)).min(rest.len());
            let (piece, tail) = rest.split_at(n);
            rest = tail;
            i += 1;
            let bytes = match i % 3 {
                0 => {
                    let mut v = Vec::with_capacity(n + 128);
                    v.extend_from_slice(piece);
                    Bytes::from(v)
                }
                1 => Bytes::copy_from_slice(piece),
                _ => {
                    out.push(Ok(Bytes::new()));
                    Bytes::copy_from_slice(piece)
                }
            };
            out.push(Ok(bytes));
        }
        out
    }

    async fn drain<S: AsyncSource>(stream: &mut AsyncChunkStream<S>) -> Seen {
        let mut seen = Seen::default();
        while let Some(outcome) = stream.next_outcome().await {
            seen.push(outcome);
        }
        assert!(stream.is_ended());
        assert!(stream.next_outcome().await.is_none(), "ended stays ended");
        seen
    }

    #[test]
    fn bytes_stream_equals_one_shot() {
        let config = Config::new().comments(true);
        let mut rng = Rng::new(1);
        for body in bodies() {
            let expected = one_shot(&config, &body);
            for max in [1, 2, 7, 64, 4096] {
                let body = futures::stream::iter(pieces(&body, &mut rng, max));
                let mut stream =
                    AsyncChunkStream::with_config(ssechunk::BytesSource::new(body), config.clone());
                assert_eq!(block_on(drain(&mut stream)), expected, "pieces up to {max}");
            }
            // Any `Into<Bytes>` item: `Vec<u8>` whose allocation can be adopted.
            let vecs = body.chunks(5).map(|c| Ok::<_, io::Error>(c.to_vec()));
            let mut stream = AsyncChunkStream::with_config(
                ssechunk::BytesSource::new(futures::stream::iter(vecs)),
                config.clone(),
            );
            assert_eq!(block_on(drain(&mut stream)), expected);
        }
    }

    #[test]
    fn async_reader_equals_one_shot() {
        let config = Config::new().comments(true);
        for body in bodies() {
            let expected = one_shot(&config, &body);
            for read_size in [1, 3, 7, 8192] {
                let source = ssechunk::ReaderSource::new(&body[..]).read_size(read_size);
                let mut stream = AsyncChunkStream::with_config(source, config.clone());
                assert_eq!(
                    block_on(drain(&mut stream)),
                    expected,
                    "reads of {read_size}"
                );
            }
        }
    }

    #[test]
    fn tokio_duplex_equals_one_shot() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        let config = Config::new().comments(true);
        for body in bodies() {
            let expected = one_shot(&config, &body);
            let seen = runtime.block_on(async {
                // A pipe smaller than most events, written in uneven pieces.
                let (mut writer, reader) = tokio::io::duplex(16);
                let writing = tokio::spawn({
                    let body = body.clone();
                    async move {
                        for piece in body.chunks(11) {
                            writer.write_all(piece).await.expect("write");
                            tokio::task::yield_now().await;
                        }
                    }
                });
                let mut stream = AsyncChunkStream::with_config(
                    ssechunk::ReaderSource::new(reader),
                    config.clone(),
                );
                let seen = drain(&mut stream).await;
                writing.await.expect("the writer");
                seen
            });
            assert_eq!(seen, expected);
        }
    }

    #[test]
    fn transport_error_surfaces_with_the_partial_message() {
        let items: Vec<Result<Bytes, io::Error>> = vec![
            Ok(Bytes::from_static(
                b"data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"cho",
            )),
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")),
            Ok(Bytes::from_static(b"never read\n\n")),
        ];
        let mut stream = AsyncChunkStream::from_bytes_stream(futures::stream::iter(items));
        block_on(async {
            let mut message = Accumulator::new();
            match stream.next_outcome().await {
                Some(Ok(Outcome::Event { payload, .. })) => message.push_payload(&payload),
                other => panic!("expected an event, got {other:?}"),
            }
            match stream.next_outcome().await {
                Some(Err(e @ Error::Transport(_))) => {
                    let source = std::error::Error::source(&e).expect("a source");
                    assert_eq!(source.to_string(), "reset");
                    assert!(e.to_string().contains("reset"), "{e}");
                }
                other => panic!("expected a transport error, got {other:?}"),
            }
            match stream.next_outcome().await {
                Some(Ok(Outcome::Incomplete(inc))) => assert_eq!(inc.line(), b"data: {\"cho"),
                other => panic!("expected the cut event, got {other:?}"),
            }
            assert!(stream.next_outcome().await.is_none());
            assert_eq!(message.choices()[0].content.as_deref(), Some("Hel"));
            assert_eq!(message.ending(), Ending::Truncated);
        });
    }

    #[test]
    fn async_reader_error_surfaces_as_io() {
        let reader = tokio_test_reader();
        let mut stream = AsyncChunkStream::from_reader(reader);
        block_on(async {
            assert!(matches!(
                stream.next_outcome().await,
                Some(Ok(Outcome::Event { .. }))
            ));
            assert!(matches!(
                stream.next_outcome().await,
                Some(Err(Error::Io(_)))
            ));
            assert!(stream.next_outcome().await.is_none());
        });
    }

    /// An `AsyncRead` that yields one event, then fails.
    fn tokio_test_reader() -> impl tokio::io::AsyncRead + Unpin {
        struct R(bool);
        impl tokio::io::AsyncRead for R {
            fn poll_read(
                mut self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                if self.0 {
                    return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
                }
                self.0 = true;
                buf.put_slice(b"data: [DONE]\n\n");
                Poll::Ready(Ok(()))
            }
        }
        R(false)
    }

    #[test]
    fn an_event_is_yielded_as_soon_as_its_blank_line_arrives() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, io::Error>>();
        let mut stream = AsyncChunkStream::from_bytes_stream(rx);
        tx.unbounded_send(Ok(Bytes::from_static(b"data: {\"choices\":[]}\n")))
            .unwrap();
        assert!(
            stream.next_outcome().now_or_never().is_none(),
            "no blank line yet: pending"
        );
        tx.unbounded_send(Ok(Bytes::from_static(b"\ndata: [DO")))
            .unwrap();
        // The source stays open and has nothing more: the event must come out all the same.
        match stream.next_outcome().now_or_never() {
            Some(Some(Ok(Outcome::Event { event, .. }))) => {
                assert_eq!(event.data(), b"{\"choices\":[]}")
            }
            other => panic!("the event was not yielded at once: {other:?}"),
        }
        assert!(stream.next_outcome().now_or_never().is_none());
        tx.unbounded_send(Ok(Bytes::from_static(b"NE]\n\n")))
            .unwrap();
        assert!(matches!(
            stream.next_outcome().now_or_never(),
            Some(Some(Ok(Outcome::Event { .. })))
        ));
        drop(tx);
        assert!(matches!(stream.next_outcome().now_or_never(), Some(None)));
    }

    /// One choice as the deltas or the message tell it: text, reasoning, refusal, and the
    /// tool calls by index as (id, name, arguments).
    type Rebuilt = BTreeMap<
        u64,
        (
            String,
            String,
            String,
            BTreeMap<u64, (String, String, String)>,
        ),
    >;

    /// Rebuilds each choice from the deltas.
    fn replay(deltas: &[Delta]) -> Rebuilt {
        let mut choices = Rebuilt::new();
        for delta in deltas {
            match delta {
                Delta::Text { choice, text } => {
                    choices.entry(*choice).or_default().0.push_str(text);
                }
                Delta::Reasoning { choice, text } => {
                    choices.entry(*choice).or_default().1.push_str(text);
                }
                Delta::Refusal { choice, text } => {
                    choices.entry(*choice).or_default().2.push_str(text);
                }
                Delta::ToolCall {
                    choice,
                    index,
                    id,
                    name,
                    arguments,
                } => {
                    let call = choices
                        .entry(*choice)
                        .or_default()
                        .3
                        .entry(index.unwrap_or(0))
                        .or_default();
                    if call.0.is_empty() {
                        call.0 = id.clone().unwrap_or_default();
                    }
                    if call.1.is_empty() {
                        call.1 = name.clone().unwrap_or_default();
                    }
                    call.2.push_str(arguments);
                }
                Delta::Role { choice, .. } | Delta::Finish { choice, .. } => {
                    choices.entry(*choice).or_default();
                }
                _ => {}
            }
        }
        choices
    }

    /// The same, from an assembled message.
    fn from_message(message: &Accumulator) -> Rebuilt {
        message
            .choices()
            .iter()
            .map(|c| {
                let calls = c
                    .tool_calls
                    .iter()
                    .map(|t| {
                        let id = t.id.clone().unwrap_or_default();
                        let name = t.name.clone().unwrap_or_default();
                        (t.index, (id, name, t.arguments.clone()))
                    })
                    .collect();
                let text = |s: &Option<String>| s.clone().unwrap_or_default();
                (
                    c.index,
                    (
                        text(&c.content),
                        text(&c.reasoning),
                        text(&c.refusal),
                        calls,
                    ),
                )
            })
            .collect()
    }

    fn collect_deltas<S: AsyncSource>(deltas: &mut DeltaStream<S>) -> (Vec<Delta>, Vec<String>) {
        block_on(async {
            let (mut ok, mut errors) = (Vec::new(), Vec::new());
            while let Some(delta) = deltas.next().await {
                match delta {
                    Ok(delta) => ok.push(delta),
                    Err(e) => errors.push(e.to_string()),
                }
            }
            (ok, errors)
        })
    }

    #[test]
    fn delta_stream_reproduces_the_message() {
        let config = Config::new().comments(true);
        let mut rng = Rng::new(2);
        for body in bodies() {
            let expected = one_shot(&config, &body);
            let source =
                ssechunk::BytesSource::new(futures::stream::iter(pieces(&body, &mut rng, 9)));
            let mut deltas = AsyncChunkStream::with_config(source, config.clone()).into_deltas();
            let (seen, errors) = collect_deltas(&mut deltas);
            assert!(errors.is_empty(), "{errors:?}");
            assert!(futures::stream::FusedStream::is_terminated(&deltas));
            assert_eq!(deltas.accumulator(), &expected.message);
            assert_eq!(replay(&seen), from_message(&expected.message));
            let usage = seen.iter().rev().find_map(|d| match d {
                Delta::Usage(u) => Some(*u),
                _ => None,
            });
            assert_eq!(usage, expected.message.usage());
            assert_eq!(
                seen.contains(&Delta::Done),
                expected.message.ending() == Ending::Done
            );
            let incomplete = seen.iter().any(|d| matches!(d, Delta::Incomplete { .. }));
            assert_eq!(
                incomplete,
                expected
                    .outcomes
                    .iter()
                    .any(|o| matches!(o, Owned::Incomplete { .. }))
            );
        }
    }

    #[test]
    fn delta_stream_details() {
        let source = ssechunk::BytesSource::new(futures::stream::iter([Ok::<_, io::Error>(
            Bytes::from_static(RICH),
        )]));
        let mut deltas =
            AsyncChunkStream::with_config(source, Config::new().comments(true)).into_deltas();
        let (seen, errors) = collect_deltas(&mut deltas);
        assert!(errors.is_empty());
        assert_eq!(seen[0], Delta::Comment("keep-alive".into()));
        assert_eq!(
            seen[1],
            Delta::Role {
                choice: 0,
                role: "assistant".into()
            }
        );
        assert_eq!(
            seen[2],
            Delta::Reasoning {
                choice: 0,
                text: "Think".into()
            }
        );
        assert_eq!(
            seen[3],
            Delta::Text {
                choice: 0,
                text: "Olá".into()
            }
        );
        assert_eq!(
            seen[4],
            Delta::Refusal {
                choice: 1,
                text: "no".into()
            }
        );
        assert_eq!(
            seen[5],
            Delta::ToolCall {
                choice: 0,
                index: Some(0),
                id: Some("call_1".into()),
                name: Some("get".into()),
                arguments: "{\"a\"".into()
            }
        );
        assert!(matches!(&seen[7], Delta::Invalid { data, .. } if data == "not json"));
        assert_eq!(
            seen[8],
            Delta::ApiError(ssechunk::ErrorMessage {
                message: Some("slow down".into()),
                kind: Some("rate".into()),
                code: Some(ssechunk::OwnedErrorCode::Int(429)),
                param: None
            })
        );
        assert_eq!(
            seen[9],
            Delta::Finish {
                choice: 0,
                reason: "tool_calls".into(),
                finish: ssechunk::Finish::ToolCalls
            }
        );
        assert_eq!(seen.last(), Some(&Delta::Done));
        let message = deltas.into_accumulator();
        assert_eq!(message.ending(), Ending::Done);
        assert_eq!(message.choices().len(), 2);
    }

    #[test]
    fn delta_stream_keeps_the_message_after_a_transport_error() {
        let items: Vec<Result<Bytes, io::Error>> = vec![
            Ok(Bytes::from_static(
                b"data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\nda",
            )),
            Err(io::Error::other("cut")),
        ];
        let mut deltas =
            AsyncChunkStream::from_bytes_stream(futures::stream::iter(items)).into_deltas();
        let (seen, errors) = collect_deltas(&mut deltas);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("cut"), "{errors:?}");
        assert_eq!(
            seen.last(),
            Some(&Delta::Incomplete {
                data: None,
                line: "da".into()
            })
        );
        assert_eq!(
            deltas.accumulator().choices()[0].content.as_deref(),
            Some("Hello")
        );
        assert_eq!(deltas.accumulator().ending(), Ending::Truncated);
    }

    /// Kimi's shape: the role in every chunk; two parallel calls; extras beside the deltas.
    const KIMI: &[u8] = b"data: {\"system_fingerprint\":\"fp_k\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"logprobs\":{\"content\":[{\"token\":\"Hi\"}]}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":\"}}]}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"1}\"}}]}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":1,\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"tool\"}}]}\n\n\
data: [DONE]\n\n";

    fn kimi_deltas(raw: bool) -> (Vec<(Delta, Option<String>)>, DeltaStream<impl AsyncSource>) {
        let body = futures::stream::iter([Ok::<_, io::Error>(Bytes::from_static(KIMI))]);
        let mut deltas = AsyncChunkStream::from_bytes_stream(body).into_deltas();
        if raw {
            deltas = deltas.with_raw(true);
        }
        let seen = block_on(async {
            let mut seen = Vec::new();
            while let Some(delta) = deltas.next().await {
                seen.push((delta.unwrap(), deltas.raw().map(|r| r.to_string())));
            }
            seen
        });
        (seen, deltas)
    }

    #[test]
    fn roles_only_when_they_change_and_calls_when_complete() {
        let (seen, deltas) = kimi_deltas(false);
        let seen: Vec<Delta> = seen
            .into_iter()
            .map(|(d, raw)| {
                assert_eq!(raw, None, "raw data only when asked for");
                d
            })
            .collect();
        let roles: Vec<&str> = seen
            .iter()
            .filter_map(|d| match d {
                Delta::Role { role, .. } => Some(role.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(roles, ["assistant", "tool"]);
        let complete =
            |index: u64, id: &str, name: &str, arguments: &str| Delta::ToolCallComplete {
                choice: 0,
                index,
                id: Some(id.into()),
                name: Some(name.into()),
                arguments: arguments.into(),
            };
        let at = |want: &Delta| seen.iter().position(|d| d == want).expect("yielded");
        let first = at(&complete(0, "a", "f", "{\"x\":1}"));
        let second = at(&complete(1, "b", "g", "{}"));
        // Call 0 completes with the event that starts call 1, after its fragment; call 1 at
        // `[DONE]`, before `Done`.
        assert!(matches!(
            &seen[first - 1],
            Delta::ToolCall { index: Some(1), .. }
        ));
        assert_eq!(seen[second + 1], Delta::Done);
        assert_eq!(second + 2, seen.len());
        assert_eq!(deltas.accumulator().choices()[0].tool_calls.len(), 2);
    }

    #[test]
    fn raw_event_data_on_request() {
        let (seen, _) = kimi_deltas(true);
        let (delta, raw) = &seen[1];
        assert_eq!(
            delta,
            &Delta::Text {
                choice: 0,
                text: "Hi".into()
            }
        );
        let raw: serde_json::Value = serde_json::from_str(raw.as_deref().unwrap()).unwrap();
        assert_eq!(raw["system_fingerprint"], "fp_k");
        assert_eq!(raw["choices"][0]["logprobs"]["content"][0]["token"], "Hi");
        // The deltas of one event share its data; `[DONE]`'s is its own.
        assert_eq!(seen[0].1, seen[1].1);
        assert_eq!(seen.last().unwrap().1.as_deref(), Some("[DONE]"));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn deltas_serialise_and_read_back() {
        let (seen, _) = kimi_deltas(false);
        for (delta, _) in seen {
            let text = serde_json::to_string(&delta).unwrap();
            let back: Delta = serde_json::from_str(&text).unwrap();
            assert_eq!(back, delta, "{text}");
        }
        let text = serde_json::to_string(&Delta::Text {
            choice: 0,
            text: "Hi".into(),
        })
        .unwrap();
        assert_eq!(text, r#"{"text":{"choice":0,"text":"Hi"}}"#);
        let invalid = Delta::Invalid {
            reason: ssechunk::InvalidData::UnexpectedShape { field: "content" },
            data: "{}".into(),
        };
        let text = serde_json::to_string(&invalid).unwrap();
        assert_eq!(serde_json::from_str::<Delta>(&text).unwrap(), invalid);
    }
}
