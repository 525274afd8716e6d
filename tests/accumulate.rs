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
