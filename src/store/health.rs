//! Whether the database takes writes. A full or failing disk makes the
//! database refuse writes while reads go on; the server must say so (503 to the
//! writer, not ready on /readyz) and recover by itself when space returns,
//! without a restart.

use std::sync::atomic::{AtomicBool, Ordering};

use super::Store;
use crate::error::{ApiError, ApiResult};

/// SQLite's primary result codes for a disk that cannot take the write:
/// SQLITE_IOERR (10), SQLITE_FULL (13), SQLITE_CANTOPEN (14).
const STORAGE_FAILURES: [i64; 3] = [10, 13, 14];

/// PostgreSQL's SQLSTATE classes for the same: 53 (insufficient
/// resources: disk full, out of memory, too many connections) and 58
/// (system error: I/O error, undefined file).
const PG_STORAGE_CLASSES: [&str; 2] = ["53", "58"];

/// True for an error that says the storage, not the statement, failed.
pub fn is_storage_failure(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db)
            if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some() =>
        {
            db.code()
                .is_some_and(|code| PG_STORAGE_CLASSES.iter().any(|c| code.starts_with(c)))
        }
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            // Extended codes carry the primary code in their low byte.
            .is_some_and(|code| STORAGE_FAILURES.contains(&(code & 0xff))),
        sqlx::Error::Io(_) => true,
        _ => false,
    }
}

/// Set by a write that failed for the storage's sake, cleared by the next
/// write that commits.
#[derive(Debug, Default)]
pub struct WriteHealth {
    failing: AtomicBool,
}

impl WriteHealth {
    pub fn observe<T>(&self, result: &ApiResult<T>) {
        match result {
            Ok(_) => self.failing.store(false, Ordering::Relaxed),
            Err(ApiError::StorageUnavailable) => self.failing.store(true, Ordering::Relaxed),
            Err(_) => {}
        }
    }

    pub fn failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }
}

/// What /readyz reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// The database does not answer reads.
    Unavailable,
    /// Reads work, writes fail (a full or failing disk).
    WritesFailing,
}

impl Store {
    pub fn write_health(&self) -> &WriteHealth {
        &self.write_health
    }

    /// Ready when the database answers and, after a failed write, when a
    /// small real write commits again: readiness must not wait for a
    /// client's write to find out that space came back.
    pub async fn readiness(&self) -> Readiness {
        if !self.ping().await {
            return Readiness::Unavailable;
        }
        if !self.write_health.failing() {
            return Readiness::Ready;
        }
        let probe = self.probe_write().await;
        self.write_health.observe(&probe);
        match probe {
            Ok(()) => Readiness::Ready,
            Err(_) => Readiness::WritesFailing,
        }
    }

    /// Rewrites the one row of `write_probe`: a commit that must reach the
    /// write-ahead log, as every IAM write does. Not an IAM mutation, so
    /// not audited.
    async fn probe_write(&self) -> ApiResult<()> {
        let mut tx = self.begin_write().await?;
        let now = crate::domain::format_time_ms(time::OffsetDateTime::now_utc());
        on_db!(tx.conn(), c => sqlx::query("UPDATE write_probe SET probed_at = $1 WHERE id = 1")
            .bind(now)
            .execute(c)
            .await
            .map(|_| ()))?;
        tx.commit().await?;
        Ok(())
    }
}
