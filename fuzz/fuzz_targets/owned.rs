//! The frames of the real parser as the reference parser's owned frames, with what must hold
//! of each checked on the way: for the fuzz targets of the framing layer (`framing`, `lend`),
//! which include the reference parser as `reference`.

use ssechunk::{Error, Frame};

use crate::reference::OwnedFrame;

/// Converts a frame of a parser whose size limit is `limit`: an event is under the limit, and
/// an oversized event's error names that limit; no other error ever comes.
pub fn owned(frame: Result<Frame<'_>, Error>, limit: usize) -> OwnedFrame {
    match frame {
        Ok(Frame::Event(e)) => {
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
            assert_eq!(reported, limit, "the error names another limit");
            OwnedFrame::TooLarge
        }
        Err(e) => panic!("framing returned {e}"),
    }
}
