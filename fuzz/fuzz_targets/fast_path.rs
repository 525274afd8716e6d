//! The specialised fast path alone (`decode_fast_only`) against simd-json alone
//! (`decode_with_simd_json`) and the serde_json reference: whenever the fast path accepts
//! the data, its payload must be both of theirs; and `decode` must give what simd-json gives.
//! Every 2^k inputs it prints how many the fast path took and how many it declined, so that
//! a run shows both were exercised (`fuzz/run.sh` fails when either count is zero).
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use ssechunk::{ChunkDecoder, Dialect};

#[path = "../../tests/common/chunk_reference.rs"]
mod chunk_reference;

use chunk_reference::{fast_only, from_payload, reference};

static INPUTS: AtomicU64 = AtomicU64::new(0);
static FAST: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let mut decoder = ChunkDecoder::with_dialect(Some(Dialect::Chat));
    let slow = from_payload(&decoder.decode_with_simd_json(data));
    let shown = || data.escape_ascii().to_string();
    if let Some(fast) = fast_only(&mut decoder, data) {
        assert_eq!(
            fast,
            slow,
            "fast path alone vs simd-json alone; data {:?}",
            shown()
        );
        assert_eq!(
            fast,
            reference(data),
            "fast path alone vs the reference; data {:?}",
            shown()
        );
        FAST.fetch_add(1, Ordering::Relaxed);
    }
    let whole = from_payload(&ChunkDecoder::with_dialect(Some(Dialect::Chat)).decode(data));
    assert_eq!(whole, slow, "decode vs simd-json alone; data {:?}", shown());
    let n = INPUTS.fetch_add(1, Ordering::Relaxed) + 1;
    if n.is_power_of_two() {
        let fast = FAST.load(Ordering::Relaxed);
        eprintln!(
            "paths: {n} inputs, fast {fast}, template 0, simd-json {}",
            n - fast
        );
    }
});
