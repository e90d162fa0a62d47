//! GetSessionToken (AWS-IAM-NOTES §7.5): a user's or root's own temporary
//! credentials, with the same permissions. Only long-term keys may ask, and
//! no policy can stop them (AWS has no permission for it).

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{check_duration_range, issue_then, Credentials, SessionSpec};
use crate::audit::AuditEvent;
use crate::auth::{Caller, CallerKind};
use crate::domain::{format_time_ms, ISSUED_BY_GET_SESSION_TOKEN};
use crate::error::{ApiError, ApiResult};
use crate::iam::mfa_devices::{match_code, MatchedCode};
use crate::state::OpContext;

pub const DEFAULT_DURATION: i64 = 43200;
pub const MIN_DURATION: i64 = 900;
pub const MAX_DURATION: i64 = 129_600;
/// Root sessions are silently cut to one hour (§2.4).
pub const ROOT_MAX_DURATION: i64 = 3600;

#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionTokenRequest {
    /// 900 to 129600 seconds; default 43200. A root's session lasts at most 3600.
    pub duration_seconds: Option<i64>,
    /// The ARN of the caller's MFA device; with `token_code`, the session
    /// is MFA-authenticated (`aws:MultiFactorAuthPresent` true).
    #[schema(example = "arn:aws:iam::123456789012:mfa/alice")]
    pub serial_number: Option<String>,
    /// The device's current 6-digit code; accepted once.
    #[schema(example = "123456")]
    pub token_code: Option<String>,
}

impl std::fmt::Debug for SessionTokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTokenRequest")
            .field("duration_seconds", &self.duration_seconds)
            .field("serial_number", &self.serial_number)
            .finish_non_exhaustive()
    }
}

/// AWS's refusal of a wrong, missing or replayed MFA code.
pub(crate) fn mfa_failed() -> ApiError {
    ApiError::AccessDenied(
        "MultiFactorAuthentication failed with invalid MFA one time pass code.".into(),
    )
}

/// Checks the SerialNumber and TokenCode of an STS call made by the user
/// `user_id` (None: not a user, who has no device): None when neither was
/// given, the matched code when they are the user's, AccessDenied otherwise.
pub(crate) async fn check_mfa_params(
    state: &OpContext,
    user_id: Option<&str>,
    serial: Option<&str>,
    code: Option<&str>,
) -> ApiResult<Option<MatchedCode>> {
    let (serial, code) = match (serial, code) {
        (None, None) => return Ok(None),
        (Some(s), Some(c)) => (s, c),
        _ => return Err(mfa_failed()),
    };
    if !crate::domain::mfa::serial_is_valid(serial) {
        return Err(super::model_error(
            serial,
            "serialNumber",
            "Member must have length between 9 and 256 and satisfy regular expression pattern: [\\w+=/:,.@-]*",
        ));
    }
    if !crate::auth::totp::is_code_shaped(code) {
        return Err(ApiError::ValidationError(
            "1 validation error detected: Value at 'tokenCode' failed to satisfy constraint: Member must have length 6 and satisfy regular expression pattern: [\\d]*".into(),
        ));
    }
    let Some(user_id) = user_id else {
        return Err(mfa_failed());
    };
    match_code(state, user_id, Some(serial), code)
        .await?
        .map(Some)
        .ok_or_else(mfa_failed)
}

/// Issues a session for a user (or root) that has just proven who it is,
/// by key (`sts:GetSessionToken`) or by password (`sts:Login`).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn issue_user_session(
    state: &OpContext,
    issued_by: &'static str,
    account_id: &str,
    user: Option<(&str, &str)>,
    issuer_arn: &str,
    duration: i64,
    event: AuditEvent,
    mfa: Option<MatchedCode>,
) -> ApiResult<Credentials> {
    let (user_id, session_name) = match user {
        Some((id, name)) => (Some(id.to_string()), name.to_string()),
        None => (None, account_id.to_string()),
    };
    let mfa_at = mfa
        .as_ref()
        .map(|_| format_time_ms(time::OffsetDateTime::now_utc()));
    issue_then(
        state,
        SessionSpec {
            account_id: account_id.to_string(),
            role_id: None,
            user_id,
            session_name,
            issuer_arn: issuer_arn.to_string(),
            session_policies: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            source_identity: None,
            chained: false,
            duration_seconds: duration,
            mfa_authenticated_at: mfa_at,
            issued_by,
        },
        event,
        async |tx, _| match &mfa {
            // The code is used up with the session, or neither is.
            Some(code) if !code.accept(tx).await? => Err(mfa_failed()),
            _ => Ok(()),
        },
    )
    .await
}

pub async fn get_session_token(
    state: &OpContext,
    caller: &Caller,
    req: SessionTokenRequest,
) -> ApiResult<Credentials> {
    let duration = req.duration_seconds.unwrap_or(DEFAULT_DURATION);
    check_duration_range(duration, MIN_DURATION, MAX_DURATION)?;
    let (user, duration) = match &caller.kind {
        // The root has no MFA device here.
        CallerKind::Root => (None, duration.min(ROOT_MAX_DURATION)),
        CallerKind::User { user_id, name } => (Some((user_id.as_str(), name.as_str())), duration),
        _ => {
            super::super::audit::denied(state, caller, "sts:GetSessionToken", &caller.arn);
            return Err(ApiError::AccessDenied(
                "Cannot call GetSessionToken with session credentials".into(),
            ));
        }
    };
    let event = AuditEvent::by(caller, "sts:GetSessionToken", caller.arn.clone()).params(json!({
        "duration_seconds": duration,
        "serial_number": req.serial_number,
    }));
    let credentials = async {
        let mfa = check_mfa_params(
            state,
            user.map(|(id, _)| id),
            req.serial_number.as_deref(),
            req.token_code.as_deref(),
        )
        .await?;
        issue_user_session(
            state,
            ISSUED_BY_GET_SESSION_TOKEN,
            &caller.account_id,
            user,
            &caller.arn,
            duration,
            event.clone(),
            mfa,
        )
        .await
    }
    .await
    .inspect_err(|e| state.audit.record(event.failed_with(e)))?;
    tracing::info!(issuer = %caller.arn, access_key_id = %credentials.access_key_id, "session token issued");
    Ok(credentials)
}
