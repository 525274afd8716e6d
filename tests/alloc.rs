//! Allocation counts: once its buffers have grown, `ChunkStream` frames and decodes every
//! `.sse` stream of the recorded corpus (261 streams, every dialect) without allocating,
//! whatever the order of the streams (the measured pass sees them in another order than the
//! warm-up) and the size of the reads (64 KiB, 1,460 and 16 bytes); so do the adapters,
//! `ChunkReader` and (feature `async`) `AsyncChunkStream` over an `AsyncRead` and over a
//! stream of `Bytes`. The `Accumulator` allocates in proportion to its output, not per chunk.
//! A positive control shows that the counter sees an allocation made on purpose.
//!
//! A counting global allocator wraps the system one. Only allocations made by the measuring
//! thread while a measurement is on are counted (a thread-local flag), so the test harness's
//! own threads never disturb a figure, and a mutex keeps measurements from overlapping.
//!
//! Without the corpus (`../shared/corpus` or `$SSECHUNK_CORPUS`) the two seed cassettes,
//! repeated, stand in for it, unless `SSECHUNK_REQUIRE_CORPUS=1` demands the corpus.

#[path = "common/chunk_reference.rs"]
mod chunk_reference;
#[path = "common/fixtures.rs"]
mod fixtures;

use std::hint::black_box;

use ssechunk::{Accumulator, ChunkStream, Frame, Outcome, Parser, Part, Payload};

#[path = "common/counting.rs"]
mod counting;
#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

use counting::{counted, lock};

/// Reads of the size a client typically uses.
const READ: usize = 64 * 1024;

/// How many `.sse` streams the corpus holds, and how many events they frame.
const CORPUS_STREAMS: usize = 261;
const CORPUS_EVENTS: u64 = 8_568;

/// The streams measured: every `.sse` stream of the corpus, or, without it, the two seed
/// cassettes repeated. `None` only when neither is there.
fn streams() -> Vec<(String, Vec<u8>)> {
    if let Some(corpus) = chunk_reference::load_corpus() {
        let mut all = corpus.chat;
        all.extend(corpus.other);
        assert_eq!(all.len(), CORPUS_STREAMS, ".sse streams in the corpus");
        return all;
    }
    eprintln!("alloc: measuring the seed cassettes, repeated, instead of the corpus");
    fixtures::CASSETTES
        .iter()
        .map(|name| (name.to_string(), fixtures::cassette_body(name).repeat(400)))
        .collect()
}

/// The same streams in another order (a seeded shuffle), so that the measured pass meets
/// events in other places of the buffers and other neighbours than the warm-up did.
fn shuffled(streams: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let mut rng = chunk_reference::Rng::new(0x5eed);
    let mut out = streams.to_vec();
    for i in (1..out.len()).rev() {
        out.swap(i, rng.below(i + 1));
    }
    assert!(
        out.len() < 3 || out != streams,
        "the shuffle changed the order"
    );
    out
}

/// Checks the event count of a whole pass over the corpus.
fn check_events(events: u64) {
    if chunk_reference::corpus_dir().is_some() {
        assert_eq!(events, CORPUS_EVENTS, "events in the corpus's .sse streams");
    }
}

/// Every stream one after the other, each ended by a blank line (a few recorded streams end
/// without one: it is added), so that events never merge.
fn concatenated(streams: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut all = Vec::new();
    for (_, body) in streams {
        all.extend_from_slice(body);
        if ![&b"\n\n"[..], b"\r\n\r\n", b"\r\r"]
            .iter()
            .any(|end| body.ends_with(end))
        {
            all.extend_from_slice(b"\n\n");
        }
    }
    all
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Seen {
    events: u64,
    chunks: u64,
    /// A sum over every byte length and number the views expose, so that nothing is skipped.
    touched: u64,
}

fn len(s: Option<&str>) -> u64 {
    s.map_or(0, |s| s.len() as u64 + 1)
}

/// Reads every field of a payload, as a client would.
fn touch(payload: &Payload<'_>, seen: &mut Seen) {
    match payload {
        Payload::Chunk(chunk) => {
            seen.chunks += 1;
            let mut t = len(chunk.id()) + len(chunk.model()) + len(chunk.system_fingerprint());
            t += chunk.created().unwrap_or(0) % 7;
            if let Some(u) = chunk.usage() {
                t += u.input_tokens + u.output_tokens + u.total_tokens;
                t += u.cached_input_tokens.unwrap_or(0) + u.reasoning_tokens.unwrap_or(0);
            }
            for choice in chunk.choices() {
                t += choice.index() + len(choice.role()) + len(choice.content());
                t += len(choice.reasoning()) + len(choice.refusal()) + len(choice.finish_reason());
                for call in choice.tool_calls() {
                    t += call.index().unwrap_or(0) + len(call.id()) + len(call.kind());
                    t += len(call.name()) + len(call.arguments());
                }
            }
            t += len(chunk.choice().and_then(|c| c.content()));
            seen.touched = seen.touched.wrapping_add(t);
        }
        Payload::ApiError(e) => {
            let t =
                len(e.message()) + len(e.kind()) + len(e.param()) + u64::from(e.code().is_some());
            seen.touched = seen.touched.wrapping_add(t);
        }
        Payload::Done => seen.touched += 1,
        Payload::Invalid(_) => seen.touched += 2,
        Payload::Parts(parts) => {
            seen.chunks += 1;
            // What each event says by itself: a dialect decoder also says what depends on the
            // stream before the event (a role once, the usage when it changed, a call's
            // number), and the passes join the recorded streams in other orders.
            for part in parts.iter() {
                let t = match *part {
                    Part::Metadata { id, model } => len(id) + len(model),
                    Part::Text { text, .. }
                    | Part::Reasoning { text, .. }
                    | Part::Refusal { text, .. } => len(Some(text)),
                    Part::ToolCallStart { id, name, .. } => len(id) + len(name),
                    Part::ToolCallArguments { fragment, .. } => len(Some(fragment)),
                    Part::ReasoningDetail { detail, .. } => len(Some(detail)),
                    Part::Finish { reason, .. } => len(Some(reason)),
                    Part::Error { error } => len(error.message()),
                    Part::Done => 1,
                    _ => 0,
                };
                seen.touched = seen.touched.wrapping_add(t);
            }
        }
    }
}

/// Feeds `input` in 64 KiB reads and pulls and touches every outcome.
fn pass(stream: &mut ChunkStream, input: &[u8]) -> Seen {
    pass_in(stream, input, READ)
}

/// The same with the framing parser alone.
fn framing_pass(parser: &mut Parser, input: &[u8]) -> u64 {
    let mut events = 0;
    for piece in input.chunks(READ) {
        parser.feed(piece);
        while let Some(frame) = parser.next_frame() {
            if let Ok(Frame::Event(event)) = frame {
                black_box(event.data());
                events += 1;
            }
        }
    }
    events
}

/// The counter counts: an allocation made on purpose is seen, and so is a growth.
#[test]
fn the_counter_sees_allocations() {
    let _guard = lock();
    let (_, one) = counted(|| black_box(Vec::<u8>::with_capacity(64)));
    assert_eq!(one, 1, "a Vec::with_capacity");
    let (_, grown) = counted(|| {
        let mut v = black_box(Vec::<u8>::with_capacity(1));
        v.extend_from_slice(&[0; 4096]);
        black_box(v)
    });
    assert_eq!(grown, 2, "an allocation and a growth");
    let mut stream = ChunkStream::new();
    let (_, first) = counted(|| pass(&mut stream, b"data: {\"choices\":[]}\n\n"));
    assert!(first > 0, "a new stream's first event grows its buffers");
}

/// Feeds `input` in reads of `size` bytes and pulls and touches every outcome.
fn pass_in(stream: &mut ChunkStream, input: &[u8], size: usize) -> Seen {
    let mut seen = Seen::default();
    for piece in input.chunks(size) {
        stream.feed(piece);
        while let Some(outcome) = stream.next_outcome() {
            seen_outcome(outcome, &mut seen);
        }
    }
    black_box(seen)
}

fn seen_outcome(outcome: Result<Outcome<'_>, ssechunk::Error>, seen: &mut Seen) {
    match outcome.expect("no event in the corpus is over the default limit") {
        Outcome::Event { event, payload } => {
            seen.events += 1;
            seen.touched += (event.data().len() + event.event_type().len()) as u64;
            touch(&payload, seen);
        }
        Outcome::Comment(text) | Outcome::Ignored(text) => seen.touched += text.len() as u64,
        Outcome::Error(e) => seen.touched += len(e.message()),
        Outcome::Incomplete(_) => panic!("the stream is not finished"),
        other => panic!("an outcome the test does not know: {other:?}"),
    }
}

#[test]
fn decoding_allocates_nothing_in_steady_state() {
    let streams = streams();
    let input = concatenated(&streams);
    let other_order = concatenated(&shuffled(&streams));
    let _guard = lock();
    let mut stream = ChunkStream::new();
    let (first, warm_up) = counted(|| pass(&mut stream, &input));
    let (second, steady) = counted(|| pass(&mut stream, &other_order));
    assert_eq!(first, second, "both passes see the same events");
    check_events(second.events);
    eprintln!(
        "alloc: ChunkStream over {} streams, {} bytes, {} events ({} chunks) in 64 KiB reads: \
         warm-up {} allocations, then, in another order, {} ({:.4} per event)",
        streams.len(),
        input.len(),
        second.events,
        second.chunks,
        warm_up,
        steady,
        steady as f64 / second.events as f64
    );
    assert_eq!(steady, 0, "framing and decoding allocated once warm");

    // Socket-sized and tiny reads, which cut events in other places: the buffers are already
    // larger than any event plus a read, so they are reused as they are.
    for size in [1460, 16] {
        let (seen, small_reads) = counted(|| pass_in(&mut stream, &other_order, size));
        assert_eq!(seen, second, "{size}-byte reads see the same events");
        eprintln!("alloc: the same in {size}-byte reads: {small_reads} allocations");
        assert_eq!(small_reads, 0, "{size}-byte reads allocated once warm");
    }
}

/// `ChunkReader` over a `std::io::Read`, with the reads of its own size and of 1,460 bytes.
#[test]
fn the_reader_adapter_allocates_nothing_in_steady_state() {
    let streams = streams();
    let input = concatenated(&streams);
    let other_order = concatenated(&shuffled(&streams));
    let _guard = lock();
    let read_all = |stream: ssechunk::ChunkStream, bytes: &[u8], size: usize| {
        let mut reader = ssechunk::ChunkReader::with_stream(bytes, stream).read_size(size);
        let mut seen = Seen::default();
        while let Some(outcome) = reader.next_outcome() {
            seen_outcome(outcome, &mut seen);
        }
        (black_box(seen), reader.into_parts().1)
    };
    let ((first, stream), warm_up) = counted(|| read_all(ChunkStream::new(), &input, READ));
    let ((second, stream), steady) = counted(|| read_all(stream, &other_order, READ));
    let ((third, _), small) = counted(|| read_all(stream, &input, 1460));
    assert_eq!(first, second);
    assert_eq!(first, third);
    check_events(second.events);
    eprintln!(
        "alloc: ChunkReader over {} events: warm-up {warm_up} allocations, then {steady} in \
         another order, {small} in 1460-byte reads",
        second.events
    );
    assert_eq!(steady, 0, "ChunkReader allocated once warm");
    assert_eq!(small, 0, "ChunkReader allocated once warm, in small reads");
}

/// `AsyncChunkStream` over a `tokio::io::AsyncRead` and over a stream of `Bytes`.
#[cfg(feature = "async")]
#[test]
fn the_async_adapter_allocates_nothing_in_steady_state() {
    use ssechunk::{AsyncChunkStream, BytesSource, ReaderSource};

    let streams = streams();
    let input = concatenated(&streams);
    let other_order = concatenated(&shuffled(&streams));
    // The reads of the bytes stream, made before counting (a client's transport makes them).
    let pieces = |bytes: &[u8]| -> Vec<Result<bytes::Bytes, std::io::Error>> {
        bytes
            .chunks(1460)
            .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
            .collect()
    };
    let (warm_pieces, measured_pieces) = (pieces(&input), pieces(&other_order));
    let _guard = lock();
    let from_reader = |stream: ChunkStream, bytes: &[u8]| {
        let mut events = AsyncChunkStream::with_stream(ReaderSource::new(bytes), stream);
        let mut seen = Seen::default();
        futures::executor::block_on(async {
            while let Some(outcome) = events.next_outcome().await {
                seen_outcome(outcome, &mut seen);
            }
        });
        (black_box(seen), events.into_parts().1)
    };
    let ((first, stream), warm_up) = counted(|| from_reader(ChunkStream::new(), &input));
    let ((second, stream), steady) = counted(|| from_reader(stream, &other_order));
    assert_eq!(first, second);
    check_events(second.events);
    eprintln!(
        "alloc: AsyncChunkStream over an AsyncRead, {} events: warm-up {warm_up} allocations, \
         then {steady} in another order",
        second.events
    );
    assert_eq!(
        steady, 0,
        "AsyncChunkStream over an AsyncRead allocated once warm"
    );

    let from_bytes = |stream: ChunkStream, reads: Vec<Result<bytes::Bytes, std::io::Error>>| {
        let source = BytesSource::new(futures::stream::iter(reads));
        let mut events = AsyncChunkStream::with_stream(source, stream);
        let mut seen = Seen::default();
        futures::executor::block_on(async {
            while let Some(outcome) = events.next_outcome().await {
                seen_outcome(outcome, &mut seen);
            }
        });
        (black_box(seen), events.into_parts().1)
    };
    let ((third, stream), warm_up) = counted(|| from_bytes(stream, warm_pieces));
    // Dropping the measured reads is the transport's business: they are freed outside.
    let ((fourth, _), steady) = counted(|| from_bytes(stream, measured_pieces));
    assert_eq!(third, first);
    assert_eq!(fourth, first);
    eprintln!(
        "alloc: AsyncChunkStream over a stream of Bytes (1460-byte reads), {} events: warm-up \
         {warm_up} allocations, then {steady} in another order",
        fourth.events
    );
    assert_eq!(steady, 0, "AsyncChunkStream over Bytes allocated once warm");
}

#[test]
fn framing_allocates_nothing_in_steady_state() {
    let streams = streams();
    let input = concatenated(&streams);
    let other_order = concatenated(&shuffled(&streams));
    let _guard = lock();
    let mut parser = Parser::new();
    let (first, warm_up) = counted(|| framing_pass(&mut parser, &input));
    let (second, steady) = counted(|| framing_pass(&mut parser, &other_order));
    assert_eq!(first, second);
    check_events(second);
    eprintln!(
        "alloc: Parser over {} events: warm-up {warm_up} allocations, then {steady}",
        second
    );
    assert_eq!(steady, 0, "framing allocated once warm");
}

/// Allocations a message can need when its strings and vectors grow geometrically: one
/// allocation per string or vector, plus one per doubling of its length.
fn geometric_bound(acc: &Accumulator) -> u64 {
    let string = |s: &str| 2 + u64::from((s.len() + 1).ilog2());
    let opt = |s: &Option<String>| s.as_deref().map_or(0, string);
    let vec = |n: usize| 1 + u64::from((n + 1).ilog2());
    let mut bound = opt(&acc.id().map(str::to_owned))
        + opt(&acc.model().map(str::to_owned))
        + vec(acc.choices().len());
    for c in acc.choices() {
        bound += opt(&c.role) + opt(&c.content) + opt(&c.reasoning) + opt(&c.refusal);
        bound += opt(&c.finish_reason) + vec(c.tool_calls.len());
        for t in &c.tool_calls {
            bound += opt(&t.id) + opt(&t.kind) + opt(&t.name) + string(&t.arguments);
        }
    }
    bound
}

#[test]
fn accumulator_allocates_in_proportion_to_output() {
    // The Chat Completions streams: the ones whose chunks carry a reply to assemble.
    let streams: Vec<_> = streams()
        .into_iter()
        .filter(|(_, body)| chunk_reference::is_chat_completion(body))
        .collect();
    let _guard = lock();
    let mut stream = ChunkStream::new();
    // Warm the stream's buffers on everything first, so that what is counted below is the
    // accumulator's alone.
    pass(&mut stream, &concatenated(&streams));
    let (mut total_chunks, mut total_allocs, mut long_streams) = (0u64, 0u64, 0usize);
    let (mut long_chunks, mut long_allocs) = (0u64, 0u64);
    for (name, body) in &streams {
        let mut acc = Accumulator::new();
        let mut allocs = 0;
        let ((), all) = counted(|| {
            for piece in body.chunks(READ) {
                stream.feed(piece);
                while let Some(outcome) = stream.next_outcome() {
                    if let Ok(Outcome::Event { payload, .. }) = outcome {
                        // The accumulator's own share, read off the running count.
                        let before = counting::allocations();
                        acc.push_payload(&payload);
                        allocs += counting::allocations() - before;
                    }
                }
            }
        });
        let chunks = black_box(&acc).chunks();
        assert!(chunks > 0, "{name}");
        assert_eq!(all, allocs, "{name}: the warm stream itself allocated");
        let bound = geometric_bound(&acc);
        assert!(
            allocs <= bound,
            "{name}: {allocs} allocations for {chunks} chunks, more than geometric growth \
             needs ({bound})"
        );
        total_chunks += chunks;
        total_allocs += allocs;
        // A long stream's message costs far fewer allocations than it has chunks.
        if chunks >= 100 {
            long_streams += 1;
            long_chunks += chunks;
            long_allocs += allocs;
            assert!(
                allocs * 4 < chunks,
                "{name}: {allocs} allocations for {chunks} chunks"
            );
        }
    }
    eprintln!(
        "alloc: Accumulator over {} streams: {total_allocs} allocations for {total_chunks} \
         chunks ({:.3} per chunk); the {long_streams} streams of 100+ chunks: {long_allocs} \
         for {long_chunks} ({:.3} per chunk)",
        streams.len(),
        total_allocs as f64 / total_chunks as f64,
        long_allocs as f64 / long_chunks.max(1) as f64,
    );
}

/// Ten thousand one-character deltas, in two choices with a tool call each: the allocations
/// grow with the logarithm of the output, not with the number of chunks.
#[test]
fn accumulator_allocations_do_not_grow_per_chunk() {
    let mut input = Vec::new();
    input.extend_from_slice(
        b"data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n",
    );
    for i in 0..10_000 {
        let line = format!(
            "data: {{\"id\":\"c\",\"choices\":[{{\"index\":{},\"delta\":{{\"content\":\"x\",\"tool_calls\":[{{\"index\":0,\"function\":{{\"arguments\":\"y\"}}}}]}}}}]}}\n\n",
            i % 2
        );
        input.extend_from_slice(line.as_bytes());
    }
    input.extend_from_slice(b"data: [DONE]\n\n");
    let _guard = lock();
    let mut stream = ChunkStream::new();
    pass(&mut stream, &input);
    let mut acc = Accumulator::new();
    let ((), allocs) = counted(|| {
        for piece in input.chunks(READ) {
            stream.feed(piece);
            while let Some(Ok(Outcome::Event { payload, .. })) = stream.next_outcome() {
                acc.push_payload(&payload);
            }
        }
    });
    assert_eq!(acc.chunks(), 10_001);
    assert_eq!(
        acc.choices()[1].content.as_deref().map(str::len),
        Some(5_000)
    );
    let bound = geometric_bound(&acc);
    eprintln!("alloc: Accumulator over 10,001 chunks: {allocs} allocations (bound {bound})");
    assert!(allocs <= bound, "{allocs} allocations, bound {bound}");
    assert!(allocs < 100, "{allocs} allocations for 10,001 chunks");
}
