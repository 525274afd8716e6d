//! [`ChunkStream`]: framing and chunk decoding joined for the common case.

use bytes::{Bytes, BytesMut};

use crate::{ChunkDecoder, Config, Error, Event, Frame, Incomplete, Parser, Payload};

/// One outcome of [`ChunkStream::next_outcome`].
#[derive(Debug)]
pub enum Outcome<'a> {
    /// A dispatched event and what its data holds. Every event is decoded by its data alone,
    /// whatever its type; the raw event (type, data, last event ID) is always beside it for
    /// callers who handle other event types (Anthropic's, the Responses API's, ...).
    Event {
        /// The event as framed; its data is untouched by decoding.
        event: Event<'a>,
        /// The decoded data.
        payload: Payload<'a>,
    },
    /// A comment line, with [`Config::comments`] on.
    Comment(&'a [u8]),
    /// After [`ChunkStream::finish`]: the stream ended inside an event, which is not
    /// dispatched.
    Incomplete(Incomplete<'a>),
}

/// Feeds bytes, pulls decoded outcomes: a [`Parser`] and a [`ChunkDecoder`] in one.
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
/// # Ok::<(), ssechunk::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct ChunkStream {
    parser: Parser,
    decoder: ChunkDecoder,
}

impl ChunkStream {
    /// A stream with the default [`Config`].
    pub fn new() -> Self {
        Self::with_config(Config::new())
    }

    /// A stream with the given framing settings.
    pub fn with_config(config: Config) -> Self {
        Self {
            parser: Parser::with_config(config),
            decoder: ChunkDecoder::new(),
        }
    }

    /// The framing parser (last event ID, retry time, buffered bytes).
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// Appends input; see [`Parser::feed`].
    pub fn feed(&mut self, input: &[u8]) {
        self.parser.feed(input);
    }

    /// Appends input, adopting the buffer where it can; see [`Parser::feed_bytes`].
    pub fn feed_bytes(&mut self, input: Bytes) {
        self.parser.feed_bytes(input);
    }

    /// Appends input, adopting the buffer where it can; see [`Parser::feed_bytes_mut`].
    pub fn feed_bytes_mut(&mut self, input: BytesMut) {
        self.parser.feed_bytes_mut(input);
    }

    /// Writable room for `n` bytes of input; see [`Parser::spare`].
    pub fn spare(&mut self, n: usize) -> &mut [u8] {
        self.parser.spare(n)
    }

    /// Declares bytes written into [`ChunkStream::spare`]; see [`Parser::commit`].
    pub fn commit(&mut self, n: usize) {
        self.parser.commit(n);
    }

    /// Marks the end of the input; see [`Parser::finish`].
    pub fn finish(&mut self) {
        self.parser.finish();
    }

    /// Whether [`ChunkStream::next_outcome`] has an outcome to return, without returning it;
    /// see [`Parser::ready`].
    pub fn ready(&mut self) -> bool {
        self.parser.ready()
    }

    /// Pulls the next outcome. `None` means more input is needed (or, after
    /// [`ChunkStream::finish`], that the stream is over).
    ///
    /// # Errors
    /// [`Error::EventTooLarge`] once per oversized event; the stream goes on after it.
    pub fn next_outcome(&mut self) -> Option<Result<Outcome<'_>, Error>> {
        Some(Ok(match self.parser.next_frame()? {
            Err(e) => return Some(Err(e)),
            Ok(Frame::Event(event)) => Outcome::Event {
                event,
                payload: self.decoder.decode(event.data()),
            },
            Ok(Frame::Comment(text)) => Outcome::Comment(text),
            Ok(Frame::Incomplete(incomplete)) => Outcome::Incomplete(incomplete),
        }))
    }
}
