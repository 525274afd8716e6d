//! The Anthropic Messages API: its events as [`Part`]s.
//!
//! - `message_start`: the message's `id` and `model` ([`Part::Metadata`]), the role
//!   `assistant` of choice 0, and the usage of `message.usage`;
//! - `content_block_start` opens block `index`: a `text` block's `text` is content, a
//!   `thinking` block's `thinking` is reasoning (each thinking block a part of its own), a
//!   `tool_use` block is a tool call (`id`, `name`), numbered 0, 1, ... in order of
//!   appearance; a `redacted_thinking` block is a [`Part::ReasoningDetail`], the block as
//!   sent; other blocks (server tools and their results) are not read;
//! - `content_block_delta`: `text_delta.text` is content, `thinking_delta.thinking` is
//!   reasoning, `input_json_delta.partial_json` is a fragment of the block's tool-call
//!   arguments (when the block is a `tool_use` block), `signature_delta.signature` a piece of
//!   a `thinking` block's signature; other deltas (citations) say nothing for the message;
//! - `content_block_stop` ends a `tool_use` block's call, with the JSON text of the start's
//!   `input` as its whole arguments (they count when no fragment came); it ends a `thinking`
//!   block with a signature with a [`Part::ReasoningDetail`],
//!   `{"type":"thinking","thinking":TEXT,"signature":SIG}` (the block's whole thinking and
//!   signature: what the API takes back), once per block;
//! - `message_delta`: `delta.stop_reason` is the finish reason, `usage` updates the counts;
//! - `message_stop` is the terminal event; `ping` and unknown events say nothing.
//!
//! Usage: `input_tokens` + `cache_read_input_tokens` + `cache_creation_input_tokens` (the
//! last value seen of each) are the input tokens, `output_tokens` (cumulative) the output,
//! their sum the total; `cache_read_input_tokens` the cached input; no reasoning count.
//!
//! The event's kind is its data's `type` member, or, without one, its event type. A field
//! the decoder reads that holds another shape than the API's (a string where a count goes,
//! a block without an `index`) makes the whole event invalid: it changes nothing.

use std::collections::HashMap;

use simd_json::{Node, StaticNode};

use super::{Out, Part};
use crate::chunk::{as_str, as_u64, fields, object_len, write_json, write_json_string};
use crate::{Finish, Usage};

/// The only choice of an Anthropic message.
const CHOICE: u64 = 0;

/// What the stream's earlier events said (of the current message: `message_start` begins
/// anew).
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The content blocks seen, by their `index`.
    blocks: Blocks,
    /// The JSON texts of the `tool_use` blocks' `input`s, which the blocks point into.
    inputs: String,
    /// How many tool calls the message has.
    calls: u64,
    /// The last value seen of each count.
    counts: Counts,
    /// The usage last pushed.
    usage: Option<Usage>,
    /// Whether choice 0's role was pushed.
    role: bool,
    /// The thinking blocks of the current message, each its text and signature so far: the
    /// first `thoughts` slots (the others are kept for their buffers).
    thinking: Vec<Thought>,
    thoughts: usize,
}

/// A thinking block's text and signature, kept to send the block back whole.
#[derive(Debug, Default)]
struct Thought {
    text: String,
    signature: String,
    /// Its reasoning detail was pushed.
    sent: bool,
}

/// The content blocks of a message by their `index`: the first [`DENSE`] (Anthropic numbers
/// them 0, 1, 2, ...) in a vector, which a delta finds without hashing; any other index in a
/// map.
#[derive(Debug, Default)]
struct Blocks {
    dense: Vec<Option<Block>>,
    sparse: HashMap<u64, Block>,
}

/// How many block indexes [`Blocks`] keeps in its vector.
const DENSE: u64 = 64;

impl Blocks {
    fn insert(&mut self, index: u64, block: Block) {
        if index < DENSE {
            let at = index as usize;
            if self.dense.len() <= at {
                self.dense.resize(at + 1, None);
            }
            self.dense[at] = Some(block);
        } else {
            self.sparse.insert(index, block);
        }
    }

    fn get(&self, index: &u64) -> Option<&Block> {
        if *index < DENSE {
            self.dense.get(*index as usize)?.as_ref()
        } else {
            self.sparse.get(index)
        }
    }

    fn get_or_insert(&mut self, index: u64, block: Block) -> &mut Block {
        if index < DENSE {
            let at = index as usize;
            if self.dense.len() <= at {
                self.dense.resize(at + 1, None);
            }
            self.dense[at].get_or_insert(block)
        } else {
            self.sparse.entry(index).or_insert(block)
        }
    }

    fn clear(&mut self) {
        self.dense.clear();
        self.sparse.clear();
    }
}

/// One content block.
#[derive(Debug, Clone, Copy)]
struct Block {
    kind: Kind,
    /// Whether a non-empty reasoning text of this block came (the next one is not a new part).
    reasoned: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    /// A thinking block, its text and signature in `thinking[slot]`.
    Thinking {
        slot: usize,
    },
    /// A tool call: its index, and its `input`'s JSON text at `inputs[start..end]`.
    Tool {
        call: u64,
        start: usize,
        end: usize,
    },
    /// A block that is none of these (or a delta's block that was never started).
    Other,
}

/// The counts of the `usage` objects, each the last value seen.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) input: Option<u64>,
    pub(crate) output: Option<u64>,
    pub(crate) cache_read: Option<u64>,
    pub(crate) cache_creation: Option<u64>,
}

impl Counts {
    /// Updates each count the other holds.
    fn update(&mut self, other: Counts) {
        self.input = other.input.or(self.input);
        self.output = other.output.or(self.output);
        self.cache_read = other.cache_read.or(self.cache_read);
        self.cache_creation = other.cache_creation.or(self.cache_creation);
    }

    fn usage(&self) -> Usage {
        let input = self
            .input
            .unwrap_or(0)
            .saturating_add(self.cache_read.unwrap_or(0))
            .saturating_add(self.cache_creation.unwrap_or(0));
        let output = self.output.unwrap_or(0);
        Usage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: input.saturating_add(output),
            cached_input_tokens: self.cache_read,
            reasoning_tokens: None,
        }
    }
}

/// A shape error: the name of the field.
type Shape<T> = Result<T, &'static str>;

/// The value of a member, `None` when absent or `null`.
fn present(nodes: &[Node<'_>], at: Option<usize>) -> Option<usize> {
    at.filter(|&at| !matches!(nodes[at], Node::Static(StaticNode::Null)))
}

/// A string member: absent or `null` is `None`, another shape is an error.
fn opt_str<'a>(
    nodes: &[Node<'a>],
    at: Option<usize>,
    field: &'static str,
) -> Shape<Option<&'a str>> {
    match present(nodes, at) {
        None => Ok(None),
        Some(at) => as_str(&nodes[at]).map(Some).ok_or(field),
    }
}

/// A count member: absent or `null` is `None`, anything but a non-negative integer is an error.
fn opt_count(nodes: &[Node<'_>], at: Option<usize>, field: &'static str) -> Shape<Option<u64>> {
    match present(nodes, at) {
        None => Ok(None),
        Some(at) => as_u64(&nodes[at]).map(Some).ok_or(field),
    }
}

/// An object member: absent or `null` is `None`, another shape is an error.
fn opt_object(nodes: &[Node<'_>], at: Option<usize>, field: &'static str) -> Shape<Option<usize>> {
    match present(nodes, at) {
        None => Ok(None),
        Some(at) => object_len(nodes, at).map(|_| Some(at)).ok_or(field),
    }
}

/// The value index of the member `key` of the object at `at` (the last, if repeated).
fn member(nodes: &[Node<'_>], at: usize, key: &str) -> Option<usize> {
    let len = object_len(nodes, at)?;
    fields(nodes, at, len)
        .filter(|&(k, _)| k == key)
        .map(|(_, v)| v)
        .last()
}

/// A content block's `index`: required, a non-negative integer.
fn block_index(nodes: &[Node<'_>]) -> Shape<u64> {
    member(nodes, 0, "index")
        .and_then(|at| as_u64(&nodes[at]))
        .ok_or("index")
}

/// The counts of a `usage` object.
fn read_counts(nodes: &[Node<'_>], at: usize) -> Shape<Counts> {
    let count = |key| opt_count(nodes, member(nodes, at, key), "usage");
    Ok(Counts {
        input: count("input_tokens")?,
        output: count("output_tokens")?,
        cache_read: count("cache_read_input_tokens")?,
        cache_creation: count("cache_creation_input_tokens")?,
    })
}

/// Normalises a `stop_reason`.
fn finish(raw: &str) -> Finish {
    match raw {
        "end_turn" | "stop_sequence" => Finish::Stop,
        "max_tokens" | "model_context_window_exceeded" => Finish::Length,
        "tool_use" => Finish::ToolCalls,
        "refusal" => Finish::ContentFilter,
        _ => Finish::Other,
    }
}

/// What one event says, read from its data (by the simd-json path from the tape, by the
/// flat scanner from the bytes): everything [`State::apply`] needs, every shape already
/// checked, so that applying it cannot fail.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event<'a, 'n> {
    MessageStart {
        id: Option<&'a str>,
        model: Option<&'a str>,
        counts: Option<Counts>,
    },
    BlockStart {
        index: u64,
        block: Start<'a, 'n>,
    },
    BlockDelta {
        index: u64,
        delta: Delta<'a>,
    },
    BlockStop {
        index: u64,
    },
    MessageDelta {
        reason: Option<&'a str>,
        counts: Option<Counts>,
    },
    MessageStop,
    /// `ping`, and events the mapping does not know.
    Nothing,
}

/// A `content_block_start`'s block.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Start<'a, 'n> {
    Text(Option<&'a str>),
    Thinking {
        text: Option<&'a str>,
        signature: Option<&'a str>,
    },
    ToolUse {
        id: Option<&'a str>,
        name: Option<&'a str>,
        /// The `input` in the tape, or `None` for `{}` (absent, or an empty object).
        input: Option<(&'n [Node<'a>], usize)>,
    },
    /// A `redacted_thinking` block, in the tape.
    Redacted(&'n [Node<'a>], usize),
    Other,
}

/// A `content_block_delta`'s delta: the text of its kind's field (`None` when absent or
/// `null`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Delta<'a> {
    Text(Option<&'a str>),
    Thinking(Option<&'a str>),
    InputJson(Option<&'a str>),
    Signature(Option<&'a str>),
    /// Citations, and deltas the mapping does not know.
    Other,
}

/// The kinds of Anthropic events the decoders read, by the event's type: told by the name's
/// length first and then one comparison of the whole (a `match` on byte-string patterns tests
/// a name byte by byte, and this runs for every event). [`EventKind::Other`] is any other type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    MessageStart,
    BlockStart,
    BlockDelta,
    BlockStop,
    MessageDelta,
    MessageStop,
    Other,
}

impl EventKind {
    /// Whether the next event may repeat the shape of one of this kind, so that it is worth
    /// keeping as the template: a content block's deltas come in runs (and a kind not known
    /// here may). A message's start, delta and stop come once per message, a block's start
    /// and stop once per block, and the event after them is of another kind.
    #[inline]
    pub(crate) fn repeats(self) -> bool {
        matches!(self, Self::BlockDelta | Self::Other)
    }

    #[inline]
    pub(crate) fn of(name: &[u8]) -> Self {
        by_name!(name, {
            b"message_stop" => Self::MessageStop,
            b"message_start" => Self::MessageStart,
            b"message_delta" => Self::MessageDelta,
            b"content_block_stop" => Self::BlockStop,
            b"content_block_delta" => Self::BlockDelta,
            b"content_block_start" => Self::BlockStart,
        }, Self::Other)
    }
}

/// Reads one event (its type, and its data parsed as a JSON object at `nodes[0]`).
/// `Err` names a field of a shape the dialect does not have.
fn read<'a, 'n>(event_type: &[u8], nodes: &'n [Node<'a>]) -> Shape<Event<'a, 'n>> {
    let kind = match opt_str(nodes, member(nodes, 0, "type"), "type")? {
        Some(kind) => kind.as_bytes(),
        None => event_type,
    };
    Ok(match EventKind::of(kind) {
        EventKind::MessageStart => {
            let (mut id, mut model, mut counts) = (None, None, None);
            if let Some(message) = opt_object(nodes, member(nodes, 0, "message"), "message")? {
                id = opt_str(nodes, member(nodes, message, "id"), "id")?;
                model = opt_str(nodes, member(nodes, message, "model"), "model")?;
                if let Some(usage) = opt_object(nodes, member(nodes, message, "usage"), "usage")? {
                    counts = Some(read_counts(nodes, usage)?);
                }
            }
            Event::MessageStart { id, model, counts }
        }
        EventKind::BlockStart => {
            let index = block_index(nodes)?;
            let block = member(nodes, 0, "content_block")
                .filter(|&at| object_len(nodes, at).is_some())
                .ok_or("content_block")?;
            let field = |key, name| opt_str(nodes, member(nodes, block, key), name);
            let block = match field("type", "type")? {
                Some("text") => Start::Text(field("text", "text")?),
                Some("thinking") => Start::Thinking {
                    text: field("thinking", "thinking")?,
                    signature: field("signature", "signature")?,
                },
                Some("tool_use") => Start::ToolUse {
                    id: field("id", "id")?,
                    name: field("name", "name")?,
                    input: member(nodes, block, "input").map(|at| (nodes, at)),
                },
                Some("redacted_thinking") => Start::Redacted(nodes, block),
                _ => Start::Other,
            };
            Event::BlockStart { index, block }
        }
        EventKind::BlockDelta => {
            let index = block_index(nodes)?;
            let delta = member(nodes, 0, "delta")
                .filter(|&at| object_len(nodes, at).is_some())
                .ok_or("delta")?;
            let field = |key, name| opt_str(nodes, member(nodes, delta, key), name);
            let delta = match field("type", "type")? {
                Some("text_delta") => Delta::Text(field("text", "text")?),
                Some("thinking_delta") => Delta::Thinking(field("thinking", "thinking")?),
                Some("input_json_delta") => {
                    Delta::InputJson(field("partial_json", "partial_json")?)
                }
                Some("signature_delta") => Delta::Signature(field("signature", "signature")?),
                _ => Delta::Other,
            };
            Event::BlockDelta { index, delta }
        }
        EventKind::BlockStop => Event::BlockStop {
            index: block_index(nodes)?,
        },
        EventKind::MessageDelta => {
            let mut reason = None;
            if let Some(delta) = opt_object(nodes, member(nodes, 0, "delta"), "delta")? {
                reason = opt_str(nodes, member(nodes, delta, "stop_reason"), "stop_reason")?;
            }
            let counts = match opt_object(nodes, member(nodes, 0, "usage"), "usage")? {
                Some(usage) => Some(read_counts(nodes, usage)?),
                None => None,
            };
            Event::MessageDelta { reason, counts }
        }
        EventKind::MessageStop => Event::MessageStop,
        EventKind::Other => Event::Nothing,
    })
}

impl State {
    /// Decodes one event (its type, and its data parsed as a JSON object at `nodes[0]`).
    /// `Err` names a field of a shape the dialect does not have.
    pub(crate) fn decode<'a>(
        &mut self,
        event_type: &[u8],
        nodes: &[Node<'a>],
        out: &mut Out<'_, 'a>,
    ) -> Result<(), &'static str> {
        let event = read(event_type, nodes)?;
        self.apply(event, out);
        Ok(())
    }

    /// Says what an event says, and remembers what the later events need. Inlined: the event
    /// is built by the caller, and read back through the stack it stalls the loads.
    #[inline(always)]
    pub(crate) fn apply<'a>(&mut self, event: Event<'a, '_>, out: &mut Out<'_, 'a>) {
        match event {
            Event::MessageStart { id, model, counts } => self.message_start(id, model, counts, out),
            Event::BlockStart { index, block } => self.block_start(index, block, out),
            Event::BlockDelta { index, delta } => self.block_delta(index, delta, out),
            Event::BlockStop { index } => self.block_stop(index, out),
            Event::MessageDelta { reason, counts } => {
                if let Some(reason) = reason.filter(|r| !r.is_empty()) {
                    self.push(
                        out,
                        Part::Finish {
                            choice: CHOICE,
                            finish: finish(reason),
                            reason,
                        },
                    );
                }
                if let Some(counts) = counts {
                    self.take_counts(counts, out);
                }
            }
            Event::MessageStop => out.push(Part::Done),
            Event::Nothing => {}
        }
    }

    /// Forgets the stream, keeping the buffers' room (a decoder reused for the next stream
    /// allocates nothing more).
    pub(crate) fn reset(&mut self) {
        self.start_message();
    }

    /// Forgets the earlier message.
    fn start_message(&mut self) {
        self.blocks.clear();
        self.inputs.clear();
        self.calls = 0;
        self.counts = Counts::default();
        self.usage = None;
        self.role = false;
        self.thoughts = 0;
    }

    /// A new thinking block's slot, holding `text` and `signature`.
    fn new_thought(&mut self, text: &str, signature: &str) -> usize {
        if self.thoughts == self.thinking.len() {
            self.thinking.push(Thought::default());
        }
        let slot = self.thoughts;
        self.thoughts += 1;
        let thought = &mut self.thinking[slot];
        thought.text.clear();
        thought.text.push_str(text);
        thought.signature.clear();
        thought.signature.push_str(signature);
        thought.sent = false;
        slot
    }

    /// Pushes a part of choice 0, after its role if that was not pushed yet.
    fn push<'a>(&mut self, out: &mut Out<'_, 'a>, part: Part<'a>) {
        self.role(out);
        out.push(part);
    }

    fn role(&mut self, out: &mut Out<'_, '_>) {
        if !self.role {
            self.role = true;
            out.push(Part::Role {
                choice: CHOICE,
                role: "assistant",
            });
        }
    }

    /// Takes the counts of a `usage` object, and pushes the usage when it changed.
    fn take_counts(&mut self, counts: Counts, out: &mut Out<'_, '_>) {
        self.counts.update(counts);
        let usage = self.counts.usage();
        if self.usage != Some(usage) {
            self.usage = Some(usage);
            out.push(Part::Usage { usage });
        }
    }

    fn message_start<'a>(
        &mut self,
        id: Option<&'a str>,
        model: Option<&'a str>,
        counts: Option<Counts>,
        out: &mut Out<'_, 'a>,
    ) {
        // A new message: what the earlier one said is forgotten.
        self.start_message();
        if id.is_some() || model.is_some() {
            out.push(Part::Metadata { id, model });
        }
        self.role(out);
        if let Some(counts) = counts {
            self.take_counts(counts, out);
        }
    }

    fn block_start<'a>(&mut self, index: u64, block: Start<'a, '_>, out: &mut Out<'_, 'a>) {
        match block {
            Start::Text(text) => {
                self.blocks.insert(index, Block::new(Kind::Text));
                if let Some(text) = text {
                    self.push(
                        out,
                        Part::Text {
                            choice: CHOICE,
                            text,
                        },
                    );
                }
            }
            Start::Thinking { text, signature } => {
                let slot = self.new_thought(text.unwrap_or(""), signature.unwrap_or(""));
                let mut started = Block::new(Kind::Thinking { slot });
                if let Some(text) = text {
                    started.reasoned = !text.is_empty();
                    self.push(
                        out,
                        Part::Reasoning {
                            choice: CHOICE,
                            text,
                            new_part: !text.is_empty(),
                        },
                    );
                }
                self.blocks.insert(index, started);
            }
            Start::ToolUse { id, name, input } => {
                let start = self.inputs.len();
                match input {
                    Some((nodes, input)) => {
                        write_json(nodes, input, &mut self.inputs);
                    }
                    None => self.inputs.push_str("{}"),
                }
                let call = self.calls;
                self.calls += 1;
                let end = self.inputs.len();
                self.blocks
                    .insert(index, Block::new(Kind::Tool { call, start, end }));
                self.push(
                    out,
                    Part::ToolCallStart {
                        choice: CHOICE,
                        index: call,
                        id,
                        name,
                    },
                );
            }
            Start::Redacted(nodes, block) => {
                self.blocks.insert(index, Block::new(Kind::Other));
                self.role(out);
                out.push_json(
                    Part::ReasoningDetail {
                        choice: CHOICE,
                        detail: "",
                    },
                    nodes,
                    block,
                );
            }
            Start::Other => {
                self.blocks.insert(index, Block::new(Kind::Other));
            }
        }
    }

    fn block_delta<'a>(&mut self, index: u64, delta: Delta<'a>, out: &mut Out<'_, 'a>) {
        match delta {
            Delta::Text(text) => {
                if let Some(text) = text {
                    self.push(
                        out,
                        Part::Text {
                            choice: CHOICE,
                            text,
                        },
                    );
                }
            }
            Delta::Thinking(text) => {
                if let Some(text) = text {
                    let block = self.blocks.get_or_insert(index, Block::new(Kind::Other));
                    let new_part = !text.is_empty() && !block.reasoned;
                    block.reasoned |= !text.is_empty();
                    if let Kind::Thinking { slot } = block.kind {
                        self.thinking[slot].text.push_str(text);
                    }
                    self.push(
                        out,
                        Part::Reasoning {
                            choice: CHOICE,
                            text,
                            new_part,
                        },
                    );
                }
            }
            Delta::InputJson(fragment) => {
                if let (Some(fragment), Some(Kind::Tool { call, .. })) =
                    (fragment, self.blocks.get(&index).map(|b| b.kind))
                {
                    self.push(
                        out,
                        Part::ToolCallArguments {
                            choice: CHOICE,
                            index: call,
                            fragment,
                        },
                    );
                }
            }
            Delta::Signature(signature) => {
                if let (Some(signature), Some(Kind::Thinking { slot })) =
                    (signature, self.blocks.get(&index).map(|b| b.kind))
                {
                    self.thinking[slot].signature.push_str(signature);
                }
            }
            Delta::Other => {}
        }
    }

    fn block_stop(&mut self, index: u64, out: &mut Out<'_, '_>) {
        match self.blocks.get(&index).map(|b| b.kind) {
            Some(Kind::Tool { call, start, end }) => {
                self.role(out);
                out.push_copy(
                    Part::ToolCallEnd {
                        choice: CHOICE,
                        index: call,
                        arguments: None,
                    },
                    &self.inputs[start..end],
                );
            }
            Some(Kind::Thinking { slot })
                if !self.thinking[slot].sent && !self.thinking[slot].signature.is_empty() =>
            {
                self.role(out);
                let thought = &mut self.thinking[slot];
                thought.sent = true;
                out.push_written(
                    Part::ReasoningDetail {
                        choice: CHOICE,
                        detail: "",
                    },
                    |json| {
                        json.push_str(r#"{"type":"thinking","thinking":"#);
                        write_json_string(&thought.text, json);
                        json.push_str(r#","signature":"#);
                        write_json_string(&thought.signature, json);
                        json.push('}');
                    },
                );
            }
            _ => {}
        }
    }
}

impl Block {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            reasoned: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Block, Blocks, Kind};

    /// Blocks are found by index wherever they are kept: in the vector (indexes below
    /// `DENSE`) or in the map (the others, up to `u64::MAX`), and a clear forgets both.
    #[test]
    fn blocks_are_found_by_any_index() {
        let indexes = [0, 1, 5, 63, 64, 1000, u64::MAX];
        let mut blocks = Blocks::default();
        for (n, &index) in indexes.iter().enumerate() {
            assert!(blocks.get(&index).is_none());
            blocks.insert(
                index,
                Block::new(Kind::Tool {
                    call: n as u64,
                    start: 0,
                    end: 0,
                }),
            );
        }
        for (n, &index) in indexes.iter().enumerate() {
            let want = Kind::Tool {
                call: n as u64,
                start: 0,
                end: 0,
            };
            assert_eq!(blocks.get(&index).map(|b| b.kind), Some(want));
            // An existing block is returned, not replaced.
            let block = blocks.get_or_insert(index, Block::new(Kind::Other));
            assert_eq!(block.kind, want);
            block.reasoned = true;
            assert!(blocks.get(&index).is_some_and(|b| b.reasoned));
        }
        assert!(blocks.get(&2).is_none() && blocks.get(&65).is_none());
        assert_eq!(
            blocks.get_or_insert(2, Block::new(Kind::Other)).kind,
            Kind::Other
        );
        blocks.clear();
        assert!(indexes.iter().all(|index| blocks.get(index).is_none()));
    }
}
