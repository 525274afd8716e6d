//! The wire dialects besides Chat Completions, and the one vocabulary they are decoded into.
//!
//! Chat Completions chunks are [`crate::ChunkView`]s (every field of the chunk). The
//! Anthropic Messages API, the OpenAI Responses API and Gemini's `streamGenerateContent`
//! stream events of their own shapes; each event of theirs is decoded into [`Parts`]: text,
//! reasoning and refusal pieces, opaque reasoning to send back, tool-call starts, argument
//! fragments and ends, finish reasons, normalised usage, response metadata, errors and the
//! terminal marker, each tagged with its choice. A dialect's decoder keeps what the stream's
//! earlier events said (which content block is which tool call, the token counts so far), so
//! one decoder reads one stream.
//!
//! Which dialect a stream speaks is detected from its first event that says
//! ([`Dialect::detect`]), or fixed by the caller.

/// The value for a name (an event type, a member's name): the name's length first, then one
/// comparison of the whole name (a `match` on byte-string patterns tests a name byte by byte;
/// the tests of the length become one switch).
macro_rules! by_name {
    ($key:expr, { $($name:literal => $value:expr),* $(,)? }, $other:expr) => {{
        let key: &[u8] = $key;
        $(
            if key.len() == $name.len() && key == $name {
                $value
            } else
        )* {
            $other
        }
    }};
}

mod anthropic;
mod flat;
mod gemini;
mod responses;

use std::fmt;

use simd_json::Node;

use crate::chunk::{DecodePath, Payload, SimdJson, text_of, with_tape, write_json};
use crate::{ApiError, Finish, InvalidData, Usage};

/// Which wire dialect a stream speaks.
///
/// # How the events are read
/// Most events of the dialects besides chat are read by a flat scanner, without a parse
/// tree: it reads the event's bytes where they are (validating the JSON grammar, UTF-8 and
/// escapes as it goes, unescaping strings that have escapes into a reused buffer), picks out
/// the fields the dialect's decoder reads, whatever the order of the keys, and skips the
/// others. It takes every Anthropic event but a `redacted_thinking` block and a `tool_use`
/// block whose `input` is not empty; every Responses API event but `response.failed` and
/// `error`, a `reasoning` item's end included when its JSON is compact (as OpenAI sends it);
/// every Gemini chunk without `promptFeedback`, function calls and signed parts included (their
/// JSON compacted when Gemini spaces it). Anything else, and anything it cannot prove reads
/// the same (a key given twice or escaped, a field of another shape, an API error, an
/// exponent or a long number, invalid UTF-8, a JSON text the tape would write otherwise, any
/// syntax error), goes to simd-json, which parses it in full.
///
/// The last Anthropic or Responses event the scanner read in full is kept as a template (up
/// to 16 KiB), unless it is of a kind the stream sends once per message, response, block,
/// item or part (Anthropic's `message_start`, `content_block_start`, `content_block_stop`,
/// `message_delta`, `message_stop`; the Responses API's `*.added`, `*.done` and terminal
/// events), whose next event never repeats its shape: an event that differs from the template
/// only inside strings, numbers and runs of whitespace, as consecutive deltas do, is compared
/// with it byte for byte and only those values are read again. The parts are the same on
/// every path: tests and a fuzz target compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Dialect {
    /// OpenAI-compatible Chat Completions (`data: {chunk}` ... `data: [DONE]`), spoken by
    /// OpenAI, Azure, OpenRouter, Groq, xAI, vLLM, llama.cpp and most others (`chat`).
    Chat,
    /// The Anthropic Messages API (`anthropic`). `message_start` gives the metadata, the
    /// role and the usage; `content_block_start`/`_delta`/`_stop` give text, thinking (each
    /// block a reasoning part of its own) and `tool_use` calls (numbered 0, 1, ... in order;
    /// `input_json_delta` fragments; the start's `input` when no fragment came);
    /// `message_delta` the finish reason and the usage (cache reads and writes count as
    /// input); `message_stop` the terminal part; `ping` nothing. A signed thinking block
    /// (at its stop) and a `redacted_thinking` block are [`Part::ReasoningDetail`]s.
    Anthropic,
    /// The OpenAI Responses API (`responses`). `response.created` gives the metadata and the
    /// role; `response.output_text.delta` text; `response.reasoning_summary_text.delta` and
    /// `response.reasoning_text.delta` reasoning (each part of its own); `response.refusal.delta`
    /// refusal; `function_call` and `custom_tool_call` items their start, argument deltas and
    /// end; `response.completed`, `response.incomplete` and `response.failed` the finish, the
    /// usage and the terminal part (and a failure's error, unless an `error` event said it).
    /// A `reasoning` item's `response.output_item.done` is a [`Part::ReasoningDetail`].
    Responses,
    /// Gemini's `streamGenerateContent?alt=sse` (`gemini`). Each event: `responseId` and
    /// `modelVersion` the metadata; per candidate the role, text (`thought: true` is
    /// reasoning), `functionCall` (a whole call: start, `args` as JSON text, end) and
    /// `finishReason`; `usageMetadata` the usage (thoughts count as output);
    /// `promptFeedback.blockReason` a blocked prompt's finish; a part with a
    /// `thoughtSignature` a [`Part::ReasoningDetail`]. No terminal event.
    Gemini,
}

impl Dialect {
    /// The dialect's name: `chat`, `anthropic`, `responses` or `gemini`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Chat => "chat",
            Dialect::Anthropic => "anthropic",
            Dialect::Responses => "responses",
            Dialect::Gemini => "gemini",
        }
    }

    /// The dialect an event identifies, if it identifies one: an event type (or a top-level
    /// `type` member) of Anthropic's (`message_start`, `content_block_start`,
    /// `content_block_delta`, `content_block_stop`, `message_delta`, `message_stop`) or the
    /// Responses API's (`response.*`); a top-level `candidates`, `usageMetadata` or
    /// `promptFeedback` member (Gemini); a top-level `choices` member or `"object":
    /// "chat.completion.chunk"` (chat). Data that is not a JSON object identifies nothing.
    ///
    /// # Example
    /// ```
    /// use ssechunk::Dialect;
    ///
    /// assert_eq!(Dialect::detect(b"message_start", b"{}"), Some(Dialect::Anthropic));
    /// assert_eq!(Dialect::detect(b"message", br#"{"candidates":[]}"#), Some(Dialect::Gemini));
    /// assert_eq!(Dialect::detect(b"message", b"[DONE]"), None);
    /// ```
    pub fn detect(event_type: &[u8], data: &[u8]) -> Option<Dialect> {
        if let Some(dialect) = Dialect::of_type(event_type) {
            return Some(dialect);
        }
        members(data).find_map(|(key, value)| match key {
            b"type" => string(value).and_then(Dialect::of_type),
            b"candidates" | b"usageMetadata" | b"promptFeedback" => Some(Dialect::Gemini),
            b"choices" => Some(Dialect::Chat),
            b"object" if string(value) == Some(b"chat.completion.chunk") => Some(Dialect::Chat),
            _ => None,
        })
    }

    /// The dialect whose events have type `name`, if any (the Anthropic kinds are the ones
    /// its decoders read, `anthropic::EventKind`).
    #[inline]
    pub(crate) fn of_type(name: &[u8]) -> Option<Dialect> {
        if name.starts_with(b"response.") {
            return Some(Dialect::Responses);
        }
        (anthropic::EventKind::of(name) != anthropic::EventKind::Other)
            .then_some(Dialect::Anthropic)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The contents of a JSON string value without escapes (`None` for anything else).
fn string(value: &[u8]) -> Option<&[u8]> {
    let inner = value.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    (!inner.contains(&b'\\')).then_some(inner)
}

/// The members of the JSON object `data` holds, as the raw bytes of each name (without its
/// quotes) and value, found without parsing (the decoders validate): enough to tell a
/// dialect, allocation-free. Stops at anything that is not an object's syntax.
fn members(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let skip_ws = |at: &mut usize| {
        while data.get(*at).is_some_and(u8::is_ascii_whitespace) {
            *at += 1;
        }
    };
    // The index after the string whose opening quote is at `at`.
    let string_end = |mut at: usize| {
        at += 1;
        while let Some(&b) = data.get(at) {
            match b {
                b'"' => return Some(at + 1),
                b'\\' => at += 2,
                _ => at += 1,
            }
        }
        None
    };
    let mut at = 0;
    skip_ws(&mut at);
    let mut open = data.get(at) == Some(&b'{');
    at += 1;
    std::iter::from_fn(move || {
        if !open {
            return None;
        }
        skip_ws(&mut at);
        if data.get(at) != Some(&b'"') {
            open = false;
            return None;
        }
        let key_end = string_end(at)?;
        let key = &data[at + 1..key_end - 1];
        at = key_end;
        skip_ws(&mut at);
        if data.get(at) != Some(&b':') {
            open = false;
            return None;
        }
        at += 1;
        skip_ws(&mut at);
        let start = at;
        let mut depth = 0usize;
        while let Some(&b) = data.get(at) {
            match b {
                b'"' => {
                    at = string_end(at)?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth > 0 => depth -= 1,
                b',' | b'}' if depth == 0 => break,
                _ => {}
            }
            at += 1;
        }
        let mut end = at;
        while end > start && data[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        if data.get(at) == Some(&b',') {
            at += 1;
        } else {
            open = false;
        }
        Some((key, &data[start..end]))
    })
}

/// One piece of what an event says, in the same vocabulary for every dialect; see [`Parts`].
///
/// Strings borrow from the event's data, or from the decoder when they had escapes or are
/// the JSON text of a value (a Gemini function call's `args`, a reasoning detail).
///
/// With the `serde` feature a part serialises as an object tagged by its `type`
/// (`{"type": "text", "choice": 0, "text": "Hel"}`), the vocabulary of `ssechunk deltas`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "snake_case"))]
pub enum Part<'a> {
    /// The response's id and model, when the event carries them.
    Metadata {
        /// The response's id (Anthropic's `message.id`, the Responses API's `response.id`,
        /// Gemini's `responseId`).
        id: Option<&'a str>,
        /// The model (Gemini's `modelVersion`).
        model: Option<&'a str>,
    },
    /// A choice's role (`assistant` for every dialect here).
    Role {
        /// The choice's index.
        choice: u64,
        /// The role.
        role: &'a str,
    },
    /// The next piece of a choice's reply text.
    Text {
        /// The choice's index.
        choice: u64,
        /// The text.
        text: &'a str,
    },
    /// The next piece of a choice's reasoning.
    Reasoning {
        /// The choice's index.
        choice: u64,
        /// The text.
        text: &'a str,
        /// This is the first text of a new reasoning part (an Anthropic thinking block, a
        /// Responses summary part): the message keeps it apart from the reasoning before it
        /// by a blank line.
        new_part: bool,
    },
    /// The next piece of a choice's refusal.
    Refusal {
        /// The choice's index.
        choice: u64,
        /// The text.
        text: &'a str,
    },
    /// A tool call begins.
    ToolCallStart {
        /// The choice's index.
        choice: u64,
        /// The call's index among the choice's calls: 0, 1, ... in order of appearance.
        index: u64,
        /// The call's id (Anthropic's `toolu_...`, the Responses API's `call_id`).
        id: Option<&'a str>,
        /// The tool's name.
        name: Option<&'a str>,
    },
    /// A fragment of a tool call's arguments, JSON text that is whole only when joined.
    ToolCallArguments {
        /// The choice's index.
        choice: u64,
        /// The call's index.
        index: u64,
        /// The fragment.
        fragment: &'a str,
    },
    /// A tool call's arguments are whole.
    ToolCallEnd {
        /// The choice's index.
        choice: u64,
        /// The call's index.
        index: u64,
        /// The whole arguments, when the event that ends the call carries them (they fill
        /// the call's arguments when no fragment came).
        arguments: Option<&'a str>,
    },
    /// A choice finished.
    Finish {
        /// The choice's index.
        choice: u64,
        /// The reason, normalised.
        finish: Finish,
        /// The reason, as the provider sent it.
        reason: &'a str,
    },
    /// Token counts, normalised: the message's counts so far (they replace earlier ones).
    Usage {
        /// The counts.
        usage: Usage,
    },
    /// One element of a choice's opaque reasoning, which the provider needs back with the next
    /// request to continue a reasoning model's turn: `detail` is the text of one JSON value
    /// (compact), which the message appends to [`crate::ChoiceMessage::reasoning_details`], the
    /// same JSON array OpenRouter's chat `reasoning_details` fill. What the element is, per
    /// dialect, is what that dialect takes back:
    ///
    /// - Anthropic: a `thinking` block as the Messages API takes it back in `content`,
    ///   `{"type":"thinking","thinking":TEXT,"signature":SIG}`, where `TEXT` is the block's
    ///   thinking (its start's `thinking` and every `thinking_delta`, joined) and `SIG` its
    ///   signature (its start's `signature` and every `signature_delta`, joined). Built from
    ///   those pieces and said at the block's `content_block_stop`, once, when the signature
    ///   is not empty (a block without one cannot be sent back). A `redacted_thinking`
    ///   block: its `content_block` as sent (`{"type":"redacted_thinking","data":...}`), at
    ///   its `content_block_start`.
    /// - Responses: a `reasoning` output item, as sent in `response.output_item.done` (`id`,
    ///   `summary`, `encrypted_content` when the request included
    ///   `reasoning.encrypted_content`, ...), the item the API takes back in `input`. Every
    ///   reasoning item is kept, with or without `encrypted_content`: a stored response's
    ///   item is sent back by its `id`, and the API refuses a `function_call` item given
    ///   back without the reasoning item before it.
    /// - Gemini: a part that carries a non-empty `thoughtSignature`, as sent (the text,
    ///   `functionCall` or empty text beside it included): the signature must go back in the
    ///   same part of `contents[].parts`.
    ///
    /// The decoder writes the text into its own buffer (reused: no allocation per event
    /// once it has grown).
    ReasoningDetail {
        /// The choice's index.
        choice: u64,
        /// One JSON value's text.
        detail: &'a str,
    },
    /// An error the API sent.
    Error {
        /// The error.
        error: ApiError<'a>,
    },
    /// The dialect's terminal event (Anthropic's `message_stop`, the Responses API's
    /// `response.completed`, `response.incomplete` or `response.failed`).
    Done,
}

impl<'a> Part<'a> {
    /// Points the part's text at `text` (for parts whose text is written by the decoder).
    fn set_text(&mut self, new: &'a str) {
        match self {
            Part::Text { text, .. } | Part::Reasoning { text, .. } | Part::Refusal { text, .. } => {
                *text = new
            }
            Part::ToolCallArguments { fragment, .. } => *fragment = new,
            Part::ToolCallEnd { arguments, .. } => *arguments = Some(new),
            Part::ReasoningDetail { detail, .. } => *detail = new,
            _ => {}
        }
    }
}

/// The parts of one event of a dialect other than Chat Completions, in the order the
/// event says them. Borrowed from the decoder: nothing is allocated per event once its
/// buffers have grown.
pub struct Parts<'a> {
    dialect: Dialect,
    parts: Vec<Part<'a>>,
    home: &'a mut Vec<Part<'static>>,
}

impl<'a> Parts<'a> {
    /// The dialect the event was decoded in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The parts (none for an event that says nothing, such as Anthropic's `ping`).
    pub fn as_slice(&self) -> &[Part<'a>] {
        &self.parts
    }

    /// The parts, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Part<'a>> {
        self.parts.iter()
    }
}

impl Drop for Parts<'_> {
    fn drop(&mut self) {
        *self.home = crate::chunk::recycle(std::mem::take(&mut self.parts));
    }
}

impl fmt::Debug for Parts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parts")
            .field("dialect", &self.dialect)
            .field("parts", &self.parts)
            .finish()
    }
}

/// simd-json's buffers, and the side buffer for texts the decoder writes: empty until the
/// first event of a dialect besides chat needs them. The pending entries are parts whose text
/// lies in `joined` at `start..end`: `(part, start, end)`.
type Json = SimdJson<(usize, usize, usize)>;

/// Where a dialect's decoder puts the parts of one event.
pub(crate) struct Out<'o, 'a> {
    parts: &'o mut Vec<Part<'a>>,
    joined: &'o mut String,
    pending: &'o mut Vec<(usize, usize, usize)>,
}

impl<'a> Out<'_, 'a> {
    /// Adds a part.
    pub(crate) fn push(&mut self, part: Part<'a>) {
        self.parts.push(part);
    }

    /// Adds `part` with its text replaced by the JSON text of the value at `nodes[at]`.
    pub(crate) fn push_json(&mut self, part: Part<'a>, nodes: &[Node<'_>], at: usize) {
        self.push_written(part, |joined| {
            write_json(nodes, at, joined);
        });
    }

    /// Adds `part` with its text replaced by `text` (copied to the decoder).
    pub(crate) fn push_copy(&mut self, part: Part<'a>, text: &str) {
        self.push_written(part, |joined| joined.push_str(text));
    }

    /// Adds `part` with its text replaced by what `write` appends to the decoder's buffer.
    pub(crate) fn push_written(&mut self, part: Part<'a>, write: impl FnOnce(&mut String)) {
        let start = self.joined.len();
        write(self.joined);
        self.pending
            .push((self.parts.len(), start, self.joined.len()));
        self.parts.push(part);
    }
}

/// The decoders of the dialects besides Chat Completions, with what each has learnt of the
/// stream so far.
#[derive(Default)]
pub(crate) struct Dialects {
    json: Json,
    flat: flat::Flat,
    anthropic: anthropic::State,
    responses: responses::State,
    gemini: gemini::State,
    storage: Vec<Part<'static>>,
}

impl fmt::Debug for Dialects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dialects").finish_non_exhaustive()
    }
}

impl Dialects {
    /// Decodes one event's data (not an `error` event, and not `[DONE]`: the caller reads
    /// those) in `dialect`, which is not [`Dialect::Chat`]: on the flat path when `flat` is
    /// set and the scanner takes the event (from its template or not), else with simd-json;
    /// the path is written to `path`. `repeated`: [`Dialects::repeat`] just found `data` to
    /// reuse the template, which already holds its values.
    ///
    /// The payload is the only value returned, so that a caller that puts it into an outcome
    /// lets it be written there (a pair came back through the stack, and the loads copying
    /// it stalled on the stores that had just written it).
    ///
    /// An `error` member (an object or a non-empty string) makes the event an API error, as in
    /// every dialect (Gemini's errors come so).
    #[inline]
    pub(crate) fn decode<'a>(
        &'a mut self,
        dialect: Dialect,
        event_type: &[u8],
        data: &'a [u8],
        flat: bool,
        repeated: bool,
        path: &mut DecodePath,
    ) -> Payload<'a> {
        let Self {
            json,
            flat: scanner,
            anthropic,
            responses,
            gemini,
            storage,
        } = self;
        let Json {
            scratch,
            lossy,
            buffers,
            tape,
            joined,
            pending,
        } = json;
        joined.clear();
        pending.clear();
        let mut parts: Vec<Part<'a>> = crate::chunk::recycle(std::mem::take(storage));
        let mut out = Out {
            parts: &mut parts,
            joined: &mut *joined,
            pending: &mut *pending,
        };
        // simdutf8 validates in wide SIMD loads; an event that reuses the flat scanner's
        // template is not validated as a whole (see `flat::template`).
        let utf8 = || crate::fast::utf8(data);
        // The frequent small events: read where they are, without a tape.
        let took = match dialect {
            _ if !flat => None,
            Dialect::Anthropic => {
                scanner.anthropic(anthropic, event_type, data, repeated, utf8, &mut out)
            }
            Dialect::Responses => {
                scanner.responses(responses, event_type, data, repeated, utf8, &mut out)
            }
            Dialect::Gemini => utf8().and_then(|text| scanner.gemini(gemini, text, &mut out)),
            Dialect::Chat => None,
        };
        *path = match took {
            Some(true) => DecodePath::Template,
            Some(false) => DecodePath::Fast,
            None => DecodePath::SimdJson,
        };
        if took.is_none() {
            let text = match utf8() {
                Some(text) => text,
                None => text_of(data, lossy),
            };
            let result = with_tape(scratch, buffers, tape, text, |nodes| {
                let Some(nodes) = nodes else {
                    return Err(Decoded::Invalid(InvalidData::NotJson));
                };
                let Some(len) = crate::chunk::object_len(nodes, 0) else {
                    return Err(Decoded::Invalid(InvalidData::NotObject));
                };
                if let Some(error) = crate::chunk::error_member(nodes, len, text) {
                    // An error in the data (not in an `event: error`) is one the stream sent too.
                    responses.saw_error(&error);
                    return Err(Decoded::Error(error));
                }
                let decoded = match dialect {
                    Dialect::Anthropic => anthropic.decode(event_type, nodes, &mut out),
                    Dialect::Responses => responses.decode(event_type, nodes, text, &mut out),
                    Dialect::Gemini => gemini.decode(event_type, nodes, &mut out),
                    Dialect::Chat => Ok(()),
                };
                decoded.map_err(|field| Decoded::Invalid(InvalidData::UnexpectedShape { field }))
            });
            if let Err(other) = result {
                *storage = crate::chunk::recycle(parts);
                return other.payload();
            }
        }
        let joined: &'a str = joined;
        for &(at, start, end) in pending.iter() {
            parts[at].set_text(&joined[start..end]);
        }
        let parts = Parts {
            dialect,
            parts,
            home: storage,
        };
        Payload::Parts(parts)
    }

    /// Whether the event whose data begins `rest` (its line's end not known yet) reuses the
    /// flat scanner's template of `dialect` up to that line's end: the data's length, at most
    /// `max`. [`Dialects::decode`] of that data with `repeated` then takes the template as it
    /// stands.
    #[inline]
    pub(crate) fn repeat(&mut self, dialect: Dialect, rest: &[u8], max: usize) -> Option<usize> {
        self.flat.repeat(dialect, rest, max)
    }

    /// Tells the decoders of an API error the stream sent (the Responses API reports a
    /// failure's error twice: in an `error` event and in `response.failed`).
    pub(crate) fn saw_error(&mut self, error: &ApiError<'_>) {
        self.responses.saw_error(error);
    }

    /// The same decoders with their buffers freed: what they learnt of the stream is kept.
    pub(crate) fn released(self) -> Self {
        Self {
            json: Json::default(),
            flat: flat::Flat::default(),
            storage: Vec::new(),
            ..self
        }
    }

    /// Forgets the stream.
    pub(crate) fn reset(&mut self) {
        self.anthropic.reset();
        self.responses.reset();
        self.gemini.reset();
    }
}

/// What an event of a dialect is when it is not parts.
pub(crate) enum Decoded<'a> {
    /// An API error (an `error` member).
    Error(ApiError<'a>),
    /// Not an event of the dialect's shapes.
    Invalid(InvalidData),
}

impl<'a> Decoded<'a> {
    fn payload(self) -> Payload<'a> {
        match self {
            Self::Error(error) => Payload::ApiError(error),
            Self::Invalid(why) => Payload::Invalid(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Dialect, members};

    #[test]
    fn members_are_found_past_nested_values_and_strings() {
        let data = br#" { "a" : {"x":[1,{"}":"]"}]}, "b":"q\"}{" ,"c":[ ] , "d": 12 }"#;
        let got: Vec<(&[u8], &[u8])> = members(data).collect();
        let want: [(&[u8], &[u8]); 4] = [
            (b"a", br#"{"x":[1,{"}":"]"}]}"#),
            (b"b", br#""q\"}{""#),
            (b"c", b"[ ]"),
            (b"d", b"12"),
        ];
        assert_eq!(got, want);
        for broken in [
            &b""[..],
            b"[1]",
            b"{\"a\"",
            b"{\"a\":\"x",
            b"{1:2}",
            b"\"s\"",
        ] {
            assert!(members(broken).last().is_none_or(|(k, _)| !k.is_empty()));
        }
    }

    #[test]
    fn a_dialect_is_told_by_the_event_type_or_a_member() {
        let cases: [(&[u8], &[u8], Option<Dialect>); 9] = [
            (b"content_block_delta", b"{}", Some(Dialect::Anthropic)),
            (b"response.created", b"{}", Some(Dialect::Responses)),
            (
                b"message",
                br#"{"type":"message_start"}"#,
                Some(Dialect::Anthropic),
            ),
            (
                b"message",
                br#"{"type":"response.completed"}"#,
                Some(Dialect::Responses),
            ),
            (
                b"message",
                br#"{"usageMetadata":{}}"#,
                Some(Dialect::Gemini),
            ),
            (
                b"message",
                br#"{"id":"c","choices":[]}"#,
                Some(Dialect::Chat),
            ),
            (
                b"message",
                br#"{"object":"chat.completion.chunk"}"#,
                Some(Dialect::Chat),
            ),
            (b"message", br#"{"x":{"candidates":[]}}"#, None),
            (b"ping", br#"{"type": "ping"}"#, None),
        ];
        for (event_type, data, want) in cases {
            assert_eq!(
                Dialect::detect(event_type, data),
                want,
                "{}",
                String::from_utf8_lossy(data)
            );
        }
    }
}
