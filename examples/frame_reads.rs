//! Frames a file already in memory, cut into reads, three ways, for an instruction count that
//! does not move with the machine's load:
//!
//! ```text
//! cargo build --release --example frame_reads
//! valgrind --tool=callgrind target/release/examples/frame_reads feed traffic.sse 65536
//! valgrind --tool=callgrind target/release/examples/frame_reads lend traffic.sse 65536
//! valgrind --tool=callgrind target/release/examples/frame_reads memchr2 traffic.sse 65536
//! ```
//!
//! - `feed`: `Parser::feed` per read (the read copied into the parser's buffer), then
//!   `next_frame` until `None`;
//! - `lend`: `Parser::frames` per read, the events inside a read lent out of it;
//! - `memchr2`: the benchmark's limit, a bare `memchr2(b'\r', b'\n')` pass counting line ends.
//!
//! The file is read whole before the count starts to matter (compare the modes' totals: the
//! read and the process start are the same in all three). It prints the events and data bytes
//! framed (line ends for `memchr2`), so that the modes can be checked to agree.

use ssechunk::{Frame, Parser};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(mode), Some(path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: frame_reads feed|lend|memchr2 FILE [READ_SIZE]");
        std::process::exit(2);
    };
    let read = args
        .get(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(64 * 1024);
    let bytes = std::fs::read(path)?;
    let (mut events, mut data_bytes) = (0u64, 0u64);
    let mut count = |frame: Frame<'_>| {
        if let Frame::Event(event) = frame {
            events += 1;
            data_bytes += event.data().len() as u64;
        }
    };
    let mut parser = Parser::new();
    match mode.as_str() {
        "feed" => {
            for piece in bytes.chunks(read) {
                parser.feed(piece);
                while let Some(frame) = parser.next_frame() {
                    count(frame.expect("no event is over the limit"));
                }
            }
        }
        "lend" => {
            for piece in bytes.chunks(read) {
                let mut frames = parser.frames(piece);
                while let Some(frame) = frames.next_frame() {
                    count(frame.expect("no event is over the limit"));
                }
            }
        }
        "memchr2" => {
            let lines: usize = bytes
                .chunks(read)
                .map(|piece| memchr::memchr2_iter(b'\r', b'\n', piece).count())
                .sum();
            println!("{{\"line_ends\":{lines}}}");
            return Ok(());
        }
        _ => {
            eprintln!("unknown mode {mode}: feed, lend or memchr2");
            std::process::exit(2);
        }
    }
    parser.finish();
    while let Some(frame) = parser.next_frame() {
        count(frame.expect("no event is over the limit"));
    }
    println!("{{\"events\":{events},\"data_bytes\":{data_bytes}}}");
    Ok(())
}
