//! Property tests: generated chat-completion streams, written with every JSON spelling the
//! grammar allows, framed as SSE and fed to `ChunkStream` at random split points. Every payload
//! must equal the serde_json reference, and the accumulated message the reference
//! accumulation, at any split.
//!
//! A stream is generated as `serde_json::Value`s, which are the truth; the writer below spells
//! each one out with random escapes (`\u00e9`, surrogate pairs, `\/`), random whitespace
//! (including newlines, which make multi-line `data`), shuffled keys, decoy duplicate keys
//! placed before the real ones (the last key wins), and raw invalid UTF-8 bytes where the
//! truth holds U+FFFD. The reference decoding of the written text must equal the reference
//! decoding of the value, which checks the writer, before the crate is compared with both.
//!
//! The decoder has three paths: the specialised fast path, its template reuse (a chunk that
//! differs from the last one parsed in full only inside string values), and simd-json for
//! whatever the fast path declines. The generators are built to reach all three as a real
//! stream does: most documents are ones the fast path takes (escaped keys, exponents and raw
//! invalid UTF-8, which it declines, are in a small fraction of them), chunks come in runs of
//! one envelope whose strings change from one chunk to the next, and the recorded corpus's
//! envelopes serve as templates. Every decode is also made through
//! `ChunkDecoder::decode_traced`, which says which path took it; that payload is compared with
//! the serde_json reference, and each property prints and asserts how many decodes each path
//! handled, so that a generator that drifts away from the fast path fails.

#[path = "common/chunk_reference.rs"]
mod chunk_reference;

use chunk_reference::{
    Decoded, Item, Paths, RefAccumulator, RefPayload, Rng, decode, reference, reference_event,
    reference_value,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use ssechunk::ChunkDecoder;
use std::cell::RefCell;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// Values.

/// Text with what needs escaping, raw UTF-8 of every width, emoji, line separators, U+FFFD.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => "[a-zA-Z0-9 ,.!?{}:]{1,6}",
        2 => prop::sample::select(vec![
            "\n", "\"", "\\", "/", "\r\n", "\t", "\u{8}", "\u{c}", "\u{0}", "\u{1f}", "\u{7f}",
        ]).prop_map(str::to_owned),
        2 => "[éüßñÀ中文日本語]{1,3}",
        2 => prop::sample::select(vec![
            "😀", "🦀", "👩‍💻", "\u{2028}", "\u{2029}", "\u{fffd}", "\u{feff}", "\u{10ffff}",
        ]).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.concat())
}

/// A value of any JSON type, for fields that must cope with the wrong one.
fn junk() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Mostly numbers the fast path reads; large ones are written with an exponent.
        (-1e6f64..1e6).prop_map(Value::from),
        (-1e22f64..1e22).prop_map(Value::from),
        Just(json!(2.0)),
        text().prop_map(Value::String),
        Just(json!([])),
        Just(json!({})),
        Just(json!([1, "content", {"delta": {"content": "nested"}}])),
        Just(json!({"content": "nested", "index": 1, "message": "m"})),
    ]
}

/// A field: mostly of the right kind, sometimes absent, rarely of any type.
fn field(right: impl Strategy<Value = Value>) -> impl Strategy<Value = Option<Value>> {
    // A field of another shape makes the whole event invalid (and sends it the slow way), so
    // it is rare enough that most documents stay chunks the fast path can take.
    prop_oneof![
        30 => Just(None),
        150 => right.prop_map(Some),
        1 => junk().prop_map(Some),
    ]
}

fn string() -> impl Strategy<Value = Value> {
    text().prop_map(Value::String)
}

/// Counts: small, any `u64`, or one too big for it.
fn count() -> impl Strategy<Value = Value> {
    prop_oneof![
        16 => (0u64..100).prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => Just(json!(1e20)),
    ]
}

/// Indexes that repeat, so that fragments merge.
fn index() -> impl Strategy<Value = Value> {
    prop_oneof![8 => (0u64..3).prop_map(Value::from), 1 => count()]
}

/// A tool call's index: mostly one that repeats, sometimes `null` (Gemini's
/// OpenAI-compatible endpoint sends none).
fn tool_index() -> impl Strategy<Value = Value> {
    prop_oneof![8 => index(), 1 => Just(Value::Null)]
}

/// `delta.content`: mostly a string, sometimes an array of typed parts (Mistral's): text
/// parts, and thinking parts whose `thinking` is a string or an array of text parts.
fn content() -> impl Strategy<Value = Value> {
    let text_part = || string().prop_map(|t| json!({"type": "text", "text": t}));
    let thinking = prop_oneof![
        string(),
        prop::collection::vec(text_part(), 0..3).prop_map(Value::Array),
    ];
    let part = prop_oneof![
        3 => text_part(),
        2 => thinking.prop_map(|t| json!({"type": "thinking", "thinking": t})),
    ];
    // Rare: a document holding one goes the slow way.
    prop_oneof![
        40 => string(),
        1 => prop::collection::vec(part, 0..4).prop_map(Value::Array),
    ]
}

/// `function.arguments`: mostly a fragment of text, sometimes a JSON value sent as such.
fn arguments() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        string(),
        (0u64..1000).prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    let value = leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,5}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    // Rare: a document holding one goes the slow way.
    prop_oneof![
        40 => string(),
        1 => prop::collection::btree_map("[a-z]{1,5}", value.clone(), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => prop::collection::vec(value, 0..3).prop_map(Value::Array),
    ]
}

/// Fields nobody asked for, some of them with the names of known fields inside.
fn unknown() -> impl Strategy<Value = Vec<(String, Value)>> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "obfuscation",
            "logprobs",
            "x_groq",
            "object",
            "service_tier",
            "annotations",
            "strict",
            "queue_time",
        ])
        .prop_map(str::to_owned),
        "x_[a-z]{1,6}",
    ];
    // Mostly values as providers send them (the fast path reads these), sometimes anything.
    let value = prop_oneof![
        6 => prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0u64..1_000_000).prop_map(Value::from),
            (-1e3f64..1e3).prop_map(Value::from),
            string(),
            Just(json!([])),
            Just(json!({"tokens": [1, 2], "bytes": null})),
        ],
        1 => junk(),
    ];
    prop::collection::vec((key, value), 0..3)
}

/// An object of the present fields, then the unknown ones.
fn object(fields: Vec<(&str, Option<Value>)>, extra: Vec<(String, Value)>) -> Value {
    let mut map = Map::new();
    for (key, value) in fields {
        if let Some(value) = value {
            map.insert(key.to_owned(), value);
        }
    }
    for (key, value) in extra {
        map.entry(key).or_insert(value);
    }
    Value::Object(map)
}

/// An array whose elements are mostly `element`, rarely anything (which makes the event
/// invalid when the array is one the decoder reads).
fn array(element: impl Strategy<Value = Value>, max: usize) -> impl Strategy<Value = Value> {
    prop::collection::vec(prop_oneof![100 => element, 1 => junk()], 0..max).prop_map(Value::Array)
}

fn tool_call() -> impl Strategy<Value = Value> {
    let function = (field(string()), field(arguments()), unknown())
        .prop_map(|(name, args, extra)| object(vec![("name", name), ("arguments", args)], extra));
    (
        field(tool_index()),
        field(string()),
        field(Just(json!("function"))),
        field(function),
        unknown(),
    )
        .prop_map(|(index, id, kind, function, extra)| {
            object(
                vec![
                    ("index", index),
                    ("id", id),
                    ("type", kind),
                    ("function", function),
                ],
                extra,
            )
        })
}

/// `delta.reasoning_details`: an array of OpenRouter's reasoning objects.
fn reasoning_details() -> impl Strategy<Value = Value> {
    let detail = (
        string(),
        prop::sample::select(vec!["reasoning.text", "reasoning.encrypted"]),
    )
        .prop_map(
            |(text, kind)| json!({"type": kind, "text": text, "format": "unknown", "index": 0}),
        );
    prop::collection::vec(detail, 0..3).prop_map(Value::Array)
}

fn delta() -> impl Strategy<Value = Value> {
    (
        field(prop_oneof![
            Just(json!("assistant")),
            Just(json!("")),
            string()
        ]),
        field(content()),
        field(string()),
        // `reasoning_content` and `reasoning`: a provider sends one of them; both (which the
        // fast path leaves to the slow way) now and then.
        prop_oneof![
            4 => (field(string()), Just(None)),
            4 => (Just(None), field(string())),
            1 => (field(string()), field(string())),
        ],
        field(array(tool_call(), 3)),
        // OpenRouter's opaque reasoning, rare: a document holding one is taken by the fast path
        // only when the writer happened to leave the array compact.
        prop_oneof![
            20 => Just(None),
            1 => field(reasoning_details()),
        ],
        unknown(),
    )
        .prop_map(|(role, content, refusal, (rc, r), tools, details, extra)| {
            object(
                vec![
                    ("role", role),
                    ("content", content),
                    ("refusal", refusal),
                    ("reasoning_content", rc),
                    ("reasoning", r),
                    ("tool_calls", tools),
                    ("reasoning_details", details),
                ],
                extra,
            )
        })
}

fn choice() -> impl Strategy<Value = Value> {
    let reason = prop_oneof![
        Just(Value::Null),
        prop::sample::select(vec!["stop", "length", "tool_calls", "content_filter", ""])
            .prop_map(Value::from),
        string(),
    ];
    (
        field(index()),
        field(reason),
        prop_oneof![50 => delta().prop_map(Some), 1 => field(junk())],
        unknown(),
    )
        .prop_map(|(index, reason, delta, extra)| {
            object(
                vec![
                    ("index", index),
                    ("finish_reason", reason),
                    ("delta", delta),
                ],
                extra,
            )
        })
}

fn usage() -> impl Strategy<Value = Value> {
    let detail = |key: &'static str| {
        (field(count()), unknown()).prop_map(move |(n, extra)| object(vec![(key, n)], extra))
    };
    (
        field(count()),
        field(count()),
        field(count()),
        field(detail("cached_tokens")),
        field(detail("reasoning_tokens")),
        unknown(),
    )
        .prop_map(|(p, c, t, pd, cd, extra)| {
            object(
                vec![
                    ("prompt_tokens", p),
                    ("completion_tokens", c),
                    ("total_tokens", t),
                    ("prompt_tokens_details", pd),
                    ("completion_tokens_details", cd),
                ],
                extra,
            )
        })
}

fn chunk() -> impl Strategy<Value = Value> {
    let choices = prop_oneof![
        8 => array(choice(), 4),
        1 => Just(json!([])),
        1 => Just(Value::Null),
    ];
    // Rarely an `error`: an object or a non-empty string makes the data an API error, other
    // values leave it a chunk.
    let error = prop_oneof![
        24 => Just(None),
        1 => junk().prop_map(Some),
        1 => string().prop_map(Some),
    ];
    // Groq's extras, whose usage counts when the chunk has none.
    let groq = prop_oneof![
        8 => Just(None),
        1 => Just(Some(json!({"id": "req_1"}))),
        1 => field(usage()).prop_map(|u| Some(json!({ "id": "req_1", "usage": u }))),
    ];
    (
        (
            field(string()),
            field(string()),
            field(count()),
            field(string()),
        ),
        field(choices),
        prop_oneof![4 => Just(None), 1 => field(usage())],
        error,
        field(string()),
        groq,
        unknown(),
    )
        .prop_map(
            |((id, model, created, fp), choices, usage, error, error_type, groq, extra)| {
                // text-generation-inference sends `error_type` beside an `error` string.
                let error_type = error_type.filter(|_| matches!(error, Some(Value::String(_))));
                object(
                    vec![
                        ("id", id),
                        ("object", Some(json!("chat.completion.chunk"))),
                        ("created", created),
                        ("model", model),
                        ("system_fingerprint", fp),
                        ("choices", choices),
                        ("usage", usage),
                        ("error", error),
                        ("error_type", error_type),
                        ("x_groq", groq),
                    ],
                    extra,
                )
            },
        )
}

fn api_error() -> impl Strategy<Value = Value> {
    let code = prop_oneof![
        string(),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
    ];
    (
        field(string()),
        field(string()),
        field(code),
        field(string()),
        unknown(),
    )
        .prop_map(|(message, kind, code, param, extra)| {
            let error = object(
                vec![
                    ("message", message),
                    ("type", kind),
                    ("code", code),
                    ("param", param),
                ],
                extra,
            );
            json!({ "error": error })
        })
}

/// The data of every event of every Chat Completions stream of the corpus, stream by stream
/// (empty without the corpus).
fn corpus_events() -> &'static [Vec<Vec<u8>>] {
    static EVENTS: OnceLock<Vec<Vec<Vec<u8>>>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        let Some(corpus) = chunk_reference::load_corpus() else {
            return Vec::new();
        };
        corpus
            .chat
            .iter()
            .map(|(_, body)| {
                decode(body, &[])
                    .events()
                    .map(|(data, _)| data.to_vec())
                    .collect()
            })
            .collect()
    })
}

/// The chunks of the corpus as values: the envelopes real providers send (their keys, their
/// ids and fingerprints, their `null`s and extra fields).
fn corpus_values() -> &'static [Value] {
    static VALUES: OnceLock<Vec<Value>> = OnceLock::new();
    VALUES.get_or_init(|| {
        corpus_events()
            .iter()
            .flatten()
            .filter_map(|data| serde_json::from_slice::<Value>(data).ok())
            .filter(Value::is_object)
            .collect()
    })
}

/// A chunk of the corpus, or a generated one when the corpus is absent.
fn corpus_chunk() -> BoxedStrategy<Value> {
    if corpus_values().is_empty() {
        chunk().boxed()
    } else {
        prop::sample::select(corpus_values()).boxed()
    }
}

/// One event's data.
#[derive(Debug, Clone)]
enum Data {
    /// A value, to be written by [`Writer`].
    Json(Value),
    /// Bytes as they are, for data that is not JSON.
    Raw(&'static [u8]),
}

fn data() -> impl Strategy<Value = Data> {
    prop_oneof![
        8 => chunk().prop_map(Data::Json),
        4 => corpus_chunk().prop_map(Data::Json),
        1 => api_error().prop_map(Data::Json),
        1 => junk().prop_map(Data::Json),
        1 => prop::sample::select(vec![
            &b"not json"[..], b" [DONE]", b"[DONE] ", b"{\"id\":", b"", b"{}{}",
            br#"{"choices":[{"delta":{"content":"\ud800"}}]}"#, b"{\"a\":1}\xff",
        ]).prop_map(Data::Raw),
    ]
}

/// One event of the stream, or a run of them.
#[derive(Debug, Clone)]
struct Ev {
    event_type: Option<&'static str>,
    data: Data,
    keep_alive_before: bool,
    /// How many events this one stands for: when the data is a value, the first is the value
    /// and each one after it the value with some of its strings changed, written with the
    /// same whitespace, key order and decoys, as a stream's chunks repeat their envelope.
    run: usize,
}

/// Run lengths: mostly a few chunks, sometimes a long run, sometimes one alone.
fn run_length() -> impl Strategy<Value = usize> {
    prop_oneof![2 => Just(1usize), 5 => 2usize..8, 2 => 8usize..40]
}

fn event() -> impl Strategy<Value = Ev> {
    (
        prop_oneof![6 => Just(None), 1 => prop::sample::select(vec!["message", "error", "delta"]).prop_map(Some)],
        data(),
        prop::bool::weighted(0.1),
        run_length(),
    )
        .prop_map(|(event_type, data, keep_alive_before, run)| Ev {
            event_type,
            data,
            keep_alive_before,
            run,
        })
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// Spells a value out as JSON, choosing among the spellings the grammar allows.
///
/// Two generators: `layout` draws the whitespace, the key order and the decoys, `text` the
/// spelling of strings. Writing values of one shape with the same layout seed gives the same
/// bytes outside their strings, whatever the strings hold, as a stream's chunks do.
struct Writer {
    layout: Rng,
    text: Rng,
    out: Vec<u8>,
    /// Whether ASCII characters of keys may be `\u`-escaped (the fast path declines escaped
    /// keys; a small fraction of documents have them).
    escape_keys: bool,
    /// Whether U+FFFD may be written as raw invalid UTF-8 (the fast path declines invalid
    /// UTF-8; a small fraction of documents have it).
    raw_invalid: bool,
}

impl Writer {
    /// A writer whose layout and per-document choices come from `layout_seed`, and whose
    /// string spellings come from `text_seed`.
    fn new(layout_seed: u64, text_seed: u64) -> Self {
        let mut layout = Rng::new(layout_seed);
        let escape_keys = layout.below(12) == 0;
        let raw_invalid = layout.below(8) == 0;
        Writer {
            layout,
            text: Rng::new(text_seed),
            out: Vec::new(),
            escape_keys,
            raw_invalid,
        }
    }

    /// A document's worth of JSON: optional whitespace around the value.
    fn document(mut self, value: &Value) -> Vec<u8> {
        self.ws();
        self.value(value);
        self.ws();
        self.out
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.layout.below(one_in) == 0
    }

    fn text_chance(&mut self, one_in: usize) -> bool {
        self.text.below(one_in) == 0
    }

    /// Optional whitespace; a newline here makes the data multi-line once framed. Sometimes a
    /// long run of spaces, as Anthropic pads its events.
    fn ws(&mut self) {
        if self.chance(4) {
            for _ in 0..=self.layout.below(3) {
                let b = [b' ', b'\t', b'\n', b' '][self.layout.below(4)];
                self.out.push(b);
            }
        }
        if self.chance(50) {
            self.out.extend_from_slice(&[b' '; 24]);
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Bool(b) => self
                .out
                .extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Number(n) => self.out.extend_from_slice(n.to_string().as_bytes()),
            Value::String(s) => self.string(s, false),
            Value::Array(items) => {
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.ws();
                    self.value(item);
                    self.ws();
                }
                self.ws();
                self.out.push(b']');
            }
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                for i in (1..entries.len()).rev() {
                    let j = self.layout.below(i + 1);
                    entries.swap(i, j);
                }
                self.out.push(b'{');
                let mut first = true;
                for (key, value) in entries {
                    // A decoy with the same key before the real entry: the last one wins. (A
                    // decoy of another shape sends the document the slow way, so it is rare.)
                    if self.chance(40) {
                        let decoys = [
                            json!(null),
                            json!("decoy"),
                            json!(7),
                            json!({"content": "decoy", "message": "decoy"}),
                            json!([{"delta": {"content": "decoy"}}]),
                        ];
                        let decoy = decoys[self.layout.below(decoys.len())].clone();
                        self.entry(&mut first, key, &decoy);
                    }
                    self.entry(&mut first, key, value);
                }
                self.ws();
                self.out.push(b'}');
            }
        }
    }

    fn entry(&mut self, first: &mut bool, key: &str, value: &Value) {
        if !*first {
            self.out.push(b',');
        }
        *first = false;
        self.ws();
        self.string(key, true);
        self.ws();
        self.out.push(b':');
        self.ws();
        self.value(value);
        self.ws();
    }

    fn string(&mut self, s: &str, key: bool) {
        // 0: raw UTF-8, 1: every non-ASCII character escaped, 2: a mix.
        let style = self.text.below(3);
        let escape_ascii = !key || self.escape_keys;
        self.out.push(b'"');
        for c in s.chars() {
            let escape = style == 1 || (style == 2 && self.text_chance(2));
            match c {
                '"' => self.out.extend_from_slice(b"\\\""),
                '\\' => self.out.extend_from_slice(b"\\\\"),
                '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' if !self.text_chance(3) => {
                    let short = match c {
                        '\n' => b'n',
                        '\r' => b'r',
                        '\t' => b't',
                        '\u{8}' => b'b',
                        _ => b'f',
                    };
                    self.out.extend_from_slice(&[b'\\', short]);
                }
                '/' if self.text_chance(2) => self.out.extend_from_slice(b"\\/"),
                // Raw bytes that are not UTF-8 and read back as one U+FFFD each; none of them
                // can continue the bytes written before or after it.
                '\u{fffd}' if self.raw_invalid && self.text_chance(2) => {
                    let bad: [&[u8]; 4] = [b"\xff", b"\xfe", b"\xc3", b"\xe2\x82"];
                    self.out.extend_from_slice(bad[self.text.below(bad.len())]);
                }
                c if c < ' '
                    || (c.is_ascii() && escape_ascii && self.text_chance(20))
                    || (!c.is_ascii() && escape) =>
                {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        let hex = if self.text_chance(2) {
                            format!("\\u{unit:04x}")
                        } else {
                            format!("\\u{unit:04X}")
                        };
                        self.out.extend_from_slice(hex.as_bytes());
                    }
                }
                c => {
                    let mut buf = [0u8; 4];
                    self.out
                        .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        self.out.push(b'"');
    }
}

/// A random piece of text, drawn like [`text`]: what needs escaping, every UTF-8 width,
/// emoji, U+FFFD, and mostly plain words.
fn random_text(rng: &mut Rng) -> String {
    const SPECIAL: &[&str] = &[
        "\n", "\"", "\\", "/", "\r\n", "\t", "\u{8}", "\u{0}", "\u{1f}", "\u{7f}",
    ];
    const WIDE: &[&str] = &[
        "é",
        "ß",
        "中文",
        "日本語",
        "😀",
        "🦀",
        "👩‍💻",
        "\u{2028}",
        "\u{fffd}",
        "\u{10ffff}",
    ];
    const WORDS: &[&str] = &[
        "Hello", " world", ",", " the", " answer", " is", " 42", "!", " ",
    ];
    let mut out = String::new();
    for _ in 0..rng.below(6) {
        match rng.below(10) {
            0 => out.push_str(SPECIAL[rng.below(SPECIAL.len())]),
            1 | 2 => out.push_str(WIDE[rng.below(WIDE.len())]),
            _ => out.push_str(WORDS[rng.below(WORDS.len())]),
        }
    }
    out
}

/// `value` with some of its string values (never keys) replaced by new text: the next chunk
/// of a run, which differs from the one before only inside strings.
fn vary(value: &Value, rng: &mut Rng) -> Value {
    match value {
        Value::String(_) if rng.below(2) == 0 => Value::String(random_text(rng)),
        Value::Array(items) => Value::Array(items.iter().map(|v| vary(v, rng)).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), vary(v, rng))).collect())
        }
        other => other.clone(),
    }
}

/// A generated stream: its bytes, and per event the data written and the type expected.
struct Written {
    bytes: Vec<u8>,
    events: Vec<(Vec<u8>, Vec<u8>, RefPayload)>,
}

fn write_stream(events: &[Ev], done: bool, seed: u64) -> Written {
    let mut rng = Rng::new(seed);
    let eol: &[u8] = [&b"\n"[..], b"\r\n", b"\r"][rng.below(3)];
    let mut bytes = Vec::new();
    let mut written = Vec::new();
    let done_event = Ev {
        event_type: None,
        data: Data::Raw(b"[DONE]"),
        keep_alive_before: false,
        run: 1,
    };
    for ev in events.iter().chain(done.then_some(&done_event)) {
        let layout = rng.next_u64();
        for k in 0..ev.run.max(1) {
            let (data, truth) = match &ev.data {
                Data::Json(value) => {
                    let value = if k == 0 {
                        value.clone()
                    } else {
                        vary(value, &mut rng)
                    };
                    let data = Writer::new(layout, rng.next_u64()).document(&value);
                    // The text is the error message of last resort, so the truth reads it.
                    let truth = reference_value(&value, &String::from_utf8_lossy(&data));
                    (data, Some(truth))
                }
                Data::Raw(raw) => (raw.to_vec(), None),
            };
            let event_type = ev.event_type.unwrap_or("message").as_bytes().to_vec();
            let expected = reference_event(&event_type, &data);
            // An `error` event is an error whatever its data: the truth of the value is the
            // data's.
            if let Some(truth) = truth.filter(|_| event_type != b"error") {
                assert_eq!(
                    expected,
                    truth,
                    "the writer changed the meaning of {:?}",
                    String::from_utf8_lossy(&data)
                );
            }
            if ev.keep_alive_before && k == 0 {
                bytes.extend_from_slice(b": keep-alive");
                bytes.extend_from_slice(eol);
                bytes.extend_from_slice(eol);
            }
            if let Some(t) = ev.event_type {
                bytes.extend_from_slice(b"event: ");
                bytes.extend_from_slice(t.as_bytes());
                bytes.extend_from_slice(eol);
            }
            for line in data.split(|&b| b == b'\n') {
                // `data:` without its optional space only where no space starts the value.
                let no_space = !line.starts_with(b" ") && rng.below(4) == 0;
                bytes.extend_from_slice(if no_space { b"data:" } else { b"data: " });
                bytes.extend_from_slice(line);
                bytes.extend_from_slice(eol);
            }
            bytes.extend_from_slice(eol);
            written.push((event_type, data, expected));
        }
    }
    Written {
        bytes,
        events: written,
    }
}

/// Checks one run of the stream against what was written and against the reference.
fn check(run: &Decoded, written: &Written, what: &str) {
    let events: Vec<_> = run
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Event {
                event_type,
                data,
                payload,
                ..
            } => Some((event_type, data, payload)),
            Item::Comment(_) => None,
            other => panic!("{what}: unexpected {other:?}"),
        })
        .collect();
    assert_eq!(events.len(), written.events.len(), "{what}: event count");
    let mut acc = RefAccumulator::new();
    for (n, ((event_type, data, payload), (want_type, want_data, want))) in
        events.iter().zip(&written.events).enumerate()
    {
        assert_eq!(*data, want_data, "{what}: event {n} data");
        assert_eq!(*event_type, want_type, "{what}: event {n} type");
        assert_eq!(
            *payload,
            want,
            "{what}: event {n} payload; data {:?}",
            String::from_utf8_lossy(want_data)
        );
        acc.push(want);
    }
    assert_eq!(run.message, acc.message(), "{what}: accumulated message");
}

fn cuts_from(indexes: &[Index], len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = indexes.iter().map(|i| i.index(len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

// ---------------------------------------------------------------------------------------------
// Which path decoded what.

/// Decodes every written event's data in order through one decoder, as the stream's own
/// decoder sees them, with `decode_traced`: whichever path takes a document, its payload must
/// be the reference's. Counts the paths.
fn trace(written: &Written, paths: &mut Paths) -> Result<(), TestCaseError> {
    let mut decoder = ChunkDecoder::new();
    for (n, (event_type, data, want)) in written.events.iter().enumerate() {
        let (got, path) = chunk_reference::traced_event(&mut decoder, event_type, data);
        prop_assert_eq!(
            &got,
            want,
            "event {} on the {:?} path; data {:?}",
            n,
            path,
            String::from_utf8_lossy(data)
        );
        paths.add(path);
    }
    Ok(())
}

/// Runs `test` on `cases` cases of `strategy` (failures are shrunk and persisted as with the
/// `proptest!` macro), then checks the paths counted.
fn run_property<S: Strategy>(
    property: &str,
    cases: u32,
    strategy: S,
    min_fast_percent: u64,
    min_template: u64,
    test: impl Fn(S::Value, &mut Paths) -> Result<(), TestCaseError>,
) {
    let config = ProptestConfig {
        source_file: Some(file!()),
        ..ProptestConfig::with_cases(cases)
    };
    let paths = RefCell::new(Paths::default());
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, |value| test(value, &mut paths.borrow_mut())) {
        panic!("{property}: {e}");
    }
    paths
        .into_inner()
        .check(property, min_fast_percent, min_template);
}

/// Runs `f` on a thread with a large stack: generating the nested strategies of a chunk
/// makes deep frames in a debug build.
fn on_big_stack(f: impl FnOnce() + Send) {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn_scoped(scope, f)
            .expect("a test thread");
        if let Err(panic) = thread.join() {
            std::panic::resume_unwind(panic);
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The properties.

#[test]
fn streams_match_the_reference_at_any_split() {
    on_big_stack(|| {
        let strategy = (
            prop::collection::vec(event(), 0..8),
            prop::bool::weighted(0.8),
            any::<u64>(),
            prop::collection::vec(prop::collection::vec(any::<Index>(), 0..24), 1..4),
        );
        run_property(
            "streams_match_the_reference_at_any_split",
            256,
            strategy,
            FAST_PERCENT_STREAMS,
            TEMPLATE_STREAMS,
            |(events, done, seed, splits), paths| {
                let written = write_stream(&events, done, seed);
                trace(&written, paths)?;
                let whole = decode(&written.bytes, &[]);
                check(&whole, &written, "whole");
                for indexes in &splits {
                    let cuts = cuts_from(indexes, written.bytes.len());
                    let split = decode(&written.bytes, &cuts);
                    check(&split, &written, &format!("cuts {cuts:?}"));
                    prop_assert!(split == whole, "cuts {:?} differ from whole", cuts);
                }
                Ok(())
            },
        );
    });
}

/// Tool-call and multi-choice heavy streams: the same property, with every event a chunk,
/// so merging by index is exercised on long runs of fragments.
#[test]
fn chunk_only_streams_accumulate_like_the_reference() {
    on_big_stack(|| {
        let chunk_run =
            (prop_oneof![2 => chunk(), 1 => corpus_chunk()], run_length()).prop_map(|(c, run)| {
                Ev {
                    event_type: None,
                    data: Data::Json(c),
                    keep_alive_before: false,
                    run,
                }
            });
        let strategy = (
            prop::collection::vec(chunk_run, 1..6),
            any::<u64>(),
            prop::collection::vec(any::<Index>(), 0..32),
        );
        run_property(
            "chunk_only_streams_accumulate_like_the_reference",
            256,
            strategy,
            FAST_PERCENT_STREAMS,
            TEMPLATE_STREAMS,
            |(events, seed, indexes), paths| {
                let written = write_stream(&events, true, seed);
                trace(&written, paths)?;
                let cuts = cuts_from(&indexes, written.bytes.len());
                let run = decode(&written.bytes, &cuts);
                check(&run, &written, &format!("cuts {cuts:?}"));
                Ok(())
            },
        );
    });
}

/// The streams' floors: the share of decodes the fast path must take, and the template reuses
/// that must happen, over the 256 cases of each stream property. The share depends on the
/// cases drawn: over runs it lies between about 39% and 47%, so the floor is set below that.
const FAST_PERCENT_STREAMS: u64 = 33;
const TEMPLATE_STREAMS: u64 = 2000;

/// The byte ranges of the contents of the value strings (not the keys) of a JSON text; exact
/// for valid JSON, and never out of bounds on anything else.
fn value_strings(json: &[u8]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < json.len() {
        if json[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < json.len() && json[end] != b'"' {
            end += if json[end] == b'\\' { 2 } else { 1 };
        }
        if end >= json.len() {
            break;
        }
        let after = json[end + 1..]
            .iter()
            .find(|b| !b" \t\r\n".contains(b))
            .copied();
        if after != Some(b':') {
            found.push((start, end));
        }
        i = end + 1;
    }
    found
}

/// `data` with the contents of some of its value strings replaced by new text, spelled by a
/// [`Writer`] with `seed`; every other byte is the recorded one.
fn respell(data: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut at = 0;
    for (start, end) in value_strings(data) {
        if rng.below(3) != 0 {
            continue;
        }
        out.extend_from_slice(&data[at..start]);
        let mut w = Writer::new(rng.next_u64(), rng.next_u64());
        w.string(&random_text(rng), false);
        // The writer's string without its quotes.
        out.extend_from_slice(&w.out[1..w.out.len() - 1]);
        at = end;
    }
    out.extend_from_slice(&data[at..]);
    out
}

/// The recorded streams' own chunks, in their order, with new strings in them: the real
/// envelopes of 14 providers as templates, and what the fast path and its template reuse
/// make of new content in them (escapes, every UTF-8 width, and now and then invalid UTF-8)
/// must be the reference's.
#[test]
fn recorded_envelopes_with_new_strings_match_the_reference() {
    on_big_stack(|| {
        let streams = corpus_events();
        if streams.is_empty() {
            return;
        }
        // A window of one stream, from its first event half the time.
        let start = prop_oneof![Just(None), any::<Index>().prop_map(Some)];
        let strategy = (0..streams.len(), start, 1usize..64, any::<u64>());
        run_property(
            "recorded_envelopes_with_new_strings_match_the_reference",
            512,
            strategy,
            70,
            // A document with a `reasoning_details` array (OpenRouter's) is parsed in full
            // each time, never kept as a template: fewer reuses than before it was read.
            3500,
            |(stream, start, len, seed), paths| {
                let events = &streams[stream];
                let start = start.map_or(0, |i| i.index(events.len()));
                let mut rng = Rng::new(seed);
                let mut decoder = ChunkDecoder::new();
                for data in events.iter().skip(start).take(len) {
                    let data = if data.as_slice() == b"[DONE]" {
                        data.clone()
                    } else {
                        respell(data, &mut rng)
                    };
                    let want = reference(&data);
                    let (got, path) = chunk_reference::traced(&mut decoder, &data);
                    prop_assert_eq!(
                        &got,
                        &want,
                        "{:?} path; data {:?}",
                        path,
                        String::from_utf8_lossy(&data)
                    );
                    paths.add(path);
                }
                Ok(())
            },
        );
    });
}

/// A byte a mutation may write: JSON's structural characters, escapes, number parts, and
/// bytes that are never valid where they land.
const MUTANTS: &[u8] = b"\"\\{}[],:-+0159.eEu ntfl\x00\x1f\x7f\xff\xc3\xa9\xed";

/// What a mutation may insert inside a value string: text that keeps the document valid
/// (the template's case: only a string changed), and text that does not (a lone surrogate,
/// a bad escape, invalid UTF-8, a quote or a backslash that moves the string's end).
const STRING_MUTANTS: &[&[u8]] = &[
    b"x",
    b" more text",
    "\u{e9}\u{1f600}".as_bytes(),
    br"\n",
    br#"\""#,
    br"\\",
    br"\u00e9",
    br"\ud83d\ude00",
    br"\ud800",
    br"\x",
    b"\t",
    b"\"",
    br"\",
    b"\xff",
    b"\xc3",
];

/// Written chunks (generated, or the corpus's) with a few bytes changed, inserted or deleted,
/// or a piece of text inserted inside a string value: invalid JSON, valid JSON of another
/// shape, or the same chunk with another string. Whatever the decoder makes of them (its fast path must give up wherever it
/// cannot prove validity) must be what the reference makes of them. Each mutant is decoded by
/// a decoder that has just read the chunk it came from (so that its template is tried on
/// it), by a fresh one, and by simd-json alone.
#[test]
fn mutated_chunks_match_the_reference() {
    on_big_stack(|| {
        let strategy = (
            prop_oneof![chunk(), corpus_chunk()],
            any::<u64>(),
            prop::collection::vec(
                (
                    any::<Index>(),
                    any::<Index>(),
                    0usize..10,
                    prop::sample::select(MUTANTS),
                    prop::sample::select(STRING_MUTANTS),
                ),
                1..4,
            ),
        );
        run_property(
            "mutated_chunks_match_the_reference",
            2048,
            strategy,
            // Without the corpus, every original is a generated chunk, fewer of which the fast
            // path takes. A `reasoning_details` array (OpenRouter's originals) is taken only
            // while it is compact, as sent: spacing mutated into it goes the slow way.
            if corpus_values().is_empty() { 30 } else { 35 },
            if corpus_values().is_empty() { 100 } else { 150 },
            |(value, seed, edits), paths| {
                let original = Writer::new(seed, seed.rotate_left(17)).document(&value);
                let mut data = original.clone();
                for (at, within, kind, byte, piece) in edits {
                    let i = at.index(data.len() + 1);
                    let strings = value_strings(&data);
                    match kind {
                        4.. if !strings.is_empty() => {
                            let (start, end) = strings[at.index(strings.len())];
                            let i = start + within.index(end - start + 1);
                            data.splice(i..i, piece.iter().copied());
                        }
                        0 if i < data.len() => data[i] = byte,
                        1 => data.insert(i, byte),
                        2 if i < data.len() => {
                            data.remove(i);
                        }
                        _ => data.truncate(i),
                    }
                }
                let want = reference(&data);
                let mut decoder = ChunkDecoder::new();
                let (payload, path) = chunk_reference::traced(&mut decoder, &original);
                prop_assert_eq!(
                    &payload,
                    &reference(&original),
                    "the original on the {:?} path; data {:?}",
                    path,
                    String::from_utf8_lossy(&original)
                );
                paths.add(path);
                let (payload, path) = chunk_reference::traced(&mut decoder, &data);
                prop_assert_eq!(
                    &payload,
                    &want,
                    "after the original, on the {:?} path; data {:?}",
                    path,
                    String::from_utf8_lossy(&data)
                );
                paths.add(path);
                let fresh = chunk_reference::from_payload(&ChunkDecoder::new().decode(&data));
                prop_assert_eq!(&fresh, &want, "data {:?}", String::from_utf8_lossy(&data));
                let slow = chunk_reference::from_payload(&decoder.decode_with_simd_json(&data));
                prop_assert_eq!(
                    &slow,
                    &want,
                    "simd-json path; data {:?}",
                    String::from_utf8_lossy(&data)
                );
                Ok(())
            },
        );
    });
}
