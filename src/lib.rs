//! Fast, zero-allocation parsing of the Server-Sent Events streams of LLM APIs.
//!
//! Every LLM API streams its reply as SSE: `data: {json}` events, one per token or so, ending in
//! `data: [DONE]` or typed `event:` lines. `ssechunk` reads such a stream in one pass:
//!
//! - [`Parser`]: an incremental, sans-IO framing layer that follows the WHATWG "event stream"
//!   rules byte for byte (CR, LF and CRLF line ends, a BOM, comments, `event`, `id`, `retry`,
//!   multi-line `data`) across arbitrary buffer boundaries;
//! - [`ChunkDecoder`]: decodes an event's data as an OpenAI-compatible chat-completion chunk
//!   into a [`ChunkView`] that borrows every string (content, reasoning, tool-call fragments,
//!   finish reason, usage), or reports `[DONE]`, an [`ApiError`] (in any of the shapes
//!   providers send: see its docs for an example of each) or [`InvalidData`]: nothing the
//!   decoder reads is dropped without a trace. The stream's [`Dialect`] is detected from its
//!   first events (or fixed with [`Config::dialect`]): an event of the Anthropic Messages API,
//!   the OpenAI Responses API or Gemini is decoded into [`Parts`], the same vocabulary for
//!   every dialect (see [`Dialect`] for what each dialect's events give);
//! - [`ChunkStream`]: the two joined: feed bytes, pull [`Outcome`]s;
//! - [`Accumulator`]: assembles the final message (choices, tool calls, normalised [`Usage`]
//!   and [`Finish`], the API errors, the invalid events, how the stream ended), in time linear
//!   in the input whatever order indexes arrive in, and reports each tool call as soon as its
//!   arguments are whole ([`Accumulator::completed_calls`]). The README states the message
//!   contract that `ssechunk message` prints.
//!
//! # Example: a chat completion over reqwest
//! In `Cargo.toml` (`default-features = false` leaves out the command-line tool):
//!
//! ```toml
//! ssechunk = { version = "0.1", default-features = false, features = ["reqwest"] }
//! reqwest = "0.13"  # your own client, with the features you need (TLS by default)
//! tokio = { version = "1", features = ["macros", "rt"] }
//! ```
//!
//! `AsyncChunkStream::from_response` checks the status and the content type: a 429, an
//! HTML 502 page or a JSON reply is an `HttpError` with the status and the API's error
//! message, not an empty stream. The text is printed as it arrives, the usage at the end.
//!
#![cfg_attr(feature = "reqwest", doc = "```no_run")]
#![cfg_attr(not(feature = "reqwest"), doc = "```ignore")]
//! use std::io::Write;
//!
//! use ssechunk::{AsyncChunkStream, Outcome, Payload};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//!     let response = reqwest::Client::new()
//!         .post("https://api.openai.com/v1/chat/completions")
//!         .bearer_auth(std::env::var("OPENAI_API_KEY")?)
//!         .header("content-type", "application/json")
//!         .body(r#"{"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
//!                   "messages": [{"role": "user", "content": "Say hi"}]}"#)
//!         .send()
//!         .await?;
//!     // Not a 2xx `text/event-stream`: an `HttpError` ("HTTP status 429 ...: Rate limit reached").
//!     let mut stream = AsyncChunkStream::from_response(response).await?;
//!     let mut usage = None;
//!     while let Some(outcome) = stream.next_outcome().await {
//!         match outcome? {
//!             Outcome::Event { payload: Payload::Chunk(chunk), .. } => {
//!                 if let Some(text) = chunk.choice().and_then(|c| c.content()) {
//!                     print!("{text}");
//!                     std::io::stdout().flush()?;
//!                 }
//!                 usage = chunk.usage().or(usage);
//!             }
//!             Outcome::Event { payload: Payload::ApiError(e), .. } | Outcome::Error(e) => {
//!                 return Err(format!("the API failed: {}", e.message().unwrap_or("?")).into());
//!             }
//!             _ => {}
//!         }
//!     }
//!     if let Some(usage) = usage {
//!         println!("\n[{} input + {} output tokens]", usage.input_tokens, usage.output_tokens);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! `stream.into_deltas()` turns it into a `Stream` of owned `Delta`s that also assembles the
//! message ([`Accumulator`]: text, reasoning, tool calls, usage, how the stream ended).
//!
//! # Example: bytes in, outcomes out
//! The sans-IO core, under any source: feed the bytes as they arrive, cut anywhere, and pull
//! what is complete. No feature needed.
//! ```
//! use ssechunk::{Accumulator, ChunkStream, Ending, Outcome, Payload};
//!
//! // Bytes as they come off the network, cut anywhere.
//! let reads: [&[u8]; 3] = [
//!     b"data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Ol",
//!     b"\\u00e1\"}}]}\n\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\r\n",
//!     b"data: \"usage\":{\"prompt_tokens\":20,\"completion_tokens\":4,\"total_tokens\":24}}\n\ndata: [DONE]\n\n",
//! ];
//! let mut stream = ChunkStream::new();
//! let mut message = Accumulator::new();
//! for read in reads {
//!     stream.feed(read);
//!     while let Some(outcome) = stream.next_outcome() {
//!         let outcome = outcome?;
//!         if let Outcome::Event { payload: Payload::Chunk(chunk), .. } = &outcome {
//!             if let Some(text) = chunk.choice().and_then(|c| c.content()) {
//!                 print!("{text}"); // "Olá", as it arrives
//!             }
//!         }
//!         // Chunks, `[DONE]`, API errors in every shape, invalid events.
//!         message.push_outcome(&outcome);
//!     }
//! }
//! stream.finish();
//! assert!(stream.next_outcome().is_none());
//! assert_eq!(message.choices()[0].content.as_deref(), Some("Olá"));
//! assert_eq!(message.usage().map(|u| u.total_tokens), Some(24));
//! assert_eq!(message.ending(), Ending::Done);
//! # Ok::<(), ssechunk::Error>(())
//! ```
//!
//! # The zero-copy contract
//! - An [`Event`] borrows from the parser's buffer: single-line `data` is a slice of the bytes
//!   as they were fed; multi-line `data` is joined with `\n` in place (it only ever shrinks).
//!   At least [`PADDING`] initialised bytes follow every event's data inside the buffer.
//! - Once the buffers have grown to the largest event seen, framing and decoding allocate
//!   nothing per event. A decoded string is a slice of the event's data, or of the decoder's
//!   own buffers (strings with escapes unescaped; the unchanged strings of a chunk that reused
//!   the last chunk parsed in full); the raw event is never modified.
//! - Each input byte is scanned once, however the input is cut.
//! - Memory is bounded by [`Config::max_event_bytes`] plus one read; nothing is dropped
//!   silently: an oversized event is reported ([`Error::EventTooLarge`]), and a stream that
//!   ends inside an event yields [`Frame::Incomplete`] with what it held.
//!
//! # Crate features
//! The library needs no feature: the core has no I/O, no async and no proc-macro dependency.
//! In `Cargo.toml`: `ssechunk = { version = "0.1", default-features = false }`, plus
//! `features = ["reqwest"]` for the reqwest route, or `features = ["async"]` for the async
//! adapters alone.
//!
//! - `cli` (on by default): builds the `ssechunk` command-line tool and adds `clap` and the
//!   `serde` feature for it; the library does not need it, so a library user turns the default
//!   features off.
//! - `serde`: `Serialize`/`Deserialize` on the owned types ([`Message`], from
//!   [`Accumulator::message`], serialises to exactly the `ssechunk message` line;
//!   [`ChoiceMessage`], [`ToolCallMessage`], [`ErrorMessage`], [`Usage`], [`Finish`],
//!   [`Ending`], `Delta`), `Serialize` on the borrowed views ([`ChunkView`], [`Choice`],
//!   [`ToolCall`], [`ApiError`]: strings borrowed, not copied), `ChoiceMessage::to_assistant_turn`
//!   (the next request's assistant turn, for an agent loop), `Message::to_assistant_turn` (the
//!   same in the stream's own dialect: Anthropic, Responses, Gemini) and
//!   `ToolCallMessage::parse_arguments` (arguments parsed once into the caller's type). Adds
//!   `serde` with its derive, and `serde_json`.
//! - `async`: `AsyncChunkStream` (borrowed outcomes from a lending `next_outcome`) and
//!   `DeltaStream` (a `Stream` of owned `Delta`s and the assembled message) over a
//!   `futures_core::Stream` of byte chunks (an HTTP body) or a `tokio::io::AsyncRead`. Adds
//!   `futures-core` and `tokio` without any of tokio's features (only its I/O traits). The
//!   blocking [`ChunkReader`] over `std::io::Read` needs no feature.
//! - `reqwest` (implies `async`): `AsyncChunkStream::from_response`, which checks a
//!   `reqwest::Response` (a 2xx status, `Content-Type: text/event-stream`) and streams its body,
//!   or reads at most `MAX_ERROR_BODY_BYTES` of it into an `HttpError` (status, content type,
//!   the API's error decoded from a JSON body, the body's first bytes). Adds reqwest without
//!   its default features (no TLS: the application's own reqwest dependency picks those) and
//!   `http-body`, which reqwest already depends on.
#![deny(missing_docs)]
#![warn(missing_debug_implementations, rust_2018_idioms)]
#![doc(test(attr(deny(warnings))))]
#![deny(unsafe_code)]
// docs.rs builds with `--cfg docsrs` (see `[package.metadata.docs.rs]`): feature-gated items
// then say which feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's examples are compiled and run as doctests (with the `reqwest` feature, which
// the first one needs; CI tests with every feature).
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "reqwest"))]
pub struct ReadmeDoctests;

mod accumulate;
mod chunk;
mod decode;
mod error;
mod fast;
mod framing;
#[cfg(feature = "serde")]
mod json;
mod read;
mod search;
mod stream;

#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
mod async_stream;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
mod http;

pub use accumulate::{
    Accumulator, ChoiceMessage, Ending, ErrorMessage, Message, OwnedErrorCode, ToolCallMessage,
};
pub use chunk::{
    ApiError, Choice, ChunkDecoder, ChunkView, ErrorCode, Finish, InvalidData, Payload, ToolCall,
    Usage,
};
// For the tests and fuzz targets only (see `ChunkDecoder::decode_traced`).
#[doc(hidden)]
pub use chunk::DecodePath;
pub use decode::{Dialect, Part, Parts};
pub use error::{Error, Result};
pub use framing::{
    Config, DEFAULT_MAX_EVENT_BYTES, Event, Frame, Frames, Incomplete, MAX_READ_SIZE, PADDING,
    Parser,
};
pub use read::{ChunkReader, DEFAULT_READ_SIZE};
pub use stream::{ChunkStream, Outcome};

#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use async_stream::{
    AsyncChunkStream, AsyncSource, BytesSource, Delta, DeltaStream, ReaderSource,
};

#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use http::{
    ERROR_BODY_START_BYTES, ErrorResponse, HttpError, MAX_ERROR_BODY_BYTES, ResponseBody,
};
