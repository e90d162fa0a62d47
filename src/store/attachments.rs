//! Managed-policy attachments of users, groups and roles.

use super::audit::AuditTx;
use super::Store;
use crate::domain::{ManagedPolicy, PolicyHolder};
use crate::error::ApiResult;

struct AttachmentSql {
    insert: &'static str,
    delete: &'static str,
    list: &'static str,
    count: &'static str,
    holders_of: &'static str,
}

fn sql(holder: PolicyHolder) -> AttachmentSql {
    match holder {
        PolicyHolder::User => AttachmentSql {
            insert: "INSERT INTO user_attached_policies (user_id, policy_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            delete: "DELETE FROM user_attached_policies WHERE user_id = $1 AND policy_id = $2",
            list: "SELECT p.id, p.account_id, p.name, p.path, p.arn, p.description, p.default_version_id, p.next_version, p.created_at, p.updated_at
                   FROM managed_policies p JOIN user_attached_policies a ON a.policy_id = p.id WHERE a.user_id = $1 ORDER BY p.arn",
            count: "SELECT COUNT(*) FROM user_attached_policies WHERE user_id = $1",
            holders_of: "SELECT u.name FROM users u JOIN user_attached_policies a ON a.user_id = u.id WHERE a.policy_id = $1 AND u.account_id = $2 ORDER BY u.name_lower",
        },
        PolicyHolder::Group => AttachmentSql {
            insert: "INSERT INTO group_attached_policies (group_id, policy_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            delete: "DELETE FROM group_attached_policies WHERE group_id = $1 AND policy_id = $2",
            list: "SELECT p.id, p.account_id, p.name, p.path, p.arn, p.description, p.default_version_id, p.next_version, p.created_at, p.updated_at
                   FROM managed_policies p JOIN group_attached_policies a ON a.policy_id = p.id WHERE a.group_id = $1 ORDER BY p.arn",
            count: "SELECT COUNT(*) FROM group_attached_policies WHERE group_id = $1",
            holders_of: "SELECT g.name FROM groups g JOIN group_attached_policies a ON a.group_id = g.id WHERE a.policy_id = $1 AND g.account_id = $2 ORDER BY g.name_lower",
        },
        PolicyHolder::Role => AttachmentSql {
            insert: "INSERT INTO role_attached_policies (role_id, policy_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            delete: "DELETE FROM role_attached_policies WHERE role_id = $1 AND policy_id = $2",
            list: "SELECT p.id, p.account_id, p.name, p.path, p.arn, p.description, p.default_version_id, p.next_version, p.created_at, p.updated_at
                   FROM managed_policies p JOIN role_attached_policies a ON a.policy_id = p.id WHERE a.role_id = $1 ORDER BY p.arn",
            count: "SELECT COUNT(*) FROM role_attached_policies WHERE role_id = $1",
            holders_of: "SELECT r.name FROM roles r JOIN role_attached_policies a ON a.role_id = r.id WHERE a.policy_id = $1 AND r.account_id = $2 ORDER BY r.name_lower",
        },
    }
}

impl Store {
    pub async fn attached_policies(
        &self,
        holder: PolicyHolder,
        holder_id: &str,
    ) -> ApiResult<Vec<ManagedPolicy>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(sql(holder).list)
            .bind(holder_id)
            .fetch_all(c)
            .await)?)
    }

    pub async fn attached_policy_count(
        &self,
        holder: PolicyHolder,
        holder_id: &str,
    ) -> ApiResult<i64> {
        let (n,): (i64,) = on_db!(self.db(), c => sqlx::query_as(sql(holder).count)
            .bind(holder_id)
            .fetch_one(c)
            .await)?;
        Ok(n)
    }

    /// Names of the holders of one kind in an account that have the policy
    /// attached.
    pub async fn policy_holders_in(
        &self,
        holder: PolicyHolder,
        policy_id: &str,
        account_id: &str,
    ) -> ApiResult<Vec<String>> {
        let rows: Vec<(String,)> = on_db!(self.db(), c => sqlx::query_as(sql(holder).holders_of)
            .bind(policy_id)
            .bind(account_id)
            .fetch_all(c)
            .await)?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }
}

impl AuditTx {
    pub async fn attach_policy(
        &mut self,
        holder: PolicyHolder,
        holder_id: &str,
        policy_id: &str,
    ) -> ApiResult<()> {
        on_db!(self.conn(), c => sqlx::query(sql(holder).insert)
            .bind(holder_id)
            .bind(policy_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn detach_policy(
        &mut self,
        holder: PolicyHolder,
        holder_id: &str,
        policy_id: &str,
    ) -> ApiResult<bool> {
        let result = on_db!(self.conn(), c => sqlx::query(sql(holder).delete)
            .bind(holder_id)
            .bind(policy_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }
}
