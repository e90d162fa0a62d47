//! Login profiles: one argon2id password hash per user.

use super::audit::AuditTx;
use super::Store;
use crate::domain::LoginProfile;
use crate::error::ApiResult;

impl Store {
    pub async fn get_login_profile(&self, user_id: &str) -> ApiResult<Option<LoginProfile>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT user_id, password_hash, password_reset_required, created_at FROM login_profiles WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(c)
        .await)?)
    }
}

impl AuditTx {
    /// Creates or replaces the user's login profile; true when it was new.
    pub async fn upsert_login_profile(&mut self, profile: &LoginProfile) -> ApiResult<bool> {
        self.lock(&profile.user_id).await?;
        let (existed,): (i64,) = on_db!(self.conn(), c => sqlx::query_as("SELECT COUNT(*) FROM login_profiles WHERE user_id = $1")
                .bind(&profile.user_id)
                .fetch_one(c)
                .await)?;
        on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO login_profiles (user_id, password_hash, password_reset_required, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash,
                 password_reset_required = excluded.password_reset_required",
        )
        .bind(&profile.user_id)
        .bind(&profile.password_hash)
        .bind(profile.password_reset_required)
        .bind(&profile.created_at)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(existed == 0)
    }

    pub async fn delete_login_profile(&mut self, user_id: &str) -> ApiResult<bool> {
        let result = on_db!(self.conn(), c => sqlx::query("DELETE FROM login_profiles WHERE user_id = $1")
            .bind(user_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }
}
