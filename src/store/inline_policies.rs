//! Inline policies of users, groups and roles. Not versioned; a PUT with an
//! existing name replaces the document.

use super::audit::AuditTx;
use super::Store;
use crate::domain::PolicyHolder;
use crate::error::ApiResult;

fn table(holder: PolicyHolder) -> (&'static str, &'static str, &'static str, &'static str) {
    // (upsert, get, list, delete)
    match holder {
        PolicyHolder::User => (
            "INSERT INTO user_inline_policies (user_id, name, document) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, name) DO UPDATE SET document = excluded.document",
            "SELECT name, document FROM user_inline_policies WHERE user_id = $1 AND name = $2",
            "SELECT name, document FROM user_inline_policies WHERE user_id = $1 ORDER BY name",
            "DELETE FROM user_inline_policies WHERE user_id = $1 AND name = $2",
        ),
        PolicyHolder::Group => (
            "INSERT INTO group_inline_policies (group_id, name, document) VALUES ($1, $2, $3)
             ON CONFLICT (group_id, name) DO UPDATE SET document = excluded.document",
            "SELECT name, document FROM group_inline_policies WHERE group_id = $1 AND name = $2",
            "SELECT name, document FROM group_inline_policies WHERE group_id = $1 ORDER BY name",
            "DELETE FROM group_inline_policies WHERE group_id = $1 AND name = $2",
        ),
        PolicyHolder::Role => (
            "INSERT INTO role_inline_policies (role_id, name, document) VALUES ($1, $2, $3)
             ON CONFLICT (role_id, name) DO UPDATE SET document = excluded.document",
            "SELECT name, document FROM role_inline_policies WHERE role_id = $1 AND name = $2",
            "SELECT name, document FROM role_inline_policies WHERE role_id = $1 ORDER BY name",
            "DELETE FROM role_inline_policies WHERE role_id = $1 AND name = $2",
        ),
    }
}

impl Store {
    pub async fn get_inline_policy(
        &self,
        holder: PolicyHolder,
        holder_id: &str,
        name: &str,
    ) -> ApiResult<Option<(String, String)>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(table(holder).1)
            .bind(holder_id)
            .bind(name)
            .fetch_optional(c)
            .await)?)
    }

    /// (name, document) pairs, by name.
    pub async fn list_inline_policies(
        &self,
        holder: PolicyHolder,
        holder_id: &str,
    ) -> ApiResult<Vec<(String, String)>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(table(holder).2)
            .bind(holder_id)
            .fetch_all(c)
            .await)?)
    }
}

impl AuditTx {
    pub async fn put_inline_policy(
        &mut self,
        holder: PolicyHolder,
        holder_id: &str,
        name: &str,
        document: &str,
    ) -> ApiResult<()> {
        on_db!(self.conn(), c => sqlx::query(table(holder).0)
            .bind(holder_id)
            .bind(name)
            .bind(document)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_inline_policy(
        &mut self,
        holder: PolicyHolder,
        holder_id: &str,
        name: &str,
    ) -> ApiResult<bool> {
        let result = on_db!(self.conn(), c => sqlx::query(table(holder).3)
            .bind(holder_id)
            .bind(name)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }
}
