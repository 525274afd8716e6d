//! The seed cassettes in `tests/fixtures` (go-vcr v2 YAML) and the SSE bodies they recorded.
//!
//! It needs std and yaml-rust2 only, so that the test files that do not use `tests/common/mod.rs`
//! can include it with `#[path = "common/fixtures.rs"] mod fixtures;`. The fuzz targets do not
//! include it (the fuzz crate has no YAML parser); they have their own seed corpus.
//!
//! Each includer uses a different part of it.
#![allow(dead_code)]

/// Both seed cassettes.
pub const CASSETTES: [&str; 2] = [
    "groq-openai-go__simple_streaming.yaml",
    "huggingface-fantasy__simple_streaming.yaml",
];

/// The recorded SSE body of a seed cassette: `interactions[0].response.body`.
pub fn cassette_body(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let docs = yaml_rust2::YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{name}: the cassette is not YAML: {e}"));
    docs[0]["interactions"][0]["response"]["body"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: no interactions[0].response.body"))
        .as_bytes()
        .to_vec()
}
