//! The flat scanner: the specialised path of the dialects besides Chat Completions.
//!
//! Most events of a stream are small and of one shape: Anthropic's `content_block_delta`,
//! the Responses API's `response.output_text.delta`, a Gemini chunk with one text part. The
//! scanner reads such an event's bytes where they are, with the chat fast path's cursor (the
//! same JSON grammar, string validation and unescaping, see [`crate::fast`]), picks out the
//! fields its dialect's decoder reads (at their fixed places, whatever the order of the keys,
//! skipping and validating every other member) and gives the decoder the same event the
//! simd-json path reads from its tape ([`anthropic::Event`], [`responses::Event`]; for
//! Gemini, the same parts in the same order).
//!
//! It only ever says "this is a valid event with these fields": it declines (`None`, and the
//! simd-json path decides) on anything it cannot prove gives the same result: invalid UTF-8,
//! an escaped key, a key it reads given twice (simd-json's path takes the last), a field of
//! another shape than the dialect's (the simd-json path's shape errors), an API error, a
//! number it does not read exactly as simd-json does (exponents, long or negative numbers
//! where a count goes), deep nesting, any syntax error, and the events whose parts carry JSON
//! text written from the tape (a tool call's non-empty `input`, a Responses `reasoning` item,
//! Gemini's function calls and signed parts).

use super::anthropic::{self, Counts, Delta, Start};
use super::gemini;
use super::responses::{self, PartKind, Terminal};
use super::{Out, Part};
use crate::Usage;
use crate::fast::{self, Cursor, Fast, GiveUp, Span};

/// What the scanner found where a field the decoders read lies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum V {
    /// No such member.
    #[default]
    Absent,
    Null,
    Str(Span),
    /// A plain non-negative integer of at most 19 digits: what simd-json reads as an integer
    /// that `as_u64` takes.
    Count(u64),
    /// An object whose members were read into their own slots (or, for a tool's `input`,
    /// an empty object).
    Object,
    /// Any other value, validated and skipped: a boolean, a fraction, a negative number, an
    /// array, an object not read.
    Other,
}

/// The scanner's buffers, reused from one event to the next.
#[derive(Debug, Default)]
pub(crate) struct Flat {
    /// Strings with escapes, unescaped.
    unescaped: Vec<u8>,
    /// Gemini: each candidate's index, `finishReason` and range of `texts`.
    candidates: Vec<(u64, V, usize, usize)>,
    /// Gemini: each text part's text, and whether it is a thought.
    texts: Vec<(Span, bool)>,
}

/// Stores `value` in an empty slot; a member given twice declines.
#[inline]
fn set(slot: &mut V, value: V) -> Fast<()> {
    if *slot != V::Absent {
        return Err(GiveUp);
    }
    *slot = value;
    Ok(())
}

/// Reads the value at the cursor into `slot`: a string, `null`, a count, or anything else
/// skipped (validated) as [`V::Other`].
#[inline]
fn value(c: &mut Cursor<'_>, depth: u32, slot: &mut V) -> Fast<()> {
    let value = match c.peek()? {
        b'"' => V::Str(c.string()?),
        b'n' => {
            c.literal(b"null")?;
            V::Null
        }
        b'0'..=b'9' => c.number()?.map_or(V::Other, V::Count),
        _ => {
            c.skip(depth)?;
            V::Other
        }
    };
    set(slot, value)
}

/// Reads the object at the cursor, its members by `member`, into `slot` as [`V::Object`]; or
/// `null`, or another value (skipped).
#[inline]
fn nested(
    c: &mut Cursor<'_>,
    depth: u32,
    slot: &mut V,
    member: impl FnOnce(&mut Cursor<'_>) -> Fast<()>,
) -> Fast<()> {
    if c.peek()? == b'{' {
        set(slot, V::Object)?;
        return member(c);
    }
    value(c, depth, slot)
}

/// Reads a whole event's data: one object (its members by `member`, at depth 1), between
/// optional whitespace.
fn top(c: &mut Cursor<'_>, member: impl FnOnce(&mut Cursor<'_>) -> Fast<()>) -> Fast<()> {
    c.ws();
    if c.peek()? != b'{' {
        return Err(GiveUp);
    }
    member(c)?;
    c.ws();
    if c.pos != c.buf.len() {
        return Err(GiveUp);
    }
    Ok(())
}

/// The top-level members that make an event an API error (see `chunk::read_error`): an
/// `error` member that is not `null`, and any `object` member, decline; a `type` of `"error"`
/// is checked by the caller once the strings are read.
#[inline]
fn error_member(key: &[u8]) -> bool {
    matches!(key, b"error" | b"object")
}

/// The texts the spans point into: the event's data and the unescaped strings.
#[derive(Clone, Copy)]
struct Texts<'a> {
    input: &'a str,
    unescaped: &'a str,
}

impl<'a> Texts<'a> {
    fn new(input: &'a str, unescaped: &'a [u8]) -> Fast<Self> {
        Ok(Self {
            input,
            unescaped: simdutf8::basic::from_utf8(unescaped).map_err(|_| GiveUp)?,
        })
    }

    fn span(&self, span: Span) -> Fast<&'a str> {
        let text = if span.unescaped {
            self.unescaped
        } else {
            self.input
        };
        text.get(span.start as usize..span.end as usize)
            .ok_or(GiveUp)
    }

    /// A string the decoder takes strictly: absent or `null` is `None`, another shape
    /// declines (the simd-json path's shape error).
    fn strict(&self, v: V) -> Fast<Option<&'a str>> {
        match v {
            V::Absent | V::Null => Ok(None),
            V::Str(span) => self.span(span).map(Some),
            _ => Err(GiveUp),
        }
    }

    /// A string the decoder takes when it is one (`as_str`): anything else is `None`.
    fn lenient(&self, v: V) -> Fast<Option<&'a str>> {
        match v {
            V::Str(span) => self.span(span).map(Some),
            _ => Ok(None),
        }
    }
}

/// A count the decoder takes strictly: absent or `null` is `None`, another shape declines.
fn strict_count(v: V) -> Fast<Option<u64>> {
    match v {
        V::Absent | V::Null => Ok(None),
        V::Count(n) => Ok(Some(n)),
        _ => Err(GiveUp),
    }
}

/// A count the decoder takes when it is one (`as_u64`): a string, `null` or an object is
/// `None`. A number that is not a count declines: simd-json must be the one to say what it
/// is.
fn lenient_count(v: V) -> Fast<Option<u64>> {
    match v {
        V::Count(n) => Ok(Some(n)),
        V::Other => Err(GiveUp),
        _ => Ok(None),
    }
}

/// An object the decoder takes strictly: whether it is one (absent or `null`: no), another
/// shape declines.
fn strict_object(v: V) -> Fast<bool> {
    match v {
        V::Absent | V::Null => Ok(false),
        V::Object => Ok(true),
        _ => Err(GiveUp),
    }
}

/// Anthropic's `usage` counts.
#[derive(Default)]
struct RawCounts([V; 4]);

impl RawCounts {
    fn read(&mut self, c: &mut Cursor<'_>, depth: u32) -> Fast<()> {
        let slots = &mut self.0;
        c.object(
            depth,
            |key| match key {
                b"input_tokens" => 0,
                b"output_tokens" => 1,
                b"cache_read_input_tokens" => 2,
                b"cache_creation_input_tokens" => 3,
                _ => 4,
            },
            |c, k| match slots.get_mut(k) {
                Some(slot) => value(c, depth, slot),
                None => c.skip(depth),
            },
        )
    }

    fn counts(&self) -> Fast<Counts> {
        Ok(Counts {
            input: strict_count(self.0[0])?,
            output: strict_count(self.0[1])?,
            cache_read: strict_count(self.0[2])?,
            cache_creation: strict_count(self.0[3])?,
        })
    }
}

/// Every field the Anthropic decoder reads, of every event kind.
#[derive(Default)]
struct AnthropicRaw {
    kind: V,
    index: V,
    error: V,
    /// `delta`: a block's delta (`type` and its text) or the message's (`stop_reason`).
    delta: V,
    delta_type: V,
    delta_text: V,
    delta_thinking: V,
    delta_json: V,
    delta_signature: V,
    stop_reason: V,
    /// `content_block`.
    block: V,
    block_type: V,
    block_text: V,
    block_thinking: V,
    block_signature: V,
    block_id: V,
    block_name: V,
    /// A tool's `input`: [`V::Object`] only when empty.
    block_input: V,
    /// `message`.
    message: V,
    message_id: V,
    message_model: V,
    message_usage: V,
    message_counts: RawCounts,
    usage: V,
    counts: RawCounts,
}

impl AnthropicRaw {
    fn read(&mut self, c: &mut Cursor<'_>) -> Fast<()> {
        #[derive(Clone, Copy)]
        enum Key {
            Type,
            Index,
            Delta,
            Block,
            Message,
            Usage,
            Error,
            Other,
        }
        c.object(
            1,
            |key| match key {
                b"type" => Key::Type,
                b"index" => Key::Index,
                b"delta" => Key::Delta,
                b"content_block" => Key::Block,
                b"message" => Key::Message,
                b"usage" => Key::Usage,
                _ if error_member(key) => Key::Error,
                _ => Key::Other,
            },
            |c, key| match key {
                Key::Type => value(c, 1, &mut self.kind),
                Key::Index => value(c, 1, &mut self.index),
                Key::Error => value(c, 1, &mut self.error),
                Key::Delta => nested(c, 1, &mut self.delta, |c| {
                    c.object(
                        2,
                        |key| match key {
                            b"type" => 0,
                            b"text" => 1,
                            b"thinking" => 2,
                            b"partial_json" => 3,
                            b"signature" => 4,
                            b"stop_reason" => 5,
                            _ => 6,
                        },
                        |c, k| {
                            let slot = match k {
                                0 => &mut self.delta_type,
                                1 => &mut self.delta_text,
                                2 => &mut self.delta_thinking,
                                3 => &mut self.delta_json,
                                4 => &mut self.delta_signature,
                                5 => &mut self.stop_reason,
                                _ => return c.skip(2),
                            };
                            value(c, 2, slot)
                        },
                    )
                }),
                Key::Block => nested(c, 1, &mut self.block, |c| {
                    c.object(
                        2,
                        |key| match key {
                            b"type" => 0,
                            b"text" => 1,
                            b"thinking" => 2,
                            b"signature" => 3,
                            b"id" => 4,
                            b"name" => 5,
                            b"input" => 6,
                            _ => 7,
                        },
                        |c, k| {
                            let slot = match k {
                                0 => &mut self.block_type,
                                1 => &mut self.block_text,
                                2 => &mut self.block_thinking,
                                3 => &mut self.block_signature,
                                4 => &mut self.block_id,
                                5 => &mut self.block_name,
                                6 => {
                                    // Empty (the usual `{}`): the decoder writes `{}`, as
                                    // the simd-json path writes it from the tape.
                                    let empty = c.peek()? == b'{' && {
                                        let open = c.pos;
                                        c.pos += 1;
                                        c.ws();
                                        let empty = c.peek()? == b'}';
                                        c.pos = open;
                                        empty
                                    };
                                    c.skip(2)?;
                                    return set(
                                        &mut self.block_input,
                                        if empty { V::Object } else { V::Other },
                                    );
                                }
                                _ => return c.skip(2),
                            };
                            value(c, 2, slot)
                        },
                    )
                }),
                Key::Message => nested(c, 1, &mut self.message, |c| {
                    c.object(
                        2,
                        |key| match key {
                            b"id" => 0,
                            b"model" => 1,
                            b"usage" => 2,
                            _ => 3,
                        },
                        |c, k| match k {
                            0 => value(c, 2, &mut self.message_id),
                            1 => value(c, 2, &mut self.message_model),
                            2 => nested(c, 2, &mut self.message_usage, |c| {
                                self.message_counts.read(c, 3)
                            }),
                            _ => c.skip(2),
                        },
                    )
                }),
                Key::Usage => nested(c, 1, &mut self.usage, |c| self.counts.read(c, 2)),
                Key::Other => c.skip(1),
            },
        )
    }

    /// The event, as `anthropic::read` reads it from the tape.
    fn event<'a>(&self, event_type: &[u8], t: Texts<'a>) -> Fast<anthropic::Event<'a, 'a>> {
        use anthropic::Event;
        if !matches!(self.error, V::Absent) {
            return Err(GiveUp);
        }
        let kind = match t.strict(self.kind)? {
            Some("error") => return Err(GiveUp),
            Some(kind) => kind.as_bytes(),
            None => event_type,
        };
        let index = || match self.index {
            V::Count(n) => Ok(n),
            _ => Err(GiveUp),
        };
        let counts = |usage: V, counts: &RawCounts| -> Fast<Option<Counts>> {
            if strict_object(usage)? {
                counts.counts().map(Some)
            } else {
                Ok(None)
            }
        };
        Ok(match kind {
            b"message_start" => {
                let (mut id, mut model, mut read) = (None, None, None);
                if strict_object(self.message)? {
                    id = t.strict(self.message_id)?;
                    model = t.strict(self.message_model)?;
                    read = counts(self.message_usage, &self.message_counts)?;
                }
                Event::MessageStart {
                    id,
                    model,
                    counts: read,
                }
            }
            b"content_block_start" => {
                let index = index()?;
                if self.block != V::Object {
                    return Err(GiveUp);
                }
                let block = match t.strict(self.block_type)? {
                    Some("text") => Start::Text(t.strict(self.block_text)?),
                    Some("thinking") => Start::Thinking {
                        text: t.strict(self.block_thinking)?,
                        signature: t.strict(self.block_signature)?,
                    },
                    Some("tool_use") => {
                        if !matches!(self.block_input, V::Absent | V::Object) {
                            return Err(GiveUp);
                        }
                        Start::ToolUse {
                            id: t.strict(self.block_id)?,
                            name: t.strict(self.block_name)?,
                            input: None,
                        }
                    }
                    Some("redacted_thinking") => return Err(GiveUp),
                    _ => Start::Other,
                };
                Event::BlockStart { index, block }
            }
            b"content_block_delta" => {
                let index = index()?;
                if self.delta != V::Object {
                    return Err(GiveUp);
                }
                let delta = match t.strict(self.delta_type)? {
                    Some("text_delta") => Delta::Text(t.strict(self.delta_text)?),
                    Some("thinking_delta") => Delta::Thinking(t.strict(self.delta_thinking)?),
                    Some("input_json_delta") => Delta::InputJson(t.strict(self.delta_json)?),
                    Some("signature_delta") => Delta::Signature(t.strict(self.delta_signature)?),
                    _ => Delta::Other,
                };
                Event::BlockDelta { index, delta }
            }
            b"content_block_stop" => Event::BlockStop { index: index()? },
            b"message_delta" => {
                let reason = if strict_object(self.delta)? {
                    t.strict(self.stop_reason)?
                } else {
                    None
                };
                Event::MessageDelta {
                    reason,
                    counts: counts(self.usage, &self.counts)?,
                }
            }
            b"message_stop" => Event::MessageStop,
            _ => Event::Nothing,
        })
    }
}

/// The Responses API's usage object.
#[derive(Default)]
struct RawUsage {
    input: V,
    output: V,
    total: V,
    input_details: V,
    cached: V,
    output_details: V,
    reasoning: V,
}

impl RawUsage {
    fn read(&mut self, c: &mut Cursor<'_>, depth: u32) -> Fast<()> {
        c.object(
            depth,
            |key| match key {
                b"input_tokens" => 0,
                b"output_tokens" => 1,
                b"total_tokens" => 2,
                b"input_tokens_details" => 3,
                b"output_tokens_details" => 4,
                _ => 5,
            },
            |c, k| match k {
                0 => value(c, depth, &mut self.input),
                1 => value(c, depth, &mut self.output),
                2 => value(c, depth, &mut self.total),
                3 => nested(c, depth, &mut self.input_details, |c| {
                    one_member(c, depth + 1, b"cached_tokens", &mut self.cached)
                }),
                4 => nested(c, depth, &mut self.output_details, |c| {
                    one_member(c, depth + 1, b"reasoning_tokens", &mut self.reasoning)
                }),
                _ => c.skip(depth),
            },
        )
    }

    /// The usage, as `responses::read_usage` reads it.
    fn usage(&self) -> Fast<Usage> {
        let input = lenient_count(self.input)?.unwrap_or(0);
        let output = lenient_count(self.output)?.unwrap_or(0);
        let detail = |object: V, count: V| match object {
            V::Object => lenient_count(count),
            _ => Ok(None),
        };
        Ok(Usage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: lenient_count(self.total)?
                .unwrap_or_else(|| input.saturating_add(output)),
            cached_input_tokens: detail(self.input_details, self.cached)?,
            reasoning_tokens: detail(self.output_details, self.reasoning)?,
        })
    }
}

/// Reads the object at the cursor's member `name` into `slot`, skipping the others.
fn one_member(c: &mut Cursor<'_>, depth: u32, name: &[u8], slot: &mut V) -> Fast<()> {
    c.object(
        depth,
        |key| key == name,
        |c, wanted| {
            if wanted {
                value(c, depth, slot)
            } else {
                c.skip(depth)
            }
        },
    )
}

/// Every field the Responses decoder reads, of every event kind.
#[derive(Default)]
struct ResponsesRaw {
    kind: V,
    error: V,
    delta: V,
    item_id: V,
    output_index: V,
    summary_index: V,
    content_index: V,
    arguments: V,
    input: V,
    /// `response`.
    response: V,
    response_id: V,
    response_model: V,
    response_error: V,
    incomplete: V,
    incomplete_reason: V,
    response_usage: V,
    usage: RawUsage,
    /// `item`.
    item: V,
    item_type: V,
    item_id_own: V,
    item_call_id: V,
    item_name: V,
    item_arguments: V,
    item_input: V,
}

impl ResponsesRaw {
    fn read(&mut self, c: &mut Cursor<'_>) -> Fast<()> {
        c.object(
            1,
            |key| match key {
                b"type" => 0,
                b"delta" => 1,
                b"item_id" => 2,
                b"output_index" => 3,
                b"summary_index" => 4,
                b"content_index" => 5,
                b"arguments" => 6,
                b"input" => 7,
                b"response" => 8,
                b"item" => 9,
                _ if error_member(key) => 10,
                _ => 11,
            },
            |c, k| {
                let slot = match k {
                    0 => &mut self.kind,
                    1 => &mut self.delta,
                    2 => &mut self.item_id,
                    3 => &mut self.output_index,
                    4 => &mut self.summary_index,
                    5 => &mut self.content_index,
                    6 => &mut self.arguments,
                    7 => &mut self.input,
                    8 => return self.response(c),
                    9 => return self.item(c),
                    10 => &mut self.error,
                    _ => return c.skip(1),
                };
                value(c, 1, slot)
            },
        )
    }

    fn response(&mut self, c: &mut Cursor<'_>) -> Fast<()> {
        nested(c, 1, &mut self.response, |c| {
            c.object(
                2,
                |key| match key {
                    b"id" => 0,
                    b"model" => 1,
                    b"usage" => 2,
                    b"error" => 3,
                    b"incomplete_details" => 4,
                    _ => 5,
                },
                |c, k| match k {
                    0 => value(c, 2, &mut self.response_id),
                    1 => value(c, 2, &mut self.response_model),
                    2 => nested(c, 2, &mut self.response_usage, |c| self.usage.read(c, 3)),
                    3 => value(c, 2, &mut self.response_error),
                    4 => nested(c, 2, &mut self.incomplete, |c| {
                        one_member(c, 3, b"reason", &mut self.incomplete_reason)
                    }),
                    _ => c.skip(2),
                },
            )
        })
    }

    fn item(&mut self, c: &mut Cursor<'_>) -> Fast<()> {
        nested(c, 1, &mut self.item, |c| {
            c.object(
                2,
                |key| match key {
                    b"type" => 0,
                    b"id" => 1,
                    b"call_id" => 2,
                    b"name" => 3,
                    b"arguments" => 4,
                    b"input" => 5,
                    _ => 6,
                },
                |c, k| {
                    let slot = match k {
                        0 => &mut self.item_type,
                        1 => &mut self.item_id_own,
                        2 => &mut self.item_call_id,
                        3 => &mut self.item_name,
                        4 => &mut self.item_arguments,
                        5 => &mut self.item_input,
                        _ => return c.skip(2),
                    };
                    value(c, 2, slot)
                },
            )
        })
    }

    /// The event, as `responses::read` reads it from the tape.
    fn event<'a>(&self, event_type: &[u8], t: Texts<'a>) -> Fast<responses::Event<'a, 'a>> {
        use responses::Event;
        if !matches!(self.error, V::Absent) {
            return Err(GiveUp);
        }
        let declared = t.lenient(self.kind)?;
        if declared == Some("error") {
            return Err(GiveUp);
        }
        let kind: &[u8] = if event_type == b"message" {
            declared.map_or(&b""[..], str::as_bytes)
        } else {
            event_type
        };
        let item_id = t.lenient(self.item_id)?;
        let output_index = lenient_count(self.output_index)?;
        let delta = || t.strict(self.delta);
        Ok(match kind {
            b"response.created" | b"response.in_progress" => {
                let response = strict_object(self.response)?;
                Event::Metadata {
                    created: kind == b"response.created",
                    response: if response {
                        Some((
                            t.lenient(self.response_id)?,
                            t.lenient(self.response_model)?,
                        ))
                    } else {
                        None
                    },
                }
            }
            b"response.output_text.delta" => delta()?.map_or(Event::Nothing, Event::Text),
            b"response.refusal.delta" => delta()?.map_or(Event::Nothing, Event::Refusal),
            b"response.reasoning_summary_text.delta" | b"response.reasoning_text.delta" => {
                match delta()? {
                    Some(text) => {
                        let (part, index) = if kind == b"response.reasoning_text.delta" {
                            (PartKind::Text, self.content_index)
                        } else {
                            (PartKind::Summary, self.summary_index)
                        };
                        Event::Reasoning {
                            part,
                            item_id,
                            index: lenient_count(index)?,
                            text,
                        }
                    }
                    None => Event::Nothing,
                }
            }
            b"response.output_item.added" => {
                if !strict_object(self.item)? {
                    return Ok(Event::Nothing);
                }
                match t.lenient(self.item_type)? {
                    Some("function_call" | "custom_tool_call") => Event::ToolStart {
                        own_id: t.lenient(self.item_id_own)?,
                        output_index,
                        call_id: t.lenient(self.item_call_id)?,
                        name: t.lenient(self.item_name)?,
                    },
                    _ => Event::Nothing,
                }
            }
            b"response.function_call_arguments.delta"
            | b"response.custom_tool_call_input.delta" => match delta()? {
                Some(fragment) => Event::Fragment {
                    item_id,
                    output_index,
                    fragment,
                },
                None => Event::Nothing,
            },
            b"response.function_call_arguments.done" => Event::End {
                item_id,
                output_index,
                names: None,
                whole: t.strict(self.arguments)?,
            },
            b"response.custom_tool_call_input.done" => Event::End {
                item_id,
                output_index,
                names: None,
                whole: t.strict(self.input)?,
            },
            b"response.output_item.done" => {
                if !strict_object(self.item)? {
                    return Ok(Event::Nothing);
                }
                let whole = match t.lenient(self.item_type)? {
                    Some("function_call") => self.item_arguments,
                    Some("custom_tool_call") => self.item_input,
                    // The item's JSON text is written from the tape.
                    Some("reasoning") => return Err(GiveUp),
                    _ => return Ok(Event::Nothing),
                };
                Event::End {
                    whole: t.strict(whole)?,
                    item_id: t.lenient(self.item_id_own)?,
                    output_index,
                    names: Some((t.lenient(self.item_call_id)?, t.lenient(self.item_name)?)),
                }
            }
            b"response.completed" | b"response.incomplete" | b"response.failed" => {
                let response = strict_object(self.response)?;
                let end = match kind {
                    b"response.completed" => Terminal::Completed,
                    // Its error object is read from the tape.
                    b"response.failed" => return Err(GiveUp),
                    _ => Terminal::Incomplete(match (response, self.incomplete) {
                        (true, V::Object) => t.lenient(self.incomplete_reason)?,
                        _ => None,
                    }),
                };
                let usage = if response && strict_object(self.response_usage)? {
                    Some(self.usage.usage()?)
                } else {
                    None
                };
                Event::Terminal {
                    end,
                    error: None,
                    usage,
                }
            }
            b"error" => return Err(GiveUp),
            _ => Event::Nothing,
        })
    }
}

/// Gemini's top-level fields (the candidates are in [`Flat`]).
#[derive(Default)]
struct GeminiRaw {
    id: V,
    model: V,
    candidates: V,
    usage: V,
    counts: [V; 5],
}

impl GeminiRaw {
    fn read(
        &mut self,
        c: &mut Cursor<'_>,
        candidates: &mut Vec<(u64, V, usize, usize)>,
        texts: &mut Vec<(Span, bool)>,
    ) -> Fast<()> {
        c.object(
            1,
            |key| match key {
                b"responseId" => 0,
                b"modelVersion" => 1,
                b"candidates" => 2,
                b"promptFeedback" => 3,
                b"usageMetadata" => 4,
                _ if error_member(key) => 3,
                _ => 5,
            },
            |c, k| match k {
                0 => value(c, 1, &mut self.id),
                1 => value(c, 1, &mut self.model),
                // An array (of objects), or `null`; another shape declines.
                2 => match c.peek()? {
                    b'[' => {
                        set(&mut self.candidates, V::Object)?;
                        c.array(2, |c| candidate(c, candidates, texts))
                    }
                    b'n' => value(c, 1, &mut self.candidates),
                    _ => Err(GiveUp),
                },
                // A blocked prompt, or an error: the simd-json path reads it.
                3 => Err(GiveUp),
                4 => {
                    let counts = &mut self.counts;
                    nested(c, 1, &mut self.usage, |c| {
                        c.object(
                            2,
                            |key| match key {
                                b"promptTokenCount" => 0,
                                b"candidatesTokenCount" => 1,
                                b"thoughtsTokenCount" => 2,
                                b"totalTokenCount" => 3,
                                b"cachedContentTokenCount" => 4,
                                _ => 5,
                            },
                            |c, k| match counts.get_mut(k) {
                                Some(slot) => value(c, 2, slot),
                                None => c.skip(2),
                            },
                        )
                    })
                }
                _ => c.skip(1),
            },
        )
    }
}

/// Reads one candidate (an object; anything else declines) onto `candidates`, its text
/// parts onto `texts`.
fn candidate(
    c: &mut Cursor<'_>,
    candidates: &mut Vec<(u64, V, usize, usize)>,
    texts: &mut Vec<(Span, bool)>,
) -> Fast<()> {
    let (mut index, mut content, mut parts, mut reason) =
        (V::Absent, V::Absent, V::Absent, V::Absent);
    let first = texts.len();
    c.object(
        3,
        |key| match key {
            b"index" => 0,
            b"content" => 1,
            b"finishReason" => 2,
            _ => 3,
        },
        |c, k| match k {
            0 => value(c, 3, &mut index),
            1 => nested(c, 3, &mut content, |c| {
                c.object(
                    4,
                    |key| key == b"parts",
                    |c, wanted| {
                        if !wanted {
                            return c.skip(4);
                        }
                        // An array (of objects), or `null`; another shape declines.
                        match c.peek()? {
                            b'[' => {
                                set(&mut parts, V::Object)?;
                                c.array(5, |c| part(c, texts))
                            }
                            b'n' => value(c, 4, &mut parts),
                            _ => Err(GiveUp),
                        }
                    },
                )
            }),
            2 => value(c, 3, &mut reason),
            _ => c.skip(3),
        },
    )?;
    let choice = match index {
        V::Absent | V::Null => 0,
        V::Count(n) => n,
        _ => return Err(GiveUp),
    };
    // `content` an object or `null` (its `parts` checked above); `finishReason` a string
    // or `null`.
    if !matches!(content, V::Absent | V::Null | V::Object)
        || !matches!(reason, V::Absent | V::Null | V::Str(_))
    {
        return Err(GiveUp);
    }
    candidates.push((choice, reason, first, texts.len()));
    Ok(())
}

/// Reads one part: an object whose `text` (a string or `null`) and `thought` (a boolean or
/// `null`) say a text; a function call or a non-empty signature declines.
fn part(c: &mut Cursor<'_>, texts: &mut Vec<(Span, bool)>) -> Fast<()> {
    let (mut text, mut thought, mut call, mut signature) = (V::Absent, None, V::Absent, V::Absent);
    c.object(
        6,
        |key| match key {
            b"text" => 0,
            b"thought" => 1,
            b"functionCall" => 2,
            b"thoughtSignature" => 3,
            _ => 4,
        },
        |c, k| match k {
            0 => value(c, 6, &mut text),
            1 => {
                if thought.is_some() {
                    return Err(GiveUp);
                }
                thought = Some(match c.peek()? {
                    b't' => c.literal(b"true").map(|()| true)?,
                    b'f' => c.literal(b"false").map(|()| false)?,
                    b'n' => c.literal(b"null").map(|()| false)?,
                    _ => return Err(GiveUp),
                });
                Ok(())
            }
            2 => value(c, 6, &mut call),
            3 => value(c, 6, &mut signature),
            _ => c.skip(6),
        },
    )?;
    let empty_signature = match signature {
        V::Absent | V::Null => true,
        V::Str(span) => span.start == span.end,
        _ => false,
    };
    if !matches!(call, V::Absent | V::Null) || !empty_signature {
        return Err(GiveUp);
    }
    match text {
        V::Str(span) => texts.push((span, thought.unwrap_or(false))),
        V::Absent | V::Null => {}
        _ => return Err(GiveUp),
    }
    Ok(())
}

impl Flat {
    /// Scans `text` as one flat event object, reading its members into a `R`, then makes the
    /// event of it; `None` when the scan or the event declines.
    fn flat_event<'a, R: Default, E>(
        &'a mut self,
        text: &'a str,
        mut read: impl FnMut(&mut R, &mut Cursor<'_>) -> Fast<()>,
        event: impl FnOnce(&R, Texts<'a>) -> Fast<E>,
    ) -> Option<E> {
        self.unescaped.clear();
        let mut raw = R::default();
        fast::scan(text.as_bytes(), &mut self.unescaped, |c| {
            top(c, |c| read(&mut raw, c))
        })?;
        Texts::new(text, &self.unescaped)
            .and_then(|t| event(&raw, t))
            .ok()
    }

    /// Decodes an Anthropic event on the flat path: `false` (nothing said, nothing learnt)
    /// when it declines.
    pub(crate) fn anthropic<'a>(
        &'a mut self,
        state: &mut anthropic::State,
        event_type: &[u8],
        text: &'a str,
        out: &mut Out<'_, 'a>,
    ) -> bool {
        let event = self.flat_event(
            text,
            |raw: &mut AnthropicRaw, c| raw.read(c),
            |raw, t| raw.event(event_type, t),
        );
        event.map(|event| state.apply(event, out)).is_some()
    }

    /// Decodes a Responses API event on the flat path: `false` (nothing said, nothing
    /// learnt) when it declines.
    pub(crate) fn responses<'a>(
        &'a mut self,
        state: &mut responses::State,
        event_type: &[u8],
        text: &'a str,
        out: &mut Out<'_, 'a>,
    ) -> bool {
        let event = self.flat_event(
            text,
            |raw: &mut ResponsesRaw, c| raw.read(c),
            |raw, t| raw.event(event_type, t),
        );
        event.map(|event| state.apply(event, out)).is_some()
    }

    /// Decodes a Gemini event on the flat path (text parts only): `false` (nothing said,
    /// nothing learnt) when it declines.
    pub(crate) fn gemini<'a>(
        &'a mut self,
        state: &mut gemini::State,
        text: &'a str,
        out: &mut Out<'_, 'a>,
    ) -> bool {
        let Self {
            unescaped,
            candidates,
            texts,
        } = self;
        unescaped.clear();
        candidates.clear();
        texts.clear();
        let mut raw = GeminiRaw::default();
        if fast::scan(text.as_bytes(), unescaped, |c| {
            top(c, |c| raw.read(c, candidates, texts))
        })
        .is_none()
        {
            return false;
        }
        let Ok(t) = Texts::new(text, unescaped) else {
            return false;
        };
        let said = || -> Fast<_> {
            let usage = match raw.usage {
                V::Absent | V::Null => None,
                V::Object => {
                    let [prompt, candidates, thoughts, total, cached] =
                        raw.counts.map(lenient_count);
                    Some(gemini::usage_from(
                        prompt?,
                        candidates?,
                        thoughts?,
                        total?,
                        cached?,
                    ))
                }
                _ => return Err(GiveUp),
            };
            Ok((t.lenient(raw.id)?, t.lenient(raw.model)?, usage))
        };
        let Ok((id, model, usage)) = said() else {
            return false;
        };
        // Every text resolves before anything is said.
        if texts.iter().any(|&(span, _)| t.span(span).is_err())
            || candidates
                .iter()
                .any(|&(_, reason, _, _)| t.strict(reason).is_err())
        {
            return false;
        }
        if id.is_some() || model.is_some() {
            out.push(Part::Metadata { id, model });
        }
        for &(choice, reason, first, end) in candidates.iter() {
            out.push(Part::Role {
                choice,
                role: "assistant",
            });
            for &(span, thought) in &texts[first..end] {
                let text = t.span(span).unwrap_or_default();
                out.push(if thought {
                    Part::Reasoning {
                        choice,
                        text,
                        new_part: false,
                    }
                } else {
                    Part::Text { choice, text }
                });
            }
            if let Some(reason) = t.strict(reason).ok().flatten().filter(|r| !r.is_empty()) {
                out.push(Part::Finish {
                    choice,
                    finish: gemini::finish_of(reason, state.has_calls(choice)),
                    reason,
                });
            }
        }
        if let Some(usage) = usage {
            state.take_usage(usage, out);
        }
        true
    }
}
