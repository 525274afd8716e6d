//! A specialised decoder for chat-completion chunks: the fast path of [`crate::ChunkDecoder`].
//!
//! It validates the whole document (JSON grammar, string escapes, UTF-8) while it picks out
//! the fields the chunk view exposes. It reads the event's bytes where they are, without a
//! copy: a string without escapes is a slice of them, and a string with escapes is unescaped
//! into a small side buffer. It only ever says "this is a valid chunk with these fields";
//! anything it cannot prove (an API error object, exponents, very long numbers, lone
//! surrogates, deep nesting, escaped keys, invalid UTF-8, any syntax error) makes it give up,
//! and simd-json decides instead. So the fast path never changes a result, it only skips
//! work: differential tests and fuzz targets hold it to that.
//!
//! The last document parsed in full is kept as a template, with where each of its value
//! strings lies: a document that differs from it only inside value strings is decoded by
//! re-reading just those strings (see [`Decoder::reuse`] for why that is the full parse's
//! result). Its other strings are then taken from the template's copy, validated once, and
//! the strings that changed are copied into the side buffer: so a reused document is neither
//! validated as UTF-8 again outside its changed strings, nor are its spans moved.

use crate::Usage;

/// A string found by the fast path: `input[start..end]` ([`Texts::input`]: the document, or
/// the template's copy when the template was reused), or `unescaped[start..end]` when the
/// string had escapes or changed from the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
    pub(crate) unescaped: bool,
    /// Which value string of the template this is (an index into [`Decoder::strings`]).
    pub(crate) raw: u32,
}

/// A choice's fields as spans.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ChoiceSpans {
    pub(crate) index: u64,
    pub(crate) role: Option<Span>,
    pub(crate) content: Option<Span>,
    pub(crate) reasoning: Option<Span>,
    pub(crate) refusal: Option<Span>,
    /// `reasoning_details`: the array's own bytes, when they are already the compact text
    /// that the simd-json path writes (see [`canonical`]).
    pub(crate) reasoning_details: Option<Span>,
    pub(crate) finish_reason: Option<Span>,
    pub(crate) tools: (usize, usize),
}

/// A tool-call fragment's fields as spans.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ToolSpans {
    pub(crate) index: Option<u64>,
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
pub(crate) const MAX_DEPTH: u32 = 64;

/// The fast path gave up; the slow path decides.
pub(crate) struct GiveUp;

pub(crate) type Fast<T> = Result<T, GiveUp>;

/// The validated text a chunk's spans point into.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Texts<'a> {
    /// The document parsed in full, or the template's copy of the document it reused.
    pub(crate) input: &'a str,
    /// The side buffer.
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

/// A value string of the template: where its quotes are and the span it gave.
#[derive(Debug, Clone, Copy)]
struct RawString {
    open: u32,
    close: u32,
    span: Span,
    /// The top-level `object` or `type`: a document that changes it to `"error"` is an
    /// error, which goes the slow way.
    pinned: bool,
    /// Inside a raw array: where the string's opening quote lies in the array's text (the
    /// document's, or compacted), in bytes from its start.
    compact_at: u32,
}

/// A value of the template taken as raw JSON text (a `reasoning_details` array): where its
/// brackets are. The strings inside it are the template's strings like any other, so a
/// document that changes only them reuses the template; its text is then the template's with
/// the changed strings put in, in the side buffer.
///
/// An array the provider spaced out is taken compacted (see [`compact`]): its span in the
/// template lies in the side buffer, where each string inside it keeps its place
/// ([`RawString::compact_at`]).
#[derive(Debug, Clone, Copy)]
struct RawArray {
    open: u32,
    close: u32,
    /// The template's span of it: in the input, or compacted in the side buffer.
    span: Span,
}

/// Marks a span's `raw` as an index into [`Decoder::arrays`] rather than into
/// [`Decoder::strings`].
const ARRAY: u32 = 1 << 31;

/// A template string that the current document changed: its new span (in the side buffer),
/// and where its raw text (quotes included) lies in the document.
#[derive(Debug, Clone, Copy)]
struct Change {
    index: u32,
    span: Span,
    open: u32,
    after: u32,
}

/// Documents up to this size become templates that the next documents are compared with;
/// larger ones are always parsed in full (so the decoder never keeps more than this).
pub(crate) const TEMPLATE_MAX: usize = 16 * 1024;

/// The fast path's state, reused from one event to the next.
#[derive(Debug, Default)]
pub(crate) struct Decoder {
    spans: Spans,
    /// Where strings with escapes are unescaped: the template's first, then the current
    /// document's.
    unescaped: Vec<u8>,
    /// The last document parsed in full, when it decoded on the fast path, is valid UTF-8
    /// and is small enough to keep.
    template: String,
    /// Whether `template` (and `strings`, `template_unescaped`) describe such a document.
    has_template: bool,
    /// Every value string of the template, in order.
    strings: Vec<RawString>,
    /// How much of `unescaped` the template's strings use.
    template_unescaped: usize,
    /// The template strings the current document changed, in order.
    changes: Vec<Change>,
    /// The template's values taken as raw JSON text, in order.
    arrays: Vec<RawArray>,
}

impl Decoder {
    /// Decodes `input` as a chunk.
    ///
    /// Returns the spans and the validated texts they point into, or `None` when the slow
    /// path must decide.
    pub(crate) fn decode<'a>(&'a mut self, input: &'a [u8]) -> Option<(Texts<'a>, &'a Spans)> {
        let (texts, spans, _) = self.decode_traced(input)?;
        Some((texts, spans))
    }

    /// [`Decoder::decode`], also saying whether the template was reused (`true`) or the
    /// document parsed in full (`false`), for the tests' hidden entry points.
    #[inline]
    pub(crate) fn decode_traced<'a>(
        &'a mut self,
        input: &'a [u8],
    ) -> Option<(Texts<'a>, &'a Spans, bool)> {
        let reused = self.has_template && self.reuse(input);
        let input = if reused {
            // The document is the template outside its changed strings, which are in the side
            // buffer: validating that buffer validates them.
            self.template.as_str()
        } else {
            if !self.full(input) {
                return None;
            }
            // simdutf8 validates in wide SIMD loads (std's check goes a word at a time).
            let input = simdutf8::basic::from_utf8(input).ok()?;
            if input.len() <= TEMPLATE_MAX {
                self.template.clear();
                self.template.push_str(input);
                self.template_unescaped = self.unescaped.len();
                self.has_template = true;
            }
            input
        };
        let texts = Texts {
            input,
            unescaped: utf8(&self.unescaped)?,
        };
        // Every span starts and ends next to an ASCII delimiter or at the edge of a whole
        // unescaped string, so it always falls on character boundaries.
        debug_assert!(self.spans.all(|s| texts.holds(s)));
        Some((texts, &self.spans, reused))
    }

    /// Parses `input` from scratch, recording its strings for the template when it is small
    /// enough to keep; true on success.
    fn full(&mut self, input: &[u8]) -> bool {
        let spans = &mut self.spans;
        spans.id = None;
        spans.model = None;
        spans.created = None;
        spans.fingerprint = None;
        spans.usage = None;
        spans.choices.clear();
        spans.tools.clear();
        self.unescaped.clear();
        self.strings.clear();
        self.arrays.clear();
        self.has_template = false;
        if input.len() > u32::MAX as usize {
            return false;
        }
        let keep = input.len() <= TEMPLATE_MAX;
        let mut c: Cursor<'_> = Cursor {
            buf: input,
            pos: 0,
            out: &mut self.unescaped,
            strings: &mut self.strings,
            arrays: &mut self.arrays,
            record: keep,
            scalars: None,
        };
        c.top(spans).is_ok()
    }

    /// Decodes `input` from the template's result, when the two differ only inside value
    /// strings; false when they differ anywhere else.
    ///
    /// Why this gives the full parse's result: the parser reads left to right and its state
    /// at any point depends only on the bytes before it, and a value string's contents never
    /// change its state (they are only stored). So where `input` repeats the template byte
    /// for byte, the parse goes exactly as it went then; where it differs inside a value
    /// string, that string is parsed again with the same code (validation, unescaping), and
    /// the parse goes on from its closing quote in the same state as before, over bytes
    /// compared again. A difference anywhere else (a key, a number, punctuation, a string
    /// that does not close where the bytes after it match again) gives up here, and the
    /// document is parsed in full. UTF-8: the document equals the template (valid UTF-8)
    /// outside its changed strings, which are copied into the side buffer, validated with it.
    fn reuse(&mut self, input: &[u8]) -> bool {
        if input.len() > TEMPLATE_MAX {
            return false;
        }
        let old = self.template.as_bytes();
        self.unescaped.truncate(self.template_unescaped);
        self.changes.clear();
        // The template's strings from `next` on have not been looked at yet.
        let (mut at_old, mut at_new, mut next) = (0, 0, 0);
        loop {
            let same = common_prefix(&old[at_old..], &input[at_new..]);
            if at_old + same == old.len() && at_new + same == input.len() {
                break;
            }
            // The difference must fall inside a string's contents (or on its closing quote).
            let at = at_old + same;
            let rest = self.strings.get(next..).unwrap_or_default();
            let k = next + rest.partition_point(|s| (s.close as usize) < at);
            let Some(&s) = self.strings.get(k) else {
                return false;
            };
            if at <= s.open as usize {
                return false;
            }
            // Parse that string again where it is now.
            let open = s
                .open
                .wrapping_add((at_new as u32).wrapping_sub(at_old as u32));
            let Ok((mut span, after)) = scan_string(input, open as usize, &mut self.unescaped)
            else {
                return false;
            };
            let escaped = span.unescaped;
            if s.pinned {
                let text = if span.unescaped {
                    &self.unescaped[..]
                } else {
                    input
                };
                if text.get(span.start as usize..span.end as usize) == Some(b"error") {
                    return false;
                }
            }
            // Inside a raw array, the string's new text must keep the array's text the one
            // the simd-json path writes; a string without escapes always does (the scan
            // refused raw control characters), so only one with escapes is checked.
            let inside = |a: &RawArray| a.open < s.open && s.close < a.close;
            if escaped && self.arrays.iter().any(inside) && !canonical(&input[open as usize..after])
            {
                return false;
            }
            if !escaped {
                // Into the side buffer, which is validated as a whole.
                let start = self.unescaped.len();
                append(
                    &mut self.unescaped,
                    input,
                    span.start as usize,
                    span.end as usize,
                );
                span = Span {
                    start: start as u32,
                    end: self.unescaped.len() as u32,
                    unescaped: true,
                    raw: 0,
                };
            }
            self.changes.push(Change {
                index: k as u32,
                span,
                open,
                after: after as u32,
            });
            (at_old, at_new, next) = (s.close as usize + 1, after, k + 1);
        }
        let (strings, changes) = (&self.strings, &self.changes);
        self.spans.for_each_span(|span| {
            let raw = span.raw;
            // An unchanged string is the template's.
            let mut now = strings[raw as usize].span;
            if let Some(change) = changes.iter().find(|c| c.index >= raw)
                && change.index == raw
            {
                now = change.span;
            }
            *span = Span { raw, ..now };
        });
        if self.arrays.is_empty() {
            return true;
        }
        self.move_arrays(input)
    }

    /// The text of the template's raw arrays (`reasoning_details`) for `input`, after
    /// [`Decoder::reuse`] found the strings that changed; false when one cannot be given as
    /// the simd-json path writes it.
    #[cold]
    #[inline(never)]
    fn move_arrays(&mut self, input: &[u8]) -> bool {
        let Self {
            spans,
            strings,
            changes,
            arrays,
            unescaped,
            template,
            ..
        } = self;
        let (strings, changes, arrays) = (&*strings, &*changes, &*arrays);
        let mut compacted = true;
        for choice in &mut spans.choices {
            let Some(span) = &mut choice.reasoning_details else {
                continue;
            };
            let raw = span.raw;
            if raw & ARRAY == 0 {
                continue;
            }
            let a = arrays[(raw & !ARRAY) as usize];
            let inside = |c: &&Change| {
                let s = strings[c.index as usize];
                a.open < s.open && s.close < a.close
            };
            if !changes.iter().any(|c| inside(&c)) {
                // Nothing inside it changed: the template's text holds (in its copy of the
                // document, or compacted in the side buffer).
                *span = a.span;
                continue;
            }
            // The template's text with the strings that changed inside it replaced (each was
            // checked to be as the simd-json path writes it), into the side buffer.
            let mark = unescaped.len();
            let mut from = a.span.start as usize;
            let copy = |unescaped: &mut Vec<u8>, range: std::ops::Range<usize>| {
                if a.span.unescaped {
                    unescaped.extend_from_within(range);
                } else {
                    unescaped.extend_from_slice(&template.as_bytes()[range]);
                }
            };
            for c in changes.iter().filter(inside) {
                let s = strings[c.index as usize];
                let at = a.span.start as usize + s.compact_at as usize;
                copy(unescaped, from..at);
                unescaped.extend_from_slice(&input[c.open as usize..c.after as usize]);
                from = at + (s.close - s.open + 1) as usize;
            }
            copy(unescaped, from..a.span.end as usize);
            *span = if unescaped.len() > u32::MAX as usize {
                unescaped.truncate(mark);
                compacted = false;
                a.span
            } else {
                Span {
                    start: mark as u32,
                    end: unescaped.len() as u32,
                    unescaped: true,
                    raw,
                }
            };
        }
        compacted
    }
}

/// Appends `bytes[start..end]` to `out`. A run of at most 32 bytes (most values a template
/// reads again: a delta's text, an `obfuscation`), when `bytes` holds 32 from `start`, is
/// copied as those 32 bytes into `out`'s spare capacity, of which only the run is then
/// taken: a copy of fixed size is two moves, where one of the run's own length is a call
/// of `memcpy` (`Vec::extend_from_slice` is not inlined).
#[allow(unsafe_code)]
#[inline(always)]
pub(crate) fn append(out: &mut Vec<u8>, bytes: &[u8], start: usize, end: usize) {
    let run = end - start;
    match bytes[start..].first_chunk::<32>() {
        Some(block) if run <= 32 => {
            let len = out.len();
            out.reserve(32);
            out.spare_capacity_mut()[..32].write_copy_of_slice(block);
            // SAFETY: the `run` bytes after `len` (`run` <= 32) were just written.
            unsafe { out.set_len(len + run) };
        }
        _ => out.extend_from_slice(&bytes[start..end]),
    }
}

/// The length of the common prefix of `a` and `b`, sixteen bytes at a time; the last (or
/// only) partial block is compared as the sixteen bytes that end the shorter slice.
#[inline]
pub(crate) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let block = |s: &[u8], at: usize| {
        u128::from_le_bytes(
            s.get(at..at + 16)
                .and_then(|w| w.try_into().ok())
                .unwrap_or_default(),
        )
    };
    let first_diff = |at: usize| {
        let diff = block(a, at) ^ block(b, at);
        (diff != 0).then(|| at + (diff.trailing_zeros() / 8) as usize)
    };
    let mut i = 0;
    while i + 16 <= n {
        if let Some(at) = first_diff(i) {
            return at;
        }
        i += 16;
    }
    if i == n {
        return n;
    }
    if n >= 16 {
        // The bytes before `i` are equal, so the first difference in this window is at or
        // after `i`.
        return first_diff(n - 16).unwrap_or(n);
    }
    a[..n].iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl Spans {
    /// Calls `f` on every string span (a choice's `reasoning_details`, a raw array, is not
    /// one: see [`Decoder::move_arrays`]).
    fn for_each_span(&mut self, mut f: impl FnMut(&mut Span)) {
        let mut each = |s: &mut Option<Span>| {
            if let Some(s) = s {
                f(s);
            }
        };
        each(&mut self.id);
        each(&mut self.model);
        each(&mut self.fingerprint);
        for c in &mut self.choices {
            for s in [
                &mut c.role,
                &mut c.content,
                &mut c.reasoning,
                &mut c.refusal,
                &mut c.finish_reason,
            ] {
                each(s);
            }
        }
        for t in &mut self.tools {
            for s in [&mut t.id, &mut t.kind, &mut t.name, &mut t.arguments] {
                each(s);
            }
        }
    }

    /// Whether `f` holds for every string field.
    fn all(&self, mut f: impl FnMut(&Option<Span>) -> bool) -> bool {
        [self.id, self.model, self.fingerprint].iter().all(&mut f)
            && self.choices.iter().all(|c| {
                [
                    c.role,
                    c.content,
                    c.reasoning,
                    c.refusal,
                    c.reasoning_details,
                    c.finish_reason,
                ]
                .iter()
                .all(&mut f)
            })
            && self
                .tools
                .iter()
                .all(|t| [t.id, t.kind, t.name, t.arguments].iter().all(&mut f))
    }
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
    Groq,
    Declared,
    Other,
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// The offset in `bytes` of the first `"`, `\\` or control character (the bytes that end a
/// plain run inside a string), sixteen bytes at a time with SSE2 (part of every x86-64 CPU)
/// and eight at a time elsewhere: strings are short, so this beats a wider search's setup
/// cost. Past the first 64 bytes, a long string goes to [`long_stop`].
#[inline(always)]
pub(crate) fn string_stop(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    while let Some(block) = bytes.get(i..i + 16).and_then(|b| b.as_array()) {
        if let Some(p) = block_stop(block) {
            return Some(i + p);
        }
        i += 16;
        if i == 64 {
            return long_stop(&bytes[i..]).map(|p| i + p);
        }
    }
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
        if i >= 64 {
            return long_stop(&bytes[i..]).map(|p| i + p);
        }
    }
    bytes[i..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|p| i + p)
}

/// `bytes` as text, when they are UTF-8. Most strings of these streams are ASCII, which
/// `is_ascii` tells a word at a time; std's validation walks a short string byte by byte
/// (a delta's text, validated once per event, is a few to a few dozen bytes).
#[allow(unsafe_code)]
#[inline]
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    // Longer texts go to simdutf8 at once: it is faster on them, and one that is not ASCII
    // would be read twice.
    if bytes.len() < 64 && bytes.is_ascii() {
        // SAFETY: every sequence of ASCII bytes is valid UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    simdutf8::basic::from_utf8(bytes).ok()
}

/// The offset in `block` of the first `"`, `\\` or control character.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[allow(unsafe_code)]
#[inline(always)]
fn block_stop(block: &[u8; 16]) -> Option<usize> {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // SAFETY: SSE2 is enabled at compile time (the cfg above; every x86-64 CPU has it), and
    // the load reads the sixteen bytes `block` borrows, with no alignment required.
    let mask = unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned: min(b, 0x1f) == b exactly when b < 0x20.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
    };
    (mask != 0).then(|| mask.trailing_zeros() as usize)
}

/// [`string_stop`] for the rest of a long string (a signature, an encrypted blob, a long
/// text): sixteen bytes at a time with SSE2, else memchr's vector search finds the next quote
/// or backslash and the run before it is checked for control characters a word at a time.
#[inline(never)]
fn long_stop(bytes: &[u8]) -> Option<usize> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        let (blocks, tail) = bytes.as_chunks::<16>();
        for (k, block) in blocks.iter().enumerate() {
            if let Some(p) = block_stop(block) {
                return Some(k * 16 + p);
            }
        }
        let at = blocks.len() * 16;
        tail.iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .map(|p| at + p)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        let end = crate::search::quote_or_backslash(bytes);
        let run = &bytes[..end.unwrap_or(bytes.len())];
        let (words, tail) = run.as_chunks::<8>();
        for (k, word) in words.iter().enumerate() {
            let w = u64::from_le_bytes(*word);
            let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
            if control != 0 {
                return Some(k * 8 + (control.trailing_zeros() / 8) as usize);
            }
        }
        let at = words.len() * 8;
        match tail.iter().position(|&b| b < 0x20) {
            Some(p) => Some(at + p),
            None => end,
        }
    }
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
    b"reasoning_details",
];
const TOOL_KEYS: &[&[u8]] = &[b"index", b"id", b"type", b"function"];
const FUNCTION_KEYS: &[&[u8]] = &[b"name", b"arguments"];

/// Whether `json`, a valid JSON value, is already the text that `chunk::write_json` writes
/// from simd-json's tape of it: no whitespace between tokens; only the escapes it writes
/// (`\"`, `\\`, `\n`, `\r`, `\t`, and `\u00xx` in lower case for the other control
/// characters); integers only, of at most 18 digits (simd-json reads longer ones or `-0`
/// otherwise), no fraction or exponent (floats are written in their shortest form).
pub(crate) fn canonical(json: &[u8]) -> bool {
    let (mut i, mut digits) = (0, 0);
    while let Some(&b) = json.get(i) {
        match b {
            b'"' => {
                // A string: only its escapes matter, found a machine word at a time.
                i += 1;
                loop {
                    let Some(k) = crate::search::quote_or_backslash(&json[i..]) else {
                        return false;
                    };
                    i += k;
                    if json[i] == b'"' {
                        break;
                    }
                    match json.get(i + 1) {
                        Some(b'"' | b'\\' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            let Some(&[b'0', b'0', high, low]) = json.get(i + 2..i + 6) else {
                                return false;
                            };
                            let control = matches!(high, b'0' | b'1')
                                && matches!(low, b'0'..=b'9' | b'a'..=b'f')
                                && !(high == b'0' && matches!(low, b'9' | b'a' | b'd'));
                            if !control {
                                return false;
                            }
                            i += 6;
                        }
                        _ => return false,
                    }
                }
                digits = 0;
            }
            b'0'..=b'9' => {
                digits += 1;
                if digits > 18 {
                    return false;
                }
            }
            b'-' if json.get(i + 1) == Some(&b'0') => return false,
            b' ' | b'\t' | b'\n' | b'\r' | b'.' | b'e' | b'E' => return false,
            _ => digits = 0,
        }
        i += 1;
    }
    true
}

/// The text of `json`, a valid JSON value, without the whitespace between its tokens, onto
/// the end of `out`, when that is the text the simd-json path writes (see [`canonical`]).
/// Each of `strings`, the template strings recorded inside it in order (their `open` a
/// position in the document, in which `json` starts at `base`), gets its `compact_at`.
fn compact(json: &[u8], out: &mut Vec<u8>, strings: &mut [RawString], base: usize) -> Fast<Span> {
    let mark = out.len();
    out.reserve(json.len());
    let mut at = 0;
    let mut recorded = strings.iter_mut().peekable();
    while at < json.len() {
        match json[at] {
            b' ' | b'\t' | b'\n' | b'\r' => at += 1,
            b'"' => {
                // A whole string, escapes and all: a backslash is never its last byte.
                let mut end = at + 1;
                loop {
                    end += crate::search::quote_or_backslash(&json[end..]).ok_or(GiveUp)?;
                    if json[end] == b'"' {
                        break;
                    }
                    end += 2;
                }
                while let Some(s) = recorded.next_if(|s| (s.open as usize) <= base + at) {
                    if s.open as usize == base + at {
                        s.compact_at = (out.len() - mark) as u32;
                    }
                }
                out.extend_from_slice(&json[at..=end]);
                at = end + 1;
            }
            _ => {
                let run = json[at..]
                    .iter()
                    .position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'"'))
                    .unwrap_or(json.len() - at);
                out.extend_from_slice(&json[at..at + run]);
                at += run;
            }
        }
    }
    if !canonical(&out[mark..]) || out.len() > u32::MAX as usize {
        out.truncate(mark);
        return Err(GiveUp);
    }
    Ok(Span {
        start: mark as u32,
        end: out.len() as u32,
        unescaped: true,
        raw: 0,
    })
}

/// Validates the string whose opening quote is at `buf[open]`. A string without escapes is
/// returned where it is; one with escapes is unescaped onto the end of `out`. Also returns
/// the index after the closing quote.
#[inline(always)]
pub(crate) fn scan_string(buf: &[u8], open: usize, out: &mut Vec<u8>) -> Fast<(Span, usize)> {
    let start = open + 1;
    let stop = start + string_stop(buf.get(start..).ok_or(GiveUp)?).ok_or(GiveUp)?;
    match buf[stop] {
        b'"' => {
            let span = Span {
                start: start as u32,
                end: stop as u32,
                unescaped: false,
                raw: 0,
            };
            return Ok((span, stop + 1));
        }
        b'\\' => {}
        _ => return Err(GiveUp),
    }
    let out_start = out.len();
    let mut read = start;
    let mut stop = stop;
    loop {
        out.extend_from_slice(&buf[read..stop]);
        read = stop;
        match buf[read] {
            b'"' => break,
            b'\\' => read = escape(buf, read, out)?,
            _ => return Err(GiveUp),
        }
        stop = read + string_stop(&buf[read..]).ok_or(GiveUp)?;
    }
    let end = out.len();
    if end > u32::MAX as usize {
        return Err(GiveUp);
    }
    let span = Span {
        start: out_start as u32,
        end: end as u32,
        unescaped: true,
        raw: 0,
    };
    Ok((span, read + 1))
}

/// Validates the string whose opening quote is at `buf[open]` by the rules of
/// [`scan_string`], without unescaping it; returns the index after the closing quote.
#[inline(always)]
pub(crate) fn validate_string(buf: &[u8], open: usize) -> Fast<usize> {
    let mut read = open + 1;
    loop {
        read += string_stop(buf.get(read..).ok_or(GiveUp)?).ok_or(GiveUp)?;
        match buf[read] {
            b'"' => return Ok(read + 1),
            b'\\' => read = escape_end(buf, read)?,
            _ => return Err(GiveUp),
        }
    }
}

/// Validates the escape at `buf[at]` as [`escape`] does; returns the index after it.
fn escape_end(buf: &[u8], at: usize) -> Fast<usize> {
    match *buf.get(at + 1).ok_or(GiveUp)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(at + 2),
        b'u' => unicode_escape(buf, at).map(|(_, next)| next),
        _ => Err(GiveUp),
    }
}

/// Validates the object or array whose opening bracket is at `buf[open]`, at nesting `depth`
/// (its own brackets count one more, and past [`MAX_DEPTH`] it gives up, as
/// [`Cursor::object`] and [`Cursor::array`] do); returns the index after its closing
/// bracket. The same grammar as the cursor's walk (strings by [`validate_string`], numbers
/// by [`number_at`], whitespace by [`skip_ws`]), in one loop over the tokens with the open
/// containers kept as bits, rather than a call per value: skipped values (a whole response
/// object, a list of tools) are most of the bytes of the events scanned in full.
pub(crate) fn skip_container(buf: &[u8], open: usize, depth: u32) -> Fast<usize> {
    // Bit `n` of `arrays`: the container at nesting `n + 1` (from this one) is an array.
    let (mut nest, mut arrays, mut pos) = (0u32, 0u64, open);
    loop {
        // A value at `pos`.
        match *buf.get(pos).ok_or(GiveUp)? {
            b'"' => pos = validate_string(buf, pos)?,
            bracket @ (b'{' | b'[') => {
                if depth + nest + 1 > MAX_DEPTH {
                    return Err(GiveUp);
                }
                let array = bracket == b'[';
                arrays = arrays & !(1 << nest) | u64::from(array) << nest;
                nest += 1;
                pos = skip_ws(buf, pos + 1);
                let close = if array { b']' } else { b'}' };
                if buf.get(pos) == Some(&close) {
                    nest -= 1;
                    pos += 1;
                } else {
                    if !array {
                        pos = member_name(buf, pos)?;
                    }
                    continue;
                }
            }
            b't' if buf[pos..].starts_with(b"true") => pos += 4,
            b'f' if buf[pos..].starts_with(b"false") => pos += 5,
            b'n' if buf[pos..].starts_with(b"null") => pos += 4,
            b'-' | b'0'..=b'9' => pos = number_at(buf, pos)?.1,
            _ => return Err(GiveUp),
        }
        // After a value: the next one of its container, or the container's end.
        loop {
            if nest == 0 {
                return Ok(pos);
            }
            pos = skip_ws(buf, pos);
            let array = arrays >> (nest - 1) & 1 == 1;
            match (*buf.get(pos).ok_or(GiveUp)?, array) {
                (b',', false) => {
                    pos = member_name(buf, skip_ws(buf, pos + 1))?;
                    break;
                }
                (b',', true) => {
                    pos = skip_ws(buf, pos + 1);
                    break;
                }
                (b'}', false) | (b']', true) => {
                    nest -= 1;
                    pos += 1;
                }
                _ => return Err(GiveUp),
            }
        }
    }
}

/// Validates a member's name at `buf[at]` and the colon after it; returns the index of its
/// value. A skipped object's names are never compared, so escapes in them are fine.
#[inline(always)]
fn member_name(buf: &[u8], at: usize) -> Fast<usize> {
    if buf.get(at) != Some(&b'"') {
        return Err(GiveUp);
    }
    let mut pos = validate_string(buf, at)?;
    if buf.get(pos) != Some(&b':') {
        pos = skip_ws(buf, pos);
        if buf.get(pos) != Some(&b':') {
            return Err(GiveUp);
        }
    }
    Ok(skip_ws(buf, pos + 1))
}

/// Unescapes the escape at `buf[at]` onto `out`; returns the index after it.
fn escape(buf: &[u8], at: usize, out: &mut Vec<u8>) -> Fast<usize> {
    let byte = match *buf.get(at + 1).ok_or(GiveUp)? {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'u' => {
            let (ch, next) = unicode_escape(buf, at)?;
            let mut utf8 = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
            return Ok(next);
        }
        _ => return Err(GiveUp),
    };
    out.push(byte);
    Ok(at + 2)
}

/// The character of the `\\u` escape at `buf[at]` (a surrogate pair as one character: a lone
/// surrogate gives up, as parsers differ on it) and the index after it.
#[inline]
fn unicode_escape(buf: &[u8], at: usize) -> Fast<(char, usize)> {
    let high = hex4(buf, at + 2)?;
    let (code, next) = match high {
        0xDC00..0xE000 => return Err(GiveUp),
        0xD800..0xDC00 => {
            if buf.get(at + 6..at + 8) != Some(b"\\u") {
                return Err(GiveUp);
            }
            let low = hex4(buf, at + 8)?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(GiveUp);
            }
            (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00), at + 12)
        }
        _ => (high, at + 6),
    };
    Ok((char::from_u32(code).ok_or(GiveUp)?, next))
}

#[inline]
fn hex4(buf: &[u8], at: usize) -> Fast<u32> {
    let digits = buf.get(at..at + 4).ok_or(GiveUp)?;
    digits.iter().try_fold(0u32, |n, &d| {
        let v = (d as char).to_digit(16).ok_or(GiveUp)?;
        Ok(n * 16 + v)
    })
}

/// The cursor of the fast path's parsers. With `SCALARS` (the flat scanner's), it records its
/// values for a template; without it (the chat fast path's), the recording is compiled away.
pub(crate) struct Cursor<'b, const SCALARS: bool = false> {
    pub(crate) buf: &'b [u8],
    pub(crate) pos: usize,
    /// Where strings with escapes are unescaped.
    out: &'b mut Vec<u8>,
    /// Where value strings are recorded, when `record` is set.
    strings: &'b mut Vec<RawString>,
    /// Where arrays taken as raw text are recorded, when `record` is set.
    arrays: &'b mut Vec<RawArray>,
    record: bool,
    /// Where every string and number value is recorded, for the flat scanner's templates.
    scalars: Option<&'b mut Vec<Scalar>>,
}

/// A string or number value, or a run of whitespace between tokens, of a flat scanner's
/// template (see `decode::flat::template`): where it lies, and which of the scanner's slots
/// holds it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scalar {
    /// A string's opening quote, a number's or a run's first byte.
    pub(crate) open: u32,
    /// The last byte at which a document that differs from the template still differs
    /// inside this value: a string's closing quote, or the byte after a number or a run (a
    /// longer number or run differs there first).
    pub(crate) last: u32,
    pub(crate) kind: ScalarKind,
    /// The nesting depth the value is at (read again with it: see [`MAX_DEPTH`]).
    pub(crate) depth: u8,
    /// The scanner's slot that holds the value, or [`NO_SLOT`] for a value it skips.
    pub(crate) slot: u16,
}

impl Scalar {
    /// The value of `kind` at `[open..after]`, at nesting `depth`, held in no slot yet.
    #[inline(always)]
    fn new(kind: ScalarKind, open: usize, after: usize, depth: u32) -> Self {
        // A string or a container differs last at its closing byte; a number or a run at
        // the byte after it (a longer one differs there first).
        let last = match kind {
            ScalarKind::String | ScalarKind::Container => after - 1,
            ScalarKind::Number | ScalarKind::Space => after,
        };
        Self {
            open: open as u32,
            last: last as u32,
            kind,
            depth: depth as u8,
            slot: NO_SLOT,
        }
    }

    /// Where the bytes after the value begin in the document it was recorded in.
    #[inline(always)]
    pub(crate) fn after(&self) -> usize {
        match self.kind {
            ScalarKind::String | ScalarKind::Container => self.last as usize + 1,
            ScalarKind::Number | ScalarKind::Space => self.last as usize,
        }
    }
}

/// What a [`Scalar`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarKind {
    String,
    Number,
    /// Whitespace between tokens (providers pad events with runs of varying length).
    Space,
    /// An object or array the scanner skips, validated as a whole (see [`skip_container`]).
    /// A template reuse validates it again when an event differs inside it, so no slot may
    /// hold anything read from inside it (a reader that looks inside a value reads it, and
    /// does not skip it).
    Container,
}

/// The slot of a value that no slot holds.
pub(crate) const NO_SLOT: u16 = u16::MAX;

/// Runs `read` on a cursor at the start of `buf` that keeps no chat template: the scanner of
/// the other dialects' frequent events reads their fields with the same validation and
/// unescaping. Every string and number value is recorded onto `scalars` when it is given.
pub(crate) fn scan<T>(
    buf: &[u8],
    out: &mut Vec<u8>,
    scalars: Option<&mut Vec<Scalar>>,
    read: impl FnOnce(&mut Cursor<'_, true>) -> Fast<T>,
) -> Option<T> {
    let (mut strings, mut arrays) = (Vec::new(), Vec::new());
    let mut cursor: Cursor<'_, true> = Cursor {
        buf,
        pos: 0,
        out,
        strings: &mut strings,
        arrays: &mut arrays,
        record: false,
        scalars,
    };
    read(&mut cursor).ok()
}

/// The index after the run of whitespace at `buf[pos]`.
#[inline]
pub(crate) fn skip_ws(buf: &[u8], pos: usize) -> usize {
    skip_run::<true>(buf, pos)
}

/// The index after the run of spaces and tabs at `buf[pos]`: whitespace up to a line end.
#[inline]
pub(crate) fn skip_blanks(buf: &[u8], pos: usize) -> usize {
    skip_run::<false>(buf, pos)
}

/// The index after the run at `buf[pos]` of spaces, tabs and, with `LINE_ENDS`, CR and LF.
#[inline(always)]
fn skip_run<const LINE_ENDS: bool>(buf: &[u8], mut pos: usize) -> usize {
    while let Some(&b) = buf.get(pos) {
        if !(b == b' ' || b == b'\t' || LINE_ENDS && (b == b'\n' || b == b'\r')) {
            break;
        }
        pos += 1;
        // A run of spaces (some providers pad events with hundreds) eight at a time, and the
        // spaces that begin the next eight in one step.
        while let Some(word) = buf
            .get(pos..pos + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
        {
            let other = u64::from_le_bytes(word) ^ u64::from_le_bytes(*b"        ");
            pos += (other.trailing_zeros() / 8) as usize;
            if other != 0 {
                break;
            }
        }
    }
    pos
}

/// Validates the number that starts at `buf[start]`: its value when it is a plain
/// non-negative integer that fits `u64`, and the index after it. Exponents and very long
/// numbers give up: parsers differ in what they accept.
#[inline]
pub(crate) fn number_at(buf: &[u8], start: usize) -> Fast<(Option<u64>, usize)> {
    let mut pos = start;
    let negative = buf.get(pos) == Some(&b'-');
    if negative {
        pos += 1;
    }
    let int_start = pos;
    let mut value: u64 = 0;
    while let Some(&d @ b'0'..=b'9') = buf.get(pos) {
        value = value.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        pos += 1;
    }
    let digits = pos - int_start;
    if digits == 0 || digits > 19 || (digits > 1 && buf[int_start] == b'0') {
        return Err(GiveUp);
    }
    let mut integer = !negative;
    if buf.get(pos) == Some(&b'.') {
        pos += 1;
        let frac = pos;
        while let Some(b'0'..=b'9') = buf.get(pos) {
            pos += 1;
        }
        if pos == frac || pos - frac > 30 {
            return Err(GiveUp);
        }
        integer = false;
    }
    if matches!(buf.get(pos), Some(b'e' | b'E')) || pos - start > 40 {
        return Err(GiveUp);
    }
    Ok((integer.then_some(value), pos))
}

impl<const SCALARS: bool> Cursor<'_, SCALARS> {
    #[inline]
    pub(crate) fn peek(&self) -> Fast<u8> {
        self.buf.get(self.pos).copied().ok_or(GiveUp)
    }

    #[inline]
    pub(crate) fn ws(&mut self) {
        let open = self.pos;
        self.skip_ws();
        if SCALARS
            && self.pos != open
            && let Some(scalars) = self.scalars.as_deref_mut()
            && scalars.last().is_none_or(|s| s.open as usize != open)
        {
            scalars.push(Scalar::new(ScalarKind::Space, open, self.pos, 0));
        }
    }

    /// Records the value at `buf[open..after]`, when scalars are recorded.
    #[inline(always)]
    fn record_scalar(&mut self, kind: ScalarKind, open: usize, after: usize, depth: u32) {
        if SCALARS && let Some(scalars) = self.scalars.as_deref_mut() {
            scalars.push(Scalar::new(kind, open, after, depth));
        }
    }

    /// Moves past a run of whitespace.
    #[inline]
    pub(crate) fn skip_ws(&mut self) {
        self.pos = skip_ws(self.buf, self.pos);
    }

    #[inline]
    pub(crate) fn expect(&mut self, byte: u8) -> Fast<()> {
        if self.peek()? == byte {
            self.pos += 1;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    #[inline]
    pub(crate) fn literal(&mut self, word: &[u8]) -> Fast<()> {
        if self.buf[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// Walks an object: for each key, `field` reads or skips the value. Keys with escapes
    /// go the slow way (they would have to be unescaped before they can be compared).
    pub(crate) fn object<K>(
        &mut self,
        depth: u32,
        classify: impl Fn(&[u8]) -> K,
        mut field: impl FnMut(&mut Self, K) -> Fast<()>,
    ) -> Fast<()> {
        if depth > MAX_DEPTH {
            return Err(GiveUp);
        }
        self.expect(b'{')?;
        if self.buf.get(self.pos) != Some(&b'"') {
            self.ws();
        }
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
            // Compact JSON has no whitespace around the colon or before the comma: those
            // cases skip the whitespace calls (which find no run there anyway).
            if self.buf.get(self.pos) == Some(&b':') {
                self.pos += 1;
            } else {
                self.ws();
                self.expect(b':')?;
            }
            // A value right after the colon (compact JSON) needs no whitespace call, nor one
            // space before it (spaced JSON, as Gemini's) when no runs are recorded.
            let recorded = SCALARS && self.scalars.is_some();
            match self.buf.get(self.pos) {
                Some(b' ')
                    if !recorded
                        && !matches!(
                            self.buf.get(self.pos + 1),
                            Some(b' ' | b'\t' | b'\n' | b'\r')
                        ) =>
                {
                    self.pos += 1;
                }
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.ws(),
                _ => {}
            }
            field(self, key)?;
            if !matches!(self.buf.get(self.pos), Some(b',' | b'}')) {
                self.ws();
            }
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    if self.buf.get(self.pos) != Some(&b'"') {
                        self.ws();
                    }
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
    pub(crate) fn array(
        &mut self,
        depth: u32,
        mut element: impl FnMut(&mut Self) -> Fast<()>,
    ) -> Fast<()> {
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
    pub(crate) fn skip(&mut self, depth: u32) -> Fast<()> {
        match self.peek()? {
            b'"' if self.record => self.string().map(drop),
            b'"' => self.skip_string(),
            b'{' if self.record => self.object(depth + 1, |_| (), |c, ()| c.skip(depth + 1)),
            b'[' if self.record => self.array(depth + 1, |c| c.skip(depth + 1)),
            b'{' | b'[' => self.skip_container(depth),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            _ => Err(GiveUp),
        }
    }

    /// Validates the object or array at the cursor with [`skip_container`] (a value nobody
    /// reads), recording it as one value when scalars are recorded.
    #[inline]
    fn skip_container(&mut self, depth: u32) -> Fast<()> {
        let open = self.pos;
        let after = skip_container(self.buf, open, depth)?;
        self.pos = after;
        self.record_scalar(ScalarKind::Container, open, after, depth);
        Ok(())
    }

    /// Validates the string at the cursor without unescaping it (a value nobody reads),
    /// recording it when scalars are recorded.
    #[inline]
    fn skip_string(&mut self) -> Fast<()> {
        let open = self.pos;
        let after = validate_string(self.buf, open)?;
        self.pos = after;
        self.record_scalar(ScalarKind::String, open, after, 0);
        Ok(())
    }

    /// Validates a number (see [`number_at`]), recording it when scalars are recorded.
    #[inline]
    pub(crate) fn number(&mut self) -> Fast<Option<u64>> {
        let open = self.pos;
        let (value, after) = number_at(self.buf, open)?;
        self.pos = after;
        self.record_scalar(ScalarKind::Number, open, after, 0);
        Ok(value)
    }

    /// Says that the value just read (a string or a number) is held in `slot`.
    #[inline]
    pub(crate) fn hold(&mut self, slot: u16) {
        if SCALARS && let Some(last) = self.scalars.as_deref_mut().and_then(|s| s.last_mut()) {
            last.slot = slot;
        }
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

    /// A string value, or `None` for `null`. Any other value is a shape the view does not
    /// take silently: the slow path decides what it is.
    #[inline]
    fn text(&mut self) -> Fast<Option<Span>> {
        match self.peek()? {
            b'"' => self.string().map(Some),
            b'n' => self.literal(b"null").map(|()| None),
            _ => Err(GiveUp),
        }
    }

    /// An index: a plain non-negative integer, or `None` for `null`; anything else goes the
    /// slow way.
    #[inline]
    fn index(&mut self) -> Fast<Option<u64>> {
        match self.peek()? {
            b'0'..=b'9' => self.number()?.map(Some).ok_or(GiveUp),
            b'n' => self.literal(b"null").map(|()| None),
            _ => Err(GiveUp),
        }
    }

    /// Whether the value at the cursor is `null` (consumed) rather than the `open` bracket
    /// that starts the shape expected; any other value goes the slow way.
    #[inline]
    fn null_or(&mut self, open: u8) -> Fast<bool> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| true),
            b if b == open => Ok(false),
            _ => Err(GiveUp),
        }
    }

    /// An array given as its JSON text (`None` for `null`): its own bytes, when they are
    /// exactly what the simd-json path writes from its tape ([`canonical`]); anything else
    /// goes the slow way.
    fn raw_array(&mut self) -> Fast<Option<Span>> {
        if self.null_or(b'[')? {
            return Ok(None);
        }
        let open = self.pos;
        let first = self.strings.len();
        // Validates it, and records the strings inside it as the template's.
        self.skip(4)?;
        let after = self.pos;
        if after > u32::MAX as usize {
            return Err(GiveUp);
        }
        let text = &self.buf[open..after];
        // As it is when it is the text the simd-json path writes; else compacted, when only
        // the provider's spacing differs (a space after each colon, say).
        let mut span = if canonical(text) {
            // Its text is the document's: each string lies where it is.
            for s in self.strings.get_mut(first..).unwrap_or_default() {
                s.compact_at = s.open - open as u32;
            }
            Span {
                start: open as u32,
                end: after as u32,
                unescaped: false,
                raw: 0,
            }
        } else {
            let inside = self.strings.get_mut(first..).unwrap_or_default();
            compact(text, self.out, inside, open)?
        };
        if self.record {
            span.raw = ARRAY | self.arrays.len() as u32;
            self.arrays.push(RawArray {
                open: open as u32,
                close: (after - 1) as u32,
                span,
            });
        }
        Ok(Some(span))
    }

    /// The JSON text of `buf[open..pos]` (a value just read) as the simd-json path writes it
    /// from its tape: its own bytes when they already are that text ([`canonical`]), else
    /// compacted onto the side buffer when only the spacing differs; `None` otherwise.
    pub(crate) fn json_text(&mut self, open: usize) -> Option<Span> {
        let text = self.buf.get(open..self.pos)?;
        if self.pos > u32::MAX as usize {
            return None;
        }
        if canonical(text) {
            return Some(Span {
                start: open as u32,
                end: self.pos as u32,
                unescaped: false,
                raw: 0,
            });
        }
        compact(text, self.out, &mut [], open).ok()
    }

    /// Validates the value string at the cursor and records where it is.
    #[inline]
    pub(crate) fn string(&mut self) -> Fast<Span> {
        let open = self.pos;
        let (mut span, after) = scan_string(self.buf, open, self.out)?;
        self.pos = after;
        self.record_scalar(ScalarKind::String, open, after, 0);
        if self.record {
            span.raw = self.strings.len() as u32;
            self.strings.push(RawString {
                open: open as u32,
                close: (after - 1) as u32,
                span,
                pinned: false,
                compact_at: 0,
            });
        }
        Ok(span)
    }

    /// The top-level `object` or `type`: when it is the string `"error"`, the object is an
    /// error, which goes the slow way; else the string is pinned, so that a document that
    /// changes it is checked again.
    pub(crate) fn declared(&mut self) -> Fast<()> {
        if self.peek()? != b'"' {
            return self.skip(1);
        }
        let span = self.string()?;
        let text = if span.unescaped {
            &self.out[..]
        } else {
            self.buf
        };
        if text.get(span.start as usize..span.end as usize) == Some(b"error") {
            return Err(GiveUp);
        }
        if let Some(s) = self.strings.last_mut().filter(|_| self.record) {
            s.pinned = true;
        }
        Ok(())
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
            b"x_groq" => TopKey::Groq,
            b"object" | b"type" => TopKey::Declared,
            _ => TopKey::Other,
        };
        // Groq's `x_groq.usage`, used when the chunk has no `usage` of its own.
        let mut groq_usage = None;
        self.object(1, classify, |c, key| {
            match key {
                TopKey::Id => spans.id = c.opt_string(1)?,
                TopKey::Declared => c.declared()?,
                TopKey::Model => spans.model = c.opt_string(1)?,
                TopKey::Fingerprint => spans.fingerprint = c.opt_string(1)?,
                TopKey::Created => spans.created = c.count(1)?,
                TopKey::Usage => spans.usage = c.usage()?,
                TopKey::Choices => {
                    // The last `choices` wins, as with any duplicate key.
                    spans.choices.clear();
                    spans.tools.clear();
                    if !c.null_or(b'[')? {
                        c.array(2, |c| {
                            let choice = c.choice(&mut spans.tools)?;
                            spans.choices.push(choice);
                            Ok(())
                        })?;
                    }
                }
                // An API error is rare: the slow path reads it.
                TopKey::Error => c.literal(b"null")?,
                TopKey::Groq => {
                    groq_usage = None;
                    if c.peek()? != b'{' {
                        return c.skip(1);
                    }
                    c.object(
                        2,
                        |key| key == b"usage",
                        |c, usage| {
                            if usage {
                                groq_usage = c.usage()?;
                                Ok(())
                            } else {
                                c.skip(2)
                            }
                        },
                    )?;
                }
                TopKey::Other => c.skip(1)?,
            }
            Ok(())
        })?;
        self.ws();
        if self.pos != self.buf.len() {
            return Err(GiveUp);
        }
        if spans.usage.is_none() {
            spans.usage = groq_usage;
        }
        Ok(())
    }

    fn usage(&mut self) -> Fast<Option<Usage>> {
        if self.null_or(b'{')? {
            return Ok(None);
        }
        let mut usage = Usage::default();
        self.object(2, known(USAGE_KEYS), |c, key| {
            match key {
                b"prompt_tokens" => usage.input_tokens = c.count(2)?.unwrap_or(0),
                b"completion_tokens" => usage.output_tokens = c.count(2)?.unwrap_or(0),
                b"total_tokens" => usage.total_tokens = c.count(2)?.unwrap_or(0),
                b"prompt_tokens_details" => {
                    usage.cached_input_tokens = c.detail(b"cached_tokens")?
                }
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
                b"index" => choice.index = c.index()?.unwrap_or(0),
                b"finish_reason" => choice.finish_reason = c.text()?,
                b"delta" => {
                    // A later `delta` replaces an earlier one, fields and tool calls alike.
                    choice.role = None;
                    choice.content = None;
                    choice.refusal = None;
                    choice.reasoning_details = None;
                    reasoning_content = None;
                    reasoning = None;
                    tools.truncate(tools_start);
                    if c.null_or(b'{')? {
                        return Ok(());
                    }
                    c.object(4, known(DELTA_KEYS), |c, key| {
                        match key {
                            b"role" => choice.role = c.opt_string(4)?,
                            // An array of content parts goes the slow way.
                            b"content" => choice.content = c.text()?,
                            b"refusal" => choice.refusal = c.text()?,
                            b"reasoning_content" => reasoning_content = c.text()?,
                            b"reasoning" => reasoning = c.text()?,
                            b"reasoning_details" => choice.reasoning_details = c.raw_array()?,
                            b"tool_calls" => {
                                tools.truncate(tools_start);
                                if c.null_or(b'[')? {
                                    return Ok(());
                                }
                                c.array(5, |c| {
                                    let call = c.tool_call()?;
                                    tools.push(call);
                                    Ok(())
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
        // Both sent: which one is taken depends on their texts, which a reused template could
        // not follow; the slow way chooses (none of the recorded streams sends both).
        if reasoning_content.is_some() && reasoning.is_some() {
            return Err(GiveUp);
        }
        choice.reasoning = reasoning_content.or(reasoning);
        choice.tools = (tools_start, tools.len());
        Ok(choice)
    }

    fn tool_call(&mut self) -> Fast<ToolSpans> {
        let mut call = ToolSpans::default();
        self.object(6, known(TOOL_KEYS), |c, key| {
            match key {
                b"index" => call.index = c.index()?,
                b"id" => call.id = c.text()?,
                b"type" => call.kind = c.opt_string(6)?,
                b"function" => {
                    call.name = None;
                    call.arguments = None;
                    if c.null_or(b'{')? {
                        return Ok(());
                    }
                    c.object(7, known(FUNCTION_KEYS), |c, key| {
                        match key {
                            b"name" => call.name = c.text()?,
                            // Arguments sent as a JSON value go the slow way.
                            b"arguments" => call.arguments = c.text()?,
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
    use super::Decoder;

    fn fast(json: &str) -> Option<String> {
        let mut decoder = Decoder::default();
        let (texts, spans) = decoder.decode(json.as_bytes())?;
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

    /// The created time and every string field of `decoder`'s result, for comparing two
    /// decoders.
    fn fields(decoder: &mut Decoder, json: &[u8]) -> Option<Vec<Option<String>>> {
        let (texts, spans) = decoder.decode(json)?;
        let mut out = vec![spans.created.map(|n| n.to_string())];
        let mut all = Vec::new();
        spans.all(|s| {
            all.push(*s);
            true
        });
        out.extend(all.into_iter().map(|s| texts.get(s).map(str::to_owned)));
        Some(out)
    }

    fn doc(id: &str, content: &str, pad: &str) -> String {
        format!(
            r#"{{"id":"{id}","model":"m\u00e9","choices":[{{"index":0,"delta":{{"content":"{content}","role":"assistant"}},"finish_reason":null}}],"obfuscation":"{pad}","system_fingerprint":"fp"}}"#
        )
    }

    #[test]
    fn a_document_that_differs_only_inside_value_strings_reuses_the_template() {
        let first = doc("c1", "Hello", "abc");
        let mut decoder = Decoder::default();
        assert!(decoder.decode(first.as_bytes()).is_some());
        for next in [
            doc("c1", " world", "abcdefgh"),
            doc("c1", "", ""),
            doc("c1", r#"Ol\u00e1 \\ \"q\""#, "x"),
            doc("c2", "\\ud83d\\ude00 caf\u{e9}", "abc"),
            doc("c1", "Hello", "abc"),
        ] {
            assert!(decoder.reuse(next.as_bytes()), "{next}");
            let reused = fields(&mut decoder, next.as_bytes());
            assert!(reused.is_some());
            assert_eq!(
                reused,
                fields(&mut Decoder::default(), next.as_bytes()),
                "{next}"
            );
        }
    }

    /// A `reasoning_details` array, compact or spaced out as one provider sends it.
    fn details(text: &str, spaced: bool, pad: &str) -> String {
        let sep = if spaced { ": " } else { ":" };
        let comma = if spaced { ", " } else { "," };
        format!(
            r#"{{"id":"c","choices":[{{"index":0,"delta":{{"reasoning":"{text}","reasoning_details":[{{"type"{sep}"reasoning.text"{comma}"text"{sep}"{text}"{comma}"index"{sep}0}}]}}}}],"obfuscation":"{pad}"}}"#
        )
    }

    /// The `reasoning_details` text a document decodes to.
    fn details_text(decoder: &mut Decoder, json: &str) -> Option<String> {
        let (texts, spans) = decoder.decode(json.as_bytes())?;
        texts
            .get(spans.choices.first()?.reasoning_details)
            .map(str::to_owned)
    }

    #[test]
    fn reasoning_details_arrays_reuse_the_template_compacted() {
        for spaced in [false, true] {
            let mut decoder = Decoder::default();
            let first = details("The", spaced, "x");
            assert!(decoder.decode(first.as_bytes()).is_some());
            for (text, pad) in [
                (" weather", "x"),
                (" weather", "xyz"),
                ("", ""),
                (r"a\nb", "p"),
            ] {
                let next = details(text, spaced, pad);
                assert!(decoder.reuse(next.as_bytes()), "{next}");
                let want = format!(r#"[{{"type":"reasoning.text","text":"{text}","index":0}}]"#);
                assert_eq!(
                    details_text(&mut decoder, &next),
                    Some(want.clone()),
                    "{next}"
                );
                assert_eq!(
                    details_text(&mut Decoder::default(), &next),
                    Some(want),
                    "{next}"
                );
            }
            // An escape the simd-json path writes otherwise cannot be reused.
            let next = details(r"caf\u00e9", spaced, "x");
            assert!(!decoder.reuse(next.as_bytes()), "{next}");
        }
    }

    #[test]
    fn a_spaced_array_with_several_changed_strings_is_spliced_as_compacted_in_full() {
        let doc = |content: &str, text: &str, data: &str| {
            format!(
                r#"{{"choices": [{{"delta": {{"content": "{content}", "reasoning_details": [{{"type": "reasoning.text", "text": "{text}", "index": 0}}, {{"type": "reasoning.encrypted", "data": "{data}"}}]}}, "finish_reason": null}}]}}"#
            )
        };
        let mut decoder = Decoder::default();
        assert!(decoder.decode(doc("A", "T1", "D1").as_bytes()).is_some());
        for (content, text, data) in [
            ("A", "longer text", "D1"),
            ("BB", "T", "a much longer datum"),
            ("", "", ""),
            ("C", r"tab\there", "D1"),
            ("A", "T1", "D1"),
        ] {
            let next = doc(content, text, data);
            assert!(decoder.reuse(next.as_bytes()), "{next}");
            let fresh = details_text(&mut Decoder::default(), &next);
            assert!(fresh.is_some(), "{next}");
            assert_eq!(details_text(&mut decoder, &next), fresh, "{next}");
        }
    }

    #[test]
    fn any_other_difference_is_parsed_in_full() {
        let first = doc("c1", "Hello", "abc");
        for next in [
            first.replace(r#""index":0"#, r#""index":1"#),
            first.replace(r#""model""#, r#""modeL""#),
            first.replace(":null", r#":"stop""#),
            first.clone() + " ",
            doc("c1", r#"He"llo"#, "abc"),
            doc("c1", "Hel\tlo", "abc"),
            doc("c1", r"\ud800", "abc"),
            doc("c1", r"\u12", "abc"),
            doc("c1", "Hello", r"abc\u0"),
        ] {
            let mut decoder = Decoder::default();
            assert!(decoder.decode(first.as_bytes()).is_some());
            assert!(!decoder.reuse(next.as_bytes()), "{next}");
            let mut decoder = Decoder::default();
            assert!(decoder.decode(first.as_bytes()).is_some());
            let after = fields(&mut decoder, next.as_bytes());
            assert_eq!(
                after,
                fields(&mut Decoder::default(), next.as_bytes()),
                "{next}"
            );
        }
        // Invalid UTF-8 inside a string keeps the structure, and fails validation.
        let mut bytes = doc("c1", "Hxllo", "abc").into_bytes();
        let at = bytes.iter().position(|&b| b == b'x').unwrap_or(0);
        bytes[at] = 0xff;
        let mut decoder = Decoder::default();
        assert!(decoder.decode(first.as_bytes()).is_some());
        assert!(decoder.decode(&bytes).is_none());
    }

    /// The word-at-a-time scan and the long-string search agree with a plain search for every
    /// length and position, next to bytes that are not stops (a space, DEL, high bytes).
    /// The recursive walk that [`super::skip_container`] replaces for skipped values: the
    /// cursor's, as the chat template (which records every string) still runs it.
    fn walked(buf: &[u8], depth: u32) -> Option<usize> {
        let (mut out, mut strings, mut arrays) = (Vec::new(), Vec::new(), Vec::new());
        let mut c: super::Cursor<'_> = super::Cursor {
            buf,
            pos: 0,
            out: &mut out,
            strings: &mut strings,
            arrays: &mut arrays,
            record: true,
            scalars: None,
        };
        c.skip(depth).ok().map(|()| c.pos)
    }

    /// A small xorshift generator: the unit tests' inputs without a dependency.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<'t>(&mut self, from: &[&'t [u8]]) -> &'t [u8] {
            from[self.below(from.len())]
        }
    }

    /// A JSON value of every shape (names with escapes, numbers the fast path gives up on,
    /// whitespace between any tokens), nested up to `depth` more levels.
    fn json_value(rng: &mut Rng, out: &mut Vec<u8>, depth: u32) {
        let ws = |rng: &mut Rng, out: &mut Vec<u8>| {
            out.extend_from_slice(rng.pick(&[b"", b"", b"", b" ", b"\n  ", b"\t"]));
        };
        let kind = if depth == 0 {
            2 + rng.below(4)
        } else {
            rng.below(6)
        };
        match kind {
            0 | 1 => {
                let (open, close) = if kind == 0 {
                    (b'{', b'}')
                } else {
                    (b'[', b']')
                };
                out.push(open);
                ws(rng, out);
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(b',');
                        ws(rng, out);
                    }
                    if kind == 0 {
                        out.extend_from_slice(rng.pick(&[
                            b"\"k\"",
                            b"\"id\"",
                            b"\"a\\\"b\"",
                            b"\"\"",
                        ]));
                        ws(rng, out);
                        out.push(b':');
                        ws(rng, out);
                    }
                    json_value(rng, out, depth - 1);
                    ws(rng, out);
                }
                out.push(close);
            }
            2 => out.extend_from_slice(rng.pick(&[
                b"\"text\"",
                b"\"\"",
                b"\"tab\\there\\u00e9\"",
                b"\"\\ud83d\\ude00\"",
            ])),
            3 => out.extend_from_slice(rng.pick(&[
                b"0",
                b"12",
                b"-3.25",
                b"1e5",
                b"18446744073709551615",
            ])),
            _ => out.extend_from_slice(rng.pick(&[b"true", b"false", b"null"])),
        }
    }

    #[test]
    fn the_container_skipper_accepts_what_the_walk_does_and_only_json() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let cases = if cfg!(miri) { 200 } else { 40_000 };
        let (mut accepted, mut walked_too) = (0, 0);
        for _ in 0..cases {
            let mut buf = vec![if rng.below(2) == 0 { b'{' } else { b'[' }];
            let close = if buf[0] == b'{' { b'}' } else { b']' };
            for i in 0..rng.below(4) {
                if i > 0 {
                    buf.push(b',');
                }
                if close == b'}' {
                    buf.extend_from_slice(b"\"m\":");
                }
                json_value(&mut rng, &mut buf, 3);
            }
            buf.push(close);
            // Now and then a byte removed, doubled or replaced by one the grammar cares about.
            if rng.below(3) == 0 {
                let at = rng.below(buf.len());
                match rng.below(3) {
                    0 => drop(buf.remove(at)),
                    1 => buf.insert(at, buf[at]),
                    _ => {
                        buf[at] =
                            rng.pick(&[b",", b":", b"}", b"]", b"\"", b"\\", b"x", b"\x01"])[0]
                    }
                }
            }
            let depth = [0, 1, 60, 62][rng.below(4)];
            let fast = super::skip_container(&buf, 0, depth).ok();
            let walk = walked(&buf, depth);
            let shown = String::from_utf8_lossy(&buf);
            // The walk declines names with escapes; the skipper validates them instead.
            if walk.is_some() || !buf.contains(&b'\\') {
                assert_eq!(fast, walk, "{shown:?} at depth {depth}");
            }
            if let Some(end) = fast {
                accepted += 1;
                let json: Result<serde_json::Value, _> = serde_json::from_slice(&buf[..end]);
                assert!(json.is_ok(), "{shown:?}");
                walked_too += usize::from(walk.is_some());
            }
        }
        // Many cases are accepted, by both.
        assert!(
            accepted * 4 > cases && walked_too * 4 > cases,
            "{accepted} {walked_too}"
        );
    }

    #[test]
    fn a_skipped_string_is_valid_exactly_when_it_can_be_unescaped() {
        // Pieces whose every sequence of three, between quotes, is tried: escapes
        // good and bad, surrogates paired and not, control characters, cut-off escapes.
        let pieces: &[&[u8]] = &[
            b"a",
            b"\\n",
            b"\\\"",
            b"\\/",
            b"\\x",
            b"\\u00e9",
            b"\\u12g4",
            b"\\ud83d",
            b"\\ude00",
            b"\\ud83d\\ude00",
            b"\\ud83d\\u0041",
            b"\\u",
            b"\x01",
            b"\t",
            b"\"",
            b"\\",
            "\u{e9}".as_bytes(),
            &[b'z'; 70],
        ];
        // Miri interprets every step: there, sequences of two.
        let last: &[&[u8]] = if cfg!(miri) { &[b"a"] } else { pieces };
        let mut out = Vec::new();
        for a in pieces {
            for b in pieces {
                for c in last {
                    let buf = [&b"\""[..], a, b, c, b"\""].concat();
                    let want = super::scan_string(&buf, 0, &mut out).ok().map(|(_, at)| at);
                    assert_eq!(super::validate_string(&buf, 0).ok(), want, "{buf:?}");
                }
            }
        }
    }

    #[test]
    fn string_stop_finds_the_first_quote_backslash_or_control_character() {
        // Miri interprets every step: there, a few lengths around the word and block edges.
        let lens: Vec<usize> = if cfg!(miri) {
            vec![0, 7, 9, 63, 64, 65, 100]
        } else {
            (0..200).collect()
        };
        for len in lens {
            let plain: Vec<u8> = (0..len)
                .map(|i| [b'a', b' ', 0x7f, 0x80, 0xff, b'/'][i % 6])
                .collect();
            let want = |bytes: &[u8]| {
                bytes
                    .iter()
                    .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            };
            assert_eq!(super::string_stop(&plain), None);
            for at in 0..len {
                for stop in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                    let mut bytes = plain.clone();
                    bytes[at] = stop;
                    assert_eq!(
                        super::string_stop(&bytes),
                        want(&bytes),
                        "{len} {at} {stop}"
                    );
                    // A later quote after an earlier control character, and the other way.
                    if at + 3 < len {
                        bytes[at + 3] = if stop == b'"' { 0x01 } else { b'"' };
                        assert_eq!(super::string_stop(&bytes), Some(at), "{len} {at} {stop}");
                    }
                }
            }
        }
    }

    #[test]
    fn utf8_agrees_with_std() {
        // ASCII of every length around a word, then each with a byte of every kind put at
        // every place: multi-byte characters, lone continuation bytes, cut sequences.
        for len in 0..24usize {
            let ascii: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert_eq!(super::utf8(&ascii), std::str::from_utf8(&ascii).ok());
            for at in 0..len {
                for insert in [
                    &[0xC3, 0xA9][..],
                    &[0xE2, 0x82, 0xAC],
                    &[0x80],
                    &[0xC3],
                    &[0xFF],
                ] {
                    let mut bytes = ascii.clone();
                    bytes.splice(at..at, insert.iter().copied());
                    assert_eq!(super::utf8(&bytes), std::str::from_utf8(&bytes).ok());
                }
            }
        }
    }

    #[test]
    fn skip_ws_and_skip_blanks_stop_where_a_byte_walk_stops() {
        // Runs of every length up to forty from spaces with tabs and line ends put in, then
        // a byte that ends them, or the end of the buffer. `skip_blanks` stops at a line end.
        let walk = |buf: &[u8], pos: usize, line_ends: bool| {
            pos + buf[pos..]
                .iter()
                .take_while(|&&b| {
                    b == b' ' || b == b'\t' || line_ends && (b == b'\n' || b == b'\r')
                })
                .count()
        };
        for len in 0..40usize {
            for odd in [
                None,
                Some((0, b'\t')),
                Some((len / 2, b'\n')),
                Some((len.saturating_sub(1), b'\r')),
            ] {
                for end in [&b""[..], b"}", b"x        "] {
                    let mut run = vec![b' '; len];
                    if let Some((at, byte)) = odd
                        && at < len
                    {
                        run[at] = byte;
                    }
                    let buf = [&b"{"[..], &run, end].concat();
                    assert_eq!(super::skip_ws(&buf, 1), walk(&buf, 1, true), "{buf:?}");
                    assert_eq!(super::skip_blanks(&buf, 1), walk(&buf, 1, false), "{buf:?}");
                }
            }
        }
    }

    #[test]
    fn append_copies_exactly_the_run() {
        // Runs of every length up to forty, at every start, so that some have 16 or 32
        // bytes after their start and some do not; onto a buffer with and without spare room.
        let bytes: Vec<u8> = (0..48u8).collect();
        for start in 0..bytes.len() {
            for end in start..bytes.len().min(start + 40) {
                for mut out in [Vec::new(), b"ab".to_vec(), Vec::with_capacity(64)] {
                    let mut want = out.clone();
                    want.extend_from_slice(&bytes[start..end]);
                    super::append(&mut out, &bytes, start, end);
                    assert_eq!(out, want, "{start}..{end}");
                }
            }
        }
    }

    #[test]
    fn common_prefix_finds_the_first_difference() {
        for len in 0usize..70 {
            let a: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            for other in [len.saturating_sub(3), len, len + 5] {
                let mut b: Vec<u8> = (0..other).map(|i| (i * 7 % 251) as u8).collect();
                assert_eq!(super::common_prefix(&a, &b), len.min(other));
                for at in 0..len.min(other) {
                    b[at] ^= 0x20;
                    assert_eq!(super::common_prefix(&a, &b), at, "{len} {other} {at}");
                    assert_eq!(super::common_prefix(&b, &a), at, "{len} {other} {at}");
                    b[at] ^= 0x20;
                }
            }
        }
    }

    #[test]
    fn large_documents_are_not_kept() {
        let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(super::TEMPLATE_MAX));
        let mut decoder = Decoder::default();
        assert!(decoder.decode(big.as_bytes()).is_some());
        assert!(!decoder.has_template);
        assert!(decoder.template.capacity() <= super::TEMPLATE_MAX);
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
        assert!(Decoder::default().decode(b"{\"x\":\"\xff\"}").is_none());
    }
}
