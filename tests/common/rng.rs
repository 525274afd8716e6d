//! A small deterministic generator (SplitMix64), so that failing split sets, read sizes and
//! generated inputs can be replayed from their seed.
//!
//! It needs std only, so that every place that wants it can include it with `#[path]`:
//! `tests/common/mod.rs`, `tests/common/chunk_reference.rs` (which the fuzz targets include
//! too), `fuzz/fuzz_targets/common.rs`, and the test files that use neither.
//!
//! Each includer uses a different part of it.
#![allow(dead_code)]

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Reads of random sizes in `1..=max_read` for an input of `len` bytes, as a socket
    /// delivers them; returns the cut points (the end of every read but the last).
    pub fn reads(&mut self, len: usize, max_read: usize) -> Vec<usize> {
        let mut cuts = Vec::new();
        let mut at = 0;
        loop {
            at += 1 + self.below(max_read);
            if at >= len {
                return cuts;
            }
            cuts.push(at);
        }
    }

    /// Up to `max_cuts` random cut points for an input of `len` bytes, ascending, repeats kept
    /// (they feed empty pieces, which must be harmless too).
    pub fn cuts(&mut self, len: usize, max_cuts: usize) -> Vec<usize> {
        let n = self.below(max_cuts + 1);
        let mut cuts: Vec<usize> = (0..n).map(|_| self.below(len + 1)).collect();
        cuts.sort_unstable();
        cuts
    }
}
