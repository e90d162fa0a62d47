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
        write!(f, "BasicCredentials({}, ***)", self.access_key_id)
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
}
