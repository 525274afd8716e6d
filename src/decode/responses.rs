//! The OpenAI Responses API: its events as [`Part`]s.
//!
//! An event's type is its `event` field, or, when it has none (`message`), its data's
//! `type` member. Choice 0 is the response; its role is `assistant`.
//!
//! - `response.created`, `response.in_progress`: `response.id` and `response.model`.
//! - `response.output_text.delta`: content; `response.refusal.delta`: refusal;
//!   `response.reasoning_summary_text.delta` and `response.reasoning_text.delta`: reasoning,
//!   each part (keyed by `item_id` and `summary_index`, or `item_id` and `content_index`)
//!   kept apart from the reasoning before it by a blank line.
//! - `response.output_item.added` with a `function_call` or `custom_tool_call` item starts a
//!   tool call (`call_id`, `name`); `response.function_call_arguments.delta` and
//!   `response.custom_tool_call_input.delta` append to the call of their `item_id` (else of
//!   their `output_index`); their `.done` events and `response.output_item.done` end it, with
//!   the whole arguments.
//! - `response.output_item.done` with a `reasoning` item: a [`Part::ReasoningDetail`], the
//!   item as sent (what the API takes back in `input`; `encrypted_content` is in it when the
//!   request asked for it).
//! - `response.completed` (finish `completed`: `tool_calls` when the stream had tool calls,
//!   else `stop`), `response.incomplete` (`incomplete_details.reason`) and `response.failed`
//!   (`failed`, and `response.error` unless an `error` event already reported it) are
//!   terminal, with the usage of their `response.usage`.

use simd_json::Node;

use super::{Out, Part};
use crate::chunk::{as_str, as_u64, error_object, fields, object_len};
use crate::{ApiError, ErrorCode, Finish, Usage};

/// Where a tool call of the current response is found.
#[derive(Debug, Default)]
struct Call {
    /// The output item's `id` (`fc_...`), when it had one (`has_item_id`).
    item_id: String,
    has_item_id: bool,
    output_index: Option<u64>,
    /// The call's index among the stream's tool calls.
    index: u64,
    /// Started by a fragment or an end, not by `response.output_item.added`: its id and name
    /// are still unknown.
    anonymous: bool,
    /// The call's arguments are known to be non-empty (a non-empty fragment or whole came).
    filled: bool,
    /// An end was pushed.
    ended: bool,
}

/// Which kind of reasoning part.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PartKind {
    #[default]
    None,
    Summary,
    Text,
}

/// What the stream's earlier events said.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The tool calls of the current response: the first `live` slots (the others are kept
    /// for their buffers).
    calls: Vec<Call>,
    live: usize,
    /// Tool calls started in the stream.
    count: u64,
    /// The role was pushed.
    role: bool,
    /// The reasoning part the last reasoning delta belonged to.
    part_kind: PartKind,
    part_item: String,
    part_has_item: bool,
    part_index: Option<u64>,
    /// A non-empty text of that part came.
    part_started: bool,
    /// The last `error` event's message and code.
    error_seen: bool,
    error_message: String,
    error_has_message: bool,
    error_code: String,
    /// 0: no code, 1: a string code (`error_code`), 2: an integer code (`error_int`).
    error_code_kind: u8,
    error_int: i64,
}

/// The members of an event's data that the decoder reads (their value indexes).
#[derive(Debug, Default, Clone, Copy)]
struct Members {
    kind: Option<usize>,
    response: Option<usize>,
    item: Option<usize>,
    delta: Option<usize>,
    item_id: Option<usize>,
    output_index: Option<usize>,
    summary_index: Option<usize>,
    content_index: Option<usize>,
    arguments: Option<usize>,
    input: Option<usize>,
}

/// The value at `at`, with `null` meaning absent.
fn present(nodes: &[Node<'_>], at: Option<usize>) -> Option<usize> {
    at.filter(|&i| !matches!(nodes[i], Node::Static(simd_json::StaticNode::Null)))
}

/// A string member: absent or null is `None`, another type is the shape error `field`.
fn strict_str<'a>(
    nodes: &[Node<'a>],
    at: Option<usize>,
    field: &'static str,
) -> Result<Option<&'a str>, &'static str> {
    match present(nodes, at) {
        None => Ok(None),
        Some(i) => as_str(&nodes[i]).map(Some).ok_or(field),
    }
}

/// An object member: its index and length; absent or null is `None`, another type is the
/// shape error `field`.
fn strict_object(
    nodes: &[Node<'_>],
    at: Option<usize>,
    field: &'static str,
) -> Result<Option<(usize, usize)>, &'static str> {
    match present(nodes, at) {
        None => Ok(None),
        Some(i) => object_len(nodes, i).map(|len| Some((i, len))).ok_or(field),
    }
}

/// The member `key` of the object at `at` (with `len` keys), the last one when repeated.
fn member(nodes: &[Node<'_>], at: usize, len: usize, key: &str) -> Option<usize> {
    fields(nodes, at, len)
        .filter(|&(k, _)| k == key)
        .map(|(_, v)| v)
        .last()
}

/// The string member `key` of the object at `at`, when a string.
fn member_str<'a>(nodes: &[Node<'a>], at: usize, len: usize, key: &str) -> Option<&'a str> {
    member(nodes, at, len, key).and_then(|v| as_str(&nodes[v]))
}

/// The count `key` of the object at `at`, when a non-negative integer.
fn member_u64(nodes: &[Node<'_>], at: usize, len: usize, key: &str) -> Option<u64> {
    member(nodes, at, len, key).and_then(|v| as_u64(&nodes[v]))
}

/// `object[outer][inner]` as a count.
fn detail(nodes: &[Node<'_>], at: usize, len: usize, outer: &str, inner: &str) -> Option<u64> {
    let v = member(nodes, at, len, outer)?;
    let len = object_len(nodes, v)?;
    member_u64(nodes, v, len, inner)
}

/// Whether an output item's `type` is a tool call's.
fn is_tool_call(kind: Option<&str>) -> bool {
    matches!(kind, Some("function_call" | "custom_tool_call"))
}

/// What one event says, read from its data (by the simd-json path from the tape, by the
/// flat scanner from the bytes): everything [`State::apply`] needs, every shape already
/// checked, so that applying it cannot fail.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event<'a, 'n> {
    /// `response.created` (`created`) or `response.in_progress`, with the response's `id`
    /// and `model` when it is an object.
    Metadata {
        created: bool,
        response: Option<(Option<&'a str>, Option<&'a str>)>,
    },
    Text(&'a str),
    Refusal(&'a str),
    Reasoning {
        part: PartKind,
        item_id: Option<&'a str>,
        index: Option<u64>,
        text: &'a str,
    },
    /// `response.output_item.added` with a tool-call item.
    ToolStart {
        own_id: Option<&'a str>,
        output_index: Option<u64>,
        call_id: Option<&'a str>,
        name: Option<&'a str>,
    },
    Fragment {
        item_id: Option<&'a str>,
        output_index: Option<u64>,
        fragment: &'a str,
    },
    /// A tool call's end (`names` from `response.output_item.done`).
    End {
        item_id: Option<&'a str>,
        output_index: Option<u64>,
        names: Option<(Option<&'a str>, Option<&'a str>)>,
        whole: Option<&'a str>,
    },
    /// A `reasoning` item's `response.output_item.done`: the item, in the tape.
    ReasoningItem(&'n [Node<'a>], usize),
    /// The same, read by the flat scanner: the item's JSON text as the tape's would be
    /// written (see `fast::canonical`).
    ReasoningJson(&'a str),
    Terminal {
        end: Terminal<'a>,
        error: Option<ApiError<'a>>,
        usage: Option<Usage>,
    },
    Error(ApiError<'a>),
    Nothing,
}

/// How a response ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Terminal<'a> {
    Completed,
    /// `response.incomplete`, with `incomplete_details.reason`.
    Incomplete(Option<&'a str>),
    Failed,
}

/// The kinds of Responses API events the decoders read, by the event's type, told as
/// [`super::anthropic::EventKind`]'s are. [`EventKind::Other`] is any other type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    Created,
    InProgress,
    TextDelta,
    RefusalDelta,
    SummaryDelta,
    ReasoningDelta,
    ItemAdded,
    ArgumentsDelta,
    InputDelta,
    ArgumentsDone,
    InputDone,
    ItemDone,
    Completed,
    Incomplete,
    Failed,
    Error,
    Other,
}

impl EventKind {
    /// Whether the next event may repeat the shape of an event of type `name` (see
    /// [`super::anthropic::EventKind::repeats`]): deltas come in runs, and `response.in_progress` repeats
    /// `response.created`'s response object. The events that add or finish an output item,
    /// a content part or a summary part (`*.added`, `*.done`), and the response's own end,
    /// come once per item, part or response.
    #[inline]
    pub(crate) fn repeats(name: &[u8]) -> bool {
        !(name.ends_with(b".done")
            || name.ends_with(b".added")
            || name == b"response.completed"
            || name == b"response.incomplete"
            || name == b"response.failed")
    }

    #[inline]
    pub(crate) fn of(name: &[u8]) -> Self {
        let Some(rest) = name.strip_prefix(b"response.") else {
            return if name == b"error" {
                Self::Error
            } else {
                Self::Other
            };
        };
        by_name!(rest, {
            b"output_text.delta" => Self::TextDelta,
            b"reasoning_summary_text.delta" => Self::SummaryDelta,
            b"function_call_arguments.delta" => Self::ArgumentsDelta,
            b"created" => Self::Created,
            b"in_progress" => Self::InProgress,
            b"refusal.delta" => Self::RefusalDelta,
            b"reasoning_text.delta" => Self::ReasoningDelta,
            b"output_item.added" => Self::ItemAdded,
            b"custom_tool_call_input.delta" => Self::InputDelta,
            b"function_call_arguments.done" => Self::ArgumentsDone,
            b"custom_tool_call_input.done" => Self::InputDone,
            b"output_item.done" => Self::ItemDone,
            b"completed" => Self::Completed,
            b"incomplete" => Self::Incomplete,
            b"failed" => Self::Failed,
        }, Self::Other)
    }
}

/// Reads one event (its type, and its data parsed as a JSON object at `nodes[0]`; `text` is
/// the whole data text, an error's message of last resort). `Err` names a field of a shape
/// the dialect does not have.
fn read<'a, 'n>(
    event_type: &[u8],
    nodes: &'n [Node<'a>],
    text: &'a str,
) -> Result<Event<'a, 'n>, &'static str> {
    let len = object_len(nodes, 0).unwrap_or(0);
    let mut m = Members::default();
    for (key, at) in fields(nodes, 0, len) {
        let slot = match key {
            "type" => &mut m.kind,
            "response" => &mut m.response,
            "item" => &mut m.item,
            "delta" => &mut m.delta,
            "item_id" => &mut m.item_id,
            "output_index" => &mut m.output_index,
            "summary_index" => &mut m.summary_index,
            "content_index" => &mut m.content_index,
            "arguments" => &mut m.arguments,
            "input" => &mut m.input,
            _ => continue,
        };
        *slot = Some(at);
    }
    let kind: &[u8] = if event_type == b"message" {
        m.kind
            .and_then(|at| as_str(&nodes[at]))
            .map_or(&b""[..], str::as_bytes)
    } else {
        event_type
    };
    let item_id = m.item_id.and_then(|at| as_str(&nodes[at]));
    let output_index = m.output_index.and_then(|at| as_u64(&nodes[at]));
    let delta = || strict_str(nodes, m.delta, "delta");
    let kind = EventKind::of(kind);
    Ok(match kind {
        EventKind::Created | EventKind::InProgress => {
            let response = strict_object(nodes, m.response, "response")?;
            Event::Metadata {
                created: kind == EventKind::Created,
                response: response.map(|(at, len)| {
                    (
                        member_str(nodes, at, len, "id"),
                        member_str(nodes, at, len, "model"),
                    )
                }),
            }
        }
        EventKind::TextDelta => delta()?.map_or(Event::Nothing, Event::Text),
        EventKind::RefusalDelta => delta()?.map_or(Event::Nothing, Event::Refusal),
        EventKind::SummaryDelta | EventKind::ReasoningDelta => match delta()? {
            Some(text) => {
                let (part, index) = if kind == EventKind::ReasoningDelta {
                    (PartKind::Text, m.content_index)
                } else {
                    (PartKind::Summary, m.summary_index)
                };
                Event::Reasoning {
                    part,
                    item_id,
                    index: index.and_then(|at| as_u64(&nodes[at])),
                    text,
                }
            }
            None => Event::Nothing,
        },
        EventKind::ItemAdded => match strict_object(nodes, m.item, "item")? {
            Some((at, len)) if is_tool_call(member_str(nodes, at, len, "type")) => {
                Event::ToolStart {
                    own_id: member_str(nodes, at, len, "id"),
                    output_index,
                    call_id: member_str(nodes, at, len, "call_id"),
                    name: member_str(nodes, at, len, "name"),
                }
            }
            _ => Event::Nothing,
        },
        EventKind::ArgumentsDelta | EventKind::InputDelta => match delta()? {
            Some(fragment) => Event::Fragment {
                item_id,
                output_index,
                fragment,
            },
            None => Event::Nothing,
        },
        EventKind::ArgumentsDone => Event::End {
            item_id,
            output_index,
            names: None,
            whole: strict_str(nodes, m.arguments, "arguments")?,
        },
        EventKind::InputDone => Event::End {
            item_id,
            output_index,
            names: None,
            whole: strict_str(nodes, m.input, "input")?,
        },
        EventKind::ItemDone => {
            let Some((at, len)) = strict_object(nodes, m.item, "item")? else {
                return Ok(Event::Nothing);
            };
            let (whole, field) = match member_str(nodes, at, len, "type") {
                Some("function_call") => (member(nodes, at, len, "arguments"), "arguments"),
                Some("custom_tool_call") => (member(nodes, at, len, "input"), "input"),
                Some("reasoning") => return Ok(Event::ReasoningItem(nodes, at)),
                _ => return Ok(Event::Nothing),
            };
            Event::End {
                whole: strict_str(nodes, whole, field)?,
                item_id: member_str(nodes, at, len, "id"),
                output_index,
                names: Some((
                    member_str(nodes, at, len, "call_id"),
                    member_str(nodes, at, len, "name"),
                )),
            }
        }
        EventKind::Completed | EventKind::Incomplete | EventKind::Failed => {
            let response = strict_object(nodes, m.response, "response")?;
            let end = match kind {
                EventKind::Completed => Terminal::Completed,
                EventKind::Failed => Terminal::Failed,
                _ => Terminal::Incomplete(response.and_then(|(at, len)| {
                    let v = member(nodes, at, len, "incomplete_details")?;
                    let len = object_len(nodes, v)?;
                    member_str(nodes, v, len, "reason")
                })),
            };
            let (mut error, mut usage) = (None, None);
            if let Some((at, len)) = response {
                if kind == EventKind::Failed
                    && let Some((e, elen)) =
                        strict_object(nodes, member(nodes, at, len, "error"), "error")?
                {
                    error = Some(error_object(nodes, e, elen, text, false));
                }
                if let Some((u, ulen)) =
                    strict_object(nodes, member(nodes, at, len, "usage"), "usage")?
                {
                    usage = Some(read_usage(nodes, u, ulen));
                }
            }
            Event::Terminal { end, error, usage }
        }
        // An error event sent without an `event: error` line (its data's `type` says so);
        // the data object is the error object.
        EventKind::Error => Event::Error(error_object(nodes, 0, len, text, true)),
        EventKind::Other => Event::Nothing,
    })
}

impl State {
    /// Decodes one event (its type, and its data parsed as a JSON object at `nodes[0]`;
    /// `text` is the whole data text, an error's message of last resort).
    /// `Err` names a field of a shape the dialect does not have.
    pub(crate) fn decode<'a>(
        &mut self,
        event_type: &[u8],
        nodes: &[Node<'a>],
        text: &'a str,
        out: &mut Out<'_, 'a>,
    ) -> Result<(), &'static str> {
        let event = read(event_type, nodes, text)?;
        self.apply(event, out);
        Ok(())
    }

    /// Says what an event says, and remembers what the later events need. Inlined: the event
    /// is built by the caller, and read back through the stack it stalls the loads.
    #[inline(always)]
    pub(crate) fn apply<'a>(&mut self, event: Event<'a, '_>, out: &mut Out<'_, 'a>) {
        match event {
            Event::Metadata { created, response } => {
                if created {
                    // A new response: its output indexes and item ids start afresh (the
                    // stream's call numbering does not).
                    self.live = 0;
                }
                if let Some((id, model)) = response {
                    out.push(Part::Metadata { id, model });
                }
                self.role(out);
            }
            Event::Text(text) => {
                self.role(out);
                out.push(Part::Text { choice: 0, text });
            }
            Event::Refusal(text) => {
                self.role(out);
                out.push(Part::Refusal { choice: 0, text });
            }
            Event::Reasoning {
                part,
                item_id,
                index,
                text,
            } => {
                let new_part = self.reasoning_part(part, item_id, index, text);
                self.role(out);
                out.push(Part::Reasoning {
                    choice: 0,
                    text,
                    new_part,
                });
            }
            Event::ToolStart {
                own_id,
                output_index,
                call_id,
                name,
            } => {
                let slot = self.new_call(own_id, output_index, false);
                self.role(out);
                out.push(Part::ToolCallStart {
                    choice: 0,
                    index: self.calls[slot].index,
                    id: call_id,
                    name,
                });
            }
            Event::Fragment {
                item_id,
                output_index,
                fragment,
            } => {
                let slot = self.call_for(item_id, output_index, None, out);
                let call = &mut self.calls[slot];
                call.filled |= !fragment.is_empty();
                out.push(Part::ToolCallArguments {
                    choice: 0,
                    index: call.index,
                    fragment,
                });
            }
            Event::End {
                item_id,
                output_index,
                names,
                whole,
            } => {
                let slot = self.call_for(item_id, output_index, names, out);
                self.end(slot, whole, out);
            }
            Event::ReasoningItem(nodes, at) => {
                self.role(out);
                let detail = Part::ReasoningDetail {
                    choice: 0,
                    detail: "",
                };
                out.push_json(detail, nodes, at);
            }
            Event::ReasoningJson(detail) => {
                self.role(out);
                out.push(Part::ReasoningDetail { choice: 0, detail });
            }
            Event::Terminal { end, error, usage } => {
                let (finish, reason) = match end {
                    Terminal::Completed if self.count > 0 => (Finish::ToolCalls, "completed"),
                    Terminal::Completed => (Finish::Stop, "completed"),
                    Terminal::Failed => (Finish::Error, "failed"),
                    Terminal::Incomplete(reason) => {
                        let reason = reason.unwrap_or("incomplete");
                        let finish = match reason {
                            "max_output_tokens" => Finish::Length,
                            "content_filter" => Finish::ContentFilter,
                            _ => Finish::Other,
                        };
                        (finish, reason)
                    }
                };
                if let Some(error) = error.filter(|e| !self.reported(e)) {
                    out.push(Part::Error { error });
                }
                self.role(out);
                out.push(Part::Finish {
                    choice: 0,
                    finish,
                    reason,
                });
                if let Some(usage) = usage {
                    out.push(Part::Usage { usage });
                }
                out.push(Part::Done);
            }
            Event::Error(error) => {
                self.saw_error(&error);
                out.push(Part::Error { error });
            }
            Event::Nothing => {}
        }
    }

    /// Pushes the role before the first part of the choice.
    fn role<'a>(&mut self, out: &mut Out<'_, 'a>) {
        if !self.role {
            self.role = true;
            out.push(Part::Role {
                choice: 0,
                role: "assistant",
            });
        }
    }

    /// Whether a reasoning text is the first non-empty text of a new part (keyed by `kind`,
    /// `item_id` and `index`): a part is a run of deltas with the same key.
    fn reasoning_part(
        &mut self,
        kind: PartKind,
        item_id: Option<&str>,
        index: Option<u64>,
        text: &str,
    ) -> bool {
        let same = self.part_kind == kind
            && self.part_index == index
            && match item_id {
                Some(id) => self.part_has_item && self.part_item == id,
                None => !self.part_has_item,
            };
        if !same {
            self.part_kind = kind;
            self.part_index = index;
            self.part_item.clear();
            self.part_item.push_str(item_id.unwrap_or(""));
            self.part_has_item = item_id.is_some();
            self.part_started = false;
        }
        if text.is_empty() || self.part_started {
            return false;
        }
        self.part_started = true;
        true
    }

    /// A new call of the current response, numbered next in the stream.
    fn new_call(
        &mut self,
        item_id: Option<&str>,
        output_index: Option<u64>,
        anonymous: bool,
    ) -> usize {
        if self.live == self.calls.len() {
            self.calls.push(Call::default());
        }
        let slot = self.live;
        self.live += 1;
        let call = &mut self.calls[slot];
        call.item_id.clear();
        call.item_id.push_str(item_id.unwrap_or(""));
        call.has_item_id = item_id.is_some();
        call.output_index = output_index;
        call.index = self.count;
        call.anonymous = anonymous;
        call.filled = false;
        call.ended = false;
        self.count += 1;
        slot
    }

    /// The call of the current response with `item_id`, else with `output_index` (the most
    /// recent one); a new call when none has either. `names` (`call_id`, `name`) name a call
    /// that was not named yet.
    fn call_for<'a>(
        &mut self,
        item_id: Option<&str>,
        output_index: Option<u64>,
        names: Option<(Option<&'a str>, Option<&'a str>)>,
        out: &mut Out<'_, 'a>,
    ) -> usize {
        let live = &self.calls[..self.live];
        let found = item_id
            .and_then(|id| live.iter().rposition(|c| c.has_item_id && c.item_id == id))
            .or_else(|| {
                output_index.and_then(|oi| live.iter().rposition(|c| c.output_index == Some(oi)))
            });
        let slot = match found {
            Some(slot) => slot,
            None => self.new_call(item_id, output_index, true),
        };
        self.role(out);
        let call = &mut self.calls[slot];
        if call.anonymous {
            let (id, name) = names.unwrap_or((None, None));
            if found.is_none() || names.is_some() {
                out.push(Part::ToolCallStart {
                    choice: 0,
                    index: call.index,
                    id,
                    name,
                });
            }
            call.anonymous = names.is_none();
        }
        slot
    }

    /// Ends a call, with its whole arguments when the event carries them; an end after the
    /// first is pushed only while the call's arguments are still unknown.
    fn end<'a>(&mut self, slot: usize, whole: Option<&'a str>, out: &mut Out<'_, 'a>) {
        let call = &mut self.calls[slot];
        if call.ended && call.filled {
            return;
        }
        call.ended = true;
        call.filled |= whole.is_some_and(|w| !w.is_empty());
        out.push(Part::ToolCallEnd {
            choice: 0,
            index: call.index,
            arguments: whole,
        });
    }

    /// Whether an `error` event already reported an error with this message and code.
    fn reported(&self, error: &ApiError<'_>) -> bool {
        let message = match error.message() {
            Some(m) => self.error_has_message && self.error_message == m,
            None => !self.error_has_message,
        };
        let code = match error.code() {
            None => self.error_code_kind == 0,
            Some(ErrorCode::Str(s)) => self.error_code_kind == 1 && self.error_code == s,
            Some(ErrorCode::Int(n)) => self.error_code_kind == 2 && self.error_int == n,
        };
        self.error_seen && message && code
    }

    /// Forgets the stream, keeping the buffers.
    pub(crate) fn reset(&mut self) {
        let Self {
            calls,
            part_item,
            error_message,
            error_code,
            ..
        } = self;
        let calls = std::mem::take(calls);
        let part_item = std::mem::take(part_item);
        let error_message = std::mem::take(error_message);
        let error_code = std::mem::take(error_code);
        *self = Self {
            calls,
            part_item,
            error_message,
            error_code,
            ..Self::default()
        };
    }

    /// Records an error the stream sent in an `error` event.
    pub(crate) fn saw_error(&mut self, error: &ApiError<'_>) {
        self.error_seen = true;
        self.error_message.clear();
        self.error_message.push_str(error.message().unwrap_or(""));
        self.error_has_message = error.message().is_some();
        self.error_code.clear();
        self.error_code_kind = match error.code() {
            None => 0,
            Some(ErrorCode::Str(s)) => {
                self.error_code.push_str(s);
                1
            }
            Some(ErrorCode::Int(n)) => {
                self.error_int = n;
                2
            }
        };
    }
}

/// The normalised usage of a `response.usage` object.
fn read_usage(nodes: &[Node<'_>], at: usize, len: usize) -> Usage {
    let input = member_u64(nodes, at, len, "input_tokens").unwrap_or(0);
    let output = member_u64(nodes, at, len, "output_tokens").unwrap_or(0);
    Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: member_u64(nodes, at, len, "total_tokens")
            .unwrap_or_else(|| input.saturating_add(output)),
        cached_input_tokens: detail(nodes, at, len, "input_tokens_details", "cached_tokens"),
        reasoning_tokens: detail(nodes, at, len, "output_tokens_details", "reasoning_tokens"),
    }
}
