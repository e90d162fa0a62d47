//! Account settings: the password policy, each user's password history
//! (hashes only) and the account alias.

use super::audit::AuditTx;
use super::error::{StoreError, StoreResult};
use super::{is_unique_violation, Store};
use crate::domain::account_settings::{password_expiry, PasswordPolicy};

/// The passwords kept per user: IAM's largest reuse prevention.
pub const MAX_PASSWORD_HISTORY: i64 = 24;

impl Store {
    pub async fn get_password_policy(
        &self,
        account_id: &str,
    ) -> StoreResult<Option<PasswordPolicy>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT minimum_password_length, require_symbols, require_numbers,
                    require_uppercase_characters, require_lowercase_characters,
                    allow_users_to_change_password, max_password_age,
                    password_reuse_prevention, hard_expiry
             FROM password_policies WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(c)
        .await)?)
    }

    /// The user's newest `limit` password hashes, newest first.
    pub async fn recent_password_hashes(
        &self,
        user_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = on_db!(self.db(), c => sqlx::query_as(
            "SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(c)
        .await)?;
        Ok(rows.into_iter().map(|(h,)| h).collect())
    }

    /// When the user's password was last set, if latchkey recorded it.
    pub async fn password_set_at(&self, user_id: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = on_db!(self.db(), c => sqlx::query_as(
            "SELECT set_at FROM password_history WHERE user_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(user_id)
        .fetch_optional(c)
        .await)?;
        Ok(row.map(|(t,)| t))
    }

    /// Whether the user's password is past the account policy's maximum
    /// age, and whether hard expiry then forbids the user to change it
    /// (`account_settings::password_expiry`). A password set before
    /// latchkey kept history counts from `profile_created_at`.
    pub async fn password_expiry(
        &self,
        account_id: &str,
        user_id: &str,
        profile_created_at: &str,
    ) -> StoreResult<(bool, bool)> {
        let policy = self.get_password_policy(account_id).await?;
        if policy.as_ref().is_none_or(|p| p.max_password_age.is_none()) {
            return Ok((false, false));
        }
        let set_at = self
            .password_set_at(user_id)
            .await?
            .unwrap_or_else(|| profile_created_at.to_string());
        Ok(password_expiry(
            policy.as_ref(),
            &set_at,
            time::OffsetDateTime::now_utc(),
        ))
    }

    pub async fn account_alias(&self, account_id: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = on_db!(self.db(), c => sqlx::query_as(
            "SELECT alias FROM account_aliases WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(c)
        .await)?;
        Ok(row.map(|(a,)| a))
    }

    /// The account an alias names.
    pub async fn account_of_alias(&self, alias: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = on_db!(self.db(), c => sqlx::query_as(
            "SELECT account_id FROM account_aliases WHERE alias = $1",
        )
        .bind(alias)
        .fetch_optional(c)
        .await)?;
        Ok(row.map(|(a,)| a))
    }
}

impl AuditTx {
    pub async fn put_password_policy(
        &mut self,
        account_id: &str,
        p: &PasswordPolicy,
        now: &str,
    ) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO password_policies (account_id, minimum_password_length, require_symbols,
                 require_numbers, require_uppercase_characters, require_lowercase_characters,
                 allow_users_to_change_password, max_password_age, password_reuse_prevention,
                 hard_expiry, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (account_id) DO UPDATE SET
                 minimum_password_length = excluded.minimum_password_length,
                 require_symbols = excluded.require_symbols,
                 require_numbers = excluded.require_numbers,
                 require_uppercase_characters = excluded.require_uppercase_characters,
                 require_lowercase_characters = excluded.require_lowercase_characters,
                 allow_users_to_change_password = excluded.allow_users_to_change_password,
                 max_password_age = excluded.max_password_age,
                 password_reuse_prevention = excluded.password_reuse_prevention,
                 hard_expiry = excluded.hard_expiry,
                 updated_at = excluded.updated_at",
        )
        .bind(account_id)
        .bind(p.minimum_password_length)
        .bind(p.require_symbols)
        .bind(p.require_numbers)
        .bind(p.require_uppercase_characters)
        .bind(p.require_lowercase_characters)
        .bind(p.allow_users_to_change_password)
        .bind(p.max_password_age)
        .bind(p.password_reuse_prevention)
        .bind(p.hard_expiry)
        .bind(now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// False when the account had no policy.
    pub async fn delete_password_policy(&mut self, account_id: &str) -> StoreResult<bool> {
        let n = on_db!(self.conn(), c => sqlx::query("DELETE FROM password_policies WHERE account_id = $1")
            .bind(account_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Records a password the user just set (its hash) and forgets those
    /// older than the newest [`MAX_PASSWORD_HISTORY`].
    pub async fn record_password(
        &mut self,
        user_id: &str,
        password_hash: &str,
        now: &str,
    ) -> StoreResult<()> {
        self.lock(user_id).await?;
        let (last,): (Option<i64>,) = on_db!(self.conn(), c => sqlx::query_as(
            "SELECT MAX(seq) FROM password_history WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_one(c)
        .await)?;
        let seq = last.unwrap_or(0) + 1;
        on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO password_history (user_id, seq, password_hash, set_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user_id)
        .bind(seq)
        .bind(password_hash)
        .bind(now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        on_db!(self.conn(), c => sqlx::query("DELETE FROM password_history WHERE user_id = $1 AND seq <= $2")
            .bind(user_id)
            .bind(seq - MAX_PASSWORD_HISTORY)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_password_history(&mut self, user_id: &str) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query("DELETE FROM password_history WHERE user_id = $1")
            .bind(user_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// One alias per account: a second, or one another account has, is
    /// refused.
    pub async fn insert_account_alias(
        &mut self,
        account_id: &str,
        alias: &str,
        now: &str,
    ) -> StoreResult<()> {
        let inserted = on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO account_aliases (account_id, alias, created_at) VALUES ($1, $2, $3)",
        )
        .bind(account_id)
        .bind(alias)
        .bind(now)
        .execute(c)
        .await.map(|r| r.rows_affected()));
        match inserted {
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(format!(
                "The account alias {alias} already exists."
            ))),
            Err(e) => Err(e.into()),
            Ok(_) => Ok(()),
        }
    }

    /// False when the account has no such alias.
    pub async fn delete_account_alias(
        &mut self,
        account_id: &str,
        alias: &str,
    ) -> StoreResult<bool> {
        let n = on_db!(self.conn(), c => sqlx::query("DELETE FROM account_aliases WHERE account_id = $1 AND alias = $2")
            .bind(account_id)
            .bind(alias)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// What an account being deleted leaves: its policy and alias.
    pub async fn delete_account_settings(&mut self, account_id: &str) -> StoreResult<()> {
        for sql in [
            "DELETE FROM password_policies WHERE account_id = $1",
            "DELETE FROM account_aliases WHERE account_id = $1",
        ] {
            on_db!(self.conn(), c => sqlx::query(sql)
                .bind(account_id)
                .execute(c)
                .await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }
}
