//! The keyed part of SigV4: the derived signing key and the final HMAC.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// SHA-256's block size: HMAC pads or hashes every key to this length.
const BLOCK_LEN: usize = 64;

/// `kSigning` for one access key, day, region and service.
///
/// It is as good as the secret for that scope, so `Debug` hides it and there
/// is no `Display`. It depends only on the secret and the scope, which makes
/// it safe to cache under (access key id, date, region, service): the server
/// then pays one HMAC per request instead of five.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    /// Wraps raw key bytes, e.g. from a cache.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SigningKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
/// `date` is the credential-scope date, `YYYYMMDD`.
pub fn derive_signing_key(
    secret_access_key: &str,
    date: &str,
    region: &str,
    service: &str,
) -> SigningKey {
    let mut seed = Vec::with_capacity(4 + secret_access_key.len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret_access_key.as_bytes());
    let k_date = hmac_sha256(&seed, date.as_bytes());
    // The seed holds the secret: do not leave it in freed memory longer than needed.
    seed.iter_mut().for_each(|b| *b = 0);
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    SigningKey(hmac_sha256(&k_service, b"aws4_request"))
}

/// Whether `signature_hex` is the HMAC of `string_to_sign` under `key`.
/// The comparison is constant-time (hmac's `verify_slice`), so response
/// timing does not leak how many leading bytes of a forged signature were
/// right.
pub(crate) fn signature_matches(
    key: &SigningKey,
    string_to_sign: &[u8],
    signature_hex: &str,
) -> bool {
    let mut claimed = [0u8; 32];
    if hex::decode_to_slice(signature_hex, &mut claimed).is_err() {
        return false;
    }
    keyed(&key.0)
        .chain_update(string_to_sign)
        .verify_slice(&claimed)
        .is_ok()
}

/// Lower-case hex HMAC-SHA256, as it goes in a signature.
pub(crate) fn sign_hex(key: &SigningKey, string_to_sign: &[u8]) -> String {
    hex32(&hmac_sha256(&key.0, string_to_sign))
        .as_str()
        .to_owned()
}

pub(crate) fn sha256_hex(data: &[u8]) -> Hex32 {
    hex32(&Sha256::digest(data).into())
}

/// The lower-case hex of a 32-byte digest, on the stack.
#[derive(Clone, Copy)]
pub(crate) struct Hex32([u8; 64]);

impl Hex32 {
    pub(crate) fn as_str(&self) -> &str {
        // Only hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Lower-case hex of a digest. `hex::encode` goes char by char and showed
/// up as a tenth of the verify time in the benchmark; this is a table walk.
fn hex32(bytes: &[u8; 32]) -> Hex32 {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0x0f)];
    }
    Hex32(out)
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    keyed(key).chain_update(data).finalize().into_bytes().into()
}

/// An HMAC instance for `key`, built without a fallible call: HMAC
/// zero-pads short keys and hashes long ones to the block size (RFC 2104
/// §2), so handing it the already padded block is the same MAC, and avoids
/// an `InvalidLength` branch that can never be taken.
fn keyed(key: &[u8]) -> HmacSha256 {
    let mut block = [0u8; BLOCK_LEN];
    if key.len() > BLOCK_LEN {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    HmacSha256::new(&block.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_key_gives_the_same_mac_as_the_library_for_every_key_length() {
        for len in [0usize, 1, 31, 32, 44, 63, 64, 65, 128, 300] {
            let key: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let ours = hmac_sha256(&key, b"message");
            let mut lib = HmacSha256::new_from_slice(&key).unwrap();
            lib.update(b"message");
            let theirs: [u8; 32] = lib.finalize().into_bytes().into();
            assert_eq!(ours, theirs, "key length {len}");
        }
    }

    #[test]
    fn hex32_matches_the_hex_crate() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 37 + 250) as u8);
        assert_eq!(hex32(&bytes).as_str(), hex::encode(bytes));
        assert_eq!(
            sha256_hex(b"").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn rfc4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn signing_key_matches_the_aws_documentation_example() {
        // AWS's "Examples of how to derive a signing key for Signature Version 4".
        let key = derive_signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key.as_bytes()),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn signing_key_debug_is_redacted() {
        let key = derive_signing_key("secret", "20150830", "us-east-1", "iam");
        let shown = format!("{key:?}");
        assert!(!shown.contains(&hex::encode(key.as_bytes())[..8]));
        assert_eq!(shown, "SigningKey(<redacted>)");
    }

    #[test]
    fn signature_check_rejects_bad_hex_and_wrong_values() {
        let key = derive_signing_key("secret", "20150830", "us-east-1", "iam");
        let good = sign_hex(&key, b"sts");
        assert!(signature_matches(&key, b"sts", &good));
        assert!(signature_matches(&key, b"sts", &good.to_uppercase()));
        assert!(!signature_matches(&key, b"sts", "zz"));
        assert!(!signature_matches(&key, b"sts", &good[..62]));
        assert!(!signature_matches(&key, b"sts2", &good));
        assert!(!signature_matches(&key, b"sts", ""));
    }
}
