//! Gemini's `streamGenerateContent?alt=sse` through `ChunkStream` and the `Accumulator`, held
//! to the serde_json reference of issue 11's Gemini mapping (`common/gemini_reference.rs`):
//! every Gemini stream of the recorded corpus at every read size, one small stream per rule of
//! the mapping against its exact message, generated streams at random splits, and no
//! allocation per event once warm.

#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/gemini_reference.rs"]
mod gemini_reference;

use gemini_reference::{assert_same_message, reference_message};
use proptest::prelude::*;
use serde_json::{Value, json};
use ssechunk::{Accumulator, ChunkStream, Config, Dialect, Outcome, Part, Payload};

// ---------------------------------------------------------------------------------------------
// The library side.

/// Feeds `input` cut before each offset of `cuts` (ascending), pushing every outcome into an
/// accumulator, and returns its message as the contract's JSON.
fn library_cut(input: &[u8], cuts: &[usize]) -> Value {
    let mut stream = ChunkStream::new();
    let mut acc = Accumulator::new();
    let mut start = 0;
    for &cut in cuts.iter().chain([input.len()].iter()) {
        stream.feed(&input[start..cut]);
        start = cut;
        while let Some(outcome) = stream.next_outcome() {
            acc.push_outcome(&outcome.expect("no event here is over the size limit"));
        }
    }
    stream.finish();
    while let Some(outcome) = stream.next_outcome() {
        acc.push_outcome(&outcome.expect("no event here is over the size limit"));
    }
    serde_json::to_value(acc.message()).expect("a message serialises")
}

/// Cuts every `size` bytes.
fn reads_of(len: usize, size: usize) -> Vec<usize> {
    (1..len.div_ceil(size)).map(|i| i * size).collect()
}

/// The library's message in reads of `size` bytes (`usize::MAX`: whole).
fn library_message(input: &[u8], size: usize) -> Value {
    if size >= input.len() {
        return library_cut(input, &[]);
    }
    library_cut(input, &reads_of(input.len(), size))
}

/// The read sizes a stream is tried at: one byte for small streams, 7, 64, 4096 and whole.
fn read_sizes(len: usize) -> Vec<usize> {
    let mut sizes = if len < 8 * 1024 { vec![1] } else { vec![] };
    sizes.extend([7, 64, 4096, usize::MAX]);
    sizes
}

/// Checks the library at every read size against `expected`.
#[track_caller]
fn check_library(input: &[u8], expected: &Value, what: &str) {
    for size in read_sizes(input.len()) {
        assert_same_message(
            &library_message(input, size),
            expected,
            &format!("{what}, reads of {size}"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The corpus.

/// How many Gemini streams the recorded corpus holds.
const GEMINI_STREAMS: usize = 42;

/// The Gemini streams of the corpus, found by content: a data line whose object begins with
/// `candidates`, as every Gemini event does.
fn gemini_streams() -> Option<Vec<(String, Vec<u8>)>> {
    let dir = corpus::corpus_dir()?;
    let files = corpus::corpus_files("sse")?;
    let streams: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .filter_map(|path| {
            let body = std::fs::read(&path).expect("a corpus file");
            let mark = b"data: {\"candidates\"";
            body.windows(mark.len()).any(|w| w == mark).then(|| {
                let name = path
                    .strip_prefix(&dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                (name, body)
            })
        })
        .collect();
    Some(streams)
}

#[test]
fn every_gemini_stream_of_the_corpus_matches_the_reference() {
    let Some(streams) = gemini_streams() else {
        return;
    };
    assert_eq!(
        streams.len(),
        GEMINI_STREAMS,
        "Gemini streams in the corpus"
    );
    let (mut texts, mut thoughts, mut calls, mut runs, mut events) = (0, 0, 0, 0, 0);
    for (name, body) in &streams {
        assert!(
            body.windows(2).any(|w| w == b"\r\n"),
            "{name}: Gemini ends its lines with CRLF"
        );
        events += body.windows(6).filter(|w| w == b"data: ").count();
        let expected = reference_message(body);
        for size in read_sizes(body.len()) {
            assert_same_message(
                &library_message(body, size),
                &expected,
                &format!("{name}, reads of {size}"),
            );
            runs += 1;
        }
        assert_eq!(expected["dialect"], "gemini", "{name}");
        assert_eq!(
            expected["ending"], "finished",
            "{name}: Gemini has no terminal event"
        );
        assert_eq!(expected["invalid"], 0, "{name}");
        assert_eq!(expected["errors"], json!([]), "{name}");
        assert!(!expected["usage"].is_null(), "{name}: usage");
        let choice = &expected["choices"][0];
        assert_eq!(choice["role"], "assistant", "{name}");
        let says = [
            choice["content"].as_str().is_some_and(|s| !s.is_empty()),
            choice["reasoning"].as_str().is_some_and(|s| !s.is_empty()),
            choice["tool_calls"]
                .as_array()
                .is_some_and(|c| !c.is_empty()),
        ];
        assert!(says.iter().any(|&s| s), "{name} says nothing: {expected}");
        texts += usize::from(says[0]);
        thoughts += usize::from(says[1]);
        calls += usize::from(says[2]);
        if says[2] {
            assert_eq!(choice["finish"], "tool_calls", "{name}");
            for call in choice["tool_calls"].as_array().unwrap() {
                assert_eq!(call["complete"], true, "{name}");
            }
        }
    }
    corpus_say(&format!(
        "dialect_gemini: {} Gemini corpus streams ({events} events) equal the reference at \
         {runs} read sizes in all; {texts} with text, {thoughts} with reasoning, {calls} with \
         tool calls",
        streams.len()
    ));
}

/// Writes past the test harness's capture.
fn corpus_say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[test]
fn the_cli_reads_a_gemini_stream() {
    // The message the CLI prints is the accumulator's; here the same through the library with
    // the dialect fixed, which must give what detection gives.
    let Some(streams) = gemini_streams() else {
        return;
    };
    for (name, body) in streams.iter().take(5) {
        let mut stream = ChunkStream::with_config(Config::new().dialect(Some(Dialect::Gemini)));
        let mut acc = Accumulator::new();
        stream.feed(body);
        stream.finish();
        while let Some(outcome) = stream.next_outcome() {
            acc.push_outcome(&outcome.expect("within the limit"));
        }
        assert_eq!(
            serde_json::to_value(acc.message()).unwrap(),
            library_message(body, usize::MAX),
            "{name}: fixed and detected dialects agree"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// One small stream per rule.

/// A stream of data events, CRLF line ends as Gemini sends them.
fn sse(events: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for event in events {
        if let Some(rest) = event.strip_prefix("event: error\n") {
            out.extend_from_slice(b"event: error\r\n");
            out.extend_from_slice(format!("data: {rest}\r\n\r\n").as_bytes());
        } else {
            out.extend_from_slice(format!("data: {event}\r\n\r\n").as_bytes());
        }
    }
    out
}

/// A choice of the contract.
fn choice(index: u64, fields: Value) -> Value {
    let mut c = json!({
        "index": index, "role": "assistant", "content": null, "reasoning": null,
        "refusal": null, "tool_calls": [], "finish_reason": null, "finish": null,
    });
    for (k, v) in fields.as_object().expect("an object") {
        c[k] = v.clone();
    }
    c
}

/// A message of the contract: the defaults of a finished Gemini stream, overridden by `fields`.
fn message(fields: Value) -> Value {
    let mut m = json!({
        "dialect": "gemini", "id": null, "model": null, "choices": [], "usage": null,
        "errors": [], "invalid": 0, "ending": "finished",
    });
    for (k, v) in fields.as_object().expect("an object") {
        m[k] = v.clone();
    }
    m
}

/// Both the reference and the library give exactly `expected`.
#[track_caller]
fn case(events: &[&str], expected: Value) {
    let input = sse(events);
    let what = String::from_utf8_lossy(&input).into_owned();
    assert_same_message(
        &reference_message(&input),
        &expected,
        &format!("reference: {what}"),
    );
    check_library(&input, &expected, &what);
}

#[test]
fn text_metadata_and_stop() {
    case(
        &[
            r#"{"candidates": [{"content": {"parts": [{"text": "Ol\u00e1, "}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-flash","responseId": "r1"}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": "mundo \"!\"\n"}],"role": "model"},"finishReason": "STOP","index": 0}],"modelVersion": "gemini-2.5-flash","responseId": "r1"}"#,
        ],
        message(json!({
            "id": "r1", "model": "gemini-2.5-flash",
            "choices": [choice(0, json!({
                "content": "Olá, mundo \"!\"\n", "finish_reason": "STOP", "finish": "stop",
            }))],
        })),
    );
}

#[test]
fn thought_text_is_reasoning_and_concatenates_without_a_gap() {
    case(
        &[
            r#"{"candidates": [{"content": {"parts": [{"text": "**Plan**\n","thought": true}],"role": "model"}}]}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": "more","thought": true},{"text": "Answer","thought": false}],"role": "model"}}]}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": "!","thoughtSignature": "c2ln"}],"role": "model"},"finishReason": "STOP"}]}"#,
        ],
        message(json!({
            "choices": [choice(0, json!({
                "content": "Answer!", "reasoning": "**Plan**\nmore",
                "reasoning_details": r#"[{"text":"!","thoughtSignature":"c2ln"}]"#,
                "finish_reason": "STOP", "finish": "stop",
            }))],
        })),
    );
}

#[test]
fn function_calls_are_whole_tool_calls() {
    case(
        &[
            r#"{"candidates": [{"content": {"parts": [{"functionCall": {"id": "c1","name": "add","args": {"a": 2,"b": [1.5, "x\ty"]}},"thoughtSignature": "c2ln"},{"functionCall": {"name": "now"}},{"functionCall": {"name": "nil","args": null}}],"role": "model"},"index": 0}]}"#,
            r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "later","args": {}}}],"role": "model"},"finishReason": "STOP","index": 0}]}"#,
        ],
        message(json!({
            "choices": [choice(0, json!({
                "tool_calls": [
                    {"index": 0, "id": "c1", "name": "add", "arguments": "{\"a\":2,\"b\":[1.5,\"x\\ty\"]}", "complete": true},
                    {"index": 1, "id": null, "name": "now", "arguments": "{}", "complete": true},
                    {"index": 2, "id": null, "name": "nil", "arguments": "{}", "complete": true},
                    {"index": 3, "id": null, "name": "later", "arguments": "{}", "complete": true},
                ],
                "reasoning_details": r#"[{"functionCall":{"id":"c1","name":"add","args":{"a":2,"b":[1.5,"x\ty"]}},"thoughtSignature":"c2ln"}]"#,
                "finish_reason": "STOP", "finish": "tool_calls",
            }))],
        })),
    );
}

#[test]
fn every_finish_reason_is_normalised() {
    let table = [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("LANGUAGE", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("OTHER", "other"),
        ("FINISH_REASON_UNSPECIFIED", "other"),
        ("UNEXPECTED_TOOL_CALL", "other"),
    ];
    for (raw, finish) in table {
        let event = format!(r#"{{"candidates": [{{"finishReason": "{raw}","index": 0}}]}}"#);
        case(
            &[&event],
            message(json!({
                "choices": [choice(0, json!({"finish_reason": raw, "finish": finish}))],
            })),
        );
    }
    // Only STOP turns into tool_calls when the choice has calls.
    case(
        &[
            r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f","args": {"q": "\u65e5\u672c"}}}]}}]}"#,
            r#"{"candidates": [{"finishReason": "MAX_TOKENS"}]}"#,
        ],
        message(json!({
            "choices": [choice(0, json!({
                "tool_calls": [{"index": 0, "id": null, "name": "f", "arguments": "{\"q\":\"日本\"}", "complete": true}],
                "finish_reason": "MAX_TOKENS", "finish": "length",
            }))],
        })),
    );
    // An empty reason is no finish.
    case(
        &[r#"{"candidates": [{"content": {"parts": [{"text": "cut"}]},"finishReason": ""}]}"#],
        message(json!({
            "choices": [choice(0, json!({"content": "cut"}))],
            "ending": "truncated",
        })),
    );
}

#[test]
fn a_blocked_prompt_finishes_choice_zero() {
    case(
        &[
            r#"{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT","safetyRatings": []},"usageMetadata": {"promptTokenCount": 7,"totalTokenCount": 7},"modelVersion": "gemini-2.5-pro","responseId": "b"}"#,
        ],
        message(json!({
            "id": "b", "model": "gemini-2.5-pro",
            "choices": [choice(0, json!({
                "finish_reason": "PROHIBITED_CONTENT", "finish": "content_filter",
            }))],
            "usage": {"input_tokens": 7, "output_tokens": 0, "total_tokens": 7,
                      "cached_input_tokens": null, "reasoning_tokens": null},
        })),
    );
}

#[test]
fn usage_is_normalised_from_the_last_usage_metadata() {
    case(
        &[
            r#"{"candidates": [{"content": {"parts": [{"text": "a"}]}}],"usageMetadata": {"promptTokenCount": 54,"totalTokenCount": 116,"thoughtsTokenCount": 62}}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": "b"}]},"finishReason": "STOP"}],"usageMetadata": {"promptTokenCount": 54,"candidatesTokenCount": 14,"totalTokenCount": 140,"cachedContentTokenCount": 32,"thoughtsTokenCount": 62,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 54}]}}"#,
        ],
        message(json!({
            "choices": [choice(0, json!({"content": "ab", "finish_reason": "STOP", "finish": "stop"}))],
            "usage": {"input_tokens": 54, "output_tokens": 76, "total_tokens": 140,
                      "cached_input_tokens": 32, "reasoning_tokens": 62},
        })),
    );
    // Without a total, input + output.
    case(
        &[
            r#"{"candidates": [{"finishReason": "STOP"}],"usageMetadata": {"promptTokenCount": 3,"candidatesTokenCount": 4}}"#,
        ],
        message(json!({
            "choices": [choice(0, json!({"finish_reason": "STOP", "finish": "stop"}))],
            "usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7,
                      "cached_input_tokens": null, "reasoning_tokens": null},
        })),
    );
}

#[test]
fn every_candidate_is_an_assistant_choice() {
    case(
        &[
            r#"{"candidates": [{"content": {"parts": [{"text": "one"}]},"index": 1},{"index": 0}]}"#,
            r#"{"candidates": [{"content": {"role": "model"},"index": 2},{"content": {"parts": [{"text": "zero"}]}}]}"#,
            r#"{"candidates": [{"finishReason": "STOP","index": 1},{"finishReason": "SAFETY","index": 0,"safetyRatings": [{"category": "HARM_CATEGORY_HATE_SPEECH","probability": "HIGH"}]}]}"#,
        ],
        message(json!({
            "choices": [
                choice(0, json!({"content": "zero", "finish_reason": "SAFETY", "finish": "content_filter"})),
                choice(1, json!({"content": "one", "finish_reason": "STOP", "finish": "stop"})),
                choice(2, json!({})),
            ],
        })),
    );
}

#[test]
fn other_parts_say_nothing() {
    // But for their signature: a signed part, whatever else it holds, is a reasoning detail.
    case(
        &[
            r#"{"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png","data": "AAAA"}},{"thoughtSignature": "c2ln"},{"executableCode": {"language": "PYTHON","code": "1"}}]},"finishReason": "STOP"}],"createTime": "2025-01-01T00:00:00Z"}"#,
        ],
        message(json!({
            "choices": [choice(0, json!({
                "reasoning_details": r#"[{"thoughtSignature":"c2ln"}]"#,
                "finish_reason": "STOP", "finish": "stop",
            }))],
        })),
    );
}

#[test]
fn errors_in_a_gemini_stream() {
    case(
        &[
            r#"{"candidates": [{"content": {"parts": [{"text": "Hi"}]}}],"responseId": "e"}"#,
            r#"{"error": {"code": 429,"message": "Resource has been exhausted","status": "RESOURCE_EXHAUSTED"}}"#,
        ],
        message(json!({
            "id": "e",
            "choices": [choice(0, json!({"content": "Hi"}))],
            "errors": [{"message": "Resource has been exhausted", "type": "RESOURCE_EXHAUSTED", "code": 429}],
            "ending": "error",
        })),
    );
    case(
        &[
            r#"{"candidates": [{"content": {"parts": [{"text": "Hi"}]},"finishReason": "STOP"}]}"#,
            "event: error\n{\"error\": {\"code\": 500,\"message\": \"Internal error\",\"status\": \"INTERNAL\"}}",
            "not json",
            "[1]",
        ],
        message(json!({
            "choices": [choice(0, json!({"content": "Hi", "finish_reason": "STOP", "finish": "stop"}))],
            "errors": [{"message": "Internal error", "type": "INTERNAL", "code": 500}],
            "invalid": 2,
        })),
    );
}

#[test]
fn an_event_of_an_unknown_shape_is_invalid_and_leaves_no_trace() {
    let broken = [
        r#"{"candidates": {"index": 0},"usageMetadata": {"promptTokenCount": 9}}"#,
        r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f"}}]}},{"index": "1"}],"usageMetadata": {"promptTokenCount": 9}}"#,
        r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f"}},{"text": 5}]}}]}"#,
        r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f"}}]}}, 3]}"#,
        r#"{"candidates": [{"content": {"parts": [{"text": "x","thought": "yes"}]}}]}"#,
        r#"{"candidates": [{"content": {"parts": [{"functionCall": "f"}]}}]}"#,
        r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": 1}}]}}]}"#,
        r#"{"candidates": [{"content": {"parts": [{"functionCall": {"id": 1,"name": "f"}}]}}]}"#,
        r#"{"candidates": [{"content": {"parts": {"text": "x"}}}]}"#,
        r#"{"candidates": [{"content": "x"}]}"#,
        r#"{"candidates": [{"finishReason": 1}]}"#,
        r#"{"candidates": [], "promptFeedback": "blocked"}"#,
        r#"{"candidates": [], "promptFeedback": {"blockReason": 2}}"#,
        r#"{"candidates": [], "usageMetadata": [1]}"#,
    ];
    for event in broken {
        case(
            &[
                event,
                r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "g"}}]},"finishReason": "STOP"}]}"#,
            ],
            message(json!({
                "choices": [choice(0, json!({
                    "tool_calls": [{"index": 0, "id": null, "name": "g", "arguments": "{}", "complete": true}],
                    "finish_reason": "STOP", "finish": "tool_calls",
                }))],
                "invalid": 1,
            })),
        );
    }
    // Lenient fields: metadata of another type and odd counts count as absent; nulls too.
    case(
        &[
            r#"{"candidates": [{"index": null,"content": {"parts": [{"text": null,"thought": null,"functionCall": null}, {"text": "t"}]},"finishReason": null}],"responseId": 7,"modelVersion": null,"promptFeedback": null,"usageMetadata": {"promptTokenCount": -1,"candidatesTokenCount": "2","totalTokenCount": 1.5}}"#,
        ],
        message(json!({
            "choices": [choice(0, json!({"content": "t"}))],
            "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
                      "cached_input_tokens": null, "reasoning_tokens": null},
            "ending": "truncated",
        })),
    );
}

#[test]
fn lf_line_ends_and_a_missing_last_blank_line() {
    let crlf = sse(&[
        r#"{"candidates": [{"content": {"parts": [{"text": "a"}]}}]}"#,
        r#"{"candidates": [{"content": {"parts": [{"text": "b"}]},"finishReason": "STOP"}]}"#,
    ]);
    let lf: Vec<u8> = String::from_utf8(crlf.clone())
        .unwrap()
        .replace("\r\n", "\n")
        .into_bytes();
    let expected = message(json!({
        "choices": [choice(0, json!({"content": "ab", "finish_reason": "STOP", "finish": "stop"}))],
    }));
    for input in [&crlf, &lf] {
        assert_same_message(&reference_message(input), &expected, "reference");
        check_library(input, &expected, "library");
    }
    // Without the last blank line, the last event is never dispatched (the SSE rules).
    let cut = &crlf[..crlf.len() - 2];
    let expected = message(json!({
        "choices": [choice(0, json!({"content": "a"}))],
        "ending": "truncated",
    }));
    assert_same_message(&reference_message(cut), &expected, "reference");
    check_library(cut, &expected, "library");
}

/// The parts of one event, as the library gives them: Gemini has no terminal event, a call is
/// started, filled and ended by one event, and usage is sent again only when it changes.
#[test]
fn the_parts_of_an_event() {
    let input = sse(&[
        r#"{"candidates": [{"content": {"parts": [{"text": "hi"},{"functionCall": {"id": "k","name": "f","args": {"x": 1}}}]},"finishReason": "STOP"}],"usageMetadata": {"promptTokenCount": 1},"responseId": "r"}"#,
        r#"{"candidates": [],"usageMetadata": {"promptTokenCount": 1}}"#,
    ]);
    let mut stream = ChunkStream::new();
    stream.feed(&input);
    stream.finish();
    let mut seen = Vec::new();
    while let Some(outcome) = stream.next_outcome() {
        if let Outcome::Event {
            payload: Payload::Parts(parts),
            ..
        } = outcome.unwrap()
        {
            assert_eq!(parts.dialect(), Dialect::Gemini);
            seen.push(format!("{:?}", parts.as_slice()));
        }
    }
    let usage = ssechunk::Usage {
        input_tokens: 1,
        total_tokens: 1,
        ..Default::default()
    };
    let first = [
        Part::Metadata {
            id: Some("r"),
            model: None,
        },
        Part::Role {
            choice: 0,
            role: "assistant",
        },
        Part::Text {
            choice: 0,
            text: "hi",
        },
        Part::ToolCallStart {
            choice: 0,
            index: 0,
            id: Some("k"),
            name: Some("f"),
        },
        Part::ToolCallArguments {
            choice: 0,
            index: 0,
            fragment: "{\"x\":1}",
        },
        Part::ToolCallEnd {
            choice: 0,
            index: 0,
            arguments: None,
        },
        Part::Finish {
            choice: 0,
            finish: ssechunk::Finish::ToolCalls,
            reason: "STOP",
        },
        Part::Usage { usage },
    ];
    assert_eq!(seen, [format!("{first:?}"), "[]".to_owned()]);
}

// ---------------------------------------------------------------------------------------------
// Generated streams.

/// A JSON value built for a generated event, written by [`write`] with the event's style.
#[derive(Debug, Clone)]
enum J {
    Str(String),
    /// A number, boolean or null, as written.
    Lit(String),
    Obj(Vec<(String, J)>),
    Arr(Vec<J>),
}

fn s(text: &str) -> J {
    J::Str(text.to_owned())
}

fn lit(text: &str) -> J {
    J::Lit(text.to_owned())
}

fn obj(members: Vec<(&str, J)>) -> J {
    J::Obj(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// How an event's JSON is written.
#[derive(Debug, Clone, Copy)]
struct Style {
    /// Non-ASCII characters as `\u` escapes (surrogate pairs beyond the BMP).
    ascii: bool,
    /// Spaces after `:` and `,`, and a run of them before each closing `}`.
    pad: usize,
    /// A line break after each `,` of an object (then the event has several `data:` lines).
    lines: bool,
}

fn write_str(text: &str, style: Style, out: &mut String) {
    use std::fmt::Write as _;
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '/' if style.pad % 2 == 1 => out.push_str("\\/"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if style.ascii && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04X}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write(value: &J, style: Style, out: &mut String) {
    let pad = " ".repeat(style.pad);
    match value {
        J::Str(text) => write_str(text, style, out),
        J::Lit(text) => out.push_str(text),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    out.push_str(&pad);
                }
                write(item, style, out);
            }
            out.push(']');
        }
        J::Obj(members) => {
            out.push('{');
            for (i, (key, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    out.push(if style.lines { '\n' } else { ' ' });
                    out.push_str(&pad);
                }
                write_str(key, style, out);
                out.push(':');
                out.push_str(&pad);
                write(v, style, out);
            }
            out.push_str(&pad);
            out.push('}');
        }
    }
}

/// Texts with escapes, quotes, control characters, multi-byte and astral characters (so that
/// random cuts split UTF-8 sequences).
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("Hel".to_owned()),
            Just("lo ".to_owned()),
            Just("\"quoted\"".to_owned()),
            Just("back\\slash".to_owned()),
            Just("line\nbreak\r\t".to_owned()),
            Just("\u{1}\u{1f}".to_owned()),
            Just("Olá".to_owned()),
            Just("日本語".to_owned()),
            Just("🎉👍🏽".to_owned()),
            Just("a/b".to_owned()),
            Just(String::new()),
            "[a-z ]{0,6}",
        ],
        0..4,
    )
    .prop_map(|pieces| pieces.concat())
}

/// A function call's `args` value.
fn args() -> impl Strategy<Value = Option<J>> {
    let leaf = prop_oneof![
        text().prop_map(J::Str),
        Just(lit("1")),
        Just(lit("-2.5")),
        Just(lit("true")),
        Just(lit("null")),
        Just(lit("1e3")),
    ];
    let value = leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(J::Arr),
            prop::collection::vec(("[a-z]{1,5}", inner), 0..3)
                .prop_map(|members| J::Obj(members.into_iter().collect())),
        ]
    });
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(lit("null"))),
        6 => prop::collection::vec(("[a-z]{1,5}", value.clone()), 0..4)
            .prop_map(|members| Some(J::Obj(members))),
        1 => value.prop_map(Some),
    ]
}

/// One element of `content.parts`, sometimes of a broken shape.
fn part() -> impl Strategy<Value = J> {
    let signature = prop::option::of(Just(s("CiQBvj72+y6VX8BA4jML/QJO==")));
    prop_oneof![
        6 => (text(), signature.clone()).prop_map(|(t, sig)| {
            let mut m = vec![("text", J::Str(t))];
            m.extend(sig.map(|s| ("thoughtSignature", s)));
            obj(m)
        }),
        4 => (text(), prop::sample::select(vec!["true", "false", "null"]))
            .prop_map(|(t, thought)| obj(vec![("text", J::Str(t)), ("thought", lit(thought))])),
        4 => (
            prop::option::of(prop_oneof![Just(s("")), "[a-z0-9]{1,8}".prop_map(J::Str)]),
            prop::option::of("[a-z_]{1,8}".prop_map(J::Str)),
            args(),
            signature,
        )
            .prop_map(|(id, name, args, sig)| {
                let mut call = Vec::new();
                call.extend(name.map(|n| ("name", n)));
                call.extend(id.map(|i| ("id", i)));
                call.extend(args.map(|a| ("args", a)));
                let mut m = vec![("functionCall", obj(call))];
                m.extend(sig.map(|s| ("thoughtSignature", s)));
                obj(m)
            }),
        1 => Just(obj(vec![("inlineData", obj(vec![("mimeType", s("image/png")), ("data", s("AAAA"))]))])),
        1 => Just(obj(vec![("thoughtSignature", s("c2ln"))])),
        1 => prop::sample::select(vec![
            obj(vec![("text", lit("5"))]),
            obj(vec![("text", s("x")), ("thought", s("yes"))]),
            obj(vec![("functionCall", s("f"))]),
            obj(vec![("functionCall", obj(vec![("name", lit("1"))]))]),
            lit("7"),
        ]),
    ]
}

const REASONS: [&str; 9] = [
    "STOP",
    "STOP",
    "MAX_TOKENS",
    "SAFETY",
    "RECITATION",
    "MALFORMED_FUNCTION_CALL",
    "OTHER",
    "LANGUAGE",
    "",
];

/// One candidate.
fn candidate() -> impl Strategy<Value = J> {
    (
        prop::sample::select(vec![
            None,
            Some("0"),
            Some("0"),
            Some("1"),
            Some("null"),
            Some("\"1\""),
        ]),
        prop_oneof![
            1 => Just(None),
            1 => Just(Some(lit("null"))),
            1 => Just(Some(obj(vec![("role", s("model"))]))),
            8 => prop::collection::vec(part(), 0..4)
                .prop_map(|parts| Some(obj(vec![("parts", J::Arr(parts)), ("role", s("model"))]))),
        ],
        prop::option::of(prop::sample::select(REASONS.to_vec())),
        any::<bool>(),
    )
        .prop_map(|(index, content, reason, extra)| {
            let mut m = Vec::new();
            m.extend(content.map(|c| ("content", c)));
            m.extend(reason.map(|r| ("finishReason", s(r))));
            if extra {
                m.push(("finishMessage", s("Model generated function call(s).")));
                m.push(("safetyRatings", J::Arr(vec![])));
            }
            m.extend(index.map(|i| ("index", lit(i))));
            obj(m)
        })
}

fn count() -> impl Strategy<Value = Option<J>> {
    prop_oneof![
        3 => (0u64..5000).prop_map(|n| Some(J::Lit(n.to_string()))),
        1 => Just(None),
        1 => prop::sample::select(vec![lit("null"), lit("-1"), s("3"), lit("2.5")]).prop_map(Some),
    ]
}

fn usage_metadata() -> impl Strategy<Value = J> {
    (count(), count(), count(), count(), count()).prop_map(|(p, c, t, total, cached)| {
        let mut m = Vec::new();
        m.extend(p.map(|v| ("promptTokenCount", v)));
        m.extend(c.map(|v| ("candidatesTokenCount", v)));
        m.extend(total.map(|v| ("totalTokenCount", v)));
        m.push((
            "promptTokensDetails",
            J::Arr(vec![obj(vec![
                ("modality", s("TEXT")),
                ("tokenCount", lit("4")),
            ])]),
        ));
        m.extend(t.map(|v| ("thoughtsTokenCount", v)));
        m.extend(cached.map(|v| ("cachedContentTokenCount", v)));
        obj(m)
    })
}

/// A Gemini event's data object.
fn gemini_object() -> impl Strategy<Value = J> {
    (
        prop_oneof![
            8 => prop::collection::vec(candidate(), 0..3).prop_map(|c| Some(J::Arr(c))),
            1 => Just(None),
            1 => Just(Some(lit("null"))),
            1 => Just(Some(obj(vec![("index", lit("0"))]))),
        ],
        prop::option::of(usage_metadata()),
        prop_oneof![
            8 => Just(None),
            1 => prop::sample::select(vec!["SAFETY", "OTHER", "BLOCKLIST", ""])
                .prop_map(|r| Some(obj(vec![("blockReason", s(r)), ("safetyRatings", J::Arr(vec![]))]))),
            1 => Just(Some(obj(vec![("safetyRatings", J::Arr(vec![]))]))),
        ],
        prop::sample::select(vec![None, Some(s("resp-1")), Some(s("resp-1")), Some(s("")), Some(lit("7"))]),
        prop::sample::select(vec![None, Some(s("gemini-2.5-flash")), Some(s("gemini-2.5-flash")), Some(lit("null"))]),
    )
        .prop_map(|(candidates, usage, feedback, id, model)| {
            let mut m = Vec::new();
            m.extend(candidates.map(|c| ("candidates", c)));
            m.extend(feedback.map(|f| ("promptFeedback", f)));
            m.extend(usage.map(|u| ("usageMetadata", u)));
            m.extend(model.map(|v| ("modelVersion", v)));
            m.extend(id.map(|v| ("responseId", v)));
            m.push(("createTime", s("2025-10-01T00:00:00.000000Z")));
            obj(m)
        })
}

/// One generated event: its type (`None` for the default) and data object or text.
#[derive(Debug, Clone)]
enum Gen {
    Data(J),
    Text(String),
    Typed(String, J),
}

fn event() -> impl Strategy<Value = Gen> {
    let error = prop::sample::select(vec![
        obj(vec![(
            "error",
            obj(vec![
                ("code", lit("429")),
                (
                    "message",
                    s("Resource has been exhausted (e.g. check quota)."),
                ),
                ("status", s("RESOURCE_EXHAUSTED")),
            ]),
        )]),
        obj(vec![(
            "error",
            obj(vec![("code", lit("500")), ("status", s("INTERNAL"))]),
        )]),
        obj(vec![("error", s("overloaded"))]),
    ]);
    prop_oneof![
        20 => gemini_object().prop_map(Gen::Data),
        1 => error.clone().prop_map(Gen::Data),
        1 => error.prop_map(|e| Gen::Typed("error".to_owned(), e)),
        1 => prop::sample::select(vec!["[DONE]", "not json", "[1,2]", "\"s\""])
            .prop_map(|t| Gen::Text(t.to_owned())),
    ]
}

/// A generated stream and how it is written.
#[derive(Debug, Clone)]
struct Stream {
    events: Vec<Gen>,
    styles: Vec<Style>,
    crlf: bool,
    last_blank: bool,
}

impl Stream {
    fn bytes(&self) -> Vec<u8> {
        let end = if self.crlf { "\r\n" } else { "\n" };
        let mut out = String::new();
        for (i, event) in self.events.iter().enumerate() {
            let style = self.styles[i % self.styles.len()];
            let data = match event {
                Gen::Data(j) | Gen::Typed(_, j) => {
                    let mut text = String::new();
                    write(j, style, &mut text);
                    text
                }
                Gen::Text(t) => t.clone(),
            };
            if let Gen::Typed(kind, _) = event {
                out.push_str(&format!("event: {kind}{end}"));
            }
            for line in data.split('\n') {
                out.push_str(&format!("data: {line}{end}"));
            }
            if i + 1 < self.events.len() || self.last_blank {
                out.push_str(end);
            }
        }
        out.into_bytes()
    }
}

fn stream() -> impl Strategy<Value = Stream> {
    (
        gemini_object(),
        prop::collection::vec(event(), 0..8),
        prop::collection::vec(
            (any::<bool>(), 0usize..4, prop::bool::weighted(0.2))
                .prop_map(|(ascii, pad, lines)| Style { ascii, pad, lines }),
            1..4,
        ),
        any::<bool>(),
        prop::bool::weighted(0.9),
    )
        .prop_map(|(first, mut events, styles, crlf, last_blank)| {
            events.insert(0, Gen::Data(first));
            Stream {
                events,
                styles,
                crlf,
                last_blank,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Generated Gemini streams (escapes, split UTF-8, tool calls, thoughts, padding, several
    /// `data:` lines, errors, broken fields, blocked prompts) give the reference's message at
    /// random splits, and the same as whole.
    #[test]
    fn generated_streams_match_the_reference(
        s in stream(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let input = s.bytes();
        let expected = reference_message(&input);
        let whole = library_cut(&input, &[]);
        assert_same_message(&whole, &expected, &String::from_utf8_lossy(&input));
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        cuts.sort_unstable();
        assert_same_message(
            &library_cut(&input, &cuts),
            &whole,
            &format!("cut at {cuts:?}: {}", String::from_utf8_lossy(&input)),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Allocations.

#[path = "common/counting.rs"]
mod counting;
#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

use counting::counted;

/// Feeds `input` in `size`-byte reads, reading every part of every event.
fn parts_pass(stream: &mut ChunkStream, input: &[u8], size: usize) -> (u64, u64) {
    let (mut events, mut touched) = (0u64, 0u64);
    for piece in input.chunks(size) {
        stream.feed(piece);
        while let Some(outcome) = stream.next_outcome() {
            if let Ok(Outcome::Event {
                payload: Payload::Parts(parts),
                ..
            }) = outcome
            {
                events += 1;
                for part in parts.iter() {
                    touched = touched.wrapping_add(match *part {
                        Part::Text { text, .. } | Part::Reasoning { text, .. } => text.len() as u64,
                        Part::ToolCallArguments { fragment, .. } => fragment.len() as u64,
                        Part::ToolCallStart { name, .. } => name.map_or(0, |n| n.len() as u64),
                        Part::Usage { usage } => usage.total_tokens,
                        _ => 1,
                    });
                }
            }
        }
    }
    (events, touched)
}

/// Once its buffers have grown, decoding the corpus's Gemini streams allocates nothing, in
/// another order than the warm-up and in small reads.
#[test]
fn decoding_gemini_allocates_nothing_once_warm() {
    let Some(streams) = gemini_streams() else {
        return;
    };
    let input: Vec<u8> = streams.iter().flat_map(|(_, b)| b.clone()).collect();
    let reversed: Vec<u8> = streams.iter().rev().flat_map(|(_, b)| b.clone()).collect();
    let mut stream = ChunkStream::with_config(Config::new().dialect(Some(Dialect::Gemini)));
    let (first, _) = counted(|| parts_pass(&mut stream, &input, 64 * 1024));
    let (second, steady) = counted(|| parts_pass(&mut stream, &reversed, 64 * 1024));
    assert_eq!(first.0, second.0, "both passes see the same events");
    assert!(first.0 > 0);
    assert_eq!(steady, 0, "decoding Gemini allocated once warm");
    let (third, small) = counted(|| parts_pass(&mut stream, &reversed, 16));
    // (The touched sums may differ: usage is sent again only when it changes, and the pass
    // before ended on another stream.)
    assert_eq!(third.0, second.0, "16-byte reads see the same events");
    assert_eq!(small, 0, "16-byte reads allocated once warm");
    corpus_say(&format!(
        "dialect_gemini: {} Gemini events decoded with 0 allocations once warm",
        second.0
    ));
}

#[test]
fn signed_parts_are_reasoning_details_as_sent() {
    let details0 = concat!(
        r#"[{"text":"Plan","thought":true,"thoughtSignature":"c2ln/+=="},"#,
        r#"{"functionCall":{"name":"f","args":{"q":"a\"b"}},"thoughtSignature":"c2"}]"#,
    );
    case(
        &[
            // A signed thought part (its escape written back plainly), an empty signature
            // (nothing), and a signed call in the next event.
            r#"{"candidates": [{"content": {"parts": [{"text": "Plan","thought": true,"thoughtSignature": "c2ln\/+=="},{"text": "A","thoughtSignature": ""}],"role": "model"},"index": 0}]}"#,
            r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f","args": {"q": "a\"b"}},"thoughtSignature": "c2"}],"role": "model"},"index": 0},{"content": {"parts": [{"text": "","thoughtSignature": "b3"}]},"index": 1,"finishReason": "STOP"}]}"#,
            // A signature of another shape: the event is invalid and leaves no trace.
            r#"{"candidates": [{"content": {"parts": [{"text": "lost","thoughtSignature": 5}]},"index": 0}]}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": "!"}]},"finishReason": "STOP","index": 0}]}"#,
        ],
        message(json!({
            "choices": [
                choice(0, json!({
                    "content": "A!", "reasoning": "Plan",
                    "tool_calls": [
                        {"index": 0, "id": null, "name": "f", "arguments": "{\"q\":\"a\\\"b\"}", "complete": true},
                    ],
                    "reasoning_details": details0,
                    "finish_reason": "STOP", "finish": "tool_calls",
                })),
                choice(1, json!({
                    "content": "",
                    "reasoning_details": r#"[{"text":"","thoughtSignature":"b3"}]"#,
                    "finish_reason": "STOP", "finish": "stop",
                })),
            ],
            "invalid": 1,
        })),
    );
    // The library's text, exactly: each part compact, in the order it came.
    let input = sse(&[
        r#"{"candidates": [{"content": {"parts": [{"text": "Plan","thought": true,"thoughtSignature": "c2ln\/+=="}]}}]}"#,
        r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f","args": {"q": "a\"b"}},"thoughtSignature": "c2"}]}}]}"#,
    ]);
    let message = library_message(&input, input.len());
    assert_eq!(message["choices"][0]["reasoning_details"], json!(details0));
}
