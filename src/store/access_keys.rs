//! Long-term access keys of users and account roots.

use super::audit::AuditTx;
use super::error::StoreResult;
use super::Store;
use crate::domain::AccessKey;

impl Store {
    pub async fn get_access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKey>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT access_key_id, account_id, user_id, secret_ciphertext, status, created_at,
                    last_used_at, last_used_service, last_used_region
             FROM access_keys WHERE access_key_id = $1",
        )
        .bind(access_key_id)
        .fetch_optional(c)
        .await)?)
    }

    pub async fn list_user_access_keys(&self, user_id: &str) -> StoreResult<Vec<AccessKey>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT access_key_id, account_id, user_id, secret_ciphertext, status, created_at,
                    last_used_at, last_used_service, last_used_region
             FROM access_keys WHERE user_id = $1 ORDER BY created_at, access_key_id",
        )
        .bind(user_id)
        .fetch_all(c)
        .await)?)
    }

    pub async fn record_access_key_use(
        &self,
        access_key_id: &str,
        at: &str,
        service: &str,
        region: &str,
    ) -> StoreResult<()> {
        let _turn = self.write_turn().await;
        on_db!(self.db(), c => sqlx::query(
            "UPDATE access_keys SET last_used_at = $1, last_used_service = $2, last_used_region = $3 WHERE access_key_id = $4",
        )
        .bind(at)
        .bind(service)
        .bind(region)
        .bind(access_key_id)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl AuditTx {
    pub async fn insert_access_key(&mut self, key: &AccessKey) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO access_keys (access_key_id, account_id, user_id, secret_ciphertext, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.access_key_id)
        .bind(&key.account_id)
        .bind(&key.user_id)
        .bind(&key.secret_ciphertext)
        .bind(&key.status)
        .bind(&key.created_at)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Inserts a user's key unless the user already has `max` keys; the
    /// count and the insert share one transaction. Returns false at the limit.
    pub async fn insert_user_access_key_within(
        &mut self,
        key: &AccessKey,
        max: i64,
    ) -> StoreResult<bool> {
        self.lock(key.user_id.as_deref().unwrap_or(&key.account_id))
            .await?;
        let (n,): (i64,) = on_db!(self.conn(), c => sqlx::query_as("SELECT COUNT(*) FROM access_keys WHERE user_id = $1")
            .bind(&key.user_id)
            .fetch_one(c)
            .await)?;
        if n >= max {
            return Ok(false);
        }
        on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO access_keys (access_key_id, account_id, user_id, secret_ciphertext, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.access_key_id)
        .bind(&key.account_id)
        .bind(&key.user_id)
        .bind(&key.secret_ciphertext)
        .bind(&key.status)
        .bind(&key.created_at)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(true)
    }

    pub async fn set_access_key_status(
        &mut self,
        access_key_id: &str,
        status: &str,
    ) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query("UPDATE access_keys SET status = $1 WHERE access_key_id = $2")
            .bind(status)
            .bind(access_key_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_access_key(&mut self, access_key_id: &str) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query("DELETE FROM access_keys WHERE access_key_id = $1")
            .bind(access_key_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
