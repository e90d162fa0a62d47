//! AWS Signature Version 4 verification (AWS-IAM-NOTES.md §10.3, §10.4).
//!
//! Framework-free: a request is a plain [`SignedRequest`], so the actix
//! server, the AWS query front end and `POST /v1/authorize` (which checks a
//! request that another service received) share one verifier.
//!
//! The flow is two steps, because the secret is only known once the access
//! key id has been read:
//!
//! 1. [`parse_claim`] reads the Authorization header or presigned query:
//!    key id, scope, signed headers, date, session token. `Ok(None)` means
//!    the request is not SigV4 at all.
//! 2. The caller looks the key up (unknown or inactive:
//!    [`SigV4Error::invalid_client_token_id`]; a session key also needs its
//!    `security_token` checked), then calls [`verify`] with the secret, or
//!    [`verify_with_key`] with a cached [`SigningKey`].
//!
//! Any region and service are accepted in the scope; the caller may insist
//! on its own. `x-amz-security-token` need not be signed (AWS's own test
//! suite has a "header added after signing" case), but the caller must
//! still check that the token belongs to the key.

pub(crate) mod ascii;
mod canonical;
mod claim;
mod error;
mod signing;

#[cfg(test)]
mod tests;

pub use claim::parse_claim;
pub use error::{SigV4Error, SIGNATURE_MISMATCH_MESSAGE};
pub use signing::{derive_signing_key, SigningKey};

use std::borrow::Cow;

use time::{Duration, OffsetDateTime};

/// The only algorithm accepted. SigV4a (`AWS4-ECDSA-P256-SHA256`) is refused
/// with `IncompleteSignature`.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far the request date may be from the server clock, either way.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);

/// The longest `X-Amz-Expires` accepted: seven days, as S3 documents.
pub const MAX_PRESIGN_EXPIRES: u64 = 604_800;

/// The `x-amz-content-sha256` value that leaves the body out of the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

const PARAM_SIGNATURE: &str = "X-Amz-Signature";

/// A request as the server received it.
#[derive(Clone, Copy)]
pub struct SignedRequest<'a> {
    /// As sent, e.g. `POST`.
    pub method: &'a str,
    /// The raw path, still percent-encoded as on the wire (actix:
    /// `req.uri().path()`), not a decoded or routed path.
    pub path: &'a str,
    /// The raw query string without `?`, still encoded; `""` when none.
    pub query: &'a str,
    /// Every header as received, names in any case, repeated names allowed
    /// (their values are joined in this order). For HTTP/2 put
    /// `:authority` here as `host`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The whole body.
    pub body: &'a [u8],
    /// The body's hex SHA-256 when the body itself is not at hand (a
    /// service asking `POST /v1/authorize` about a request it received);
    /// when set, it stands for `body`.
    pub body_sha256: Option<&'a str>,
}

/// Shows header names but no values, and the query and body only by size:
/// session tokens travel in both `X-Amz-Security-Token` places.
impl std::fmt::Debug for SignedRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| *n).collect();
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query_len", &self.query.len())
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Where the signature travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureLocation {
    /// `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
    Header,
    /// A presigned URL: `X-Amz-Algorithm`, `X-Amz-Credential`, ... in the query.
    Query,
}

/// What a request claims, read before any secret is looked up. It
/// borrows from the request where it can (a header claim always can; a
/// presigned query's values are decoded copies), since every signed
/// request reads one.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureClaim<'a> {
    pub location: SignatureLocation,
    pub access_key_id: Cow<'a, str>,
    /// Credential-scope date, `YYYYMMDD`.
    pub date: Cow<'a, str>,
    pub region: Cow<'a, str>,
    pub service: Cow<'a, str>,
    /// Lower-cased, in the order the client listed them.
    pub signed_headers: Vec<Cow<'a, str>>,
    /// Hex, as sent.
    pub signature: Cow<'a, str>,
    /// `X-Amz-Date` (header or query), else the `Date` header.
    pub timestamp: OffsetDateTime,
    /// `X-Amz-Security-Token`: from the header, or from the query when
    /// presigned. A bearer credential: never log it (`Debug` hides it).
    pub security_token: Option<Cow<'a, str>>,
    /// `X-Amz-Expires` of a presigned request.
    pub presigned_expires: Option<u64>,
    /// `x-amz-content-sha256: UNSIGNED-PAYLOAD`: the body is not covered by
    /// the signature. The query front end, whose parameters live in the
    /// body, may want to refuse such requests.
    pub unsigned_payload: bool,
}

impl SignatureClaim<'_> {
    /// The same claim, owning its strings, to keep beyond the request.
    pub fn into_owned(self) -> SignatureClaim<'static> {
        let own = |text: Cow<'_, str>| Cow::Owned(text.into_owned());
        SignatureClaim {
            location: self.location,
            access_key_id: own(self.access_key_id),
            date: own(self.date),
            region: own(self.region),
            service: own(self.service),
            signed_headers: self.signed_headers.into_iter().map(own).collect(),
            signature: own(self.signature),
            timestamp: self.timestamp,
            security_token: self.security_token.map(own),
            presigned_expires: self.presigned_expires,
            unsigned_payload: self.unsigned_payload,
        }
    }

    /// `YYYYMMDD/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }

    /// The rules that hold whatever the secret: `host` is signed, the scope
    /// date is the request's date, the presign lifetime is at most a week.
    /// [`parse_claim`] and [`verify_with_key`] both apply them, so a claim
    /// built by hand gets no shortcut.
    fn check_consistency(&self) -> Result<(), SigV4Error> {
        // Without `host` a signature could be replayed against another
        // endpoint. The date needs no such rule: it is in the string to sign.
        if !self.signed_headers.iter().any(|h| h == "host") {
            return Err(SigV4Error::incomplete(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        // Signing keys are scoped to a day; a key for one day must not sign
        // requests dated another.
        let amz_date = claim::format_amz_date(self.timestamp);
        if amz_date.day() != self.date {
            return Err(SigV4Error::mismatch(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '{}' != '{}', from '{amz_date}'.",
                self.date.chars().take(32).collect::<String>(),
                amz_date.day(),
            )));
        }
        if self
            .presigned_expires
            .is_some_and(|e| e > MAX_PRESIGN_EXPIRES)
        {
            return Err(SigV4Error::incomplete(format!(
                "X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}."
            )));
        }
        Ok(())
    }
}

impl std::fmt::Debug for SignatureClaim<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureClaim")
            .field("location", &self.location)
            .field(
                "access_key_id",
                &crate::domain::AccessKeyId::recordable(&self.access_key_id),
            )
            .field("scope", &self.scope())
            .field("signed_headers", &self.signed_headers)
            .field("signature", &self.signature)
            .field("timestamp", &self.timestamp)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("presigned_expires", &self.presigned_expires)
            .field("unsigned_payload", &self.unsigned_payload)
            .finish()
    }
}

/// Checks `claim` (from [`parse_claim`] on the same `req`) against the
/// secret of its access key, at server time `now`.
pub fn verify(
    req: &SignedRequest<'_>,
    claim: &SignatureClaim<'_>,
    secret_access_key: &str,
    now: OffsetDateTime,
) -> Result<(), SigV4Error> {
    let key = derive_signing_key(
        secret_access_key,
        &claim.date,
        &claim.region,
        &claim.service,
    );
    verify_with_key(req, claim, &key, now)
}

/// [`verify`] with a signing key the caller derived (and perhaps cached)
/// for this claim's access key and scope (`date`, `region`, `service`).
pub fn verify_with_key(
    req: &SignedRequest<'_>,
    claim: &SignatureClaim<'_>,
    key: &SigningKey,
    now: OffsetDateTime,
) -> Result<(), SigV4Error> {
    claim.check_consistency()?;
    check_time(claim, now)?;
    let string_to_sign = string_to_sign(req, claim)?;
    if signing::signature_matches(key, string_to_sign.as_bytes(), &claim.signature) {
        Ok(())
    } else {
        Err(SigV4Error::signature_mismatch())
    }
}

/// The canonical request the server computes for `req`, for a debug mode
/// that shows clients what AWS would show them. It holds no secret.
pub fn canonical_request(
    req: &SignedRequest<'_>,
    claim: &SignatureClaim<'_>,
) -> Result<String, SigV4Error> {
    let payload_hash = payload_hash(req)?;
    Ok(canonical::canonical_request(
        req,
        claim,
        payload_hash.as_str(),
    ))
}

/// The string to sign for `req`: what the signature is an HMAC of.
pub fn string_to_sign(
    req: &SignedRequest<'_>,
    claim: &SignatureClaim<'_>,
) -> Result<String, SigV4Error> {
    let creq = canonical_request(req, claim)?;
    Ok(canonical::string_to_sign(
        claim,
        signing::sha256_hex(creq.as_bytes()).as_str(),
    ))
}

/// Lower-case hex signature of `req` as `claim` describes it, under `key`.
/// For tests and for tools that sign the way the server verifies.
pub fn compute_signature(
    req: &SignedRequest<'_>,
    claim: &SignatureClaim<'_>,
    key: &SigningKey,
) -> Result<String, SigV4Error> {
    let sts = string_to_sign(req, claim)?;
    Ok(signing::sign_hex(key, sts.as_bytes()))
}

/// The payload hash line: the body's SHA-256, or what
/// `x-amz-content-sha256` says. A hex value there must be the body's real
/// hash, otherwise a signed header would vouch for a body that was swapped.
fn payload_hash<'r>(req: &SignedRequest<'r>) -> Result<PayloadHash<'r>, SigV4Error> {
    let mut declared = None;
    for (name, value) in req.headers {
        if name.eq_ignore_ascii_case("x-amz-content-sha256")
            && declared.replace(value.trim()).is_some()
        {
            return Err(SigV4Error::incomplete(
                "The request has more than one 'x-amz-content-sha256' header.",
            ));
        }
    }
    let actual = match req.body_sha256 {
        Some(hash) if hash.bytes().any(|b| b.is_ascii_uppercase()) => {
            PayloadHash::Text(hash.to_ascii_lowercase().into())
        }
        Some(hash) => PayloadHash::Text(hash.into()),
        // GETs and most presigned requests have no body.
        None if req.body.is_empty() => PayloadHash::Text(EMPTY_BODY_SHA256.into()),
        None => PayloadHash::Hex(signing::sha256_hex(req.body)),
    };
    let Some(declared) = declared else {
        return Ok(actual);
    };
    if declared == UNSIGNED_PAYLOAD {
        return Ok(PayloadHash::Text(declared.into()));
    }
    if declared.len() != 64 || !declared.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SigV4Error::incomplete(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or the hex SHA-256 of the body; \
             streaming (chunked) payloads are not supported.",
        ));
    }
    if !declared.eq_ignore_ascii_case(actual.as_str()) {
        return Err(SigV4Error::mismatch(
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ));
    }
    Ok(PayloadHash::Text(declared.into()))
}

/// SHA-256 of nothing.
const EMPTY_BODY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The payload-hash line: computed on the stack, or text from the request.
enum PayloadHash<'r> {
    Hex(signing::Hex32),
    Text(std::borrow::Cow<'r, str>),
}

impl PayloadHash<'_> {
    fn as_str(&self) -> &str {
        match self {
            PayloadHash::Hex(hex) => hex.as_str(),
            PayloadHash::Text(text) => text,
        }
    }
}

/// Header requests must be within [`MAX_CLOCK_SKEW`] of `now`. Presigned
/// ones may not be dated in the future beyond the skew either, and then
/// live `X-Amz-Expires` seconds (or the skew window when it is absent).
fn check_time(claim: &SignatureClaim<'_>, now: OffsetDateTime) -> Result<(), SigV4Error> {
    let fmt = claim::format_amz_date;
    let earliest = now - MAX_CLOCK_SKEW;
    let latest = now + MAX_CLOCK_SKEW;
    if claim.timestamp > latest {
        return Err(SigV4Error::ClockSkew(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            fmt(claim.timestamp),
            fmt(latest),
            fmt(now)
        )));
    }
    match claim.presigned_expires {
        Some(expires) if claim.location == SignatureLocation::Query => {
            // i64 seconds cannot overflow: expires is at most a week.
            let end = claim.timestamp + Duration::seconds(expires.min(MAX_PRESIGN_EXPIRES) as i64);
            if now > end {
                return Err(SigV4Error::RequestExpired(format!(
                    "Request has expired: X-Amz-Date {} plus X-Amz-Expires {expires} seconds \
                     ended at {}; the server time is {}.",
                    fmt(claim.timestamp),
                    fmt(end),
                    fmt(now)
                )));
            }
        }
        _ if claim.timestamp < earliest => {
            return Err(SigV4Error::ClockSkew(format!(
                "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                fmt(claim.timestamp),
                fmt(earliest),
                fmt(now)
            )));
        }
        _ => {}
    }
    Ok(())
}
