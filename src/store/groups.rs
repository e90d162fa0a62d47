//! Groups and membership.

use super::audit::AuditTx;
use super::error::{StoreError, StoreResult};
use super::{is_unique_violation, paginate, ListParams, Page, Store};
use crate::domain::{Group, User};

#[derive(Debug, Default)]
pub struct GroupDependents {
    pub members: i64,
    pub inline_policies: i64,
    pub attached_policies: i64,
}

impl Store {
    pub async fn get_group(&self, account_id: &str, name: &str) -> StoreResult<Option<Group>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, account_id, name, path, created_at FROM groups WHERE account_id = $1 AND name_lower = $2",
        )
        .bind(account_id)
        .bind(name.to_ascii_lowercase())
        .fetch_optional(c)
        .await)?)
    }

    pub async fn list_groups(
        &self,
        account_id: &str,
        params: &ListParams,
    ) -> StoreResult<Page<Group>> {
        let rows: Vec<Group> = on_db!(self.db(), c => sqlx::query_as(LIST_GROUPS_SQL)
            .bind(account_id)
            .bind(params.path_like())
            .bind(&params.after)
            .bind(params.fetch_limit())
            .fetch_all(c)
            .await)?;
        Ok(paginate(rows, params, |g| g.name.to_ascii_lowercase()))
    }

    pub async fn groups_of_user(&self, user_id: &str) -> StoreResult<Vec<Group>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT g.id, g.account_id, g.name, g.path, g.created_at FROM groups g
             JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name_lower",
        )
        .bind(user_id)
        .fetch_all(c)
        .await)?)
    }

    pub async fn members_of_group(&self, group_id: &str) -> StoreResult<Vec<User>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT u.id, u.account_id, u.name, u.path, u.permissions_boundary, u.created_at FROM users u
             JOIN group_members m ON m.user_id = u.id WHERE m.group_id = $1 ORDER BY u.name_lower",
        )
        .bind(group_id)
        .fetch_all(c)
        .await)?)
    }

    pub async fn group_count_of_user(&self, user_id: &str) -> StoreResult<i64> {
        let (n,): (i64,) = on_db!(self.db(), c => sqlx::query_as("SELECT COUNT(*) FROM group_members WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(c)
            .await)?;
        Ok(n)
    }

    pub async fn group_dependents(&self, id: &str) -> StoreResult<GroupDependents> {
        let (members, inline_policies, attached_policies): (i64, i64, i64) = on_db!(self.db(), c => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM group_members WHERE group_id = $1),
                    (SELECT COUNT(*) FROM group_inline_policies WHERE group_id = $1),
                    (SELECT COUNT(*) FROM group_attached_policies WHERE group_id = $1)",
        )
        .bind(id)
        .fetch_one(c)
        .await)?;
        Ok(GroupDependents {
            members,
            inline_policies,
            attached_policies,
        })
    }
}

impl AuditTx {
    pub async fn insert_group(&mut self, group: &Group) -> StoreResult<()> {
        let inserted = on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO groups (id, account_id, name, name_lower, path, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&group.id)
        .bind(&group.account_id)
        .bind(&group.name)
        .bind(group.name.to_ascii_lowercase())
        .bind(&group.path)
        .bind(&group.created_at)
        .execute(c)
        .await.map(|r| r.rows_affected()));
        match inserted {
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(format!(
                "Group with name {} already exists.",
                group.name
            ))),
            Err(e) => Err(e.into()),
            Ok(_) => Ok(()),
        }
    }

    /// Renames or moves a group (its id, members and policies stay).
    pub async fn update_group(&mut self, id: &str, name: &str, path: &str) -> StoreResult<()> {
        let updated = on_db!(self.conn(), c => sqlx::query("UPDATE groups SET name = $1, name_lower = $2, path = $3 WHERE id = $4")
                .bind(name)
                .bind(name.to_ascii_lowercase())
                .bind(path)
                .bind(id)
                .execute(c)
                .await.map(|r| r.rows_affected()));
        match updated {
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(format!(
                "Group with name {name} already exists."
            ))),
            Err(e) => Err(e.into()),
            Ok(_) => Ok(()),
        }
    }

    /// Adds a member; false when the user already is one (adding is
    /// idempotent in AWS).
    pub async fn add_group_member(
        &mut self,
        group_id: &str,
        user_id: &str,
        now: &str,
    ) -> StoreResult<bool> {
        let result = on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO group_members (group_id, user_id, added_at) VALUES ($1, $2, $3)
             ON CONFLICT (group_id, user_id) DO NOTHING",
        )
        .bind(group_id)
        .bind(user_id)
        .bind(now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }

    pub async fn remove_group_member(
        &mut self,
        group_id: &str,
        user_id: &str,
    ) -> StoreResult<bool> {
        let result = on_db!(self.conn(), c => sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
            .bind(group_id)
            .bind(user_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }

    pub async fn delete_group(&mut self, id: &str) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query("DELETE FROM groups WHERE id = $1")
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// A page of an account's groups (keyset on `name_lower`).
pub(crate) const LIST_GROUPS_SQL: &str = "SELECT id, account_id, name, path, created_at FROM groups
             WHERE account_id = $1 AND lower(path) LIKE $2 ESCAPE '\\' AND name_lower > $3
             ORDER BY name_lower LIMIT $4";
