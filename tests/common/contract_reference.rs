//! A slow, obviously correct reference for the message contract of `ssechunk message` (issue 10):
//! a whole SSE byte stream in, the contract's JSON value out.
//!
//! It is written from the written contract (framing by the WHATWG event-stream rules, the
//! decoding rules 1-5, the framing-level error rules 6-7 and the accumulation rules), on top of
//! `serde_json::Value`, and shares no code with the crate: it uses std and serde_json only (no
//! `ssechunk` import), so a test that includes it compiles against any version of the crate:
//! `#[path = "common/contract_reference.rs"] mod contract_reference;`.
//!
//! Each rule sits in one obvious place:
//! - [`outcomes`]: framing (BOM, CR/LF/CRLF line ends, comments, the four fields, blank-line
//!   dispatch, event type reset after dispatch), the ignored lines, rule 6 (`error:` lines) and
//!   rule 7 (a plain JSON error body at the end of the input);
//! - [`decode`]: rules 1-5 for one event;
//! - [`Accumulator`]: the accumulation rules, with choices and tool calls kept in creation order
//!   and sorted by index only when the message is written;
//! - [`reference_message`] / [`reference_event`]: the JSON forms the tests compare.
//!
//! Where the contract leaves a choice open, the choice made here is written at the place it
//! arises (search for "Reading:").
#![allow(dead_code)]

use std::collections::HashMap;

use serde_json::{Map, Value, json};

#[path = "json_text.rs"]
mod json_text;

#[allow(unused_imports)]
pub use json_text::{MAX_DEPTH, parse_json};

// ---------------------------------------------------------------------------------------------
// JSON helpers.

/// The member, with `null` meaning absent.
fn present<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.get(key).filter(|v| !v.is_null())
}

/// A lenient string: any other type counts as absent.
fn lenient_str(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A lenient count: anything but a u64 counts as absent.
fn lenient_u64(map: &Map<String, Value>, key: &str) -> Option<u64> {
    map.get(key).and_then(Value::as_u64)
}

/// A strict string: absent or null is `None`, another type is the shape error `field`.
fn strict_str(
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

// ---------------------------------------------------------------------------------------------
// One event's meaning (rules 1-5).

/// An error's contract fields (and `param`, which the message does not show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefError {
    pub message: Option<String>,
    pub kind: Option<String>,
    pub code: Option<RefCode>,
    pub param: Option<String>,
}

/// An error code: a string or an integer that fits an i64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefCode {
    Str(String),
    Int(i64),
}

/// Normalised usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RefUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
    pub cached_input_tokens: Option<u64>,
    pub reasoning_tokens: Option<u64>,
}

/// One element of `delta.tool_calls`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefFragment {
    pub index: Option<u64>,
    pub id: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub arguments: Option<String>,
}

/// One element of `choices`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefDelta {
    pub index: u64,
    pub role: Option<String>,
    pub content: Option<String>,
    pub reasoning: Option<String>,
    pub refusal: Option<String>,
    pub finish_reason: Option<String>,
    pub tool_calls: Vec<RefFragment>,
}

/// A chat chunk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefChunk {
    pub id: Option<String>,
    pub model: Option<String>,
    pub created: Option<u64>,
    pub system_fingerprint: Option<String>,
    pub choices: Vec<RefDelta>,
    pub usage: Option<RefUsage>,
}

/// Why an event's data is not a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefInvalid {
    NotJson,
    NotObject,
    UnexpectedShape(&'static str),
}

/// What one event means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Chunk(RefChunk),
    Done,
    Error(RefError),
    Invalid(RefInvalid),
}

/// Decodes one event by rules 1-5.
pub fn decode(event_type: &[u8], data: &[u8]) -> Decoded {
    // The SSE rules decode the stream as UTF-8 with replacement.
    let text = String::from_utf8_lossy(data);
    // Rule 1: an `error` event is an error whatever its data (even `[DONE]`).
    if event_type == b"error" {
        return Decoded::Error(error_from_text(&text));
    }
    // Rule 2.
    if data == b"[DONE]" {
        return Decoded::Done;
    }
    // Rule 4.
    let Some(value) = parse_json(&text) else {
        return Decoded::Invalid(RefInvalid::NotJson);
    };
    let Some(top) = value.as_object() else {
        return Decoded::Invalid(RefInvalid::NotObject);
    };
    // Rule 3.
    if let Some(error) = error_member(top, &text) {
        return Decoded::Error(error);
    }
    // Rule 5.
    match chunk(top) {
        Ok(chunk) => Decoded::Chunk(chunk),
        Err(field) => Decoded::Invalid(RefInvalid::UnexpectedShape(field)),
    }
}

/// Rule 3: the error of a data object whose `error` member is an object or a non-empty string;
/// `None` for any other `error` member (null, "", a number, ...), which leaves a chunk.
fn error_member(top: &Map<String, Value>, text: &str) -> Option<RefError> {
    match top.get("error") {
        Some(Value::Object(error)) => Some(error_object(error, false, text)),
        Some(Value::String(message)) if !message.is_empty() => Some(string_error(message, top)),
        // An object that says it is an error (`"object": "error"` or `"type": "error"`) is
        // its own error object.
        _ if says_error(top) => Some(error_object(top, true, text)),
        _ => None,
    }
}

/// Whether the object's `object` or `type` member is the string `"error"`.
fn says_error(top: &Map<String, Value>) -> bool {
    ["object", "type"]
        .iter()
        .any(|key| top.get(*key).and_then(Value::as_str) == Some("error"))
}

/// The string-`error` shape (TGI) in data (rule 3) or in a body (rule 7): message = the
/// string, type = `error_type`, code = null.
fn string_error(message: &str, top: &Map<String, Value>) -> RefError {
    RefError {
        message: Some(message.to_owned()),
        kind: lenient_str(top, "error_type"),
        code: None,
        param: None,
    }
}

/// The fields of an error object; `is_data` when the object is the event's data object itself
/// (where a `type` of `"error"` is the envelope's, never the error's type); `text` is the
/// whole data text, the message of last resort.
fn error_object(error: &Map<String, Value>, is_data: bool, text: &str) -> RefError {
    let message = lenient_str(error, "message")
        .or_else(|| lenient_str(error, "detail"))
        .or_else(|| lenient_str(error, "details"))
        .unwrap_or_else(|| text.to_owned());
    // Reading: a top-level `"type": "error"` counts as no type, so `status` is looked at next.
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

/// Rule 1 (and rule 6, on an `error:` line's value): the error of a whole data text.
fn error_from_text(text: &str) -> RefError {
    match parse_json(text) {
        Some(Value::Object(top)) => match top.get("error") {
            Some(Value::Object(error)) => error_object(error, false, text),
            // Reading: under rule 1 the error object of this shape is the data object itself,
            // so its `code` and `param` count; only the message (the string) and the type
            // (`error_type`, else null) are the shape's own.
            Some(Value::String(message)) if !message.is_empty() => RefError {
                code: error_object(&top, true, text).code,
                param: lenient_str(&top, "param"),
                ..string_error(message, &top)
            },
            _ => error_object(&top, true, text),
        },
        // Not JSON, or not an object: no error object, the message is the whole text.
        _ => RefError {
            message: Some(text.to_owned()),
            kind: None,
            code: None,
            param: None,
        },
    }
}

/// Rule 5: a chunk, or the name of the first field (in the order the rules list them) whose
/// shape the decoder does not know.
fn chunk(top: &Map<String, Value>) -> Result<RefChunk, &'static str> {
    let choices = match present(top, "choices") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_object().ok_or("choices").and_then(choice))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("choices"),
    };
    let usage = match present(top, "usage") {
        Some(Value::Object(u)) => Some(usage(u)),
        Some(_) => return Err("usage"),
        // `x_groq.usage` only when `usage` is absent or null, and only when `x_groq` is an
        // object; its `usage` follows the same shape rule.
        None => match top.get("x_groq") {
            Some(Value::Object(x)) => match present(x, "usage") {
                Some(Value::Object(u)) => Some(usage(u)),
                Some(_) => return Err("usage"),
                None => None,
            },
            _ => None,
        },
    };
    Ok(RefChunk {
        id: lenient_str(top, "id"),
        model: lenient_str(top, "model"),
        created: lenient_u64(top, "created"),
        system_fingerprint: lenient_str(top, "system_fingerprint"),
        choices,
        usage,
    })
}

fn usage(u: &Map<String, Value>) -> RefUsage {
    let detail = |key: &str, count: &str| {
        u.get(key)
            .and_then(Value::as_object)
            .and_then(|d| lenient_u64(d, count))
    };
    RefUsage {
        input_tokens: lenient_u64(u, "prompt_tokens").unwrap_or(0),
        output_tokens: lenient_u64(u, "completion_tokens").unwrap_or(0),
        total_tokens: lenient_u64(u, "total_tokens").unwrap_or(0),
        cached_input_tokens: detail("prompt_tokens_details", "cached_tokens"),
        reasoning_tokens: detail("completion_tokens_details", "reasoning_tokens"),
    }
}

fn choice(c: &Map<String, Value>) -> Result<RefDelta, &'static str> {
    let index = match present(c, "index") {
        None => 0,
        Some(v) => v.as_u64().ok_or("index")?,
    };
    let finish_reason = strict_str(c, "finish_reason", "finish_reason")?;
    let mut out = RefDelta {
        index,
        finish_reason,
        ..RefDelta::default()
    };
    let delta = match present(c, "delta") {
        None => return Ok(out),
        Some(Value::Object(d)) => d,
        Some(_) => return Err("delta"),
    };
    out.role = lenient_str(delta, "role");
    let (content, thinking) = match present(delta, "content") {
        None => (None, None),
        Some(Value::String(s)) => (Some(s.clone()), None),
        Some(Value::Array(parts)) => content_parts(parts)?,
        Some(_) => return Err("content"),
    };
    out.content = content;
    let reasoning_content = strict_str(delta, "reasoning_content", "reasoning_content")?;
    let reasoning = strict_str(delta, "reasoning", "reasoning")?;
    out.refusal = strict_str(delta, "refusal", "refusal")?;
    let base = if reasoning_content.as_deref() == Some("") && reasoning.is_some() {
        reasoning
    } else {
        reasoning_content.or(reasoning)
    };
    out.reasoning = match (base, thinking) {
        (base, None) => base,
        (base, Some(thinking)) => Some(base.unwrap_or_default() + &thinking),
    };
    out.tool_calls = match present(delta, "tool_calls") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_object().ok_or("tool_calls").and_then(fragment))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("tool_calls"),
    };
    Ok(out)
}

/// The content and the thinking text of a content-part array.
///
/// Reading: content is `Some` when at least one `text` part came (so an empty array, or one
/// of thinking parts only, gives no content), and the thinking text is `Some` when at least one
/// `thinking` part came (even one whose `thinking` is an empty array).
type Parts = (Option<String>, Option<String>);

fn content_parts(parts: &[Value]) -> Result<Parts, &'static str> {
    let (mut content, mut thinking): Parts = (None, None);
    for part in parts {
        let part = part.as_object().ok_or("content")?;
        match part.get("type").and_then(Value::as_str) {
            Some("text") => {
                let text = part.get("text").and_then(Value::as_str).ok_or("content")?;
                content.get_or_insert_with(String::new).push_str(text);
            }
            Some("thinking") => {
                let out = thinking.get_or_insert_with(String::new);
                match part.get("thinking") {
                    Some(Value::String(s)) => out.push_str(s),
                    Some(Value::Array(inner)) => {
                        for text_part in inner {
                            out.push_str(text_of_text_part(text_part).ok_or("content")?);
                        }
                    }
                    _ => return Err("content"),
                }
            }
            _ => return Err("content"),
        }
    }
    Ok((content, thinking))
}

/// The text of `{"type":"text","text":S}`.
fn text_of_text_part(part: &Value) -> Option<&str> {
    let part = part.as_object()?;
    (part.get("type")?.as_str()? == "text")
        .then(|| part.get("text")?.as_str())
        .flatten()
}

fn fragment(t: &Map<String, Value>) -> Result<RefFragment, &'static str> {
    let index = match present(t, "index") {
        None => None,
        Some(v) => Some(v.as_u64().ok_or("index")?),
    };
    let id = strict_str(t, "id", "id")?;
    let kind = lenient_str(t, "type");
    let (name, arguments) = match present(t, "function") {
        None => (None, None),
        Some(Value::Object(f)) => {
            let name = strict_str(f, "name", "name")?;
            let arguments = match present(f, "arguments") {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                // Its JSON text (compact, keys sorted: compare it as JSON).
                Some(v @ (Value::Object(_) | Value::Array(_))) => Some(v.to_string()),
                Some(_) => return Err("arguments"),
            };
            (name, arguments)
        }
        Some(_) => return Err("function"),
    };
    Ok(RefFragment {
        index,
        id,
        kind,
        name,
        arguments,
    })
}

/// The normalised finish reason of a raw one (`Finish::from_chat`).
pub fn finish_from_chat(raw: &str) -> &'static str {
    match raw {
        "stop" => "stop",
        "length" => "length",
        "tool_calls" | "function_call" => "tool_calls",
        "content_filter" => "content_filter",
        "error" => "error",
        _ => "other",
    }
}

// ---------------------------------------------------------------------------------------------
// Framing (WHATWG rules) with the ignored lines, and rules 6 and 7.

/// What the framing layer yields, owned. Comments are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefOutcome {
    /// A dispatched event (type `message` when none was given).
    Event { event_type: Vec<u8>, data: Vec<u8> },
    /// An API error found outside an event (rules 6 and 7).
    Error(RefError),
    /// A terminated line the SSE rules ignore (raw, without its line end), other than an
    /// `error:` line taken by rule 6.
    Ignored(Vec<u8>),
    /// The stream ended inside an event (pending data, or an unterminated last line).
    Incomplete,
}

/// Cuts the input into its terminated lines and the unterminated rest: a line ends at CRLF,
/// at LF, or at a CR not followed by LF.
fn split_lines(input: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut lines = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < input.len() {
        match input[i] {
            b'\n' => {
                lines.push(&input[start..i]);
                i += 1;
                start = i;
            }
            b'\r' => {
                lines.push(&input[start..i]);
                i += 1;
                if input.get(i) == Some(&b'\n') {
                    i += 1;
                }
                start = i;
            }
            _ => i += 1,
        }
    }
    (lines, &input[start..])
}

/// A non-comment line's field name and value (one optional space after the colon removed); a
/// line without a colon is a field name alone.
fn field(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|&b| b == b':') {
        Some(colon) => {
            let value = &line[colon + 1..];
            (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
        }
        None => (line, &[]),
    }
}

/// Whether the SSE rules ignore a non-empty, non-comment line: a field name other than
/// data/event/id/retry, an `id` containing NUL, or a `retry` that is not all ASCII digits
/// (Reading: an empty `retry` value is not all digits, as the framing reference has it).
fn is_ignored(line: &[u8]) -> bool {
    let (name, value) = field(line);
    match name {
        b"data" | b"event" => false,
        b"id" => value.contains(&0),
        b"retry" => value.is_empty() || !value.iter().all(u8::is_ascii_digit),
        _ => true,
    }
}

/// Rule 6: the error of an `error:` line, when its value is a JSON object.
fn error_line(line: &[u8]) -> Option<RefError> {
    let (name, value) = field(line);
    if name != b"error" {
        return None;
    }
    let text = String::from_utf8_lossy(value);
    matches!(parse_json(&text), Some(Value::Object(_))).then(|| error_from_text(&text))
}

/// Rule 7: the error of a plain JSON error body (the joined text), when it is one JSON object
/// whose `error` member is an object or a non-empty string, or that says it is an error.
fn error_body(text: &str) -> Option<RefError> {
    match parse_json(text)? {
        Value::Object(top) => error_member(&top, text),
        _ => None,
    }
}

/// Every outcome of a whole stream, in order (comments left out).
pub fn outcomes(input: &[u8]) -> Vec<RefOutcome> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let (lines, rest) = split_lines(input);
    let mut out = Vec::new();
    // Every data value followed by LF, as the rules hold it: empty means no data line came.
    let mut data: Vec<u8> = Vec::new();
    let mut event_type: Vec<u8> = Vec::new();
    // The ignored lines since the last dispatched event (rule 7).
    let mut body: Vec<&[u8]> = Vec::new();
    for line in lines {
        if line.is_empty() {
            if !data.is_empty() {
                data.pop();
                out.push(RefOutcome::Event {
                    event_type: if event_type.is_empty() {
                        b"message".to_vec()
                    } else {
                        event_type.clone()
                    },
                    data: std::mem::take(&mut data),
                });
                body.clear();
            }
            data.clear();
            event_type.clear();
            continue;
        }
        if line[0] == b':' {
            continue;
        }
        if is_ignored(line) {
            if let Some(error) = error_line(line) {
                out.push(RefOutcome::Error(error));
            } else {
                out.push(RefOutcome::Ignored(line.to_vec()));
                body.push(line);
            }
            continue;
        }
        let (name, value) = field(line);
        match name {
            b"data" => {
                data.extend_from_slice(value);
                data.push(b'\n');
            }
            b"event" => event_type = value.to_vec(),
            // `id` and `retry` change the stream's state only, which the contract does not show.
            _ => {}
        }
    }
    if !data.is_empty() || !rest.is_empty() {
        out.push(RefOutcome::Incomplete);
    }
    // Rule 7, at the end of the input (after the stream's `Incomplete`, if any).
    if !rest.is_empty() && rest[0] != b':' && is_ignored(rest) {
        body.push(rest);
    }
    if !body.is_empty() {
        let joined = body.join(&b"\n"[..]);
        if let Some(error) = error_body(&String::from_utf8_lossy(&joined)) {
            out.push(RefOutcome::Error(error));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Accumulation.

/// One assembled tool call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefCall {
    pub index: u64,
    pub id: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub arguments: String,
}

/// One assembled choice, its tool calls in creation order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefChoice {
    pub index: u64,
    pub role: Option<String>,
    pub content: Option<String>,
    pub reasoning: Option<String>,
    pub refusal: Option<String>,
    pub finish_reason: Option<String>,
    pub calls: Vec<RefCall>,
    /// Where the call with each index sits in `calls` (the first one with that index).
    positions: HashMap<u64, usize>,
}

/// Assembles decoded events and errors into the contract's message.
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    pub id: Option<String>,
    pub model: Option<String>,
    /// In order of first appearance.
    pub choices: Vec<RefChoice>,
    positions: HashMap<u64, usize>,
    pub usage: Option<RefUsage>,
    pub errors: Vec<RefError>,
    pub invalid: u64,
    pub done: bool,
}

/// Keeps the first non-empty value.
fn keep_first(target: &mut Option<String>, value: &Option<String>) {
    if target.is_none()
        && let Some(v) = value.as_ref().filter(|v| !v.is_empty())
    {
        *target = Some(v.clone());
    }
}

/// Concatenates; the target becomes `Some` as soon as any piece (even "") arrives.
fn concat(target: &mut Option<String>, piece: &Option<String>) {
    if let Some(piece) = piece {
        target.get_or_insert_with(String::new).push_str(piece);
    }
}

impl Accumulator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push_outcome(&mut self, outcome: &RefOutcome) {
        match outcome {
            RefOutcome::Event { event_type, data } => self.push(&decode(event_type, data)),
            RefOutcome::Error(error) => self.errors.push(error.clone()),
            RefOutcome::Ignored(_) | RefOutcome::Incomplete => {}
        }
    }

    pub fn push(&mut self, decoded: &Decoded) {
        match decoded {
            Decoded::Chunk(chunk) => self.push_chunk(chunk),
            Decoded::Done => self.done = true,
            Decoded::Error(error) => self.errors.push(error.clone()),
            Decoded::Invalid(_) => self.invalid += 1,
        }
    }

    pub fn push_chunk(&mut self, chunk: &RefChunk) {
        keep_first(&mut self.id, &chunk.id);
        keep_first(&mut self.model, &chunk.model);
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        for delta in &chunk.choices {
            let at = *self.positions.entry(delta.index).or_insert_with(|| {
                self.choices.push(RefChoice {
                    index: delta.index,
                    ..RefChoice::default()
                });
                self.choices.len() - 1
            });
            let choice = &mut self.choices[at];
            keep_first(&mut choice.role, &delta.role);
            concat(&mut choice.content, &delta.content);
            concat(&mut choice.reasoning, &delta.reasoning);
            concat(&mut choice.refusal, &delta.refusal);
            if let Some(reason) = delta.finish_reason.as_ref().filter(|r| !r.is_empty()) {
                choice.finish_reason = Some(reason.clone());
            }
            for fragment in &delta.tool_calls {
                let at = choice.call_for(fragment);
                let call = &mut choice.calls[at];
                keep_first(&mut call.id, &fragment.id);
                keep_first(&mut call.kind, &fragment.kind);
                keep_first(&mut call.name, &fragment.name);
                call.arguments
                    .push_str(fragment.arguments.as_deref().unwrap_or(""));
            }
        }
    }

    /// `done`, else `finished`, else `error`, else `truncated`.
    pub fn ending(&self) -> &'static str {
        let finished = self.choices.iter().any(|c| c.finish_reason.is_some());
        ending_of(self.done, finished, !self.errors.is_empty())
    }

    /// The contract's JSON value, choices and tool calls sorted by index.
    pub fn message(&self) -> Value {
        let mut choices: Vec<&RefChoice> = self.choices.iter().collect();
        choices.sort_by_key(|c| c.index);
        let choices: Vec<Value> = choices
            .into_iter()
            .map(|c| {
                let mut calls: Vec<&RefCall> = c.calls.iter().collect();
                calls.sort_by_key(|t| t.index);
                ChoiceJson {
                    index: c.index,
                    role: c.role.as_deref(),
                    content: &c.content,
                    reasoning: &c.reasoning,
                    refusal: &c.refusal,
                    tool_calls: calls
                        .into_iter()
                        .map(|t| call_json(t.index, &t.id, &t.name, &t.arguments))
                        .collect(),
                    finish_reason: &c.finish_reason,
                    finish: c.finish_reason.as_deref().map(finish_from_chat),
                    details: &[],
                }
                .into_json()
            })
            .collect();
        MessageJson {
            dialect: "chat",
            id: &self.id,
            model: &self.model,
            choices,
            usage: self.usage.map(usage_json),
            errors: &self.errors,
            invalid: self.invalid,
            ending: self.ending(),
        }
        .into_json()
    }
}

impl RefChoice {
    /// Where a tool-call fragment goes: the call with its index, or, without an index, the
    /// most recently created call, unless there is none or the fragment's non-empty id differs
    /// from that call's non-empty id: then a new call, numbered by the count of calls before it.
    ///
    /// Reading: when that number is already the index of another call, a second call with the
    /// same index is made (indexed fragments keep going to the first); the contract does not
    /// say, and the tests do not rely on it.
    fn call_for(&mut self, fragment: &RefFragment) -> usize {
        let index = match fragment.index {
            Some(index) => index,
            None => {
                let starts_new = match self.calls.last() {
                    None => true,
                    Some(last) => matches!(
                        (fragment.id.as_deref(), last.id.as_deref()),
                        (Some(new), Some(old)) if !new.is_empty() && !old.is_empty() && new != old
                    ),
                };
                if !starts_new {
                    return self.calls.len() - 1;
                }
                let index = self.calls.len() as u64;
                self.calls.push(RefCall {
                    index,
                    ..RefCall::default()
                });
                let at = self.calls.len() - 1;
                self.positions.entry(index).or_insert(at);
                return at;
            }
        };
        *self.positions.entry(index).or_insert_with(|| {
            self.calls.push(RefCall {
                index,
                ..RefCall::default()
            });
            self.calls.len() - 1
        })
    }
}

pub fn usage_json(u: RefUsage) -> Value {
    json!({
        "input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
        "total_tokens": u.total_tokens, "cached_input_tokens": u.cached_input_tokens,
        "reasoning_tokens": u.reasoning_tokens,
    })
}

pub fn code_json(code: &RefCode) -> Value {
    match code {
        RefCode::Str(s) => json!(s),
        RefCode::Int(i) => json!(i),
    }
}

// ---------------------------------------------------------------------------------------------
// The JSON forms the tests compare.

/// The `ssechunk message` contract for a whole stream.
pub fn reference_message(input: &[u8]) -> Value {
    let mut acc = Accumulator::new();
    for outcome in outcomes(input) {
        acc.push_outcome(&outcome);
    }
    acc.message()
}

/// One event's decoded meaning in a simple JSON form:
/// - `{"kind":"done"}`
/// - `{"kind":"error","message":S|null,"type":S|null,"code":S|N|null,"param":S|null}`
/// - `{"kind":"invalid","reason":"not_json"|"not_object"|"unexpected_shape","field":S|null}`
/// - `{"kind":"chunk","id","model","created","system_fingerprint","usage":{...}|null,
///   "choices":[{"index","role","content","reasoning","refusal","finish_reason","finish",
///   "tool_calls":[{"index":N|null,"id","type","name","arguments":S|null}]}]}` (choices and
///   tool calls in wire order)
pub fn reference_event(event_type: &str, data: &[u8]) -> Value {
    decoded_json(&decode(event_type.as_bytes(), data))
}

pub fn error_json(e: &RefError) -> Value {
    json!({
        "kind": "error", "message": e.message, "type": e.kind,
        "code": e.code.as_ref().map(code_json), "param": e.param,
    })
}

pub fn invalid_json(reason: &str, field: Option<&str>) -> Value {
    json!({"kind": "invalid", "reason": reason, "field": field})
}

pub fn decoded_json(decoded: &Decoded) -> Value {
    match decoded {
        Decoded::Done => json!({"kind": "done"}),
        Decoded::Error(e) => error_json(e),
        Decoded::Invalid(RefInvalid::NotJson) => invalid_json("not_json", None),
        Decoded::Invalid(RefInvalid::NotObject) => invalid_json("not_object", None),
        Decoded::Invalid(RefInvalid::UnexpectedShape(field)) => {
            invalid_json("unexpected_shape", Some(field))
        }
        Decoded::Chunk(c) => json!({
            "kind": "chunk", "id": c.id, "model": c.model, "created": c.created,
            "system_fingerprint": c.system_fingerprint, "usage": c.usage.map(usage_json),
            "choices": c.choices.iter().map(|d| json!({
                "index": d.index, "role": d.role, "content": d.content,
                "reasoning": d.reasoning, "refusal": d.refusal,
                "finish_reason": d.finish_reason,
                "finish": d.finish_reason.as_deref().filter(|r| !r.is_empty()).map(finish_from_chat),
                "tool_calls": d.tool_calls.iter().map(|t| json!({
                    "index": t.index, "id": t.id, "type": t.kind, "name": t.name,
                    "arguments": t.arguments,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }),
    }
}

/// The reference outcomes as JSON, for comparing sequences: events as
/// `{"outcome":"event","event":TYPE,"data":TEXT,"payload":reference_event}`, errors as
/// `{"outcome":"error", ...error fields}`, `{"outcome":"ignored","line":TEXT}`,
/// `{"outcome":"incomplete"}` (texts decoded lossily).
pub fn outcome_json(outcome: &RefOutcome) -> Value {
    match outcome {
        RefOutcome::Event { event_type, data } => json!({
            "outcome": "event",
            "event": String::from_utf8_lossy(event_type),
            "data": String::from_utf8_lossy(data),
            "payload": decoded_json(&decode(event_type, data)),
        }),
        RefOutcome::Error(e) => {
            let mut v = error_json(e);
            v["outcome"] = json!("error");
            v.as_object_mut().expect("an object").remove("kind");
            v
        }
        RefOutcome::Ignored(line) => {
            json!({"outcome": "ignored", "line": String::from_utf8_lossy(line)})
        }
        RefOutcome::Incomplete => json!({"outcome": "incomplete"}),
    }
}

// ---------------------------------------------------------------------------------------------
// Comparing messages.

/// A value (a message, an event, a list of outcomes) with every string member named
/// `arguments` replaced by `{"json": VALUE}` when it parses, else by `{"text": S}` with the
/// whitespace outside JSON strings removed: arguments built from JSON values compare as JSON
/// ("spacing is free"), even once cut into fragments that do not parse on their own. A
/// `reasoning_details` string (a JSON array's text) compares as JSON the same way.
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, v)| {
                    let v = match (key.as_str(), v) {
                        ("arguments", Value::String(text)) => match parse_json(text) {
                            Some(parsed) => json!({ "json": parsed }),
                            None => json!({ "text": strip_json_space(text) }),
                        },
                        // JSON text too, always whole: compared as JSON.
                        ("reasoning_details", Value::String(text)) => match parse_json(text) {
                            Some(parsed) => json!({ "json": parsed }),
                            None => json!({ "text": text }),
                        },
                        _ => canonical(v),
                    };
                    (key.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The text without the JSON whitespace (space, tab, CR, LF) that stands outside strings.
fn strip_json_space(text: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
    for ch in text.chars() {
        if in_string {
            match ch {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if ch == '"' {
            in_string = true;
        } else if matches!(ch, ' ' | '\t' | '\r' | '\n') {
            continue;
        }
        out.push(ch);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The message contract's JSON, written the same way by every dialect's reference.

/// The message's `ending`: the terminal marker, else a finish reason, else an error, else
/// truncated.
pub fn ending_of(done: bool, finished: bool, errored: bool) -> &'static str {
    if done {
        "done"
    } else if finished {
        "finished"
    } else if errored {
        "error"
    } else {
        "truncated"
    }
}

/// A tool call: `{"index","id","name","arguments","complete"}`, complete when the arguments
/// parse as one JSON value.
pub fn call_json(index: u64, id: &Option<String>, name: &Option<String>, arguments: &str) -> Value {
    json!({
        "index": index, "id": id, "name": name, "arguments": arguments,
        "complete": parse_json(arguments).is_some(),
    })
}

/// A choice of the message contract.
pub struct ChoiceJson<'a> {
    pub index: u64,
    pub role: Option<&'a str>,
    pub content: &'a Option<String>,
    pub reasoning: &'a Option<String>,
    pub refusal: &'a Option<String>,
    pub tool_calls: Vec<Value>,
    pub finish_reason: &'a Option<String>,
    pub finish: Option<&'a str>,
    /// The opaque reasoning elements, in order (`reasoning_details` when there are any).
    pub details: &'a [Value],
}

impl ChoiceJson<'_> {
    pub fn into_json(self) -> Value {
        let mut choice = json!({
            "index": self.index, "role": self.role, "content": self.content,
            "reasoning": self.reasoning, "refusal": self.refusal, "tool_calls": self.tool_calls,
            "finish_reason": self.finish_reason, "finish": self.finish,
        });
        with_details(&mut choice, self.details);
        choice
    }
}

/// The whole message: `{"dialect","id","model","choices","usage","errors","invalid","ending"}`.
pub struct MessageJson<'a> {
    pub dialect: &'a str,
    pub id: &'a Option<String>,
    pub model: &'a Option<String>,
    pub choices: Vec<Value>,
    pub usage: Option<Value>,
    pub errors: &'a [RefError],
    pub invalid: u64,
    pub ending: &'a str,
}

impl MessageJson<'_> {
    pub fn into_json(self) -> Value {
        json!({
            "dialect": self.dialect,
            "id": self.id,
            "model": self.model,
            "choices": self.choices,
            "usage": self.usage,
            "errors": self.errors.iter().map(|e| json!({
                "message": e.message, "type": e.kind, "code": e.code.as_ref().map(code_json),
            })).collect::<Vec<_>>(),
            "invalid": self.invalid,
            "ending": self.ending,
        })
    }
}

/// Adds `reasoning_details` to a choice of the dialect references, the JSON text of the array of `details`, when there
/// is one (as the contract writes it: the key only when present).
pub fn with_details(choice: &mut Value, details: &[Value]) {
    if !details.is_empty() {
        let text = serde_json::to_string(details).expect("JSON values");
        choice["reasoning_details"] = Value::String(text);
    }
}

/// Asserts two contract messages are equal (arguments compared as JSON when both parse).
#[track_caller]
pub fn assert_same_message(actual: &Value, expected: &Value, what: &str) {
    assert_eq!(
        canonical(actual),
        canonical(expected),
        "{what}: the messages differ\n  actual:   {actual}\n  expected: {expected}"
    );
}
