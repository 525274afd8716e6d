//! `Message::to_assistant_turn`: the reply as the next request's items, in each dialect's
//! request shape.
//!
//! - The oracle: the recorded corpus holds, per tool-calling run of a real client, the first
//!   turn's stream (`X.i0.sse`) and the next request it sent (`X.i1.request.json`), which
//!   carries the assistant turn the client built from that stream. Every such pair is decoded
//!   (dialect detected), and the library's turn is compared with the client's: exactly, but
//!   for the differences named in `normalise_*`, each one a choice of the client's own (or,
//!   for one run, a named gap of ours), each counted and printed. Every pair is compared; the
//!   counts per dialect are fixed, so that none is skipped silently.
//! - Hand-written messages, per dialect: text only, tool calls, signed reasoning, arguments
//!   cut by the end of the stream, the empty message.
//!
//! Run with `--all-features` (the method needs the `serde` feature).
#![cfg(feature = "serde")]

#[path = "common/corpus.rs"]
mod corpus;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use ssechunk::{
    Accumulator, ChoiceMessage, ChunkStream, Dialect, Ending, Message, ToolCallMessage,
};

// ---------------------------------------------------------------------------------------------
// The corpus oracle.

/// The pairs the corpus holds, per dialect.
const PAIRS: [(Dialect, usize); 4] = [
    (Dialect::Chat, 56),
    (Dialect::Anthropic, 10),
    (Dialect::Responses, 12),
    (Dialect::Gemini, 13),
];

/// Next requests whose first turn was not recorded as SSE (Bedrock's AWS event stream), so
/// that there is no stream of ours to compare.
const NOT_SSE: usize = 3;

/// A first turn's stream and the next request.
struct Pair {
    name: String,
    stream: PathBuf,
    request: PathBuf,
}

/// Every pair of the corpus's client runs, and the number of next requests without an SSE
/// first turn; `None` without the corpus.
fn pairs() -> Option<(Vec<Pair>, usize)> {
    let dir = corpus::corpus_dir()?.join("fantasy");
    let mut pairs = Vec::new();
    let mut not_sse = 0;
    for request in corpus::files_ending(&dir, ".i1.request.json") {
        let text = request.to_string_lossy();
        let base = text.strip_suffix(".i1.request.json").expect("the suffix");
        let stream = PathBuf::from(format!("{base}.i0.sse"));
        if stream.is_file() {
            let name = Path::new(base)
                .strip_prefix(&dir)
                .expect("under the corpus")
                .display()
                .to_string();
            pairs.push(Pair {
                name,
                stream,
                request,
            });
        } else {
            assert!(
                Path::new(&format!("{base}.i0.awseventstream.bin")).is_file(),
                "{base}: a next request without its first turn"
            );
            not_sse += 1;
        }
    }
    Some((pairs, not_sse))
}

/// The message of a whole stream.
fn decode(input: &[u8]) -> Message {
    let mut stream = ChunkStream::new();
    let mut acc = Accumulator::new();
    stream.feed(input);
    stream.finish();
    while let Some(outcome) = stream.next_outcome() {
        acc.push_outcome(&outcome.expect("no event here is over the size limit"));
    }
    acc.message()
}

/// The client's assistant items in its next request: those that follow the first user
/// message (`messages` for chat and Anthropic, with role `assistant`; `contents` for Gemini,
/// with role `model`; for Responses, the `input` items up to the first
/// `function_call_output`).
fn client_items(dialect: Dialect, request: &Value) -> Vec<Value> {
    let (list, role) = match dialect {
        Dialect::Chat | Dialect::Anthropic => ("messages", Some("assistant")),
        Dialect::Gemini => ("contents", Some("model")),
        Dialect::Responses => ("input", None),
        other => panic!("a dialect this test does not know: {other:?}"),
    };
    let list = request[list]
        .as_array()
        .unwrap_or_else(|| panic!("the request has no `{list}`"));
    let user = list
        .iter()
        .position(|item| item["role"] == "user")
        .expect("a user message");
    let after = list[user + 1..].iter();
    match role {
        Some(role) => after
            .take_while(|item| item["role"] == role)
            .cloned()
            .collect(),
        None => after
            .take_while(|item| item["type"] != "function_call_output")
            .cloned()
            .collect(),
    }
}

/// How often each difference was normalised away.
#[derive(Default)]
struct Applied(BTreeMap<&'static str, usize>);

impl Applied {
    fn note(&mut self, what: &'static str) {
        *self.0.entry(what).or_default() += 1;
    }
}

/// The opaque parts of OpenRouter `reasoning_details` elements: the non-empty `signature`s
/// and encrypted `data`.
fn opaque_parts(details: Option<&Value>) -> BTreeSet<String> {
    let mut parts = BTreeSet::new();
    for element in details.and_then(Value::as_array).into_iter().flatten() {
        for key in ["signature", "data"] {
            if let Some(s) = element[key].as_str().filter(|s| !s.is_empty()) {
                parts.insert(s.to_owned());
            }
        }
    }
    parts
}

/// Chat Completions.
fn normalise_chat(ours: &mut Value, theirs: &mut Value, applied: &mut Applied) {
    let (ours, theirs) = (
        ours.as_object_mut().expect("an object"),
        theirs.as_object_mut().expect("an object"),
    );
    // The client sends the reasoning text back (`reasoning_content` to OpenAI-compatible
    // servers, `reasoning` to OpenRouter). OpenAI's request has no such field and DeepSeek
    // rejects a turn that carries it: we leave it out.
    for key in ["reasoning_content", "reasoning"] {
        if theirs.remove(key).is_some() {
            applied.note("chat: the client sends the reasoning text back");
        }
    }
    // The client marks its last tool call for Anthropic prompt caching (`cache_control`), an
    // option of its request, not part of the reply.
    for call in theirs
        .get_mut("tool_calls")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if call
            .as_object_mut()
            .and_then(|c| c.remove("cache_control"))
            .is_some()
        {
            applied.note("chat: the client's cache_control marker");
        }
    }
    // The client leaves `content` out when the reply has no text; we send `null` beside tool
    // calls (OpenAI's shape) or the empty text the stream sent. Both are accepted.
    if !theirs.contains_key("content") {
        let empty = matches!(ours.get("content"), Some(Value::Null))
            || ours.get("content").and_then(Value::as_str) == Some("");
        if empty {
            ours.remove("content");
            applied.note("chat: the client leaves an empty content out");
        }
    }
    // The client keeps only the text that followed the last tool call (one Kimi stream sends
    // text, a call, a space, another call); we send the whole text the stream had. Narrowly:
    // the client's text is blank and ends ours.
    let mine = ours.get("content").and_then(Value::as_str);
    let its = theirs.get("content").and_then(Value::as_str);
    if let (Some(mine), Some(its)) = (mine, its)
        && mine != its
        && !its.is_empty()
        && its.trim().is_empty()
        && mine.ends_with(its)
    {
        ours.insert("content".into(), its.into());
        applied.note("chat: the client keeps only the text after the last tool call");
    }
    // OpenRouter `reasoning_details`: we send the elements back as received, OpenRouter's rule.
    // The client rebuilds the array from its own reading of the stream (it merges the
    // per-chunk fragments, rewrites or drops summary and text elements, and leaves the array
    // out for servers it does not send it to, and drops xAI's encrypted reasoning). What
    // must come back is the opaque part: every signature and encrypted data the client sends
    // back, we send too (we may send more: those it drops).
    if ours.contains_key("reasoning_details") || theirs.contains_key("reasoning_details") {
        let mine = opaque_parts(ours.remove("reasoning_details").as_ref());
        let its = opaque_parts(theirs.remove("reasoning_details").as_ref());
        if its.is_subset(&mine) {
            if its != mine {
                applied.note("chat: the client drops encrypted reasoning it does not know");
            }
            ours.insert("reasoning_details (opaque)".into(), json!(its));
        } else {
            ours.insert("reasoning_details (opaque)".into(), json!(mine));
        }
        theirs.insert("reasoning_details (opaque)".into(), json!(its));
        applied.note("chat: reasoning_details compared by their opaque parts");
    }
}

/// Anthropic Messages.
fn normalise_anthropic(name: &str, ours: &mut Value, theirs: &mut Value, applied: &mut Applied) {
    let blocks = theirs["content"].as_array_mut().expect("content blocks");
    // The client's prompt-caching marker on its last block: an option of its request.
    for block in blocks.iter_mut() {
        if block
            .as_object_mut()
            .and_then(|b| b.remove("cache_control"))
            .is_some()
        {
            applied.note("anthropic: the client's cache_control marker");
        }
    }
    // The client's computer-use run sends its tool call back alone, without the text block
    // the stream had before it (its other runs keep their text).
    if name.contains("ComputerUse") {
        let mine = ours["content"].as_array_mut().expect("content blocks");
        let before = mine.len();
        mine.retain(|block| block["type"] != "text");
        if mine.len() != before {
            applied.note("anthropic: the client's computer-use run drops the text");
        }
    }
    // A gap of ours, not a choice of the client: the decoder does not keep server-tool blocks
    // (`server_tool_use` and its `web_search_tool_result`), so the turn has none; the client
    // sends them back, and its text as one block per streamed block (citation boundaries),
    // where we send the text as one block.
    let server = |block: &Value| {
        block["type"] == "server_tool_use"
            || block["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("_tool_result"))
    };
    if blocks.iter().any(server) {
        blocks.retain(|block| !server(block));
        let mut merged: Vec<Value> = Vec::new();
        for block in blocks.drain(..) {
            match merged.last_mut() {
                Some(last) if last["type"] == "text" && block["type"] == "text" => {
                    let text = format!(
                        "{}{}",
                        last["text"].as_str().unwrap_or(""),
                        block["text"].as_str().unwrap_or("")
                    );
                    last["text"] = text.into();
                }
                _ => merged.push(block),
            }
        }
        *blocks = merged;
        applied.note("anthropic: GAP: server-tool blocks are not kept");
    }
}

/// OpenAI Responses: nothing to normalise (neither the client nor we send `reasoning` items
/// back; see `Message::to_assistant_turn` for why).
fn normalise_responses(ours: &[Value]) {
    assert!(
        ours.iter().all(|item| item["type"] != "reasoning"),
        "no reasoning item is sent back"
    );
}

/// Gemini.
fn normalise_gemini(ours: &Value, theirs: &mut Value, applied: &mut Applied) {
    // The client numbers the calls that came without an id ("1", "2", ...); Gemini sent none,
    // and we send none.
    let mine = ours["parts"].as_array().expect("parts");
    let its = theirs["parts"].as_array_mut().expect("parts");
    for (m, t) in mine.iter().zip(its.iter_mut()) {
        let Some(call) = t.get_mut("functionCall").and_then(Value::as_object_mut) else {
            continue;
        };
        if m["functionCall"].get("id").is_none() && call.remove("id").is_some() {
            applied.note("gemini: the client numbers calls that had no id");
        }
    }
}

#[test]
fn every_recorded_next_request_continues_with_our_turn() {
    let Some((pairs, not_sse)) = pairs() else {
        return;
    };
    assert_eq!(not_sse, NOT_SSE, "next requests without an SSE first turn");
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut applied = Applied::default();
    let mut failures = Vec::new();
    for pair in &pairs {
        let message = decode(&std::fs::read(&pair.stream).expect("a corpus file"));
        let request: Value =
            serde_json::from_slice(&std::fs::read(&pair.request).expect("a corpus file"))
                .expect("the request is JSON");
        let mut ours = message.to_assistant_turn();
        let mut theirs = client_items(message.dialect, &request);
        assert!(!theirs.is_empty(), "{}: no assistant item", pair.name);
        match message.dialect {
            Dialect::Chat | Dialect::Anthropic | Dialect::Gemini => {
                assert_eq!(ours.len(), 1, "{}: one item", pair.name);
                assert_eq!(theirs.len(), 1, "{}: the client's one item", pair.name);
                let (mine, its) = (&mut ours[0], &mut theirs[0]);
                match message.dialect {
                    Dialect::Chat => normalise_chat(mine, its, &mut applied),
                    Dialect::Anthropic => normalise_anthropic(&pair.name, mine, its, &mut applied),
                    _ => normalise_gemini(mine, its, &mut applied),
                }
            }
            _ => normalise_responses(&ours),
        }
        *counts.entry(message.dialect.as_str()).or_default() += 1;
        if ours != theirs {
            failures.push(format!(
                "{} ({}):\n  ours:   {}\n  theirs: {}",
                pair.name,
                message.dialect.as_str(),
                Value::Array(ours),
                Value::Array(theirs)
            ));
        }
    }
    println!("pairs compared, per dialect: {counts:?} ({not_sse} not SSE)");
    for (what, n) in &applied.0 {
        println!("  normalised {n}x: {what}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} turns differ:\n{}",
        failures.len(),
        pairs.len(),
        failures.join("\n")
    );
    let want: BTreeMap<&str, usize> = PAIRS.iter().map(|&(d, n)| (d.as_str(), n)).collect();
    assert_eq!(counts, want, "pairs per dialect");
    assert_eq!(
        applied
            .0
            .get("anthropic: GAP: server-tool blocks are not kept")
            .copied(),
        Some(1),
        "the server-tool gap concerns the web-search run alone"
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-written messages.

/// A message of `dialect` whose only choice is `choice`.
fn message(dialect: Dialect, choice: ChoiceMessage) -> Message {
    Message {
        dialect,
        id: None,
        model: None,
        choices: vec![choice],
        usage: None,
        errors: Vec::new(),
        invalid: 0,
        ending: Ending::Done,
    }
}

/// A message of `dialect` without a choice.
fn empty(dialect: Dialect) -> Message {
    Message {
        choices: Vec::new(),
        ..message(dialect, ChoiceMessage::default())
    }
}

/// A tool call.
fn call(id: Option<&str>, name: &str, arguments: &str) -> ToolCallMessage {
    ToolCallMessage {
        id: id.map(str::to_owned),
        name: Some(name.to_owned()),
        arguments: arguments.to_owned(),
        ..ToolCallMessage::default()
    }
}

/// A choice with `content`, `calls` and the `reasoning_details` elements `details`.
fn choice(content: Option<&str>, calls: Vec<ToolCallMessage>, details: &[Value]) -> ChoiceMessage {
    ChoiceMessage {
        role: Some("assistant".into()),
        content: content.map(str::to_owned),
        reasoning: Some("the reasoning text, never sent back".into()),
        reasoning_details: (!details.is_empty())
            .then(|| Value::Array(details.to_vec()).to_string()),
        tool_calls: calls,
        ..ChoiceMessage::default()
    }
}

/// The arguments of a call the stream cut, and other arguments that are no JSON object.
const NOT_AN_OBJECT: [&str; 4] = ["", "{\"city\":\"Par", "[1,2]", "\"text\""];

#[test]
fn chat_is_the_first_choices_turn() {
    let first = choice(
        Some("Checking."),
        vec![call(Some("call_1"), "get_weather", "{\"city\":\"Paris\"}")],
        &[json!({"type": "reasoning.encrypted", "data": "x"})],
    );
    let second = choice(Some("other"), Vec::new(), &[]);
    let mut m = message(Dialect::Chat, first.clone());
    m.choices.push(second);
    assert_eq!(m.to_assistant_turn(), vec![first.to_assistant_turn()]);
    assert_eq!(
        empty(Dialect::Chat).to_assistant_turn(),
        vec![json!({"role": "assistant", "content": ""})]
    );
}

#[test]
fn anthropic_text_only() {
    let m = message(Dialect::Anthropic, choice(Some("Hello."), Vec::new(), &[]));
    assert_eq!(
        m.to_assistant_turn(),
        vec![json!({"role": "assistant", "content": [{"type": "text", "text": "Hello."}]})]
    );
}

#[test]
fn anthropic_thinking_then_text_then_tool_uses() {
    let thinking = json!({"type": "thinking", "thinking": "Weather first.", "signature": "sig1"});
    let redacted = json!({"type": "redacted_thinking", "data": "opaque"});
    let m = message(
        Dialect::Anthropic,
        choice(
            Some("Let me look."),
            vec![
                call(Some("toolu_1"), "get_weather", "{\"city\":\"Paris\"}"),
                call(Some("toolu_2"), "get_time", "{\"tz\":\"CET\"}"),
            ],
            &[thinking.clone(), redacted.clone()],
        ),
    );
    assert_eq!(
        m.to_assistant_turn(),
        vec![json!({"role": "assistant", "content": [
            thinking,
            redacted,
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {"tz": "CET"}},
        ]})]
    );
}

#[test]
fn anthropic_text_of_whitespace_only_is_not_sent() {
    // Claude often streams "\n\n" before a tool_use; the API rejects a text block of
    // whitespace only ("text content blocks must contain non-whitespace text").
    let m = message(
        Dialect::Anthropic,
        choice(Some("\n\n "), vec![call(Some("toolu_1"), "f", "{}")], &[]),
    );
    assert_eq!(
        m.to_assistant_turn(),
        vec![json!({"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
        ]})]
    );
}

#[test]
fn anthropic_input_is_an_empty_object_unless_the_arguments_are_one() {
    for arguments in NOT_AN_OBJECT {
        let m = message(
            Dialect::Anthropic,
            choice(Some(""), vec![call(Some("toolu_1"), "f", arguments)], &[]),
        );
        assert_eq!(
            m.to_assistant_turn(),
            vec![json!({"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
            ]})],
            "arguments {arguments:?}"
        );
    }
    assert_eq!(
        empty(Dialect::Anthropic).to_assistant_turn(),
        vec![json!({"role": "assistant", "content": []})]
    );
}

#[test]
fn responses_text_and_refusal() {
    let mut text = choice(Some("Hello."), Vec::new(), &[]);
    assert_eq!(
        message(Dialect::Responses, text.clone()).to_assistant_turn(),
        vec![json!({"type": "message", "role": "assistant",
                    "content": [{"type": "output_text", "text": "Hello."}]})]
    );
    text.content = None;
    text.refusal = Some("I can't help with that.".into());
    assert_eq!(
        message(Dialect::Responses, text).to_assistant_turn(),
        vec![json!({"type": "message", "role": "assistant",
                    "content": [{"type": "refusal", "refusal": "I can't help with that."}]})]
    );
}

#[test]
fn responses_the_message_then_calls_and_no_reasoning_item() {
    let reasoning = json!({"id": "rs_1", "type": "reasoning", "summary": [],
                           "encrypted_content": "gAAA"});
    let m = message(
        Dialect::Responses,
        choice(
            Some("Checking."),
            vec![
                call(Some("call_1"), "get_weather", "{\"city\":\"Paris\"}"),
                // Cut by the end of the stream: sent as received, the API takes text.
                call(Some("call_2"), "get_time", "{\"tz\":\"CE"),
            ],
            std::slice::from_ref(&reasoning),
        ),
    );
    // The reasoning item stays in the message's reasoning_details, not in the turn: the API
    // would want it followed by its output item's id, which the message does not keep.
    assert!(
        m.choices[0]
            .reasoning_details
            .as_deref()
            .is_some_and(|d| d.contains("rs_1"))
    );
    assert_eq!(
        m.to_assistant_turn(),
        vec![
            json!({"type": "message", "role": "assistant",
                   "content": [{"type": "output_text", "text": "Checking."}]}),
            json!({"type": "function_call", "call_id": "call_1", "name": "get_weather",
                   "arguments": "{\"city\":\"Paris\"}"}),
            json!({"type": "function_call", "call_id": "call_2", "name": "get_time",
                   "arguments": "{\"tz\":\"CE"}),
        ]
    );
    assert_eq!(
        empty(Dialect::Responses).to_assistant_turn(),
        Vec::<Value>::new()
    );
}

#[test]
fn gemini_text_only() {
    let m = message(Dialect::Gemini, choice(Some("Hello."), Vec::new(), &[]));
    assert_eq!(
        m.to_assistant_turn(),
        vec![json!({"role": "model", "parts": [{"text": "Hello."}]})]
    );
}

#[test]
fn gemini_signed_call_parts_go_back_in_place() {
    // Two calls of one function: the signed part is the second's (matched by its args).
    let signed = json!({"functionCall": {"name": "get_weather", "args": {"city": "Rome"}, "id": "c2"},
                        "thoughtSignature": "sig"});
    let thought = json!({"text": "Thinking about cities.", "thought": true,
                         "thoughtSignature": "thought-sig"});
    let m = message(
        Dialect::Gemini,
        choice(
            None,
            vec![
                call(None, "get_weather", "{\"city\":\"Paris\"}"),
                call(Some("c2"), "get_weather", "{\"city\": \"Rome\"}"),
            ],
            &[thought, signed.clone()],
        ),
    );
    assert_eq!(
        m.to_assistant_turn(),
        vec![json!({"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
            signed,
        ]})]
    );
}

#[test]
fn gemini_a_text_signature_goes_on_the_text() {
    let m = message(
        Dialect::Gemini,
        choice(
            Some("It is sunny."),
            Vec::new(),
            &[json!({"text": "sunny.", "thoughtSignature": "sig"})],
        ),
    );
    assert_eq!(
        m.to_assistant_turn(),
        vec![
            json!({"role": "model", "parts": [{"text": "It is sunny.", "thoughtSignature": "sig"}]})
        ]
    );
    // A signed part without text, in a reply without text, goes back as it came.
    let bare = json!({"text": "", "thoughtSignature": "sig"});
    let m = message(
        Dialect::Gemini,
        choice(Some(""), Vec::new(), std::slice::from_ref(&bare)),
    );
    assert_eq!(
        m.to_assistant_turn(),
        vec![json!({"role": "model", "parts": [bare]})]
    );
}

#[test]
fn gemini_args_are_an_empty_object_unless_the_arguments_are_one() {
    for arguments in NOT_AN_OBJECT {
        let m = message(
            Dialect::Gemini,
            choice(None, vec![call(Some("c1"), "f", arguments)], &[]),
        );
        assert_eq!(
            m.to_assistant_turn(),
            vec![json!({"role": "model", "parts": [
                {"functionCall": {"name": "f", "args": {}, "id": "c1"}},
            ]})],
            "arguments {arguments:?}"
        );
    }
    assert_eq!(
        empty(Dialect::Gemini).to_assistant_turn(),
        vec![json!({"role": "model", "parts": []})]
    );
}
