//! Why a web identity token was refused: the exact failing step, as the
//! audit record and the metric name it, and the AWS error it answers.

use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not three base64url parts of JSON, or a claim of the wrong type.
    Malformed(&'static str),
    /// `none`, HS*, or anything but RS/PS 256-512 and ES256/384.
    AlgNotAllowed(String),
    /// No provider of the role's account has the token's `iss`.
    IssuerUnknown(String),
    /// The discovery document names another issuer.
    DiscoveryIssuerMismatch,
    /// No key with the token's `kid`, even after the one refetch allowed.
    KidUnknownAfterRefresh,
    SignatureInvalid,
    Expired,
    /// `nbf` (or `iat`) is ahead of the clock beyond the leeway.
    NotYetValid,
    /// Neither `aud` nor `azp` names one of the provider's client ids.
    AudMismatch,
    /// The provider's keys could not be fetched (the detail names the URL
    /// and the failure, never the token).
    IdpUnreachable(String),
    /// The role does not exist (answered like a refusal, as AssumeRole).
    RoleUnknown,
    /// A trust condition on this key did not hold.
    ConditionFailed(String),
    /// The trust policy does not allow the provider at all.
    TrustDenied(String),
}

impl Refusal {
    /// The step, as the audit record keeps it.
    pub fn reason(&self) -> String {
        match self {
            Refusal::ConditionFailed(key) => format!("condition_failed:{key}"),
            other => other.label().to_string(),
        }
    }

    /// The metric label: the step without the key, so that a trust policy
    /// cannot mint series.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Malformed(_) => "malformed",
            Refusal::AlgNotAllowed(_) => "alg_not_allowed",
            Refusal::IssuerUnknown(_) => "issuer_unknown",
            Refusal::DiscoveryIssuerMismatch => "discovery_issuer_mismatch",
            Refusal::KidUnknownAfterRefresh => "kid_unknown_after_refresh",
            Refusal::SignatureInvalid => "signature_invalid",
            Refusal::Expired => "expired",
            Refusal::NotYetValid => "not_yet_valid",
            Refusal::AudMismatch => "aud_mismatch",
            Refusal::IdpUnreachable(_) => "idp_unreachable",
            Refusal::RoleUnknown => "role_unknown",
            Refusal::ConditionFailed(_) => "condition_failed",
            Refusal::TrustDenied(_) => "trust_denied",
        }
    }

    /// Every label, so that the metric shows each from the start.
    pub const LABELS: [&'static str; 13] = crate::runtime::metrics::WEB_IDENTITY_REFUSALS;

    /// AWS's code and a message that says which step failed.
    pub fn to_error(&self, role_arn: &str) -> ApiError {
        let denied =
            || format!("Not authorized to perform sts:AssumeRoleWithWebIdentity on {role_arn}");
        match self {
            Refusal::Malformed(what) => {
                ApiError::InvalidIdentityToken(format!("The web identity token is malformed: {what}."))
            }
            Refusal::AlgNotAllowed(alg) => ApiError::InvalidIdentityToken(format!(
                "The token's signing algorithm {alg:?} is not allowed (RS256/384/512, PS256/384/512, ES256/384 are)."
            )),
            Refusal::IssuerUnknown(iss) => ApiError::InvalidIdentityToken(format!(
                "No OpenIDConnect provider found in your account for {iss}"
            )),
            Refusal::DiscoveryIssuerMismatch => ApiError::InvalidIdentityToken(
                "The provider's discovery document names another issuer.".into(),
            ),
            Refusal::KidUnknownAfterRefresh => ApiError::InvalidIdentityToken(
                "The token was signed by a key the provider does not publish (kid unknown after a refresh of its keys).".into(),
            ),
            Refusal::SignatureInvalid => {
                ApiError::InvalidIdentityToken("The token's signature is invalid.".into())
            }
            Refusal::Expired => ApiError::ExpiredTokenException("Token is expired.".into()),
            Refusal::NotYetValid => ApiError::InvalidIdentityToken(
                "The token is not valid yet (nbf or iat is in the future).".into(),
            ),
            Refusal::AudMismatch => {
                ApiError::InvalidIdentityToken("Incorrect token audience.".into())
            }
            Refusal::IdpUnreachable(detail) => ApiError::IdpCommunicationError(format!(
                "The identity provider's keys could not be fetched: {detail}"
            )),
            Refusal::RoleUnknown => ApiError::AccessDenied(denied()),
            Refusal::ConditionFailed(key) => ApiError::AccessDenied(format!(
                "{}: the trust policy's condition on {key} does not hold for this token",
                denied()
            )),
            Refusal::TrustDenied(reason) => {
                ApiError::AccessDenied(format!("{} {reason}", denied()))
            }
        }
    }
}
