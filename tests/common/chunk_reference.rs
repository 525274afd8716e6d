//! A slow, obviously correct reference for chunk decoding and accumulation.
//!
//! It is written from the decoding contract alone, on top of `serde_json::Value`, and shares no
//! code with `src/chunk.rs` or `src/accumulate.rs`: the two are compared through owned twins
//! ([`RefPayload`], [`RefMessage`]) built from the crate's public accessors.
//!
//! It needs std and serde_json only (with serde_json's `unbounded_depth` feature), besides the
//! crate itself (and `rng.rs` and `corpus.rs` beside it, which it includes by path), so that a fuzz crate can
//! include it with `#[path]` as the test files do:
//! `#[path = "common/chunk_reference.rs"] mod chunk_reference;`.
//!
//! Three places where `serde_json::Value` alone does not say what the contract says, each
//! handled where it arises: the number `-0` is the integer zero ([`integer_zero`]); nesting is
//! limited to [`MAX_DEPTH`] levels, above serde_json's own 128; and float error codes compare
//! within one unit in the last place ([`RefCode`]).
//!
//! Each test file uses a different part of it.
#![allow(dead_code)]

// The generator lives in its own std-only file, shared with `tests/common/mod.rs` and the
// fuzz targets; it is included by path so that this file stays includable by path too.
#[path = "corpus.rs"]
mod corpus;
#[path = "json_text.rs"]
mod json_text;
#[path = "rng.rs"]
mod rng;

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Map, Value};
use ssechunk::{
    Accumulator, ApiError, ChunkDecoder, ChunkStream, ChunkView, DecodePath, Ending, Error,
    ErrorCode, InvalidData, Outcome, OwnedErrorCode, Payload,
};

// Not every includer uses them (the fuzz targets and some test files do not).
#[allow(unused_imports)]
pub use corpus::{corpus_dir, files_ending};
#[allow(unused_imports)]
pub use json_text::{MAX_DEPTH, integer_zero, nesting_depth, parse_json};
#[allow(unused_imports)]
pub use rng::Rng;

/// What one event's data holds, owned and comparable.
#[derive(Debug, Clone, PartialEq)]
pub enum RefPayload {
    Chunk(RefChunk),
    Done,
    ApiError(RefError),
    Invalid(RefInvalid),
    /// An event of another dialect than Chat Completions, by its dialect's name: this
    /// reference is of chat chunks only (each dialect's own reference is in
    /// `tests/common/<dialect>_reference.rs`).
    Parts(&'static str),
}

/// Why data is not a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefInvalid {
    NotJson,
    NotObject,
    /// A field the decoder reads has a shape it does not know.
    UnexpectedShape(&'static str),
}

/// A chat-completion chunk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefChunk {
    pub id: Option<String>,
    pub model: Option<String>,
    pub created: Option<u64>,
    pub system_fingerprint: Option<String>,
    pub choices: Vec<RefChoice>,
    pub usage: Option<RefUsage>,
}

/// One element of `choices`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefChoice {
    pub index: u64,
    pub role: Option<String>,
    pub content: Option<String>,
    pub reasoning: Option<String>,
    pub refusal: Option<String>,
    /// `delta.reasoning_details`: the array (compared as JSON).
    pub reasoning_details: Option<Value>,
    pub finish_reason: Option<String>,
    pub tool_calls: Vec<RefToolCall>,
}

/// One element of `delta.tool_calls`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefToolCall {
    pub index: Option<u64>,
    pub id: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub arguments: Option<RefArgs>,
}

/// A tool call's `function.arguments`: a string, or a JSON value whose JSON text the crate
/// gives (compared as JSON: spacing and key order are free).
#[derive(Debug, Clone)]
pub enum RefArgs {
    Text(String),
    Json(Value),
}

impl PartialEq for RefArgs {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (RefArgs::Text(a), RefArgs::Text(b)) => a == b,
            (RefArgs::Json(a), RefArgs::Json(b)) => a == b,
            (RefArgs::Json(v), RefArgs::Text(t)) | (RefArgs::Text(t), RefArgs::Json(v)) => {
                parse_json(t).as_ref() == Some(v)
            }
        }
    }
}

/// Token counts, normalised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
    pub cached_input_tokens: Option<u64>,
    pub reasoning_tokens: Option<u64>,
}

/// An API error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefError {
    pub message: Option<String>,
    pub kind: Option<String>,
    pub code: Option<RefCode>,
    pub param: Option<String>,
}

/// `error.code`: a string or an integer that fits `i64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefCode {
    Str(String),
    Int(i64),
}

// ---------------------------------------------------------------------------------------------
// The reference decoder.

/// Decodes one event's data by the contract, for an event of the default type.
pub fn reference(data: &[u8]) -> RefPayload {
    reference_event(b"message", data)
}

/// Decodes one event by the contract: an `error` event is an error whatever its data.
pub fn reference_event(event_type: &[u8], data: &[u8]) -> RefPayload {
    // Invalid UTF-8 becomes U+FFFD before the JSON is looked at, as the SSE rules decode text.
    let text = String::from_utf8_lossy(data);
    if event_type == b"error" {
        let value = parse_json(&text);
        return RefPayload::ApiError(match value.as_ref().and_then(Value::as_object) {
            Some(top) => error_of(top, &text).unwrap_or_else(|flat| flat),
            None => RefError {
                message: Some(text.into_owned()),
                ..RefError::default()
            },
        });
    }
    if data == b"[DONE]" {
        return RefPayload::Done;
    }
    match parse_json(&text) {
        Some(value) => reference_value(&value, &text),
        None => RefPayload::Invalid(RefInvalid::NotJson),
    }
}

/// The error a JSON object holds: `Ok` when its `error` is an object or a non-empty string,
/// else `Err` with the object itself read as a flat error object.
pub fn error_of(top: &Map<String, Value>, text: &str) -> Result<RefError, RefError> {
    match top.get("error") {
        Some(Value::Object(error)) => Ok(error_object(error, text, false)),
        Some(Value::String(message)) if !message.is_empty() => Ok(RefError {
            message: Some(message.clone()),
            kind: string(top, "error_type"),
            ..RefError::default()
        }),
        // An object that says it is an error is its own error object.
        _ if ["object", "type"]
            .iter()
            .any(|key| top.get(*key).and_then(Value::as_str) == Some("error")) =>
        {
            Ok(error_object(top, text, true))
        }
        _ => Err(error_object(top, text, true)),
    }
}

fn error_object(error: &Map<String, Value>, text: &str, top: bool) -> RefError {
    let kind = string(error, "type").filter(|k| !(top && k == "error"));
    RefError {
        message: string(error, "message")
            .or_else(|| string(error, "detail"))
            .or_else(|| string(error, "details"))
            .or_else(|| Some(text.to_owned())),
        kind: kind.or_else(|| string(error, "status")),
        code: match error.get("code") {
            Some(Value::String(s)) => Some(RefCode::Str(s.clone())),
            Some(Value::Number(n)) => n.as_i64().map(RefCode::Int),
            _ => None,
        },
        param: string(error, "param"),
    }
}

/// Decodes an already parsed document by the contract; `text` is the data as text.
pub fn reference_value(value: &Value, text: &str) -> RefPayload {
    let Some(top) = value.as_object() else {
        return RefPayload::Invalid(RefInvalid::NotObject);
    };
    if let Ok(error) = error_of(top, text) {
        return RefPayload::ApiError(error);
    }
    match chunk(top) {
        Ok(chunk) => RefPayload::Chunk(chunk),
        Err(field) => RefPayload::Invalid(RefInvalid::UnexpectedShape(field)),
    }
}

/// A field of a shape the contract does not take, by name.
type Shape<T> = Result<T, &'static str>;

fn chunk(top: &Map<String, Value>) -> Shape<RefChunk> {
    let mut usage = usage(top.get("usage"))?;
    if usage.is_none()
        && let Some(groq) = object(top, "x_groq")
    {
        usage = self::usage(groq.get("usage"))?;
    }
    let mut choices = Vec::new();
    for c in elements(top.get("choices"), "choices")? {
        choices.push(choice(c.as_object().ok_or("choices")?)?);
    }
    Ok(RefChunk {
        id: string(top, "id"),
        model: string(top, "model"),
        created: count(top, "created"),
        system_fingerprint: string(top, "system_fingerprint"),
        choices,
        usage,
    })
}

fn usage(value: Option<&Value>) -> Shape<Option<RefUsage>> {
    let Some(u) = strict_object(value, "usage")? else {
        return Ok(None);
    };
    Ok(Some(RefUsage {
        input_tokens: count(u, "prompt_tokens").unwrap_or(0),
        output_tokens: count(u, "completion_tokens").unwrap_or(0),
        total_tokens: count(u, "total_tokens").unwrap_or(0),
        cached_input_tokens: object(u, "prompt_tokens_details")
            .and_then(|d| count(d, "cached_tokens")),
        reasoning_tokens: object(u, "completion_tokens_details")
            .and_then(|d| count(d, "reasoning_tokens")),
    }))
}

/// A string, or `None` for absent or `null`; another shape is an error named `field`.
fn text(map: &Map<String, Value>, field: &'static str) -> Shape<Option<String>> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(field),
    }
}

fn strict_object<'v>(
    value: Option<&'v Value>,
    field: &'static str,
) -> Shape<Option<&'v Map<String, Value>>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(field),
    }
}

/// The elements of an array (none for absent or `null`); another shape is an error.
fn elements<'v>(value: Option<&'v Value>, field: &'static str) -> Shape<&'v [Value]> {
    match value {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(field),
    }
}

fn index(map: &Map<String, Value>) -> Shape<Option<u64>> {
    match map.get("index") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or("index"),
    }
}

fn choice(c: &Map<String, Value>) -> Shape<RefChoice> {
    let mut out = RefChoice {
        index: index(c)?.unwrap_or(0),
        finish_reason: text(c, "finish_reason")?,
        ..RefChoice::default()
    };
    let Some(delta) = strict_object(c.get("delta"), "delta")? else {
        return Ok(out);
    };
    out.role = string(delta, "role");
    out.refusal = text(delta, "refusal")?;
    let reasoning_content = text(delta, "reasoning_content")?;
    let reasoning = text(delta, "reasoning")?;
    // `reasoning_content` unless it is empty and `reasoning` is a string.
    out.reasoning = match (reasoning_content, reasoning) {
        (Some(first), Some(second)) if first.is_empty() => Some(second),
        (first, second) => first.or(second),
    };
    match delta.get("content") {
        Some(Value::Array(parts)) => {
            let (mut content, mut thinking) = (None::<String>, None::<String>);
            for part in parts {
                let part = part.as_object().ok_or("content")?;
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let piece = part.get("text").and_then(Value::as_str).ok_or("content")?;
                        content.get_or_insert_with(String::new).push_str(piece);
                    }
                    Some("thinking") => {
                        let into = thinking.get_or_insert_with(String::new);
                        match part.get("thinking") {
                            Some(Value::String(s)) => into.push_str(s),
                            Some(Value::Array(pieces)) => {
                                for piece in pieces {
                                    let piece = piece.as_object().ok_or("content")?;
                                    if piece.get("type").and_then(Value::as_str) != Some("text") {
                                        return Err("content");
                                    }
                                    into.push_str(
                                        piece
                                            .get("text")
                                            .and_then(Value::as_str)
                                            .ok_or("content")?,
                                    );
                                }
                            }
                            _ => return Err("content"),
                        }
                    }
                    _ => return Err("content"),
                }
            }
            out.content = content;
            if let Some(thinking) = thinking {
                let mut joined = out.reasoning.take().unwrap_or_default();
                joined.push_str(&thinking);
                out.reasoning = Some(joined);
            }
        }
        _ => out.content = text(delta, "content")?,
    }
    for t in elements(delta.get("tool_calls"), "tool_calls")? {
        let t = t.as_object().ok_or("tool_calls")?;
        let mut call = RefToolCall {
            index: index(t)?,
            id: text(t, "id")?,
            kind: string(t, "type"),
            ..RefToolCall::default()
        };
        if let Some(function) = strict_object(t.get("function"), "function")? {
            call.name = text(function, "name")?;
            call.arguments = match function.get("arguments") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(RefArgs::Text(s.clone())),
                Some(v @ (Value::Object(_) | Value::Array(_))) => Some(RefArgs::Json(v.clone())),
                Some(_) => return Err("arguments"),
            };
        }
        out.tool_calls.push(call);
    }
    out.reasoning_details = match delta.get("reasoning_details") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Array(_)) => Some(v.clone()),
        Some(_) => return Err("reasoning_details"),
    };
    Ok(out)
}

fn string(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn count(map: &Map<String, Value>, key: &str) -> Option<u64> {
    map.get(key).and_then(Value::as_u64)
}

fn object<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Map<String, Value>> {
    map.get(key).and_then(Value::as_object)
}

// ---------------------------------------------------------------------------------------------
// Owned twins of the crate's views.

/// The crate's payload as a [`RefPayload`], through its public accessors only.
pub fn from_payload(payload: &Payload<'_>) -> RefPayload {
    match payload {
        Payload::Chunk(chunk) => RefPayload::Chunk(from_chunk(chunk)),
        Payload::Done => RefPayload::Done,
        Payload::ApiError(e) => RefPayload::ApiError(from_error(e)),
        Payload::Invalid(InvalidData::NotJson) => RefPayload::Invalid(RefInvalid::NotJson),
        Payload::Invalid(InvalidData::NotObject) => RefPayload::Invalid(RefInvalid::NotObject),
        Payload::Invalid(InvalidData::UnexpectedShape { field }) => {
            RefPayload::Invalid(RefInvalid::UnexpectedShape(field))
        }
        Payload::Invalid(other) => panic!("an InvalidData the reference does not know: {other:?}"),
        Payload::Parts(parts) => RefPayload::Parts(parts.dialect().as_str()),
    }
}

/// The crate's API error as a [`RefError`].
pub fn from_error(e: &ApiError<'_>) -> RefError {
    RefError {
        message: e.message().map(str::to_owned),
        kind: e.kind().map(str::to_owned),
        code: e.code().map(|code| match code {
            ErrorCode::Str(s) => RefCode::Str(s.to_owned()),
            ErrorCode::Int(i) => RefCode::Int(i),
        }),
        param: e.param().map(str::to_owned),
    }
}

/// `decoder.decode_traced(data)`, owned: the payload and the path that decoded it.
pub fn traced(decoder: &mut ChunkDecoder, data: &[u8]) -> (RefPayload, DecodePath) {
    traced_event(decoder, b"message", data)
}

/// `decoder.decode_event_traced(event_type, data)`, owned.
pub fn traced_event(
    decoder: &mut ChunkDecoder,
    event_type: &[u8],
    data: &[u8],
) -> (RefPayload, DecodePath) {
    let (payload, path) = decoder.decode_event_traced(event_type, data);
    (from_payload(&payload), path)
}

/// `decoder.decode_fast_only(data)`, owned: `None` when the fast path declines.
pub fn fast_only(decoder: &mut ChunkDecoder, data: &[u8]) -> Option<RefPayload> {
    decoder.decode_fast_only(data).map(|p| from_payload(&p))
}

// ---------------------------------------------------------------------------------------------
// Which path of the decoder decoded what.

/// How many decodes each path of the decoder handled.
#[derive(Debug, Default, Clone, Copy)]
pub struct Paths {
    pub decodes: u64,
    pub fast: u64,
    pub template: u64,
    pub simd_json: u64,
    pub done: u64,
}

impl Paths {
    pub fn add(&mut self, path: DecodePath) {
        self.decodes += 1;
        match path {
            DecodePath::Fast => self.fast += 1,
            DecodePath::Template => self.template += 1,
            DecodePath::SimdJson => self.simd_json += 1,
            DecodePath::Done => self.done += 1,
        }
    }

    /// Prints the figures, then asserts that the fast path (full parse and template reuse
    /// together) took at least `min_fast_percent` of the decodes, the template reuse at
    /// least `min_template` of them, and that simd-json was reached too.
    pub fn check(&self, property: &str, min_fast_percent: u64, min_template: u64) {
        let on_fast = self.fast + self.template;
        let percent = |n: u64| n as f64 * 100.0 / self.decodes.max(1) as f64;
        // Past the test harness's capture (it captures `eprintln!` only), so that a plain
        // `cargo test` shows the figures.
        let _ = writeln!(
            std::io::stderr(),
            "{property}: {} decodes; fast path {on_fast} ({:.1}%: {} full parses, {} template \
             reuses), simd-json {} ({:.1}%), [DONE] {}",
            self.decodes,
            percent(on_fast),
            self.fast,
            self.template,
            self.simd_json,
            percent(self.simd_json),
            self.done,
        );
        assert!(
            on_fast * 100 >= min_fast_percent * self.decodes,
            "{property}: the fast path took {on_fast} of {} decodes, under {min_fast_percent}%",
            self.decodes
        );
        assert!(
            self.template >= min_template,
            "{property}: {} template reuses, under {min_template}",
            self.template
        );
        assert!(self.simd_json > 0, "{property}: simd-json never ran");
    }
}

/// The crate's chunk view as a [`RefChunk`].
pub fn from_chunk(chunk: &ChunkView<'_>) -> RefChunk {
    let choices: Vec<RefChoice> = chunk
        .choices()
        .map(|c| RefChoice {
            index: c.index(),
            role: c.role().map(str::to_owned),
            content: c.content().map(str::to_owned),
            reasoning: c.reasoning().map(str::to_owned),
            refusal: c.refusal().map(str::to_owned),
            reasoning_details: c.reasoning_details().map(|text| {
                assert!(
                    text.starts_with('[') && text.ends_with(']'),
                    "reasoning_details is an array's text: {text}"
                );
                parse_json(text).expect("reasoning_details is JSON text")
            }),
            finish_reason: c.finish_reason().map(str::to_owned),
            tool_calls: c
                .tool_calls()
                .iter()
                .map(|t| RefToolCall {
                    index: t.index(),
                    id: t.id().map(str::to_owned),
                    kind: t.kind().map(str::to_owned),
                    name: t.name().map(str::to_owned),
                    arguments: t.arguments().map(|a| RefArgs::Text(a.to_owned())),
                })
                .collect(),
        })
        .collect();
    // Cheap consistency checks of the accessors, made on every chunk of every test.
    assert_eq!(chunk.choices().len(), choices.len(), "choices().len()");
    assert_eq!(
        chunk.choice().map(|c| c.index()),
        choices.first().map(|c| c.index),
        "choice() is the first of choices()"
    );
    RefChunk {
        id: chunk.id().map(str::to_owned),
        model: chunk.model().map(str::to_owned),
        created: chunk.created(),
        system_fingerprint: chunk.system_fingerprint().map(str::to_owned),
        choices,
        usage: chunk.usage().map(from_usage),
    }
}

fn from_usage(u: ssechunk::Usage) -> RefUsage {
    RefUsage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        total_tokens: u.total_tokens,
        cached_input_tokens: u.cached_input_tokens,
        reasoning_tokens: u.reasoning_tokens,
    }
}

// ---------------------------------------------------------------------------------------------
// The reference accumulator.

/// How a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefEnding {
    Done,
    Finished,
    Error,
    #[default]
    Truncated,
}

/// An assembled message; choices and tool calls sorted by index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefMessage {
    pub id: Option<String>,
    pub model: Option<String>,
    pub choices: Vec<RefChoiceMessage>,
    pub usage: Option<RefUsage>,
    pub errors: Vec<RefError>,
    pub invalid: u64,
    pub ending: RefEnding,
    pub chunks: u64,
}

/// One assembled choice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefChoiceMessage {
    pub index: u64,
    pub role: Option<String>,
    pub content: Option<String>,
    pub reasoning: Option<String>,
    pub refusal: Option<String>,
    /// The elements of every `reasoning_details` array, in order.
    pub reasoning_details: Option<Vec<Value>>,
    pub tool_calls: Vec<RefToolCallMessage>,
    pub finish_reason: Option<String>,
    /// The normalised finish reason's name.
    pub finish: Option<&'static str>,
}

/// One assembled tool call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefToolCallMessage {
    pub index: u64,
    pub id: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub arguments: ArgsText,
}

/// Concatenated arguments: the crate's text, or the reference's fragments. Fragments sent as
/// JSON values are written by the crate in its own spacing and key order, so a text matches
/// fragments when it reads as each of them in turn: a string fragment verbatim, a JSON value
/// as one JSON text equal to it.
#[derive(Debug, Clone)]
pub enum ArgsText {
    Text(String),
    Parts(Vec<RefArgs>),
}

impl Default for ArgsText {
    fn default() -> Self {
        ArgsText::Parts(Vec::new())
    }
}

/// Whether `text` reads as `parts`, one after the other.
fn reads_as(text: &str, parts: &[RefArgs]) -> bool {
    let mut rest = text;
    for part in parts {
        match part {
            RefArgs::Text(piece) => match rest.strip_prefix(piece.as_str()) {
                Some(after) => rest = after,
                None => return false,
            },
            RefArgs::Json(value) => {
                let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
                match values.next() {
                    Some(Ok(read)) if read == *value => rest = &rest[values.byte_offset()..],
                    _ => return false,
                }
            }
        }
    }
    rest.is_empty()
}

impl PartialEq for ArgsText {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ArgsText::Text(a), ArgsText::Text(b)) => a == b,
            (ArgsText::Parts(a), ArgsText::Parts(b)) => a == b,
            (ArgsText::Text(t), ArgsText::Parts(p)) | (ArgsText::Parts(p), ArgsText::Text(t)) => {
                reads_as(t, p)
            }
        }
    }
}

/// The contract's normalisation of a chat `finish_reason`.
pub fn chat_finish(raw: &str) -> &'static str {
    match raw {
        "stop" => "stop",
        "length" => "length",
        "tool_calls" | "function_call" => "tool_calls",
        "content_filter" => "content_filter",
        "error" => "error",
        _ => "other",
    }
}

#[derive(Debug, Clone, Default)]
struct ChoiceAcc {
    message: RefChoiceMessage,
    /// Tool calls in the order they started.
    tools: Vec<RefToolCallMessage>,
}

/// Assembles [`RefPayload`]s into a [`RefMessage`], by the contract's rules written plainly:
/// choices keyed by index in an ordered map, tool calls looked up by a linear search.
#[derive(Debug, Clone, Default)]
pub struct RefAccumulator {
    id: Option<String>,
    model: Option<String>,
    choices: BTreeMap<u64, ChoiceAcc>,
    usage: Option<RefUsage>,
    errors: Vec<RefError>,
    invalid: u64,
    done: bool,
    finished: bool,
    chunks: u64,
}

/// Keeps the first non-empty value.
fn keep_first(target: &mut Option<String>, value: &Option<String>) {
    if let (None, Some(v)) = (&target, value.as_ref().filter(|v| !v.is_empty())) {
        *target = Some(v.clone());
    }
}

/// Concatenates; the target becomes `Some` as soon as any piece (even `""`) arrives.
fn concat(target: &mut Option<String>, piece: &Option<String>) {
    if let Some(piece) = piece {
        target.get_or_insert_with(String::new).push_str(piece);
    }
}

impl RefAccumulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Chunks are merged, `[DONE]` is recorded, errors kept, invalid events counted.
    pub fn push(&mut self, payload: &RefPayload) {
        match payload {
            RefPayload::Chunk(chunk) => self.push_chunk(chunk),
            RefPayload::Done => self.done = true,
            RefPayload::ApiError(e) => self.errors.push(e.clone()),
            RefPayload::Invalid(_) => self.invalid += 1,
            RefPayload::Parts(_) => {}
        }
    }

    /// An error found outside any event.
    pub fn push_error(&mut self, error: &RefError) {
        self.errors.push(error.clone());
    }

    pub fn push_chunk(&mut self, chunk: &RefChunk) {
        self.chunks += 1;
        keep_first(&mut self.id, &chunk.id);
        keep_first(&mut self.model, &chunk.model);
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        for delta in &chunk.choices {
            let acc = self.choices.entry(delta.index).or_default();
            acc.message.index = delta.index;
            keep_first(&mut acc.message.role, &delta.role);
            concat(&mut acc.message.content, &delta.content);
            concat(&mut acc.message.reasoning, &delta.reasoning);
            concat(&mut acc.message.refusal, &delta.refusal);
            if let Some(Value::Array(details)) = &delta.reasoning_details
                && !details.is_empty()
            {
                let all = acc.message.reasoning_details.get_or_insert_with(Vec::new);
                all.extend(details.iter().cloned());
            }
            if let Some(reason) = delta.finish_reason.as_ref().filter(|r| !r.is_empty()) {
                acc.message.finish_reason = Some(reason.clone());
                acc.message.finish = Some(chat_finish(reason));
                self.finished = true;
            }
            for fragment in &delta.tool_calls {
                let tools = &mut acc.tools;
                let at = match fragment.index {
                    Some(index) => match tools.iter().position(|c| c.index == index) {
                        Some(at) => at,
                        None => {
                            tools.push(RefToolCallMessage {
                                index,
                                ..RefToolCallMessage::default()
                            });
                            tools.len() - 1
                        }
                    },
                    None => {
                        let new_id = fragment.id.as_deref().filter(|id| !id.is_empty());
                        let continues = tools.last().is_some_and(|last| {
                            match (new_id, last.id.as_deref().filter(|id| !id.is_empty())) {
                                (Some(new), Some(own)) => new == own,
                                _ => true,
                            }
                        });
                        if !continues {
                            tools.push(RefToolCallMessage {
                                index: tools.len() as u64,
                                ..RefToolCallMessage::default()
                            });
                        }
                        tools.len() - 1
                    }
                };
                let call = &mut tools[at];
                keep_first(&mut call.id, &fragment.id);
                keep_first(&mut call.kind, &fragment.kind);
                keep_first(&mut call.name, &fragment.name);
                if let (Some(arguments), ArgsText::Parts(parts)) =
                    (&fragment.arguments, &mut call.arguments)
                {
                    parts.push(arguments.clone());
                }
            }
        }
    }

    pub fn message(&self) -> RefMessage {
        RefMessage {
            id: self.id.clone(),
            model: self.model.clone(),
            choices: self
                .choices
                .values()
                .map(|acc| {
                    let mut tool_calls = acc.tools.clone();
                    tool_calls.sort_by_key(|c| c.index);
                    RefChoiceMessage {
                        tool_calls,
                        ..acc.message.clone()
                    }
                })
                .collect(),
            usage: self.usage,
            errors: self.errors.clone(),
            invalid: self.invalid,
            ending: if self.done {
                RefEnding::Done
            } else if self.finished {
                RefEnding::Finished
            } else if !self.errors.is_empty() {
                RefEnding::Error
            } else {
                RefEnding::Truncated
            },
            chunks: self.chunks,
        }
    }
}

/// The crate's accumulator as a [`RefMessage`] (choices and tool calls sorted by index).
pub fn from_accumulator(acc: &Accumulator) -> RefMessage {
    let mut choices: Vec<RefChoiceMessage> = acc
        .choices()
        .iter()
        .map(|c| {
            let mut tool_calls: Vec<RefToolCallMessage> = c
                .tool_calls
                .iter()
                .map(|t| RefToolCallMessage {
                    index: t.index,
                    id: t.id.clone(),
                    kind: t.kind.clone(),
                    name: t.name.clone(),
                    arguments: ArgsText::Text(t.arguments.clone()),
                })
                .collect();
            tool_calls.sort_by_key(|t| t.index);
            RefChoiceMessage {
                index: c.index,
                role: c.role.clone(),
                content: c.content.clone(),
                reasoning: c.reasoning.clone(),
                refusal: c.refusal.clone(),
                reasoning_details: c.reasoning_details.as_deref().map(|text| {
                    match parse_json(text).expect("reasoning_details is JSON text") {
                        Value::Array(details) => details,
                        other => panic!("reasoning_details is not an array: {other}"),
                    }
                }),
                tool_calls,
                finish_reason: c.finish_reason.clone(),
                finish: c.finish.map(|f| f.as_str()),
            }
        })
        .collect();
    choices.sort_by_key(|c| c.index);
    RefMessage {
        id: acc.id().map(str::to_owned),
        model: acc.model().map(str::to_owned),
        choices,
        usage: acc.usage().map(from_usage),
        errors: acc
            .errors()
            .iter()
            .map(|e| RefError {
                message: e.message.clone(),
                kind: e.kind.clone(),
                code: e.code.as_ref().map(|c| match c {
                    OwnedErrorCode::Str(s) => RefCode::Str(s.clone()),
                    OwnedErrorCode::Int(n) => RefCode::Int(*n),
                }),
                param: e.param.clone(),
            })
            .collect(),
        invalid: acc.invalid(),
        ending: match acc.ending() {
            Ending::Done => RefEnding::Done,
            Ending::Finished => RefEnding::Finished,
            Ending::Error => RefEnding::Error,
            Ending::Truncated => RefEnding::Truncated,
        },
        chunks: acc.chunks(),
    }
}

// ---------------------------------------------------------------------------------------------
// Running whole streams through `ChunkStream`.

/// One outcome of a [`ChunkStream`], owned.
// Test data: the size of the rare variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Event {
        event_type: Vec<u8>,
        data: Vec<u8>,
        id: Vec<u8>,
        payload: RefPayload,
    },
    /// An error found outside any event.
    Error(RefError),
    Ignored(Vec<u8>),
    Comment(Vec<u8>),
    Incomplete,
    TooLarge,
}

/// What a whole stream gave: its outcomes and the crate's accumulated message.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub items: Vec<Item>,
    pub message: RefMessage,
}

impl Decoded {
    /// The data and decoded payload of every event.
    pub fn events(&self) -> impl Iterator<Item = (&[u8], &RefPayload)> {
        self.items.iter().filter_map(|item| match item {
            Item::Event { data, payload, .. } => Some((data.as_slice(), payload)),
            _ => None,
        })
    }

    /// The errors found outside any event.
    pub fn outside_errors(&self) -> impl Iterator<Item = &RefError> {
        self.items.iter().filter_map(|item| match item {
            Item::Error(e) => Some(e),
            _ => None,
        })
    }

    /// Checks every payload against the reference decoding of its data, and the message
    /// against the reference accumulation; `what` names the input in failure messages.
    pub fn check_reference(&self, what: &str) {
        let mut acc = RefAccumulator::new();
        let mut n = 0;
        for item in &self.items {
            match item {
                Item::Event {
                    event_type,
                    data,
                    payload,
                    ..
                } => {
                    if let RefPayload::Parts(_) = payload {
                        // The stream is another dialect's: its events and its message are
                        // held to that dialect's own reference by tests/dialect_*.rs.
                        return;
                    }
                    let expected = reference_event(event_type, data);
                    assert_eq!(
                        payload,
                        &expected,
                        "{what}: event {n} differs from the reference; data {:?}",
                        String::from_utf8_lossy(data)
                    );
                    acc.push(&expected);
                    n += 1;
                }
                // Errors outside events are framing-level rules, checked by tests/contract.rs.
                Item::Error(e) => acc.push_error(e),
                _ => {}
            }
        }
        assert_eq!(
            self.message,
            acc.message(),
            "{what}: the accumulated message differs from the reference"
        );
    }
}

/// Feeds `input` to `stream` cut before each offset of `cuts` (ascending), pulling every
/// outcome after each piece as a client does, then finishes the stream.
pub fn decode_with(stream: &mut ChunkStream, input: &[u8], cuts: &[usize]) -> Decoded {
    let mut items = Vec::new();
    let mut acc = Accumulator::new();
    let mut start = 0;
    for &cut in cuts.iter().chain([input.len()].iter()) {
        assert!(
            (start..=input.len()).contains(&cut),
            "cuts must ascend within the input"
        );
        stream.feed(&input[start..cut]);
        pull(stream, &mut items, &mut acc);
        start = cut;
    }
    stream.finish();
    pull(stream, &mut items, &mut acc);
    Decoded {
        items,
        message: from_accumulator(&acc),
    }
}

/// [`decode_with`] on a new stream.
pub fn decode(input: &[u8], cuts: &[usize]) -> Decoded {
    decode_with(&mut ChunkStream::new(), input, cuts)
}

/// Cuts every `size` bytes, as fixed-size reads give.
pub fn reads_of(len: usize, size: usize) -> Vec<usize> {
    (1..len.div_ceil(size)).map(|i| i * size).collect()
}

fn pull(stream: &mut ChunkStream, items: &mut Vec<Item>, acc: &mut Accumulator) {
    while let Some(outcome) = stream.next_outcome() {
        items.push(match outcome {
            Ok(Outcome::Event { event, payload }) => {
                acc.push_payload(&payload);
                Item::Event {
                    event_type: event.event_type().to_vec(),
                    data: event.data().to_vec(),
                    id: event.id().to_vec(),
                    payload: from_payload(&payload),
                }
            }
            Ok(Outcome::Error(e)) => {
                acc.push_error(&e);
                Item::Error(from_error(&e))
            }
            Ok(Outcome::Ignored(line)) => Item::Ignored(line.to_vec()),
            Ok(Outcome::Comment(text)) => Item::Comment(text.to_vec()),
            Ok(Outcome::Incomplete(_)) => Item::Incomplete,
            Ok(other) => panic!("an outcome the tests do not know: {other:?}"),
            Err(Error::EventTooLarge { .. }) => Item::TooLarge,
            Err(e) => panic!("the stream returned an error it never should: {e}"),
        });
    }
}

// ---------------------------------------------------------------------------------------------
// The recorded corpus.

/// Whether a recorded body is an OpenAI Chat Completions stream.
pub fn is_chat_completion(body: &[u8]) -> bool {
    const MARK: &[u8] = b"\"chat.completion.chunk\"";
    body.windows(MARK.len()).any(|w| w == MARK)
}

/// The `.sse` bodies of the corpus, with their paths relative to it, split into Chat
/// Completions streams and the others.
pub struct Corpus {
    pub chat: Vec<(String, Vec<u8>)>,
    pub other: Vec<(String, Vec<u8>)>,
}

/// Loads the corpus; `None` when it is absent (see [`corpus_dir`]).
pub fn load_corpus() -> Option<Corpus> {
    let dir = corpus_dir()?;
    let files = files_ending(&dir.join("fantasy"), ".sse");
    assert!(!files.is_empty(), "no .sse file under {}", dir.display());
    let (mut chat, mut other) = (Vec::new(), Vec::new());
    for path in files {
        let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path
            .strip_prefix(&dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        if is_chat_completion(&body) {
            chat.push((name, body));
        } else {
            other.push((name, body));
        }
    }
    Some(Corpus { chat, other })
}
