//! The flat scanner's templates: the last event it scanned in full, reused for the next
//! events that differ from it only inside values. Events of kinds that come once per
//! message, block, item or part are not kept (the caller says which): the next event is of
//! another kind, and recording a large event's values and copying its text cost more than
//! its scan.
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
//! The slots of values that did not change keep the template's: their strings are read from
//! the template's copy of its text, and the strings that changed are copied next to the
//! unescaped ones, so the event is never validated as UTF-8 as a whole.
//!
//! A stream ([`crate::ChunkStream`]) also compares an event with the template before its
//! data line's end is known ([`Template::read_repeat`]): when the event repeats the last
//! event's type line and its data follows the template to the template's end, then an LF
//! and the blank line's LF, the event and its data end there, exactly as the line rules
//! would frame them, because neither the template (kept only when it has no CR or LF) nor
//! any value read again (strings cannot hold them, runs of whitespace and skipped values
//! are checked) holds a line end. The framing and the comparison are then one pass.

use super::{Raw, Scan, Text, Texts, V};
use crate::fast::{self, Fast, Scalar, ScalarKind, TEMPLATE_MAX};

/// One dialect's template and the slots of the event being read.
pub(super) struct Template<R> {
    /// The last event scanned in full, when it is small enough to keep (valid UTF-8: it was
    /// validated before it was scanned).
    text: String,
    /// Whether `text`, `scalars`, `raw` and `unescaped` describe such an event.
    kept: bool,
    /// Its values and runs of whitespace, in order.
    scalars: Vec<Scalar>,
    /// Its slots, as the last event read changed them: the slots of the event being read.
    raw: R,
    /// The template's own values of the slots the last reuse changed, put back before the
    /// next one (so a reuse writes only the slots that change, not a copy of them all). The
    /// index is a `usize` after the value so that an entry is two aligned words and a value
    /// (a copy through a `(u16, V)` split it across stores the next loads stalled on).
    changed: Vec<(V, usize)>,
    /// The side buffer of the event being read: its strings with escapes, unescaped, and on
    /// a reuse the strings that changed. The template's own come first, and are kept for
    /// the next reuse; each template has its own (another dialect's scan, on the same
    /// decoder, must not overwrite them).
    side: Vec<u8>,
    /// How much of `side` the template's strings with escapes use.
    unescaped: usize,
    /// Whether `text` holds no CR or LF: an event of one data line can then be compared with
    /// it before the line's end is known (see [`Template::read_repeat`]).
    one_line: bool,
}

impl<R: Raw> Default for Template<R> {
    fn default() -> Self {
        Self {
            text: String::new(),
            kept: false,
            scalars: Vec::new(),
            raw: R::BLANK,
            changed: Vec::new(),
            side: Vec::new(),
            unescaped: 0,
            one_line: false,
        }
    }
}

impl<R: Raw + AsMut<[V]>> Template<R> {
    /// The slots of `data`, the texts their spans point into (the input and the side
    /// buffer, validated), and whether the template was reused: from the template when
    /// `data` differs from it only inside values, else `text()` (`data` as UTF-8, `None`
    /// when it is not) scanned in full by `read`. `None` when the scan declines.
    ///
    /// `repeated`: [`Template::read_repeat`] just took `data`, so the template already holds
    /// its values. `keep`: whether `data` is of a kind whose events repeat (the caller says
    /// no for kinds that come once per message, block, item or part; asked only when `data`
    /// is not `repeated`): only then is it compared with the template, and kept as the
    /// template when scanned in full. Another event is scanned in full at once: it follows
    /// an event of another kind, and the next event does not repeat it, so a comparison would
    /// fail, and recording its values and copying its text (more than its scan costs, when
    /// it has many) would be wasted.
    #[inline]
    pub(super) fn read<'t>(
        &'t mut self,
        data: &[u8],
        repeated: bool,
        keep: impl FnOnce() -> bool,
        text: impl FnOnce() -> Option<&'t str>,
        read: impl FnOnce(&mut R, &mut Scan<'_>) -> Fast<()>,
    ) -> Option<(&'t R, Texts<'t>, bool)> {
        let keep = !repeated && keep();
        let (scanned, reused) = if repeated || (keep && self.reuse(data)) {
            (None, true)
        } else {
            let text = text()?;
            if !self.scan(text, keep, read) {
                return None;
            }
            (Some(text), false)
        };
        let input = scanned.unwrap_or(self.text.as_str());
        let texts = Texts::new(input, &self.side).ok()?;
        Some((&self.raw, texts, reused))
    }

    /// Scans `text` in full with `read`, strings with escapes unescaped onto the side buffer;
    /// `text` becomes the template when `keep` says so and it is small enough. False when
    /// the scan declines.
    #[inline]
    fn scan(
        &mut self,
        text: &str,
        keep: bool,
        read: impl FnOnce(&mut R, &mut Scan<'_>) -> Fast<()>,
    ) -> bool {
        self.kept = false;
        self.side.clear();
        self.scalars.clear();
        self.raw = R::BLANK;
        self.changed.clear();
        let keep = keep && text.len() <= TEMPLATE_MAX;
        let raw = &mut self.raw;
        let scanned = fast::scan(
            text.as_bytes(),
            &mut self.side,
            keep.then_some(&mut self.scalars),
            |c| super::top(c, |c| read(raw, c)),
        );
        if scanned.is_none() {
            return false;
        }
        // An object taken as its own text (a Responses reasoning item) would not follow a
        // change inside it; such events (an item's start and end) rarely repeat anyway.
        if keep && !self.raw.as_mut().iter().any(|v| matches!(v, V::Raw(_))) {
            self.text.clear();
            self.text.push_str(text);
            self.unescaped = self.side.len();
            self.one_line = crate::search::cr_or_lf(text.as_bytes()).is_none();
            self.kept = true;
        }
        true
    }

    /// Reads the slots of `input` from the template, when the two differ only inside values
    /// (see the module's docs); their spans point into the template's text (an unchanged
    /// string is the template's) or the side buffer, where the strings that changed are copied
    /// (unescaped or not). False when they differ anywhere else.
    ///
    /// `input` need not be valid UTF-8: it equals the template (valid) outside the values
    /// that changed; those a slot holds are ASCII (numbers) or copied into the side buffer,
    /// which the caller validates (each piece starts and ends next to an ASCII byte, so no
    /// character straddles two of them). The changed values no slot holds (a skipped string,
    /// object or array, a run of whitespace) are validated as JSON and never read as text, so
    /// their bytes are not checked as UTF-8: the parts are those the simd-json path gives for
    /// the data decoded with U+FFFD, where a full scan sends data that is not UTF-8.
    #[inline]
    fn reuse(&mut self, input: &[u8]) -> bool {
        self.read_again::<false>(input).is_some()
    }

    /// For an event whose data line's end is not known yet: the data's length, when the bytes
    /// from `rest` on are the data of a reuse of the template, then an LF and the blank
    /// line's LF. The template then holds the data's values: [`Template::read`] of that data
    /// with `repeated` reads them. A data line holds no CR or LF, and a JSON value
    /// none either outside whitespace: the template has none ([`Template::one_line`]), the
    /// runs of whitespace read again must have none, and the data ends where the template
    /// does, so the line ends exactly there. `None` otherwise, or when the data is longer
    /// than `max` (the template's values are left as a failed reuse leaves them).
    #[inline]
    pub(super) fn read_repeat(&mut self, rest: &[u8], max: usize) -> Option<usize> {
        if !self.one_line {
            return None;
        }
        let rest = &rest[..rest.len().min(TEMPLATE_MAX + 2)];
        self.read_again::<true>(rest).filter(|&len| len <= max)
    }

    /// [`Template::reuse`] (with `OPEN_ENDED`, [`Template::read_repeat`]): the length of the
    /// data read, `None` where it says false. A function of its own, not inlined into the
    /// stream's loop, where its comparison's state did not stay in registers.
    #[inline(never)]
    fn read_again<const OPEN_ENDED: bool>(&mut self, input: &[u8]) -> Option<usize> {
        if !self.kept || input.len() > TEMPLATE_MAX + usize::from(OPEN_ENDED) * 2 {
            return None;
        }
        let out = &mut self.side;
        out.truncate(self.unescaped);
        let slots = self.raw.as_mut();
        for (value, slot) in self.changed.drain(..).rev() {
            if let Some(slot) = slots.get_mut(slot) {
                *slot = value;
            }
        }
        let (old, scalars) = (self.text.as_bytes(), &self.scalars[..]);
        // The template's values from `next` on have not been looked at yet.
        let (mut at_old, mut at_new, mut next) = (0, 0, 0);
        loop {
            let same = fast::common_prefix(&old[at_old..], &input[at_new..]);
            let at = at_old + same;
            if at == old.len() {
                let end = at_new + same;
                if OPEN_ENDED {
                    if input.get(end..end + 2) == Some(b"\n\n") {
                        return Some(end);
                    }
                } else if end == input.len() {
                    return Some(end);
                }
            }
            // The first value that can hold the difference: a string's closing quote, or the
            // byte after a number or a run, at or after it. A walk, not a search: the values
            // are passed once over the whole event, and the next one usually holds it.
            let mut k = next;
            while scalars.get(k).is_some_and(|s| (s.last as usize) < at) {
                k += 1;
            }
            let s = *scalars.get(k)?;
            // Inside a string means after its opening quote; a number or a run may differ
            // from its first byte.
            let open = s.open as usize;
            if at < open
                || (at == open && matches!(s.kind, ScalarKind::String | ScalarKind::Container))
            {
                return None;
            }
            // Read that value again where it is now.
            let open = s
                .open
                .wrapping_add((at_new as u32).wrapping_sub(at_old as u32))
                as usize;
            let (value, after) = match s.kind {
                // A string no slot holds is only validated: nothing reads it.
                ScalarKind::String if s.slot == fast::NO_SLOT => {
                    (V::Absent, fast::validate_string(input, open).ok()?)
                }
                ScalarKind::String => {
                    let (mut span, after) = fast::scan_string(input, open, out).ok()?;
                    if !span.unescaped {
                        // Into the side buffer, which is validated as a whole.
                        let start = out.len();
                        fast::append(out, input, span.start as usize, span.end as usize);
                        span.start = u32::try_from(start).ok()?;
                        span.end = u32::try_from(out.len()).ok()?;
                        span.unescaped = true;
                    }
                    (V::Str(Text::from(span)), after)
                }
                ScalarKind::Number => {
                    let (count, after) = fast::number_at(input, open).ok()?;
                    (count.map_or(V::Other, V::Count), after)
                }
                ScalarKind::Space => {
                    // On one line, a run ends at a line end (which ends the data).
                    let after = if OPEN_ENDED {
                        fast::skip_blanks(input, open)
                    } else {
                        fast::skip_ws(input, open)
                    };
                    (V::Absent, after)
                }
                ScalarKind::Container => {
                    let after = fast::skip_container(input, open, u32::from(s.depth)).ok()?;
                    if OPEN_ENDED && crate::search::cr_or_lf(&input[open..after]).is_some() {
                        return None;
                    }
                    (V::Absent, after)
                }
            };
            let slot = usize::from(s.slot);
            if let Some(held) = slots.get_mut(slot) {
                self.changed.push((std::mem::replace(held, value), slot));
            }
            at_old = s.after();
            (at_new, next) = (after, k + 1);
        }
    }
}
