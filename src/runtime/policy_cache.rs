//! The compiled-policy cache the authorizer reads: identity policy sets
//! per principal, trust policies per role, frozen session policies per
//! session, and the roles assume-role looks up. Filled by `iam::authorize`
//! and `iam::cached`, dropped by the write pipeline and the coherence
//! poller (`AppState::invalidate_caches`).

use std::sync::Arc;
use std::time::Duration;

use crate::domain::{Role, Tag};
use crate::policy::CompiledPolicy;
use crate::runtime::cache::CacheHasher;

/// A principal's compiled identity policies (merged into one set, so a
/// decision probes one index however many policies there are), boundary and
/// tags.
#[derive(Debug)]
pub struct PrincipalPolicies {
    pub identity: CompiledPolicy,
    pub boundary: Option<CompiledPolicy>,
    pub tags: Vec<Tag>,
}

#[derive(Clone)]
pub struct PolicyCache {
    pub(crate) inner: moka::sync::Cache<String, Arc<PrincipalPolicies>, CacheHasher>,
    /// Compiled trust policies by role id, with the text they were
    /// compiled from: a hit counts only for the same text, so a role read
    /// before an UpdateAssumeRolePolicy cannot leave its old policy cached.
    pub(crate) trust: moka::sync::Cache<String, (Arc<str>, Arc<CompiledPolicy>), CacheHasher>,
    /// Compiled session policies by session access key id.
    pub(crate) sessions: moka::sync::Cache<String, Arc<Vec<CompiledPolicy>>, CacheHasher>,
    /// Keys, accounts, users and roles as authentication and assume-role
    /// read them.
    pub(crate) entities: EntityCache,
}

impl Default for PolicyCache {
    fn default() -> Self {
        Self::new()
    }
}

impl PolicyCache {
    pub fn new() -> Self {
        fn build<V: Clone + Send + Sync + 'static>() -> moka::sync::Cache<String, V, CacheHasher> {
            moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(300))
                .build_with_hasher(CacheHasher::default())
        }
        PolicyCache {
            inner: build(),
            trust: build(),
            sessions: build(),
            entities: EntityCache::default(),
        }
    }

    /// Called after every IAM write, here or on another node
    /// (`AppState::invalidate_caches`). Session policies are frozen at issue
    /// time, so their cache stays.
    pub fn invalidate_all(&self) {
        self.inner.invalidate_all();
        self.trust.invalidate_all();
        self.entities.invalidate_all();
    }

    pub fn get(&self, principal_id: &str) -> Option<Arc<PrincipalPolicies>> {
        self.inner.get(principal_id)
    }
}

pub const ENTITY_TTL: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct EntityCache {
    /// By `ACCOUNT/lower-case name`.
    pub(crate) roles: moka::sync::Cache<String, Role>,
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
