//! What every operation shares (`OpContext`: the store, the master key, the
//! settings, the caches, the catalog, the metrics, the audit queue) and the
//! whole state of a server around it (`AppState`), with the steps of the
//! coherence poller.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::audit::queue::AuditLog;
use crate::auth::key_ring::KeyRing;
use crate::auth::password::HashingBound;
use crate::config::Config;
use crate::runtime::cache::{drop_between_bumps, CacheGuard};
use crate::runtime::catalog::ServiceCatalog;
use crate::runtime::credential_cache::CredentialCache;
use crate::runtime::issued_credentials::IssuedCache;
use crate::runtime::login_throttle::LoginThrottle;
use crate::runtime::metrics::Metrics;
use crate::runtime::policy_cache::PolicyCache;
use crate::store::Store;

/// What the operations share, and all that authorization and the write
/// pipeline use: the store, the master key, the settings, the caches they
/// fill and drop, the action catalog, the metrics and the audit queue.
/// An operation that needs nothing else takes `&OpContext`; an `&AppState`
/// is one (`Deref`), so a caller holding the whole state passes it as is,
/// and a test builds a context alone (`OpContext::new`), with no server.
#[derive(Clone)]
pub struct OpContext {
    pub store: Store,
    /// The master key, swapped by an online rotation.
    pub master_key: KeyRing,
    pub config: Arc<Config>,
    pub policies: PolicyCache,
    pub credentials: CredentialCache,
    /// The action catalog (built-in plus registered services).
    pub catalog: ServiceCatalog,
    pub metrics: Arc<Metrics>,
    /// The queue of audit events that are not part of a mutation.
    pub audit: AuditLog,
    /// Workload credentials handed out, for reuse by the next refresh.
    pub workload_credentials: IssuedCache,
    /// OIDC providers' signing keys (`sts::web_identity::keys`).
    pub web_identity_keys: crate::sts::web_identity::keys::KeyCache,
    /// What this node knows of the database's change counter.
    pub coherence: crate::coherence::Coherence,
    /// Counts cache drops (writes here and elsewhere); see [`CacheGuard`].
    cache_generation: Arc<AtomicU64>,
}

/// The whole state of a server: the operations' context and what only
/// some operations need (sign-in, password hashing, simulations).
#[derive(Clone)]
pub struct AppState {
    context: OpContext,
    pub login_throttle: LoginThrottle,
    /// Bounds argon2 work; every password hash and check goes through it.
    pub password_hashing: HashingBound,
    /// Simulations (`/v1/evaluate`, Simulate*) running at once: one per
    /// two cores, at least one, so that one tenant's simulations leave
    /// cores to everyone else's requests.
    pub simulations: Arc<tokio::sync::Semaphore>,
}

impl std::ops::Deref for AppState {
    type Target = OpContext;

    fn deref(&self) -> &OpContext {
        &self.context
    }
}

fn simulation_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl AppState {
    /// Starts the audit writer, so it must run inside the tokio runtime.
    pub fn new(store: Store, master_key: KeyRing, config: Config) -> Self {
        let password_hashing = HashingBound::from_settings(
            config.password_hash_concurrency,
            config.password_hash_queue,
        );
        AppState {
            context: OpContext::new(store, master_key, config),
            login_throttle: LoginThrottle::default(),
            password_hashing,
            simulations: Arc::new(tokio::sync::Semaphore::new(simulation_slots())),
        }
    }
}

impl OpContext {
    /// Starts the audit writer, so it must run inside the tokio runtime.
    pub fn new(store: Store, master_key: KeyRing, config: Config) -> Self {
        let metrics = Arc::new(Metrics::new());
        let audit = AuditLog::start(store.clone(), config.audit_queue_capacity, metrics.clone());
        let cache_generation = Arc::new(AtomicU64::new(0));
        OpContext {
            store,
            master_key,
            config: Arc::new(config),
            policies: PolicyCache::new(),
            credentials: CredentialCache::new(cache_generation.clone()),
            catalog: Default::default(),
            metrics,
            audit,
            workload_credentials: IssuedCache::default(),
            web_identity_keys: Default::default(),
            coherence: Default::default(),
            cache_generation,
        }
    }

    /// Drops every cached credential, session, compiled policy set, role
    /// and handed-out workload credential. Called by the write pipeline
    /// after every write here and by the coherence poller after every write
    /// elsewhere (`coherence`), never by an operation: writes are rare
    /// next to reads, and a whole-cache drop cannot miss a dependency (a
    /// group's policy change affects all its members, a deleted user's keys
    /// must stop working at once).
    pub(crate) fn invalidate_caches(&self) {
        drop_between_bumps(&self.cache_generation, || {
            self.policies.invalidate_all();
            self.credentials.invalidate_all();
            self.workload_credentials.invalidate_all();
        });
    }

    /// Taken by a cache loader before it reads the store; see [`CacheGuard`].
    pub fn cache_guard(&self) -> CacheGuard {
        CacheGuard::at(self.cache_generation.clone())
    }
}

impl OpContext {
    /// After a write of this node committed: drops the caches now (the
    /// writer's next request must see its own write), and rebuilds the
    /// catalog when the write changed it. The poll that follows skips the
    /// drop when no other node wrote in between (see `coherence`).
    pub(crate) async fn changed_here(&self, advance: crate::store::coherence::Advance) {
        self.invalidate_caches();
        self.coherence.saw_own(advance.generation);
        if advance.catalog.is_some() {
            if let Err(e) = self.rebuild_catalog().await {
                // The write stands; the poller retries the rebuild.
                tracing::warn!(error = ?e, "rebuilding the action catalog after a write failed");
            }
        }
    }

    /// Rebuilds the action catalog from the store, after any rebuild under
    /// way.
    pub async fn rebuild_catalog(&self) -> crate::error::ApiResult<()> {
        let _turn = self.coherence.catalog_turn().await;
        // Read before the definitions: the catalog built holds at least
        // what this value stands for.
        let counter = self.store.coherence_counter().await?;
        self.catalog.load(&self.store).await?;
        self.coherence.saw_catalog(counter.catalog);
        Ok(())
    }

    /// One look at the change counter: drops the caches when another node
    /// wrote, and rebuilds the catalog when a service definition changed.
    /// True when it dropped them.
    pub async fn poll_coherence(&self) -> crate::error::ApiResult<bool> {
        let counter = self.store.coherence_counter().await?;
        let moved = self.coherence.moved(counter.generation);
        if moved {
            // After the read: a loader guarded before this drop read
            // before it, maybe before the write; its insert is refused.
            self.invalidate_caches();
            self.coherence.saw(counter.generation);
        }
        if self.coherence.catalog_moved(counter.catalog) {
            self.rebuild_catalog().await?;
        }
        Ok(moved)
    }
}

/// Polls the change counter every `period`, or at once when woken
/// (`Coherence::wake`), for as long as the runtime lives. A failed read is
/// logged once per streak of failures and retried at the next tick.
pub fn spawn_coherence_poller(
    state: AppState,
    period: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut failing = false;
        // An interval rather than a sleep after each poll: the period does
        // not stretch by the time a poll takes.
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                () = state.coherence.woken() => {}
            }
            match state.poll_coherence().await {
                Ok(_) => failing = false,
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = ?e, "reading the change counter failed; caches may lag other nodes until it succeeds");
                }
                Err(_) => {}
            }
        }
    })
}
