//! Streams a chat completion from any OpenAI-compatible endpoint and prints the reply as it
//! arrives, then the token usage.
//!
//! ```text
//! OPENAI_API_KEY=... cargo run --example chat --features reqwest -- "Say hi in Portuguese"
//! ```
//!
//! - `OPENAI_BASE_URL`: the API's base URL (default `https://api.openai.com/v1`); the request
//!   goes to `{base}/chat/completions`. Local servers (llama.cpp, vLLM, Ollama) work as they
//!   are: `OPENAI_BASE_URL=http://127.0.0.1:8080/v1`.
//! - `OPENAI_API_KEY`: sent as a bearer token when set.
//! - `OPENAI_MODEL`: the model (default `gpt-4o-mini`).
//!
//! The project builds reqwest without TLS to keep compile times short, so only `http://` URLs
//! work out of the box. For `https://` (the default base URL), turn on reqwest's `rustls`
//! feature, e.g. `cargo add --dev reqwest --features rustls` in your checkout.

use std::error::Error;
use std::io::Write;

use futures::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use ssechunk::{Accumulator, AsyncChunkStream, Delta};

/// The errors of [`run`]: the request's, the response's (`ssechunk::HttpError`), the
/// stream's, an API error event, writing the output.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// POSTs a streaming chat completion of `prompt` to `{base_url}/chat/completions`, writes the
/// reply text to `out` as it arrives (flushing each piece), then a blank line and the usage,
/// and returns the assembled message.
///
/// # Errors
/// A failed request; a response that is not an event stream (`ssechunk::HttpError`: a
/// non-success status or another content type, with the API's error message or the start of
/// the body); a transport error in the middle of the stream; an `{"error": ...}` event; or a
/// failed write.
pub async fn run(
    base_url: &str,
    api_key: Option<&str>,
    model: &str,
    prompt: &str,
    out: &mut impl Write,
) -> Result<Accumulator, BoxError> {
    let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
    let body = serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    let mut request = reqwest::Client::new()
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "text/event-stream")
        .body(body.to_string());
    if let Some(key) = api_key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await?;
    // Checks the status and the content type: a 429 or a 401 comes back as an `HttpError`
    // whose message is the API's ("HTTP status 401 Unauthorized: Incorrect API key ...").
    let mut deltas = AsyncChunkStream::from_response(response)
        .await?
        .into_deltas();
    while let Some(delta) = deltas.next().await {
        match delta? {
            Delta::Text { text, .. } => {
                out.write_all(text.as_bytes())?;
                out.flush()?;
            }
            Delta::ApiError(error) => {
                let message = error.message.unwrap_or_else(|| "no message".to_owned());
                return Err(format!("the API sent an error: {message}").into());
            }
            Delta::Incomplete { .. } => return Err("the stream was cut mid-event".into()),
            _ => {}
        }
    }
    writeln!(out)?;
    if let Some(usage) = deltas.accumulator().usage() {
        writeln!(
            out,
            "\n[usage: {} input + {} output = {} tokens]",
            usage.input_tokens, usage.output_tokens, usage.total_tokens
        )?;
    }
    Ok(deltas.into_accumulator())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let base_url =
        std::env::var("OPENAI_BASE_URL").unwrap_or_else(|_| "https://api.openai.com/v1".into());
    let api_key = std::env::var("OPENAI_API_KEY").ok();
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".into());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let prompt = if args.is_empty() {
        "Say hi in Portuguese".to_owned()
    } else {
        args.join(" ")
    };
    let mut stdout = std::io::stdout();
    match run(&base_url, api_key.as_deref(), &model, &prompt, &mut stdout).await {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprint!("error: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprint!(": {cause}");
                source = cause.source();
            }
            eprintln!();
            if base_url.starts_with("https://") {
                eprintln!(
                    "(https needs reqwest's `rustls` feature: see the top of examples/chat.rs)"
                );
            }
            std::process::ExitCode::FAILURE
        }
    }
}
