//! Managed policies and their versions.

use super::audit::AuditTx;
use super::error::{StoreError, StoreResult};
use super::{is_unique_violation, paginate, ListParams, Page, Store};
use crate::domain::{ManagedPolicy, PolicyVersion, Tag};

/// Which policies a list shows (IAM's `Scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyScope {
    All,
    Aws,
    Local,
}

/// At most this many versions are kept (AWS-IAM-NOTES §2.3).
pub const MAX_POLICY_VERSIONS: i64 = 5;

impl Store {
    pub async fn get_policy_by_arn(&self, arn: &str) -> StoreResult<Option<ManagedPolicy>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, account_id, name, path, arn, description, default_version_id, next_version, created_at, updated_at
             FROM managed_policies WHERE arn = $1",
        )
        .bind(arn)
        .fetch_optional(c)
        .await)?)
    }

    /// A policy by name: the account's own first, then a built-in one.
    pub async fn get_policy_by_name(
        &self,
        account_id: &str,
        name: &str,
    ) -> StoreResult<Option<ManagedPolicy>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, account_id, name, path, arn, description, default_version_id, next_version, created_at, updated_at
             FROM managed_policies WHERE account_id IN ($1, 'aws') AND name_lower = $2
             ORDER BY CASE WHEN account_id = 'aws' THEN 1 ELSE 0 END LIMIT 1",
        )
        .bind(account_id)
        .bind(name.to_ascii_lowercase())
        .fetch_optional(c)
        .await)?)
    }

    pub async fn get_policy_by_id(&self, id: &str) -> StoreResult<Option<ManagedPolicy>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, account_id, name, path, arn, description, default_version_id, next_version, created_at, updated_at
             FROM managed_policies WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await)?)
    }

    /// Lists the account's own policies and/or the built-in ones. Sorted by
    /// ARN, which is also the marker's sort key. Each account's page is read
    /// in ARN order from `(account_id, arn)` and the two are merged, so a
    /// page costs the same at any depth (`IN (?, ?)` would sort them all).
    pub async fn list_policies(
        &self,
        account_id: &str,
        scope: PolicyScope,
        params: &ListParams,
    ) -> StoreResult<Page<ManagedPolicy>> {
        let (own, aws) = match scope {
            PolicyScope::All => (account_id, "aws"),
            PolicyScope::Aws => ("aws", "aws"),
            PolicyScope::Local => (account_id, account_id),
        };
        let rows: Vec<ManagedPolicy> = on_db!(self.db(), c => sqlx::query_as(LIST_POLICIES_SQL)
            .bind(own)
            .bind(aws)
            .bind(params.path_like())
            .bind(&params.after)
            .bind(params.fetch_limit())
            .fetch_all(c)
            .await)?;
        Ok(paginate(rows, params, |p| p.arn.clone()))
    }

    pub async fn list_policy_versions(&self, policy_id: &str) -> StoreResult<Vec<PolicyVersion>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT policy_id, version_id, document, created_at FROM policy_versions
             WHERE policy_id = $1 ORDER BY CAST(SUBSTR(version_id, 2) AS INTEGER) DESC",
        )
        .bind(policy_id)
        .fetch_all(c)
        .await)?)
    }

    pub async fn get_policy_version(
        &self,
        policy_id: &str,
        version_id: &str,
    ) -> StoreResult<Option<PolicyVersion>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT policy_id, version_id, document, created_at FROM policy_versions WHERE policy_id = $1 AND version_id = $2",
        )
        .bind(policy_id)
        .bind(version_id)
        .fetch_optional(c)
        .await)?)
    }

    /// The default version's document of a policy.
    pub async fn default_policy_document(&self, policy_id: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = on_db!(self.db(), c => sqlx::query_as(
            "SELECT v.document FROM policy_versions v JOIN managed_policies p
               ON p.id = v.policy_id AND p.default_version_id = v.version_id WHERE p.id = $1",
        )
        .bind(policy_id)
        .fetch_optional(c)
        .await)?;
        Ok(row.map(|(d,)| d))
    }

    /// How many users, groups and roles have it attached, and how many use
    /// its ARN as a permissions boundary.
    pub async fn policy_usage(&self, policy: &ManagedPolicy) -> StoreResult<(i64, i64)> {
        let (attachments, boundaries): (i64, i64) = on_db!(self.db(), c => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM user_attached_policies WHERE policy_id = $1)
                  + (SELECT COUNT(*) FROM group_attached_policies WHERE policy_id = $1)
                  + (SELECT COUNT(*) FROM role_attached_policies WHERE policy_id = $1),
                    (SELECT COUNT(*) FROM users WHERE permissions_boundary = $2)
                  + (SELECT COUNT(*) FROM roles WHERE permissions_boundary = $2)",
        )
        .bind(&policy.id)
        .bind(&policy.arn)
        .fetch_one(c)
        .await)?;
        Ok((attachments, boundaries))
    }

    /// Inserts a built-in policy unless it exists; run at every start.
    pub async fn ensure_builtin_policy(
        &self,
        policy: &ManagedPolicy,
        document: &str,
    ) -> StoreResult<()> {
        if self.get_policy_by_arn(&policy.arn).await?.is_none() {
            let event =
                crate::audit::AuditEvent::system("latchkey:CreateBuiltinPolicy", &policy.arn);
            let inserted = self
                .audited(event, async |tx| {
                    tx.insert_policy(policy, document, &[]).await
                })
                .await;
            match inserted {
                // Another node starting at the same moment inserted it.
                Err(StoreError::AlreadyExists(_))
                    if self.get_policy_by_arn(&policy.arn).await?.is_some() => {}
                other => other?,
            }
        }
        Ok(())
    }
}

impl AuditTx {
    /// Inserts a policy and its v1 (the default) in one transaction.
    pub async fn insert_policy(
        &mut self,
        policy: &ManagedPolicy,
        document: &str,
        tags: &[Tag],
    ) -> StoreResult<()> {
        let inserted = on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO managed_policies (id, account_id, name, name_lower, path, arn, description,
                                           default_version_id, next_version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&policy.id)
        .bind(&policy.account_id)
        .bind(&policy.name)
        .bind(policy.name.to_ascii_lowercase())
        .bind(&policy.path)
        .bind(&policy.arn)
        .bind(&policy.description)
        .bind(&policy.default_version_id)
        .bind(policy.next_version)
        .bind(&policy.created_at)
        .bind(&policy.updated_at)
        .execute(c)
        .await.map(|r| r.rows_affected()));
        if let Err(e) = inserted {
            return Err(if is_unique_violation(&e) {
                StoreError::AlreadyExists(format!(
                    "A policy called {} already exists. Duplicate names are not allowed.",
                    policy.name
                ))
            } else {
                e.into()
            });
        }
        on_db!(self.conn(), c => sqlx::query("INSERT INTO policy_versions (policy_id, version_id, document, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&policy.id)
            .bind(&policy.default_version_id)
            .bind(document)
            .bind(&policy.created_at)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        self.replace_tags_in(&policy.id, tags).await?;
        Ok(())
    }

    /// Adds the next version number. The 5-version limit is checked inside
    /// the transaction, so two concurrent creates cannot make a sixth.
    pub async fn insert_policy_version(
        &mut self,
        policy_id: &str,
        document: &str,
        set_as_default: bool,
        now: &str,
    ) -> StoreResult<PolicyVersion> {
        // Also keeps two creates from reading the same next_version.
        self.lock(policy_id).await?;
        let (count,): (i64,) = on_db!(self.conn(), c => sqlx::query_as("SELECT COUNT(*) FROM policy_versions WHERE policy_id = $1")
                .bind(policy_id)
                .fetch_one(c)
                .await)?;
        if count >= MAX_POLICY_VERSIONS {
            return Err(StoreError::LimitExceeded(
                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.".into(),
            ));
        }
        let (next,): (i64,) = on_db!(self.conn(), c => sqlx::query_as("SELECT next_version FROM managed_policies WHERE id = $1")
                .bind(policy_id)
                .fetch_one(c)
                .await)?;
        let version_id = format!("v{next}");
        on_db!(self.conn(), c => sqlx::query("INSERT INTO policy_versions (policy_id, version_id, document, created_at) VALUES ($1, $2, $3, $4)")
            .bind(policy_id)
            .bind(&version_id)
            .bind(document)
            .bind(now)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        on_db!(self.conn(), c => sqlx::query(
            "UPDATE managed_policies SET next_version = next_version + 1, updated_at = $1,
               default_version_id = CASE WHEN $2 THEN $3 ELSE default_version_id END WHERE id = $4",
        )
        .bind(now)
        .bind(set_as_default)
        .bind(&version_id)
        .bind(policy_id)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(PolicyVersion {
            policy_id: policy_id.to_string(),
            version_id,
            document: document.to_string(),
            created_at: now.to_string(),
        })
    }

    pub async fn set_default_policy_version(
        &mut self,
        policy_id: &str,
        version_id: &str,
        now: &str,
    ) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query(
            "UPDATE managed_policies SET default_version_id = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(version_id)
        .bind(now)
        .bind(policy_id)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_policy_version(
        &mut self,
        policy_id: &str,
        version_id: &str,
    ) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query("DELETE FROM policy_versions WHERE policy_id = $1 AND version_id = $2")
            .bind(policy_id)
            .bind(version_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Deletes a policy, its (single, default) version and its tags.
    pub async fn delete_policy(&mut self, policy_id: &str) -> StoreResult<()> {
        for q in [
            "DELETE FROM policy_versions WHERE policy_id = $1",
            "DELETE FROM tags WHERE entity_id = $1",
            "DELETE FROM managed_policies WHERE id = $1",
        ] {
            on_db!(self.conn(), c => sqlx::query(q).bind(policy_id).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }
}

/// A page of managed policies: `?1` and `?2` the two accounts whose policies
/// are listed (the same one twice for a single account), `?3` the path
/// pattern, `?4` the ARN after which the page starts, `?5` the limit. Each
/// branch reads `(account_id, arn)` in order and SQLite merges them; the
/// second reads nothing when the accounts are the same (UNION ALL would
/// return its rows twice).
pub(crate) const LIST_POLICIES_SQL: &str =
    "SELECT id, account_id, name, path, arn, description, default_version_id, next_version, created_at, updated_at
     FROM managed_policies WHERE account_id = $1 AND lower(path) LIKE $3 ESCAPE '\\' AND arn > $4
     UNION ALL
     SELECT id, account_id, name, path, arn, description, default_version_id, next_version, created_at, updated_at
     FROM managed_policies WHERE account_id = $2 AND $2 <> $1 AND lower(path) LIKE $3 ESCAPE '\\' AND arn > $4
     ORDER BY arn LIMIT $5";
