//! Property tests of the framing layer: on generated streams, any way of cutting the input into
//! reads, through any feed path, gives what the whole input gives, and that is what the
//! reference parser gives.

mod common;

use common::reference;
use common::{FEEDS, Feed, OwnedFrame, Parsed, run, run_bytewise, run_with};
use proptest::prelude::*;
use proptest::sample::Index;
use ssechunk::Config;

/// Pieces of field values: plain text, the bytes that separate fields, NUL (which voids an
/// `id`), a BOM, separators that are not line ends, and invalid or cut UTF-8.
fn value() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop::sample::select(vec![
        &b"a"[..],
        b"xyz",
        b"[DONE]",
        b"{\"k\":1}",
        b"5",
        b"42",
        b" ",
        b":",
        b"\0",
        b"\xEF\xBB\xBF",
        b"\xE2\x80\xA8",
        b"\xC2\x85",
        "á".as_bytes(),
        b"\xC3",
        b"\xFF",
        b"\x80",
    ]);
    prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.concat())
}

/// One line without its line end.
fn line() -> impl Strategy<Value = Vec<u8>> {
    let name = prop::sample::select(vec![
        &b"data"[..],
        b"data",
        b"data",
        b"event",
        b"id",
        b"retry",
        b"foo",
        b"Data",
        b"dat",
        b"data ",
        b" data",
        b"",
    ]);
    let sep = prop::sample::select(vec![&b""[..], b":", b": ", b": ", b":  "]);
    let retry = prop::sample::select(vec![
        &b"retry: 5"[..],
        b"retry:300",
        b"retry: +5",
        b"retry: 1x",
        b"retry:",
        b"retry:  5",
        b"retry: 99999999999999999999",
    ]);
    prop_oneof![
        6 => (name, sep, value()).prop_map(|(n, s, v)| [n, s, &v].concat()),
        1 => retry.prop_map(<[u8]>::to_vec),
        1 => value().prop_map(|v| [&b":"[..], &v].concat()),
        2 => Just(Vec::new()),
    ]
}

/// A stream: an optional BOM, lines with every kind of line end, maybe an unterminated tail.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let end = prop::sample::select(vec![&b"\n"[..], b"\r", b"\r\n"]);
    (
        any::<bool>(),
        prop::collection::vec((line(), end), 0..24),
        prop::option::of(line()),
    )
        .prop_map(|(bom, lines, tail)| {
            let mut out = Vec::new();
            if bom {
                out.extend_from_slice(b"\xEF\xBB\xBF");
            }
            for (line, end) in lines {
                out.extend_from_slice(&line);
                out.extend_from_slice(end);
            }
            out.extend(tail.unwrap_or_default());
            out
        })
}

/// A stream shaped like an LLM API's: events of an optional `event` line, data lines and a
/// blank line, nearly all LF- or CR LF-ended (the parser takes such an event in one pass),
/// with the spellings the rules allow around the colon, now and then an `id` line, a comment
/// or another line end, and maybe an unterminated tail.
fn llm_stream() -> impl Strategy<Value = Vec<u8>> {
    let end = prop::sample::select(vec![
        &b"\n"[..],
        b"\n",
        b"\n",
        b"\n",
        b"\r\n",
        b"\r\n",
        b"\r\n",
        b"\r",
    ]);
    let event = prop::sample::select(vec![
        &b"event: delta"[..],
        b"event: delta",
        b"event:delta",
        b"event: deltas",
        b"event: delt",
        b"event:",
        b"event: ",
        b"event:  two spaces",
        b"event",
    ]);
    let data = prop::sample::select(vec![
        &b"data: {\"k\":1}"[..],
        b"data: {\"text\":\"a b\"}",
        b"data:{}",
        b"data:",
        b"data: ",
        b"data",
        b"data: [DONE]",
    ]);
    let extra = prop::sample::select(vec![&b"id: 7"[..], b": ping", b"retry: 5", b"foo: bar"]);
    let one = (
        prop::option::weighted(0.7, (event, end.clone())),
        prop::collection::vec((data, end.clone()), 1..3),
        prop::option::weighted(0.1, (extra, end.clone())),
        end.clone(),
    );
    (prop::collection::vec(one, 0..12), prop::option::of(line())).prop_map(|(events, tail)| {
        let mut out = Vec::new();
        for (event, data, extra, blank) in events {
            for (line, end) in event.into_iter().chain(data).chain(extra) {
                out.extend_from_slice(line);
                out.extend_from_slice(end);
            }
            out.extend_from_slice(blank);
        }
        out.extend(tail.unwrap_or_default());
        out
    })
}

/// Arbitrary bytes, leaning toward the ones the rules care about and toward field names, so
/// that runs of them still form fields.
fn raw() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        4 => Just(b"\r".to_vec()),
        4 => Just(b"\n".to_vec()),
        3 => Just(b":".to_vec()),
        3 => Just(b" ".to_vec()),
        2 => Just(b"data".to_vec()),
        1 => Just(b"id".to_vec()),
        1 => Just(b"event".to_vec()),
        1 => Just(b"retry".to_vec()),
        1 => Just(b"\xEF\xBB\xBF".to_vec()),
        6 => any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(token, 0..120).prop_map(|tokens| tokens.concat())
}

/// Split points from random indexes, ascending.
fn splits_of(len: usize, picks: &[Index]) -> Vec<usize> {
    let mut splits: Vec<usize> = picks.iter().map(|i| i.index(len + 1)).collect();
    splits.sort_unstable();
    splits
}

fn cuts() -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), 0..12)
}

fn feed() -> impl Strategy<Value = Feed> {
    prop::sample::select(FEEDS.to_vec())
}

/// Every bytes field replaced by its lossy UTF-8 decoding.
fn lossy(parsed: &Parsed) -> Parsed {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned().into_bytes();
    let frames = parsed
        .frames
        .iter()
        .map(|f| match f {
            OwnedFrame::Event {
                event_type,
                data,
                id,
            } => OwnedFrame::Event {
                event_type: text(event_type),
                data: text(data),
                id: text(id),
            },
            OwnedFrame::Comment(c) => OwnedFrame::Comment(text(c)),
            OwnedFrame::Ignored(line) => OwnedFrame::Ignored(text(line)),
            OwnedFrame::Incomplete { data, line } => OwnedFrame::Incomplete {
                data: data.as_deref().map(text),
                line: text(line),
            },
            OwnedFrame::TooLarge => OwnedFrame::TooLarge,
        })
        .collect();
    Parsed {
        frames,
        last_id: text(&parsed.last_id),
        retry: parsed.retry,
    }
}

/// The checks every input gets: whole = reference, and one byte at a time and the given cuts
/// through the given feed path = whole; with and without comments.
fn check(input: &[u8], picks: &[Index], feed: Feed) -> Result<(), TestCaseError> {
    for (comments, ignored) in [(false, false), (true, false), (false, true), (true, true)] {
        let config = Config::new().comments(comments).ignored_lines(ignored);
        let whole = run(&config, input, &[]);
        prop_assert_eq!(
            &whole,
            &reference::parse_with(input, comments, ignored),
            "vs reference"
        );
        prop_assert_eq!(&run_bytewise(&config, input), &whole, "byte at a time");
        let splits = splits_of(input.len(), picks);
        prop_assert_eq!(
            &run_with(&config, input, &splits, feed),
            &whole,
            "cut at {:?} through {:?}",
            splits,
            feed
        );
        // Servers flush line by line, so reads ending right after a line end are common, and
        // they are where a parser holds no partial line but may hold an event.
        let at_line_ends: Vec<usize> = (1..input.len())
            .filter(|&i| matches!(input[i - 1], b'\n' | b'\r'))
            .collect();
        for feed in FEEDS {
            prop_assert_eq!(
                &run_with(&config, input, &at_line_ends, feed),
                &whole,
                "cut after each line end through {:?}",
                feed
            );
        }
    }
    Ok(())
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Failures are turned into table cases in tests/framing.rs instead of files here.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn streams_split_anywhere(input in stream(), picks in cuts(), feed in feed()) {
        check(&input, &picks, feed)?;
    }

    #[test]
    fn llm_streams_split_anywhere(input in llm_stream(), picks in cuts(), feed in feed()) {
        check(&input, &picks, feed)?;
    }

    /// The events of an LLM-shaped stream under a limit near their sizes, as
    /// `limit_is_independent_of_reads` checks them.
    #[test]
    fn llm_stream_limit_is_independent_of_reads(
        input in llm_stream(),
        limit in 1usize..32,
        picks in cuts(),
        feed in feed(),
    ) {
        check_limit(&input, limit, &picks, feed)?;
    }

    #[test]
    fn raw_bytes_split_anywhere(input in raw(), picks in cuts(), feed in feed()) {
        check(&input, &picks, feed)?;
    }

    /// What the rules say of the decoded text is what the parser says of the bytes, decoded.
    #[test]
    fn bytes_agree_with_decoded_text(input in stream()) {
        let decoded = String::from_utf8_lossy(&input).into_owned();
        let parsed = run(&Config::new().comments(true), &input, &[]);
        prop_assert_eq!(lossy(&parsed), reference::parse(decoded.as_bytes(), true));
    }

    /// Under a small limit the outcome still does not depend on the reads, and the events that
    /// get through are the reference's, in order (their ids may differ: an oversized event's
    /// later `id` lines are dropped with it).
    #[test]
    fn limit_is_independent_of_reads(
        input in stream(),
        limit in 1usize..48,
        picks in cuts(),
        feed in feed(),
    ) {
        check_limit(&input, limit, &picks, feed)?;
    }
}

/// The checks of a small `limit`: the outcome does not depend on the reads, the events that
/// get through are the reference's, in order, the errors are bounded, and a limit larger
/// than the whole input is never reached.
fn check_limit(
    input: &[u8],
    limit: usize,
    picks: &[Index],
    feed: Feed,
) -> Result<(), TestCaseError> {
    let config = Config::new().max_event_bytes(limit);
    let whole = run(&config, input, &[]);
    prop_assert_eq!(&run_bytewise(&config, input), &whole, "byte at a time");
    let splits = splits_of(input.len(), picks);
    prop_assert_eq!(
        &run_with(&config, input, &splits, feed),
        &whole,
        "cut at {:?}",
        splits
    );

    let reference = reference::parse(input, false);
    let mut expected = reference.events().into_iter().map(|(t, d, _)| (t, d));
    for (t, d, _) in whole.events() {
        prop_assert!(
            expected.any(|e| e == (t, d)),
            "event {:?} not in the reference",
            d
        );
    }
    let errors = whole
        .frames
        .iter()
        .filter(|f| **f == OwnedFrame::TooLarge)
        .count();
    prop_assert!(errors <= input.len() / limit + 1);
    let roomy = Config::new().max_event_bytes(input.len() + 1);
    prop_assert_eq!(run(&roomy, input, &[]), reference);
    Ok(())
}
