//! Cache coherence between the nodes that share one database.
//!
//! Every write that changes cached state advances the change counter in
//! its own transaction (`store::coherence`, `Store::audited`). The node
//! that wrote drops its caches as soon as the write commits
//! ([`changed_here`], called by `audit::audited`); every node polls the
//! counter every `coherence_poll_ms` ([`spawn_poller`]) and drops its
//! caches when it moved, so a change made on one node is seen on all of
//! them within one poll. A notification (PostgreSQL's LISTEN/NOTIFY) can
//! wake the poller early through [`Coherence::wake`].
//!
//! A cache entry is only good for the counter it was read under. A node
//! drops its caches under the generation scheme (`state::CacheGuard`): a
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
use std::time::Duration;

use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::coherence::Advance;

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

    /// The generation this node's caches account for.
    pub fn seen(&self) -> i64 {
        self.inner.seen.load(Ordering::SeqCst)
    }
}

/// After a write of this node committed: drops the caches now (the writer's
/// next request must see its own write), and rebuilds the catalog when the
/// write changed it. The poll that follows skips the drop when no other
/// node wrote in between.
pub async fn changed_here(state: &AppState, advance: Advance) {
    state.invalidate_caches();
    // Only when nothing was missed between the last drop and this write:
    // otherwise the poller still has a remote change to drop for.
    let _ = state.coherence.inner.seen.compare_exchange(
        advance.generation - 1,
        advance.generation,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    if advance.catalog.is_some() {
        if let Err(e) = rebuild_catalog(state).await {
            // The write stands; the poller retries the rebuild.
            tracing::warn!(error = ?e, "rebuilding the action catalog after a write failed");
        }
    }
}

/// Rebuilds the catalog from the store, after any rebuild under way.
pub async fn rebuild_catalog(state: &AppState) -> ApiResult<()> {
    let inner = &state.coherence.inner;
    let _turn = inner.catalog_rebuild.lock().await;
    // Read before the definitions: the catalog built holds at least what
    // this value stands for.
    let counter = state.store.coherence_counter().await?;
    crate::iam::services::load_catalog(state).await?;
    inner
        .catalog_seen
        .fetch_max(counter.catalog, Ordering::SeqCst);
    Ok(())
}

/// One look at the counter: drops the caches when another node wrote, and
/// rebuilds the catalog when a service definition changed. True when it
/// dropped them.
pub async fn poll_once(state: &AppState) -> ApiResult<bool> {
    let inner = &state.coherence.inner;
    let counter = state.store.coherence_counter().await?;
    let moved = counter.generation > inner.seen.load(Ordering::SeqCst);
    if moved {
        // After the read: a loader guarded before this drop read before it,
        // maybe before the write; its insert is refused.
        state.invalidate_caches();
        inner.seen.fetch_max(counter.generation, Ordering::SeqCst);
    }
    if counter.catalog > inner.catalog_seen.load(Ordering::SeqCst) {
        rebuild_catalog(state).await?;
    }
    Ok(moved)
}

/// Polls the counter every `period`, or at once when woken, for as long as
/// the runtime lives. A failed read is logged once per streak of failures
/// and retried at the next tick.
pub fn spawn_poller(state: AppState, period: Duration) -> tokio::task::JoinHandle<()> {
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
                () = state.coherence.inner.wake.notified() => {}
            }
            match poll_once(&state).await {
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
