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
#[path = "rng.rs"]
mod rng;

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Map, Value};
use ssechunk::{
    Accumulator, ChunkDecoder, ChunkStream, ChunkView, DecodePath, Ending, Error, ErrorCode,
    InvalidData, Outcome, Payload,
};

// Not every includer uses them (the fuzz targets and some test files do not).
#[allow(unused_imports)]
pub use corpus::{corpus_dir, files_ending};
#[allow(unused_imports)]
pub use rng::Rng;

/// The deepest nesting of arrays and objects accepted, counting the top-level object as 1.
///
/// RFC 8259 section 9 lets a parser limit nesting; the crate's JSON parser (simd-json) stops
/// at 1024 levels, so the reference does too. Without a limit a hostile stream could make any
/// recursive parser overflow its stack.
pub const MAX_DEPTH: usize = 1024;

/// What one event's data holds, owned and comparable.
#[derive(Debug, Clone, PartialEq)]
pub enum RefPayload {
    Chunk(RefChunk),
    Done,
    ApiError(RefError),
    Invalid(RefInvalid),
}

/// Why data is not a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefInvalid {
    NotJson,
    NotObject,
}

/// A chat-completion chunk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefChunk {
    pub id: Option<String>,
    pub model: Option<String>,
    pub created: Option<u64>,
    pub system_fingerprint: Option<String>,
    pub choices: Vec<RefChoice>,
    pub usage: Option<RefUsage>,
}

/// One element of `choices`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefChoice {
    pub index: u64,
    pub role: Option<String>,
    pub content: Option<String>,
    pub reasoning: Option<String>,
    pub refusal: Option<String>,
    pub finish_reason: Option<String>,
    pub tool_calls: Vec<RefToolCall>,
}

/// One element of `delta.tool_calls`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefToolCall {
    pub index: u64,
    pub id: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub arguments: Option<String>,
}

/// A `usage` object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub cached_tokens: Option<u64>,
    pub reasoning_tokens: Option<u64>,
}

/// An `{"error": {...}}` object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefError {
    pub message: Option<String>,
    pub kind: Option<String>,
    pub code: Option<RefCode>,
    pub param: Option<String>,
}

/// `error.code`.
#[derive(Debug, Clone)]
pub enum RefCode {
    Str(String),
    Int(i64),
    /// A number that is not an `i64`: too large, or with a fraction or exponent.
    Float(f64),
}

/// Floats are equal within one unit in the last place: serde_json's default float parser
/// (without its `float_roundtrip` feature) may round the last bit differently from a correctly
/// rounding parser, and either is a faithful reading of the JSON.
impl PartialEq for RefCode {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (RefCode::Str(a), RefCode::Str(b)) => a == b,
            (RefCode::Int(a), RefCode::Int(b)) => a == b,
            (RefCode::Float(a), RefCode::Float(b)) => {
                a == b || (a - b).abs() <= f64::EPSILON * a.abs().max(b.abs())
            }
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The reference decoder.

/// Decodes one event's data by the contract.
pub fn reference(data: &[u8]) -> RefPayload {
    if data == b"[DONE]" {
        return RefPayload::Done;
    }
    // Invalid UTF-8 becomes U+FFFD before the JSON is looked at, as the SSE rules decode text.
    let text = String::from_utf8_lossy(data);
    match parse_json(&text) {
        Some(value) => reference_value(&value),
        None => RefPayload::Invalid(RefInvalid::NotJson),
    }
}

/// One JSON document with nothing but whitespace around it, or `None`.
pub fn parse_json(text: &str) -> Option<Value> {
    if nesting_depth(text) > MAX_DEPTH {
        return None;
    }
    let text = integer_zero(text);
    let mut de = serde_json::Deserializer::from_str(&text);
    // serde_json's own limit (128) is lower than the one in force; the depth was checked above.
    de.disable_recursion_limit();
    let mut values = de.into_iter::<Value>();
    let value = values.next()?.ok()?;
    // Anything after the document (even a second document) makes the data invalid.
    values.next().is_none().then_some(value)
}

/// The text with every number `-0` (no fraction, no exponent) spelled ` 0`.
///
/// `-0` is written as an integer, and the integer it writes is zero, a valid count; but
/// `serde_json::Value` reads it as the float -0.0, which is not. Respelling it keeps the text
/// valid exactly when it was (a number may follow whitespace wherever it may stand at all).
pub fn integer_zero(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let (mut in_string, mut escaped) = (false, false);
    let mut found = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b'-'
            && bytes.get(i + 1) == Some(&b'0')
            && !matches!(bytes.get(i + 2), Some(b'0'..=b'9' | b'.' | b'e' | b'E'))
        {
            found.push(i);
        }
    }
    if found.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = bytes.to_vec();
    for i in found {
        out[i] = b' ';
    }
    std::borrow::Cow::Owned(String::from_utf8(out).expect("an ASCII byte was replaced"))
}

/// The deepest nesting of `[` and `{` outside strings; exact for valid JSON, which is all that
/// matters: invalid JSON is invalid at any depth.
pub fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in text.as_bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Decodes an already parsed document by the contract.
pub fn reference_value(value: &Value) -> RefPayload {
    let Some(top) = value.as_object() else {
        return RefPayload::Invalid(RefInvalid::NotObject);
    };
    if let Some(error) = top.get("error").and_then(Value::as_object) {
        return RefPayload::ApiError(RefError {
            message: string(error, "message"),
            kind: string(error, "type"),
            code: error.get("code").and_then(|code| match code {
                Value::String(s) => Some(RefCode::Str(s.clone())),
                Value::Number(n) => Some(match n.as_i64() {
                    Some(i) => RefCode::Int(i),
                    None => RefCode::Float(n.as_f64().expect("a JSON number is an f64")),
                }),
                _ => None,
            }),
            param: string(error, "param"),
        });
    }
    RefPayload::Chunk(RefChunk {
        id: string(top, "id"),
        model: string(top, "model"),
        created: count(top, "created"),
        system_fingerprint: string(top, "system_fingerprint"),
        choices: objects(top.get("choices")).map(choice).collect(),
        usage: top
            .get("usage")
            .and_then(Value::as_object)
            .map(|u| RefUsage {
                prompt_tokens: count(u, "prompt_tokens").unwrap_or(0),
                completion_tokens: count(u, "completion_tokens").unwrap_or(0),
                total_tokens: count(u, "total_tokens").unwrap_or(0),
                cached_tokens: object(u, "prompt_tokens_details")
                    .and_then(|d| count(d, "cached_tokens")),
                reasoning_tokens: object(u, "completion_tokens_details")
                    .and_then(|d| count(d, "reasoning_tokens")),
            }),
    })
}

fn choice(c: &Map<String, Value>) -> RefChoice {
    let mut out = RefChoice {
        index: count(c, "index").unwrap_or(0),
        finish_reason: string(c, "finish_reason"),
        ..RefChoice::default()
    };
    if let Some(delta) = object(c, "delta") {
        out.role = string(delta, "role");
        out.content = string(delta, "content");
        out.refusal = string(delta, "refusal");
        out.reasoning = string(delta, "reasoning_content").or_else(|| string(delta, "reasoning"));
        out.tool_calls = objects(delta.get("tool_calls"))
            .map(|t| {
                let function = object(t, "function");
                RefToolCall {
                    index: count(t, "index").unwrap_or(0),
                    id: string(t, "id"),
                    kind: string(t, "type"),
                    name: function.and_then(|f| string(f, "name")),
                    arguments: function.and_then(|f| string(f, "arguments")),
                }
            })
            .collect();
    }
    out
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

/// The object elements of an array value (nothing when it is not an array).
fn objects(value: Option<&Value>) -> impl Iterator<Item = &Map<String, Value>> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

// ---------------------------------------------------------------------------------------------
// Owned twins of the crate's views.

/// The crate's payload as a [`RefPayload`], through its public accessors only.
pub fn from_payload(payload: &Payload<'_>) -> RefPayload {
    match payload {
        Payload::Chunk(chunk) => RefPayload::Chunk(from_chunk(chunk)),
        Payload::Done => RefPayload::Done,
        Payload::ApiError(e) => RefPayload::ApiError(RefError {
            message: e.message().map(str::to_owned),
            kind: e.kind().map(str::to_owned),
            code: e.code().map(|code| match code {
                ErrorCode::Str(s) => RefCode::Str(s.to_owned()),
                ErrorCode::Int(i) => RefCode::Int(i),
                ErrorCode::Float(f) => RefCode::Float(f),
            }),
            param: e.param().map(str::to_owned),
        }),
        Payload::Invalid(InvalidData::NotJson) => RefPayload::Invalid(RefInvalid::NotJson),
        Payload::Invalid(InvalidData::NotObject) => RefPayload::Invalid(RefInvalid::NotObject),
        Payload::Invalid(other) => panic!("an InvalidData the reference does not know: {other:?}"),
    }
}

/// `decoder.decode_traced(data)`, owned: the payload and the path that decoded it.
pub fn traced(decoder: &mut ChunkDecoder, data: &[u8]) -> (RefPayload, DecodePath) {
    let (payload, path) = decoder.decode_traced(data);
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
            finish_reason: c.finish_reason().map(str::to_owned),
            tool_calls: c
                .tool_calls()
                .iter()
                .map(|t| RefToolCall {
                    index: t.index(),
                    id: t.id().map(str::to_owned),
                    kind: t.kind().map(str::to_owned),
                    name: t.name().map(str::to_owned),
                    arguments: t.arguments().map(str::to_owned),
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
        usage: chunk.usage().map(|u| RefUsage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.total_tokens,
            cached_tokens: u.cached_tokens,
            reasoning_tokens: u.reasoning_tokens,
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// The reference accumulator.

/// How a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefEnding {
    Done,
    Finished,
    #[default]
    Truncated,
}

/// An assembled message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefMessage {
    pub id: Option<String>,
    pub model: Option<String>,
    pub choices: Vec<RefChoiceMessage>,
    pub usage: Option<RefUsage>,
    pub ending: RefEnding,
    pub chunks: u64,
}

/// One assembled choice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefChoiceMessage {
    pub index: u64,
    pub role: Option<String>,
    pub content: Option<String>,
    pub reasoning: Option<String>,
    pub refusal: Option<String>,
    pub tool_calls: Vec<RefToolCallMessage>,
    pub finish_reason: Option<String>,
}

/// One assembled tool call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefToolCallMessage {
    pub index: u64,
    pub id: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub arguments: String,
}

#[derive(Debug, Clone, Default)]
struct ChoiceAcc {
    message: RefChoiceMessage,
    tools: BTreeMap<u64, RefToolCallMessage>,
}

/// Assembles [`RefPayload`]s into a [`RefMessage`], keyed by index in ordered maps so that the
/// order of the output needs no sorting code of its own.
#[derive(Debug, Clone, Default)]
pub struct RefAccumulator {
    id: Option<String>,
    model: Option<String>,
    choices: BTreeMap<u64, ChoiceAcc>,
    usage: Option<RefUsage>,
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

    /// Chunks are merged, `[DONE]` is recorded, errors and invalid data change nothing.
    pub fn push(&mut self, payload: &RefPayload) {
        match payload {
            RefPayload::Chunk(chunk) => self.push_chunk(chunk),
            RefPayload::Done => self.done = true,
            RefPayload::ApiError(_) | RefPayload::Invalid(_) => {}
        }
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
            if let Some(reason) = delta.finish_reason.as_ref().filter(|r| !r.is_empty()) {
                acc.message.finish_reason = Some(reason.clone());
                self.finished = true;
            }
            for fragment in &delta.tool_calls {
                let call = acc.tools.entry(fragment.index).or_default();
                call.index = fragment.index;
                keep_first(&mut call.id, &fragment.id);
                keep_first(&mut call.kind, &fragment.kind);
                keep_first(&mut call.name, &fragment.name);
                call.arguments
                    .push_str(fragment.arguments.as_deref().unwrap_or(""));
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
                .map(|acc| RefChoiceMessage {
                    tool_calls: acc.tools.values().cloned().collect(),
                    ..acc.message.clone()
                })
                .collect(),
            usage: self.usage,
            ending: if self.done {
                RefEnding::Done
            } else if self.finished {
                RefEnding::Finished
            } else {
                RefEnding::Truncated
            },
            chunks: self.chunks,
        }
    }
}

/// The crate's accumulator as a [`RefMessage`].
pub fn from_accumulator(acc: &Accumulator) -> RefMessage {
    RefMessage {
        id: acc.id().map(str::to_owned),
        model: acc.model().map(str::to_owned),
        choices: acc
            .choices()
            .iter()
            .map(|c| RefChoiceMessage {
                index: c.index,
                role: c.role.clone(),
                content: c.content.clone(),
                reasoning: c.reasoning.clone(),
                refusal: c.refusal.clone(),
                tool_calls: c
                    .tool_calls
                    .iter()
                    .map(|t| RefToolCallMessage {
                        index: t.index,
                        id: t.id.clone(),
                        kind: t.kind.clone(),
                        name: t.name.clone(),
                        arguments: t.arguments.clone(),
                    })
                    .collect(),
                finish_reason: c.finish_reason.clone(),
            })
            .collect(),
        usage: acc.usage().map(|u| RefUsage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.total_tokens,
            cached_tokens: u.cached_tokens,
            reasoning_tokens: u.reasoning_tokens,
        }),
        ending: match acc.ending() {
            Ending::Done => RefEnding::Done,
            Ending::Finished => RefEnding::Finished,
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

    /// Checks every payload against the reference decoding of its data, and the message
    /// against the reference accumulation; `what` names the input in failure messages.
    pub fn check_reference(&self, what: &str) {
        let mut acc = RefAccumulator::new();
        for (n, (data, payload)) in self.events().enumerate() {
            let expected = reference(data);
            assert_eq!(
                payload,
                &expected,
                "{what}: event {n} differs from the reference; data {:?}",
                String::from_utf8_lossy(data)
            );
            acc.push(&expected);
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
            Ok(Outcome::Comment(text)) => Item::Comment(text.to_vec()),
            Ok(Outcome::Incomplete(_)) => Item::Incomplete,
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
