//! The two-byte searches the parsers run at every line and every long string, through
//! memchr's AVX2 searcher built once per process where the CPU has AVX2. memchr's generic
//! `memchr2` picks its implementation and builds its searcher on every call, a cost that
//! counts when the haystacks are lines of a few hundred bytes. Elsewhere, `memchr2`.

/// The first occurrence of `$a` or `$b` in `$bytes`, with a searcher kept in a static.
macro_rules! find_two {
    ($a:expr, $b:expr, $bytes:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            use memchr::arch::x86_64::avx2::memchr::Two;
            static FINDER: std::sync::OnceLock<Option<Two>> = std::sync::OnceLock::new();
            if let Some(finder) = FINDER.get_or_init(|| Two::new($a, $b)) {
                return finder.find($bytes);
            }
        }
        memchr::memchr2($a, $b, $bytes)
    }};
}

/// The offset of the first CR or LF in `bytes`.
#[inline]
pub(crate) fn cr_or_lf(bytes: &[u8]) -> Option<usize> {
    find_two!(b'\n', b'\r', bytes)
}

/// The offset of the first `"` or `\` in `bytes`.
#[inline]
pub(crate) fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    find_two!(b'"', b'\\', bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_searches_find_the_first_of_their_bytes() {
        for len in [0usize, 1, 15, 16, 31, 32, 33, 64, 100] {
            for at in 0..len {
                for (byte, find) in [
                    (b'\n', super::cr_or_lf as fn(&[u8]) -> Option<usize>),
                    (b'\r', super::cr_or_lf),
                    (b'"', super::quote_or_backslash),
                    (b'\\', super::quote_or_backslash),
                ] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = byte;
                    if at + 1 < len {
                        bytes[len - 1] = byte;
                    }
                    assert_eq!(find(&bytes), Some(at));
                }
            }
            assert_eq!(super::cr_or_lf(&vec![b'"'; len]), None);
            assert_eq!(super::quote_or_backslash(&vec![b'\n'; len]), None);
        }
    }
}
