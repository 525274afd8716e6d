//! The two seed cassettes (go-vcr v2 YAML) frame into the events they recorded, however the
//! body is cut into reads.

mod common;

use common::fixtures::{CASSETTES, cassette_body};
use common::reference;
use common::{FEEDS, OwnedFrame, Rng, check_splits, run, run_with};
use ssechunk::Config;

/// What the body says without a parser: events are separated by blank lines, each one line
/// of `data: `.
fn expected(body: &[u8]) -> Vec<OwnedFrame> {
    let text = std::str::from_utf8(body).expect("the seeds are UTF-8");
    assert!(text.ends_with("\n\n"), "the body ends with a blank line");
    text.split("\n\n")
        .filter(|part| !part.is_empty())
        .map(|part| {
            assert!(!part.contains('\n'), "one line per event: {part:?}");
            let data = part.strip_prefix("data: ").expect("a data line");
            OwnedFrame::Event {
                event_type: b"message".to_vec(),
                data: data.as_bytes().to_vec(),
                id: Vec::new(),
            }
        })
        .collect()
}

/// The body framed whole, cut in two at every offset (each cut through a different feed path
/// in turn), one byte at a time through every path, and at random reads.
fn check_seed(name: &str, events: usize) -> Vec<u8> {
    let body = cassette_body(name);
    let want = expected(&body);
    assert_eq!(want.len(), events, "{name}: events in the body");
    assert_eq!(
        want.last(),
        Some(&OwnedFrame::Event {
            event_type: b"message".to_vec(),
            data: b"[DONE]".to_vec(),
            id: Vec::new(),
        }),
        "{name}"
    );

    let config = Config::new();
    let whole = run(&config, &body, &[]);
    assert_eq!(whole.frames, want, "{name}: whole");
    assert_eq!(whole, reference::parse(&body, false), "{name}: reference");

    for cut in 0..=body.len() {
        let feed = FEEDS[cut % FEEDS.len()];
        assert_eq!(
            run_with(&config, &body, &[cut], feed),
            whole,
            "{name}: cut at {cut} through {feed:?}"
        );
    }
    let bytewise: Vec<usize> = (1..body.len()).collect();
    for feed in FEEDS {
        assert_eq!(
            run_with(&config, &body, &bytewise, feed),
            whole,
            "{name}: byte at a time through {feed:?}"
        );
    }
    check_splits(&config, &body, &mut Rng::new(events as u64), 64, false);
    body
}

#[test]
fn groq() {
    check_seed(CASSETTES[0], 6);
}

#[test]
fn huggingface() {
    let body = check_seed(CASSETTES[1], 7);

    // The one non-ASCII character, cut between its two bytes, comes out whole.
    let a = "á".as_bytes();
    let at = body
        .windows(a.len())
        .position(|w| w == a)
        .expect("the body holds an á");
    let parsed = run(&Config::new(), &body, &[at + 1]);
    let with_a: Vec<_> = parsed
        .events()
        .into_iter()
        .filter(|(_, data, _)| data.windows(a.len()).any(|w| w == a))
        .collect();
    assert_eq!(with_a.len(), 1);
    let text = std::str::from_utf8(with_a[0].1).expect("valid UTF-8 after the cut");
    assert!(text.contains(r#""delta":{"content":"á"}"#), "{text}");
}
