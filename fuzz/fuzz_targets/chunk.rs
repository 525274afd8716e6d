//! Chunk decoding: any bytes as one event's data decode, without panicking, to what the
//! serde_json reference of the contract extracts (`[DONE]`, an API error, a chunk, or invalid
//! data); as an `error` event's data, to the reference's error; and a decoder reused after
//! other data decodes as a fresh one does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssechunk::{ChunkDecoder, Dialect};

#[path = "../../tests/common/chunk_reference.rs"]
mod chunk_reference;

use chunk_reference::{from_payload, reference, reference_event};

/// A chunk with two choices and tool calls, decoded first so the reused decoder holds state.
const BUSY: &[u8] = br#"{"id":"x","choices":[{"index":1,"delta":{"content":"a\u00e9","tool_calls":[{"index":0,"id":"t","function":{"name":"f","arguments":"{"}},{"index":1}]}},{"delta":{"reasoning":"r"}}],"usage":{"total_tokens":3}}"#;

fuzz_target!(|data: &[u8]| {
    let mut decoder = ChunkDecoder::with_dialect(Some(Dialect::Chat));
    let fresh = from_payload(&decoder.decode(data));
    let want = reference(data);
    assert_eq!(
        fresh,
        want,
        "decoder vs reference; data {:?}",
        data.escape_ascii().to_string()
    );

    decoder.decode(BUSY);
    let reused = from_payload(&decoder.decode(data));
    assert_eq!(reused, fresh, "a reused decoder differs from a fresh one");

    let error = from_payload(&decoder.decode_event(b"error", data));
    assert_eq!(
        error,
        reference_event(b"error", data),
        "error event vs reference; data {:?}",
        data.escape_ascii().to_string()
    );
});
