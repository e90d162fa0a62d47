//! A word-at-a-time hash for the hot path (index probes, context lookups).
//! SipHash costs more than the rest of a decision; FNV's byte-serial
//! multiply chain is not much better. This is FxHash's scheme, with a
//! per-process random seed where callers can choose the keys.

use std::hash::{BuildHasher, Hasher};
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
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        // The length keeps "a" and "a\0" apart.
        h = step(h, u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
    }
    h
}

#[derive(Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash_bytes(self.0, bytes);
    }
    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.0 = step(self.0, u64::from(n));
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = step(self.0, n);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.0 = step(self.0, n as u64);
    }
}

/// Seeded once per process, so that request-supplied context keys cannot be
/// chosen to collide.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SeededState(u64);

impl Default for SeededState {
    fn default() -> Self {
        static SEED: OnceLock<u64> = OnceLock::new();
        SeededState(*SEED.get_or_init(|| {
            std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64) | 1
        }))
    }
}

impl BuildHasher for SeededState {
    type Hasher = FastHasher;
    #[inline]
    fn build_hasher(&self) -> FastHasher {
        FastHasher(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinguishes_lengths_and_contents() {
        let h = |s: &[u8]| hash_bytes(1, s);
        assert_ne!(h(b"a"), h(b"a\0"));
        assert_ne!(h(b"aws:sourceip"), h(b"aws:sourceIp"));
        assert_ne!(h(b"12345678"), h(b"123456781"));
        assert_eq!(h(b"same"), h(b"same"));
    }
}
