//! Long-term access keys: at most two per user; the secret is shown once.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::users::find_user_authorized;
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::ids::KeyKind;
use crate::domain::{now, AccessKey, AccessKeyId, SecretAccessKey, User};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;

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

/// A fresh long-term key id and secret.
pub(crate) fn generate_key() -> (AccessKeyId, SecretAccessKey) {
    (
        AccessKeyId::generate(KeyKind::LongTerm),
        SecretAccessKey::generate(),
    )
}

/// Creates a key, sealing the secret under the master key. Called inside
/// the transaction that inserts the key, so that a master-key rotation,
/// whose last transaction re-seals what is left, cannot miss it.
pub(crate) fn seal_new_key(
    state: &OpContext,
    account_id: &str,
    user_id: Option<String>,
    preset: Option<(AccessKeyId, SecretAccessKey)>,
) -> ApiResult<NewAccessKey> {
    let (id, secret) = preset.unwrap_or_else(generate_key);
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
    state: &OpContext,
    caller: &Caller,
    user_name: &str,
) -> ApiResult<(User, NewAccessKey)> {
    let user = find_user_authorized(state, caller, user_name, "iam:CreateAccessKey").await?;
    let (key_id, secret) = generate_key();
    let event = AuditEvent::by(caller, "iam:CreateAccessKey", user.arn().to_string())
        .params(json!({"user_name": user.name, "access_key_id": key_id.as_str()}));
    let new_key = audited(state, event, async |tx| {
        let new_key = seal_new_key(
            state,
            &caller.account_id,
            Some(user.id.clone()),
            Some((key_id, secret)),
        )?;
        if tx
            .insert_user_access_key_within(&new_key.key, MAX_KEYS_PER_USER)
            .await?
        {
            Ok(new_key)
        } else {
            Err(ApiError::LimitExceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
            )))
        }
    })
    .await?;
    tracing::info!(user = %user.name, access_key_id = %new_key.key.access_key_id, "access key created");
    Ok((user, new_key))
}

pub async fn list_access_keys(
    state: &OpContext,
    caller: &Caller,
    user_name: &str,
) -> ApiResult<(User, Vec<AccessKey>)> {
    let user = find_user_authorized(state, caller, user_name, "iam:ListAccessKeys").await?;
    let keys = state.store.list_user_access_keys(&user.id).await?;
    Ok((user, keys))
}

async fn find_key(state: &OpContext, user: &User, key_id: &str) -> ApiResult<AccessKey> {
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
    state: &OpContext,
    caller: &Caller,
    user_name: &str,
    key_id: &str,
    status: KeyStatus,
) -> ApiResult<AccessKey> {
    let user = find_user_authorized(state, caller, user_name, "iam:UpdateAccessKey").await?;
    let key = find_key(state, &user, key_id).await?;
    let event = AuditEvent::by(caller, "iam:UpdateAccessKey", user.arn().to_string()).params(
        json!({"user_name": user.name, "access_key_id": key.access_key_id, "status": status.as_str()}),
    );
    audited(state, event, async |tx| {
        tx.set_access_key_status(&key.access_key_id, status.as_str())
            .await
    })
    .await?;
    Ok(AccessKey {
        status: status.as_str().to_string(),
        ..key
    })
}

pub async fn delete_access_key(
    state: &OpContext,
    caller: &Caller,
    user_name: &str,
    key_id: &str,
) -> ApiResult<()> {
    let user = find_user_authorized(state, caller, user_name, "iam:DeleteAccessKey").await?;
    let key = find_key(state, &user, key_id).await?;
    let event = AuditEvent::by(caller, "iam:DeleteAccessKey", user.arn().to_string())
        .params(json!({"user_name": user.name, "access_key_id": key.access_key_id}));
    audited(state, event, async |tx| {
        tx.delete_access_key(&key.access_key_id).await
    })
    .await?;
    Ok(())
}

/// IAM's GetAccessKeyLastUsed: any key of the caller's account, by id.
/// Returns the owner (None for a root key) and the key with its last use.
pub async fn get_access_key_last_used(
    state: &OpContext,
    caller: &Caller,
    key_id: &str,
) -> ApiResult<(Option<User>, AccessKey)> {
    let key = state
        .store
        .get_access_key(key_id)
        .await?
        .filter(|k| k.account_id == caller.account_id);
    let owner = match key.as_ref().and_then(|k| k.user_id.as_deref()) {
        Some(user_id) => state.store.get_user_by_id(user_id).await?,
        None => None,
    };
    // The resource is the owning user (or the root); an unknown key is
    // authorized against the account's users so the 404 does not leak.
    let resource = match (&key, &owner) {
        (_, Some(user)) => user.arn().to_string(),
        (Some(_), None) => crate::domain::Arn::root(&caller.account_id).to_string(),
        (None, _) => super::all_of(caller, "user"),
    };
    super::authorize(state, caller, "iam:GetAccessKeyLastUsed", &resource).await?;
    let key = key.ok_or_else(|| {
        ApiError::NoSuchEntity(format!("The Access Key with id {key_id} cannot be found."))
    })?;
    Ok((owner, key))
}
