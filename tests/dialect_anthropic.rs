//! The Anthropic Messages API dialect (issue 11) against a serde_json reference of its mapping.
//!
//! - Every Anthropic stream of the recorded corpus, fed to `ChunkStream` at read sizes 1 (files
//!   under 8 KiB), 7, 64, 4096 and whole, assembles in the `Accumulator` to the message that
//!   `common/anthropic_reference.rs` computes; each says something and ends `done`.
//! - The replayed case 11 (a stream cut by an `overloaded_error`) gives exactly its
//!   `.message.json`.
//! - One small hand-written stream per rule of the mapping, checked against exact JSON.
//! - A proptest generates streams (escapes, split UTF-8, text, thinking, tool calls with and
//!   without fragments, server-tool blocks, errors, invalid events, padding spaces before the
//!   final `}` as Anthropic sends, events without an `event:` line) and feeds them at random
//!   splits: library == reference == the whole input's result.
//!
//! - Once warm, decoding the corpus's Anthropic streams allocates nothing per event (a
//!   counting allocator, on this thread only): `tests/alloc.rs` runs the whole corpus through
//!   one stream, whose dialect is the first stream's (chat), so it never reaches this decoder.
//!
//! Run with `--all-features` (the `serde` feature serialises the message).

#[path = "common/anthropic_reference.rs"]
mod anthropic_reference;
#[path = "common/contract_reference.rs"]
mod contract_reference;
#[path = "common/corpus.rs"]
mod corpus;

use anthropic_reference::reference_message;
use contract_reference::assert_same_message;
use proptest::prelude::*;
use serde_json::{Value, json};
use ssechunk::{Accumulator, ChunkStream, Part, Payload};

#[path = "common/counting.rs"]
mod counting;
#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

/// How many Anthropic streams the corpus holds.
const CORPUS_STREAMS: usize = 28;

// ---------------------------------------------------------------------------------------------
// The library side.

/// The corpus's Anthropic streams (`None` without the corpus), with their names.
fn corpus_streams() -> Option<Vec<(String, Vec<u8>)>> {
    let files = corpus::corpus_files("sse")?;
    let streams: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter(|p| p.to_string_lossy().contains("/fantasy/"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read(p).expect("a corpus file"),
            )
        })
        .filter(|(_, body)| {
            body.windows(b"message_start".len())
                .any(|w| w == b"message_start")
        })
        .collect();
    assert_eq!(
        streams.len(),
        CORPUS_STREAMS,
        "Anthropic streams in the corpus"
    );
    Some(streams)
}

/// The library's message for `input` cut at `cuts` (ascending offsets).
fn library_message(input: &[u8], cuts: &[usize]) -> Value {
    let mut stream = ChunkStream::new();
    let mut acc = Accumulator::new();
    let pull = |stream: &mut ChunkStream, acc: &mut Accumulator| {
        while let Some(outcome) = stream.next_outcome() {
            acc.push_outcome(&outcome.expect("no event here is over the size limit"));
        }
    };
    let mut start = 0;
    for &cut in cuts.iter().chain([input.len()].iter()) {
        stream.feed(&input[start..cut]);
        pull(&mut stream, &mut acc);
        start = cut;
    }
    stream.finish();
    pull(&mut stream, &mut acc);
    serde_json::to_value(acc.message()).expect("the message serialises")
}

/// Cuts every `size` bytes.
fn reads_of(len: usize, size: usize) -> Vec<usize> {
    (1..len.div_ceil(size)).map(|i| i * size).collect()
}

/// The read sizes a stream of `len` bytes is fed at (the last is the whole input).
fn read_sizes(len: usize) -> Vec<usize> {
    let mut sizes = if len < 8 * 1024 { vec![1] } else { vec![] };
    sizes.extend([7, 64, 4096, len.max(1)]);
    sizes
}

/// Builds a stream: `event: T` (when T is not empty) and `data: D` per event.
fn sse(events: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::new();
    for (event, data) in events {
        if !event.is_empty() {
            out.push_str(&format!("event: {event}\n"));
        }
        out.push_str(&format!("data: {data}\n\n"));
    }
    out.into_bytes()
}

/// The library at every read size and the reference both give `expected`.
#[track_caller]
fn check(input: &[u8], expected: &Value, what: &str) {
    assert_same_message(
        &reference_message(input),
        expected,
        &format!("{what}: reference"),
    );
    for read in read_sizes(input.len()) {
        let message = library_message(input, &reads_of(input.len(), read));
        assert_same_message(&message, expected, &format!("{what} at read size {read}"));
    }
}

/// A message of the dialect with the contract's defaults, `choice` its only choice.
fn message(choice: Value, usage: Value, ending: &str) -> Value {
    json!({
        "dialect": "anthropic", "id": "msg_1", "model": "claude-x",
        "choices": [choice], "usage": usage, "errors": [], "invalid": 0, "ending": ending,
    })
}

/// Choice 0 with the contract's defaults, overridden by `fields`.
fn choice(fields: Value) -> Value {
    let mut c = json!({
        "index": 0, "role": "assistant", "content": null, "reasoning": null, "refusal": null,
        "tool_calls": [], "finish_reason": null, "finish": null,
    });
    for (k, v) in fields.as_object().expect("an object") {
        c[k] = v.clone();
    }
    c
}

fn usage(input: u64, output: u64, cached: Option<u64>) -> Value {
    json!({
        "input_tokens": input, "output_tokens": output, "total_tokens": input + output,
        "cached_input_tokens": cached, "reasoning_tokens": null,
    })
}

const START: (&str, &str) = (
    "message_start",
    r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-x","stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1}}    }"#,
);
const STOP: (&str, &str) = ("message_stop", r#"{"type":"message_stop"       }"#);

fn end(reason: &str, output: u64) -> (&'static str, String) {
    (
        "message_delta",
        format!(
            r#"{{"type":"message_delta","delta":{{"stop_reason":"{reason}","stop_sequence":null}},"usage":{{"output_tokens":{output}}}   }}"#
        ),
    )
}

fn owned(events: &[(&str, String)]) -> Vec<u8> {
    let v: Vec<(&str, &str)> = events.iter().map(|(e, d)| (*e, d.as_str())).collect();
    sse(&v)
}

fn s(x: (&'static str, &'static str)) -> (&'static str, String) {
    (x.0, x.1.to_owned())
}

fn block_start(index: u64, block: &str) -> (&'static str, String) {
    (
        "content_block_start",
        format!(r#"{{"type":"content_block_start","index":{index},"content_block":{block}}}"#),
    )
}

fn delta(index: u64, delta: &str) -> (&'static str, String) {
    (
        "content_block_delta",
        format!(r#"{{"type":"content_block_delta","index":{index},"delta":{delta}       }}"#),
    )
}

fn block_stop(index: u64) -> (&'static str, String) {
    (
        "content_block_stop",
        format!(r#"{{"type":"content_block_stop","index":{index}   }}"#),
    )
}

// ---------------------------------------------------------------------------------------------
// The replayed case and the corpus.

#[test]
fn case_11_overloaded_error_gives_its_message() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cases");
    let input = std::fs::read(dir.join("11-anthropic-overloaded-error.sse")).expect("the case");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("11-anthropic-overloaded-error.message.json"))
            .expect("its message"),
    )
    .expect("JSON");
    for read in [1, 3, 7, 64, 65536] {
        let message = library_message(&input, &reads_of(input.len(), read));
        assert_eq!(message, expected, "case 11 at read size {read}");
    }
    assert_eq!(reference_message(&input), expected, "case 11: reference");
}

#[test]
fn every_corpus_stream_matches_the_reference_at_every_read_size() {
    let Some(streams) = corpus_streams() else {
        return;
    };
    let (mut calls, mut thinking, mut bytes, mut runs) = (0, 0, 0, 0);
    for (name, body) in &streams {
        let expected = reference_message(body);
        for read in read_sizes(body.len()) {
            let message = library_message(body, &reads_of(body.len(), read));
            assert_same_message(&message, &expected, &format!("{name} at read size {read}"));
            runs += 1;
        }
        assert_eq!(expected["dialect"], "anthropic", "{name}");
        assert_eq!(expected["ending"], "done", "{name}: reached message_stop");
        assert_eq!(expected["invalid"], 0, "{name}");
        let c = &expected["choices"][0];
        let says = c["content"].as_str().is_some_and(|t| !t.is_empty())
            || c["reasoning"].as_str().is_some_and(|t| !t.is_empty())
            || !c["tool_calls"].as_array().expect("an array").is_empty();
        assert!(says, "{name} says something: {expected}");
        for call in c["tool_calls"].as_array().expect("an array") {
            assert_eq!(call["complete"], true, "{name}: {call}");
        }
        assert!(
            expected["usage"]["output_tokens"].as_u64() > Some(0),
            "{name}"
        );
        calls += c["tool_calls"].as_array().map_or(0, Vec::len);
        thinking += usize::from(c["reasoning"].is_string());
        bytes += body.len();
    }
    println!(
        "anthropic corpus: {} streams ({bytes} bytes), {runs} runs equal to the reference, \
         {calls} tool calls, {thinking} with reasoning",
        streams.len()
    );
}

/// Feeds `input` in 64 KiB reads, reading every part, and counts the events and parts.
fn decode_all(stream: &mut ChunkStream, input: &[u8]) -> (u64, u64, u64) {
    let (mut events, mut parts, mut touched) = (0, 0, 0u64);
    for piece in input.chunks(64 * 1024) {
        stream.feed(piece);
        while let Some(outcome) = stream.next_outcome() {
            if let ssechunk::Outcome::Event { payload, .. } = outcome.expect("within the limit") {
                events += 1;
                if let Payload::Parts(p) = payload {
                    for part in p.iter() {
                        parts += 1;
                        touched += match *part {
                            Part::Text { text, .. } | Part::Reasoning { text, .. } => {
                                text.len() as u64
                            }
                            Part::ToolCallArguments { fragment, .. } => fragment.len() as u64,
                            Part::ToolCallEnd { arguments, .. } => {
                                arguments.map_or(0, |a| a.len() as u64)
                            }
                            Part::Usage { usage } => usage.total_tokens,
                            _ => 1,
                        };
                    }
                }
            }
        }
    }
    (events, parts, touched)
}

#[test]
fn decoding_allocates_nothing_per_event_once_warm() {
    let Some(streams) = corpus_streams() else {
        return;
    };
    let all: Vec<u8> = streams.iter().flat_map(|(_, b)| b.clone()).collect();
    let reversed: Vec<u8> = streams.iter().rev().flat_map(|(_, b)| b.clone()).collect();
    let mut stream = ChunkStream::new();
    let warm = decode_all(&mut stream, &all);
    let (measured, allocations) = counting::counted(|| decode_all(&mut stream, &reversed));
    assert_eq!(warm, measured, "the same events and parts in either order");
    println!(
        "anthropic allocations: {} events, {} parts once warm: {allocations} allocations",
        measured.0, measured.1
    );
    assert_eq!(allocations, 0, "the Anthropic decoder allocated once warm");
}

// ---------------------------------------------------------------------------------------------
// One case per rule.

#[test]
fn text_blocks_are_content_and_padding_is_free() {
    let input = owned(&[
        s(START),
        s(("ping", r#"{"type": "ping"}"#)),
        block_start(0, r#"{"type":"text","text":""}"#),
        delta(0, r#"{"type":"text_delta","text":"Hel"}"#),
        delta(0, r#"{"type":"text_delta","text":"lo \"w\u00e9\"\n"}"#),
        block_stop(0),
        end("end_turn", 5),
        s(STOP),
    ]);
    let expected = message(
        choice(json!({"content": "Hello \"wé\"\n", "finish_reason": "end_turn", "finish": "stop"})),
        usage(10, 5, None),
        "done",
    );
    check(&input, &expected, "text");
}

#[test]
fn events_without_an_event_line_are_read_by_their_type() {
    let input = owned(&[
        ("", START.1.to_owned()),
        block_start(0, r#"{"type":"text","text":"Hi"}"#),
        ("", STOP.1.to_owned()),
    ]);
    let expected = message(choice(json!({"content": "Hi"})), usage(10, 1, None), "done");
    check(&input, &expected, "no event lines");
}

#[test]
fn tool_use_blocks_are_tool_calls_numbered_in_order() {
    let input = owned(&[
        s(START),
        block_start(0, r#"{"type":"text","text":""}"#),
        delta(0, r#"{"type":"text_delta","text":"Let me."}"#),
        block_stop(0),
        // Fragments.
        block_start(
            1,
            r#"{"type":"tool_use","id":"toolu_a","name":"add","input":{}}"#,
        ),
        delta(1, r#"{"type":"input_json_delta","partial_json":""}"#),
        delta(
            1,
            r#"{"type":"input_json_delta","partial_json":"{\"a\": 2"}"#,
        ),
        delta(
            1,
            r#"{"type":"input_json_delta","partial_json":", \"b\": 3}"}"#,
        ),
        block_stop(1),
        // No fragment: the start's input.
        block_start(
            2,
            r#"{"type":"tool_use","id":"toolu_b","name":"get","input":{"q":"x y","n":[1,2.5,null]}}"#,
        ),
        block_stop(2),
        // Only an empty fragment: `{}`.
        block_start(
            3,
            r#"{"type":"tool_use","id":"toolu_c","name":"now","input":{}}"#,
        ),
        delta(3, r#"{"type":"input_json_delta","partial_json":""}"#),
        block_stop(3),
        end("tool_use", 40),
        s(STOP),
    ]);
    let expected = message(
        choice(json!({
            "content": "Let me.",
            "tool_calls": [
                {"index": 0, "id": "toolu_a", "name": "add", "arguments": "{\"a\": 2, \"b\": 3}", "complete": true},
                {"index": 1, "id": "toolu_b", "name": "get", "arguments": "{\"q\":\"x y\",\"n\":[1,2.5,null]}", "complete": true},
                {"index": 2, "id": "toolu_c", "name": "now", "arguments": "{}", "complete": true},
            ],
            "finish_reason": "tool_use", "finish": "tool_calls",
        })),
        usage(10, 40, None),
        "done",
    );
    check(&input, &expected, "tool calls");
}

#[test]
fn a_tool_call_cut_before_its_stop_is_incomplete() {
    let input = owned(&[
        s(START),
        block_start(
            0,
            r#"{"type":"tool_use","id":"toolu_a","name":"add","input":{}}"#,
        ),
        delta(
            0,
            r#"{"type":"input_json_delta","partial_json":"{\"a\": "}"#,
        ),
    ]);
    let expected = message(
        choice(json!({"tool_calls": [
            {"index": 0, "id": "toolu_a", "name": "add", "arguments": "{\"a\": ", "complete": false},
        ]})),
        usage(10, 1, None),
        "truncated",
    );
    check(&input, &expected, "cut tool call");
}

#[test]
fn server_tool_blocks_are_not_tool_calls() {
    let input = owned(&[
        s(START),
        block_start(
            0,
            r#"{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}"#,
        ),
        delta(
            0,
            r#"{"type":"input_json_delta","partial_json":"{\"query\": \"x\"}"}"#,
        ),
        block_stop(0),
        block_start(
            1,
            r#"{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","title":"T"}]}"#,
        ),
        block_stop(1),
        block_start(2, r#"{"citations":[],"type":"text","text":""}"#),
        delta(
            2,
            r#"{"type":"citations_delta","citation":{"type":"web_search_result_location","cited_text":"c"}}"#,
        ),
        delta(2, r#"{"type":"text_delta","text":"Found."}"#),
        block_stop(2),
        end("end_turn", 9),
        s(STOP),
    ]);
    let expected = message(
        choice(json!({"content": "Found.", "finish_reason": "end_turn", "finish": "stop"})),
        usage(10, 9, None),
        "done",
    );
    check(&input, &expected, "server tools");
}

#[test]
fn thinking_blocks_are_reasoning_parts_kept_apart() {
    let input = owned(&[
        s(START),
        block_start(0, r#"{"type":"thinking","thinking":"","signature":""}"#),
        delta(0, r#"{"type":"thinking_delta","thinking":""}"#),
        delta(0, r#"{"type":"thinking_delta","thinking":"First"}"#),
        delta(0, r#"{"type":"thinking_delta","thinking":" thought."}"#),
        delta(0, r#"{"type":"signature_delta","signature":"EqQB"}"#),
        block_stop(0),
        block_start(1, r#"{"type":"text","text":""}"#),
        delta(1, r#"{"type":"text_delta","text":"Answer."}"#),
        block_stop(1),
        // A second thinking block, its first text in the start.
        block_start(2, r#"{"type":"thinking","thinking":"Second"}"#),
        delta(2, r#"{"type":"thinking_delta","thinking":" one."}"#),
        block_stop(2),
        // A redacted block is no reasoning text (it is a reasoning detail).
        block_start(3, r#"{"type":"redacted_thinking","data":"xyz"}"#),
        block_stop(3),
        block_start(4, r#"{"type":"thinking","thinking":""}"#),
        delta(4, r#"{"type":"thinking_delta","thinking":"Third."}"#),
        block_stop(4),
        end("end_turn", 30),
        s(STOP),
    ]);
    let expected = message(
        choice(json!({
            "content": "Answer.",
            "reasoning": "First thought.\n\nSecond one.\n\nThird.",
            "reasoning_details": concat!(
                r#"[{"type":"thinking","thinking":"First thought.","signature":"EqQB"},"#,
                r#"{"type":"redacted_thinking","data":"xyz"}]"#,
            ),
            "finish_reason": "end_turn", "finish": "stop",
        })),
        usage(10, 30, None),
        "done",
    );
    check(&input, &expected, "thinking");
}

#[test]
fn stop_reasons_are_normalised() {
    for (raw, finish) in [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "other"),
        ("something_new", "other"),
    ] {
        // Without message_stop: the message ends `finished`.
        let input = owned(&[s(START), end(raw, 3)]);
        let expected = message(
            choice(json!({"finish_reason": raw, "finish": finish})),
            usage(10, 3, None),
            "finished",
        );
        check(&input, &expected, raw);
    }
}

#[test]
fn usage_counts_every_prompt_token_last_value_of_each() {
    let input = owned(&[
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_1","model":"claude-x","usage":{"input_tokens":10,"cache_creation_input_tokens":3,"cache_read_input_tokens":5,"output_tokens":1}}}"#
                .to_owned(),
        ),
        block_start(0, r#"{"type":"text","text":"ok"}"#),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"cache_read_input_tokens":7,"output_tokens":20}}"#
                .to_owned(),
        ),
        s(STOP),
    ]);
    let expected = message(
        choice(json!({"content": "ok", "finish_reason": "end_turn", "finish": "stop"})),
        usage(10 + 7 + 3, 20, Some(7)),
        "done",
    );
    check(&input, &expected, "usage");
}

#[test]
fn errors_and_invalid_events() {
    let input = owned(&[
        s(START),
        block_start(0, r#"{"type":"text","text":""}"#),
        delta(0, r#"{"type":"text_delta","text":"Hel"}"#),
        // Unknown shapes: the whole event is invalid and changes nothing.
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":"0","delta":{"type":"text_delta","text":"X"}}"#
                .to_owned(),
        ),
        delta(0, r#"{"type":"text_delta","text":7}"#),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":"9"}}"#
                .to_owned(),
        ),
        ("content_block_delta", "not json".to_owned()),
        // An unknown event says nothing.
        ("mystery", r#"{"type":"mystery","x":1}"#.to_owned()),
        // An `error` member is an error in every dialect.
        (
            "",
            r#"{"type":"error","error":{"type":"api_error","message":"Internal"}}"#.to_owned(),
        ),
        (
            "error",
            r#"{"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"} }"#
                .to_owned(),
        ),
    ]);
    let mut expected = message(
        choice(json!({"content": "Hel"})),
        usage(10, 1, None),
        "error",
    );
    expected["errors"] = json!([
        {"message": "Internal", "type": "api_error", "code": null},
        {"message": "Overloaded", "type": "overloaded_error", "code": null},
    ]);
    expected["invalid"] = json!(4);
    check(&input, &expected, "errors");
}

// ---------------------------------------------------------------------------------------------
// Generated streams.

/// A JSON string literal for `text`, escaping some characters that need no escape (`\u` forms,
/// surrogate pairs beyond the BMP, `\/`) as `pick` says.
fn json_string(text: &str, pick: &[bool]) -> String {
    let mut out = String::from("\"");
    for (i, c) in text.chars().enumerate() {
        let escape = pick.get(i % pick.len().max(1)).copied().unwrap_or(false);
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str(if escape { "\\u0009" } else { "\\t" }),
            '/' if escape => out.push_str("\\/"),
            c if escape && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn text_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "a", "Hi", " ", "é", "日本", "😀", "\"", "\\", "\n", "\t", "/", "{", "}", ",", "",
        ]),
        0..5,
    )
    .prop_map(|parts| parts.concat())
}

/// One content block of a generated message.
#[derive(Debug, Clone)]
enum GenBlock {
    Text(String, Vec<String>),
    /// The start's text, the deltas' texts, the signature's pieces (none: an unsigned block).
    Thinking(String, Vec<String>, Vec<String>),
    /// A `redacted_thinking` block's `data`.
    Redacted(String),
    /// Arguments (as a JSON value), cut into this many fragments (0: none; the input holds
    /// them then).
    Tool(String, Value, usize),
    ServerTool(String),
    Other,
}

#[derive(Debug, Clone)]
enum Extra {
    Ping,
    Error(String),
    ErrorMember(String),
    NotJson,
    BadShape,
    Unknown,
}

fn value_strategy() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        text_strategy().prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .prop_map(|v| match v {
        Value::Object(_) => v,
        other => json!({ "v": other }),
    })
}

fn block_strategy() -> impl Strategy<Value = GenBlock> {
    prop_oneof![
        3 => (text_strategy(), prop::collection::vec(text_strategy(), 0..4))
            .prop_map(|(s, d)| GenBlock::Text(s, d)),
        2 => (
            text_strategy(),
            prop::collection::vec(text_strategy(), 0..4),
            prop::collection::vec("[A-Za-z0-9+/=]{0,6}", 0..3),
        )
            .prop_map(|(s, d, sig)| GenBlock::Thinking(s, d, sig)),
        1 => "[A-Za-z0-9+/=]{1,12}".prop_map(GenBlock::Redacted),
        3 => ("[a-z]{0,4}", value_strategy(), 0usize..4)
            .prop_map(|(n, v, k)| GenBlock::Tool(n, v, k)),
        1 => text_strategy().prop_map(GenBlock::ServerTool),
        1 => Just(GenBlock::Other),
    ]
}

fn extra_strategy() -> impl Strategy<Value = Extra> {
    prop_oneof![
        3 => Just(Extra::Ping),
        1 => text_strategy().prop_map(Extra::Error),
        1 => text_strategy().prop_map(Extra::ErrorMember),
        1 => Just(Extra::NotJson),
        1 => Just(Extra::BadShape),
        1 => Just(Extra::Unknown),
    ]
}

/// A generated message.
#[derive(Debug, Clone)]
struct Gen {
    blocks: Vec<GenBlock>,
    /// Extra events, each put before the event at its position (modulo the count).
    extras: Vec<(usize, Extra)>,
    usage: (u64, Option<u64>, Option<u64>, u64),
    stop_reason: Option<&'static str>,
    stop: bool,
    /// Padding spaces before the final `}` of each event (cycled).
    padding: Vec<usize>,
    /// Which events keep their `event:` line (cycled).
    event_lines: Vec<bool>,
    escapes: Vec<bool>,
    crlf: bool,
}

fn gen_strategy() -> impl Strategy<Value = Gen> {
    (
        prop::collection::vec(block_strategy(), 0..5),
        prop::collection::vec((0usize..64, extra_strategy()), 0..3),
        (
            0u64..5000,
            prop::option::of(0u64..100),
            prop::option::of(0u64..100),
            0u64..500,
        ),
        prop::option::of(prop::sample::select(vec![
            "end_turn",
            "tool_use",
            "max_tokens",
            "refusal",
            "pause_turn",
        ])),
        any::<bool>(),
        prop::collection::vec(prop_oneof![3 => Just(0usize), 1 => 1usize..20], 1..6),
        prop::collection::vec(prop_oneof![4 => Just(true), 1 => Just(false)], 1..4),
        prop::collection::vec(any::<bool>(), 1..5),
        prop_oneof![5 => Just(false), 1 => Just(true)],
    )
        .prop_map(
            |(blocks, extras, usage, stop_reason, stop, padding, event_lines, escapes, crlf)| Gen {
                blocks,
                extras,
                usage,
                stop_reason,
                stop,
                padding,
                event_lines,
                escapes,
                crlf,
            },
        )
}

/// Cuts a text into `n` pieces (at char boundaries).
fn pieces(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    (0..n)
        .map(|i| {
            chars[i * chars.len() / n..(i + 1) * chars.len() / n]
                .iter()
                .collect()
        })
        .collect()
}

impl Gen {
    fn events(&self) -> Vec<(String, String)> {
        let q = |s: &str| json_string(s, &self.escapes);
        let (input, cache_read, cache_creation, output) = self.usage;
        let mut usage = format!(r#""input_tokens":{input},"output_tokens":1"#);
        if let Some(r) = cache_read {
            usage.push_str(&format!(r#","cache_read_input_tokens":{r}"#));
        }
        if let Some(c) = cache_creation {
            usage.push_str(&format!(r#","cache_creation_input_tokens":{c}"#));
        }
        let mut events = vec![(
            "message_start".to_owned(),
            format!(
                r#"{{"type":"message_start","message":{{"id":"msg_gen","type":"message","role":"assistant","content":[],"model":"claude-gen","stop_reason":null,"usage":{{{usage}}}}}}}"#
            ),
        )];
        let start = |i: usize, block: String| {
            (
                "content_block_start".to_owned(),
                format!(r#"{{"type":"content_block_start","index":{i},"content_block":{block}}}"#),
            )
        };
        let delta = |i: usize, d: String| {
            (
                "content_block_delta".to_owned(),
                format!(r#"{{"type":"content_block_delta","index":{i},"delta":{d}}}"#),
            )
        };
        for (i, block) in self.blocks.iter().enumerate() {
            match block {
                GenBlock::Text(s, ds) => {
                    events.push(start(i, format!(r#"{{"type":"text","text":{}}}"#, q(s))));
                    for d in ds {
                        events.push(delta(
                            i,
                            format!(r#"{{"type":"text_delta","text":{}}}"#, q(d)),
                        ));
                    }
                }
                GenBlock::Thinking(s, ds, signature) => {
                    events.push(start(
                        i,
                        format!(
                            r#"{{"type":"thinking","thinking":{},"signature":""}}"#,
                            q(s)
                        ),
                    ));
                    for d in ds {
                        events.push(delta(
                            i,
                            format!(r#"{{"type":"thinking_delta","thinking":{}}}"#, q(d)),
                        ));
                    }
                    for piece in signature {
                        events.push(delta(
                            i,
                            format!(r#"{{"type":"signature_delta","signature":{}}}"#, q(piece)),
                        ));
                    }
                }
                GenBlock::Redacted(data) => events.push(start(
                    i,
                    format!(r#"{{"type":"redacted_thinking","data":{}}}"#, q(data)),
                )),
                GenBlock::Tool(name, args, n) => {
                    let whole = serde_json::to_string(args).expect("JSON");
                    let input = if *n == 0 {
                        whole.clone()
                    } else {
                        "{}".to_owned()
                    };
                    events.push(start(
                        i,
                        format!(
                            r#"{{"type":"tool_use","id":"toolu_{i}","name":{},"input":{input}}}"#,
                            q(name)
                        ),
                    ));
                    for piece in pieces(&whole, *n) {
                        events.push(delta(
                            i,
                            format!(
                                r#"{{"type":"input_json_delta","partial_json":{}}}"#,
                                q(&piece)
                            ),
                        ));
                    }
                }
                GenBlock::ServerTool(query) => {
                    events.push(start(
                        i,
                        r#"{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}"#
                            .into(),
                    ));
                    events.push(delta(
                        i,
                        format!(
                            r#"{{"type":"input_json_delta","partial_json":{}}}"#,
                            q(query)
                        ),
                    ));
                }
                GenBlock::Other => events.push(start(
                    i,
                    r#"{"type":"web_search_tool_result","tool_use_id":"s","content":[]}"#.into(),
                )),
            }
            events.push((
                "content_block_stop".to_owned(),
                format!(r#"{{"type":"content_block_stop","index":{i}}}"#),
            ));
        }
        if let Some(reason) = self.stop_reason {
            let mut u = format!(r#""output_tokens":{output}"#);
            if let Some(r) = cache_read {
                u.push_str(&format!(r#","cache_read_input_tokens":{}"#, r + 1));
            }
            events.push((
                "message_delta".to_owned(),
                format!(
                    r#"{{"type":"message_delta","delta":{{"stop_reason":"{reason}","stop_sequence":null}},"usage":{{{u}}}}}"#
                ),
            ));
        }
        if self.stop {
            events.push((
                "message_stop".to_owned(),
                r#"{"type":"message_stop"}"#.to_owned(),
            ));
        }
        // Extras go after message_start, which identifies the stream.
        let mut extras = self.extras.clone();
        extras.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        for (at, extra) in extras {
            let at = 1 + at % events.len();
            let event = match extra {
                Extra::Ping => ("ping".to_owned(), r#"{"type": "ping"}"#.to_owned()),
                Extra::Error(m) => (
                    "error".to_owned(),
                    format!(
                        r#"{{"type":"error","error":{{"type":"overloaded_error","message":{}}}}}"#,
                        q(&m)
                    ),
                ),
                Extra::ErrorMember(m) => (
                    String::new(),
                    format!(
                        r#"{{"type":"error","error":{{"type":"api_error","message":{}}}}}"#,
                        q(&m)
                    ),
                ),
                Extra::NotJson => ("content_block_delta".to_owned(), "{not json".to_owned()),
                Extra::BadShape => (
                    "content_block_delta".to_owned(),
                    r#"{"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":"bad"}}"#
                        .to_owned(),
                ),
                Extra::Unknown => (
                    "future_event".to_owned(),
                    r#"{"type":"future_event","data":{"x":[1,2]}}"#.to_owned(),
                ),
            };
            events.insert(at, event);
        }
        events
    }

    fn render(&self) -> Vec<u8> {
        let nl = if self.crlf { "\r\n" } else { "\n" };
        let mut out = String::new();
        for (i, (event, data)) in self.events().into_iter().enumerate() {
            let pad = self.padding[i % self.padding.len()];
            let data = match data.strip_suffix('}') {
                Some(body) if data.starts_with('{') => format!("{body}{}}}", " ".repeat(pad)),
                _ => data,
            };
            // The first event keeps its `event:` line, so that the stream is identified at
            // once either way.
            let line = i == 0 || self.event_lines[i % self.event_lines.len()] || event == "error";
            if line && !event.is_empty() {
                out.push_str(&format!("event: {event}{nl}"));
            }
            out.push_str(&format!("data: {data}{nl}{nl}"));
        }
        out.into_bytes()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_streams_match_the_reference_at_any_split(
        generated in gen_strategy(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let input = generated.render();
        let expected = reference_message(&input);
        let whole = library_message(&input, &[]);
        assert_same_message(&whole, &expected, "whole input against the reference");
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
        cuts.sort_unstable();
        let split = library_message(&input, &cuts);
        prop_assert_eq!(&split, &whole, "split at {:?}", cuts);
        let ones = library_message(&input, &reads_of(input.len(), 1));
        prop_assert_eq!(&ones, &whole);
    }
}

/// The library's `reasoning_details` text of choice 0 for `input` read whole.
fn library_details(input: &[u8]) -> Option<String> {
    let message = library_message(input, &[]);
    message["choices"][0]["reasoning_details"]
        .as_str()
        .map(str::to_owned)
}

#[test]
fn signed_thinking_and_redacted_blocks_are_kept_to_send_back() {
    let input = owned(&[
        s(START),
        // A signed block: its whole text and its signature (two deltas), with escapes.
        block_start(
            0,
            r#"{"type":"thinking","thinking":"A \"q\"\n","signature":""}"#,
        ),
        delta(0, r#"{"type":"thinking_delta","thinking":"\u00e9"}"#),
        delta(0, r#"{"type":"signature_delta","signature":"Eq"}"#),
        delta(0, r#"{"type":"signature_delta","signature":"Rw\u003d="}"#),
        block_stop(0),
        // Stopped twice: kept once.
        block_stop(0),
        // Unsigned: it cannot be sent back, and is not kept.
        block_start(1, r#"{"type":"thinking","thinking":"x"}"#),
        block_stop(1),
        // Redacted: the block as sent (compact), at its start.
        block_start(2, r#"{"type":"redacted_thinking", "data":"ab\/c"}"#),
        block_stop(2),
        // The signature in the start itself.
        block_start(3, r#"{"type":"thinking","thinking":"","signature":"S"}"#),
        // A signature of another shape: the event is invalid and changes nothing.
        delta(3, r#"{"type":"signature_delta","signature":7}"#),
        block_stop(3),
        // A signature for a block that is not a thinking block says nothing.
        block_start(4, r#"{"type":"text","text":"Hi"}"#),
        delta(4, r#"{"type":"signature_delta","signature":"T"}"#),
        block_stop(4),
        end("end_turn", 5),
        s(STOP),
    ]);
    let details = concat!(
        r#"[{"type":"thinking","thinking":"A \"q\"\né","signature":"EqRw=="},"#,
        r#"{"type":"redacted_thinking","data":"ab/c"},"#,
        r#"{"type":"thinking","thinking":"","signature":"S"}]"#,
    );
    let mut expected = message(
        choice(json!({
            "content": "Hi",
            "reasoning": "A \"q\"\né\n\nx",
            "reasoning_details": details,
            "finish_reason": "end_turn", "finish": "stop",
        })),
        usage(10, 5, None),
        "done",
    );
    expected["invalid"] = json!(1);
    check(&input, &expected, "reasoning details");
    assert_eq!(library_details(&input).as_deref(), Some(details));

    // The parts: each detail in the event that completes it.
    let mut stream = ChunkStream::new();
    stream.feed(&input);
    stream.finish();
    let mut said = Vec::new();
    while let Some(outcome) = stream.next_outcome() {
        if let ssechunk::Outcome::Event {
            payload: Payload::Parts(parts),
            event,
        } = outcome.expect("no event over the limit")
        {
            for part in parts.iter() {
                if let Part::ReasoningDetail { choice, detail } = *part {
                    said.push((
                        event.event_type_lossy().into_owned(),
                        choice,
                        detail.to_owned(),
                    ));
                }
            }
        }
    }
    let kinds: Vec<&str> = said.iter().map(|(kind, _, _)| kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "content_block_stop",
            "content_block_start",
            "content_block_stop"
        ]
    );
    assert!(said.iter().all(|(_, choice, _)| *choice == 0));
}

#[test]
fn a_message_without_opaque_reasoning_has_no_reasoning_details_key() {
    let input = owned(&[
        s(START),
        block_start(0, r#"{"type":"thinking","thinking":"t"}"#),
        block_stop(0),
        end("end_turn", 2),
        s(STOP),
    ]);
    let message = library_message(&input, &[]);
    let choice = message["choices"][0].as_object().expect("a choice");
    assert!(!choice.contains_key("reasoning_details"), "{message}");
    // The signature came, but the stream was cut before the block's stop: nothing is kept.
    let cut = owned(&[
        s(START),
        block_start(0, r#"{"type":"thinking","thinking":"t"}"#),
        delta(0, r#"{"type":"signature_delta","signature":"Eq"}"#),
    ]);
    assert_eq!(library_details(&cut), None);
    assert_same_message(&library_message(&cut, &[]), &reference_message(&cut), "cut");
}
