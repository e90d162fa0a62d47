//! The STS operations: assume-role (within and across accounts, chained),
//! a user's own session token (by key or by password), caller identity,
//! listing and revoking a role's sessions, and purging expired ones. Like
//! iam/, each operation authorizes itself; both front ends call these.

pub mod assume_role;
pub mod caller_identity;
pub mod credentials;
pub mod identify;
pub mod login;
pub mod purge;
pub mod session_token;
pub mod sessions;
pub mod web_identity;
pub mod workload_credentials;
pub mod workloads;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::crypto::token_digest;
use crate::domain::{format_time, format_time_ms, RoleSession, SecretAccessKey, Tag};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;
use crate::store::audit::AuditTx;
use credentials::{NewCredentials, SessionToken};

/// Temporary credentials as every STS reply carries them.
#[derive(Serialize, ToSchema)]
pub struct Credentials {
    #[schema(example = "ASIAIOSFODNN7EXAMPLE")]
    pub access_key_id: String,
    /// Shown in this reply only.
    pub secret_access_key: String,
    /// Send as `X-Amz-Security-Token` with the key. Shown in this reply only.
    pub session_token: String,
    /// ISO-8601 UTC.
    #[schema(example = "2030-01-01T12:00:00Z")]
    pub expiration: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.access_key_id)
    }
}

/// What a new session is: everything but the generated credentials.
pub(crate) struct SessionSpec {
    pub account_id: String,
    pub role_id: Option<String>,
    pub user_id: Option<String>,
    pub session_name: String,
    pub issuer_arn: String,
    /// JSON `[{"name","document"}]`, or None when none were passed.
    pub session_policies: Option<String>,
    pub tags: Vec<Tag>,
    pub transitive_tag_keys: Vec<String>,
    pub source_identity: Option<String>,
    pub chained: bool,
    pub duration_seconds: i64,
    /// When MFA was authenticated, for a session issued with (or chained
    /// from one issued with) a valid code.
    pub mfa_authenticated_at: Option<String>,
    /// The action that issues it, kept with the session.
    pub issued_by: &'static str,
}

/// Draws credentials, seals the secret, stores the token's digest and
/// inserts the session, committed with `event` (which learns the new
/// session's access key id). Returns the one copy of the secret and token.
/// The operations record their own failures (see `assume_role`).
pub(crate) async fn issue(
    state: &OpContext,
    spec: SessionSpec,
    event: crate::audit::AuditEvent,
) -> ApiResult<Credentials> {
    issue_then(state, spec, event, async |_, _| Ok(())).await
}

/// As [`issue`], and runs `then` in the same transaction once the session
/// is inserted: what `then` writes commits with the session or not at all.
pub(crate) async fn issue_then(
    state: &OpContext,
    spec: SessionSpec,
    event: crate::audit::AuditEvent,
    then: impl AsyncFnOnce(&mut AuditTx, &RoleSession) -> ApiResult<()>,
) -> ApiResult<Credentials> {
    let issued = time::OffsetDateTime::now_utc();
    let expires = issued + time::Duration::seconds(spec.duration_seconds);
    let mut row = RoleSession {
        access_key_id: String::new(),
        account_id: spec.account_id,
        role_id: spec.role_id,
        user_id: spec.user_id,
        session_name: spec.session_name,
        issuer_arn: spec.issuer_arn,
        secret_ciphertext: Vec::new(),
        token_sha256: String::new(),
        session_policies: spec.session_policies,
        tags: to_json(&spec.tags)?,
        transitive_tag_keys: to_json(&spec.transitive_tag_keys)?,
        source_identity: spec.source_identity,
        chained: spec.chained,
        issued_at: format_time_ms(issued),
        expires_at: format_time_ms(expires),
        revoked_at: None,
        mfa_authenticated_at: spec.mfa_authenticated_at,
        issued_by: Some(spec.issued_by.to_string()),
    };
    // 80 random bits of key id make a collision all but impossible; a
    // second draw makes it impossible in practice.
    crate::audit::audited_unrecorded(state, event, async |tx| {
        let mut drawn = None;
        for _ in 0..3 {
            let NewCredentials {
                access_key_id,
                secret,
                token,
            } = NewCredentials::generate();
            row.access_key_id = access_key_id.to_string();
            row.secret_ciphertext = state
                .master_key
                .seal(access_key_id.as_str(), secret.expose())
                .map_err(ApiError::Unexpected)?;
            row.token_sha256 = token_digest(token.expose());
            if tx.insert_session(&row).await? {
                drawn = Some((secret, token));
                break;
            }
        }
        let (secret, token) = drawn.ok_or_else(|| {
            ApiError::Unexpected(anyhow::anyhow!("could not draw an unused session key id"))
        })?;
        tx.event()
            .set_param("session_access_key_id", row.access_key_id.clone().into());
        then(tx, &row).await?;
        Ok::<_, ApiError>(reply(row.access_key_id, secret, token, expires))
    })
    .await
}

fn reply(
    access_key_id: String,
    secret: SecretAccessKey,
    token: SessionToken,
    expires: time::OffsetDateTime,
) -> Credentials {
    Credentials {
        access_key_id,
        secret_access_key: secret.expose().to_string(),
        session_token: token.expose().to_string(),
        // Whole seconds, as AWS and botocore expect; the stored expiry is at
        // most a second later.
        expiration: format_time(expires),
    }
}

/// Serializes a JSON column; a failure here is a server fault.
pub(crate) fn to_json<T: Serialize>(value: &T) -> ApiResult<String> {
    serde_json::to_string(value).map_err(|e| ApiError::Unexpected(e.into()))
}

/// `1 validation error detected: Value 'V' at 'FIELD' failed to satisfy
/// constraint: ...`: the model-validation message AWS gives.
pub(crate) fn model_error(value: &str, field: &str, constraint: &str) -> ApiError {
    ApiError::ValidationError(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
    ))
}

/// Checks a string parameter's length and its character class: `\w` and
/// `+=,.@-`, plus `extra` (the STS model patterns of §1.6).
pub(crate) fn check_token_param(
    value: &str,
    field: &str,
    min: usize,
    max: usize,
    extra: &str,
) -> ApiResult<()> {
    let len = value.chars().count();
    if len < min {
        return Err(model_error(
            value,
            field,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if len > max {
        return Err(model_error(
            value,
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    let ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) || extra.contains(c));
    if !ok {
        let extra_escaped = extra.replace('/', "\\/");
        return Err(model_error(
            value,
            field,
            &format!("Member must satisfy regular expression pattern: [\\w+=,.@{extra_escaped}-]*"),
        ));
    }
    Ok(())
}

/// Checks `duration_seconds` against the model range of the operation.
pub(crate) fn check_duration_range(seconds: i64, min: i64, max: i64) -> ApiResult<()> {
    if seconds < min {
        return Err(model_error(
            &seconds.to_string(),
            "durationSeconds",
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if seconds > max {
        return Err(model_error(
            &seconds.to_string(),
            "durationSeconds",
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// An optional JSON body: empty means all defaults.
pub fn optional_body<T: for<'de> Deserialize<'de> + Default>(bytes: &[u8]) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::ValidationError(format!("Invalid request body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_patterns() {
        assert!(check_token_param("ab", "roleSessionName", 2, 64, "").is_ok());
        assert!(check_token_param("a", "roleSessionName", 2, 64, "").is_err());
        assert!(check_token_param(&"a".repeat(65), "roleSessionName", 2, 64, "").is_err());
        let e = check_token_param("has space", "roleSessionName", 2, 64, "").unwrap_err();
        assert!(e.to_string().contains("[\\w+=,.@-]*"), "{e}");
        assert!(check_token_param("a:b/c", "externalId", 2, 1224, ":/").is_ok());
        assert!(check_token_param("a:b", "roleSessionName", 2, 64, "").is_err());
        assert!(check_duration_range(899, 900, 43200).is_err());
        assert!(check_duration_range(900, 900, 43200).is_ok());
        let e = check_duration_range(43201, 900, 43200).unwrap_err();
        assert_eq!(
            e.to_string(),
            "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"
        );
    }
}
