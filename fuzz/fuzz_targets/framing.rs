//! The framing layer: any bytes, cut anywhere and handed over every way, give the frames of the
//! whole input in one read, and those of the slow reference parser of the WHATWG rules.
//!
//! The input is the stream itself; the read sizes, feed paths, the comments setting and a small
//! size limit are derived from a hash of it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssechunk::{Config, Parser};

mod common;
#[path = "../../tests/common/owned.rs"]
mod owned;
#[path = "../../tests/common/reference.rs"]
mod reference;

use common::{Feed, Rng, feed_piece, hash, reads};
use owned::owned;
use reference::{OwnedFrame, Parsed};

/// Pulls every frame the parser has ready, checking what must hold of each.
fn drain(parser: &mut Parser, frames: &mut Vec<OwnedFrame>, rng: &mut Option<Rng>) {
    let limit = parser.config().get_max_event_bytes();
    loop {
        // `ready` announces exactly what `next_frame` then returns.
        let ready = rng
            .as_mut()
            .is_some_and(|r| r.below(4) == 0)
            .then(|| parser.ready());
        let Some(frame) = parser.next_frame() else {
            assert_ne!(ready, Some(true), "ready() but no frame");
            break;
        };
        assert_ne!(ready, Some(false), "a frame after !ready()");
        frames.push(owned(frame, limit));
    }
    // After a drain the parser holds no more than the limit (or the start of a BOM).
    assert!(
        parser.buffered() <= limit.max(2),
        "{} bytes held",
        parser.buffered()
    );
}

/// Feeds `input` in reads ending at `ends`. With an `rng`, each read goes through a random
/// feed path, `ready` is called at random, and draining is sometimes put off to a later read.
fn run(config: &Config, input: &[u8], ends: &[usize], mut rng: Option<Rng>) -> Parsed {
    let mut parser = Parser::with_config(config.clone());
    let mut frames = Vec::new();
    let mut start = 0;
    for &end in ends {
        let feed = rng.as_mut().map_or(Feed::Slice, Feed::random);
        feed_piece(&mut parser, &input[start..end], feed);
        if rng.as_mut().is_none_or(|r| r.below(4) != 0) {
            drain(&mut parser, &mut frames, &mut rng);
        }
        start = end;
    }
    parser.finish();
    drain(&mut parser, &mut frames, &mut rng);
    assert!(
        parser.next_frame().is_none(),
        "a finished parser stays finished"
    );
    Parsed {
        frames,
        last_id: parser.last_event_id().to_vec(),
        retry: parser.retry(),
    }
}

/// Whole, one byte at a time (short inputs) and in random reads: all must agree. Returns the
/// whole run.
fn check_splits(config: &Config, input: &[u8], rng: &mut Rng) -> Parsed {
    let len = input.len();
    let whole = run(config, input, &[len], None);
    let show = || input.escape_ascii().to_string();
    if len <= 1024 {
        let bytewise: Vec<usize> = (1..=len).collect();
        assert_eq!(
            run(config, input, &bytewise, None),
            whole,
            "bytewise; {:?}",
            show()
        );
    }
    for _ in 0..2 {
        let seed = rng.next_u64();
        let ends = reads(&mut Rng::new(seed), len);
        let split = run(config, input, &ends, Some(Rng::new(!seed)));
        assert_eq!(
            split,
            whole,
            "reads ending at {ends:?}, rng seed {seed}; {:?}",
            show()
        );
    }
    whole
}

fuzz_target!(|input: &[u8]| {
    let mut rng = Rng::new(hash(input));
    let comments = rng.below(2) == 0;
    let ignored = rng.below(2) == 0;

    // The default limit, which no fuzz input reaches: the reference must agree.
    let config = Config::new().comments(comments).ignored_lines(ignored);
    let whole = check_splits(&config, input, &mut rng);
    let want = reference::parse_with(input, comments, ignored);
    assert_eq!(
        whole,
        want,
        "parser vs reference; {:?}",
        input.escape_ascii().to_string()
    );

    // A small limit: the oversize path. Without an oversized event nothing may change.
    let limit = if rng.below(2) == 0 {
        1 + rng.below(64)
    } else {
        64 + rng.below(4033)
    };
    let small = check_splits(&config.clone().max_event_bytes(limit), input, &mut rng);
    if !small.frames.contains(&OwnedFrame::TooLarge) {
        assert_eq!(small, want, "limit {limit} changed the frames");
    }
});
