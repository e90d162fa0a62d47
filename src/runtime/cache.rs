//! The cache generation: how a write's cache drop and the loaders that
//! raced it agree, so that no value read before a write outlives the drop
//! that follows it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
