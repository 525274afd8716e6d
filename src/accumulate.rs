//! [`Accumulator`]: assembles the final message from decoded events.

use std::collections::HashMap;

use crate::{
    ApiError, ChunkView, Dialect, ErrorCode, Finish, Outcome, Part, Parts, Payload, Usage,
};

/// How a stream ended, as far as its events tell.
///
/// With the `serde` feature it is written as its [`Ending::as_str`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Ending {
    /// The terminal marker was seen (`data: [DONE]`).
    Done,
    /// No terminal marker, but some choice carried a non-empty finish reason.
    Finished,
    /// Neither, and the API sent an error.
    Error,
    /// None of these: the stream was cut short.
    Truncated,
}

impl Ending {
    /// `done`, `finished`, `error` or `truncated`.
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Done => "done",
            Ending::Finished => "finished",
            Ending::Error => "error",
            Ending::Truncated => "truncated",
        }
    }
}

/// The `code` of an [`ErrorMessage`]: the owned twin of [`ErrorCode`].
///
/// With the `serde` feature it is written as the string or the integer itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
pub enum OwnedErrorCode {
    /// A string code, such as `"rate_limit_exceeded"`.
    Str(String),
    /// An integer code, such as `400`.
    Int(i64),
}

/// An API error, owned: the twin of [`ApiError`] kept by the [`Accumulator`].
///
/// With the `serde` feature it is written in the message contract's shape,
/// `{"message", "type", "code"}`; `param` is read when present but not written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ErrorMessage {
    /// See [`ApiError::message`].
    pub message: Option<String>,
    /// See [`ApiError::kind`].
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub kind: Option<String>,
    /// See [`ApiError::code`].
    pub code: Option<OwnedErrorCode>,
    /// See [`ApiError::param`].
    #[cfg_attr(feature = "serde", serde(default, skip_serializing))]
    pub param: Option<String>,
}

impl ApiError<'_> {
    /// The owned twin of this error.
    pub fn to_owned_error(&self) -> ErrorMessage {
        ErrorMessage {
            message: self.message().map(str::to_owned),
            kind: self.kind().map(str::to_owned),
            code: self.code().map(|code| match code {
                ErrorCode::Str(s) => OwnedErrorCode::Str(s.to_owned()),
                ErrorCode::Int(n) => OwnedErrorCode::Int(n),
            }),
            param: self.param().map(str::to_owned),
        }
    }
}

/// One assembled tool call.
///
/// With the `serde` feature it is written in the message contract's shape,
/// `{"index", "id", "name", "arguments", "complete"}`, where `complete` is
/// [`ToolCallMessage::arguments_complete`]; `kind` is not written (it is `function` for every
/// chat call) and `complete` is not read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct ToolCallMessage {
    /// The `index` its fragments carried; for fragments without one, the number of calls the
    /// choice had before this one.
    pub index: u64,
    /// The first non-empty `id`.
    pub id: Option<String>,
    /// The first non-empty `type`.
    #[cfg_attr(feature = "serde", serde(skip))]
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
    /// what was received is still in [`ToolCallMessage::arguments`].
    ///
    /// # Cost
    /// Each call copies the arguments and parses the copy with simd-json (allocating the
    /// parsed value), then drops it: call it once per call (when it completes, see
    /// [`Accumulator::completed_calls`], or once the stream has ended), not per chunk. To get
    /// the arguments as a value, parse them once with `parse_arguments` (feature `serde`),
    /// whose error also says whether they were whole.
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
///
/// With the `serde` feature it is written in the message contract's shape (its fields by
/// name, `finish` as its [`Finish::as_str`] name), plus `reasoning_details` as a string of
/// JSON text when some came (the contract's extension for opaque reasoning).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChoiceMessage {
    /// The choice's `index`.
    pub index: u64,
    /// The first non-empty role.
    pub role: Option<String>,
    /// The concatenated reply text; `None` until a delta carries some (even `""`).
    pub content: Option<String>,
    /// The concatenated reasoning text; `None` until a delta carries some.
    pub reasoning: Option<String>,
    /// The concatenated refusal text; `None` until a delta carries some.
    pub refusal: Option<String>,
    /// Opaque reasoning to send back with the next request, as one JSON array text
    /// (`[{...},{...}]`, compact), its elements in arrival order. `None` until an element
    /// came.
    ///
    /// - Chat: the elements of every OpenRouter `delta.reasoning_details` array, kept as sent,
    ///   not merged (OpenRouter streams a `reasoning.text` element per chunk, each with the
    ///   `index` of the block it extends). [`ChoiceMessage::to_assistant_turn`] (feature
    ///   `serde`) sends them back as an array.
    /// - Anthropic: each signed `thinking` block, whole
    ///   (`{"type":"thinking","thinking":...,"signature":...}`), and each
    ///   `redacted_thinking` block as sent: the blocks to put back in the assistant turn's
    ///   `content`, in order, before its `tool_use` blocks.
    /// - Responses: each `reasoning` output item as sent (with its `encrypted_content` when
    ///   asked for): items to put back in the next request's `input`.
    /// - Gemini: each part that carried a `thoughtSignature`, as sent: parts to put back in
    ///   the model turn's `parts`.
    ///
    /// [`Message::to_assistant_turn`] (feature `serde`) puts every dialect's elements back
    /// where its request takes them. See [`crate::Part::ReasoningDetail`].
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub reasoning_details: Option<String>,
    /// The tool calls, in the order they started.
    pub tool_calls: Vec<ToolCallMessage>,
    /// The last non-empty finish reason, raw (as the provider sent it).
    pub finish_reason: Option<String>,
    /// The last finish reason, normalised.
    pub finish: Option<Finish>,
}

/// Assembles the message of a stream from its events.
///
/// # Rules
/// - `id` and `model`: the first non-empty values. Per choice: the first non-empty role;
///   content, reasoning and refusal concatenated in arrival order; the last non-empty finish
///   reason (raw, and normalised).
/// - Tool-call fragments are merged by `index` (into the first call with that index). A
///   fragment without one (absent or `null`, as
///   Gemini's OpenAI-compatible endpoint sends parallel calls) continues the choice's last
///   tool call, unless the choice has none yet, or the fragment carries an `id` that differs
///   from that call's non-empty id: then it starts a new call, whose index is the number of
///   calls the choice had before it.
/// - `reasoning_details` arrays: their elements are concatenated into one array text, and so
///   are the other dialects' [`Part::ReasoningDetail`]s.
/// - A tool call is complete as soon as its arguments are known to be whole: when a fragment
///   of another call of the same choice arrives, when the choice gets a finish reason, or at
///   `[DONE]`. [`Accumulator::completed_calls`] lists the calls each push completed.
/// - `usage`: the last one seen. Errors, in order, and the number of invalid events are kept.
/// - [`Accumulator::ending`]: the terminal marker, else a finish reason, else an error, else
///   truncated.
///
/// # Cost
/// Allocates in proportion to the output, never per chunk: text is appended to strings that
/// grow geometrically, and choices and tool calls are created once per index. Looking up a
/// choice or a tool call takes constant time whatever order the indexes arrive in, so the
/// cost stays linear in the input even when a hostile stream sends them descending.
///
/// # Example
/// ```
/// use ssechunk::{Accumulator, ChunkStream, Ending};
///
/// let mut stream = ChunkStream::new();
/// let mut message = Accumulator::new();
/// stream.feed(b"data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"O\"}}]}\n\n");
/// stream.feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"i!\"},\"finish_reason\":\"stop\"}]}\n\n");
/// stream.feed(b"data: {\"error\":{\"message\":\"overloaded\",\"code\":529}}\n\n");
/// stream.finish();
/// while let Some(outcome) = stream.next_outcome() {
///     message.push_outcome(&outcome?);
/// }
/// assert_eq!(message.choices()[0].content.as_deref(), Some("Oi!"));
/// assert_eq!(message.errors()[0].message.as_deref(), Some("overloaded"));
/// assert_eq!(message.ending(), Ending::Finished);
/// # Ok::<(), ssechunk::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accumulator {
    /// The dialect of the first event of another dialect than chat, if one came.
    dialect: Option<Dialect>,
    id: Option<String>,
    model: Option<String>,
    choices: Vec<ChoiceMessage>,
    /// Where a choice lies when it is not at the position equal to its index.
    choice_at: HashMap<u64, usize>,
    /// Where a tool call lies (by choice position and call index) when it is not at the
    /// position equal to its index.
    call_at: HashMap<(usize, u64), usize>,
    usage: Option<Usage>,
    errors: Vec<ErrorMessage>,
    invalid: u64,
    done: bool,
    finished: bool,
    chunks: u64,
    /// Per choice position: the position of its call that is still open (the last one that
    /// received a fragment, until another call, a finish reason or `[DONE]` closes it).
    open_call: Vec<Option<usize>>,
    /// The calls (by choice and call position) that the last push closed.
    completed: Completed,
}

/// The calls that the last push completed: a report about that push, not part of the
/// message, so two accumulators that hold the same message compare equal whatever they were
/// pushed last.
#[derive(Debug, Clone, Default)]
struct Completed(Vec<(usize, usize)>);

impl PartialEq for Completed {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Completed {}

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

/// The position of the first element with `index`: where its index says, or where `at` says
/// (which holds the elements that do not lie where their index says), whichever came first.
fn position<T>(
    items: &[T],
    index: u64,
    index_of: impl Fn(&T) -> u64,
    at: Option<&usize>,
) -> Option<usize> {
    let direct = usize::try_from(index)
        .ok()
        .filter(|&p| items.get(p).is_some_and(|item| index_of(item) == index));
    match (direct, at.copied()) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Accumulator {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one outcome of a [`crate::ChunkStream`]: an event's payload, or an API error found
    /// outside an event. Comments, ignored lines and incomplete events change nothing.
    pub fn push_outcome(&mut self, outcome: &Outcome<'_>) {
        self.completed.0.clear();
        match outcome {
            Outcome::Event { payload, .. } => self.push_payload(payload),
            Outcome::Error(error) => self.push_error(error),
            Outcome::Ignored(_) | Outcome::Comment(_) | Outcome::Incomplete(_) => {}
        }
    }

    /// Adds one decoded event: chunks are merged, `[DONE]` is recorded, API errors are kept,
    /// invalid events counted.
    pub fn push_payload(&mut self, payload: &Payload<'_>) {
        self.completed.0.clear();
        match payload {
            Payload::Chunk(chunk) => self.push(chunk),
            Payload::Done => self.mark_done(),
            Payload::ApiError(error) => self.push_error(error),
            Payload::Invalid(_) => self.invalid += 1,
            Payload::Parts(parts) => self.push_parts(parts),
        }
    }

    /// Merges the parts of one event of the Anthropic Messages API, the OpenAI Responses API
    /// or Gemini.
    ///
    /// Text, reasoning and refusal are appended; a reasoning part that begins a new part is
    /// kept apart from the reasoning before it by a blank line; a tool call's start, argument
    /// fragments and end build the call (the end's whole arguments fill a call that received
    /// no fragment, and the call is reported by [`Accumulator::completed_calls`]); a reasoning
    /// detail is appended to the choice's [`ChoiceMessage::reasoning_details`]; the usage
    /// replaces the usage before it; the terminal part is the message's ending.
    pub fn push_parts(&mut self, parts: &Parts<'_>) {
        self.completed.0.clear();
        self.dialect.get_or_insert(parts.dialect());
        for part in parts.iter() {
            self.push_part(part);
        }
    }

    fn push_part(&mut self, part: &Part<'_>) {
        match *part {
            Part::Metadata { id, model } => {
                first(&mut self.id, id);
                first(&mut self.model, model);
            }
            Part::Role { choice, role } => {
                let at = self.choice_position(choice);
                first(&mut self.choices[at].role, Some(role));
            }
            Part::Text { choice, text } => {
                let at = self.choice_position(choice);
                append(&mut self.choices[at].content, Some(text));
            }
            Part::Reasoning {
                choice,
                text,
                new_part,
            } => {
                let at = self.choice_position(choice);
                let reasoning = self.choices[at].reasoning.get_or_insert_with(String::new);
                if new_part && !reasoning.is_empty() && !text.is_empty() {
                    reasoning.push_str("\n\n");
                }
                reasoning.push_str(text);
            }
            Part::Refusal { choice, text } => {
                let at = self.choice_position(choice);
                append(&mut self.choices[at].refusal, Some(text));
            }
            Part::ToolCallStart {
                choice,
                index,
                id,
                name,
            } => {
                let (at, call) = self.call_position(choice, index);
                let call = &mut self.choices[at].tool_calls[call];
                first(&mut call.id, id);
                first(&mut call.name, name);
            }
            Part::ToolCallArguments {
                choice,
                index,
                fragment,
            } => {
                let (at, call) = self.call_position(choice, index);
                self.choices[at].tool_calls[call]
                    .arguments
                    .push_str(fragment);
                self.open_call[at] = Some(call);
            }
            Part::ToolCallEnd {
                choice,
                index,
                arguments,
            } => {
                let (at, call) = self.call_position(choice, index);
                let whole = &mut self.choices[at].tool_calls[call].arguments;
                if whole.is_empty() {
                    whole.push_str(arguments.unwrap_or(""));
                }
                if self.open_call[at] == Some(call) {
                    self.open_call[at] = None;
                }
                self.completed.0.push((at, call));
            }
            Part::Finish {
                choice,
                finish,
                reason,
            } => {
                let at = self.choice_position(choice);
                self.finished = true;
                let choice = &mut self.choices[at];
                last(&mut choice.finish_reason, Some(reason));
                choice.finish = Some(finish);
                if let Some(p) = self.open_call[at].take() {
                    self.completed.0.push((at, p));
                }
            }
            Part::ReasoningDetail { choice, detail } => {
                let at = self.choice_position(choice);
                append_element(&mut self.choices[at].reasoning_details, detail);
            }
            Part::Usage { usage } => self.usage = Some(usage),
            Part::Error { ref error } => self.errors.push(error.to_owned_error()),
            Part::Done => {
                self.done = true;
                for (at, open) in self.open_call.iter_mut().enumerate() {
                    if let Some(p) = open.take() {
                        self.completed.0.push((at, p));
                    }
                }
            }
        }
    }

    /// The positions of the choice with index `choice` and of its tool call with `index`,
    /// both created on first sight.
    fn call_position(&mut self, choice: u64, index: u64) -> (usize, usize) {
        let at = self.choice_position(choice);
        let calls = &mut self.choices[at].tool_calls;
        let call = match position(calls, index, |c| c.index, self.call_at.get(&(at, index))) {
            Some(p) => p,
            None => new_call(calls, &mut self.call_at, at, index),
        };
        (at, call)
    }

    /// Records an API error.
    pub fn push_error(&mut self, error: &ApiError<'_>) {
        self.completed.0.clear();
        self.errors.push(error.to_owned_error());
    }

    /// Merges one chunk.
    pub fn push(&mut self, chunk: &ChunkView<'_>) {
        self.completed.0.clear();
        self.chunks += 1;
        first(&mut self.id, chunk.id());
        first(&mut self.model, chunk.model());
        if let Some(usage) = chunk.usage() {
            self.usage = Some(usage);
        }
        for delta in chunk.choices() {
            let at = self.choice_position(delta.index());
            let choice = &mut self.choices[at];
            first(&mut choice.role, delta.role());
            append(&mut choice.content, delta.content());
            append(&mut choice.reasoning, delta.reasoning());
            append(&mut choice.refusal, delta.refusal());
            if let Some(details) = delta.reasoning_details() {
                append_elements(&mut choice.reasoning_details, details);
            }
            for fragment in delta.tool_calls() {
                let calls = &mut self.choices[at].tool_calls;
                let call_at = match fragment.index() {
                    Some(index) => {
                        match position(calls, index, |c| c.index, self.call_at.get(&(at, index))) {
                            Some(p) => p,
                            None => new_call(calls, &mut self.call_at, at, index),
                        }
                    }
                    None => match calls.last() {
                        Some(call)
                            if !fragment.id().is_some_and(|id| {
                                !id.is_empty() && call.id.as_deref().is_some_and(|own| own != id)
                            }) =>
                        {
                            calls.len() - 1
                        }
                        _ => {
                            let index = calls.len() as u64;
                            new_call(calls, &mut self.call_at, at, index)
                        }
                    },
                };
                let call = &mut calls[call_at];
                first(&mut call.id, fragment.id());
                first(&mut call.kind, fragment.kind());
                first(&mut call.name, fragment.name());
                call.arguments.push_str(fragment.arguments().unwrap_or(""));
                // A fragment of another call closes the one that was open.
                let open = &mut self.open_call[at];
                if let Some(p) = *open
                    && p != call_at
                {
                    self.completed.0.push((at, p));
                }
                *open = Some(call_at);
            }
            let choice = &mut self.choices[at];
            if let Some(finish) = delta.finish() {
                self.finished = true;
                last(&mut choice.finish_reason, delta.finish_reason());
                choice.finish = Some(finish);
                if let Some(p) = self.open_call[at].take() {
                    self.completed.0.push((at, p));
                }
            }
        }
    }

    /// Records the terminal marker (for callers that handle payloads themselves); it
    /// completes every open tool call.
    pub fn mark_done(&mut self) {
        self.completed.0.clear();
        self.done = true;
        for (at, open) in self.open_call.iter_mut().enumerate() {
            if let Some(p) = open.take() {
                self.completed.0.push((at, p));
            }
        }
    }

    /// The tool calls that the last push (of an outcome, payload, chunk or `[DONE]`)
    /// completed, with their choice's index, in the order they completed.
    ///
    /// A call is complete as soon as its arguments are known to be whole: a fragment of
    /// another call of the same choice arrived, the choice got a finish reason, or `[DONE]`
    /// came. A call is listed once, at that push; a stream that went back to a call after
    /// another began (none is known to) would list it again when it closes again, with the
    /// longer arguments. Calls still open when the input ends without `[DONE]` or a finish
    /// reason are never listed: their arguments may have been cut.
    ///
    /// Allocates nothing: the list is kept between pushes and reused.
    ///
    /// # Example
    /// ```
    /// use ssechunk::{Accumulator, ChunkStream};
    ///
    /// let mut stream = ChunkStream::new();
    /// stream.feed(br#"data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{}"}}]}}]}"#);
    /// stream.feed(b"\n\n");
    /// stream.feed(br#"data: {"choices":[{"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"g","arguments":"{"}}]}}]}"#);
    /// stream.feed(b"\n\n");
    /// let mut message = Accumulator::new();
    /// let mut done = Vec::new();
    /// while let Some(outcome) = stream.next_outcome() {
    ///     message.push_outcome(&outcome?);
    ///     for (choice, call) in message.completed_calls() {
    ///         done.push((choice, call.name.clone(), call.arguments.clone()));
    ///     }
    /// }
    /// // Call 0 is complete once call 1 begins; call 1 waits for more.
    /// assert_eq!(done, [(0, Some("f".to_owned()), "{}".to_owned())]);
    /// # Ok::<(), ssechunk::Error>(())
    /// ```
    pub fn completed_calls(&self) -> impl ExactSizeIterator<Item = (u64, &ToolCallMessage)> + '_ {
        self.completed.0.iter().map(|&(choice, call)| {
            let choice = &self.choices[choice];
            (choice.index, &choice.tool_calls[call])
        })
    }

    /// A snapshot of the assembled message, in the message contract's order: choices sorted
    /// by index, and each choice's tool calls sorted by index. Copies every string; for
    /// reading, [`Accumulator::choices`] and the other accessors borrow.
    ///
    /// With the `serde` feature, [`Message`] serialises to exactly the line that
    /// `ssechunk message` prints.
    pub fn message(&self) -> Message {
        let mut choices = self.choices.clone();
        choices.sort_by_key(|c| c.index);
        for choice in &mut choices {
            choice.tool_calls.sort_by_key(|c| c.index);
        }
        Message {
            dialect: self.dialect.unwrap_or(Dialect::Chat),
            id: self.id.clone(),
            model: self.model.clone(),
            choices,
            usage: self.usage,
            errors: self.errors.clone(),
            invalid: self.invalid,
            ending: self.ending(),
        }
    }

    /// The position of the choice with `index`, created on first sight.
    fn choice_position(&mut self, index: u64) -> usize {
        if let Some(p) = position(
            &self.choices,
            index,
            |c| c.index,
            self.choice_at.get(&index),
        ) {
            return p;
        }
        let p = self.choices.len();
        if u64::try_from(p).ok() != Some(index) {
            self.choice_at.insert(index, p);
        }
        self.open_call.push(None);
        self.choices.push(ChoiceMessage {
            index,
            ..ChoiceMessage::default()
        });
        p
    }

    /// The first non-empty `id`.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The first non-empty `model`.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The choices, in the order their first delta arrived (index order, for every provider
    /// seen).
    pub fn choices(&self) -> &[ChoiceMessage] {
        &self.choices
    }

    /// The last usage seen.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// The API errors received, in order.
    pub fn errors(&self) -> &[ErrorMessage] {
        &self.errors
    }

    /// How many events were invalid ([`Payload::Invalid`]).
    pub fn invalid(&self) -> u64 {
        self.invalid
    }

    /// How many chunks were merged.
    pub fn chunks(&self) -> u64 {
        self.chunks
    }

    /// How the stream ended: the terminal marker, else a finish reason, else an error, else
    /// truncated.
    pub fn ending(&self) -> Ending {
        if self.done {
            Ending::Done
        } else if self.finished {
            Ending::Finished
        } else if !self.errors.is_empty() {
            Ending::Error
        } else {
            Ending::Truncated
        }
    }
}

/// Appends the elements of the JSON array text `array` (compact, as the decoder writes it) to
/// the array text in `target`.
fn append_elements(target: &mut Option<String>, array: &str) {
    let inner = array
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or("");
    if inner.is_empty() {
        return;
    }
    let all = target.get_or_insert_with(|| String::from("[]"));
    all.pop();
    if all.len() > 1 {
        all.push(',');
    }
    all.push_str(inner);
    all.push(']');
}

/// Appends the JSON text `element` (one value) to the array text in `target`.
fn append_element(target: &mut Option<String>, element: &str) {
    if element.is_empty() {
        return;
    }
    let all = target.get_or_insert_with(|| String::from("[]"));
    all.pop();
    if all.len() > 1 {
        all.push(',');
    }
    all.push_str(element);
    all.push(']');
}

/// An owned snapshot of an assembled message ([`Accumulator::message`]).
///
/// With the `serde` feature it serialises to the message contract, the line that
/// `ssechunk message` prints (every key always present, in this order):
///
/// ```text
/// {"dialect":"chat","id":S|null,"model":S|null,
///  "choices":[{"index":N,"role":S|null,"content":S|null,"reasoning":S|null,"refusal":S|null,
///              "tool_calls":[{"index":N,"id":S|null,"name":S|null,"arguments":S,"complete":B}],
///              "finish_reason":S|null,"finish":S|null}],
///  "usage":{"input_tokens":N,"output_tokens":N,"total_tokens":N,
///           "cached_input_tokens":N|null,"reasoning_tokens":N|null}|null,
///  "errors":[{"message":S|null,"type":S|null,"code":S|N|null}],
///  "invalid":N,"ending":"done"|"finished"|"error"|"truncated"}
/// ```
///
/// A choice that received `reasoning_details` also has that key (see
/// [`ChoiceMessage::reasoning_details`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Message {
    /// The wire dialect.
    pub dialect: Dialect,
    /// See [`Accumulator::id`].
    pub id: Option<String>,
    /// See [`Accumulator::model`].
    pub model: Option<String>,
    /// The choices, sorted by index, each with its tool calls sorted by index.
    pub choices: Vec<ChoiceMessage>,
    /// See [`Accumulator::usage`].
    pub usage: Option<Usage>,
    /// See [`Accumulator::errors`].
    pub errors: Vec<ErrorMessage>,
    /// See [`Accumulator::invalid`].
    pub invalid: u64,
    /// See [`Accumulator::ending`].
    pub ending: Ending,
}

/// Appends a tool call with `index` to the choice at position `choice`, and returns its
/// position.
fn new_call(
    calls: &mut Vec<ToolCallMessage>,
    call_at: &mut HashMap<(usize, u64), usize>,
    choice: usize,
    index: u64,
) -> usize {
    let p = calls.len();
    if u64::try_from(p).ok() != Some(index) {
        // An index-less call may take an index that an earlier call already has: the first
        // call with an index keeps it.
        call_at.entry((choice, index)).or_insert(p);
    }
    calls.push(ToolCallMessage {
        index,
        ..ToolCallMessage::default()
    });
    p
}
