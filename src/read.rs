//! [`ChunkReader`]: a [`ChunkStream`] that pulls its input from any [`std::io::Read`].

use std::io::{ErrorKind, Read};

use crate::{ChunkStream, Config, Error, Outcome};

/// How many bytes a reader adapter asks for per read unless told otherwise: 8 KiB.
pub const DEFAULT_READ_SIZE: usize = 8 * 1024;

/// Reads an SSE stream from a blocking [`Read`] (a `TcpStream`, a child's stdout, a file) and
/// yields the same [`Outcome`]s as a [`ChunkStream`] fed the same bytes.
///
/// Guarantees:
/// - Zero-copy: every read goes straight into the parser's buffer ([`ChunkStream::spare`] then
///   [`ChunkStream::commit`]); nothing is copied on the way and nothing is allocated per event
///   once the buffers have grown to the largest event seen.
/// - No batching delay: an outcome is returned as soon as its bytes are in, and the reader is
///   only asked for more when nothing complete is buffered.
/// - At the end of the input the stream is finished, so an event cut short comes out as
///   [`Outcome::Incomplete`] before the final `None`.
///
/// # Example
/// ```
/// use ssechunk::{Accumulator, ChunkReader, Ending, Outcome};
///
/// // Anything that implements `Read`: here a byte slice; a `TcpStream` or a child's
/// // stdout works the same.
/// let body: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n";
/// let mut reader = ChunkReader::new(body);
/// let mut message = Accumulator::new();
/// while let Some(outcome) = reader.next_outcome() {
///     if let Outcome::Event { payload, .. } = outcome? {
///         message.push_payload(&payload);
///     }
/// }
/// assert_eq!(message.choices()[0].content.as_deref(), Some("Hi"));
/// assert_eq!(message.ending(), Ending::Done);
/// # Ok::<(), ssechunk::Error>(())
/// ```
#[derive(Debug)]
pub struct ChunkReader<R> {
    reader: R,
    stream: ChunkStream,
    read_size: usize,
    ended: bool,
}

impl<R: Read> ChunkReader<R> {
    /// Reads from `reader` with the default [`Config`].
    pub fn new(reader: R) -> Self {
        Self::with_config(reader, Config::new())
    }

    /// Reads from `reader` with the given framing settings.
    pub fn with_config(reader: R, config: Config) -> Self {
        Self::with_stream(reader, ChunkStream::with_config(config))
    }

    /// Reads from `reader` into an existing stream, keeping its buffers (and, for a stream that
    /// had finished, its last event ID), as when reconnecting.
    pub fn with_stream(reader: R, stream: ChunkStream) -> Self {
        Self {
            reader,
            stream,
            read_size: DEFAULT_READ_SIZE,
            ended: false,
        }
    }

    /// Sets how many bytes each read asks for ([`DEFAULT_READ_SIZE`] unless set; 0 counts as
    /// 1, and more than [`crate::MAX_READ_SIZE`] as that). The buffer grows to hold the largest
    /// event plus one read.
    pub fn read_size(mut self, bytes: usize) -> Self {
        self.read_size = bytes.clamp(1, crate::MAX_READ_SIZE);
        self
    }

    /// Pulls the next outcome, reading only when nothing complete is buffered. `None` means
    /// the input has ended and everything in it was returned.
    ///
    /// Reads that fail with [`ErrorKind::Interrupted`] are retried.
    ///
    /// # Errors
    /// - [`Error::Io`] when a read fails. That ends the input: the next call returns an
    ///   [`Outcome::Incomplete`] if the failure cut an event short, then `None`. (A reader with
    ///   a read timeout therefore ends at its first timeout.)
    /// - [`Error::EventTooLarge`] as from [`ChunkStream::next_outcome`]; the stream goes on.
    pub fn next_outcome(&mut self) -> Option<Result<Outcome<'_>, Error>> {
        // `ready` tells without borrowing whether an outcome is buffered, so the borrowed
        // outcome is returned from outside the loop, as the borrow checker needs.
        while !self.ended && !self.stream.ready() {
            let room = self.stream.spare(self.read_size);
            match self.reader.read(room) {
                Ok(0) => self.end(),
                Ok(n) => self.stream.commit(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.end();
                    return Some(Err(Error::Io(e)));
                }
            }
        }
        self.stream.next_outcome()
    }

    fn end(&mut self) {
        self.stream.finish();
        self.ended = true;
    }

    /// Whether the input has ended (end of file or a read error); the outcomes still buffered
    /// come out of [`ChunkReader::next_outcome`] all the same.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The stream being fed (its parser holds the last event ID and the retry time).
    pub fn stream(&self) -> &ChunkStream {
        &self.stream
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader, mutably. Reading from it directly skips those bytes.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// The reader and the stream, with whatever the stream still buffers.
    pub fn into_parts(self) -> (R, ChunkStream) {
        (self.reader, self.stream)
    }
}
