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
    blocks: HashMap<u64, Block>,
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
struct Counts {
    input: Option<u64>,
    output: Option<u64>,
    cache_read: Option<u64>,
    cache_creation: Option<u64>,
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

impl State {
    /// Decodes one event (its type, and its data parsed as a JSON object at `nodes[0]`).
    /// `Err` names a field of a shape the dialect does not have.
    pub(crate) fn decode<'a>(
        &mut self,
        event_type: &[u8],
        nodes: &[Node<'a>],
        out: &mut Out<'_, 'a>,
    ) -> Result<(), &'static str> {
        let kind = match opt_str(nodes, member(nodes, 0, "type"), "type")? {
            Some(kind) => kind.as_bytes(),
            None => event_type,
        };
        match kind {
            b"message_start" => self.message_start(nodes, out),
            b"content_block_start" => self.block_start(nodes, out),
            b"content_block_delta" => self.block_delta(nodes, out),
            b"content_block_stop" => self.block_stop(nodes, out),
            b"message_delta" => self.message_delta(nodes, out),
            b"message_stop" => {
                out.push(Part::Done);
                Ok(())
            }
            // `ping`, and events the mapping does not know.
            _ => Ok(()),
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

    fn message_start<'a>(&mut self, nodes: &[Node<'a>], out: &mut Out<'_, 'a>) -> Shape<()> {
        let (mut id, mut model, mut counts) = (None, None, None);
        if let Some(message) = opt_object(nodes, member(nodes, 0, "message"), "message")? {
            id = opt_str(nodes, member(nodes, message, "id"), "id")?;
            model = opt_str(nodes, member(nodes, message, "model"), "model")?;
            if let Some(usage) = opt_object(nodes, member(nodes, message, "usage"), "usage")? {
                counts = Some(read_counts(nodes, usage)?);
            }
        }
        // A new message: what the earlier one said is forgotten.
        self.start_message();
        if id.is_some() || model.is_some() {
            out.push(Part::Metadata { id, model });
        }
        self.role(out);
        if let Some(counts) = counts {
            self.take_counts(counts, out);
        }
        Ok(())
    }

    fn block_start<'a>(&mut self, nodes: &[Node<'a>], out: &mut Out<'_, 'a>) -> Shape<()> {
        let index = block_index(nodes)?;
        let block = member(nodes, 0, "content_block")
            .filter(|&at| object_len(nodes, at).is_some())
            .ok_or("content_block")?;
        let field = |key, name| opt_str(nodes, member(nodes, block, key), name);
        match field("type", "type")? {
            Some("text") => {
                let text = field("text", "text")?;
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
            Some("thinking") => {
                let text = field("thinking", "thinking")?;
                let signature = field("signature", "signature")?;
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
            Some("tool_use") => {
                let id = field("id", "id")?;
                let name = field("name", "name")?;
                let start = self.inputs.len();
                match member(nodes, block, "input") {
                    Some(input) => {
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
            Some("redacted_thinking") => {
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
            _ => {
                self.blocks.insert(index, Block::new(Kind::Other));
            }
        }
        Ok(())
    }

    fn block_delta<'a>(&mut self, nodes: &[Node<'a>], out: &mut Out<'_, 'a>) -> Shape<()> {
        let index = block_index(nodes)?;
        let delta = member(nodes, 0, "delta")
            .filter(|&at| object_len(nodes, at).is_some())
            .ok_or("delta")?;
        let field = |key, name| opt_str(nodes, member(nodes, delta, key), name);
        match field("type", "type")? {
            Some("text_delta") => {
                if let Some(text) = field("text", "text")? {
                    self.push(
                        out,
                        Part::Text {
                            choice: CHOICE,
                            text,
                        },
                    );
                }
            }
            Some("thinking_delta") => {
                if let Some(text) = field("thinking", "thinking")? {
                    let block = self.blocks.entry(index).or_insert(Block::new(Kind::Other));
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
            Some("input_json_delta") => {
                let fragment = field("partial_json", "partial_json")?;
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
            Some("signature_delta") => {
                let signature = field("signature", "signature")?;
                if let (Some(signature), Some(Kind::Thinking { slot })) =
                    (signature, self.blocks.get(&index).map(|b| b.kind))
                {
                    self.thinking[slot].signature.push_str(signature);
                }
            }
            // Citations, and deltas the mapping does not know.
            _ => {}
        }
        Ok(())
    }

    fn block_stop<'a>(&mut self, nodes: &[Node<'a>], out: &mut Out<'_, 'a>) -> Shape<()> {
        let index = block_index(nodes)?;
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
        Ok(())
    }

    fn message_delta<'a>(&mut self, nodes: &[Node<'a>], out: &mut Out<'_, 'a>) -> Shape<()> {
        let mut reason = None;
        if let Some(delta) = opt_object(nodes, member(nodes, 0, "delta"), "delta")? {
            reason = opt_str(nodes, member(nodes, delta, "stop_reason"), "stop_reason")?;
        }
        let counts = match opt_object(nodes, member(nodes, 0, "usage"), "usage")? {
            Some(usage) => Some(read_counts(nodes, usage)?),
            None => None,
        };
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
        Ok(())
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
