//! Cached role lookups for assume-role, the hot STS path: dropped with the
//! compiled policies on every write, this node's or, at its next poll of
//! the change counter, another node's (`coherence`), and living at most
//! `ENTITY_TTL` anyway. Misses are not cached, so a new role is seen at
//! once. (Access keys, accounts and users are cached by
//! authentication's own credential cache.)

use std::time::Duration;

use crate::domain::Role;
use crate::error::ApiResult;
use crate::state::AppState;

pub const ENTITY_TTL: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct EntityCache {
    /// By `ACCOUNT/lower-case name`.
    roles: moka::sync::Cache<String, Role>,
}

impl Default for EntityCache {
    fn default() -> Self {
        EntityCache {
            roles: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ENTITY_TTL)
                .build(),
        }
    }
}

impl EntityCache {
    pub fn invalidate_all(&self) {
        self.roles.invalidate_all();
    }
}

pub async fn role_by_name(
    state: &AppState,
    account_id: &str,
    name: &str,
) -> ApiResult<Option<Role>> {
    let cache = &state.policies.entities.roles;
    let key = format!("{account_id}/{}", name.to_ascii_lowercase());
    if let Some(hit) = cache.get(&key) {
        return Ok(Some(hit));
    }
    let guard = state.cache_guard();
    let found = state.store.get_role(account_id, name).await?;
    if let Some(role) = &found {
        guard.insert(cache, key, role.clone());
    }
    Ok(found)
}
