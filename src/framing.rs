//! The incremental, zero-copy SSE framing layer.
//!
//! [`Parser`] is a sans-IO state machine: bytes go in with [`Parser::feed`] (or are read straight
//! into its buffer through [`Parser::spare`] and [`Parser::commit`]), frames come out of
//! [`Parser::next_frame`]. It implements the "event stream" interpretation rules of the WHATWG
//! HTML standard byte for byte; the whole state machine is in this file.
//!
//! [`Parser::frames`] takes a read without copying it first: the events that lie wholly inside
//! the read are lent straight out of it, and only what is left in progress at its end (an
//! incomplete line or event) is copied into the parser's buffer.
//!
//! Every byte is scanned once. A line that arrives in many pieces is resumed where the previous
//! scan stopped, so an 8 MiB line in 1460-byte reads costs what it costs in one read.

use std::borrow::Cow;
use std::fmt;

use bytes::{Bytes, BytesMut};
use memchr::memchr;

use crate::{Dialect, Error};

/// Initialised bytes kept after the data of every dispatched event, inside the parser's buffer
/// (not after data that [`Parser::frames`] lends out of the caller's read).
///
/// JSON decoders that read in wide SIMD loads (such as simd-json's `fill_tape_padded`) need this
/// much readable memory past the end of the document.
pub const PADDING: usize = 64;

/// The default limit on the size of one event: 16 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The largest read [`Parser::spare`] hands out room for, in bytes (256 MiB): a read is
/// buffered whole, so a larger one would only hold more memory, and it keeps the buffer's
/// arithmetic far from overflow.
pub const MAX_READ_SIZE: usize = 256 * 1024 * 1024;

/// The smallest buffer the parser grows to: small reads fill it many times before the bytes
/// still needed are moved to its front.
const MIN_BUFFER: usize = 8 * 1024;

/// Settings of a [`Parser`].
///
/// # Example
/// ```
/// use ssechunk::{Config, Parser};
///
/// let parser = Parser::with_config(Config::new().max_event_bytes(1 << 20).comments(true));
/// assert_eq!(parser.config().get_max_event_bytes(), 1 << 20);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    max_event_bytes: usize,
    comments: bool,
    ignored_lines: bool,
    dialect: Option<Dialect>,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// The defaults: events up to [`DEFAULT_MAX_EVENT_BYTES`], comments skipped.
    pub const fn new() -> Self {
        Self {
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            comments: false,
            ignored_lines: false,
            dialect: None,
        }
    }

    /// Sets the largest event the parser buffers, in bytes.
    ///
    /// The size counted is the event's data buffer (every `data` value plus one LF each) plus the
    /// line being parsed, whole (field name included), whether it came in one read or many. The
    /// limit is checked as bytes arrive, so an endless line never holds more than the limit plus
    /// one read. An event that exceeds it is reported once as [`Error::EventTooLarge`], its
    /// remaining lines are discarded up to the next blank line, and the events after it are
    /// parsed normally. A limit of 0 is treated as 1.
    pub const fn max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = if bytes == 0 { 1 } else { bytes };
        self
    }

    /// Whether comment lines (lines starting with `:`) are returned as [`Frame::Comment`].
    ///
    /// Off by default: the rules say comments are ignored. Keep-alive aware clients turn it on.
    pub const fn comments(mut self, yes: bool) -> Self {
        self.comments = yes;
        self
    }

    /// Whether the lines the rules ignore are returned as [`Frame::Ignored`].
    ///
    /// Off by default, and free when off. The rules ignore a field whose name is not `data`,
    /// `event`, `id` or `retry` (a line without a colon is a field name alone), an `id` that
    /// contains NUL, and a `retry` that is not all ASCII digits (WHATWG HTML, "Interpreting an
    /// event stream", "process the field"). Such lines are where some servers put what the
    /// stream would otherwise lose: llama.cpp once sent its errors on an `error:` line, and
    /// a server that refuses a request may answer with a plain JSON body, every line of which
    /// the rules ignore. Comments are not ignored lines (see [`Config::comments`]).
    pub const fn ignored_lines(mut self, yes: bool) -> Self {
        self.ignored_lines = yes;
        self
    }

    /// Whether ignored lines are returned.
    pub const fn get_ignored_lines(&self) -> bool {
        self.ignored_lines
    }

    /// The wire dialect the stream speaks, for the decoding layers above framing
    /// ([`crate::ChunkStream`] and the adapters): `None` (the default) detects it from the
    /// first event that identifies one ([`Dialect::detect`]); the parser itself ignores it.
    pub const fn dialect(mut self, dialect: Option<Dialect>) -> Self {
        self.dialect = dialect;
        self
    }

    /// The dialect fixed, if one is.
    pub const fn get_dialect(&self) -> Option<Dialect> {
        self.dialect
    }

    /// The event size limit in force.
    pub const fn get_max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// Whether comments are returned.
    pub const fn get_comments(&self) -> bool {
        self.comments
    }
}

/// A dispatched event, borrowing from the parser.
///
/// Single-line `data` is a slice of the bytes as they were fed; multi-line `data` was joined with
/// `\n` in place inside the parser's buffer. Nothing is allocated to produce an event.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Event<'buf> {
    data: &'buf [u8],
    event_type: &'buf [u8],
    id: &'buf [u8],
}

impl<'buf> Event<'buf> {
    /// Builds an event from its parts (useful in tests and for callers with their own framing).
    pub const fn new(data: &'buf [u8], event_type: &'buf [u8], id: &'buf [u8]) -> Self {
        Self {
            data,
            event_type,
            id,
        }
    }

    /// The event's data: the `data` field values joined with `\n`, without the final LF.
    pub const fn data(&self) -> &'buf [u8] {
        self.data
    }

    /// The event type: the last `event` field's value, or `message` when none was given.
    pub const fn event_type(&self) -> &'buf [u8] {
        self.event_type
    }

    /// The last event ID as of this event (it persists across events until an `id` field
    /// changes it); empty when none was ever set.
    pub const fn id(&self) -> &'buf [u8] {
        self.id
    }

    /// The data as `&str`.
    ///
    /// # Errors
    /// Returns the UTF-8 error when the data is not valid UTF-8; use
    /// [`Event::data_lossy`] for the text the WHATWG rules define.
    pub fn data_str(&self) -> Result<&'buf str, std::str::Utf8Error> {
        std::str::from_utf8(self.data)
    }

    /// The data decoded as the WHATWG rules decode the stream: every invalid UTF-8 sequence
    /// becomes U+FFFD. Borrows when the data is valid, allocates only when it is not.
    pub fn data_lossy(&self) -> Cow<'buf, str> {
        String::from_utf8_lossy(self.data)
    }

    /// The event type as `&str`, with U+FFFD for invalid UTF-8 (allocates only then).
    pub fn event_type_lossy(&self) -> Cow<'buf, str> {
        String::from_utf8_lossy(self.event_type)
    }

    /// The last event ID as `&str`, with U+FFFD for invalid UTF-8 (allocates only then).
    pub fn id_lossy(&self) -> Cow<'buf, str> {
        String::from_utf8_lossy(self.id)
    }

    /// Whether the event has the default type, `message`.
    pub fn is_message(&self) -> bool {
        self.event_type == b"message"
    }
}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("event_type", &self.event_type_lossy())
            .field("data", &self.data_lossy())
            .field("id", &self.id_lossy())
            .finish()
    }
}

/// What the stream held when it ended in the middle of an event.
///
/// The rules discard such an event; the parser reports it so that nothing is lost silently.
/// Its `Debug` form shows the bytes as escaped byte strings (`b"..."`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Incomplete<'buf> {
    data: Option<&'buf [u8]>,
    line: &'buf [u8],
}

impl<'buf> Incomplete<'buf> {
    /// The data buffer as received so far (values joined with `\n`), or `None` when no complete
    /// `data` line had arrived.
    pub const fn data(&self) -> Option<&'buf [u8]> {
        self.data
    }

    /// The raw bytes of the last line, which had no line end.
    pub const fn line(&self) -> &'buf [u8] {
        self.line
    }
}

/// One outcome of [`Parser::next_frame`].
///
/// Its `Debug` form shows comment and ignored lines as escaped byte strings (`b"..."`), not
/// as lists of numbers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Frame<'buf> {
    /// A dispatched event.
    Event(Event<'buf>),
    /// A comment line's text after the `:` (one leading space removed); only with
    /// [`Config::comments`].
    Comment(&'buf [u8]),
    /// A line the rules ignore (without its line end); only with [`Config::ignored_lines`].
    Ignored(&'buf [u8]),
    /// After [`Parser::finish`]: the stream ended inside an event, which is not dispatched.
    Incomplete(Incomplete<'buf>),
}

/// `bytes` as an escaped byte string, `b"..."`, for `Debug` forms.
pub(crate) struct ByteStr<'a>(pub(crate) &'a [u8]);

impl fmt::Debug for ByteStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

impl fmt::Debug for Incomplete<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incomplete")
            .field("data", &self.data.map(ByteStr))
            .field("line", &ByteStr(self.line))
            .finish()
    }
}

impl fmt::Debug for Frame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Event(event) => f.debug_tuple("Event").field(event).finish(),
            Self::Comment(text) => f.debug_tuple("Comment").field(&ByteStr(text)).finish(),
            Self::Ignored(line) => f.debug_tuple("Ignored").field(&ByteStr(line)).finish(),
            Self::Incomplete(incomplete) => f.debug_tuple("Incomplete").field(incomplete).finish(),
        }
    }
}

/// The index after the line end at `rest[eol]`, when it is an LF, or a CR and the LF after it
/// (Gemini's streams end their lines so): what [`Parser::step`] takes as one line end. A
/// lone CR, or one whose next byte has not arrived, is left to `step`.
#[inline(always)]
fn after_line_end(rest: &[u8], eol: usize) -> Option<usize> {
    match rest.get(eol)? {
        b'\n' => Some(eol + 1),
        b'\r' if rest.get(eol + 1) == Some(&b'\n') => Some(eol + 2),
        _ => None,
    }
}

/// The offset of the first CR or LF in `rest`. Short inputs (a small read, the tail of a line)
/// are scanned eight bytes at a time, where a vector search's setup would cost more than the
/// scan; longer ones go to memchr.
#[inline]
fn line_end(rest: &[u8]) -> Option<usize> {
    if rest.len() >= 64 {
        return crate::search::cr_or_lf(rest);
    }
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut i = 0;
    while let Some(chunk) = rest.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let lf = w ^ (ONES * u64::from(b'\n'));
        let cr = w ^ (ONES * u64::from(b'\r'));
        // Zero bytes after the xor are line ends; borrows only flag bytes above a true one, so
        // the lowest flag is exact.
        let flags = (lf.wrapping_sub(ONES) & !lf | cr.wrapping_sub(ONES) & !cr) & HIGHS;
        if flags != 0 {
            return Some(i + (flags.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    rest[i..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map(|p| i + p)
}

/// Splits a line into its field name and the offset of its value (after the colon and one
/// optional space); `None` for a comment. A line without a colon is a name with an empty
/// value.
#[inline]
fn split_field(line: &[u8]) -> Option<(&[u8], usize)> {
    // Nearly every line of an LLM stream is `data: ...` or `event: ...`: skip the search for
    // their colon.
    let colon = if line.starts_with(b"data:") {
        Some(4)
    } else if line.starts_with(b"event:") {
        Some(5)
    } else {
        memchr(b':', line)
    };
    let (name, mut value) = match colon {
        Some(0) => return None,
        Some(colon) => (&line[..colon], colon + 1),
        None => (line, line.len()),
    };
    if line.get(value) == Some(&b' ') {
        value += 1;
    }
    Some((name, value))
}

/// The field name and value of `line` when it is a line the rules ignore (see
/// [`Config::ignored_lines`]); `None` for a blank line, a comment or a field the rules take.
pub(crate) fn ignored_field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    if line.is_empty() {
        return None;
    }
    let (name, value) = split_field(line)?;
    let value = &line[value..];
    let taken = match name {
        b"data" | b"event" => true,
        b"id" => memchr(0, value).is_none(),
        b"retry" => !value.is_empty() && value.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    (!taken).then_some((name, value))
}

/// Applies an `id` value: taken (and the last event ID set) unless it holds NUL.
#[inline]
fn take_id(last_id: &mut Vec<u8>, id: &[u8]) -> bool {
    let taken = memchr(0, id).is_none();
    if taken {
        last_id.clear();
        last_id.extend_from_slice(id);
    }
    taken
}

/// Applies a `retry` value: taken when it is all ASCII digits (and not empty); the time
/// saturates at `u64::MAX`.
#[inline]
fn take_retry(retry: &mut Option<u64>, digits: &[u8]) -> bool {
    let taken = !digits.is_empty() && digits.iter().all(u8::is_ascii_digit);
    if taken {
        let ms = digits.iter().fold(0u64, |n, d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
        *retry = Some(ms);
    }
    taken
}

/// What the scanner found; turned into a borrowed [`Frame`] once the loop has ended.
enum Found {
    Event,
    Comment(usize, usize),
    Ignored(usize, usize),
    Incomplete,
    TooLarge,
    NeedMore,
}

/// The incremental SSE parser.
///
/// # Example
/// ```
/// use ssechunk::{Frame, Parser};
///
/// let mut parser = Parser::new();
/// let mut seen = Vec::new();
/// for piece in [&b"data: hel"[..], b"lo\n", b"\ndata: [DONE]\n\n"] {
///     parser.feed(piece);
///     while let Some(frame) = parser.next_frame() {
///         if let Ok(Frame::Event(event)) = frame {
///             seen.push(event.data_str().unwrap().to_owned());
///         }
///     }
/// }
/// parser.finish();
/// assert!(parser.next_frame().is_none());
/// assert_eq!(seen, ["hello", "[DONE]"]);
/// ```
pub struct Parser {
    config: Config,
    /// `buf[..end]` holds input; `buf.len() >= end + PADDING`, so the bytes after any event's
    /// data are initialised, except after [`Parser::release`] with nothing kept, when the
    /// buffer is empty and `end` is 0 (no event can be dispatched before input comes, and
    /// input goes through [`Parser::spare`], which pads it again).
    buf: Vec<u8>,
    end: usize,
    /// Start of the line being scanned and where its scan resumes.
    line_start: usize,
    scan: usize,
    /// The data buffer of the event being built, `buf[data_start..data_end]`, without its
    /// final LF. `has_data` tells an empty data buffer from one holding `""`.
    has_data: bool,
    data_start: usize,
    data_end: usize,
    event_type: EventType,
    last_id: Vec<u8>,
    retry: Option<u64>,
    /// The previous line ended with a CR at the end of the input seen so far.
    skip_lf: bool,
    /// No byte of the stream has been looked at yet (a BOM may follow).
    at_start: bool,
    /// Inside an oversized event: lines are dropped up to the next blank line.
    discarding: bool,
    /// While discarding: the current line had bytes that were already dropped.
    dropped_line_bytes: bool,
    /// The last frame returned was an event, whose type is cleared before the next step.
    dispatched: bool,
    eof: bool,
    end_reported: bool,
    /// A frame found by [`Parser::ready`] and not yet returned.
    found: Option<Found>,
    /// The length of the slice the last [`Parser::spare`] returned, not yet committed.
    spare_len: usize,
}

/// The event type field of the event being built. Cleared, it keeps its bytes: the next
/// event of a stream usually has the same type, which then needs no copy.
#[derive(Default)]
struct EventType {
    bytes: Vec<u8>,
    set: bool,
}

impl EventType {
    /// No type: the event is a `message`.
    #[inline]
    fn clear(&mut self) {
        self.set = false;
    }

    #[inline]
    fn set(&mut self, value: &[u8]) {
        if self.bytes != value {
            self.bytes.clear();
            self.bytes.extend_from_slice(value);
        }
        self.set = true;
    }

    /// The type, empty when none was set.
    #[inline]
    fn get(&self) -> &[u8] {
        if self.set { &self.bytes } else { &[] }
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.get().is_empty()
    }

    fn shrink_to_fit(&mut self) {
        if !self.set {
            self.bytes = Vec::new();
        }
        self.bytes.shrink_to_fit();
    }
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Parser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parser")
            .field("config", &self.config)
            .field("buffered", &(self.end - self.line_start))
            .field("last_event_id", &String::from_utf8_lossy(&self.last_id))
            .field("retry", &self.retry)
            .field("discarding", &self.discarding)
            .field("finished", &self.eof)
            .finish_non_exhaustive()
    }
}

impl Parser {
    /// A parser with the default [`Config`].
    pub fn new() -> Self {
        Self::with_config(Config::new())
    }

    /// A parser with the given settings.
    pub fn with_config(config: Config) -> Self {
        Self {
            config,
            buf: Vec::new(),
            end: 0,
            line_start: 0,
            scan: 0,
            has_data: false,
            data_start: 0,
            data_end: 0,
            event_type: EventType::default(),
            last_id: Vec::new(),
            retry: None,
            skip_lf: false,
            at_start: true,
            discarding: false,
            dropped_line_bytes: false,
            dispatched: false,
            eof: false,
            end_reported: false,
            found: None,
            spare_len: 0,
        }
    }

    /// The settings this parser was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The last event ID (the value of the last `id` field without NUL); empty when none was set.
    ///
    /// A client that reconnects sends it as the `Last-Event-ID` header.
    pub fn last_event_id(&self) -> &[u8] {
        &self.last_id
    }

    /// The reconnection time in milliseconds from the last valid `retry` field, if any.
    ///
    /// Values too large for `u64` saturate to `u64::MAX`.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Bytes held for the event and line in progress (and any input not yet pulled).
    pub fn buffered(&self) -> usize {
        let line = self.end - self.line_start;
        if self.has_data {
            line + (self.data_end - self.data_start)
        } else {
            line
        }
    }

    /// Appends input. Pull the frames it completes with [`Parser::next_frame`] before feeding
    /// more: the buffer holds whatever has not been pulled yet.
    ///
    /// Feeding after [`Parser::finish`] starts a new stream (as after a reconnection): the
    /// buffered state is cleared, and the last event ID and retry time are kept.
    #[inline]
    pub fn feed(&mut self, input: &[u8]) {
        self.spare(input.len()).copy_from_slice(input);
        self.commit(input.len());
    }

    /// Appends input held in a `BytesMut`, adopting its allocation without copying the bytes
    /// when the parser holds nothing in progress and the buffer is uniquely owned with room for
    /// [`PADDING`]; otherwise the bytes are copied as by [`Parser::feed`].
    pub fn feed_bytes_mut(&mut self, input: BytesMut) {
        self.restart_if_finished();
        if matches!(self.found, Some(Found::NeedMore)) {
            self.found = None;
        }
        // Even empty, an event's data buffer is a position in the current buffer.
        let idle = self.found.is_none() && self.buffered() == 0 && !self.has_data;
        if idle && input.capacity() - input.len() >= PADDING {
            let mut vec = Vec::from(input);
            if vec.capacity() - vec.len() >= PADDING {
                self.end = vec.len();
                vec.resize(self.end + PADDING, 0);
                self.buf = vec;
                self.line_start = 0;
                self.scan = 0;
                return;
            }
            self.feed(&vec);
        } else {
            self.feed(&input);
        }
    }

    /// Appends input held in `Bytes`: adopted as by [`Parser::feed_bytes_mut`] when it is the
    /// only handle to its buffer, copied otherwise.
    pub fn feed_bytes(&mut self, input: Bytes) {
        match input.try_into_mut() {
            Ok(owned) => self.feed_bytes_mut(owned),
            Err(shared) => self.feed(&shared),
        }
    }

    /// Takes one read and returns its frames, lending them straight out of `input` where it can.
    ///
    /// The result is the same as [`Parser::feed`] followed by [`Parser::next_frame`] until
    /// `None`, frame for frame and in every state it leaves behind (the event or line in
    /// progress, the last event ID, the retry time), however the stream is cut into reads. The
    /// difference is the copy: `feed` copies the whole read into the parser's buffer before
    /// framing it, while here an event that lies wholly inside `input` (its fields, and its
    /// data when it came in one `data` line) is lent from `input` itself, and only what is
    /// still in progress at the end of the read (an incomplete line or event) is copied into
    /// the buffer, to be completed by the next read. Multi-line data is joined in the parser's
    /// buffer as `feed` joins it, and an event begun in an earlier read is completed there.
    ///
    /// Frames still waiting in the buffer (input fed but not pulled) come out first. Dropping
    /// the [`Frames`] before it returned `None` hands the rest of `input` to the buffer, as
    /// `feed` would have: the frames not pulled then come out of [`Parser::next_frame`].
    ///
    /// An event's data lent from `input` has no [`PADDING`] after it: a decoder that reads past
    /// the end of the data needs the data copied, or [`Parser::feed`].
    ///
    /// # Example
    /// ```
    /// use ssechunk::{Frame, Parser};
    ///
    /// let mut parser = Parser::new();
    /// let mut seen = Vec::new();
    /// for read in [&b"data: one\n\ndata: tw"[..], b"o\n\ndata: three\n\n"] {
    ///     let mut frames = parser.frames(read);
    ///     while let Some(frame) = frames.next_frame() {
    ///         if let Ok(Frame::Event(event)) = frame {
    ///             seen.push(event.data_str().unwrap().to_owned());
    ///         }
    ///     }
    /// }
    /// parser.finish();
    /// assert!(parser.next_frame().is_none());
    /// assert_eq!(seen, ["one", "two", "three"]);
    /// ```
    #[inline]
    pub fn frames<'p, 'i>(&'p mut self, input: &'i [u8]) -> Frames<'p, 'i> {
        self.restart_if_finished();
        self.spare_len = 0;
        // A small read in the middle of a line, the common case of small reads: it all goes
        // to the buffer, where the line is, and the parser takes it from there.
        let mut pos = 0;
        if input.len() < 64 && self.line_start < self.end && line_end(input).is_none() {
            self.feed(input);
            pos = input.len();
        }
        Frames {
            parser: self,
            input,
            pos,
            lending: false,
            data: None,
            event_type: None,
            dispatched: false,
        }
    }

    /// Whether nothing of the stream is held in the buffer but positions: no input left to
    /// scan, no line or data in progress, no frame found and not yet returned. [`Frames`]
    /// then reads lines straight out of its input.
    #[inline]
    fn holds_nothing(&self) -> bool {
        matches!(self.found, None | Some(Found::NeedMore))
            && self.line_start == self.end
            && !self.has_data
            && !self.dropped_line_bytes
            && !self.eof
    }

    /// Whether every byte of the buffer has been scanned and no frame found waits: then
    /// [`Parser::step`] would find nothing without more input.
    #[inline]
    fn scanned_all(&self) -> bool {
        matches!(self.found, None | Some(Found::NeedMore)) && self.scan == self.end && !self.eof
    }

    /// Room for `n` more bytes after `end`, with [`PADDING`] after them.
    #[inline]
    fn reserve(&mut self, n: usize) {
        let need = self.end + n + PADDING;
        if self.buf.len() < need {
            self.buf.resize(need.max(MIN_BUFFER), 0);
        }
    }

    /// Starts the data buffer with `value`, copied to the front of the buffer, which holds
    /// nothing else the stream needs.
    fn adopt_data(&mut self, value: &[u8]) {
        debug_assert!(!self.has_data && self.line_start == self.end);
        self.end = 0;
        self.reserve(value.len());
        self.buf[..value.len()].copy_from_slice(value);
        self.has_data = true;
        self.data_start = 0;
        self.data_end = value.len();
        self.end = value.len();
        self.line_start = self.end;
        self.scan = self.end;
    }

    /// Appends an LF and `value` to the data buffer, which ends the buffer's contents.
    fn join_data(&mut self, value: &[u8]) {
        debug_assert!(self.has_data && self.data_end == self.end && self.line_start == self.end);
        self.reserve(1 + value.len());
        self.buf[self.end] = b'\n';
        self.buf[self.end + 1..self.end + 1 + value.len()].copy_from_slice(value);
        self.data_end += 1 + value.len();
        self.end = self.data_end;
        self.line_start = self.end;
        self.scan = self.end;
    }

    /// Returns `n` writable bytes at the end of the input, for reading straight into the
    /// parser's buffer; declare what was written with [`Parser::commit`]. A larger `n` than
    /// [`MAX_READ_SIZE`] is cut to it (the slice's length says how much was given).
    ///
    /// # Example
    /// ```
    /// use std::io::Read;
    /// use ssechunk::{Frame, Parser};
    ///
    /// let mut reader: &[u8] = b"data: x\n\n";
    /// let mut parser = Parser::new();
    /// let n = reader.read(parser.spare(4096)).unwrap();
    /// parser.commit(n);
    /// assert!(matches!(parser.next_frame(), Some(Ok(Frame::Event(e))) if e.data() == b"x"));
    /// ```
    #[inline]
    pub fn spare(&mut self, n: usize) -> &mut [u8] {
        let n = n.min(MAX_READ_SIZE);
        self.restart_if_finished();
        // A frame found by `ready` points into the buffer as it is: it stays in place. Else
        // new input may complete a frame, so `ready` must look again.
        let keep = matches!(self.found, Some(ref found) if !matches!(found, Found::NeedMore));
        if !keep {
            self.found = None;
            // Nothing kept (every byte consumed): new input goes to the front again, so that
            // a stream fed whole events writes the same few cache lines each time.
            if self.line_start == self.end && !self.has_data {
                self.line_start = 0;
                self.scan = 0;
                self.end = 0;
            }
        }
        if self.buf.len() < self.end + n + PADDING {
            self.make_room(n, keep);
        }
        self.spare_len = n;
        &mut self.buf[self.end..self.end + n]
    }

    /// Out of room for `n` more bytes: the consumed bytes make room first (unless a found
    /// frame must `keep` its place), then the buffer grows, to at least `MIN_BUFFER` so that
    /// small reads rarely come back here.
    #[inline(never)]
    fn make_room(&mut self, n: usize, keep: bool) {
        if !keep {
            self.compact();
        }
        let need = self.end + n + PADDING;
        if self.buf.len() < need {
            self.buf.resize(need.max(MIN_BUFFER), 0);
        }
    }

    /// Declares that `n` bytes were written at the start of [`Parser::spare`]'s slice.
    ///
    /// `n` is clamped to the length of that slice (and a second commit without a new
    /// [`Parser::spare`] commits nothing), so a wrong count never takes in stale bytes or
    /// panics.
    #[inline]
    pub fn commit(&mut self, n: usize) {
        self.end += n.min(self.spare_len);
        self.spare_len = 0;
    }

    /// Marks the end of the input. The frames still buffered come out of
    /// [`Parser::next_frame`], then, if the stream ended inside an event, one
    /// [`Frame::Incomplete`], then `None`.
    pub fn finish(&mut self) {
        self.eof = true;
        if matches!(self.found, Some(Found::NeedMore)) {
            self.found = None;
        }
    }

    /// Whether [`Parser::finish`] was called (and no input came after it).
    pub fn is_finished(&self) -> bool {
        self.eof
    }

    /// Forgets the stream in progress, keeping the last event ID and retry time, as a client
    /// does when it reconnects.
    pub fn reset(&mut self) {
        self.end = 0;
        self.line_start = 0;
        self.scan = 0;
        self.has_data = false;
        self.event_type.clear();
        self.skip_lf = false;
        self.at_start = true;
        self.discarding = false;
        self.dropped_line_bytes = false;
        self.dispatched = false;
        self.eof = false;
        self.end_reported = false;
        self.found = None;
    }

    /// Gives back the memory of the input buffer, keeping what the stream still needs.
    ///
    /// For a stream that went quiet. Between events, with every frame pulled, the buffer
    /// holds nothing the stream needs and is freed whole; the parser keeps only its own
    /// fields, the last event ID and the event type being built. Bytes still needed (an
    /// event or line in progress, input not pulled yet) are kept in a buffer of their size
    /// plus [`PADDING`]. Frames, the parse state, the last event ID and the retry time are
    /// unchanged; a frame that [`Parser::ready`] found and that was not pulled yet keeps
    /// the buffer as it is. A [`Parser::spare`] slice not yet committed is forgotten.
    ///
    /// The cost is on the next input: one allocation of the buffer again (at least 8 KiB,
    /// zero-filled), and a copy of the bytes kept. Release streams that are idle, not after
    /// every event of a busy one, where framing would then allocate per event.
    ///
    /// # Example
    /// ```
    /// use ssechunk::{Frame, Parser};
    ///
    /// let mut parser = Parser::new();
    /// parser.feed(b"data: one\n\ndata: tw");
    /// assert!(matches!(parser.next_frame(), Some(Ok(Frame::Event(_)))));
    /// assert!(parser.next_frame().is_none());
    /// parser.release(); // keeps `data: tw`
    /// assert_eq!(parser.buffered(), 8);
    /// parser.feed(b"o\n\n");
    /// assert!(matches!(parser.next_frame(), Some(Ok(Frame::Event(e))) if e.data() == b"two"));
    /// ```
    pub fn release(&mut self) {
        self.spare_len = 0;
        if matches!(self.found, Some(ref found) if !matches!(found, Found::NeedMore)) {
            return;
        }
        self.compact();
        if self.end == 0 {
            // Nothing kept (an empty data buffer is a position, 0 here): no bytes to pad.
            self.buf = Vec::new();
        } else {
            self.buf.truncate(self.end + PADDING);
            self.buf.shrink_to_fit();
        }
        self.event_type.shrink_to_fit();
        self.last_id.shrink_to_fit();
    }

    /// Pulls the next frame.
    ///
    /// `None` means that more input is needed (or, after [`Parser::finish`], that the stream is
    /// over). An `Err` reports an event over the size limit; parsing goes on after it.
    ///
    /// # Errors
    /// [`Error::EventTooLarge`] once per oversized event.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, Error>> {
        if self.found.is_none() && self.still_mid_line() {
            return None;
        }
        self.frame()
    }

    /// [`Parser::next_frame`] past its quick check.
    fn frame(&mut self) -> Option<Result<Frame<'_>, Error>> {
        let found = match self.found.take() {
            Some(found) => found,
            None => self.step(),
        };
        match found {
            Found::Event => {
                self.dispatched = true;
                let data = &self.buf[self.data_start..self.data_end];
                self.has_data = false;
                let event_type = if self.event_type.is_empty() {
                    &b"message"[..]
                } else {
                    self.event_type.get()
                };
                Some(Ok(Frame::Event(Event {
                    data,
                    event_type,
                    id: &self.last_id,
                })))
            }
            Found::Comment(a, b) => Some(Ok(Frame::Comment(&self.buf[a..b]))),
            Found::Ignored(a, b) => Some(Ok(Frame::Ignored(&self.buf[a..b]))),
            Found::Incomplete => {
                let data = self
                    .has_data
                    .then(|| &self.buf[self.data_start..self.data_end]);
                Some(Ok(Frame::Incomplete(Incomplete {
                    data,
                    line: &self.buf[self.line_start..self.end],
                })))
            }
            Found::TooLarge => Some(Err(Error::EventTooLarge {
                limit: self.config.max_event_bytes,
            })),
            Found::NeedMore => None,
        }
    }

    /// Whether [`Parser::next_frame`] has a frame to return, without returning it.
    ///
    /// Adapters that read more input until a frame is ready use it: returning a borrowed frame
    /// from inside their read loop is what the borrow checker cannot accept.
    pub fn ready(&mut self) -> bool {
        if self.found.is_none() && self.still_mid_line() {
            return false;
        }
        if self.found.is_none() {
            self.found = Some(self.step());
        }
        !matches!(self.found, Some(Found::NeedMore))
    }

    /// The common case of a small read in the middle of a line, answered without entering
    /// [`Parser::step`]: true when the unread bytes (fewer than 64, maybe none) hold no line
    /// end and the line in progress is within the limit, exactly when `step` would find
    /// nothing.
    #[inline(always)]
    fn still_mid_line(&mut self) -> bool {
        if self.dispatched || self.at_start || self.skip_lf || self.discarding || self.eof {
            return false;
        }
        let rest = &self.buf[self.scan..self.end];
        if rest.len() >= 64 || line_end(rest).is_some() {
            return false;
        }
        if self.data_size() + (self.end - self.line_start) > self.config.max_event_bytes {
            return false;
        }
        self.scan = self.end;
        true
    }

    /// The state machine: consumes lines until one yields a frame or the input runs out.
    fn step(&mut self) -> Found {
        if self.dispatched {
            self.dispatched = false;
            self.event_type.clear();
        }
        if let Some(found) = self.whole_event() {
            return found;
        }
        loop {
            if self.at_start {
                let have = &self.buf[self.scan..self.end];
                if have.len() < BOM.len() && BOM.starts_with(have) && !self.eof {
                    return Found::NeedMore;
                }
                if have.starts_with(BOM) {
                    self.scan += BOM.len();
                    self.line_start = self.scan;
                }
                self.at_start = false;
            }
            if self.skip_lf && self.scan < self.end {
                self.skip_lf = false;
                if self.buf[self.scan] == b'\n' {
                    self.scan += 1;
                    self.line_start = self.scan;
                }
            }
            let rest = &self.buf[self.scan..self.end];
            // Every event ends with a blank line: find it without a search.
            let eol = if let Some(b'\n' | b'\r') = rest.first() {
                self.scan
            } else if let Some(off) = line_end(rest) {
                self.scan + off
            } else {
                return self.out_of_input();
            };
            let mut next = eol + 1;
            if self.buf[eol] == b'\r' {
                if next == self.end {
                    self.skip_lf = true;
                } else if self.buf[next] == b'\n' {
                    next += 1;
                }
            }
            let (start, blank) = (self.line_start, eol == self.line_start);
            self.line_start = next;
            self.scan = next;

            if self.discarding {
                if blank && !self.dropped_line_bytes {
                    self.discarding = false;
                    self.event_type.clear();
                }
                self.dropped_line_bytes = false;
                continue;
            }
            if blank {
                if self.has_data {
                    return Found::Event;
                }
                self.event_type.clear();
                continue;
            }
            // Counted as `out_of_input` counts a line still arriving, so that where the reads
            // fell cannot change the outcome.
            if self.data_size() + (eol - start) > self.config.max_event_bytes {
                self.start_discarding(false);
                return Found::TooLarge;
            }
            if let Some(found) = self.field(start, eol) {
                return found;
            }
        }
    }

    /// Where the data of the next event begins in [`Parser::unread`], when that event opens
    /// with the last event's `event` line again and a `data` line (the common case of a
    /// stream of deltas): with the most data that line may hold within the size limit. The
    /// caller finds where the data ends (see [`Parser::take_repeat`]); `None` when the
    /// parser is not at the start of such an event with nothing pending.
    #[inline]
    pub(crate) fn repeat_start(&self) -> Option<(usize, usize)> {
        if self.found.is_some() || !self.at_event_start() || self.event_type.bytes.is_empty() {
            return None;
        }
        let rest = &self.buf[self.scan..self.end];
        let eol = self.same_type_line(rest)?;
        if rest.get(eol..eol + 6) != Some(b"\ndata:") {
            return None;
        }
        let limit = self.config.max_event_bytes;
        let at = eol + 1;
        let data = at + 5 + usize::from(rest.get(at + 5) == Some(&b' '));
        // The limit holds each line's bytes before its line end (see `step`).
        (eol <= limit && data - at <= limit).then(|| (data, limit - (data - at)))
    }

    /// Whether the parser is at a line start with no data, nothing being discarded and no
    /// BOM or CR pending: where a whole event may be taken in one pass.
    #[inline]
    fn at_event_start(&self) -> bool {
        !(self.has_data
            || self.discarding
            || self.at_start
            || self.skip_lf
            || self.line_start != self.scan)
    }

    /// The end of the `event` line that opens `rest`, when it is an LF-ended line of the last
    /// event's type (the type's bytes hold no line end, so no search is needed).
    #[inline]
    fn same_type_line(&self, rest: &[u8]) -> Option<usize> {
        if !rest.starts_with(b"event:") {
            return None;
        }
        let last = &self.event_type.bytes;
        let value = 6 + usize::from(rest.get(6) == Some(&b' '));
        let eol = value + last.len();
        (rest.get(eol) == Some(&b'\n') && rest[value..eol] == last[..]).then_some(eol)
    }

    /// The bytes not yet taken.
    #[inline]
    pub(crate) fn unread(&self) -> &[u8] {
        &self.buf[self.scan..self.end]
    }

    /// The event type of the last event's `event` line (what [`Parser::repeat_start`]
    /// matched).
    #[inline]
    pub(crate) fn repeated_type(&self) -> &[u8] {
        &self.event_type.bytes
    }

    /// Takes the event [`Parser::repeat_start`] found, whose data the caller found to be the
    /// `len` bytes at `data` in [`Parser::unread`], followed by LF LF (its line end and the
    /// blank line), with no CR or LF inside: the event the line-by-line rules give for
    /// those bytes.
    #[inline]
    pub(crate) fn take_repeat(&mut self, data: usize, len: usize) -> Event<'_> {
        self.dispatched = true;
        self.event_type.set = true;
        let start = self.scan + data;
        self.line_start = start + len + 2;
        self.scan = self.line_start;
        Event {
            data: &self.buf[start..start + len],
            event_type: &self.event_type.bytes,
            id: &self.last_id,
        }
    }

    /// The common event of an LLM stream, `event: <type>` (optional), `data: <data>` and a
    /// blank line, each ended by an LF or a CR LF, taken in one pass when all of it is in the
    /// buffer and [`Parser::step`]'s loop would take it line by line with the same result: at
    /// a line start, with no data yet and nothing being discarded, each line within the size
    /// limit. `None` (nothing changed) otherwise; the loop then decides.
    #[inline]
    fn whole_event(&mut self) -> Option<Found> {
        if !self.at_event_start() {
            return None;
        }
        let rest = &self.buf[self.scan..self.end];
        let limit = self.config.max_event_bytes;
        // Each line as `step` measures it against the limit: its bytes before the line end.
        let mut typed = None;
        let mut at = 0;
        if rest.starts_with(b"event:") {
            let value = 6 + usize::from(rest.get(6) == Some(&b' '));
            // The type of the last event again (its bytes hold no line end) needs no search.
            let (eol, same) = match self.same_type_line(rest) {
                Some(eol) => (eol, true),
                None => (line_end(rest)?, false),
            };
            if eol > limit {
                return None;
            }
            typed = Some((value.min(eol), eol, same));
            at = after_line_end(rest, eol)?;
        }
        let line = &rest[at..];
        if !line.starts_with(b"data:") {
            return None;
        }
        let eol = at + line_end(line)?;
        if eol - at > limit {
            return None;
        }
        // The blank line: a line end right after the data line's.
        let end = after_line_end(rest, after_line_end(rest, eol)?)?;
        let value = (at + 5 + usize::from(rest[at + 5] == b' ')).min(eol);
        let base = self.scan;
        match typed {
            Some((_, _, true)) => self.event_type.set = true,
            Some((start, end, false)) => self.event_type.set(&self.buf[base + start..base + end]),
            None => {}
        }
        self.has_data = true;
        self.data_start = base + value;
        self.data_end = base + eol;
        self.line_start = base + end;
        self.scan = self.line_start;
        Some(Found::Event)
    }

    /// Applies one non-blank line `buf[start..eol]`.
    fn field(&mut self, start: usize, eol: usize) -> Option<Found> {
        let Some((name, value)) = split_field(&self.buf[start..eol]) else {
            if !self.config.comments {
                return None;
            }
            let line = &self.buf[start..eol];
            let skip = 1 + usize::from(line.get(1) == Some(&b' '));
            return Some(Found::Comment(start + skip, eol));
        };
        let value = start + value;
        let taken = match name {
            b"data" => {
                self.append_data(value, eol);
                true
            }
            b"event" => {
                self.event_type.set(&self.buf[value..eol]);
                true
            }
            b"id" => take_id(&mut self.last_id, &self.buf[value..eol]),
            b"retry" => take_retry(&mut self.retry, &self.buf[value..eol]),
            _ => false,
        };
        (!taken && self.config.ignored_lines).then_some(Found::Ignored(start, eol))
    }

    /// Appends `buf[value..eol]` to the data buffer, joining in place.
    fn append_data(&mut self, value: usize, eol: usize) {
        if self.has_data {
            // The joined data only ever shrinks toward the front: the LF goes where the
            // previous line's terminator (or a later byte) was, and the value moves left.
            self.buf[self.data_end] = b'\n';
            self.buf.copy_within(value..eol, self.data_end + 1);
            self.data_end += 1 + (eol - value);
        } else {
            self.has_data = true;
            self.data_start = value;
            self.data_end = eol;
        }
        // No limit check here: `step` checked the whole line, which is longer than what it
        // adds to the data buffer.
    }

    /// Called when no line end is left in the buffer.
    fn out_of_input(&mut self) -> Found {
        self.scan = self.end;
        let line = self.end - self.line_start;
        if self.discarding {
            if line > 0 {
                self.dropped_line_bytes = true;
                self.line_start = self.end;
            }
        } else if self.data_size() + line > self.config.max_event_bytes {
            self.start_discarding(line > 0);
            return Found::TooLarge;
        }
        if !self.eof || self.end_reported {
            return Found::NeedMore;
        }
        self.end_reported = true;
        if !self.discarding && (self.has_data || line > 0) {
            Found::Incomplete
        } else {
            Found::NeedMore
        }
    }

    /// The size of the data buffer as the limit counts it: with the LF after the last value.
    fn data_size(&self) -> usize {
        if self.has_data {
            self.data_end - self.data_start + 1
        } else {
            0
        }
    }

    fn start_discarding(&mut self, mid_line: bool) {
        self.discarding = true;
        self.has_data = false;
        self.event_type.clear();
        self.dropped_line_bytes = mid_line;
        if mid_line {
            self.line_start = self.end;
            self.scan = self.end;
        }
    }

    /// New input after [`Parser::finish`] starts a new stream.
    #[inline]
    fn restart_if_finished(&mut self) {
        if self.eof {
            self.reset();
        }
    }

    /// Moves the retained bytes (the data buffer, then the line in progress and any unread
    /// input) to the front of the buffer. Each byte moves at most once per event, so the cost
    /// stays linear in the input.
    fn compact(&mut self) {
        if self.dispatched {
            self.dispatched = false;
            self.event_type.clear();
        }
        let mut to = 0;
        if self.has_data {
            let len = self.data_end - self.data_start;
            if self.data_start > 0 {
                self.buf.copy_within(self.data_start..self.data_end, 0);
            }
            self.data_start = 0;
            self.data_end = len;
            to = len;
        }
        if self.line_start > to {
            let shift = self.line_start - to;
            self.buf.copy_within(self.line_start..self.end, to);
            self.line_start = to;
            self.scan -= shift;
            self.end -= shift;
        }
    }
}

/// The frames of one read, from [`Parser::frames`]: pull them with [`Frames::next_frame`].
///
/// Frames borrow from the read or from the parser, so each lives until the next call.
pub struct Frames<'p, 'i> {
    parser: &'p mut Parser,
    input: &'i [u8],
    /// Lending: where the next line starts in `input`. Otherwise: the first byte of `input`
    /// not yet handed to the parser's buffer.
    pos: usize,
    /// Lines are read straight out of `input`; otherwise the parser's buffer is fed one line
    /// at a time until it holds nothing in progress.
    lending: bool,
    /// While lending: the data of the event in progress, `input[a..b]`, when it is one `data`
    /// line of this read (joined data is in the parser's buffer).
    data: Option<(usize, usize)>,
    /// While lending: the last `event` value of the event in progress, `input[a..b]`, when it
    /// came in this read (else the parser's own event type holds).
    event_type: Option<(usize, usize)>,
    /// The last frame returned was a lent event: its type is cleared before the next line.
    dispatched: bool,
}

impl fmt::Debug for Frames<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frames")
            .field("parser", &self.parser)
            .field("unread", &(self.input.len() - self.pos))
            .field("lending", &self.lending)
            .finish_non_exhaustive()
    }
}

impl Frames<'_, '_> {
    /// Pulls the next frame: as [`Parser::next_frame`], over the parser's input and this read.
    ///
    /// `None` means that the read is used up (what is left in progress is in the parser's
    /// buffer). An `Err` reports an event over the size limit; parsing goes on after it.
    ///
    /// # Errors
    /// [`Error::EventTooLarge`] once per oversized event.
    #[allow(clippy::should_implement_trait)]
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, Error>> {
        loop {
            if self.lending {
                if self.dispatched {
                    self.dispatched = false;
                    self.event_type = None;
                    self.parser.event_type.clear();
                }
                let (input, pos) = (self.input, self.pos);
                let rest = &input[pos..];
                // Every event ends with a blank line: find it without a search.
                let eol = if let Some(b'\n' | b'\r') = rest.first() {
                    pos
                } else if let Some(off) = line_end(rest) {
                    pos + off
                } else {
                    // The rest is a line still arriving: the buffer keeps it.
                    self.spill();
                    continue;
                };
                let mut next = eol + 1;
                if input[eol] == b'\r' {
                    if next == input.len() {
                        self.parser.skip_lf = true;
                    } else if input[next] == b'\n' {
                        next += 1;
                    }
                }
                self.pos = next;
                let blank = eol == pos;
                let p = &mut *self.parser;
                if p.discarding {
                    // Every line here is whole: none had bytes dropped.
                    if blank {
                        p.discarding = false;
                        self.event_type = None;
                        p.event_type.clear();
                    }
                    continue;
                }
                if blank {
                    if self.data.is_some() || p.has_data {
                        self.dispatched = true;
                        return Some(Ok(Frame::Event(self.event())));
                    }
                    self.event_type = None;
                    p.event_type.clear();
                    continue;
                }
                if self.data_size() + (eol - pos) > self.parser.config.max_event_bytes {
                    self.data = None;
                    self.event_type = None;
                    self.parser.start_discarding(false);
                    return Some(Err(Error::EventTooLarge {
                        limit: self.parser.config.max_event_bytes,
                    }));
                }
                if let Some((a, b, comment)) = self.field(pos, eol) {
                    let text = &self.input[a..b];
                    return Some(Ok(if comment {
                        Frame::Comment(text)
                    } else {
                        Frame::Ignored(text)
                    }));
                }
            } else {
                // All of the read is in the buffer: the parser has the rest.
                if self.pos == self.input.len() {
                    return self.parser.next_frame();
                }
                // Frames waiting in the buffer come first.
                if !self.parser.scanned_all() && self.parser.ready() {
                    return self.parser.next_frame();
                }
                if self.start_lending() {
                    continue;
                }
                // Something is in progress in the buffer: complete it there, a line at a time.
                let rest = &self.input[self.pos..];
                let cut = match line_end(rest) {
                    Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => i + 2,
                    Some(i) => i + 1,
                    None => rest.len(),
                };
                self.parser.feed(&rest[..cut]);
                self.pos += cut;
            }
        }
    }

    /// The event being dispatched, lent from the input or (joined data) the buffer. Its data
    /// buffer is emptied.
    #[inline]
    fn event(&mut self) -> Event<'_> {
        let p = &mut *self.parser;
        let data = match self.data.take() {
            Some((a, b)) => &self.input[a..b],
            None => {
                p.has_data = false;
                &p.buf[p.data_start..p.data_end]
            }
        };
        let event_type = match self.event_type {
            Some((a, b)) if a < b => &self.input[a..b],
            Some(_) => &b"message"[..],
            None if p.event_type.is_empty() => &b"message"[..],
            None => p.event_type.get(),
        };
        Event {
            data,
            event_type,
            id: &p.last_id,
        }
    }

    /// The size of the data buffer as the limit counts it (see [`Parser::data_size`]).
    #[inline]
    fn data_size(&self) -> usize {
        match self.data {
            Some((a, b)) => b - a + 1,
            None => self.parser.data_size(),
        }
    }

    /// Applies the non-blank line `input[start..eol]`, as [`Parser::field`] does; returns the
    /// span of a comment's text (`true`) or of an ignored line (`false`) to return.
    #[inline]
    fn field(&mut self, start: usize, eol: usize) -> Option<(usize, usize, bool)> {
        let input = self.input;
        let p = &mut *self.parser;
        let line = &input[start..eol];
        let Some((name, value)) = split_field(line) else {
            if !p.config.comments {
                return None;
            }
            let skip = 1 + usize::from(line.get(1) == Some(&b' '));
            return Some((start + skip, eol, true));
        };
        let value = start + value;
        let taken = match name {
            b"data" => {
                if let Some((a, b)) = self.data.take() {
                    p.adopt_data(&input[a..b]);
                    p.join_data(&input[value..eol]);
                } else if p.has_data {
                    p.join_data(&input[value..eol]);
                } else {
                    self.data = Some((value, eol));
                }
                true
            }
            b"event" => {
                self.event_type = Some((value, eol));
                true
            }
            b"id" => take_id(&mut p.last_id, &input[value..eol]),
            b"retry" => take_retry(&mut p.retry, &input[value..eol]),
            _ => false,
        };
        (!taken && p.config.ignored_lines).then_some((start, eol, false))
    }

    /// Switches to lending when the parser holds nothing in progress: its buffer is emptied
    /// (positions only) and a BOM or the LF of a CRLF cut between reads is skipped here.
    fn start_lending(&mut self) -> bool {
        let p = &mut *self.parser;
        if !p.holds_nothing() {
            return false;
        }
        if p.at_start {
            let have = &self.input[self.pos..];
            if have.len() < BOM.len() && BOM.starts_with(have) {
                return false;
            }
            if have.starts_with(BOM) {
                self.pos += BOM.len();
            }
            p.at_start = false;
        }
        if p.skip_lf {
            p.skip_lf = false;
            if self.input.get(self.pos) == Some(&b'\n') {
                self.pos += 1;
            }
        }
        if p.dispatched {
            p.dispatched = false;
            p.event_type.clear();
        }
        p.found = None;
        p.end = 0;
        p.line_start = 0;
        p.scan = 0;
        self.lending = true;
        true
    }

    /// Stops lending: the event in progress (its lent data and type) and the rest of the
    /// input go to the parser's buffer, as if they had been fed.
    fn spill(&mut self) {
        if self.lending {
            self.lending = false;
            let p = &mut *self.parser;
            if self.dispatched {
                self.dispatched = false;
                self.event_type = None;
                p.event_type.clear();
            }
            if let Some((a, b)) = self.event_type.take() {
                p.event_type.set(&self.input[a..b]);
            }
            if let Some((a, b)) = self.data.take() {
                p.adopt_data(&self.input[a..b]);
            }
        }
        if self.pos < self.input.len() {
            self.parser.feed(&self.input[self.pos..]);
            self.pos = self.input.len();
        }
    }
}

impl Drop for Frames<'_, '_> {
    fn drop(&mut self) {
        self.spill();
    }
}

#[cfg(test)]
mod tests {
    use super::line_end;

    /// The word-at-a-time scan agrees with a plain search for every length and position,
    /// next to bytes that differ from CR and LF by one bit.
    #[test]
    fn line_end_finds_the_first_cr_or_lf() {
        for len in 0..80 {
            for at in 0..=len {
                for end in [b'\n', b'\r'] {
                    let mut bytes: Vec<u8> = (0..len)
                        .map(|i| [b'a', 0x0b, 0x0c, 0x8a, 0x8d, 0x00][i % 6])
                        .collect();
                    if at < len {
                        bytes[at] = end;
                    }
                    let want = bytes.iter().position(|&b| b == b'\n' || b == b'\r');
                    assert_eq!(line_end(&bytes), want, "{bytes:?}");
                }
            }
        }
    }
}
