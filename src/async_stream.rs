//! Async adapters (feature `async`): a [`ChunkStream`] fed by a `futures_core::Stream` of bytes
//! (an HTTP body) or a [`tokio::io::AsyncRead`].
//!
//! - [`AsyncChunkStream`] yields the borrowed [`Outcome`]s from a lending
//!   [`AsyncChunkStream::next_outcome`]: zero-copy, nothing allocated per event.
//! - [`DeltaStream`] is a [`Stream`] of owned [`Delta`]s for when convenience beats the last
//!   allocation; it keeps the assembled message ([`DeltaStream::accumulator`]).
//!
//! Both are runtime-agnostic: they only poll their source.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::{FusedStream, Stream};
use tokio::io::{AsyncRead, ReadBuf};

use crate::read::DEFAULT_READ_SIZE;
use crate::{
    Accumulator, ChunkStream, Config, Error, ErrorMessage, Finish, InvalidData, Outcome, Part,
    Payload, Usage,
};

/// Where an async adapter's input comes from: polled for more bytes, which it feeds to the
/// stream.
///
/// Implemented by [`BytesSource`] (a `Stream` of byte chunks) and [`ReaderSource`] (an
/// `AsyncRead`); implement it for any other source.
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub trait AsyncSource {
    /// Polls for more input and feeds what arrives into `stream`.
    ///
    /// Returns `Ready(Ok(true))` once input was fed (possibly none, for an empty chunk),
    /// `Ready(Ok(false))` at the end of the input, and `Pending` (with the waker of `cx`
    /// registered) while nothing is available. It must not call [`ChunkStream::finish`]: the
    /// adapter does. Once it has returned `Ready(Ok(false))` or an error, it is not polled
    /// again.
    ///
    /// # Errors
    /// Whatever the source fails with, as [`Error::Transport`] or [`Error::Io`]; the adapter
    /// ends the input there.
    fn poll_feed(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut ChunkStream,
    ) -> Poll<Result<bool, Error>>;
}

/// An [`AsyncSource`] over a [`Stream`] of byte chunks, such as reqwest's
/// `Response::bytes_stream()` or an `http_body_util::BodyDataStream`.
///
/// Each chunk is handed to [`ChunkStream::feed_bytes`], which adopts its buffer without a copy
/// when the chunk is the only handle to it and the parser holds nothing in progress, and copies
/// it otherwise. An `Err` item becomes [`Error::Transport`].
#[derive(Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub struct BytesSource<S> {
    inner: S,
}

impl<S> BytesSource<S> {
    /// Wraps a stream of byte chunks.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, E> AsyncSource for BytesSource<S>
where
    S: Stream<Item = Result<B, E>> + Unpin,
    B: Into<Bytes>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn poll_feed(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut ChunkStream,
    ) -> Poll<Result<bool, Error>> {
        Poll::Ready(match ready!(Pin::new(&mut self.inner).poll_next(cx)) {
            Some(Ok(chunk)) => {
                stream.feed_bytes(chunk.into());
                Ok(true)
            }
            Some(Err(e)) => Err(Error::Transport(e.into())),
            None => Ok(false),
        })
    }
}

/// An [`AsyncSource`] over a [`tokio::io::AsyncRead`] (a `TcpStream`, a child's stdout, a
/// decompressor), reading straight into the parser's buffer ([`ChunkStream::spare`] then
/// [`ChunkStream::commit`]): no copy, no allocation per read.
///
/// Read errors become [`Error::Io`]; [`std::io::ErrorKind::Interrupted`] is retried.
#[derive(Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub struct ReaderSource<R> {
    reader: R,
    read_size: usize,
}

impl<R> ReaderSource<R> {
    /// Wraps a reader, reading [`DEFAULT_READ_SIZE`] bytes at a time.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            read_size: DEFAULT_READ_SIZE,
        }
    }

    /// Sets how many bytes each read asks for (0 counts as 1).
    pub fn read_size(mut self, bytes: usize) -> Self {
        self.read_size = bytes.max(1);
        self
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The wrapped reader, mutably. Reading from it directly skips those bytes.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// Unwraps the reader.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncRead + Unpin> AsyncSource for ReaderSource<R> {
    fn poll_feed(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut ChunkStream,
    ) -> Poll<Result<bool, Error>> {
        loop {
            let mut buf = ReadBuf::new(stream.spare(self.read_size));
            match ready!(Pin::new(&mut self.reader).poll_read(cx, &mut buf)) {
                Ok(()) => {
                    let n = buf.filled().len();
                    if n == 0 {
                        return Poll::Ready(Ok(false));
                    }
                    stream.commit(n);
                    return Poll::Ready(Ok(true));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }
}

/// An SSE stream read from an async source, yielding the same borrowed [`Outcome`]s as a
/// [`ChunkStream`] fed the same bytes. Available with the `async` feature.
///
/// Guarantees:
/// - Zero-copy and allocation-free per event: [`AsyncChunkStream::next_outcome`] lends views
///   into the parser's buffer, as [`ChunkStream::next_outcome`] does.
/// - No batching delay: an outcome is returned as soon as its blank line is in; the source is
///   only polled when nothing complete is buffered.
/// - At the end of the input, or when the source fails, the stream is finished, so an event
///   cut short comes out as [`Outcome::Incomplete`] before the final `None`.
/// - [`AsyncChunkStream::next_outcome`] is cancel-safe: input is fed to the parser as soon as
///   it is polled, so dropping the future (in a `select!` or a timeout) loses nothing.
///
/// The source must be [`Unpin`]; pin a source that is not with `Box::pin`.
///
/// # Example
/// ```
/// use bytes::Bytes;
/// use ssechunk::{AsyncChunkStream, Outcome, Payload};
///
/// // A body as an HTTP client hands it over: chunks cut anywhere (reqwest's
/// // `response.bytes_stream()` works the same).
/// let body = futures::stream::iter([
///     Ok::<_, std::io::Error>(Bytes::from_static(b"data: {\"choices\":[{\"delta\":{\"cont")),
///     Ok(Bytes::from_static(b"ent\":\"Hi\"}}]}\n\ndata: [DONE]\n\n")),
/// ]);
/// let mut stream = AsyncChunkStream::from_bytes_stream(body);
/// futures::executor::block_on(async {
///     let mut text = String::new();
///     while let Some(outcome) = stream.next_outcome().await {
///         if let Outcome::Event { payload: Payload::Chunk(chunk), .. } = outcome? {
///             text.push_str(chunk.choice().and_then(|c| c.content()).unwrap_or(""));
///         }
///     }
///     assert_eq!(text, "Hi");
///     Ok::<(), ssechunk::Error>(())
/// })?;
/// # Ok::<(), ssechunk::Error>(())
/// ```
#[derive(Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub struct AsyncChunkStream<S> {
    source: S,
    stream: ChunkStream,
    ended: bool,
}

impl<S> AsyncChunkStream<BytesSource<S>> {
    /// Reads a [`Stream`] of byte chunks (`Bytes`, `Vec<u8>`, ... anything `Into<Bytes>`),
    /// such as reqwest's `Response::bytes_stream()`; its errors become [`Error::Transport`].
    /// See [`BytesSource`].
    pub fn from_bytes_stream<B, E>(body: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: Into<Bytes>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        Self::new(BytesSource::new(body))
    }
}

impl<R> AsyncChunkStream<ReaderSource<R>> {
    /// Reads a [`tokio::io::AsyncRead`] straight into the parser's buffer; its errors become
    /// [`Error::Io`]. See [`ReaderSource`].
    ///
    /// # Example
    /// ```
    /// use ssechunk::{AsyncChunkStream, Outcome};
    ///
    /// // `&[u8]` is an `AsyncRead`; so are a `TcpStream` and a child's stdout.
    /// let body: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n";
    /// let mut stream = AsyncChunkStream::from_reader(body);
    /// futures::executor::block_on(async {
    ///     let mut events = 0;
    ///     while let Some(outcome) = stream.next_outcome().await {
    ///         if let Outcome::Event { .. } = outcome? {
    ///             events += 1;
    ///         }
    ///     }
    ///     assert_eq!(events, 2);
    ///     Ok::<(), ssechunk::Error>(())
    /// })?;
    /// # Ok::<(), ssechunk::Error>(())
    /// ```
    pub fn from_reader(reader: R) -> Self
    where
        R: AsyncRead + Unpin,
    {
        Self::new(ReaderSource::new(reader))
    }
}

impl<S> AsyncChunkStream<S> {
    /// Reads from any [`AsyncSource`] with the default [`Config`].
    pub fn new(source: S) -> Self {
        Self::with_stream(source, ChunkStream::new())
    }

    /// Reads from `source` with the given framing settings.
    pub fn with_config(source: S, config: Config) -> Self {
        Self::with_stream(source, ChunkStream::with_config(config))
    }

    /// Reads from `source` into an existing stream, keeping its buffers (and, for a stream
    /// that had finished, its last event ID), as when reconnecting.
    pub fn with_stream(source: S, stream: ChunkStream) -> Self {
        Self {
            source,
            stream,
            ended: false,
        }
    }

    /// Whether the input has ended (end of the source, or its error); the outcomes still
    /// buffered come out of [`AsyncChunkStream::next_outcome`] all the same.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The stream being fed (its parser holds the last event ID and the retry time).
    pub fn stream(&self) -> &ChunkStream {
        &self.stream
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The source, mutably.
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }

    /// The source and the stream, with whatever the stream still buffers.
    pub fn into_parts(self) -> (S, ChunkStream) {
        (self.source, self.stream)
    }

    /// Turns this into a [`Stream`] of owned [`Delta`]s that keeps the assembled message.
    pub fn into_deltas(self) -> DeltaStream<S> {
        DeltaStream::new(self)
    }

    /// [`AsyncChunkStream::into_deltas`], also keeping each event's raw data for
    /// [`DeltaStream::raw`] (see [`DeltaStream::with_raw`]).
    pub fn into_deltas_with_raw(self) -> DeltaStream<S> {
        DeltaStream::new(self).with_raw(true)
    }

    fn end(&mut self) {
        self.stream.finish();
        self.ended = true;
    }
}

impl<S: AsyncSource> AsyncChunkStream<S> {
    /// Polls the source until [`AsyncChunkStream::next_outcome`] has something to return
    /// without waiting: an outcome is buffered, or the input is over. For hand-written futures
    /// and streams; `next_outcome` calls it.
    ///
    /// # Errors
    /// The source's error ([`Error::Transport`], [`Error::Io`]), once; the input ends there.
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        while !self.ended && !self.stream.ready() {
            match ready!(self.source.poll_feed(cx, &mut self.stream)) {
                Ok(true) => {}
                Ok(false) => self.end(),
                Err(e) => {
                    self.end();
                    return Poll::Ready(Err(e));
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Waits for the next outcome. `None` means the input has ended and everything in it was
    /// returned.
    ///
    /// # Errors
    /// - The source's error, [`Error::Transport`] or [`Error::Io`]. That ends the input: the
    ///   next call returns an [`Outcome::Incomplete`] if the failure cut an event short, then
    ///   `None`.
    /// - [`Error::EventTooLarge`] as from [`ChunkStream::next_outcome`]; the stream goes on.
    pub async fn next_outcome(&mut self) -> Option<Result<Outcome<'_>, Error>> {
        if let Err(e) = std::future::poll_fn(|cx| self.poll_ready(cx)).await {
            return Some(Err(e));
        }
        self.stream.next_outcome()
    }
}

/// One owned piece of a streamed reply, as yielded by [`DeltaStream`].
///
/// An event yields as many deltas as it carries: for each choice in order its role (when it
/// changed), reasoning, text, refusal, tool-call fragments and finish reason; then the tool
/// calls the event completed; then the chunk's usage, or `Done`. Empty strings (such as the
/// `"content":""` many providers send with the role) yield nothing.
///
/// With the `serde` feature it is written externally tagged, by variant name in snake case:
/// `{"text":{"choice":0,"text":"Hi"}}`, `"done"`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Delta {
    /// `delta.role` of a choice, when it differs from the last role that choice had (some
    /// providers, such as Kimi, repeat `"role":"assistant"` in every chunk).
    Role {
        /// The choice's index.
        choice: u64,
        /// The role, such as `assistant`.
        role: String,
    },
    /// The next piece of a choice's reply text (`delta.content`).
    Text {
        /// The choice's index.
        choice: u64,
        /// The text.
        text: String,
    },
    /// The next piece of a choice's reasoning (`delta.reasoning_content` or
    /// `delta.reasoning`).
    Reasoning {
        /// The choice's index.
        choice: u64,
        /// The text.
        text: String,
    },
    /// The next piece of a choice's refusal (`delta.refusal`).
    Refusal {
        /// The choice's index.
        choice: u64,
        /// The text.
        text: String,
    },
    /// One tool-call fragment: the id and name usually come in the first fragment of a call,
    /// then argument fragments that only make JSON when joined.
    ToolCall {
        /// The choice's index.
        choice: u64,
        /// Which tool call of the choice the fragment belongs to: its `index`, `None` when it
        /// had none (the message assigns such fragments; see [`crate::Accumulator`]).
        index: Option<u64>,
        /// The call's id, when this fragment carries one.
        id: Option<String>,
        /// The function's name, when this fragment carries one.
        name: Option<String>,
        /// A fragment of the arguments' JSON text (`""` when none came).
        arguments: String,
    },
    /// A tool call whose arguments are known to be whole: another call of the same choice
    /// began, the choice got a finish reason, or `[DONE]` came (see
    /// [`Accumulator::completed_calls`]). Carries the whole call, so a loop can run the tool
    /// before the stream ends.
    ToolCallComplete {
        /// The choice's index.
        choice: u64,
        /// The call's index in the message (see [`crate::ToolCallMessage::index`]).
        index: u64,
        /// The call's id.
        id: Option<String>,
        /// The function's name.
        name: Option<String>,
        /// The arguments' whole JSON text.
        arguments: String,
    },
    /// A choice's `finish_reason` (`stop`, `length`, `tool_calls`, ...).
    Finish {
        /// The choice's index.
        choice: u64,
        /// The reason, raw.
        reason: String,
        /// The reason, normalised.
        finish: Finish,
    },
    /// Token counts.
    Usage(Usage),
    /// `data: [DONE]`.
    Done,
    /// An error sent by the API, in any of the shapes [`crate::ApiError`] lists.
    ApiError(ErrorMessage),
    /// An event whose data is not a chunk; the stream goes on after it.
    Invalid {
        /// Why it is not a chunk.
        reason: InvalidData,
        /// The data, with U+FFFD for invalid UTF-8.
        data: String,
    },
    /// A comment line, with [`Config::comments`] on.
    Comment(String),
    /// A line the SSE rules ignore (see [`Config::ignored_lines`]), with U+FFFD for invalid
    /// UTF-8.
    Ignored(String),
    /// The stream ended inside an event, which was not dispatched (the connection was cut).
    Incomplete {
        /// The event's data as received, if a whole `data` line had arrived.
        data: Option<String>,
        /// The last line, which had no line end.
        line: String,
    },
}

fn owned(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_owned)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The roles last seen, per choice index, so that a role is yielded only when it changes.
#[derive(Debug, Default)]
struct Roles(HashMap<u64, String>);

impl Roles {
    /// Whether `role` differs from `choice`'s last one (and records it).
    fn changed(&mut self, choice: u64, role: &str) -> bool {
        match self.0.get_mut(&choice) {
            Some(last) if last == role => false,
            Some(last) => {
                last.clear();
                last.push_str(role);
                true
            }
            None => {
                self.0.insert(choice, role.to_owned());
                true
            }
        }
    }
}

impl Delta {
    /// Appends the deltas of one outcome to `out`; `message` has merged it already.
    fn extend_from(
        out: &mut VecDeque<Delta>,
        outcome: &Outcome<'_>,
        message: &Accumulator,
        roles: &mut Roles,
    ) {
        let payload = match outcome {
            Outcome::Event { payload, event } => {
                if let Payload::Invalid(reason) = payload {
                    out.push_back(Delta::Invalid {
                        reason: *reason,
                        data: lossy(event.data()),
                    });
                }
                payload
            }
            Outcome::Error(e) => return out.push_back(Delta::ApiError(e.to_owned_error())),
            Outcome::Ignored(line) => return out.push_back(Delta::Ignored(lossy(line))),
            Outcome::Comment(text) => return out.push_back(Delta::Comment(lossy(text))),
            Outcome::Incomplete(incomplete) => {
                return out.push_back(Delta::Incomplete {
                    data: incomplete.data().map(lossy),
                    line: lossy(incomplete.line()),
                });
            }
        };
        match payload {
            Payload::Chunk(chunk) => {
                for c in chunk.choices() {
                    let choice = c.index();
                    if let Some(role) = c.role().filter(|r| !r.is_empty())
                        && roles.changed(choice, role)
                    {
                        out.push_back(Delta::Role {
                            choice,
                            role: role.to_owned(),
                        });
                    }
                    if let Some(text) = owned(c.reasoning()) {
                        out.push_back(Delta::Reasoning { choice, text });
                    }
                    if let Some(text) = owned(c.content()) {
                        out.push_back(Delta::Text { choice, text });
                    }
                    if let Some(text) = owned(c.refusal()) {
                        out.push_back(Delta::Refusal { choice, text });
                    }
                    for call in c.tool_calls() {
                        out.push_back(Delta::ToolCall {
                            choice,
                            index: call.index(),
                            id: owned(call.id()),
                            name: owned(call.name()),
                            arguments: call.arguments().unwrap_or("").to_owned(),
                        });
                    }
                    if let (Some(reason), Some(finish)) = (owned(c.finish_reason()), c.finish()) {
                        out.push_back(Delta::Finish {
                            choice,
                            reason,
                            finish,
                        });
                    }
                }
                Self::completed(out, message);
                if let Some(usage) = chunk.usage() {
                    out.push_back(Delta::Usage(usage));
                }
            }
            Payload::Done => {
                Self::completed(out, message);
                out.push_back(Delta::Done);
            }
            Payload::ApiError(e) => out.push_back(Delta::ApiError(e.to_owned_error())),
            Payload::Invalid(_) => {}
            Payload::Parts(parts) => {
                for part in parts.iter() {
                    match *part {
                        Part::Role { choice, role } if roles.changed(choice, role) => {
                            out.push_back(Delta::Role {
                                choice,
                                role: role.to_owned(),
                            });
                        }
                        Part::Text { choice, text } if !text.is_empty() => {
                            out.push_back(Delta::Text {
                                choice,
                                text: text.to_owned(),
                            });
                        }
                        Part::Reasoning { choice, text, .. } if !text.is_empty() => {
                            out.push_back(Delta::Reasoning {
                                choice,
                                text: text.to_owned(),
                            });
                        }
                        Part::Refusal { choice, text } if !text.is_empty() => {
                            out.push_back(Delta::Refusal {
                                choice,
                                text: text.to_owned(),
                            });
                        }
                        Part::ToolCallStart {
                            choice,
                            index,
                            id,
                            name,
                        } => out.push_back(Delta::ToolCall {
                            choice,
                            index: Some(index),
                            id: owned(id),
                            name: owned(name),
                            arguments: String::new(),
                        }),
                        Part::ToolCallArguments {
                            choice,
                            index,
                            fragment,
                        } => out.push_back(Delta::ToolCall {
                            choice,
                            index: Some(index),
                            id: None,
                            name: None,
                            arguments: fragment.to_owned(),
                        }),
                        Part::Finish {
                            choice,
                            finish,
                            reason,
                        } => out.push_back(Delta::Finish {
                            choice,
                            reason: reason.to_owned(),
                            finish,
                        }),
                        Part::Usage { usage } => out.push_back(Delta::Usage(usage)),
                        Part::Error { error } => {
                            out.push_back(Delta::ApiError(error.to_owned_error()))
                        }
                        // A reasoning detail reaches the message
                        // (`ChoiceMessage::reasoning_details`), not a delta, as OpenRouter's
                        // chat `reasoning_details` do.
                        _ => {}
                    }
                }
                Self::completed(out, message);
                if parts.iter().any(|p| matches!(p, Part::Done)) {
                    out.push_back(Delta::Done);
                }
            }
        }
    }

    /// The calls that the last event completed.
    fn completed(out: &mut VecDeque<Delta>, message: &Accumulator) {
        out.extend(
            message
                .completed_calls()
                .map(|(choice, call)| Delta::ToolCallComplete {
                    choice,
                    index: call.index,
                    id: call.id.clone(),
                    name: call.name.clone(),
                    arguments: call.arguments.clone(),
                }),
        );
    }
}

/// A [`Stream`] of owned [`Delta`]s read from an async source, which also assembles the
/// message ([`DeltaStream::accumulator`]). Available with the `async` feature; made by
/// [`AsyncChunkStream::into_deltas`].
///
/// Guarantees:
/// - The message is updated with each event before its first delta is yielded, so it holds
///   everything yielded so far; after a transport error it holds everything received before
///   it.
/// - No batching delay: a delta is yielded as soon as its event's blank line is in.
/// - After an error from the source, the stream yields a [`Delta::Incomplete`] if the failure
///   cut an event short, then ends.
///
/// - A [`Delta::ToolCallComplete`] comes as soon as a tool call's arguments are known to be
///   whole, before the stream ends.
/// - Opt-in ([`DeltaStream::with_raw`]): [`DeltaStream::raw`] gives the raw data of the event
///   that the last delta came from, for the fields no delta carries (`logprobs`,
///   `system_fingerprint`, a provider's extras).
///
/// Allocates the strings it hands over; use [`AsyncChunkStream::next_outcome`] where every
/// allocation counts.
///
/// # Example
/// ```
/// use bytes::Bytes;
/// use futures::StreamExt;
/// use ssechunk::{AsyncChunkStream, Delta, Ending};
///
/// let body = futures::stream::iter([
///     Ok::<_, std::io::Error>(Bytes::from_static(b"data: {\"choices\":[{\"delta\":{\"content\":\"O\"}}]}\n\n")),
///     Ok(Bytes::from_static(b"data: {\"choices\":[{\"delta\":{\"content\":\"i\"},\"finish_reason\":\"stop\"}]}\n\n")),
///     Ok(Bytes::from_static(b"data: [DONE]\n\n")),
/// ]);
/// let mut deltas = AsyncChunkStream::from_bytes_stream(body).into_deltas();
/// futures::executor::block_on(async {
///     let mut text = String::new();
///     while let Some(delta) = deltas.next().await {
///         if let Delta::Text { text: piece, .. } = delta? {
///             text.push_str(&piece); // print it as it arrives
///         }
///     }
///     assert_eq!(text, "Oi");
///     Ok::<(), ssechunk::Error>(())
/// })?;
/// assert_eq!(deltas.accumulator().choices()[0].content.as_deref(), Some("Oi"));
/// assert_eq!(deltas.accumulator().ending(), Ending::Done);
/// # Ok::<(), ssechunk::Error>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub struct DeltaStream<S> {
    inner: AsyncChunkStream<S>,
    message: Accumulator,
    /// Each delta with the raw data of its event (when asked for).
    pending: VecDeque<(Delta, Option<Arc<str>>)>,
    /// Deltas of the event being read, before they are paired with its raw data.
    scratch: VecDeque<Delta>,
    roles: Roles,
    keep_raw: bool,
    /// The raw data of the event that the last yielded delta came from.
    raw: Option<Arc<str>>,
    terminated: bool,
}

impl<S: fmt::Debug> fmt::Debug for DeltaStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeltaStream")
            .field("inner", &self.inner)
            .field("pending", &self.pending.len())
            .field("keep_raw", &self.keep_raw)
            .field("terminated", &self.terminated)
            .finish_non_exhaustive()
    }
}

impl<S> DeltaStream<S> {
    /// Wraps an [`AsyncChunkStream`].
    pub fn new(inner: AsyncChunkStream<S>) -> Self {
        Self {
            inner,
            message: Accumulator::new(),
            pending: VecDeque::new(),
            scratch: VecDeque::new(),
            roles: Roles::default(),
            keep_raw: false,
            raw: None,
            terminated: false,
        }
    }

    /// Whether to keep each event's raw data for [`DeltaStream::raw`] (off by default: it
    /// costs one copy of the data per event that yields a delta).
    pub fn with_raw(mut self, keep: bool) -> Self {
        self.keep_raw = keep;
        self
    }

    /// The data of the event that the last yielded delta came from, as text (U+FFFD for
    /// invalid UTF-8), when [`DeltaStream::with_raw`] is on. `None` when it is off, before the
    /// first delta, and for deltas that come from no event (comments, ignored lines, an
    /// incomplete event, an error found outside an event).
    ///
    /// The deltas of one event share it: clone the `Arc` to keep it.
    ///
    /// # Example
    /// ```
    /// use bytes::Bytes;
    /// use futures::StreamExt;
    /// use ssechunk::{AsyncChunkStream, Delta};
    ///
    /// let body = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(
    ///     b"data: {\"system_fingerprint\":\"fp_1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"logprobs\":{\"content\":[]}}]}\n\n",
    /// ))]);
    /// let mut deltas = AsyncChunkStream::from_bytes_stream(body).into_deltas_with_raw();
    /// futures::executor::block_on(async {
    ///     while let Some(delta) = deltas.next().await {
    ///         if let Delta::Text { .. } = delta? {
    ///             let raw = deltas.raw().expect("kept");
    ///             let extras: serde_json::Value = serde_json::from_str(raw).unwrap();
    ///             assert_eq!(extras["system_fingerprint"], "fp_1");
    ///         }
    ///     }
    ///     Ok::<(), ssechunk::Error>(())
    /// })?;
    /// # Ok::<(), ssechunk::Error>(())
    /// ```
    pub fn raw(&self) -> Option<&Arc<str>> {
        self.raw.as_ref()
    }

    /// The accumulator of the message assembled so far (the whole message once the stream
    /// has ended), also after an error; [`Accumulator::message`] gives the [`crate::Message`].
    pub fn accumulator(&self) -> &Accumulator {
        &self.message
    }

    /// The accumulator of the assembled message, giving up the stream.
    pub fn into_accumulator(self) -> Accumulator {
        self.message
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &AsyncChunkStream<S> {
        &self.inner
    }
}

// The source is never pinned: `AsyncSource::poll_feed` takes `&mut self`.
impl<S> Unpin for DeltaStream<S> {}

impl<S: AsyncSource> Stream for DeltaStream<S> {
    type Item = Result<Delta, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some((delta, raw)) = this.pending.pop_front() {
                this.raw = raw;
                return Poll::Ready(Some(Ok(delta)));
            }
            if this.terminated {
                return Poll::Ready(None);
            }
            if let Err(e) = ready!(this.inner.poll_ready(cx)) {
                return Poll::Ready(Some(Err(e)));
            }
            match this.inner.stream.next_outcome() {
                None => this.terminated = true,
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                Some(Ok(outcome)) => {
                    this.message.push_outcome(&outcome);
                    let scratch = &mut this.scratch;
                    Delta::extend_from(scratch, &outcome, &this.message, &mut this.roles);
                    let raw = match &outcome {
                        Outcome::Event { event, .. } if this.keep_raw && !scratch.is_empty() => {
                            Some(Arc::<str>::from(event.data_lossy()))
                        }
                        _ => None,
                    };
                    this.pending
                        .extend(scratch.drain(..).map(|delta| (delta, raw.clone())));
                }
            }
        }
    }
}

impl<S: AsyncSource> FusedStream for DeltaStream<S> {
    fn is_terminated(&self) -> bool {
        self.terminated && self.pending.is_empty()
    }
}
