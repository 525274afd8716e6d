//! The OpenAI Responses API dialect against its serde_json reference
//! (`common/responses_reference.rs`, written from issue 11's mapping):
//!
//! - every Responses stream of the recorded corpus (39) gives the reference's message at read
//!   sizes 1 (files under 8 KiB), 7, 64, 4096 and whole, says something and ends `done`;
//! - one hand-written case per rule of the mapping, against exact JSON;
//! - once warm, decoding every Responses stream of the corpus again (one stream after another,
//!   each ended, in another order) allocates nothing (a counting allocator);
//! - generated streams (escapes, split UTF-8, tool calls in any order, reasoning parts,
//!   refusals, errors, padding, events without an `event:` line) at random splits: library ==
//!   reference == the library on the whole input.

#[path = "common/contract_reference.rs"]
mod contract_reference;
#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/responses_reference.rs"]
mod responses_reference;

use contract_reference::assert_same_message;
use proptest::prelude::*;
use responses_reference::responses_message;
use serde_json::{Value, json};
use ssechunk::{Accumulator, ChunkStream, Outcome, Part, Payload};

#[path = "common/counting.rs"]
mod counting;
#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

/// The Responses streams in the corpus.
const RESPONSES_STREAMS: usize = 39;

/// The library's message for `input` fed in pieces cut at `cuts` (sorted offsets).
fn library_at(input: &[u8], cuts: &[usize]) -> Value {
    let mut stream = ChunkStream::new();
    let mut message = Accumulator::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        stream.feed(&input[start..cut]);
        start = cut;
        while let Some(outcome) = stream.next_outcome() {
            message.push_outcome(&outcome.expect("no framing error"));
        }
    }
    stream.finish();
    while let Some(outcome) = stream.next_outcome() {
        message.push_outcome(&outcome.expect("no framing error"));
    }
    serde_json::to_value(message.message()).expect("the message as JSON")
}

/// The library's message at a fixed read size.
fn library(input: &[u8], read: usize) -> Value {
    let cuts: Vec<usize> = (1..input.len().div_ceil(read.max(1)))
        .map(|i| i * read)
        .collect();
    library_at(input, &cuts)
}

/// The read sizes tried on a stream of `len` bytes.
fn read_sizes(len: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    if len < 8 * 1024 {
        sizes.push(1);
    }
    sizes.extend([7, 64, 4096, len.max(1)]);
    sizes
}

/// Checks the library against the reference at every read size; returns the message.
#[track_caller]
fn check(input: &[u8], what: &str) -> Value {
    let expected = responses_message(input);
    for read in read_sizes(input.len()) {
        let actual = library(input, read);
        assert_same_message(&actual, &expected, &format!("{what} at {read}-byte reads"));
    }
    expected
}

/// Checks a hand-written stream against the reference and against its exact message.
#[track_caller]
fn check_exact(input: &str, expected: Value) {
    let message = check(input.as_bytes(), "case");
    assert_same_message(&message, &expected, "the expected message");
}

// ---------------------------------------------------------------------------------------------
// The corpus.

#[test]
fn corpus_streams_match_the_reference_at_every_read_size() {
    let Some(files) = corpus::corpus_files("sse") else {
        return;
    };
    let mut count = 0;
    let (mut bytes, mut texts, mut reasonings, mut calls) = (0, 0, 0, 0);
    for path in files {
        let body = std::fs::read(&path).expect("a corpus file");
        if !body
            .windows(b"event: response.".len())
            .any(|w| w == b"event: response.")
        {
            continue;
        }
        count += 1;
        bytes += body.len();
        let name = path.display().to_string();
        let message = check(&body, &name);
        assert_eq!(message["dialect"], "responses", "{name}");
        assert_eq!(message["ending"], "done", "{name}: {message}");
        assert_eq!(message["invalid"], 0, "{name}");
        let choice = &message["choices"][0];
        let says_text = choice["content"].as_str().is_some_and(|t| !t.is_empty());
        let says_reasoning = choice["reasoning"].as_str().is_some_and(|t| !t.is_empty());
        let tool_calls = choice["tool_calls"].as_array().map_or(0, Vec::len);
        assert!(
            says_text || says_reasoning || tool_calls > 0,
            "{name} says nothing: {message}"
        );
        assert!(
            choice["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|call| call["complete"] == true && call["id"].is_string()),
            "{name}: a tool call is incomplete: {message}"
        );
        assert!(message["usage"].is_object(), "{name}: no usage");
        texts += usize::from(says_text);
        reasonings += usize::from(says_reasoning);
        calls += tool_calls;
    }
    assert_eq!(count, RESPONSES_STREAMS, "Responses streams in the corpus");
    println!(
        "responses corpus: {count} streams ({bytes} bytes) equal the reference at every read \
         size: {texts} with text, {reasonings} with reasoning, {calls} tool calls"
    );
}

/// The Responses streams of the corpus, when it is there.
fn responses_streams() -> Option<Vec<Vec<u8>>> {
    let files = corpus::corpus_files("sse")?;
    Some(
        files
            .iter()
            .map(|path| std::fs::read(path).expect("a corpus file"))
            .filter(|body| {
                body.windows(b"event: response.".len())
                    .any(|w| w == b"event: response.")
            })
            .collect(),
    )
}

/// Feeds each stream to `stream` whole, ending it (the next one starts a new stream), and
/// reads every part; returns the number of events and a sum over the parts.
fn decode_all<'s>(
    stream: &mut ChunkStream,
    bodies: impl Iterator<Item = &'s Vec<u8>>,
) -> (u64, u64) {
    let (mut events, mut touched) = (0u64, 0u64);
    for body in bodies {
        stream.feed(body);
        stream.finish();
        while let Some(outcome) = stream.next_outcome() {
            if let Ok(Outcome::Event { payload, .. }) = outcome {
                events += 1;
                if let Payload::Parts(parts) = &payload {
                    for part in parts.iter() {
                        touched += match part {
                            Part::Text { text, .. }
                            | Part::Reasoning { text, .. }
                            | Part::Refusal { text, .. } => text.len() as u64,
                            Part::ToolCallArguments { fragment, .. } => fragment.len() as u64,
                            Part::ToolCallStart { index, .. } => index + 1,
                            Part::ToolCallEnd { arguments, .. } => {
                                arguments.map_or(1, |a| a.len() as u64)
                            }
                            Part::Usage { usage } => usage.total_tokens,
                            _ => 1,
                        };
                    }
                }
            }
        }
    }
    (events, touched)
}

#[test]
fn decoding_allocates_nothing_once_warm() {
    let Some(bodies) = responses_streams() else {
        return;
    };
    let mut stream = ChunkStream::new();
    let warm = decode_all(&mut stream, bodies.iter());
    let (measured, allocations) =
        counting::counted(|| decode_all(&mut stream, bodies.iter().rev()));
    assert_eq!(warm, measured, "the same events and parts in both passes");
    println!(
        "responses alloc: {} events, then {allocations} allocations in another order",
        measured.0
    );
    assert_eq!(allocations, 0, "decoding allocated once warm");
}

// ---------------------------------------------------------------------------------------------
// One case per rule.

/// An SSE event with an `event:` line.
fn ev(kind: &str, data: Value) -> String {
    format!("event: {kind}\ndata: {data}\n\n")
}

fn created() -> String {
    ev(
        "response.created",
        json!({"type": "response.created", "response": {"id": "resp_1", "model": "gpt-x", "status": "in_progress", "usage": null}}),
    )
}

fn completed(usage: Value) -> String {
    ev(
        "response.completed",
        json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed", "usage": usage}}),
    )
}

fn delta(kind: &str, extra: Value) -> String {
    let mut data = json!({"type": kind});
    for (k, v) in extra.as_object().expect("an object") {
        data[k] = v.clone();
    }
    ev(kind, data)
}

/// The whole message with defaults for what a case does not set.
fn message(choice: Value, usage: Value, errors: Value, ending: &str) -> Value {
    let mut c = json!({
        "index": 0, "role": "assistant", "content": null, "reasoning": null, "refusal": null,
        "tool_calls": [], "finish_reason": null, "finish": null,
    });
    for (k, v) in choice.as_object().expect("an object") {
        c[k] = v.clone();
    }
    json!({
        "dialect": "responses", "id": "resp_1", "model": "gpt-x", "choices": [c],
        "usage": usage, "errors": errors, "invalid": 0, "ending": ending,
    })
}

#[test]
fn text_metadata_usage_and_completed_stop() {
    let input = [
        created(),
        ev(
            "response.in_progress",
            json!({"type": "response.in_progress", "response": {"id": "resp_2", "model": "other"}}),
        ),
        delta(
            "response.output_text.delta",
            json!({"item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "Hé \"q\"\n"}),
        ),
        delta(
            "response.output_text.delta",
            json!({"item_id": "msg_1", "delta": "😀", "obfuscation": "xxxxxxxx"}),
        ),
        delta(
            "response.output_text.done",
            json!({"item_id": "msg_1", "text": "ignored"}),
        ),
        completed(json!({
            "input_tokens": 10, "input_tokens_details": {"cached_tokens": 4},
            "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 3},
        })),
    ]
    .concat();
    check_exact(
        &input,
        message(
            json!({"content": "Hé \"q\"\n😀", "finish_reason": "completed", "finish": "stop"}),
            json!({"input_tokens": 10, "output_tokens": 7, "total_tokens": 17,
                   "cached_input_tokens": 4, "reasoning_tokens": 3}),
            json!([]),
            "done",
        ),
    );
}

#[test]
fn usage_total_as_sent_and_details_absent() {
    let input = [
        created(),
        completed(json!({"input_tokens": 5, "output_tokens": 2, "total_tokens": 9})),
    ]
    .concat();
    check_exact(
        &input,
        message(
            json!({"finish_reason": "completed", "finish": "stop"}),
            json!({"input_tokens": 5, "output_tokens": 2, "total_tokens": 9,
                   "cached_input_tokens": null, "reasoning_tokens": null}),
            json!([]),
            "done",
        ),
    );
}

#[test]
fn reasoning_parts_are_kept_apart_by_a_blank_line() {
    let summary = |item: &str, index: u64, text: &str| {
        delta(
            "response.reasoning_summary_text.delta",
            json!({"item_id": item, "output_index": 0, "summary_index": index, "delta": text}),
        )
    };
    let input = [
        created(),
        summary("rs_1", 0, ""),
        summary("rs_1", 0, "One"),
        summary("rs_1", 0, " more"),
        delta(
            "response.reasoning_summary_part.added",
            json!({"item_id": "rs_1", "summary_index": 1, "part": {"type": "summary_text", "text": ""}}),
        ),
        // The new part's first text is empty: the blank line comes with its first non-empty one.
        summary("rs_1", 1, ""),
        summary("rs_1", 1, "Two"),
        delta(
            "response.reasoning_text.delta",
            json!({"item_id": "rs_1", "content_index": 0, "delta": "Raw"}),
        ),
        delta(
            "response.reasoning_text.delta",
            json!({"item_id": "rs_1", "content_index": 0, "delta": " text"}),
        ),
        summary("rs_2", 0, "Three"),
        delta(
            "response.output_text.delta",
            json!({"item_id": "msg_1", "delta": "Answer"}),
        ),
        completed(Value::Null),
    ]
    .concat();
    check_exact(
        &input,
        message(
            json!({"content": "Answer", "reasoning": "One more\n\nTwo\n\nRaw text\n\nThree",
                   "finish_reason": "completed", "finish": "stop"}),
            Value::Null,
            json!([]),
            "done",
        ),
    );
}

#[test]
fn refusal_deltas() {
    let input = [
        created(),
        delta(
            "response.refusal.delta",
            json!({"item_id": "msg_1", "delta": "I can't"}),
        ),
        delta(
            "response.refusal.delta",
            json!({"item_id": "msg_1", "delta": " help."}),
        ),
        delta(
            "response.refusal.done",
            json!({"item_id": "msg_1", "refusal": "I can't help."}),
        ),
        completed(Value::Null),
    ]
    .concat();
    check_exact(
        &input,
        message(
            json!({"refusal": "I can't help.", "finish_reason": "completed", "finish": "stop"}),
            Value::Null,
            json!([]),
            "done",
        ),
    );
}

fn added(kind: &str, id: &str, call_id: &str, name: &str, output_index: u64) -> String {
    delta(
        "response.output_item.added",
        json!({"output_index": output_index,
               "item": {"id": id, "type": kind, "status": "in_progress", "arguments": "",
                        "call_id": call_id, "name": name}}),
    )
}

fn item_done(kind: &str, id: &str, call_id: &str, name: &str, oi: u64, whole: &str) -> String {
    let field = if kind == "function_call" {
        "arguments"
    } else {
        "input"
    };
    delta(
        "response.output_item.done",
        json!({"output_index": oi,
               "item": {"id": id, "type": kind, "status": "completed", field: whole,
                        "call_id": call_id, "name": name}}),
    )
}

#[test]
fn function_calls_matched_by_item_id_and_by_output_index() {
    let args = |extra: Value| delta("response.function_call_arguments.delta", extra);
    let input = [
        created(),
        added("function_call", "fc_1", "call_a", "add", 0),
        added("function_call", "fc_2", "call_b", "mul", 1),
        // By item_id (its output_index points at the other call: the id wins).
        args(json!({"item_id": "fc_1", "output_index": 1, "delta": "{\"a\":"})),
        // By output_index alone.
        args(json!({"output_index": 1, "delta": "{\"b\":"})),
        args(json!({"item_id": "fc_1", "delta": "1}"})),
        args(json!({"item_id": "fc_2", "delta": "2}"})),
        delta(
            "response.function_call_arguments.done",
            json!({"item_id": "fc_1", "output_index": 0, "arguments": "{\"a\":1}"}),
        ),
        item_done("function_call", "fc_1", "call_a", "add", 0, "{\"a\":1}"),
        item_done("function_call", "fc_2", "call_b", "mul", 1, "{\"b\":2}"),
        completed(Value::Null),
    ]
    .concat();
    check_exact(
        &input,
        message(
            json!({"tool_calls": [
                {"index": 0, "id": "call_a", "name": "add", "arguments": "{\"a\":1}", "complete": true},
                {"index": 1, "id": "call_b", "name": "mul", "arguments": "{\"b\":2}", "complete": true},
            ], "finish_reason": "completed", "finish": "tool_calls"}),
            Value::Null,
            json!([]),
            "done",
        ),
    );
}

#[test]
fn done_events_fill_arguments_when_no_delta_came() {
    let input = [
        created(),
        added("function_call", "fc_1", "call_a", "now", 0),
        delta(
            "response.function_call_arguments.done",
            json!({"item_id": "fc_1", "arguments": "{}"}),
        ),
        // A later whole does not replace them.
        item_done("function_call", "fc_1", "call_a", "now", 0, "{\"x\":1}"),
        added("custom_tool_call", "ctc_2", "call_b", "shell", 1),
        item_done("custom_tool_call", "ctc_2", "call_b", "shell", 1, "ls -l"),
        // An output_item.done of a call never announced starts and ends it.
        item_done("function_call", "fc_3", "call_c", "late", 2, "{\"y\":2}"),
        completed(Value::Null),
    ]
    .concat();
    check_exact(
        &input,
        message(
            json!({"tool_calls": [
                {"index": 0, "id": "call_a", "name": "now", "arguments": "{}", "complete": true},
                {"index": 1, "id": "call_b", "name": "shell", "arguments": "ls -l", "complete": false},
                {"index": 2, "id": "call_c", "name": "late", "arguments": "{\"y\":2}", "complete": true},
            ], "finish_reason": "completed", "finish": "tool_calls"}),
            Value::Null,
            json!([]),
            "done",
        ),
    );
}

#[test]
fn custom_tool_call_input_deltas_and_an_unannounced_call() {
    let input = [
        created(),
        added("custom_tool_call", "ctc_1", "call_a", "code", 0),
        delta(
            "response.custom_tool_call_input.delta",
            json!({"item_id": "ctc_1", "output_index": 0, "delta": "print("}),
        ),
        delta(
            "response.custom_tool_call_input.delta",
            json!({"item_id": "ctc_1", "output_index": 0, "delta": "1)"}),
        ),
        delta(
            "response.custom_tool_call_input.done",
            json!({"item_id": "ctc_1", "output_index": 0, "input": "print(1)"}),
        ),
        // Fragments of a call no output_item.added announced: a call without id or name until
        // its output_item.done names it.
        delta(
            "response.function_call_arguments.delta",
            json!({"item_id": "fc_9", "output_index": 1, "delta": "[1]"}),
        ),
        item_done("function_call", "fc_9", "call_z", "ghost", 1, "[1]"),
        completed(Value::Null),
    ]
    .concat();
    check_exact(
        &input,
        message(
            json!({"tool_calls": [
                {"index": 0, "id": "call_a", "name": "code", "arguments": "print(1)", "complete": false},
                {"index": 1, "id": "call_z", "name": "ghost", "arguments": "[1]", "complete": true},
            ], "finish_reason": "completed", "finish": "tool_calls"}),
            Value::Null,
            json!([]),
            "done",
        ),
    );
}

#[test]
fn incomplete_reasons_are_normalised() {
    for (details, raw, finish) in [
        (
            json!({"reason": "max_output_tokens"}),
            "max_output_tokens",
            "length",
        ),
        (
            json!({"reason": "content_filter"}),
            "content_filter",
            "content_filter",
        ),
        (json!({"reason": "something_new"}), "something_new", "other"),
        (Value::Null, "incomplete", "other"),
    ] {
        let input = [
            created(),
            delta(
                "response.output_text.delta",
                json!({"item_id": "m", "delta": "Cut"}),
            ),
            ev(
                "response.incomplete",
                json!({"type": "response.incomplete", "response": {"status": "incomplete",
                       "incomplete_details": details,
                       "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}}),
            ),
        ]
        .concat();
        check_exact(
            &input,
            message(
                json!({"content": "Cut", "finish_reason": raw, "finish": finish}),
                json!({"input_tokens": 1, "output_tokens": 2, "total_tokens": 3,
                       "cached_input_tokens": null, "reasoning_tokens": null}),
                json!([]),
                "done",
            ),
        );
    }
}

#[test]
fn failed_reports_its_error_once() {
    let error_event = ev(
        "error",
        json!({"type": "error", "code": "server_error", "message": "Boom", "param": null}),
    );
    let failed = |error: Value| {
        ev(
            "response.failed",
            json!({"type": "response.failed", "response": {"status": "failed", "error": error, "usage": null}}),
        )
    };
    let boom = json!({"message": "Boom", "type": null, "code": "server_error"});
    // The same message and code as the error event: reported once.
    check_exact(
        &[
            created(),
            error_event.clone(),
            failed(json!({"code": "server_error", "message": "Boom"})),
        ]
        .concat(),
        message(
            json!({"finish_reason": "failed", "finish": "error"}),
            Value::Null,
            json!([boom]),
            "done",
        ),
    );
    // Another code: both.
    check_exact(
        &[
            created(),
            error_event,
            failed(json!({"code": "rate_limit", "message": "Boom"})),
        ]
        .concat(),
        message(
            json!({"finish_reason": "failed", "finish": "error"}),
            Value::Null,
            json!([boom, {"message": "Boom", "type": null, "code": "rate_limit"}]),
            "done",
        ),
    );
    // No error event: response.error is the error; a null one is none.
    check_exact(
        &[created(), failed(json!({"code": 500, "message": "Down"}))].concat(),
        message(
            json!({"finish_reason": "failed", "finish": "error"}),
            Value::Null,
            json!([{"message": "Down", "type": null, "code": 500}]),
            "done",
        ),
    );
    check_exact(
        &[created(), failed(Value::Null)].concat(),
        message(
            json!({"finish_reason": "failed", "finish": "error"}),
            Value::Null,
            json!([]),
            "done",
        ),
    );
}

#[test]
fn an_error_event_alone_and_a_cut_stream() {
    let input = [
        created(),
        delta(
            "response.output_text.delta",
            json!({"item_id": "m", "delta": "Par"}),
        ),
        ev(
            "error",
            json!({"type": "error", "code": 429, "message": "Slow down"}),
        ),
    ]
    .concat();
    check_exact(
        &input,
        message(
            json!({"content": "Par"}),
            Value::Null,
            json!([{"message": "Slow down", "type": null, "code": 429}]),
            "error",
        ),
    );
}

#[test]
fn events_without_an_event_line_and_unknown_or_misshapen_events() {
    let data = |v: Value| format!("data: {v}\n\n");
    let input = [
        data(json!({"type": "response.created", "response": {"id": "resp_1", "model": "gpt-x"}})),
        data(json!({"type": "response.output_text.delta", "delta": "Hi"})),
        data(json!({"type": "response.web_search_call.searching", "item_id": "ws_1"})),
        ev(
            "response.output_text.annotation.added",
            json!({"type": "response.output_text.annotation.added", "annotation": {}}),
        ),
        // A delta that is not a string: invalid, nothing taken.
        data(json!({"type": "response.output_text.delta", "delta": 5})),
        data(json!({"type": "response.completed", "response": "nope"})),
        data(json!({"type": "error", "message": "late", "code": null})),
        data(json!({"type": "response.completed", "response": {"usage": null}})),
    ]
    .concat();
    let mut expected = message(
        json!({"content": "Hi", "finish_reason": "completed", "finish": "stop"}),
        Value::Null,
        json!([{"message": "late", "type": null, "code": null}]),
        "done",
    );
    expected["invalid"] = json!(2);
    check_exact(&input, expected);
}

// ---------------------------------------------------------------------------------------------
// Generated streams.

/// What a generated event does.
#[derive(Debug, Clone)]
enum Op {
    Text(String),
    Refusal(String),
    /// Reasoning: summary (else raw text), item, index, text.
    Reasoning(bool, u8, u8, String),
    /// Tool call `k` is announced (custom tool call when `bool`).
    Added(u8, bool),
    /// A fragment of call `k`, located by item id (0), output index (1) or both (2).
    Fragment(u8, u8, String),
    /// The `.done` of call `k`'s arguments, with the whole or without.
    ArgsDone(u8, Option<String>),
    /// The output_item.done of call `k`.
    ItemDone(u8, bool, String),
    /// The output_item.done of reasoning item `i`: its summary text, and its encrypted
    /// content when there is one.
    ReasoningDone(u8, String, Option<String>),
    /// An `error` event: message, code.
    Error(u8, u8),
    Unknown,
    Misshapen,
    Created,
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("a"),
            Just("é"),
            Just("😀"),
            Just("\""),
            Just("\\"),
            Just("\n"),
            Just("\t"),
            Just(" "),
            Just("{"),
            Just("}"),
            Just("ß€"),
        ],
        0..6,
    )
    .prop_map(|v| v.concat())
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => text().prop_map(Op::Text),
        1 => text().prop_map(Op::Refusal),
        3 => (any::<bool>(), 0..2u8, 0..2u8, text()).prop_map(|(s, i, n, t)| Op::Reasoning(s, i, n, t)),
        2 => (0..3u8, any::<bool>()).prop_map(|(k, c)| Op::Added(k, c)),
        4 => (0..3u8, 0..3u8, text()).prop_map(|(k, by, t)| Op::Fragment(k, by, t)),
        1 => (0..3u8, prop::option::of(text())).prop_map(|(k, w)| Op::ArgsDone(k, w)),
        1 => (0..3u8, any::<bool>(), text()).prop_map(|(k, c, w)| Op::ItemDone(k, c, w)),
        1 => (0..2u8, text(), prop::option::of("[A-Za-z0-9+/=]{0,12}"))
            .prop_map(|(i, t, e)| Op::ReasoningDone(i, t, e)),
        1 => (0..2u8, 0..3u8).prop_map(|(m, c)| Op::Error(m, c)),
        1 => Just(Op::Unknown),
        1 => Just(Op::Misshapen),
        1 => Just(Op::Created),
    ]
}

/// How the stream ends: completed, incomplete (with a reason), failed (with an error equal to
/// the last error event's or not), or cut.
#[derive(Debug, Clone)]
enum End {
    Completed,
    Incomplete(u8),
    Failed(u8, u8),
    Cut,
}

fn end() -> impl Strategy<Value = End> {
    prop_oneof![
        Just(End::Completed),
        (0..4u8).prop_map(End::Incomplete),
        (0..2u8, 0..3u8).prop_map(|(m, c)| End::Failed(m, c)),
        Just(End::Cut),
    ]
}

fn error_fields(message: u8, code: u8) -> (Value, Value) {
    let message = json!(["Boom", "Ouch \"x\" é"][usize::from(message)]);
    let code = [json!("server_error"), json!(500), Value::Null][usize::from(code)].clone();
    (message, code)
}

/// The SSE text of one event: with an `event:` line or without, padded with spaces before
/// its closing brace or not, with an `obfuscation` member or not.
fn render(data: Value, with_event: bool, pad: usize) -> String {
    let kind = data["type"].as_str().expect("a type").to_owned();
    let mut text = data.to_string();
    text.truncate(text.len() - 1);
    text.push_str(&" ".repeat(pad));
    text.push('}');
    if with_event {
        format!("event: {kind}\ndata: {text}\n\n")
    } else {
        format!("data: {text}\n\n")
    }
}

fn build(ops: &[Op], end: &End, style: &[(bool, usize, bool)]) -> String {
    let mut out = String::new();
    let mut n = 0;
    let mut push = |mut data: Value, out: &mut String| {
        let (with_event, pad, obfuscate) = style[n % style.len()];
        n += 1;
        if obfuscate {
            data["obfuscation"] = json!("x".repeat(pad % 7));
        }
        // The error event keeps its `event:` line when it has one... or not: both are errors.
        out.push_str(&render(data, with_event, pad));
    };
    push(
        json!({"type": "response.created", "response": {"id": "resp_g", "model": "gpt-g", "usage": null}}),
        &mut out,
    );
    let item = |k: u8| format!("fc_{k}");
    for op in ops {
        let data = match op {
            Op::Text(t) => {
                json!({"type": "response.output_text.delta", "item_id": "msg", "output_index": 9, "delta": t})
            }
            Op::Refusal(t) => {
                json!({"type": "response.refusal.delta", "item_id": "msg", "delta": t})
            }
            Op::Reasoning(summary, i, idx, t) => {
                if *summary {
                    json!({"type": "response.reasoning_summary_text.delta", "item_id": format!("rs_{i}"), "summary_index": idx, "delta": t})
                } else {
                    json!({"type": "response.reasoning_text.delta", "item_id": format!("rs_{i}"), "content_index": idx, "delta": t})
                }
            }
            Op::Added(k, custom) => {
                let kind = if *custom {
                    "custom_tool_call"
                } else {
                    "function_call"
                };
                json!({"type": "response.output_item.added", "output_index": k,
                       "item": {"id": item(*k), "type": kind, "call_id": format!("call_{k}"), "name": format!("tool{k}")}})
            }
            Op::Fragment(k, by, t) => {
                let mut d = json!({"type": "response.function_call_arguments.delta", "delta": t});
                if *by != 1 {
                    d["item_id"] = json!(item(*k));
                }
                if *by != 0 {
                    d["output_index"] = json!(k);
                }
                d
            }
            Op::ArgsDone(k, whole) => {
                let mut d = json!({"type": "response.function_call_arguments.done", "item_id": item(*k), "output_index": k});
                if let Some(w) = whole {
                    d["arguments"] = json!(w);
                }
                d
            }
            Op::ItemDone(k, custom, whole) => {
                let (kind, field) = if *custom {
                    ("custom_tool_call", "input")
                } else {
                    ("function_call", "arguments")
                };
                json!({"type": "response.output_item.done", "output_index": k,
                       "item": {"id": item(*k), "type": kind, field: whole, "call_id": format!("call_{k}"), "name": format!("tool{k}")}})
            }
            Op::ReasoningDone(i, summary, encrypted) => {
                let mut item = json!({"id": format!("rs_{i}"), "type": "reasoning",
                    "summary": [{"type": "summary_text", "text": summary}], "content": []});
                if let Some(e) = encrypted {
                    item["encrypted_content"] = json!(e);
                }
                json!({"type": "response.output_item.done", "output_index": 7, "item": item})
            }
            Op::Error(m, c) => {
                let (message, code) = error_fields(*m, *c);
                json!({"type": "error", "message": message, "code": code, "param": null})
            }
            Op::Unknown => {
                json!({"type": "response.content_part.added", "item_id": "msg", "part": {"type": "output_text", "text": ""}})
            }
            Op::Misshapen => json!({"type": "response.output_text.delta", "delta": ["no"]}),
            Op::Created => {
                json!({"type": "response.created", "response": {"id": "resp_h", "model": "gpt-h"}})
            }
        };
        push(data, &mut out);
    }
    let usage = json!({"input_tokens": 3, "output_tokens": 4, "input_tokens_details": {"cached_tokens": 1}});
    let terminal = match end {
        End::Completed => Some(
            json!({"type": "response.completed", "response": {"status": "completed", "usage": usage}}),
        ),
        End::Incomplete(r) => {
            let reason = ["max_output_tokens", "content_filter", "other", ""][usize::from(*r)];
            Some(
                json!({"type": "response.incomplete", "response": {"incomplete_details": {"reason": reason}, "usage": usage}}),
            )
        }
        End::Failed(m, c) => {
            let (message, code) = error_fields(*m, *c);
            Some(
                json!({"type": "response.failed", "response": {"error": {"message": message, "code": code}, "usage": null}}),
            )
        }
        End::Cut => None,
    };
    if let Some(t) = terminal {
        push(t, &mut out);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_streams_match_the_reference_at_any_split(
        ops in prop::collection::vec(op(), 0..24),
        end in end(),
        style in prop::collection::vec((any::<bool>(), 0..4usize, any::<bool>()), 1..5),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let input = build(&ops, &end, &style);
        let bytes = input.as_bytes();
        let expected = responses_message(bytes);
        let whole = library_at(bytes, &[]);
        assert_same_message(&whole, &expected, "whole input");
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let split = library_at(bytes, &cuts);
        assert_same_message(&split, &whole, "random splits");
    }
}

#[test]
fn reasoning_items_are_reasoning_details_as_sent() {
    let encrypted = r#"{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Plan \"x\""}],"encrypted_content":"gAAA/+=="}"#;
    let stored = r#"{"id":"rs_2","type":"reasoning","summary":[]}"#;
    let input = [
        created(),
        // The item's escapes are written back plainly, its members in their order.
        "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"Plan \\\"x\\\"\"}],\"encrypted_content\":\"gAAA\\/+==\"}}\n\n".to_owned(),
        // The same item's `added` event says nothing.
        delta(
            "response.output_item.added",
            json!({"output_index": 1, "item": {"id": "rs_2", "type": "reasoning", "summary": []}}),
        ),
        // Without encrypted content (a stored response's item, sent back by its id): kept.
        format!("event: response.output_item.done\ndata: {{\"type\":\"response.output_item.done\",\"output_index\":1,\"item\":{stored}}}\n\n"),
        // Another kind of item is no reasoning detail.
        delta(
            "response.output_item.done",
            json!({"output_index": 2, "item": {"id": "msg_1", "type": "message", "role": "assistant", "content": []}}),
        ),
        delta(
            "response.output_text.delta",
            json!({"item_id": "msg_1", "delta": "Hi"}),
        ),
        completed(json!({"input_tokens": 1, "output_tokens": 2})),
    ]
    .concat();
    let details = format!("[{encrypted},{stored}]");
    check_exact(
        &input,
        message(
            json!({
                "content": "Hi", "reasoning_details": details,
                "finish_reason": "completed", "finish": "stop",
            }),
            json!({"input_tokens": 1, "output_tokens": 2, "total_tokens": 3,
                   "cached_input_tokens": null, "reasoning_tokens": null}),
            json!([]),
            "done",
        ),
    );
    // The library's text, exactly.
    let message = library(input.as_bytes(), input.len());
    assert_eq!(message["choices"][0]["reasoning_details"], json!(details));
}
