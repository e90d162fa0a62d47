//! Temporary credentials (`role_sessions`) and the per-role "revoked
//! before" instant. Authentication reads a session together with what it
//! needs of its account, role and user in one query, since it runs on every
//! request made with session credentials.

use super::audit::AuditTx;
use super::error::StoreResult;
use super::Store;
use crate::domain::RoleSession;

/// The columns of `RoleSession`, as a macro so that queries stay `&'static str`.
macro_rules! session_columns {
    () => {
        "s.access_key_id, s.account_id, s.role_id, s.user_id, s.session_name,
         s.issuer_arn, s.secret_ciphertext, s.token_sha256, s.session_policies, s.tags,
         s.transitive_tag_keys, s.source_identity, s.chained, s.issued_at, s.expires_at,
         s.revoked_at, s.mfa_authenticated_at, s.issued_by"
    };
}

/// A session with what authenticating it needs: whether its account is the
/// management account, its role's name, path and revocation instant (None
/// when the role is gone), and its user's name and path.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    #[sqlx(flatten)]
    pub session: RoleSession,
    pub is_management: bool,
    pub role_name: Option<String>,
    pub role_path: Option<String>,
    pub sessions_revoked_before: Option<String>,
    pub user_name: Option<String>,
    pub user_path: Option<String>,
}

impl Store {
    /// The session behind an ASIA key id, for authentication.
    pub async fn get_session_record(
        &self,
        access_key_id: &str,
    ) -> StoreResult<Option<SessionRecord>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(concat!(
            "SELECT ",
            session_columns!(),
            ", a.is_management,
                    r.name AS role_name, r.path AS role_path, r.sessions_revoked_before,
                    u.name AS user_name, u.path AS user_path
             FROM role_sessions s
             JOIN accounts a ON a.id = s.account_id
             LEFT JOIN roles r ON r.id = s.role_id
             LEFT JOIN users u ON u.id = s.user_id
             WHERE s.access_key_id = $1"
        ))
        .bind(access_key_id)
        .fetch_optional(c)
        .await)?)
    }

    pub async fn get_session(&self, access_key_id: &str) -> StoreResult<Option<RoleSession>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(concat!(
            "SELECT ",
            session_columns!(),
            " FROM role_sessions s WHERE s.access_key_id = $1"
        ))
        .bind(access_key_id)
        .fetch_optional(c)
        .await)?)
    }

    /// Moves a session's expiry. Operators can cut a session short with it;
    /// the tests use it to expire a session without waiting.
    pub async fn set_session_expires_at(&self, access_key_id: &str, at: &str) -> StoreResult<bool> {
        let _turn = self.write_turn().await;
        let result = on_db!(self.db(), c => sqlx::query("UPDATE role_sessions SET expires_at = $1 WHERE access_key_id = $2")
            .bind(at)
            .bind(access_key_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        self.count_commit();
        Ok(result == 1)
    }

    /// A role's sessions that are neither expired nor revoked at `now`,
    /// ordered by access key id, after `after`, at most `limit`.
    pub async fn list_active_role_sessions(
        &self,
        role_id: &str,
        now: &str,
        after: &str,
        limit: i64,
    ) -> StoreResult<Vec<RoleSession>> {
        Ok(
            on_db!(self.db(), c => sqlx::query_as(LIST_ROLE_SESSIONS_SQL)
            .bind(role_id)
            .bind(now)
            .bind(after)
            .bind(limit)
            .fetch_all(c)
            .await)?,
        )
    }

    /// The newest live session of a role with this session name (several
    /// may share a name); what `/v1/evaluate` means by a session ARN.
    pub async fn latest_active_role_session(
        &self,
        role_id: &str,
        session_name: &str,
        now: &str,
    ) -> StoreResult<Option<RoleSession>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(concat!(
            "SELECT ",
            session_columns!(),
            " FROM role_sessions s
             JOIN roles r ON r.id = s.role_id
             WHERE s.role_id = $1 AND s.session_name = $2 AND s.revoked_at IS NULL AND s.expires_at > $3
               AND (r.sessions_revoked_before IS NULL OR s.issued_at >= r.sessions_revoked_before)
             ORDER BY s.issued_at DESC LIMIT 1"
        ))
        .bind(role_id)
        .bind(session_name)
        .bind(now)
        .fetch_optional(c)
        .await)?)
    }

    /// Sessions neither expired nor revoked at `now` (the metrics gauge):
    /// the per-minute counts of the minutes after `now`'s, plus the live
    /// sessions expiring later within `now`'s own minute. It reads at most a
    /// session lifetime of minute rows and one minute of the partial expiry
    /// index, whatever the number of sessions (migration 0007).
    pub async fn count_active_sessions(&self, now: &str) -> StoreResult<i64> {
        let minute = now.get(..16).unwrap_or(now);
        let (n,): (i64,) = on_db!(self.db(), c => sqlx::query_as(COUNT_ACTIVE_SESSIONS_SQL)
            .bind(now)
            .bind(minute)
            .bind(format!("{minute};"))
            .fetch_one(c)
            .await)?;
        Ok(n)
    }

    /// Deletes sessions that expired before `before`; returns how many.
    /// The minutes whose sessions are all gone go with them.
    pub async fn purge_expired_sessions(&self, before: &str) -> StoreResult<u64> {
        let _turn = self.write_turn().await;
        let result = on_db!(self.db(), c => sqlx::query("DELETE FROM role_sessions WHERE expires_at < $1")
            .bind(before)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        on_db!(self.db(), c => sqlx::query("DELETE FROM session_expiry_minutes WHERE live <= 0")
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(result)
    }
}

/// `?1` now, `?2` its minute (`YYYY-MM-DDTHH:MM`), `?3` the minute followed
/// by `;` (after every time within the minute, since `;` sorts after `:`).
pub(crate) const COUNT_ACTIVE_SESSIONS_SQL: &str =
    "SELECT COALESCE((SELECT CAST(SUM(live) AS BIGINT) FROM session_expiry_minutes WHERE minute > $2), 0)
          + (SELECT COUNT(*) FROM role_sessions
             WHERE revoked_at IS NULL AND expires_at > $1 AND expires_at < $3)";

/// A role's live sessions after a marker: `?1` role id, `?2` now, `?3` the
/// access key id after which the page starts, `?4` the limit.
pub(crate) const LIST_ROLE_SESSIONS_SQL: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM role_sessions s
     JOIN roles r ON r.id = s.role_id
     WHERE s.role_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
       AND (r.sessions_revoked_before IS NULL OR s.issued_at >= r.sessions_revoked_before)
       AND s.access_key_id > $3
     ORDER BY s.access_key_id LIMIT $4"
);

impl AuditTx {
    /// Inserts a new session. False when the access key id or token digest
    /// is already taken (a random collision: the caller draws new ones in
    /// the same transaction). The conflict is skipped, not raised: an error
    /// would abort a PostgreSQL transaction, and the next draw with it.
    pub async fn insert_session(&mut self, s: &RoleSession) -> StoreResult<bool> {
        let inserted = on_db!(self.conn_keeping_caches(), c => sqlx::query(
            "INSERT INTO role_sessions (access_key_id, account_id, role_id, user_id, session_name,
                 issuer_arn, secret_ciphertext, token_sha256, session_policies, tags,
                 transitive_tag_keys, source_identity, chained, issued_at, expires_at,
                 mfa_authenticated_at, issued_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             ON CONFLICT DO NOTHING",
        )
        .bind(&s.access_key_id)
        .bind(&s.account_id)
        .bind(&s.role_id)
        .bind(&s.user_id)
        .bind(&s.session_name)
        .bind(&s.issuer_arn)
        .bind(&s.secret_ciphertext)
        .bind(&s.token_sha256)
        .bind(&s.session_policies)
        .bind(&s.tags)
        .bind(&s.transitive_tag_keys)
        .bind(&s.source_identity)
        .bind(s.chained)
        .bind(&s.issued_at)
        .bind(&s.expires_at)
        .bind(&s.mfa_authenticated_at)
        .bind(&s.issued_by)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Revokes one live session of a role; false when there is none.
    pub async fn revoke_session(
        &mut self,
        role_id: &str,
        access_key_id: &str,
        now: &str,
    ) -> StoreResult<bool> {
        let result = on_db!(self.conn(), c => sqlx::query(
            "UPDATE role_sessions SET revoked_at = $1
             WHERE access_key_id = $2 AND role_id = $3 AND revoked_at IS NULL AND expires_at > $4",
        )
        .bind(now)
        .bind(access_key_id)
        .bind(role_id)
        .bind(now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }

    /// Revokes every session of the role issued before `now`: records the
    /// instant on the role (authentication refuses sessions issued earlier,
    /// which also catches one whose insert was in flight, or, on
    /// PostgreSQL, committed after this UPDATE read the table) and marks
    /// every live row it sees. One transaction.
    /// Returns how many live sessions it ended.
    pub async fn revoke_role_sessions(&mut self, role_id: &str, now: &str) -> StoreResult<u64> {
        on_db!(self.conn(), c => sqlx::query("UPDATE roles SET sessions_revoked_before = $1 WHERE id = $2")
            .bind(now)
            .bind(role_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        let result = on_db!(self.conn(), c => sqlx::query(
            "UPDATE role_sessions SET revoked_at = $1
             WHERE role_id = $2 AND revoked_at IS NULL AND expires_at > $3",
        )
        .bind(now)
        .bind(role_id)
        .bind(now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(result)
    }
}
