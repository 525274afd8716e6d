//! The library and the CLI against the issue-10 message contract.
//!
//! - The library's message, built from `ChunkStream` outcomes pushed into an `Accumulator`
//!   ([`library_message`]), equals each replayed case's `.message.json` and the std + serde_json
//!   reference (`common/contract_reference.rs`) at read sizes 1, 3, 64 and 65536, and so do its
//!   outcomes, one by one ([`library_outcomes`] against `contract_reference::outcomes`).
//! - `ssechunk message` prints exactly each case's message at those read sizes, and every mode
//!   reports each case's problems on stderr.
//! - proptest generators of each kind (errors in every shape, `event: error` with any body,
//!   `error:` lines, plain JSON error bodies, tool calls without `index`, content-part arrays,
//!   object and array arguments, `x_groq` usage, interleaved choices, unknown shapes) give the
//!   reference's message and outcomes at any split, and the same as the whole input.
//! - Accumulation cost is linear whatever order choice and tool-call indexes arrive in: a ratio
//!   to ascending order measured in one run.
//!
//! The Anthropic case (11) is held to its `.message.json` alone: the chat reference does not
//! know that dialect (`tests/dialect_anthropic.rs` holds it to the Anthropic reference).

#[path = "common/contract_reference.rs"]
mod contract_reference;
#[path = "common/rng.rs"]
mod rng;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use contract_reference::{
    assert_same_message, canonical, outcome_json, outcomes, reference_event, reference_message,
};
use proptest::prelude::*;
use rng::Rng;
use serde_json::{Map, Value, json};
use ssechunk::{
    Accumulator, ChunkStream, Config, Ending, ErrorCode, InvalidData, Outcome, OwnedErrorCode,
    Payload,
};

const BIN: &str = env!("CARGO_BIN_EXE_ssechunk");
const READ_SIZES: [usize; 4] = [1, 3, 64, 65536];

// ---------------------------------------------------------------------------------------------
// The library side: outcomes and the accumulated message as the reference's JSON forms.

/// The contract's JSON value of an accumulator: choices and tool calls sorted by index.
fn message_json(acc: &Accumulator) -> Value {
    let mut choices: Vec<_> = acc.choices().iter().collect();
    choices.sort_by_key(|c| c.index);
    let choices: Vec<Value> = choices
        .into_iter()
        .map(|c| {
            let mut calls: Vec<_> = c.tool_calls.iter().collect();
            calls.sort_by_key(|t| t.index);
            let calls: Vec<Value> = calls
                .into_iter()
                .map(|t| {
                    json!({
                        "index": t.index, "id": t.id, "name": t.name, "arguments": t.arguments,
                        "complete": t.arguments_complete(),
                    })
                })
                .collect();
            json!({
                "index": c.index, "role": c.role, "content": c.content,
                "reasoning": c.reasoning, "refusal": c.refusal, "tool_calls": calls,
                "finish_reason": c.finish_reason, "finish": c.finish.map(|f| f.as_str()),
            })
        })
        .collect();
    let errors: Vec<Value> = acc
        .errors()
        .iter()
        .map(|e| {
            let code = match &e.code {
                None => Value::Null,
                Some(OwnedErrorCode::Str(s)) => json!(s),
                Some(OwnedErrorCode::Int(i)) => json!(i),
                #[allow(unreachable_patterns)]
                Some(other) => panic!("an error code the contract does not know: {other:?}"),
            };
            json!({"message": e.message, "type": e.kind, "code": code})
        })
        .collect();
    let ending = match acc.ending() {
        Ending::Done => "done",
        Ending::Finished => "finished",
        Ending::Error => "error",
        Ending::Truncated => "truncated",
        #[allow(unreachable_patterns)]
        other => panic!("an ending the contract does not know: {other:?}"),
    };
    json!({
        "dialect": acc.message().dialect.as_str(),
        "id": acc.id(),
        "model": acc.model(),
        "choices": choices,
        "usage": acc.usage().map(|u| json!({
            "input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
            "total_tokens": u.total_tokens, "cached_input_tokens": u.cached_input_tokens,
            "reasoning_tokens": u.reasoning_tokens,
        })),
        "errors": errors,
        "invalid": acc.invalid(),
        "ending": ending,
    })
}

fn api_error_json(e: &ssechunk::ApiError<'_>) -> Value {
    let code = match e.code() {
        None => Value::Null,
        Some(ErrorCode::Str(s)) => json!(s),
        Some(ErrorCode::Int(i)) => json!(i),
        #[allow(unreachable_patterns)]
        Some(other) => panic!("an error code the contract does not know: {other:?}"),
    };
    json!({
        "kind": "error", "message": e.message(), "type": e.kind(), "code": code,
        "param": e.param(),
    })
}

/// A payload in `contract_reference::reference_event`'s form.
fn payload_json(payload: &Payload<'_>) -> Value {
    match payload {
        Payload::Done => json!({"kind": "done"}),
        Payload::ApiError(e) => api_error_json(e),
        Payload::Invalid(InvalidData::NotJson) => {
            json!({"kind": "invalid", "reason": "not_json", "field": null})
        }
        Payload::Invalid(InvalidData::NotObject) => {
            json!({"kind": "invalid", "reason": "not_object", "field": null})
        }
        Payload::Invalid(InvalidData::UnexpectedShape { field }) => {
            json!({"kind": "invalid", "reason": "unexpected_shape", "field": field})
        }
        #[allow(unreachable_patterns)]
        Payload::Invalid(other) => panic!("an InvalidData the contract does not know: {other:?}"),
        Payload::Chunk(c) => json!({
            "kind": "chunk", "id": c.id(), "model": c.model(), "created": c.created(),
            "system_fingerprint": c.system_fingerprint(),
            "usage": c.usage().map(|u| json!({
                "input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
                "total_tokens": u.total_tokens, "cached_input_tokens": u.cached_input_tokens,
                "reasoning_tokens": u.reasoning_tokens,
            })),
            "choices": c.choices().map(|d| json!({
                "index": d.index(), "role": d.role(), "content": d.content(),
                "reasoning": d.reasoning(), "refusal": d.refusal(),
                "finish_reason": d.finish_reason(), "finish": d.finish().map(|f| f.as_str()),
                "tool_calls": d.tool_calls().iter().map(|t| json!({
                    "index": t.index(), "id": t.id(), "type": t.kind(), "name": t.name(),
                    "arguments": t.arguments(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }),
        // Another dialect's event: see `assert_same_outcomes`.
        Payload::Parts(parts) => json!({"kind": "parts", "dialect": parts.dialect().as_str()}),
        #[allow(unreachable_patterns)]
        _ => panic!("a payload the contract does not know"),
    }
}

/// An outcome in `contract_reference::outcome_json`'s form; `None` for comments.
fn outcome_value(outcome: &Outcome<'_>) -> Option<Value> {
    Some(match outcome {
        Outcome::Event { event, payload } => json!({
            "outcome": "event",
            "event": String::from_utf8_lossy(event.event_type()),
            "data": String::from_utf8_lossy(event.data()),
            "payload": payload_json(payload),
        }),
        Outcome::Error(e) => {
            let mut v = api_error_json(e);
            v["outcome"] = json!("error");
            v.as_object_mut().expect("an object").remove("kind");
            v
        }
        Outcome::Ignored(line) => {
            json!({"outcome": "ignored", "line": String::from_utf8_lossy(line)})
        }
        Outcome::Incomplete(_) => json!({"outcome": "incomplete"}),
        Outcome::Comment(_) => return None,
        #[allow(unreachable_patterns)]
        _ => panic!("an outcome the contract does not know"),
    })
}

/// What the library made of a whole stream: its outcomes and its message.
struct Run {
    outcomes: Vec<Value>,
    message: Value,
}

/// Feeds `input` cut before each offset of `cuts` (ascending), pulling every outcome after each
/// piece into the accumulator, then finishes.
fn run_library(input: &[u8], cuts: &[usize]) -> Run {
    let mut stream = ChunkStream::new();
    let mut acc = Accumulator::new();
    let mut outcomes = Vec::new();
    let mut pull = |stream: &mut ChunkStream, acc: &mut Accumulator| {
        while let Some(outcome) = stream.next_outcome() {
            let outcome = outcome.expect("no event here is over the size limit");
            acc.push_outcome(&outcome);
            outcomes.extend(outcome_value(&outcome));
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
    Run {
        outcomes,
        message: message_json(&acc),
    }
}

/// Cuts every `size` bytes.
fn reads_of(len: usize, size: usize) -> Vec<usize> {
    (1..len.div_ceil(size)).map(|i| i * size).collect()
}

/// The library's message at a fixed read size.
fn library_message(input: &[u8], read: usize) -> Value {
    run_library(input, &reads_of(input.len(), read)).message
}

/// The unterminated last line of a stream (after a BOM), empty when it ends with a line end.
fn unterminated_rest(input: &[u8]) -> &[u8] {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    match input.iter().rposition(|&b| b == b'\n' || b == b'\r') {
        Some(end) => &input[end + 1..],
        None => input,
    }
}

/// The library's outcomes against the reference's: events, errors and the incomplete report
/// exactly, in order (arguments compared as JSON); the ignored lines in order, where the
/// library may also report the unterminated last line as ignored (the contract leaves it open).
#[track_caller]
fn assert_same_outcomes(library: &[Value], input: &[u8], what: &str) {
    let reference: Vec<Value> = outcomes(input).iter().map(outcome_json).collect();
    let is_ignored = |v: &&Value| v["outcome"] == "ignored";
    let significant = |list: &[Value]| -> Vec<Value> {
        list.iter()
            .filter(|v| !is_ignored(v))
            .map(canonical)
            .collect()
    };
    let (library_significant, mut reference_significant) =
        (significant(library), significant(&reference));
    // The events of another dialect than chat are parts in the library, where the chat
    // reference reads chunks: their framing is compared here, their meaning by the dialect's
    // own reference (tests/dialect_*.rs).
    for (lib, want) in library_significant
        .iter()
        .zip(reference_significant.iter_mut())
    {
        if lib["payload"]["kind"] == "parts" && want["payload"]["kind"] == "chunk" {
            want["payload"] = lib["payload"].clone();
        }
    }
    assert_eq!(
        library_significant,
        reference_significant,
        "{what}: the outcomes differ from the reference; input {:?}",
        String::from_utf8_lossy(input)
    );
    let ignored =
        |list: &[Value]| -> Vec<Value> { list.iter().filter(is_ignored).cloned().collect() };
    let (lib, mut want) = (ignored(library), ignored(&reference));
    if lib.len() == want.len() + 1 {
        want.push(json!({"outcome": "ignored", "line": String::from_utf8_lossy(unterminated_rest(input))}));
    }
    assert_eq!(
        lib,
        want,
        "{what}: the ignored lines differ from the reference; input {:?}",
        String::from_utf8_lossy(input)
    );
}

// ---------------------------------------------------------------------------------------------
// The replayed cases.

struct Case {
    name: String,
    path: PathBuf,
    sse: Vec<u8>,
    message: Value,
}

impl Case {
    /// The chat cases (the chat reference computes their message); 11 is an Anthropic stream.
    fn is_chat(&self) -> bool {
        self.message["dialect"] == "chat"
    }
}

fn cases() -> Vec<Case> {
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
    assert_eq!(names.len(), 9, "the nine replayed cases");
    names
        .into_iter()
        .map(|name| {
            let path = dir.join(format!("{name}.sse"));
            let sse = std::fs::read(&path).expect("the .sse file");
            let text = std::fs::read_to_string(dir.join(format!("{name}.message.json")))
                .expect("the .message.json beside it");
            let message = serde_json::from_str(&text).expect("the expected message is JSON");
            Case {
                name,
                path,
                sse,
                message,
            }
        })
        .collect()
}

#[test]
fn every_case_at_every_read_size() {
    for case in cases() {
        for read in READ_SIZES {
            let what = format!("{} at read size {read}", case.name);
            let run = run_library(&case.sse, &reads_of(case.sse.len(), read));
            // The outcomes hold for every case: framing and rules 1-7 know no dialect.
            assert_same_outcomes(&run.outcomes, &case.sse, &what);
            assert_same_message(&run.message, &case.message, &what);
            if case.is_chat() {
                assert_same_message(&run.message, &reference_message(&case.sse), &what);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The command line.

fn cli(args: &[&str]) -> std::process::Output {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{args:?} exits 0: {out:?}");
    out
}

#[test]
fn cli_message_prints_each_case() {
    for case in cases() {
        let path = case.path.to_str().expect("a UTF-8 path");
        for read in READ_SIZES {
            let read = read.to_string();
            let out = cli(&["message", "--read-size", &read, path]);
            let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
            let lines: Vec<&str> = stdout.lines().collect();
            assert_eq!(lines.len(), 1, "{}: one line: {stdout}", case.name);
            let printed: Value = serde_json::from_str(lines[0]).expect("the line is JSON");
            assert_same_message(&printed, &case.message, &format!("{} at {read}", case.name));
        }
    }
}

#[test]
fn cli_every_mode_reports_problems_on_stderr() {
    for case in cases() {
        // What each case's stderr must mention: its error messages, or "invalid".
        let mut expect: Vec<String> = outcomes(&case.sse)
            .iter()
            .map(outcome_json)
            .filter_map(|o| match o["outcome"].as_str() {
                Some("error") => o["message"].as_str().map(str::to_owned),
                Some("event") if o["payload"]["kind"] == "error" => {
                    o["payload"]["message"].as_str().map(str::to_owned)
                }
                _ => None,
            })
            .collect();
        if reference_message(&case.sse)["invalid"] != 0 {
            expect.push("invalid".to_owned());
        }
        let n = &case.name[..2];
        match n {
            "01" | "02" | "03" | "11" => assert!(!expect.is_empty(), "{}: has an error", case.name),
            "10" => assert_eq!(expect, ["invalid"], "{}", case.name),
            _ => {}
        }
        let path = case.path.to_str().expect("a UTF-8 path");
        for mode in ["text", "events", "chunks", "message", "stats"] {
            for read in ["1", "65536"] {
                let out = cli(&[mode, "--read-size", read, path]);
                let stderr = String::from_utf8_lossy(&out.stderr);
                for needle in &expect {
                    assert!(
                        stderr.contains(needle.as_str()),
                        "{} in {mode} mode at read size {read}: stderr does not mention {needle:?}:\n{stderr}",
                        case.name
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Points the proptests leave out because the contract needs a reading there; each is pinned
// here on its own so that a disagreement names itself.

/// Content-part arrays with no `text` part give no content (not ""), as an empty array does.
#[test]
fn thinking_only_parts_give_no_content() {
    let input = b"data: {\"choices\":[{\"delta\":{\"content\":[{\"type\":\"thinking\",\"thinking\":\"t\"}]}}]}\n\n";
    let m = library_message(input, 65536);
    assert_eq!(m["choices"][0]["content"], Value::Null, "{m}");
    assert_eq!(m["choices"][0]["reasoning"], "t", "{m}");
    assert_same_message(&m, &reference_message(input), "thinking only");
}

/// Per event, every shape the unit tests of the reference pin, through the library's decoder.
#[test]
fn events_decode_as_the_reference() {
    let events: &[(&str, &str)] = &[
        (
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded","code":529}}"#,
        ),
        ("error", r#"{"code":400,"details":"bad input"}"#),
        (
            "error",
            r#"{"message":"quota","status":"RESOURCE_EXHAUSTED","code":429}"#,
        ),
        ("error", r#"{"type":"error","message":"m"}"#),
        ("error", r#"{"code":"E1"}"#),
        ("error", "upstream timed out"),
        ("error", "[DONE]"),
        ("error", r#"{"error":"boom","error_type":"validation"}"#),
        (
            "message",
            r#"{"error":"validation failed","error_type":"validation"}"#,
        ),
        ("message", r#"{"error":{"code":500}}"#),
        (
            "message",
            r#"{"error":{"message":"m","code":9223372036854775808}}"#,
        ),
        ("message", r#"{"error":{"message":"m","code":-0}}"#),
        ("message", r#"{"error":{"message":"m","code":1.5}}"#),
        ("message", r#"{"error":null,"model":"m"}"#),
        ("message", r#"{"error":"","model":"m"}"#),
        ("message", r#"{"error":[1],"model":"m"}"#),
        ("ping", "[DONE]"),
        ("message", "[1]"),
        ("message", ""),
        (
            "message",
            r#"{"choices":[{"index":null,"delta":{"tool_calls":[{"index":null,"id":"a","function":{"arguments":{"k":[1,2]}}}]}}]}"#,
        ),
        (
            "message",
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":[true]}}]}}]}"#,
        ),
        (
            "message",
            r#"{"choices":[{"delta":{"content":[{"type":"text","text":"a"},{"type":"thinking","thinking":[{"type":"text","text":"b"}]}],"reasoning_content":"r"}}]}"#,
        ),
        (
            "message",
            r#"{"x_groq":{"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}}}"#,
        ),
        (
            "message",
            r#"{"usage":{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":1},"completion_tokens_details":{"reasoning_tokens":2}}}"#,
        ),
        (
            "message",
            r#"{"choices":[{"finish_reason":"function_call"}]}"#,
        ),
        (
            "message",
            r#"{"choices":[{"delta":{"content":[{"type":"image_url"}]}}]}"#,
        ),
        ("message", r#"{"choices":[{"index":"1"}]}"#),
        (
            "message",
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":5}}]}}]}"#,
        ),
        (
            "message",
            r#"{"choices":[{"delta":{"tool_calls":[{"id":5}]}}]}"#,
        ),
        ("message", r#"{"usage":[]}"#),
        // Duplicate keys: the last one wins.
        (
            "message",
            r#"{"choices":5,"choices":[{"delta":{"content":"a"}}]}"#,
        ),
        (
            "message",
            r#"{"error":{"message":"m"},"error":null,"model":"x"}"#,
        ),
    ];
    for (event_type, data) in events {
        let input = format!("event: {event_type}\ndata: {data}\n\n");
        let run = run_library(input.as_bytes(), &[]);
        assert_eq!(run.outcomes.len(), 1, "{input}");
        assert_eq!(
            canonical(&run.outcomes[0]["payload"]),
            canonical(&reference_event(event_type, data.as_bytes())),
            "event {event_type:?} {data}"
        );
    }
}

/// A plain JSON error body is looked at only while its joined text stays within the event
/// size limit; each of its lines is still reported as ignored.
#[test]
fn plain_body_is_bounded_by_the_event_limit() {
    let run = |body: &Value| {
        let text = serde_json::to_string_pretty(body).expect("JSON") + "\n";
        assert!(text.lines().all(|l| l.len() < 60), "short lines: {text}");
        let mut stream = ChunkStream::with_config(Config::new().max_event_bytes(200));
        let mut acc = Accumulator::new();
        let mut ignored = 0;
        for piece in text.as_bytes().chunks(7) {
            stream.feed(piece);
            while let Some(outcome) = stream.next_outcome() {
                let outcome = outcome.expect("every line is within the limit");
                ignored += usize::from(matches!(outcome, Outcome::Ignored(_)));
                acc.push_outcome(&outcome);
            }
        }
        stream.finish();
        while let Some(outcome) = stream.next_outcome() {
            let outcome = outcome.expect("within the limit");
            ignored += usize::from(matches!(outcome, Outcome::Ignored(_)));
            acc.push_outcome(&outcome);
        }
        assert_eq!(
            ignored,
            text.lines().count(),
            "every line is reported: {text}"
        );
        message_json(&acc)
    };
    let small = json!({"error": {"message": "refused", "code": 400}});
    assert_eq!(
        run(&small)["errors"],
        json!([{"message": "refused", "type": null, "code": 400}])
    );
    let mut big = json!({"error": {"message": "refused"}});
    for i in 0..40 {
        big["error"][format!("k{i:02}")] = json!("xxxxxxxx");
    }
    let m = run(&big);
    assert_eq!(m["errors"], json!([]), "{m}");
    assert_eq!(m["ending"], "truncated");
}

// ---------------------------------------------------------------------------------------------
// proptest generators.

/// Short text with the characters that need escaping, a colon and non-ASCII.
fn text() -> BoxedStrategy<String> {
    "[a-z :é😀\"\\\\\n]{0,6}".boxed()
}

fn non_empty_text() -> impl Strategy<Value = String> {
    "[a-z :é\"\\\\]{1,6}"
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop_oneof![1 => Just(None), 2 => s.prop_map(Some)].boxed()
}

/// Inserts the present members.
fn object(members: Vec<(&str, Option<Value>)>) -> Value {
    let mut map = Map::new();
    for (k, v) in members {
        if let Some(v) = v {
            map.insert(k.to_owned(), v);
        }
    }
    Value::Object(map)
}

/// An error code of every kind: integers (some past i64), strings, floats, bools, null.
fn code() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (-1000i64..1000).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(json!(u64::MAX)),
        2 => "[a-z_]{1,8}".prop_map(Value::from),
        1 => Just(json!(1.5)),
        1 => Just(json!(true)),
        1 => Just(Value::Null),
    ]
}

/// The members an error object may have.
fn error_fields() -> impl Strategy<Value = Map<String, Value>> {
    (
        opt(text()),
        opt(text()),
        opt(text()),
        opt("[a-z_]{1,10}"),
        opt("[A-Z_]{1,10}"),
        opt(code()),
        opt(text()),
    )
        .prop_map(|(message, detail, details, kind, status, code, param)| {
            let v = object(vec![
                ("message", message.map(Value::from)),
                ("detail", detail.map(Value::from)),
                ("details", details.map(Value::from)),
                ("type", kind.map(Value::from)),
                ("status", status.map(Value::from)),
                ("code", code),
                ("param", param.map(Value::from)),
            ]);
            v.as_object().expect("an object").clone()
        })
}

/// `{"error": S, "error_type"?: T}` (text-generation-inference).
fn string_error() -> impl Strategy<Value = Value> {
    (non_empty_text(), opt("[a-z_]{1,10}")).prop_map(|(message, kind)| {
        object(vec![
            ("error", Some(message.into())),
            ("error_type", kind.map(Value::from)),
        ])
    })
}

/// `{"error": {...}}`, sometimes inside Anthropic's `{"type": "error"}` envelope.
fn nested_error() -> impl Strategy<Value = Value> {
    (error_fields(), any::<bool>()).prop_map(|(fields, envelope)| {
        let mut v = json!({ "error": fields });
        if envelope {
            v["type"] = json!("error");
        }
        v
    })
}

/// A flat error body: the data object is the error object; sometimes typed `"error"` (the
/// envelope's type, never the error's; then without a `status`, which the contract does not
/// order against it).
fn flat_error() -> impl Strategy<Value = Value> {
    (error_fields(), any::<bool>()).prop_map(|(mut fields, envelope)| {
        if envelope {
            fields.insert("type".into(), json!("error"));
            fields.remove("status");
        }
        Value::Object(fields)
    })
}

/// The data of an `event: error`: anything (one line).
fn error_event_data() -> impl Strategy<Value = String> {
    prop_oneof![
        nested_error().prop_map(|v| v.to_string()),
        flat_error().prop_map(|v| v.to_string()),
        string_error().prop_map(|v| v.to_string()),
        "[a-z :]{0,12}",
        Just(String::new()),
        prop::sample::select(vec![
            "[1]",
            "5",
            "\"s\"",
            "null",
            "{",
            "[DONE]",
            "{\"error\":null}"
        ])
        .prop_map(str::to_owned),
    ]
}

/// The value of an `error:` line: JSON objects (taken) and other values (ignored).
fn error_line_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => nested_error().prop_map(|v| v.to_string()),
        3 => flat_error().prop_map(|v| v.to_string()),
        1 => string_error().prop_map(|v| v.to_string()),
        2 => prop::sample::select(vec!["oops", "[1]", "\"s\"", "", "5", "{"]).prop_map(str::to_owned),
    ]
}

/// A plain JSON error body's object.
fn body_error() -> impl Strategy<Value = Value> {
    prop_oneof![3 => nested_error(), 1 => string_error()]
}

/// Tool-call arguments: string pieces of JSON, or a JSON object or array.
fn arguments() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(vec!["", "{", "}", "\"a\"", ":", "1", ",", "[", "]", " ", "{\"k\":", "\"v\"}", "x"])
            .prop_map(Value::from),
        1 => (text(), -5i64..5).prop_map(|(s, n)| json!({"s": s, "n": n, "list": [n, {"deep": s}]})),
        1 => (text(), any::<bool>()).prop_map(|(s, b)| json!([s, b, null])),
        1 => Just(json!({})),
    ]
}

/// One tool-call fragment; `indexless` streams send no `index` (absent or null) at all.
fn fragment(indexless: bool) -> impl Strategy<Value = Value> {
    let index = if indexless {
        prop_oneof![Just(None), Just(Some(Value::Null))].boxed()
    } else {
        (0u64..4).prop_map(|i| Some(Value::from(i))).boxed()
    };
    (
        index,
        opt(prop::sample::select(vec!["a", "b", "c", ""])),
        opt(Just("function")),
        opt(prop::sample::select(vec!["get_weather", "read_file", ""])),
        opt(arguments()),
        any::<bool>(),
    )
        .prop_map(|(index, id, kind, name, args, with_function)| {
            let function = with_function
                .then(|| object(vec![("name", name.map(Value::from)), ("arguments", args)]));
            object(vec![
                ("index", index),
                ("id", id.map(Value::from)),
                ("type", kind.map(Value::from)),
                ("function", function),
            ])
        })
}

/// `delta.content`: a string, or an array of typed parts with at least one `text` part
/// (thinking given as a string or as text parts).
fn content() -> impl Strategy<Value = Value> {
    let text_part = text().prop_map(|t| json!({"type": "text", "text": t}));
    let thinking = prop_oneof![
        text().prop_map(Value::from),
        prop::collection::vec(
            text().prop_map(|t| json!({"type": "text", "text": t})),
            1..3
        )
        .prop_map(Value::Array),
    ]
    .prop_map(|t| json!({"type": "thinking", "thinking": t}));
    let parts = (
        prop::collection::vec(prop_oneof![text_part.clone(), thinking], 0..3),
        text_part,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut parts, text, at)| {
            let at = at.index(parts.len() + 1);
            parts.insert(at, text);
            Value::Array(parts)
        });
    prop_oneof![2 => text().prop_map(Value::from), 1 => parts]
}

fn delta(indexless: bool) -> impl Strategy<Value = Value> {
    (
        opt(prop::sample::select(vec!["assistant", ""])),
        opt(content()),
        opt(text()),
        opt(text()),
        opt(text()),
        opt(prop::collection::vec(fragment(indexless), 0..3)),
    )
        .prop_map(
            |(role, content, reasoning_content, reasoning, refusal, calls)| {
                object(vec![
                    ("role", role.map(Value::from)),
                    ("content", content),
                    ("reasoning_content", reasoning_content.map(Value::from)),
                    ("reasoning", reasoning.map(Value::from)),
                    ("refusal", refusal.map(Value::from)),
                    ("tool_calls", calls.map(Value::Array)),
                ])
            },
        )
}

fn choice(indexless: bool) -> impl Strategy<Value = Value> {
    (
        prop_oneof![4 => (0u64..3).prop_map(|i| Some(Value::from(i))), 1 => Just(None), 1 => Just(Some(Value::Null))],
        opt(delta(indexless)),
        opt(prop_oneof![
            prop::sample::select(vec!["stop", "length", "tool_calls", "function_call", "content_filter", "error", "end_turn", ""])
                .prop_map(Value::from),
            Just(Value::Null),
        ]),
    )
        .prop_map(|(index, delta, finish)| {
            object(vec![("index", index), ("delta", delta), ("finish_reason", finish)])
        })
}

fn usage() -> impl Strategy<Value = Value> {
    (
        0u64..100,
        0u64..100,
        opt(0u64..200),
        opt(0u64..10),
        opt(0u64..10),
    )
        .prop_map(|(p, c, t, cached, reasoning)| {
            object(vec![
                ("prompt_tokens", Some(p.into())),
                ("completion_tokens", Some(c.into())),
                ("total_tokens", t.map(Value::from)),
                (
                    "prompt_tokens_details",
                    cached.map(|n| json!({ "cached_tokens": n })),
                ),
                (
                    "completion_tokens_details",
                    reasoning.map(|n| json!({ "reasoning_tokens": n })),
                ),
            ])
        })
}

/// One way to break a chunk's shape, at one field.
#[derive(Debug, Clone)]
enum Break {
    Top(&'static str, Value),
    Choice(&'static str, Value),
    Delta(&'static str, Value),
    Call(&'static str, Value),
    Function(&'static str, Value),
}

fn breakage() -> impl Strategy<Value = Break> {
    prop::sample::select(vec![
        Break::Top("choices", json!({})),
        Break::Top("choices", json!([1])),
        Break::Top("usage", json!(5)),
        Break::Top("x_groq", json!({"usage": "u"})),
        Break::Choice("index", json!("0")),
        Break::Choice("index", json!(-1)),
        Break::Choice("index", json!(1.5)),
        Break::Choice("finish_reason", json!(1)),
        Break::Choice("delta", json!("x")),
        Break::Delta("content", json!(5)),
        Break::Delta("content", json!([{"type": "audio"}])),
        Break::Delta("content", json!([{"type": "text"}])),
        Break::Delta(
            "content",
            json!([{"type": "thinking", "thinking": [{"type": "image"}]}]),
        ),
        Break::Delta("reasoning_content", json!(1)),
        Break::Delta("refusal", json!(true)),
        Break::Delta("tool_calls", json!({})),
        Break::Delta("tool_calls", json!([1])),
        Break::Call("index", json!("0")),
        Break::Call("id", json!(5)),
        Break::Call("function", json!("f")),
        Break::Function("name", json!(1)),
        Break::Function("arguments", json!(true)),
    ])
}

/// Sets one field to a shape the decoder does not know, creating the path to it.
fn apply(chunk: &mut Value, b: &Break) {
    let first = |v: &mut Value, key: &str| -> Value {
        if !v[key].is_array() || v[key].as_array().is_some_and(Vec::is_empty) {
            v[key] = json!([{}]);
        }
        if !v[key][0].is_object() {
            v[key][0] = json!({});
        }
        v[key][0].take()
    };
    match b {
        Break::Top(k, bad) => {
            if *k == "x_groq" {
                chunk.as_object_mut().expect("an object").remove("usage");
            }
            chunk[*k] = bad.clone();
        }
        Break::Choice(k, bad) => {
            let mut c = first(chunk, "choices");
            c[*k] = bad.clone();
            chunk["choices"][0] = c;
        }
        Break::Delta(k, bad) | Break::Call(k, bad) | Break::Function(k, bad) => {
            let mut c = first(chunk, "choices");
            if !c["delta"].is_object() {
                c["delta"] = json!({});
            }
            let delta = &mut c["delta"];
            match b {
                Break::Delta(..) => delta[*k] = bad.clone(),
                _ => {
                    let mut call = first(delta, "tool_calls");
                    if let Break::Call(..) = b {
                        call[*k] = bad.clone();
                    } else {
                        if !call["function"].is_object() {
                            call["function"] = json!({});
                        }
                        call["function"][*k] = bad.clone();
                    }
                    delta["tool_calls"][0] = call;
                }
            }
            chunk["choices"][0] = c;
        }
    }
}

/// A chat chunk: every field the decoder takes, in accepted shapes, and (one time in eight) one
/// field broken.
fn chunk(indexless: bool) -> impl Strategy<Value = Value> {
    (
        opt(prop::sample::select(vec!["c1", "c2", ""])),
        opt(prop::sample::select(vec!["m1", "m2", ""])),
        opt(0u64..2_000_000_000),
        prop::collection::vec(choice(indexless), 0..3),
        prop_oneof![
            3 => Just(None),
            1 => usage().prop_map(|u| Some(("usage", u))),
            1 => usage().prop_map(|u| Some(("x_groq", json!({"id": "req", "usage": u})))),
        ],
        prop_oneof![6 => Just(None), 1 => Just(Some(Value::Null)), 1 => Just(Some(json!("")))],
        prop_oneof![7 => Just(None), 1 => breakage().prop_map(Some)],
    )
        .prop_map(|(id, model, created, choices, usage, error, broken)| {
            let mut v = object(vec![
                ("id", id.map(Value::from)),
                ("object", Some("chat.completion.chunk".into())),
                ("model", model.map(Value::from)),
                ("created", created.map(Value::from)),
                ("choices", Some(Value::Array(choices))),
                ("error", error),
            ]);
            if let Some((key, u)) = usage {
                v[key] = u;
            }
            if let Some(b) = broken {
                apply(&mut v, &b);
            }
            v
        })
}

/// One piece of a generated stream.
#[derive(Debug, Clone)]
enum Item {
    /// A chunk event, with an optional `event:` type other than `error`.
    Chunk(Option<&'static str>, Value),
    Done,
    /// `event: error` with this data.
    ErrorEvent(String),
    /// A data object with an `error` member.
    DataError(Value),
    /// `error: VALUE`.
    ErrorLine(String),
    /// Data that is not JSON.
    NotJson(String),
    Comment,
    /// A line of an unknown field (ignored by the SSE rules).
    Unknown,
}

/// A generated stream: its items, then maybe a plain JSON error body.
#[derive(Debug, Clone)]
struct Stream {
    items: Vec<Item>,
    /// The body's object, pretty-printed or not, with a line end after it or not.
    body: Option<(Value, bool, bool)>,
    eol: &'static str,
    bom: bool,
}

impl Stream {
    fn bytes(&self) -> Vec<u8> {
        let eol = self.eol;
        let mut out = String::new();
        if self.bom {
            out.push('\u{FEFF}');
        }
        for item in &self.items {
            match item {
                Item::Chunk(kind, v) => {
                    if let Some(kind) = kind {
                        out += &format!("event: {kind}{eol}");
                    }
                    out += &format!("data: {v}{eol}{eol}");
                }
                Item::Done => out += &format!("data: [DONE]{eol}{eol}"),
                Item::ErrorEvent(data) => {
                    out += &format!("event: error{eol}data: {data}{eol}{eol}")
                }
                Item::DataError(v) => out += &format!("data:{v}{eol}{eol}"),
                Item::ErrorLine(value) => out += &format!("error: {value}{eol}"),
                Item::NotJson(text) => out += &format!("data: {text}{eol}{eol}"),
                Item::Comment => out += &format!(": keep-alive{eol}"),
                Item::Unknown => out += &format!("x-request-id: 42{eol}"),
            }
        }
        if let Some((body, pretty, newline)) = &self.body {
            let text = if *pretty {
                serde_json::to_string_pretty(body).expect("JSON")
            } else {
                body.to_string()
            };
            out += &text.replace('\n', eol);
            if *newline {
                out += eol;
            }
        }
        out.into_bytes()
    }
}

/// Weights of the item kinds: (chunk, done, error event, data error, error line, not JSON,
/// comment, unknown line).
type Mix = [u32; 8];

fn item(mix: Mix, indexless: bool) -> impl Strategy<Value = Item> {
    prop_oneof![
        mix[0] => (opt(prop::sample::select(vec!["message", "ping"])), chunk(indexless))
            .prop_map(|(kind, v)| Item::Chunk(kind, v)),
        mix[1] => Just(Item::Done),
        mix[2] => error_event_data().prop_map(Item::ErrorEvent),
        mix[3] => prop_oneof![nested_error(), string_error()].prop_map(Item::DataError),
        mix[4] => error_line_value().prop_map(Item::ErrorLine),
        mix[5] => "[a-z ]{0,8}".prop_map(Item::NotJson),
        mix[6] => Just(Item::Comment),
        mix[7] => Just(Item::Unknown),
    ]
}

fn stream(mix: Mix, max_items: usize, body_weight: u32) -> impl Strategy<Value = Stream> {
    any::<bool>().prop_flat_map(move |indexless| {
        (
            prop::collection::vec(item(mix, indexless), 0..max_items),
            prop_oneof![
                4 => Just(None),
                body_weight => (body_error(), any::<bool>(), any::<bool>()).prop_map(Some),
            ],
            prop::sample::select(vec!["\n", "\n", "\r\n", "\r"]),
            prop::bool::weighted(0.1),
        )
            .prop_map(|(items, body, eol, bom)| Stream {
                items,
                body,
                eol,
                bom,
            })
    })
}

/// The library at random splits against the reference, and against the whole input.
fn check_stream(input: &[u8], seed: u64) -> Result<(), TestCaseError> {
    let what = String::from_utf8_lossy(input).into_owned();
    let whole = run_library(input, &[]);
    assert_same_message(&whole.message, &reference_message(input), &what);
    assert_same_outcomes(&whole.outcomes, input, &what);
    let mut rng = Rng::new(seed);
    for round in 0..3 {
        let cuts = match round {
            0 => rng.reads(input.len(), 5),
            1 => rng.reads(input.len(), 40),
            _ => rng.cuts(input.len(), 8),
        };
        let split = run_library(input, &cuts);
        prop_assert_eq!(
            &split.message,
            &whole.message,
            "cut at {:?}: {}",
            cuts,
            what
        );
        prop_assert_eq!(
            &split.outcomes,
            &whole.outcomes,
            "cut at {:?}: {}",
            cuts,
            what
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Errors in every shape: `event: error` with any body, string errors, error objects,
    /// `error:` lines (objects and not), and plain JSON error bodies (alone or after events,
    /// single-line or pretty, with or without a last line end).
    #[test]
    fn errors_in_every_shape(s in stream([2, 1, 3, 3, 3, 1, 1, 1], 6, 4), seed in any::<u64>()) {
        check_stream(&s.bytes(), seed)?;
    }

    /// Chunks of every shape: tool calls with and without `index` (absent or null, ids the
    /// same, different or empty), content-part arrays, object and array arguments, `x_groq`
    /// usage, interleaved choices, and one broken field now and then.
    #[test]
    fn chunks_of_every_shape(s in stream([12, 1, 1, 1, 0, 1, 1, 0], 10, 0), seed in any::<u64>()) {
        check_stream(&s.bytes(), seed)?;
    }

    /// Everything mixed.
    #[test]
    fn everything_mixed(s in stream([6, 1, 2, 2, 2, 1, 1, 1], 10, 2), seed in any::<u64>()) {
        check_stream(&s.bytes(), seed)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Linear cost whatever the index order.

/// The time spent in `push_outcome` over a whole stream (framing and decoding not counted),
/// and the message.
fn accumulate(input: &[u8]) -> (Duration, Value) {
    let mut stream = ChunkStream::new();
    let mut acc = Accumulator::new();
    let mut spent = Duration::ZERO;
    stream.feed(input);
    stream.finish();
    while let Some(outcome) = stream.next_outcome() {
        let outcome = outcome.expect("small events");
        let start = Instant::now();
        acc.push_outcome(&outcome);
        spent += start.elapsed();
    }
    (spent, message_json(&acc))
}

fn orders(n: usize) -> [(&'static str, Vec<usize>); 3] {
    let ascending: Vec<usize> = (0..n).collect();
    let descending: Vec<usize> = (0..n).rev().collect();
    let mut shuffled = ascending.clone();
    let mut rng = Rng::new(10);
    for i in (1..n).rev() {
        shuffled.swap(i, rng.below(i + 1));
    }
    [
        ("ascending", ascending),
        ("descending", descending),
        ("shuffled", shuffled),
    ]
}

/// Best of three per order, the orders interleaved; asserts the others cost at most 50x
/// ascending, and prints the figures. The bound is about the kind of cost, not its size: with
/// 40,000 indexes a lookup that scanned the earlier entries would cost thousands of times
/// more, while a loaded machine (the other tests of this file run beside it) or a cold cache
/// for shuffled indexes moves the ratio by a few times at most.
fn compare_orders(what: &str, streams: &[(&'static str, Vec<u8>)], check: impl Fn(&Value)) {
    let mut best = [Duration::MAX; 3];
    for _ in 0..3 {
        for (i, (_, input)) in streams.iter().enumerate() {
            let (spent, message) = accumulate(input);
            check(&message);
            best[i] = best[i].min(spent);
        }
    }
    let figures: Vec<String> = streams
        .iter()
        .zip(best)
        .map(|((name, _), t)| format!("{name} {:.1} ms", t.as_secs_f64() * 1e3))
        .collect();
    eprintln!("{what}: {}", figures.join(", "));
    for i in 1..3 {
        let ratio = best[i].as_secs_f64() / best[0].as_secs_f64();
        assert!(
            ratio <= 50.0,
            "{what}: {} costs {ratio:.1}x ascending ({})",
            streams[i].0,
            figures.join(", ")
        );
    }
}

#[test]
fn index_order_costs_the_same() {
    const N: usize = 40_000;
    // One choice per chunk, N choices.
    let streams: Vec<(&'static str, Vec<u8>)> = orders(N)
        .into_iter()
        .map(|(name, order)| {
            let mut input = Vec::new();
            for i in order {
                input.extend_from_slice(
                    format!("data: {{\"choices\":[{{\"index\":{i},\"delta\":{{\"content\":\"c{i}\"}}}}]}}\n\n").as_bytes(),
                );
            }
            (name, input)
        })
        .collect();
    compare_orders("choice indexes", &streams, |m| {
        let choices = m["choices"].as_array().expect("choices");
        assert_eq!(choices.len(), N);
        for (i, c) in choices.iter().enumerate().step_by(997) {
            assert_eq!(c["index"], i);
            assert_eq!(c["content"], format!("c{i}"));
        }
    });
    // N tool calls of one choice.
    let streams: Vec<(&'static str, Vec<u8>)> = orders(N)
        .into_iter()
        .map(|(name, order)| {
            let mut input = Vec::new();
            for i in order {
                input.extend_from_slice(
                    format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":{i},\"id\":\"t{i}\",\"function\":{{\"name\":\"f\",\"arguments\":\"{{}}\"}}}}]}}}}]}}\n\n").as_bytes(),
                );
            }
            (name, input)
        })
        .collect();
    compare_orders("tool-call indexes", &streams, |m| {
        let calls = m["choices"][0]["tool_calls"]
            .as_array()
            .expect("tool calls");
        assert_eq!(m["choices"].as_array().map(Vec::len), Some(1));
        assert_eq!(calls.len(), N);
        for (i, t) in calls.iter().enumerate().step_by(997) {
            assert_eq!(t["index"], i);
            assert_eq!(t["id"], format!("t{i}"));
            assert_eq!(t["arguments"], "{}");
            assert_eq!(t["complete"], true);
        }
    });
}
