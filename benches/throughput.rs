//! Throughput of ssechunk against the Rust SSE peers, on the same bytes in the same run.
//!
//! Two groups per workload:
//! - `framing/<workload>`: events out of bytes. ssechunk's `Parser`, fed (`ssechunk`: each read
//!   copied into its buffer) or lending (`ssechunk-lend`: `Parser::frames`); sse-stream 0.3;
//!   eventsource-stream 0.2 (the framing under async-openai and reqwest-eventsource); and the
//!   limit, a bare `memchr2(b'\r', b'\n')` pass counting line ends.
//! - `decode/<workload>`: events out of bytes, then the chunk fields out of each event.
//!   ssechunk's `ChunkStream` (touching content, reasoning, tool arguments, finish_reason and
//!   usage); sse-stream and eventsource-stream each followed by `serde_json` into async-openai's
//!   own owned chunk type, `CreateChatCompletionStreamResponse`, as async-openai does; a
//!   naive hand-rolled client (split on `\n\n`, strip `data: `, serde_json into a small borrowed
//!   struct); and what a speed-minded user assembles, sse-stream followed by `sonic_rs::from_str`
//!   (SIMD JSON) into the naive client's borrowed struct.
//! - `gateway`: a proxy's view. The traffic's recorded streams replayed by 10,000 streams, each
//!   with its own `ChunkStream` and a meter of events, content bytes and tokens, fed
//!   round-robin one event per feed (`10000-streams-interleaved`; the streams are created in
//!   each run, as a proxy creates one per request), against the same events through one
//!   `ChunkStream` (`one-stream`), and with every stream released after each of its events
//!   (`10000-streams-released-each-turn`, the worst case of `ChunkStream::release`). The
//!   three must meter the same totals.
//! - `dialect/<anthropic|responses|gemini>`: that dialect's recorded streams of the corpus, in
//!   64 KiB reads. ssechunk's `ChunkStream` (dialect detected; summing its text, reasoning and
//!   tool-argument parts); sse-stream and eventsource-stream each followed by a
//!   `serde_json::Value` per event and the text looked up per dialect, as genai and rig do
//!   (`common::value`). The three must count the same events and the same content, reasoning
//!   and tool-argument bytes.
//!
//! Before timing, every workload is run once through every pipeline and the results are
//! compared event by event; inside the timed loop each run asserts the totals that first pass
//! found, which costs a few comparisons per run.
//!
//! What "the same" means: every framer must count the same events and the same data bytes.
//! Every decoder must see the same events (framed the same way), but async-openai's owned type
//! rejects some real events that ssechunk and the naive client decode (10 of the 5,851 events of
//! the recorded corpus; the first pass prints why). Rejected events are counted separately, and
//! the content, tool-argument, finish_reason and usage figures are compared over the events
//! every decoder accepted. async-openai has no reasoning field, so reasoning bytes are compared
//! between ssechunk and the naive client only.
//!
//! The peers take a `futures` stream of `Bytes` reads, driven by `futures::executor::block_on`
//! (no runtime); ssechunk is fed the same reads as slices.

mod common;

use std::convert::Infallible;
use std::fmt;
use std::hint::black_box;
use std::pin::pin;
use std::time::Duration;

use async_openai::types::chat::CreateChatCompletionStreamResponse;
use bytes::Bytes;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use eventsource_stream::Eventsource;
use futures::executor::block_on;
use futures::{StreamExt, stream};
use sse_stream::SseByteStream;
use ssechunk::{ChunkStream, Frame, Outcome, Parser, Part, Payload};

use common::Workload;
use common::borrowed::{self, text_len};
use common::value::{Texts, ValueDialect, ValueReader};

// ---------------------------------------------------------------------------------------------
// Framing

/// What a framer saw: events dispatched and the bytes of their data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Framed {
    events: u64,
    data_bytes: u64,
}

impl Framed {
    fn add(&mut self, data: &[u8]) {
        self.events += 1;
        self.data_bytes += data.len() as u64;
    }
}

fn pull_frames(parser: &mut Parser, seen: &mut Framed) {
    while let Some(frame) = parser.next_frame() {
        if let Frame::Event(event) = frame.expect("no event is over the 16 MiB limit") {
            seen.add(event.data());
        }
    }
}

fn frame_ssechunk(w: &Workload) -> Framed {
    let mut parser = Parser::new();
    let mut seen = Framed::default();
    for read in w.reads() {
        parser.feed(read);
        pull_frames(&mut parser, &mut seen);
    }
    parser.finish();
    pull_frames(&mut parser, &mut seen);
    seen
}

/// ssechunk lending: `Parser::frames` per read, each event lent out of the read when it lies
/// inside it.
fn frame_ssechunk_lend(w: &Workload) -> Framed {
    let mut parser = Parser::new();
    let mut seen = Framed::default();
    for read in w.reads() {
        let mut frames = parser.frames(read);
        while let Some(frame) = frames.next_frame() {
            if let Frame::Event(event) = frame.expect("no event is over the 16 MiB limit") {
                seen.add(event.data());
            }
        }
    }
    parser.finish();
    pull_frames(&mut parser, &mut seen);
    seen
}

fn reads(w: &Workload) -> impl futures::Stream<Item = Result<Bytes, Infallible>> + '_ {
    stream::iter(w.pieces.iter().cloned().map(Ok))
}

/// sse-stream also returns blocks without data (comments, metadata only): not events.
fn frame_sse_stream(w: &Workload) -> Framed {
    block_on(async {
        let mut events = pin!(SseByteStream::new(reads(w)));
        let mut seen = Framed::default();
        while let Some(block) = events.next().await {
            if let Some(data) = block.expect("sse-stream accepts the workload").data {
                seen.add(data.as_bytes());
            }
        }
        seen
    })
}

fn frame_eventsource(w: &Workload) -> Framed {
    block_on(async {
        let mut events = pin!(reads(w).eventsource());
        let mut seen = Framed::default();
        while let Some(event) = events.next().await {
            seen.add(
                event
                    .expect("eventsource-stream accepts the workload")
                    .data
                    .as_bytes(),
            );
        }
        seen
    })
}

/// The limit: finding every line end, and nothing else.
fn memchr2_lines(w: &Workload) -> u64 {
    w.reads()
        .map(|read| memchr::memchr2_iter(b'\r', b'\n', read).count() as u64)
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// The fields every decoder reads out of one chunk, as byte counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Fields {
    content: u64,
    /// Always 0 for async-openai, which has no reasoning field.
    reasoning: u64,
    tool_args: u64,
    finish_reasons: u64,
    total_tokens: u64,
}

impl Fields {
    fn add(&mut self, other: Fields) {
        self.content += other.content;
        self.reasoning += other.reasoning;
        self.tool_args += other.tool_args;
        self.finish_reasons += other.finish_reasons;
        self.total_tokens += other.total_tokens;
    }
}

/// What a decoder made of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rec {
    Chunk(Fields),
    Done,
    /// Not decoded: invalid JSON, an API error, or (async-openai) a chunk its type rejects.
    Rejected,
}

/// Where a pipeline puts its records: a `Vec` in the checking pass, running totals when timed.
trait Sink {
    fn push(&mut self, rec: Rec);
}

impl Sink for Vec<Rec> {
    fn push(&mut self, rec: Rec) {
        Vec::push(self, rec);
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Totals {
    events: u64,
    chunks: u64,
    done: u64,
    rejected: u64,
    fields: Fields,
}

impl Sink for Totals {
    fn push(&mut self, rec: Rec) {
        self.events += 1;
        match rec {
            Rec::Chunk(fields) => {
                self.chunks += 1;
                self.fields.add(fields);
            }
            Rec::Done => self.done += 1,
            Rec::Rejected => self.rejected += 1,
        }
    }
}

impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} events ({} chunks, {} [DONE], {} rejected); content {} B, reasoning {} B, \
             tool arguments {} B, {} finish_reasons, {} total_tokens",
            self.events,
            self.chunks,
            self.done,
            self.rejected,
            self.fields.content,
            self.fields.reasoning,
            self.fields.tool_args,
            self.fields.finish_reasons,
            self.fields.total_tokens
        )
    }
}

fn totals(recs: &[Rec]) -> Totals {
    let mut t = Totals::default();
    for &rec in recs {
        t.push(rec);
    }
    t
}

fn len(s: Option<&str>) -> u64 {
    s.map_or(0, |s| s.len() as u64)
}

fn pull_outcomes(stream: &mut ChunkStream, sink: &mut impl Sink) {
    while let Some(outcome) = stream.next_outcome() {
        let Outcome::Event { payload, .. } = outcome.expect("no event is over the 16 MiB limit")
        else {
            continue;
        };
        sink.push(match payload {
            Payload::Chunk(chunk) => {
                let mut f = Fields {
                    total_tokens: chunk.usage().map_or(0, |u| u.total_tokens),
                    ..Fields::default()
                };
                for choice in chunk.choices() {
                    f.content += len(choice.content());
                    f.reasoning += len(choice.reasoning());
                    f.finish_reasons += u64::from(choice.finish_reason().is_some());
                    for call in choice.tool_calls() {
                        f.tool_args += len(call.arguments());
                    }
                }
                Rec::Chunk(f)
            }
            Payload::Done => Rec::Done,
            // The traffic is Chat Completions only: another dialect's event is not expected.
            Payload::ApiError(_) | Payload::Invalid(_) | Payload::Parts(_) => Rec::Rejected,
        });
    }
}

fn decode_ssechunk(w: &Workload, sink: &mut impl Sink) {
    let mut stream = ChunkStream::new();
    for read in w.reads() {
        stream.feed(read);
        pull_outcomes(&mut stream, sink);
    }
    stream.finish();
    pull_outcomes(&mut stream, sink);
}

/// What async-openai does with each event's data.
fn async_openai_rec(data: &str) -> Rec {
    if data == "[DONE]" {
        return Rec::Done;
    }
    let Ok(chunk) = serde_json::from_str::<CreateChatCompletionStreamResponse>(data) else {
        return Rec::Rejected;
    };
    let mut f = Fields {
        total_tokens: chunk
            .usage
            .as_ref()
            .map_or(0, |u| u64::from(u.total_tokens)),
        ..Fields::default()
    };
    for choice in &chunk.choices {
        f.content += len(choice.delta.content.as_deref());
        f.finish_reasons += u64::from(choice.finish_reason.is_some());
        for call in choice.delta.tool_calls.iter().flatten() {
            f.tool_args += len(call.function.as_ref().and_then(|f| f.arguments.as_deref()));
        }
    }
    Rec::Chunk(f)
}

fn decode_sse_stream(w: &Workload, sink: &mut impl Sink) {
    block_on(async {
        let mut events = pin!(SseByteStream::new(reads(w)));
        while let Some(block) = events.next().await {
            if let Some(data) = block.expect("sse-stream accepts the workload").data {
                sink.push(async_openai_rec(&data));
            }
        }
    });
}

/// sse-stream framing, then sonic-rs into a borrowed struct of only the fields read.
fn decode_sse_sonic(w: &Workload, sink: &mut impl Sink) {
    block_on(async {
        let mut events = pin!(SseByteStream::new(reads(w)));
        while let Some(block) = events.next().await {
            if let Some(data) = block.expect("sse-stream accepts the workload").data {
                sink.push(sonic_rec(&data));
            }
        }
    });
}

fn decode_eventsource(w: &Workload, sink: &mut impl Sink) {
    block_on(async {
        let mut events = pin!(reads(w).eventsource());
        while let Some(event) = events.next().await {
            let event = event.expect("eventsource-stream accepts the workload");
            sink.push(async_openai_rec(&event.data));
        }
    });
}

// The naive client's types: only the fields it reads, strings borrowed where serde_json can.
// The sonic-rs peer reads the same struct.

fn naive_rec(data: &[u8]) -> Rec {
    if data == b"[DONE]" {
        return Rec::Done;
    }
    match serde_json::from_slice::<borrowed::Chunk<'_>>(data) {
        Ok(chunk) => chunk_rec(&chunk),
        Err(_) => Rec::Rejected,
    }
}

/// What the sonic-rs peer does with each event's data: sonic-rs's serde deserializer into the
/// naive client's borrowed struct (its strings borrow unless they hold escapes).
fn sonic_rec(data: &str) -> Rec {
    if data == "[DONE]" {
        return Rec::Done;
    }
    match sonic_rs::from_str::<borrowed::Chunk<'_>>(data) {
        Ok(chunk) => chunk_rec(&chunk),
        Err(_) => Rec::Rejected,
    }
}

/// The fields of a chunk read into the naive client's struct, counted as ssechunk counts them.
fn chunk_rec(chunk: &borrowed::Chunk<'_>) -> Rec {
    let mut f = Fields {
        total_tokens: chunk.usage.as_ref().map_or(0, |u| u.total_tokens),
        ..Fields::default()
    };
    for choice in chunk.choices.iter().flatten() {
        f.finish_reasons += u64::from(choice.finish_reason.is_some());
        let Some(delta) = &choice.delta else {
            continue;
        };
        f.content += text_len(&delta.content);
        // As ssechunk: `reasoning_content`, unless it is empty (then `reasoning`, if sent).
        f.reasoning += match text_len(&delta.reasoning_content) {
            0 => text_len(&delta.reasoning),
            n => n,
        };
        for call in delta.tool_calls.iter().flatten() {
            f.tool_args += call.function.as_ref().map_or(0, |f| text_len(&f.arguments));
        }
    }
    Rec::Chunk(f)
}

/// One `\n\n`-separated block: its `data:` lines, joined with LF only when there are several.
fn naive_block(block: &[u8], joined: &mut Vec<u8>, sink: &mut impl Sink) {
    let mut lines = block.split(|&b| b == b'\n').filter_map(|line| {
        let value = line.strip_prefix(b"data:")?;
        Some(value.strip_prefix(b" ").unwrap_or(value))
    });
    let Some(first) = lines.next() else {
        return;
    };
    let Some(second) = lines.next() else {
        sink.push(naive_rec(first));
        return;
    };
    joined.clear();
    joined.extend_from_slice(first);
    for line in std::iter::once(second).chain(lines) {
        joined.push(b'\n');
        joined.extend_from_slice(line);
    }
    sink.push(naive_rec(joined));
}

/// A hand-rolled client as many write one: append each read to a buffer, cut events at
/// `\n\n` (resuming the search where it stopped), drop what was consumed once per read.
fn decode_naive(w: &Workload, sink: &mut impl Sink) {
    let (mut buf, mut joined) = (Vec::new(), Vec::new());
    let mut searched = 0;
    for read in w.reads() {
        buf.extend_from_slice(read);
        let mut start = 0;
        while let Some(at) = memchr::memmem::find(&buf[searched..], b"\n\n") {
            let end = searched + at;
            naive_block(&buf[start..end], &mut joined, sink);
            start = end + 2;
            searched = start;
        }
        searched = buf.len().saturating_sub(1).max(start) - start;
        buf.drain(..start);
    }
}

// ---------------------------------------------------------------------------------------------
// Gateway scale

/// Concurrent streams in the gateway group.
const GATEWAY_STREAMS: usize = 10_000;

/// What a proxy that meters usage counts: events, content bytes, tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Meter {
    events: u64,
    content: u64,
    tokens: u64,
}

impl Meter {
    fn add(&mut self, other: Meter) {
        self.events += other.events;
        self.content += other.content;
        self.tokens += other.tokens;
    }
}

/// Pulls every outcome the stream has and meters it, as a proxy does before forwarding.
fn meter(stream: &mut ChunkStream, m: &mut Meter) {
    while let Some(outcome) = stream.next_outcome() {
        let Outcome::Event { payload, .. } = outcome.expect("no event is over the 16 MiB limit")
        else {
            continue;
        };
        m.events += 1;
        if let Payload::Chunk(chunk) = payload {
            m.tokens += chunk.usage().map_or(0, |u| u.total_tokens);
            for choice in chunk.choices() {
                m.content += len(choice.content());
            }
        }
    }
}

/// The recorded streams replicated to `GATEWAY_STREAMS` streams: stream `i` plays recorded
/// stream `i % recorded.len()`, event by event.
struct Gateway {
    recorded: Vec<Vec<&'static [u8]>>,
    bytes: u64,
}

impl Gateway {
    fn new(recorded: Vec<Vec<&'static [u8]>>) -> Self {
        let bytes = (0..GATEWAY_STREAMS)
            .map(|i| {
                let events = &recorded[i % recorded.len()];
                events.iter().map(|e| e.len() as u64).sum::<u64>()
            })
            .sum();
        Self { recorded, bytes }
    }

    fn events(&self, i: usize) -> &[&'static [u8]] {
        &self.recorded[i % self.recorded.len()]
    }
}

/// Every stream's events through one `ChunkStream`, stream after stream, one event per feed.
fn gateway_one_stream(g: &Gateway) -> Meter {
    let mut stream = ChunkStream::new();
    let mut m = Meter::default();
    for i in 0..GATEWAY_STREAMS {
        for event in g.events(i) {
            stream.feed(event);
            meter(&mut stream, &mut m);
        }
    }
    m
}

/// `GATEWAY_STREAMS` streams, each with its own `ChunkStream` and meter, fed round-robin: each
/// turn gives every stream that has events left its next event. With `release`, every stream
/// drops its buffers after each turn (the worst case of releasing: every event wakes it).
fn gateway_interleaved(g: &Gateway, release: bool) -> Meter {
    let mut streams: Vec<(ChunkStream, Meter)> = (0..GATEWAY_STREAMS)
        .map(|_| (ChunkStream::new(), Meter::default()))
        .collect();
    let mut live: Vec<usize> = (0..GATEWAY_STREAMS).collect();
    let mut turn = 0;
    while !live.is_empty() {
        live.retain(|&i| {
            let events = g.events(i);
            let (stream, m) = &mut streams[i];
            stream.feed(events[turn]);
            meter(stream, m);
            if release {
                stream.release();
            }
            turn + 1 < events.len()
        });
        turn += 1;
    }
    let mut total = Meter::default();
    for (_, m) in &streams {
        total.add(*m);
    }
    total
}

fn gateway(c: &mut Criterion) {
    let (recorded, what) = common::traffic_streams();
    let g = Gateway::new(recorded);
    eprintln!(
        "\ngateway: {GATEWAY_STREAMS} streams replaying the {} streams of the traffic ({what}), \
         {} bytes, one event per feed",
        g.recorded.len(),
        g.bytes
    );
    let want = gateway_one_stream(&g);
    assert!(want.events > 0 && want.content > 0 && want.tokens > 0);
    assert_eq!(
        gateway_interleaved(&g, false),
        want,
        "interleaved vs one stream"
    );
    assert_eq!(
        gateway_interleaved(&g, true),
        want,
        "released vs one stream"
    );
    eprintln!(
        "  gateway: {} events, {} content bytes, {} tokens, the same through one stream and \
         through {GATEWAY_STREAMS} interleaved",
        want.events, want.content, want.tokens
    );
    let mut group = c.benchmark_group("gateway");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.throughput(Throughput::Bytes(g.bytes));
    group.bench_function("one-stream", |b| {
        b.iter(|| assert_eq!(gateway_one_stream(black_box(&g)), want))
    });
    group.bench_function("10000-streams-interleaved", |b| {
        b.iter(|| assert_eq!(gateway_interleaved(black_box(&g), false), want))
    });
    group.bench_function("10000-streams-released-each-turn", |b| {
        b.iter(|| assert_eq!(gateway_interleaved(black_box(&g), true), want))
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Dialects besides Chat Completions

/// What a pipeline made of a stream of the Anthropic, Responses or Gemini dialect: events
/// (with data), and the text bytes of `common::value`'s rule (ssechunk: its `Part::Text`,
/// `Part::Reasoning` and `Part::ToolCallArguments`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct DialectTotals {
    events: u64,
    texts: Texts,
}

impl fmt::Display for DialectTotals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} events; content {} B, reasoning {} B, tool arguments {} B",
            self.events, self.texts.content, self.texts.reasoning, self.texts.tool_args
        )
    }
}

fn pull_parts(stream: &mut ChunkStream, t: &mut DialectTotals) {
    while let Some(outcome) = stream.next_outcome() {
        let Outcome::Event { payload, .. } = outcome.expect("no event is over the 16 MiB limit")
        else {
            continue;
        };
        t.events += 1;
        if let Payload::Parts(parts) = payload {
            for part in parts.iter() {
                match *part {
                    Part::Text { text, .. } => t.texts.content += text.len() as u64,
                    Part::Reasoning { text, .. } => t.texts.reasoning += text.len() as u64,
                    Part::ToolCallArguments { fragment, .. } => {
                        t.texts.tool_args += fragment.len() as u64
                    }
                    _ => {}
                }
            }
        }
    }
}

/// ssechunk: `ChunkStream`, its dialect detected from the stream.
fn dialect_ssechunk(w: &Workload) -> DialectTotals {
    let mut stream = ChunkStream::new();
    let mut t = DialectTotals::default();
    for read in w.reads() {
        stream.feed(read);
        pull_parts(&mut stream, &mut t);
    }
    stream.finish();
    pull_parts(&mut stream, &mut t);
    t
}

fn value_event(reader: &mut ValueReader, t: &mut DialectTotals, event: Option<&str>, data: &str) {
    t.events += 1;
    if let Some(texts) = reader.read(event, data) {
        t.texts.add(texts);
    }
}

/// sse-stream + `serde_json::Value` per event, the text looked up per dialect (genai, rig).
fn dialect_sse_stream(w: &Workload, dialect: ValueDialect) -> DialectTotals {
    block_on(async {
        let mut events = pin!(SseByteStream::new(reads(w)));
        let mut reader = ValueReader::new(Some(dialect));
        let mut t = DialectTotals::default();
        while let Some(block) = events.next().await {
            let block = block.expect("sse-stream accepts the workload");
            if let Some(data) = &block.data {
                value_event(&mut reader, &mut t, block.event.as_deref(), data);
            }
        }
        t
    })
}

/// eventsource-stream + `serde_json::Value` per event, the text looked up per dialect.
fn dialect_eventsource(w: &Workload, dialect: ValueDialect) -> DialectTotals {
    block_on(async {
        let mut events = pin!(reads(w).eventsource());
        let mut reader = ValueReader::new(Some(dialect));
        let mut t = DialectTotals::default();
        while let Some(event) = events.next().await {
            let event = event.expect("eventsource-stream accepts the workload");
            value_event(&mut reader, &mut t, Some(&event.event), &event.data);
        }
        t
    })
}

/// `dialect/<name>`: each dialect's corpus streams, concatenated, in 64 KiB reads.
fn dialects(c: &mut Criterion) {
    for (name, dialect) in common::DIALECTS {
        let Some((bytes, what)) = common::dialect_traffic(dialect) else {
            eprintln!("\ndialect/{name}: SKIPPED, no {dialect:?} stream in the corpus");
            continue;
        };
        let w = Workload::new(name, format!("{what}, in 64 KiB reads"), bytes, 64 << 10);
        eprintln!("\ndialect/{name}: {}", w.what);
        let want = dialect_ssechunk(&w);
        eprintln!("  ssechunk: {want}");
        assert!(
            want.events > 0 && want.texts.content > 0,
            "{name}: no event or no text"
        );
        let sse = dialect_sse_stream(&w, dialect);
        assert_eq!(
            sse, want,
            "{name}: sse-stream + serde_json::Value vs ssechunk"
        );
        let es = dialect_eventsource(&w, dialect);
        assert_eq!(
            es, want,
            "{name}: eventsource-stream + serde_json::Value vs ssechunk"
        );
        eprintln!("  the three pipelines count the same events and text bytes");

        let mut g = c.benchmark_group(format!("dialect/{name}"));
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Bytes(w.bytes.len() as u64));
        g.bench_function("ssechunk", |b| {
            b.iter(|| assert_eq!(dialect_ssechunk(black_box(&w)), want))
        });
        g.bench_function("sse-stream+serde_json::Value", |b| {
            b.iter(|| assert_eq!(dialect_sse_stream(black_box(&w), dialect), want))
        });
        g.bench_function("eventsource-stream+serde_json::Value", |b| {
            b.iter(|| assert_eq!(dialect_eventsource(black_box(&w), dialect), want))
        });
        g.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// The checking pass and the benchmarks

fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

/// Runs every framer once and asserts they agree; returns the expected results.
fn check_framing(w: &Workload) -> (Framed, u64) {
    let t = std::time::Instant::now();
    let ours = frame_ssechunk(w);
    eprintln!(
        "  framing: ssechunk {} events, {} data bytes ({:.0} MB/s untimed)",
        ours.events,
        ours.data_bytes,
        mbps(w.bytes.len(), t.elapsed())
    );
    assert!(ours.events > 0, "{}: no event framed", w.name);
    assert_eq!(frame_ssechunk_lend(w), ours, "{}: ssechunk lending", w.name);
    assert_eq!(frame_sse_stream(w), ours, "{}: sse-stream framing", w.name);
    if !w.skip_eventsource {
        assert_eq!(frame_eventsource(w), ours, "{}: eventsource-stream", w.name);
    }
    let lines = w
        .bytes
        .iter()
        .filter(|&&b| b == b'\r' || b == b'\n')
        .count() as u64;
    assert_eq!(memchr2_lines(w), lines, "{}: memchr2 line ends", w.name);
    (ours, lines)
}

/// The decoders' expected totals, in bench order: ssechunk, sse-stream + async-openai,
/// eventsource-stream + async-openai (None when skipped), naive, sse-stream + sonic-rs.
struct Expected {
    ours: Totals,
    sse_stream: Totals,
    eventsource: Option<Totals>,
    naive: Totals,
    sonic: Totals,
}

/// Runs every decoder once, compares them event by event, and prints the differences.
fn check_decoding(w: &Workload, framed: Framed) -> Expected {
    let mut ours = Vec::new();
    decode_ssechunk(w, &mut ours);
    let mut sse = Vec::new();
    decode_sse_stream(w, &mut sse);
    let mut naive = Vec::new();
    decode_naive(w, &mut naive);
    let mut sonic = Vec::new();
    decode_sse_sonic(w, &mut sonic);
    let eventsource = (!w.skip_eventsource).then(|| {
        let mut recs = Vec::new();
        decode_eventsource(w, &mut recs);
        recs
    });

    // The same events, framed the same way.
    for (name, recs) in [
        ("ssechunk", &ours),
        ("sse-stream", &sse),
        ("naive", &naive),
        ("sonic-rs", &sonic),
    ]
    .into_iter()
    .chain(eventsource.as_ref().map(|r| ("eventsource-stream", r)))
    {
        assert_eq!(
            recs.len() as u64,
            framed.events,
            "{}: {name} events",
            w.name
        );
    }
    if let Some(recs) = &eventsource {
        assert_eq!(recs, &sse, "{}: the two async-openai pipelines", w.name);
    }
    // sonic-rs reads the naive client's struct: the same record for every event, reasoning
    // and rejections included.
    for (i, (s, n)) in sonic.iter().zip(&naive).enumerate() {
        assert_eq!(s, n, "{}: event {i}, sonic-rs vs naive", w.name);
    }

    // Event by event, over the events each pair accepted.
    let mut both = 0;
    for (i, ((o, a), n)) in ours.iter().zip(&sse).zip(&naive).enumerate() {
        match (o, a, n) {
            (Rec::Chunk(o), Rec::Chunk(a), Rec::Chunk(n)) => {
                both += 1;
                assert_eq!(*o, *n, "{}: event {i}, ssechunk vs naive", w.name);
                let without_reasoning = Fields { reasoning: 0, ..*o };
                assert_eq!(without_reasoning, *a, "{}: event {i}, async-openai", w.name);
            }
            (Rec::Done, Rec::Done, Rec::Done) => {}
            (Rec::Chunk(o), Rec::Rejected, Rec::Chunk(n)) => {
                assert_eq!(o, n, "{}: event {i}, ssechunk vs naive", w.name)
            }
            _ => panic!(
                "{}: event {i}: ssechunk {o:?}, async-openai {a:?}, naive {n:?}",
                w.name
            ),
        }
    }
    let expected = Expected {
        ours: totals(&ours),
        sse_stream: totals(&sse),
        eventsource: eventsource.as_deref().map(totals),
        naive: totals(&naive),
        sonic: totals(&sonic),
    };
    eprintln!("  decode: ssechunk {}", expected.ours);
    eprintln!("  decode: async-openai {}", expected.sse_stream);
    eprintln!("  decode: naive {}", expected.naive);
    eprintln!("  decode: sonic-rs {}", expected.sonic);
    eprintln!("  decode: {both} chunks accepted by every decoder agree field by field");
    if expected.sse_stream.rejected > 0 {
        report_rejections(w, &sse);
    }
    expected
}

/// Prints why async-openai rejected events (each distinct serde message once).
fn report_rejections(w: &Workload, recs: &[Rec]) {
    let mut parser = Parser::new();
    let mut messages: Vec<(String, usize)> = Vec::new();
    let mut note = |data: &[u8], i: usize| {
        if recs[i] != Rec::Rejected {
            return;
        }
        let text = String::from_utf8_lossy(data);
        let err = serde_json::from_str::<CreateChatCompletionStreamResponse>(&text)
            .expect_err("rejected before");
        // The position varies with the event: keep the message alone.
        let msg = err.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        match messages.iter_mut().find(|(m, _)| *m == msg) {
            Some((_, n)) => *n += 1,
            None => messages.push((msg, 1)),
        }
    };
    let mut i = 0;
    for read in w.reads().chain([&b""[..]]) {
        if read.is_empty() {
            parser.finish();
        } else {
            parser.feed(read);
        }
        while let Some(frame) = parser.next_frame() {
            if let Ok(Frame::Event(event)) = frame {
                note(event.data(), i);
                i += 1;
            }
        }
    }
    for (msg, n) in messages {
        eprintln!("  async-openai rejected {n} event(s): {msg}");
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

fn workloads() -> Vec<Workload> {
    let (traffic, what) = common::traffic();
    eprintln!("traffic workload: {what}");
    let huge = common::leak(common::huge_event(8 << 20));
    let huge_what = format!("one event of {} bytes (content ~8 MiB)", huge.len());
    let multi = common::leak(common::multiline(traffic, 40));
    let multi_what = format!(
        "the traffic, JSON split over several data: lines ({} bytes)",
        multi.len()
    );
    let shuffled = common::leak(common::shuffled(traffic));
    let mut small_reads = Workload::new(
        "8MiB-event-1460B-reads",
        format!("{huge_what}, in 1460-byte reads"),
        huge,
        1460,
    );
    small_reads.skip_eventsource = true;
    vec![
        Workload::new(
            "traffic-64KiB-reads",
            format!("{what}, in 64 KiB reads"),
            traffic,
            64 << 10,
        ),
        Workload::new(
            "traffic-16B-reads",
            format!("{what}, in 16-byte reads"),
            traffic,
            16,
        ),
        small_reads,
        Workload::new(
            "8MiB-event-one-read",
            format!("{huge_what}, in one read"),
            huge,
            huge.len(),
        ),
        Workload::new(
            "multiline-64KiB-reads",
            format!("{multi_what}, in 64 KiB reads"),
            multi,
            64 << 10,
        ),
        Workload::new(
            "shuffled-64KiB-reads",
            "the traffic's events in a random order (neighbouring chunks share no envelope), \
             in 64 KiB reads"
                .to_owned(),
            shuffled,
            64 << 10,
        ),
    ]
}

fn benches(c: &mut Criterion) {
    for w in workloads() {
        eprintln!("\n{}: {}", w.name, w.what);
        let (framed, lines) = check_framing(&w);
        let expected = check_decoding(&w, framed);
        if w.skip_eventsource {
            eprintln!(
                "  NOTE: eventsource-stream skipped on {}: it re-parses the partial line on \
                 every read, quadratic here (~43 s per run)",
                w.name
            );
        }
        let bytes = Throughput::Bytes(w.bytes.len() as u64);

        let mut g = c.benchmark_group(format!("framing/{}", w.name));
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(bytes.clone());
        g.bench_function("ssechunk", |b| {
            b.iter(|| assert_eq!(frame_ssechunk(black_box(&w)), framed))
        });
        g.bench_function("ssechunk-lend", |b| {
            b.iter(|| assert_eq!(frame_ssechunk_lend(black_box(&w)), framed))
        });
        g.bench_function("sse-stream", |b| {
            b.iter(|| assert_eq!(frame_sse_stream(black_box(&w)), framed))
        });
        if !w.skip_eventsource {
            g.bench_function("eventsource-stream", |b| {
                b.iter(|| assert_eq!(frame_eventsource(black_box(&w)), framed))
            });
        }
        g.bench_function("memchr2-limit", |b| {
            b.iter(|| assert_eq!(memchr2_lines(black_box(&w)), lines))
        });
        g.finish();

        let mut g = c.benchmark_group(format!("decode/{}", w.name));
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(bytes);
        g.bench_function("ssechunk", |b| {
            b.iter(|| {
                let mut t = Totals::default();
                decode_ssechunk(black_box(&w), &mut t);
                assert_eq!(t, expected.ours);
            })
        });
        g.bench_function("sse-stream+async-openai", |b| {
            b.iter(|| {
                let mut t = Totals::default();
                decode_sse_stream(black_box(&w), &mut t);
                assert_eq!(t, expected.sse_stream);
            })
        });
        if let Some(want) = expected.eventsource {
            g.bench_function("eventsource-stream+async-openai", |b| {
                b.iter(|| {
                    let mut t = Totals::default();
                    decode_eventsource(black_box(&w), &mut t);
                    assert_eq!(t, want);
                })
            });
        }
        g.bench_function("naive+serde-borrowed", |b| {
            b.iter(|| {
                let mut t = Totals::default();
                decode_naive(black_box(&w), &mut t);
                assert_eq!(t, expected.naive);
            })
        });
        g.bench_function("sse-stream+sonic-rs", |b| {
            b.iter(|| {
                let mut t = Totals::default();
                decode_sse_sonic(black_box(&w), &mut t);
                assert_eq!(t, expected.sonic);
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = throughput;
    config = config();
    targets = gateway, dialects, benches
}
criterion_main!(throughput);
