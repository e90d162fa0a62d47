//! What every operation shares: the store, the master key, the settings,
//! the compiled-policy cache and the login throttle.

use std::sync::Arc;

use crate::audit::AuditLog;
use crate::auth::authenticate::CredentialCache;
use crate::auth::crypto::MasterKey;
use crate::config::Config;
use crate::iam::authorize::PolicyCache;
use crate::metrics::Metrics;
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
    /// The action catalog (built-in plus registered services).
    pub catalog: crate::iam::services::ServiceCatalog,
    pub metrics: Arc<Metrics>,
    /// The queue of audit events that are not part of a mutation.
    pub audit: AuditLog,
    /// Workload credentials handed out, for reuse by the next refresh.
    pub workload_credentials: IssuedCache,
}

impl AppState {
    /// Starts the audit writer, so it must run inside the tokio runtime.
    pub fn new(store: Store, master_key: MasterKey, config: Config) -> Self {
        let metrics = Arc::new(Metrics::new());
        let audit = AuditLog::start(store.clone(), config.audit_queue_capacity, metrics.clone());
        AppState {
            store,
            master_key,
            config: Arc::new(config),
            policies: PolicyCache::new(),
            credentials: CredentialCache::new(),
            login_throttle: LoginThrottle::default(),
            catalog: Default::default(),
            metrics,
            audit,
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
