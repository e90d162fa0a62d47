//! Roles.

use super::audit::AuditTx;
use super::error::{StoreError, StoreResult};
use super::{is_unique_violation, paginate, ListParams, Page, Store};
use crate::domain::{Role, Tag};

#[derive(Debug, Default)]
pub struct RoleDependents {
    pub inline_policies: i64,
    pub attached_policies: i64,
    pub instance_profiles: i64,
}

impl Store {
    pub async fn get_role(&self, account_id: &str, name: &str) -> StoreResult<Option<Role>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, account_id, name, path, trust_policy, description, max_session_duration,
                    permissions_boundary, created_at, last_used_at, last_used_region
             FROM roles WHERE account_id = $1 AND name_lower = $2",
        )
        .bind(account_id)
        .bind(name.to_ascii_lowercase())
        .fetch_optional(c)
        .await)?)
    }

    pub async fn get_role_by_id(&self, id: &str) -> StoreResult<Option<Role>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, account_id, name, path, trust_policy, description, max_session_duration,
                    permissions_boundary, created_at, last_used_at, last_used_region
             FROM roles WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await)?)
    }

    pub async fn list_roles(
        &self,
        account_id: &str,
        params: &ListParams,
    ) -> StoreResult<Page<Role>> {
        let rows: Vec<Role> = on_db!(self.db(), c => sqlx::query_as(LIST_ROLES_SQL)
            .bind(account_id)
            .bind(params.path_like())
            .bind(&params.after)
            .bind(params.fetch_limit())
            .fetch_all(c)
            .await)?;
        Ok(paginate(rows, params, |r| r.name.to_ascii_lowercase()))
    }

    pub async fn role_dependents(&self, id: &str) -> StoreResult<RoleDependents> {
        let (inline_policies, attached_policies, instance_profiles): (i64, i64, i64) = on_db!(self.db(), c => sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM role_inline_policies WHERE role_id = $1),
                    (SELECT COUNT(*) FROM role_attached_policies WHERE role_id = $1),
                    (SELECT COUNT(*) FROM instance_profiles WHERE role_id = $1)",
            )
            .bind(id)
            .fetch_one(c)
            .await)?;
        Ok(RoleDependents {
            inline_policies,
            attached_policies,
            instance_profiles,
        })
    }
}

impl Store {
    /// IAM's RoleLastUsed. Not audited: it is bookkeeping of reads, not a
    /// change anyone made.
    pub async fn record_role_use(&self, role_id: &str, at: &str, region: &str) -> StoreResult<()> {
        let _turn = self.write_turn().await;
        on_db!(self.db(), c => sqlx::query("UPDATE roles SET last_used_at = $1, last_used_region = $2 WHERE id = $3")
            .bind(at)
            .bind(region)
            .bind(role_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl AuditTx {
    pub async fn insert_role(&mut self, role: &Role, tags: &[Tag]) -> StoreResult<()> {
        let inserted = on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO roles (id, account_id, name, name_lower, path, trust_policy, description,
                                max_session_duration, permissions_boundary, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&role.id)
        .bind(&role.account_id)
        .bind(&role.name)
        .bind(role.name.to_ascii_lowercase())
        .bind(&role.path)
        .bind(&role.trust_policy)
        .bind(&role.description)
        .bind(role.max_session_duration)
        .bind(&role.permissions_boundary)
        .bind(&role.created_at)
        .execute(c)
        .await.map(|r| r.rows_affected()));
        if let Err(e) = inserted {
            return Err(if is_unique_violation(&e) {
                StoreError::AlreadyExists(format!("Role with name {} already exists.", role.name))
            } else {
                e.into()
            });
        }
        self.replace_tags_in(&role.id, tags).await?;
        Ok(())
    }

    pub async fn update_role(
        &mut self,
        id: &str,
        description: Option<&str>,
        max_session_duration: i64,
    ) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query("UPDATE roles SET description = $1, max_session_duration = $2 WHERE id = $3")
            .bind(description)
            .bind(max_session_duration)
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_trust_policy(&mut self, id: &str, trust_policy: &str) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query("UPDATE roles SET trust_policy = $1 WHERE id = $2")
            .bind(trust_policy)
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_role_boundary(&mut self, id: &str, boundary: Option<&str>) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query("UPDATE roles SET permissions_boundary = $1 WHERE id = $2")
            .bind(boundary)
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_role(&mut self, id: &str) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query("DELETE FROM tags WHERE entity_id = $1")
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        on_db!(self.conn(), c => sqlx::query("DELETE FROM roles WHERE id = $1")
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// A page of an account's roles (keyset on `name_lower`).
pub(crate) const LIST_ROLES_SQL: &str =
    "SELECT id, account_id, name, path, trust_policy, description, max_session_duration,
                    permissions_boundary, created_at, last_used_at, last_used_region
             FROM roles WHERE account_id = $1 AND lower(path) LIKE $2 ESCAPE '\\' AND name_lower > $3
             ORDER BY name_lower LIMIT $4";
