//! The chunk decoding contract, one case per line: every case is checked against a hand-written
//! expectation, against the serde_json reference, through a fresh decoder, through one decoder
//! reused across all cases, and framed as SSE fed one byte at a time.

#[path = "common/chunk_reference.rs"]
mod chunk_reference;

use chunk_reference::{
    Item, RefArgs, RefChoice, RefChunk, RefCode, RefError, RefInvalid, RefPayload, RefToolCall,
    RefUsage, decode, decode_with, from_payload, reference,
};
use ssechunk::{ChunkDecoder, ChunkStream, Config, Dialect, Error, Outcome, Payload};

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// Arguments sent as a string.
fn a(text: &str) -> Option<RefArgs> {
    Some(RefArgs::Text(text.to_owned()))
}

/// A chunk built by `f` from the empty chunk.
fn chunk(f: impl FnOnce(&mut RefChunk)) -> RefPayload {
    let mut c = RefChunk::default();
    f(&mut c);
    RefPayload::Chunk(c)
}

/// A chunk holding only the choices given.
fn choices(list: Vec<RefChoice>) -> RefPayload {
    chunk(|c| c.choices = list)
}

/// A choice built by `f` from choice `index` with nothing in it.
fn choice(index: u64, f: impl FnOnce(&mut RefChoice)) -> RefChoice {
    let mut c = RefChoice {
        index,
        ..RefChoice::default()
    };
    f(&mut c);
    c
}

/// A chunk whose single choice 0 has this `delta.content`.
fn content(text: &str) -> RefPayload {
    choices(vec![choice(0, |c| c.content = s(text))])
}

/// A chunk whose single choice 0 has this reasoning text.
fn reasoning(text: Option<&str>) -> RefPayload {
    choices(vec![choice(0, |c| c.reasoning = text.map(str::to_owned))])
}

fn tool(index: u64, f: impl FnOnce(&mut RefToolCall)) -> RefToolCall {
    let mut t = RefToolCall {
        index: Some(index),
        ..RefToolCall::default()
    };
    f(&mut t);
    t
}

/// A chunk whose single choice 0 has these tool calls.
fn tools(list: Vec<RefToolCall>) -> RefPayload {
    choices(vec![choice(0, |c| c.tool_calls = list)])
}

fn usage(prompt: u64, completion: u64, total: u64) -> RefUsage {
    RefUsage {
        input_tokens: prompt,
        output_tokens: completion,
        total_tokens: total,
        cached_input_tokens: None,
        reasoning_tokens: None,
    }
}

fn api_error(f: impl FnOnce(&mut RefError)) -> RefPayload {
    let mut e = RefError::default();
    f(&mut e);
    RefPayload::ApiError(e)
}

/// An object with a field of a shape the decoder does not take.
fn shape(field: &'static str) -> RefPayload {
    RefPayload::Invalid(RefInvalid::UnexpectedShape(field))
}

const NOT_JSON: RefPayload = RefPayload::Invalid(RefInvalid::NotJson);
const NOT_OBJECT: RefPayload = RefPayload::Invalid(RefInvalid::NotObject);

/// Every case: a name saying what it shows, the event data, the payload it must decode to.
fn cases() -> Vec<(&'static str, Vec<u8>, RefPayload)> {
    let full = br#"{"id":"c1","object":"chat.completion.chunk","created":1758884734,"model":"m","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi","refusal":null},"logprobs":null,"finish_reason":null}]}"#;
    let d = |text: &str| text.as_bytes().to_vec();
    vec![
        // The common shapes.
        (
            "full_chunk",
            full.to_vec(),
            chunk(|c| {
                c.id = s("c1");
                c.model = s("m");
                c.created = Some(1758884734);
                c.system_fingerprint = s("fp_1");
                c.choices = vec![choice(0, |c| {
                    c.role = s("assistant");
                    c.content = s("Hi")
                })];
            }),
        ),
        ("empty_object", d("{}"), chunk(|_| {})),
        (
            "empty_content_is_kept",
            d(r#"{"choices":[{"delta":{"content":""}}]}"#),
            content(""),
        ),
        (
            "finish_reason_raw_and_empty_kept",
            d(
                r#"{"choices":[{"delta":{},"finish_reason":""},{"index":1,"delta":{},"finish_reason":"weird_reason"}]}"#,
            ),
            choices(vec![
                choice(0, |c| c.finish_reason = s("")),
                choice(1, |c| c.finish_reason = s("weird_reason")),
            ]),
        ),
        (
            "refusal",
            d(r#"{"choices":[{"delta":{"refusal":"I can't"}}]}"#),
            choices(vec![choice(0, |c| c.refusal = s("I can't"))]),
        ),
        // Escapes and text.
        (
            "escape_newline_quote_backslash",
            d(r#"{"choices":[{"delta":{"content":"a\nb\"c\\d"}}]}"#),
            content("a\nb\"c\\d"),
        ),
        (
            "escape_every_short_form",
            d(r#"{"choices":[{"delta":{"content":"\/\b\f\n\r\t"}}]}"#),
            content("/\u{8}\u{c}\n\r\t"),
        ),
        (
            "escape_u00e9",
            d(r#"{"choices":[{"delta":{"content":"caf\u00e9 \u00C9"}}]}"#),
            content("café É"),
        ),
        (
            "escape_surrogate_pair",
            d(r#"{"choices":[{"delta":{"content":"\ud83d\ude00!"}}]}"#),
            content("😀!"),
        ),
        (
            "escape_nul",
            d(r#"{"choices":[{"delta":{"content":"a\u0000b"}}]}"#),
            content("a\0b"),
        ),
        (
            "escaped_key",
            d(r#"{"i\u0064":"x","\u0063hoices":[{"delta":{"content":"k"}}]}"#),
            chunk(|c| {
                c.id = s("x");
                c.choices = vec![choice(0, |c| c.content = s("k"))]
            }),
        ),
        (
            "raw_utf8",
            d(r#"{"choices":[{"delta":{"content":"Olá, 中文, ß"}}]}"#),
            content("Olá, 中文, ß"),
        ),
        (
            "raw_emoji",
            d(r#"{"choices":[{"delta":{"content":"😀🦀👩‍💻"}}]}"#),
            content("😀🦀👩‍💻"),
        ),
        (
            "raw_u2028_u2029_in_string",
            d("{\"choices\":[{\"delta\":{\"content\":\"a\u{2028}b\u{2029}c\"}}]}"),
            content("a\u{2028}b\u{2029}c"),
        ),
        (
            "escaped_u2028",
            d(r#"{"choices":[{"delta":{"content":"a\u2028b"}}]}"#),
            content("a\u{2028}b"),
        ),
        (
            "raw_del_is_allowed",
            d("{\"choices\":[{\"delta\":{\"content\":\"a\u{7f}\"}}]}"),
            content("a\u{7f}"),
        ),
        (
            "invalid_utf8_byte_becomes_fffd_still_a_chunk",
            b"{\"choices\":[{\"delta\":{\"content\":\"a\xffb\"}}]}".to_vec(),
            content("a\u{fffd}b"),
        ),
        (
            "truncated_utf8_sequence_becomes_fffd",
            b"{\"choices\":[{\"delta\":{\"content\":\"\xc3(\xe2\x82\"}}]}".to_vec(),
            content("\u{fffd}(\u{fffd}"),
        ),
        (
            "invalid_utf8_in_unknown_field_still_a_chunk",
            b"{\"x\":\"\xc0\xaf\",\"id\":\"i\"}".to_vec(),
            chunk(|c| c.id = s("i")),
        ),
        (
            "invalid_utf8_outside_strings_is_not_json",
            b"{\"id\":\"i\"}\xff".to_vec(),
            NOT_JSON,
        ),
        (
            "lone_high_surrogate_escape_is_invalid_not_json",
            d(r#"{"choices":[{"delta":{"content":"\ud800"}}]}"#),
            NOT_JSON,
        ),
        (
            "lone_low_surrogate_escape_is_invalid_not_json",
            d(r#"{"choices":[{"delta":{"content":"\udc00"}}]}"#),
            NOT_JSON,
        ),
        (
            "high_surrogate_then_non_low_escape_is_invalid_not_json",
            d(r#"{"choices":[{"delta":{"content":"\ud800\u0041"}}]}"#),
            NOT_JSON,
        ),
        (
            "lone_surrogate_in_unknown_field_is_invalid_not_json",
            d(r#"{"x":"\ud800","id":"i"}"#),
            NOT_JSON,
        ),
        (
            "raw_control_character_is_not_json",
            d("{\"id\":\"a\u{1}\"}"),
            NOT_JSON,
        ),
        (
            "unknown_escape_is_not_json",
            d(r#"{"id":"\x41"}"#),
            NOT_JSON,
        ),
        // Tool calls.
        (
            "tool_call_first_fragment",
            d(
                r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"add","arguments":""}}]}}]}"#,
            ),
            choices(vec![choice(0, |c| {
                c.role = s("assistant");
                c.tool_calls = vec![tool(0, |t| {
                    t.id = s("call_1");
                    t.kind = s("function");
                    t.name = s("add");
                    t.arguments = a("")
                })]
            })]),
        ),
        (
            "tool_call_arguments_fragment",
            d(
                r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"a\": 2"}}]}}]}"#,
            ),
            tools(vec![tool(1, |t| t.arguments = a("{\"a\": 2"))]),
        ),
        (
            "tool_calls_non_object_is_invalid",
            d(
                r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"x"}},1,null,"s",[],{"index":2,"id":"c2"}]}}]}"#,
            ),
            shape("tool_calls"),
        ),
        (
            "tool_calls_wrong_type_is_invalid",
            d(
                r#"{"choices":[{"delta":{"tool_calls":[]}},{"index":1,"delta":{"tool_calls":null}},{"index":2,"delta":{"tool_calls":{"index":0}}}]}"#,
            ),
            shape("tool_calls"),
        ),
        (
            "tool_calls_in_two_choices",
            d(
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a"}]}},{"index":1,"delta":{"tool_calls":[{"index":0,"id":"b"},{"index":1,"id":"c"}]}}]}"#,
            ),
            choices(vec![
                choice(0, |c| c.tool_calls = vec![tool(0, |t| t.id = s("a"))]),
                choice(1, |c| {
                    c.tool_calls = vec![tool(0, |t| t.id = s("b")), tool(1, |t| t.id = s("c"))]
                }),
            ]),
        ),
        // Usage and the shapes of `choices`.
        (
            "usage_only_chunk_with_empty_choices",
            d(
                r#"{"id":"c","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":3,"total_tokens":23,"prompt_tokens_details":{"cached_tokens":5},"completion_tokens_details":{"reasoning_tokens":2}}}"#,
            ),
            chunk(|c| {
                c.id = s("c");
                c.usage = Some(RefUsage {
                    cached_input_tokens: Some(5),
                    reasoning_tokens: Some(2),
                    ..usage(20, 3, 23)
                })
            }),
        ),
        ("choices_null", d(r#"{"choices":null}"#), chunk(|_| {})),
        (
            "choices_absent_usage_present",
            d(r#"{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#),
            chunk(|c| c.usage = Some(usage(1, 2, 3))),
        ),
        (
            "choices_wrong_type",
            d(r#"{"choices":{"index":0,"delta":{"content":"no"}}}"#),
            shape("choices"),
        ),
        (
            "choices_non_object_is_invalid",
            d(r#"{"choices":[1,"a",null,{"index":3,"delta":{"content":"y"}},[{"delta":{}}]]}"#),
            shape("choices"),
        ),
        (
            "choice_without_delta",
            d(r#"{"choices":[{"index":1,"finish_reason":"stop"}]}"#),
            choices(vec![choice(1, |c| c.finish_reason = s("stop"))]),
        ),
        (
            "choice_with_empty_delta",
            d(r#"{"choices":[{"delta":{}}]}"#),
            choices(vec![choice(0, |_| {})]),
        ),
        ("usage_null", d(r#"{"usage":null}"#), chunk(|_| {})),
        (
            "usage_empty_object",
            d(r#"{"usage":{}}"#),
            chunk(|c| c.usage = Some(usage(0, 0, 0))),
        ),
        (
            "usage_details_empty_or_wrong",
            d(
                r#"{"usage":{"prompt_tokens_details":{},"completion_tokens_details":{"reasoning_tokens":"2"}}}"#,
            ),
            chunk(|c| c.usage = Some(usage(0, 0, 0))),
        ),
        (
            "usage_details_null",
            d(r#"{"usage":{"prompt_tokens_details":null,"completion_tokens_details":5}}"#),
            chunk(|c| c.usage = Some(usage(0, 0, 0))),
        ),
        (
            "usage_zero_details_are_some",
            d(
                r#"{"usage":{"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}"#,
            ),
            chunk(|c| {
                c.usage = Some(RefUsage {
                    cached_input_tokens: Some(0),
                    reasoning_tokens: Some(0),
                    ..usage(0, 0, 0)
                })
            }),
        ),
        (
            "usage_wrong_type",
            d(r#"{"usage":[1,2,3]}"#),
            shape("usage"),
        ),
        (
            "empty_id_and_model_are_kept",
            d(r#"{"id":"","object":"","model":"","choices":[]}"#),
            chunk(|c| {
                c.id = s("");
                c.model = s("")
            }),
        ),
        // Shapes providers send besides strings (issue "nothing lost silently").
        (
            "content_parts_text_and_thinking",
            d(
                r#"{"choices":[{"delta":{"reasoning_content":"r0 ","content":[{"type":"thinking","thinking":[{"type":"text","text":"r1"},{"type":"text","text":" r2"}]},{"type":"text","text":"a"},{"type":"thinking","thinking":" r3"},{"type":"text","text":"b\u00e9"}]}}]}"#,
            ),
            choices(vec![choice(0, |c| {
                c.content = s("abé");
                c.reasoning = s("r0 r1 r2 r3");
            })]),
        ),
        (
            "content_parts_empty",
            d(r#"{"choices":[{"delta":{"content":[]}}]}"#),
            choices(vec![choice(0, |_| {})]),
        ),
        (
            "content_part_unknown_type_is_invalid",
            d(r#"{"choices":[{"delta":{"content":[{"type":"image_url","image_url":"x"}]}}]}"#),
            shape("content"),
        ),
        (
            "content_part_without_text_is_invalid",
            d(r#"{"choices":[{"delta":{"content":[{"type":"text"}]}}]}"#),
            shape("content"),
        ),
        (
            "content_number_is_invalid",
            d(r#"{"choices":[{"delta":{"content":5}}]}"#),
            shape("content"),
        ),
        (
            "arguments_as_object",
            d(
                r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":{"city":"Par\u00eds","n":[1,2.5,true,null],"q":"\"\n"}}}]}}]}"#,
            ),
            tools(vec![tool(0, |t| {
                t.name = s("f");
                t.arguments = Some(RefArgs::Json(
                    serde_json::json!({"city": "París", "n": [1, 2.5, true, null], "q": "\"\n"}),
                ));
            })]),
        ),
        (
            "arguments_number_is_invalid",
            d(r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":1}}]}}]}"#),
            shape("arguments"),
        ),
        (
            "tool_call_without_index",
            d(
                r#"{"choices":[{"delta":{"tool_calls":[{"id":"a","function":{"arguments":"{}"}},{"index":null,"id":"b"}]}}]}"#,
            ),
            tools(vec![
                RefToolCall {
                    id: s("a"),
                    arguments: a("{}"),
                    ..RefToolCall::default()
                },
                RefToolCall {
                    id: s("b"),
                    ..RefToolCall::default()
                },
            ]),
        ),
        (
            "groq_usage_when_the_chunk_has_none",
            d(
                r#"{"choices":[],"usage":null,"x_groq":{"id":"r","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}}"#,
            ),
            chunk(|c| c.usage = Some(usage(3, 2, 5))),
        ),
        (
            "groq_usage_not_when_the_chunk_has_one",
            d(r#"{"usage":{"prompt_tokens":1},"x_groq":{"usage":{"prompt_tokens":3}}}"#),
            chunk(|c| c.usage = Some(usage(1, 0, 0))),
        ),
        (
            "error_string_with_type",
            d(r#"{"error":"prompt too long","error_type":"validation"}"#),
            api_error(|e| {
                e.message = s("prompt too long");
                e.kind = s("validation");
            }),
        ),
        (
            "error_empty_string_is_a_chunk",
            d(r#"{"error":"","id":"c"}"#),
            chunk(|c| c.id = s("c")),
        ),
        (
            "error_null_with_id_is_a_chunk",
            d(r#"{"error":null,"id":"c"}"#),
            chunk(|c| c.id = s("c")),
        ),
        (
            "error_detail_and_status",
            d(
                r#"{"error":{"detail":"d","details":"ds","status":"RESOURCE_EXHAUSTED","code":429}}"#,
            ),
            api_error(|e| {
                e.message = s("d");
                e.kind = s("RESOURCE_EXHAUSTED");
                e.code = Some(RefCode::Int(429));
            }),
        ),
        (
            "object_error_is_its_own_error_object",
            d(r#"{"object":"error","message":"too long","type":"BadRequestError","code":400}"#),
            api_error(|e| {
                e.message = s("too long");
                e.kind = s("BadRequestError");
                e.code = Some(RefCode::Int(400));
            }),
        ),
        (
            "type_error_is_its_own_error_object",
            d(r#"{"type":"error","message":"boom"}"#),
            api_error(|e| e.message = s("boom")),
        ),
        (
            "object_chunk_is_a_chunk",
            d(r#"{"object":"chat.completion.chunk","type":"x","id":"c"}"#),
            chunk(|c| c.id = s("c")),
        ),
        // Fields nobody asked for.
        (
            "unknown_fields_everywhere",
            d(
                r#"{"obfuscation":"xyz","x_groq":{"id":"r","usage":{"prompt_tokens":9},"choices":[{"delta":{"content":"nested, not ours"}}]},"choices":[{"logprobs":{"content":[{"token":"a"}]},"index":0,"extra":[{"delta":{"content":"no"}}],"delta":{"reasoning_details":[{"type":"r","text":"no"}],"content":"yes","annotations":[]}}],"service_tier":"on_demand"}"#,
            ),
            chunk(|c| {
                c.choices = vec![choice(0, |c| {
                    c.content = s("yes");
                    // Opaque reasoning is kept, as its JSON.
                    c.reasoning_details = Some(serde_json::json!([{"type": "r", "text": "no"}]));
                })];
                // Groq's extras hold the usage when the chunk has none.
                c.usage = Some(usage(9, 0, 0));
            }),
        ),
        (
            "unknown_fields_in_tool_calls_and_usage",
            d(
                r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"x":{"id":"no"},"function":{"strict":true,"name":"f","extra":{"name":"no"}}}]}}],"usage":{"queue_time":0.5,"total_tokens":7,"x":{"prompt_tokens":1}}}"#,
            ),
            chunk(|c| {
                c.choices = vec![choice(0, |c| {
                    c.tool_calls = vec![tool(0, |t| t.name = s("f"))]
                })];
                c.usage = Some(usage(0, 0, 7))
            }),
        ),
        (
            // With the dialect detected it is Gemini's (tests/dialect_gemini.rs); read as a
            // chat chunk, it has no choices.
            "gemini_object_read_as_chat_is_a_chunk_without_choices",
            d(
                r#"{"candidates": [{"content": {"parts": [{"text": "Oi"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 5},"modelVersion": "gemini-2.5-flash","responseId": "r"}"#,
            ),
            chunk(|_| {}),
        ),
        // Whitespace.
        (
            "anthropic_space_padding",
            d(
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":12}               }"#,
            ),
            chunk(|c| c.usage = Some(usage(0, 0, 0))),
        ),
        (
            "whitespace_everywhere",
            d(
                " \t{ \"id\" :\t\"x\" , \"choices\" : [ { \"delta\" : { \"content\" : \"c\" } } ] } \t ",
            ),
            chunk(|c| {
                c.id = s("x");
                c.choices = vec![choice(0, |c| c.content = s("c"))]
            }),
        ),
        (
            "newlines_as_whitespace_multiline_data",
            d("{\n\"id\":\"x\",\n\"choices\":[\n{\"delta\":{\"content\":\"c\"}}]\n}"),
            chunk(|c| {
                c.id = s("x");
                c.choices = vec![choice(0, |c| c.content = s("c"))]
            }),
        ),
        ("bom_before_object_is_not_json", d("\u{feff}{}"), NOT_JSON),
        (
            "form_feed_is_not_json_whitespace",
            d("{\"id\":\"x\"}\u{c}"),
            NOT_JSON,
        ),
        // More than one choice: kept in the order sent.
        (
            "n_choices_in_order_sent",
            d(
                r#"{"choices":[{"index":1,"delta":{"content":"b"}},{"index":0,"delta":{"role":"assistant","content":"a"}},{"index":2,"delta":{},"finish_reason":"length"}]}"#,
            ),
            choices(vec![
                choice(1, |c| c.content = s("b")),
                choice(0, |c| {
                    c.role = s("assistant");
                    c.content = s("a")
                }),
                choice(2, |c| c.finish_reason = s("length")),
            ]),
        ),
        // Reasoning: `reasoning_content` when it is a string, else `reasoning`.
        (
            "reasoning_content",
            d(r#"{"choices":[{"delta":{"reasoning_content":"think"}}]}"#),
            reasoning(Some("think")),
        ),
        (
            "reasoning",
            d(r#"{"choices":[{"delta":{"reasoning":"think"}}]}"#),
            reasoning(Some("think")),
        ),
        (
            "reasoning_content_wins_after",
            d(r#"{"choices":[{"delta":{"reasoning":"b","reasoning_content":"a"}}]}"#),
            reasoning(Some("a")),
        ),
        (
            "reasoning_content_wins_before",
            d(r#"{"choices":[{"delta":{"reasoning_content":"a","reasoning":"b"}}]}"#),
            reasoning(Some("a")),
        ),
        (
            "reasoning_content_empty_does_not_hide_reasoning",
            d(r#"{"choices":[{"delta":{"reasoning_content":"","reasoning":"b"}}]}"#),
            reasoning(Some("b")),
        ),
        (
            "reasoning_content_empty_alone_is_empty_reasoning",
            d(r#"{"choices":[{"delta":{"reasoning_content":"","reasoning":null}}]}"#),
            reasoning(Some("")),
        ),
        (
            "reasoning_both_empty",
            d(r#"{"choices":[{"delta":{"reasoning":"","reasoning_content":""}}]}"#),
            reasoning(Some("")),
        ),
        (
            "reasoning_content_null_falls_back",
            d(r#"{"choices":[{"delta":{"reasoning_content":null,"reasoning":"b"}}]}"#),
            reasoning(Some("b")),
        ),
        (
            "reasoning_content_number_is_invalid",
            d(r#"{"choices":[{"delta":{"reasoning":"b","reasoning_content":7}}]}"#),
            shape("reasoning_content"),
        ),
        (
            "reasoning_both_wrong",
            d(r#"{"choices":[{"delta":{"reasoning":{},"reasoning_content":[]}}]}"#),
            shape("reasoning_content"),
        ),
        // Wrong types count as absent (counts as 0 where a count is required).
        ("wrong_type_id", d(r#"{"id":1}"#), chunk(|_| {})),
        ("wrong_type_model", d(r#"{"model":true}"#), chunk(|_| {})),
        (
            "wrong_type_system_fingerprint",
            d(r#"{"system_fingerprint":{"a":"b"}}"#),
            chunk(|_| {}),
        ),
        (
            "wrong_type_created_string",
            d(r#"{"created":"1758884734"}"#),
            chunk(|_| {}),
        ),
        (
            "wrong_type_created_negative",
            d(r#"{"created":-1}"#),
            chunk(|_| {}),
        ),
        (
            "wrong_type_created_fraction",
            d(r#"{"created":1.5}"#),
            chunk(|_| {}),
        ),
        (
            "wrong_type_created_integral_float",
            d(r#"{"created":1.0}"#),
            chunk(|_| {}),
        ),
        (
            "wrong_type_created_exponent",
            d(r#"{"created":1e3}"#),
            chunk(|_| {}),
        ),
        (
            "wrong_type_choice_index_string",
            d(r#"{"choices":[{"index":"2","delta":{}}]}"#),
            shape("index"),
        ),
        (
            "wrong_type_choice_index_negative",
            d(r#"{"choices":[{"index":-2,"delta":{}}]}"#),
            shape("index"),
        ),
        (
            "wrong_type_finish_reason",
            d(r#"{"choices":[{"delta":{},"finish_reason":1}]}"#),
            shape("finish_reason"),
        ),
        (
            "wrong_type_delta_string",
            d(r#"{"choices":[{"delta":"content","finish_reason":"stop"}]}"#),
            shape("delta"),
        ),
        (
            "wrong_type_delta_array",
            d(r#"{"choices":[{"delta":[{"content":"no"}]}]}"#),
            shape("delta"),
        ),
        (
            "wrong_type_delta_fields",
            d(
                r#"{"choices":[{"delta":{"role":1,"content":["a"],"refusal":false,"reasoning":null}}]}"#,
            ),
            shape("refusal"),
        ),
        (
            "wrong_type_tool_call_fields",
            d(
                r#"{"choices":[{"delta":{"tool_calls":[{"index":"1","id":1,"type":null,"function":{"name":2,"arguments":{"a":1}}}]}}]}"#,
            ),
            shape("index"),
        ),
        (
            "wrong_type_tool_call_function",
            d(
                r#"{"choices":[{"delta":{"tool_calls":[{"index":3,"function":"f"},{"index":4,"function":null}]}}]}"#,
            ),
            shape("function"),
        ),
        (
            "wrong_type_usage_counts",
            d(
                r#"{"usage":{"prompt_tokens":"20","completion_tokens":-3,"total_tokens":2.5,"prompt_tokens_details":{"cached_tokens":-1},"completion_tokens_details":{"reasoning_tokens":1.5}}}"#,
            ),
            chunk(|c| c.usage = Some(usage(0, 0, 0))),
        ),
        // API errors.
        (
            "error_code_string",
            d(
                r#"{"error":{"message":"Rate limit","type":"rate_limit_error","code":"rate_limit_exceeded","param":null}}"#,
            ),
            api_error(|e| {
                e.message = s("Rate limit");
                e.kind = s("rate_limit_error");
                e.code = Some(RefCode::Str("rate_limit_exceeded".into()))
            }),
        ),
        (
            "error_code_number",
            d(
                r#"{"error":{"message":"Bad","type":"invalid_request_error","code":400,"param":"messages"}}"#,
            ),
            api_error(|e| {
                e.message = s("Bad");
                e.kind = s("invalid_request_error");
                e.code = Some(RefCode::Int(400));
                e.param = s("messages")
            }),
        ),
        (
            "error_code_negative",
            d(r#"{"error":{"code":-32000}}"#),
            api_error(|e| {
                e.message = s(r#"{"error":{"code":-32000}}"#);
                e.code = Some(RefCode::Int(-32000))
            }),
        ),
        (
            "error_code_fraction",
            d(r#"{"error":{"code":1.5}}"#),
            api_error(|e| e.message = s(r#"{"error":{"code":1.5}}"#)),
        ),
        (
            "error_code_beyond_i64",
            d(r#"{"error":{"code":9223372036854775808}}"#),
            api_error(|e| e.message = s(r#"{"error":{"code":9223372036854775808}}"#)),
        ),
        (
            "error_code_beyond_u64",
            d(r#"{"error":{"code":123456789012345678901234567890}}"#),
            api_error(|e| e.message = s(r#"{"error":{"code":123456789012345678901234567890}}"#)),
        ),
        (
            "error_code_wrong_types",
            d(r#"{"error":{"message":1,"type":[],"code":null,"param":{}}}"#),
            api_error(|e| {
                e.message = s(r#"{"error":{"message":1,"type":[],"code":null,"param":{}}}"#)
            }),
        ),
        (
            "error_empty_object",
            d(r#"{"error":{}}"#),
            api_error(|e| e.message = s(r#"{"error":{}}"#)),
        ),
        (
            "error_beside_choices_wins",
            d(r#"{"id":"c","choices":[{"delta":{"content":"x"}}],"error":{"message":"m"}}"#),
            api_error(|e| e.message = s("m")),
        ),
        (
            "error_string_is_an_api_error",
            d(r#"{"error":"boom","id":"c"}"#),
            api_error(|e| e.message = s("boom")),
        ),
        (
            "error_null_is_a_chunk",
            d(r#"{"error":null}"#),
            chunk(|_| {}),
        ),
        (
            "error_array_is_a_chunk",
            d(r#"{"error":[{"message":"m"}]}"#),
            chunk(|_| {}),
        ),
        (
            "error_nested_in_unknown_field_is_a_chunk",
            d(r#"{"x":{"error":{"message":"m"}}}"#),
            chunk(|_| {}),
        ),
        // `[DONE]` is exact.
        ("done", d("[DONE]"), RefPayload::Done),
        (
            "done_with_leading_space_is_not_json",
            d(" [DONE]"),
            NOT_JSON,
        ),
        (
            "done_with_trailing_space_is_not_json",
            d("[DONE] "),
            NOT_JSON,
        ),
        ("done_lowercase_is_not_json", d("[done]"), NOT_JSON),
        (
            "done_as_json_string_is_not_object",
            d("\"[DONE]\""),
            NOT_OBJECT,
        ),
        ("done_in_array_is_not_object", d("[\"DONE\"]"), NOT_OBJECT),
        // Not JSON.
        ("empty_data", d(""), NOT_JSON),
        ("blank_data", d("  "), NOT_JSON),
        ("plain_text", d("hello"), NOT_JSON),
        ("unclosed_object", d(r#"{"id":"x""#), NOT_JSON),
        ("unclosed_string", d(r#"{"id":"x}"#), NOT_JSON),
        ("trailing_comma", d(r#"{"id":"x",}"#), NOT_JSON),
        ("single_quotes", d("{'id':'x'}"), NOT_JSON),
        ("two_documents", d(r#"{"id":"a"}{"id":"b"}"#), NOT_JSON),
        ("trailing_garbage", d(r#"{"id":"a"} x"#), NOT_JSON),
        ("nan_is_not_json", d(r#"{"created":NaN}"#), NOT_JSON),
        ("leading_zero_is_not_json", d(r#"{"created":01}"#), NOT_JSON),
        (
            "number_out_of_f64_range_is_not_json",
            d(r#"{"x":1e400}"#),
            NOT_JSON,
        ),
        // Valid JSON that is not an object.
        ("top_level_array", d(r#"[{"choices":[]}]"#), NOT_OBJECT),
        ("top_level_number", d("42"), NOT_OBJECT),
        ("top_level_string", d("\"hello\""), NOT_OBJECT),
        ("top_level_null", d("null"), NOT_OBJECT),
        ("top_level_bool", d("true"), NOT_OBJECT),
        ("top_level_padded_array", d("  [ ]  "), NOT_OBJECT),
        // `-0` is written as an integer, and it is zero (serde_json's Value alone would read
        // the float -0.0; the reference respells it).
        (
            "negative_zero_is_the_integer_zero",
            d(
                r#"{"created":-0,"choices":[{"index":-0,"delta":{}}],"usage":{"prompt_tokens_details":{"cached_tokens":-0}}}"#,
            ),
            chunk(|c| {
                c.created = Some(0);
                c.choices = vec![choice(0, |_| {})];
                c.usage = Some(RefUsage {
                    cached_input_tokens: Some(0),
                    ..usage(0, 0, 0)
                });
            }),
        ),
        (
            "negative_zero_with_fraction_is_a_float",
            d(r#"{"created":-0.0}"#),
            chunk(|_| {}),
        ),
        (
            "negative_zero_with_exponent_is_a_float",
            d(r#"{"created":-0e0}"#),
            chunk(|_| {}),
        ),
        (
            "negative_zero_error_code",
            d(r#"{"error":{"code":-0}}"#),
            api_error(|e| {
                e.message = s(r#"{"error":{"code":-0}}"#);
                e.code = Some(RefCode::Int(0))
            }),
        ),
        (
            "negative_zero_in_a_string_is_text",
            d(r#"{"id":"-0","x":"a-0"}"#),
            chunk(|c| c.id = s("-0")),
        ),
        // Big numbers never panic.
        (
            "created_u64_max",
            d(r#"{"created":18446744073709551615}"#),
            chunk(|c| c.created = Some(u64::MAX)),
        ),
        (
            "created_beyond_u64",
            d(r#"{"created":18446744073709551616}"#),
            chunk(|_| {}),
        ),
        (
            "created_far_beyond_u64",
            d(r#"{"created":99999999999999999999999999999999999999999999}"#),
            chunk(|_| {}),
        ),
        (
            "created_i64_min",
            d(r#"{"created":-9223372036854775808}"#),
            chunk(|_| {}),
        ),
        (
            "created_below_i64",
            d(r#"{"created":-9223372036854775809}"#),
            chunk(|_| {}),
        ),
        (
            "index_beyond_u64_is_invalid",
            d(
                r#"{"choices":[{"index":18446744073709551616,"delta":{"tool_calls":[{"index":1e30}]}}]}"#,
            ),
            shape("index"),
        ),
        (
            "usage_beyond_u64_is_zero",
            d(
                r#"{"usage":{"prompt_tokens":18446744073709551616,"total_tokens":18446744073709551615}}"#,
            ),
            chunk(|c| c.usage = Some(usage(0, 0, u64::MAX))),
        ),
        // Duplicate keys: the last one wins.
        (
            "duplicate_id",
            d(r#"{"id":"a","id":"b"}"#),
            chunk(|c| c.id = s("b")),
        ),
        (
            "duplicate_id_last_wrong_type",
            d(r#"{"id":"a","id":1}"#),
            chunk(|_| {}),
        ),
        (
            "duplicate_choices_last_null",
            d(r#"{"choices":[{"delta":{"content":"x"}}],"choices":null}"#),
            chunk(|_| {}),
        ),
        (
            "duplicate_choices_last_array",
            d(r#"{"choices":[{"delta":{"content":"x"}}],"choices":[{"delta":{"content":"y"}}]}"#),
            content("y"),
        ),
        (
            "duplicate_content",
            d(r#"{"choices":[{"delta":{"content":"a","content":"b"}}]}"#),
            content("b"),
        ),
        (
            "duplicate_delta",
            d(r#"{"choices":[{"delta":{"content":"a"},"delta":{"role":"r"}}]}"#),
            choices(vec![choice(0, |c| c.role = s("r"))]),
        ),
        (
            "duplicate_index",
            d(r#"{"choices":[{"index":1,"index":"x"}]}"#),
            shape("index"),
        ),
        (
            "duplicate_reasoning_content_last_null",
            d(
                r#"{"choices":[{"delta":{"reasoning_content":"a","reasoning":"b","reasoning_content":null}}]}"#,
            ),
            reasoning(Some("b")),
        ),
        (
            "duplicate_function",
            d(
                r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"a","arguments":"x"},"function":{"arguments":"y"}}]}}]}"#,
            ),
            tools(vec![RefToolCall {
                arguments: a("y"),
                ..RefToolCall::default()
            }]),
        ),
        (
            "duplicate_usage_last_null",
            d(r#"{"usage":{"total_tokens":3},"usage":null}"#),
            chunk(|_| {}),
        ),
        (
            "duplicate_usage_detail",
            d(r#"{"usage":{"prompt_tokens_details":{"cached_tokens":1,"cached_tokens":2}}}"#),
            chunk(|c| {
                c.usage = Some(RefUsage {
                    cached_input_tokens: Some(2),
                    ..usage(0, 0, 0)
                })
            }),
        ),
        (
            "duplicate_usage_detail_last_wrong",
            d(r#"{"usage":{"prompt_tokens_details":{"cached_tokens":1,"cached_tokens":"2"}}}"#),
            chunk(|c| c.usage = Some(usage(0, 0, 0))),
        ),
        (
            "duplicate_error_last_object",
            d(r#"{"error":"s","error":{"message":"m"}}"#),
            api_error(|e| e.message = s("m")),
        ),
        (
            "duplicate_error_last_string_wins",
            d(r#"{"error":{"message":"m"},"error":"s"}"#),
            api_error(|e| e.message = s("s")),
        ),
        // Nesting within the limit.
        (
            "deep_nesting_in_unknown_field",
            format!(
                r#"{{"x":{}1{},"id":"after"}}"#,
                "[".repeat(500),
                "]".repeat(500)
            )
            .into_bytes(),
            chunk(|c| c.id = s("after")),
        ),
        (
            "deep_objects_in_unknown_field",
            format!(
                r#"{{"x":{}1{},"id":"after"}}"#,
                r#"{"a":"#.repeat(300),
                "}".repeat(300)
            )
            .into_bytes(),
            chunk(|c| c.id = s("after")),
        ),
    ]
}

/// Frames data as one SSE event: a `data:` line per line of the data, then a blank line.
fn frame(data: &[u8]) -> Vec<u8> {
    assert!(!data.contains(&b'\r'), "a CR cannot be carried in SSE data");
    let mut out = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.push(b'\n');
    out
}

#[test]
fn table() {
    let cases = cases();
    let mut names = std::collections::HashSet::new();
    // The table is the Chat Completions contract: the dialect is fixed, not detected.
    let chat = || ChunkDecoder::with_dialect(Some(Dialect::Chat));
    let chat_stream = || ChunkStream::with_config(Config::new().dialect(Some(Dialect::Chat)));
    let mut reused = chat();
    for (name, data, expected) in &cases {
        assert!(names.insert(*name), "{name}: duplicate case name");
        assert_eq!(
            &reference(data),
            expected,
            "{name}: the reference disagrees"
        );
        let fresh = from_payload(&chat().decode(data));
        assert_eq!(&fresh, expected, "{name}: fresh decoder");
        let again = from_payload(&reused.decode(data));
        assert_eq!(&again, expected, "{name}: decoder reused across cases");

        let framed = frame(data);
        let cuts: Vec<usize> = (1..framed.len()).collect();
        let bytewise = decode_with(&mut chat_stream(), &framed, &cuts);
        match bytewise.items.as_slice() {
            [
                Item::Event {
                    data: got,
                    payload,
                    event_type,
                    ..
                },
            ] => {
                assert_eq!(got, data, "{name}: framing changed the data");
                assert_eq!(event_type, b"message", "{name}");
                assert_eq!(payload, expected, "{name}: fed one byte at a time");
            }
            other => panic!("{name}: expected one event, got {other:?}"),
        }
    }
    // Every case again in one stream, in reverse order, through one `ChunkStream`.
    let mut stream = Vec::new();
    for (_, data, _) in cases.iter().rev() {
        stream.extend_from_slice(&frame(data));
    }
    let all = decode_with(&mut chat_stream(), &stream, &[]);
    let got: Vec<_> = all.events().map(|(_, p)| p.clone()).collect();
    let want: Vec<_> = cases.iter().rev().map(|(_, _, p)| p.clone()).collect();
    assert_eq!(got, want);
    all.check_reference("every case in one stream");
}

/// Nesting past the limit of 1024 levels (the top-level object counts as one) is rejected as
/// not JSON, and never overflows the stack, however deep.
#[test]
fn nesting_limit() {
    // `levels` in all: the top-level object, then arrays, or objects, or both in turn.
    let arrays = |levels: usize| {
        let inner = levels - 1;
        format!(
            r#"{{"x":{}1{},"id":"i"}}"#,
            "[".repeat(inner),
            "]".repeat(inner)
        )
    };
    let objects = |levels: usize| {
        let inner = levels - 1;
        format!(
            r#"{{"x":{}1{},"id":"i"}}"#,
            r#"{"a":"#.repeat(inner),
            "}".repeat(inner)
        )
    };
    let mixed = |levels: usize| {
        let inner = levels - 1;
        let open: String = (0..inner)
            .map(|i| if i % 2 == 0 { "[" } else { r#"{"a":"# })
            .collect();
        let close: String = (0..inner)
            .rev()
            .map(|i| if i % 2 == 0 { "]" } else { "}" })
            .collect();
        format!(r#"{{"x":{open}1{close},"id":"i"}}"#)
    };
    let mut decoder = ChunkDecoder::new();
    for (levels, expected) in [
        (63, chunk(|c| c.id = s("i"))),
        (64, chunk(|c| c.id = s("i"))),
        (65, chunk(|c| c.id = s("i"))),
        (129, chunk(|c| c.id = s("i"))),
        (1023, chunk(|c| c.id = s("i"))),
        (1024, chunk(|c| c.id = s("i"))),
        (1025, NOT_JSON),
        (100_000, NOT_JSON),
    ] {
        for (shape, data) in [
            ("arrays", arrays(levels)),
            ("objects", objects(levels)),
            ("mixed", mixed(levels)),
        ] {
            let data = data.as_bytes();
            let got = from_payload(&decoder.decode(data));
            assert_eq!(got, expected, "{levels} levels of {shape}");
            assert_eq!(
                reference(data),
                expected,
                "{levels} levels of {shape}: reference"
            );
        }
    }
    // Unclosed nesting, as a truncated or hostile event would send.
    let open = format!("{{\"x\":{}", "[{\"a\":".repeat(200_000)).into_bytes();
    assert_eq!(from_payload(&decoder.decode(&open)), NOT_JSON);
    // The decoder is still fine afterwards.
    assert_eq!(from_payload(&decoder.decode(b"[DONE]")), RefPayload::Done);
    assert_eq!(from_payload(&decoder.decode(b"{}")), chunk(|_| {}));
}

/// The raw event beside each payload keeps the bytes as they arrived, escapes and all, while
/// the payload holds the unescaped text: decoding works on a copy.
#[test]
fn raw_event_keeps_original_bytes() {
    let data =
        br#"{"id":"c\u0031","choices":[{"delta":{"content":"a\nb\"c\\ \u00e9 \ud83d\ude00"}}]}"#;
    let mut input = b"id: 7\nevent: custom\n".to_vec();
    input.extend_from_slice(&frame(data));
    for read in [1, 3, input.len()] {
        let mut stream = ChunkStream::new();
        let mut seen = 0;
        for piece in input.chunks(read) {
            stream.feed(piece);
            while let Some(outcome) = stream.next_outcome() {
                let Ok(Outcome::Event { event, payload }) = outcome else {
                    panic!("unexpected {outcome:?}");
                };
                let Payload::Chunk(chunk) = &payload else {
                    panic!("unexpected {payload:?}");
                };
                assert_eq!(chunk.id(), Some("c1"));
                assert_eq!(
                    chunk.choice().and_then(|c| c.content()),
                    Some("a\nb\"c\\ é 😀")
                );
                // Both borrowed at once: the event's bytes are untouched by the decoding.
                assert_eq!(event.data(), data);
                assert_eq!(event.event_type(), b"custom");
                assert_eq!(event.id(), b"7");
                seen += 1;
            }
        }
        assert_eq!(seen, 1, "reads of {read}");
    }
}

/// `event: error` carrying an error object decodes as an API error and keeps its type; the
/// type does not carry over to the next event.
#[test]
fn error_event_type() {
    let input = b"event: error\ndata: {\"error\":{\"message\":\"Overloaded\",\"type\":\"overloaded_error\",\"code\":529}}\n\ndata: {\"id\":\"after\"}\n\n";
    let decoded = decode(input, &[]);
    let expected_error = api_error(|e| {
        e.message = s("Overloaded");
        e.kind = s("overloaded_error");
        e.code = Some(RefCode::Int(529));
    });
    match decoded.items.as_slice() {
        [
            Item::Event {
                event_type: t1,
                payload: p1,
                ..
            },
            Item::Event {
                event_type: t2,
                payload: p2,
                ..
            },
        ] => {
            assert_eq!(t1, b"error");
            assert_eq!(p1, &expected_error);
            assert_eq!(t2, b"message");
            assert_eq!(p2, &chunk(|c| c.id = s("after")));
        }
        other => panic!("{other:?}"),
    }
    decoded.check_reference("error event");
}

/// An `error` event is an error whatever its data: a flat object (whose top-level `"type":
/// "error"` is no type), text that is not JSON, JSON that is not an object, nothing.
#[test]
fn error_event_with_any_data() {
    let cases: [(&[u8], RefPayload); 5] = [
        (
            br#"{"code":400,"details":"bad request"}"#,
            api_error(|e| {
                e.message = s("bad request");
                e.code = Some(RefCode::Int(400));
            }),
        ),
        (
            br#"{"type":"error","message":"flat"}"#,
            api_error(|e| e.message = s("flat")),
        ),
        (
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            api_error(|e| {
                e.message = s("Overloaded");
                e.kind = s("overloaded_error");
            }),
        ),
        (
            b"upstream timed out",
            api_error(|e| e.message = s("upstream timed out")),
        ),
        (b"[1]", api_error(|e| e.message = s("[1]"))),
    ];
    for (data, expected) in cases {
        let mut decoder = ChunkDecoder::new();
        assert_eq!(
            from_payload(&decoder.decode_event(b"error", data)),
            expected,
            "{}",
            String::from_utf8_lossy(data)
        );
        let mut framed = b"event: error\n".to_vec();
        framed.extend_from_slice(&frame(data));
        let decoded = decode(&framed, &[]);
        decoded.check_reference("error event");
        assert_eq!(decoded.message.errors.len(), 1);
    }
}

/// Invalid data mid-stream is reported and the stream goes on, at any split.
#[test]
fn invalid_data_mid_stream() {
    let input = b": keep-alive\n\n\
        data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\n\n\
        data: not json\n\n\
        data: [1,2]\n\n\
        data: {\"choices\":[{\"delta\":{\"content\":\"\\ud800\"}}]}\n\n\
        data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n\
        data: [DONE]\n\n";
    let whole = decode(input, &[]);
    let kinds: Vec<&RefPayload> = whole.events().map(|(_, p)| p).collect();
    assert!(matches!(kinds[0], RefPayload::Chunk(_)));
    assert_eq!(kinds[1..4], [&NOT_JSON, &NOT_OBJECT, &NOT_JSON]);
    assert!(matches!(kinds[4], RefPayload::Chunk(_)));
    assert_eq!(kinds[5], &RefPayload::Done);
    assert_eq!(kinds.len(), 6);
    assert_eq!(whole.message.choices[0].content.as_deref(), Some("Hello"));
    assert_eq!(whole.message.chunks, 2);
    whole.check_reference("invalid data mid-stream");
    for cut in 0..=input.len() {
        assert_eq!(decode(input, &[cut]), whole, "split at {cut}");
    }
}

/// An event over the size limit is reported once, and the events after it decode normally.
#[test]
fn oversized_event_then_continues() {
    let big = format!(
        "data: {{\"choices\":[{{\"delta\":{{\"content\":\"{}\"}}}}]}}\n\n",
        "x".repeat(200)
    );
    let input = [
        "data: {\"id\":\"a\",\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\n\n",
        big.as_str(),
        "data: {\"choices\":[{\"delta\":{\"content\":\"B\"}}]}\n\n",
        "data: [DONE]\n\n",
    ]
    .concat();
    let config = Config::new().max_event_bytes(64);
    let run = |cuts: &[usize]| {
        let mut stream = ChunkStream::with_config(config.clone());
        chunk_reference::decode_with(&mut stream, input.as_bytes(), cuts)
    };
    let whole = run(&[]);
    assert_eq!(
        whole.items.iter().filter(|i| **i == Item::TooLarge).count(),
        1
    );
    assert!(
        matches!(whole.items[1], Item::TooLarge),
        "{:?}",
        whole.items
    );
    assert_eq!(whole.message.choices[0].content.as_deref(), Some("AB"));
    assert_eq!(whole.events().count(), 3);
    whole.check_reference("oversized event");
    let bytewise: Vec<usize> = (1..input.len()).collect();
    assert_eq!(run(&bytewise), whole, "one byte at a time");

    // The error names the limit.
    let mut stream = ChunkStream::with_config(config);
    stream.feed(big.as_bytes());
    assert!(matches!(
        stream.next_outcome(),
        Some(Err(Error::EventTooLarge { limit: 64 }))
    ));
    assert!(stream.next_outcome().is_none());
}

/// Random big numbers and random nesting never panic the decoder, and agree with the reference.
#[test]
fn number_shapes_agree() {
    let numbers = [
        "0",
        "1",
        "-1",
        "0.5",
        "1e0",
        "1E2",
        "1e-2",
        "-1.5e+3",
        "123456789012345678901234567890",
        "-123456789012345678901234567890",
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "4.2e19",
        "0.000000000000000000000000000001",
        "1e-400",
        "-1e-400",
        "1e309",
        "0.1e309",
        "123456789012345678901234567890e-10",
        "1.7976931348623157e308",
        "1.7976931348623159e308",
        "4.9e-324",
        "2e-324",
        "0.00000000000000000000000000000000000000000000000000000000000000000000000000000001",
        "100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "1.00000000000000000000000000000000000000000000000000000000000000000000000001",
        "-0.0",
        "0e0",
        "0E+0",
        "1.5E-3",
        "1e308",
        "-1e308",
        "2.2250738585072014e-308",
    ];
    let mut decoder = ChunkDecoder::new();
    for n in numbers {
        for template in [
            r#"{"created":N}"#,
            r#"{"choices":[{"index":N,"delta":{"tool_calls":[{"index":N}]}}]}"#,
            r#"{"usage":{"prompt_tokens":N,"prompt_tokens_details":{"cached_tokens":N}}}"#,
            r#"{"error":{"code":N}}"#,
            "N",
        ] {
            let data = template.replace('N', n);
            assert_eq!(
                from_payload(&decoder.decode(data.as_bytes())),
                reference(data.as_bytes()),
                "{data}"
            );
        }
    }
}

/// The decoder reused for a chunk with many choices and tool calls, then for small ones, gives
/// each its own fields: recycled storage never leaks from one chunk into the next.
#[test]
fn recycled_storage_does_not_leak() {
    let mut decoder = ChunkDecoder::new();
    let big = r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a"},{"index":1,"id":"b"}]}},{"index":1,"delta":{"content":"x"}},{"index":2,"delta":{"tool_calls":[{"index":5}]}}]}"#;
    let small = r#"{"choices":[{"index":3,"delta":{"content":"y"}}]}"#;
    for data in [
        big,
        small,
        "[DONE]",
        big,
        "{}",
        small,
        r#"{"error":{}}"#,
        big,
    ] {
        assert_eq!(
            from_payload(&decoder.decode(data.as_bytes())),
            reference(data.as_bytes()),
            "{data}"
        );
    }
}
