//! A slow, obviously correct reference for OpenAI Responses API streams (issue 11's mapping):
//! whole SSE bytes in, the message contract as a `serde_json::Value` out.
//!
//! std and serde_json only (no `ssechunk` import). The SSE framing and the framing-level error
//! rules come from the issue-10 reference, which the including test file declares as the
//! sibling module `contract_reference`:
//! ```ignore
//! #[path = "common/contract_reference.rs"]
//! mod contract_reference;
//! #[path = "common/responses_reference.rs"]
//! mod responses_reference;
//! ```
//!
//! Where the mapping leaves a choice open, the choice made here is written where it arises
//! (search for "Reading:").
#![allow(dead_code)]

use serde_json::{Map, Value, json};

use super::contract_reference::{
    ChoiceJson, MessageJson, RefCode, RefError, RefOutcome, call_json, ending_of, outcomes,
    parse_json,
};

// ---------------------------------------------------------------------------------------------
// Errors (issue 10, rule 1 for `event: error`, rule 3 for an `error` member).

fn lenient_str(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn lenient_u64(map: &Map<String, Value>, key: &str) -> Option<u64> {
    map.get(key).and_then(Value::as_u64)
}

/// The fields of an error object; `is_data` when it is the event's data object itself (whose
/// `"type": "error"` names the envelope); `text` is the message of last resort.
fn error_object(error: &Map<String, Value>, is_data: bool, text: &str) -> RefError {
    let message = lenient_str(error, "message")
        .or_else(|| lenient_str(error, "detail"))
        .or_else(|| lenient_str(error, "details"))
        .unwrap_or_else(|| text.to_owned());
    let kind = lenient_str(error, "type")
        .filter(|t| !(is_data && t == "error"))
        .or_else(|| lenient_str(error, "status"));
    let code = match error.get("code") {
        Some(Value::String(s)) => Some(RefCode::Str(s.clone())),
        Some(Value::Number(n)) => n.as_i64().map(RefCode::Int),
        _ => None,
    };
    RefError {
        message: Some(message),
        kind,
        code,
        param: lenient_str(error, "param"),
    }
}

/// The error of an `event: error`, whatever its data.
fn error_event(text: &str) -> RefError {
    match parse_json(text) {
        Some(Value::Object(top)) => match top.get("error") {
            Some(Value::Object(error)) => error_object(error, false, text),
            Some(Value::String(message)) if !message.is_empty() => RefError {
                message: Some(message.clone()),
                kind: lenient_str(&top, "error_type"),
                code: error_object(&top, true, text).code,
                param: lenient_str(&top, "param"),
            },
            _ => error_object(&top, true, text),
        },
        _ => RefError {
            message: Some(text.to_owned()),
            kind: None,
            code: None,
            param: None,
        },
    }
}

/// The error of data whose `error` member is an object or a non-empty string.
fn error_member(top: &Map<String, Value>, text: &str) -> Option<RefError> {
    match top.get("error") {
        Some(Value::Object(error)) => Some(error_object(error, false, text)),
        Some(Value::String(message)) if !message.is_empty() => Some(RefError {
            message: Some(message.clone()),
            kind: lenient_str(top, "error_type"),
            code: None,
            param: None,
        }),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Shapes.

/// The member, with `null` meaning absent.
fn present<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.get(key).filter(|v| !v.is_null())
}

/// A string, absent/null = `None`, another type = an invalid event.
fn strict_str(map: &Map<String, Value>, key: &str) -> Result<Option<String>, ()> {
    match present(map, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(()),
    }
}

/// An object, absent/null = `None`, another type = an invalid event.
fn strict_object<'v>(
    map: &'v Map<String, Value>,
    key: &str,
) -> Result<Option<&'v Map<String, Value>>, ()> {
    match present(map, key) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(()),
    }
}

// ---------------------------------------------------------------------------------------------
// The message.

#[derive(Debug, Clone, Default)]
struct Call {
    id: Option<String>,
    name: Option<String>,
    arguments: String,
}

/// Where a call of the current response is found.
#[derive(Debug, Clone)]
struct Entry {
    item_id: Option<String>,
    output_index: Option<u64>,
    call: usize,
}

#[derive(Debug, Clone, Default)]
struct Choice {
    content: Option<String>,
    reasoning: Option<String>,
    refusal: Option<String>,
    finish_reason: Option<String>,
    finish: Option<&'static str>,
    /// The `reasoning_details` elements (reasoning items), in order.
    details: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq)]
enum ReasoningKind {
    Summary,
    Text,
}

#[derive(Debug, Default)]
struct Message {
    /// Whether any event reached the Responses decoder (the message's dialect).
    responses: bool,
    id: Option<String>,
    model: Option<String>,
    choice: Option<Choice>,
    /// Every tool call of the stream, numbered by position.
    calls: Vec<Call>,
    /// The calls of the current response (since the last `response.created`).
    table: Vec<Entry>,
    usage: Option<Value>,
    errors: Vec<RefError>,
    invalid: u64,
    done: bool,
    /// The key of the reasoning part of the last reasoning delta, and whether a non-empty text
    /// of it came.
    part: Option<(ReasoningKind, Option<String>, Option<u64>)>,
    part_started: bool,
    /// The last `error` event's message and code.
    last_error: Option<(Option<String>, Option<RefCode>)>,
}

fn keep_first(target: &mut Option<String>, value: Option<&str>) {
    if target.is_none()
        && let Some(v) = value.filter(|v| !v.is_empty())
    {
        *target = Some(v.to_owned());
    }
}

impl Message {
    fn choice(&mut self) -> &mut Choice {
        self.choice.get_or_insert_with(Choice::default)
    }

    fn error_event(&mut self, error: RefError) {
        self.last_error = Some((error.message.clone(), error.code.clone()));
        self.errors.push(error);
    }

    fn event(&mut self, event_type: &[u8], data: &[u8]) {
        let text = String::from_utf8_lossy(data).into_owned();
        if event_type == b"error" {
            self.error_event(error_event(&text));
            return;
        }
        if data == b"[DONE]" {
            self.done = true;
            return;
        }
        let Some(Value::Object(top)) = parse_json(&text) else {
            self.invalid += 1;
            return;
        };
        if let Some(error) = error_member(&top, &text) {
            self.errors.push(error);
            return;
        }
        // Reading: the event's type is its `event` field, or its data's `type` when it has none.
        let kind = if event_type == b"message" {
            top.get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        } else {
            String::from_utf8_lossy(event_type).into_owned()
        };
        if self.responses_event(&kind, &top, &text).is_err() {
            self.invalid += 1;
        } else {
            self.responses = true;
        }
    }

    /// The call of the current response with `item_id`, else with `output_index` (the most
    /// recent such), or a new call (Reading: a fragment or end of an unknown call starts one,
    /// with no id or name, rather than being dropped).
    fn find_call(&mut self, item_id: Option<&str>, output_index: Option<u64>) -> usize {
        let by_id = item_id.and_then(|id| {
            self.table
                .iter()
                .rev()
                .find(|e| e.item_id.as_deref() == Some(id))
        });
        let by_index = || {
            output_index.and_then(|oi| self.table.iter().rev().find(|e| e.output_index == Some(oi)))
        };
        if let Some(entry) = by_id.or_else(by_index) {
            return entry.call;
        }
        self.new_call(item_id, output_index)
    }

    fn new_call(&mut self, item_id: Option<&str>, output_index: Option<u64>) -> usize {
        self.choice();
        self.calls.push(Call::default());
        let call = self.calls.len() - 1;
        self.table.push(Entry {
            item_id: item_id.map(str::to_owned),
            output_index,
            call,
        });
        call
    }

    fn fill(&mut self, call: usize, whole: Option<String>) {
        let arguments = &mut self.calls[call].arguments;
        if arguments.is_empty() {
            arguments.push_str(whole.as_deref().unwrap_or(""));
        }
    }

    fn responses_event(
        &mut self,
        kind: &str,
        top: &Map<String, Value>,
        text: &str,
    ) -> Result<(), ()> {
        let item_id = top.get("item_id").and_then(Value::as_str);
        let output_index = lenient_u64(top, "output_index");
        match kind {
            "response.created" | "response.in_progress" => {
                let response = strict_object(top, "response")?;
                if kind == "response.created" {
                    self.table.clear();
                }
                if let Some(r) = response {
                    keep_first(&mut self.id, r.get("id").and_then(Value::as_str));
                    keep_first(&mut self.model, r.get("model").and_then(Value::as_str));
                }
                self.choice();
            }
            "response.output_text.delta" => {
                if let Some(delta) = strict_str(top, "delta")? {
                    let c = self.choice();
                    c.content.get_or_insert_with(String::new).push_str(&delta);
                }
            }
            "response.refusal.delta" => {
                if let Some(delta) = strict_str(top, "delta")? {
                    let c = self.choice();
                    c.refusal.get_or_insert_with(String::new).push_str(&delta);
                }
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                if let Some(delta) = strict_str(top, "delta")? {
                    let key = if kind == "response.reasoning_text.delta" {
                        (
                            ReasoningKind::Text,
                            item_id.map(str::to_owned),
                            lenient_u64(top, "content_index"),
                        )
                    } else {
                        (
                            ReasoningKind::Summary,
                            item_id.map(str::to_owned),
                            lenient_u64(top, "summary_index"),
                        )
                    };
                    // Reading: a part is a run of deltas with the same key; a key met again
                    // after another part is a new part.
                    if self.part.as_ref() != Some(&key) {
                        self.part = Some(key);
                        self.part_started = false;
                    }
                    let first_text = !delta.is_empty() && !self.part_started;
                    if first_text {
                        self.part_started = true;
                    }
                    let reasoning = self.choice().reasoning.get_or_insert_with(String::new);
                    if first_text && !reasoning.is_empty() {
                        reasoning.push_str("\n\n");
                    }
                    reasoning.push_str(&delta);
                }
            }
            "response.output_item.added" => {
                let Some(item) = strict_object(top, "item")? else {
                    return Ok(());
                };
                let item_type = item.get("type").and_then(Value::as_str);
                if matches!(item_type, Some("function_call" | "custom_tool_call")) {
                    let own_id = item.get("id").and_then(Value::as_str);
                    let call = self.new_call(own_id, output_index);
                    let c = &mut self.calls[call];
                    keep_first(&mut c.id, item.get("call_id").and_then(Value::as_str));
                    keep_first(&mut c.name, item.get("name").and_then(Value::as_str));
                }
            }
            "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta" => {
                if let Some(delta) = strict_str(top, "delta")? {
                    let call = self.find_call(item_id, output_index);
                    self.calls[call].arguments.push_str(&delta);
                }
            }
            "response.function_call_arguments.done" | "response.custom_tool_call_input.done" => {
                let field = if kind == "response.function_call_arguments.done" {
                    "arguments"
                } else {
                    "input"
                };
                let whole = strict_str(top, field)?;
                let call = self.find_call(item_id, output_index);
                self.fill(call, whole);
            }
            "response.output_item.done" => {
                let Some(item) = strict_object(top, "item")? else {
                    return Ok(());
                };
                let field = match item.get("type").and_then(Value::as_str) {
                    Some("function_call") => "arguments",
                    Some("custom_tool_call") => "input",
                    // Reading: every reasoning item is opaque reasoning to send back (its
                    // `id` for a stored response, its `encrypted_content` otherwise): the
                    // item as sent.
                    Some("reasoning") => {
                        let item = Value::Object(item.clone());
                        self.choice().details.push(item);
                        return Ok(());
                    }
                    _ => return Ok(()),
                };
                let whole = strict_str(item, field)?;
                let call = self.find_call(item.get("id").and_then(Value::as_str), output_index);
                let c = &mut self.calls[call];
                keep_first(&mut c.id, item.get("call_id").and_then(Value::as_str));
                keep_first(&mut c.name, item.get("name").and_then(Value::as_str));
                self.fill(call, whole);
            }
            "response.completed" | "response.incomplete" | "response.failed" => {
                let response = strict_object(top, "response")?;
                let error = match response {
                    Some(r) if kind == "response.failed" => strict_object(r, "error")?,
                    _ => None,
                };
                let usage = match response {
                    Some(r) => strict_object(r, "usage")?,
                    None => None,
                };
                let (reason, finish) = match kind {
                    "response.completed" if !self.calls.is_empty() => {
                        ("completed".to_owned(), "tool_calls")
                    }
                    "response.completed" => ("completed".to_owned(), "stop"),
                    "response.failed" => ("failed".to_owned(), "error"),
                    _ => {
                        // Reading: without a string `incomplete_details.reason`, the raw
                        // reason is `incomplete`.
                        let reason = response
                            .and_then(|r| r.get("incomplete_details"))
                            .and_then(Value::as_object)
                            .and_then(|d| lenient_str(d, "reason"))
                            .unwrap_or_else(|| "incomplete".to_owned());
                        let finish = match reason.as_str() {
                            "max_output_tokens" => "length",
                            "content_filter" => "content_filter",
                            _ => "other",
                        };
                        (reason, finish)
                    }
                };
                if let Some(e) = error {
                    let error = error_object(e, false, text);
                    let same = self.last_error.as_ref()
                        == Some(&(error.message.clone(), error.code.clone()));
                    if !same {
                        self.errors.push(error);
                    }
                }
                let c = self.choice();
                if !reason.is_empty() {
                    c.finish_reason = Some(reason);
                }
                c.finish = Some(finish);
                if let Some(u) = usage {
                    let input = lenient_u64(u, "input_tokens").unwrap_or(0);
                    let output = lenient_u64(u, "output_tokens").unwrap_or(0);
                    let detail = |outer: &str, inner: &str| {
                        u.get(outer)
                            .and_then(Value::as_object)
                            .and_then(|d| lenient_u64(d, inner))
                    };
                    self.usage = Some(json!({
                        "input_tokens": input,
                        "output_tokens": output,
                        "total_tokens": lenient_u64(u, "total_tokens").unwrap_or(input + output),
                        "cached_input_tokens": detail("input_tokens_details", "cached_tokens"),
                        "reasoning_tokens": detail("output_tokens_details", "reasoning_tokens"),
                    }));
                }
                self.done = true;
            }
            // Reading: data of type `error` sent without an `event: error` line is the
            // Responses API's error event all the same; the data object is the error object.
            "error" => self.error_event(error_object(top, true, text)),
            _ => {}
        }
        Ok(())
    }

    fn ending(&self) -> &'static str {
        let finished = self.choice.as_ref().is_some_and(|c| c.finish.is_some());
        ending_of(self.done, finished, !self.errors.is_empty())
    }

    fn to_json(&self) -> Value {
        let choices: Vec<Value> = self
            .choice
            .iter()
            .map(|c| {
                ChoiceJson {
                    index: 0,
                    role: Some("assistant"),
                    content: &c.content,
                    reasoning: &c.reasoning,
                    refusal: &c.refusal,
                    tool_calls: (0u64..)
                        .zip(&self.calls)
                        .map(|(i, t)| call_json(i, &t.id, &t.name, &t.arguments))
                        .collect(),
                    finish_reason: &c.finish_reason,
                    finish: c.finish,
                    details: &c.details,
                }
                .into_json()
            })
            .collect();
        MessageJson {
            dialect: if self.responses { "responses" } else { "chat" },
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

/// The message contract of a whole Responses API stream.
pub fn responses_message(input: &[u8]) -> Value {
    let mut message = Message::default();
    for outcome in outcomes(input) {
        match outcome {
            RefOutcome::Event { event_type, data } => message.event(&event_type, &data),
            RefOutcome::Error(error) => message.errors.push(error),
            RefOutcome::Ignored(_) | RefOutcome::Incomplete => {}
        }
    }
    message.to_json()
}
