//! The recorded corpus through `ChunkStream` and the `Accumulator`, checked event by event
//! against the serde_json reference.
//!
//! The corpus lives outside the repository (`../shared/corpus`, or `$SSECHUNK_CORPUS`); when it
//! is absent these tests say so on stderr and pass, unless `SSECHUNK_REQUIRE_CORPUS=1`.

#[path = "common/chunk_reference.rs"]
mod chunk_reference;

use chunk_reference::{
    Decoded, Item, RefEnding, RefInvalid, RefPayload, Rng, decode, load_corpus, reads_of,
};

/// How many Chat Completions streams the corpus holds (its README says so too).
const CHAT_STREAMS: usize = 152;
/// The `.sse` streams of the other dialects: Anthropic Messages, OpenAI Responses, Gemini.
const ANTHROPIC_STREAMS: usize = 28;
const RESPONSES_STREAMS: usize = 39;
const GEMINI_STREAMS: usize = 42;
/// The AWS binary event-stream bodies (`.awseventstream.bin`).
const BINARY_BODIES: usize = 10;

/// Which dialect a non-Chat-Completions stream speaks, by the event types it carries.
fn dialect(body: &[u8]) -> &'static str {
    let has = |mark: &[u8]| body.windows(mark.len()).any(|w| w == mark);
    if has(b"response.") {
        "responses"
    } else if has(b"message_start") {
        "anthropic"
    } else if has(b"candidates") {
        "gemini"
    } else {
        "unknown"
    }
}

/// Reads the size of a common client buffer, as the whole-stream baseline.
const READ: usize = 64 * 1024;

/// Random split sets tried per file, on top of the 64 KiB reads.
const ROUNDS: u64 = 4;

#[derive(Debug, Default)]
struct Counts {
    files: usize,
    events: usize,
    chunks: usize,
    done: usize,
    api_errors: usize,
    invalid: usize,
    choiceless_chunks: usize,
}

impl Counts {
    fn add(&mut self, decoded: &Decoded) {
        self.files += 1;
        for (_, payload) in decoded.events() {
            self.events += 1;
            match payload {
                RefPayload::Chunk(c) => {
                    self.chunks += 1;
                    self.choiceless_chunks += usize::from(c.choices.is_empty());
                }
                RefPayload::Done => self.done += 1,
                RefPayload::ApiError(_) => self.api_errors += 1,
                RefPayload::Invalid(_) => self.invalid += 1,
                RefPayload::Parts(_) => {}
            }
        }
    }
}

/// The stream at 64 KiB reads, checked against the reference, then at `ROUNDS` random split
/// sets (small socket-like reads, or a few arbitrary cuts), each of which must give the same
/// outcomes and the same message.
fn check_file(name: &str, body: &[u8], seed: u64) -> Decoded {
    let whole = decode(body, &reads_of(body.len(), READ));
    whole.check_reference(name);
    for round in 0..ROUNDS {
        let mut rng = Rng::new(seed.wrapping_mul(31).wrapping_add(round));
        let cuts = if round % 2 == 0 {
            let max_read = [1, 7, 64, 1460][rng.below(4)];
            rng.reads(body.len(), max_read)
        } else {
            rng.cuts(body.len(), 16)
        };
        let split = decode(body, &cuts);
        assert!(
            split == whole,
            "{name}: split (seed {seed}, round {round}) differs from 64 KiB reads; cuts {cuts:?}"
        );
    }
    whole
}

#[test]
fn chat_completion_streams_match_the_reference() {
    let Some(corpus) = load_corpus() else {
        return;
    };
    assert_eq!(
        corpus.chat.len(),
        CHAT_STREAMS,
        "Chat Completions streams in the corpus"
    );
    let mut counts = Counts::default();
    let (mut done, mut finished, mut truncated) = (0, 0, 0);
    for (i, (name, body)) in corpus.chat.iter().enumerate() {
        let decoded = check_file(name, body, i as u64);
        counts.add(&decoded);
        let invalid: Vec<_> = decoded
            .events()
            .filter(|(_, p)| matches!(p, RefPayload::Invalid(_)))
            .map(|(data, _)| String::from_utf8_lossy(data).into_owned())
            .collect();
        assert!(invalid.is_empty(), "{name}: invalid payloads {invalid:?}");
        assert!(
            !decoded.items.contains(&Item::TooLarge),
            "{name}: an event over the default limit"
        );
        match decoded.message.ending {
            RefEnding::Done => done += 1,
            RefEnding::Finished => finished += 1,
            RefEnding::Truncated => truncated += 1,
            RefEnding::Error => panic!("{name}: no recorded chat stream holds an API error"),
        }
        // Every recorded reply says something: text, reasoning or a tool call.
        assert!(
            decoded.message.choices.iter().any(|c| {
                c.content.as_deref().is_some_and(|t| !t.is_empty())
                    || c.reasoning.as_deref().is_some_and(|t| !t.is_empty())
                    || !c.tool_calls.is_empty()
            }),
            "{name}: assembled to nothing: {:?}",
            decoded.message
        );
    }
    assert_eq!(counts.invalid, 0);
    eprintln!(
        "chat completion corpus: {} files, {} events, {} chunks ({} without choices), {} done, \
         {} api errors, {} invalid; messages ending Done {done}, Finished {finished}, \
         Truncated {truncated}",
        counts.files,
        counts.events,
        counts.chunks,
        counts.choiceless_chunks,
        counts.done,
        counts.api_errors,
        counts.invalid,
    );
}

/// The other dialects (Responses API, Anthropic, Gemini) are detected as such, and each of
/// their events decodes to that dialect's parts (their messages are held to each dialect's
/// own reference by tests/dialect_*.rs); nothing is invalid unless its data is not a JSON
/// object.
#[test]
fn other_dialects_are_detected_and_decode_to_parts() {
    let Some(corpus) = load_corpus() else {
        return;
    };
    let mut counts = Counts::default();
    let mut not_objects = Vec::new();
    let mut dialects = std::collections::BTreeMap::new();
    for (i, (name, body)) in corpus.other.iter().enumerate() {
        let want = dialect(body);
        *dialects.entry(want).or_insert(0usize) += 1;
        let decoded = check_file(name, body, 1000 + i as u64);
        counts.add(&decoded);
        for (data, payload) in decoded.events() {
            match payload {
                RefPayload::Parts(got) => assert_eq!(
                    *got,
                    want,
                    "{name}: an event decoded in another dialect: {}",
                    String::from_utf8_lossy(data)
                ),
                RefPayload::Chunk(_) => panic!(
                    "{name}: a {want} event decoded as a chat chunk: {}",
                    String::from_utf8_lossy(data)
                ),
                // `check_reference` has shown serde_json agrees that these are not objects.
                RefPayload::Invalid(why) => {
                    not_objects.push(format!("{name}: {why:?} {}", String::from_utf8_lossy(data)))
                }
                RefPayload::Done | RefPayload::ApiError(_) => {}
            }
        }
    }
    eprintln!(
        "other dialects: {} files {dialects:?}, {} events, {} done, {} api errors, {} invalid",
        counts.files, counts.events, counts.done, counts.api_errors, counts.invalid,
    );
    let want = [
        ("anthropic", ANTHROPIC_STREAMS),
        ("gemini", GEMINI_STREAMS),
        ("responses", RESPONSES_STREAMS),
    ];
    assert_eq!(
        dialects.into_iter().collect::<Vec<_>>(),
        want,
        "the other dialects' streams"
    );
    assert_eq!(
        counts.files,
        ANTHROPIC_STREAMS + RESPONSES_STREAMS + GEMINI_STREAMS
    );
    for line in &not_objects {
        eprintln!("  invalid: {line}");
    }
}

/// Bytes that are not SSE at all: the 10 AWS binary event-stream bodies. What this shows is
/// that they go through framing and decoding, whole and at random splits, without a panic,
/// and that the rules make no event of them (their bytes hold no line the rules dispatch as
/// an event): there is no payload to compare with the reference.
#[test]
fn binary_bodies_do_not_panic() {
    let Some(dir) = chunk_reference::corpus_dir() else {
        return;
    };
    let files = chunk_reference::files_ending(&dir, ".awseventstream.bin");
    let (mut events, mut not_json) = (0, 0);
    for (i, path) in files.iter().enumerate() {
        let body = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let decoded = check_file(&path.display().to_string(), &body, 5000 + i as u64);
        events += decoded.events().count();
        not_json += decoded
            .events()
            .filter(|(_, p)| **p == RefPayload::Invalid(RefInvalid::NotJson))
            .count();
    }
    eprintln!(
        "binary bodies: {} files, {events} events, {not_json} not JSON",
        files.len()
    );
    assert_eq!(
        files.len(),
        BINARY_BODIES,
        "AWS binary bodies in the corpus"
    );
    assert_eq!(events, 0, "an AWS binary body framed as SSE events");
}
