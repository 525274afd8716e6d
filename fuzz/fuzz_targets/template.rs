//! One `ChunkDecoder` takes a run of documents (the input's lines), as it does in a stream:
//! each must decode exactly as simd-json decodes it alone. Consecutive chunks of a stream
//! differ in a few string values, and the decoder reuses what it learnt from the last one it
//! parsed in full; this target holds that reuse to the full result. Its seeds are the event
//! data of whole recorded streams, one document per line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssechunk::ChunkDecoder;

#[path = "../../tests/common/chunk_reference.rs"]
mod chunk_reference;

use chunk_reference::from_payload;

fuzz_target!(|data: &[u8]| {
    let mut decoder = ChunkDecoder::new();
    let mut alone = ChunkDecoder::new();
    for document in data.split(|&b| b == b'\n') {
        let in_run = from_payload(&decoder.decode(document));
        let by_itself = from_payload(&alone.decode_with_simd_json(document));
        assert_eq!(
            in_run,
            by_itself,
            "in a run vs alone; document {:?}",
            document.escape_ascii().to_string()
        );
    }
});
