//! The operations' error: what an IAM or STS action answers, with AWS's
//! error code and the HTTP status AWS gives it, and no web framework. The
//! front ends map it once to a response (`api/error_response.rs`: JSON for
//! /v1, XML for the query protocol); the store's errors map into it here.

use serde::Serialize;
use utoipa::ToSchema;

use crate::policy::PolicyError;
use crate::store::{CarriesStoreError, StoreError};

/// The error of the operations (`src/iam`, `src/sts`) and of everything
/// they call above the store. Named for the API it answers; it knows AWS's
/// codes and statuses, not actix.
#[derive(thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    /// The request conflicts with the server's state (a master-key
    /// rotation already running, a key the server cannot rotate): 409
    /// with its own code.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    ValidationError(String),
    #[error("{0}")]
    AccessDenied(String),
    /// EnableMFADevice / ResyncMFADevice: the codes are not the device's (403).
    #[error("{0}")]
    InvalidAuthenticationCode(String),
    /// STS: the session policies and tags exceed the packed budget.
    #[error("{0}")]
    PackedPolicyTooLarge(String),
    /// Refused for a while, e.g. after repeated failed logins.
    #[error("{0}")]
    Throttling(String),
    /// Missing or unusable credentials: 401 on /v1, with AWS's code
    /// (`MissingAuthenticationToken`, `InvalidClientTokenId`,
    /// `SignatureDoesNotMatch`, `IncompleteSignature`, `ExpiredToken`).
    #[error("{message}")]
    Unauthenticated { code: &'static str, message: String },
    /// The request a service asked `/v1/authorize` about is not
    /// authentic: a clear 400, never a silent deny.
    #[error("signed_request: {message}")]
    SubjectNotAuthenticated { code: &'static str, message: String },
    /// A malformed AWS query-protocol request, with its code
    /// (`MissingAction`, `InvalidAction`, `MissingParameter`, ...): 400.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("The request body is larger than the limit of {0} bytes.")]
    PayloadTooLarge(usize),
    /// The body did not arrive within the configured deadline: 408
    /// `RequestTimeout`, a code AWS SDKs retry.
    #[error("{0}")]
    RequestTimeout(String),
    /// Costly work (password hashing) is at capacity: 503, which AWS SDKs
    /// and proxies retry, with `Retry-After`.
    #[error("{0}")]
    ServiceUnavailable(String),
    #[error("{0}")]
    NotFound(String),
    /// A credential report that is not there to read: AWS's
    /// `ReportNotPresent` and `ReportExpired` (410), `ReportInProgress` (404).
    #[error("{message}")]
    Report {
        code: &'static str,
        status: u16,
        message: String,
    },
    /// A policy write refused in strict lint mode: its lint has an ERROR or
    /// SECURITY_WARNING finding (the message names the finding codes).
    #[error("{0}")]
    PolicyLintFailed(String),
    /// AssumeRoleWithWebIdentity: the token is malformed, unsigned, signed
    /// by an unknown key, or not for this provider's clients (400).
    #[error("{0}")]
    InvalidIdentityToken(String),
    /// AssumeRoleWithWebIdentity: the token's `exp` has passed (400).
    #[error("{0}")]
    ExpiredTokenException(String),
    /// AssumeRoleWithWebIdentity: the provider refused a claim (403).
    #[error("{0}")]
    IdpRejectedClaim(String),
    /// AssumeRoleWithWebIdentity: the provider's keys could not be
    /// fetched (400, which the SDKs retry).
    #[error("{0}")]
    IdpCommunicationError(String),
    /// The database cannot take writes now (its disk is full, or failing):
    /// 503, which the AWS SDKs retry. Reads keep working.
    #[error("The service cannot store changes right now; try again later.")]
    StorageUnavailable,
    /// Everything that is not the client's fault. The cause is logged; the
    /// client sees an opaque message.
    #[error("An internal error occurred.")]
    Unexpected(#[from] anyhow::Error),
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Unexpected(e) => write!(f, "Unexpected: {e:#}"),
            other => write!(f, "{}: {}", other.code(), other),
        }
    }
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NoSuchEntity(_) => "NoSuchEntity",
            ApiError::EntityAlreadyExists(_) => "EntityAlreadyExists",
            ApiError::DeleteConflict(_) => "DeleteConflict",
            ApiError::LimitExceeded(_) => "LimitExceeded",
            ApiError::InvalidAuthenticationCode(_) => "InvalidAuthenticationCode",
            ApiError::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            ApiError::InvalidInput(_) => "InvalidInput",
            ApiError::ValidationError(_) => "ValidationError",
            ApiError::AccessDenied(_) => "AccessDenied",
            ApiError::PackedPolicyTooLarge(_) => "PackedPolicyTooLarge",
            ApiError::Throttling(_) => "Throttling",
            ApiError::Unauthenticated { code, .. }
            | ApiError::SubjectNotAuthenticated { code, .. }
            | ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Report { code, .. } => code,
            ApiError::PayloadTooLarge(_) => "PayloadTooLarge",
            ApiError::RequestTimeout(_) => "RequestTimeout",
            ApiError::ServiceUnavailable(_) => "ServiceUnavailable",
            ApiError::NotFound(_) => "NotFound",
            ApiError::PolicyLintFailed(_) => "PolicyLintFailed",
            ApiError::InvalidIdentityToken(_) => "InvalidIdentityToken",
            ApiError::ExpiredTokenException(_) => "ExpiredTokenException",
            ApiError::IdpRejectedClaim(_) => "IDPRejectedClaim",
            ApiError::IdpCommunicationError(_) => "IDPCommunicationError",
            ApiError::StorageUnavailable => "ServiceUnavailable",
            ApiError::Unexpected(_) => "ServiceFailure",
        }
    }

    /// The HTTP status of /v1.
    pub fn status_code(&self) -> u16 {
        match self {
            ApiError::NoSuchEntity(_) | ApiError::NotFound(_) => 404,
            ApiError::EntityAlreadyExists(_)
            | ApiError::DeleteConflict(_)
            | ApiError::LimitExceeded(_)
            | ApiError::Conflict { .. } => 409,
            ApiError::MalformedPolicyDocument(_)
            | ApiError::InvalidInput(_)
            | ApiError::ValidationError(_)
            | ApiError::SubjectNotAuthenticated { .. }
            | ApiError::BadRequest { .. }
            | ApiError::PackedPolicyTooLarge(_)
            | ApiError::PolicyLintFailed(_)
            | ApiError::InvalidIdentityToken(_)
            | ApiError::ExpiredTokenException(_)
            | ApiError::IdpCommunicationError(_) => 400,
            ApiError::Throttling(_) => 429,
            ApiError::AccessDenied(_)
            | ApiError::IdpRejectedClaim(_)
            | ApiError::InvalidAuthenticationCode(_) => 403,
            ApiError::Unauthenticated { .. } => 401,
            ApiError::PayloadTooLarge(_) => 413,
            ApiError::RequestTimeout(_) => 408,
            ApiError::ServiceUnavailable(_) | ApiError::StorageUnavailable => 503,
            ApiError::Unexpected(_) => 500,
            ApiError::Report { status, .. } => *status,
        }
    }

    /// The status of the AWS query protocol: as [`Self::status_code`],
    /// except that AWS answers credential failures with 403 there (400 for
    /// a malformed or expired signature or token), where /v1 answers 401.
    pub fn query_status_code(&self) -> u16 {
        match self {
            ApiError::Unauthenticated { code, .. } => match *code {
                "IncompleteSignature" | "RequestExpired" | "ExpiredToken" => 400,
                _ => 403,
            },
            other => other.status_code(),
        }
    }

    /// Seconds a client should wait before retrying, when that is known.
    pub fn retry_after(&self) -> Option<&'static str> {
        matches!(self, ApiError::ServiceUnavailable(_)).then_some("1")
    }

    pub fn unauthenticated(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Unauthenticated {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn no_such(kind: &str, name: &str) -> Self {
        ApiError::NoSuchEntity(format!("The {kind} with name {name} cannot be found."))
    }
}

impl From<PolicyError> for ApiError {
    fn from(e: PolicyError) -> Self {
        match e {
            PolicyError::Malformed(m) => ApiError::MalformedPolicyDocument(m),
            PolicyError::LimitExceeded(m) => ApiError::LimitExceeded(m),
            PolicyError::InvalidRequest(m) => ApiError::ValidationError(m),
        }
    }
}

/// Each store error keeps the code and message the client always saw.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyExists(m) => ApiError::EntityAlreadyExists(m),
            StoreError::LimitExceeded(m) => ApiError::LimitExceeded(m),
            StoreError::InvalidListParameter(m) => ApiError::ValidationError(m),
            e @ StoreError::InvalidMarker => ApiError::InvalidInput(e.to_string()),
            StoreError::StorageUnavailable => ApiError::StorageUnavailable,
            StoreError::Database { context, source } => {
                ApiError::Unexpected(anyhow::Error::new(source).context(context))
            }
        }
    }
}

impl CarriesStoreError for ApiError {
    fn is_storage_unavailable(&self) -> bool {
        matches!(self, ApiError::StorageUnavailable)
    }
}

/// The JSON error body of every /v1 error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// AWS's error code, e.g. `NoSuchEntity`.
    #[schema(example = "NoSuchEntity")]
    pub code: String,
    pub message: String,
    /// The id also sent in the `x-request-id` header.
    pub request_id: String,
}

pub type ApiResult<T> = Result<T, ApiError>;
