//! One `ChunkDecoder` takes a run of documents (the input's lines), as it does in a stream:
//! each must decode exactly as simd-json decodes it alone, and whenever the fast path or its
//! template reuse took a document (`decode_traced` says which path did), as the serde_json
//! reference decodes it. Consecutive chunks of a stream differ in a few string values, and
//! the decoder reuses what it learnt from the last one it parsed in full; this target holds
//! that reuse to the full result. Its seeds are the event data of whole recorded streams, one
//! document per line. Every 2^k inputs it prints how many documents each path took
//! (`fuzz/run.sh` fails when the fast path, the template or simd-json never ran).
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use ssechunk::{ChunkDecoder, DecodePath, Dialect};

#[path = "../../tests/common/chunk_reference.rs"]
mod chunk_reference;

use chunk_reference::{from_payload, reference, traced};

static INPUTS: AtomicU64 = AtomicU64::new(0);
/// Documents taken by the full fast parse, the template reuse, and simd-json.
static PATHS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

fuzz_target!(|data: &[u8]| {
    let mut decoder = ChunkDecoder::with_dialect(Some(Dialect::Chat));
    let mut alone = ChunkDecoder::with_dialect(Some(Dialect::Chat));
    for document in data.split(|&b| b == b'\n') {
        let (in_run, path) = traced(&mut decoder, document);
        let by_itself = from_payload(&alone.decode_with_simd_json(document));
        let shown = || document.escape_ascii().to_string();
        assert_eq!(
            in_run,
            by_itself,
            "{path:?} path in a run vs simd-json alone; document {:?}",
            shown()
        );
        let slot = match path {
            DecodePath::Fast => 0,
            DecodePath::Template => 1,
            _ => 2,
        };
        if slot < 2 {
            assert_eq!(
                in_run,
                reference(document),
                "{path:?} path vs the reference; document {:?}",
                shown()
            );
        }
        PATHS[slot].fetch_add(1, Ordering::Relaxed);
    }
    let n = INPUTS.fetch_add(1, Ordering::Relaxed) + 1;
    if n.is_power_of_two() {
        let [fast, template, simd] = PATHS.each_ref().map(|p| p.load(Ordering::Relaxed));
        eprintln!("paths: {n} inputs, fast {fast}, template {template}, simd-json {simd}");
    }
});
