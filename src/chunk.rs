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

use crate::Dialect;
use crate::PADDING;
use crate::decode::{Dialects, Parts};
use crate::fast::{self, Span, Spans, Texts};

/// Token counts, normalised: the same names for every dialect.
///
/// For chat-completion chunks, from `usage` (or, when a chunk has no `usage`, from Groq's
/// `x_groq.usage`): `input_tokens` is `prompt_tokens`, `output_tokens` is
/// `completion_tokens`. A count that is absent, or not a non-negative integer, is 0.
///
/// With the `serde` feature it is written with these field names (the message contract's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Usage {
    /// Tokens of the prompt, cached ones included (`prompt_tokens`).
    pub input_tokens: u64,
    /// Tokens generated, reasoning included (`completion_tokens`).
    pub output_tokens: u64,
    /// The total as the provider sent it (`total_tokens`; 0 when absent). In the other
    /// dialects: input + output when the provider sends no total (always for Anthropic, whose
    /// usage has none).
    pub total_tokens: u64,
    /// Prompt tokens read from the provider's cache (`prompt_tokens_details.cached_tokens`),
    /// when sent.
    pub cached_input_tokens: Option<u64>,
    /// Output tokens spent on reasoning (`completion_tokens_details.reasoning_tokens`), when
    /// sent.
    pub reasoning_tokens: Option<u64>,
}

/// Why a choice stopped, normalised across providers.
///
/// The raw reason is always kept beside it ([`Choice::finish_reason`]). With the `serde`
/// feature it is written as its [`Finish::as_str`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Finish {
    /// The model finished its reply (chat: `stop`).
    Stop,
    /// A token limit cut the reply (chat: `length`).
    Length,
    /// The model is waiting for tool results (chat: `tool_calls`, and the older
    /// `function_call`).
    ToolCalls,
    /// A content filter stopped or withheld the reply (chat: `content_filter`).
    ContentFilter,
    /// The provider failed while generating (chat: `error`).
    Error,
    /// Any other reason.
    Other,
}

impl Finish {
    /// The normalised name: `stop`, `length`, `tool_calls`, `content_filter`, `error` or
    /// `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Finish::Stop => "stop",
            Finish::Length => "length",
            Finish::ToolCalls => "tool_calls",
            Finish::ContentFilter => "content_filter",
            Finish::Error => "error",
            Finish::Other => "other",
        }
    }

    /// Normalises a chat-completion `finish_reason`.
    ///
    /// # Example
    /// ```
    /// use ssechunk::Finish;
    ///
    /// assert_eq!(Finish::from_chat("function_call"), Finish::ToolCalls);
    /// assert_eq!(Finish::from_chat("eos"), Finish::Other);
    /// ```
    pub fn from_chat(raw: &str) -> Finish {
        match raw {
            "stop" => Finish::Stop,
            "length" => Finish::Length,
            "tool_calls" | "function_call" => Finish::ToolCalls,
            "content_filter" => Finish::ContentFilter,
            "error" => Finish::Error,
            _ => Finish::Other,
        }
    }
}

impl fmt::Display for Finish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tool-call fragment of a delta (`delta.tool_calls[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ToolCall<'a> {
    index: Option<u64>,
    id: Option<&'a str>,
    kind: Option<&'a str>,
    name: Option<&'a str>,
    arguments: Option<&'a str>,
}

impl<'a> ToolCall<'a> {
    /// `index`: which tool call this fragment belongs to; `None` when absent or `null` (some
    /// providers send parallel calls without one: see [`crate::Accumulator`] for how such
    /// fragments are assigned).
    pub fn index(&self) -> Option<u64> {
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
    /// `function.arguments`: a fragment of the arguments' JSON text. Arguments sent as a JSON
    /// object or array instead of a string are given as that value's JSON text.
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
    reasoning_details: Option<&'a str>,
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
    /// `delta.content`: the next piece of the reply text. When `content` is an array of typed
    /// parts (Mistral's), the texts of its `text` parts, joined.
    pub fn content(&self) -> Option<&'a str> {
        self.raw.content
    }
    /// `delta.reasoning_content` when it is a non-empty string, else `delta.reasoning` when it
    /// is a string, else `reasoning_content` (even empty): providers send one or the other, or
    /// both with the same text. It is followed by the texts of any `thinking` parts of an array
    /// `content`.
    pub fn reasoning(&self) -> Option<&'a str> {
        self.raw.reasoning
    }
    /// `delta.refusal`.
    pub fn refusal(&self) -> Option<&'a str> {
        self.raw.refusal
    }
    /// `delta.reasoning_details` (OpenRouter's opaque reasoning, which must be sent back with
    /// the next request for some models): the array as compact JSON text, such as
    /// `[{"type":"reasoning.encrypted","data":"...","index":0}]`. `None` when absent or `null`.
    ///
    /// The text is written from the parsed array (no whitespace, the same escapes for every
    /// provider), so it always starts with `[` and ends with `]`. When the array was sent in
    /// that form already, it is not rewritten.
    pub fn reasoning_details(&self) -> Option<&'a str> {
        self.raw.reasoning_details
    }
    /// `finish_reason`, raw: unknown values and `""` are kept.
    pub fn finish_reason(&self) -> Option<&'a str> {
        self.raw.finish_reason
    }
    /// The normalised finish reason, when `finish_reason` is a non-empty string.
    pub fn finish(&self) -> Option<Finish> {
        self.raw
            .finish_reason
            .filter(|r| !r.is_empty())
            .map(Finish::from_chat)
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
            .field("reasoning_details", &self.reasoning_details())
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
    /// The view's counts, kept here rather than in the view so that a payload stays small
    /// (it is moved once or twice per event).
    created: Option<u64>,
    usage: Option<Usage>,
}

/// Reuses a vector's allocation for the same type with another lifetime. The vector is emptied
/// first; collecting an empty `IntoIter` into a vector of an identically laid-out type keeps
/// the allocation (std's in-place collection), and the allocation test proves it. Inlined, it
/// compiles to nothing but the emptying; called, it costs tens of instructions per event.
#[inline(always)]
pub(crate) fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

/// A decoded chat-completion chunk whose strings borrow from the decoder.
///
/// Strings with escapes come out unescaped; `null` counts as absent; unknown fields are
/// ignored. The envelope's strings (`id`, `model`, `system_fingerprint`, `delta.role`,
/// a tool call's `type`) and counts (`created`, token counts) of another JSON type count as
/// absent; any other field the view reads, when it has a shape the decoder does not know,
/// makes the event [`InvalidData::UnexpectedShape`] rather than a chunk that silently lacks
/// it (see [`ChunkDecoder`] for the shapes).
pub struct ChunkView<'a> {
    id: Option<&'a str>,
    model: Option<&'a str>,
    system_fingerprint: Option<&'a str>,
    choices: Vec<RawChoice<'a>>,
    tools: Vec<ToolCall<'a>>,
    /// The buffers the view lends back on drop, and its counts.
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
        self.home.created
    }
    /// `system_fingerprint`.
    pub fn system_fingerprint(&self) -> Option<&'a str> {
        self.system_fingerprint
    }
    /// `usage`, normalised; when the chunk has none (absent or `null`), Groq's `x_groq.usage`.
    pub fn usage(&self) -> Option<Usage> {
        self.home.usage
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
        // Most chunks carry no tool call: their view never took the tools' buffer.
        if self.tools.capacity() != 0 {
            self.home.tools = recycle(std::mem::take(&mut self.tools));
        }
    }
}

impl fmt::Debug for ChunkView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkView")
            .field("id", &self.id)
            .field("model", &self.model)
            .field("created", &self.home.created)
            .field("system_fingerprint", &self.system_fingerprint)
            .field("choices", &self.choices().collect::<Vec<_>>())
            .field("usage", &self.home.usage)
            .finish()
    }
}

/// The `code` of an API error: providers send a string or an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode<'a> {
    /// A string code, such as `"rate_limit_exceeded"`.
    Str(&'a str),
    /// An integer code, such as `400`.
    Int(i64),
}

/// An error that the API sent instead of, or in the middle of, its reply.
///
/// Providers send errors in several shapes; each is an error (see [`ChunkDecoder`] and
/// [`crate::ChunkStream`] for where they are recognised). The *error object* is the `error`
/// member when it is an object, else the JSON object itself:
///
/// | shape | example |
/// | --- | --- |
/// | an `error` object (OpenAI, vLLM, Gemini) | `data: {"error":{"message":"m","type":"t","code":429}}` |
/// | an `error` string (text-generation-inference) | `data: {"error":"m","error_type":"validation"}` |
/// | an object that says it is one (vLLM) | `data: {"object":"error","message":"m","code":400}` |
/// | an `event: error`, any data (Anthropic) | `event: error` + `data: {"type":"error","error":{"type":"overloaded_error","message":"m"}}` |
/// | an `event: error` with a flat body | `event: error` + `data: {"code":400,"details":"m"}` |
/// | an `error:` line (llama.cpp) | `error: {"code":400,"message":"m","type":"t"}` |
/// | a plain JSON body, no SSE framing | `{"error":{"code":400,"message":"m"}}` |
///
/// # Example
/// Each shape, through a [`crate::ChunkStream`]:
/// ```
/// use ssechunk::{ChunkStream, ErrorCode, Outcome, Payload};
///
/// let shapes: [(&[u8], &str, Option<&str>, Option<ErrorCode<'_>>); 7] = [
///     (b"data: {\"error\":{\"message\":\"Rate limit\",\"type\":\"requests\",\"code\":429}}\n\n",
///      "Rate limit", Some("requests"), Some(ErrorCode::Int(429))),
///     (b"data: {\"error\":\"prompt too long\",\"error_type\":\"validation\"}\n\n",
///      "prompt too long", Some("validation"), None),
///     (b"data: {\"object\":\"error\",\"message\":\"max_tokens too large\",\"type\":\"BadRequestError\",\"code\":400}\n\n",
///      "max_tokens too large", Some("BadRequestError"), Some(ErrorCode::Int(400))),
///     (b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
///      "Overloaded", Some("overloaded_error"), None),
///     (b"event: error\ndata: {\"code\":400,\"details\":\"bad request\"}\n\n",
///      "bad request", None, Some(ErrorCode::Int(400))),
///     (b"error: {\"code\":400,\"message\":\"too long\",\"type\":\"invalid_request_error\"}\n\n",
///      "too long", Some("invalid_request_error"), Some(ErrorCode::Int(400))),
///     (b"{\n  \"error\": {\"message\": \"context too long\", \"code\": \"context_length_exceeded\"}\n}\n",
///      "context too long", None, Some(ErrorCode::Str("context_length_exceeded"))),
/// ];
/// for (body, message, kind, code) in shapes {
///     let mut stream = ChunkStream::new();
///     stream.feed(body);
///     stream.finish();
///     let mut found = 0;
///     while let Some(outcome) = stream.next_outcome() {
///         let error = match outcome? {
///             Outcome::Event { payload: Payload::ApiError(e), .. } | Outcome::Error(e) => e,
///             _ => continue,
///         };
///         assert_eq!((error.message(), error.kind(), error.code()), (Some(message), kind, code));
///         found += 1;
///     }
///     assert_eq!(found, 1);
/// }
/// # Ok::<(), ssechunk::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApiError<'a> {
    message: Option<&'a str>,
    kind: Option<&'a str>,
    code: Option<ErrorCode<'a>>,
    param: Option<&'a str>,
}

impl<'a> ApiError<'a> {
    /// The error object's `message`, else its `detail` or `details` when a string, else the
    /// whole text that carried the error (an `error` string is the message itself).
    pub fn message(&self) -> Option<&'a str> {
        self.message
    }
    /// The error object's `type`, else its `status` (Gemini's `"RESOURCE_EXHAUSTED"`), when a
    /// string; for an `error` string, `error_type`. The literal `"error"` that Anthropic puts
    /// at the top level of an `event: error` body is not a type.
    pub fn kind(&self) -> Option<&'a str> {
        self.kind
    }
    /// The error object's `code`, when a string or an integer.
    pub fn code(&self) -> Option<ErrorCode<'a>> {
        self.code
    }
    /// The error object's `param`, when a string.
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
    /// The data is an object, but a field the decoder reads has a shape it does not know (for
    /// example `delta.content` as a number, or a content part of an unknown type). The event
    /// is reported rather than decoded without that field.
    UnexpectedShape {
        /// The field's name, such as `"content"` or `"arguments"`.
        field: &'static str,
    },
}

impl fmt::Display for InvalidData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidData::NotJson => f.write_str("event data is not valid JSON"),
            InvalidData::NotObject => f.write_str("event data is JSON but not an object"),
            InvalidData::UnexpectedShape { field } => {
                write!(
                    f,
                    "event data has a `{field}` of a shape the decoder does not know"
                )
            }
        }
    }
}

impl std::error::Error for InvalidData {}

/// What one event holds.
#[derive(Debug)]
pub enum Payload<'a> {
    /// A chat-completion chunk (in a chat stream, any JSON object that is not an error).
    Chunk(ChunkView<'a>),
    /// The data is exactly `[DONE]`.
    Done,
    /// An error sent by the API: an `event: error`, or data whose `error` is an object or a
    /// non-empty string.
    ApiError(ApiError<'a>),
    /// Anything else. The stream goes on after it.
    Invalid(InvalidData),
    /// An event of the Anthropic Messages API, the OpenAI Responses API or Gemini, in the
    /// vocabulary every dialect shares.
    Parts(Parts<'a>),
}

/// Decodes event data into [`Payload`]s, reusing its buffers from one event to the next.
///
/// # What an event becomes
/// - An event whose type is `error` is an [`ApiError`], whatever its data.
/// - Data that is exactly `[DONE]` is [`Payload::Done`].
/// - A JSON object whose `error` member is an object, or a non-empty string, is an
///   [`ApiError`] (`"error": null` and `"error": ""` are not); so is an object whose `object`
///   or `type` member is `"error"` (vLLM's error responses), its own error object.
/// - Any other JSON object is a chunk. `null` counts as absent everywhere. The shapes taken:
///   `choices` an array of objects; a choice's `index` a non-negative integer (0 when absent),
///   `finish_reason` a string, `delta` an object; `delta.content` a string, or an array of
///   typed parts (`{"type":"text","text":S}` is content, `{"type":"thinking","thinking":T}`
///   is reasoning, T a string or an array of text parts); `reasoning_content`, `reasoning`
///   and `refusal` strings; `tool_calls` an array of objects, whose `index` is a
///   non-negative integer or absent, `id` a string, `function` an object with a string
///   `name` and `arguments` a string (or a JSON object or array, given as its JSON text);
///   `reasoning_details` an array (given as its JSON text); `usage` an object. A field of another shape makes the event
///   [`InvalidData::UnexpectedShape`]: nothing the decoder reads is dropped without a trace.
///   The envelope's `id`, `model`, `system_fingerprint`, `created`, `delta.role`, a tool
///   call's `type` and the token counts are read when of their type and absent otherwise.
/// - Anything else is [`Payload::Invalid`].
///
/// # How
/// Two paths give the same result. A specialised decoder reads the data where it is and
/// validates all of it (JSON grammar, escapes, UTF-8) while it picks out the chunk's fields:
/// strings without escapes are slices of the data, strings with escapes are unescaped into a
/// side buffer. Anything it cannot prove (an error, a content-part array, exponents, lone
/// surrogates, invalid UTF-8, any syntax error) goes to simd-json, which copies the data into
/// a padded scratch buffer and parses it there with `fill_tape_padded` and a reused tape. The
/// caller's bytes are never modified: the raw event stays available next to its decoded form.
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
/// match decoder.decode_event(b"error", br#"{"code":400,"details":"bad request"}"#) {
///     Payload::ApiError(e) => assert_eq!(e.message(), Some("bad request")),
///     other => panic!("{other:?}"),
/// }
/// ```
pub struct ChunkDecoder {
    fast: fast::Decoder,
    slow: Slow,
    storage: Storage,
    /// The stream's dialect: fixed by the caller, or detected (`None` until an event
    /// identifies one; chat until then).
    dialect: Option<Dialect>,
    fixed: bool,
    dialects: Dialects,
}

/// The buffers of a simd-json path: empty until the first event that takes it, so that a
/// stream whose events all take a specialised path never allocates them. The chat chunks'
/// path (`Slow`) and the other dialects' (`decode::Json`) each have one; `P` is where a
/// decoded field's text lies in `joined`.
pub(crate) struct SimdJson<P> {
    pub(crate) scratch: Vec<u8>,
    /// The data decoded with U+FFFD for invalid UTF-8, when it has any.
    pub(crate) lossy: String,
    /// Sized by the first text parsed here; they grow to the largest.
    pub(crate) buffers: Option<Buffers>,
    pub(crate) tape: Tape<'static>,
    /// Texts the data does not hold as one string (joined content parts, arguments sent as
    /// JSON values, JSON text written from the tape).
    pub(crate) joined: String,
    /// The fields whose text lies in `joined`, filled in once it is complete.
    pub(crate) pending: Vec<P>,
}

impl<P> Default for SimdJson<P> {
    fn default() -> Self {
        Self {
            scratch: Vec::new(),
            lossy: String::new(),
            buffers: None,
            tape: Tape(Vec::new()),
            joined: String::new(),
            pending: Vec::new(),
        }
    }
}

/// The chat chunks' simd-json path.
type Slow = SimdJson<Pending>;

/// A field of the view whose text lies in [`SimdJson::joined`] at `start..end`.
#[derive(Debug, Clone, Copy)]
struct Pending {
    slot: Slot,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Content(usize),
    Reasoning(usize),
    ReasoningDetails(usize),
    Arguments(usize),
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
pub(crate) fn load(buf: &mut Vec<u8>, data: &[u8]) {
    buf.clear();
    buf.extend_from_slice(data);
    buf.resize(data.len() + PADDING.max(simd_json::INPUT_PADDING), 0);
}

/// Which error rules apply to a text parsed by [`ChunkDecoder::error_in`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorRule {
    /// An `error:` line: any JSON object is an error.
    AnyObject,
    /// A plain JSON body: an object with an `error` object or non-empty string.
    ErrorMember,
}

impl ChunkDecoder {
    /// A decoder that has allocated nothing yet: its buffers are allocated by the first events
    /// that need them and grow to the largest event seen (up to 16 KiB for the template of the
    /// fast path, as large as the largest event for the simd-json path, which most streams
    /// never take). See [`ChunkDecoder::release`] to give them back.
    pub fn new() -> Self {
        Self {
            fast: fast::Decoder::default(),
            slow: Slow::default(),
            storage: Storage::default(),
            dialect: None,
            fixed: false,
            dialects: Dialects::default(),
        }
    }

    /// A decoder for a stream of `dialect`, or, with `None`, of the dialect its first event
    /// that identifies one says ([`Dialect::detect`]; Chat Completions until then), as
    /// [`ChunkDecoder::new`] does.
    pub fn with_dialect(dialect: Option<Dialect>) -> Self {
        Self {
            dialect,
            fixed: dialect.is_some(),
            ..Self::new()
        }
    }

    /// The stream's dialect: the one fixed, else the one detected so far (`None` until an
    /// event identifies one).
    pub fn dialect(&self) -> Option<Dialect> {
        self.dialect
    }

    /// Detects the dialect (without one fixed) from an event that may identify another one
    /// than the stream's so far: the first events, until one identifies a dialect; an event
    /// whose type is Anthropic's or the Responses API's; an event without such a type after
    /// those dialects' events, or in Gemini (whose events are parsed whole anyway); and, in
    /// Chat Completions, an event whose first member is Gemini's. Input that joins streams
    /// of several dialects (a recorded mix) is so decoded stream by stream, at no cost to a
    /// stream of chat chunks.
    #[inline]
    fn redetect(&mut self, event_type: &[u8], data: &[u8]) {
        // Another event of a typed dialect's stream (most of its events) says nothing new.
        if let Some(Dialect::Anthropic | Dialect::Responses) = self.dialect
            && Dialect::of_type(event_type) == self.dialect
        {
            return;
        }
        let gemini = |data: &[u8]| {
            // Most chunks open with a member that starts with another letter: no search then.
            let quick = data
                .get(..3)
                .is_some_and(|open| open[..2] == *b"{\"" && !matches!(open[2], b'c' | b'u' | b'p'));
            !quick && gemini_first_key(data)
        };
        let typed = event_type != b"message" && event_type != b"error";
        let look = match self.dialect {
            None | Some(Dialect::Anthropic | Dialect::Responses) => true,
            Some(Dialect::Chat) => typed || gemini(data),
            Some(Dialect::Gemini) => typed || !gemini(data),
        };
        if look
            && let Some(dialect) = Dialect::detect(event_type, data)
            && self.dialect != Some(dialect)
        {
            // Another dialect's stream begins: what the last one's decoder learnt is not its.
            if self.dialect.is_some() {
                self.dialects.reset();
            }
            self.dialect = Some(dialect);
        }
    }

    /// Forgets the stream: its detected dialect and what its dialect's decoder learnt.
    pub fn reset(&mut self) {
        if !self.fixed {
            self.dialect = None;
        }
        self.dialects.reset();
    }

    /// Frees every buffer the decoder holds, the template of the last chunk parsed in full
    /// included; the decoder is then as [`ChunkDecoder::new`] left it, and a view borrowed
    /// from it cannot be alive.
    ///
    /// For a stream that went quiet: between events the decoder holds nothing that a later
    /// event needs, only what makes it faster. The next event costs what a new decoder's
    /// first event costs: a few allocations (the template and its bookkeeping, a few hundred
    /// bytes for a typical chunk) and a full parse instead of a reuse of the template. Do not
    /// call it after every event of a busy stream: decoding then allocates per event.
    ///
    /// What the stream's dialect decoder learnt (which content block is which tool call, the
    /// token counts so far) is kept: it is what the stream's later events need.
    pub fn release(&mut self) {
        let dialects = std::mem::take(&mut self.dialects).released();
        *self = Self {
            dialect: self.dialect,
            fixed: self.fixed,
            dialects,
            ..Self::new()
        };
    }

    /// Decodes the data of an event of the default type (`message`); see
    /// [`ChunkDecoder::decode_event`].
    ///
    /// The payload's strings borrow from `data` or from the decoder (strings with escapes,
    /// unescaped; the strings of a chunk decoded against the last chunk parsed in full);
    /// `data` itself is never modified.
    pub fn decode<'a>(&'a mut self, data: &'a [u8]) -> Payload<'a> {
        self.decode_event(b"message", data)
    }

    /// Decodes one event, given its type (the `event` field, `message` when there was none)
    /// and its data.
    ///
    /// An event of type `error` is an [`ApiError`] whatever its data: its message is the
    /// error object's, else the whole data text. In a chat stream every other event is decoded
    /// by its data, whatever its type; the type also identifies the other dialects' events
    /// (Anthropic's `message_start`, the Responses API's `response.*`, ...: see [`Dialect`]),
    /// which are decoded into [`Payload::Parts`].
    #[inline]
    pub fn decode_event<'a>(&'a mut self, event_type: &[u8], data: &'a [u8]) -> Payload<'a> {
        // The path is not asked for: its stores vanish once `decode_on` is inlined.
        self.decode_on(event_type, data, &mut DecodePath::Done, false)
    }

    /// Whether the stream's dialect is one whose events have types of their own (Anthropic
    /// Messages, the Responses API): where [`ChunkDecoder::repeat`] may apply.
    #[inline]
    pub(crate) fn typed(&self) -> bool {
        matches!(self.dialect, Some(Dialect::Anthropic | Dialect::Responses))
    }

    /// For [`crate::ChunkStream`]: whether the event of the last event's type whose data
    /// begins `rest` (the parser's unread bytes from the data on, the end of its line not
    /// found yet) reuses the dialect's template up to an LF and the blank line's LF: the
    /// data's length, at most `max`. [`ChunkDecoder::decode_repeated`] of that data decodes
    /// it then. `None`: the event goes the usual way.
    #[inline]
    pub(crate) fn repeat(&mut self, event_type: &[u8], rest: &[u8], max: usize) -> Option<usize> {
        match self.dialect {
            // A typed dialect's event of its own type: `redetect` would leave it as it is
            // (and it is not an `error` event).
            Some(dialect @ (Dialect::Anthropic | Dialect::Responses))
                if Dialect::of_type(event_type) == Some(dialect) =>
            {
                self.dialects.repeat(dialect, rest, max)
            }
            _ => None,
        }
    }

    /// [`ChunkDecoder::decode_event`] of the data [`ChunkDecoder::repeat`] just found: the
    /// template holds its values already.
    #[inline]
    pub(crate) fn decode_repeated<'a>(
        &'a mut self,
        event_type: &[u8],
        data: &'a [u8],
    ) -> Payload<'a> {
        let Some(dialect) = self.dialect else {
            return self.decode_event(event_type, data);
        };
        self.dialects
            .decode(dialect, event_type, data, true, true, &mut DecodePath::Done)
    }

    /// [`ChunkDecoder::decode_event`], also saying which path decoded the data.
    #[doc(hidden)]
    pub fn decode_event_traced<'a>(
        &'a mut self,
        event_type: &[u8],
        data: &'a [u8],
    ) -> (Payload<'a>, DecodePath) {
        let mut path = DecodePath::Done;
        let payload = self.decode_on(event_type, data, &mut path, false);
        (payload, path)
    }

    /// [`ChunkDecoder::decode_event`] with simd-json alone: neither the chat fast path nor the
    /// other dialects' flat scanner. The same result, more slowly; it exists so that tests and
    /// fuzz targets can hold the specialised paths to it (a stream decoded by this decoder
    /// next to one decoded by [`ChunkDecoder::decode_event_traced`]).
    #[doc(hidden)]
    pub fn decode_event_with_simd_json<'a>(
        &'a mut self,
        event_type: &[u8],
        data: &'a [u8],
    ) -> Payload<'a> {
        self.decode_on(event_type, data, &mut DecodePath::Done, true)
    }

    /// [`ChunkDecoder::decode_event`], writing the path that decoded the data to `path`; with
    /// `simd_only`, on the simd-json path alone.
    #[inline(always)]
    fn decode_on<'a>(
        &'a mut self,
        event_type: &[u8],
        data: &'a [u8],
        path: &mut DecodePath,
        simd_only: bool,
    ) -> Payload<'a> {
        // The common case, another chat chunk of a chat stream, is told at a glance.
        let chat_again = self.dialect == Some(Dialect::Chat)
            && event_type == b"message"
            && data
                .get(..3)
                .is_some_and(|open| open[..2] == *b"{\"" && !matches!(open[2], b'c' | b'u' | b'p'));
        if !self.fixed && !chat_again {
            self.redetect(event_type, data);
        }
        let Self {
            fast,
            slow,
            storage,
            dialect,
            dialects,
            ..
        } = self;
        if event_type == b"error" {
            let error = error_in(slow, data, Rule::Event).unwrap_or_default();
            dialects.saw_error(&error);
            *path = DecodePath::SimdJson;
            return Payload::ApiError(error);
        }
        if data == b"[DONE]" {
            *path = DecodePath::Done;
            return Payload::Done;
        }
        if let Some(dialect @ (Dialect::Anthropic | Dialect::Responses | Dialect::Gemini)) =
            *dialect
        {
            return dialects.decode(dialect, event_type, data, !simd_only, false, path);
        }
        if simd_only {
            *path = DecodePath::SimdJson;
            return slow_decode(slow, storage, data);
        }
        if let Some((texts, spans, reused)) = fast.decode_traced(data) {
            *path = if reused {
                DecodePath::Template
            } else {
                DecodePath::Fast
            };
            return Payload::Chunk(build(texts, spans, storage));
        }
        *path = DecodePath::SimdJson;
        slow_decode(slow, storage, data)
    }

    /// Decodes one event's data with simd-json alone, without the specialised fast path.
    ///
    /// Gives the same result as [`ChunkDecoder::decode`], more slowly; it exists so that tests
    /// and fuzz targets can hold the fast path to it.
    #[doc(hidden)]
    pub fn decode_with_simd_json<'a>(&'a mut self, data: &'a [u8]) -> Payload<'a> {
        if data == b"[DONE]" {
            return Payload::Done;
        }
        slow_decode(&mut self.slow, &mut self.storage, data)
    }

    /// The API error that an HTTP response's body holds, when the body is a JSON error in
    /// one of the shapes [`ApiError`] lists:
    ///
    /// - a JSON object whose `error` member is an object (OpenAI, pretty-printed or not;
    ///   Gemini's `{"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED"}}`) or a
    ///   non-empty string (`{"error":"m","error_type":"validation"}`);
    /// - a flat JSON object with a string `message`, `detail` or `details`
    ///   (`{"detail":"Not Found"}`, `{"object":"error","message":"m","code":400}`): the object
    ///   itself is the error object;
    /// - a JSON array whose first element is one of those objects (Gemini sometimes answers
    ///   `[{"error":{...}}]`).
    ///
    /// Anything else, such as an HTML page, plain text or a chat completion sent without
    /// streaming, is `None`. Leading and trailing whitespace is allowed; invalid UTF-8 is
    /// replaced by U+FFFD first. The body is not read as SSE: an error sent as an event comes
    /// out of [`crate::ChunkStream`] instead.
    ///
    /// # Example
    /// ```
    /// use ssechunk::{ChunkDecoder, ErrorCode};
    ///
    /// let mut decoder = ChunkDecoder::new();
    /// let body = b"{\n  \"error\": {\n    \"message\": \"Rate limit reached\",\n    \"type\": \"requests\",\n    \"code\": \"rate_limit_exceeded\"\n  }\n}\n";
    /// let error = decoder.decode_error_body(body).expect("an error");
    /// assert_eq!(error.message(), Some("Rate limit reached"));
    /// assert_eq!(error.kind(), Some("requests"));
    /// assert_eq!(error.code(), Some(ErrorCode::Str("rate_limit_exceeded")));
    ///
    /// let gemini = br#"[{"error":{"code":429,"message":"Quota","status":"RESOURCE_EXHAUSTED"}}]"#;
    /// let error = decoder.decode_error_body(gemini).expect("an error");
    /// assert_eq!((error.message(), error.kind()), (Some("Quota"), Some("RESOURCE_EXHAUSTED")));
    /// assert_eq!(error.code(), Some(ErrorCode::Int(429)));
    ///
    /// let error = decoder.decode_error_body(br#"{"detail":"Not Found"}"#).expect("an error");
    /// assert_eq!(error.message(), Some("Not Found"));
    ///
    /// assert!(decoder.decode_error_body(b"<html>502 Bad Gateway</html>").is_none());
    /// assert!(decoder.decode_error_body(br#"{"id":"c1","choices":[]}"#).is_none());
    /// ```
    pub fn decode_error_body<'a>(&'a mut self, body: &'a [u8]) -> Option<ApiError<'a>> {
        error_in(&mut self.slow, body, Rule::Body)
    }

    /// The API error that `text`, found outside any event, holds under `rule`.
    pub(crate) fn error_in<'a>(
        &'a mut self,
        text: &'a [u8],
        rule: ErrorRule,
    ) -> Option<ApiError<'a>> {
        let rule = match rule {
            ErrorRule::AnyObject => Rule::AnyObject,
            ErrorRule::ErrorMember => Rule::ErrorMember,
        };
        error_in(&mut self.slow, text, rule)
    }
}

/// Whether the first member of `data` is one that only Gemini's chunks open with.
#[cold]
#[inline(never)]
fn gemini_first_key(data: &[u8]) -> bool {
    matches!(
        first_key(data),
        Some(b"candidates" | b"usageMetadata" | b"promptFeedback")
    )
}

/// The first member name of a JSON object, when it has no escapes.
fn first_key(data: &[u8]) -> Option<&[u8]> {
    let start = data.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = data.get(start..)?.strip_prefix(b"{")?;
    let open = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let name = rest.get(open..)?.strip_prefix(b"\"")?;
    let close = memchr::memchr2(b'"', b'\\', name)?;
    (name[close] == b'"').then(|| &name[..close])
}

/// When a parsed text is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// An `event: error`: always, whatever the text.
    Event,
    /// Any JSON object.
    AnyObject,
    /// A JSON object whose `error` is an object or a non-empty string.
    ErrorMember,
    /// An HTTP error body: see [`ChunkDecoder::decode_error_body`].
    Body,
}

/// A choice's reasoning from `delta.reasoning_content` and `delta.reasoning`: the first,
/// unless it is empty and the second was sent (so an empty field never hides the other's text).
fn prefer_non_empty<'a>(first: Option<&'a str>, second: Option<&'a str>) -> Option<&'a str> {
    match (first, second) {
        (Some(""), Some(second)) => Some(second),
        (first, second) => first.or(second),
    }
}

/// `data` as text: itself when it is UTF-8, else decoded with U+FFFD into `lossy` (a rare
/// path that allocates).
pub(crate) fn text_of<'a>(data: &'a [u8], lossy: &'a mut String) -> &'a str {
    match simdutf8::basic::from_utf8(data) {
        Ok(text) => text,
        Err(_) => {
            lossy.clear();
            lossy.push_str(&String::from_utf8_lossy(data));
            lossy
        }
    }
}

/// Parses `data` with simd-json and calls `read` on the nodes (`None` when it is not JSON).
pub(crate) fn with_tape<'a, T>(
    scratch: &'a mut Vec<u8>,
    buffers: &mut Option<Buffers>,
    slot: &mut Tape<'static>,
    text: &str,
    read: impl FnOnce(Option<&[Node<'a>]>) -> T,
) -> T {
    let mut tape = std::mem::replace(slot, Tape(Vec::new())).reset();
    load(scratch, text.as_bytes());
    let buffers = buffers.get_or_insert_with(|| Buffers::new(text.len()));
    let parsed = simd_json::fill_tape_padded(scratch, text.len(), buffers, &mut tape).is_ok();
    let result = read(parsed.then_some(&tape.0[..]));
    *slot = tape.reset();
    result
}

/// The error that `data` holds under `rule`, if any.
fn error_in<'a>(slow: &'a mut Slow, data: &'a [u8], rule: Rule) -> Option<ApiError<'a>> {
    let Slow {
        scratch,
        lossy,
        buffers,
        tape,
        ..
    } = slow;
    let text = text_of(data, lossy);
    with_tape(scratch, buffers, tape, text, |nodes| {
        let nodes = match nodes {
            // The first element of an array body (all offsets in the tape are relative).
            Some(n) if rule == Rule::Body && matches!(n[0], Node::Array { len: 1.., .. }) => {
                Some(&n[1..])
            }
            n => n,
        };
        let object = nodes.and_then(|n| object_len(n, 0).map(|len| (n, len)));
        let Some((nodes, len)) = object else {
            return (rule == Rule::Event).then_some(ApiError {
                message: Some(text),
                ..ApiError::default()
            });
        };
        let error = read_error(nodes, len, text);
        match rule {
            Rule::ErrorMember => error.ok(),
            Rule::Body => match error {
                Ok(error) => Some(error),
                Err(flat) => flat_error(nodes, len).then_some(flat),
            },
            Rule::Event | Rule::AnyObject => Some(error.unwrap_or_else(|e| e)),
        }
    })
}

/// The simd-json path: parse into the reused tape, then walk it.
fn slow_decode<'a>(slow: &'a mut Slow, storage: &'a mut Storage, data: &'a [u8]) -> Payload<'a> {
    let Slow {
        scratch,
        lossy,
        buffers,
        tape,
        joined,
        pending,
    } = slow;
    let text = text_of(data, lossy);
    joined.clear();
    pending.clear();
    let payload = with_tape(scratch, buffers, tape, text, |nodes| {
        let Some(nodes) = nodes else {
            return Ok(Err(InvalidData::NotJson));
        };
        let Some(len) = object_len(nodes, 0) else {
            return Ok(Err(InvalidData::NotObject));
        };
        if let Some(error) = error_member(nodes, len, text) {
            return Err(error);
        }
        let mut walk = Walk {
            nodes,
            joined,
            pending,
        };
        Ok(walk
            .chunk(len, storage)
            .map_err(|field| InvalidData::UnexpectedShape { field }))
    });
    match payload {
        Err(error) => Payload::ApiError(error),
        Ok(Err(invalid)) => Payload::Invalid(invalid),
        Ok(Ok(mut chunk)) => {
            let joined: &'a str = joined;
            for p in pending.iter() {
                let text = Some(&joined[p.start..p.end]);
                match p.slot {
                    Slot::Content(c) => chunk.choices[c].content = text,
                    Slot::Reasoning(c) => chunk.choices[c].reasoning = text,
                    Slot::ReasoningDetails(c) => chunk.choices[c].reasoning_details = text,
                    Slot::Arguments(t) => chunk.tools[t].arguments = text,
                }
            }
            Payload::Chunk(chunk)
        }
    }
}

/// Builds the view from the fast path's spans over the validated texts.
fn build<'a>(texts: Texts<'a>, spans: &Spans, storage: &'a mut Storage) -> ChunkView<'a> {
    let text = |span: Option<Span>| texts.get(span);
    let mut choices: Vec<RawChoice<'a>> = recycle(std::mem::take(&mut storage.choices));
    let mut tools: Vec<ToolCall<'a>> = if spans.tools.is_empty() {
        Vec::new()
    } else {
        recycle(std::mem::take(&mut storage.tools))
    };
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
        reasoning_details: text(c.reasoning_details),
        finish_reason: text(c.finish_reason),
        tools_start: c.tools.0,
        tools_end: c.tools.1,
    }));
    storage.created = spans.created;
    storage.usage = spans.usage;
    ChunkView {
        id: text(spans.id),
        model: text(spans.model),
        system_fingerprint: text(spans.fingerprint),
        choices,
        tools,
        home: storage,
    }
}

/// A field of an unknown shape, by name.
type Shape<T> = Result<T, &'static str>;

/// Reads a chunk's fields out of a parsed document.
struct Walk<'n, 'a> {
    nodes: &'n [Node<'a>],
    joined: &'n mut String,
    pending: &'n mut Vec<Pending>,
}

impl<'n, 'a> Walk<'n, 'a> {
    fn node(&self, at: usize) -> Node<'a> {
        self.nodes[at]
    }

    /// A string, or `None` for `null`; another shape is an error named `field`.
    fn text(&self, at: usize, field: &'static str) -> Shape<Option<&'a str>> {
        match self.node(at) {
            Node::String(s) => Ok(Some(s)),
            Node::Static(StaticNode::Null) => Ok(None),
            _ => Err(field),
        }
    }

    /// The elements of an array (an empty iterator for `null`); another shape is an error.
    fn elements(&self, at: usize, field: &'static str) -> Shape<Elements<'n, 'a>> {
        match self.node(at) {
            Node::Array { len, .. } => Ok(Elements {
                nodes: self.nodes,
                next: at + 1,
                left: len,
            }),
            Node::Static(StaticNode::Null) => Ok(Elements {
                nodes: self.nodes,
                next: at,
                left: 0,
            }),
            _ => Err(field),
        }
    }

    /// An object's key count, `None` for `null`; another shape is an error.
    fn object(&self, at: usize, field: &'static str) -> Shape<Option<usize>> {
        match self.node(at) {
            Node::Object { len, .. } => Ok(Some(len)),
            Node::Static(StaticNode::Null) => Ok(None),
            _ => Err(field),
        }
    }

    /// A non-negative integer, `None` for `null`; another shape is an error.
    fn index(&self, at: usize) -> Shape<Option<u64>> {
        match self.node(at) {
            Node::Static(StaticNode::Null) => Ok(None),
            node => as_u64(&node).map(Some).ok_or("index"),
        }
    }

    /// `read` applied to the value at `at`, when the key was present.
    fn optional<T>(
        &self,
        at: Option<usize>,
        read: impl FnOnce(&Self, usize) -> Shape<Option<T>>,
    ) -> Shape<Option<T>> {
        at.map_or(Ok(None), |at| read(self, at))
    }

    fn chunk(&mut self, len: usize, storage: &'a mut Storage) -> Shape<ChunkView<'a>> {
        let nodes = self.nodes;
        let (mut id, mut model, mut created, mut fingerprint) = (None, None, None, None);
        let (mut usage, mut x_groq, mut choices_at) = (None, None, None);
        for (key, at) in fields(nodes, 0, len) {
            match key {
                "id" => id = as_str(&nodes[at]),
                "model" => model = as_str(&nodes[at]),
                "created" => created = as_u64(&nodes[at]),
                "system_fingerprint" => fingerprint = as_str(&nodes[at]),
                "usage" => usage = Some(at),
                "x_groq" => x_groq = Some(at),
                "choices" => choices_at = Some(at),
                _ => {}
            }
        }
        let mut usage = match usage {
            Some(at) => self.object(at, "usage")?.map(|n| read_usage(nodes, at, n)),
            None => None,
        };
        if let (None, Some(at)) = (usage, x_groq)
            && let Node::Object { len, .. } = nodes[at]
        {
            // The last `usage` wins, so its shape is checked after the loop.
            let inner = fields(nodes, at, len)
                .filter(|(key, _)| *key == "usage")
                .last();
            if let Some((_, v)) = inner {
                usage = self.object(v, "usage")?.map(|n| read_usage(nodes, v, n));
            }
        }
        let mut choices: Vec<RawChoice<'a>> = recycle(std::mem::take(&mut storage.choices));
        let mut tools: Vec<ToolCall<'a>> = recycle(std::mem::take(&mut storage.tools));
        let read = (|| {
            if let Some(at) = choices_at {
                for c in self.elements(at, "choices")? {
                    let len = match nodes[c] {
                        Node::Object { len, .. } => len,
                        _ => return Err("choices"),
                    };
                    let choice = self.choice(c, len, choices.len(), &mut tools)?;
                    choices.push(choice);
                }
            }
            Ok(())
        })();
        if let Err(field) = read {
            storage.choices = recycle(choices);
            storage.tools = recycle(tools);
            return Err(field);
        }
        storage.created = created;
        storage.usage = usage;
        Ok(ChunkView {
            id,
            model,
            system_fingerprint: fingerprint,
            choices,
            tools,
            home: storage,
        })
    }

    fn choice(
        &mut self,
        at: usize,
        len: usize,
        number: usize,
        tools: &mut Vec<ToolCall<'a>>,
    ) -> Shape<RawChoice<'a>> {
        let nodes = self.nodes;
        let mut choice = RawChoice {
            tools_start: tools.len(),
            tools_end: tools.len(),
            ..RawChoice::default()
        };
        // Duplicate keys: the last one wins, so shapes are checked after the loop.
        let (mut index, mut finish, mut delta) = (None, None, None);
        for (key, v) in fields(nodes, at, len) {
            match key {
                "index" => index = Some(v),
                "finish_reason" => finish = Some(v),
                "delta" => delta = Some(v),
                _ => {}
            }
        }
        if let Some(v) = index {
            choice.index = self.index(v)?.unwrap_or(0);
        }
        if let Some(v) = finish {
            choice.finish_reason = self.text(v, "finish_reason")?;
        }
        let Some(d) = delta else {
            return Ok(choice);
        };
        let Some(dlen) = self.object(d, "delta")? else {
            return Ok(choice);
        };
        let (mut role, mut content, mut refusal, mut reasoning_content, mut reasoning, mut calls) =
            (None, None, None, None, None, None);
        let mut details = None;
        for (key, v) in fields(nodes, d, dlen) {
            match key {
                "role" => role = Some(v),
                "content" => content = Some(v),
                "refusal" => refusal = Some(v),
                "reasoning_content" => reasoning_content = Some(v),
                "reasoning" => reasoning = Some(v),
                "tool_calls" => calls = Some(v),
                "reasoning_details" => details = Some(v),
                _ => {}
            }
        }
        choice.role = role.and_then(|v| as_str(&nodes[v]));
        choice.refusal = self.optional(refusal, |w, v| w.text(v, "refusal"))?;
        let reasoning_content =
            self.optional(reasoning_content, |w, v| w.text(v, "reasoning_content"))?;
        let reasoning = self.optional(reasoning, |w, v| w.text(v, "reasoning"))?;
        choice.reasoning = prefer_non_empty(reasoning_content, reasoning);
        if let Some(v) = content {
            match nodes[v] {
                Node::Array { len, .. } => self.content_parts(v, len, number, &mut choice)?,
                _ => choice.content = self.text(v, "content")?,
            }
        }
        if let Some(v) = calls {
            for t in self.elements(v, "tool_calls")? {
                let Node::Object { len, .. } = nodes[t] else {
                    return Err("tool_calls");
                };
                let call = self.tool_call(t, len, tools.len())?;
                tools.push(call);
            }
        }
        // Checked last, as the other fields' shapes are checked first.
        if let Some(v) = details {
            match nodes[v] {
                Node::Array { .. } => {
                    let start = self.joined.len();
                    write_json(nodes, v, self.joined);
                    self.pending.push(Pending {
                        slot: Slot::ReasoningDetails(number),
                        start,
                        end: self.joined.len(),
                    });
                }
                Node::Static(StaticNode::Null) => {}
                _ => return Err("reasoning_details"),
            }
        }
        choice.tools_end = tools.len();
        Ok(choice)
    }

    /// An array `content` of typed parts: `text` parts are joined as the content, `thinking`
    /// parts are appended to the reasoning.
    fn content_parts(
        &mut self,
        at: usize,
        len: usize,
        number: usize,
        choice: &mut RawChoice<'a>,
    ) -> Shape<()> {
        let nodes = self.nodes;
        let mut texts = Elements {
            nodes,
            next: at + 1,
            left: len,
        };
        // Content first, then reasoning: each is one contiguous run of `joined`.
        let start = self.joined.len();
        let mut any_text = false;
        for part in texts.by_ref() {
            let (kind, text, thinking) = part_fields(nodes, part)?;
            match kind {
                "text" => {
                    self.joined.push_str(text.ok_or("content")?);
                    any_text = true;
                }
                "thinking" => {
                    thinking.ok_or("content")?;
                }
                _ => return Err("content"),
            }
        }
        if any_text {
            self.pending.push(Pending {
                slot: Slot::Content(number),
                start,
                end: self.joined.len(),
            });
        }
        let start = self.joined.len();
        let mut any_thinking = false;
        let parts = Elements {
            nodes,
            next: at + 1,
            left: len,
        };
        for part in parts {
            let (kind, _, thinking) = part_fields(nodes, part)?;
            let Some(thinking) = thinking.filter(|_| kind == "thinking") else {
                continue;
            };
            if !any_thinking {
                self.joined.push_str(choice.reasoning.unwrap_or(""));
                any_thinking = true;
            }
            match nodes[thinking] {
                Node::String(s) => self.joined.push_str(s),
                Node::Array { len, .. } => {
                    let inner = Elements {
                        nodes,
                        next: thinking + 1,
                        left: len,
                    };
                    for piece in inner {
                        match part_fields(nodes, piece)? {
                            ("text", Some(s), _) => self.joined.push_str(s),
                            _ => return Err("content"),
                        }
                    }
                }
                _ => return Err("content"),
            }
        }
        if any_thinking {
            self.pending.push(Pending {
                slot: Slot::Reasoning(number),
                start,
                end: self.joined.len(),
            });
        }
        Ok(())
    }

    fn tool_call(&mut self, at: usize, len: usize, number: usize) -> Shape<ToolCall<'a>> {
        let nodes = self.nodes;
        let mut call = ToolCall::default();
        // Duplicate keys: the last one wins, so shapes are checked after the loop.
        let (mut index, mut id, mut kind, mut function) = (None, None, None, None);
        for (key, v) in fields(nodes, at, len) {
            match key {
                "index" => index = Some(v),
                "id" => id = Some(v),
                "type" => kind = Some(v),
                "function" => function = Some(v),
                _ => {}
            }
        }
        call.index = self.optional(index, |w, v| w.index(v))?;
        call.id = self.optional(id, |w, v| w.text(v, "id"))?;
        call.kind = kind.and_then(|v| as_str(&nodes[v]));
        let Some(f) = function else {
            return Ok(call);
        };
        let Some(n) = self.object(f, "function")? else {
            return Ok(call);
        };
        let (mut name, mut arguments) = (None, None);
        for (key, v) in fields(nodes, f, n) {
            match key {
                "name" => name = Some(v),
                "arguments" => arguments = Some(v),
                _ => {}
            }
        }
        call.name = self.optional(name, |w, v| w.text(v, "name"))?;
        if let Some(v) = arguments {
            match nodes[v] {
                Node::Object { .. } | Node::Array { .. } => {
                    let start = self.joined.len();
                    write_json(nodes, v, self.joined);
                    self.pending.push(Pending {
                        slot: Slot::Arguments(number),
                        start,
                        end: self.joined.len(),
                    });
                }
                _ => call.arguments = self.text(v, "arguments")?,
            }
        }
        Ok(call)
    }
}

/// A content part's `type`, `text` and `thinking` (its node); a part that is not an object
/// is an error.
fn part_fields<'a>(
    nodes: &[Node<'a>],
    at: usize,
) -> Shape<(&'a str, Option<&'a str>, Option<usize>)> {
    let Node::Object { len, .. } = nodes[at] else {
        return Err("content");
    };
    let (mut kind, mut text, mut thinking) = ("", None, None);
    for (key, v) in fields(nodes, at, len) {
        match key {
            "type" => kind = as_str(&nodes[v]).unwrap_or(""),
            "text" => text = as_str(&nodes[v]),
            "thinking" => thinking = Some(v),
            _ => {}
        }
    }
    Ok((kind, text, thinking))
}

/// The node indexes of an array's elements.
pub(crate) struct Elements<'n, 'a> {
    nodes: &'n [Node<'a>],
    next: usize,
    left: usize,
}

impl Iterator for Elements<'_, '_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let at = self.next;
        self.next = skip(self.nodes, at);
        Some(at)
    }
}

/// Writes the value at `at` as JSON text.
pub(crate) fn write_json(nodes: &[Node<'_>], at: usize, out: &mut String) -> usize {
    use std::fmt::Write as _;
    match nodes[at] {
        Node::String(s) => {
            write_json_string(s, out);
            at + 1
        }
        Node::Static(value) => {
            let _ = match value {
                StaticNode::I64(n) => write!(out, "{n}"),
                StaticNode::U64(n) => write!(out, "{n}"),
                // Debug prints the shortest text that reads back as the same float, with a
                // fraction or an exponent, so that it stays a float.
                StaticNode::F64(n) => write!(out, "{n:?}"),
                StaticNode::Bool(b) => write!(out, "{b}"),
                StaticNode::Null => write!(out, "null"),
            };
            at + 1
        }
        Node::Array { len, .. } => {
            out.push('[');
            let mut i = at + 1;
            for k in 0..len {
                if k > 0 {
                    out.push(',');
                }
                i = write_json(nodes, i, out);
            }
            out.push(']');
            i
        }
        Node::Object { len, .. } => {
            out.push('{');
            let mut i = at + 1;
            for k in 0..len {
                if k > 0 {
                    out.push(',');
                }
                write_json_string(as_str(&nodes[i]).unwrap_or(""), out);
                out.push(':');
                i = write_json(nodes, i + 1, out);
            }
            out.push('}');
            i
        }
    }
}

/// Appends `s` as a JSON string (quoted, escaped): `\"`, `\\`, `\n`, `\r`, `\t`, and
/// `\u00xx` (lower case) for the other control characters. The runs between those bytes
/// (all ASCII, so never inside a character) are copied whole.
pub(crate) fn write_json_string(s: &str, out: &mut String) {
    use std::fmt::Write as _;
    out.push('"');
    let mut rest = s;
    while let Some(at) = crate::fast::string_stop(rest.as_bytes()) {
        let (run, tail) = rest.split_at(at);
        out.push_str(run);
        let byte = tail.as_bytes()[0];
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                let _ = write!(out, "\\u{:04x}", byte);
            }
        }
        rest = &tail[1..];
    }
    out.push_str(rest);
    out.push('"');
}

fn read_usage(nodes: &[Node<'_>], at: usize, len: usize) -> Usage {
    let mut usage = Usage::default();
    for (key, v) in fields(nodes, at, len) {
        let count = || as_u64(&nodes[v]).unwrap_or(0);
        match key {
            "prompt_tokens" => usage.input_tokens = count(),
            "completion_tokens" => usage.output_tokens = count(),
            "total_tokens" => usage.total_tokens = count(),
            "prompt_tokens_details" => {
                usage.cached_input_tokens = detail(nodes, v, "cached_tokens")
            }
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

/// Reads the error that the object at the root (with `len` keys) holds. `Ok` when its
/// `error` member is an object or a non-empty string; otherwise `Err` with the object itself
/// read as the error object, for the rules under which any object is an error. `text` is the
/// whole text, the message of last resort.
pub(crate) fn read_error<'a>(
    nodes: &[Node<'a>],
    len: usize,
    text: &'a str,
) -> Result<ApiError<'a>, ApiError<'a>> {
    error_member(nodes, len, text).ok_or_else(|| error_object(nodes, 0, len, text, true))
}

/// The `Ok` of [`read_error`] alone: the error when the object at the root is one, without
/// reading the object as an error object otherwise (most events are not errors).
pub(crate) fn error_member<'a>(
    nodes: &[Node<'a>],
    len: usize,
    text: &'a str,
) -> Option<ApiError<'a>> {
    let (mut member, mut error_type, mut declared) = (None, None, (None, None));
    for (key, v) in fields(nodes, 0, len) {
        match key {
            "error" => member = Some(v),
            "error_type" => error_type = as_str(&nodes[v]),
            "object" => declared.0 = as_str(&nodes[v]),
            "type" => declared.1 = as_str(&nodes[v]),
            _ => {}
        }
    }
    match member.map(|v| (v, nodes[v])) {
        Some((v, Node::Object { len, .. })) => Some(error_object(nodes, v, len, text, false)),
        Some((_, Node::String(message))) if !message.is_empty() => Some(ApiError {
            message: Some(message),
            kind: error_type,
            ..ApiError::default()
        }),
        // An object that says it is an error (vLLM's `"object": "error"`, a flat
        // `"type": "error"`) is its own error object.
        _ if declared.0 == Some("error") || declared.1 == Some("error") => {
            Some(error_object(nodes, 0, len, text, true))
        }
        _ => None,
    }
}

/// Whether the object at 0 is an error object by itself: it has a string `message`, `detail`
/// or `details`.
fn flat_error(nodes: &[Node<'_>], len: usize) -> bool {
    fields(nodes, 0, len).any(|(key, v)| {
        matches!(key, "message" | "detail" | "details") && as_str(&nodes[v]).is_some()
    })
}

/// Reads an error object. At the top level of a body, a `type` of `"error"` names the
/// envelope, not the error, and is not taken.
pub(crate) fn error_object<'a>(
    nodes: &[Node<'a>],
    at: usize,
    len: usize,
    text: &'a str,
    top: bool,
) -> ApiError<'a> {
    let (mut message, mut detail, mut details, mut kind, mut status) =
        (None, None, None, None, None);
    let mut error = ApiError::default();
    for (key, v) in fields(nodes, at, len) {
        let s = as_str(&nodes[v]);
        match key {
            "message" => message = s,
            "detail" => detail = s,
            "details" => details = s,
            "type" => kind = s.filter(|k| !(top && *k == "error")),
            "status" => status = s,
            "param" => error.param = s,
            "code" => {
                error.code = match nodes[v] {
                    Node::String(s) => Some(ErrorCode::Str(s)),
                    Node::Static(StaticNode::I64(n)) => Some(ErrorCode::Int(n)),
                    Node::Static(StaticNode::U64(n)) => i64::try_from(n).ok().map(ErrorCode::Int),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    error.message = message.or(detail).or(details).or(Some(text));
    error.kind = kind.or(status);
    error
}

/// Iterates over the `(key, value index)` pairs of the object at `at` with `len` keys.
pub(crate) fn fields<'n, 'a>(
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

pub(crate) fn object_len(nodes: &[Node<'_>], at: usize) -> Option<usize> {
    match nodes[at] {
        Node::Object { len, .. } => Some(len),
        _ => None,
    }
}

/// Skips the value starting at `i`, returning the index after it.
pub(crate) fn skip(nodes: &[Node<'_>], i: usize) -> usize {
    match nodes[i] {
        Node::Object { count, .. } | Node::Array { count, .. } => i + count + 1,
        _ => i + 1,
    }
}

pub(crate) fn as_str<'a>(node: &Node<'a>) -> Option<&'a str> {
    match *node {
        Node::String(s) => Some(s),
        _ => None,
    }
}

pub(crate) fn as_u64(node: &Node<'_>) -> Option<u64> {
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
    /// The fast path, parsing the document in full (in the other dialects: the flat scanner
    /// of their frequent events).
    Fast,
    /// simd-json: the fast path declined (or the event is an `error` event, which simd-json
    /// always reads).
    SimdJson,
}

/// Entry points that expose the decoder's paths one at a time, so that tests and fuzz targets
/// can hold each of them to an independent reference and count how often each one ran. Not
/// part of the API.
impl ChunkDecoder {
    /// [`ChunkDecoder::decode`], also saying which path decoded the data.
    #[doc(hidden)]
    pub fn decode_traced<'a>(&'a mut self, data: &'a [u8]) -> (Payload<'a>, DecodePath) {
        self.decode_event_traced(b"message", data)
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

#[cfg(test)]
mod tests {
    use super::write_json_string;

    /// The escaping rule, a character at a time.
    fn reference(s: &str) -> String {
        let mut out = String::from('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn json_strings_are_escaped_as_a_character_at_a_time() {
        let cases = [
            "",
            "plain text, long enough to span several words of eight bytes",
            "\"",
            "\\",
            "a\"b\\c\nd\re\tf\u{0}g\u{1f}h\u{7f}",
            "Olá — 日本語 🎉 \u{0b}\u{0c}\u{08}",
            "ends with a newline\n",
            "\n\n\n\n\n\n\n\n\n\"\"\"\"\"\"\"\"\"",
            "é\u{1}é\u{2}éééééééééé\"",
        ];
        for s in cases {
            let mut got = String::from("prefix");
            write_json_string(s, &mut got);
            assert_eq!(got, format!("prefix{}", reference(s)), "{s:?}");
        }
        for b in 0u8..0x80 {
            let s = format!("x{}y", b as char);
            let mut got = String::new();
            write_json_string(&s, &mut got);
            assert_eq!(got, reference(&s), "{b}");
        }
    }
}
