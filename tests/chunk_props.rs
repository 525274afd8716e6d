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

#[path = "common/chunk_reference.rs"]
mod chunk_reference;

use chunk_reference::{
    Decoded, Item, RefAccumulator, RefPayload, Rng, decode, reference, reference_event,
    reference_value,
};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value, json};

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
        (-1e22f64..1e22).prop_map(Value::from),
        Just(json!(2.0)),
        text().prop_map(Value::String),
        Just(json!([])),
        Just(json!({})),
        Just(json!([1, "content", {"delta": {"content": "nested"}}])),
        Just(json!({"content": "nested", "index": 1, "message": "m"})),
    ]
}

/// A field: mostly of the right kind, sometimes absent, sometimes of any type.
fn field(right: impl Strategy<Value = Value>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        2 => Just(None),
        6 => right.prop_map(Some),
        1 => junk().prop_map(Some),
    ]
}

fn string() -> impl Strategy<Value = Value> {
    text().prop_map(Value::String)
}

/// Counts: small, any `u64`, or one too big for it.
fn count() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (0u64..100).prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => Just(json!(1e20)),
    ]
}

/// Indexes that repeat, so that fragments merge.
fn index() -> impl Strategy<Value = Value> {
    prop_oneof![8 => (0u64..3).prop_map(Value::from), 1 => count()]
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
            "reasoning_details",
            "strict",
            "queue_time",
        ])
        .prop_map(str::to_owned),
        "x_[a-z]{1,6}",
    ];
    prop::collection::vec((key, junk()), 0..3)
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

/// An array whose elements are mostly `element`, sometimes anything.
fn array(element: impl Strategy<Value = Value>, max: usize) -> impl Strategy<Value = Value> {
    prop::collection::vec(prop_oneof![5 => element, 1 => junk()], 0..max).prop_map(Value::Array)
}

fn tool_call() -> impl Strategy<Value = Value> {
    let function = (field(string()), field(string()), unknown())
        .prop_map(|(name, args, extra)| object(vec![("name", name), ("arguments", args)], extra));
    (
        field(index()),
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

fn delta() -> impl Strategy<Value = Value> {
    (
        field(prop_oneof![
            Just(json!("assistant")),
            Just(json!("")),
            string()
        ]),
        field(string()),
        field(string()),
        field(string()),
        field(string()),
        field(array(tool_call(), 3)),
        unknown(),
    )
        .prop_map(|(role, content, refusal, rc, r, tools, extra)| {
            object(
                vec![
                    ("role", role),
                    ("content", content),
                    ("refusal", refusal),
                    ("reasoning_content", rc),
                    ("reasoning", r),
                    ("tool_calls", tools),
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
        prop_oneof![4 => delta().prop_map(Some), 1 => field(junk())],
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
    (
        field(string()),
        field(string()),
        field(count()),
        field(string()),
        field(choices),
        prop_oneof![4 => Just(None), 1 => field(usage())],
        // Rarely an `error` of some type: only an object makes the data an API error.
        prop_oneof![12 => Just(None), 1 => junk().prop_map(Some)],
        unknown(),
    )
        .prop_map(|(id, model, created, fp, choices, usage, error, extra)| {
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
                ],
                extra,
            )
        })
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
        12 => chunk().prop_map(Data::Json),
        1 => api_error().prop_map(Data::Json),
        1 => junk().prop_map(Data::Json),
        1 => prop::sample::select(vec![
            &b"not json"[..], b" [DONE]", b"[DONE] ", b"{\"id\":", b"", b"{}{}",
            br#"{"choices":[{"delta":{"content":"\ud800"}}]}"#, b"{\"a\":1}\xff",
        ]).prop_map(Data::Raw),
    ]
}

/// One event of the stream.
#[derive(Debug, Clone)]
struct Ev {
    event_type: Option<&'static str>,
    data: Data,
    keep_alive_before: bool,
}

fn event() -> impl Strategy<Value = Ev> {
    (
        prop_oneof![6 => Just(None), 1 => prop::sample::select(vec!["message", "error", "delta"]).prop_map(Some)],
        data(),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(event_type, data, keep_alive_before)| Ev {
            event_type,
            data,
            keep_alive_before,
        })
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// Spells a value out as JSON, choosing among the spellings the grammar allows.
struct Writer {
    rng: Rng,
    out: Vec<u8>,
}

impl Writer {
    fn chance(&mut self, one_in: usize) -> bool {
        self.rng.below(one_in) == 0
    }

    /// Optional whitespace; a newline here makes the data multi-line once framed. Sometimes a
    /// long run of spaces, as Anthropic pads its events.
    fn ws(&mut self) {
        if self.chance(4) {
            for _ in 0..=self.rng.below(3) {
                let b = [b' ', b'\t', b'\n', b' '][self.rng.below(4)];
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
            Value::String(s) => self.string(s),
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
                    let j = self.rng.below(i + 1);
                    entries.swap(i, j);
                }
                self.out.push(b'{');
                let mut first = true;
                for (key, value) in entries {
                    // A decoy with the same key before the real entry: the last one wins.
                    if self.chance(10) {
                        let decoys = [
                            json!(null),
                            json!("decoy"),
                            json!(7),
                            json!({"content": "decoy", "message": "decoy"}),
                            json!([{"delta": {"content": "decoy"}}]),
                        ];
                        let decoy = decoys[self.rng.below(decoys.len())].clone();
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
        self.string(key);
        self.ws();
        self.out.push(b':');
        self.ws();
        self.value(value);
        self.ws();
    }

    fn string(&mut self, s: &str) {
        // 0: raw UTF-8, 1: every non-ASCII character escaped, 2: a mix.
        let style = self.rng.below(3);
        self.out.push(b'"');
        for c in s.chars() {
            let escape = style == 1 || (style == 2 && self.chance(2));
            match c {
                '"' => self.out.extend_from_slice(b"\\\""),
                '\\' => self.out.extend_from_slice(b"\\\\"),
                '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' if !self.chance(3) => {
                    let short = match c {
                        '\n' => b'n',
                        '\r' => b'r',
                        '\t' => b't',
                        '\u{8}' => b'b',
                        _ => b'f',
                    };
                    self.out.extend_from_slice(&[b'\\', short]);
                }
                '/' if self.chance(2) => self.out.extend_from_slice(b"\\/"),
                // Raw bytes that are not UTF-8 and read back as one U+FFFD each; none of them
                // can continue the bytes written before or after it.
                '\u{fffd}' if self.chance(2) => {
                    let bad: [&[u8]; 4] = [b"\xff", b"\xfe", b"\xc3", b"\xe2\x82"];
                    self.out.extend_from_slice(bad[self.rng.below(bad.len())]);
                }
                c if c < ' ' || (c.is_ascii() && self.chance(20)) || (!c.is_ascii() && escape) => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        let hex = if self.chance(2) {
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
    };
    for ev in events.iter().chain(done.then_some(&done_event)) {
        let (data, truth) = match &ev.data {
            Data::Json(value) => {
                let mut w = Writer {
                    rng: Rng::new(rng.next_u64()),
                    out: Vec::new(),
                };
                w.ws();
                w.value(value);
                w.ws();
                {
                    // The text is the error message of last resort, so the truth reads it.
                    let truth = reference_value(value, &String::from_utf8_lossy(&w.out));
                    (w.out, Some(truth))
                }
            }
            Data::Raw(raw) => (raw.to_vec(), None),
        };
        let event_type = ev.event_type.unwrap_or("message").as_bytes().to_vec();
        let expected = reference_event(&event_type, &data);
        // An `error` event is an error whatever its data: the truth of the value is the data's.
        if let Some(truth) = truth.filter(|_| event_type != b"error") {
            assert_eq!(
                expected,
                truth,
                "the writer changed the meaning of {:?}",
                String::from_utf8_lossy(&data)
            );
        }
        if ev.keep_alive_before {
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn streams_match_the_reference_at_any_split(
        events in prop::collection::vec(event(), 0..8),
        done in prop::bool::weighted(0.8),
        seed in any::<u64>(),
        splits in prop::collection::vec(prop::collection::vec(any::<Index>(), 0..24), 1..4),
    ) {
        let written = write_stream(&events, done, seed);
        let whole = decode(&written.bytes, &[]);
        check(&whole, &written, "whole");
        for indexes in &splits {
            let cuts = cuts_from(indexes, written.bytes.len());
            let split = decode(&written.bytes, &cuts);
            check(&split, &written, &format!("cuts {cuts:?}"));
            prop_assert!(split == whole, "cuts {:?} differ from whole", cuts);
        }
    }

    /// Tool-call and multi-choice heavy streams: the same property, with every event a chunk,
    /// so merging by index is exercised on long runs of fragments.
    #[test]
    fn chunk_only_streams_accumulate_like_the_reference(
        chunks in prop::collection::vec(chunk(), 1..24),
        seed in any::<u64>(),
        indexes in prop::collection::vec(any::<Index>(), 0..32),
    ) {
        let events: Vec<Ev> = chunks
            .into_iter()
            .map(|c| Ev { event_type: None, data: Data::Json(c), keep_alive_before: false })
            .collect();
        let written = write_stream(&events, true, seed);
        let cuts = cuts_from(&indexes, written.bytes.len());
        let run = decode(&written.bytes, &cuts);
        check(&run, &written, &format!("cuts {cuts:?}"));
    }
}

/// A byte a mutation may write: JSON's structural characters, escapes, number parts, and
/// bytes that are never valid where they land.
const MUTANTS: &[u8] = b"\"\\{}[],:-+0159.eEu ntfl\x00\x1f\x7f\xff\xc3\xa9\xed";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Written chunks with a few bytes changed, inserted or deleted: mostly invalid JSON, or
    /// valid JSON of another shape. Whatever the decoder makes of them (its fast path must give
    /// up wherever it cannot prove validity) must be what the reference makes of them.
    #[test]
    fn mutated_chunks_match_the_reference(
        value in chunk(),
        seed in any::<u64>(),
        edits in prop::collection::vec((any::<Index>(), 0usize..4, prop::sample::select(MUTANTS)), 1..4),
    ) {
        let mut w = Writer { rng: Rng::new(seed), out: Vec::new() };
        w.value(&value);
        let mut data = w.out;
        for (at, kind, byte) in edits {
            let i = at.index(data.len() + 1);
            match kind {
                0 if i < data.len() => data[i] = byte,
                1 => data.insert(i, byte),
                2 if i < data.len() => {
                    data.remove(i);
                }
                _ => data.truncate(i),
            }
        }
        let want = reference(&data);
        let mut decoder = ssechunk::ChunkDecoder::new();
        let fresh = chunk_reference::from_payload(&decoder.decode(&data));
        prop_assert_eq!(&fresh, &want, "data {:?}", String::from_utf8_lossy(&data));
        let slow = chunk_reference::from_payload(&decoder.decode_with_simd_json(&data));
        prop_assert_eq!(&slow, &want, "simd-json path; data {:?}", String::from_utf8_lossy(&data));
    }
}
