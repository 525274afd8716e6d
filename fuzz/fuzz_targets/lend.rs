//! The lending path: `Parser::frames` gives, frame for frame and in the state it leaves
//! behind, what `Parser::feed` then `next_frame` give, for any bytes cut anywhere.
//!
//! The input is the stream itself; the reads, the settings (comments, ignored lines, a small
//! size limit), how many frames are pulled before a `Frames` is dropped, and which reads go
//! through `feed` unpulled instead, are derived from a hash of it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssechunk::{Config, Parser};

mod common;
#[path = "../../tests/common/owned.rs"]
mod owned;
#[path = "../../tests/common/reference.rs"]
mod reference;

use common::{Rng, hash, reads};
use owned::owned;
use reference::{OwnedFrame, Parsed};

fn drain(parser: &mut Parser, frames: &mut Vec<OwnedFrame>) {
    let limit = parser.config().get_max_event_bytes();
    while let Some(frame) = parser.next_frame() {
        frames.push(owned(frame, limit));
    }
}

/// The copying path: `feed` per read, every frame pulled after each.
fn copying(config: &Config, input: &[u8], ends: &[usize]) -> Parsed {
    let mut parser = Parser::with_config(config.clone());
    let mut frames = Vec::new();
    let mut start = 0;
    for &end in ends {
        parser.feed(&input[start..end]);
        drain(&mut parser, &mut frames);
        start = end;
    }
    parser.finish();
    drain(&mut parser, &mut frames);
    Parsed {
        frames,
        last_id: parser.last_event_id().to_vec(),
        retry: parser.retry(),
    }
}

/// The lending path: `frames` per read. With an `rng`, a `Frames` is sometimes dropped after
/// a few frames (the rest then comes out of `next_frame`, sometimes only after later reads),
/// and some reads go through `feed` and are not pulled before the next `frames`.
fn lending(config: &Config, input: &[u8], ends: &[usize], mut rng: Option<Rng>) -> Parsed {
    let mut parser = Parser::with_config(config.clone());
    let limit = config.get_max_event_bytes();
    let mut frames = Vec::new();
    let mut start = 0;
    for &end in ends {
        let read = &input[start..end];
        start = end;
        let pick = rng.as_mut().map_or(0, |r| r.below(8));
        if pick == 7 {
            parser.feed(read);
            continue;
        }
        let pulls = if pick == 6 {
            rng.as_mut().map_or(0, |r| r.below(3))
        } else {
            usize::MAX
        };
        let mut lent = parser.frames(read);
        for _ in 0..pulls {
            let Some(frame) = lent.next_frame() else {
                break;
            };
            frames.push(owned(frame, limit));
        }
        drop(lent);
        if pulls != usize::MAX && rng.as_mut().is_some_and(|r| r.below(2) == 0) {
            drain(&mut parser, &mut frames);
        }
    }
    parser.finish();
    drain(&mut parser, &mut frames);
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

fn check(config: &Config, input: &[u8], rng: &mut Rng) {
    let len = input.len();
    let whole = copying(config, input, &[len]);
    let show = || input.escape_ascii().to_string();
    assert_eq!(
        lending(config, input, &[len], None),
        whole,
        "one read; {:?}",
        show()
    );
    if len <= 1024 {
        let bytewise: Vec<usize> = (1..=len).collect();
        assert_eq!(
            lending(config, input, &bytewise, None),
            whole,
            "bytewise; {:?}",
            show()
        );
    }
    for _ in 0..3 {
        let seed = rng.next_u64();
        let ends = reads(&mut Rng::new(seed), len);
        assert_eq!(
            copying(config, input, &ends),
            whole,
            "feed, reads ending at {ends:?}"
        );
        assert_eq!(
            lending(config, input, &ends, None),
            whole,
            "frames, reads ending at {ends:?}; {:?}",
            show()
        );
        assert_eq!(
            lending(config, input, &ends, Some(Rng::new(!seed))),
            whole,
            "frames, reads ending at {ends:?}, rng seed {seed}; {:?}",
            show()
        );
    }
}

fuzz_target!(|input: &[u8]| {
    let mut rng = Rng::new(hash(input));
    let config = Config::new()
        .comments(rng.below(2) == 0)
        .ignored_lines(rng.below(2) == 0);
    check(&config, input, &mut rng);
    let limit = if rng.below(2) == 0 {
        1 + rng.below(64)
    } else {
        64 + rng.below(4033)
    };
    check(&config.max_event_bytes(limit), input, &mut rng);
});
