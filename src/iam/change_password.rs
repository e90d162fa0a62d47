//! ChangePassword: an IAM user changes its own password, giving the old
//! one. Allowed when the account's password policy lets users change their
//! passwords, or when a policy allows `iam:ChangePassword` on the user.
//! Wrong old passwords count toward the same sign-in lockout as login, so
//! this call cannot be used to guess a password faster.

use super::users::find_user;
use super::{authorize, password_policy};
use crate::audit::{audited, AuditEvent};
use crate::auth::password::{hash_password, verify_password};
use crate::auth::{Caller, CallerKind};
use crate::domain::{now, LoginProfile};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn change_password(
    state: &AppState,
    caller: &Caller,
    old_password: String,
    new_password: String,
) -> ApiResult<()> {
    let name = match &caller.kind {
        CallerKind::User { name, .. } | CallerKind::UserSession { name, .. } => name.clone(),
        _ => {
            return Err(ApiError::BadRequest {
                code: "InvalidUserType",
                message: "Only IAM users can change their own password.".into(),
            })
        }
    };
    let user = find_user(state, caller, &name).await?;
    let policy = state.store.get_password_policy(&user.account_id).await?;
    if !policy
        .as_ref()
        .is_some_and(|p| p.allow_users_to_change_password)
    {
        authorize(state, caller, "iam:ChangePassword", &user.arn().to_string()).await?;
    }
    let profile = state
        .store
        .get_login_profile(&user.id)
        .await?
        .ok_or_else(|| {
            ApiError::NoSuchEntity(format!(
                "Login Profile for User {} cannot be found.",
                user.name
            ))
        })?;
    let throttle = &state.login_throttle;
    let failures = throttle
        .failures(&state.store, &user.account_id, &user.name)
        .await?;
    if throttle.locks(failures) {
        return Err(ApiError::LimitExceeded(
            "Too many invalid password attempts; try again later.".into(),
        ));
    }
    let verified = verify_password(
        &state.password_hashing,
        old_password,
        Some(profile.password_hash.clone()),
    )
    .await?;
    if !verified {
        throttle
            .record_failure(&state.store, &user.account_id, &user.name)
            .await?;
        return Err(ApiError::AccessDenied(
            "The old password is incorrect.".into(),
        ));
    }
    if failures > 0 {
        throttle
            .reset(&state.store, &user.account_id, &user.name)
            .await?;
    }
    let (_, hard_expired) = state
        .store
        .password_expiry(&user.account_id, &user.id, &profile.created_at)
        .await?;
    if hard_expired {
        return Err(ApiError::AccessDenied(
            "The password has expired and the account's password policy does not let users change an expired password; an administrator must reset it.".into(),
        ));
    }
    password_policy::check_new_password(state, &user, &new_password).await?;
    let password_hash = hash_password(&state.password_hashing, new_password).await?;
    let changed = LoginProfile {
        password_hash,
        password_reset_required: false,
        ..profile
    };
    let event = AuditEvent::by(caller, "iam:ChangePassword", user.arn().to_string());
    audited(state, event, async |tx| {
        tx.upsert_login_profile(&changed).await?;
        tx.record_password(&user.id, &changed.password_hash, &now())
            .await
    })
    .await?;
    Ok(())
}
