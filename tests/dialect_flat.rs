//! The flat scanner of the dialects besides Chat Completions against their simd-json path.
//!
//! Two decoders read the same events one after the other: one as `decode_event` does (the
//! flat scanner first, simd-json when it declines; traced), one with simd-json alone
//! (`decode_event_with_simd_json`). Every payload must be the same (its `Debug` text: every
//! part, every string, every error), and so what each decoder learnt of the stream, since
//! later events depend on it. And the scanner must run: it takes most events of each dialect,
//! and every frequent event of the shapes it is for (a path that silently declined
//! everything would pass the comparison alone).
//!
//! - every event of every Anthropic, Responses and Gemini stream of the recorded corpus;
//! - generated events of each dialect: keys reordered, unknown keys (nested values too),
//!   duplicate keys, padding, escapes (`\uXXXX`, surrogate pairs, lone surrogates, control
//!   characters), non-ASCII text, numbers of every form (negative, fractions, exponents, 20
//!   digits, leading zeros), `null`s and values of the wrong type where each field goes, and
//!   byte-level mutations (a byte dropped, doubled or replaced, the data cut short).

#[path = "common/chunk_reference.rs"]
mod chunk_reference;
use chunk_reference::Rng;
use proptest::prelude::*;
use ssechunk::{ChunkDecoder, DecodePath, Dialect, Frame, Parser};

/// The events of an SSE stream: (type, data).
fn events(body: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut parser = Parser::new();
    let mut out = Vec::new();
    parser.feed(body);
    parser.finish();
    while let Some(frame) = parser.next_frame() {
        if let Ok(Frame::Event(event)) = frame {
            out.push((event.event_type().to_vec(), event.data().to_vec()));
        }
    }
    out
}

/// How often each path decoded an event, per dialect.
#[derive(Debug, Default)]
struct Taken {
    /// (flat, simd-json) counts for Anthropic, Responses, Gemini.
    counts: [(u64, u64); 3],
    /// How many of the flat ones reused the scanner's template, per dialect.
    reused: [u64; 3],
}

impl Taken {
    fn slot(dialect: Option<Dialect>) -> Option<usize> {
        match dialect? {
            Dialect::Anthropic => Some(0),
            Dialect::Responses => Some(1),
            Dialect::Gemini => Some(2),
            _ => None,
        }
    }
}

/// Decodes `events` with both decoders (both fixed to `dialect`, or both detecting it),
/// asserting the same payload for each; returns the path of each event.
fn compare(
    dialect: Option<Dialect>,
    events: &[(Vec<u8>, Vec<u8>)],
    what: &str,
    taken: &mut Taken,
) -> Vec<DecodePath> {
    let mut traced = ChunkDecoder::with_dialect(dialect);
    let mut simd = ChunkDecoder::with_dialect(dialect);
    let mut paths = Vec::new();
    for (i, (event_type, data)) in events.iter().enumerate() {
        let (payload, path) = traced.decode_event_traced(event_type, data);
        let got = format!("{payload:?}");
        drop(payload);
        let want = format!("{:?}", simd.decode_event_with_simd_json(event_type, data));
        assert_eq!(
            got,
            want,
            "{what}, event {i} ({}): {}",
            String::from_utf8_lossy(event_type),
            String::from_utf8_lossy(data)
        );
        assert_eq!(traced.dialect(), simd.dialect(), "{what}, event {i}");
        if let Some(slot) = Taken::slot(traced.dialect()) {
            match path {
                DecodePath::Fast => taken.counts[slot].0 += 1,
                DecodePath::Template => {
                    taken.counts[slot].0 += 1;
                    taken.reused[slot] += 1;
                }
                DecodePath::SimdJson => taken.counts[slot].1 += 1,
                DecodePath::Done => {}
            }
        }
        paths.push(path);
    }
    paths
}

/// The frequent events the scanner is for (and the Responses API's reasoning items and
/// Gemini's function calls and signed parts, whose JSON text it gives as their own bytes): it
/// must take every one of them in the corpus.
fn frequent(event_type: &[u8], data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let delta = [
        "content_block_delta",
        "response.output_text.delta",
        "response.reasoning_summary_text.delta",
        "response.function_call_arguments.delta",
    ];
    delta.iter().any(|d| event_type == d.as_bytes())
        || (event_type == b"response.output_item.done" && text.contains("\"type\":\"reasoning\""))
        || text.contains("\"candidates\"")
}

#[test]
fn every_corpus_event_decodes_the_same_on_both_paths() {
    let Some(corpus) = chunk_reference::load_corpus() else {
        return;
    };
    let mut taken = Taken::default();
    let (mut frequent_seen, mut streams) = (0, 0);
    for (name, body) in &corpus.other {
        let events = events(body);
        for dialect in [None, detect(&events)] {
            let paths = compare(dialect, &events, name, &mut taken);
            if dialect.is_some() {
                continue;
            }
            streams += 1;
            for ((event_type, data), path) in events.iter().zip(&paths) {
                if frequent(event_type, data) {
                    frequent_seen += 1;
                    assert!(
                        matches!(path, DecodePath::Fast | DecodePath::Template),
                        "{name}: a frequent event the scanner declined: {}",
                        String::from_utf8_lossy(data)
                    );
                }
            }
        }
    }
    eprintln!("flat path per dialect (flat, simd-json), streams decoded twice: {taken:?}");
    assert_eq!(streams, 109, "the non-chat streams of the corpus");
    assert!(frequent_seen > 1500, "{frequent_seen} frequent events");
    for (i, &(flat, simd)) in taken.counts.iter().enumerate() {
        assert!(
            flat > 2 * simd,
            "dialect {i}: the flat path took {flat} events, simd-json {simd}"
        );
    }
    // Anthropic's and the Responses API's deltas reuse the template (padding and all).
    for i in 0..2 {
        let (flat, reused) = (taken.counts[i].0, taken.reused[i]);
        assert!(
            2 * reused > flat,
            "dialect {i}: {reused} of {flat} flat events reused the template"
        );
    }
}

/// The dialect the stream's events identify first.
fn detect(events: &[(Vec<u8>, Vec<u8>)]) -> Option<Dialect> {
    events
        .iter()
        .find_map(|(t, d)| Dialect::detect(t, d))
        .filter(|d| *d != Dialect::Chat)
}

// ---- Generated events -------------------------------------------------------------------

/// A JSON string literal for `text`, each character written plainly or escaped at random.
fn string(rng: &mut Rng, text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => match (c, rng.below(3)) {
                ('\n', 0) => out.push_str("\\n"),
                ('\t', 0) => out.push_str("\\t"),
                _ => out.push_str(&format!("\\u{:04x}", c as u32)),
            },
            c if rng.below(6) == 0 => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    if rng.below(2) == 0 {
                        out.push_str(&format!("\\u{unit:04X}"));
                    } else {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
            c if c == '/' && rng.below(2) == 0 => out.push_str("\\/"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Random text: plain words, JSON-significant and control characters, non-ASCII.
fn text(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "Hello",
        " world",
        "\n",
        "\"",
        "\\",
        "/",
        "{\"a\": 2",
        "é",
        "日本",
        "🎉",
        "\t",
        "\u{1}",
        "\u{7f}",
        " ",
        "",
        "\u{2028}",
        "null",
        "}",
        "]",
    ];
    (0..rng.below(6))
        .map(|_| PIECES[rng.below(PIECES.len())])
        .collect()
}

/// A value of a wrong or unusual shape for any field.
fn odd_value(rng: &mut Rng) -> String {
    const VALUES: &[&str] = &[
        "null",
        "0",
        "7",
        "-1",
        "-0",
        "1.5",
        "2.0",
        "1e3",
        "1E-2",
        "01",
        "12345678901234567890",
        "1234567890123456789",
        "true",
        "false",
        "[]",
        "[1,\"x\",{\"a\":null}]",
        "{}",
        "{\"type\":\"text_delta\",\"text\":\"x\"}",
        "\"\"",
        "\"error\"",
        "\"\\ud800\"",
        "\"\\udc00x\"",
        "\"\\u0065rror\"",
        "\"a\\qb\"",
        "{\"nested\":{\"deep\":[[[{}]]]}}",
    ];
    VALUES[rng.below(VALUES.len())].to_string()
}

/// Whitespace, usually none.
fn pad(rng: &mut Rng) -> &'static str {
    [
        "",
        "",
        "",
        "",
        " ",
        "\n",
        "  \t",
        "\r\n ",
        "               ",
    ][rng.below(9)]
}

/// An object of `members` (name, JSON text), with their order shuffled, some dropped, an
/// unknown or duplicate member added and any value made odd, at random.
fn object(mut members: Vec<(String, String)>, rng: &mut Rng) -> String {
    for i in (1..members.len()).rev() {
        if rng.below(3) == 0 {
            members.swap(i, rng.below(i + 1));
        }
    }
    for member in members.iter_mut() {
        if rng.below(14) == 0 {
            member.1 = odd_value(rng);
        }
    }
    if rng.below(10) == 0 && !members.is_empty() {
        members.remove(rng.below(members.len()));
    }
    if rng.below(4) == 0 {
        let extra = (
            [
                "obfuscation",
                "logprobs",
                "x",
                "sequence_number",
                "citations",
            ][rng.below(5)]
            .to_string(),
            odd_value(rng),
        );
        members.insert(rng.below(members.len() + 1), extra);
    }
    if rng.below(14) == 0 && !members.is_empty() {
        let dup = members[rng.below(members.len())].clone();
        members.push(dup);
    }
    let mut out = String::from("{");
    out.push_str(pad(rng));
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
            out.push_str(pad(rng));
        }
        out.push_str(&format!("\"{key}\"{}:{}{value}", pad(rng), pad(rng)));
        out.push_str(pad(rng));
    }
    out.push('}');
    out
}

fn m(key: &str, value: String) -> (String, String) {
    (key.to_string(), value)
}

fn anthropic_event(rng: &mut Rng) -> (Vec<u8>, String) {
    let index = format!("{}", rng.below(3));
    let (kind, members) = match rng.below(10) {
        0..=4 => {
            let (delta_type, field) = [
                ("text_delta", "text"),
                ("thinking_delta", "thinking"),
                ("input_json_delta", "partial_json"),
                ("signature_delta", "signature"),
                ("citations_delta", "citation"),
            ][rng.below(5)];
            let t = text(rng);
            let delta = object(
                vec![
                    m("type", format!("\"{delta_type}\"")),
                    m(field, string(rng, &t)),
                ],
                rng,
            );
            (
                "content_block_delta",
                vec![
                    m("type", "\"content_block_delta\"".into()),
                    m("index", index),
                    m("delta", delta),
                ],
            )
        }
        5 | 6 => {
            let block = match rng.below(5) {
                0 => vec![m("type", "\"text\"".into()), m("text", string(rng, ""))],
                1 => vec![
                    m("type", "\"thinking\"".into()),
                    m("thinking", string(rng, "")),
                    m("signature", string(rng, "")),
                ],
                2 => vec![
                    m("type", "\"tool_use\"".into()),
                    m("id", string(rng, "toolu_1")),
                    m("name", string(rng, "add")),
                    m(
                        "input",
                        ["{}", "{ }", "{\"a\":1}", "null", "[]"][rng.below(5)].into(),
                    ),
                ],
                3 => vec![
                    m("type", "\"redacted_thinking\"".into()),
                    m("data", string(rng, "abc")),
                ],
                _ => vec![m("type", "\"server_tool_use\"".into())],
            };
            let block = object(block, rng);
            (
                "content_block_start",
                vec![
                    m("type", "\"content_block_start\"".into()),
                    m("index", index),
                    m("content_block", block),
                ],
            )
        }
        7 => (
            "content_block_stop",
            vec![
                m("type", "\"content_block_stop\"".into()),
                m("index", index),
            ],
        ),
        8 => {
            let usage = object(
                vec![
                    m("input_tokens", format!("{}", rng.below(100))),
                    m("output_tokens", format!("{}", rng.below(100))),
                    m("cache_read_input_tokens", format!("{}", rng.below(10))),
                ],
                rng,
            );
            let delta = object(vec![m("stop_reason", "\"end_turn\"".into())], rng);
            (
                "message_delta",
                vec![
                    m("type", "\"message_delta\"".into()),
                    m("delta", delta),
                    m("usage", usage),
                ],
            )
        }
        _ => {
            let usage = object(
                vec![
                    m("input_tokens", format!("{}", rng.below(100))),
                    m("output_tokens", "1".into()),
                ],
                rng,
            );
            let message = object(
                vec![
                    m("id", string(rng, "msg_1")),
                    m("model", string(rng, "claude")),
                    m("content", "[]".into()),
                    m("usage", usage),
                ],
                rng,
            );
            (
                "message_start",
                vec![m("type", "\"message_start\"".into()), m("message", message)],
            )
        }
    };
    let event_type = if rng.below(5) == 0 { "message" } else { kind };
    (event_type.as_bytes().to_vec(), object(members, rng))
}

fn responses_event(rng: &mut Rng) -> (Vec<u8>, String) {
    let item_id = format!("\"fc_{}\"", rng.below(3));
    let output_index = format!("{}", rng.below(3));
    let (kind, members): (&str, Vec<(String, String)>) = match rng.below(10) {
        0..=4 => {
            let kind = [
                "response.output_text.delta",
                "response.reasoning_summary_text.delta",
                "response.reasoning_text.delta",
                "response.function_call_arguments.delta",
                "response.refusal.delta",
                "response.custom_tool_call_input.delta",
            ][rng.below(6)];
            let t = text(rng);
            (
                kind,
                vec![
                    m("type", format!("\"{kind}\"")),
                    m("sequence_number", format!("{}", rng.below(1000))),
                    m("item_id", item_id),
                    m("output_index", output_index),
                    m("content_index", "0".into()),
                    m("summary_index", format!("{}", rng.below(2))),
                    m("delta", string(rng, &t)),
                    m("logprobs", "[]".into()),
                    m("obfuscation", string(rng, "CsGoBBsu")),
                ],
            )
        }
        5 => {
            let item_type =
                ["function_call", "custom_tool_call", "message", "reasoning"][rng.below(4)];
            let item = object(
                vec![
                    m("id", item_id.clone()),
                    m("type", format!("\"{item_type}\"")),
                    m("call_id", string(rng, "call_1")),
                    m("name", string(rng, "add")),
                    m("arguments", string(rng, "{\"a\":1}")),
                    m("input", string(rng, "x")),
                    m(
                        "summary",
                        match rng.below(4) {
                            0 => "[]".into(),
                            1 => {
                                let t = text(rng);
                                format!(
                                    "[{{\"type\":\"summary_text\",\"text\":{}}}]",
                                    string(rng, &t)
                                )
                            }
                            2 => "[{\"n\":12345678901234567890},{\"f\":2.5}]".into(),
                            _ => "[ {\"type\" :\"summary_text\"}]".into(),
                        },
                    ),
                ],
                rng,
            );
            let kind = ["response.output_item.added", "response.output_item.done"][rng.below(2)];
            (
                kind,
                vec![
                    m("type", format!("\"{kind}\"")),
                    m("output_index", output_index),
                    m("item", item),
                ],
            )
        }
        6 => {
            let kind = [
                "response.function_call_arguments.done",
                "response.custom_tool_call_input.done",
                "response.output_text.done",
                "response.content_part.added",
            ][rng.below(4)];
            (
                kind,
                vec![
                    m("type", format!("\"{kind}\"")),
                    m("item_id", item_id),
                    m("output_index", output_index),
                    m("arguments", string(rng, "{\"a\":1}")),
                    m("input", string(rng, "x")),
                    m("part", "{\"type\":\"output_text\",\"text\":\"\"}".into()),
                ],
            )
        }
        _ => {
            let kind = [
                "response.created",
                "response.in_progress",
                "response.completed",
                "response.incomplete",
                "response.failed",
            ][rng.below(5)];
            let usage = object(
                vec![
                    m("input_tokens", format!("{}", rng.below(100))),
                    m("output_tokens", format!("{}", rng.below(100))),
                    m("total_tokens", format!("{}", rng.below(200))),
                    m(
                        "input_tokens_details",
                        object(vec![m("cached_tokens", "3".into())], rng),
                    ),
                    m(
                        "output_tokens_details",
                        object(vec![m("reasoning_tokens", "4".into())], rng),
                    ),
                ],
                rng,
            );
            let usage = if rng.below(3) == 0 {
                "null".into()
            } else {
                usage
            };
            let response = object(
                vec![
                    m("id", string(rng, "resp_1")),
                    m("object", "\"response\"".into()),
                    m("model", string(rng, "gpt-5")),
                    m("temperature", "1.0".into()),
                    m("error", "null".into()),
                    m("incomplete_details", {
                        let reason = string(rng, "max_output_tokens");
                        object(vec![m("reason", reason)], rng)
                    }),
                    m("output", "[]".into()),
                    m("usage", usage),
                ],
                rng,
            );
            (
                kind,
                vec![
                    m("type", format!("\"{kind}\"")),
                    m("response", response),
                    m("sequence_number", "1".into()),
                ],
            )
        }
    };
    let event_type = if rng.below(5) == 0 { "message" } else { kind };
    (event_type.as_bytes().to_vec(), object(members, rng))
}

fn gemini_event(rng: &mut Rng) -> (Vec<u8>, String) {
    let part = |rng: &mut Rng| {
        let t = text(rng);
        let mut members = vec![m("text", string(rng, &t))];
        match rng.below(8) {
            0 => members.push(m("thought", "true".into())),
            1 => members.push(m("thoughtSignature", string(rng, "Ci8B"))),
            2 => {
                // Arguments the simd-json path writes as they are, compacted, or not at all
                // the same (a fraction, an escape it does not write).
                let args = [
                    "{\"a\":2}",
                    "{\"a\": 2, \"b\": \"x y\"}",
                    "null",
                    "[1,{\"c\":[]}]",
                    "\"text\"",
                    "{\"f\":1.5}",
                    "{\"s\":\"\\u00e9\"}",
                    "{\"n\":\"line\\nbreak\"}",
                ][rng.below(8)];
                let mut call = vec![m("name", string(rng, "add"))];
                if rng.below(2) == 0 {
                    call.push(m("args", args.into()));
                }
                if rng.below(3) == 0 {
                    call.push(m("id", string(rng, "call_7")));
                }
                members.push(m("functionCall", object(call, rng)));
            }
            3 => members.push(m("thoughtSignature", "\"\"".into())),
            _ => {}
        }
        object(members, rng)
    };
    let candidates = (0..1 + rng.below(2))
        .map(|i| {
            let parts = (0..rng.below(3)).map(|_| part(rng)).collect::<Vec<_>>();
            let content = object(
                vec![
                    m("role", "\"model\"".into()),
                    m("parts", format!("[{}]", parts.join(","))),
                ],
                rng,
            );
            let mut members = vec![m("content", content)];
            if i > 0 || rng.below(2) == 0 {
                members.push(m("index", format!("{i}")));
            }
            if rng.below(3) == 0 {
                members.push(m("finishReason", string(rng, "STOP")));
            }
            object(members, rng)
        })
        .collect::<Vec<_>>();
    let usage = object(
        vec![
            m("promptTokenCount", format!("{}", rng.below(100))),
            m("candidatesTokenCount", format!("{}", rng.below(100))),
            m("totalTokenCount", format!("{}", rng.below(200))),
            m("thoughtsTokenCount", format!("{}", rng.below(9))),
            m("trafficType", "\"ON_DEMAND\"".into()),
            m(
                "promptTokensDetails",
                "[{\"modality\": \"TEXT\",\"tokenCount\": 57}]".into(),
            ),
        ],
        rng,
    );
    let mut members = vec![
        m("candidates", format!("[{}]", candidates.join(","))),
        m("usageMetadata", usage),
        m("modelVersion", string(rng, "gemini-2.5-flash")),
        m("createTime", "\"2026-03-12T18:06:05.232680Z\"".into()),
        m("responseId", string(rng, "jQCzaei")),
    ];
    if rng.below(12) == 0 {
        members.push(m("promptFeedback", "{\"blockReason\":\"SAFETY\"}".into()));
    }
    (b"message".to_vec(), object(members, rng))
}

/// One byte-level mutation of `data`, sometimes.
fn mutate(rng: &mut Rng, data: String) -> Vec<u8> {
    let mut bytes = data.into_bytes();
    if bytes.is_empty() || rng.below(6) != 0 {
        return bytes;
    }
    let at = rng.below(bytes.len());
    match rng.below(5) {
        0 => {
            bytes.remove(at);
        }
        1 => bytes.insert(at, bytes[at]),
        2 => {
            let odd = b"{}[]\",:\\ 0a\xff\xc3";
            bytes[at] = odd[rng.below(odd.len())];
        }
        3 => bytes.truncate(at),
        _ => bytes.insert(at, b' '),
    }
    bytes
}

/// A generated stream of `dialect`'s events.
fn generated(seed: u64, dialect: Dialect, len: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut rng = Rng::new(seed);
    (0..len)
        .map(|_| {
            let (event_type, data) = match dialect {
                Dialect::Anthropic => anthropic_event(&mut rng),
                Dialect::Responses => responses_event(&mut rng),
                _ => gemini_event(&mut rng),
            };
            (event_type, mutate(&mut rng, data))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_events_decode_the_same_on_both_paths(
        seed in any::<u64>(),
        which in 0usize..3,
        len in 1usize..24,
        fixed in any::<bool>(),
    ) {
        let dialect = [Dialect::Anthropic, Dialect::Responses, Dialect::Gemini][which];
        let events = generated(seed, dialect, len);
        let mut taken = Taken::default();
        compare(fixed.then_some(dialect), &events, &format!("seed {seed}, {dialect}"), &mut taken);
    }
}

/// Many generated events per dialect: the scanner takes a good share of them (the shapes it
/// knows) and declines the others, with the same results either way.
#[test]
fn the_flat_path_takes_generated_events_and_declines_the_odd_ones() {
    for (which, dialect) in [Dialect::Anthropic, Dialect::Responses, Dialect::Gemini]
        .into_iter()
        .enumerate()
    {
        let mut taken = Taken::default();
        for seed in 0..200 {
            let events = generated(seed * 3 + which as u64, dialect, 20);
            compare(Some(dialect), &events, &format!("seed {seed}"), &mut taken);
        }
        let (flat, simd) = taken.counts[which];
        eprintln!("{dialect}: flat {flat}, simd-json {simd}");
        assert!(
            flat > 500 && simd > 200,
            "{dialect}: flat {flat}, simd-json {simd}"
        );
    }
}

// ---- The scanner's templates -------------------------------------------------------------

/// `data` (a JSON text) with some of its values and whitespace changed at random, the way
/// consecutive events of one kind differ: value strings rewritten (escapes, non-ASCII, empty),
/// numbers changed (and sometimes given another form: negative, a fraction, an exponent, too
/// long, a leading zero), runs of whitespace between tokens lengthened, shortened or removed.
/// Now and then it changes what the template cannot reuse: a key, a literal, a number made a
/// string, a string's opening quote, whitespace added where there was none, a byte anywhere.
fn variant(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    while at < data.len() {
        let b = data[at];
        if b == b'"' {
            // A whole string, escapes and all (or the rest of a cut one).
            let mut end = at + 1;
            while end < data.len() && data[end] != b'"' {
                end += if data[end] == b'\\' { 2 } else { 1 };
            }
            let end = (end + 1).min(data.len());
            let mut after = end;
            while after < data.len() && ws(data[after]) {
                after += 1;
            }
            let key = data.get(after) == Some(&b':');
            match rng.below(if key { 150 } else { 3 }) {
                0 if key => out.extend_from_slice(b"\"other\""),
                0 => {
                    let t = text(rng);
                    out.extend_from_slice(string(rng, &t).as_bytes());
                }
                // Its opening quote replaced: no longer a string.
                1 if !key && rng.below(30) == 0 => {
                    out.push(b"x0[ "[rng.below(4)]);
                    out.extend_from_slice(&data[at + 1..end]);
                }
                _ => out.extend_from_slice(&data[at..end]),
            }
            at = end;
        } else if b == b'-' || b.is_ascii_digit() {
            let mut end = at + 1;
            while end < data.len()
                && matches!(data[end], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
            {
                end += 1;
            }
            let number = match rng.below(30) {
                0..=9 => format!("{}", rng.below(100_000)),
                10 | 11 => {
                    ["-3", "2.5", "1e2", "007", "12345678901234567890", "-0"][rng.below(6)].into()
                }
                12 => "\"5\"".into(),
                _ => String::from_utf8_lossy(&data[at..end]).into_owned(),
            };
            out.extend_from_slice(number.as_bytes());
            at = end;
        } else if ws(b) {
            let mut end = at;
            while end < data.len() && ws(data[end]) {
                end += 1;
            }
            let run: &[u8] = match rng.below(20) {
                0 => b"",
                1..=3 => b"    ",
                4 | 5 => b"\n\t ",
                _ => &data[at..end],
            };
            out.extend_from_slice(run);
            at = end;
        } else if matches!(data.get(at..at + 2), Some(b"{}" | b"[]")) && rng.below(4) == 0 {
            // An empty object or array that now holds something (a skipped value changes
            // inside; a value the scanner reads as empty must not be reused).
            out.extend_from_slice(if b == b'{' {
                br#"{"x":[1]}"#
            } else {
                br#"[{"y":2}]"#
            });
            at += 2;
        } else if matches!(data.get(at..at + 2), Some(b"[1" | b"{\"")) && rng.below(40) == 0 {
            // An object or array that now holds one more member or element.
            out.extend_from_slice(if b == b'{' { br#"{"z":null,"# } else { b"[0," });
            at += 1;
        } else if matches!(b, b't' | b'f' | b'n') && rng.below(60) == 0 {
            // Another literal.
            let mut end = at;
            while end < data.len() && data[end].is_ascii_alphabetic() {
                end += 1;
            }
            out.extend_from_slice([&b"true"[..], b"false", b"null", b"nul"][rng.below(4)]);
            at = end;
        } else {
            out.push(b);
            if matches!(b, b',' | b':' | b'{' | b'[') && rng.below(150) == 0 {
                out.push(b' ');
            }
            at += 1;
        }
    }
    if rng.below(40) == 0 && !out.is_empty() {
        let i = rng.below(out.len());
        let odd = b"{}[]\",:\\ 0a\xff";
        out[i] = odd[rng.below(odd.len())];
    }
    out
}

/// A generated stream in which each event is a variant of one of a few events of `dialect`:
/// the stream the templates are for, and the differences they must not reuse across.
fn varied(seed: u64, dialect: Dialect, len: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut rng = Rng::new(seed);
    let bases: Vec<(Vec<u8>, String)> = (0..1 + rng.below(3))
        .map(|_| match dialect {
            Dialect::Anthropic => anthropic_event(&mut rng),
            Dialect::Responses => responses_event(&mut rng),
            _ => gemini_event(&mut rng),
        })
        .collect();
    let mut base = 0;
    let mut events: Vec<_> = (0..len)
        .map(|_| {
            if rng.below(6) == 0 {
                base = rng.below(bases.len());
            }
            let (event_type, data) = &bases[base];
            (event_type.clone(), variant(&mut rng, data.as_bytes()))
        })
        .collect();
    // An Anthropic stream ends its blocks: what the decoder learnt of each (a tool call's
    // arguments, from its start's `input` when no fragment came) shows in their ends.
    if dialect == Dialect::Anthropic {
        for index in 0..4 {
            let data = format!(r#"{{"type":"content_block_stop","index":{index}}}"#);
            events.push((b"content_block_stop".to_vec(), data.into_bytes()));
        }
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn varied_events_decode_the_same_from_the_template(
        seed in any::<u64>(),
        which in 0usize..3,
        len in 1usize..32,
    ) {
        let dialect = [Dialect::Anthropic, Dialect::Responses, Dialect::Gemini][which];
        let events = varied(seed, dialect, len);
        let mut taken = Taken::default();
        compare(Some(dialect), &events, &format!("seed {seed}, {dialect}"), &mut taken);
    }
}

/// The varied streams reach the templates: many events reuse one, and the same events are
/// decoded as simd-json decodes them whether they reuse it, are scanned in full or declined.
#[test]
fn the_templates_take_varied_events() {
    for (which, dialect) in [Dialect::Anthropic, Dialect::Responses]
        .into_iter()
        .enumerate()
    {
        let mut taken = Taken::default();
        // Many seeds: a value read from inside an object that a later event changes (an
        // Anthropic tool's empty `input`) is met by chance only every few thousand streams.
        for seed in 0..5000 {
            let events = varied(seed * 7 + which as u64, dialect, 24);
            compare(Some(dialect), &events, &format!("seed {seed}"), &mut taken);
        }
        let ((flat, simd), reused) = (taken.counts[which], taken.reused[which]);
        eprintln!("{dialect}: flat {flat} ({reused} from the template), simd-json {simd}");
        assert!(
            reused > 600 && flat > reused + 300 && simd > 300,
            "{dialect}: flat {flat} ({reused} from the template), simd-json {simd}"
        );
    }
}

/// One decoder meets several dialects (a recorded mix read with detection, or a decoder
/// reset and reused for another provider): each dialect's template keeps its own escaped
/// strings, whatever the others' events do in between.
#[test]
fn templates_keep_their_strings_across_dialects() {
    // Kinds whose events are kept as templates (a content block's delta; the response's
    // creation, which `in_progress` repeats).
    let anthropic: &[u8] = br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\u0041b"}}"#;
    let responses: &[u8] =
        br#"{"type":"response.created","response":{"id":"x\u0042y","model":"m2"}}"#;
    let gemini: &[u8] =
        br#"{"candidates":[{"content":{"parts":[{"text":"q\u0043z"}],"role":"model"},"index":0}]}"#;
    let ev = |t: &[u8], d: &[u8]| (t.to_vec(), d.to_vec());
    let (a, r, g) = (
        ev(b"content_block_delta", anthropic),
        ev(b"response.created", responses),
        ev(b"message", gemini),
    );
    let mut taken = Taken::default();
    for events in [
        vec![a.clone(), r.clone(), a.clone()],
        vec![a.clone(), g.clone(), a.clone()],
        vec![r.clone(), a.clone(), r.clone()],
        vec![r.clone(), g.clone(), r.clone()],
    ] {
        let paths = compare(None, &events, "a switch of dialects", &mut taken);
        assert_eq!(
            paths[2],
            DecodePath::Template,
            "the third event reuses its template"
        );
    }
    // The same events as three streams, the decoders reset between them.
    let mut traced = ChunkDecoder::new();
    let mut simd = ChunkDecoder::new();
    for (event_type, data) in [&a, &r, &a] {
        let got = format!("{:?}", traced.decode_event_traced(event_type, data).0);
        let want = format!("{:?}", simd.decode_event_with_simd_json(event_type, data));
        assert_eq!(got, want);
        traced.reset();
        simd.reset();
    }
}

/// Varied streams of the three dialects in turns of a few events, read by one decoder that
/// detects the dialect: the same payloads as simd-json's, templates reused in every dialect
/// that keeps one.
#[test]
fn varied_streams_of_mixed_dialects_decode_the_same() {
    let mut taken = Taken::default();
    for seed in 0..150 {
        let mut rng = Rng::new(seed);
        let streams = [
            varied(seed * 3, Dialect::Anthropic, 30),
            varied(seed * 3 + 1, Dialect::Responses, 30),
            varied(seed * 3 + 2, Dialect::Gemini, 30),
        ];
        let mut at = [0; 3];
        let mut mixed = Vec::new();
        while at.iter().zip(&streams).any(|(&i, s)| i < s.len()) {
            let which = rng.below(3);
            let turn = 1 + rng.below(5);
            let (i, stream) = (&mut at[which], &streams[which]);
            let end = (*i + turn).min(stream.len());
            mixed.extend_from_slice(&stream[*i..end]);
            *i = end;
        }
        compare(None, &mixed, &format!("mixed seed {seed}"), &mut taken);
    }
    eprintln!("mixed dialects: {taken:?}");
    assert!(
        taken.reused[0] > 300 && taken.reused[1] > 200,
        "templates reused: {:?}",
        taken.reused
    );
}

/// A value the scanner skips (a response's `tools`, its `metadata`) is one value of the
/// template: an event that differs inside it reuses the template, the value validated again
/// where it now lies; one whose value is no longer valid JSON there, or no longer the same
/// kind of value, does not, and decodes as simd-json says.
#[test]
fn a_change_inside_a_skipped_value_reuses_the_template_only_when_it_is_valid() {
    let created = |tools: &str, metadata: &str| {
        let data = format!(
            r#"{{"type":"response.in_progress","response":{{"id":"resp_1","model":"m","tools":{tools},"metadata":{metadata},"usage":null}},"sequence_number":1}}"#
        );
        (b"response.in_progress".to_vec(), data.into_bytes())
    };
    let base = created(r#"[{"type":"function","name":"add","strict":false}]"#, "{}");
    let cases = [
        (
            r#"[{"type":"function","name":"multiply","strict":true}]"#,
            "{}",
            true,
        ),
        (
            r#"[{"type":"function","name":"add"},{"type":"web_search"}]"#,
            "{}",
            true,
        ),
        ("[]", r#"{"user":"a\"b","n":[1,2.5,null]}"#, true),
        (r#"[ {"type" : "function"} ]"#, "{  }", true),
        (r#"[{"type":"function",}]"#, "{}", false),
        (r#"[{"type":"function"]"#, "{}", false),
        (r#"[{"type":"funct"ion"}]"#, "{}", false),
        ("[1e5]", "{}", false),
        (r#"{"type":"function"}"#, "{}", false),
        ("[]", "null", false),
    ];
    for (tools, metadata, reused) in cases {
        let mut taken = Taken::default();
        let events = [base.clone(), created(tools, metadata)];
        let paths = compare(Some(Dialect::Responses), &events, tools, &mut taken);
        assert_eq!(
            paths[1] == DecodePath::Template,
            reused,
            "{tools} {metadata}"
        );
    }
}

/// A string the scanner skips (a Responses delta's `obfuscation`) is validated again when it
/// changes, and only validated: a valid one reuses the template, an invalid one does not.
#[test]
fn a_changed_skipped_string_is_validated_again() {
    let delta = |obfuscation: &str| {
        let data = format!(
            r#"{{"type":"response.output_text.delta","content_index":0,"delta":"a","item_id":"msg_1","obfuscation":"{obfuscation}","output_index":0,"sequence_number":3}}"#
        );
        (b"response.output_text.delta".to_vec(), data.into_bytes())
    };
    for (obfuscation, reused) in [
        ("Zx9", true),
        (r#"a\u00e9\n\"b"#, true),
        (r"\ud83d\ude00", true),
        (r"bad\q", false),
        (r"\ud83d", false),
        ("ctl\u{1}", false),
    ] {
        let mut taken = Taken::default();
        let events = [delta("x1"), delta(obfuscation)];
        let paths = compare(Some(Dialect::Responses), &events, obfuscation, &mut taken);
        assert_eq!(paths[1] == DecodePath::Template, reused, "{obfuscation}");
    }
}

/// `varied` events as an SSE stream, framed the ways servers frame them: mostly
/// `event: T` / `data: D` / a blank line with LFs, now and then without the spaces, with CR
/// LF or CR line ends, the data split over two lines where it has a space, spaces or a CR
/// after it, an `id` line, a comment or a stray blank line between events.
fn framed(seed: u64, dialect: Dialect, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ 0x5eed);
    let mut out = Vec::new();
    for (event_type, data) in varied(seed, dialect, len) {
        let end: &[u8] = match rng.below(30) {
            0 => b"\r\n",
            1 => b"\r",
            _ => b"\n",
        };
        let space: &[u8] = if rng.below(15) == 0 { b"" } else { b" " };
        out.extend_from_slice(b"event:");
        out.extend_from_slice(space);
        out.extend_from_slice(&event_type);
        out.extend_from_slice(end);
        out.extend_from_slice(b"data:");
        out.extend_from_slice(space);
        match data.iter().position(|&b| b == b' ') {
            Some(at) if rng.below(15) == 0 => {
                out.extend_from_slice(&data[..at]);
                out.extend_from_slice(end);
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(&data[at + 1..]);
            }
            _ => out.extend_from_slice(&data),
        }
        match rng.below(40) {
            0 => out.extend_from_slice(b"  "),
            1 => out.push(b'\r'),
            _ => {}
        }
        out.extend_from_slice(end);
        out.extend_from_slice(end);
        match rng.below(40) {
            0 => out.extend_from_slice(b"id: 7\n"),
            1 => out.extend_from_slice(b": ping\n\n"),
            2 => out.extend_from_slice(b"\n"),
            _ => {}
        }
    }
    out
}

/// The events of `input` as the parser frames them and `decode_event` decodes them, one by
/// one: what a stream must give whatever its reads.
fn framed_reference(input: &[u8], config: &ssechunk::Config) -> Vec<String> {
    let mut parser = Parser::with_config(config.clone());
    let mut decoder = ChunkDecoder::with_dialect(config.get_dialect());
    let mut seen = Vec::new();
    parser.feed(input);
    parser.finish();
    while let Some(frame) = parser.next_frame() {
        match frame {
            Ok(Frame::Event(event)) => {
                let payload = decoder.decode_event(event.event_type(), event.data());
                seen.push(format!("{event:?} {payload:?}"));
            }
            Ok(_) => {}
            Err(e) => seen.push(format!("{e}")),
        }
    }
    seen
}

/// The cuts that end a read at every line end (after each LF but the last byte's).
fn line_ends(input: &[u8]) -> Vec<usize> {
    (1..input.len())
        .filter(|&i| input[i - 1] == b'\n')
        .collect()
}

/// The events a `ChunkStream` gives for `input` read in pieces ending at `cuts`.
fn framed_stream(input: &[u8], config: &ssechunk::Config, cuts: &[usize]) -> Vec<String> {
    let mut stream = ssechunk::ChunkStream::with_config(config.clone());
    let mut seen = Vec::new();
    let mut drain = |stream: &mut ssechunk::ChunkStream| {
        while let Some(outcome) = stream.next_outcome() {
            match outcome {
                Ok(ssechunk::Outcome::Event { event, payload }) => {
                    seen.push(format!("{event:?} {payload:?}"));
                }
                Ok(_) => {}
                Err(e) => seen.push(format!("{e}")),
            }
        }
    };
    let mut from = 0;
    for &cut in cuts.iter().chain([&input.len()]) {
        stream.feed(&input[from..cut]);
        from = cut;
        drain(&mut stream);
    }
    stream.finish();
    drain(&mut stream);
    seen
}

/// A stream reads an event like the last one (same type, data reusing the template) in one
/// pass, framing and decoding together (`ChunkStream::next_outcome`): whatever the framing,
/// the reads and the size limit, its events are the parser's, decoded as `decode_event`
/// decodes them.
#[test]
fn a_stream_reads_repeated_events_as_the_parser_and_decoder_do() {
    let mut repeated_streams = 0;
    for seed in 0..240u64 {
        let dialect = [Dialect::Anthropic, Dialect::Responses][seed as usize % 2];
        let input = framed(seed, dialect, 24);
        let mut rng = Rng::new(seed);
        let mut config = ssechunk::Config::new();
        if seed % 3 == 0 {
            config = config.dialect(Some(dialect));
        }
        if seed % 5 == 0 {
            // Near the events' sizes: some are over it.
            config = config.max_event_bytes(150 + rng.below(200));
        }
        let want = framed_reference(&input, &config);
        let whole = framed_stream(&input, &config, &[]);
        assert_eq!(whole, want, "seed {seed}, whole");
        let mut cuts: Vec<usize> = (0..rng.below(12))
            .map(|_| rng.below(input.len() + 1))
            .collect();
        cuts.sort_unstable();
        assert_eq!(
            framed_stream(&input, &config, &cuts),
            want,
            "seed {seed}, cuts {cuts:?}"
        );
        // A read per line end: the event's last LF is often the last byte read.
        assert_eq!(
            framed_stream(&input, &config, &line_ends(&input)),
            want,
            "seed {seed}, line ends"
        );
        repeated_streams += usize::from(want.len() > 4);
    }
    assert!(repeated_streams > 100);
}

/// The cases where an event's bytes go on like the template's but its data line does not:
/// another line before the blank line, a template whose data spanned lines, a skipped value
/// or a run of whitespace that now spans lines, data over the size limit. Each is read as
/// the parser frames it.
#[test]
fn a_repeated_event_ends_where_its_data_line_does() {
    let anthropic = |text: &str, tail: &str| {
        format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{text}\"}}}}{tail}"
        )
    };
    let responses = |logprobs: &str, sep: &str| {
        format!(
            "event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\"delta\":\"a\",\"logprobs\":{logprobs},{sep}\"sequence_number\":1}}\n\n"
        )
    };
    let spread = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\ndata: \"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}\n\n";
    let cases: Vec<(String, Option<usize>)> = vec![
        // Another line inside the event: an `id`, a second data line, a comment.
        (
            anthropic("a", "\n\n") + &anthropic("b", "\nid: 9\n\n"),
            None,
        ),
        (
            anthropic("a", "\n\n") + &anthropic("b", "\ndata: x\n\n"),
            None,
        ),
        (anthropic("a", "\n\n") + &anthropic("b", "\n: c\n\n"), None),
        (anthropic("a", "\n\n") + &anthropic("b", " \n\n"), None),
        (anthropic("a", "\n\n") + &anthropic("b", "\r\n\r\n"), None),
        // A line between the event line and the data line.
        (
            anthropic("a", "\n\n")
                + &anthropic("b", "\n\n").replacen("\ndata:", "\nid: 3\ndata:", 1),
            None,
        ),
        (
            anthropic("a", "\n\n") + &anthropic("b", "\n\n").replacen("\ndata:", "\n\ndata:", 1),
            None,
        ),
        // Another field where the data line would be.
        (
            anthropic("a", "\n\n") + &anthropic("b", "\n\n").replacen("\ndata:", "\ndatum", 1),
            None,
        ),
        // The template's data spanned two lines: the next event's second line is no data.
        (
            spread.to_string()
                + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\n\"delta\":{\"type\":\"text_delta\",\"text\":\"b\"}}\n\n",
            None,
        ),
        // A skipped value, or a run of whitespace, that now holds a line end.
        (responses("[]", "") + &responses("[\n]", ""), None),
        (responses("[1]", " ") + &responses("[1]", "\n"), None),
        // Over the limit by a byte (the data line with "bcd" holds 89), and within it.
        (anthropic("a", "\n\n") + &anthropic("bcd", "\n\n"), Some(88)),
        (anthropic("a", "\n\n") + &anthropic("bcd", "\n\n"), Some(89)),
    ];
    for (text, limit) in cases {
        let mut config = ssechunk::Config::new();
        if let Some(limit) = limit {
            config = config.max_event_bytes(limit);
        }
        // Three times: the third event on reuses a template.
        let input = [text.as_bytes(), text.as_bytes(), text.as_bytes()].concat();
        let want = framed_reference(&input, &config);
        assert_eq!(framed_stream(&input, &config, &[]), want, "{text:?}");
        assert_eq!(
            framed_stream(&input, &config, &line_ends(&input)),
            want,
            "{text:?}, line ends"
        );
    }
}

/// A changed value that nothing reads is not checked as UTF-8 (a skipped string, a skipped
/// array's string): the event's parts are the ones simd-json gives for the data decoded with
/// U+FFFD, as for any data that is not UTF-8.
#[test]
fn bytes_that_are_not_utf8_in_a_skipped_value_change_no_part() {
    let delta = |obfuscation: &[u8], logprobs: &[u8]| {
        let mut data =
            br#"{"type":"response.output_text.delta","delta":"a\u00e9","logprobs":["#.to_vec();
        data.extend_from_slice(logprobs);
        data.extend_from_slice(br#"],"obfuscation":""#);
        data.extend_from_slice(obfuscation);
        data.extend_from_slice(br#"","sequence_number":1}"#);
        (b"response.output_text.delta".to_vec(), data)
    };
    let mut taken = Taken::default();
    let events = [
        delta(b"ok", b"\"x\""),
        delta(b"o\xffk", b"\"x\""),
        delta(b"ok", b"\"\xc3\""),
        delta(b"\xe2\x82", b"\"\xff\""),
    ];
    let paths = compare(Some(Dialect::Responses), &events, "not UTF-8", &mut taken);
    assert!(
        paths[1..].iter().all(|p| *p == DecodePath::Template),
        "{paths:?}"
    );
}

/// A review's finding: a tool's `input` is read as empty (`{}`) or not, so it cannot be a
/// skipped value of the template, whose inside a later event may change: a later block whose
/// `input` holds members must decline, as simd-json's arguments differ.
#[test]
fn a_tool_input_that_was_empty_is_not_reused_when_it_is_not() {
    let start = |index: u32, id: &str, input: &str| {
        let data = format!(
            r#"{{"type":"content_block_start","index":{index},"content_block":{{"type":"tool_use","id":"{id}","name":"f","input":{input}}}}}"#
        );
        (b"content_block_start".to_vec(), data.into_bytes())
    };
    let stop = |index: u32| {
        let data = format!(r#"{{"type":"content_block_stop","index":{index}}}"#);
        (b"content_block_stop".to_vec(), data.into_bytes())
    };
    for (first, second) in [
        ("{}", r#"{"x":1}"#),
        ("{ }", "{}"),
        ("{}", "{  }"),
        (r#"{"y":2}"#, "{}"),
    ] {
        for dialect in [None, Some(Dialect::Anthropic)] {
            let events = [
                start(0, "a", first),
                start(1, "b", second),
                stop(1),
                stop(0),
            ];
            let mut taken = Taken::default();
            compare(
                dialect,
                &events,
                &format!("{first} then {second}"),
                &mut taken,
            );
        }
    }
    let input = b"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"a\",\"name\":\"f\",\"input\":{}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"b\",\"name\":\"g\",\"input\":{\"x\":1}}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n";
    let config = ssechunk::Config::new();
    assert_eq!(
        framed_stream(input, &config, &[]),
        framed_reference(input, &config)
    );
}

/// A review's finding: a Gemini event that says it is an error (`"type": "error"`) is an API
/// error on the flat path too (it declines to simd-json, which reads the error object).
#[test]
fn a_gemini_event_typed_error_is_an_error() {
    for data in [
        &br#"{"type":"error"}"#[..],
        br#"{"type":"error","candidates":[]}"#,
        br#"{"candidates":[],"type":"err\u006fr","message":"m"}"#,
        br#"{"type":"other","candidates":[]}"#,
        br#"{"type":5,"candidates":[]}"#,
    ] {
        let events = [(b"message".to_vec(), data.to_vec())];
        let mut taken = Taken::default();
        let what = String::from_utf8_lossy(data);
        compare(Some(Dialect::Gemini), &events, &what, &mut taken);
        let mut decoder = ChunkDecoder::with_dialect(Some(Dialect::Gemini));
        let error = matches!(
            decoder.decode_event(b"message", data),
            ssechunk::Payload::ApiError(_)
        );
        assert_eq!(error, what.contains("err"), "{what}");
    }
}
