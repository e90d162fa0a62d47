//! Accounts.

use super::audit::AuditTx;
use super::error::StoreResult;
use super::Store;
use crate::domain::Account;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountCounts {
    pub users: i64,
    pub groups: i64,
    pub roles: i64,
    pub policies: i64,
    pub policy_versions: i64,
    pub root_keys: i64,
}

impl Store {
    pub async fn get_account(&self, id: &str) -> StoreResult<Option<Account>> {
        Ok(
            on_db!(self.db(), c => sqlx::query_as("SELECT id, name, is_management, created_at FROM accounts WHERE id = $1")
                .bind(id)
                .fetch_optional(c)
                .await)?,
        )
    }

    pub async fn management_account(&self) -> StoreResult<Option<Account>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, name, is_management, created_at FROM accounts WHERE is_management = TRUE",
        )
        .fetch_optional(c)
        .await)?)
    }

    pub async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, name, is_management, created_at FROM accounts ORDER BY created_at, id",
        )
        .fetch_all(c)
        .await)?)
    }

    /// How many IAM entities an account still holds; an account is deleted
    /// only when empty (no cascading, as everywhere in IAM).
    pub async fn account_entity_count(&self, id: &str) -> StoreResult<i64> {
        let (n,): (i64,) = on_db!(self.db(), c => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM users WHERE account_id = $1)
                  + (SELECT COUNT(*) FROM groups WHERE account_id = $1)
                  + (SELECT COUNT(*) FROM roles WHERE account_id = $1)
                  + (SELECT COUNT(*) FROM managed_policies WHERE account_id = $1)
                  + (SELECT COUNT(*) FROM instance_profiles WHERE account_id = $1)
                  + (SELECT COUNT(*) FROM workloads WHERE account_id = $1)",
        )
        .bind(id)
        .fetch_one(c)
        .await)?;
        Ok(n)
    }

    /// The counts of GetAccountSummary: users, groups, roles, customer
    /// managed policies, their stored versions, and the root's access keys.
    pub async fn account_counts(&self, id: &str) -> StoreResult<AccountCounts> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM users WHERE account_id = $1) AS users,
                    (SELECT COUNT(*) FROM groups WHERE account_id = $1) AS groups,
                    (SELECT COUNT(*) FROM roles WHERE account_id = $1) AS roles,
                    (SELECT COUNT(*) FROM managed_policies WHERE account_id = $1) AS policies,
                    (SELECT COUNT(*) FROM policy_versions v JOIN managed_policies p ON p.id = v.policy_id
                      WHERE p.account_id = $1) AS policy_versions,
                    (SELECT COUNT(*) FROM access_keys WHERE account_id = $1 AND user_id IS NULL) AS root_keys",
        )
        .bind(id)
        .fetch_one(c)
        .await)?)
    }
}

impl AuditTx {
    /// Claims the first start for `account_id`, in the transaction that
    /// creates it: false when another node claimed it first (its
    /// transaction committed, or holds the row until it does), and this
    /// one must create nothing.
    pub async fn claim_bootstrap(&mut self, account_id: &str) -> StoreResult<bool> {
        let claimed = on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO bootstrap (id, account_id) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(account_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(claimed == 1)
    }

    pub async fn insert_account(&mut self, account: &Account) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO accounts (id, name, is_management, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&account.id)
        .bind(&account.name)
        .bind(account.is_management)
        .bind(&account.created_at)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Deletes an empty account and its root keys in one transaction.
    pub async fn delete_account(&mut self, id: &str) -> StoreResult<()> {
        self.delete_account_settings(id).await?;
        self.delete_account_reports(id).await?;
        self.delete_account_mfa_devices(id).await?;
        on_db!(self.conn(), c => sqlx::query("DELETE FROM access_keys WHERE account_id = $1 AND user_id IS NULL")
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        on_db!(self.conn(), c => sqlx::query("DELETE FROM accounts WHERE id = $1")
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
