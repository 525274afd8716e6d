//! `ssechunk bench`: a built-in throughput check on a generated stream, no input needed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ssechunk::{ChunkStream, Frame, Outcome, Parser, Payload};

/// Counts allocations so that `bench` can report them per event.
pub struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` unchanged; the counter has no effect on memory.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// A stream shaped like real chat-completion traffic: ~290-byte chunks with ASCII and
/// non-ASCII content, escapes, reasoning, tool-call fragments, a usage chunk and `[DONE]`.
pub fn generate(target_bytes: usize) -> Vec<u8> {
    const WORDS: [&str; 8] = [
        "Hello",
        " world",
        "! Ol\\u00e1",
        ", \\\"quoted\\\"",
        "\\n",
        " caf\u{e9}",
        " \u{1f600}",
        " the",
    ];
    let mut out = String::with_capacity(target_bytes + 1024);
    let mut n = 0usize;
    while out.len() < target_bytes {
        let _ = write!(
            out,
            "data: {{\"id\":\"chatcmpl-{:08x}\",\"object\":\"chat.completion.chunk\",\"created\":1758884734,\
             \"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_bbc23ca3d7\",\"choices\":[{{\"index\":0,\"delta\":",
            n / 64
        );
        match n % 16 {
            0 => out.push_str("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}"),
            5 => out.push_str("{\"reasoning_content\":\"Let me think.\"}"),
            9 => {
                let _ = write!(
                    out,
                    "{{\"tool_calls\":[{{\"index\":0,\"id\":\"call_{n}\",\"type\":\"function\",\"function\":{{\"name\":\"add\",\"arguments\":\"{{\\\"a\\\": 2\"}}}}]}}"
                );
            }
            _ => {
                let _ = write!(out, "{{\"content\":\"{}\"}}", WORDS[n % WORDS.len()]);
            }
        }
        let _ = writeln!(
            out,
            ",\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null,\"obfuscation\":\"yS7A7F\"}}\n"
        );
        n += 1;
    }
    out.push_str("data: {\"id\":\"chatcmpl-end\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    out.push_str("data: {\"id\":\"chatcmpl-end\",\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":3,\"total_tokens\":23}}\n\n");
    out.push_str("data: [DONE]\n\n");
    out.into_bytes()
}

/// Counts of one pass, which every pass must repeat exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Counts {
    events: u64,
    content_bytes: u64,
    not_chunks: u64,
}

fn frame_only(parser: &mut Parser, input: &[u8], read: usize) -> Counts {
    let mut c = Counts::default();
    for piece in input.chunks(read) {
        parser.feed(piece);
        while let Some(frame) = parser.next_frame() {
            if let Ok(Frame::Event(e)) = frame {
                c.events += 1;
                c.content_bytes += e.data().len() as u64;
            }
        }
    }
    c
}

fn decode_all(stream: &mut ChunkStream, input: &[u8], read: usize) -> Counts {
    let mut c = Counts::default();
    for piece in input.chunks(read) {
        stream.feed(piece);
        while let Some(outcome) = stream.next_outcome() {
            if let Ok(Outcome::Event { payload, .. }) = outcome {
                c.events += 1;
                if !matches!(payload, Payload::Chunk(_) | Payload::Done) {
                    c.not_chunks += 1;
                }
                if let Payload::Chunk(chunk) = payload {
                    for choice in chunk.choices() {
                        c.content_bytes += choice.content().map_or(0, |s| s.len() as u64);
                        c.content_bytes += choice.reasoning().map_or(0, |s| s.len() as u64);
                        for call in choice.tool_calls() {
                            c.content_bytes += call.arguments().map_or(0, |s| s.len() as u64);
                        }
                        c.content_bytes += choice.finish_reason().map_or(0, |s| s.len() as u64);
                    }
                    c.content_bytes += chunk.usage().map_or(0, |u| u.total_tokens);
                }
            }
        }
    }
    c
}

/// Runs `pass` `rounds` times; returns the median seconds, the counts (checked equal on every
/// round) and the allocations of the rounds after the first.
fn measure(rounds: usize, mut pass: impl FnMut() -> Counts) -> (f64, Counts, u64) {
    let first = pass();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let counts = pass();
        times.push(start.elapsed().as_secs_f64());
        assert_eq!(counts, first, "a pass counted differently");
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], first, allocations)
}

pub fn run(mut out: impl Write) -> io::Result<()> {
    const READ: usize = 64 * 1024;
    const ROUNDS: usize = 9;
    let input = generate(16 * 1024 * 1024);
    let mb = input.len() as f64 / 1e6;
    writeln!(
        out,
        "generated stream: {:.1} MB; {READ}-byte reads; median of {ROUNDS} passes after a warm-up",
        mb
    )?;
    let mut parser = Parser::new();
    let (secs, counts, allocs) = measure(ROUNDS, || frame_only(&mut parser, &input, READ));
    let events = counts.events as f64;
    writeln!(
        out,
        "framing only: {:>8.0} MB/s {:>12.0} events/s  {:.4} allocations/event  ({} events)",
        mb / secs,
        events / secs,
        allocs as f64 / (events * ROUNDS as f64),
        counts.events
    )?;
    let mut stream = ChunkStream::new();
    let (secs, counts, allocs) = measure(ROUNDS, || decode_all(&mut stream, &input, READ));
    assert_eq!(
        counts.not_chunks, 0,
        "the generated stream must decode cleanly"
    );
    writeln!(
        out,
        "full decode:  {:>8.0} MB/s {:>12.0} events/s  {:.4} allocations/event  ({} events)",
        mb / secs,
        counts.events as f64 / secs,
        allocs as f64 / (counts.events as f64 * ROUNDS as f64),
        counts.events
    )?;
    Ok(())
}
