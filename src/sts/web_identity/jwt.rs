//! The pure checks of a web identity token (a JWS in compact form): its
//! structure, algorithm, signature, times and audience. No I/O and no
//! clock of its own: the keys and the time are passed in.
//!
//! Verified with `ring` (already built for rustls) rather than a JWT
//! crate: the eight algorithms allowed are ring's RSA PKCS#1, RSA-PSS and
//! fixed-size ECDSA verifiers, and the rest is base64url and JSON; a JWT
//! crate would add its own crypto backend to build on two cores and its
//! own list of algorithms to keep closed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};

use super::refusal::Refusal;

/// AWS's longest WebIdentityToken.
pub const MAX_TOKEN_CHARS: usize = 20_000;
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: i64 = 60;
/// Keys kept from one JWKS.
pub const MAX_KEYS: usize = 100;

/// The algorithms accepted: never `none`, never an HMAC (a public key
/// used as an HMAC secret is the classic forgery).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
}

impl Alg {
    pub fn parse(s: &str) -> Option<Alg> {
        Some(match s {
            "RS256" => Alg::Rs256,
            "RS384" => Alg::Rs384,
            "RS512" => Alg::Rs512,
            "PS256" => Alg::Ps256,
            "PS384" => Alg::Ps384,
            "PS512" => Alg::Ps512,
            "ES256" => Alg::Es256,
            "ES384" => Alg::Es384,
            _ => return None,
        })
    }

    fn is_rsa(self) -> bool {
        !matches!(self, Alg::Es256 | Alg::Es384)
    }
}

/// A public key of a JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// Modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// An uncompressed point (0x04 || x || y) on P-256 or P-384.
    Ec { p384: bool, point: Vec<u8> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    pub kid: Option<String>,
    /// The key's own `alg`, when it names one.
    pub alg: Option<String>,
    pub key: PublicKey,
}

impl Jwk {
    /// Whether this key may verify a token signed with `alg`.
    pub fn fits(&self, alg: Alg) -> bool {
        let kind_ok = match (&self.key, alg) {
            (PublicKey::Rsa { .. }, a) => a.is_rsa(),
            (PublicKey::Ec { p384, .. }, Alg::Es256) => !p384,
            (PublicKey::Ec { p384, .. }, Alg::Es384) => *p384,
            _ => false,
        };
        kind_ok
            && self
                .alg
                .as_deref()
                .is_none_or(|a| Alg::parse(a) == Some(alg))
    }
}

fn b64(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// The signature keys of a JWKS document. Keys this server cannot use
/// (encryption keys, other key types or curves) are skipped; a document
/// that is not a JWKS, or has no usable key, is an error.
pub fn parse_jwks(bytes: &[u8]) -> Result<Vec<Jwk>, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("not a JWKS: no \"keys\" array")?;
    let mut out = Vec::new();
    for k in keys.iter().take(MAX_KEYS) {
        if let Some(jwk) = parse_jwk(k) {
            out.push(jwk);
        }
    }
    if out.is_empty() {
        return Err("the JWKS has no RSA, P-256 or P-384 signature key".into());
    }
    Ok(out)
}

fn parse_jwk(k: &Value) -> Option<Jwk> {
    let text = |name: &str| k.get(name).and_then(Value::as_str);
    if text("use").is_some_and(|u| u != "sig") {
        return None;
    }
    let key = match text("kty")? {
        "RSA" => PublicKey::Rsa {
            n: b64(text("n")?)?,
            e: b64(text("e")?)?,
        },
        "EC" => {
            let (p384, len) = match text("crv")? {
                "P-256" => (false, 32),
                "P-384" => (true, 48),
                _ => return None,
            };
            let (x, y) = (b64(text("x")?)?, b64(text("y")?)?);
            if x.len() != len || y.len() != len {
                return None;
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            PublicKey::Ec { p384, point }
        }
        _ => return None,
    };
    Some(Jwk {
        kid: text("kid").map(String::from),
        alg: text("alg").map(String::from),
        key,
    })
}

/// A token split and decoded, not yet verified.
#[derive(Debug)]
pub struct Token {
    pub alg: Alg,
    pub kid: Option<String>,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

/// Splits a compact JWS and checks its header: three parts, JSON header
/// and claims, an allowed `alg`. Nothing here trusts the content yet.
pub fn decode(token: &str) -> Result<Token, Refusal> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(Refusal::Malformed("longer than 20000 characters"));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed("not a compact JWS of three parts"));
    };
    let header: Map<String, Value> = b64(h)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(Refusal::Malformed("the header is not base64url JSON"))?;
    let alg_text = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let alg = Alg::parse(alg_text).ok_or_else(|| Refusal::AlgNotAllowed(alg_text.to_string()))?;
    if header.contains_key("crit") {
        return Err(Refusal::Malformed("the header has critical extensions"));
    }
    let claims: Map<String, Value> = b64(c)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(Refusal::Malformed("the claims are not base64url JSON"))?;
    let signature = b64(s).ok_or(Refusal::Malformed("the signature is not base64url"))?;
    Ok(Token {
        alg,
        kid: header.get("kid").and_then(Value::as_str).map(String::from),
        claims,
        signing_input: format!("{h}.{c}"),
        signature,
    })
}

impl Token {
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// The signature checked with `key`.
    pub fn verify(&self, key: &Jwk) -> Result<(), Refusal> {
        let msg = self.signing_input.as_bytes();
        let sig = &self.signature[..];
        let ok = match (&key.key, self.alg) {
            (PublicKey::Rsa { n, e }, alg) if alg.is_rsa() => {
                let params = match alg {
                    Alg::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Alg::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Alg::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Alg::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Alg::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
                    _ => &signature::RSA_PSS_2048_8192_SHA512,
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, msg, sig)
                    .is_ok()
            }
            (PublicKey::Ec { p384: false, point }, Alg::Es256) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(msg, sig)
                    .is_ok()
            }
            (PublicKey::Ec { p384: true, point }, Alg::Es384) => {
                UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                    .verify(msg, sig)
                    .is_ok()
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Refusal::SignatureInvalid)
        }
    }

    /// `exp` (required), `nbf` and `iat` against `now` (Unix seconds).
    pub fn check_times(&self, now: i64) -> Result<(), Refusal> {
        let number = |name: &str| -> Result<Option<i64>, Refusal> {
            match self.claims.get(name) {
                None => Ok(None),
                Some(v) => v
                    .as_f64()
                    .map(|f| Some(f as i64))
                    .ok_or(Refusal::Malformed("a time claim is not a number")),
            }
        };
        let exp = number("exp")?.ok_or(Refusal::Malformed("the token has no exp claim"))?;
        if now > exp + LEEWAY_SECONDS {
            return Err(Refusal::Expired);
        }
        for name in ["nbf", "iat"] {
            if number(name)?.is_some_and(|t| t > now + LEEWAY_SECONDS) {
                return Err(Refusal::NotYetValid);
            }
        }
        Ok(())
    }

    /// The `aud` values (a string or an array of strings).
    pub fn audiences(&self) -> Vec<&str> {
        match self.claims.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// The client id the token is for: an `aud` value, or else `azp`,
    /// that the provider lists.
    pub fn matched_client<'a>(&'a self, client_ids: &[String]) -> Result<&'a str, Refusal> {
        let listed = |v: &&str| client_ids.iter().any(|c| c == v);
        self.audiences()
            .into_iter()
            .find(listed)
            .or_else(|| self.claim_str("azp").filter(listed))
            .ok_or(Refusal::AudMismatch)
    }
}

/// The issuer as the provider table keys it: no scheme, no trailing
/// slash, host lower-cased. None for an issuer that is not https.
pub fn issuer_url(iss: &str) -> Option<String> {
    crate::domain::oidc::normalize_url(iss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn token(header: Value, claims: Value) -> String {
        format!(
            "{}.{}.{}",
            enc(&header),
            enc(&claims),
            URL_SAFE_NO_PAD.encode(b"sig")
        )
    }

    #[test]
    fn only_asymmetric_algorithms_pass_the_header() {
        for alg in ["none", "HS256", "HS512", "EdDSA", ""] {
            let t = token(json!({"alg": alg}), json!({}));
            assert_eq!(
                decode(&t).unwrap_err(),
                Refusal::AlgNotAllowed(alg.into()),
                "{alg}"
            );
        }
        for alg in ["RS256", "PS384", "ES256", "ES384"] {
            assert!(decode(&token(json!({"alg": alg}), json!({}))).is_ok());
        }
        assert!(matches!(decode("a.b"), Err(Refusal::Malformed(_))));
    }

    #[test]
    fn times_and_audiences() {
        let now = 1_700_000_000;
        let t = |claims: Value| decode(&token(json!({"alg": "RS256"}), claims)).unwrap();
        assert_eq!(
            t(json!({"exp": now - 61})).check_times(now),
            Err(Refusal::Expired)
        );
        assert!(t(json!({"exp": now - 30})).check_times(now).is_ok());
        assert_eq!(
            t(json!({"exp": now + 600, "nbf": now + 120})).check_times(now),
            Err(Refusal::NotYetValid)
        );
        assert!(matches!(
            t(json!({})).check_times(now),
            Err(Refusal::Malformed(_))
        ));
        let clients = vec!["sts.amazonaws.com".to_string()];
        assert_eq!(
            t(json!({"aud": ["x", "sts.amazonaws.com"]})).matched_client(&clients),
            Ok("sts.amazonaws.com")
        );
        assert_eq!(
            t(json!({"aud": "x", "azp": "sts.amazonaws.com"})).matched_client(&clients),
            Ok("sts.amazonaws.com")
        );
        assert_eq!(
            t(json!({"aud": "x"})).matched_client(&clients),
            Err(Refusal::AudMismatch)
        );
    }

    #[test]
    fn jwks_keeps_signature_keys_it_can_use() {
        let doc = json!({"keys": [
            {"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "oct", "k": "c2VjcmV0"},
            {"kty": "EC", "crv": "P-256", "kid": "e",
             "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32])},
        ]});
        let keys = parse_jwks(doc.to_string().as_bytes()).unwrap();
        assert_eq!(keys.len(), 2);
        assert!(keys[0].fits(Alg::Rs256) && keys[0].fits(Alg::Ps512));
        assert!(!keys[0].fits(Alg::Es256));
        assert!(keys[1].fits(Alg::Es256) && !keys[1].fits(Alg::Es384));
        assert!(parse_jwks(br#"{"keys": []}"#).is_err());
        assert!(parse_jwks(b"[]").is_err());
    }
}
