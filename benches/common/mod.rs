//! The byte streams the throughput benchmarks run on, built once per process.
//!
//! - traffic: every OpenAI Chat Completions stream of the recorded corpus, concatenated; or, when
//!   the corpus is absent, a generated stream of the same shape (the run says which);
//! - one 8 MiB event: a single `data:` line holding a chunk whose content is ~8 MiB;
//! - multi-line data: the traffic with each event's JSON split over several `data:` lines.
//!
//! Every workload is leaked once into a `&'static [u8]`, so its `Bytes` pieces are
//! `Bytes::from_static` slices: handing them to the peers costs no allocation and no atomic
//! reference count, only the parsing is measured.

use std::env;
use std::path::{Path, PathBuf};

use bytes::Bytes;

pub mod borrowed;
pub mod value;

/// One benchmark input: the bytes and the size of each read.
#[derive(Debug)]
pub struct Workload {
    /// Short name, used in the benchmark group names (`framing/<name>`, `decode/<name>`).
    pub name: &'static str,
    /// What the bytes are, for the printed notes.
    pub what: String,
    pub bytes: &'static [u8],
    /// Bytes per read.
    pub read: usize,
    /// `bytes` cut into reads of `read` bytes, for the peers that take a stream of `Bytes`.
    pub pieces: Vec<Bytes>,
    /// eventsource-stream re-parses the partial line on every read, so a huge line in small
    /// reads is quadratic (~43 s for 8 MiB in 1460-byte reads): such a workload skips it.
    pub skip_eventsource: bool,
}

impl Workload {
    pub fn new(name: &'static str, what: String, bytes: &'static [u8], read: usize) -> Self {
        let pieces = bytes.chunks(read).map(Bytes::from_static).collect();
        Self {
            name,
            what,
            bytes,
            read,
            pieces,
            skip_eventsource: false,
        }
    }

    /// The reads, as `&[u8]`, for the parsers that take slices.
    pub fn reads(&self) -> std::slice::Chunks<'static, u8> {
        self.bytes.chunks(self.read)
    }
}

/// Leaks a workload's bytes: they live as long as the benchmark process.
pub fn leak(bytes: Vec<u8>) -> &'static [u8] {
    Box::leak(bytes.into_boxed_slice())
}

/// The corpus root: `$SSECHUNK_CORPUS`, else `../shared/corpus` beside the crate (the same
/// rule as the tests).
fn corpus_dir() -> PathBuf {
    match env::var_os("SSECHUNK_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    }
}

fn sse_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sse_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "sse") {
            out.push(path);
        }
    }
}

/// Every stream of the corpus for which `keep` holds, in path order.
fn corpus_streams_where(keep: impl Fn(&[u8]) -> bool) -> Vec<Vec<u8>> {
    let dir = corpus_dir();
    let mut files = Vec::new();
    sse_files(&dir, &mut files);
    files.sort();
    let mut streams = Vec::new();
    for path in &files {
        let body = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if keep(&body) {
            streams.push(body);
        }
    }
    streams
}

fn has(body: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(body, needle).is_some()
}

/// Every chat-completion stream of the corpus, in path order.
fn corpus_streams() -> Vec<Vec<u8>> {
    corpus_streams_where(|body| has(body, b"\"chat.completion.chunk\""))
}

/// The dialects besides Chat Completions, as the `dialect/<name>` groups name them.
pub const DIALECTS: [(&str, value::ValueDialect); 3] = [
    ("anthropic", value::ValueDialect::Anthropic),
    ("responses", value::ValueDialect::Responses),
    ("gemini", value::ValueDialect::Gemini),
];

/// Every corpus stream of `dialect` (not a chat-completion stream; Anthropic's has an
/// `event: message_start`, the Responses API's an `event: response.` line, Gemini's a
/// `candidates` or `usageMetadata` member), concatenated in path order, with a description;
/// `None` when the corpus has none (then the `dialect/*` groups are skipped, or fail with
/// `SSECHUNK_REQUIRE_CORPUS=1`).
pub fn dialect_traffic(dialect: value::ValueDialect) -> Option<(&'static [u8], String)> {
    use value::ValueDialect as D;
    let streams = corpus_streams_where(|body| {
        if has(body, b"\"chat.completion.chunk\"") {
            return false;
        }
        let anthropic = has(body, b"event: message_start");
        let responses = has(body, b"event: response.");
        match dialect {
            D::Anthropic => anthropic,
            D::Responses => responses,
            D::Gemini => {
                !anthropic
                    && !responses
                    && (has(body, b"\"candidates\"") || has(body, b"\"usageMetadata\""))
            }
        }
    });
    if streams.is_empty() {
        if env::var("SSECHUNK_REQUIRE_CORPUS").as_deref() == Ok("1") {
            panic!(
                "no {dialect:?} stream under {}, and SSECHUNK_REQUIRE_CORPUS=1",
                corpus_dir().display()
            );
        }
        return None;
    }
    let out = streams.concat();
    let what = format!(
        "recorded corpus: {} {dialect:?} streams of {} concatenated, {} bytes",
        streams.len(),
        corpus_dir().display(),
        out.len()
    );
    Some((leak(out), what))
}

/// Every chat-completion stream of the corpus, concatenated in path order, with a description;
/// `None` when the corpus is absent.
fn corpus_traffic() -> Option<(Vec<u8>, String)> {
    let streams = corpus_streams();
    let out = streams.concat();
    (!streams.is_empty()).then(|| {
        let what = format!(
            "recorded corpus: {} chat-completion streams of {} concatenated, {} bytes",
            streams.len(),
            corpus_dir().display(),
            out.len()
        );
        (out, what)
    })
}

/// The traffic workload's streams one by one, each cut into its events (every piece ends
/// after a blank line, but a last piece without one), with a description: the corpus's
/// chat-completion streams, or, without the corpus, the generated traffic cut after each
/// `[DONE]`.
pub fn traffic_streams() -> (Vec<Vec<&'static [u8]>>, String) {
    const DONE: &[u8] = b"data: [DONE]\n\n";
    let (traffic, what) = traffic();
    let mut ends: Vec<usize> = corpus_streams()
        .iter()
        .scan(0, |at, body| {
            *at += body.len();
            Some(*at)
        })
        .collect();
    if ends.is_empty() {
        ends = memchr::memmem::find_iter(traffic, DONE)
            .map(|at| at + DONE.len())
            .collect();
    }
    let mut streams = Vec::new();
    let mut stream_start = 0;
    for stream_end in ends {
        let body = &traffic[stream_start..stream_end];
        let mut events = Vec::new();
        let mut start = 0;
        for end in memchr::memmem::find_iter(body, b"\n\n") {
            if end >= start {
                events.push(&body[start..end + 2]);
                start = end + 2;
            }
        }
        if start < body.len() {
            events.push(&body[start..]);
        }
        streams.push(events);
        stream_start = stream_end;
    }
    (streams, what)
}

/// The traffic workload's bytes: the corpus when present, else a generated stream.
pub fn traffic() -> (&'static [u8], String) {
    let (bytes, what) = match corpus_traffic() {
        Some(found) => found,
        None => {
            if env::var("SSECHUNK_REQUIRE_CORPUS").as_deref() == Ok("1") {
                panic!(
                    "no chat-completion stream under {}, and SSECHUNK_REQUIRE_CORPUS=1",
                    corpus_dir().display()
                );
            }
            let bytes = generated_traffic(1_800_000);
            let what = format!(
                "GENERATED stream ({} bytes): no chat-completion stream under {} \
                 (set SSECHUNK_CORPUS)",
                bytes.len(),
                corpus_dir().display()
            );
            (bytes, what)
        }
    };
    (leak(bytes), what)
}

/// A small deterministic generator (xorshift64*), so every run builds the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Content fragments as they appear inside a JSON string: ASCII, raw non-ASCII UTF-8, and
/// escapes (`\n`, `\"`, `\t`, `\u00e9`, a surrogate pair).
const WORDS: &[&str] = &[
    " the",
    " stream",
    " parser",
    " reads",
    " every",
    " byte",
    " once",
    ",",
    ".",
    " zero-copy",
    " events",
    " naïve",
    " café",
    " 日本語",
    " 🦀",
    "\\n",
    "\\n\\n",
    " \\\"quoted\\\"",
    "\\t",
    " \\u00e9t\\u00e9",
    " \\ud83d\\ude00",
    " of",
    " and",
    " chunk",
];

const ARGS: &[&str] = &[
    "{\\\"",
    "location",
    "\\\":\\\"",
    "Paris",
    ", France",
    "\\\",\\\"",
    "unit",
    "celsius",
    "\\\"}",
];

/// One chunk line, about 290 bytes, in the layout OpenAI sends.
fn chunk(out: &mut Vec<u8>, rng: &mut Rng, id: u64, choices: &str, usage: &str) {
    let pad_len = 2 + rng.below(10);
    let pad: String = (0..pad_len)
        .map(|_| char::from(b'a' + rng.below(26) as u8))
        .collect();
    out.extend_from_slice(
        format!(
            "data: {{\"id\":\"chatcmpl-B9{id:020}\",\"object\":\"chat.completion.chunk\",\
             \"created\":1773932891,\"model\":\"gpt-4o-mini-2024-07-18\",\
             \"system_fingerprint\":\"fp_0aa8d3e20b\",\
             \"choices\":[{choices}]{usage},\"obfuscation\":\"{pad}\"}}\n\n"
        )
        .as_bytes(),
    );
}

fn delta(out: &mut Vec<u8>, rng: &mut Rng, id: u64, delta: &str, finish: &str) {
    let choices =
        format!("{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":{finish}}}");
    chunk(out, rng, id, &choices, ",\"usage\":null");
}

/// Chat-completion streams of the corpus's shape until `size` bytes: a role chunk, reasoning
/// deltas in one stream of three, content deltas with escapes and non-ASCII, tool-call
/// fragments in one stream of four, a finish chunk, a usage chunk and `[DONE]`.
pub fn generated_traffic(size: usize) -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(size + 4096);
    let mut id = 0u64;
    while out.len() < size {
        id += 1;
        delta(
            &mut out,
            &mut rng,
            id,
            r#"{"role":"assistant","content":"","refusal":null}"#,
            "null",
        );
        if id % 3 == 1 {
            for _ in 0..10 + rng.below(20) {
                let text = WORDS[rng.below(WORDS.len())];
                delta(
                    &mut out,
                    &mut rng,
                    id,
                    &format!("{{\"reasoning_content\":\"{text}\"}}"),
                    "null",
                );
            }
        }
        for _ in 0..20 + rng.below(60) {
            let text: String = (0..1 + rng.below(4))
                .map(|_| WORDS[rng.below(WORDS.len())])
                .collect();
            delta(
                &mut out,
                &mut rng,
                id,
                &format!("{{\"content\":\"{text}\"}}"),
                "null",
            );
        }
        let finish = if id.is_multiple_of(4) {
            delta(
                &mut out,
                &mut rng,
                id,
                r#"{"tool_calls":[{"index":0,"id":"call_Xq3v9m2Lk8","type":"function","function":{"name":"get_weather","arguments":""}}]}"#,
                "null",
            );
            for _ in 0..5 + rng.below(10) {
                let args = ARGS[rng.below(ARGS.len())];
                delta(
                    &mut out,
                    &mut rng,
                    id,
                    &format!(
                        "{{\"tool_calls\":[{{\"index\":0,\"function\":{{\"arguments\":\"{args}\"}}}}]}}"
                    ),
                    "null",
                );
            }
            "\"tool_calls\""
        } else {
            "\"stop\""
        };
        delta(&mut out, &mut rng, id, "{}", finish);
        let prompt = 10 + rng.below(500);
        let completion = 20 + rng.below(300);
        chunk(
            &mut out,
            &mut rng,
            id,
            "",
            &format!(
                ",\"usage\":{{\"prompt_tokens\":{prompt},\"completion_tokens\":{completion},\
                 \"total_tokens\":{},\"prompt_tokens_details\":{{\"cached_tokens\":0}},\
                 \"completion_tokens_details\":{{\"reasoning_tokens\":0}}}}",
                prompt + completion
            ),
        );
        out.extend_from_slice(b"data: [DONE]\n\n");
    }
    out
}

/// The huge event's content, repeated: prose as a model writes it, raw non-ASCII text, and
/// the escapes of Markdown output (paragraph breaks, quotes, a tab, a backslash): 7 in every 255
/// bytes. Content that is an escape every few bytes decodes several times slower
/// with any JSON parser (serde_json and simd-json alike); that is not what this workload
/// measures.
const PARAGRAPH: &str = r#"The parser reads every byte once, whatever the size of the reads: an event of eight mebibytes costs what it costs in one read. Les cafés naïfs servent du thé; 日本語のテキストも 🦀 passent.\n\nA \"quoted\" word,\ta tab, and a path C:\\tmp.\n"#;

/// One event: a single `data:` line holding a chunk whose content is at least `content`
/// bytes of JSON string.
pub fn huge_event(content: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(content + PARAGRAPH.len() + 512);
    out.extend_from_slice(
        b"data: {\"id\":\"chatcmpl-huge\",\"object\":\"chat.completion.chunk\",\
          \"created\":1773932891,\"model\":\"gpt-4o-mini-2024-07-18\",\
          \"choices\":[{\"index\":0,\"delta\":{\"content\":\"",
    );
    let start = out.len();
    while out.len() - start < content {
        out.extend_from_slice(PARAGRAPH.as_bytes());
    }
    out.extend_from_slice(b"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
    out
}

/// The same events with each `data:` line's JSON split over several `data:` lines: a line is
/// broken after a comma outside strings once it holds at least `at_least` bytes. The joined
/// data (lines joined with LF) is the original JSON with LFs after some commas: the same
/// document. Other lines are copied as they are.
pub fn multiline(traffic: &[u8], at_least: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(traffic.len() + traffic.len() / 8);
    for line in traffic.split_inclusive(|&b| b == b'\n') {
        let Some(json) = line
            .strip_prefix(b"data: ")
            .and_then(|rest| rest.strip_suffix(b"\n"))
        else {
            out.extend_from_slice(line);
            continue;
        };
        let (mut in_string, mut escaped, mut start) = (false, false, 0);
        for (i, &b) in json.iter().enumerate() {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
            } else if b == b'"' {
                in_string = true;
            } else if b == b',' && i + 1 - start >= at_least {
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(&json[start..=i]);
                out.push(b'\n');
                start = i + 1;
            }
        }
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&json[start..]);
        out.push(b'\n');
    }
    out
}

/// The same events in a random (fixed) order: each event, up to and including the blank line
/// that ends it, moves as a whole. Consecutive chunks then come from different streams, so
/// they rarely share an envelope: the case where ssechunk's decoder cannot reuse the previous
/// chunk's parse.
pub fn shuffled(traffic: &[u8]) -> Vec<u8> {
    let mut events = Vec::new();
    let mut start = 0;
    for end in memchr::memmem::find_iter(traffic, b"\n\n") {
        if end >= start {
            events.push(&traffic[start..end + 2]);
            start = end + 2;
        }
    }
    let rest = &traffic[start..];
    let mut rng = Rng(0x5EED_CAFE);
    for i in (1..events.len()).rev() {
        events.swap(i, rng.below(i + 1));
    }
    let mut out = events.concat();
    out.extend_from_slice(rest);
    out
}
