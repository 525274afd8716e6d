//! Gemini's `streamGenerateContent?alt=sse`: its events as [`Part`]s.
//!
//! Every event is a `GenerateContentResponse`: `responseId` and `modelVersion` (the metadata),
//! `candidates[]` (a choice each, numbered by `index`, 0 when absent), `promptFeedback` (a
//! blocked prompt) and `usageMetadata` (the counts so far). There is no terminal event.
//!
//! - Each candidate is a choice whose role is `assistant` (even without `content`).
//! - Its `content.parts[]`: `text` is content, or reasoning when `thought` is `true`; a
//!   `functionCall` is a whole tool call (`id` when present, `name`, arguments = the JSON text
//!   of `args`, `{}` when absent), started, filled and ended at once. A part with a
//!   non-empty `thoughtSignature` is also a [`Part::ReasoningDetail`]: the part as sent (the
//!   signature goes back in the same part of the next request's `contents`), after what its
//!   text or call says. Other parts say nothing for the message.
//! - `finishReason` is the raw finish: `STOP` is `stop` (`tool_calls` when the choice has
//!   tool calls), `MAX_TOKENS` `length`, the safety reasons `content_filter`,
//!   `MALFORMED_FUNCTION_CALL` `error`, anything else `other`.
//! - `promptFeedback.blockReason`: the prompt was blocked, choice 0 finishes with that raw
//!   reason, normalised `content_filter`.
//! - `usageMetadata`: input = `promptTokenCount`, output = `candidatesTokenCount` +
//!   `thoughtsTokenCount`, total = `totalTokenCount` (input + output when absent), cached =
//!   `cachedContentTokenCount`, reasoning = `thoughtsTokenCount`.
//!
//! Shapes: `null` counts as absent everywhere; `candidates` and `parts` are arrays of
//! objects, `content`, `functionCall`, `promptFeedback` and `usageMetadata` objects, `index` a
//! non-negative integer, `text`, `thoughtSignature`, `finishReason`, `blockReason` and a
//! call's `id` and `name` strings, `thought` a boolean. Another shape makes the event invalid (nothing of it is
//! taken). `responseId` and `modelVersion` of another type, and counts that are not
//! non-negative integers, count as absent.

use std::collections::HashMap;

use simd_json::{Node, StaticNode};

use super::{Out, Part};
use crate::chunk::{as_str, as_u64, fields, skip};
use crate::{Finish, Usage};

/// What the stream's earlier events said.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The number of tool calls each choice has had so far (its next call's index).
    calls: HashMap<u64, u64>,
    /// The last usage sent, to send it again only when it changes.
    usage: Option<Usage>,
}

/// The value at `at`, `None` when it is `null`.
fn present(nodes: &[Node<'_>], at: usize) -> Option<usize> {
    (!matches!(nodes[at], Node::Static(StaticNode::Null))).then_some(at)
}

/// The object at `at` (its index and key count), `None` when `null`, `Err(field)` otherwise.
fn object(
    nodes: &[Node<'_>],
    at: usize,
    field: &'static str,
) -> Result<Option<(usize, usize)>, &'static str> {
    match nodes[at] {
        Node::Object { len, .. } => Ok(Some((at, len))),
        Node::Static(StaticNode::Null) => Ok(None),
        _ => Err(field),
    }
}

/// The string at `at`, `None` when `null`, `Err(field)` otherwise.
fn string<'a>(
    nodes: &[Node<'a>],
    at: usize,
    field: &'static str,
) -> Result<Option<&'a str>, &'static str> {
    match nodes[at] {
        Node::String(s) => Ok(Some(s)),
        Node::Static(StaticNode::Null) => Ok(None),
        _ => Err(field),
    }
}

/// The node indexes of the elements of the array at `at` (nothing when `null`), or
/// `Err(field)` when it is neither.
fn elements<'n>(
    nodes: &'n [Node<'_>],
    at: usize,
    field: &'static str,
) -> Result<impl Iterator<Item = usize> + 'n, &'static str> {
    let len = match nodes[at] {
        Node::Array { len, .. } => len,
        Node::Static(StaticNode::Null) => 0,
        _ => return Err(field),
    };
    let mut next = at + 1;
    Ok((0..len).map(move |_| {
        let element = next;
        next = skip(nodes, element);
        element
    }))
}

/// A raw `finishReason` normalised; `calls` says whether the choice has tool calls.
pub(crate) fn finish_of(raw: &str, calls: bool) -> Finish {
    match raw {
        "STOP" if calls => Finish::ToolCalls,
        "STOP" => Finish::Stop,
        "MAX_TOKENS" => Finish::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY"
        | "LANGUAGE" => Finish::ContentFilter,
        "MALFORMED_FUNCTION_CALL" => Finish::Error,
        _ => Finish::Other,
    }
}

/// The normalised counts of the `usageMetadata` object at `at` with `len` keys.
fn usage_of(nodes: &[Node<'_>], at: usize, len: usize) -> Usage {
    let (mut prompt, mut candidates, mut thoughts, mut total, mut cached) =
        (None, None, None, None, None);
    for (key, v) in fields(nodes, at, len) {
        let count = as_u64(&nodes[v]);
        match key {
            "promptTokenCount" => prompt = count,
            "candidatesTokenCount" => candidates = count,
            "thoughtsTokenCount" => thoughts = count,
            "totalTokenCount" => total = count,
            "cachedContentTokenCount" => cached = count,
            _ => {}
        }
    }
    usage_from(prompt, candidates, thoughts, total, cached)
}

/// The normalised usage of `usageMetadata`'s counts (`promptTokenCount`,
/// `candidatesTokenCount`, `thoughtsTokenCount`, `totalTokenCount`, `cachedContentTokenCount`).
pub(crate) fn usage_from(
    prompt: Option<u64>,
    candidates: Option<u64>,
    thoughts: Option<u64>,
    total: Option<u64>,
    cached: Option<u64>,
) -> Usage {
    let input = prompt.unwrap_or(0);
    let output = candidates
        .unwrap_or(0)
        .saturating_add(thoughts.unwrap_or(0));
    Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: total.unwrap_or(input.saturating_add(output)),
        cached_input_tokens: cached,
        reasoning_tokens: thoughts,
    }
}

/// What an event's top level holds.
#[derive(Default)]
struct Top<'a> {
    id: Option<&'a str>,
    model: Option<&'a str>,
    candidates: Option<usize>,
    block_reason: Option<&'a str>,
    usage: Option<(usize, usize)>,
}

/// A part's text: reasoning when the part says `thought: true`, else content.
pub(crate) fn text_part(choice: u64, text: &str, thought: bool) -> Part<'_> {
    if thought {
        Part::Reasoning {
            choice,
            text,
            new_part: false,
        }
    } else {
        Part::Text { choice, text }
    }
}

impl State {
    /// Forgets the stream, keeping the buffers.
    pub(crate) fn reset(&mut self) {
        self.calls.clear();
        self.usage = None;
    }

    /// Decodes one event (its type, and its data parsed as a JSON object at `nodes[0]`).
    /// `Err` names a field of a shape the dialect does not have.
    pub(crate) fn decode<'a>(
        &mut self,
        _event_type: &[u8],
        nodes: &[Node<'a>],
        out: &mut Out<'_, 'a>,
    ) -> Result<(), &'static str> {
        let Node::Object { len, .. } = nodes[0] else {
            return Ok(());
        };
        let mut top = Top::default();
        for (key, at) in fields(nodes, 0, len) {
            match key {
                "responseId" => top.id = as_str(&nodes[at]),
                "modelVersion" => top.model = as_str(&nodes[at]),
                "candidates" => top.candidates = present(nodes, at),
                "promptFeedback" => {
                    top.block_reason = None;
                    if let Some((at, len)) = object(nodes, at, "promptFeedback")? {
                        for (key, v) in fields(nodes, at, len) {
                            if key == "blockReason" {
                                top.block_reason = string(nodes, v, "blockReason")?;
                            }
                        }
                    }
                }
                "usageMetadata" => top.usage = object(nodes, at, "usageMetadata")?,
                _ => {}
            }
        }
        // Every shape is checked before anything is said or remembered, so that an event of
        // an unknown shape leaves no trace.
        if let Some(at) = top.candidates {
            for candidate in elements(nodes, at, "candidates")? {
                self.candidate(nodes, candidate, None)?;
            }
        }

        if top.id.is_some() || top.model.is_some() {
            out.push(Part::Metadata {
                id: top.id,
                model: top.model,
            });
        }
        if let Some(reason) = top.block_reason.filter(|r| !r.is_empty()) {
            out.push(Part::Role {
                choice: 0,
                role: "assistant",
            });
            out.push(Part::Finish {
                choice: 0,
                finish: Finish::ContentFilter,
                reason,
            });
        }
        if let Some(at) = top.candidates {
            for candidate in elements(nodes, at, "candidates")? {
                self.candidate(nodes, candidate, Some(out))?;
            }
        }
        if let Some((at, len)) = top.usage {
            self.take_usage(usage_of(nodes, at, len), out);
        }
        Ok(())
    }

    /// Pushes the usage when it changed.
    pub(crate) fn take_usage(&mut self, usage: Usage, out: &mut Out<'_, '_>) {
        if self.usage != Some(usage) {
            self.usage = Some(usage);
            out.push(Part::Usage { usage });
        }
    }

    /// The index of the choice's next tool call, counted.
    pub(crate) fn next_call(&mut self, choice: u64) -> u64 {
        let next = self.calls.entry(choice).or_insert(0);
        let index = *next;
        *next += 1;
        index
    }

    /// Whether the choice has had tool calls.
    pub(crate) fn has_calls(&self, choice: u64) -> bool {
        self.calls.get(&choice).is_some_and(|&n| n > 0)
    }

    /// Reads the candidate at `at`: checks its shape only when `out` is `None`, else says what
    /// it holds (its shape already checked).
    fn candidate<'a>(
        &mut self,
        nodes: &[Node<'a>],
        at: usize,
        mut out: Option<&mut Out<'_, 'a>>,
    ) -> Result<(), &'static str> {
        let Node::Object { len, .. } = nodes[at] else {
            return Err("candidates");
        };
        let (mut choice, mut content, mut reason) = (0, None, None);
        for (key, v) in fields(nodes, at, len) {
            match key {
                "index" => {
                    choice = match present(nodes, v) {
                        None => 0,
                        Some(v) => as_u64(&nodes[v]).ok_or("index")?,
                    }
                }
                "content" => content = object(nodes, v, "content")?,
                "finishReason" => reason = string(nodes, v, "finishReason")?,
                _ => {}
            }
        }
        if let Some(out) = out.as_deref_mut() {
            out.push(Part::Role {
                choice,
                role: "assistant",
            });
        }
        let mut parts = None;
        if let Some((at, len)) = content {
            for (key, v) in fields(nodes, at, len) {
                if key == "parts" {
                    parts = present(nodes, v);
                }
            }
        }
        if let Some(parts) = parts {
            for part in elements(nodes, parts, "parts")? {
                self.part(nodes, part, choice, out.as_deref_mut())?;
            }
        }
        if let (Some(out), Some(reason)) = (out, reason.filter(|r| !r.is_empty())) {
            let calls = self.has_calls(choice);
            out.push(Part::Finish {
                choice,
                finish: finish_of(reason, calls),
                reason,
            });
        }
        Ok(())
    }

    /// Reads one element of a candidate's `content.parts` (as [`State::candidate`] does).
    fn part<'a>(
        &mut self,
        nodes: &[Node<'a>],
        at: usize,
        choice: u64,
        out: Option<&mut Out<'_, 'a>>,
    ) -> Result<(), &'static str> {
        let Node::Object { len, .. } = nodes[at] else {
            return Err("parts");
        };
        let (mut text, mut thought, mut call, mut signature) = (None, false, None, None);
        for (key, v) in fields(nodes, at, len) {
            match key {
                "text" => text = string(nodes, v, "text")?,
                "thought" => {
                    thought = match nodes[v] {
                        Node::Static(StaticNode::Bool(b)) => b,
                        Node::Static(StaticNode::Null) => false,
                        _ => return Err("thought"),
                    }
                }
                "functionCall" => call = object(nodes, v, "functionCall")?,
                "thoughtSignature" => signature = string(nodes, v, "thoughtSignature")?,
                _ => {}
            }
        }
        let (mut id, mut name, mut args) = (None, None, None);
        if let Some((at, len)) = call {
            for (key, v) in fields(nodes, at, len) {
                match key {
                    "id" => id = string(nodes, v, "id")?,
                    "name" => name = string(nodes, v, "name")?,
                    "args" => args = present(nodes, v),
                    _ => {}
                }
            }
        }
        let Some(out) = out else {
            return Ok(());
        };
        if let Some(text) = text {
            out.push(text_part(choice, text, thought));
        }
        if call.is_some() {
            let index = self.next_call(choice);
            out.push(Part::ToolCallStart {
                choice,
                index,
                id,
                name,
            });
            let arguments = Part::ToolCallArguments {
                choice,
                index,
                fragment: "{}",
            };
            match args {
                Some(at) => out.push_json(arguments, nodes, at),
                None => out.push(arguments),
            }
            out.push(Part::ToolCallEnd {
                choice,
                index,
                arguments: None,
            });
        }
        if signature.is_some_and(|s| !s.is_empty()) {
            out.push_json(Part::ReasoningDetail { choice, detail: "" }, nodes, at);
        }
        Ok(())
    }
}
