//! What every operation shares: the store, the master key, the settings,
//! the compiled-policy cache and the login throttle.

use std::sync::Arc;

use crate::auth::authenticate::CredentialCache;
use crate::auth::crypto::MasterKey;
use crate::config::Config;
use crate::iam::authorize::PolicyCache;
use crate::store::Store;
use crate::sts::login::LoginThrottle;
use crate::sts::workload_credentials::IssuedCache;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub master_key: MasterKey,
    pub config: Arc<Config>,
    pub policies: PolicyCache,
    pub credentials: CredentialCache,
    pub login_throttle: LoginThrottle,
    /// Workload credentials handed out, for reuse by the next refresh.
    pub workload_credentials: IssuedCache,
}

impl AppState {
    pub fn new(store: Store, master_key: MasterKey, config: Config) -> Self {
        AppState {
            store,
            master_key,
            config: Arc::new(config),
            policies: PolicyCache::new(),
            credentials: CredentialCache::new(),
            login_throttle: LoginThrottle::default(),
            workload_credentials: IssuedCache::default(),
        }
    }

    /// Drops every cached credential and compiled policy set. Called after
    /// every IAM write: writes are rare next to reads, and a whole-cache
    /// drop cannot miss a dependency (a group's policy change affects all
    /// its members, a deleted user's keys must stop working at once).
    pub fn invalidate_caches(&self) {
        self.policies.invalidate_all();
        self.credentials.invalidate_all();
    }
}
