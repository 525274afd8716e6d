//! The crate's error type.

use std::fmt;

/// Errors of the parsing layers.
///
/// The SSE rules define a result for every byte sequence, so framing only fails on limits.
/// Data that is not a chunk is not an error of the stream: it is an outcome
/// ([`crate::Payload::Invalid`]) after which the stream goes on.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An event grew past [`crate::Config::max_event_bytes`]. It was discarded up to the next
    /// blank line; the events after it are parsed normally.
    EventTooLarge {
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// The byte source failed (only from the reader adapters). What was parsed before it is
    /// still available.
    Io(std::io::Error),
    /// The transport under an async byte stream failed (an HTTP body's error, such as a
    /// connection reset mid-response); only from the async adapters. The input ends there:
    /// what was parsed before it is still available, and an event it cut short comes out as
    /// [`crate::Outcome::Incomplete`].
    Transport(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EventTooLarge { limit } => {
                write!(f, "event larger than the {limit}-byte limit was discarded")
            }
            Error::Io(e) => write!(f, "reading the stream failed: {e}"),
            Error::Transport(e) => write!(f, "the stream's transport failed: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Transport(e) => Some(&**e),
            Error::EventTooLarge { .. } => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
