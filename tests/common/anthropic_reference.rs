//! A slow, obviously correct reference for Anthropic Messages API streams (issue 11's mapping):
//! a whole SSE byte stream in, the message contract's JSON value out.
//!
//! It uses std and serde_json only (no `ssechunk` import), on top of the issue-10 contract
//! reference, which the including test file declares beside it as `contract_reference`: its
//! framing ([`outcomes`]) and its per-event rules for what every dialect shares (`event:
//! error`, `[DONE]`, data that is not a JSON object, an `error` member). What is Anthropic's
//! is here, one event at a time on `serde_json::Value`, in the order the issue lists it:
//!
//! - the event's kind is its data's `type` member (a string), else its event type;
//! - `message_start`: a new message (blocks, tool-call numbering and counts start over);
//!   `message.id`, `message.model`, choice 0 with role `assistant`, `message.usage`;
//! - `content_block_start` (block `index`): `text` -> content, `thinking` -> reasoning (a new
//!   part: its first non-empty text follows the reasoning before it after a blank line),
//!   `tool_use` -> tool call number N (0, 1, ...) with `id`, `name`; other types: no call;
//! - `content_block_delta`: `text_delta.text` -> content, `thinking_delta.thinking` ->
//!   reasoning (of the block's part), `input_json_delta.partial_json` -> the block's call's
//!   arguments (only for a `tool_use` block); other deltas: nothing;
//! - `content_block_stop` of a `tool_use` block: a call still without arguments gets the JSON
//!   text of the start's `input` (`{}` when absent);
//! - opaque reasoning (`reasoning_details`, the JSON text of an array, present once it has an
//!   element): a `thinking` block keeps its text (start's `thinking` + `thinking_delta`s) and
//!   signature (start's `signature` + `signature_delta.signature`s, a string member like the
//!   others); at its first `content_block_stop` with a non-empty signature it adds
//!   `{"type":"thinking","thinking":TEXT,"signature":SIG}`; a `redacted_thinking` block's
//!   `content_block_start` adds the block as sent;
//! - `message_delta`: `delta.stop_reason` (non-empty) is the raw finish; `usage` updates the
//!   counts (last value seen of each);
//! - `message_stop`: the terminal event (`ending: done`); anything else: nothing.
//!
//! Usage: input = input_tokens + cache_read_input_tokens + cache_creation_input_tokens,
//! output = output_tokens, total = input + output, cached = cache_read_input_tokens (null
//! until seen), reasoning null; it is shown once any `usage` object has been read.
//!
//! Shapes (Reading: the issue says "a shape still unknown is invalid"): a member read is
//! absent or `null` (= not given), or of its type (a string; a non-negative integer for a
//! count; an object); any other value makes the whole event invalid, and it changes nothing.
//! A block event's `index` is required (a non-negative integer), and so is a block event's
//! `content_block` / `delta` object.
//!
//! Dialect detection is the crate's: until an event's type (or data `type`) names an
//! Anthropic event, events are Chat Completions (the reference only accepts chunks that say
//! nothing there, such as a `ping` before `message_start`, and panics on anything else).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use super::contract_reference::{
    self, ChoiceJson, Decoded, MessageJson, RefError, RefInvalid, RefOutcome, call_json, ending_of,
    outcomes, parse_json,
};

/// The Anthropic event names that identify the dialect.
const NAMES: [&str; 6] = [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
];

#[derive(Debug, Clone, Default)]
pub struct RefCall {
    pub id: Option<String>,
    pub name: Option<String>,
    pub arguments: String,
}

#[derive(Debug, Clone, Default)]
pub struct RefChoice {
    pub content: Option<String>,
    pub reasoning: Option<String>,
    pub finish_reason: Option<String>,
    pub calls: BTreeMap<u64, RefCall>,
    /// The `reasoning_details` elements, in order.
    pub details: Vec<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    Tool(u64),
    Other,
}

#[derive(Debug, Clone)]
struct Block {
    kind: Kind,
    /// The JSON text of a `tool_use` block's `input`.
    input: String,
    /// A non-empty reasoning text of this block came.
    reasoned: bool,
    /// A `thinking` block's text and signature so far, and whether its detail was added.
    thinking: String,
    signature: String,
    sent: bool,
}

impl Block {
    fn new(kind: Kind) -> Self {
        Block {
            kind,
            input: String::new(),
            reasoned: false,
            thinking: String::new(),
            signature: String::new(),
            sent: false,
        }
    }
}

/// The raw counts, each the last value seen.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    input: Option<u64>,
    output: Option<u64>,
    cache_read: Option<u64>,
    cache_creation: Option<u64>,
}

/// The message being assembled, and what the stream's events said so far.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// The stream was identified as Anthropic.
    detected: bool,
    /// An event was decoded as Anthropic (the message's dialect).
    anthropic: bool,
    pub id: Option<String>,
    pub model: Option<String>,
    pub choice: Option<RefChoice>,
    /// [input, output, total, cached, reasoning(null)].
    pub usage: Option<Value>,
    pub errors: Vec<RefError>,
    pub invalid: u64,
    pub done: bool,
    blocks: HashMap<u64, Block>,
    calls: u64,
    counts: Counts,
}

/// The normalised finish of a `stop_reason`.
pub fn finish_of(raw: &str) -> &'static str {
    match raw {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "other",
    }
}

/// A member, `None` when absent or null.
fn present<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn opt_str(map: &Map<String, Value>, key: &str) -> Result<Option<String>, &'static str> {
    match present(map, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err("shape"),
    }
}

fn opt_count(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, &'static str> {
    match present(map, key) {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or("shape"),
    }
}

fn opt_object<'v>(
    map: &'v Map<String, Value>,
    key: &str,
) -> Result<Option<&'v Map<String, Value>>, &'static str> {
    match present(map, key) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err("shape"),
    }
}

fn index_of(map: &Map<String, Value>) -> Result<u64, &'static str> {
    map.get("index").and_then(Value::as_u64).ok_or("index")
}

/// The dialect an event identifies, as the crate detects it: the event type, else the data's
/// members (`type`; `candidates`, `usageMetadata`, `promptFeedback`; `choices`, `object`).
fn detect(event_type: &str, data: &[u8]) -> Option<&'static str> {
    let of_type = |name: &str| {
        if NAMES.contains(&name) {
            Some("anthropic")
        } else if name.starts_with("response.") {
            Some("responses")
        } else {
            None
        }
    };
    if let Some(d) = of_type(event_type) {
        return Some(d);
    }
    let Some(Value::Object(top)) = parse_json(&String::from_utf8_lossy(data)) else {
        return None;
    };
    let mut found = Vec::new();
    for (key, value) in &top {
        let d = match key.as_str() {
            "type" => value.as_str().and_then(of_type),
            "candidates" | "usageMetadata" | "promptFeedback" => Some("gemini"),
            "choices" => Some("chat"),
            "object" if value == "chat.completion.chunk" => Some("chat"),
            _ => None,
        };
        found.extend(d);
    }
    found.dedup();
    assert!(found.len() <= 1, "reference: ambiguous detection {found:?}");
    found.first().copied()
}

impl Reference {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push_outcome(&mut self, outcome: &RefOutcome) {
        match outcome {
            RefOutcome::Event { event_type, data } => self.event(event_type, data),
            RefOutcome::Error(error) => self.errors.push(error.clone()),
            RefOutcome::Ignored(_) | RefOutcome::Incomplete => {}
        }
    }

    fn event(&mut self, event_type: &[u8], data: &[u8]) {
        let kind = String::from_utf8_lossy(event_type).into_owned();
        if !self.detected {
            match detect(&kind, data) {
                Some("anthropic") => self.detected = true,
                Some(other) => panic!("reference: a {other} event in an Anthropic stream"),
                None => {}
            }
        }
        // What every dialect shares: `event: error`, `[DONE]`, not an object, `error` members.
        match contract_reference::decode(event_type, data) {
            Decoded::Done => self.done = true,
            Decoded::Error(e) => self.errors.push(e),
            Decoded::Invalid(RefInvalid::NotJson | RefInvalid::NotObject) => self.invalid += 1,
            Decoded::Chunk(chunk) if !self.detected => assert!(
                chunk.id.is_none()
                    && chunk.model.is_none()
                    && chunk.usage.is_none()
                    && chunk.choices.is_empty(),
                "reference: a chat chunk that says something before the stream is identified"
            ),
            Decoded::Invalid(_) if !self.detected => self.invalid += 1,
            Decoded::Chunk(_) | Decoded::Invalid(_) => {
                let text = String::from_utf8_lossy(data);
                let Some(Value::Object(top)) = parse_json(&text) else {
                    unreachable!("an object, as decode said");
                };
                let before = self.clone();
                match self.anthropic_event(&kind, &top) {
                    Ok(()) => self.anthropic = true,
                    Err(_) => {
                        *self = before;
                        self.invalid += 1;
                    }
                }
            }
        }
    }

    fn choice(&mut self) -> &mut RefChoice {
        self.choice.get_or_insert_with(RefChoice::default)
    }

    fn take_counts(&mut self, usage: &Map<String, Value>) -> Result<(), &'static str> {
        let c = Counts {
            input: opt_count(usage, "input_tokens")?,
            output: opt_count(usage, "output_tokens")?,
            cache_read: opt_count(usage, "cache_read_input_tokens")?,
            cache_creation: opt_count(usage, "cache_creation_input_tokens")?,
        };
        let n = &mut self.counts;
        n.input = c.input.or(n.input);
        n.output = c.output.or(n.output);
        n.cache_read = c.cache_read.or(n.cache_read);
        n.cache_creation = c.cache_creation.or(n.cache_creation);
        let input = n
            .input
            .unwrap_or(0)
            .saturating_add(n.cache_read.unwrap_or(0))
            .saturating_add(n.cache_creation.unwrap_or(0));
        let output = n.output.unwrap_or(0);
        self.usage = Some(json!({
            "input_tokens": input,
            "output_tokens": output,
            "total_tokens": input.saturating_add(output),
            "cached_input_tokens": n.cache_read,
            "reasoning_tokens": null,
        }));
        Ok(())
    }

    /// A reasoning text of block `index` (a new part at the block's first non-empty text).
    fn reasoning(&mut self, index: u64, text: &str) {
        let block = self
            .blocks
            .entry(index)
            .or_insert_with(|| Block::new(Kind::Other));
        if block.kind == Kind::Thinking {
            block.thinking.push_str(text);
        }
        let new_part = !text.is_empty() && !block.reasoned;
        if !text.is_empty() {
            block.reasoned = true;
        }
        let reasoning = self.choice().reasoning.get_or_insert_with(String::new);
        if new_part && !reasoning.is_empty() {
            reasoning.push_str("\n\n");
        }
        reasoning.push_str(text);
    }

    /// One event of the dialect (its state is restored by the caller on `Err`).
    fn anthropic_event(
        &mut self,
        event_type: &str,
        top: &Map<String, Value>,
    ) -> Result<(), &'static str> {
        let kind = opt_str(top, "type")?.unwrap_or_else(|| event_type.to_owned());
        match kind.as_str() {
            "message_start" => {
                self.blocks.clear();
                self.calls = 0;
                self.counts = Counts::default();
                self.choice();
                if let Some(message) = opt_object(top, "message")? {
                    if self.id.is_none() {
                        self.id = opt_str(message, "id")?.filter(|s| !s.is_empty());
                    } else {
                        opt_str(message, "id")?;
                    }
                    if self.model.is_none() {
                        self.model = opt_str(message, "model")?.filter(|s| !s.is_empty());
                    } else {
                        opt_str(message, "model")?;
                    }
                    if let Some(usage) = opt_object(message, "usage")? {
                        self.take_counts(usage)?;
                    }
                }
            }
            "content_block_start" => {
                let index = index_of(top)?;
                let Some(Value::Object(block)) = top.get("content_block") else {
                    return Err("content_block");
                };
                match opt_str(block, "type")?.as_deref() {
                    Some("text") => {
                        self.blocks.insert(index, Block::new(Kind::Text));
                        if let Some(text) = opt_str(block, "text")? {
                            self.choice()
                                .content
                                .get_or_insert_with(String::new)
                                .push_str(&text);
                        }
                    }
                    Some("thinking") => {
                        let text = opt_str(block, "thinking")?;
                        let mut b = Block::new(Kind::Thinking);
                        b.signature = opt_str(block, "signature")?.unwrap_or_default();
                        self.blocks.insert(index, b);
                        if let Some(text) = text {
                            self.reasoning(index, &text);
                        }
                    }
                    Some("redacted_thinking") => {
                        self.blocks.insert(index, Block::new(Kind::Other));
                        self.choice().details.push(Value::Object(block.clone()));
                    }
                    Some("tool_use") => {
                        let id = opt_str(block, "id")?.filter(|s| !s.is_empty());
                        let name = opt_str(block, "name")?.filter(|s| !s.is_empty());
                        let input = match block.get("input") {
                            Some(v) => serde_json::to_string(v).expect("a value"),
                            None => "{}".to_owned(),
                        };
                        let number = self.calls;
                        self.calls += 1;
                        let mut b = Block::new(Kind::Tool(number));
                        b.input = input;
                        self.blocks.insert(index, b);
                        let call = self.choice().calls.entry(number).or_default();
                        if call.id.is_none() {
                            call.id = id;
                        }
                        if call.name.is_none() {
                            call.name = name;
                        }
                    }
                    _ => {
                        self.blocks.insert(index, Block::new(Kind::Other));
                    }
                }
            }
            "content_block_delta" => {
                let index = index_of(top)?;
                let Some(Value::Object(delta)) = top.get("delta") else {
                    return Err("delta");
                };
                match opt_str(delta, "type")?.as_deref() {
                    Some("text_delta") => {
                        if let Some(text) = opt_str(delta, "text")? {
                            self.choice()
                                .content
                                .get_or_insert_with(String::new)
                                .push_str(&text);
                        }
                    }
                    Some("thinking_delta") => {
                        if let Some(text) = opt_str(delta, "thinking")? {
                            self.reasoning(index, &text);
                        }
                    }
                    Some("signature_delta") => {
                        if let Some(signature) = opt_str(delta, "signature")?
                            && let Some(block) = self.blocks.get_mut(&index)
                            && block.kind == Kind::Thinking
                        {
                            block.signature.push_str(&signature);
                        }
                    }
                    Some("input_json_delta") => {
                        let fragment = opt_str(delta, "partial_json")?;
                        if let (Some(fragment), Some(Kind::Tool(number))) =
                            (fragment, self.blocks.get(&index).map(|b| b.kind))
                        {
                            self.choice()
                                .calls
                                .entry(number)
                                .or_default()
                                .arguments
                                .push_str(&fragment);
                        }
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                let index = index_of(top)?;
                if let Some(Block {
                    kind: Kind::Tool(number),
                    input,
                    ..
                }) = self.blocks.get(&index).cloned()
                {
                    let call = self.choice().calls.entry(number).or_default();
                    if call.arguments.is_empty() {
                        call.arguments = input;
                    }
                }
                if let Some(block) = self.blocks.get_mut(&index)
                    && block.kind == Kind::Thinking
                    && !block.sent
                    && !block.signature.is_empty()
                {
                    block.sent = true;
                    let detail = json!({
                        "type": "thinking",
                        "thinking": block.thinking,
                        "signature": block.signature,
                    });
                    self.choice().details.push(detail);
                }
            }
            "message_delta" => {
                if let Some(delta) = opt_object(top, "delta")?
                    && let Some(reason) = opt_str(delta, "stop_reason")?
                    && !reason.is_empty()
                {
                    self.choice().finish_reason = Some(reason);
                }
                if let Some(usage) = opt_object(top, "usage")? {
                    self.take_counts(usage)?;
                }
            }
            "message_stop" => self.done = true,
            _ => {}
        }
        Ok(())
    }

    /// `done`, else `finished`, else `error`, else `truncated`.
    pub fn ending(&self) -> &'static str {
        let finished = self
            .choice
            .as_ref()
            .is_some_and(|c| c.finish_reason.is_some());
        ending_of(self.done, finished, !self.errors.is_empty())
    }

    /// The contract's JSON value.
    pub fn message(&self) -> Value {
        let choices: Vec<Value> = self
            .choice
            .iter()
            .map(|c| {
                ChoiceJson {
                    index: 0,
                    role: Some("assistant"),
                    content: &c.content,
                    reasoning: &c.reasoning,
                    refusal: &None,
                    tool_calls: c
                        .calls
                        .iter()
                        .map(|(&index, t)| call_json(index, &t.id, &t.name, &t.arguments))
                        .collect(),
                    finish_reason: &c.finish_reason,
                    finish: c.finish_reason.as_deref().map(finish_of),
                    details: &c.details,
                }
                .into_json()
            })
            .collect();
        MessageJson {
            dialect: if self.anthropic { "anthropic" } else { "chat" },
            id: &self.id,
            model: &self.model,
            choices,
            usage: self.usage.clone(),
            errors: &self.errors,
            invalid: self.invalid,
            ending: self.ending(),
        }
        .into_json()
    }
}

/// The message contract for a whole Anthropic stream.
pub fn reference_message(input: &[u8]) -> Value {
    let mut reference = Reference::new();
    for outcome in outcomes(input) {
        reference.push_outcome(&outcome);
    }
    reference.message()
}
