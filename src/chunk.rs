//! Borrowed, allocation-free decoding of OpenAI-compatible chat-completion chunks.
//!
//! [`ChunkDecoder`] turns one event's data into a [`Payload`]: a [`ChunkView`] whose strings
//! borrow from the decoder, the `[DONE]` marker, an [`ApiError`], or [`InvalidData`]. It knows
//! nothing of framing or I/O: [`crate::ChunkStream`] joins it to the [`crate::Parser`].
//!
//! A specialised validating decoder reads the common chunks in place (reusing the work done on
//! the previous chunk where the bytes repeat); simd-json, with a reused tape, decodes the
//! rest. Nothing is allocated per event once the decoder's buffers have grown to the largest
//! event seen.

use std::fmt;

use simd_json::{Buffers, Node, StaticNode, Tape};

use crate::PADDING;
use crate::fast::{self, Span, Spans, Texts};

/// Token counts of a `usage` object.
///
/// A count that is absent, or not a non-negative integer, is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Usage {
    /// `prompt_tokens`.
    pub prompt_tokens: u64,
    /// `completion_tokens`.
    pub completion_tokens: u64,
    /// `total_tokens`.
    pub total_tokens: u64,
    /// `prompt_tokens_details.cached_tokens`, when present.
    pub cached_tokens: Option<u64>,
    /// `completion_tokens_details.reasoning_tokens`, when present.
    pub reasoning_tokens: Option<u64>,
}

/// One tool-call fragment of a delta (`delta.tool_calls[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ToolCall<'a> {
    index: u64,
    id: Option<&'a str>,
    kind: Option<&'a str>,
    name: Option<&'a str>,
    arguments: Option<&'a str>,
}

impl<'a> ToolCall<'a> {
    /// `index`: which tool call this fragment belongs to (0 when absent).
    pub fn index(&self) -> u64 {
        self.index
    }
    /// `id`, usually only in the first fragment.
    pub fn id(&self) -> Option<&'a str> {
        self.id
    }
    /// `type` (`function`).
    pub fn kind(&self) -> Option<&'a str> {
        self.kind
    }
    /// `function.name`, usually only in the first fragment.
    pub fn name(&self) -> Option<&'a str> {
        self.name
    }
    /// `function.arguments`: a fragment of the arguments' JSON text.
    pub fn arguments(&self) -> Option<&'a str> {
        self.arguments
    }
}

/// The fields of one choice, as stored by the decoder.
#[derive(Debug, Clone, Copy, Default)]
struct RawChoice<'a> {
    index: u64,
    role: Option<&'a str>,
    content: Option<&'a str>,
    reasoning: Option<&'a str>,
    refusal: Option<&'a str>,
    finish_reason: Option<&'a str>,
    tools_start: usize,
    tools_end: usize,
}

/// One element of a chunk's `choices`, borrowed from a [`ChunkView`].
#[derive(Clone, Copy)]
pub struct Choice<'v, 'a> {
    raw: &'v RawChoice<'a>,
    tools: &'v [ToolCall<'a>],
}

impl<'v, 'a> Choice<'v, 'a> {
    /// `index` (0 when absent): which of the `n` completions this delta extends.
    pub fn index(&self) -> u64 {
        self.raw.index
    }
    /// `delta.role`.
    pub fn role(&self) -> Option<&'a str> {
        self.raw.role
    }
    /// `delta.content`: the next piece of the reply text.
    pub fn content(&self) -> Option<&'a str> {
        self.raw.content
    }
    /// `delta.reasoning_content` when it is a string (even empty), else `delta.reasoning`:
    /// providers use one or the other.
    pub fn reasoning(&self) -> Option<&'a str> {
        self.raw.reasoning
    }
    /// `delta.refusal`.
    pub fn refusal(&self) -> Option<&'a str> {
        self.raw.refusal
    }
    /// `finish_reason`, raw: unknown values and `""` are kept.
    pub fn finish_reason(&self) -> Option<&'a str> {
        self.raw.finish_reason
    }
    /// `delta.tool_calls`, skipping elements that are not objects.
    pub fn tool_calls(&self) -> &'v [ToolCall<'a>] {
        self.tools
    }
}

impl fmt::Debug for Choice<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Choice")
            .field("index", &self.index())
            .field("role", &self.role())
            .field("content", &self.content())
            .field("reasoning", &self.reasoning())
            .field("refusal", &self.refusal())
            .field("finish_reason", &self.finish_reason())
            .field("tool_calls", &self.tool_calls())
            .finish()
    }
}

/// Storage lent by the decoder to each view and returned when the view is dropped, so that a
/// chunk with choices and tool calls allocates nothing.
#[derive(Debug, Default)]
struct Storage {
    choices: Vec<RawChoice<'static>>,
    tools: Vec<ToolCall<'static>>,
}

/// Reuses a vector's allocation for the same type with another lifetime. The vector is emptied
/// first; collecting an empty `IntoIter` into a vector of an identically laid-out type keeps
/// the allocation (std's in-place collection), and the allocation test proves it.
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

/// A decoded chat-completion chunk whose strings borrow from the decoder.
///
/// Strings with escapes come out unescaped. Fields of the wrong JSON type count as absent;
/// unknown fields are ignored.
pub struct ChunkView<'a> {
    id: Option<&'a str>,
    model: Option<&'a str>,
    created: Option<u64>,
    system_fingerprint: Option<&'a str>,
    usage: Option<Usage>,
    choices: Vec<RawChoice<'a>>,
    tools: Vec<ToolCall<'a>>,
    home: &'a mut Storage,
}

impl<'a> ChunkView<'a> {
    /// `id` (may be empty: Azure's first chunk has `""`).
    pub fn id(&self) -> Option<&'a str> {
        self.id
    }
    /// `model`.
    pub fn model(&self) -> Option<&'a str> {
        self.model
    }
    /// `created`, when it is a non-negative integer.
    pub fn created(&self) -> Option<u64> {
        self.created
    }
    /// `system_fingerprint`.
    pub fn system_fingerprint(&self) -> Option<&'a str> {
        self.system_fingerprint
    }
    /// `usage`, when it is an object (`null` and absent give `None`).
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }
    /// The object elements of `choices`, in order (empty when `choices` is `[]`, `null` or
    /// absent).
    pub fn choices(&self) -> impl ExactSizeIterator<Item = Choice<'_, 'a>> + '_ {
        self.choices.iter().map(|raw| Choice {
            raw,
            tools: &self.tools[raw.tools_start..raw.tools_end],
        })
    }
    /// The first choice, for the common `n = 1` case.
    pub fn choice(&self) -> Option<Choice<'_, 'a>> {
        self.choices().next()
    }
}

impl Drop for ChunkView<'_> {
    fn drop(&mut self) {
        self.home.choices = recycle(std::mem::take(&mut self.choices));
        self.home.tools = recycle(std::mem::take(&mut self.tools));
    }
}

impl fmt::Debug for ChunkView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkView")
            .field("id", &self.id)
            .field("model", &self.model)
            .field("created", &self.created)
            .field("system_fingerprint", &self.system_fingerprint)
            .field("choices", &self.choices().collect::<Vec<_>>())
            .field("usage", &self.usage)
            .finish()
    }
}

/// The `code` of an API error: providers send a string or a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ErrorCode<'a> {
    /// A string code, such as `"rate_limit_exceeded"`.
    Str(&'a str),
    /// An integer code, such as `400`.
    Int(i64),
    /// A code given as a number too large for `i64`, or with a fraction.
    Float(f64),
}

/// An `{"error": {...}}` object sent in the stream (vLLM, SGLang and OpenAI do).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ApiError<'a> {
    message: Option<&'a str>,
    kind: Option<&'a str>,
    code: Option<ErrorCode<'a>>,
    param: Option<&'a str>,
}

impl<'a> ApiError<'a> {
    /// `error.message`.
    pub fn message(&self) -> Option<&'a str> {
        self.message
    }
    /// `error.type`.
    pub fn kind(&self) -> Option<&'a str> {
        self.kind
    }
    /// `error.code`, a string or a number.
    pub fn code(&self) -> Option<ErrorCode<'a>> {
        self.code
    }
    /// `error.param`.
    pub fn param(&self) -> Option<&'a str> {
        self.param
    }
}

/// Why an event's data is not a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidData {
    /// The data is not valid JSON (syntax, a lone surrogate escape, a raw control character in
    /// a string, trailing data, ...).
    NotJson,
    /// The data is valid JSON but not an object.
    NotObject,
}

impl fmt::Display for InvalidData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidData::NotJson => "event data is not valid JSON",
            InvalidData::NotObject => "event data is JSON but not an object",
        })
    }
}

impl std::error::Error for InvalidData {}

/// What one event's data holds.
#[derive(Debug)]
pub enum Payload<'a> {
    /// A chat-completion chunk (any JSON object that is not an error).
    Chunk(ChunkView<'a>),
    /// The data is exactly `[DONE]`.
    Done,
    /// A JSON object whose `error` is an object.
    ApiError(ApiError<'a>),
    /// Anything else. The stream goes on after it.
    Invalid(InvalidData),
}

/// Decodes event data into [`Payload`]s, reusing its buffers from one event to the next.
///
/// Two paths give the same result. A specialised decoder reads the data where it is and
/// validates all of it (JSON grammar, escapes, UTF-8) while it picks out the chunk's fields:
/// strings without escapes are slices of the data, strings with escapes are unescaped into a
/// side buffer. Anything it cannot prove (an API error object, exponents, lone surrogates,
/// invalid UTF-8, any syntax error) goes to simd-json, which copies the data into a padded
/// scratch buffer and parses it there with `fill_tape_padded` and a reused tape. The caller's
/// bytes are never modified: the raw event stays available next to its decoded form.
///
/// Consecutive chunks of a stream repeat the same envelope (id, model, keys, punctuation)
/// around a new piece of content. The decoder keeps the last chunk it parsed in full (up to
/// 16 KiB) as a template: a chunk that differs from it only inside string values is checked
/// against it byte for byte, and only the strings that changed are parsed again (validated
/// and unescaped by the same code). Any other difference, a key, a number, a bracket, means
/// a full parse. The result is the same either way; tests and a fuzz target hold it to that.
///
/// Invalid UTF-8 in the data is replaced by U+FFFD before decoding, as the SSE rules decode
/// the stream (a rare slow path that allocates). An unpaired surrogate escape such as
/// `"\ud800"` is rejected: the payload is [`InvalidData::NotJson`].
///
/// # Example
/// ```
/// use ssechunk::{ChunkDecoder, Payload};
///
/// let mut decoder = ChunkDecoder::new();
/// let data = br#"{"id":"c1","choices":[{"index":0,"delta":{"content":"Hi\n"}}]}"#;
/// match decoder.decode(data) {
///     Payload::Chunk(chunk) => {
///         assert_eq!(chunk.id(), Some("c1"));
///         assert_eq!(chunk.choice().unwrap().content(), Some("Hi\n"));
///     }
///     other => panic!("{other:?}"),
/// }
/// assert!(matches!(decoder.decode(b"[DONE]"), Payload::Done));
/// ```
pub struct ChunkDecoder {
    fast: fast::Decoder,
    slow: Slow,
    storage: Storage,
}

/// The buffers of the simd-json path.
struct Slow {
    scratch: Vec<u8>,
    repaired: Vec<u8>,
    buffers: Buffers,
    tape: Tape<'static>,
}

impl fmt::Debug for ChunkDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkDecoder").finish_non_exhaustive()
    }
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        Self::new()
    }
}

/// Copies `data` into `buf` followed by the padding simd-json reads past the end.
fn load(buf: &mut Vec<u8>, data: &[u8]) {
    buf.clear();
    buf.extend_from_slice(data);
    buf.resize(data.len() + PADDING.max(simd_json::INPUT_PADDING), 0);
}

impl ChunkDecoder {
    /// A decoder with buffers sized for typical chunks; they grow to the largest event seen.
    pub fn new() -> Self {
        Self {
            fast: fast::Decoder::default(),
            slow: Slow {
                scratch: Vec::with_capacity(4096),
                repaired: Vec::new(),
                buffers: Buffers::new(4096),
                tape: Tape(Vec::with_capacity(256)),
            },
            storage: Storage::default(),
        }
    }

    /// Decodes one event's data.
    ///
    /// The payload's strings borrow from `data` where they had no escapes, and from the
    /// decoder otherwise; `data` itself is never modified.
    pub fn decode<'a>(&'a mut self, data: &'a [u8]) -> Payload<'a> {
        if data == b"[DONE]" {
            return Payload::Done;
        }
        let Self {
            fast,
            slow,
            storage,
        } = self;
        if let Some((texts, spans)) = fast.decode(data) {
            return Payload::Chunk(build(texts, spans, storage));
        }
        slow_decode(slow, storage, data)
    }

    /// Decodes one event's data with simd-json alone, without the specialised fast path.
    ///
    /// Gives the same result as [`ChunkDecoder::decode`], more slowly; it exists so that tests
    /// and fuzz targets can hold the fast path to it.
    #[doc(hidden)]
    pub fn decode_with_simd_json(&mut self, data: &[u8]) -> Payload<'_> {
        if data == b"[DONE]" {
            return Payload::Done;
        }
        slow_decode(&mut self.slow, &mut self.storage, data)
    }
}

/// The simd-json path: parse into the reused tape, then walk it.
fn slow_decode<'a>(slow: &'a mut Slow, storage: &'a mut Storage, data: &[u8]) -> Payload<'a> {
    let Slow {
        scratch,
        repaired,
        buffers,
        tape: slot,
    } = slow;
    let mut tape = std::mem::replace(slot, Tape(Vec::new())).reset();
    load(scratch, data);
    let mut parsed = simd_json::fill_tape_padded(scratch, data.len(), buffers, &mut tape);
    if matches!(&parsed, Err(e) if *e.error() == simd_json::ErrorType::InvalidUtf8) {
        // The rules decode the stream with U+FFFD for invalid bytes before the JSON sees
        // it: a rare slow path that allocates the repaired text once.
        let text = String::from_utf8_lossy(data);
        load(repaired, text.as_bytes());
        parsed = simd_json::fill_tape_padded(repaired, text.len(), buffers, &mut tape);
    }
    let payload = match parsed {
        Ok(()) => walk(&tape.0, storage),
        Err(_) => Payload::Invalid(InvalidData::NotJson),
    };
    *slot = tape.reset();
    payload
}

/// Builds the view from the fast path's spans over the validated texts.
fn build<'a>(texts: Texts<'a>, spans: &Spans, storage: &'a mut Storage) -> ChunkView<'a> {
    let text = |span: Option<Span>| texts.get(span);
    let mut choices: Vec<RawChoice<'a>> = recycle(std::mem::take(&mut storage.choices));
    let mut tools: Vec<ToolCall<'a>> = recycle(std::mem::take(&mut storage.tools));
    tools.extend(spans.tools.iter().map(|t| ToolCall {
        index: t.index,
        id: text(t.id),
        kind: text(t.kind),
        name: text(t.name),
        arguments: text(t.arguments),
    }));
    choices.extend(spans.choices.iter().map(|c| RawChoice {
        index: c.index,
        role: text(c.role),
        content: text(c.content),
        reasoning: text(c.reasoning),
        refusal: text(c.refusal),
        finish_reason: text(c.finish_reason),
        tools_start: c.tools.0,
        tools_end: c.tools.1,
    }));
    ChunkView {
        id: text(spans.id),
        model: text(spans.model),
        created: spans.created,
        system_fingerprint: text(spans.fingerprint),
        usage: spans.usage,
        choices,
        tools,
        home: storage,
    }
}

/// Picks the fields out of a parsed document.
fn walk<'a>(nodes: &[Node<'a>], storage: &'a mut Storage) -> Payload<'a> {
    let Some(&Node::Object { len, .. }) = nodes.first() else {
        return Payload::Invalid(InvalidData::NotObject);
    };
    let mut choices: Vec<RawChoice<'a>> = recycle(std::mem::take(&mut storage.choices));
    let mut tools: Vec<ToolCall<'a>> = recycle(std::mem::take(&mut storage.tools));
    let (mut id, mut model, mut created, mut fingerprint) = (None, None, None, None);
    let (mut usage, mut choices_at, mut error_at) = (None, None, None);
    for (key, at) in fields(nodes, 0, len) {
        match key {
            "id" => id = as_str(&nodes[at]),
            "model" => model = as_str(&nodes[at]),
            "created" => created = as_u64(&nodes[at]),
            "system_fingerprint" => fingerprint = as_str(&nodes[at]),
            "usage" => usage = object_len(nodes, at).map(|n| read_usage(nodes, at, n)),
            "choices" => choices_at = Some(at),
            "error" => error_at = Some(at),
            _ => {}
        }
    }
    if let Some(n) = error_at.and_then(|at| object_len(nodes, at).map(|n| (at, n))) {
        storage.choices = recycle(choices);
        storage.tools = recycle(tools);
        return Payload::ApiError(read_error(nodes, n.0, n.1));
    }
    if let Some(Node::Array { len, .. }) = choices_at.map(|at| nodes[at]) {
        let mut i = choices_at.unwrap_or(0) + 1;
        for _ in 0..len {
            if let Node::Object { len, .. } = nodes[i] {
                choices.push(read_choice(nodes, i, len, &mut tools));
            }
            i = skip(nodes, i);
        }
    }
    Payload::Chunk(ChunkView {
        id,
        model,
        created,
        system_fingerprint: fingerprint,
        usage,
        choices,
        tools,
        home: storage,
    })
}

fn read_choice<'a>(
    nodes: &[Node<'a>],
    at: usize,
    len: usize,
    tools: &mut Vec<ToolCall<'a>>,
) -> RawChoice<'a> {
    let mut choice = RawChoice {
        tools_start: tools.len(),
        tools_end: tools.len(),
        ..RawChoice::default()
    };
    let mut delta = None;
    for (key, v) in fields(nodes, at, len) {
        match key {
            "index" => choice.index = as_u64(&nodes[v]).unwrap_or(0),
            "finish_reason" => choice.finish_reason = as_str(&nodes[v]),
            "delta" => delta = Some(v),
            _ => {}
        }
    }
    let Some((d, dlen)) = delta.and_then(|d| object_len(nodes, d).map(|n| (d, n))) else {
        return choice;
    };
    // `reasoning_content` wins over `reasoning` whenever it is a string, whatever the order.
    let (mut reasoning_content, mut reasoning, mut calls) = (None, None, None);
    for (key, v) in fields(nodes, d, dlen) {
        match key {
            "role" => choice.role = as_str(&nodes[v]),
            "content" => choice.content = as_str(&nodes[v]),
            "refusal" => choice.refusal = as_str(&nodes[v]),
            "reasoning_content" => reasoning_content = as_str(&nodes[v]),
            "reasoning" => reasoning = as_str(&nodes[v]),
            "tool_calls" => calls = Some(v),
            _ => {}
        }
    }
    choice.reasoning = reasoning_content.or(reasoning);
    if let Some(Node::Array { len, .. }) = calls.map(|c| nodes[c]) {
        let mut i = calls.unwrap_or(0) + 1;
        for _ in 0..len {
            if let Node::Object { len, .. } = nodes[i] {
                tools.push(read_tool_call(nodes, i, len));
            }
            i = skip(nodes, i);
        }
    }
    choice.tools_end = tools.len();
    choice
}

fn read_tool_call<'a>(nodes: &[Node<'a>], at: usize, len: usize) -> ToolCall<'a> {
    let mut call = ToolCall::default();
    for (key, v) in fields(nodes, at, len) {
        match key {
            "index" => call.index = as_u64(&nodes[v]).unwrap_or(0),
            "id" => call.id = as_str(&nodes[v]),
            "type" => call.kind = as_str(&nodes[v]),
            "function" => {
                let (mut name, mut arguments) = (None, None);
                if let Some(n) = object_len(nodes, v) {
                    for (key, f) in fields(nodes, v, n) {
                        match key {
                            "name" => name = as_str(&nodes[f]),
                            "arguments" => arguments = as_str(&nodes[f]),
                            _ => {}
                        }
                    }
                }
                call.name = name;
                call.arguments = arguments;
            }
            _ => {}
        }
    }
    call
}

fn read_usage(nodes: &[Node<'_>], at: usize, len: usize) -> Usage {
    let mut usage = Usage::default();
    for (key, v) in fields(nodes, at, len) {
        let count = || as_u64(&nodes[v]).unwrap_or(0);
        match key {
            "prompt_tokens" => usage.prompt_tokens = count(),
            "completion_tokens" => usage.completion_tokens = count(),
            "total_tokens" => usage.total_tokens = count(),
            "prompt_tokens_details" => usage.cached_tokens = detail(nodes, v, "cached_tokens"),
            "completion_tokens_details" => {
                usage.reasoning_tokens = detail(nodes, v, "reasoning_tokens")
            }
            _ => {}
        }
    }
    usage
}

/// `nodes[at][key]` as a count, when `nodes[at]` is an object holding it as one.
fn detail(nodes: &[Node<'_>], at: usize, key: &str) -> Option<u64> {
    let len = object_len(nodes, at)?;
    let mut found = None;
    for (k, v) in fields(nodes, at, len) {
        if k == key {
            found = as_u64(&nodes[v]);
        }
    }
    found
}

fn read_error<'a>(nodes: &[Node<'a>], at: usize, len: usize) -> ApiError<'a> {
    let mut error = ApiError::default();
    for (key, v) in fields(nodes, at, len) {
        match key {
            "message" => error.message = as_str(&nodes[v]),
            "type" => error.kind = as_str(&nodes[v]),
            "param" => error.param = as_str(&nodes[v]),
            "code" => {
                error.code = match nodes[v] {
                    Node::String(s) => Some(ErrorCode::Str(s)),
                    Node::Static(StaticNode::I64(n)) => Some(ErrorCode::Int(n)),
                    Node::Static(StaticNode::U64(n)) => {
                        Some(i64::try_from(n).map_or(ErrorCode::Float(n as f64), ErrorCode::Int))
                    }
                    Node::Static(StaticNode::F64(n)) => Some(ErrorCode::Float(n)),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    error
}

/// Iterates over the `(key, value index)` pairs of the object at `at` with `len` keys.
fn fields<'n, 'a>(
    nodes: &'n [Node<'a>],
    at: usize,
    len: usize,
) -> impl Iterator<Item = (&'a str, usize)> + 'n {
    let mut i = at + 1;
    (0..len).map(move |_| {
        let key = as_str(&nodes[i]).unwrap_or("");
        let value = i + 1;
        i = skip(nodes, value);
        (key, value)
    })
}

fn object_len(nodes: &[Node<'_>], at: usize) -> Option<usize> {
    match nodes[at] {
        Node::Object { len, .. } => Some(len),
        _ => None,
    }
}

/// Skips the value starting at `i`, returning the index after it.
fn skip(nodes: &[Node<'_>], i: usize) -> usize {
    match nodes[i] {
        Node::Object { count, .. } | Node::Array { count, .. } => i + count + 1,
        _ => i + 1,
    }
}

fn as_str<'a>(node: &Node<'a>) -> Option<&'a str> {
    match *node {
        Node::String(s) => Some(s),
        _ => None,
    }
}

fn as_u64(node: &Node<'_>) -> Option<u64> {
    match *node {
        Node::Static(StaticNode::U64(n)) => Some(n),
        Node::Static(StaticNode::I64(n)) => u64::try_from(n).ok(),
        _ => None,
    }
}

/// Which path of [`ChunkDecoder::decode`] decoded a document; see
/// [`ChunkDecoder::decode_traced`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodePath {
    /// The data was `[DONE]`, recognised before any JSON is read.
    Done,
    /// The fast path, by reusing the template (the last document it parsed in full).
    Template,
    /// The fast path, parsing the document in full.
    Fast,
    /// simd-json: the fast path declined.
    SimdJson,
}

/// Entry points that expose the decoder's paths one at a time, so that tests and fuzz targets
/// can hold each of them to an independent reference and count how often each one ran. Not
/// part of the API.
impl ChunkDecoder {
    /// [`ChunkDecoder::decode`], also saying which path decoded the data.
    #[doc(hidden)]
    pub fn decode_traced<'a>(&'a mut self, data: &'a [u8]) -> (Payload<'a>, DecodePath) {
        if data == b"[DONE]" {
            return (Payload::Done, DecodePath::Done);
        }
        let Self {
            fast,
            slow,
            storage,
        } = self;
        if let Some((texts, spans, reused)) = fast.decode_traced(data) {
            let path = if reused {
                DecodePath::Template
            } else {
                DecodePath::Fast
            };
            return (Payload::Chunk(build(texts, spans, storage)), path);
        }
        (slow_decode(slow, storage, data), DecodePath::SimdJson)
    }

    /// The fast path alone (template reuse included): `None` when it declines, where
    /// [`ChunkDecoder::decode`] would hand the data to simd-json. `[DONE]` is not JSON, so
    /// it declines that too.
    #[doc(hidden)]
    pub fn decode_fast_only<'a>(&'a mut self, data: &'a [u8]) -> Option<Payload<'a>> {
        let Self { fast, storage, .. } = self;
        let (texts, spans) = fast.decode(data)?;
        Some(Payload::Chunk(build(texts, spans, storage)))
    }
}
