//! Login: account, user name and password give the user's own session
//! credentials, as the console sign-in does. The password is checked with
//! argon2id, against a dummy hash when the user (or its password) does not
//! exist, so the answer takes as long either way. Repeated failures for one
//! account and user name lock that name out for a while.
//!
//! A user with an MFA device enabled also gives a code. Only once the
//! password is verified does the answer say that a code is needed
//! (`MFACodeRequired`), so the question cannot probe passwords' owners; a
//! wrong code counts as a failed sign-in.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::session_token::{issue_user_session, DEFAULT_DURATION, MAX_DURATION, MIN_DURATION};
use super::{check_duration_range, Credentials};
use crate::audit::{AuditDecision, AuditEvent};
use crate::auth::password::verify_password;
use crate::domain::AccountId;
use crate::error::{ApiError, ApiResult};
use crate::iam::mfa_devices::{match_code, user_has_device};
use crate::runtime::login_throttle::LOCKOUT;
use crate::state::AppState;

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
    /// The current code of the user's MFA device: required when the user
    /// has one enabled. Accepted once; never logged.
    #[schema(example = "123456")]
    pub mfa_code: Option<String>,
    /// Which of the user's devices `mfa_code` is from; by default, any of
    /// them.
    pub mfa_serial_number: Option<String>,
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

fn mfa_required() -> ApiError {
    ApiError::unauthenticated(
        "MFACodeRequired",
        "This user has an MFA device: sign in again with its current code (mfa_code).",
    )
}

fn bad_mfa_code() -> ApiError {
    ApiError::unauthenticated(
        "InvalidAuthenticationCode",
        "The MFA code is incorrect or was already used.",
    )
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
    let arn = user.arn().to_string();
    let mut event = AuditEvent::anonymous("sts:Login", arn.clone()).params(json!({
        "account_id": req.account_id,
        "user_name": req.user_name,
        "duration_seconds": duration,
        "mfa": req.mfa_code.is_some(),
    }));
    event.account_id = Some(user.account_id.clone());
    event.principal_arn = Some(arn.clone());
    let mfa = if user_has_device(state, &user.id).await? {
        let matched = match req.mfa_code.as_deref() {
            None => Err(mfa_required()),
            Some(code) => match_code(state, &user.id, req.mfa_serial_number.as_deref(), code)
                .await?
                .ok_or_else(bad_mfa_code),
        };
        match matched {
            Ok(m) => Some(m),
            Err(e) => {
                if req.mfa_code.is_some() {
                    throttle
                        .record_failure(&state.store, &req.account_id, &req.user_name)
                        .await?;
                    state.metrics.auth_failure("bad_mfa_code");
                }
                state.audit.record(event.failed_with(&e));
                return Err(e);
            }
        }
    } else {
        None
    };
    if failures > 0 {
        throttle
            .reset(&state.store, &req.account_id, &req.user_name)
            .await?;
    }
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
        "sts:Login",
        &user.account_id,
        Some((&user.id, &user.name)),
        &arn,
        duration,
        event.clone(),
        mfa,
    )
    .await
    .map_err(|e| match e {
        // The code was accepted by another request in the meantime.
        ApiError::AccessDenied(_) => bad_mfa_code(),
        other => other,
    })
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
