//! `Authorization: Basic base64(ACCESS_KEY_ID:SECRET)`: for Swagger UI and
//! quick scripts. The secret is compared in constant time with the stored
//! (decrypted) one.

use base64::Engine as _;

use crate::error::ApiError;

/// An access key id and secret as the client sent them.
pub struct BasicCredentials {
    pub access_key_id: String,
    pub secret: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The id field may hold the secret (id and secret swapped).
        let id = crate::domain::AccessKeyId::recordable(&self.access_key_id);
        write!(f, "BasicCredentials({id}, ***)")
    }
}

/// Parses the value after `Basic `.
pub fn parse_basic(encoded: &str) -> Result<BasicCredentials, ApiError> {
    let malformed = || {
        ApiError::unauthenticated(
            "IncompleteSignature",
            "The Basic authorization header must be base64(ACCESS_KEY_ID:SECRET_ACCESS_KEY).",
        )
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    if id.is_empty() || secret.is_empty() {
        return Err(malformed());
    }
    Ok(BasicCredentials {
        access_key_id: id.to_string(),
        secret: secret.to_string(),
    })
}

/// Decodes Basic credentials into a stack buffer and hands `f` the key id
/// and secret, for the hot path that only needs to look them up. `None`
/// when malformed or longer than the buffer: the caller then takes the
/// path that answers with [`parse_basic`]'s error.
pub fn with_basic<R>(encoded: &str, f: impl FnOnce(&str, &str) -> R) -> Option<R> {
    let mut buf = [0u8; 512];
    let len = base64::engine::general_purpose::STANDARD
        .decode_slice(encoded.trim(), &mut buf)
        .ok()?;
    let text = std::str::from_utf8(&buf[..len]).ok()?;
    let (id, secret) = text.split_once(':')?;
    let result = (!id.is_empty() && !secret.is_empty()).then(|| f(id, secret));
    buf.fill(0);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let enc = base64::engine::general_purpose::STANDARD.encode("AKIAEXAMPLE:s3cr/et:x");
        let creds = parse_basic(&enc).unwrap();
        assert_eq!(creds.access_key_id, "AKIAEXAMPLE");
        assert_eq!(creds.secret, "s3cr/et:x");
        assert!(!format!("{creds:?}").contains("s3cr"));
        assert!(parse_basic("!!!").is_err());
        let no_colon = base64::engine::general_purpose::STANDARD.encode("AKIAEXAMPLE");
        assert!(parse_basic(&no_colon).is_err());
    }

    #[test]
    fn the_stack_parser_reads_what_parse_basic_reads() {
        let engine = base64::engine::general_purpose::STANDARD;
        let enc = engine.encode("AKIAEXAMPLE:s3cr/et:x");
        assert_eq!(
            with_basic(&enc, |id, secret| (id.to_string(), secret.to_string())),
            Some(("AKIAEXAMPLE".to_string(), "s3cr/et:x".to_string()))
        );
        for bad in [
            "!!!".to_string(),
            engine.encode("AKIAEXAMPLE"),
            engine.encode(":secret"),
            engine.encode("AKIAEXAMPLE:"),
            engine.encode(format!("AKIAEXAMPLE:{}", "s".repeat(600))),
        ] {
            assert!(with_basic(&bad, |_, _| ()).is_none(), "{bad}");
            if bad.len() < 100 {
                assert!(parse_basic(&bad).is_err());
            }
        }
    }
}
