//! The specialised fast path of `ChunkDecoder::decode` and its template reuse, held to an
//! independent oracle: whenever the fast path accepts a document (`decode_fast_only`, or
//! `decode_traced` saying it took it), its payload must be the serde_json reference's
//! (`tests/common/chunk_reference.rs`). `decode` must also give what simd-json alone gives
//! (`decode_with_simd_json`): the fast path may only skip work, never change a result. Each
//! test prints how many documents the fast path and the template reuse took, and the
//! property tests assert a floor for them, so that a comparison that only ever ran simd-json
//! against itself would fail.
//!
//! Inputs are real chunks and hand-made edge cases, then the same with random edits drawn
//! from the bytes that matter to JSON (quotes, escapes, digits, brackets, control and
//! non-ASCII bytes), so that most mutants are near-valid documents.

#[path = "common/chunk_reference.rs"]
mod chunk_reference;

use std::cell::RefCell;

use chunk_reference::{Paths, RefPayload, fast_only, from_payload, reference, traced};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use ssechunk::{ChunkDecoder, DecodePath};

const BASES: &[&str] = &[
    r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1758884734,"model":"m","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"Ol\u00e1 \"x\"\n\ud83d\ude00"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"ab"}"#,
    r#"{"id":"c","choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"add","arguments":"{\"a\": 2, \"b\": 3}"}},{"index":1,"function":{"arguments":"\\u"}}]},"finish_reason":"tool_calls"}]}"#,
    r#"{"choices":[],"usage":{"queue_time":0.035865149,"prompt_tokens":20,"completion_tokens":3,"total_tokens":23,"prompt_tokens_details":{"cached_tokens":5},"completion_tokens_details":{"reasoning_tokens":7}}}"#,
    r#"{"choices":[{"delta":{"reasoning_content":null,"reasoning":"r"}},{"index":2,"delta":{"reasoning":"think"},"finish_reason":"eos_token"}],"x":[1,-2,3.5,true,false,null,{"y":[[]]}]}"#,
    r#"  {"id":"", "model":"" , "choices" : null , "usage" : {}          }  "#,
    r#"{"error":{"message":"bad","type":"invalid_request_error","code":400,"param":null}}"#,
    r#"{"error":"not an object","choices":[{"delta":{"content":"ok"}}]}"#,
    r#"{"created":-1,"choices":[{"index":1e2,"delta":{"content":5}}],"usage":{"prompt_tokens":1.0}}"#,
    r#"{"id":"a","id":"b","choices":[{"delta":{"content":"1"}}],"choices":[{"delta":{"content":"2"},"delta":{"refusal":"no"}}]}"#,
    r#"{"k\u0065y":1,"content":"\u0000\t\b\f\r\/","choices":[{"delta":{"content":"\u2028\u2029"}}]}"#,
    r#"[1,2]"#,
    r#""just a string""#,
    r#"{"choices":[{"delta":{"tool_calls":[1,"x",{"index":3,"function":null}]}}]}"#,
    r#"{"choices":[{"delta":{"reasoning_content":"","reasoning":"r"}},{"delta":{"reasoning":"","reasoning_content":"s"}}]}"#,
];

/// The bytes an edit inserts or writes.
const ALPHABET: &[u8] =
    b"{}[]\":,\\u0123456789abcdefnrtlsE+-. \t\n\r\x00\x1f\x7f\x80\xc3\xa9\xed\xa0\xf0\x9f";

/// Decodes `data` with `decode` on a fresh decoder, which must give the serde_json
/// reference's payload and what simd-json alone gives; and with the fast path alone, which,
/// when it accepts the data, must give the reference's payload too, and then be the path
/// `decode` took. Returns that path.
fn same(data: &[u8]) -> DecodePath {
    let shown = || String::from_utf8_lossy(data).into_owned();
    let want = reference(data);
    let (got, path) = traced(&mut ChunkDecoder::new(), data);
    assert_eq!(got, want, "{path:?} path vs the reference on {:?}", shown());
    let slow = from_payload(&ChunkDecoder::new().decode_with_simd_json(data));
    assert_eq!(got, slow, "decode vs simd-json alone on {:?}", shown());
    match fast_only(&mut ChunkDecoder::new(), data) {
        Some(fast) => {
            assert_eq!(
                fast,
                want,
                "fast path alone vs the reference on {:?}",
                shown()
            );
            assert_eq!(path, DecodePath::Fast, "{:?}", shown());
        }
        None => assert!(
            matches!(path, DecodePath::SimdJson | DecodePath::Done),
            "the fast path declined, yet decode took the {path:?} path on {:?}",
            shown()
        ),
    }
    path
}

/// Runs `test` on `cases` cases of `strategy` (failures are shrunk and persisted as with the
/// `proptest!` macro), then prints the paths counted and checks their floors (see
/// [`Paths::check`]).
fn run_property<S: Strategy>(
    property: &str,
    cases: u32,
    strategy: S,
    floors: (u64, u64),
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
    paths.into_inner().check(property, floors.0, floors.1);
}

#[test]
fn bases_agree_and_match_the_reference() {
    for base in BASES {
        same(base.as_bytes());
        let mut decoder = ChunkDecoder::new();
        let got = from_payload(&decoder.decode(base.as_bytes()));
        assert_eq!(got, reference(base.as_bytes()), "{base}");
    }
}

/// Most prefixes are invalid JSON, which the fast path must decline; the whole bases are
/// taken by it.
#[test]
fn every_prefix_agrees() {
    let mut paths = Paths::default();
    for base in BASES {
        for end in 0..=base.len() {
            paths.add(same(&base.as_bytes()[..end]));
        }
    }
    paths.check("every_prefix_agrees", 0, 0);
    assert!(paths.fast >= 8, "{paths:?}");
}

#[test]
fn chunks_come_out_of_the_fast_path_with_escapes_unescaped() {
    let mut decoder = ChunkDecoder::new();
    match decoder.decode(BASES[0].as_bytes()) {
        ssechunk::Payload::Chunk(chunk) => {
            let content = chunk.choice().and_then(|c| c.content());
            assert_eq!(content, Some("Olá \"x\"\n😀"));
        }
        other => panic!("{other:?}"),
    }
    // A lone surrogate is invalid JSON for both paths.
    assert_eq!(
        from_payload(&decoder.decode(br#"{"choices":[{"delta":{"content":"\ud800"}}]}"#)),
        RefPayload::Invalid(chunk_reference::RefInvalid::NotJson)
    );
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, u8),
    Delete(usize),
    Replace(usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = proptest::sample::select(ALPHABET);
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Replace(i, b)),
    ]
}

fn apply(base: &str, edits: &[Edit]) -> Vec<u8> {
    let mut data = base.as_bytes().to_vec();
    for e in edits {
        match *e {
            Edit::Insert(i, b) => {
                let i = i % (data.len() + 1);
                data.insert(i, b);
            }
            Edit::Delete(i) if !data.is_empty() => {
                let i = i % data.len();
                data.remove(i);
            }
            Edit::Replace(i, b) if !data.is_empty() => {
                let i = i % data.len();
                data[i] = b;
            }
            _ => {}
        }
    }
    data
}

/// Chunk shapes with two string values to vary: `{C}` and `{O}`.
const SHAPES: &[&str] = &[
    r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"{C}"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"{O}"}"#,
    r#"{"id":"{O}","model":"caf\u00e9","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{C}"}}]}}],"x":["\n",1]}"#,
    r#" { "choices" : [ { "delta" : { "reasoning" : "{C}" , "content" : null } } ] , "system_fingerprint" : "{O}" } "#,
    // Unchanged strings after the changed ones, with and without escapes: they move.
    r#"{"choices":[{"delta":{"content":"{C}","role":"assistant"},"finish_reason":"stop"}],"model":"m\"1\"","obfuscation":"{O}","id":"chatcmpl-2","system_fingerprint":"fp\n"}"#,
];

/// String contents, valid and not: escapes, non-ASCII, invalid UTF-8, control bytes, and
/// quotes or backslashes that change where the string ends.
const CONTENTS: &[&[u8]] = &[
    b"",
    b"x",
    b" a longer piece of the reply",
    br"\n",
    br#"\""#,
    br"\\",
    br"\u00e9",
    br"\ud83d\ude00",
    "\u{e9}\u{1f600}".as_bytes(),
    br"\ud800",
    br"\x",
    b"\t",
    br#"a"b"#,
    br"\",
    br"\u00",
    b"\xff",
    b"\xc3",
];

/// `shape` with `{C}` replaced by `c` and `{O}` by `o`.
fn fill(shape: &str, c: &[u8], o: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = shape;
    loop {
        let next = [("{C}", c), ("{O}", o)]
            .into_iter()
            .filter_map(|(mark, with)| rest.find(mark).map(|at| (at, mark.len(), with)))
            .min_by_key(|&(at, ..)| at);
        let Some((at, len, with)) = next else {
            out.extend_from_slice(rest.as_bytes());
            return out;
        };
        out.extend_from_slice(&rest.as_bytes()[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + len..];
    }
}

/// Every pair of contents in every shape, in order through one decoder: each document
/// differs from the one before only inside the two strings, and must decode as it does
/// alone.
#[test]
fn chunks_that_differ_inside_strings_agree() {
    let mut paths = Paths::default();
    for shape in SHAPES {
        let mut decoder = ChunkDecoder::new();
        let mut slow = ChunkDecoder::new();
        for c in CONTENTS {
            for o in CONTENTS {
                let data = fill(shape, c, o);
                let (a, path) = traced(&mut decoder, &data);
                let b = from_payload(&slow.decode_with_simd_json(&data));
                assert_eq!(a, b, "{:?}", String::from_utf8_lossy(&data));
                assert_eq!(
                    a,
                    reference(&data),
                    "{path:?} path; {:?}",
                    String::from_utf8_lossy(&data)
                );
                paths.add(path);
            }
        }
    }
    // Half the contents are valid: a quarter of the pairs, less the first of each shape.
    paths.check("chunks_that_differ_inside_strings_agree", 20, 250);
}

/// An object whose top-level `object` or `type` is `"error"` is an error (vLLM's flat
/// errors), whichever path sees it: parsed in full, or as a template whose declared string
/// changed to `"error"` (escaped or not).
#[test]
fn a_declared_error_is_an_error_on_every_path() {
    let chunk = |key: &str, value: &str| {
        format!(r#"{{"{key}":"{value}","message":"m","choices":[{{"delta":{{"content":"x"}}}}]}}"#)
    };
    for key in ["object", "type"] {
        let mut decoder = ChunkDecoder::new();
        for value in [
            "chat.completion.chunk",
            "error",
            "chunk",
            r"error",
            "errors",
        ] {
            let data = chunk(key, value);
            let (got, path) = traced(&mut decoder, data.as_bytes());
            assert_eq!(got, reference(data.as_bytes()), "{path:?} path on {data}");
            let error = value.ends_with("rror");
            assert_eq!(matches!(got, RefPayload::ApiError(_)), error, "{data}");
            if !error {
                // A declared string that is not "error" keeps the template.
                assert_ne!(path, DecodePath::SimdJson, "{data}");
            }
        }
    }
}

#[test]
fn mutants_agree() {
    let strategy = (
        proptest::sample::select(BASES),
        proptest::collection::vec(edit(), 1..4),
    );
    run_property(
        "mutants_agree",
        3000,
        strategy,
        FLOORS_MUTANTS,
        |(base, edits), paths| {
            paths.add(same(&apply(base, &edits)));
            Ok(())
        },
    );
}

/// One decoder takes a run of mutants of one base, so that most of them differ from the
/// document before in a few bytes: the case the decoder's template is for. Whichever path
/// takes a document, its payload must be the reference's and simd-json's.
#[test]
fn runs_of_mutants_agree() {
    let strategy = (
        proptest::sample::select(BASES),
        proptest::collection::vec(proptest::collection::vec(edit(), 0..3), 1..8),
    );
    run_property(
        "runs_of_mutants_agree",
        3000,
        strategy,
        FLOORS_RUNS,
        |(base, runs), paths| {
            let mut decoder = ChunkDecoder::new();
            let mut slow = ChunkDecoder::new();
            for edits in runs {
                let data = apply(base, &edits);
                let (a, path) = traced(&mut decoder, &data);
                let b = from_payload(&slow.decode_with_simd_json(&data));
                prop_assert_eq!(
                    &a,
                    &b,
                    "after a run of mutants: {:?}",
                    String::from_utf8_lossy(&data)
                );
                prop_assert_eq!(
                    &a,
                    &reference(&data),
                    "{:?} path vs the reference: {:?}",
                    path,
                    String::from_utf8_lossy(&data)
                );
                paths.add(path);
            }
            Ok(())
        },
    );
}

/// Short strings of the bytes that matter to JSON: nearly all invalid, so this is about the
/// fast path declining (the figures say how rarely it accepts).
#[test]
fn arbitrary_bytes_agree() {
    let strategy = proptest::collection::vec(proptest::sample::select(ALPHABET), 0..64);
    run_property(
        "arbitrary_bytes_agree",
        3000,
        strategy,
        (0, 0),
        |data, paths| {
            paths.add(same(&data));
            Ok(())
        },
    );
}

/// The floors of the mutant properties: the share of decodes the fast path takes (percent)
/// and the template reuses, over 3,000 cases. They depend on the cases drawn: over runs the
/// mutants gave 14-16%, the runs of mutants 24-28% and 430-570 reuses, so the floors are set
/// below those ranges (a floor of 25% failed on one draw).
const FLOORS_MUTANTS: (u64, u64) = (12, 0);
const FLOORS_RUNS: (u64, u64) = (20, 300);
