//! Framing, decoding and accumulation joined: any bytes, cut anywhere, give the outcomes and
//! the message of the whole input in one read; and the stream's reused decoder decodes each
//! event as a fresh decoder does; and the message is what the reference accumulator makes of
//! the same payloads.
//!
//! The input is the stream itself; the read sizes, feed paths and settings are derived from a
//! hash of it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssechunk::{Accumulator, ChunkDecoder, ChunkStream, Config, Dialect, Outcome};

#[path = "../../tests/common/chunk_reference.rs"]
mod chunk_reference;
mod common;

use chunk_reference::{
    RefAccumulator, RefError, RefPayload, from_accumulator, from_error, from_payload,
};
use common::{Feed, Rng, feed_piece, hash, reads};

/// What the accumulator is given, in order: event payloads and errors found outside events.
#[derive(Debug, PartialEq)]
enum Pushed {
    Payload(RefPayload),
    Error(RefError),
}

/// Every outcome (as its `Debug` text: payload kind and content) and the assembled message.
#[derive(Debug, PartialEq)]
struct Run {
    outcomes: Vec<String>,
    pushed: Vec<Pushed>,
    message: Accumulator,
}

fn drain(stream: &mut ChunkStream, run: &mut Run, check_decoder: bool) {
    while let Some(outcome) = stream.next_outcome() {
        let text = match outcome {
            Ok(Outcome::Event { event, payload }) => {
                run.message.push_payload(&payload);
                run.pushed.push(Pushed::Payload(from_payload(&payload)));
                let text = format!("{:?}", (event, &payload));
                if check_decoder {
                    let mut decoder = ChunkDecoder::with_dialect(Some(Dialect::Chat));
                    let fresh = decoder.decode_event(event.event_type(), event.data());
                    let fresh = format!("{:?}", (event, fresh));
                    assert_eq!(text, fresh, "the reused decoder differs from a fresh one");
                }
                text
            }
            Ok(Outcome::Error(e)) => {
                run.message.push_error(&e);
                run.pushed.push(Pushed::Error(from_error(&e)));
                format!("{e:?}")
            }
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("Err({e})"),
        };
        run.outcomes.push(text);
    }
}

/// Feeds `input` in reads ending at `ends`; with an `rng`, through random feed paths and
/// sometimes without draining between reads.
fn run(config: &Config, input: &[u8], ends: &[usize], mut rng: Option<Rng>) -> Run {
    let mut stream = ChunkStream::with_config(config.clone());
    let mut run = Run {
        outcomes: Vec::new(),
        pushed: Vec::new(),
        message: Accumulator::new(),
    };
    let whole = rng.is_none() && ends.len() == 1 && config.get_dialect() == Some(Dialect::Chat);
    let mut start = 0;
    for &end in ends {
        let feed = rng.as_mut().map_or(Feed::Slice, Feed::random);
        feed_piece(&mut stream, &input[start..end], feed);
        if rng.as_mut().is_none_or(|r| r.below(4) != 0) {
            drain(&mut stream, &mut run, whole);
        }
        start = end;
    }
    stream.finish();
    drain(&mut stream, &mut run, whole);
    run
}

fuzz_target!(|input: &[u8]| {
    let mut rng = Rng::new(hash(input));
    let mut config = Config::new().comments(rng.below(2) == 0);
    if rng.below(4) == 0 {
        config = config.max_event_bytes(64 + rng.below(4033));
    }
    let len = input.len();
    // Mostly Chat Completions fixed, where the stream's reused decoder must decode as a fresh
    // one does and the message must be the chat reference's; sometimes the dialect detected,
    // where any split must still give what the whole input gives.
    let chat = rng.below(4) != 0;
    if chat {
        config = config.dialect(Some(Dialect::Chat));
    }
    let whole = run(&config, input, &[len], None);
    let mut reference = RefAccumulator::new();
    for pushed in &whole.pushed {
        match pushed {
            Pushed::Payload(p) => reference.push(p),
            Pushed::Error(e) => reference.push_error(e),
        }
    }
    if chat {
        assert_eq!(
            from_accumulator(&whole.message),
            reference.message(),
            "accumulator vs reference"
        );
    }
    let show = || input.escape_ascii().to_string();
    if len <= 1024 {
        let bytewise: Vec<usize> = (1..=len).collect();
        assert_eq!(
            run(&config, input, &bytewise, None),
            whole,
            "bytewise; {:?}",
            show()
        );
    }
    for _ in 0..2 {
        let seed = rng.next_u64();
        let ends = reads(&mut Rng::new(seed), len);
        let split = run(&config, input, &ends, Some(Rng::new(!seed)));
        assert_eq!(
            split,
            whole,
            "reads ending at {ends:?}, rng seed {seed}; {:?}",
            show()
        );
    }
});
