//! [`Accumulator`]: assembles the final message from chunk views.

use crate::{ChunkView, Usage};

/// How a stream ended, as far as its chunks tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ending {
    /// `data: [DONE]` was seen.
    Done,
    /// No `[DONE]`, but some choice carried a non-empty `finish_reason`.
    Finished,
    /// Neither: the stream was cut short.
    Truncated,
}

/// One assembled tool call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCallMessage {
    /// The `index` its fragments carried.
    pub index: u64,
    /// The first non-empty `id`.
    pub id: Option<String>,
    /// The first non-empty `type`.
    pub kind: Option<String>,
    /// The first non-empty `function.name`.
    pub name: Option<String>,
    /// Every `function.arguments` fragment, concatenated (`""` when none came).
    pub arguments: String,
}

impl ToolCallMessage {
    /// Whether the concatenated arguments form one complete JSON value.
    ///
    /// `false` when the stream was cut in the middle of the arguments (or no fragment came):
    /// what was received is still in [`ToolCallMessage::arguments`]. Parses a copy, so call it
    /// once the stream has ended, not per chunk.
    ///
    /// # Example
    /// ```
    /// use ssechunk::ToolCallMessage;
    ///
    /// let mut call = ToolCallMessage { arguments: "{\"city\": \"Par".into(), ..Default::default() };
    /// assert!(!call.arguments_complete());
    /// call.arguments.push_str("is\"}");
    /// assert!(call.arguments_complete());
    /// ```
    pub fn arguments_complete(&self) -> bool {
        let mut copy = self.arguments.clone().into_bytes();
        simd_json::to_borrowed_value(&mut copy).is_ok()
    }
}

/// One assembled choice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChoiceMessage {
    /// The choice's `index`.
    pub index: u64,
    /// The first non-empty `delta.role`.
    pub role: Option<String>,
    /// The concatenated `delta.content`; `None` until a delta carries it as a string.
    pub content: Option<String>,
    /// The concatenated reasoning text; `None` until a delta carries it.
    pub reasoning: Option<String>,
    /// The concatenated `delta.refusal`; `None` until a delta carries it.
    pub refusal: Option<String>,
    /// Tool calls merged by their index, sorted by it.
    pub tool_calls: Vec<ToolCallMessage>,
    /// The last non-empty `finish_reason`.
    pub finish_reason: Option<String>,
}

/// Assembles the message of a stream from its chunks.
///
/// Allocates in proportion to the output, never per chunk: text is appended to strings that
/// grow geometrically, and choices and tool calls are created once per index.
///
/// # Example
/// ```
/// use ssechunk::{Accumulator, ChunkStream, Ending, Outcome};
///
/// let mut stream = ChunkStream::new();
/// let mut message = Accumulator::new();
/// stream.feed(b"data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"O\"}}]}\n\n");
/// stream.feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"i!\"},\"finish_reason\":\"stop\"}]}\n\n");
/// stream.finish();
/// while let Some(outcome) = stream.next_outcome() {
///     if let Outcome::Event { payload, .. } = outcome? {
///         message.push_payload(&payload);
///     }
/// }
/// assert_eq!(message.choices()[0].content.as_deref(), Some("Oi!"));
/// assert_eq!(message.ending(), Ending::Finished);
/// # Ok::<(), ssechunk::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accumulator {
    id: Option<String>,
    model: Option<String>,
    choices: Vec<ChoiceMessage>,
    usage: Option<Usage>,
    done: bool,
    finished: bool,
    chunks: u64,
}

/// Appends `piece` to `target`, creating it on the first piece.
fn append(target: &mut Option<String>, piece: Option<&str>) {
    if let Some(piece) = piece {
        target.get_or_insert_with(String::new).push_str(piece);
    }
}

/// Sets `target` from the first non-empty value.
fn first(target: &mut Option<String>, value: Option<&str>) {
    if let (None, Some(v)) = (&target, value.filter(|v| !v.is_empty())) {
        *target = Some(v.to_owned());
    }
}

/// Sets `target` to the last non-empty value, reusing its allocation.
fn last(target: &mut Option<String>, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        let s = target.get_or_insert_with(String::new);
        s.clear();
        s.push_str(v);
    }
}

impl Accumulator {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one decoded event: chunks are merged, `[DONE]` is recorded, API errors and invalid
    /// data leave the message as it is.
    pub fn push_payload(&mut self, payload: &crate::Payload<'_>) {
        match payload {
            crate::Payload::Chunk(chunk) => self.push(chunk),
            crate::Payload::Done => self.done = true,
            crate::Payload::ApiError(_) | crate::Payload::Invalid(_) => {}
        }
    }

    /// Merges one chunk.
    pub fn push(&mut self, chunk: &ChunkView<'_>) {
        self.chunks += 1;
        first(&mut self.id, chunk.id());
        first(&mut self.model, chunk.model());
        if let Some(usage) = chunk.usage() {
            self.usage = Some(usage);
        }
        for delta in chunk.choices() {
            if delta.finish_reason().is_some_and(|r| !r.is_empty()) {
                self.finished = true;
            }
            let choice = self.choice_mut(delta.index());
            first(&mut choice.role, delta.role());
            append(&mut choice.content, delta.content());
            append(&mut choice.reasoning, delta.reasoning());
            append(&mut choice.refusal, delta.refusal());
            last(&mut choice.finish_reason, delta.finish_reason());
            for fragment in delta.tool_calls() {
                let call = tool_call_mut(&mut choice.tool_calls, fragment.index());
                first(&mut call.id, fragment.id());
                first(&mut call.kind, fragment.kind());
                first(&mut call.name, fragment.name());
                call.arguments.push_str(fragment.arguments().unwrap_or(""));
            }
        }
    }

    /// Records `data: [DONE]` (for callers that handle payloads themselves).
    pub fn mark_done(&mut self) {
        self.done = true;
    }

    fn choice_mut(&mut self, index: u64) -> &mut ChoiceMessage {
        let at = match self.choices.binary_search_by_key(&index, |c| c.index) {
            Ok(at) => at,
            Err(at) => {
                self.choices.insert(
                    at,
                    ChoiceMessage {
                        index,
                        ..ChoiceMessage::default()
                    },
                );
                at
            }
        };
        &mut self.choices[at]
    }

    /// The first non-empty chunk `id`.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The first non-empty `model`.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The choices, sorted by index.
    pub fn choices(&self) -> &[ChoiceMessage] {
        &self.choices
    }

    /// The last `usage` object seen.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// How many chunks were merged.
    pub fn chunks(&self) -> u64 {
        self.chunks
    }

    /// How the stream ended: `[DONE]`, a finish reason, or neither.
    pub fn ending(&self) -> Ending {
        if self.done {
            Ending::Done
        } else if self.finished {
            Ending::Finished
        } else {
            Ending::Truncated
        }
    }
}

fn tool_call_mut(calls: &mut Vec<ToolCallMessage>, index: u64) -> &mut ToolCallMessage {
    let at = match calls.binary_search_by_key(&index, |c| c.index) {
        Ok(at) => at,
        Err(at) => {
            calls.insert(
                at,
                ToolCallMessage {
                    index,
                    ..ToolCallMessage::default()
                },
            );
            at
        }
    };
    &mut calls[at]
}
