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
//! The last event it scanned in full is kept as a template: the next event that differs from
//! it only inside values (strings, numbers, runs of whitespace) is read by comparing the
//! bytes and reading again only the values that changed (see [`template`]).
//!
//! It only ever says "this is a valid event with these fields": it declines (`None`, and the
//! simd-json path decides) on anything it cannot prove gives the same result: invalid UTF-8,
//! an escaped key, a key it reads given twice (simd-json's path takes the last), a field of
//! another shape than the dialect's (the simd-json path's shape errors), an API error, a
//! number it does not read exactly as simd-json does (exponents, long or negative numbers
//! where a count goes), deep nesting, any syntax error, and an Anthropic tool call's
//! non-empty `input` (its JSON text is written from the tape). The JSON texts the other
//! decoders give (a Responses `reasoning` item, a Gemini call's `args`, a Gemini part with a
//! `thoughtSignature`) are the event's own bytes when they already are the text the
//! simd-json path writes (`fast::canonical`: compact, only the escapes it writes, integers
//! only), or, for Gemini's (which spaces its JSON), those bytes compacted when only their
//! spacing differs; else it declines.

use super::anthropic::{self, Counts, Delta, Start};
use super::gemini;
use super::responses::{self, PartKind, Terminal};
use super::{Dialect, Out, Part};
use crate::Usage;
use crate::fast::{self, Cursor, Fast, GiveUp, NO_SLOT, Span};
use template::Template;

/// The fast path's cursor, recording values for the templates.
type Scan<'b> = Cursor<'b, true>;

mod template;

/// What the scanner found where a field the decoders read lies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum V {
    /// No such member.
    #[default]
    Absent,
    Null,
    Str(Text),
    /// A plain non-negative integer of at most 19 digits: what simd-json reads as an integer
    /// that `as_u64` takes.
    Count(u64),
    /// An object whose members were read into their own slots (or, for a tool's `input`,
    /// an empty object).
    Object,
    /// Any other value, validated and skipped: a boolean, a fraction, a negative number, an
    /// array, an object not read.
    Other,
    /// An object's own JSON text, where its member's slot says [`V::Object`]. An event with
    /// one is not kept as a template (a change inside the object would change this text).
    Raw(Text),
}

/// Where a string lies: `input[start..end]`, or `unescaped[start..end]` (see [`Texts`]). A
/// [`Span`] without the chat template's index, so that a [`V`] takes sixteen bytes (the
/// templates write a dialect's slots per event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Text {
    start: u32,
    end: u32,
    unescaped: bool,
}

impl From<Span> for Text {
    fn from(span: Span) -> Self {
        Self {
            start: span.start,
            end: span.end,
            unescaped: span.unescaped,
        }
    }
}

/// The scanner's buffers, reused from one event to the next.
#[derive(Default)]
pub(crate) struct Flat {
    /// Gemini: strings with escapes, unescaped (each template has its own).
    unescaped: Vec<u8>,
    /// Each dialect's template, boxed: a stream of another dialect never allocates it.
    anthropic: Option<Box<Template<AnthropicRaw>>>,
    responses: Option<Box<Template<ResponsesRaw>>>,
    /// Gemini: each candidate's index, `finishReason` and range of `parts`.
    candidates: Vec<(u64, V, usize, usize)>,
    /// Gemini: each candidate's parts.
    parts: Vec<GeminiPart>,
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

/// Reads the value at the cursor into `slots[id]`: a string, `null`, a count, or anything
/// else skipped (validated) as [`V::Other`]. A string or a number is recorded as held in
/// that slot, for the template (see [`template`]).
#[inline]
fn value(c: &mut Scan<'_>, depth: u32, slots: &mut [V], id: u16) -> Fast<()> {
    let value = match c.peek()? {
        b'"' => {
            let span = c.string()?;
            c.hold(id);
            V::Str(span.into())
        }
        b'n' => {
            c.literal(b"null")?;
            V::Null
        }
        b'-' | b'0'..=b'9' => {
            let count = c.number()?;
            c.hold(id);
            count.map_or(V::Other, V::Count)
        }
        _ => {
            c.skip(depth)?;
            V::Other
        }
    };
    set(slots.get_mut(usize::from(id)).ok_or(GiveUp)?, value)
}

/// [`value`] into one slot of its own (Gemini's, which keeps no template).
#[inline]
fn value_in(c: &mut Scan<'_>, depth: u32, slot: &mut V) -> Fast<()> {
    value(c, depth, std::slice::from_mut(slot), 0)
}

/// Reads the object at the cursor, its members by `member`, into `slots[id]` as
/// [`V::Object`]; or `null`, or another value (skipped).
#[inline]
fn nested(
    c: &mut Scan<'_>,
    depth: u32,
    slots: &mut [V],
    id: u16,
    member: impl FnOnce(&mut Scan<'_>, &mut [V]) -> Fast<()>,
) -> Fast<()> {
    if c.peek()? == b'{' {
        set(slots.get_mut(usize::from(id)).ok_or(GiveUp)?, V::Object)?;
        return member(c, slots);
    }
    value(c, depth, slots, id)
}

/// [`nested`] into one slot of its own.
#[inline]
fn nested_in(
    c: &mut Scan<'_>,
    depth: u32,
    slot: &mut V,
    member: impl FnOnce(&mut Scan<'_>) -> Fast<()>,
) -> Fast<()> {
    nested(c, depth, std::slice::from_mut(slot), 0, |c, _| member(c))
}

/// Reads a whole event's data: one object (its members by `member`, at depth 1), between
/// optional whitespace.
fn top(c: &mut Scan<'_>, member: impl FnOnce(&mut Scan<'_>) -> Fast<()>) -> Fast<()> {
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
            unescaped: crate::fast::utf8(unescaped).ok_or(GiveUp)?,
        })
    }

    fn span(&self, span: Text) -> Fast<&'a str> {
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

/// The slots of a dialect's fields: what the scanner found where each field its decoder reads
/// lies, by a fixed index.
pub(super) trait Raw: Copy {
    /// Every slot empty ([`V::Absent`]).
    const BLANK: Self;
}

/// Slot indexes into a `[V; N]`, for reading the fields by name.
macro_rules! slots {
    ($raw:ident, $n:literal: $($name:ident = $at:literal),* $(,)?) => {
        #[derive(Clone, Copy)]
        pub(super) struct $raw([V; $n]);

        impl Raw for $raw {
            const BLANK: Self = Self([V::Absent; $n]);
        }

        impl AsMut<[V]> for $raw {
            fn as_mut(&mut self) -> &mut [V] {
                &mut self.0
            }
        }

        impl $raw {
            $(const $name: u16 = $at;)*

            /// The slot `id`.
            fn at(&self, id: u16) -> V {
                self.0.get(usize::from(id)).copied().unwrap_or_default()
            }
        }
    };
}

/// Reads Anthropic's `usage` counts into the four slots from `base`.
fn read_counts(c: &mut Scan<'_>, depth: u32, slots: &mut [V], base: u16) -> Fast<()> {
    c.object(
        depth,
        |key| {
            by_name!(key, {
                b"input_tokens" => Some(0),
                b"output_tokens" => Some(1),
                b"cache_read_input_tokens" => Some(2),
                b"cache_creation_input_tokens" => Some(3),
            }, None)
        },
        |c, k| match k {
            Some(k) => value(c, depth, slots, base + k),
            None => c.skip(depth),
        },
    )
}

slots!(AnthropicRaw, 31:
    KIND = 0,
    INDEX = 1,
    ERROR = 2,
    // `delta`: a block's delta (`type` and its text) or the message's (`stop_reason`).
    DELTA = 3,
    DELTA_TYPE = 4,
    DELTA_TEXT = 5,
    DELTA_THINKING = 6,
    DELTA_JSON = 7,
    DELTA_SIGNATURE = 8,
    STOP_REASON = 9,
    // `content_block`.
    BLOCK = 10,
    BLOCK_TYPE = 11,
    BLOCK_TEXT = 12,
    BLOCK_THINKING = 13,
    BLOCK_SIGNATURE = 14,
    BLOCK_ID = 15,
    BLOCK_NAME = 16,
    // A tool's `input`: [`V::Object`] only when empty.
    BLOCK_INPUT = 17,
    // `message`.
    MESSAGE = 18,
    MESSAGE_ID = 19,
    MESSAGE_MODEL = 20,
    MESSAGE_USAGE = 21,
    // Four counts, from here.
    MESSAGE_COUNTS = 22,
    USAGE = 26,
    // Four counts, from here.
    COUNTS = 27,
);

impl AnthropicRaw {
    /// Reads every field the Anthropic decoder reads, of every event kind.
    fn read(&mut self, c: &mut Scan<'_>) -> Fast<()> {
        let slots = &mut self.0;
        c.object(
            1,
            |key| {
                by_name!(key, {
                    b"type" => Self::KIND,
                    b"index" => Self::INDEX,
                    b"delta" => Self::DELTA,
                    b"content_block" => Self::BLOCK,
                    b"message" => Self::MESSAGE,
                    b"usage" => Self::USAGE,
                }, if error_member(key) { Self::ERROR } else { NO_SLOT })
            },
            |c, key| match key {
                Self::DELTA => nested(c, 1, slots, key, |c, slots| {
                    c.object(
                        2,
                        |key| {
                            by_name!(key, {
                                b"type" => Self::DELTA_TYPE,
                                b"text" => Self::DELTA_TEXT,
                                b"thinking" => Self::DELTA_THINKING,
                                b"partial_json" => Self::DELTA_JSON,
                                b"signature" => Self::DELTA_SIGNATURE,
                                b"stop_reason" => Self::STOP_REASON,
                            }, NO_SLOT)
                        },
                        |c, key| match key {
                            NO_SLOT => c.skip(2),
                            _ => value(c, 2, slots, key),
                        },
                    )
                }),
                Self::BLOCK => nested(c, 1, slots, key, |c, slots| {
                    c.object(
                        2,
                        |key| {
                            by_name!(key, {
                                b"type" => Self::BLOCK_TYPE,
                                b"text" => Self::BLOCK_TEXT,
                                b"thinking" => Self::BLOCK_THINKING,
                                b"signature" => Self::BLOCK_SIGNATURE,
                                b"id" => Self::BLOCK_ID,
                                b"name" => Self::BLOCK_NAME,
                                b"input" => Self::BLOCK_INPUT,
                            }, NO_SLOT)
                        },
                        |c, key| match key {
                            Self::BLOCK_INPUT => {
                                // Empty (the usual `{}`): the decoder writes `{}`, as the
                                // simd-json path writes it from the tape. Read here, not
                                // skipped: a skipped object is one value of the template,
                                // whose inside a later event may change, and the slot says
                                // what its inside was.
                                let open = c.pos;
                                let empty = c.peek()? == b'{' && {
                                    c.pos += 1;
                                    c.skip_ws();
                                    c.peek()? == b'}'
                                };
                                let value = if empty {
                                    c.pos += 1;
                                    V::Object
                                } else {
                                    c.pos = open;
                                    c.skip(2)?;
                                    V::Other
                                };
                                set(&mut slots[usize::from(key)], value)
                            }
                            NO_SLOT => c.skip(2),
                            _ => value(c, 2, slots, key),
                        },
                    )
                }),
                Self::MESSAGE => nested(c, 1, slots, key, |c, slots| {
                    c.object(
                        2,
                        |key| {
                            by_name!(key, {
                                b"id" => Self::MESSAGE_ID,
                                b"model" => Self::MESSAGE_MODEL,
                                b"usage" => Self::MESSAGE_USAGE,
                            }, NO_SLOT)
                        },
                        |c, key| match key {
                            Self::MESSAGE_USAGE => nested(c, 2, slots, key, |c, slots| {
                                read_counts(c, 3, slots, Self::MESSAGE_COUNTS)
                            }),
                            NO_SLOT => c.skip(2),
                            _ => value(c, 2, slots, key),
                        },
                    )
                }),
                Self::USAGE => nested(c, 1, slots, key, |c, slots| {
                    read_counts(c, 2, slots, Self::COUNTS)
                }),
                NO_SLOT => c.skip(1),
                _ => value(c, 1, slots, key),
            },
        )
    }

    /// The four counts from `base`, when the slot `usage` holds an object.
    fn counts(&self, usage: u16, base: u16) -> Fast<Option<Counts>> {
        if !strict_object(self.at(usage))? {
            return Ok(None);
        }
        Ok(Some(Counts {
            input: strict_count(self.at(base))?,
            output: strict_count(self.at(base + 1))?,
            cache_read: strict_count(self.at(base + 2))?,
            cache_creation: strict_count(self.at(base + 3))?,
        }))
    }

    /// The event, as `anthropic::read` reads it from the tape.
    #[inline(always)]
    fn event<'a>(&self, event_type: &[u8], t: Texts<'a>) -> Fast<anthropic::Event<'a, 'a>> {
        use anthropic::Event;
        if !matches!(self.at(Self::ERROR), V::Absent) {
            return Err(GiveUp);
        }
        let kind = match t.strict(self.at(Self::KIND))? {
            Some("error") => return Err(GiveUp),
            Some(kind) => kind.as_bytes(),
            None => event_type,
        };
        let index = || match self.at(Self::INDEX) {
            V::Count(n) => Ok(n),
            _ => Err(GiveUp),
        };
        let text = |id| t.strict(self.at(id));
        Ok(match anthropic::EventKind::of(kind) {
            anthropic::EventKind::MessageStart => {
                let (mut id, mut model, mut read) = (None, None, None);
                if strict_object(self.at(Self::MESSAGE))? {
                    id = text(Self::MESSAGE_ID)?;
                    model = text(Self::MESSAGE_MODEL)?;
                    read = self.counts(Self::MESSAGE_USAGE, Self::MESSAGE_COUNTS)?;
                }
                Event::MessageStart {
                    id,
                    model,
                    counts: read,
                }
            }
            anthropic::EventKind::BlockStart => {
                let index = index()?;
                if self.at(Self::BLOCK) != V::Object {
                    return Err(GiveUp);
                }
                let block = match text(Self::BLOCK_TYPE)? {
                    Some("text") => Start::Text(text(Self::BLOCK_TEXT)?),
                    Some("thinking") => Start::Thinking {
                        text: text(Self::BLOCK_THINKING)?,
                        signature: text(Self::BLOCK_SIGNATURE)?,
                    },
                    Some("tool_use") => {
                        if !matches!(self.at(Self::BLOCK_INPUT), V::Absent | V::Object) {
                            return Err(GiveUp);
                        }
                        Start::ToolUse {
                            id: text(Self::BLOCK_ID)?,
                            name: text(Self::BLOCK_NAME)?,
                            input: None,
                        }
                    }
                    Some("redacted_thinking") => return Err(GiveUp),
                    _ => Start::Other,
                };
                Event::BlockStart { index, block }
            }
            anthropic::EventKind::BlockDelta => {
                let index = index()?;
                if self.at(Self::DELTA) != V::Object {
                    return Err(GiveUp);
                }
                let delta = match text(Self::DELTA_TYPE)? {
                    Some("text_delta") => Delta::Text(text(Self::DELTA_TEXT)?),
                    Some("thinking_delta") => Delta::Thinking(text(Self::DELTA_THINKING)?),
                    Some("input_json_delta") => Delta::InputJson(text(Self::DELTA_JSON)?),
                    Some("signature_delta") => Delta::Signature(text(Self::DELTA_SIGNATURE)?),
                    _ => Delta::Other,
                };
                Event::BlockDelta { index, delta }
            }
            anthropic::EventKind::BlockStop => Event::BlockStop { index: index()? },
            anthropic::EventKind::MessageDelta => {
                let reason = if strict_object(self.at(Self::DELTA))? {
                    text(Self::STOP_REASON)?
                } else {
                    None
                };
                Event::MessageDelta {
                    reason,
                    counts: self.counts(Self::USAGE, Self::COUNTS)?,
                }
            }
            anthropic::EventKind::MessageStop => Event::MessageStop,
            anthropic::EventKind::Other => Event::Nothing,
        })
    }
}

/// Reads the object at the cursor's member `name` into `slots[id]`, skipping the others.
fn one_member(c: &mut Scan<'_>, depth: u32, name: &[u8], slots: &mut [V], id: u16) -> Fast<()> {
    c.object(
        depth,
        |key| key == name,
        |c, wanted| {
            if wanted {
                value(c, depth, slots, id)
            } else {
                c.skip(depth)
            }
        },
    )
}

slots!(ResponsesRaw, 31:
    KIND = 0,
    ERROR = 1,
    DELTA = 2,
    ITEM_ID = 3,
    OUTPUT_INDEX = 4,
    SUMMARY_INDEX = 5,
    CONTENT_INDEX = 6,
    ARGUMENTS = 7,
    INPUT = 8,
    // `response`.
    RESPONSE = 9,
    RESPONSE_ID = 10,
    RESPONSE_MODEL = 11,
    RESPONSE_ERROR = 12,
    INCOMPLETE = 13,
    INCOMPLETE_REASON = 14,
    // `response.usage`.
    USAGE = 15,
    USAGE_INPUT = 16,
    USAGE_OUTPUT = 17,
    USAGE_TOTAL = 18,
    INPUT_DETAILS = 19,
    CACHED = 20,
    OUTPUT_DETAILS = 21,
    REASONING = 22,
    // `item`.
    ITEM = 23,
    ITEM_TYPE = 24,
    ITEM_OWN_ID = 25,
    ITEM_CALL_ID = 26,
    ITEM_NAME = 27,
    ITEM_ARGUMENTS = 28,
    ITEM_INPUT = 29,
    // The item's JSON text.
    ITEM_RAW = 30,
);

impl ResponsesRaw {
    /// Reads every field the Responses decoder reads, of every event kind.
    fn read(&mut self, c: &mut Scan<'_>) -> Fast<()> {
        let slots = &mut self.0;
        c.object(
            1,
            |key| {
                by_name!(key, {
                    b"type" => Self::KIND,
                    b"delta" => Self::DELTA,
                    b"item_id" => Self::ITEM_ID,
                    b"output_index" => Self::OUTPUT_INDEX,
                    b"summary_index" => Self::SUMMARY_INDEX,
                    b"content_index" => Self::CONTENT_INDEX,
                    b"arguments" => Self::ARGUMENTS,
                    b"input" => Self::INPUT,
                    b"response" => Self::RESPONSE,
                    b"item" => Self::ITEM,
                }, if error_member(key) { Self::ERROR } else { NO_SLOT })
            },
            |c, key| match key {
                Self::RESPONSE => Self::response(c, slots),
                Self::ITEM => Self::item(c, slots),
                NO_SLOT => c.skip(1),
                _ => value(c, 1, slots, key),
            },
        )
    }

    fn response(c: &mut Scan<'_>, slots: &mut [V]) -> Fast<()> {
        nested(c, 1, slots, Self::RESPONSE, |c, slots| {
            c.object(
                2,
                |key| {
                    by_name!(key, {
                        b"id" => Self::RESPONSE_ID,
                        b"model" => Self::RESPONSE_MODEL,
                        b"usage" => Self::USAGE,
                        b"error" => Self::RESPONSE_ERROR,
                        b"incomplete_details" => Self::INCOMPLETE,
                    }, NO_SLOT)
                },
                |c, key| match key {
                    Self::USAGE => nested(c, 2, slots, key, Self::usage),
                    Self::INCOMPLETE => nested(c, 2, slots, key, |c, slots| {
                        one_member(c, 3, b"reason", slots, Self::INCOMPLETE_REASON)
                    }),
                    NO_SLOT => c.skip(2),
                    _ => value(c, 2, slots, key),
                },
            )
        })
    }

    /// Reads `response.usage`.
    fn usage(c: &mut Scan<'_>, slots: &mut [V]) -> Fast<()> {
        c.object(
            3,
            |key| {
                by_name!(key, {
                    b"input_tokens" => Self::USAGE_INPUT,
                    b"output_tokens" => Self::USAGE_OUTPUT,
                    b"total_tokens" => Self::USAGE_TOTAL,
                    b"input_tokens_details" => Self::INPUT_DETAILS,
                    b"output_tokens_details" => Self::OUTPUT_DETAILS,
                }, NO_SLOT)
            },
            |c, key| match key {
                Self::INPUT_DETAILS => nested(c, 3, slots, key, |c, slots| {
                    one_member(c, 4, b"cached_tokens", slots, Self::CACHED)
                }),
                Self::OUTPUT_DETAILS => nested(c, 3, slots, key, |c, slots| {
                    one_member(c, 4, b"reasoning_tokens", slots, Self::REASONING)
                }),
                NO_SLOT => c.skip(3),
                _ => value(c, 3, slots, key),
            },
        )
    }

    fn item(c: &mut Scan<'_>, slots: &mut [V]) -> Fast<()> {
        let open = c.pos;
        Self::item_members(c, slots)?;
        if slots.get(usize::from(Self::ITEM)) == Some(&V::Object) {
            // Its JSON text, for a reasoning item (checked then: most items are not).
            let raw = Text {
                start: u32::try_from(open).map_err(|_| GiveUp)?,
                end: u32::try_from(c.pos).map_err(|_| GiveUp)?,
                unescaped: false,
            };
            set(&mut slots[usize::from(Self::ITEM_RAW)], V::Raw(raw))?;
        }
        Ok(())
    }

    fn item_members(c: &mut Scan<'_>, slots: &mut [V]) -> Fast<()> {
        nested(c, 1, slots, Self::ITEM, |c, slots| {
            c.object(
                2,
                |key| {
                    by_name!(key, {
                        b"type" => Self::ITEM_TYPE,
                        b"id" => Self::ITEM_OWN_ID,
                        b"call_id" => Self::ITEM_CALL_ID,
                        b"name" => Self::ITEM_NAME,
                        b"arguments" => Self::ITEM_ARGUMENTS,
                        b"input" => Self::ITEM_INPUT,
                    }, NO_SLOT)
                },
                |c, key| match key {
                    NO_SLOT => c.skip(2),
                    _ => value(c, 2, slots, key),
                },
            )
        })
    }

    /// The usage, as `responses::read_usage` reads it.
    fn usage_of(&self) -> Fast<Usage> {
        let input = lenient_count(self.at(Self::USAGE_INPUT))?.unwrap_or(0);
        let output = lenient_count(self.at(Self::USAGE_OUTPUT))?.unwrap_or(0);
        let detail = |object: u16, count: u16| match self.at(object) {
            V::Object => lenient_count(self.at(count)),
            _ => Ok(None),
        };
        Ok(Usage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: lenient_count(self.at(Self::USAGE_TOTAL))?
                .unwrap_or_else(|| input.saturating_add(output)),
            cached_input_tokens: detail(Self::INPUT_DETAILS, Self::CACHED)?,
            reasoning_tokens: detail(Self::OUTPUT_DETAILS, Self::REASONING)?,
        })
    }

    /// The event, as `responses::read` reads it from the tape.
    #[inline(always)]
    fn event<'a>(&self, event_type: &[u8], t: Texts<'a>) -> Fast<responses::Event<'a, 'a>> {
        use responses::Event;
        if !matches!(self.at(Self::ERROR), V::Absent) {
            return Err(GiveUp);
        }
        let declared = t.lenient(self.at(Self::KIND))?;
        if declared == Some("error") {
            return Err(GiveUp);
        }
        let kind: &[u8] = if event_type == b"message" {
            declared.map_or(&b""[..], str::as_bytes)
        } else {
            event_type
        };
        let lenient = |id| t.lenient(self.at(id));
        let strict = |id| t.strict(self.at(id));
        // Read only by the kinds that carry them (a text delta does not: as on the tape).
        let item_id = || lenient(Self::ITEM_ID);
        let output_index = || lenient_count(self.at(Self::OUTPUT_INDEX));
        let delta = || strict(Self::DELTA);
        let kind = responses::EventKind::of(kind);
        use responses::EventKind as K;
        Ok(match kind {
            K::Created | K::InProgress => {
                let response = strict_object(self.at(Self::RESPONSE))?;
                Event::Metadata {
                    created: kind == K::Created,
                    response: if response {
                        Some((lenient(Self::RESPONSE_ID)?, lenient(Self::RESPONSE_MODEL)?))
                    } else {
                        None
                    },
                }
            }
            K::TextDelta => delta()?.map_or(Event::Nothing, Event::Text),
            K::RefusalDelta => delta()?.map_or(Event::Nothing, Event::Refusal),
            K::SummaryDelta | K::ReasoningDelta => match delta()? {
                Some(text) => {
                    let (part, index) = if kind == K::ReasoningDelta {
                        (PartKind::Text, Self::CONTENT_INDEX)
                    } else {
                        (PartKind::Summary, Self::SUMMARY_INDEX)
                    };
                    Event::Reasoning {
                        part,
                        item_id: item_id()?,
                        index: lenient_count(self.at(index))?,
                        text,
                    }
                }
                None => Event::Nothing,
            },
            K::ItemAdded => {
                if !strict_object(self.at(Self::ITEM))? {
                    return Ok(Event::Nothing);
                }
                match lenient(Self::ITEM_TYPE)? {
                    Some("function_call" | "custom_tool_call") => Event::ToolStart {
                        own_id: lenient(Self::ITEM_OWN_ID)?,
                        output_index: output_index()?,
                        call_id: lenient(Self::ITEM_CALL_ID)?,
                        name: lenient(Self::ITEM_NAME)?,
                    },
                    _ => Event::Nothing,
                }
            }
            K::ArgumentsDelta | K::InputDelta => match delta()? {
                Some(fragment) => Event::Fragment {
                    item_id: item_id()?,
                    output_index: output_index()?,
                    fragment,
                },
                None => Event::Nothing,
            },
            K::ArgumentsDone => Event::End {
                item_id: item_id()?,
                output_index: output_index()?,
                names: None,
                whole: strict(Self::ARGUMENTS)?,
            },
            K::InputDone => Event::End {
                item_id: item_id()?,
                output_index: output_index()?,
                names: None,
                whole: strict(Self::INPUT)?,
            },
            K::ItemDone => {
                if !strict_object(self.at(Self::ITEM))? {
                    return Ok(Event::Nothing);
                }
                let whole = match lenient(Self::ITEM_TYPE)? {
                    Some("function_call") => Self::ITEM_ARGUMENTS,
                    Some("custom_tool_call") => Self::ITEM_INPUT,
                    // The item's JSON text, when it is already as the tape's is written.
                    Some("reasoning") => {
                        let V::Raw(raw) = self.at(Self::ITEM_RAW) else {
                            return Err(GiveUp);
                        };
                        // As the simd-json path writes it (a spaced item declines).
                        let json = t.span(raw)?;
                        if !fast::canonical(json.as_bytes()) {
                            return Err(GiveUp);
                        }
                        return Ok(Event::ReasoningJson(json));
                    }
                    _ => return Ok(Event::Nothing),
                };
                Event::End {
                    whole: strict(whole)?,
                    item_id: lenient(Self::ITEM_OWN_ID)?,
                    output_index: output_index()?,
                    names: Some((lenient(Self::ITEM_CALL_ID)?, lenient(Self::ITEM_NAME)?)),
                }
            }
            K::Completed | K::Incomplete | K::Failed => {
                let response = strict_object(self.at(Self::RESPONSE))?;
                let end = match kind {
                    K::Completed => Terminal::Completed,
                    // Its error object is read from the tape.
                    K::Failed => return Err(GiveUp),
                    _ => Terminal::Incomplete(match (response, self.at(Self::INCOMPLETE)) {
                        (true, V::Object) => lenient(Self::INCOMPLETE_REASON)?,
                        _ => None,
                    }),
                };
                let usage = if response && strict_object(self.at(Self::USAGE))? {
                    Some(self.usage_of()?)
                } else {
                    None
                };
                Event::Terminal {
                    end,
                    error: None,
                    usage,
                }
            }
            K::Error => return Err(GiveUp),
            K::Other => Event::Nothing,
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
        c: &mut Scan<'_>,
        candidates: &mut Vec<(u64, V, usize, usize)>,
        parts: &mut Vec<GeminiPart>,
    ) -> Fast<()> {
        c.object(
            1,
            |key| {
                by_name!(key, {
                    b"responseId" => 0,
                    b"modelVersion" => 1,
                    b"candidates" => 2,
                    b"promptFeedback" => 3,
                    b"usageMetadata" => 4,
                    b"type" => 6,
                }, if error_member(key) { 3 } else { 5 })
            },
            |c, k| match k {
                0 => value_in(c, 1, &mut self.id),
                // A `type` of `"error"` makes the object an error (`chunk::error_member`),
                // which the simd-json path reads.
                6 => c.declared(),
                1 => value_in(c, 1, &mut self.model),
                // An array (of objects), or `null`; another shape declines.
                2 => match c.peek()? {
                    b'[' => {
                        set(&mut self.candidates, V::Object)?;
                        c.array(2, |c| candidate(c, candidates, parts))
                    }
                    b'n' => value_in(c, 1, &mut self.candidates),
                    _ => Err(GiveUp),
                },
                // A blocked prompt, or an error: the simd-json path reads it.
                3 => Err(GiveUp),
                4 => {
                    let counts = &mut self.counts;
                    nested_in(c, 1, &mut self.usage, |c| {
                        c.object(
                            2,
                            |key| {
                                by_name!(key, {
                                    b"promptTokenCount" => 0,
                                    b"candidatesTokenCount" => 1,
                                    b"thoughtsTokenCount" => 2,
                                    b"totalTokenCount" => 3,
                                    b"cachedContentTokenCount" => 4,
                                }, 5)
                            },
                            |c, k| match counts.get_mut(k) {
                                Some(slot) => value_in(c, 2, slot),
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

/// Reads one candidate (an object; anything else declines) onto `candidates`, its parts onto
/// `parts`.
fn candidate(
    c: &mut Scan<'_>,
    candidates: &mut Vec<(u64, V, usize, usize)>,
    read: &mut Vec<GeminiPart>,
) -> Fast<()> {
    let (mut index, mut content, mut parts, mut reason) =
        (V::Absent, V::Absent, V::Absent, V::Absent);
    let first = read.len();
    c.object(
        3,
        |key| {
            by_name!(key, {
                b"index" => 0,
                b"content" => 1,
                b"finishReason" => 2,
            }, 3)
        },
        |c, k| match k {
            0 => value_in(c, 3, &mut index),
            1 => nested_in(c, 3, &mut content, |c| {
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
                                c.array(5, |c| part(c, read))
                            }
                            b'n' => value_in(c, 4, &mut parts),
                            _ => Err(GiveUp),
                        }
                    },
                )
            }),
            2 => value_in(c, 3, &mut reason),
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
    candidates.push((choice, reason, first, read.len()));
    Ok(())
}

/// One element of a candidate's `content.parts`, as the scanner read it.
#[derive(Debug, Clone, Copy)]
struct GeminiPart {
    /// `text` (a string), and whether `thought` says it is a thought.
    text: Option<(Text, bool)>,
    /// `functionCall`: its `id` and `name` (a string, `null` or absent) and `args` (its JSON
    /// text; `None` when absent or `null`).
    call: Option<(V, V, Option<Text>)>,
    /// The part's own JSON text, when it carries a non-empty `thoughtSignature`.
    signed: Option<Text>,
}

/// The value at the cursor, skipped (validated), as the JSON text the simd-json path writes
/// (see `Cursor::json_text`); another text declines.
fn raw_value(c: &mut Scan<'_>, depth: u32) -> Fast<Text> {
    let open = c.pos;
    c.skip(depth)?;
    c.json_text(open).map(Text::from).ok_or(GiveUp)
}

/// Reads one part: an object whose `text` (a string or `null`) and `thought` (a boolean or
/// `null`) say a text, `functionCall` (an object or `null`) a whole tool call, and a
/// non-empty `thoughtSignature` (a string or `null`) that the part is a signed detail.
fn part(c: &mut Scan<'_>, parts: &mut Vec<GeminiPart>) -> Fast<()> {
    let (mut text, mut thought, mut call, mut signature) = (V::Absent, None, V::Absent, V::Absent);
    let (mut id, mut name, mut args) = (V::Absent, V::Absent, None);
    let open = c.pos;
    c.object(
        6,
        |key| {
            by_name!(key, {
                b"text" => 0,
                b"thought" => 1,
                b"functionCall" => 2,
                b"thoughtSignature" => 3,
            }, 4)
        },
        |c, k| match k {
            0 => value_in(c, 6, &mut text),
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
            2 => nested_in(c, 6, &mut call, |c| {
                c.object(
                    7,
                    |key| {
                        by_name!(key, {
                            b"id" => 0,
                            b"name" => 1,
                            b"args" => 2,
                        }, 3)
                    },
                    |c, k| match k {
                        0 => value_in(c, 7, &mut id),
                        1 => value_in(c, 7, &mut name),
                        2 => {
                            if args.is_some() {
                                return Err(GiveUp);
                            }
                            args = Some(if c.peek()? == b'n' {
                                c.literal(b"null")?;
                                None
                            } else {
                                Some(raw_value(c, 7)?)
                            });
                            Ok(())
                        }
                        _ => c.skip(7),
                    },
                )
            }),
            3 => value_in(c, 6, &mut signature),
            _ => c.skip(6),
        },
    )?;
    let signed = match signature {
        V::Absent | V::Null => None,
        // The part's own JSON text, as the simd-json path writes it.
        V::Str(span) if span.start != span.end => {
            Some(c.json_text(open).map(Text::from).ok_or(GiveUp)?)
        }
        V::Str(_) => None,
        _ => return Err(GiveUp),
    };
    let call = match call {
        V::Absent | V::Null => None,
        V::Object => Some((id, name, args.flatten())),
        _ => return Err(GiveUp),
    };
    let text = match text {
        V::Str(span) => Some((span, thought.unwrap_or(false))),
        V::Absent | V::Null => None,
        _ => return Err(GiveUp),
    };
    parts.push(GeminiPart { text, call, signed });
    Ok(())
}

impl Flat {
    /// Decodes an Anthropic event on the flat path: whether it reused the template, or
    /// `None` (nothing said, nothing learnt) when it declines. `text` is `data` when it is
    /// valid UTF-8 (a reused template does not need it).
    pub(crate) fn anthropic<'a>(
        &'a mut self,
        state: &mut anthropic::State,
        event_type: &[u8],
        data: &'a [u8],
        repeated: bool,
        text: impl FnOnce() -> Option<&'a str>,
        out: &mut Out<'_, 'a>,
    ) -> Option<bool> {
        let template = self.anthropic.get_or_insert_default();
        let keep = || anthropic::EventKind::of(event_type).repeats();
        let (raw, t, reused) = template.read(data, repeated, keep, text, AnthropicRaw::read)?;
        state.apply(raw.event(event_type, t).ok()?, out);
        Some(reused)
    }

    /// Decodes a Responses API event on the flat path: whether it reused the template, or
    /// `None` (nothing said, nothing learnt) when it declines. `text` is `data` when it is
    /// valid UTF-8 (a reused template does not need it).
    pub(crate) fn responses<'a>(
        &'a mut self,
        state: &mut responses::State,
        event_type: &[u8],
        data: &'a [u8],
        repeated: bool,
        text: impl FnOnce() -> Option<&'a str>,
        out: &mut Out<'_, 'a>,
    ) -> Option<bool> {
        let template = self.responses.get_or_insert_default();
        let keep = || responses::EventKind::repeats(event_type);
        let (raw, t, reused) = template.read(data, repeated, keep, text, ResponsesRaw::read)?;
        match raw.event(event_type, t) {
            Ok(event) => state.apply(event, out),
            Err(GiveUp) => return None,
        }
        Some(reused)
    }

    /// Whether the event whose data begins `rest` (its line's end not known yet) reuses the
    /// template of `dialect` up to the line's end: the data's length, at most `max`. The
    /// template then holds the data's values (see `Template::read_repeat`).
    pub(crate) fn repeat(&mut self, dialect: Dialect, rest: &[u8], max: usize) -> Option<usize> {
        match dialect {
            Dialect::Anthropic => self.anthropic.as_deref_mut()?.read_repeat(rest, max),
            Dialect::Responses => self.responses.as_deref_mut()?.read_repeat(rest, max),
            Dialect::Gemini | Dialect::Chat => None,
        }
    }

    /// Decodes a Gemini event on the flat path: whether it reused a template (never, yet), or
    /// `None` (nothing said, nothing learnt) when it declines.
    pub(crate) fn gemini<'a>(
        &'a mut self,
        state: &mut gemini::State,
        text: &'a str,
        out: &mut Out<'_, 'a>,
    ) -> Option<bool> {
        let Self {
            unescaped,
            candidates,
            parts,
            ..
        } = self;
        unescaped.clear();
        candidates.clear();
        parts.clear();
        let mut raw = GeminiRaw::default();
        fast::scan(text.as_bytes(), unescaped, None, |c| {
            top(c, |c| raw.read(c, candidates, parts))
        })?;
        let t = Texts::new(text, unescaped).ok()?;
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
        let (id, model, usage) = said().ok()?;
        // JSON text as the simd-json path writes it from the tape (see `raw_value`).
        let json = |raw: Text| t.span(raw);
        // Every text resolves before anything is said.
        let resolves = |part: &GeminiPart| -> Fast<()> {
            if let Some((span, _)) = part.text {
                t.span(span)?;
            }
            if let Some((id, name, args)) = part.call {
                t.strict(id)?;
                t.strict(name)?;
                args.map(json).transpose()?;
            }
            part.signed.map(json).transpose()?;
            Ok(())
        };
        if parts.iter().map(resolves).any(|r| r.is_err())
            || candidates
                .iter()
                .any(|&(_, reason, _, _)| t.strict(reason).is_err())
        {
            return None;
        }
        if id.is_some() || model.is_some() {
            out.push(Part::Metadata { id, model });
        }
        for &(choice, reason, first, end) in candidates.iter() {
            out.push(Part::Role {
                choice,
                role: "assistant",
            });
            // In the order the simd-json path says them (`gemini::State::part`).
            for part in &parts[first..end] {
                if let Some((span, thought)) = part.text {
                    let text = t.span(span).unwrap_or_default();
                    out.push(gemini::text_part(choice, text, thought));
                }
                if let Some((id, name, args)) = part.call {
                    let index = state.next_call(choice);
                    out.push(Part::ToolCallStart {
                        choice,
                        index,
                        id: t.strict(id).ok().flatten(),
                        name: t.strict(name).ok().flatten(),
                    });
                    let fragment = args.and_then(|a| json(a).ok()).unwrap_or("{}");
                    out.push(Part::ToolCallArguments {
                        choice,
                        index,
                        fragment,
                    });
                    out.push(Part::ToolCallEnd {
                        choice,
                        index,
                        arguments: None,
                    });
                }
                if let Some(signed) = part.signed {
                    let detail = json(signed).unwrap_or_default();
                    out.push(Part::ReasoningDetail { choice, detail });
                }
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
        Some(false)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn by_name_tells_each_name_from_its_neighbours() {
        let pick = |key: &[u8]| {
            by_name!(key, {
                b"type" => 1,
                b"text" => 2,
                b"promptTokenCount" => 3,
                b"promptTokensDetails" => 4,
                b"" => 5,
            }, 0)
        };
        for (key, want) in [
            (&b"type"[..], 1),
            (b"text", 2),
            (b"promptTokenCount", 3),
            (b"promptTokensDetails", 4),
            (b"", 5),
            (b"typ", 0),
            (b"types", 0),
            (b"tExt", 0),
            (b"promptTokenCounts", 0),
            (b"promptTokensDetail", 0),
        ] {
            assert_eq!(pick(key), want, "{:?}", String::from_utf8_lossy(key));
        }
    }

    #[test]
    fn a_slot_takes_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<super::V>(), 16);
    }
}
