//! What the scanners' reports read besides the entities: the newest
//! allowed use of each action per principal (`last_accessed`, kept from
//! the audit trail by a trigger, migration 0012), the last password change
//! of a user, and the account root's own keys.

use super::error::StoreResult;
use super::Store;
use crate::domain::AccessKey;

/// The newest allowed use of one action by one principal.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LastAccess {
    /// Lower-cased, as recorded (`iam:createuser`).
    pub action: String,
    pub event_time: String,
    /// The event's own principal: for a role, the session.
    pub principal_arn: String,
}

/// Rows read per principal at most: one per action it ever used, so the
/// bound is never reached by a real principal; it keeps a request bounded.
const MAX_ACTIONS_PER_PRINCIPAL: i64 = 20_000;

/// The key under which a principal's uses are kept: a user's ARN, or
/// `arn:aws:sts::ACCT:assumed-role/NAME` for every session of a role.
pub fn role_principal(account_id: &str, role_name: &str) -> String {
    format!("arn:aws:sts::{account_id}:assumed-role/{role_name}")
}

impl Store {
    /// Every action `principal` was allowed, with its newest use; read from
    /// the primary key, in action order.
    pub async fn last_accessed(&self, principal: &str) -> StoreResult<Vec<LastAccess>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(LAST_ACCESSED_SQL)
            .bind(principal)
            .bind(MAX_ACTIONS_PER_PRINCIPAL)
            .fetch_all(c)
            .await)?)
    }

    /// The newest allowed use of one action (lower-cased) by `principal`.
    pub async fn last_accessed_action(
        &self,
        principal: &str,
        action: &str,
    ) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = on_db!(self.db(), c => sqlx::query_as(
            "SELECT event_time FROM last_accessed WHERE principal = $1 AND action = $2",
        )
        .bind(principal)
        .bind(action)
        .fetch_optional(c)
        .await)?;
        Ok(row.map(|(t,)| t))
    }

    /// When the user's password was last set (its login profile created or
    /// updated, or changed by the user), from the audit trail: the events
    /// whose resource is the user, read from the resource index.
    pub async fn last_password_change(&self, user_arn: &str) -> StoreResult<Option<String>> {
        let row: Option<(Option<String>,)> = on_db!(self.db(), c => sqlx::query_as(LAST_PASSWORD_CHANGE_SQL)
            .bind(user_arn.to_ascii_lowercase())
            .fetch_optional(c)
            .await)?;
        Ok(row.and_then(|(t,)| t))
    }

    /// The account root's access keys, oldest first.
    pub async fn list_root_access_keys(&self, account_id: &str) -> StoreResult<Vec<AccessKey>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT access_key_id, account_id, user_id, secret_ciphertext, status, created_at,
                    last_used_at, last_used_service, last_used_region
             FROM access_keys WHERE account_id = $1 AND user_id IS NULL
             ORDER BY created_at, access_key_id",
        )
        .bind(account_id)
        .fetch_all(c)
        .await)?)
    }
}

pub(crate) const LAST_ACCESSED_SQL: &str =
    "SELECT action, event_time, principal_arn FROM last_accessed
     WHERE principal = $1 ORDER BY action LIMIT $2";

pub(crate) const LAST_PASSWORD_CHANGE_SQL: &str = "SELECT MAX(event_time) FROM audit_events
     WHERE lower(resource) = $1 AND decision = 'allowed'
       AND lower(action) IN ('iam:createloginprofile', 'iam:updateloginprofile', 'iam:changepassword')";
