//! Generated reports (migration 0014): the credential report of each
//! account and the last-accessed jobs, kept in the database so that a
//! report generated through one node is read through any other.
//!
//! Their writes are bookkeeping, as the sign-in failures and the last-used
//! stamps are (`UNAUDITED_WRITERS` in `audit.rs`): generating a report
//! reads IAM state and keeps what it read, it changes none (AWS counts both
//! Generate calls as reads), and no cache holds a report, so they neither
//! go through the audited pipeline nor advance the change counter. They
//! take SQLite's write turn like the other writes outside the pipeline.
//! Deleting an account, an audited IAM change, removes its reports with it.

use super::audit::AuditTx;
use super::error::StoreResult;
use super::Store;

/// The credential report row of an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CredentialReportRow {
    /// `STARTED` or `COMPLETE`.
    pub state: String,
    pub claim: String,
    pub started_ms: i64,
    pub generated_ms: Option<i64>,
    pub generated_time: Option<String>,
    /// The rows as JSON, once COMPLETE.
    pub content: Option<String>,
}

/// A last-accessed job as stored; `result` is the operation's JSON.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LastAccessedJobRow {
    pub job_id: String,
    pub account_id: String,
    pub arn: String,
    pub granularity: String,
    pub status: String,
    pub created_at: String,
    pub completed_at: Option<String>,
    pub created_ms: i64,
    pub result: String,
}

impl Store {
    pub async fn credential_report(
        &self,
        account_id: &str,
    ) -> StoreResult<Option<CredentialReportRow>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT state, claim, started_ms, generated_ms, generated_time, content
             FROM credential_reports WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(c)
        .await)?)
    }

    /// Claims the generation of `account_id`'s report for `claim`: true
    /// when no row existed, or its generation started at or before
    /// `stale_before_ms` (the node that claimed it is taken for dead), or
    /// its report was generated at or before `expired_before_ms`. One
    /// statement, so that of nodes claiming at once exactly one wins.
    pub async fn claim_credential_report(
        &self,
        account_id: &str,
        claim: &str,
        now_ms: i64,
        stale_before_ms: i64,
        expired_before_ms: i64,
    ) -> StoreResult<bool> {
        let _turn = self.write_turn().await;
        let row: Option<(String,)> = on_db!(self.db(), c => sqlx::query_as(
            "INSERT INTO credential_reports (account_id, state, claim, started_ms)
             VALUES ($1, 'STARTED', $2, $3)
             ON CONFLICT (account_id) DO UPDATE SET
                 state = 'STARTED', claim = excluded.claim, started_ms = excluded.started_ms,
                 generated_ms = NULL, generated_time = NULL, content = NULL
             WHERE (credential_reports.state = 'STARTED' AND credential_reports.started_ms <= $4)
                OR (credential_reports.state = 'COMPLETE' AND credential_reports.generated_ms <= $5)
             RETURNING claim",
        )
        .bind(account_id)
        .bind(claim)
        .bind(now_ms)
        .bind(stale_before_ms)
        .bind(expired_before_ms)
        .fetch_optional(c)
        .await)?;
        Ok(row.is_some_and(|(c,)| c == claim))
    }

    /// Completes the generation `claim` with its rows; false when another
    /// generation took the claim over meanwhile (its result is dropped).
    pub async fn complete_credential_report(
        &self,
        account_id: &str,
        claim: &str,
        generated_ms: i64,
        generated_time: &str,
        content: &str,
    ) -> StoreResult<bool> {
        let _turn = self.write_turn().await;
        let n = on_db!(self.db(), c => sqlx::query(
            "UPDATE credential_reports
             SET state = 'COMPLETE', generated_ms = $3, generated_time = $4, content = $5
             WHERE account_id = $1 AND claim = $2 AND state = 'STARTED'",
        )
        .bind(account_id)
        .bind(claim)
        .bind(generated_ms)
        .bind(generated_time)
        .bind(content)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Forgets the failed generation `claim`: the next Generate starts over.
    pub async fn abandon_credential_report(
        &self,
        account_id: &str,
        claim: &str,
    ) -> StoreResult<()> {
        let _turn = self.write_turn().await;
        on_db!(self.db(), c => sqlx::query(
            "DELETE FROM credential_reports WHERE account_id = $1 AND claim = $2 AND state = 'STARTED'",
        )
        .bind(account_id)
        .bind(claim)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Keeps a finished job, then drops the account's jobs beyond its
    /// `keep` newest (the second statement may see a concurrent insert;
    /// the bound holds give or take those).
    pub async fn insert_last_accessed_job(
        &self,
        job: &LastAccessedJobRow,
        keep: i64,
    ) -> StoreResult<()> {
        let _turn = self.write_turn().await;
        on_db!(self.db(), c => sqlx::query(
            "INSERT INTO last_accessed_jobs
                 (job_id, account_id, arn, granularity, status, created_at, completed_at,
                  created_ms, result)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&job.job_id)
        .bind(&job.account_id)
        .bind(&job.arn)
        .bind(&job.granularity)
        .bind(&job.status)
        .bind(&job.created_at)
        .bind(&job.completed_at)
        .bind(job.created_ms)
        .bind(&job.result)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        on_db!(self.db(), c => sqlx::query(TRIM_JOBS_SQL)
            .bind(&job.account_id)
            .bind(keep - 1)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A job of `account_id` created after `live_after_ms`.
    pub async fn last_accessed_job(
        &self,
        job_id: &str,
        account_id: &str,
        live_after_ms: i64,
    ) -> StoreResult<Option<LastAccessedJobRow>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT job_id, account_id, arn, granularity, status, created_at, completed_at,
                    created_ms, result
             FROM last_accessed_jobs
             WHERE job_id = $1 AND account_id = $2 AND created_ms > $3",
        )
        .bind(job_id)
        .bind(account_id)
        .bind(live_after_ms)
        .fetch_optional(c)
        .await)?)
    }

    /// Deletes the jobs created at or before `before_ms` (the purge task;
    /// nodes purging at once delete each row once).
    pub async fn purge_last_accessed_jobs(&self, before_ms: i64) -> StoreResult<u64> {
        let _turn = self.write_turn().await;
        Ok(on_db!(self.db(), c => sqlx::query(PURGE_JOBS_SQL)
            .bind(before_ms)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?)
    }
}

impl AuditTx {
    /// What a deleted account leaves of its reports.
    pub async fn delete_account_reports(&mut self, account_id: &str) -> StoreResult<()> {
        for sql in [
            "DELETE FROM credential_reports WHERE account_id = $1",
            "DELETE FROM last_accessed_jobs WHERE account_id = $1",
        ] {
            on_db!(self.conn(), c => sqlx::query(sql)
                .bind(account_id)
                .execute(c)
                .await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }
}

/// The account's jobs older than its `$2 + 1`-th newest.
pub(crate) const TRIM_JOBS_SQL: &str = "DELETE FROM last_accessed_jobs
     WHERE account_id = $1 AND created_ms < (
         SELECT created_ms FROM last_accessed_jobs WHERE account_id = $1
         ORDER BY created_ms DESC LIMIT 1 OFFSET $2)";

pub(crate) const PURGE_JOBS_SQL: &str = "DELETE FROM last_accessed_jobs WHERE created_ms <= $1";

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, account: &str, created_ms: i64) -> LastAccessedJobRow {
        LastAccessedJobRow {
            job_id: id.into(),
            account_id: account.into(),
            arn: "arn:aws:iam::123456789012:user/a".into(),
            granularity: "SERVICE_LEVEL".into(),
            status: "COMPLETED".into(),
            created_at: "2026-12-02T00:00:00Z".into(),
            completed_at: None,
            created_ms,
            result: "{}".into(),
        }
    }

    #[tokio::test]
    async fn one_generation_at_a_time_taken_over_when_stale_or_expired() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let a = "123456789012";
        assert!(store
            .claim_credential_report(a, "one", 100, 0, 0)
            .await
            .unwrap());
        // Running since 100: not stale before 100, so a second claim loses.
        assert!(!store
            .claim_credential_report(a, "two", 150, 99, 0)
            .await
            .unwrap());
        // Stale: taken over; the first generation's result is dropped.
        assert!(store
            .claim_credential_report(a, "two", 200, 100, 0)
            .await
            .unwrap());
        assert!(!store
            .complete_credential_report(a, "one", 210, "t1", "[]")
            .await
            .unwrap());
        assert!(store
            .complete_credential_report(a, "two", 220, "t2", "[[\"x\"]]")
            .await
            .unwrap());
        let row = store.credential_report(a).await.unwrap().unwrap();
        assert_eq!(
            (row.state.as_str(), row.generated_time.as_deref()),
            ("COMPLETE", Some("t2"))
        );
        // A fresh report is kept; an expired one is replaced.
        assert!(!store
            .claim_credential_report(a, "three", 300, 300, 219)
            .await
            .unwrap());
        assert!(store
            .claim_credential_report(a, "three", 300, 300, 220)
            .await
            .unwrap());
        store.abandon_credential_report(a, "three").await.unwrap();
        assert!(store.credential_report(a).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn jobs_are_bounded_per_account_and_purged_by_age() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        for i in 0..5 {
            store
                .insert_last_accessed_job(&job(&format!("j{i}"), "a", i), 3)
                .await
                .unwrap();
        }
        store
            .insert_last_accessed_job(&job("other", "b", 0), 3)
            .await
            .unwrap();
        let live = |id: &'static str, account: &'static str| {
            let store = store.clone();
            async move {
                store
                    .last_accessed_job(id, account, -1)
                    .await
                    .unwrap()
                    .is_some()
            }
        };
        assert!(!live("j1", "a").await, "beyond the 3 newest");
        assert!(live("j2", "a").await && live("j4", "a").await);
        assert!(!live("j4", "b").await, "another account's job");
        assert!(live("other", "b").await, "bounded per account");
        // Expired: not read, then purged.
        assert!(store
            .last_accessed_job("j2", "a", 2)
            .await
            .unwrap()
            .is_none());
        assert_eq!(store.purge_last_accessed_jobs(3).await.unwrap(), 3);
        assert!(live("j4", "a").await && !live("j3", "a").await);
    }
}
