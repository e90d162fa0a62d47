//! Long-term access keys: at most two per user; the secret is shown once.

use serde::Deserialize;
use utoipa::ToSchema;

use super::authorize;
use super::users::find_user;
use crate::auth::Caller;
use crate::domain::ids::KeyKind;
use crate::domain::{now, AccessKey, AccessKeyId, SecretAccessKey, User};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const MAX_KEYS_PER_USER: i64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccessKeyRequest {
    pub status: KeyStatus,
}

/// A key just created: the only value that carries its secret.
pub struct NewAccessKey {
    pub key: AccessKey,
    pub secret: SecretAccessKey,
}

/// Creates a key, sealing the secret under the master key.
pub(crate) fn seal_new_key(
    state: &AppState,
    account_id: &str,
    user_id: Option<String>,
    preset: Option<(AccessKeyId, SecretAccessKey)>,
) -> ApiResult<NewAccessKey> {
    let (id, secret) = preset.unwrap_or_else(|| {
        (
            AccessKeyId::generate(KeyKind::LongTerm),
            SecretAccessKey::generate(),
        )
    });
    let secret_ciphertext = state
        .master_key
        .seal(id.as_str(), secret.expose())
        .map_err(ApiError::Unexpected)?;
    Ok(NewAccessKey {
        key: AccessKey {
            access_key_id: id.to_string(),
            account_id: account_id.to_string(),
            user_id,
            secret_ciphertext,
            status: "Active".to_string(),
            created_at: now(),
            last_used_at: None,
            last_used_service: None,
            last_used_region: None,
        },
        secret,
    })
}

pub async fn create_access_key(
    state: &AppState,
    caller: &Caller,
    user_name: &str,
) -> ApiResult<(User, NewAccessKey)> {
    let user = find_user(state, caller, user_name).await?;
    authorize(
        state,
        caller,
        "iam:CreateAccessKey",
        &user.arn().to_string(),
    )
    .await?;
    let new_key = seal_new_key(state, &caller.account_id, Some(user.id.clone()), None)?;
    if !state
        .store
        .insert_user_access_key_within(&new_key.key, MAX_KEYS_PER_USER)
        .await?
    {
        return Err(ApiError::LimitExceeded(format!(
            "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
        )));
    }
    tracing::info!(user = %user.name, access_key_id = %new_key.key.access_key_id, "access key created");
    Ok((user, new_key))
}

pub async fn list_access_keys(
    state: &AppState,
    caller: &Caller,
    user_name: &str,
) -> ApiResult<(User, Vec<AccessKey>)> {
    let user = find_user(state, caller, user_name).await?;
    authorize(state, caller, "iam:ListAccessKeys", &user.arn().to_string()).await?;
    let keys = state.store.list_user_access_keys(&user.id).await?;
    Ok((user, keys))
}

async fn find_key(state: &AppState, user: &User, key_id: &str) -> ApiResult<AccessKey> {
    state
        .store
        .get_access_key(key_id)
        .await?
        .filter(|k| k.user_id.as_deref() == Some(user.id.as_str()))
        .ok_or_else(|| {
            ApiError::NoSuchEntity(format!("The Access Key with id {key_id} cannot be found."))
        })
}

pub async fn update_access_key(
    state: &AppState,
    caller: &Caller,
    user_name: &str,
    key_id: &str,
    status: KeyStatus,
) -> ApiResult<AccessKey> {
    let user = find_user(state, caller, user_name).await?;
    authorize(
        state,
        caller,
        "iam:UpdateAccessKey",
        &user.arn().to_string(),
    )
    .await?;
    let key = find_key(state, &user, key_id).await?;
    state
        .store
        .set_access_key_status(&key.access_key_id, status.as_str())
        .await?;
    // Authentication caches keys: an inactive key must stop working now.
    state.policies.invalidate_all();
    Ok(AccessKey {
        status: status.as_str().to_string(),
        ..key
    })
}

pub async fn delete_access_key(
    state: &AppState,
    caller: &Caller,
    user_name: &str,
    key_id: &str,
) -> ApiResult<()> {
    let user = find_user(state, caller, user_name).await?;
    authorize(
        state,
        caller,
        "iam:DeleteAccessKey",
        &user.arn().to_string(),
    )
    .await?;
    let key = find_key(state, &user, key_id).await?;
    state.store.delete_access_key(&key.access_key_id).await?;
    state.policies.invalidate_all();
    Ok(())
}
