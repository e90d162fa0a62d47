//! Cache coherence between the nodes that share one database.
//!
//! Every write that changes cached state advances the change counter in
//! its own transaction (`store::coherence`, `Store::audited`). The node
//! that wrote drops its caches as soon as the write commits
//! (`AppState::changed_here`, called by `audit::audited`); every node polls
//! the counter every `coherence_poll_ms` (`state::spawn_coherence_poller`)
//! and drops its caches when it moved, so a change made on one node is seen
//! on all of them within one poll. A notification (PostgreSQL's
//! LISTEN/NOTIFY) can wake the poller early through [`Coherence::wake`].
//!
//! This file keeps what a node knows of the counter; the steps that drop
//! and rebuild the caches are `AppState`'s (`state.rs`), which owns them,
//! so that this file stays out of the state's import cycle.
//!
//! A cache entry is only good for the counter it was read under. A node
//! drops its caches under the generation scheme (`runtime::cache::CacheGuard`): a
//! loader takes its guard before it reads the store, and the drop bumps
//! the generation after the poll read the new counter, so a loader that
//! read before the remote write committed cannot insert after the drop,
//! and one that took its guard after the drop reads after the commit.
//!
//! The action catalog has its own value in the counter: a node rebuilds it
//! only when a service definition changed. Rebuilds are serialized and
//! read the value before the definitions, so a slow rebuild can never
//! replace a newer one.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// What a node knows of the change counter.
#[derive(Clone)]
pub struct Coherence {
    inner: Arc<Inner>,
}

struct Inner {
    /// The counter's generation every cache drop so far accounts for.
    seen: AtomicI64,
    /// The catalog value the current catalog was built at or after.
    catalog_seen: AtomicI64,
    /// One catalog rebuild at a time, in the order of their reads.
    catalog_rebuild: tokio::sync::Mutex<()>,
    wake: tokio::sync::Notify,
}

impl Default for Coherence {
    fn default() -> Self {
        Coherence {
            inner: Arc::new(Inner {
                // Below any counter: the first poll drops (empty caches)
                // and builds the catalog.
                seen: AtomicI64::new(-1),
                catalog_seen: AtomicI64::new(-1),
                catalog_rebuild: tokio::sync::Mutex::new(()),
                wake: tokio::sync::Notify::new(),
            }),
        }
    }
}

impl Coherence {
    /// Polls now rather than at the next tick: for a notification that the
    /// counter moved.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Resolves when [`Coherence::wake`] is called.
    pub(crate) async fn woken(&self) {
        self.inner.wake.notified().await;
    }

    /// The generation this node's caches account for.
    pub fn seen(&self) -> i64 {
        self.inner.seen.load(Ordering::SeqCst)
    }

    /// True when the counter read is ahead of what the caches account for.
    pub(crate) fn moved(&self, generation: i64) -> bool {
        generation > self.seen()
    }

    /// The caches were dropped after the counter was read at `generation`.
    pub(crate) fn saw(&self, generation: i64) {
        self.inner.seen.fetch_max(generation, Ordering::SeqCst);
    }

    /// The caches were dropped after this node's own write advanced the
    /// counter to `generation`. Only when nothing was missed between the
    /// last drop and this write: otherwise the poller still has a remote
    /// change to drop for.
    pub(crate) fn saw_own(&self, generation: i64) {
        let _ = self.inner.seen.compare_exchange(
            generation - 1,
            generation,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    pub(crate) fn catalog_moved(&self, catalog: i64) -> bool {
        catalog > self.inner.catalog_seen.load(Ordering::SeqCst)
    }

    pub(crate) fn saw_catalog(&self, catalog: i64) {
        self.inner.catalog_seen.fetch_max(catalog, Ordering::SeqCst);
    }

    /// Held through a catalog rebuild: rebuilds run one at a time, each
    /// reading after the one before, so a slow one never replaces a newer.
    pub(crate) async fn catalog_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.catalog_rebuild.lock().await
    }
}
