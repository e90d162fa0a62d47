//! Login profiles: a console-style password, stored as an argon2id hash.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::users::{find_user, find_user_authorized};
use crate::audit::{audited, AuditEvent};
use crate::auth::password::hash_password;
use crate::auth::Caller;
use crate::domain::{now, LoginProfile};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginProfileRequest {
    /// As the account's password policy asks (8 to 128 characters
    /// without one). Never logged or returned.
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

/// Creates or replaces the user's password. Returns the profile and whether
/// it was created.
pub async fn put_login_profile(
    state: &AppState,
    caller: &Caller,
    user_name: &str,
    req: LoginProfileRequest,
) -> ApiResult<(LoginProfile, bool)> {
    let change = ProfileChange {
        password: Some(req.password),
        password_reset_required: Some(req.password_reset_required),
    };
    put(state, caller, user_name, change, PutMode::Upsert).await
}

/// IAM's CreateLoginProfile: refuses a user who already has a password.
pub async fn create_login_profile(
    state: &AppState,
    caller: &Caller,
    user_name: &str,
    req: LoginProfileRequest,
) -> ApiResult<LoginProfile> {
    let change = ProfileChange {
        password: Some(req.password),
        password_reset_required: Some(req.password_reset_required),
    };
    let (profile, _) = put(state, caller, user_name, change, PutMode::Create).await?;
    Ok(profile)
}

/// IAM's UpdateLoginProfile: the user must have a password already; either
/// field may be left as it is.
pub async fn update_login_profile(
    state: &AppState,
    caller: &Caller,
    user_name: &str,
    change: ProfileChange,
) -> ApiResult<LoginProfile> {
    let (profile, _) = put(state, caller, user_name, change, PutMode::Update).await?;
    Ok(profile)
}

/// What a create or update sets; `None` keeps the current value.
pub struct ProfileChange {
    pub password: Option<String>,
    pub password_reset_required: Option<bool>,
}

/// The REST front end upserts (PUT); IAM's API has separate create and
/// update calls, each refusing the other's case.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PutMode {
    Upsert,
    Create,
    Update,
}

async fn put(
    state: &AppState,
    caller: &Caller,
    user_name: &str,
    change: ProfileChange,
    mode: PutMode,
) -> ApiResult<(LoginProfile, bool)> {
    let user = find_user(state, caller, user_name).await;
    let existing = match &user {
        Ok(u) => state.store.get_login_profile(&u.id).await?,
        Err(_) => None,
    };
    let action = match (mode, &existing) {
        (PutMode::Create, _) | (PutMode::Upsert, None) => "iam:CreateLoginProfile",
        (PutMode::Update, _) | (PutMode::Upsert, Some(_)) => "iam:UpdateLoginProfile",
    };
    let user = super::authorize_found(
        state,
        caller,
        super::ActionContext::new(action),
        user,
        |u, cx| {
            cx.target(&u.id, u.permissions_boundary.as_deref());
            u.arn().to_string()
        },
        || super::arn_in(caller, "user", "/", user_name),
    )
    .await?;
    match (mode, &existing) {
        (PutMode::Create, Some(_)) => {
            return Err(ApiError::EntityAlreadyExists(format!(
                "Login Profile for user {} already exists.",
                user.name
            )))
        }
        (PutMode::Update, None) => return Err(profile_not_found(&user.name)),
        _ => {}
    }
    let new_password = change.password.is_some();
    let password_hash = match (change.password, &existing) {
        (Some(password), _) => {
            super::password_policy::check_new_password(state, &user, &password).await?;
            hash_password(&state.password_hashing, password).await?
        }
        (None, Some(current)) => current.password_hash.clone(),
        (None, None) => {
            return Err(ApiError::ValidationError(
                "A password is required to create a login profile.".into(),
            ))
        }
    };
    let password_reset_required = change
        .password_reset_required
        .or(existing.as_ref().map(|p| p.password_reset_required))
        .unwrap_or(false);
    let profile = LoginProfile {
        user_id: user.id.clone(),
        password_hash,
        password_reset_required,
        created_at: existing.map(|p| p.created_at).unwrap_or_else(now),
    };
    let event = AuditEvent::by(caller, action, user.arn().to_string())
        .params(json!({"password_reset_required": profile.password_reset_required}));
    let created = audited(state, event, async |tx| {
        let created = tx.upsert_login_profile(&profile).await?;
        if new_password {
            tx.record_password(&user.id, &profile.password_hash, &now())
                .await?;
        }
        Ok::<_, ApiError>(created)
    })
    .await?;
    Ok((profile, created))
}

fn profile_not_found(user_name: &str) -> ApiError {
    ApiError::NoSuchEntity(format!(
        "Login Profile for User {user_name} cannot be found."
    ))
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
        .ok_or_else(|| profile_not_found(&user.name))
}

pub async fn delete_login_profile(
    state: &AppState,
    caller: &Caller,
    user_name: &str,
) -> ApiResult<()> {
    let user = find_user_authorized(state, caller, user_name, "iam:DeleteLoginProfile").await?;
    let event = AuditEvent::by(caller, "iam:DeleteLoginProfile", user.arn().to_string());
    audited(state, event, async |tx| {
        if tx.delete_login_profile(&user.id).await? {
            Ok(())
        } else {
            Err(profile_not_found(&user.name))
        }
    })
    .await?;
    Ok(())
}
