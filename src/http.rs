//! The reqwest route (feature `reqwest`): [`AsyncChunkStream::from_response`] checks a
//! response's status and content type, and either streams its body or reads the start of it
//! into an [`HttpError`] that says what the server answered instead of a stream.
//!
//! It only composes: the body is an [`AsyncSource`], and the error body is decoded by
//! [`ChunkDecoder::decode_error_body`], under the same rules as errors inside a stream.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::Body as _;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};

use crate::{
    AsyncChunkStream, AsyncSource, ChunkDecoder, ChunkStream, Config, Error, ErrorMessage,
};

/// How much of a response that is not an event stream [`AsyncChunkStream::from_response`]
/// keeps to look for the API's error: 64 KiB. Reading stops once that much is in; the bytes of
/// the last transport chunk past it are dropped.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// How many of those bytes [`ErrorResponse::body_start`] keeps as text: 1 KiB.
pub const ERROR_BODY_START_BYTES: usize = 1024;

/// The body of a response, streamed: an [`AsyncSource`] over a `reqwest::Response`.
///
/// Each data frame of the body is handed to [`ChunkStream::feed_bytes`] as it arrives (no
/// copy when the parser holds nothing in progress); a failure of the body (a connection reset,
/// a timeout set on the client) becomes [`Error::Transport`] holding the `reqwest::Error`.
///
/// Made by [`AsyncChunkStream::from_response`] once the response is checked.
/// [`ResponseBody::new`] skips the checks, for a server that streams SSE without saying so:
/// `AsyncChunkStream::new(ResponseBody::new(response))`.
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub struct ResponseBody {
    body: reqwest::Body,
}

impl ResponseBody {
    /// The body of `response`, unchecked: whatever its status and content type.
    pub fn new(response: reqwest::Response) -> Self {
        Self {
            body: reqwest::Body::from(response),
        }
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody").finish_non_exhaustive()
    }
}

impl AsyncSource for ResponseBody {
    fn poll_feed(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut ChunkStream,
    ) -> Poll<Result<bool, Error>> {
        loop {
            let frame = match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(false)),
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Err(Error::Transport(Box::new(e))));
                }
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            // Trailers carry no data: poll on.
            if let Ok(data) = frame.into_data() {
                stream.feed_bytes(data);
                return Poll::Ready(Ok(true));
            }
        }
    }
}

/// Why [`AsyncChunkStream::from_response`] did not stream a response.
///
/// [`HttpError::Status`] and [`HttpError::ContentType`] hold the [`ErrorResponse`]: the
/// status, the content type, the API's error when the body holds one, and the start of the
/// body. [`HttpError::status`], [`HttpError::api_error`] and [`HttpError::response`] reach
/// them without a `match`.
///
/// # Example
/// ```
/// use ssechunk::HttpError;
///
/// fn retry_later(error: &HttpError) -> bool {
///     error.status().is_some_and(|s| s == 429 || s.is_server_error())
/// }
/// # let _ = retry_later;
/// ```
#[derive(Debug)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub enum HttpError {
    /// The status is not a success (2xx): a rate limit (429), a bad request (400), an
    /// authentication error (401), an overloaded or failing server (5xx)...
    Status(Box<ErrorResponse>),
    /// A success status, but the `Content-Type` is not `text/event-stream` (or is missing):
    /// a JSON reply (the request did not ask for a stream, or a proxy answered with an error),
    /// an HTML page.
    ContentType(Box<ErrorResponse>),
    /// The request failed before any response came. [`AsyncChunkStream::from_response`]
    /// never returns it; it is here so that `send().await?` and `from_response(..).await?`
    /// share one error type (see `From<reqwest::Error>`).
    Transport(reqwest::Error),
}

/// A response that was not streamed, as [`HttpError`] reports it.
///
/// The body was read up to [`MAX_ERROR_BODY_BYTES`], whatever its content type, then the
/// response was dropped.
#[derive(Debug)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub struct ErrorResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `Content-Type` header as sent, parameters included (U+FFFD for bytes that are not
    /// UTF-8); `None` when there was none.
    pub content_type: Option<String>,
    /// The API's error, when the body (what was read of it) is a JSON error in one of the
    /// shapes [`ChunkDecoder::decode_error_body`] reads: an `error` object or string, a flat
    /// object with a `message` or `detail`, or an array of them (Gemini).
    pub api_error: Option<ErrorMessage>,
    /// The first [`ERROR_BODY_START_BYTES`] bytes of the body, as text (U+FFFD for invalid
    /// UTF-8; a character that the bound would cut is left out): an HTML error page's title,
    /// a plain-text error, the JSON itself.
    pub body_start: String,
    /// How many bytes of the body were read (at most [`MAX_ERROR_BODY_BYTES`]).
    pub body_len: usize,
    /// The body went on past [`MAX_ERROR_BODY_BYTES`]: the rest was not read.
    pub body_truncated: bool,
    /// Reading the body failed after `body_len` bytes (the connection was cut, a timeout).
    /// The status and what was read are reported all the same.
    pub body_error: Option<reqwest::Error>,
}

impl HttpError {
    /// The response that was not streamed; `None` for [`HttpError::Transport`].
    pub fn response(&self) -> Option<&ErrorResponse> {
        match self {
            HttpError::Status(response) | HttpError::ContentType(response) => Some(response),
            HttpError::Transport(_) => None,
        }
    }

    /// The response's HTTP status; for [`HttpError::Transport`], the status reqwest saw, if
    /// any.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HttpError::Status(response) | HttpError::ContentType(response) => Some(response.status),
            HttpError::Transport(e) => e.status(),
        }
    }

    /// The API's error, decoded from the response's body; see [`ErrorResponse::api_error`].
    pub fn api_error(&self) -> Option<&ErrorMessage> {
        self.response().and_then(|r| r.api_error.as_ref())
    }
}

impl From<reqwest::Error> for HttpError {
    fn from(e: reqwest::Error) -> Self {
        HttpError::Transport(e)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let response = match self {
            HttpError::Transport(e) => return write!(f, "the HTTP request failed: {e}"),
            HttpError::Status(response) => {
                write!(f, "HTTP status {}", response.status)?;
                response
            }
            HttpError::ContentType(response) => {
                let content_type = response
                    .content_type
                    .as_deref()
                    .unwrap_or("no content type");
                write!(
                    f,
                    "expected text/event-stream, got {content_type} (HTTP status {})",
                    response.status
                )?;
                response
            }
        };
        match &response.api_error {
            Some(error) => {
                let message = error.message.as_deref().unwrap_or("an API error");
                write!(f, ": {}", one_line(message, 500))?;
                match (&error.kind, &error.code) {
                    (Some(kind), Some(code)) => {
                        write!(f, " (type {kind}, code {})", code_text(code))?
                    }
                    (Some(kind), None) => write!(f, " (type {kind})")?,
                    (None, Some(code)) => write!(f, " (code {})", code_text(code))?,
                    (None, None) => {}
                }
            }
            None => {
                if let (Some(content_type), HttpError::Status(_)) = (&response.content_type, self) {
                    write!(f, " ({content_type})")?;
                }
                let start = one_line(&response.body_start, 200);
                if !start.is_empty() {
                    write!(f, ": {start}")?;
                }
            }
        }
        if let Some(e) = &response.body_error {
            write!(f, "; reading the body failed: {e}")?;
        }
        Ok(())
    }
}

fn code_text(code: &crate::OwnedErrorCode) -> String {
    match code {
        crate::OwnedErrorCode::Str(s) => s.clone(),
        crate::OwnedErrorCode::Int(n) => n.to_string(),
    }
}

/// `text` on one line (runs of whitespace as one space), at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    if let Some((cut, _)) = out.char_indices().nth(max) {
        out.truncate(cut);
        out.push('…');
    }
    out
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HttpError::Transport(e) => Some(e),
            HttpError::Status(response) | HttpError::ContentType(response) => response
                .body_error
                .as_ref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
        }
    }
}

/// Whether a `Content-Type` value is `text/event-stream`, with any parameters.
fn is_event_stream(value: &HeaderValue) -> bool {
    let media_type = value
        .as_bytes()
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default();
    media_type
        .trim_ascii()
        .eq_ignore_ascii_case(b"text/event-stream")
}

impl AsyncChunkStream<ResponseBody> {
    /// Streams a reqwest response's body if it is an event stream, or says what the server
    /// answered instead: the short route from `send()` to outcomes.
    ///
    /// The response is streamed when its status is a success (2xx) and its `Content-Type` is
    /// `text/event-stream` (in any case, with any parameters such as `; charset=utf-8`).
    /// Otherwise its body is read, up to [`MAX_ERROR_BODY_BYTES`], and returned in an
    /// [`HttpError`] with the status, the content type, the API's error when the body is a
    /// JSON error ([`ChunkDecoder::decode_error_body`]), and the body's first bytes.
    ///
    /// A missing `Content-Type` is an error too: what a server sends without one is seldom a
    /// stream (an empty 204, a bare proxy error). For a server that streams SSE without saying
    /// so, skip the checks: `AsyncChunkStream::new(ResponseBody::new(response))`.
    ///
    /// Once streaming, the body's failures (a connection cut mid-stream) come out of
    /// [`AsyncChunkStream::next_outcome`] as [`Error::Transport`], then the event they cut
    /// short as an [`crate::Outcome::Incomplete`], as from any source. Available with the
    /// `reqwest` feature, which brings reqwest without its default features (no TLS): turn on
    /// the ones the application needs in its own dependency on reqwest.
    ///
    /// # Example
    /// ```no_run
    /// use ssechunk::{AsyncChunkStream, Outcome, Payload};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// let response = reqwest::Client::new()
    ///     .post("http://127.0.0.1:8080/v1/chat/completions")
    ///     .header("content-type", "application/json")
    ///     .body(r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#)
    ///     .send()
    ///     .await?;
    /// let mut stream = match AsyncChunkStream::from_response(response).await {
    ///     Ok(stream) => stream,
    ///     Err(e) if e.status().is_some_and(|s| s == 429) => {
    ///         let message = e.api_error().and_then(|a| a.message.clone());
    ///         return Err(format!("rate limited: {message:?}").into());
    ///     }
    ///     Err(e) => return Err(e.into()), // "HTTP status 502 Bad Gateway (text/html): <html>..."
    /// };
    /// while let Some(outcome) = stream.next_outcome().await {
    ///     if let Outcome::Event { payload: Payload::Chunk(chunk), .. } = outcome? {
    ///         print!("{}", chunk.choice().and_then(|c| c.content()).unwrap_or(""));
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// - [`HttpError::Status`]: the status is not 2xx.
    /// - [`HttpError::ContentType`]: a 2xx status with another content type, or none.
    ///
    /// A failure while reading such a body does not hide the status: it is in
    /// [`ErrorResponse::body_error`], with what was read before it.
    pub async fn from_response(response: reqwest::Response) -> Result<Self, HttpError> {
        Self::from_response_with_config(response, Config::new()).await
    }

    /// [`AsyncChunkStream::from_response`] with the given framing settings (an event size
    /// limit, comments).
    ///
    /// # Errors
    /// As [`AsyncChunkStream::from_response`].
    pub async fn from_response_with_config(
        response: reqwest::Response,
        config: Config,
    ) -> Result<Self, HttpError> {
        let status = response.status();
        let content_type = response.headers().get(CONTENT_TYPE);
        if status.is_success() && content_type.is_some_and(is_event_stream) {
            return Ok(Self::with_config(ResponseBody::new(response), config));
        }
        let response = Box::new(ErrorResponse::read(response).await);
        Err(if status.is_success() {
            HttpError::ContentType(response)
        } else {
            HttpError::Status(response)
        })
    }
}

impl ErrorResponse {
    /// Reads up to [`MAX_ERROR_BODY_BYTES`] of the body and decodes it.
    async fn read(mut response: reqwest::Response) -> Self {
        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        // The declared length, within the bound, saves regrowing the buffer.
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = Vec::with_capacity(declared.min(MAX_ERROR_BODY_BYTES));
        let (mut body_truncated, mut body_error) = (false, None);
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_ERROR_BODY_BYTES - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        body_truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    body_error = Some(e);
                    break;
                }
            }
        }
        let api_error = ChunkDecoder::new()
            .decode_error_body(&body)
            .map(|e| e.to_owned_error());
        Self {
            status,
            content_type,
            api_error,
            body_start: text_start(&body, ERROR_BODY_START_BYTES),
            body_len: body.len(),
            body_truncated,
            body_error,
        }
    }
}

/// The first `max` bytes of `body` as text, without a character the bound would cut.
fn text_start(body: &[u8], max: usize) -> String {
    let mut end = body.len().min(max);
    if end < body.len() {
        // Back to the start of the character at the cut (at most 3 continuation bytes).
        let start = end.saturating_sub(3);
        if let Some(lead) = (start..=end).rev().find(|&i| body[i] & 0xC0 != 0x80) {
            end = lead;
        }
    }
    String::from_utf8_lossy(&body[..end]).into_owned()
}
