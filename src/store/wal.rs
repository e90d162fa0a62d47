//! Keeps SQLite's write-ahead log bounded (PostgreSQL manages its own: on
//! that backend there is no file to watch and nothing here runs). SQLite's own checkpoint (PASSIVE,
//! after a commit that takes the log past `wal_autocheckpoint` pages) copies
//! pages back but only rewinds the log when no reader still uses it; under
//! steady reads and writes that never happens, and the `-wal` file grew to
//! 108 MB for a 24 MB database in 50 seconds (issue 20). So a task watches
//! the file and, past the threshold, checkpoints with TRUNCATE, which
//! empties it.
//!
//! The bound: the log is checkpointed once it passes `wal_checkpoint_bytes`
//! (`LATCHKEY_WAL_CHECKPOINT_BYTES`, default 16 MiB), looked at after
//! every commit (and every [`CHECK_INTERVAL`] for writes made elsewhere);
//! it stays under four times that (64 MiB by default) plus the writes
//! already under way (one per pooled connection at most), which
//! `tests/api/security/scale.rs` checks under many concurrent writers.
//! Past four times, writes wait for the checkpointer (at most
//! [`WAL_ROOM_WAIT`]): only a disk slower than the write rate gets there.
//!
//! Below the bound writers are not stalled: the PASSIVE pass that does the
//! copying blocks no one; TRUNCATE then holds the write lock only while it
//! waits for the readers still on the log, at most [`TRUNCATE_WAIT_MS`] an
//! attempt, with writers let through between attempts.
//!
//! Several servers on one database file each run a checkpointer; that is
//! safe, as SQLite serializes checkpoints with its own locks (a second
//! one at the same moment answers busy and is retried at the next look),
//! and a writer waiting for room watches the file's size, which any
//! node's checkpoint shrinks. (On PostgreSQL there is no log to watch.)

use std::path::PathBuf;
use std::time::Duration;

use sqlx::{ConnectOptions as _, SqliteConnection};

use super::error::StoreResult;
use super::Store;

/// How often the task looks at the size of the `-wal` file (a `stat`).
pub const CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// How long a TRUNCATE checkpoint may wait for readers (and so hold up
/// writers) before giving up until the next look.
pub const TRUNCATE_WAIT_MS: u64 = 100;

/// The log's bound, in checkpoint thresholds: past it, writes wait (at
/// most [`WAL_ROOM_WAIT`]) for the checkpointer to empty it.
pub const WAL_BOUND_FACTOR: u64 = 4;

/// The longest a write waits for room in the log: a reader that holds a
/// snapshot longer than this keeps the log from being emptied, and writes
/// then go on rather than fail.
pub const WAL_ROOM_WAIT: Duration = Duration::from_secs(2);

/// How many times one look tries TRUNCATE before waiting for the next.
const TRUNCATE_ATTEMPTS: usize = 10;

/// The default `wal_checkpoint_bytes`.
pub const DEFAULT_CHECKPOINT_BYTES: u64 = 16 * 1024 * 1024;

impl Store {
    /// Wakes the checkpointer after a commit that did not count as an
    /// audited write (the audit queue's batches).
    pub(crate) fn wal_written(&self) {
        self.committed.notify_one();
    }

    /// Holds a write back while the log is past its bound (the disk's
    /// checkpoints are slower than the writes), until the checkpointer
    /// empties it or [`WAL_ROOM_WAIT`] passes: the bound holds whatever the
    /// write rate, and below it writes never wait. One `stat` per write.
    pub(crate) async fn wait_for_wal_room(&self) {
        if self.wal_bytes() <= self.wal_cap {
            return;
        }
        self.committed.notify_one();
        let deadline = tokio::time::Instant::now() + WAL_ROOM_WAIT;
        while self.wal_bytes() > self.wal_cap && tokio::time::Instant::now() < deadline {
            let _ = tokio::time::timeout(Duration::from_millis(20), self.wal_truncated.notified())
                .await;
        }
    }

    /// The path of SQLite's write-ahead log; None on PostgreSQL.
    pub fn wal_path(&self) -> Option<PathBuf> {
        let mut p = self.path.as_ref()?.as_os_str().to_owned();
        p.push("-wal");
        Some(PathBuf::from(p))
    }

    /// The size of the write-ahead log in bytes (0 when there is none).
    pub fn wal_bytes(&self) -> u64 {
        self.wal_path()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len())
    }

    /// Copies the log back into the database (PASSIVE: waits for no one),
    /// then empties it (TRUNCATE), waiting at most [`TRUNCATE_WAIT_MS`] for
    /// readers. True when the log was emptied.
    /// A connection outside the pool, for the checkpointer: waiting for a
    /// pooled one behind busy requests let the log grow meanwhile.
    pub async fn own_connection(&self) -> StoreResult<SqliteConnection> {
        let options = self.options.clone().ok_or_else(|| {
            sqlx::Error::Configuration("no SQLite file: the store is on PostgreSQL".into())
        })?;
        // Its busy timeout bounds how long TRUNCATE holds up writers.
        Ok(options
            .busy_timeout(Duration::from_millis(TRUNCATE_WAIT_MS))
            .connect()
            .await?)
    }

    pub async fn checkpoint_wal(&self, conn: &mut SqliteConnection) -> StoreResult<bool> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut *conn)
            .await?;
        let mut emptied = Ok(false);
        // SQLite answers "busy" at once, without waiting, while another
        // connection's automatic checkpoint runs: try again a few times.
        for _ in 0..TRUNCATE_ATTEMPTS {
            // TRUNCATE takes SQLite's write lock, which back-to-back
            // batches hold nearly all the time: it queues for the turn
            // rather than hope to find the lock free in the busy handler.
            let turn = self.write_turn().await;
            emptied = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut *conn)
                .await
                .map(|(busy, _, _)| busy == 0);
            drop(turn);
            if !matches!(emptied, Ok(false)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(emptied?)
    }
}

/// Looks at the log after commits (at most once per checkpoint: the
/// wake-ups of commits during one coalesce) and every [`CHECK_INTERVAL`],
/// and checkpoints it when it is larger than `threshold` bytes, for as long
/// as the runtime lives.
pub fn spawn_wal_checkpointer(store: Store, threshold: u64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if store.wal_path().is_none() {
            return;
        }
        let mut ticker = tokio::time::interval(CHECK_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut own: Option<SqliteConnection> = None;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                () = store.committed.notified() => {}
            }
            if store.wal_bytes() <= threshold {
                continue;
            }
            let conn = match &mut own {
                Some(conn) => conn,
                None => match store.own_connection().await {
                    Ok(c) => own.insert(c),
                    Err(e) => {
                        tracing::warn!(error = ?e, "opening the checkpointer's connection failed");
                        continue;
                    }
                },
            };
            match store.checkpoint_wal(conn).await {
                Ok(true) => {
                    store.wal_truncated.notify_waiters();
                    tracing::debug!("write-ahead log checkpointed and truncated");
                }
                Ok(false) => tracing::debug!("write-ahead log checkpoint waited out; retrying"),
                Err(e) => {
                    tracing::warn!(error = ?e, "checkpointing the write-ahead log failed");
                    own = None;
                }
            }
        }
    })
}
