//! The real parser's frames as the reference parser's owned frames, with what must hold of
//! each checked on the way. It uses `ssechunk` and `super::reference` only, so that a fuzz
//! target that includes the reference parser as `reference` at its root can include this file
//! too (`#[path = "../../tests/common/owned.rs"] mod owned;`).

use ssechunk::{Error, Frame};

use super::reference::OwnedFrame;

/// Converts a frame of a parser whose size limit is `limit`. An event's accessors agree with
/// each other and its data is under the limit; an oversized event's error names that limit;
/// no other error ever comes.
pub fn owned(frame: Result<Frame<'_>, Error>, limit: usize) -> OwnedFrame {
    match frame {
        Ok(Frame::Event(e)) => {
            assert_eq!(e.is_message(), e.event_type() == b"message");
            assert_eq!(e.data_str().ok(), std::str::from_utf8(e.data()).ok());
            assert!(
                e.data().len() < limit,
                "an event over the limit was dispatched"
            );
            OwnedFrame::Event {
                event_type: e.event_type().to_vec(),
                data: e.data().to_vec(),
                id: e.id().to_vec(),
            }
        }
        Ok(Frame::Comment(text)) => OwnedFrame::Comment(text.to_vec()),
        Ok(Frame::Ignored(line)) => OwnedFrame::Ignored(line.to_vec()),
        Ok(Frame::Incomplete(inc)) => OwnedFrame::Incomplete {
            data: inc.data().map(<[u8]>::to_vec),
            line: inc.line().to_vec(),
        },
        Err(Error::EventTooLarge { limit: reported }) => {
            assert_eq!(reported, limit, "the error names the limit in force");
            OwnedFrame::TooLarge
        }
        Err(e) => panic!("framing returned an error it never should: {e}"),
    }
}
