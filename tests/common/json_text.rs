//! Reading JSON text as the crate's decoder does, with serde_json: one document and nothing
//! after it, nesting limited as simd-json limits it, and `-0` read as the integer it is. Shared
//! by the test suite's references (`chunk_reference.rs`, `contract_reference.rs`), which
//! include it by path; std and serde_json only.
#![allow(dead_code)]

use serde_json::Value;

/// The deepest nesting of arrays and objects accepted, counting the top-level object as 1.
///
/// RFC 8259 section 9 lets a parser limit nesting; the crate's JSON parser (simd-json) stops
/// at 1024 levels, so the reference does too. Without a limit a hostile stream could make any
/// recursive parser overflow its stack.
pub const MAX_DEPTH: usize = 1024;

/// One JSON document with nothing but whitespace around it, or `None`.
pub fn parse_json(text: &str) -> Option<Value> {
    if nesting_depth(text) > MAX_DEPTH {
        return None;
    }
    let text = integer_zero(text);
    let mut de = serde_json::Deserializer::from_str(&text);
    // serde_json's own limit (128) is lower than the one in force; the depth was checked above.
    de.disable_recursion_limit();
    let mut values = de.into_iter::<Value>();
    let value = values.next()?.ok()?;
    // Anything after the document (even a second document) makes the data invalid.
    values.next().is_none().then_some(value)
}

/// The text with every number `-0` (no fraction, no exponent) spelled ` 0`.
///
/// `-0` is written as an integer, and the integer it writes is zero, a valid count; but
/// `serde_json::Value` reads it as the float -0.0, which is not. Respelling it keeps the text
/// valid exactly when it was (a number may follow whitespace wherever it may stand at all).
pub fn integer_zero(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let (mut in_string, mut escaped) = (false, false);
    let mut found = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b'-'
            && bytes.get(i + 1) == Some(&b'0')
            && !matches!(bytes.get(i + 2), Some(b'0'..=b'9' | b'.' | b'e' | b'E'))
        {
            found.push(i);
        }
    }
    if found.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = bytes.to_vec();
    for i in found {
        out[i] = b' ';
    }
    std::borrow::Cow::Owned(String::from_utf8(out).expect("an ASCII byte was replaced"))
}

/// The deepest nesting of `[` and `{` outside strings; exact for valid JSON, which is all that
/// matters: invalid JSON is invalid at any depth.
pub fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in text.as_bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}
