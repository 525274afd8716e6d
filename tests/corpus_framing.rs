//! Every recorded stream of the shared corpus frames the same whole and cut into reads, and as
//! the reference parser says. Skipped, with a line on stderr, when the corpus is absent.

mod common;

use common::reference;
use common::{OwnedFrame, Rng, check_splits, corpus_name};
use ssechunk::Config;

/// Files up to this size are also fed one byte at a time (it is slow in debug builds).
const BYTEWISE_MAX: usize = 8 * 1024;

#[test]
fn corpus_frames_alike_however_read() {
    let Some(files) = common::corpus_streams() else {
        return;
    };
    assert_eq!(files.len(), 271, "recorded streams in the corpus");

    let (mut sse_files, mut events, mut incomplete, mut bytes) = (0, 0, 0, 0);
    for (i, path) in files.iter().enumerate() {
        let name = corpus_name(path);
        let input = std::fs::read(path).expect("corpus file");
        let is_sse = name.ends_with(".sse");
        let mut rng = Rng::new(i as u64);

        for config in [Config::new(), Config::new().comments(true)] {
            let whole = check_splits(&config, &input, &mut rng, 3, input.len() <= BYTEWISE_MAX);
            assert_eq!(
                whole,
                reference::parse(&input, config.get_comments()),
                "{name}: parser vs reference"
            );
            assert!(
                !whole.frames.contains(&OwnedFrame::TooLarge),
                "{name}: no recorded event is near the default limit"
            );
            if config.get_comments() {
                continue;
            }
            bytes += input.len();
            if is_sse {
                sse_files += 1;
                let n = whole.events().len();
                assert!(n > 0, "{name}: an SSE body with no event");
                events += n;
                incomplete += usize::from(whole.incomplete());
            }
        }
    }
    common::say(&format!(
        "corpus framing: {} files ({sse_files} SSE, {} not SSE), {bytes} bytes, \
         {events} events, {incomplete} streams ending inside an event",
        files.len(),
        files.len() - sse_files,
    ));
}

/// The Chat Completions streams, which the chunk layer is built on: every event but the last
/// is one JSON object, and `[DONE]`, where present, is last.
#[test]
fn chat_completion_streams_frame_into_chunks() {
    let Some(files) = common::chat_completion_streams() else {
        return;
    };
    assert_eq!(files.len(), 152, "Chat Completions streams in the corpus");
    let (mut chunks, mut done) = (0, 0);
    for path in &files {
        let name = corpus_name(path);
        let input = std::fs::read(path).expect("corpus file");
        let parsed = common::run_whole(&Config::new(), &input);
        let events = parsed.events();
        for (i, (event_type, data, _)) in events.iter().enumerate() {
            assert_eq!(*event_type, b"message", "{name}");
            if *data == b"[DONE]" {
                assert_eq!(i, events.len() - 1, "{name}: [DONE] is last");
                done += 1;
            } else {
                assert!(
                    data.starts_with(b"{") && data.ends_with(b"}"),
                    "{name}: event {i} is not one JSON object"
                );
                chunks += 1;
            }
        }
    }
    common::say(&format!(
        "corpus chat completions: {} files, {chunks} chunks, {done} ending in [DONE]",
        files.len()
    ));
}
