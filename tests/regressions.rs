//! Inputs that once broke the crate or its references, found by fuzzing and property tests,
//! kept as plain tests so they never come back.

use bytes::BytesMut;
use ssechunk::{ChunkDecoder, Config, Error, Frame, Parser, Payload};

/// Found by the `chunk` fuzz target: `-0` is the integer zero for every count, on both
/// decoding paths (serde_json's `Value` reads it as the float -0.0).
#[test]
fn negative_zero_is_zero() {
    let data = br#"{"created":-0,"choices":[{"index":-0}]}"#;
    let mut decoder = ChunkDecoder::new();
    for payload in [decoder.decode(data).created_and_index(), {
        let mut slow = ChunkDecoder::new();
        slow.decode_with_simd_json(data).created_and_index()
    }] {
        assert_eq!(payload, (Some(0), Some(0)));
    }
}

trait CreatedAndIndex {
    fn created_and_index(&self) -> (Option<u64>, Option<u64>);
}

impl CreatedAndIndex for Payload<'_> {
    fn created_and_index(&self) -> (Option<u64>, Option<u64>) {
        match self {
            Payload::Chunk(chunk) => (chunk.created(), chunk.choice().map(|c| c.index())),
            other => panic!("not a chunk: {other:?}"),
        }
    }
}

fn events(parser: &mut Parser) -> Vec<Result<Vec<u8>, String>> {
    let mut out = Vec::new();
    while let Some(frame) = parser.next_frame() {
        match frame {
            Ok(Frame::Event(e)) => out.push(Ok(e.data().to_vec())),
            Ok(_) => {}
            Err(e) => out.push(Err(e.to_string())),
        }
    }
    out
}

/// Found by the framing table: after an empty `data:` line the parser held no bytes, yet its
/// (empty) data buffer still pointed into the old buffer, so adopting a new `BytesMut`
/// corrupted the next data line.
#[test]
fn adopting_a_buffer_after_empty_data() {
    let mut parser = Parser::new();
    parser.feed(b"data:\n");
    assert!(events(&mut parser).is_empty());
    let mut next = BytesMut::with_capacity(256);
    next.extend_from_slice(b"data:abcdefgh\n\n");
    parser.feed_bytes_mut(next);
    assert_eq!(events(&mut parser), [Ok(b"\nabcdefgh".to_vec())]);
}

/// Found by the framing property tests: whether an event was over the limit depended on how
/// the reads fell (a line still arriving was counted whole, a complete one by its value).
#[test]
fn the_limit_does_not_depend_on_the_reads() {
    let input = b"data: 0123456789abc\n\ndata: ok\n\n";
    let mut whole = Parser::with_config(Config::new().max_event_bytes(16));
    whole.feed(input);
    let want = events(&mut whole);
    assert_eq!(
        want,
        [
            Err(Error::EventTooLarge { limit: 16 }.to_string()),
            Ok(b"ok".to_vec())
        ]
    );
    let mut bytewise = Parser::with_config(Config::new().max_event_bytes(16));
    let mut got = Vec::new();
    for byte in input {
        bytewise.feed(std::slice::from_ref(byte));
        got.extend(events(&mut bytewise));
    }
    assert_eq!(got, want);
}
