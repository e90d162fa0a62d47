//! Cached reads of what nearly every request looks up: the access key, its
//! account and user (authentication) and, for assume-role, the role. They
//! are dropped with the compiled policies on every IAM write that touches
//! them (`PolicyCache::invalidate_all`), and live at most `ENTITY_TTL`
//! anyway, which bounds how stale another node's write can leave them.
//! Misses are not cached, so a new entity is seen at once.

use std::time::Duration;

use crate::domain::{AccessKey, Account, Role, User};
use crate::error::ApiResult;
use crate::state::AppState;

pub const ENTITY_TTL: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct EntityCache {
    keys: moka::sync::Cache<String, AccessKey>,
    accounts: moka::sync::Cache<String, Account>,
    users: moka::sync::Cache<String, User>,
    /// By `ACCOUNT/lower-case name`.
    roles: moka::sync::Cache<String, Role>,
}

fn build<V: Clone + Send + Sync + 'static>() -> moka::sync::Cache<String, V> {
    moka::sync::Cache::builder()
        .max_capacity(10_000)
        .time_to_live(ENTITY_TTL)
        .build()
}

impl Default for EntityCache {
    fn default() -> Self {
        EntityCache {
            keys: build(),
            accounts: build(),
            users: build(),
            roles: build(),
        }
    }
}

impl EntityCache {
    pub fn invalidate_all(&self) {
        self.keys.invalidate_all();
        self.accounts.invalidate_all();
        self.users.invalidate_all();
        self.roles.invalidate_all();
    }
}

fn cache(state: &AppState) -> &EntityCache {
    &state.policies.entities
}

pub async fn access_key(state: &AppState, id: &str) -> ApiResult<Option<AccessKey>> {
    if let Some(hit) = cache(state).keys.get(id) {
        return Ok(Some(hit));
    }
    let found = state.store.get_access_key(id).await?;
    if let Some(key) = &found {
        cache(state).keys.insert(id.to_string(), key.clone());
    }
    Ok(found)
}

pub async fn account(state: &AppState, id: &str) -> ApiResult<Option<Account>> {
    if let Some(hit) = cache(state).accounts.get(id) {
        return Ok(Some(hit));
    }
    let found = state.store.get_account(id).await?;
    if let Some(account) = &found {
        cache(state)
            .accounts
            .insert(id.to_string(), account.clone());
    }
    Ok(found)
}

pub async fn user_by_id(state: &AppState, id: &str) -> ApiResult<Option<User>> {
    if let Some(hit) = cache(state).users.get(id) {
        return Ok(Some(hit));
    }
    let found = state.store.get_user_by_id(id).await?;
    if let Some(user) = &found {
        cache(state).users.insert(id.to_string(), user.clone());
    }
    Ok(found)
}

pub async fn role_by_name(
    state: &AppState,
    account_id: &str,
    name: &str,
) -> ApiResult<Option<Role>> {
    let key = format!("{account_id}/{}", name.to_ascii_lowercase());
    if let Some(hit) = cache(state).roles.get(&key) {
        return Ok(Some(hit));
    }
    let found = state.store.get_role(account_id, name).await?;
    if let Some(role) = &found {
        cache(state).roles.insert(key, role.clone());
    }
    Ok(found)
}
