//! Session keys (ASIA…): resolving one from the store, and the cached
//! copy's per-request checks.
//!
//! A resolved session is cached beside long-term keys (in the
//! [`CredentialCache`](crate::runtime::credential_cache::CredentialCache), so
//! it is dropped, with every worker thread's copy, on every IAM write of any
//! node), with
//! what must still be checked on each request: the digest of its token,
//! compared in constant time with the presented token's, and its expiry,
//! read from the clock. Whatever else can end a session (revoking it or all
//! of its role's sessions, a workload's deletion or token rotation, a role
//! leaving an instance profile, deleting its role, user or account) is an
//! IAM write, which drops the cache; a role's policies are the authorizer's
//! and are dropped by the same writes.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::auth::authenticate::{expired_token, invalid_key, Origin, ResolvedKey};
use crate::auth::caller::{CallerIdentity, SessionInfo};
use crate::auth::crypto::{secrets_equal, token_digest};
use crate::auth::{Caller, CallerKind};
use crate::domain::{format_time_ms, now, Arn, SecretAccessKey, ISSUED_BY_GET_SESSION_TOKEN};
use crate::error::{ApiError, ApiResult};
use crate::runtime::resolved_key::SessionCheck;
use crate::state::OpContext;
use crate::store::sessions::SessionRecord;

/// Checks a cached session key against the presented token and the clock,
/// as the store-backed path does: a wrong token first (`InvalidClientTokenId`,
/// whether or not the session expired), then expiry (`ExpiredToken`). A
/// cached long-term key (no session check) is refused: its id cannot be
/// a session's.
pub(crate) async fn check_cached_session(
    state: &OpContext,
    resolved: &ResolvedKey,
    token: &str,
) -> ApiResult<()> {
    let check = resolved.session.as_ref().ok_or_else(invalid_key)?;
    if !secrets_equal(&check.token_sha256, &token_digest(token)) {
        return Err(invalid_key());
    }
    let now = OffsetDateTime::now_utc();
    if check.expires_at <= now {
        return Err(expired_token());
    }
    if let CallerKind::AssumedRole { role_id, .. } = &resolved.caller.kind {
        let second = now.unix_timestamp();
        let last = check.role_use_recorded_at.load(Ordering::Relaxed);
        if !(0..60).contains(&second.saturating_sub(last)) {
            check.role_use_recorded_at.store(second, Ordering::Relaxed);
            record_role_use(state, role_id, &state.config.region).await;
        }
    }
    Ok(())
}

/// Resolves a session key from the store (its token, expiry and revocation
/// checked) and caches it, unless an IAM write raced the read.
pub(crate) async fn resolve_session_key(
    state: &OpContext,
    access_key_id: &str,
    token: &str,
) -> ApiResult<Arc<ResolvedKey>> {
    let guard = state.cache_guard();
    let session = session_credentials(state, access_key_id, token, Origin::default()).await?;
    if let CallerKind::AssumedRole { role_id, .. } = &session.caller.kind {
        record_role_use(state, role_id, &state.config.region).await;
    }
    let secret = SecretAccessKey::parse(&session.secret)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!(e)))?;
    let check = session
        .caller
        .session()
        .and_then(|info| SessionCheck::new(token, &info.expires_at));
    let Some(check) = check else {
        return Ok(Arc::new(ResolvedKey::new(secret, session.caller)));
    };
    check.role_use_recorded_at.store(
        OffsetDateTime::now_utc().unix_timestamp(),
        Ordering::Relaxed,
    );
    let resolved = Arc::new(ResolvedKey::for_session(secret, session.caller, check));
    state
        .credentials
        .insert(&guard, access_key_id.to_string(), resolved.clone());
    Ok(resolved)
}

/// A live session's caller and its decrypted secret (to compare with a
/// Basic secret or to verify a SigV4 signature).
pub struct SessionCredentials {
    pub caller: Caller,
    pub secret: String,
}

impl std::fmt::Debug for SessionCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionCredentials({}, ***)", self.caller.access_key_id)
    }
}

/// Checks session credentials: the token must be this session's (its
/// digest compared in constant time), the session not expired
/// (`ExpiredToken`), not revoked, and its role or user must still exist.
pub async fn session_credentials(
    state: &OpContext,
    access_key_id: &str,
    token: &str,
    origin: Origin,
) -> ApiResult<SessionCredentials> {
    let record = state
        .store
        .get_session_record(access_key_id)
        .await?
        .ok_or_else(invalid_key)?;
    if !secrets_equal(&record.session.token_sha256, &token_digest(token)) {
        return Err(invalid_key());
    }
    let now = format_time_ms(time::OffsetDateTime::now_utc());
    if record.session.expires_at <= now {
        return Err(expired_token());
    }
    let revoked = record.session.revoked_at.is_some()
        || record
            .sessions_revoked_before
            .as_ref()
            .is_some_and(|before| record.session.issued_at < *before);
    if revoked {
        return Err(ApiError::unauthenticated(
            "InvalidClientTokenId",
            "The security token included in the request has been revoked.",
        ));
    }
    let secret = state
        .master_key
        .open(access_key_id, &record.session.secret_ciphertext)
        .map_err(ApiError::Unexpected)?;
    let caller = session_caller(record, origin)?;
    Ok(SessionCredentials { caller, secret })
}

/// Builds the caller of a session row (AWS-IAM-NOTES §5.2).
fn session_caller(record: SessionRecord, origin: Origin) -> ApiResult<Caller> {
    let SessionRecord {
        session: s,
        is_management,
        role_name,
        role_path,
        user_name,
        user_path,
        ..
    } = record;
    let info = Arc::new(SessionInfo {
        tags: s.tag_list(),
        transitive_tag_keys: s.transitive_keys(),
        issued_at: s.issued_at.clone(),
        expires_at: s.expires_at.clone(),
        source_identity: s.source_identity.clone(),
        session_policies: s.session_policies.as_deref().map(Arc::from),
        federated_provider: s
            .issuer_arn
            .contains(":oidc-provider/")
            .then(|| s.issuer_arn.clone()),
        mfa_authenticated_at: s.mfa_authenticated_at.clone(),
        from_get_session_token: s.issued_by.as_deref() == Some(ISSUED_BY_GET_SESSION_TOKEN),
    });
    let account = &s.account_id;
    let (arn, user_id, kind) = match (&s.role_id, &s.user_id) {
        (Some(role_id), _) => {
            // The role was deleted (or re-created with a new id).
            let (Some(name), Some(path)) = (role_name, role_path) else {
                return Err(invalid_key());
            };
            (
                format!(
                    "arn:aws:sts::{account}:assumed-role/{name}/{}",
                    s.session_name
                ),
                format!("{role_id}:{}", s.session_name),
                CallerKind::AssumedRole {
                    role_id: role_id.clone(),
                    role_arn: Arn::iam(account, "role", &path, &name).to_string(),
                    role_name: name,
                    session_name: s.session_name.clone(),
                    chained: s.chained,
                    session: info,
                },
            )
        }
        (None, Some(uid)) => {
            let (Some(name), Some(path)) = (user_name, user_path) else {
                return Err(invalid_key());
            };
            (
                Arn::iam(account, "user", &path, &name).to_string(),
                uid.clone(),
                CallerKind::UserSession {
                    user_id: uid.clone(),
                    name,
                    session: info,
                },
            )
        }
        (None, None) => (
            Arn::root(account).to_string(),
            account.clone(),
            CallerKind::RootSession { session: info },
        ),
    };
    let identity = CallerIdentity::new(
        s.account_id,
        arn,
        user_id,
        kind,
        s.access_key_id,
        is_management,
    );
    Ok(Caller::new(
        identity,
        origin.source_ip,
        origin.secure_transport,
    ))
}

/// Records a role's last use (IAM's RoleLastUsed): a session of the role
/// authenticated a request. At most once a minute per role, like keys.
async fn record_role_use(state: &OpContext, role_id: &str, region: &str) {
    let key = format!("role:{role_id}");
    if state.credentials.recently_recorded.get(&key).is_some() {
        return;
    }
    state.credentials.recently_recorded.insert(key, ());
    // Boxed: once a minute, and its future is large.
    if let Err(e) = Box::pin(state.store.record_role_use(role_id, &now(), region)).await {
        tracing::warn!(role_id = %role_id, error = ?e, "recording role use failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_expiry_parses_so_sessions_are_cached() {
        // A stored expiry that did not parse would leave every session
        // uncached: correct, but as slow as before.
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
            + time::Duration::milliseconds(123);
        let check = SessionCheck::new("token", &format_time_ms(at)).expect("parses");
        assert_eq!(check.expires_at, at);
        assert!(secrets_equal(&check.token_sha256, &token_digest("token")));
        assert!(!secrets_equal(&check.token_sha256, &token_digest("token2")));
    }
}
