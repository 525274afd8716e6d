//! The flat scanner's templates: the last event it scanned in full, reused for the next
//! events that differ from it only inside values.
//!
//! Consecutive events of one kind repeat their bytes around a few changed values: an
//! Anthropic `content_block_delta` changes its `text`, a Responses
//! `response.output_text.delta` its `delta`, `obfuscation` and `sequence_number`. The
//! scanner records where each string and number value of an event lies and which slot holds
//! it ([`Scalar`]); the next event is compared with those bytes, sixteen at a time, and only
//! the values that differ are read again.
//!
//! Why this gives the full scan's result: the scanner reads left to right, and its state at
//! any point depends only on the bytes before it. A string's or a number's bytes never change
//! that state: they decide only the value stored in the slot (or, for a value the scanner
//! skips, only whether the event is valid). So where the event repeats the template byte for
//! byte, the scan goes exactly as it went then; where it differs inside a value, that value
//! is read again with the same code (the string's validation and unescaping, the number's
//! grammar), and the scan goes on after it in the same state as before, over bytes compared
//! again. A difference anywhere else (a key, punctuation, a literal, a string or number that
//! does not end where the bytes after it match again) makes the event be scanned in full.
//! The slots of values that did not change keep the template's, moved by as many bytes as
//! the values before them grew or shrank.

use super::{Raw, V};
use crate::fast::{self, Cursor, Fast, Scalar, ScalarKind, TEMPLATE_MAX};

/// One dialect's template and the slots of the event being read.
pub(super) struct Template<R> {
    /// The last event scanned in full, when it is small enough to keep.
    bytes: Vec<u8>,
    /// Whether `bytes`, `scalars`, `raw` and `unescaped` describe such an event.
    kept: bool,
    /// Its string and number values, in order.
    scalars: Vec<Scalar>,
    /// Its slots.
    raw: R,
    /// How much of the side buffer its strings with escapes use.
    unescaped: usize,
    /// The slots of the event being read.
    current: R,
}

impl<R: Raw> Default for Template<R> {
    fn default() -> Self {
        Self {
            bytes: Vec::new(),
            kept: false,
            scalars: Vec::new(),
            raw: R::BLANK,
            unescaped: 0,
            current: R::BLANK,
        }
    }
}

impl<R: Raw + AsMut<[V]>> Template<R> {
    /// The slots of `input`, strings with escapes unescaped onto `out`: from the template
    /// when `input` differs from it only inside values, else scanned in full by `read` (and
    /// `input` becomes the template). `None` when the scan declines.
    ///
    /// The second value says whether the template was reused.
    #[inline]
    pub(super) fn slots(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        read: impl FnOnce(&mut R, &mut Cursor<'_>) -> Fast<()>,
    ) -> Option<(&R, bool)> {
        if self.kept && self.reuse(input, out) {
            return Some((&self.current, true));
        }
        self.kept = false;
        out.clear();
        self.scalars.clear();
        self.current = R::BLANK;
        let keep = input.len() <= TEMPLATE_MAX;
        let current = &mut self.current;
        fast::scan(input, out, keep.then_some(&mut self.scalars), |c| {
            super::top(c, |c| read(current, c))
        })?;
        if keep {
            self.bytes.clear();
            self.bytes.extend_from_slice(input);
            self.raw = self.current;
            self.unescaped = out.len();
            self.kept = true;
        }
        Some((&self.current, false))
    }

    /// Reads `input`'s slots from the template into `current`, when the two differ only
    /// inside values (see the module's docs); false when they differ anywhere else.
    fn reuse(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        if input.len() > TEMPLATE_MAX {
            return false;
        }
        out.truncate(self.unescaped);
        self.current = self.raw;
        let (old, scalars) = (&self.bytes[..], &self.scalars[..]);
        let slots = self.current.as_mut();
        // The template's values from `next` on have not been looked at yet.
        let (mut at_old, mut at_new, mut next) = (0, 0, 0);
        loop {
            let same = fast::common_prefix(&old[at_old..], &input[at_new..]);
            let at = at_old + same;
            let end = at == old.len() && at_new + same == input.len();
            // The first value that can hold the difference: a string's closing quote, or the
            // byte after a number, at or after it.
            let k = if end {
                scalars.len()
            } else {
                next + scalars[next..].partition_point(|s| (s.last as usize) < at)
            };
            // The values before it did not change; they moved with the ones before them.
            let moved = (at_new as u32).wrapping_sub(at_old as u32);
            if moved != 0 {
                for s in &scalars[next..k] {
                    if let Some(V::Str(span)) = slots.get_mut(usize::from(s.slot))
                        && !span.unescaped
                    {
                        span.start = span.start.wrapping_add(moved);
                        span.end = span.end.wrapping_add(moved);
                    }
                }
            }
            if end {
                return true;
            }
            let Some(&s) = scalars.get(k) else {
                return false;
            };
            // Inside a string means after its opening quote; a number or a run may differ
            // from its first byte.
            let open = s.open as usize;
            if at < open || (at == open && s.kind == ScalarKind::String) {
                return false;
            }
            // Read that value again where it is now.
            let open = s.open.wrapping_add(moved) as usize;
            let read = match s.kind {
                ScalarKind::String => {
                    fast::scan_string(input, open, out).map(|(span, after)| (V::Str(span), after))
                }
                ScalarKind::Number => fast::number_at(input, open)
                    .map(|(n, after)| (n.map_or(V::Other, V::Count), after)),
                ScalarKind::Space => Ok((V::Absent, fast::skip_ws(input, open))),
            };
            let Ok((value, after)) = read else {
                return false;
            };
            if let Some(slot) = slots.get_mut(usize::from(s.slot)) {
                *slot = value;
            }
            at_old = match s.kind {
                ScalarKind::String => s.last as usize + 1,
                ScalarKind::Number | ScalarKind::Space => s.last as usize,
            };
            (at_new, next) = (after, k + 1);
        }
    }
}
