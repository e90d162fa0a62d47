//! Why a SigV4 request was refused, in AWS's vocabulary (AWS-IAM-NOTES.md §10.2).

/// A refused signature. Each variant carries the message the client sees;
/// [`code`](SigV4Error::code) and [`http_status`](SigV4Error::http_status)
/// give the AWS wire code and status. No message ever contains a secret, a
/// session token or a signing key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// The Authorization header or the presigned query parameters are
    /// malformed or incomplete (400 `IncompleteSignature`).
    #[error("{0}")]
    IncompleteSignature(String),
    /// The signature, or something it covers, does not check out (403
    /// `SignatureDoesNotMatch`).
    #[error("{0}")]
    SignatureDoesNotMatch(String),
    /// The request date is more than 15 minutes away from the server clock:
    /// "Signature expired: ..." or "Signature not yet current: ...". IAM and
    /// STS answer this with 403 `SignatureDoesNotMatch` (observed in AWS
    /// CLI, SDK and Terraform reports), not with `RequestExpired`, so the
    /// wire code follows AWS; the variant stays separate so the server can
    /// log clock problems apart from bad keys.
    #[error("{0}")]
    ClockSkew(String),
    /// A presigned request used after `X-Amz-Date + X-Amz-Expires` (400
    /// `RequestExpired`).
    #[error("{0}")]
    RequestExpired(String),
    /// For the caller: the access key id is unknown or inactive (403
    /// `InvalidClientTokenId`). This module never looks keys up itself.
    #[error("{0}")]
    InvalidClientTokenId(String),
    /// For the caller: the request carries no credentials at all (403
    /// `MissingAuthenticationToken`).
    #[error("{0}")]
    MissingAuthenticationToken(String),
    /// For the caller: the session token has expired (400 `ExpiredToken`).
    #[error("{0}")]
    ExpiredToken(String),
}

/// AWS's text for a signature mismatch. AWS adds its canonical request and
/// string to sign; we leave them out so that a response never teaches an
/// attacker anything, and offer them through `canonical_request` for a
/// debug mode instead.
pub const SIGNATURE_MISMATCH_MESSAGE: &str = "The request signature we calculated does not match \
the signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
service documentation for details.";

impl SigV4Error {
    pub(crate) fn incomplete(message: impl Into<String>) -> Self {
        SigV4Error::IncompleteSignature(message.into())
    }

    pub(crate) fn mismatch(message: impl Into<String>) -> Self {
        SigV4Error::SignatureDoesNotMatch(message.into())
    }

    /// The standard mismatch error, for a wrong key or a tampered request.
    pub fn signature_mismatch() -> Self {
        SigV4Error::SignatureDoesNotMatch(SIGNATURE_MISMATCH_MESSAGE.to_owned())
    }

    /// AWS's `InvalidClientTokenId` with AWS's message, for unknown or
    /// inactive access keys.
    pub fn invalid_client_token_id() -> Self {
        SigV4Error::InvalidClientTokenId(
            "The security token included in the request is invalid.".to_owned(),
        )
    }

    /// AWS's `MissingAuthenticationToken` with AWS's message.
    pub fn missing_authentication_token() -> Self {
        SigV4Error::MissingAuthenticationToken("Request is missing Authentication Token".to_owned())
    }

    /// AWS's `ExpiredToken` with AWS's message.
    pub fn expired_token() -> Self {
        SigV4Error::ExpiredToken("The security token included in the request is expired".to_owned())
    }

    /// The AWS error code this error answers with.
    pub fn code(&self) -> &'static str {
        match self {
            SigV4Error::IncompleteSignature(_) => "IncompleteSignature",
            SigV4Error::SignatureDoesNotMatch(_) | SigV4Error::ClockSkew(_) => {
                "SignatureDoesNotMatch"
            }
            SigV4Error::RequestExpired(_) => "RequestExpired",
            SigV4Error::InvalidClientTokenId(_) => "InvalidClientTokenId",
            SigV4Error::MissingAuthenticationToken(_) => "MissingAuthenticationToken",
            SigV4Error::ExpiredToken(_) => "ExpiredToken",
        }
    }

    /// The HTTP status AWS sends with [`code`](SigV4Error::code).
    pub fn http_status(&self) -> u16 {
        match self {
            SigV4Error::IncompleteSignature(_)
            | SigV4Error::RequestExpired(_)
            | SigV4Error::ExpiredToken(_) => 400,
            SigV4Error::SignatureDoesNotMatch(_)
            | SigV4Error::ClockSkew(_)
            | SigV4Error::InvalidClientTokenId(_)
            | SigV4Error::MissingAuthenticationToken(_) => 403,
        }
    }

    /// The message the client sees.
    pub fn message(&self) -> &str {
        match self {
            SigV4Error::IncompleteSignature(m)
            | SigV4Error::SignatureDoesNotMatch(m)
            | SigV4Error::ClockSkew(m)
            | SigV4Error::RequestExpired(m)
            | SigV4Error::InvalidClientTokenId(m)
            | SigV4Error::MissingAuthenticationToken(m)
            | SigV4Error::ExpiredToken(m) => m,
        }
    }
}
