//! Errors of the policy engine, in AWS's vocabulary.

/// Why a document was refused. The server maps `Malformed` to 400
/// `MalformedPolicyDocument` and `LimitExceeded` to 409 `LimitExceeded`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document breaks the grammar or a rule of its type. The message is
    /// AWS's own text, e.g. "Syntax errors in policy.".
    #[error("{0}")]
    Malformed(String),
    /// The document is over a size quota, e.g. "Cannot exceed quota for PolicySize: 6144".
    #[error("{0}")]
    LimitExceeded(String),
    /// The request around the documents is over a bound of
    /// `policy::limits` (e.g. too much condition work): 400 `ValidationError`.
    #[error("{0}")]
    InvalidRequest(String),
}

impl PolicyError {
    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        PolicyError::Malformed(message.into())
    }

    /// The AWS error code this error answers with.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Malformed(_) => "MalformedPolicyDocument",
            PolicyError::LimitExceeded(_) => "LimitExceeded",
            PolicyError::InvalidRequest(_) => "ValidationError",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            PolicyError::Malformed(m)
            | PolicyError::LimitExceeded(m)
            | PolicyError::InvalidRequest(m) => m,
        }
    }
}
