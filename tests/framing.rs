//! The framing layer against the WHATWG event stream rules: a table of spec cases, each fed
//! whole, one byte at a time, cut in two at every offset, at random split points and through
//! every feed path, and checked against both the expected frames and the reference parser;
//! then the size limit, the feed paths, reset and the public types.

mod common;

use common::reference;
use common::{FEEDS, OwnedFrame, Parsed, Rng, check_splits, run, run_bytewise, run_with};
use ssechunk::{Config, Error, Event, Frame, Incomplete, Parser};

/// An expected frame, written with byte strings so each case fits on one line.
#[derive(Debug, Clone, Copy)]
enum W {
    /// (type, data, id)
    E(&'static [u8], &'static [u8], &'static [u8]),
    C(&'static [u8]),
    /// (data so far, unterminated line)
    I(Option<&'static [u8]>, &'static [u8]),
}

use W::{C, E, I};

impl W {
    fn owned(self) -> OwnedFrame {
        match self {
            E(t, d, id) => OwnedFrame::Event {
                event_type: t.to_vec(),
                data: d.to_vec(),
                id: id.to_vec(),
            },
            C(text) => OwnedFrame::Comment(text.to_vec()),
            I(data, line) => OwnedFrame::Incomplete {
                data: data.map(<[u8]>::to_vec),
                line: line.to_vec(),
            },
        }
    }
}

const M: &[u8] = b"message";

type Case = (&'static str, &'static [u8], &'static [W]);

/// Default settings: comments are skipped.
#[rustfmt::skip]
const CASES: &[Case] = &[
    ("empty input", b"", &[]),
    ("one event", b"data: x\n\n", &[E(M, b"x", b"")]),
    ("two events", b"data: a\n\ndata: b\n\n", &[E(M, b"a", b""), E(M, b"b", b"")]),
    ("crlf", b"data: a\r\n\r\ndata: b\r\n\r\n", &[E(M, b"a", b""), E(M, b"b", b"")]),
    ("crlf with types", b"event: t\r\ndata: a\r\n\r\nevent: t\r\ndata: b\r\n\r\n", &[E(b"t", b"a", b""), E(b"t", b"b", b"")]),
    ("crlf and lf mixed per line", b"event: t\ndata: a\r\n\nevent: u\r\ndata: b\n\r\n", &[E(b"t", b"a", b""), E(b"u", b"b", b"")]),
    ("crlf then a lone cr blank line", b"data: a\r\n\rdata: b\r\n\r\n", &[E(M, b"a", b""), E(M, b"b", b"")]),
    ("cr only", b"event: e\rdata: a\rid: 1\r\rdata: b\r\r", &[E(b"e", b"a", b"1"), E(M, b"b", b"1")]),
    ("mixed line ends", b"data: a\r\ndata: b\rdata: c\n\r\n", &[E(M, b"a\nb\nc", b"")]),
    ("cr then crlf: two line ends", b"data: a\r\r\ndata: b\n\n", &[E(M, b"a", b""), E(M, b"b", b"")]),
    ("crlf then cr: blank line", b"data: a\r\n\rdata: b\n\n", &[E(M, b"a", b""), E(M, b"b", b"")]),
    ("lf cr is two line ends", b"data: a\n\rdata: b\n\n", &[E(M, b"a", b""), E(M, b"b", b"")]),
    ("lone cr ends the input", b"data: a\n\r", &[E(M, b"a", b"")]),
    ("cr ends the last line", b"data: a\r", &[I(Some(b"a"), b"")]),
    ("bom", b"\xEF\xBB\xBFdata: x\n\n", &[E(M, b"x", b"")]),
    ("bom alone", b"\xEF\xBB\xBF", &[]),
    ("second bom is part of the name", b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n", &[E(M, b"y", b"")]),
    ("bom after the start is part of the name", b"data: a\n\n\xEF\xBB\xBFdata: b\n\n", &[E(M, b"a", b"")]),
    ("bom in data is data", b"data: \xEF\xBB\xBFx\n\n", &[E(M, b"\xEF\xBB\xBFx", b"")]),
    ("half a bom is a line", b"\xEF\xBBdata: x\n\n", &[]),
    ("half a bom at the end", b"\xEF\xBB", &[I(None, b"\xEF\xBB")]),
    ("bom then crlf", b"\xEF\xBB\xBF\r\ndata: x\r\n\r\n", &[E(M, b"x", b"")]),
    ("u+2028 is not a line end", b"data: a\xE2\x80\xA8b\n\n", &[E(M, b"a\xE2\x80\xA8b", b"")]),
    ("u+2029 and u+0085 neither", b"data: a\xE2\x80\xA9b\xC2\x85c\n\n", &[E(M, b"a\xE2\x80\xA9b\xC2\x85c", b"")]),
    ("multi-byte char", b"data: \xC3\xA1\xE2\x82\xAC\xF0\x9F\x98\x80\n\n", &[E(M, "á€😀".as_bytes(), b"")]),
    ("invalid utf-8 kept", b"data: \xFF\xC3(\x80\n\n", &[E(M, b"\xFF\xC3(\x80", b"")]),
    ("nul in data kept", b"data: a\x00b\n\n", &[E(M, b"a\x00b", b"")]),
    ("data without space", b"data:x\n\n", &[E(M, b"x", b"")]),
    ("data: two spaces keep one", b"data:  x\n\n", &[E(M, b" x", b"")]),
    ("trailing space kept", b"data: x \n\n", &[E(M, b"x ", b"")]),
    ("tab is not stripped", b"data:\tx\n\n", &[E(M, b"\tx", b"")]),
    ("colon in value", b"data: a:b: c\n\n", &[E(M, b"a:b: c", b"")]),
    ("value starting with colon", b"data:: x\n\n", &[E(M, b": x", b"")]),
    ("space before the colon", b"data : x\n\ndata: y\n\n", &[E(M, b"y", b"")]),
    ("space before the name", b" data: x\n\n", &[]),
    ("empty data", b"data:\n\n", &[E(M, b"", b"")]),
    ("empty data with space", b"data: \n\n", &[E(M, b"", b"")]),
    ("data without colon", b"data\n\n", &[E(M, b"", b"")]),
    ("two bare data lines", b"data\ndata\n\n", &[E(M, b"\n", b"")]),
    ("bare data then value", b"data\ndata: a\n\n", &[E(M, b"\na", b"")]),
    ("empty line inside data", b"data: a\ndata:\ndata: b\n\n", &[E(M, b"a\n\nb", b"")]),
    ("multi-line data", b"data: a\ndata: b\ndata: c\n\n", &[E(M, b"a\nb\nc", b"")]),
    ("data ending in empty values", b"data: a\ndata:\ndata:\n\n", &[E(M, b"a\n\n", b"")]),
    ("fields between data lines", b"data: a\nevent: e\ndata: b\nid: 3\ndata: c\n: note\ndata: d\n\n", &[E(b"e", b"a\nb\nc\nd", b"3")]),
    ("long lines between short data", b"data: 1\nevent: a-long-event-type\ndata: 22\nxxxxxxxxxxxxxxxxxxxxx: y\ndata: 333\n\n", &[E(b"a-long-event-type", b"1\n22\n333", b"")]),
    ("short lines between long data", b"data: aaaaaaaaaaaa\n:\ndata: bbbbbbbbbbbbbbbb\nx\ndata:c\n\n", &[E(M, b"aaaaaaaaaaaa\nbbbbbbbbbbbbbbbb\nc", b"")]),
    ("data after the type in the next event", b"event: e\ndata: a\n\ndata: b\nevent: f\n\n", &[E(b"e", b"a", b""), E(b"f", b"b", b"")]),
    ("comment", b": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\ndata: a\n\n", &[E(M, b"a", b"")]),
    ("comment between data lines", b"data: a\n: c\ndata: b\n\n", &[E(M, b"a\nb", b"")]),
    ("bare colon", b":\ndata: a\n\n", &[E(M, b"a", b"")]),
    ("unknown field", b"foo: bar\ndata: a\nfoo\n\n", &[E(M, b"a", b"")]),
    ("unknown field alone", b"foo: bar\n\n", &[]),
    ("names are case-sensitive", b"Data: a\nDATA: b\n\n", &[]),
    ("Event is not event", b"Event: x\nID: 1\ndata: a\n\n", &[E(M, b"a", b"")]),
    ("prefix of a name", b"dat: a\ndataa: b\n\n", &[]),
    ("event type", b"event: delta\ndata: a\n\n", &[E(b"delta", b"a", b"")]),
    ("last event field wins", b"event: a\nevent: b\ndata: x\n\n", &[E(b"b", b"x", b"")]),
    ("empty event type is message", b"event:\ndata: a\n\n", &[E(M, b"a", b"")]),
    ("event type reset after dispatch", b"event: e\ndata: a\n\ndata: b\n\n", &[E(b"e", b"a", b""), E(M, b"b", b"")]),
    ("no data: nothing dispatched, type reset", b"event: e\n\ndata: a\n\n", &[E(M, b"a", b"")]),
    ("only fields, never data", b"event: e\nid: 1\nretry: 5\n\n", &[]),
    ("id", b"id: 42\ndata: a\n\n", &[E(M, b"a", b"42")]),
    ("id persists", b"id: 7\ndata: a\n\ndata: b\n\n", &[E(M, b"a", b"7"), E(M, b"b", b"7")]),
    ("id set by an event without data", b"id: 9\n\ndata: a\n\n", &[E(M, b"a", b"9")]),
    ("id after data counts", b"data: a\nid: 2\n\n", &[E(M, b"a", b"2")]),
    ("empty id clears", b"id: 7\ndata: a\n\nid\ndata: b\n\nid: 8\n\nid:\ndata: c\n\n", &[E(M, b"a", b"7"), E(M, b"b", b""), E(M, b"c", b"")]),
    ("id with nul ignored", b"id: 1\n\nid: 2\x003\ndata: x\n\n", &[E(M, b"x", b"1")]),
    ("id with nul at the end ignored", b"id: 1\nid: 2\x00\ndata: x\n\n", &[E(M, b"x", b"1")]),
    ("id with spaces", b"id:  a b \ndata: x\n\n", &[E(M, b"x", b" a b ")]),
    ("id invalid utf-8 kept", b"id: \xFF\ndata: x\n\n", &[E(M, b"x", b"\xFF")]),
    ("retry does not dispatch", b"retry: 5\ndata: a\n\n", &[E(M, b"a", b"")]),
    ("stray blank line", b"data: a\n\n\ndata: b\n\n", &[E(M, b"a", b""), E(M, b"b", b"")]),
    ("leading blank lines", b"\n\r\n\rdata: a\n\n", &[E(M, b"a", b"")]),
    ("only blank lines", b"\n\n\r\n", &[]),
    ("[DONE] without a blank line", b"data: a\n\ndata: [DONE]\n", &[E(M, b"a", b""), I(Some(b"[DONE]"), b"")]),
    ("[DONE] without a line end", b"data: a\n\ndata: [DONE]", &[E(M, b"a", b""), I(None, b"data: [DONE]")]),
    ("last event without blank line", b"data: a\ndata: b\n", &[I(Some(b"a\nb"), b"")]),
    ("data then a partial line", b"data: a\nda", &[I(Some(b"a"), b"da")]),
    ("partial id is not applied", b"id: 1\ndata: a\n\nid: 5", &[E(M, b"a", b"1"), I(None, b"id: 5")]),
    ("type set but no data at the end", b"event: e\n", &[]),
    ("comment at the end without line end", b": keep-alive", &[I(None, b": keep-alive")]),
    ("empty data at the end", b"data:\n", &[I(Some(b""), b"")]),
    ("field without colon at the end", b"data: a\n\ndata", &[E(M, b"a", b""), I(None, b"data")]),
];

/// With `Config::comments(true)`.
#[rustfmt::skip]
const COMMENT_CASES: &[Case] = &[
    ("openrouter keep-alive", b": OPENROUTER PROCESSING\n\ndata: a\n\n", &[C(b"OPENROUTER PROCESSING"), E(M, b"a", b"")]),
    ("empty comment", b":\n", &[C(b"")]),
    ("one space removed", b":  two\n", &[C(b" two")]),
    ("no space", b":x\r\n", &[C(b"x")]),
    ("colon in comment", b": a: b\r", &[C(b"a: b")]),
    ("comment inside an event comes first", b"data: a\n: mid\ndata: b\n\n", &[C(b"mid"), E(M, b"a\nb", b"")]),
    ("comments around events", b": 1\ndata: a\n\n: 2\n\n", &[C(b"1"), E(M, b"a", b""), C(b"2")]),
    ("comment right after the bom", b"\xEF\xBB\xBF: c\n", &[C(b"c")]),
    ("unterminated comment", b": x", &[I(None, b": x")]),
];

/// One case through every way of feeding it, against the expected frames and the reference.
fn check_case(name: &str, config: &Config, input: &[u8], want: &[W], seed: u64) {
    let want: Vec<OwnedFrame> = want.iter().map(|w| w.owned()).collect();
    let shown = input.escape_ascii().to_string();

    let reference = reference::parse_with(input, config.get_comments(), config.get_ignored_lines());
    assert_eq!(
        reference.frames, want,
        "{name}: reference vs table; {shown:?}"
    );

    let mut rng = Rng::new(seed);
    let whole = check_splits(config, input, &mut rng, 16, true);
    assert_eq!(whole, reference, "{name}: parser vs reference; {shown:?}");

    for feed in FEEDS {
        for cut in 0..=input.len() {
            assert_eq!(
                run_with(config, input, &[cut], feed),
                whole,
                "{name}: cut at {cut} through {feed:?}; {shown:?}"
            );
        }
        let bytewise: Vec<usize> = (1..input.len()).collect();
        assert_eq!(
            run_with(config, input, &bytewise, feed),
            whole,
            "{name}: byte at a time through {feed:?}; {shown:?}"
        );
    }
}

#[test]
fn spec_cases() {
    for (i, (name, input, want)) in CASES.iter().enumerate() {
        check_case(name, &Config::new(), input, want, i as u64);
    }
}

#[test]
fn spec_cases_with_comments() {
    for (i, (name, input, want)) in COMMENT_CASES.iter().enumerate() {
        check_case(name, &Config::new().comments(true), input, want, i as u64);
    }
}

/// Comments on or off changes nothing but the comment frames.
#[test]
fn comments_setting_only_adds_comments() {
    for (name, input, _) in CASES.iter().chain(COMMENT_CASES) {
        let off = run(&Config::new(), input, &[]);
        let mut on = run(&Config::new().comments(true), input, &[]);
        on.frames.retain(|f| !matches!(f, OwnedFrame::Comment(_)));
        assert_eq!(on, off, "{name}");
    }
}

/// The reference's own line splitter, checked on its own since everything rests on it.
#[test]
fn reference_splits_lines() {
    let (lines, rest) = reference::split_lines(b"a\r\nb\rc\n\r\rd");
    assert_eq!(lines, [&b"a"[..], b"b", b"c", b"", b""]);
    assert_eq!(rest, b"d");
    let (lines, rest) = reference::split_lines(b"a\r");
    assert_eq!(lines, [&b"a"[..]]);
    assert_eq!(rest, b"");
}

fn final_state(input: &[u8]) -> (Vec<u8>, Option<u64>) {
    let whole = run(&Config::new(), input, &[]);
    assert_eq!(run_bytewise(&Config::new(), input), whole);
    let reference = reference::parse(input, false);
    assert_eq!(whole, reference);
    (whole.last_id, whole.retry)
}

#[test]
fn retry() {
    let retry = |input: &[u8]| final_state(input).1;
    assert_eq!(retry(b"retry: 5\n"), Some(5));
    assert_eq!(retry(b"retry:3000\n\n"), Some(3000));
    assert_eq!(retry(b"retry: 007\r"), Some(7));
    assert_eq!(retry(b"retry: 0\n"), Some(0));
    assert_eq!(retry(b"retry: +5\n"), None);
    assert_eq!(retry(b"retry: -5\n"), None);
    assert_eq!(retry(b"retry: 1x\n"), None);
    assert_eq!(retry(b"retry: 1.5\n"), None);
    assert_eq!(retry(b"retry: 5 \n"), None);
    assert_eq!(retry(b"retry:  5\n"), None, "only one space is removed");
    assert_eq!(retry(b"retry:\n"), None);
    assert_eq!(retry(b"retry\n"), None);
    assert_eq!(
        retry(b"retry: \xD9\xA5\n"),
        None,
        "Arabic-Indic five is not ASCII"
    );
    assert_eq!(retry(b"Retry: 5\n"), None);
    assert_eq!(
        retry(b"retry: 5"),
        None,
        "an unterminated line is not applied"
    );
    assert_eq!(
        retry(b"retry: 5\nretry: x\n"),
        Some(5),
        "a bad value keeps the old"
    );
    assert_eq!(retry(b"retry: 5\nretry: 6\n"), Some(6));
    assert_eq!(retry(b"retry: 99999999999999999999999\n"), Some(u64::MAX));
    assert_eq!(retry(b"retry: 18446744073709551615\n"), Some(u64::MAX));
    assert_eq!(retry(b"retry: 18446744073709551614\n"), Some(u64::MAX - 1));
}

#[test]
fn last_event_id() {
    let id = |input: &[u8]| final_state(input).0;
    assert_eq!(id(b"id: 1\n"), b"1");
    assert_eq!(id(b"id: 1\nid: 2\x00\n"), b"1");
    assert_eq!(id(b"id: 1\n\ndata: x\n\n"), b"1");
    assert_eq!(id(b"id: 1\nid\n"), b"");
    assert_eq!(id(b"id: 1\nid: 2"), b"1");
    assert_eq!(Parser::new().last_event_id(), b"");
    assert_eq!(Parser::new().retry(), None);
}

/// The reads cut where the rules are easiest to get wrong, spelled out.
#[test]
fn named_splits() {
    let cfg = Config::new();
    let frames = |input: &[u8], splits: &[usize]| run(&cfg, input, splits).frames;
    let one = |data: &[u8]| {
        vec![OwnedFrame::Event {
            event_type: M.to_vec(),
            data: data.to_vec(),
            id: vec![],
        }]
    };
    // A BOM cut in every way, then reads that start with LF after a CR.
    let bom = b"\xEF\xBB\xBFdata: x\n\n";
    for splits in [&[1][..], &[2], &[1, 2], &[3], &[0, 1, 1, 2, 3]] {
        assert_eq!(frames(bom, splits), one(b"x"), "BOM split at {splits:?}");
    }
    assert_eq!(frames(b"data: x\r\n\r\n", &[8]), one(b"x"), "CRLF split");
    assert_eq!(
        frames(b"data: x\r\n\r\n", &[8, 10]),
        one(b"x"),
        "both CRLF split"
    );
    assert_eq!(frames(b"data: x\r\rdata: y\r\r", &[8]), {
        let mut v = one(b"x");
        v.extend(one(b"y"));
        v
    });
    let mut parser = Parser::new();
    parser.feed(b"data: x\r");
    assert!(parser.next_frame().is_none());
    parser.feed(b"\r");
    assert!(
        matches!(parser.next_frame(), Some(Ok(Frame::Event(e))) if e.data() == b"x"),
        "a CR at the end of a read ends its line at once"
    );
    let a = "data: á\n\n".as_bytes();
    assert_eq!(frames(a, &[7]), one("á".as_bytes()), "split inside á");
}

/// The event is available as soon as its blank line is, not one read later.
#[test]
fn events_come_out_without_waiting() {
    let mut parser = Parser::new();
    parser.feed(b"data: a\n");
    assert!(parser.next_frame().is_none());
    parser.feed(b"\n");
    assert!(matches!(parser.next_frame(), Some(Ok(Frame::Event(e))) if e.data() == b"a"));
    assert!(parser.next_frame().is_none());
}

#[test]
fn incomplete_is_reported_once() {
    let mut parser = Parser::new();
    parser.feed(b"data: a\ndata: b\nid: 1");
    assert!(parser.next_frame().is_none());
    parser.finish();
    let Some(Ok(Frame::Incomplete(inc))) = parser.next_frame() else {
        panic!("expected the incomplete event");
    };
    assert_eq!(inc.data(), Some(&b"a\nb"[..]));
    assert_eq!(inc.line(), b"id: 1");
    for _ in 0..3 {
        assert!(parser.next_frame().is_none());
    }
}

/// `finish` with frames not pulled yet: they still come out, in order, before the end.
#[test]
fn finish_before_draining() {
    let mut parser = Parser::new();
    parser.feed(b"data: a\n\ndata: b\n\ndata: c");
    parser.finish();
    let mut frames = Vec::new();
    common::drain(&mut parser, &mut frames);
    assert_eq!(
        frames,
        reference::parse(b"data: a\n\ndata: b\n\ndata: c", false).frames
    );
}

// ---------------------------------------------------------------- size limit

const LIMIT: usize = 16;

fn limited() -> Config {
    Config::new().max_event_bytes(LIMIT)
}

fn ok(data: &[u8]) -> OwnedFrame {
    OwnedFrame::Event {
        event_type: M.to_vec(),
        data: data.to_vec(),
        id: vec![],
    }
}

/// Oversized input through every split and feed path gives `want`.
fn check_limited(input: &[u8], want: &[OwnedFrame]) {
    let mut rng = Rng::new(input.len() as u64);
    let whole = check_splits(&limited(), input, &mut rng, 32, true);
    assert_eq!(whole.frames, want, "{:?}", input.escape_ascii().to_string());
    for feed in FEEDS {
        for cut in 0..=input.len() {
            assert_eq!(
                run_with(&limited(), input, &[cut], feed),
                whole,
                "cut {cut} {feed:?}"
            );
        }
    }
}

#[test]
fn oversized_single_line() {
    use OwnedFrame::TooLarge;
    check_limited(
        b"data: 0123456789abcdefghij\n\ndata: ok\n\n",
        &[TooLarge, ok(b"ok")],
    );
    check_limited(
        b"data: ok\n\ndata: 0123456789abcdefghij\n\ndata: ok\n\n",
        &[ok(b"ok"), TooLarge, ok(b"ok")],
    );
    // Two in a row: one error each.
    check_limited(
        b"data: 0123456789abcdefghij\n\ndata: 0123456789abcdefghij\r\n\r\ndata: ok\n\n",
        &[TooLarge, TooLarge, ok(b"ok")],
    );
    // The rest of the event is dropped, whatever it holds, up to the blank line.
    check_limited(
        b"data: 0123456789abcdefghij\ndata: x\nid: 5\nevent: e\n\ndata: ok\n\n",
        &[TooLarge, ok(b"ok")],
    );
    // An oversized line that is not data still costs memory while it arrives.
    check_limited(
        b"event: 0123456789abcdefghij\ndata: x\n\ndata: ok\n\n",
        &[TooLarge, ok(b"ok")],
    );
    check_limited(
        b": 0123456789abcdefghijklmnop\n\ndata: ok\n\n",
        &[TooLarge, ok(b"ok")],
    );
    // Stray blank lines after it change nothing.
    check_limited(
        b"data: 0123456789abcdefghij\n\n\n\ndata: ok\n\n",
        &[TooLarge, ok(b"ok")],
    );
    // Ended inside the oversized event: the error, and no incomplete event.
    check_limited(
        b"data: ok\n\ndata: 0123456789abcdefghij",
        &[ok(b"ok"), TooLarge],
    );
    check_limited(b"data: 0123456789abcdefghij\ndata: x\n", &[TooLarge]);
}

#[test]
fn oversized_many_data_lines() {
    use OwnedFrame::TooLarge;
    check_limited(
        b"data: aaaa\ndata: bbbb\ndata: cccc\ndata: dddd\n\ndata: ok\n\n",
        &[TooLarge, ok(b"ok")],
    );
    // Bare `data` lines, one LF each.
    let input = [&b"data\n".repeat(17)[..], b"\ndata: ok\n\n"].concat();
    check_limited(&input, &[TooLarge, ok(b"ok")]);
}

#[test]
fn events_within_the_limit_pass() {
    // Well under the limit however it is counted, and at it: 16 bytes of line.
    check_limited(
        b"data: a\ndata: b\n\ndata:0123456789a\n\n",
        &[ok(b"a\nb"), ok(b"0123456789a")],
    );
}

/// An endless line in small reads: one error, and the parser never holds more than the limit
/// plus one read.
#[test]
fn oversized_endless_line() {
    for read in [1, 2, 7, 16, 17, 100] {
        let mut parser = Parser::with_config(limited());
        let mut frames = Vec::new();
        parser.feed(b"data: ok\n\ndata: ");
        common::drain(&mut parser, &mut frames);
        let chunk = vec![b'x'; read];
        for _ in 0..(10_000 / read) {
            parser.feed(&chunk);
            assert!(
                parser.buffered() <= LIMIT + read,
                "{} held",
                parser.buffered()
            );
            common::drain(&mut parser, &mut frames);
            assert!(parser.buffered() <= LIMIT, "{} held", parser.buffered());
        }
        parser.feed(b"\n\ndata: after\n\n");
        common::drain(&mut parser, &mut frames);
        parser.finish();
        common::drain(&mut parser, &mut frames);
        assert_eq!(
            frames,
            [ok(b"ok"), OwnedFrame::TooLarge, ok(b"after")],
            "read {read}"
        );
    }
}

/// Many short data lines in small reads: the data buffer is bounded too.
#[test]
fn oversized_endless_event() {
    let mut parser = Parser::with_config(limited());
    let mut frames = Vec::new();
    for _ in 0..1000 {
        parser.feed(b"data: x\n");
        assert!(parser.buffered() <= LIMIT + 8);
        common::drain(&mut parser, &mut frames);
    }
    parser.feed(b"\ndata: after\n\n");
    common::drain(&mut parser, &mut frames);
    assert_eq!(frames, [OwnedFrame::TooLarge, ok(b"after")]);
}

#[test]
fn limit_error() {
    let mut parser = Parser::with_config(limited());
    parser.feed(b"data: 0123456789abcdefghij\n\n");
    let Some(Err(err)) = parser.next_frame() else {
        panic!("expected the error");
    };
    assert!(matches!(err, Error::EventTooLarge { limit: LIMIT }));
    assert_eq!(
        err.to_string(),
        "event larger than the 16-byte limit was discarded"
    );
    assert!(std::error::Error::source(&err).is_none());
    assert!(parser.next_frame().is_none());
    assert_eq!(Config::new().max_event_bytes(0).get_max_event_bytes(), 1);
}

/// The limit counts while a line arrives, so its outcome must not depend on where the reads
/// fall; these lines sit just past it under each way of counting.
#[test]
fn limit_does_not_depend_on_reads() {
    let mut rng = Rng::new(7);
    for input in [
        &b"data: 0123456789abc\n\n"[..],
        b"data:0123456789ab\n\n",
        b"data: 0123456789\ndata: a\n\n",
        b"id: 0123456789abcdef\ndata: a\n\n",
        b"xxxxxxxxxxxxxxxxxxxxxxx\ndata: a\n\n",
        b": 0123456789abcdefghijkl\ndata: a\n\n",
    ] {
        check_splits(&limited(), input, &mut rng, 64, true);
        for cut in 0..=input.len() {
            assert_eq!(
                run(&limited(), input, &[cut]),
                run(&limited(), input, &[]),
                "cut {cut}: {:?}",
                input.escape_ascii().to_string()
            );
        }
    }
}

// ---------------------------------------------------------------- feed paths

/// Adopting a `BytesMut` while an event whose data is still empty is in progress: that empty
/// data must not keep pointing into the old buffer, where it lands inside the new line or past
/// the end of the new buffer.
#[test]
fn adoption_after_empty_data_line() {
    let long_line = [b'x'; 200];
    for first in [&b"data:\n"[..], &[&long_line[..], b"\ndata:\n"].concat()] {
        for feed in FEEDS {
            let mut parser = Parser::new();
            let mut frames = Vec::new();
            common::feed_and_drain(&mut parser, first, feed, 0, &mut frames);
            common::feed_and_drain(&mut parser, b"data:abcdefgh\n\n", feed, 2, &mut frames);
            assert_eq!(frames, [ok(b"\nabcdefgh")], "{feed:?}");
        }
    }
}

/// `Parser::frames` lends what lies wholly inside the read (data, event type, comments,
/// ignored lines) straight out of it, and completes an event cut between reads in its buffer.
#[test]
fn frames_lend_out_of_the_read() {
    let inside = |bytes: &[u8], read: &[u8]| {
        let range = read.as_ptr_range();
        bytes.is_empty() || range.contains(&bytes.as_ptr())
    };
    let mut parser = Parser::with_config(Config::new().comments(true).ignored_lines(true));
    let first: &[u8] = b"event: e\ndata: one\n\n: note\nfoo: bar\ndata: two\n\ndata: th";
    let mut seen = Vec::new();
    let mut frames = parser.frames(first);
    while let Some(frame) = frames.next_frame() {
        match frame.expect("no limit is reached") {
            Frame::Event(e) => {
                assert!(inside(e.data(), first), "{e:?} was copied");
                if e.event_type() != b"message" {
                    assert!(inside(e.event_type(), first), "{e:?}'s type was copied");
                }
                seen.push(e.data().to_vec());
            }
            Frame::Comment(text) | Frame::Ignored(text) => {
                assert!(inside(text, first), "{text:?} was copied");
                seen.push(text.to_vec());
            }
            other => panic!("{other:?}"),
        }
    }
    drop(frames);
    assert_eq!(seen, [&b"one"[..], b"note", b"foo: bar", b"two"]);
    assert_eq!(parser.buffered(), 8, "only the line in progress is kept");

    // The event cut between reads comes out of the buffer, the next one out of the read again.
    let second: &[u8] = b"ree\n\ndata: a\ndata: b\n\ndata: four\n\n";
    let mut frames = parser.frames(second);
    let mut datas = Vec::new();
    while let Some(frame) = frames.next_frame() {
        let Ok(Frame::Event(e)) = frame else {
            panic!("{frame:?}");
        };
        datas.push((e.data().to_vec(), inside(e.data(), second)));
    }
    assert_eq!(
        datas,
        [
            (b"three".to_vec(), false),
            (b"a\nb".to_vec(), false),
            (b"four".to_vec(), true)
        ]
    );
}

/// Each feed path on a multi-event stream with reads falling everywhere.
#[test]
fn feed_paths_agree() {
    let input: &[u8] = b"\xEF\xBB\xBF: hi\r\nid: 1\r\ndata: a\r\ndata:\r\n\r\n\
        event: e\rdata: b\r\rdata: [DONE]\n\n";
    let want = run(&Config::new(), input, &[]);
    let mut rng = Rng::new(3);
    for feed in FEEDS {
        for _ in 0..50 {
            let splits = rng.reads(input.len(), 6);
            assert_eq!(
                run_with(&Config::new(), input, &splits, feed),
                want,
                "{feed:?} {splits:?}"
            );
        }
    }
}

#[test]
fn spare_and_commit() {
    let mut parser = Parser::new();
    let input = b"data: hello\n\n";
    let room = parser.spare(4096);
    assert!(room.len() >= 4096);
    room[..input.len()].copy_from_slice(input);
    parser.commit(input.len());
    assert!(matches!(parser.next_frame(), Some(Ok(Frame::Event(e))) if e.data() == b"hello"));
    assert!(parser.next_frame().is_none());

    // A partial commit: only what was declared is input.
    let room = parser.spare(64);
    room[..12].copy_from_slice(b"data: ab\n\nXX");
    parser.commit(10);
    assert!(matches!(parser.next_frame(), Some(Ok(Frame::Event(e))) if e.data() == b"ab"));
    assert!(parser.next_frame().is_none());
    assert_eq!(parser.buffered(), 0);

    // An overlong commit is clamped to the buffer's room (which may hold stale bytes, hence
    // the reset), without a panic.
    let room = parser.spare(4);
    room.fill(b'z');
    parser.commit(usize::MAX);
    while parser.next_frame().is_some() {}
    parser.reset();
    parser.feed(b"data: c\n\n");
    let mut frames = Vec::new();
    common::drain(&mut parser, &mut frames);
    assert_eq!(frames, [ok(b"c")]);
}

/// A frame that `ready` found stays valid while more input is fed before it is pulled.
#[test]
fn ready_then_feed_keeps_the_frame() {
    let mut parser = Parser::new();
    parser.feed(b"data: a\n\ndata: b");
    assert!(parser.ready());
    parser.feed(b"\n\n");
    let mut frames = Vec::new();
    common::drain(&mut parser, &mut frames);
    assert_eq!(frames, [ok(b"a"), ok(b"b")]);
    assert!(!parser.ready());
    parser.finish();
    assert!(!parser.ready());
}

// ---------------------------------------------------------------- new streams

#[test]
fn reset_keeps_last_id_and_retry() {
    let mut parser = Parser::new();
    let mut frames = Vec::new();
    parser.feed(b"id: 1\nretry: 50\nevent: e\ndata: a\n\nevent: f\ndata: partial\ndata: more");
    common::drain(&mut parser, &mut frames);
    parser.reset();
    assert_eq!(parser.buffered(), 0);
    parser.feed(b"\xEF\xBB\xBFdata: b\n\n");
    common::drain(&mut parser, &mut frames);
    parser.finish();
    common::drain(&mut parser, &mut frames);
    let event = |t: &[u8], d: &[u8]| OwnedFrame::Event {
        event_type: t.to_vec(),
        data: d.to_vec(),
        id: b"1".to_vec(),
    };
    assert_eq!(frames, [event(b"e", b"a"), event(M, b"b")]);
    assert_eq!(parser.retry(), Some(50));
}

/// Feeding after `finish` is a new stream: the BOM is skipped again, a pending CR does not
/// eat the new stream's first LF, the last ID and retry survive. Same through every path.
#[test]
fn feed_after_finish_starts_a_new_stream() {
    for feed in FEEDS {
        let mut parser = Parser::new();
        let mut frames = Vec::new();
        common::feed_and_drain(
            &mut parser,
            b"id: 1\nretry: 9\ndata: a\n\nevent: x\ndata: b\r",
            feed,
            0,
            &mut frames,
        );
        parser.finish();
        common::drain(&mut parser, &mut frames);
        common::feed_and_drain(
            &mut parser,
            b"\xEF\xBB\xBF\ndata: c\n\n",
            feed,
            2,
            &mut frames,
        );
        parser.finish();
        common::drain(&mut parser, &mut frames);
        let event = |d: &[u8]| OwnedFrame::Event {
            event_type: M.to_vec(),
            data: d.to_vec(),
            id: b"1".to_vec(),
        };
        let want = [
            event(b"a"),
            OwnedFrame::Incomplete {
                data: Some(b"b".to_vec()),
                line: vec![],
            },
            event(b"c"),
        ];
        assert_eq!(frames, want, "{feed:?}");
        assert_eq!(parser.retry(), Some(9));
    }
}

/// The same parser over many streams, after an error, too.
#[test]
fn reset_after_discarding() {
    let mut parser = Parser::with_config(limited());
    let mut frames = Vec::new();
    parser.feed(b"data: 0123456789abcdefghijklmnop");
    common::drain(&mut parser, &mut frames);
    parser.reset();
    parser.feed(b"data: ok\n\n");
    common::drain(&mut parser, &mut frames);
    assert_eq!(frames, [OwnedFrame::TooLarge, ok(b"ok")]);
}

// ---------------------------------------------------------------- public types

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Parser>();
    send_sync::<ssechunk::Frames<'_, '_>>();
    send_sync::<Config>();
    send_sync::<Event<'static>>();
    send_sync::<Frame<'static>>();
    send_sync::<Incomplete<'static>>();
    send_sync::<Error>();
}

#[test]
fn sizes() {
    use std::mem::size_of;
    let slice = size_of::<&[u8]>();
    // An event is three borrowed slices and nothing more.
    assert_eq!(size_of::<Event<'_>>(), 3 * slice);
    assert_eq!(size_of::<Incomplete<'_>>(), 2 * slice);
    assert!(size_of::<Frame<'_>>() <= 3 * slice + size_of::<usize>());
    // What `next_frame` wraps a frame in costs at most a word more.
    assert!(
        size_of::<Option<Result<Frame<'_>, Error>>>()
            <= size_of::<Frame<'_>>() + size_of::<usize>()
    );
    assert!(size_of::<Config>() <= 2 * size_of::<usize>());
    // An error is a tag and at most a boxed source.
    assert!(size_of::<Error>() <= 3 * size_of::<usize>());
    // A buffer, two small vectors and some offsets: an inline array would show here.
    assert!(size_of::<Parser>() <= 32 * size_of::<usize>());
}

#[test]
fn debug_output_is_readable() {
    let event = Event::new(b"a\xFFb", b"message", b"7");
    let shown = format!("{event:?}");
    assert!(
        shown.contains("a\u{FFFD}b") && shown.contains("\"7\""),
        "{shown}"
    );
    let mut parser = Parser::new();
    parser.feed(b"id: 3\ndata: x");
    let _ = parser.next_frame();
    let shown = format!("{parser:?}");
    assert!(shown.contains("last_event_id: \"3\""), "{shown}");
}

/// The parsed result of a whole stream, used as a smoke test of the helper itself.
#[test]
fn helper_reports_final_state() {
    let parsed: Parsed = run(&Config::new(), b"id: 5\nretry: 10\n", &[]);
    assert_eq!(parsed.last_id, b"5");
    assert_eq!(parsed.retry, Some(10));
    assert!(!parsed.incomplete());
    assert!(parsed.events().is_empty());
}
