//! Outcomes in owned form as a client sees them, and the one-shot reference they are compared
//! with: what a `ChunkStream` fed the whole body at once yields. Shared by the adapter tests
//! (`tests/adapters.rs`) and the HTTP end-to-end tests (`tests/e2e.rs`), which include it with
//! `#[path = "common/outcomes.rs"] mod outcomes;`.
//!
//! Each includer uses a different part of it.
#![allow(dead_code)]

use ssechunk::{Accumulator, ChunkStream, Config, Error, Outcome};

/// An outcome with everything it carries in owned form; the payload by its `Debug` text,
/// which shows every decoded field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    Event {
        event_type: Vec<u8>,
        data: Vec<u8>,
        id: Vec<u8>,
        payload: String,
    },
    /// An API error found outside any event, by its `Debug` text.
    Error(String),
    Ignored(Vec<u8>),
    Comment(Vec<u8>),
    Incomplete {
        data: Option<Vec<u8>>,
        line: Vec<u8>,
    },
    TooLarge,
}

/// What a client sees: the outcomes in order, and the message they assemble.
#[derive(Debug, Default, PartialEq)]
pub struct Seen {
    pub outcomes: Vec<Owned>,
    pub message: Accumulator,
}

impl Seen {
    /// Records an outcome, or an oversized event as [`Owned::TooLarge`]. Any other error cannot
    /// come from the bytes alone, so it fails the test; a caller whose source can fail (a
    /// reader, a socket) sorts those errors out first and uses [`Seen::push_outcome`].
    pub fn push(&mut self, outcome: Result<Outcome<'_>, Error>) {
        match outcome {
            Ok(outcome) => self.push_outcome(outcome),
            Err(Error::EventTooLarge { .. }) => self.outcomes.push(Owned::TooLarge),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    /// Records an outcome; an event's payload is added to the message too.
    pub fn push_outcome(&mut self, outcome: Outcome<'_>) {
        self.outcomes.push(match outcome {
            Outcome::Event { event, payload } => {
                self.message.push_payload(&payload);
                Owned::Event {
                    event_type: event.event_type().to_vec(),
                    data: event.data().to_vec(),
                    id: event.id().to_vec(),
                    payload: format!("{payload:?}"),
                }
            }
            Outcome::Error(e) => {
                self.message.push_error(&e);
                Owned::Error(format!("{e:?}"))
            }
            Outcome::Ignored(line) => Owned::Ignored(line.to_vec()),
            Outcome::Comment(text) => Owned::Comment(text.to_vec()),
            Outcome::Incomplete(inc) => Owned::Incomplete {
                data: inc.data().map(<[u8]>::to_vec),
                line: inc.line().to_vec(),
            },
            other => panic!("an outcome the tests do not know: {other:?}"),
        });
    }
}

/// The reference: the whole input fed at once, then finished.
pub fn one_shot(config: &Config, body: &[u8]) -> Seen {
    let mut stream = ChunkStream::with_config(config.clone());
    stream.feed(body);
    stream.finish();
    let mut seen = Seen::default();
    while let Some(outcome) = stream.next_outcome() {
        seen.push(outcome);
    }
    seen
}
