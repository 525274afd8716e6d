//! The peer side of the README's whole-process comparison: what `ssechunk stats` computes,
//! done the way most Rust clients do it today, with sse-stream 0.3 for the framing and
//! serde_json into async-openai's chunk type for the decoding.
//!
//! ```text
//! cargo build --release --example peer_stats
//! target/release/examples/peer_stats [--no-decode | --value | --sonic] FILE    # 64 KiB reads
//! target/release/ssechunk stats [--no-decode] FILE
//! ```
//!
//! It prints `{"events": N, "chunks": N, "content_bytes": N, "seconds": S}` (`events` and
//! `data_bytes` with `--no-decode`), so the two programs can be checked to count the same.
//!
//! `--value` reads the Anthropic Messages, OpenAI Responses and Gemini dialects as genai and
//! rig do: each event's data into a `serde_json::Value`, the text looked up per dialect (the
//! dialect detected per event, as `ssechunk stats` does), by the rule of
//! `benches/common/value.rs`. It prints `events`, `content_bytes`, `reasoning_bytes` and
//! `tool_argument_bytes`, which `ssechunk stats` prints under the same names.
//!
//! `--sonic` is what a speed-minded user assembles for Chat Completions: the same sse-stream
//! framing, then `sonic_rs::from_str` (SIMD JSON) into a borrowed struct of only the fields
//! ssechunk extracts (content, reasoning, tool-call arguments, finish_reason, usage), with the
//! strings borrowed unless they hold escapes. It prints `events`, `chunks`, `done`, `invalid`
//! (data that is neither `[DONE]` nor a JSON object of that shape), `content_bytes`,
//! `reasoning_bytes` (`reasoning_content`, or `reasoning` when that is empty or absent, as
//! ssechunk reads them), `tool_argument_bytes`, `total_tokens` (each message counted by its
//! last usage; a message ends at its `[DONE]` or at the end of the input, as `ssechunk stats`
//! counts) and `data_bytes`, under `ssechunk stats`'s names.

use std::fs::File;
use std::io::Read;
use std::pin::pin;
use std::time::Instant;

use async_openai::types::chat::CreateChatCompletionStreamResponse;
use bytes::Bytes;
use futures::StreamExt;
use futures::executor::block_on;
use sse_stream::SseByteStream;

#[path = "../benches/common/borrowed.rs"]
mod borrowed;
use borrowed::text_len;
#[path = "../benches/common/value.rs"]
mod value;

/// The counters of `--sonic`, named and counted as `ssechunk stats` names and counts them.
#[derive(Default)]
struct SonicStats {
    chunks: u64,
    done: u64,
    invalid: u64,
    content_bytes: u64,
    reasoning_bytes: u64,
    tool_argument_bytes: u64,
    total_tokens: u64,
    /// The last usage of the message in progress.
    usage: Option<u64>,
}

impl SonicStats {
    fn add(&mut self, data: &str) {
        if data == "[DONE]" {
            self.done += 1;
            self.end_message();
            return;
        }
        let Ok(chunk) = sonic_rs::from_str::<borrowed::Chunk<'_>>(data) else {
            self.invalid += 1;
            return;
        };
        self.chunks += 1;
        for choice in chunk.choices.iter().flatten() {
            let Some(delta) = &choice.delta else {
                continue;
            };
            self.content_bytes += text_len(&delta.content);
            self.reasoning_bytes += match text_len(&delta.reasoning_content) {
                0 => text_len(&delta.reasoning),
                n => n,
            };
            for call in delta.tool_calls.iter().flatten() {
                self.tool_argument_bytes +=
                    call.function.as_ref().map_or(0, |f| text_len(&f.arguments));
            }
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.total_tokens);
        }
    }

    fn end_message(&mut self) {
        self.total_tokens += self.usage.take().unwrap_or(0);
    }
}

fn main() -> std::io::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let no_decode = args.iter().any(|a| a == "--no-decode");
    let value = args.iter().any(|a| a == "--value");
    let sonic = args.iter().any(|a| a == "--sonic");
    args.retain(|a| a != "--no-decode" && a != "--value" && a != "--sonic");
    let modes = usize::from(no_decode) + usize::from(value) + usize::from(sonic);
    let (Some(path), true) = (args.first(), modes <= 1) else {
        eprintln!("usage: peer_stats [--no-decode | --value | --sonic] FILE");
        std::process::exit(2);
    };
    let start = Instant::now();
    let mut file = File::open(path)?;
    // The same 64 KiB reads as `ssechunk stats`, each handed over as `Bytes`, as an HTTP
    // client hands over a body.
    let reads = futures::stream::poll_fn(move |_| {
        let mut buf = vec![0; 64 * 1024];
        match file.read(&mut buf) {
            Ok(0) => std::task::Poll::Ready(None),
            Ok(n) => {
                buf.truncate(n);
                std::task::Poll::Ready(Some(Ok::<_, std::io::Error>(Bytes::from(buf))))
            }
            Err(e) => std::task::Poll::Ready(Some(Err(e))),
        }
    });
    let (mut events, mut data_bytes, mut chunks, mut content_bytes) = (0u64, 0u64, 0u64, 0u64);
    let mut reader = value::ValueReader::new(None);
    let mut texts = value::Texts::default();
    let mut sonic_stats = SonicStats::default();
    block_on(async {
        let mut sse = pin!(SseByteStream::new(reads));
        while let Some(block) = sse.next().await {
            let block = block.expect("the file reads");
            let Some(data) = block.data else {
                continue;
            };
            events += 1;
            data_bytes += data.len() as u64;
            if sonic {
                sonic_stats.add(&data);
                continue;
            }
            if no_decode || data == "[DONE]" {
                continue;
            }
            if value {
                if let Some(t) = reader.read(block.event.as_deref(), &data) {
                    texts.add(t);
                }
                continue;
            }
            if let Ok(chunk) = serde_json::from_str::<CreateChatCompletionStreamResponse>(&data) {
                chunks += 1;
                for choice in &chunk.choices {
                    content_bytes += choice.delta.content.as_ref().map_or(0, |c| c.len() as u64);
                }
            }
        }
    });
    sonic_stats.end_message();
    let seconds = start.elapsed().as_secs_f64();
    if sonic {
        let s = &sonic_stats;
        println!(
            "{{\"events\":{events},\"chunks\":{},\"done\":{},\"invalid\":{},\"content_bytes\":{},\"reasoning_bytes\":{},\"tool_argument_bytes\":{},\"total_tokens\":{},\"data_bytes\":{data_bytes},\"seconds\":{seconds:.6}}}",
            s.chunks,
            s.done,
            s.invalid,
            s.content_bytes,
            s.reasoning_bytes,
            s.tool_argument_bytes,
            s.total_tokens
        );
    } else if value {
        println!(
            "{{\"events\":{events},\"content_bytes\":{},\"reasoning_bytes\":{},\"tool_argument_bytes\":{},\"seconds\":{seconds:.6}}}",
            texts.content, texts.reasoning, texts.tool_args
        );
    } else if no_decode {
        println!("{{\"events\":{events},\"data_bytes\":{data_bytes},\"seconds\":{seconds:.6}}}");
    } else {
        println!(
            "{{\"events\":{events},\"chunks\":{chunks},\"content_bytes\":{content_bytes},\"seconds\":{seconds:.6}}}"
        );
    }
    Ok(())
}
