//! A word-at-a-time hash for the hot path (index probes, context lookups).
//! SipHash costs more than the rest of a decision; FNV's byte-serial
//! multiply chain is not much better. This is FxHash's scheme, with a
//! per-process random seed where callers can choose the keys.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;

const K: u64 = 0x517c_c1b7_2722_0a95;

#[inline]
fn step(h: u64, word: u64) -> u64 {
    (h.rotate_left(5) ^ word).wrapping_mul(K)
}

#[inline]
pub(crate) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = step(h, u64::from_le_bytes(w));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // The length keeps "a" and "a\0" apart.
        h = step(h, tail_word(rest) ^ ((rest.len() as u64) << 59));
    }
    h
}

/// 1 to 7 bytes as a little-endian word padded with zeros, from at most
/// two overlapping loads (a variable-length copy costs a `memcpy` call).
#[inline]
fn tail_word(rest: &[u8]) -> u64 {
    let n = rest.len();
    let le32 = |at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&rest[at..at + 4]);
        u64::from(u32::from_le_bytes(w))
    };
    if n >= 4 {
        // Overlapping bytes land on the same positions with the same values.
        le32(0) | (le32(n - 4) << (8 * (n - 4)))
    } else {
        u64::from(rest[0])
            | u64::from(rest[n / 2]) << (8 * (n / 2))
            | u64::from(rest[n - 1]) << (8 * (n - 1))
    }
}

/// The per-process seed, so that request-supplied context keys cannot be
/// chosen to collide. Hashes made with it (compiled condition keys, context
/// keys) are only meaningful within this process.
#[inline]
pub(crate) fn process_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| RandomState::new().hash_one(0x5eed_u64) | 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_word_is_the_zero_padded_word() {
        let bytes = b"abcdefg";
        for n in 1..=7 {
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(tail_word(&bytes[..n]), u64::from_le_bytes(w), "{n}");
        }
    }

    #[test]
    fn distinguishes_lengths_and_contents() {
        let h = |s: &[u8]| hash_bytes(1, s);
        assert_ne!(h(b"a"), h(b"a\0"));
        assert_ne!(h(b"aws:sourceip"), h(b"aws:sourceIp"));
        assert_ne!(h(b"12345678"), h(b"123456781"));
        assert_eq!(h(b"same"), h(b"same"));
    }
}
