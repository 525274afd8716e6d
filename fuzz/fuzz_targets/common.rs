//! Helpers shared by the fuzz targets: a PRNG seeded from the input, the ways bytes can enter
//! a parser, and random read sizes.
#![allow(dead_code)]

// The tests' generator (SplitMix64), std-only so that it can be included by path.
#[path = "../../tests/common/rng.rs"]
mod rng;

use bytes::{Bytes, BytesMut};
use ssechunk::{ChunkStream, PADDING, Parser};

pub use rng::Rng;

/// FNV-1a of the input: seeds everything that is derived from the data rather than read from
/// it, so that the whole input stays a plain SSE stream (and the seed corpus stays meaningful).
pub fn hash(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Cuts `len` bytes into reads: sizes from 0 (an empty read) up to a maximum that is itself
/// random, from 1 byte to the whole input. Returns the end offset of each read.
pub fn reads(rng: &mut Rng, len: usize) -> Vec<usize> {
    let max = [1, 2, 3, 8, 17, 64, 300, len + 1][rng.below(8)];
    let mut ends = Vec::new();
    let mut at = 0;
    while at < len {
        at = (at + rng.below(max + 1)).min(len);
        ends.push(at);
    }
    ends
}

/// How one read is handed over; every way must give the same frames.
#[derive(Debug, Clone, Copy)]
pub enum Feed {
    /// `feed(&[u8])`.
    Slice,
    /// `spare(n)` then `commit(n)`.
    Spare,
    /// `feed_bytes_mut` with room for the padding: the allocation may be adopted.
    BytesMut,
    /// `feed_bytes_mut` without the room: copied.
    BytesMutTight,
    /// `feed_bytes` of the only handle: may be adopted.
    BytesUnique,
    /// `feed_bytes` while another handle lives: copied.
    BytesShared,
}

impl Feed {
    pub fn random(rng: &mut Rng) -> Feed {
        [
            Feed::Slice,
            Feed::Spare,
            Feed::BytesMut,
            Feed::BytesMutTight,
            Feed::BytesUnique,
            Feed::BytesShared,
        ][rng.below(6)]
    }
}

/// What both [`Parser`] and [`ChunkStream`] take input through.
pub trait Input {
    fn feed(&mut self, input: &[u8]);
    fn spare(&mut self, n: usize) -> &mut [u8];
    fn commit(&mut self, n: usize);
    fn feed_bytes(&mut self, input: Bytes);
    fn feed_bytes_mut(&mut self, input: BytesMut);
}

macro_rules! impl_input {
    ($t:ty) => {
        impl Input for $t {
            fn feed(&mut self, input: &[u8]) {
                <$t>::feed(self, input)
            }
            fn spare(&mut self, n: usize) -> &mut [u8] {
                <$t>::spare(self, n)
            }
            fn commit(&mut self, n: usize) {
                <$t>::commit(self, n)
            }
            fn feed_bytes(&mut self, input: Bytes) {
                <$t>::feed_bytes(self, input)
            }
            fn feed_bytes_mut(&mut self, input: BytesMut) {
                <$t>::feed_bytes_mut(self, input)
            }
        }
    };
}
impl_input!(Parser);
impl_input!(ChunkStream);

/// Hands one read over the way `feed` says.
pub fn feed_piece(target: &mut impl Input, piece: &[u8], feed: Feed) {
    match feed {
        Feed::Slice => target.feed(piece),
        Feed::Spare => {
            let room = target.spare(piece.len());
            assert!(room.len() >= piece.len(), "spare gave less room than asked");
            room[..piece.len()].copy_from_slice(piece);
            target.commit(piece.len());
        }
        Feed::BytesMut => {
            let mut buf = BytesMut::with_capacity(piece.len() + PADDING);
            buf.extend_from_slice(piece);
            target.feed_bytes_mut(buf);
        }
        Feed::BytesMutTight => target.feed_bytes_mut(BytesMut::from(piece)),
        Feed::BytesUnique => {
            let mut vec = Vec::with_capacity(piece.len() + PADDING);
            vec.extend_from_slice(piece);
            target.feed_bytes(Bytes::from(vec));
        }
        Feed::BytesShared => {
            let bytes = Bytes::copy_from_slice(piece);
            let other = bytes.clone();
            target.feed_bytes(bytes);
            assert_eq!(other, piece, "a shared buffer was modified");
        }
    }
}
