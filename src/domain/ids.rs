//! Identifier formats (AWS-IAM-NOTES §1.4, §1.5): unique ids, account ids,
//! access key ids and secrets.

use rand::Rng as _;
use sha2::{Digest as _, Sha256};
use std::borrow::Cow;
use std::fmt;

const BASE32_UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// The prefixes AWS gives unique ids, by entity kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueIdPrefix {
    User,
    Group,
    Role,
    Policy,
    InstanceProfile,
}

/// A new unique id: the kind's four-letter prefix and 17 upper-case base32
/// characters, like `AIDAJQABLZS4A3QDU576Q`.
pub fn new_unique_id(prefix: UniqueIdPrefix) -> String {
    let p = match prefix {
        UniqueIdPrefix::User => "AIDA",
        UniqueIdPrefix::Group => "AGPA",
        UniqueIdPrefix::Role => "AROA",
        UniqueIdPrefix::Policy => "ANPA",
        UniqueIdPrefix::InstanceProfile => "AIPA",
    };
    format!("{p}{}", random_from(BASE32_UPPER, 17))
}

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s.to_string()))
        } else {
            Err(format!("{s:?} is not a 12-digit account id"))
        }
    }

    /// A random account id; the first digit is never 0 so that the id keeps
    /// its 12 digits when a client reads it as a number.
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let first = rng.random_range(1..=9u8);
        let rest: String = (0..11)
            .map(|_| char::from(b'0' + rng.random_range(0..=9u8)))
            .collect();
        AccountId(format!("{first}{rest}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a key is long-term (a user's or root's) or an STS session's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    LongTerm,
    Session,
}

/// An access key id: `AKIA` (long-term) or `ASIA` (session) and 16
/// upper-case letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccessKeyId(String);

impl AccessKeyId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = s.len() == 20
            && (s.starts_with("AKIA") || s.starts_with("ASIA"))
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(AccessKeyId(s.to_string()))
        } else {
            Err("The security token included in the request is invalid.".to_string())
        }
    }

    pub fn generate(kind: KeyKind) -> Self {
        let prefix = match kind {
            KeyKind::LongTerm => "AKIA",
            KeyKind::Session => "ASIA",
        };
        AccessKeyId(format!("{prefix}{}", random_from(KEY_ALPHABET, 16)))
    }

    pub fn kind(&self) -> KeyKind {
        if self.0.starts_with("ASIA") {
            KeyKind::Session
        } else {
            KeyKind::LongTerm
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What an audit record or a log line may keep of a key id a client
    /// presented: the id itself when it has an access key's shape, else
    /// `sha256:` and the first 12 hex digits of its digest. A client that
    /// swaps id and secret in Basic would otherwise write its 40-character
    /// secret into the append-only audit table; the digest still tells
    /// repeated attempts apart without keeping anything usable.
    pub fn recordable(presented: &str) -> Cow<'_, str> {
        if Self::parse(presented).is_ok() {
            return Cow::Borrowed(presented);
        }
        let digest = Sha256::digest(presented.as_bytes());
        Cow::Owned(format!("sha256:{}", hex::encode(&digest[..6])))
    }
}

impl fmt::Display for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret access key: 40 characters of the base64 alphabet. Its `Debug`
/// never shows the value, so it cannot leak through a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretAccessKey(String);

impl SecretAccessKey {
    pub fn generate() -> Self {
        SecretAccessKey(random_from(SECRET_ALPHABET, 40))
    }

    /// Accepts a preset secret (from the environment); AWS gives no format
    /// rule, so only an empty or overlong value is refused.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > 128 {
            return Err("a secret access key must be 1 to 128 characters".to_string());
        }
        Ok(SecretAccessKey(s.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretAccessKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_aws() {
        let id = new_unique_id(UniqueIdPrefix::Role);
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AROA"));
        let key = AccessKeyId::generate(KeyKind::Session);
        assert!(AccessKeyId::parse(key.as_str()).is_ok());
        assert_eq!(key.kind(), KeyKind::Session);
        assert_eq!(SecretAccessKey::generate().expose().len(), 40);
        let account = AccountId::generate();
        assert!(AccountId::parse(account.as_str()).is_ok());
        assert!(AccessKeyId::parse("AKIAshort").is_err());
        assert!(AccountId::parse("12345678901").is_err());
        assert_eq!(
            format!("{:?}", SecretAccessKey::generate()),
            "SecretAccessKey(***)"
        );
    }
}
