//! Instance profiles and the one role each may hold.

use super::audit::AuditTx;
use super::{is_unique_violation, paginate, ListParams, Page, Store};
use crate::domain::InstanceProfile;
use crate::error::{ApiError, ApiResult};

impl Store {
    pub async fn count_instance_profiles(&self, account_id: &str) -> ApiResult<i64> {
        let (n,): (i64,) = on_db!(self.db(), c => sqlx::query_as("SELECT COUNT(*) FROM instance_profiles WHERE account_id = $1")
                .bind(account_id)
                .fetch_one(c)
                .await)?;
        Ok(n)
    }

    pub async fn get_instance_profile(
        &self,
        account_id: &str,
        name: &str,
    ) -> ApiResult<Option<InstanceProfile>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, account_id, name, path, role_id, created_at
             FROM instance_profiles WHERE account_id = $1 AND name_lower = $2",
        )
        .bind(account_id)
        .bind(name.to_ascii_lowercase())
        .fetch_optional(c)
        .await)?)
    }

    pub async fn get_instance_profile_by_id(&self, id: &str) -> ApiResult<Option<InstanceProfile>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, account_id, name, path, role_id, created_at
             FROM instance_profiles WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await)?)
    }

    pub async fn list_instance_profiles(
        &self,
        account_id: &str,
        params: &ListParams,
    ) -> ApiResult<Page<InstanceProfile>> {
        let rows: Vec<InstanceProfile> = on_db!(self.db(), c => sqlx::query_as(LIST_INSTANCE_PROFILES_SQL)
            .bind(account_id)
            .bind(params.path_like())
            .bind(&params.after)
            .bind(params.fetch_limit())
            .fetch_all(c)
            .await)?;
        Ok(paginate(rows, params, |p| p.name.to_ascii_lowercase()))
    }

    pub async fn list_instance_profiles_for_role(
        &self,
        role_id: &str,
        params: &ListParams,
    ) -> ApiResult<Page<InstanceProfile>> {
        let rows: Vec<InstanceProfile> = on_db!(self.db(), c => sqlx::query_as(LIST_ROLE_INSTANCE_PROFILES_SQL)
            .bind(role_id)
            .bind(&params.after)
            .bind(params.fetch_limit())
            .fetch_all(c)
            .await)?;
        Ok(paginate(rows, params, |p| p.name.to_ascii_lowercase()))
    }

    /// How many workloads use a profile (they block its deletion).
    pub async fn count_profile_workloads(&self, id: &str) -> ApiResult<i64> {
        let (n,): (i64,) = on_db!(self.db(), c => sqlx::query_as("SELECT COUNT(*) FROM workloads WHERE instance_profile_id = $1")
                .bind(id)
                .fetch_one(c)
                .await)?;
        Ok(n)
    }
}

impl AuditTx {
    pub async fn insert_instance_profile(&mut self, p: &InstanceProfile) -> ApiResult<()> {
        let inserted = on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO instance_profiles (id, account_id, name, name_lower, path, role_id, created_at)
             VALUES ($1, $2, $3, $4, $5, NULL, $6)",
        )
        .bind(&p.id)
        .bind(&p.account_id)
        .bind(&p.name)
        .bind(p.name.to_ascii_lowercase())
        .bind(&p.path)
        .bind(&p.created_at)
        .execute(c)
        .await.map(|r| r.rows_affected()));
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(ApiError::EntityAlreadyExists(format!(
                "Instance Profile {} already exists.",
                p.name
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Puts `role_id` into an empty profile. False when the profile holds a
    /// role already (checked in the same statement, so two concurrent adds
    /// cannot both win).
    pub async fn set_instance_profile_role(&mut self, id: &str, role_id: &str) -> ApiResult<bool> {
        let result = on_db!(self.conn(), c => sqlx::query(
            "UPDATE instance_profiles SET role_id = $1 WHERE id = $2 AND role_id IS NULL",
        )
        .bind(role_id)
        .bind(id)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }

    /// Empties a profile that holds `role_id` and revokes every live session
    /// its workloads fetched, in one transaction: the next refresh finds no
    /// role, and credentials already handed out stop working. False when
    /// the profile does not hold that role.
    pub async fn remove_instance_profile_role(
        &mut self,
        id: &str,
        role_id: &str,
        now: &str,
    ) -> ApiResult<bool> {
        let result = on_db!(self.conn(), c => sqlx::query("UPDATE instance_profiles SET role_id = NULL WHERE id = $1 AND role_id = $2")
                .bind(id)
                .bind(role_id)
                .execute(c)
                .await.map(|r| r.rows_affected()))?;
        if result != 1 {
            return Ok(false);
        }
        on_db!(self.conn(), c => sqlx::query(
            "UPDATE role_sessions SET revoked_at = $1
             WHERE revoked_at IS NULL AND access_key_id IN (
                 SELECT ws.access_key_id FROM workload_sessions ws
                 JOIN workloads w ON w.id = ws.workload_id
                 WHERE w.instance_profile_id = $2)",
        )
        .bind(now)
        .bind(id)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(true)
    }

    /// Deletes an empty profile; false when it holds a role (a concurrent
    /// add won) or is gone.
    pub async fn delete_instance_profile(&mut self, id: &str) -> ApiResult<bool> {
        let result = on_db!(self.conn(), c => sqlx::query("DELETE FROM instance_profiles WHERE id = $1 AND role_id IS NULL")
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }
}

/// A page of an account's instance profiles (keyset on `name_lower`).
pub(crate) const LIST_INSTANCE_PROFILES_SQL: &str =
    "SELECT id, account_id, name, path, role_id, created_at
             FROM instance_profiles
             WHERE account_id = $1 AND lower(path) LIKE $2 ESCAPE '\\' AND name_lower > $3
             ORDER BY name_lower LIMIT $4";

/// A page of a role's instance profiles (keyset on `name_lower`).
pub(crate) const LIST_ROLE_INSTANCE_PROFILES_SQL: &str =
    "SELECT id, account_id, name, path, role_id, created_at
             FROM instance_profiles WHERE role_id = $1 AND name_lower > $2
             ORDER BY name_lower LIMIT $3";
