//! What every operation shares: the store, the master key, the settings,
//! the compiled-policy cache, the login throttle and the hashing bound.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::audit::AuditLog;
use crate::auth::credential_cache::CredentialCache;
use crate::auth::key_ring::KeyRing;
use crate::auth::password::HashingBound;
use crate::config::Config;
use crate::iam::authorize::PolicyCache;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::sts::login::LoginThrottle;
use crate::sts::workload_credentials::IssuedCache;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The master key, swapped by an online rotation.
    pub master_key: KeyRing,
    pub config: Arc<Config>,
    pub policies: PolicyCache,
    pub credentials: CredentialCache,
    pub login_throttle: LoginThrottle,
    /// Bounds argon2 work; every password hash and check goes through it.
    pub password_hashing: HashingBound,
    /// The action catalog (built-in plus registered services).
    pub catalog: crate::iam::services::ServiceCatalog,
    pub metrics: Arc<Metrics>,
    /// The queue of audit events that are not part of a mutation.
    pub audit: AuditLog,
    /// Workload credentials handed out, for reuse by the next refresh.
    pub workload_credentials: IssuedCache,
    /// OIDC providers' signing keys (`sts::web_identity::keys`).
    pub web_identity_keys: crate::sts::web_identity::KeyCache,
    /// Simulations (`/v1/evaluate`, Simulate*) running at once: one per
    /// two cores, at least one, so that one tenant's simulations leave
    /// cores to everyone else's requests.
    pub simulations: Arc<tokio::sync::Semaphore>,
    /// What this node knows of the database's change counter.
    pub coherence: crate::coherence::Coherence,
    /// Counts cache drops (writes here and elsewhere); see [`CacheGuard`].
    cache_generation: Arc<AtomicU64>,
}

fn simulation_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl AppState {
    /// Starts the audit writer, so it must run inside the tokio runtime.
    pub fn new(store: Store, master_key: KeyRing, config: Config) -> Self {
        let metrics = Arc::new(Metrics::new());
        let audit = AuditLog::start(store.clone(), config.audit_queue_capacity, metrics.clone());
        let cache_generation = Arc::new(AtomicU64::new(0));
        let password_hashing = HashingBound::from_settings(
            config.password_hash_concurrency,
            config.password_hash_queue,
        );
        AppState {
            store,
            master_key,
            config: Arc::new(config),
            policies: PolicyCache::new(),
            credentials: CredentialCache::new(cache_generation.clone()),
            login_throttle: LoginThrottle::default(),
            password_hashing,
            catalog: Default::default(),
            metrics,
            audit,
            workload_credentials: IssuedCache::default(),
            web_identity_keys: Default::default(),
            simulations: Arc::new(tokio::sync::Semaphore::new(simulation_slots())),
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

impl AppState {
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
        crate::iam::services::load_catalog(self).await?;
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

/// How a write drops the caches: the generation is bumped before the drop,
/// for the loaders (`CacheGuard`), and after it, for the worker threads'
/// copies of keys, which are stamped with the generation read before the
/// shared cache (`CredentialCache`).
pub(crate) fn drop_between_bumps(generation: &AtomicU64, drop: impl FnOnce()) {
    generation.fetch_add(1, Ordering::SeqCst);
    drop();
    generation.fetch_add(1, Ordering::SeqCst);
}

/// The hasher of the caches that requests read: their keys are short ids,
/// SipHash was a visible share of a hit, and foldhash is seeded per process.
pub type CacheHasher = foldhash::fast::RandomState;

/// Keeps a cache loader from resurrecting what a write just invalidated.
///
/// A loader that read the store before a write committed, and inserts
/// after the write dropped the caches, would otherwise leave the old value
/// cached for the whole time-to-live. The write bumps the generation before
/// it drops the caches; the loader inserts only under the generation it
/// started with, and checks again after inserting, so that one of the two
/// (the write's drop, or the loader's own check) always removes the value.
pub struct CacheGuard {
    generation: Arc<AtomicU64>,
    at: u64,
}

impl CacheGuard {
    /// A guard at the current generation of `generation`.
    pub(crate) fn at(generation: Arc<AtomicU64>) -> Self {
        let at = generation.load(Ordering::SeqCst);
        CacheGuard { generation, at }
    }

    fn current(&self) -> bool {
        self.generation.load(Ordering::SeqCst) == self.at
    }

    pub fn insert<V, S>(&self, cache: &moka::sync::Cache<String, V, S>, key: String, value: V)
    where
        V: Clone + Send + Sync + 'static,
        S: std::hash::BuildHasher + Clone + Send + Sync + 'static,
    {
        if !self.current() {
            return;
        }
        cache.insert(key.clone(), value);
        if !self.current() {
            cache.invalidate(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loader_that_raced_a_write_caches_nothing() {
        let generation = Arc::new(AtomicU64::new(7));
        let cache = moka::sync::Cache::<String, u32>::new(10);
        let guard_at = |at| CacheGuard {
            generation: generation.clone(),
            at,
        };
        let fresh = guard_at(7);
        let stale = guard_at(7);
        fresh.insert(&cache, "fresh".into(), 1);
        assert_eq!(cache.get("fresh"), Some(1));
        // A write commits while `stale` is still loading.
        generation.fetch_add(1, Ordering::SeqCst);
        stale.insert(&cache, "stale".into(), 2);
        assert_eq!(cache.get("stale"), None);
        guard_at(8).insert(&cache, "after".into(), 3);
        assert_eq!(cache.get("after"), Some(3));
    }
}
