//! Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30 s
//! steps, 6 digits, a 160-bit seed shown to the user once in base32, as
//! every authenticator app reads it. Pure: the caller passes the time step
//! and keeps the replay guard (the store's last accepted step).

use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore as _;
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Seconds per time step.
pub const STEP_SECONDS: i64 = 30;
/// Bytes of seed (RFC 4226 recommends 160 bits).
pub const SEED_BYTES: usize = 20;
/// Steps either side of now a sign-in code may come from (clock skew).
pub const SIGN_IN_WINDOW: i64 = 1;
/// Steps either side of now a resync's first code may come from.
pub const RESYNC_WINDOW: i64 = 20;

/// The time step of a Unix time.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// A new random seed, base32 (RFC 4648, upper case, no padding: 32
/// characters for 160 bits).
pub fn generate_seed() -> String {
    let mut seed = [0u8; SEED_BYTES];
    rand::rng().fill_bytes(&mut seed);
    base32_encode(&seed)
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 in any case, ignoring padding; None on any other byte.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|&c| c != b'=') {
        let value = ALPHABET.iter().position(|&a| a == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The 6-digit code of `seed` (raw bytes) at time step `step` (RFC 4226's
/// dynamic truncation).
pub fn code(seed: &[u8], step: i64) -> String {
    code_digits(seed, step, 6)
}

fn code_digits(seed: &[u8], step: i64, digits: u32) -> String {
    // HMAC takes a key of any length; were it ever refused, an empty code
    // matches nothing.
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(seed) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    format!(
        "{:0width$}",
        binary % 10u32.pow(digits),
        width = digits as usize
    )
}

/// Whether `given` is the code of `step`, compared in constant time.
fn matches(seed: &[u8], step: i64, given: &str) -> bool {
    code(seed, step).as_bytes().ct_eq(given.as_bytes()).into()
}

/// A token code as the API takes it: exactly six digits.
pub fn is_code_shaped(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// The step within `window` steps of `now` whose code is `given`, the
/// earliest first; every candidate is computed, so the time taken does
/// not tell which one matched.
pub fn find_step(seed: &[u8], now: i64, window: i64, given: &str) -> Option<i64> {
    let mut found = None;
    for step in now - window..=now + window {
        if matches(seed, step, given) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The step `s` within `window` of `now` such that `first` is the code of
/// `s` and `second` the code of `s + 1`; two consecutive codes, as
/// EnableMFADevice and ResyncMFADevice take them. Returns `s + 1`, the
/// newest step used.
pub fn find_consecutive(
    seed: &[u8],
    now: i64,
    window: i64,
    first: &str,
    second: &str,
) -> Option<i64> {
    let mut found = None;
    for step in now - window..=now + window {
        let both = matches(seed, step, first) & matches(seed, step + 1, second);
        if both && found.is_none() {
            found = Some(step + 1);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the SHA-1 seed is the ASCII of "12345678901234567890".
    #[test]
    fn rfc_6238_test_vectors() {
        let seed = b"12345678901234567890";
        for (time, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_digits(seed, step_at(time), 8), expected, "{time}");
            assert_eq!(code(seed, step_at(time)), expected[2..], "{time}");
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw6ytboi").unwrap(), b"foobar");
        assert!(base32_decode("MZXW1").is_none());
        let seed = generate_seed();
        assert_eq!(seed.len(), 32);
        assert_eq!(base32_decode(&seed).unwrap().len(), SEED_BYTES);
        assert_ne!(generate_seed(), seed);
    }

    #[test]
    fn codes_are_found_within_their_window_only() {
        let seed = b"12345678901234567890";
        let now = 1_000_000;
        assert_eq!(find_step(seed, now, 1, &code(seed, now - 1)), Some(now - 1));
        assert_eq!(find_step(seed, now, 1, &code(seed, now + 1)), Some(now + 1));
        assert_eq!(find_step(seed, now, 1, &code(seed, now + 5)), None);
        let (a, b) = (code(seed, now), code(seed, now + 1));
        assert_eq!(find_consecutive(seed, now, 1, &a, &b), Some(now + 1));
        assert_eq!(find_consecutive(seed, now, 1, &b, &a), None);
        assert!(is_code_shaped("012345"));
        assert!(!is_code_shaped("12345") && !is_code_shaped("12345a"));
    }
}
