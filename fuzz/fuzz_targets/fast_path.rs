//! The specialised fast path of `ChunkDecoder::decode` against simd-json alone
//! (`decode_with_simd_json`): on every input the two give the same payload, so the fast path
//! only ever skips work.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssechunk::ChunkDecoder;

#[path = "../../tests/common/chunk_reference.rs"]
mod chunk_reference;

use chunk_reference::from_payload;

fuzz_target!(|data: &[u8]| {
    let mut decoder = ChunkDecoder::new();
    let fast = from_payload(&decoder.decode(data));
    let slow = from_payload(&decoder.decode_with_simd_json(data));
    assert_eq!(
        fast,
        slow,
        "fast path vs simd-json; data {:?}",
        data.escape_ascii().to_string()
    );
});
