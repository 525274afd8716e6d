//! Helpers shared by the integration tests: running the parser over split input, a seeded RNG
//! for split points (`rng.rs`), the seed cassettes (`fixtures.rs`), and the locator of the
//! recorded corpus (`corpus.rs`).
//!
//! Every test file compiles this module on its own and uses a different part of it.
#![allow(dead_code)]

pub mod corpus;
pub mod fixtures;
pub mod owned;
pub mod reference;
pub mod rng;

use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use ssechunk::{Config, PADDING, Parser};

pub use corpus::{corpus_dir, corpus_files};
pub use owned::owned;
pub use reference::{OwnedFrame, Parsed};
pub use rng::Rng;

/// The ways bytes can enter a [`Parser`]; all of them must frame alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// `feed(&[u8])`, which copies.
    Slice,
    /// `spare` + `commit`, as a reader filling the parser's buffer does.
    Spare,
    /// `feed_bytes_mut` with room for the padding, so the allocation can be adopted.
    BytesMut,
    /// `feed_bytes_mut` without spare room, which must fall back to copying.
    BytesMutTight,
    /// `feed_bytes` of the only handle to its buffer.
    BytesUnique,
    /// `feed_bytes` while another handle is alive, which must copy.
    BytesShared,
    /// `spare` + `commit`, pulling frames only after `ready` says one is there, as the reader
    /// adapters do.
    Ready,
    /// `feed(&[u8])`, pulling frames only after every third read, so that several reads'
    /// worth of frames wait in the buffer.
    Lazy,
    /// `frames(&[u8])`, every frame pulled from it: events lent out of the read.
    Lend,
    /// `frames(&[u8])`, one frame pulled, then dropped: the rest of the read goes to the
    /// buffer and comes out of `next_frame`.
    LendOne,
    /// Odd reads through `feed(&[u8])` and not pulled, even ones through `frames`, which
    /// must first return the frames waiting in the buffer.
    LendMixed,
}

pub const FEEDS: [Feed; 11] = [
    Feed::Slice,
    Feed::Spare,
    Feed::BytesMut,
    Feed::BytesMutTight,
    Feed::BytesUnique,
    Feed::BytesShared,
    Feed::Ready,
    Feed::Lazy,
    Feed::Lend,
    Feed::LendOne,
    Feed::LendMixed,
];

/// Pulls every frame the parser has ready.
pub fn drain(parser: &mut Parser, frames: &mut Vec<OwnedFrame>) {
    let limit = parser.config().get_max_event_bytes();
    while let Some(frame) = parser.next_frame() {
        frames.push(owned(frame, limit));
    }
}

/// Pulls every frame the parser has ready, asking [`Parser::ready`] first each time.
pub fn drain_when_ready(parser: &mut Parser, frames: &mut Vec<OwnedFrame>) {
    let limit = parser.config().get_max_event_bytes();
    while parser.ready() {
        assert!(parser.ready(), "asking twice changes nothing");
        let frame = parser.next_frame().expect("ready promised a frame");
        frames.push(owned(frame, limit));
    }
    assert!(parser.next_frame().is_none(), "not ready means no frame");
}

/// Pulls frames the way `feed` goes with.
fn pull(parser: &mut Parser, frames: &mut Vec<OwnedFrame>, feed: Feed) {
    if feed == Feed::Ready {
        drain_when_ready(parser, frames);
    } else {
        drain(parser, frames);
    }
}

/// Pulls frames out of `parser.frames(piece)`: all of them, or at most `limit`, after which
/// the `Frames` is dropped with the rest of the read unread.
pub fn lend(parser: &mut Parser, piece: &[u8], frames: &mut Vec<OwnedFrame>, limit: usize) {
    let max = parser.config().get_max_event_bytes();
    let mut lent = parser.frames(piece);
    for _ in 0..limit {
        let Some(frame) = lent.next_frame() else {
            break;
        };
        frames.push(owned(frame, max));
    }
}

/// Hands one piece of input to the parser the way `feed` says and pulls the frames it
/// completes (the `i`th piece of the stream, for the paths that alternate).
pub fn feed_and_drain(
    parser: &mut Parser,
    piece: &[u8],
    feed: Feed,
    i: usize,
    frames: &mut Vec<OwnedFrame>,
) {
    match feed {
        Feed::Lend => lend(parser, piece, frames, usize::MAX),
        Feed::LendOne => {
            lend(parser, piece, frames, 1);
            drain(parser, frames);
        }
        Feed::LendMixed if i % 2 == 1 => parser.feed(piece),
        Feed::LendMixed => lend(parser, piece, frames, usize::MAX),
        _ => {
            feed_piece(parser, piece, feed);
            pull(parser, frames, feed);
        }
    }
}

/// Hands one piece of input to the parser the way `feed` says. The lending paths lend no frame
/// here: their `Frames` is dropped at once, which hands the whole read to the buffer.
pub fn feed_piece(parser: &mut Parser, piece: &[u8], feed: Feed) {
    match feed {
        Feed::Slice | Feed::Lazy => parser.feed(piece),
        Feed::Lend | Feed::LendOne | Feed::LendMixed => drop(parser.frames(piece)),
        Feed::Spare | Feed::Ready => {
            let room = parser.spare(piece.len());
            assert!(room.len() >= piece.len());
            room[..piece.len()].copy_from_slice(piece);
            parser.commit(piece.len());
        }
        Feed::BytesMut => {
            let mut buf = BytesMut::with_capacity(piece.len() + PADDING);
            buf.extend_from_slice(piece);
            parser.feed_bytes_mut(buf);
        }
        Feed::BytesMutTight => parser.feed_bytes_mut(BytesMut::from(piece)),
        Feed::BytesUnique => {
            let mut vec = Vec::with_capacity(piece.len() + PADDING);
            vec.extend_from_slice(piece);
            parser.feed_bytes(Bytes::from(vec));
        }
        Feed::BytesShared => {
            let bytes = Bytes::copy_from_slice(piece);
            let other = bytes.clone();
            parser.feed_bytes(bytes);
            assert_eq!(other, piece);
        }
    }
}

/// Runs a whole stream through a parser, cut before each offset in `splits` (ascending; a
/// repeated offset feeds an empty piece), draining after every piece as a client would (but
/// see [`Feed::Lazy`]).
///
/// It also checks what must hold at every step: after a drain, the parser holds no more than
/// the limit (or the start of a BOM), and after the end it stays ended.
pub fn run_with(config: &Config, input: &[u8], splits: &[usize], feed: Feed) -> Parsed {
    let mut parser = Parser::with_config(config.clone());
    let bound = config.get_max_event_bytes().max(2);
    let mut frames = Vec::new();
    let mut start = 0;
    for (i, &cut) in splits.iter().chain([input.len()].iter()).enumerate() {
        assert!(
            (start..=input.len()).contains(&cut),
            "split points must ascend"
        );
        let piece = &input[start..cut];
        start = cut;
        if feed == Feed::Lazy && i % 3 != 2 || feed == Feed::LendMixed && i % 2 == 1 {
            feed_piece(&mut parser, piece, Feed::Slice);
            continue;
        }
        feed_and_drain(&mut parser, piece, feed, i, &mut frames);
        assert!(
            parser.buffered() <= bound,
            "{} bytes held after a drain, limit {}",
            parser.buffered(),
            bound
        );
    }
    parser.finish();
    pull(&mut parser, &mut frames, feed);
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

/// [`run_with`] through `feed(&[u8])`.
pub fn run(config: &Config, input: &[u8], splits: &[usize]) -> Parsed {
    run_with(config, input, splits, Feed::Slice)
}

/// The whole input in one read.
pub fn run_whole(config: &Config, input: &[u8]) -> Parsed {
    run(config, input, &[])
}

/// One byte per read.
pub fn run_bytewise(config: &Config, input: &[u8]) -> Parsed {
    let splits: Vec<usize> = (1..input.len()).collect();
    run(config, input, &splits)
}

/// Parses `input` whole, then checks that `rounds` random split sets, each through a random
/// feed path, give the same; byte-at-a-time reads too when `bytewise`. Returns the whole run.
pub fn check_splits(
    config: &Config,
    input: &[u8],
    rng: &mut Rng,
    rounds: usize,
    bytewise: bool,
) -> Parsed {
    let whole = run_whole(config, input);
    if bytewise {
        assert_eq!(
            run_bytewise(config, input),
            whole,
            "byte-at-a-time differs from whole; input {:?}",
            input.escape_ascii().to_string()
        );
    }
    for _ in 0..rounds {
        let splits = if rng.below(2) == 0 {
            rng.cuts(input.len(), 8)
        } else {
            rng.reads(input.len(), 64)
        };
        let feed = FEEDS[rng.below(FEEDS.len())];
        assert_eq!(
            run_with(config, input, &splits, feed),
            whole,
            "split at {splits:?} through {feed:?} differs from whole; input {:?}",
            input.escape_ascii().to_string()
        );
    }
    whole
}

/// Writes a line to the real stderr, which the test harness does not capture (it captures only
/// `eprintln!`), so that a skip or a count shows in a plain `cargo test` run.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Every recorded stream: the 261 SSE bodies and the 10 AWS event-stream bodies, which are not
/// SSE but are still bytes a parser may be handed.
pub fn corpus_streams() -> Option<Vec<PathBuf>> {
    let mut files = corpus_files("sse")?;
    files.extend(corpus_files("awseventstream.bin")?);
    files.sort();
    Some(files)
}

/// The OpenAI Chat Completions streams of the corpus (152 files).
pub fn chat_completion_streams() -> Option<Vec<PathBuf>> {
    let files = corpus_files("sse")?;
    Some(
        files
            .into_iter()
            .filter(|path| {
                let body = std::fs::read(path).expect("corpus file");
                body.windows(b"\"chat.completion.chunk\"".len())
                    .any(|w| w == b"\"chat.completion.chunk\"")
            })
            .collect(),
    )
}

/// A corpus path as shown in messages: relative to the corpus.
pub fn corpus_name(path: &Path) -> String {
    match corpus_dir().and_then(|d| path.strip_prefix(d).ok().map(Path::to_path_buf)) {
        Some(rel) => rel.display().to_string(),
        None => path.display().to_string(),
    }
}
