//! Failed sign-ins (`sts::login`'s lockout).

use super::error::StoreResult;
use super::Store;

/// Failed sign-ins, counted in the database so that every node sees the
/// same count (`sts::login`). Exempt like the audit queue's writes from the
/// audited-write guard (`UNAUDITED_WRITERS` in `audit.rs`), because they
/// are the same kind of record: attempts that failed, already written to
/// the trail through the queue. They are no IAM mutation, and an attacker's
/// every wrong password must not become an audited write that advances the
/// change counter and drops the caches of every node.
impl Store {
    /// Counts one failure of `name` at `now_ms`; a count whose last failure
    /// is at or before `window_start_ms` starts over. Returns the count.
    pub async fn record_login_failure(
        &self,
        name: &str,
        now_ms: i64,
        window_start_ms: i64,
    ) -> StoreResult<i64> {
        let _turn = self.write_turn().await;
        let (failures,): (i64,) = on_db!(self.db(), c => sqlx::query_as(
            "INSERT INTO login_failures (name, failures, last_failure_ms) VALUES ($1, 1, $2)
             ON CONFLICT (name) DO UPDATE SET
                 failures = CASE WHEN login_failures.last_failure_ms <= $3 THEN 1
                                 ELSE login_failures.failures + 1 END,
                 last_failure_ms = $2
             RETURNING failures",
        )
        .bind(name)
        .bind(now_ms)
        .bind(window_start_ms)
        .fetch_one(c)
        .await)?;
        Ok(failures)
    }

    /// Failures of `name` whose window is still open (last one after
    /// `window_start_ms`).
    pub async fn login_failures(&self, name: &str, window_start_ms: i64) -> StoreResult<i64> {
        let row: Option<(i64,)> = on_db!(self.db(), c => sqlx::query_as(
            "SELECT failures FROM login_failures WHERE name = $1 AND last_failure_ms > $2",
        )
        .bind(name)
        .bind(window_start_ms)
        .fetch_optional(c)
        .await)?;
        Ok(row.map_or(0, |(n,)| n))
    }

    /// Forgets the failures of `name` (a successful sign-in).
    pub async fn clear_login_failures(&self, name: &str) -> StoreResult<()> {
        let _turn = self.write_turn().await;
        on_db!(self.db(), c => sqlx::query("DELETE FROM login_failures WHERE name = $1")
            .bind(name)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Deletes the counts whose window ended (the purge task).
    pub async fn purge_login_failures(&self, window_start_ms: i64) -> StoreResult<u64> {
        let _turn = self.write_turn().await;
        Ok(on_db!(self.db(), c => sqlx::query(
            "DELETE FROM login_failures WHERE last_failure_ms <= $1"
        )
        .bind(window_start_ms)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }
}
