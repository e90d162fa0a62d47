//! Service principals, workloads, and the sessions workloads fetched.

use super::audit::AuditTx;
use super::error::{StoreError, StoreResult};
use super::{is_unique_violation, Store};
use crate::domain::{ServicePrincipal, Workload};

/// The columns of `Workload`, as a macro so that queries stay `&'static str`.
macro_rules! workload_columns {
    () => {
        "id, account_id, name, instance_profile_id, service, token_sha256, token_ttl_seconds,
         token_expires_at, source_cidrs, created_by, created_at, token_issued_at"
    };
}

/// Marks the live sessions a workload fetched as revoked at `?1`, the
/// workload being `?2`.
const REVOKE_WORKLOAD_SESSIONS: &str = "UPDATE role_sessions SET revoked_at = $1
     WHERE revoked_at IS NULL
       AND access_key_id IN (SELECT access_key_id FROM workload_sessions WHERE workload_id = $2)";

impl Store {
    pub async fn get_service_principal(&self, name: &str) -> StoreResult<Option<ServicePrincipal>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT name, description, created_at FROM service_principals WHERE name = $1",
        )
        .bind(name.to_ascii_lowercase())
        .fetch_optional(c)
        .await)?)
    }

    /// Ordered by name, after `after`, at most `limit`.
    pub async fn list_service_principals(
        &self,
        after: &str,
        limit: i64,
    ) -> StoreResult<Vec<ServicePrincipal>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT name, description, created_at FROM service_principals
             WHERE name > $1 ORDER BY name LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(c)
        .await)?)
    }

    pub async fn count_service_workloads(&self, name: &str) -> StoreResult<i64> {
        let (n,): (i64,) = on_db!(self.db(), c => sqlx::query_as("SELECT COUNT(*) FROM workloads WHERE service = $1")
            .bind(name)
            .fetch_one(c)
            .await)?;
        Ok(n)
    }

    pub async fn get_workload(&self, id: &str) -> StoreResult<Option<Workload>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(concat!(
            "SELECT ",
            workload_columns!(),
            " FROM workloads WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(c)
        .await)?)
    }

    /// An account's workloads ordered by id, after `after`, at most `limit`.
    pub async fn list_workloads(
        &self,
        account_id: &str,
        after: &str,
        limit: i64,
    ) -> StoreResult<Vec<Workload>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(concat!(
            "SELECT ",
            workload_columns!(),
            " FROM workloads WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(account_id)
        .bind(after)
        .bind(limit)
        .fetch_all(c)
        .await)?)
    }

    /// Moves a token's expiry; the tests use it to expire a token without
    /// waiting.
    pub async fn set_workload_token_expires_at(&self, id: &str, at: &str) -> StoreResult<bool> {
        let _turn = self.write_turn().await;
        let result = on_db!(self.db(), c => sqlx::query("UPDATE workloads SET token_expires_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }

    /// Forgets the links of sessions that expired before `before` (the
    /// purge task deletes the sessions themselves).
    pub async fn purge_workload_session_links(&self, before: &str) -> StoreResult<u64> {
        let _turn = self.write_turn().await;
        let result = on_db!(self.db(), c => sqlx::query("DELETE FROM workload_sessions WHERE expires_at < $1")
            .bind(before)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(result)
    }
}

impl AuditTx {
    pub async fn insert_service_principal(&mut self, s: &ServicePrincipal) -> StoreResult<()> {
        let inserted = on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO service_principals (name, description, created_at) VALUES ($1, $2, $3)",
        )
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.created_at)
        .execute(c)
        .await.map(|r| r.rows_affected()));
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(format!(
                "Service principal {} already exists.",
                s.name
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete_service_principal(&mut self, name: &str) -> StoreResult<bool> {
        let result = on_db!(self.conn(), c => sqlx::query("DELETE FROM service_principals WHERE name = $1")
            .bind(name)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }

    pub async fn insert_workload(&mut self, w: &Workload) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO workloads (id, account_id, name, instance_profile_id, service, token_sha256,
                 token_ttl_seconds, token_expires_at, source_cidrs, created_by, created_at,
                 token_issued_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&w.id)
        .bind(&w.account_id)
        .bind(&w.name)
        .bind(&w.instance_profile_id)
        .bind(&w.service)
        .bind(&w.token_sha256)
        .bind(w.token_ttl_seconds)
        .bind(&w.token_expires_at)
        .bind(&w.source_cidrs)
        .bind(&w.created_by)
        .bind(&w.created_at)
        .bind(&w.token_issued_at)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Replaces the token digest (the old token stops working) and revokes
    /// the sessions fetched with the old one, in one transaction.
    pub async fn rotate_workload_token(
        &mut self,
        id: &str,
        token_sha256: &str,
        ttl_seconds: Option<i64>,
        expires_at: Option<&str>,
        now: &str,
    ) -> StoreResult<bool> {
        self.lock(id).await?;
        let result = on_db!(self.conn(), c => sqlx::query(
            "UPDATE workloads SET token_sha256 = $1, token_ttl_seconds = $2, token_expires_at = $3,
                 token_issued_at = $4
             WHERE id = $5",
        )
        .bind(token_sha256)
        .bind(ttl_seconds)
        .bind(expires_at)
        .bind(now)
        .bind(id)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        if result != 1 {
            return Ok(false);
        }
        on_db!(self.conn(), c => sqlx::query(REVOKE_WORKLOAD_SESSIONS)
            .bind(now)
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(true)
    }

    /// Deletes a workload (its token with it) and revokes its live
    /// sessions, in one transaction. False when it is gone already.
    pub async fn delete_workload(&mut self, id: &str, now: &str) -> StoreResult<bool> {
        self.lock(id).await?;
        on_db!(self.conn(), c => sqlx::query(REVOKE_WORKLOAD_SESSIONS)
            .bind(now)
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        on_db!(self.conn(), c => sqlx::query("DELETE FROM workload_sessions WHERE workload_id = $1")
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        let result = on_db!(self.conn(), c => sqlx::query("DELETE FROM workloads WHERE id = $1")
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }

    /// Links a session to the workload that fetched it, forgets links of
    /// sessions expired before `now`, and revokes the workload's oldest
    /// live sessions beyond `keep`, in one transaction: how many it
    /// revoked. None when the workload was deleted meanwhile (the caller
    /// then revokes the session).
    pub async fn link_workload_session(
        &mut self,
        workload_id: &str,
        access_key_id: &str,
        issued_at: &str,
        expires_at: &str,
        now: &str,
        keep: i64,
    ) -> StoreResult<Option<u64>> {
        // A delete or rotation of the workload waits for this link (and
        // revokes its session) rather than missing it.
        self.lock(workload_id).await?;
        let (exists,): (i64,) = on_db!(self.conn_keeping_caches(), c => sqlx::query_as("SELECT COUNT(*) FROM workloads WHERE id = $1")
            .bind(workload_id)
            .fetch_one(c)
            .await)?;
        if exists == 0 {
            return Ok(None);
        }
        on_db!(self.conn_keeping_caches(), c => sqlx::query(
            "INSERT INTO workload_sessions (access_key_id, workload_id, issued_at, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(access_key_id)
        .bind(workload_id)
        .bind(issued_at)
        .bind(expires_at)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        on_db!(self.conn_keeping_caches(), c => sqlx::query("DELETE FROM workload_sessions WHERE workload_id = $1 AND expires_at < $2")
            .bind(workload_id)
            .bind(now)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        let revoked = on_db!(self.conn_keeping_caches(), c => sqlx::query(
            "UPDATE role_sessions SET revoked_at = $1
             WHERE revoked_at IS NULL
               AND access_key_id IN (SELECT access_key_id FROM workload_sessions WHERE workload_id = $2)
               AND access_key_id NOT IN (
                   SELECT access_key_id FROM workload_sessions WHERE workload_id = $2
                   ORDER BY issued_at DESC, access_key_id DESC LIMIT $3)",
        )
        .bind(now)
        .bind(workload_id)
        .bind(keep)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        if revoked > 0 {
            // Nodes may hold the revoked sessions resolved.
            self.touch();
        }
        Ok(Some(revoked))
    }
}
