//! Login: account, user name and password give the user's own session
//! credentials, as the console sign-in does. The password is checked with
//! argon2id, against a dummy hash when the user (or its password) does not
//! exist, so the answer takes as long either way. Repeated failures for one
//! account and user name lock that name out for a while.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::session_token::{issue_user_session, DEFAULT_DURATION, MAX_DURATION, MIN_DURATION};
use super::{check_duration_range, Credentials};
use crate::audit::{AuditDecision, AuditEvent};
use crate::auth::password::verify_password;
use crate::domain::AccountId;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Failures within the lockout window that lock a name.
pub const MAX_FAILURES: u32 = 5;
/// How long a name stays locked after its last failure.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// Failed logins per account and user name, in memory. Each failure
/// restarts the window, so a locked name stays locked while it is being
/// hammered. (Several nodes each count their own.)
#[derive(Clone)]
pub struct LoginThrottle {
    failures: moka::sync::Cache<String, u32>,
    max_failures: u32,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(MAX_FAILURES, LOCKOUT)
    }
}

impl LoginThrottle {
    pub fn new(max_failures: u32, lockout: Duration) -> Self {
        LoginThrottle {
            failures: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(lockout)
                .build(),
            max_failures,
        }
    }

    fn key(account_id: &str, user_name: &str) -> String {
        // User names are unique ignoring case, so count them that way.
        format!("{account_id}/{}", user_name.to_lowercase())
    }

    pub fn is_locked(&self, account_id: &str, user_name: &str) -> bool {
        self.failures
            .get(&Self::key(account_id, user_name))
            .is_some_and(|n| n >= self.max_failures)
    }

    pub fn record_failure(&self, account_id: &str, user_name: &str) {
        self.failures
            .entry(Self::key(account_id, user_name))
            .and_upsert_with(|entry| entry.map(|e| e.into_value() + 1).unwrap_or(1));
    }

    pub fn reset(&self, account_id: &str, user_name: &str) {
        self.failures.invalidate(&Self::key(account_id, user_name));
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "123456789012")]
    pub account_id: String,
    #[schema(example = "alice")]
    pub user_name: String,
    /// Never logged or returned.
    #[schema(format = Password)]
    pub password: String,
    /// 900 to 129600 seconds; default 43200.
    pub duration_seconds: Option<i64>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("account_id", &self.account_id)
            .field("user_name", &self.user_name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginUser {
    #[schema(example = "arn:aws:iam::123456789012:user/alice")]
    pub arn: String,
    #[schema(example = "AIDAJQABLZS4A3QDU576Q")]
    pub user_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub credentials: Credentials,
    pub user: LoginUser,
    /// The password must be changed (set by an administrator).
    pub password_reset_required: bool,
}

fn bad_credentials() -> ApiError {
    ApiError::unauthenticated(
        "AuthFailure",
        "The account id, user name or password is incorrect.",
    )
}

pub async fn login(state: &AppState, req: LoginRequest) -> ApiResult<LoginResponse> {
    let duration = req.duration_seconds.unwrap_or(DEFAULT_DURATION);
    check_duration_range(duration, MIN_DURATION, MAX_DURATION)?;
    let throttle = &state.login_throttle;
    if throttle.is_locked(&req.account_id, &req.user_name) {
        return Err(ApiError::Throttling(format!(
            "Too many failed sign-in attempts for this user; sign-in is locked for up to {} minutes after the last failure.",
            LOCKOUT.as_secs() / 60
        )));
    }
    let user = match AccountId::parse(&req.account_id) {
        Ok(_) => {
            state
                .store
                .get_user(&req.account_id, &req.user_name)
                .await?
        }
        Err(_) => None,
    };
    let profile = match &user {
        Some(u) => state.store.get_login_profile(&u.id).await?,
        None => None,
    };
    let stored_hash = profile.as_ref().map(|p| p.password_hash.clone());
    let verified = verify_password(&state.password_hashing, req.password, stored_hash).await?;
    let (Some(user), Some(profile), true) = (user, profile, verified) else {
        throttle.record_failure(&req.account_id, &req.user_name);
        state.metrics.auth_failure("bad_password");
        let mut event = AuditEvent::anonymous(
            "sts:Login",
            crate::domain::Arn::iam(&req.account_id, "user", "/", &req.user_name).to_string(),
        )
        .params(json!({"account_id": req.account_id, "user_name": req.user_name}))
        .decided(AuditDecision::Denied, Some("AuthFailure"));
        // Only a well-formed account id names an account the event can belong to.
        if AccountId::parse(&req.account_id).is_ok() {
            event.account_id = Some(req.account_id.clone());
        }
        state.audit.record(event);
        tracing::info!(account_id = %req.account_id, user_name = %req.user_name, "login failed");
        return Err(bad_credentials());
    };
    throttle.reset(&req.account_id, &req.user_name);
    let arn = user.arn().to_string();
    let mut event = AuditEvent::anonymous("sts:Login", arn.clone())
        .params(json!({"account_id": req.account_id, "user_name": req.user_name, "duration_seconds": duration}));
    event.account_id = Some(user.account_id.clone());
    event.principal_arn = Some(arn.clone());
    let credentials = issue_user_session(
        state,
        &user.account_id,
        Some((&user.id, &user.name)),
        &arn,
        duration,
        event.clone(),
    )
    .await
    .inspect_err(|e| state.audit.record(event.failed_with(e)))?;
    tracing::info!(user = %arn, access_key_id = %credentials.access_key_id, "login");
    Ok(LoginResponse {
        credentials,
        user: LoginUser {
            arn,
            user_id: user.id,
        },
        password_reset_required: profile.password_reset_required,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_locks_after_max_failures_ignoring_case() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        for _ in 0..2 {
            t.record_failure("111122223333", "Alice");
        }
        assert!(!t.is_locked("111122223333", "alice"));
        t.record_failure("111122223333", "ALICE");
        assert!(t.is_locked("111122223333", "alice"));
        assert!(!t.is_locked("111122223333", "bob"));
        assert!(!t.is_locked("999999999999", "alice"));
        t.reset("111122223333", "alice");
        assert!(!t.is_locked("111122223333", "Alice"));
    }
}
