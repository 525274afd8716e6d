//! The accumulator: the seed cassettes assemble to their replies at every split, and each merge
//! rule holds, checked by hand and against the reference accumulator.

#[path = "common/chunk_reference.rs"]
mod chunk_reference;
#[path = "common/fixtures.rs"]
mod fixtures;

use chunk_reference::{
    RefChoiceMessage, RefEnding, RefMessage, RefToolCallMessage, RefUsage, decode, from_accumulator,
};
use fixtures::cassette_body;
use ssechunk::{Accumulator, ChunkDecoder, Ending, Payload};

/// A stream of one `data:` event per item.
fn stream_of(data: &[&str]) -> Vec<u8> {
    data.iter()
        .flat_map(|d| format!("data: {d}\n\n").into_bytes())
        .collect()
}

/// The message a stream assembles to, checked against the reference accumulator and against
/// the same stream fed one byte at a time.
fn assemble(input: &[u8]) -> RefMessage {
    let whole = decode(input, &[]);
    whole.check_reference("stream");
    let bytewise = decode(input, &(1..input.len()).collect::<Vec<_>>());
    assert_eq!(bytewise.message, whole.message, "one byte at a time");
    whole.message
}

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

fn usage(prompt: u64, completion: u64, total: u64) -> Option<RefUsage> {
    Some(RefUsage {
        input_tokens: prompt,
        output_tokens: completion,
        total_tokens: total,
        cached_input_tokens: None,
        reasoning_tokens: None,
    })
}

fn seed(name: &str, reply: &str, expected_usage: Option<RefUsage>) {
    let body = cassette_body(name);
    let whole = decode(&body, &[]);
    whole.check_reference(name);
    let message = &whole.message;
    assert_eq!(message.ending, RefEnding::Done, "{name}");
    assert_eq!(message.usage, expected_usage, "{name}");
    assert!(
        message
            .id
            .as_deref()
            .is_some_and(|id| id.starts_with("chatcmpl-"))
    );
    assert_eq!(
        message.model.as_deref(),
        Some("moonshotai/kimi-k2-instruct-0905")
    );
    assert_eq!(
        message.choices,
        [RefChoiceMessage {
            index: 0,
            role: s("assistant"),
            content: s(reply),
            finish_reason: s("stop"),
            finish: Some("stop"),
            ..RefChoiceMessage::default()
        }],
        "{name}"
    );
    // Two pieces, cut at every byte: inside `data:`, inside the JSON, between the two bytes of
    // "á", between CR/LF pairs of nothing at all.
    for cut in 0..=body.len() {
        let split = decode(&body, &[cut]);
        assert_eq!(split, whole, "{name}: split at {cut}");
    }
}

#[test]
fn groq_seed_says_oi_at_every_split() {
    seed(
        "groq-openai-go__simple_streaming.yaml",
        "Oi!",
        usage(20, 3, 23),
    );
}

#[test]
fn huggingface_seed_says_ola_at_every_split() {
    seed(
        "huggingface-fantasy__simple_streaming.yaml",
        "Olá!",
        usage(20, 4, 24),
    );
}

/// The seeds through the crate's own types, as a caller writes it.
#[test]
fn seed_through_the_public_api() {
    let body = cassette_body("huggingface-fantasy__simple_streaming.yaml");
    let mut stream = ssechunk::ChunkStream::new();
    let mut message = Accumulator::new();
    for piece in body.chunks(5) {
        stream.feed(piece);
        while let Some(outcome) = stream.next_outcome() {
            if let ssechunk::Outcome::Event { payload, .. } = outcome.expect("no error") {
                message.push_payload(&payload);
            }
        }
    }
    stream.finish();
    assert!(stream.next_outcome().is_none());
    assert_eq!(message.choices().len(), 1);
    assert_eq!(message.choices()[0].content.as_deref(), Some("Olá!"));
    assert_eq!(message.choices()[0].finish_reason.as_deref(), Some("stop"));
    let usage = message.usage().expect("usage");
    assert_eq!(
        (usage.input_tokens, usage.output_tokens, usage.total_tokens),
        (20, 4, 24)
    );
    assert_eq!(message.ending(), Ending::Done);
    assert_eq!(message.chunks(), 6);
}

#[test]
fn tool_calls_merge_by_index() {
    let input = stream_of(&[
        r#"{"id":"c","choices":[{"delta":{"role":"assistant","tool_calls":[{"index":1,"id":"","type":"","function":{"name":"","arguments":""}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"mul","arguments":"{\"a\""}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"add","arguments":"{"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_other","function":{"name":"other","arguments":": 2}"}},{"index":0,"function":{"arguments":"}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":2,"id":"call_c","function":{"name":"noop"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":null}},{"index":0,"function":{"arguments":""}}]},"finish_reason":"tool_calls"}]}"#,
        "[DONE]",
    ]);
    let message = assemble(&input);
    let call =
        |index, id: &str, kind: Option<&str>, name: &str, arguments: &str| RefToolCallMessage {
            index,
            id: s(id),
            kind: kind.map(str::to_owned),
            name: s(name),
            arguments: chunk_reference::ArgsText::Text(arguments.to_owned()),
        };
    assert_eq!(
        message.choices,
        [RefChoiceMessage {
            index: 0,
            role: s("assistant"),
            tool_calls: vec![
                call(0, "call_a", Some("function"), "add", "{}"),
                // Empty first fragments do not count as the first value.
                call(1, "call_b", Some("function"), "mul", "{\"a\": 2}"),
                // No arguments ever: "".
                call(2, "call_c", None, "noop", ""),
            ],
            finish_reason: s("tool_calls"),
            finish: Some("tool_calls"),
            ..RefChoiceMessage::default()
        }]
    );
    assert_eq!(message.ending, RefEnding::Done);
}

#[test]
fn choices_sorted_by_index() {
    let input = stream_of(&[
        r#"{"choices":[{"index":2,"delta":{"role":"assistant","content":"C"}},{"index":0,"delta":{"role":"assistant","content":"A"}}]}"#,
        r#"{"choices":[{"index":1,"delta":{"content":"B"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}},{"index":2,"delta":{"content":"c"},"finish_reason":"length"},{"index":1,"delta":{"content":"b"}}]}"#,
        r#"{"choices":[{"index":1,"delta":{},"finish_reason":"stop"},{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
    ]);
    let message = assemble(&input);
    let got: Vec<_> = message
        .choices
        .iter()
        .map(|c| {
            (
                c.index,
                c.role.as_deref(),
                c.content.as_deref(),
                c.finish_reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0, Some("assistant"), Some("Aa"), Some("stop")),
            (1, None, Some("Bb"), Some("stop")),
            (2, Some("assistant"), Some("Cc"), Some("length")),
        ]
    );
    assert_eq!(message.ending, RefEnding::Finished);
}

#[test]
fn endings() {
    let cases: [(&[&str], RefEnding); 7] = [
        (&[], RefEnding::Truncated),
        (
            &[r#"{"choices":[{"delta":{"content":"x"}}]}"#],
            RefEnding::Truncated,
        ),
        (
            &[r#"{"choices":[{"delta":{"content":"x"},"finish_reason":""}]}"#],
            RefEnding::Truncated,
        ),
        (
            &[r#"{"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}]}"#],
            RefEnding::Finished,
        ),
        (
            &[
                r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
                r#"{"choices":[{"delta":{},"finish_reason":null}]}"#,
            ],
            RefEnding::Finished,
        ),
        (&["[DONE]"], RefEnding::Done),
        (
            &[r#"{"choices":[{"delta":{"content":"x"}}]}"#, "[DONE]"],
            RefEnding::Done,
        ),
    ];
    for (data, expected) in cases {
        assert_eq!(assemble(&stream_of(data)).ending, expected, "{data:?}");
    }
    // `mark_done` is `[DONE]` for callers that handle payloads themselves.
    let mut acc = Accumulator::new();
    assert_eq!(acc.ending(), Ending::Truncated);
    acc.mark_done();
    assert_eq!(acc.ending(), Ending::Done);
}

#[test]
fn content_none_until_a_string_arrives() {
    let only_role = assemble(&stream_of(&[
        r#"{"choices":[{"delta":{"role":"assistant"}}]}"#,
        r#"{"choices":[{"delta":{"content":null,"reasoning":null,"refusal":1}}]}"#,
    ]));
    let c = &only_role.choices[0];
    assert_eq!(
        (&c.content, &c.reasoning, &c.refusal),
        (&None, &None, &None)
    );

    let empty = assemble(&stream_of(&[
        r#"{"choices":[{"delta":{"role":"assistant","content":"","reasoning_content":"","refusal":""}}]}"#,
        r#"{"choices":[{"delta":{"content":null}}]}"#,
    ]));
    let c = &empty.choices[0];
    assert_eq!(
        (
            c.content.as_deref(),
            c.reasoning.as_deref(),
            c.refusal.as_deref()
        ),
        (Some(""), Some(""), Some(""))
    );

    let text = assemble(&stream_of(&[
        r#"{"choices":[{"delta":{"reasoning":"think "}}]}"#,
        r#"{"choices":[{"delta":{"reasoning_content":"more","reasoning":"ignored"}}]}"#,
        r#"{"choices":[{"delta":{"content":"an"}}]}"#,
        r#"{"choices":[{"delta":{"content":"swer"}}]}"#,
    ]));
    let c = &text.choices[0];
    assert_eq!(c.reasoning.as_deref(), Some("think more"));
    assert_eq!(c.content.as_deref(), Some("answer"));

    // An empty `reasoning_content` does not hide the text of `reasoning`, in either order.
    let both = assemble(&stream_of(&[
        r#"{"choices":[{"delta":{"reasoning_content":"","reasoning":"a"}}]}"#,
        r#"{"choices":[{"delta":{"reasoning":"b","reasoning_content":""}}]}"#,
        r#"{"choices":[{"delta":{"reasoning_content":"","reasoning":null}}]}"#,
        r#"{"choices":[{"delta":{"reasoning_content":"c","reasoning":""}}]}"#,
    ]));
    assert_eq!(both.choices[0].reasoning.as_deref(), Some("abc"));
}

#[test]
fn first_and_last_values() {
    let message = assemble(&stream_of(&[
        r#"{"id":"","model":"","choices":[]}"#,
        r#"{"id":"first","model":"m1","choices":[{"delta":{"role":""},"finish_reason":"length"}],"usage":{"prompt_tokens":1}}"#,
        r#"{"id":"second","model":"m2","choices":[{"delta":{"role":"assistant"},"finish_reason":""}]}"#,
        r#"{"id":"third","choices":[{"delta":{"role":"user"},"finish_reason":null}],"usage":null}"#,
        r#"{"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":3,"total_tokens":23,"prompt_tokens_details":{"cached_tokens":4}}}"#,
        r#"{"choices":[{"delta":{}}]}"#,
    ]));
    assert_eq!(message.id.as_deref(), Some("first"));
    assert_eq!(message.model.as_deref(), Some("m1"));
    assert_eq!(message.choices[0].role.as_deref(), Some("assistant"));
    assert_eq!(message.choices[0].finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        message.usage,
        Some(RefUsage {
            cached_input_tokens: Some(4),
            ..usage(20, 3, 23).expect("usage")
        })
    );
    assert_eq!(message.chunks, 6);
}

/// Errors and invalid data change nothing in the assembled choices; the message keeps the
/// errors, counts the invalid events, and ends in `error` when nothing else ended it.
#[test]
fn errors_and_invalid_data_change_no_choice() {
    let clean = stream_of(&[
        r#"{"id":"c","choices":[{"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"delta":{"content":"b"}}]}"#,
    ]);
    let noisy = stream_of(&[
        r#"{"id":"c","choices":[{"delta":{"content":"a"}}]}"#,
        r#"{"error":{"message":"m","code":500}}"#,
        "not json",
        "[1]",
        r#"{"choices":[{"delta":{"content":"\ud800"}}]}"#,
        r#"{"choices":[{"delta":{"content":"b"}}]}"#,
    ]);
    let (noisy, clean) = (assemble(&noisy), assemble(&clean));
    assert_eq!(noisy.choices, clean.choices);
    assert_eq!(noisy.chunks, clean.chunks);
    assert_eq!(noisy.invalid, 3);
    assert_eq!(noisy.errors.len(), 1);
    assert_eq!(noisy.errors[0].message.as_deref(), Some("m"));
    assert_eq!(clean.ending, RefEnding::Truncated);
    assert_eq!(noisy.ending, RefEnding::Error);
}

/// `push_payload` and `push` agree, and a fresh accumulator is empty.
#[test]
fn push_and_push_payload_agree() {
    let data = [
        r#"{"id":"x","choices":[{"delta":{"content":"a","tool_calls":[{"index":0,"id":"t"}]}}]}"#,
        r#"{"choices":[{"index":1,"delta":{"content":"b"},"finish_reason":"stop"}]}"#,
    ];
    let mut decoder = ChunkDecoder::new();
    let (mut by_payload, mut by_chunk) = (Accumulator::new(), Accumulator::new());
    for d in data {
        let payload = decoder.decode(d.as_bytes());
        by_payload.push_payload(&payload);
        let Payload::Chunk(chunk) = &payload else {
            panic!("{payload:?}")
        };
        by_chunk.push(chunk);
    }
    assert_eq!(by_payload, by_chunk);
    assert_eq!(from_accumulator(&Accumulator::new()), RefMessage::default());
}

/// Two parallel calls of choice 0, each in two fragments, then a call of choice 1, the finish
/// reasons and `[DONE]`.
const PARALLEL: [&str; 8] = [
    r#"{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}}]}"#,
    r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}"#,
    r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b","type":"function","function":{"name":"get_time","arguments":"{\"tz\":"}}]}}]}"#,
    r#"{"choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"noop","arguments":"{}"}}]}}]}"#,
    r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"CET\"}"}}]}}]}"#,
    r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
    r#"{"choices":[{"index":1,"delta":{"content":"late"}}]}"#,
    "[DONE]",
];

/// The accumulator of a whole stream.
fn acc_of(input: &[u8]) -> Accumulator {
    let mut stream = ssechunk::ChunkStream::new();
    let mut acc = Accumulator::new();
    stream.feed(input);
    stream.finish();
    while let Some(outcome) = stream.next_outcome() {
        acc.push_outcome(&outcome.unwrap());
    }
    acc
}

/// For each event, the calls it completed: `(choice, name, arguments)`.
fn completions(input: &[u8], cuts: &[usize]) -> Vec<Vec<(u64, String, String)>> {
    let mut stream = ssechunk::ChunkStream::new();
    let mut acc = Accumulator::new();
    let mut per_event = Vec::new();
    let mut pull = |stream: &mut ssechunk::ChunkStream, acc: &mut Accumulator| {
        while let Some(outcome) = stream.next_outcome() {
            acc.push_outcome(&outcome.unwrap());
            per_event.push(
                acc.completed_calls()
                    .map(|(choice, call)| {
                        let name = call.name.clone().unwrap_or_default();
                        (choice, name, call.arguments.clone())
                    })
                    .collect::<Vec<_>>(),
            );
        }
    };
    let mut at = 0;
    for &cut in cuts.iter().chain([&input.len()]) {
        stream.feed(&input[at..cut]);
        at = cut;
        pull(&mut stream, &mut acc);
    }
    stream.finish();
    pull(&mut stream, &mut acc);
    per_event
}

#[test]
fn a_tool_call_completes_when_the_next_begins_at_its_finish_or_at_done() {
    let input = stream_of(&PARALLEL);
    let call = |choice, name: &str, args: &str| (choice, name.to_owned(), args.to_owned());
    let want = vec![
        vec![],
        vec![],
        // Call 1 of choice 0 began: call 0 is whole.
        vec![call(0, "get_weather", r#"{"city":"Paris"}"#)],
        // Another choice's call does not close choice 0's.
        vec![],
        vec![],
        // The finish reason closes choice 0's open call.
        vec![call(0, "get_time", r#"{"tz":"CET"}"#)],
        vec![],
        // `[DONE]` closes what is still open.
        vec![call(1, "noop", "{}")],
    ];
    assert_eq!(completions(&input, &[]), want);
    assert_eq!(
        completions(&input, &(1..input.len()).collect::<Vec<_>>()),
        want,
        "one byte at a time"
    );
    // Cut before `[DONE]`: choice 1's call is never reported complete.
    let cut = stream_of(&PARALLEL[..7]);
    let got: Vec<_> = completions(&cut, &[]).into_iter().flatten().collect();
    assert_eq!(got.len(), 2, "{got:?}");
}

#[test]
fn index_less_calls_complete_when_a_new_id_begins() {
    let input = stream_of(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"b","function":{"name":"g","arguments":"{"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"}"}}]}}]}"#,
    ]);
    let got = completions(&input, &[]);
    assert_eq!(got[1], [(0, "f".to_owned(), "{}".to_owned())]);
    assert!(got[2].is_empty());
}

#[test]
fn reasoning_details_are_kept_as_one_json_array() {
    let input = stream_of(&[
        r#"{"choices":[{"delta":{"reasoning":"Hm","reasoning_details":[{"type":"reasoning.text","text":"Hm","index":0}]}}]}"#,
        r#"{"choices":[{"delta":{"reasoning_details":[]}}]}"#,
        r#"{"choices":[{"delta":{"reasoning_details": [ {"type":"reasoning.encrypted", "data":"e\u00e9\n", "n":[1,-2,true,null]} ] }}]}"#,
        r#"{"choices":[{"delta":{"content":"ok","reasoning_details":null}}]}"#,
    ]);
    let message = assemble(&input);
    assert_eq!(
        message.choices[0].reasoning_details.as_ref().map(Vec::len),
        Some(2)
    );
    let acc = acc_of(&input);
    let text = acc.choices()[0].reasoning_details.as_deref().unwrap();
    assert_eq!(
        text,
        r#"[{"type":"reasoning.text","text":"Hm","index":0},{"type":"reasoning.encrypted","data":"eé\n","n":[1,-2,true,null]}]"#
    );
    // Of another shape, the event is reported rather than decoded without it.
    let mut decoder = ChunkDecoder::new();
    let odd = br#"{"choices":[{"delta":{"content":"x","reasoning_details":"opaque"}}]}"#;
    assert!(matches!(
        decoder.decode(odd),
        Payload::Invalid(ssechunk::InvalidData::UnexpectedShape {
            field: "reasoning_details"
        })
    ));
}

#[test]
fn the_message_snapshot_sorts_by_index() {
    let input = stream_of(&[
        r#"{"id":"c","choices":[{"index":1,"delta":{"content":"b"}},{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"1"}},{"index":0,"function":{"arguments":"0"}}]}}]}"#,
        "[DONE]",
    ]);
    let message = acc_of(&input).message();
    assert_eq!(message.dialect, ssechunk::Dialect::Chat);
    assert_eq!(message.id.as_deref(), Some("c"));
    assert_eq!(
        message.choices.iter().map(|c| c.index).collect::<Vec<_>>(),
        [0, 1]
    );
    let calls = &message.choices[0].tool_calls;
    assert_eq!(calls.iter().map(|c| c.index).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(message.ending, Ending::Done);
}

#[cfg(feature = "serde")]
mod serde_forms {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn the_message_serialises_to_the_contract() {
        let input = stream_of(&[
            r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi","reasoning":"r"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
            r#"{"error":{"message":"slow","type":"rate","code":429,"param":"p"}}"#,
            "[DONE]",
        ]);
        let message = acc_of(&input).message();
        let line = serde_json::to_string(&message).unwrap();
        assert_eq!(
            line,
            r#"{"dialect":"chat","id":"c1","model":"m","choices":[{"index":0,"role":"assistant","content":"Hi","reasoning":"r","refusal":null,"tool_calls":[{"index":0,"id":"t","name":"f","arguments":"{\"a\":1}","complete":true}],"finish_reason":"tool_calls","finish":"tool_calls"}],"usage":{"input_tokens":3,"output_tokens":2,"total_tokens":5,"cached_input_tokens":null,"reasoning_tokens":null},"errors":[{"message":"slow","type":"rate","code":429}],"invalid":0,"ending":"done"}"#
        );
        // It reads back, but for what the contract does not write (a call's type, `param`).
        let back: ssechunk::Message = serde_json::from_str(&line).unwrap();
        let mut want = message.clone();
        want.choices[0].tool_calls[0].kind = None;
        want.errors[0].param = None;
        assert_eq!(back, want);
    }

    #[test]
    fn the_assistant_turn_is_the_chat_request_shape() {
        let input = stream_of(&PARALLEL);
        let message = acc_of(&input).message();
        assert_eq!(
            message.choices[0].to_assistant_turn(),
            json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [
                    {"id": "a", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "b", "type": "function",
                     "function": {"name": "get_time", "arguments": "{\"tz\":\"CET\"}"}},
                ],
            })
        );
        assert_eq!(
            message.choices[1].to_assistant_turn()["content"],
            json!("late")
        );
        let plain = ssechunk::ChoiceMessage {
            reasoning: Some("hidden".into()),
            reasoning_details: Some(r#"[{"type":"reasoning.text","text":"t"}]"#.into()),
            ..Default::default()
        };
        assert_eq!(
            plain.to_assistant_turn(),
            json!({"role": "assistant", "content": "",
                   "reasoning_details": [{"type": "reasoning.text", "text": "t"}]})
        );
    }

    #[test]
    fn arguments_parse_into_the_callers_type() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Weather {
            city: String,
        }
        let input = stream_of(&PARALLEL);
        let acc = acc_of(&input);
        let call = &acc.choices()[0].tool_calls[0];
        assert_eq!(
            call.parse_arguments::<Weather>().unwrap(),
            Weather {
                city: "Paris".into()
            }
        );
        let cut = ssechunk::ToolCallMessage {
            arguments: r#"{"city":"Par"#.into(),
            ..Default::default()
        };
        assert!(cut.parse_arguments::<Weather>().unwrap_err().is_eof());
    }

    #[test]
    fn views_serialise_borrowed() {
        let mut decoder = ChunkDecoder::new();
        let data = br#"{"id":"c","created":1,"choices":[{"index":0,"delta":{"content":"a\"b","tool_calls":[{"index":0,"id":"t","function":{"name":"f","arguments":"{"}}]},"finish_reason":null}],"usage":{"prompt_tokens":1}}"#;
        let Payload::Chunk(chunk) = decoder.decode(data) else {
            panic!("a chunk")
        };
        let value: Value = serde_json::to_value(&chunk).unwrap();
        assert_eq!(
            value,
            json!({"id": "c", "model": null, "created": 1, "system_fingerprint": null,
                   "choices": [{"index": 0, "role": null, "content": "a\"b", "reasoning": null,
                                "refusal": null,
                                "tool_calls": [{"index": 0, "id": "t", "name": "f", "arguments": "{"}],
                                "finish_reason": null}],
                   "usage": {"input_tokens": 1, "output_tokens": 0, "total_tokens": 0,
                             "cached_input_tokens": null, "reasoning_tokens": null}})
        );
        drop(chunk);
        let Payload::ApiError(error) = decoder.decode(br#"{"error":"bad","error_type":"v"}"#)
        else {
            panic!("an error")
        };
        assert_eq!(
            serde_json::to_string(&error).unwrap(),
            r#"{"message":"bad","type":"v","code":null}"#
        );
    }
}
