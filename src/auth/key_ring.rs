//! The master key a running server holds, swappable while it serves: an
//! online rotation replaces it (new key current, old key previous) without
//! a restart, and forgetting the previous key drops the old one.
//!
//! Every signature check opens a secret through it, so a read is an
//! `ArcSwap` load (no lock, no reference-count traffic on the hot path);
//! swaps are rare and serialized by the rotation lock.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::crypto::MasterKey;

/// Where the keys came from, which decides what a rotation may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `master.key` (and `master.key.previous`) in this data directory: an
    /// online rotation writes them as the offline command does.
    DataDir(PathBuf),
    /// `--master-key` / `--previous-master-key` (or their variables, or the
    /// file of settings): the server cannot change them, so a rotation is a
    /// rolling restart followed by a re-seal.
    Given,
}

/// A re-seal run, as `GET /v1/master-key` shows it. Holds no key material.
#[derive(Debug, Clone)]
pub struct RotationRun {
    pub id: String,
    /// Re-sealing under the key already current (no new key made).
    pub reseal_only: bool,
    /// Finishing a rotation that a restart or a failure interrupted.
    pub resumed: bool,
    pub state: RunState,
    pub from_key_check: Option<String>,
    pub to_key_check: String,
    pub resealed: u64,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Why it failed; never a secret (the store's and the cipher's errors
    /// name tables and key checks only).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    Completed,
    Failed,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Completed => "completed",
            RunState::Failed => "failed",
        }
    }
}

struct Inner {
    keys: ArcSwap<MasterKey>,
    source: KeySource,
    /// Held by whatever changes the keys or re-seals (a rotation run for
    /// its whole length, a forget-previous): one at a time, the others
    /// are refused rather than queued.
    busy: Arc<AsyncMutex<()>>,
    last_run: Mutex<Option<RotationRun>>,
    task: Mutex<Option<tokio::task::AbortHandle>>,
}

/// Cloning shares the ring.
#[derive(Clone)]
pub struct KeyRing {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyRing({:?})", **self.inner.keys.load())
    }
}

impl KeyRing {
    pub fn new(keys: MasterKey, source: KeySource) -> Self {
        KeyRing {
            inner: Arc::new(Inner {
                keys: ArcSwap::from_pointee(keys),
                source,
                busy: Arc::new(AsyncMutex::new(())),
                last_run: Mutex::new(None),
                task: Mutex::new(None),
            }),
        }
    }

    /// Seals under the current key (see [`MasterKey::seal`]).
    pub fn seal(&self, context: &str, plaintext: &str) -> anyhow::Result<Vec<u8>> {
        self.inner.keys.load().seal(context, plaintext)
    }

    /// Opens under whichever key held sealed it (see [`MasterKey::open`]).
    pub fn open(&self, context: &str, sealed: &[u8]) -> anyhow::Result<String> {
        self.inner.keys.load().open(context, sealed)
    }

    /// The keys held now; a re-seal run works on one such snapshot.
    pub fn snapshot(&self) -> Arc<MasterKey> {
        self.inner.keys.load_full()
    }

    /// Replaces the keys: every seal from now on uses the new current key.
    pub fn replace(&self, keys: MasterKey) {
        self.inner.keys.store(Arc::new(keys));
    }

    pub fn source(&self) -> &KeySource {
        &self.inner.source
    }

    /// The rotation lock, or None while another change of the keys runs.
    pub fn try_busy(&self) -> Option<OwnedMutexGuard<()>> {
        self.inner.busy.clone().try_lock_owned().ok()
    }

    /// The last re-seal run (running or ended) since the server started.
    pub fn last_run(&self) -> Option<RotationRun> {
        self.lock_run().clone()
    }

    pub(crate) fn update_run(&self, f: impl FnOnce(&mut Option<RotationRun>)) {
        f(&mut self.lock_run());
    }

    fn lock_run(&self) -> std::sync::MutexGuard<'_, Option<RotationRun>> {
        self.inner
            .last_run
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_task(&self, task: tokio::task::AbortHandle) {
        *self.inner.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
    }

    /// Stops a running re-seal (at shutdown): the batch in flight rolls
    /// back, and the next start or rotate call finishes the work.
    pub fn stop_rotation(&self) {
        if let Some(task) = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            task.abort();
        }
    }
}
