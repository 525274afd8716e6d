//! The contract reference (`common/contract_reference.rs`) checked on its own: it gives exactly
//! each replayed case's `.message.json` (tests/fixtures/cases), and one small input per rule
//! and shape of the issue-10 contract gives what the contract says.
//!
//! It uses the reference and serde_json only, never the crate, so it holds the reference to the
//! written contract whatever state the library is in; `tests/contract.rs` then holds the
//! library to the reference.

#[path = "common/contract_reference.rs"]
mod contract_reference;

use std::path::PathBuf;

use contract_reference::{
    assert_same_message, outcome_json, outcomes, reference_event, reference_message,
};
use serde_json::{Value, json};

/// The fixture cases: (name, stream, expected message).
fn cases() -> Vec<(String, Vec<u8>, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cases");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/cases")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter_map(|n| n.strip_suffix(".sse").map(str::to_owned))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let sse = std::fs::read(dir.join(format!("{name}.sse"))).expect("the .sse file");
            let text = std::fs::read_to_string(dir.join(format!("{name}.message.json")))
                .expect("the .message.json beside it");
            let message = serde_json::from_str(&text).expect("the expected message is JSON");
            (name, sse, message)
        })
        .collect()
}

#[test]
fn every_case_gives_its_message() {
    let cases = cases();
    assert_eq!(cases.len(), 9, "the nine replayed cases");
    for (name, sse, expected) in cases {
        if expected["dialect"] != "chat" {
            // 11 is an Anthropic Messages stream: the chat reference does not read that
            // dialect; it passes once the dialects issue maps Anthropic onto the contract.
            eprintln!(
                "{name}: skipped, dialect {} (the dialects issue)",
                expected["dialect"]
            );
            continue;
        }
        assert_same_message(&reference_message(&sse), &expected, &name);
    }
}

/// The message of a stream given as text.
fn message(input: &str) -> Value {
    reference_message(input.as_bytes())
}

fn errors(input: &str) -> Value {
    message(input)["errors"].clone()
}

fn err(message: &str, kind: Option<&str>, code: Value) -> Value {
    json!({"message": message, "type": kind, "code": code})
}

// ---------------------------------------------------------------------------------------------
// Rule 1: `event: error`, whatever its data.

#[test]
fn error_event_with_an_error_object() {
    let data = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded","code":529,"param":"p"}}"#;
    assert_eq!(
        reference_event("error", data.as_bytes()),
        json!({"kind":"error","message":"Overloaded","type":"overloaded_error","code":529,"param":"p"})
    );
    assert_eq!(
        errors(&format!("event: error\ndata: {data}\n\n")),
        json!([err("Overloaded", Some("overloaded_error"), json!(529))])
    );
}

#[test]
fn error_event_with_a_flat_body() {
    // No `error` member: the data object itself is the error object.
    let e = |data: &str| reference_event("error", data.as_bytes());
    assert_eq!(
        e(r#"{"code":400,"details":"bad input"}"#),
        json!({"kind":"error","message":"bad input","type":null,"code":400,"param":null})
    );
    assert_eq!(e(r#"{"detail":"d","details":"ds"}"#)["message"], "d");
    assert_eq!(e(r#"{"message":"m","detail":"d"}"#)["message"], "m");
    // A top-level "error" type is the envelope's, not the error's; `status` is looked at.
    assert_eq!(e(r#"{"type":"error","message":"m"}"#)["type"], Value::Null);
    assert_eq!(
        e(r#"{"message":"quota","status":"RESOURCE_EXHAUSTED","code":429}"#),
        json!({"kind":"error","message":"quota","type":"RESOURCE_EXHAUSTED","code":429,"param":null})
    );
    // A flat body with no message at all: the whole data text.
    assert_eq!(e(r#"{"code":"E1"}"#)["message"], r#"{"code":"E1"}"#);
    assert_eq!(e(r#"{"code":"E1"}"#)["code"], "E1");
    // An `error` member that is neither an object nor a non-empty string: the data object.
    assert_eq!(e(r#"{"error":null,"message":"m"}"#)["message"], "m");
    assert_eq!(e(r#"{"error":"","type":"t"}"#)["type"], "t");
}

#[test]
fn error_event_with_any_body() {
    let e = |data: &[u8]| reference_event("error", data);
    let text_error =
        |m: &str| json!({"kind":"error","message":m,"type":null,"code":null,"param":null});
    assert_eq!(e(b"upstream timed out"), text_error("upstream timed out"));
    assert_eq!(e(b""), text_error(""));
    assert_eq!(e(b"[1,2]"), text_error("[1,2]"));
    assert_eq!(e(b"\"quoted\""), text_error("\"quoted\""));
    // Even `[DONE]` is an error's text under `event: error`.
    assert_eq!(e(b"[DONE]"), text_error("[DONE]"));
    assert_eq!(e(b"a\xffb"), text_error("a\u{fffd}b"));
    // The string-error shape under `event: error`.
    assert_eq!(
        e(br#"{"error":"boom","error_type":"validation"}"#),
        json!({"kind":"error","message":"boom","type":"validation","code":null,"param":null})
    );
    // Reading: under `event: error` the data object is the error object of the string
    // shape, so its `code` counts (rule 3, for other events, says null).
    assert_eq!(
        e(br#"{"error":"boom","code":503,"type":"t"}"#),
        json!({"kind":"error","message":"boom","type":null,"code":503,"param":null})
    );
    // An error event is one error in the message, and the ending says so.
    let m = message("event: error\ndata: oops\n\n");
    assert_eq!(m["errors"], json!([err("oops", None, Value::Null)]));
    assert_eq!(m["ending"], "error");
    assert_eq!(m["invalid"], 0);
}

#[test]
fn error_codes() {
    let code = |c: &str| {
        reference_event(
            "message",
            format!(r#"{{"error":{{"message":"m","code":{c}}}}}"#).as_bytes(),
        )["code"]
            .clone()
    };
    assert_eq!(code("400"), json!(400));
    assert_eq!(code("-3"), json!(-3));
    assert_eq!(code("-0"), json!(0));
    assert_eq!(code("\"rate_limit\""), json!("rate_limit"));
    assert_eq!(code("9223372036854775807"), json!(i64::MAX));
    for other in [
        "9223372036854775808",
        "1.5",
        "4e2",
        "true",
        "null",
        "[1]",
        "{}",
    ] {
        assert_eq!(code(other), Value::Null, "code {other}");
    }
}

// ---------------------------------------------------------------------------------------------
// Rules 2-4.

#[test]
fn done_and_invalid_data() {
    let e = |t: &str, d: &str| reference_event(t, d.as_bytes());
    assert_eq!(e("message", "[DONE]"), json!({"kind":"done"}));
    assert_eq!(e("ping", "[DONE]"), json!({"kind":"done"}));
    assert_eq!(e("message", "[DONE] ")["reason"], "not_json");
    assert_eq!(e("message", "not json")["reason"], "not_json");
    assert_eq!(e("message", "")["reason"], "not_json");
    assert_eq!(e("message", "{} {}")["reason"], "not_json");
    assert_eq!(e("message", "[1]")["reason"], "not_object");
    assert_eq!(e("message", "\"s\"")["reason"], "not_object");
    assert_eq!(e("message", "null")["reason"], "not_object");
    let m = message("data: [1]\n\ndata: nope\n\ndata: {}\n\n");
    assert_eq!(m["invalid"], 2);
    assert_eq!(m["ending"], "truncated");
    assert_eq!(m["errors"], json!([]));
}

#[test]
fn string_errors_and_other_error_members() {
    let e = |d: &str| reference_event("message", d.as_bytes());
    assert_eq!(
        e(r#"{"error":"validation failed","error_type":"validation","code":7}"#),
        json!({"kind":"error","message":"validation failed","type":"validation","code":null,"param":null})
    );
    assert_eq!(e(r#"{"error":"x"}"#)["type"], Value::Null);
    assert_eq!(e(r#"{"error":"x","error_type":5}"#)["type"], Value::Null);
    // An error object with no message: the whole data text.
    let d = r#"{"error":{"code":500}}"#;
    assert_eq!(e(d)["message"], d);
    assert_eq!(e(r#"{"error":{"details":"ds"}}"#)["message"], "ds");
    assert_eq!(
        e(r#"{"error":{"status":"UNAVAILABLE"}}"#)["type"],
        "UNAVAILABLE"
    );
    assert_eq!(e(r#"{"error":{"type":"t","status":"S"}}"#)["type"], "t");
    // null, "", numbers, bools and arrays are not errors: the data is a chunk.
    for member in ["null", "\"\"", "0", "false", "[]", "[\"x\"]"] {
        let d = format!(r#"{{"error":{member},"model":"m"}}"#);
        assert_eq!(e(&d)["kind"], "chunk", "error member {member}");
        assert_eq!(e(&d)["model"], "m");
    }
}

// ---------------------------------------------------------------------------------------------
// Rule 5: shapes.

fn shape(data: &str) -> Value {
    reference_event("message", data.as_bytes())
}

fn choice0(data: &str) -> Value {
    let v = shape(data);
    assert_eq!(v["kind"], "chunk", "{data}: {v}");
    v["choices"][0].clone()
}

#[test]
fn unexpected_shapes_name_their_field() {
    for (data, field) in [
        (r#"{"choices":{}}"#, "choices"),
        (r#"{"choices":[1]}"#, "choices"),
        (r#"{"choices":[{"index":-1}]}"#, "index"),
        (r#"{"choices":[{"index":1.5}]}"#, "index"),
        (r#"{"choices":[{"index":"0"}]}"#, "index"),
        (r#"{"choices":[{"finish_reason":1}]}"#, "finish_reason"),
        (r#"{"choices":[{"delta":"x"}]}"#, "delta"),
        (r#"{"choices":[{"delta":{"content":5}}]}"#, "content"),
        (
            r#"{"choices":[{"delta":{"content":{"type":"text","text":"a"}}}]}"#,
            "content",
        ),
        (
            r#"{"choices":[{"delta":{"content":[{"type":"image_url","image_url":"u"}]}}]}"#,
            "content",
        ),
        (
            r#"{"choices":[{"delta":{"content":[{"type":"text"}]}}]}"#,
            "content",
        ),
        (
            r#"{"choices":[{"delta":{"content":[{"type":"text","text":1}]}}]}"#,
            "content",
        ),
        (r#"{"choices":[{"delta":{"content":["a"]}}]}"#, "content"),
        (
            r#"{"choices":[{"delta":{"content":[{"text":"a"}]}}]}"#,
            "content",
        ),
        (
            r#"{"choices":[{"delta":{"content":[{"type":"thinking"}]}}]}"#,
            "content",
        ),
        (
            r#"{"choices":[{"delta":{"content":[{"type":"thinking","thinking":[{"type":"image"}]}]}}]}"#,
            "content",
        ),
        (
            r#"{"choices":[{"delta":{"content":[{"type":"thinking","thinking":5}]}}]}"#,
            "content",
        ),
        (
            r#"{"choices":[{"delta":{"reasoning_content":1}}]}"#,
            "reasoning_content",
        ),
        (r#"{"choices":[{"delta":{"reasoning":[]}}]}"#, "reasoning"),
        (r#"{"choices":[{"delta":{"refusal":true}}]}"#, "refusal"),
        (r#"{"choices":[{"delta":{"tool_calls":{}}}]}"#, "tool_calls"),
        (
            r#"{"choices":[{"delta":{"tool_calls":[null]}}]}"#,
            "tool_calls",
        ),
        (
            r#"{"choices":[{"delta":{"tool_calls":[{"index":"0"}]}}]}"#,
            "index",
        ),
        (r#"{"choices":[{"delta":{"tool_calls":[{"id":5}]}}]}"#, "id"),
        (
            r#"{"choices":[{"delta":{"tool_calls":[{"function":"f"}]}}]}"#,
            "function",
        ),
        (
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":1}}]}}]}"#,
            "name",
        ),
        (
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":1}}]}}]}"#,
            "arguments",
        ),
        (
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":true}}]}}]}"#,
            "arguments",
        ),
        (r#"{"usage":5}"#, "usage"),
        (r#"{"x_groq":{"usage":"u"}}"#, "usage"),
    ] {
        assert_eq!(
            shape(data),
            json!({"kind":"invalid","reason":"unexpected_shape","field":field}),
            "{data}"
        );
    }
    // An unexpected shape counts as invalid in the message, and adds nothing.
    let m = message("data: {\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":5}}]}\n\n");
    assert_eq!(m["invalid"], 1);
    assert_eq!(m["model"], Value::Null);
    assert_eq!(m["choices"], json!([]));
}

#[test]
fn lenient_fields_and_nulls() {
    let v = shape(
        r#"{"id":1,"model":null,"created":-1,"system_fingerprint":[],"choices":null,"usage":null}"#,
    );
    assert_eq!(v["kind"], "chunk");
    for key in ["id", "model", "created", "system_fingerprint", "usage"] {
        assert_eq!(v[key], Value::Null, "{key}");
    }
    assert_eq!(v["choices"], json!([]));
    let c = choice0(
        r#"{"choices":[{"index":null,"finish_reason":null,"delta":{"role":5,"content":null,"reasoning_content":null,"refusal":null,"tool_calls":null}}]}"#,
    );
    assert_eq!(c["index"], 0);
    assert_eq!(c["role"], Value::Null);
    assert_eq!(c["content"], Value::Null);
    assert_eq!(c["tool_calls"], json!([]));
    let c = choice0(r#"{"choices":[{"index":-0,"delta":null}]}"#);
    assert_eq!(c["index"], 0);
    let t = choice0(r#"{"choices":[{"delta":{"tool_calls":[{"index":null,"id":null,"type":7,"function":{"name":null,"arguments":null}}]}}]}"#)["tool_calls"][0].clone();
    assert_eq!(
        t,
        json!({"index":null,"id":null,"type":null,"name":null,"arguments":null})
    );
    // Duplicate keys: the last wins.
    assert_eq!(shape(r#"{"model":"a","model":"b"}"#)["model"], "b");
}

#[test]
fn content_part_arrays() {
    let c = choice0(
        r#"{"choices":[{"delta":{"content":[{"type":"text","text":"Hel"},{"type":"thinking","thinking":"t1"},{"type":"text","text":"lo"},{"type":"thinking","thinking":[{"type":"text","text":"t2"},{"type":"text","text":"t3"}]}]}}]}"#,
    );
    assert_eq!(c["content"], "Hello");
    assert_eq!(c["reasoning"], "t1t2t3");
    // Thinking parts come after `reasoning_content` (which wins over `reasoning`).
    let c = choice0(
        r#"{"choices":[{"delta":{"reasoning_content":"r ","reasoning":"ignored","content":[{"type":"thinking","thinking":"t"}]}}]}"#,
    );
    assert_eq!(c["reasoning"], "r t");
    assert_eq!(c["content"], Value::Null);
    let c = choice0(r#"{"choices":[{"delta":{"reasoning":"only"}}]}"#);
    assert_eq!(c["reasoning"], "only");
    // An empty array gives no content.
    let c = choice0(r#"{"choices":[{"delta":{"content":[]}}]}"#);
    assert_eq!(c["content"], Value::Null);
    assert_eq!(c["reasoning"], Value::Null);
    // Across chunks: content and reasoning concatenate.
    let m = message(concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":[{\"type\":\"thinking\",\"thinking\":[{\"type\":\"text\",\"text\":\"a\"}]}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":[{\"type\":\"thinking\",\"thinking\":\"b\"},{\"type\":\"text\",\"text\":\"X\"}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"Y\"}}]}\n\n",
    ));
    assert_eq!(m["choices"][0]["reasoning"], "ab");
    assert_eq!(m["choices"][0]["content"], "XY");
    // An unknown part makes the whole event invalid: nothing of it is taken.
    let m = message(concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":[{\"type\":\"text\",\"text\":\"B\"},{\"type\":\"audio\"}]}}]}\n\n",
    ));
    assert_eq!(m["choices"][0]["content"], "A");
    assert_eq!(m["invalid"], 1);
}

#[test]
fn object_and_array_arguments() {
    let m = message(concat!(
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":{\"city\": \"Paris\", \"n\": [1, 2]}}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":[1,{\"x\":null}]}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":2,\"id\":\"c\",\"function\":{\"name\":\"h\",\"arguments\":{}}}]}}]}\n\n",
    ));
    let calls = &m["choices"][0]["tool_calls"];
    let args =
        |i: usize| serde_json::from_str::<Value>(calls[i]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args(0), json!({"city":"Paris","n":[1,2]}));
    assert_eq!(args(1), json!([1, {"x": null}]));
    assert_eq!(args(2), json!({}));
    for i in 0..3 {
        assert_eq!(calls[i]["complete"], true);
    }
    // Spacing is free: the comparison is as JSON.
    let mut spaced = m.clone();
    spaced["choices"][0]["tool_calls"][0]["arguments"] =
        json!("{ \"n\" : [1,2] , \"city\":\"Paris\" }");
    assert_same_message(&spaced, &m, "spacing");
}

#[test]
fn usage_shapes() {
    let u = |d: &str| shape(d)["usage"].clone();
    assert_eq!(
        u(
            r#"{"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":3}}}"#
        ),
        json!({"input_tokens":5,"output_tokens":7,"total_tokens":12,"cached_input_tokens":2,"reasoning_tokens":3})
    );
    assert_eq!(
        u(r#"{"usage":{"prompt_tokens":"5","completion_tokens":-1,"prompt_tokens_details":null}}"#),
        json!({"input_tokens":0,"output_tokens":0,"total_tokens":0,"cached_input_tokens":null,"reasoning_tokens":null})
    );
    // Groq's older streams: `x_groq.usage` when `usage` is absent or null.
    let groq = json!({"input_tokens":4,"output_tokens":6,"total_tokens":10,"cached_input_tokens":null,"reasoning_tokens":null});
    assert_eq!(
        u(
            r#"{"x_groq":{"id":"req","usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}}}"#
        ),
        groq
    );
    assert_eq!(
        u(
            r#"{"usage":null,"x_groq":{"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}}}"#
        ),
        groq
    );
    assert_eq!(
        u(
            r#"{"usage":{"total_tokens":1},"x_groq":{"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}}}"#
        )["total_tokens"],
        1
    );
    assert_eq!(u(r#"{"x_groq":{"id":"req"}}"#), Value::Null);
    assert_eq!(u(r#"{"x_groq":"x"}"#), Value::Null);
    // The last usage seen wins.
    let m = message(concat!(
        "data: {\"usage\":{\"total_tokens\":1}}\n\n",
        "data: {\"x_groq\":{\"usage\":{\"total_tokens\":2}}}\n\n",
        "data: {\"choices\":[]}\n\n",
    ));
    assert_eq!(m["usage"]["total_tokens"], 2);
}

// ---------------------------------------------------------------------------------------------
// Accumulation: tool calls without an index.

fn calls_of(input: &str) -> Value {
    let m = message(input);
    m["choices"][0]["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| json!([t["index"], t["id"], t["arguments"]]))
        .collect()
}

fn tool(fragment: &str) -> String {
    format!("data: {{\"choices\":[{{\"delta\":{{\"tool_calls\":[{fragment}]}}}}]}}\n\n")
}

#[test]
fn index_less_tool_calls() {
    // Different ids: a new call each time, numbered by the calls before it.
    let s = tool(r#"{"id":"a","function":{"arguments":"1"}}"#)
        + &tool(r#"{"id":"b","function":{"arguments":"2"}}"#)
        + &tool(r#"{"index":null,"id":"c","function":{"arguments":"3"}}"#);
    assert_eq!(
        calls_of(&s),
        json!([[0, "a", "1"], [1, "b", "2"], [2, "c", "3"]])
    );
    // No id, the same id, or an empty id: the last call continues.
    let s = tool(r#"{"id":"a","function":{"arguments":"{"}}"#)
        + &tool(r#"{"function":{"arguments":"\"k\""}}"#)
        + &tool(r#"{"id":"a","function":{"arguments":":"}}"#)
        + &tool(r#"{"id":"","index":null,"function":{"arguments":"1}"}}"#);
    assert_eq!(calls_of(&s), json!([[0, "a", "{\"k\":1}"]]));
    // Without ids at all: one call.
    let s = tool(r#"{"function":{"name":"f","arguments":"[1"}}"#)
        + &tool(r#"{"function":{"arguments":",2]"}}"#);
    assert_eq!(calls_of(&s), json!([[0, null, "[1,2]"]]));
    // The last call has no id: a fragment with an id continues it (and names it).
    let s = tool(r#"{"function":{"arguments":"x"}}"#)
        + &tool(r#"{"id":"z","function":{"arguments":"y"}}"#);
    assert_eq!(calls_of(&s), json!([[0, "z", "xy"]]));
    // Two calls in one chunk.
    let s =
        tool(r#"{"id":"a","function":{"arguments":"1"}},{"id":"b","function":{"arguments":"2"}}"#);
    assert_eq!(calls_of(&s), json!([[0, "a", "1"], [1, "b", "2"]]));
    // The most recently created call continues, not the one with the highest index.
    let s = tool(r#"{"index":3,"id":"c","function":{"arguments":"3"}}"#)
        + &tool(r#"{"index":1,"id":"b","function":{"arguments":"1"}}"#)
        + &tool(r#"{"index":3,"function":{"arguments":"+"}}"#)
        + &tool(r#"{"function":{"arguments":"!"}}"#);
    assert_eq!(calls_of(&s), json!([[1, "b", "1!"], [3, "c", "3+"]]));
    // Each choice has its own calls.
    let m = message(concat!(
        "data: {\"choices\":[{\"index\":1,\"delta\":{\"tool_calls\":[{\"id\":\"x\",\"function\":{\"arguments\":\"1\"}}]}},{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"y\",\"function\":{\"arguments\":\"2\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"index\":1,\"delta\":{\"tool_calls\":[{\"id\":\"z\",\"function\":{\"arguments\":\"3\"}}]}}]}\n\n",
    ));
    assert_eq!(m["choices"][0]["index"], 0);
    assert_eq!(m["choices"][0]["tool_calls"].as_array().unwrap().len(), 1);
    assert_eq!(m["choices"][1]["tool_calls"][1]["index"], 1);
    assert_eq!(m["choices"][1]["tool_calls"][1]["id"], "z");
}

#[test]
fn accumulation_rules() {
    let m = message(concat!(
        "data: {\"id\":\"\",\"model\":\"\",\"choices\":[{\"index\":1,\"delta\":{\"role\":\"\",\"content\":\"\"}}]}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"m1\",\"choices\":[{\"index\":1,\"delta\":{\"role\":\"assistant\",\"refusal\":\"no\"},\"finish_reason\":\"function_call\"}]}\n\n",
        "data: {\"id\":\"c2\",\"model\":\"m2\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"tool\",\"content\":\"a\"},\"finish_reason\":\"\"},{\"index\":1,\"delta\":{\"role\":\"user\"},\"finish_reason\":\"\"}]}\n\n",
    ));
    assert_eq!(m["id"], "c1");
    assert_eq!(m["model"], "m1");
    let c1 = &m["choices"][1];
    assert_eq!(c1["index"], 1);
    assert_eq!(c1["role"], "assistant");
    assert_eq!(c1["content"], "");
    assert_eq!(c1["refusal"], "no");
    assert_eq!(c1["reasoning"], Value::Null);
    assert_eq!(c1["finish_reason"], "function_call");
    assert_eq!(c1["finish"], "tool_calls");
    assert_eq!(m["choices"][0]["finish_reason"], Value::Null);
    assert_eq!(m["ending"], "finished");
    for (raw, norm) in [
        ("stop", "stop"),
        ("length", "length"),
        ("tool_calls", "tool_calls"),
        ("content_filter", "content_filter"),
        ("error", "error"),
        ("end_turn", "other"),
        ("STOP", "other"),
    ] {
        let m = message(&format!(
            "data: {{\"choices\":[{{\"finish_reason\":\"{raw}\"}}]}}\n\n"
        ));
        assert_eq!(m["choices"][0]["finish"], norm, "{raw}");
    }
    // The last non-empty finish reason wins.
    let m = message(
        "data: {\"choices\":[{\"finish_reason\":\"length\"}]}\n\ndata: {\"choices\":[{\"finish_reason\":\"stop\"}]}\n\n",
    );
    assert_eq!(m["choices"][0]["finish_reason"], "stop");
}

#[test]
fn ending_precedence() {
    let chunk_stop = "data: {\"choices\":[{\"finish_reason\":\"stop\"}]}\n\n";
    let error = "data: {\"error\":{\"message\":\"e\"}}\n\n";
    let done = "data: [DONE]\n\n";
    assert_eq!(
        message(&format!("{error}{chunk_stop}{done}"))["ending"],
        "done"
    );
    assert_eq!(message(&format!("{done}{error}"))["ending"], "done");
    assert_eq!(
        message(&format!("{error}{chunk_stop}"))["ending"],
        "finished"
    );
    assert_eq!(message(error)["ending"], "error");
    assert_eq!(message("data: {}\n\ndata: nope\n\n")["ending"], "truncated");
    assert_eq!(message("")["ending"], "truncated");
    // An error event's `[DONE]` is not the terminal marker.
    assert_eq!(message("event: error\ndata: [DONE]\n\n")["ending"], "error");
    // Every key of an empty message.
    assert_eq!(
        message(""),
        json!({"dialect":"chat","id":null,"model":null,"choices":[],"usage":null,"errors":[],"invalid":0,"ending":"truncated"})
    );
}

// ---------------------------------------------------------------------------------------------
// Framing, and rules 6 and 7.

#[test]
fn framing_rules() {
    // BOM, CR / LF / CRLF, comments, a field without a colon, the event type reset after a
    // dispatch, data lines joined with LF.
    let out = outcomes(
        b"\xEF\xBB\xBFevent: ping\r\ndata: a\rdata:b\r\n: comment\n\r\ndata: [DONE]\n\nweird\n",
    );
    let out: Vec<Value> = out.iter().map(outcome_json).collect();
    assert_eq!(out[0]["event"], "ping");
    assert_eq!(out[0]["data"], "a\nb");
    assert_eq!(out[1]["event"], "message");
    assert_eq!(out[1]["payload"], json!({"kind":"done"}));
    assert_eq!(out[2], json!({"outcome":"ignored","line":"weird"}));
    assert_eq!(out.len(), 3);
    // `data:` with no value dispatches an empty data (invalid JSON); a blank line without data
    // dispatches nothing.
    assert_eq!(message("\n\ndata:\n\n")["invalid"], 1);
    // Ignored lines: unknown names, an id with NUL, a retry not all digits; never comments.
    let out = outcomes(b"id: a\0b\nretry: 1x\nretry: 15\nid: 7\nfoo: bar\n:c\n");
    let lines: Vec<Value> = out.iter().map(outcome_json).collect();
    assert_eq!(
        lines,
        vec![
            json!({"outcome":"ignored","line":"id: a\u{0}b"}),
            json!({"outcome":"ignored","line":"retry: 1x"}),
            json!({"outcome":"ignored","line":"foo: bar"}),
        ]
    );
    // An unterminated last line, or data without its blank line: incomplete, not dispatched.
    assert_eq!(
        outcomes(b"data: {}"),
        vec![contract_reference::RefOutcome::Incomplete]
    );
    assert_eq!(message("data: {\"model\":\"m\"}\n")["model"], Value::Null);
}

#[test]
fn error_lines() {
    // Rule 6: an `error:` line whose value is a JSON object.
    let e = |line: &str| errors(&format!("{line}\n"));
    assert_eq!(
        e(r#"error: {"code":400,"message":"too long","type":"invalid_request_error"}"#),
        json!([err("too long", Some("invalid_request_error"), json!(400))])
    );
    assert_eq!(
        e(r#"error:{"error":{"message":"inner","code":"c"}}"#),
        json!([err("inner", None, json!("c"))])
    );
    assert_eq!(
        e(r#"error: {"error":"s","error_type":"t"}"#),
        json!([err("s", Some("t"), Value::Null)])
    );
    let flat = r#"{"code":1}"#;
    assert_eq!(
        e(&format!("error: {flat}")),
        json!([err(flat, None, json!(1))])
    );
    assert_eq!(
        e(r#"error: {"type":"error","message":"m"}"#),
        json!([err("m", None, Value::Null)])
    );
    // Not an object: an ignored line, no error.
    for line in [
        "error: oops",
        "error: [1]",
        "error: \"s\"",
        "error: 5",
        "error",
        "error:",
        "Error: {\"message\":\"m\"}",
        "error : {\"message\":\"m\"}",
    ] {
        assert_eq!(e(line), json!([]), "{line}");
        assert_eq!(outcomes(format!("{line}\n").as_bytes()).len(), 1, "{line}");
    }
    // The error line counts where it stands among events.
    let out = outcomes(b"data: {}\n\nerror: {\"message\":\"m\"}\n\ndata: [DONE]\n\n");
    let kinds: Vec<Value> = out
        .iter()
        .map(|o| outcome_json(o)["outcome"].clone())
        .collect();
    assert_eq!(kinds, vec![json!("event"), json!("error"), json!("event")]);
}

#[test]
fn plain_json_error_bodies() {
    let body = r#"{"error":{"code":400,"message":"too long","type":"exceed_context_size_error"}}"#;
    let want = json!([err(
        "too long",
        Some("exceed_context_size_error"),
        json!(400)
    )]);
    // Alone, with and without a trailing newline.
    assert_eq!(errors(body), want);
    assert_eq!(errors(&format!("{body}\n")), want);
    assert_eq!(errors(&format!("{body}\r\n")), want);
    // Pretty-printed (blank lines are not ignored lines, and change nothing).
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(body).unwrap()).unwrap();
    assert!(pretty.lines().count() > 3);
    assert_eq!(errors(&pretty), want);
    assert_eq!(errors(&format!("{pretty}\n")), want);
    assert_eq!(errors(&pretty.replace('\n', "\n\n")), want);
    // After some events.
    let chunk = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n";
    let m = message(&format!("{chunk}{pretty}\n"));
    assert_eq!(m["errors"], want);
    assert_eq!(m["choices"][0]["content"], "hi");
    assert_eq!(m["ending"], "error");
    // The error is the last outcome, after the incomplete one.
    let out = outcomes(format!("{chunk}{body}").as_bytes());
    let kinds: Vec<Value> = out
        .iter()
        .map(|o| outcome_json(o)["outcome"].clone())
        .collect();
    assert_eq!(
        kinds,
        vec![json!("event"), json!("incomplete"), json!("error")]
    );
    // The string shape; and one whose error object has no message (the whole joined text).
    assert_eq!(
        errors("{\"error\":\"s\",\"error_type\":\"t\"}\n"),
        json!([err("s", Some("t"), Value::Null)])
    );
    let bare = "{\n\"error\": {\"code\": 503}\n}";
    assert_eq!(errors(bare), json!([err(bare, None, json!(503))]));
    // Not an error body: no `error` member, an empty or null one, not an object, not JSON.
    for not in [
        "{\"message\":\"m\"}",
        "{\"error\":\"\"}",
        "{\"error\":null}",
        "[{\"error\":{}}]",
        "{\"error\":{}",
        "oops",
    ] {
        assert_eq!(errors(&format!("{not}\n")), json!([]), "{not}");
    }
    // Only the lines since the last dispatched event count.
    let split = "{\"error\":\n";
    assert_eq!(
        errors(&format!("{split}{chunk}{{\"message\":\"m\"}}}}\n")),
        json!([])
    );
    assert_eq!(
        errors(&format!("{chunk}{split}{{\"message\":\"m\"}}}}\n")),
        json!([err("m", None, Value::Null)])
    );
    // Lines of a known field are not part of it, nor comments.
    assert_eq!(
        errors("{\"error\":\n: c\n{\"message\":\"m\"}}\n"),
        json!([err("m", None, Value::Null)])
    );
    assert_eq!(
        errors("{\"error\":\nid: 3\n{\"message\":\"m\"}}\n"),
        json!([err("m", None, Value::Null)])
    );
    // An `error:` line taken by rule 6 is not part of a body; one not taken is.
    assert_eq!(
        errors(&format!("error: {{\"message\":\"a\"}}\n{body}\n")),
        json!([err("a", None, Value::Null), want[0].clone()])
    );
    assert_eq!(errors("{\"error\":\nerror: x\n}\n"), json!([]));
    // A data event after the body resets it.
    assert_eq!(errors(&format!("{body}\n{chunk}")), json!([]));
}
