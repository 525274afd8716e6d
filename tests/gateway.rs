//! Gateway scale: the memory that 10,000 live streams retain between events.
//!
//! A proxy that meters usage holds one `ChunkStream` per open connection and feeds each the
//! bytes it receives, events of different streams interleaved. This test plays the recorded
//! chat-completion streams of the corpus (or, without it, the seed cassettes) to 10,000
//! streams, round-robin one event per turn, stops every stream halfway through its events,
//! and measures what they retain: heap bytes live (allocated minus freed, by a counting
//! allocator) per stream, plus the stream value itself. It then plays the rest of every
//! stream and checks that the metered figures (events, content bytes, tokens) are those of
//! the same bytes through one stream.
//!
//! The resident memory of the process (`VmRSS`, Linux only) is printed beside it, for
//! reference: it includes the allocator's own overhead and the test's inputs.

#[path = "common/chunk_reference.rs"]
mod chunk_reference;
#[path = "common/fixtures.rs"]
mod fixtures;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering};

use ssechunk::{ChunkStream, Outcome, Payload};

/// Heap bytes live: allocated minus freed, over every thread.
static LIVE: AtomicI64 = AtomicI64::new(0);

struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only an
// atomic, which does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees are passed on as they are.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Concurrent streams.
const STREAMS: usize = 10_000;

/// The most a live stream may retain between events.
const BUDGET: usize = 16 * 1024;

/// The resident memory of this process in KiB, from `/proc/self/status` (Linux only).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn rss_text() -> String {
    rss_kib().map_or_else(|| "unknown".to_owned(), |kib| format!("{kib} KiB"))
}

/// The recorded chat-completion streams (or the seed cassettes), each cut into its events:
/// every piece ends after a blank line, except a last piece without one.
fn recorded() -> Vec<Vec<Vec<u8>>> {
    let bodies: Vec<Vec<u8>> = match chunk_reference::load_corpus() {
        Some(corpus) => corpus.chat.into_iter().map(|(_, body)| body).collect(),
        None => {
            assert_ne!(
                std::env::var("SSECHUNK_REQUIRE_CORPUS").as_deref(),
                Ok("1"),
                "no corpus, and SSECHUNK_REQUIRE_CORPUS=1"
            );
            eprintln!("gateway: no corpus, playing the seed cassettes instead");
            fixtures::CASSETTES
                .iter()
                .map(|name| fixtures::cassette_body(name))
                .collect()
        }
    };
    bodies.iter().map(|body| events_of(body)).collect()
}

fn events_of(body: &[u8]) -> Vec<Vec<u8>> {
    let mut events = Vec::new();
    let mut start = 0;
    for end in memchr::memmem::find_iter(body, b"\n\n") {
        if end >= start {
            events.push(body[start..end + 2].to_vec());
            start = end + 2;
        }
    }
    if start < body.len() {
        events.push(body[start..].to_vec());
    }
    events
}

/// What a metering proxy keeps per stream: events, content bytes, tokens.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
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

fn drain(stream: &mut ChunkStream, meter: &mut Meter) {
    while let Some(outcome) = stream.next_outcome() {
        let Ok(Outcome::Event { payload, .. }) = outcome else {
            continue;
        };
        meter.events += 1;
        if let Payload::Chunk(chunk) = payload {
            meter.tokens += chunk.usage().map_or(0, |u| u.total_tokens);
            for choice in chunk.choices() {
                meter.content += choice.content().map_or(0, |c| c.len() as u64);
            }
        }
    }
}

/// Gives every stream whose next event is below `stop(i)` that event, in stream order; false
/// when no stream had one.
fn round(
    streams: &mut [ChunkStream],
    meters: &mut [Meter],
    next: &mut [usize],
    recorded: &[Vec<Vec<u8>>],
    stop: impl Fn(usize) -> usize,
) -> bool {
    let mut any = false;
    for (i, stream) in streams.iter_mut().enumerate() {
        let events = &recorded[i % recorded.len()];
        if next[i] < stop(i).min(events.len()) {
            stream.feed(&events[next[i]]);
            drain(stream, &mut meters[i]);
            next[i] += 1;
            any = true;
        }
    }
    any
}

fn live() -> i64 {
    LIVE.load(Ordering::Relaxed)
}

fn per_stream_text(retained: i64, rss_before: Option<u64>) -> String {
    format!(
        "{} bytes per stream ({} bytes in all); RSS {} ({} KiB per stream over the RSS before \
         the streams)",
        retained / STREAMS as i64,
        retained,
        rss_text(),
        match (rss_before, rss_kib()) {
            (Some(a), Some(b)) => format!("{:.1}", b.saturating_sub(a) as f64 / STREAMS as f64),
            _ => "unknown".to_owned(),
        }
    )
}

#[test]
fn ten_thousand_live_streams_stay_within_16_kib_each() {
    let recorded = recorded();
    // What one stream meters over the same bytes, stream after stream.
    let mut want = Meter::default();
    let mut one = ChunkStream::new();
    for i in 0..STREAMS {
        for event in &recorded[i % recorded.len()] {
            one.feed(event);
            drain(&mut one, &mut want);
        }
    }
    drop(one);

    let mut meters = vec![Meter::default(); STREAMS];
    let (rss_before, live_before) = (rss_kib(), live());
    let mut streams: Vec<ChunkStream> = (0..STREAMS).map(|_| ChunkStream::new()).collect();
    let half = |i: usize| recorded[i % recorded.len()].len() / 2;
    let mut next = vec![0; STREAMS];
    while round(&mut streams, &mut meters, &mut next, &recorded, half) {}
    let retained = live() - live_before;
    eprintln!(
        "gateway: {STREAMS} streams halfway through the {} recorded streams, between events, \
         default settings: {}; the stream value itself is {} bytes",
        recorded.len(),
        per_stream_text(retained, rss_before),
        std::mem::size_of::<ChunkStream>(),
    );
    assert!(
        retained as usize <= BUDGET * STREAMS,
        "{retained} bytes for {STREAMS} streams, budget {BUDGET} each"
    );

    // Every other stream receives the first half of its next event; then every stream is
    // released: it keeps only the bytes in progress.
    let mut partial = 0;
    for (i, stream) in streams.iter_mut().enumerate() {
        let events = &recorded[i % recorded.len()];
        if i % 2 == 1 && next[i] < events.len() {
            let event = &events[next[i]];
            stream.feed(&event[..event.len() / 2]);
            drain(stream, &mut meters[i]);
            partial += event.len() / 2;
        }
    }
    let live_before_release = live();
    for stream in &mut streams {
        stream.release();
    }
    let released = live() - live_before;
    eprintln!(
        "gateway: the same streams after ChunkStream::release ({partial} bytes of events in \
         progress kept): {} (the allocator may keep freed pages)",
        per_stream_text(released, rss_before),
    );
    assert!(released < live_before_release - live_before);
    assert!(
        released as usize <= 2 * 1024 * STREAMS,
        "{released} bytes for {STREAMS} released streams"
    );
    for (i, stream) in streams.iter_mut().enumerate() {
        let events = &recorded[i % recorded.len()];
        if i % 2 == 1 && next[i] < events.len() {
            let event = &events[next[i]];
            stream.feed(&event[event.len() / 2..]);
            next[i] += 1;
        }
        drain(stream, &mut meters[i]);
    }

    // The rest of every stream: the figures are those of one stream over the same bytes.
    let all = |_: usize| usize::MAX;
    while round(&mut streams, &mut meters, &mut next, &recorded, all) {}
    let mut got = Meter::default();
    for meter in &meters {
        got.add(*meter);
    }
    assert_eq!(
        got, want,
        "interleaved streams meter what one stream meters"
    );
}
