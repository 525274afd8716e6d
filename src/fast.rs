//! A specialised decoder for chat-completion chunks: the fast path of [`crate::ChunkDecoder`].
//!
//! It validates the whole document (JSON grammar, string escapes, UTF-8) while it picks out
//! the fields the chunk view exposes. It reads the event's bytes where they are, without a
//! copy: a string without escapes is a slice of them, and a string with escapes is unescaped
//! into a small side buffer. It only
//! ever says "this is a valid chunk with these fields"; anything it cannot prove (an API error
//! object, exponents, very long numbers, lone surrogates, deep nesting, escaped keys, invalid
//! UTF-8, any syntax error) makes it give up, and simd-json decides instead. So the fast path
//! never changes a result, it only skips work: differential tests and a fuzz target hold it
//! to that.

use crate::Usage;

/// A string found by the fast path: `input[start..end]`, or `unescaped[start..end]` when
/// the string had escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
    pub(crate) unescaped: bool,
}

/// A choice's fields as spans.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ChoiceSpans {
    pub(crate) index: u64,
    pub(crate) role: Option<Span>,
    pub(crate) content: Option<Span>,
    pub(crate) reasoning: Option<Span>,
    pub(crate) refusal: Option<Span>,
    pub(crate) finish_reason: Option<Span>,
    pub(crate) tools: (usize, usize),
}

/// A tool-call fragment's fields as spans.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ToolSpans {
    pub(crate) index: u64,
    pub(crate) id: Option<Span>,
    pub(crate) kind: Option<Span>,
    pub(crate) name: Option<Span>,
    pub(crate) arguments: Option<Span>,
}

/// Everything the fast path extracts from one chunk; reused from one event to the next.
#[derive(Debug, Default)]
pub(crate) struct Spans {
    pub(crate) id: Option<Span>,
    pub(crate) model: Option<Span>,
    pub(crate) created: Option<u64>,
    pub(crate) fingerprint: Option<Span>,
    pub(crate) usage: Option<Usage>,
    pub(crate) choices: Vec<ChoiceSpans>,
    pub(crate) tools: Vec<ToolSpans>,
}

/// Nesting deeper than this goes the slow way.
const MAX_DEPTH: u32 = 64;

/// The fast path gave up; the slow path decides.
struct GiveUp;

type Fast<T> = Result<T, GiveUp>;

/// The validated text a chunk's spans point into.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Texts<'a> {
    pub(crate) input: &'a str,
    pub(crate) unescaped: &'a str,
}

impl<'a> Texts<'a> {
    /// The text of a span; `None` for an absent field.
    pub(crate) fn get(&self, span: Option<Span>) -> Option<&'a str> {
        let span = span?;
        let text = if span.unescaped {
            self.unescaped
        } else {
            self.input
        };
        text.get(span.start as usize..span.end as usize)
    }

    fn holds(&self, span: &Option<Span>) -> bool {
        span.is_none_or(|s| {
            let text = if s.unescaped {
                self.unescaped
            } else {
                self.input
            };
            text.is_char_boundary(s.start as usize) && text.is_char_boundary(s.end as usize)
        })
    }
}

/// Decodes `input` as a chunk into `spans`, unescaping strings with escapes into
/// `unescaped`.
///
/// Returns the validated texts the spans point into, or `None` when the slow path must
/// decide.
pub(crate) fn decode<'a>(
    input: &'a [u8],
    unescaped: &'a mut Vec<u8>,
    spans: &mut Spans,
) -> Option<Texts<'a>> {
    spans.id = None;
    spans.model = None;
    spans.created = None;
    spans.fingerprint = None;
    spans.usage = None;
    spans.choices.clear();
    spans.tools.clear();
    unescaped.clear();
    if input.len() > u32::MAX as usize {
        return None;
    }
    let mut c = Cursor {
        buf: input,
        pos: 0,
        out: unescaped,
    };
    c.top(spans).ok()?;
    let texts = Texts {
        // simdutf8 validates in wide SIMD loads (std's check goes a word at a time).
        input: simdutf8::basic::from_utf8(input).ok()?,
        unescaped: simdutf8::basic::from_utf8(unescaped).ok()?,
    };
    let ok = [spans.id, spans.model, spans.fingerprint]
        .iter()
        .all(|s| texts.holds(s))
        && spans.choices.iter().all(|c| {
            [c.role, c.content, c.reasoning, c.refusal, c.finish_reason]
                .iter()
                .all(|s| texts.holds(s))
        })
        && spans.tools.iter().all(|t| {
            [t.id, t.kind, t.name, t.arguments]
                .iter()
                .all(|s| texts.holds(s))
        });
    ok.then_some(texts)
}

/// Top-level keys the view reads.
enum TopKey {
    Id,
    Model,
    Created,
    Fingerprint,
    Usage,
    Choices,
    Error,
    Other,
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// The offset in `bytes` of the first `"`, `\\` or control character (the bytes that end a
/// plain run inside a string), eight bytes at a time: strings are short, so this beats a
/// SIMD search's setup cost.
#[inline]
fn string_stop(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        // A byte is flagged when it is zero after the xor (a quote or backslash) or below
        // 0x20. Borrows can only flag bytes above a flagged one, so the lowest flag is exact.
        let flags = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | w.wrapping_sub(ONES * 0x20) & !w)
            & HIGHS;
        if flags != 0 {
            return Some(i + (flags.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|p| i + p)
}

/// Maps a key to its entry in `table` (or `b""`), so that it can be matched after the
/// cursor moves on.
fn known(table: &'static [&'static [u8]]) -> impl Fn(&[u8]) -> &'static [u8] {
    move |key| table.iter().copied().find(|k| *k == key).unwrap_or(b"")
}

const USAGE_KEYS: &[&[u8]] = &[
    b"prompt_tokens",
    b"completion_tokens",
    b"total_tokens",
    b"prompt_tokens_details",
    b"completion_tokens_details",
];
const CHOICE_KEYS: &[&[u8]] = &[b"index", b"finish_reason", b"delta"];
const DELTA_KEYS: &[&[u8]] = &[
    b"role",
    b"content",
    b"refusal",
    b"reasoning_content",
    b"reasoning",
    b"tool_calls",
];
const TOOL_KEYS: &[&[u8]] = &[b"index", b"id", b"type", b"function"];
const FUNCTION_KEYS: &[&[u8]] = &[b"name", b"arguments"];

struct Cursor<'b> {
    buf: &'b [u8],
    pos: usize,
    /// Where strings with escapes are unescaped.
    out: &'b mut Vec<u8>,
}

impl Cursor<'_> {
    #[inline]
    fn peek(&self) -> Fast<u8> {
        self.buf.get(self.pos).copied().ok_or(GiveUp)
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(&b) = self.buf.get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.pos += 1;
        }
    }

    #[inline]
    fn expect(&mut self, byte: u8) -> Fast<()> {
        if self.peek()? == byte {
            self.pos += 1;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Fast<()> {
        if self.buf[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// Walks an object: for each key, `field` reads or skips the value. Keys with escapes
    /// go the slow way (they would have to be unescaped before they can be compared).
    fn object<K>(
        &mut self,
        depth: u32,
        classify: impl Fn(&[u8]) -> K,
        mut field: impl FnMut(&mut Self, K) -> Fast<()>,
    ) -> Fast<()> {
        if depth > MAX_DEPTH {
            return Err(GiveUp);
        }
        self.expect(b'{')?;
        self.ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.expect(b'"')?;
            let start = self.pos;
            let end = start + string_stop(&self.buf[start..]).ok_or(GiveUp)?;
            if self.buf[end] != b'"' {
                return Err(GiveUp);
            }
            let key = classify(&self.buf[start..end]);
            self.pos = end + 1;
            self.ws();
            self.expect(b':')?;
            self.ws();
            field(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    self.ws();
                }
                b'}' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// Walks an array, calling `element` at the start of each element.
    fn array(&mut self, depth: u32, mut element: impl FnMut(&mut Self) -> Fast<()>) -> Fast<()> {
        if depth > MAX_DEPTH {
            return Err(GiveUp);
        }
        self.expect(b'[')?;
        self.ws();
        if self.peek()? == b']' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            element(self)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    self.ws();
                }
                b']' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// Validates and skips any value.
    #[inline]
    fn skip(&mut self, depth: u32) -> Fast<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(depth + 1, |_| (), |c, ()| c.skip(depth + 1)),
            b'[' => self.array(depth + 1, |c| c.skip(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            _ => Err(GiveUp),
        }
    }

    /// Validates a number. Returns its value when it is a plain non-negative integer that
    /// fits `u64`. Exponents and very long numbers go the slow way, where parsers differ in
    /// what they accept.
    #[inline]
    fn number(&mut self) -> Fast<Option<u64>> {
        let start = self.pos;
        let negative = self.buf[self.pos] == b'-';
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        let mut value: u64 = 0;
        while let Some(&d @ b'0'..=b'9') = self.buf.get(self.pos) {
            value = value.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            self.pos += 1;
        }
        let digits = self.pos - int_start;
        if digits == 0 || digits > 19 || (digits > 1 && self.buf[int_start] == b'0') {
            return Err(GiveUp);
        }
        let mut integer = !negative;
        if self.buf.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            let frac = self.pos;
            while let Some(b'0'..=b'9') = self.buf.get(self.pos) {
                self.pos += 1;
            }
            if self.pos == frac || self.pos - frac > 30 {
                return Err(GiveUp);
            }
            integer = false;
        }
        if matches!(self.buf.get(self.pos), Some(b'e' | b'E')) || self.pos - start > 40 {
            return Err(GiveUp);
        }
        Ok(integer.then_some(value))
    }

    /// A count: `Some` for a plain non-negative integer, `None` for a value of another type.
    #[inline]
    fn count(&mut self, depth: u32) -> Fast<Option<u64>> {
        match self.peek()? {
            b'0'..=b'9' => match self.number()? {
                Some(n) => Ok(Some(n)),
                // A fraction here is a float: the slow path reads it as absent, too, but
                // simd-json and serde_json must be the ones to say so.
                None => Err(GiveUp),
            },
            b'-' => Err(GiveUp),
            _ => self.skip(depth).map(|()| None),
        }
    }

    /// A string value, or `None` (skipped) for a value of another type.
    #[inline]
    fn opt_string(&mut self, depth: u32) -> Fast<Option<Span>> {
        if self.peek()? == b'"' {
            self.string().map(Some)
        } else {
            self.skip(depth).map(|()| None)
        }
    }

    /// Validates the string at the cursor. A string without escapes is returned where it
    /// is; one with escapes is unescaped onto the end of the side buffer.
    #[inline]
    fn string(&mut self) -> Fast<Span> {
        let start = self.pos + 1;
        let stop = start + string_stop(&self.buf[start..]).ok_or(GiveUp)?;
        match self.buf[stop] {
            b'"' => {
                self.pos = stop + 1;
                return Ok(Span {
                    start: start as u32,
                    end: stop as u32,
                    unescaped: false,
                });
            }
            b'\\' => {}
            _ => return Err(GiveUp),
        }
        let out_start = self.out.len();
        let mut read = start;
        let mut stop = stop;
        loop {
            self.out.extend_from_slice(&self.buf[read..stop]);
            read = stop;
            match self.buf[read] {
                b'"' => break,
                b'\\' => read = self.escape(read)?,
                _ => return Err(GiveUp),
            }
            stop = read + string_stop(&self.buf[read..]).ok_or(GiveUp)?;
        }
        self.pos = read + 1;
        let end = self.out.len();
        if end > u32::MAX as usize {
            return Err(GiveUp);
        }
        Ok(Span {
            start: out_start as u32,
            end: end as u32,
            unescaped: true,
        })
    }

    /// Unescapes the escape at `at` onto the side buffer; returns the index after it.
    fn escape(&mut self, at: usize) -> Fast<usize> {
        let byte = match *self.buf.get(at + 1).ok_or(GiveUp)? {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let mut code = self.hex4(at + 2)?;
                let mut next = at + 6;
                if (0xDC00..0xE000).contains(&code) {
                    return Err(GiveUp);
                }
                if (0xD800..0xDC00).contains(&code) {
                    if self.buf.get(next..next + 2) != Some(b"\\u") {
                        return Err(GiveUp);
                    }
                    let low = self.hex4(next + 2)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(GiveUp);
                    }
                    next += 6;
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                }
                let ch = char::from_u32(code).ok_or(GiveUp)?;
                let mut utf8 = [0u8; 4];
                self.out
                    .extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
                return Ok(next);
            }
            _ => return Err(GiveUp),
        };
        self.out.push(byte);
        Ok(at + 2)
    }

    #[inline]
    fn hex4(&self, at: usize) -> Fast<u32> {
        let digits = self.buf.get(at..at + 4).ok_or(GiveUp)?;
        digits.iter().try_fold(0u32, |n, &d| {
            let v = (d as char).to_digit(16).ok_or(GiveUp)?;
            Ok(n * 16 + v)
        })
    }

    fn top(&mut self, spans: &mut Spans) -> Fast<()> {
        self.ws();
        if self.peek()? != b'{' {
            return Err(GiveUp);
        }
        let classify = |key: &[u8]| match key {
            b"id" => TopKey::Id,
            b"model" => TopKey::Model,
            b"created" => TopKey::Created,
            b"system_fingerprint" => TopKey::Fingerprint,
            b"usage" => TopKey::Usage,
            b"choices" => TopKey::Choices,
            b"error" => TopKey::Error,
            _ => TopKey::Other,
        };
        self.object(1, classify, |c, key| {
            match key {
                TopKey::Id => spans.id = c.opt_string(1)?,
                TopKey::Model => spans.model = c.opt_string(1)?,
                TopKey::Fingerprint => spans.fingerprint = c.opt_string(1)?,
                TopKey::Created => spans.created = c.count(1)?,
                TopKey::Usage => spans.usage = c.usage()?,
                TopKey::Choices => {
                    // The last `choices` wins, as with any duplicate key.
                    spans.choices.clear();
                    spans.tools.clear();
                    if c.peek()? == b'[' {
                        c.array(2, |c| {
                            if c.peek()? == b'{' {
                                let choice = c.choice(&mut spans.tools)?;
                                spans.choices.push(choice);
                                Ok(())
                            } else {
                                c.skip(2)
                            }
                        })?;
                    } else {
                        c.skip(1)?;
                    }
                }
                // An API error is rare: the slow path reads it.
                TopKey::Error if c.peek()? == b'{' => return Err(GiveUp),
                TopKey::Error | TopKey::Other => c.skip(1)?,
            }
            Ok(())
        })?;
        self.ws();
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    fn usage(&mut self) -> Fast<Option<Usage>> {
        if self.peek()? != b'{' {
            return self.skip(1).map(|()| None);
        }
        let mut usage = Usage::default();
        self.object(2, known(USAGE_KEYS), |c, key| {
            match key {
                b"prompt_tokens" => usage.prompt_tokens = c.count(2)?.unwrap_or(0),
                b"completion_tokens" => usage.completion_tokens = c.count(2)?.unwrap_or(0),
                b"total_tokens" => usage.total_tokens = c.count(2)?.unwrap_or(0),
                b"prompt_tokens_details" => usage.cached_tokens = c.detail(b"cached_tokens")?,
                b"completion_tokens_details" => {
                    usage.reasoning_tokens = c.detail(b"reasoning_tokens")?
                }
                _ => c.skip(2)?,
            }
            Ok(())
        })?;
        Ok(Some(usage))
    }

    /// `value[name]` as a count, when the value is an object.
    fn detail(&mut self, name: &'static [u8]) -> Fast<Option<u64>> {
        if self.peek()? != b'{' {
            return self.skip(2).map(|()| None);
        }
        let mut found = None;
        self.object(
            3,
            |key| key == name,
            |c, wanted| {
                if wanted {
                    found = c.count(3)?;
                    Ok(())
                } else {
                    c.skip(3)
                }
            },
        )?;
        Ok(found)
    }

    fn choice(&mut self, tools: &mut Vec<ToolSpans>) -> Fast<ChoiceSpans> {
        let mut choice = ChoiceSpans::default();
        let (mut reasoning_content, mut reasoning) = (None, None);
        let tools_start = tools.len();
        self.object(3, known(CHOICE_KEYS), |c, key| {
            match key {
                b"index" => choice.index = c.count(3)?.unwrap_or(0),
                b"finish_reason" => choice.finish_reason = c.opt_string(3)?,
                b"delta" => {
                    // A later `delta` replaces an earlier one, fields and tool calls alike.
                    choice.role = None;
                    choice.content = None;
                    choice.refusal = None;
                    reasoning_content = None;
                    reasoning = None;
                    tools.truncate(tools_start);
                    if c.peek()? != b'{' {
                        return c.skip(3);
                    }
                    c.object(4, known(DELTA_KEYS), |c, key| {
                        match key {
                            b"role" => choice.role = c.opt_string(4)?,
                            b"content" => choice.content = c.opt_string(4)?,
                            b"refusal" => choice.refusal = c.opt_string(4)?,
                            b"reasoning_content" => reasoning_content = c.opt_string(4)?,
                            b"reasoning" => reasoning = c.opt_string(4)?,
                            b"tool_calls" => {
                                tools.truncate(tools_start);
                                if c.peek()? != b'[' {
                                    return c.skip(4);
                                }
                                c.array(5, |c| {
                                    if c.peek()? == b'{' {
                                        let call = c.tool_call()?;
                                        tools.push(call);
                                        Ok(())
                                    } else {
                                        c.skip(5)
                                    }
                                })?;
                            }
                            _ => c.skip(4)?,
                        }
                        Ok(())
                    })?;
                }
                _ => c.skip(3)?,
            }
            Ok(())
        })?;
        choice.reasoning = reasoning_content.or(reasoning);
        choice.tools = (tools_start, tools.len());
        Ok(choice)
    }

    fn tool_call(&mut self) -> Fast<ToolSpans> {
        let mut call = ToolSpans::default();
        self.object(6, known(TOOL_KEYS), |c, key| {
            match key {
                b"index" => call.index = c.count(6)?.unwrap_or(0),
                b"id" => call.id = c.opt_string(6)?,
                b"type" => call.kind = c.opt_string(6)?,
                b"function" => {
                    call.name = None;
                    call.arguments = None;
                    if c.peek()? != b'{' {
                        return c.skip(6);
                    }
                    c.object(7, known(FUNCTION_KEYS), |c, key| {
                        match key {
                            b"name" => call.name = c.opt_string(7)?,
                            b"arguments" => call.arguments = c.opt_string(7)?,
                            _ => c.skip(7)?,
                        }
                        Ok(())
                    })?;
                }
                _ => c.skip(6)?,
            }
            Ok(())
        })?;
        Ok(call)
    }
}

#[cfg(test)]
mod tests {
    use super::{Spans, decode};

    fn fast(json: &str) -> Option<String> {
        let mut out = Vec::new();
        let mut spans = Spans::default();
        let texts = decode(json.as_bytes(), &mut out, &mut spans)?;
        let content = spans.choices.first().and_then(|c| c.content);
        Some(texts.get(content).unwrap_or_default().to_owned())
    }

    #[test]
    fn takes_the_common_chunks() {
        let real = r#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Ol\u00e1\n\"!\" \ud83d\ude00"},"logprobs":null,"finish_reason":null}],"usage":{"queue_time":0.03,"prompt_tokens":2}}"#;
        assert_eq!(fast(real).as_deref(), Some("Olá\n\"!\" 😀"));
        assert_eq!(
            fast(r#"{"choices":[{"delta":{"content":"plain"}}]}"#).as_deref(),
            Some("plain")
        );
        assert_eq!(fast(r#" { "choices" : [ ] } "#).as_deref(), Some(""));
        assert_eq!(fast("{}").as_deref(), Some(""));
    }

    #[test]
    fn leaves_the_unusual_to_simd_json() {
        for json in [
            r#"{"error":{"message":"m"}}"#,
            r#"{"x":1e5}"#,
            r#"{"created":-1}"#,
            r#"{"x":01}"#,
            r#"{"x":"\ud800"}"#,
            r#"{"k\u0065y":1}"#,
            "{\"x\":\"a\tb\"}",
            "{\"x\":\"\u{e9}\"}\u{0}",
            r#"[1]"#,
            r#"{"x":[1,]}"#,
            r#"{"x":tru}"#,
            r#"{"x":1}{"#,
        ] {
            assert_eq!(fast(json), None, "{json}");
        }
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert_eq!(fast(&deep), None);
        let mut out = Vec::new();
        assert!(decode(b"{\"x\":\"\xff\"}", &mut out, &mut Spans::default()).is_none());
    }
}
