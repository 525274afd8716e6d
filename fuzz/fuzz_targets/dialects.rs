//! The dialect decoders (Anthropic Messages, the Responses API, Gemini) and their detection:
//! any bytes, as a stream of each dialect fixed and of the dialect detected, decode without
//! panicking, and any split of the input gives the outcomes and the message of the whole
//! input in one read; and each event decodes to the same payload on the flat scanner (with
//! simd-json when it declines) as on simd-json alone, and a stream's events (which it may
//! frame and decode in one pass when they repeat the last one) are the parser's, decoded by
//! `decode_event`. Seeded with the recorded streams of every dialect.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssechunk::{Accumulator, ChunkDecoder, ChunkStream, Config, Dialect, Frame, Outcome, Parser};

mod common;

use common::{Feed, Rng, feed_piece, hash, reads};

/// Every outcome as its `Debug` text, and the assembled message as its JSON.
#[derive(Debug, PartialEq)]
struct Run {
    outcomes: Vec<String>,
    message: serde_json::Value,
}

fn drain(stream: &mut ChunkStream, outcomes: &mut Vec<String>, message: &mut Accumulator) {
    while let Some(outcome) = stream.next_outcome() {
        outcomes.push(match outcome {
            Ok(outcome) => {
                message.push_outcome(&outcome);
                if let Outcome::Event { event, payload } = &outcome {
                    format!("event {event:?} {payload:?}")
                } else {
                    format!("{outcome:?}")
                }
            }
            Err(e) => format!("Err({e})"),
        });
    }
}

fn run(config: &Config, input: &[u8], ends: &[usize], mut rng: Option<Rng>) -> Run {
    let mut stream = ChunkStream::with_config(config.clone());
    let (mut outcomes, mut message) = (Vec::new(), Accumulator::new());
    let mut start = 0;
    for &end in ends {
        let feed = rng.as_mut().map_or(Feed::Slice, Feed::random);
        feed_piece(&mut stream, &input[start..end], feed);
        drain(&mut stream, &mut outcomes, &mut message);
        start = end;
    }
    stream.finish();
    drain(&mut stream, &mut outcomes, &mut message);
    let message = serde_json::to_value(message.message()).expect("a message serialises");
    Run { outcomes, message }
}

/// Decodes every event of `input` with two decoders, one as `decode_event` does (the flat
/// scanner first) and one with simd-json alone: the payloads must be the same. Returns each
/// event with its payload, as `drain` writes them.
fn both_paths(dialect: Option<Dialect>, input: &[u8]) -> Vec<String> {
    let mut events = Vec::new();
    let mut parser = Parser::new();
    parser.feed(input);
    parser.finish();
    let mut flat = ChunkDecoder::with_dialect(dialect);
    let mut simd = ChunkDecoder::with_dialect(dialect);
    while let Some(frame) = parser.next_frame() {
        let Ok(Frame::Event(event)) = frame else {
            continue;
        };
        let (payload, _) = flat.decode_event_traced(event.event_type(), event.data());
        let got = format!("{payload:?}");
        events.push(format!("event {event:?} {got}"));
        drop(payload);
        let want = format!(
            "{:?}",
            simd.decode_event_with_simd_json(event.event_type(), event.data())
        );
        assert_eq!(
            got,
            want,
            "{dialect:?}: {:?}",
            event.data().escape_ascii().to_string()
        );
    }
    events
}

fuzz_target!(|input: &[u8]| {
    let mut rng = Rng::new(hash(input));
    let dialect = [
        None,
        Some(Dialect::Anthropic),
        Some(Dialect::Responses),
        Some(Dialect::Gemini),
    ][rng.below(4)];
    let config = Config::new().dialect(dialect);
    let events = both_paths(dialect, input);
    let len = input.len();
    let whole = run(&config, input, &[len], None);
    let streamed: Vec<&String> = whole
        .outcomes
        .iter()
        .filter(|o| o.starts_with("event "))
        .collect();
    assert_eq!(
        streamed,
        events.iter().collect::<Vec<_>>(),
        "{dialect:?}: {:?}",
        input.escape_ascii().to_string()
    );
    let seed = rng.next_u64();
    let ends = reads(&mut Rng::new(seed), len);
    let split = run(&config, input, &ends, Some(Rng::new(!seed)));
    assert_eq!(
        split,
        whole,
        "{dialect:?}, reads ending at {ends:?}; {:?}",
        input.escape_ascii().to_string()
    );
});
