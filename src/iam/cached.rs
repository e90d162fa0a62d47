//! Cached role lookups for assume-role, the hot STS path: dropped with the
//! compiled policies on every write, this node's or, at its next poll of
//! the change counter, another node's (`coherence`), and living at most
//! `runtime::policy_cache::ENTITY_TTL` anyway. Misses are not cached, so a new role is seen at
//! once. (Access keys, accounts and users are cached by
//! authentication's own credential cache.)

use crate::domain::Role;
use crate::error::ApiResult;
use crate::state::OpContext;

pub async fn role_by_name(
    state: &OpContext,
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
