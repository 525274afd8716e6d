//! The borrowed chunk struct of the peers that decode only the fields ssechunk extracts
//! (`naive+serde-borrowed` and `sse-stream+sonic-rs` in the benchmarks, `peer_stats --sonic`):
//! content, reasoning, tool-call arguments, finish_reason and usage, strings borrowed unless
//! they hold escapes.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;

/// A JSON string borrowed from the input when it has no escape, owned when it has one.
/// (`Option<Cow<'a, str>>` with `#[serde(borrow)]` would allocate every string: serde#2016.)
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(Visit)
    }
}

pub fn text_len(t: &Option<Text<'_>>) -> u64 {
    t.as_ref().map_or(0, |t| t.0.len() as u64)
}

#[derive(Deserialize)]
pub struct Chunk<'a> {
    #[serde(borrow, default)]
    pub choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    pub usage: Option<Usage>,
}

#[derive(Deserialize)]
pub struct Choice<'a> {
    #[serde(borrow, default)]
    pub delta: Option<Delta<'a>>,
    #[serde(borrow, default)]
    #[allow(dead_code)] // read as ssechunk reads it; `peer_stats` does not count it
    pub finish_reason: Option<Text<'a>>,
}

#[derive(Deserialize)]
pub struct Delta<'a> {
    #[serde(borrow, default)]
    pub content: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub reasoning_content: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub reasoning: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub tool_calls: Option<Vec<ToolCall<'a>>>,
}

#[derive(Deserialize)]
pub struct ToolCall<'a> {
    #[serde(borrow, default)]
    pub function: Option<Function<'a>>,
}

#[derive(Deserialize)]
pub struct Function<'a> {
    #[serde(borrow, default)]
    pub arguments: Option<Text<'a>>,
}

#[derive(Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub total_tokens: u64,
}
