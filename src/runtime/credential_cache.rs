//! Resolved keys, long-term and session, kept in memory: a shared cache
//! (bounded, five minutes, dropped on every IAM write, on this node at
//! once and on the others at their next poll of the change counter; see
//! `coherence`) and, in front of it,
//! each worker thread's copies of the few keys it used last. A session key
//! carries its token's digest and its expiry, which every hit checks
//! (`session_key::check_cached_session`); what revokes a session is an IAM
//! write like any other.
//!
//! Every request made with a key looks it up, most twice (a service's own
//! key and its caller's on `/v1/authorize`). A shared-cache hit hashes the
//! id, reads the clock twice for its expiry and records the read for its
//! eviction policy; a thread's copy costs a short scan. A copy is stamped
//! with the write generation read *before* the shared cache was, and
//! [`AppState::invalidate_caches`](crate::state::AppState::invalidate_caches)
//! bumps the generation both before and after it drops the shared caches,
//! so a copy taken at any point of a write no longer matches once the write
//! is done. Keys change only through IAM writes (a session's expiry is
//! checked on each hit), so a copy needs no expiry of its own.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::cache::{CacheGuard, CacheHasher};
use crate::runtime::resolved_key::ResolvedKey;

/// How many keys a worker thread keeps copies of: a platform's services
/// and their busiest callers.
const THREAD_COPIES: usize = 8;

#[derive(Clone)]
pub struct CredentialCache {
    /// Tells this cache's copies from those of another in the same process
    /// (tests run many servers).
    id: u64,
    /// The write generation (shared with the state's other caches).
    generation: Arc<AtomicU64>,
    shared: moka::sync::Cache<String, Arc<ResolvedKey>, CacheHasher>,
    /// Keys whose last use was written in the past minute.
    pub(crate) recently_recorded: moka::sync::Cache<String, ()>,
}

impl CredentialCache {
    pub fn new(generation: Arc<AtomicU64>) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        CredentialCache {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            generation,
            shared: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(300))
                .build_with_hasher(CacheHasher::default()),
            recently_recorded: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }

    /// The resolved key, when cached and no IAM write happened since.
    pub fn get(&self, access_key_id: &str) -> Option<Arc<ResolvedKey>> {
        let generation = self.generation.load(Ordering::SeqCst);
        let copy = THREAD_COPIES_OF_KEYS
            .with_borrow_mut(|copies| copies.get(self.id, generation, access_key_id));
        if copy.is_some() {
            return copy;
        }
        let hit = self.shared.get(access_key_id)?;
        THREAD_COPIES_OF_KEYS
            .with_borrow_mut(|copies| copies.put(self.id, generation, access_key_id, hit.clone()));
        Some(hit)
    }

    /// Caches a key loaded from the store, unless a write raced the load.
    pub fn insert(&self, guard: &CacheGuard, access_key_id: String, resolved: Arc<ResolvedKey>) {
        guard.insert(&self.shared, access_key_id, resolved);
    }

    pub fn invalidate_all(&self) {
        self.shared.invalidate_all();
    }
}

thread_local! {
    static THREAD_COPIES_OF_KEYS: RefCell<ThreadCopies> = const {
        RefCell::new(ThreadCopies { copies: Vec::new(), next: 0 })
    };
}

struct KeyCopy {
    cache: u64,
    generation: u64,
    access_key_id: String,
    resolved: Arc<ResolvedKey>,
}

/// One thread's copies, replaced round-robin when full.
struct ThreadCopies {
    copies: Vec<KeyCopy>,
    next: usize,
}

impl ThreadCopies {
    fn get(
        &mut self,
        cache: u64,
        generation: u64,
        access_key_id: &str,
    ) -> Option<Arc<ResolvedKey>> {
        let found = self
            .copies
            .iter()
            .position(|c| c.cache == cache && c.access_key_id == access_key_id)?;
        if self.copies[found].generation == generation {
            return Some(self.copies[found].resolved.clone());
        }
        // A write happened: drop every copy of this cache now rather than
        // keep their secrets until they are replaced.
        self.copies
            .retain(|c| c.cache != cache || c.generation == generation);
        self.next = 0;
        None
    }

    fn put(
        &mut self,
        cache: u64,
        generation: u64,
        access_key_id: &str,
        resolved: Arc<ResolvedKey>,
    ) {
        let copy = KeyCopy {
            cache,
            generation,
            access_key_id: access_key_id.to_string(),
            resolved,
        };
        if self.copies.len() < THREAD_COPIES {
            self.copies.push(copy);
        } else {
            self.copies[self.next] = copy;
            self.next = (self.next + 1) % THREAD_COPIES;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::caller::{CallerIdentity, CallerKind};
    use crate::auth::Caller;
    use crate::domain::SecretAccessKey;
    use crate::runtime::cache::drop_between_bumps;

    fn resolved(name: &str) -> Arc<ResolvedKey> {
        let identity = CallerIdentity::new(
            "123456789012".into(),
            format!("arn:aws:iam::123456789012:user/{name}"),
            "AIDAEXAMPLE".into(),
            CallerKind::User {
                user_id: "AIDAEXAMPLE".into(),
                name: name.into(),
            },
            "AKIAEXAMPLE".into(),
            false,
        );
        let secret = SecretAccessKey::parse("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
        Arc::new(ResolvedKey::new(secret, Caller::new(identity, None, false)))
    }

    fn guard(generation: &Arc<AtomicU64>) -> CacheGuard {
        CacheGuard::at(generation.clone())
    }

    /// What `AppState::invalidate_caches` does to this cache.
    fn write(cache: &CredentialCache, generation: &AtomicU64) {
        drop_between_bumps(generation, || cache.invalidate_all());
    }

    /// The user name of the key's caller, if the cache has the key.
    fn user(cache: &CredentialCache, access_key_id: &str) -> Option<String> {
        let key = cache.get(access_key_id)?;
        key.caller.arn.rsplit('/').next().map(str::to_string)
    }

    #[test]
    fn a_write_drops_the_shared_entry_and_every_thread_copy() {
        let generation = Arc::new(AtomicU64::new(0));
        let cache = CredentialCache::new(generation.clone());
        assert!(cache.get("AKIA1").is_none());
        cache.insert(&guard(&generation), "AKIA1".into(), resolved("alice"));
        // The first hit reads the shared cache, the second this thread's copy.
        assert_eq!(user(&cache, "AKIA1").as_deref(), Some("alice"));
        assert_eq!(user(&cache, "AKIA1").as_deref(), Some("alice"));
        write(&cache, &generation);
        assert!(cache.get("AKIA1").is_none());
        cache.insert(&guard(&generation), "AKIA1".into(), resolved("bob"));
        assert_eq!(user(&cache, "AKIA1").as_deref(), Some("bob"));
    }

    #[test]
    fn a_copy_taken_while_a_write_drops_the_caches_does_not_survive_it() {
        let generation = Arc::new(AtomicU64::new(0));
        let cache = CredentialCache::new(generation.clone());
        cache.insert(&guard(&generation), "AKIA1".into(), resolved("old"));
        drop_between_bumps(&generation, || {
            // A reader between the write's first bump and its drop copies
            // the old entry under that generation.
            assert_eq!(user(&cache, "AKIA1").as_deref(), Some("old"));
            cache.invalidate_all();
        });
        assert!(cache.get("AKIA1").is_none());
    }

    #[test]
    fn caches_of_two_servers_in_one_process_keep_their_own_copies() {
        let (g1, g2) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (one, two) = (
            CredentialCache::new(g1.clone()),
            CredentialCache::new(g2.clone()),
        );
        one.insert(&guard(&g1), "AKIA1".into(), resolved("one"));
        two.insert(&guard(&g2), "AKIA1".into(), resolved("two"));
        for _ in 0..2 {
            assert_eq!(user(&one, "AKIA1").as_deref(), Some("one"));
            assert_eq!(user(&two, "AKIA1").as_deref(), Some("two"));
        }
        write(&one, &g1);
        assert!(one.get("AKIA1").is_none());
        assert_eq!(user(&two, "AKIA1").as_deref(), Some("two"));
    }

    #[test]
    fn a_thread_keeps_copies_of_its_last_keys_only() {
        let generation = Arc::new(AtomicU64::new(0));
        let cache = CredentialCache::new(generation.clone());
        for i in 0..THREAD_COPIES * 2 {
            let id = format!("AKIA{i}");
            cache.insert(&guard(&generation), id.clone(), resolved(&format!("u{i}")));
            assert!(cache.get(&id).is_some());
        }
        let copies = THREAD_COPIES_OF_KEYS
            .with_borrow(|c| c.copies.iter().filter(|c| c.cache == cache.id).count());
        assert_eq!(copies, THREAD_COPIES);
        // Keys without a copy still come from the shared cache.
        assert_eq!(user(&cache, "AKIA0").as_deref(), Some("u0"));
    }
}
