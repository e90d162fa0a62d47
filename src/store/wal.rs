//! Keeps the write-ahead log bounded. SQLite's own checkpoint (PASSIVE,
//! after a commit that takes the log past `wal_autocheckpoint` pages) copies
//! pages back but only rewinds the log when no reader still uses it; under
//! steady reads and writes that never happens, and the `-wal` file grew to
//! 108 MB for a 24 MB database in 50 seconds (issue 20). So a task watches
//! the file and, past the threshold, checkpoints with TRUNCATE, which
//! empties it.
//!
//! The bound: the log is checkpointed once it passes `wal_checkpoint_bytes`
//! (`LATCHKEY_WAL_CHECKPOINT_BYTES`, default 16 MiB), looked at every
//! [`CHECK_INTERVAL`]; it stays under four times that (64 MiB by default),
//! which `tests/api/security/scale.rs` checks under many concurrent writers.
//!
//! Writers are not stalled: the PASSIVE pass that does the copying blocks
//! no one; TRUNCATE then holds the write lock only while it waits for the
//! readers still on the log, at most [`TRUNCATE_WAIT_MS`], and gives up
//! until the next look if they take longer.

use std::path::PathBuf;
use std::time::Duration;

use super::Store;
use crate::error::ApiResult;

/// How often the task looks at the size of the `-wal` file (a `stat`).
pub const CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// How long a TRUNCATE checkpoint may wait for readers (and so hold up
/// writers) before giving up until the next look.
pub const TRUNCATE_WAIT_MS: u64 = 100;

/// The default `wal_checkpoint_bytes`.
pub const DEFAULT_CHECKPOINT_BYTES: u64 = 16 * 1024 * 1024;

impl Store {
    /// The path of the write-ahead log.
    pub fn wal_path(&self) -> PathBuf {
        let mut p = self.path.as_os_str().to_owned();
        p.push("-wal");
        PathBuf::from(p)
    }

    /// The size of the write-ahead log in bytes (0 when there is none).
    pub fn wal_bytes(&self) -> u64 {
        std::fs::metadata(self.wal_path()).map_or(0, |m| m.len())
    }

    /// Copies the log back into the database (PASSIVE: waits for no one),
    /// then empties it (TRUNCATE), waiting at most [`TRUNCATE_WAIT_MS`] for
    /// readers. True when the log was emptied.
    pub async fn checkpoint_wal(&self) -> ApiResult<bool> {
        let mut conn = self.pool().acquire().await?;
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut *conn)
            .await?;
        // TRUNCATE_WAIT_MS, as a literal: queries are &'static str.
        sqlx::query("PRAGMA busy_timeout = 100")
            .execute(&mut *conn)
            .await?;
        let truncated: sqlx::Result<(i64, i64, i64)> =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut *conn)
                .await;
        // The connection goes back to the pool: restore its busy timeout
        // (Store::open's 5 s) even when the checkpoint failed.
        sqlx::query("PRAGMA busy_timeout = 5000")
            .execute(&mut *conn)
            .await?;
        let (busy, _, _) = truncated?;
        Ok(busy == 0)
    }
}

/// Looks at the log every [`CHECK_INTERVAL`] and checkpoints it when it is
/// larger than `threshold` bytes, for as long as the runtime lives.
pub fn spawn_wal_checkpointer(store: Store, threshold: u64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(CHECK_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if store.wal_bytes() <= threshold {
                continue;
            }
            match store.checkpoint_wal().await {
                Ok(true) => tracing::debug!("write-ahead log checkpointed and truncated"),
                Ok(false) => tracing::debug!("write-ahead log checkpoint waited out; retrying"),
                Err(e) => tracing::warn!(error = ?e, "checkpointing the write-ahead log failed"),
            }
        }
    })
}
