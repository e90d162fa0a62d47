//! Whether the database takes writes. A full or failing disk makes the
//! database refuse writes while reads go on; the server must say so (503 to the
//! writer, not ready on /readyz) and recover by itself when space returns,
//! without a restart.

use super::error::{StoreResult, WriteHealth};
use super::Store;

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
    async fn probe_write(&self) -> StoreResult<()> {
        let _turn = self.write_turn().await;
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
