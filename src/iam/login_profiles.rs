//! Login profiles: a console-style password, stored as an argon2id hash.

use serde::Deserialize;
use utoipa::ToSchema;

use super::users::{find_user, find_user_authorized};
use crate::auth::password::hash_password;
use crate::auth::Caller;
use crate::domain::{now, LoginProfile};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginProfileRequest {
    /// 8 to 128 characters. Never logged or returned.
    #[schema(format = Password)]
    pub password: String,
    #[serde(default)]
    pub password_reset_required: bool,
}

impl std::fmt::Debug for LoginProfileRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginProfileRequest { password: *** }")
    }
}

fn check_password_policy(password: &str) -> ApiResult<()> {
    let len = password.chars().count();
    if !(8..=128).contains(&len) {
        return Err(ApiError::InvalidInput(
            "Password should have a minimum length of 8 and a maximum of 128 characters.".into(),
        ));
    }
    Ok(())
}

/// Creates or replaces the user's password. Returns the profile and whether
/// it was created.
pub async fn put_login_profile(
    state: &AppState,
    caller: &Caller,
    user_name: &str,
    req: LoginProfileRequest,
) -> ApiResult<(LoginProfile, bool)> {
    let user = find_user(state, caller, user_name).await;
    let existing = match &user {
        Ok(u) => state.store.get_login_profile(&u.id).await?,
        Err(_) => None,
    };
    let action = if existing.is_some() {
        "iam:UpdateLoginProfile"
    } else {
        "iam:CreateLoginProfile"
    };
    let user = super::authorize_found(
        state,
        caller,
        action,
        user,
        |u| u.arn().to_string(),
        || super::arn_in(caller, "user", "/", user_name),
    )
    .await?;
    check_password_policy(&req.password)?;
    let password_hash = hash_password(req.password)
        .await
        .map_err(ApiError::Unexpected)?;
    let profile = LoginProfile {
        user_id: user.id.clone(),
        password_hash,
        password_reset_required: req.password_reset_required,
        created_at: existing.map(|p| p.created_at).unwrap_or_else(now),
    };
    let created = state.store.upsert_login_profile(&profile).await?;
    Ok((profile, created))
}

pub async fn get_login_profile(
    state: &AppState,
    caller: &Caller,
    user_name: &str,
) -> ApiResult<LoginProfile> {
    let user = find_user_authorized(state, caller, user_name, "iam:GetLoginProfile").await?;
    state
        .store
        .get_login_profile(&user.id)
        .await?
        .ok_or_else(|| {
            ApiError::NoSuchEntity(format!(
                "Login Profile for User {} cannot be found.",
                user.name
            ))
        })
}

pub async fn delete_login_profile(
    state: &AppState,
    caller: &Caller,
    user_name: &str,
) -> ApiResult<()> {
    let user = find_user_authorized(state, caller, user_name, "iam:DeleteLoginProfile").await?;
    if !state.store.delete_login_profile(&user.id).await? {
        return Err(ApiError::NoSuchEntity(format!(
            "Login Profile for User {} cannot be found.",
            user.name
        )));
    }
    Ok(())
}
