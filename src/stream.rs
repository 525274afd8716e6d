//! [`ChunkStream`]: framing and chunk decoding joined for the common case.

use std::fmt;

use bytes::{Bytes, BytesMut};

use crate::chunk::ErrorRule;
use crate::framing::{ByteStr, ignored_field};
use crate::{ApiError, ChunkDecoder, Config, Error, Event, Frame, Incomplete, Parser, Payload};

/// One outcome of [`ChunkStream::next_outcome`].
///
/// Its `Debug` form shows the lines of [`Outcome::Ignored`] and [`Outcome::Comment`] as text
/// (`b"..."`, non-ASCII and control bytes escaped), not as lists of numbers:
///
/// ```
/// use ssechunk::Outcome;
///
/// assert_eq!(format!("{:?}", Outcome::Ignored(b"caf\xc3\xa9\t!")), r#"Ignored(b"caf\xc3\xa9\t!")"#);
/// ```
#[non_exhaustive]
pub enum Outcome<'a> {
    /// A dispatched event and what its data holds (see [`ChunkDecoder::decode_event`] for how
    /// its type counts); the raw event (type, data, last event ID) is always beside it, for
    /// callers who read more of an event than the decoders do.
    Event {
        /// The event as framed; its data is untouched by decoding.
        event: Event<'a>,
        /// The decoded data.
        payload: Payload<'a>,
    },
    /// An API error found outside any event: on an `error:` line whose value is a JSON object
    /// (a field the SSE rules ignore; llama.cpp sent errors there), or, as the last outcome of
    /// the stream, in a plain JSON error body (see [`ChunkStream`]).
    Error(ApiError<'a>),
    /// A line the SSE rules ignore (see [`Config::ignored_lines`]), reported so that nothing
    /// is dropped without a trace.
    Ignored(&'a [u8]),
    /// A comment line, with [`Config::comments`] on.
    Comment(&'a [u8]),
    /// After [`ChunkStream::finish`]: the stream ended inside an event, which is not
    /// dispatched.
    Incomplete(Incomplete<'a>),
}

impl fmt::Debug for Outcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Event { event, payload } => f
                .debug_struct("Event")
                .field("event", event)
                .field("payload", payload)
                .finish(),
            Self::Error(error) => f.debug_tuple("Error").field(error).finish(),
            Self::Ignored(bytes) => f.debug_tuple("Ignored").field(&ByteStr(bytes)).finish(),
            Self::Comment(bytes) => f.debug_tuple("Comment").field(&ByteStr(bytes)).finish(),
            Self::Incomplete(incomplete) => f.debug_tuple("Incomplete").field(incomplete).finish(),
        }
    }
}

/// Feeds bytes, pulls decoded outcomes: a [`Parser`] and a [`ChunkDecoder`] in one.
///
/// Every dispatched event is decoded with [`ChunkDecoder::decode_event`]. The lines the SSE
/// rules ignore are reported as [`Outcome::Ignored`] (the stream turns
/// [`Config::ignored_lines`] on), and two of their shapes are errors ([`Outcome::Error`]):
/// - an `error:` line whose value is a JSON object (its `error` member when that is an
///   object, else the object itself, is the error object);
/// - a plain JSON error body: the lines the rules ignore after the last dispatched event
///   (all of them when no event came), with an unterminated last line, joined with LF, when
///   they form one JSON object whose `error` is an object or a non-empty string. A server that
///   refused the request, or failed after the stream began, answers so. It is looked for once
///   the input has ended ([`ChunkStream::finish`]), and comes out last. The text kept for it
///   is bounded by [`Config::max_event_bytes`].
///
/// # Example
/// ```
/// use ssechunk::{ChunkStream, Outcome, Payload};
///
/// let body = b"data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n\
///              data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n\
///              data: [DONE]\n\n";
/// let mut stream = ChunkStream::new();
/// let mut text = String::new();
/// let mut done = false;
/// for piece in body.chunks(7) {
///     stream.feed(piece);
///     while let Some(outcome) = stream.next_outcome() {
///         match outcome? {
///             Outcome::Event { payload: Payload::Chunk(chunk), .. } => {
///                 for choice in chunk.choices() {
///                     text.push_str(choice.content().unwrap_or(""));
///                 }
///             }
///             Outcome::Event { payload: Payload::Done, .. } => done = true,
///             _ => {}
///         }
///     }
/// }
/// assert_eq!(text, "Hello");
/// assert!(done);
///
/// // A server that refused the request, without SSE framing.
/// let mut stream = ChunkStream::new();
/// stream.feed(b"{\"error\":{\"message\":\"context too long\",\"code\":400}}\n");
/// stream.finish();
/// assert!(matches!(stream.next_outcome(), Some(Ok(Outcome::Ignored(_)))));
/// match stream.next_outcome() {
///     Some(Ok(Outcome::Error(e))) => assert_eq!(e.message(), Some("context too long")),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), ssechunk::Error>(())
/// ```
#[derive(Debug)]
pub struct ChunkStream {
    parser: Parser,
    decoder: ChunkDecoder,
    /// The ignored lines since the last dispatched event, joined with LF.
    body: Vec<u8>,
    /// `body` outgrew the event size limit: it is no longer kept.
    body_over: bool,
    /// The unterminated last line, at the end of the input.
    tail: Vec<u8>,
    /// Where the look for an error in `body` and `tail` stands.
    end: End,
}

/// The look for an error at the end of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Not done yet.
    Unchecked,
    /// Done: there is an error to return.
    Found,
    /// Done (and the error, if any, returned).
    Over,
}

impl Default for ChunkStream {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkStream {
    /// A stream with the default [`Config`].
    pub fn new() -> Self {
        Self::with_config(Config::new())
    }

    /// A stream with the given framing settings ([`Config::ignored_lines`] is always on).
    pub fn with_config(config: Config) -> Self {
        Self {
            decoder: ChunkDecoder::with_dialect(config.get_dialect()),
            parser: Parser::with_config(config.ignored_lines(true)),
            body: Vec::new(),
            body_over: false,
            tail: Vec::new(),
            end: End::Unchecked,
        }
    }

    /// The framing parser (last event ID, retry time, buffered bytes).
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// New input after [`ChunkStream::finish`] starts a new stream, as it does for the parser.
    fn restart_if_finished(&mut self) {
        if self.parser.is_finished() {
            self.decoder.reset();
            self.body.clear();
            self.body_over = false;
            self.tail.clear();
            self.end = End::Unchecked;
        }
    }

    /// Appends input; see [`Parser::feed`].
    pub fn feed(&mut self, input: &[u8]) {
        self.restart_if_finished();
        self.parser.feed(input);
    }

    /// Appends input, adopting the buffer where it can; see [`Parser::feed_bytes`].
    pub fn feed_bytes(&mut self, input: Bytes) {
        self.restart_if_finished();
        self.parser.feed_bytes(input);
    }

    /// Appends input, adopting the buffer where it can; see [`Parser::feed_bytes_mut`].
    pub fn feed_bytes_mut(&mut self, input: BytesMut) {
        self.restart_if_finished();
        self.parser.feed_bytes_mut(input);
    }

    /// Writable room for `n` bytes of input; see [`Parser::spare`].
    pub fn spare(&mut self, n: usize) -> &mut [u8] {
        self.restart_if_finished();
        self.parser.spare(n)
    }

    /// Declares bytes written into [`ChunkStream::spare`]; see [`Parser::commit`].
    pub fn commit(&mut self, n: usize) {
        self.parser.commit(n);
    }

    /// Gives back the memory of a stream that went quiet, keeping what it still needs.
    ///
    /// Frees the decoder's buffers ([`ChunkDecoder::release`]) and the parser's input buffer
    /// ([`Parser::release`]): between events, with every outcome pulled, the stream then
    /// retains only the `ChunkStream` value itself (`size_of::<ChunkStream>()`, under 2 KiB),
    /// the last event ID, and the lines the SSE rules ignored since the last event (kept for
    /// a plain JSON error body). Bytes of an event or line in progress are kept (in a buffer
    /// of their size plus [`crate::PADDING`]), so releasing in the middle of an event loses
    /// nothing. Outcomes are the same with or without it.
    ///
    /// Without it, a stream keeps its buffers for the next event: its input buffer (at least
    /// 8 KiB, as large as the largest read fed), the template of the last chunk parsed in full
    /// (up to 16 KiB; a few hundred bytes for a typical chunk; in the other dialects, of the
    /// last event their scanner read in full), and, once an event took the simd-json path,
    /// that path's buffers (as large as the largest such event). On the
    /// recorded traffic that is about 12 KiB per stream; see the README's "Gateway scale".
    ///
    /// The cost is on the next event: the buffers are allocated again (the input buffer,
    /// 8 KiB zero-filled, and the template's few small ones), and that event is parsed in full
    /// rather than against the template. Release streams that are idle (a proxy might release
    /// a stream after a second without bytes), not after every event: a stream released after
    /// every event allocates per event and decodes several times more slowly.
    ///
    /// # Example
    /// ```
    /// use ssechunk::{ChunkStream, Outcome, Payload};
    ///
    /// let mut stream = ChunkStream::new();
    /// stream.feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"choi");
    /// while let Some(outcome) = stream.next_outcome() {
    ///     assert!(matches!(outcome?, Outcome::Event { .. }));
    /// }
    /// stream.release(); // the stream is waiting: keep only the 12 bytes in progress
    /// assert_eq!(stream.parser().buffered(), 12);
    /// stream.feed(b"ces\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n");
    /// match stream.next_outcome() {
    ///     Some(Ok(Outcome::Event { payload: Payload::Chunk(chunk), .. })) => {
    ///         assert_eq!(chunk.choice().unwrap().content(), Some("lo"));
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), ssechunk::Error>(())
    /// ```
    pub fn release(&mut self) {
        self.parser.release();
        self.decoder.release();
        self.body.shrink_to_fit();
        self.tail.shrink_to_fit();
    }

    /// Marks the end of the input; see [`Parser::finish`]. The outcomes still buffered come
    /// out of [`ChunkStream::next_outcome`], then a plain JSON error body's error, if any.
    pub fn finish(&mut self) {
        self.parser.finish();
    }

    /// Whether [`ChunkStream::next_outcome`] has an outcome to return, without returning it;
    /// see [`Parser::ready`].
    pub fn ready(&mut self) -> bool {
        if self.parser.ready() {
            return true;
        }
        if self.parser.is_finished() && self.end == End::Unchecked {
            self.end = if self.end_error().is_some() {
                End::Found
            } else {
                End::Over
            };
        }
        self.end == End::Found
    }

    /// Pulls the next outcome. `None` means more input is needed (or, after
    /// [`ChunkStream::finish`], that the stream is over).
    ///
    /// # Errors
    /// [`Error::EventTooLarge`] once per oversized event; the stream goes on after it.
    pub fn next_outcome(&mut self) -> Option<Result<Outcome<'_>, Error>> {
        let Self {
            parser,
            decoder,
            body,
            body_over,
            tail,
            end,
        } = self;
        // Another event like the last one (a stream of deltas), framed and decoded in one
        // pass: its data is compared with the decoder's template from its first byte, and
        // where the template ends, the data line and the event end (see
        // `ChunkDecoder::repeat`). Any other event goes the way of the rules.
        if decoder.typed()
            && let Some((at, max)) = parser.repeat_start()
            && let Some(len) = decoder.repeat(parser.repeated_type(), &parser.unread()[at..], max)
        {
            body.clear();
            *body_over = false;
            let event = parser.take_repeat(at, len);
            let payload = decoder.decode_repeated(event.event_type(), event.data());
            return Some(Ok(Outcome::Event { event, payload }));
        }
        let (finished, limit) = (parser.is_finished(), parser.config().get_max_event_bytes());
        let frame = match parser.next_frame() {
            Some(frame) => frame,
            None => {
                if !finished || *end == End::Over {
                    return None;
                }
                *end = End::Over;
                return end_error(decoder, body, tail).map(|e| Ok(Outcome::Error(e)));
            }
        };
        Some(Ok(match frame {
            Err(e) => return Some(Err(e)),
            Ok(Frame::Event(event)) => {
                body.clear();
                *body_over = false;
                Outcome::Event {
                    event,
                    payload: decoder.decode_event(event.event_type(), event.data()),
                }
            }
            Ok(Frame::Ignored(line)) => {
                if let Some((b"error", value)) = ignored_field(line)
                    && value.first() == Some(&b'{')
                    && let Some(error) = decoder.error_in(value, ErrorRule::AnyObject)
                {
                    return Some(Ok(Outcome::Error(error)));
                }
                keep_body_line(body, body_over, line, limit);
                Outcome::Ignored(line)
            }
            Ok(Frame::Comment(text)) => Outcome::Comment(text),
            Ok(Frame::Incomplete(incomplete)) => {
                let line = incomplete.line();
                match ignored_field(line) {
                    Some((b"error", value)) if value.first() == Some(&b'{') => {
                        tail.clear();
                        tail.extend_from_slice(line);
                    }
                    Some(_) => keep_body_line(body, body_over, line, limit),
                    None => {}
                }
                Outcome::Incomplete(incomplete)
            }
        }))
    }

    /// The error the end of the input holds, if any.
    fn end_error(&mut self) -> Option<ApiError<'_>> {
        end_error(&mut self.decoder, &self.body, &self.tail)
    }
}

/// Adds an ignored line to the text a plain JSON error body would be, within the event size
/// limit.
fn keep_body_line(body: &mut Vec<u8>, over: &mut bool, line: &[u8], limit: usize) {
    if *over {
        return;
    }
    if body.len() + 1 + line.len() > limit {
        *over = true;
        body.clear();
        return;
    }
    if !body.is_empty() {
        body.push(b'\n');
    }
    body.extend_from_slice(line);
}

/// The error at the end of the input: an unterminated `error:` line holding a JSON object,
/// else the plain JSON error body that the ignored lines form.
fn end_error<'a>(
    decoder: &'a mut ChunkDecoder,
    body: &'a [u8],
    tail: &'a [u8],
) -> Option<ApiError<'a>> {
    if let Some((_, value)) = ignored_field(tail) {
        return decoder.error_in(value, ErrorRule::AnyObject);
    }
    if body.is_empty() {
        return None;
    }
    decoder.error_in(body, ErrorRule::ErrorMember)
}
