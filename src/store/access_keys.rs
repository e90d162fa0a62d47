//! Long-term access keys of users and account roots.

use super::audit::AuditTx;
use super::Store;
use crate::domain::AccessKey;
use crate::error::ApiResult;

impl Store {
    pub async fn get_access_key(&self, access_key_id: &str) -> ApiResult<Option<AccessKey>> {
        Ok(sqlx::query_as(
            "SELECT access_key_id, account_id, user_id, secret_ciphertext, status, created_at,
                    last_used_at, last_used_service, last_used_region
             FROM access_keys WHERE access_key_id = ?",
        )
        .bind(access_key_id)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn list_user_access_keys(&self, user_id: &str) -> ApiResult<Vec<AccessKey>> {
        Ok(sqlx::query_as(
            "SELECT access_key_id, account_id, user_id, secret_ciphertext, status, created_at,
                    last_used_at, last_used_service, last_used_region
             FROM access_keys WHERE user_id = ? ORDER BY created_at, access_key_id",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn record_access_key_use(
        &self,
        access_key_id: &str,
        at: &str,
        service: &str,
        region: &str,
    ) -> ApiResult<()> {
        sqlx::query(
            "UPDATE access_keys SET last_used_at = ?, last_used_service = ?, last_used_region = ? WHERE access_key_id = ?",
        )
        .bind(at)
        .bind(service)
        .bind(region)
        .bind(access_key_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

impl AuditTx {
    pub async fn insert_access_key(&mut self, key: &AccessKey) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO access_keys (access_key_id, account_id, user_id, secret_ciphertext, status, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&key.access_key_id)
        .bind(&key.account_id)
        .bind(&key.user_id)
        .bind(&key.secret_ciphertext)
        .bind(&key.status)
        .bind(&key.created_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Inserts a user's key unless the user already has `max` keys; the
    /// count and the insert share one transaction. Returns false at the limit.
    pub async fn insert_user_access_key_within(
        &mut self,
        key: &AccessKey,
        max: i64,
    ) -> ApiResult<bool> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM access_keys WHERE user_id = ?")
            .bind(&key.user_id)
            .fetch_one(self.conn())
            .await?;
        if n >= max {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO access_keys (access_key_id, account_id, user_id, secret_ciphertext, status, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&key.access_key_id)
        .bind(&key.account_id)
        .bind(&key.user_id)
        .bind(&key.secret_ciphertext)
        .bind(&key.status)
        .bind(&key.created_at)
        .execute(self.conn())
        .await?;
        Ok(true)
    }

    pub async fn set_access_key_status(
        &mut self,
        access_key_id: &str,
        status: &str,
    ) -> ApiResult<()> {
        sqlx::query("UPDATE access_keys SET status = ? WHERE access_key_id = ?")
            .bind(status)
            .bind(access_key_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn delete_access_key(&mut self, access_key_id: &str) -> ApiResult<()> {
        sqlx::query("DELETE FROM access_keys WHERE access_key_id = ?")
            .bind(access_key_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
