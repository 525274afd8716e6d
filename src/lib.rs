//! Fast, zero-allocation parsing of the Server-Sent Events streams of LLM APIs.
#![deny(missing_docs)]
#![warn(missing_debug_implementations, rust_2018_idioms)]
#![doc(test(attr(deny(warnings))))]
#![forbid(unsafe_code)]

mod error;
mod framing;

pub use error::{Error, Result};
pub use framing::{Config, DEFAULT_MAX_EVENT_BYTES, Event, Frame, Incomplete, PADDING, Parser};
mod chunk;
pub use chunk::{
    ApiError, Choice, ChunkDecoder, ChunkView, ErrorCode, InvalidData, Payload, ToolCall, Usage,
};
mod stream;
pub use stream::{ChunkStream, Outcome};
mod accumulate;
pub use accumulate::{Accumulator, ChoiceMessage, Ending, ToolCallMessage};
