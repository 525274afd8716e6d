//! A slow, obviously correct reference for Gemini's `streamGenerateContent?alt=sse` mapped onto
//! the message contract (issue 11's Gemini mapping over issue 10's contract): a whole SSE byte
//! stream in, the contract's JSON value out.
//!
//! It uses std and serde_json only (no `ssechunk` import). The framing, the error rules and
//! the chat decoding it needs before a stream identifies its dialect come from
//! `contract_reference.rs` (the issue-10 reference), included here by path.
//!
//! The Gemini rules, each in one place:
//! - [`detect`]: a stream is Gemini from its first event with a top-level `candidates`,
//!   `usageMetadata` or `promptFeedback` member (chat until then);
//! - [`gemini_event`]: one event's meaning, or the name of a field of an unknown shape;
//! - [`Reference::apply`]: how an event changes the message.
//!
//! Readings of the mapping made here (the library makes the same):
//! - `null` counts as absent everywhere. Shapes: `candidates` and `content.parts` arrays of
//!   objects; `content`, `functionCall`, `promptFeedback`, `usageMetadata` objects; a
//!   candidate's `index` a non-negative integer; `text`, `finishReason`, `blockReason`, a call's
//!   `id` and `name` strings; `thought` a boolean. Any other shape makes the event invalid.
//!   `responseId`, `modelVersion` of another type and counts that are not non-negative
//!   integers count as absent (as the chat decoder's `id`, `model` and counts do).
//! - An empty `finishReason` or `blockReason` is no finish.
//! - A blocked prompt's choice 0 has the role `assistant` too.
//! - Gemini's thought parts are not "new parts": thought text concatenates as it comes.
//! - "The choice has tool calls" (for `STOP`): it received a `functionCall` earlier in the
//!   stream or earlier in the same event.
//! - `totalTokenCount` absent: the total is input + output.
//! - A part with a non-empty `thoughtSignature` (a string member) adds the part as sent to
//!   the choice's `reasoning_details` (the JSON text of an array, present once it has an
//!   element), after what its text or call says.
#![allow(dead_code)]

#[path = "contract_reference.rs"]
pub mod contract_reference;

use std::collections::HashMap;

use contract_reference::{Decoded, RefError, RefInvalid, RefOutcome, RefUsage};
use serde_json::{Map, Value};

pub use contract_reference::{assert_same_message, outcomes, parse_json};

/// One element of a candidate's `content.parts` that says something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GemPart {
    Text(String),
    Thought(String),
    Call {
        id: Option<String>,
        name: Option<String>,
        /// The JSON text of `args` (`{}` when absent).
        arguments: String,
    },
    /// A part that carried a `thoughtSignature`: the part itself.
    Detail(Value),
}

/// One candidate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GemCandidate {
    pub index: u64,
    pub parts: Vec<GemPart>,
    pub finish_reason: Option<String>,
}

/// One Gemini event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GemEvent {
    pub id: Option<String>,
    pub model: Option<String>,
    pub block_reason: Option<String>,
    pub candidates: Vec<GemCandidate>,
    pub usage: Option<RefUsage>,
}

/// The member, `null` meaning absent.
fn present<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn object<'v>(
    map: &'v Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<Option<&'v Map<String, Value>>, &'static str> {
    match present(map, key) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(field),
    }
}

fn array<'v>(
    map: &'v Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<&'v [Value], &'static str> {
    match present(map, key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(field),
    }
}

fn string(
    map: &Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<Option<String>, &'static str> {
    match present(map, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(field),
    }
}

fn lenient_str(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn count(map: &Map<String, Value>, key: &str) -> Option<u64> {
    map.get(key).and_then(Value::as_u64)
}

/// The dialect an event identifies: `Some("gemini")`, `Some("other")` for any other dialect
/// (a `choices`, a chat `object`, an Anthropic or Responses type), `None` for none.
pub fn detect(event_type: &[u8], data: &[u8]) -> Option<&'static str> {
    let anthropic = [
        &b"message_start"[..],
        b"content_block_start",
        b"content_block_delta",
        b"content_block_stop",
        b"message_delta",
        b"message_stop",
    ];
    let other_type = |t: &[u8]| anthropic.contains(&t) || t.starts_with(b"response.");
    if other_type(event_type) {
        return Some("other");
    }
    let Some(Value::Object(top)) = parse_json(&String::from_utf8_lossy(data)) else {
        return None;
    };
    // The first member that identifies a dialect decides.
    top.iter().find_map(|(key, value)| match key.as_str() {
        "candidates" | "usageMetadata" | "promptFeedback" => Some("gemini"),
        "choices" => Some("other"),
        "object" if value == "chat.completion.chunk" => Some("other"),
        "type" => value
            .as_str()
            .filter(|t| other_type(t.as_bytes()))
            .map(|_| "other"),
        _ => None,
    })
}

/// One Gemini event's meaning, or the name of a field of a shape the mapping does not know.
pub fn gemini_event(top: &Map<String, Value>) -> Result<GemEvent, &'static str> {
    let mut event = GemEvent {
        id: lenient_str(top, "responseId"),
        model: lenient_str(top, "modelVersion"),
        ..GemEvent::default()
    };
    if let Some(feedback) = object(top, "promptFeedback", "promptFeedback")? {
        event.block_reason = string(feedback, "blockReason", "blockReason")?;
    }
    for candidate in array(top, "candidates", "candidates")? {
        let candidate = candidate.as_object().ok_or("candidates")?;
        let index = match present(candidate, "index") {
            None => 0,
            Some(v) => v.as_u64().ok_or("index")?,
        };
        let finish_reason = string(candidate, "finishReason", "finishReason")?;
        let mut parts = Vec::new();
        if let Some(content) = object(candidate, "content", "content")? {
            for part in array(content, "parts", "parts")? {
                let part = part.as_object().ok_or("parts")?;
                let text = string(part, "text", "text")?;
                let thought = match present(part, "thought") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err("thought"),
                };
                if let Some(text) = text {
                    parts.push(if thought {
                        GemPart::Thought(text)
                    } else {
                        GemPart::Text(text)
                    });
                }
                let signature = string(part, "thoughtSignature", "thoughtSignature")?;
                if let Some(call) = object(part, "functionCall", "functionCall")? {
                    parts.push(GemPart::Call {
                        id: string(call, "id", "id")?,
                        name: string(call, "name", "name")?,
                        arguments: present(call, "args")
                            .map_or_else(|| "{}".to_owned(), Value::to_string),
                    });
                }
                if signature.is_some_and(|s| !s.is_empty()) {
                    parts.push(GemPart::Detail(Value::Object(part.clone())));
                }
            }
        }
        event.candidates.push(GemCandidate {
            index,
            parts,
            finish_reason,
        });
    }
    if let Some(usage) = object(top, "usageMetadata", "usageMetadata")? {
        let input = count(usage, "promptTokenCount").unwrap_or(0);
        let thoughts = count(usage, "thoughtsTokenCount");
        let output = count(usage, "candidatesTokenCount")
            .unwrap_or(0)
            .saturating_add(thoughts.unwrap_or(0));
        event.usage = Some(RefUsage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: count(usage, "totalTokenCount").unwrap_or(input.saturating_add(output)),
            cached_input_tokens: count(usage, "cachedContentTokenCount"),
            reasoning_tokens: thoughts,
        });
    }
    Ok(event)
}

/// A raw `finishReason` normalised, given whether the choice has tool calls.
pub fn normalised(raw: &str, has_calls: bool) -> &'static str {
    match raw {
        "STOP" if has_calls => "tool_calls",
        "STOP" => "stop",
        "MAX_TOKENS" => "length",
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY"
        | "LANGUAGE" => "content_filter",
        "MALFORMED_FUNCTION_CALL" => "error",
        _ => "other",
    }
}

#[derive(Debug, Clone, Default)]
pub struct RefCall {
    pub id: Option<String>,
    pub name: Option<String>,
    pub arguments: String,
}

#[derive(Debug, Clone, Default)]
pub struct RefChoice {
    pub role: Option<String>,
    pub content: Option<String>,
    pub reasoning: Option<String>,
    /// In order of appearance: a call's index is its position.
    pub calls: Vec<RefCall>,
    pub finish_reason: Option<String>,
    pub finish: Option<&'static str>,
    /// The `reasoning_details` elements, in order.
    pub details: Vec<Value>,
}

/// The message of a Gemini stream being assembled.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// The dialect detected so far.
    pub detected: Option<&'static str>,
    /// Whether an event was decoded as Gemini (then the message's dialect is `gemini`).
    pub gemini: bool,
    pub id: Option<String>,
    pub model: Option<String>,
    pub choices: HashMap<u64, RefChoice>,
    pub usage: Option<RefUsage>,
    pub errors: Vec<RefError>,
    pub invalid: u64,
    pub done: bool,
}

fn keep_first(target: &mut Option<String>, value: &Option<String>) {
    if target.is_none()
        && let Some(v) = value.as_ref().filter(|v| !v.is_empty())
    {
        *target = Some(v.clone());
    }
}

fn concat(target: &mut Option<String>, piece: &str) {
    target.get_or_insert_with(String::new).push_str(piece);
}

impl Reference {
    pub fn push_outcome(&mut self, outcome: &RefOutcome) {
        match outcome {
            RefOutcome::Event { event_type, data } => self.push_event(event_type, data),
            RefOutcome::Error(error) => self.errors.push(error.clone()),
            RefOutcome::Ignored(_) | RefOutcome::Incomplete => {}
        }
    }

    pub fn push_event(&mut self, event_type: &[u8], data: &[u8]) {
        if self.detected.is_none() {
            self.detected = detect(event_type, data);
        }
        // `event: error`, `[DONE]`, errors in the data and data that is not a JSON object
        // are the same in every dialect (issue 10's rules).
        match contract_reference::decode(event_type, data) {
            Decoded::Done => self.done = true,
            Decoded::Error(error) => self.errors.push(error),
            Decoded::Invalid(RefInvalid::NotJson | RefInvalid::NotObject) => self.invalid += 1,
            chat => match self.detected {
                Some("gemini") => {
                    let text = String::from_utf8_lossy(data);
                    let Some(Value::Object(top)) = parse_json(&text) else {
                        unreachable!("the chat rules found an object");
                    };
                    match gemini_event(&top) {
                        Ok(event) => self.apply(&event),
                        Err(_) => self.invalid += 1,
                    }
                }
                Some(other) => panic!("the Gemini reference does not read {other} streams"),
                // Before a stream identifies its dialect, an event is a chat chunk: only ones
                // that say nothing are modelled.
                None => match chat {
                    Decoded::Invalid(_) => self.invalid += 1,
                    Decoded::Chunk(chunk) => assert!(
                        chunk.id.is_none()
                            && chunk.model.is_none()
                            && chunk.choices.is_empty()
                            && chunk.usage.is_none(),
                        "the Gemini reference does not read chat chunks: {chunk:?}"
                    ),
                    _ => unreachable!(),
                },
            },
        }
    }

    fn choice(&mut self, index: u64) -> &mut RefChoice {
        self.choices.entry(index).or_default()
    }

    pub fn apply(&mut self, event: &GemEvent) {
        self.gemini = true;
        keep_first(&mut self.id, &event.id);
        keep_first(&mut self.model, &event.model);
        let assistant = Some("assistant".to_owned());
        if let Some(reason) = event.block_reason.as_ref().filter(|r| !r.is_empty()) {
            let choice = self.choice(0);
            keep_first(&mut choice.role, &assistant);
            choice.finish_reason = Some(reason.clone());
            choice.finish = Some("content_filter");
        }
        for candidate in &event.candidates {
            let choice = self.choice(candidate.index);
            keep_first(&mut choice.role, &assistant);
            for part in &candidate.parts {
                match part {
                    GemPart::Text(text) => concat(&mut choice.content, text),
                    GemPart::Thought(text) => concat(&mut choice.reasoning, text),
                    GemPart::Call {
                        id,
                        name,
                        arguments,
                    } => {
                        let mut call = RefCall {
                            arguments: arguments.clone(),
                            ..RefCall::default()
                        };
                        keep_first(&mut call.id, id);
                        keep_first(&mut call.name, name);
                        choice.calls.push(call);
                    }
                    GemPart::Detail(part) => choice.details.push(part.clone()),
                }
            }
            if let Some(reason) = candidate.finish_reason.as_ref().filter(|r| !r.is_empty()) {
                choice.finish = Some(normalised(reason, !choice.calls.is_empty()));
                choice.finish_reason = Some(reason.clone());
            }
        }
        if event.usage.is_some() {
            self.usage = event.usage;
        }
    }

    pub fn ending(&self) -> &'static str {
        let finished = self.choices.values().any(|c| c.finish.is_some());
        contract_reference::ending_of(self.done, finished, !self.errors.is_empty())
    }

    /// The contract's JSON value, choices and tool calls sorted by index.
    pub fn message(&self) -> Value {
        let mut indexes: Vec<u64> = self.choices.keys().copied().collect();
        indexes.sort_unstable();
        let choices: Vec<Value> = indexes
            .into_iter()
            .map(|index| {
                let c = &self.choices[&index];
                contract_reference::ChoiceJson {
                    index,
                    role: c.role.as_deref(),
                    content: &c.content,
                    reasoning: &c.reasoning,
                    refusal: &None,
                    tool_calls: (0u64..)
                        .zip(&c.calls)
                        .map(|(i, t)| {
                            contract_reference::call_json(i, &t.id, &t.name, &t.arguments)
                        })
                        .collect(),
                    finish_reason: &c.finish_reason,
                    finish: c.finish,
                    details: &c.details,
                }
                .into_json()
            })
            .collect();
        contract_reference::MessageJson {
            dialect: if self.gemini { "gemini" } else { "chat" },
            id: &self.id,
            model: &self.model,
            choices,
            usage: self.usage.map(contract_reference::usage_json),
            errors: &self.errors,
            invalid: self.invalid,
            ending: self.ending(),
        }
        .into_json()
    }
}

/// The message contract of a whole Gemini stream.
pub fn reference_message(input: &[u8]) -> Value {
    let mut reference = Reference::default();
    for outcome in outcomes(input) {
        reference.push_outcome(&outcome);
    }
    reference.message()
}
