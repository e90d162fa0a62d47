//! GetSessionToken (AWS-IAM-NOTES §7.5): a user's or root's own temporary
//! credentials, with the same permissions. Only long-term keys may ask, and
//! no policy can stop them (AWS has no permission for it).

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{check_duration_range, issue, Credentials, SessionSpec};
use crate::audit::AuditEvent;
use crate::auth::{Caller, CallerKind};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;

pub const DEFAULT_DURATION: i64 = 43200;
pub const MIN_DURATION: i64 = 900;
pub const MAX_DURATION: i64 = 129_600;
/// Root sessions are silently cut to one hour (§2.4).
pub const ROOT_MAX_DURATION: i64 = 3600;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionTokenRequest {
    /// 900 to 129600 seconds; default 43200. A root's session lasts at most 3600.
    pub duration_seconds: Option<i64>,
}

/// Issues a session for a user (or root) that has just proven who it is,
/// by key or by password.
pub(crate) async fn issue_user_session(
    state: &OpContext,
    account_id: &str,
    user: Option<(&str, &str)>,
    issuer_arn: &str,
    duration: i64,
    event: AuditEvent,
) -> ApiResult<Credentials> {
    let (user_id, session_name) = match user {
        Some((id, name)) => (Some(id.to_string()), name.to_string()),
        None => (None, account_id.to_string()),
    };
    issue(
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
        },
        event,
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
        CallerKind::Root => (None, duration.min(ROOT_MAX_DURATION)),
        CallerKind::User { user_id, name } => (Some((user_id.as_str(), name.as_str())), duration),
        _ => {
            super::super::audit::denied(state, caller, "sts:GetSessionToken", &caller.arn);
            return Err(ApiError::AccessDenied(
                "Cannot call GetSessionToken with session credentials".into(),
            ));
        }
    };
    let event = AuditEvent::by(caller, "sts:GetSessionToken", caller.arn.clone())
        .params(json!({ "duration_seconds": duration }));
    let credentials = issue_user_session(
        state,
        &caller.account_id,
        user,
        &caller.arn,
        duration,
        event.clone(),
    )
    .await
    .inspect_err(|e| state.audit.record(event.failed_with(e)))?;
    tracing::info!(issuer = %caller.arn, access_key_id = %credentials.access_key_id, "session token issued");
    Ok(credentials)
}
