//! Users and their dependents.

use super::audit::AuditTx;
use super::error::{StoreError, StoreResult};
use super::{is_unique_violation, paginate, ListParams, Page, Store};
use crate::domain::{Tag, User};

/// What blocks a user's deletion (AWS-IAM-NOTES §9.2).
#[derive(Debug, Default)]
pub struct UserDependents {
    pub access_keys: i64,
    pub login_profile: bool,
    pub inline_policies: i64,
    pub attached_policies: i64,
    pub groups: i64,
    pub mfa_devices: i64,
}

impl Store {
    pub async fn get_user(&self, account_id: &str, name: &str) -> StoreResult<Option<User>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, account_id, name, path, permissions_boundary, created_at
             FROM users WHERE account_id = $1 AND name_lower = $2",
        )
        .bind(account_id)
        .bind(name.to_ascii_lowercase())
        .fetch_optional(c)
        .await)?)
    }

    pub async fn get_user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, account_id, name, path, permissions_boundary, created_at FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await)?)
    }

    pub async fn list_users(
        &self,
        account_id: &str,
        params: &ListParams,
    ) -> StoreResult<Page<User>> {
        let rows: Vec<User> = on_db!(self.db(), c => sqlx::query_as(LIST_USERS_SQL)
            .bind(account_id)
            .bind(params.path_like())
            .bind(&params.after)
            .bind(params.fetch_limit())
            .fetch_all(c)
            .await)?;
        Ok(paginate(rows, params, |u| u.name.to_ascii_lowercase()))
    }

    pub async fn user_dependents(&self, id: &str) -> StoreResult<UserDependents> {
        let (access_keys, login_profile, inline_policies, attached_policies, groups, mfa_devices): (
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
        ) = on_db!(self.db(), c => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM access_keys WHERE user_id = $1),
                        (SELECT COUNT(*) FROM login_profiles WHERE user_id = $1),
                        (SELECT COUNT(*) FROM user_inline_policies WHERE user_id = $1),
                        (SELECT COUNT(*) FROM user_attached_policies WHERE user_id = $1),
                        (SELECT COUNT(*) FROM group_members WHERE user_id = $1),
                        (SELECT COUNT(*) FROM mfa_devices WHERE user_id = $1)",
        )
        .bind(id)
        .fetch_one(c)
        .await)?;
        Ok(UserDependents {
            access_keys,
            login_profile: login_profile > 0,
            inline_policies,
            attached_policies,
            groups,
            mfa_devices,
        })
    }
}

impl AuditTx {
    /// Inserts a user with its tags in one transaction.
    pub async fn insert_user(&mut self, user: &User, tags: &[Tag]) -> StoreResult<()> {
        let inserted = on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO users (id, account_id, name, name_lower, path, permissions_boundary, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&user.id)
        .bind(&user.account_id)
        .bind(&user.name)
        .bind(user.name.to_ascii_lowercase())
        .bind(&user.path)
        .bind(&user.permissions_boundary)
        .bind(&user.created_at)
        .execute(c)
        .await.map(|r| r.rows_affected()));
        if let Err(e) = inserted {
            return Err(if is_unique_violation(&e) {
                StoreError::AlreadyExists(format!("User with name {} already exists.", user.name))
            } else {
                e.into()
            });
        }
        self.replace_tags_in(&user.id, tags).await?;
        Ok(())
    }

    /// Renames and/or moves a user. The unique id stays, as in AWS.
    pub async fn update_user(&mut self, id: &str, name: &str, path: &str) -> StoreResult<()> {
        let updated = on_db!(self.conn(), c => sqlx::query("UPDATE users SET name = $1, name_lower = $2, path = $3 WHERE id = $4")
                .bind(name)
                .bind(name.to_ascii_lowercase())
                .bind(path)
                .bind(id)
                .execute(c)
                .await.map(|r| r.rows_affected()));
        match updated {
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(format!(
                "User with name {name} already exists."
            ))),
            Err(e) => Err(e.into()),
            Ok(_) => Ok(()),
        }
    }

    pub async fn set_user_boundary(&mut self, id: &str, boundary: Option<&str>) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query("UPDATE users SET permissions_boundary = $1 WHERE id = $2")
            .bind(boundary)
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_user(&mut self, id: &str) -> StoreResult<()> {
        self.delete_password_history(id).await?;
        on_db!(self.conn(), c => sqlx::query("DELETE FROM tags WHERE entity_id = $1")
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        on_db!(self.conn(), c => sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// A page of an account's users (keyset on `name_lower`).
pub(crate) const LIST_USERS_SQL: &str =
    "SELECT id, account_id, name, path, permissions_boundary, created_at FROM users
             WHERE account_id = $1 AND lower(path) LIKE $2 ESCAPE '\\' AND name_lower > $3
             ORDER BY name_lower LIMIT $4";
