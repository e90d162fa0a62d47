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
use crate::store::Store;

/// Failures within the lockout window that lock a name.
pub const MAX_FAILURES: u32 = 5;
/// How long a name stays locked after its last failure.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// Failed logins per account and user name, counted in the database
/// (`Store::record_login_failure`), so that every node locks a name
/// hammered on any of them. Each failure restarts the window, so a locked
/// name stays locked while it is being hammered; counts whose window ended
/// are deleted by the purge task.
#[derive(Clone)]
pub struct LoginThrottle {
    max_failures: u32,
    lockout: Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(MAX_FAILURES, LOCKOUT)
    }
}

fn unix_ms(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl LoginThrottle {
    pub fn new(max_failures: u32, lockout: Duration) -> Self {
        LoginThrottle {
            max_failures,
            lockout,
        }
    }

    fn key(account_id: &str, user_name: &str) -> String {
        // User names are unique ignoring case, so count them that way.
        format!("{account_id}/{}", user_name.to_lowercase())
    }

    /// The instant before which a failure no longer counts, for `now`.
    fn window_start_ms(&self, now: time::OffsetDateTime) -> i64 {
        unix_ms(now).saturating_sub(i64::try_from(self.lockout.as_millis()).unwrap_or(i64::MAX))
    }

    /// Failures of the name within the window (0: sign-in may go on
    /// without a reset afterwards).
    pub async fn failures(
        &self,
        store: &Store,
        account_id: &str,
        user_name: &str,
    ) -> ApiResult<i64> {
        let now = time::OffsetDateTime::now_utc();
        store
            .login_failures(&Self::key(account_id, user_name), self.window_start_ms(now))
            .await
            .map_err(Into::into)
    }

    pub fn locks(&self, failures: i64) -> bool {
        failures >= i64::from(self.max_failures)
    }

    pub async fn record_failure(
        &self,
        store: &Store,
        account_id: &str,
        user_name: &str,
    ) -> ApiResult<i64> {
        let now = time::OffsetDateTime::now_utc();
        store
            .record_login_failure(
                &Self::key(account_id, user_name),
                unix_ms(now),
                self.window_start_ms(now),
            )
            .await
            .map_err(Into::into)
    }

    pub async fn reset(&self, store: &Store, account_id: &str, user_name: &str) -> ApiResult<()> {
        store
            .clear_login_failures(&Self::key(account_id, user_name))
            .await
            .map_err(Into::into)
    }

    /// Deletes the counts whose window ended; the purge task calls it.
    pub async fn purge(&self, store: &Store) -> ApiResult<u64> {
        let now = time::OffsetDateTime::now_utc();
        store
            .purge_login_failures(self.window_start_ms(now))
            .await
            .map_err(Into::into)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The 12-digit account id, or the account's alias.
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

pub async fn login(state: &AppState, mut req: LoginRequest) -> ApiResult<LoginResponse> {
    // An alias signs in as its account: the lockout and the audit record
    // then name the account id, whichever the user typed.
    if AccountId::parse(&req.account_id).is_err() {
        if let Some(id) = state.store.account_of_alias(&req.account_id).await? {
            req.account_id = id;
        }
    }
    let duration = req.duration_seconds.unwrap_or(DEFAULT_DURATION);
    check_duration_range(duration, MIN_DURATION, MAX_DURATION)?;
    let throttle = &state.login_throttle;
    let failures = throttle
        .failures(&state.store, &req.account_id, &req.user_name)
        .await?;
    if throttle.locks(failures) {
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
        // Only a name that could exist is counted: the table then holds
        // no attacker-sized keys, and a name no user can have needs no lock.
        let countable = AccountId::parse(&req.account_id).is_ok()
            && crate::domain::EntityName::parse(crate::domain::EntityKind::User, &req.user_name)
                .is_ok();
        if countable {
            throttle
                .record_failure(&state.store, &req.account_id, &req.user_name)
                .await?;
        }
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
    if failures > 0 {
        throttle
            .reset(&state.store, &req.account_id, &req.user_name)
            .await?;
    }
    let arn = user.arn().to_string();
    let mut event = AuditEvent::anonymous("sts:Login", arn.clone())
        .params(json!({"account_id": req.account_id, "user_name": req.user_name, "duration_seconds": duration}));
    event.account_id = Some(user.account_id.clone());
    event.principal_arn = Some(arn.clone());
    // The policy's maximum age: an expired password signs in only to be
    // changed, or, under hard expiry, not at all.
    let (expired, hard_expired) = state
        .store
        .password_expiry(&user.account_id, &user.id, &profile.created_at)
        .await?;
    if hard_expired {
        let e = ApiError::AccessDenied(
            "The password has expired; an administrator must reset it.".into(),
        );
        state.audit.record(event.failed_with(&e));
        return Err(e);
    }
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
        password_reset_required: profile.password_reset_required || expired,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttle_locks_after_max_failures_ignoring_case() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let failures =
            async |account: &str, name: &str| t.failures(&store, account, name).await.unwrap();
        for _ in 0..2 {
            t.record_failure(&store, "111122223333", "Alice")
                .await
                .unwrap();
        }
        assert!(!t.locks(failures("111122223333", "alice").await));
        t.record_failure(&store, "111122223333", "ALICE")
            .await
            .unwrap();
        assert!(t.locks(failures("111122223333", "alice").await));
        assert_eq!(failures("111122223333", "bob").await, 0);
        assert_eq!(failures("999999999999", "alice").await, 0);
        t.reset(&store, "111122223333", "alice").await.unwrap();
        assert!(!t.locks(failures("111122223333", "Alice").await));
    }

    #[tokio::test]
    async fn a_count_past_its_window_starts_over_and_is_purged() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        let old = unix_ms(time::OffsetDateTime::now_utc()) - 120_000;
        for _ in 0..3 {
            store
                .record_login_failure("111122223333/alice", old, old - 60_000)
                .await
                .unwrap();
        }
        // Three failures, all before the window: they do not count.
        assert_eq!(
            t.failures(&store, "111122223333", "alice").await.unwrap(),
            0
        );
        assert_eq!(t.purge(&store).await.unwrap(), 1);
        assert_eq!(
            t.record_failure(&store, "111122223333", "alice")
                .await
                .unwrap(),
            1
        );
        assert_eq!(t.purge(&store).await.unwrap(), 0);
    }
}
