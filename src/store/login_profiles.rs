//! Login profiles: one argon2id password hash per user.

use super::audit::AuditTx;
use super::Store;
use crate::domain::LoginProfile;
use crate::error::ApiResult;

impl Store {
    pub async fn get_login_profile(&self, user_id: &str) -> ApiResult<Option<LoginProfile>> {
        Ok(sqlx::query_as(
            "SELECT user_id, password_hash, password_reset_required, created_at FROM login_profiles WHERE user_id = ?",
        )
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?)
    }
}

impl AuditTx {
    /// Creates or replaces the user's login profile; true when it was new.
    pub async fn upsert_login_profile(&mut self, profile: &LoginProfile) -> ApiResult<bool> {
        let (existed,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM login_profiles WHERE user_id = ?")
                .bind(&profile.user_id)
                .fetch_one(self.conn())
                .await?;
        sqlx::query(
            "INSERT INTO login_profiles (user_id, password_hash, password_reset_required, created_at)
             VALUES (?, ?, ?, ?)
             ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash,
                 password_reset_required = excluded.password_reset_required",
        )
        .bind(&profile.user_id)
        .bind(&profile.password_hash)
        .bind(profile.password_reset_required)
        .bind(&profile.created_at)
        .execute(self.conn())
        .await?;
        Ok(existed == 0)
    }

    pub async fn delete_login_profile(&mut self, user_id: &str) -> ApiResult<bool> {
        let result = sqlx::query("DELETE FROM login_profiles WHERE user_id = ?")
            .bind(user_id)
            .execute(self.conn())
            .await?;
        Ok(result.rows_affected() == 1)
    }
}
