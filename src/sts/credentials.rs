//! New temporary credentials: an ASIA key id, a 40-character secret and a
//! session token of 384 random bits. The token is returned once and stored
//! only as its SHA-256 digest; none of them has a `Debug` that shows it.

use base64::Engine as _;
use rand::RngCore as _;

use crate::domain::ids::KeyKind;
use crate::domain::{AccessKeyId, SecretAccessKey};

/// Random bytes in a session token (AWS-IAM-NOTES §1.5 asks for at least 256 bits).
const TOKEN_BYTES: usize = 48;

/// A session token as handed to the client, once.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        SessionToken(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

/// A fresh key id, secret and token.
#[derive(Debug)]
pub struct NewCredentials {
    pub access_key_id: AccessKeyId,
    pub secret: SecretAccessKey,
    pub token: SessionToken,
}

impl NewCredentials {
    pub fn generate() -> Self {
        NewCredentials {
            access_key_id: AccessKeyId::generate(KeyKind::Session),
            secret: SecretAccessKey::generate(),
            token: SessionToken::generate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_redaction() {
        let c = NewCredentials::generate();
        assert!(c.access_key_id.as_str().starts_with("ASIA"));
        assert_eq!(c.access_key_id.as_str().len(), 20);
        assert_eq!(c.secret.expose().len(), 40);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(c.token.expose())
            .unwrap();
        assert!(raw.len() * 8 >= 256);
        let shown = format!("{c:?}");
        assert!(!shown.contains(c.secret.expose()));
        assert!(!shown.contains(c.token.expose()));
        assert_ne!(SessionToken::generate(), SessionToken::generate());
    }
}
