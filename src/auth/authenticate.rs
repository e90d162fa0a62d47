//! Turns request credentials into a `Caller`. Front ends pass the pieces of
//! the request they received; no framework type crosses this boundary.
//!
//! Long-term keys (AKIA) carry no token. Session keys (ASIA) must come with
//! their `X-Amz-Security-Token`; `session_credentials` checks it and is
//! shared by every way of presenting credentials (Basic here, SigV4 later).

use std::net::IpAddr;
use std::sync::Arc;

use crate::auth::basic::parse_basic;
use crate::auth::caller::SessionInfo;
use crate::auth::crypto::{secrets_equal, token_digest};
use crate::auth::{Caller, CallerKind};
use crate::domain::{format_time_ms, Arn};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::sessions::SessionRecord;

/// Where the request came from, as the front end saw it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub source_ip: Option<IpAddr>,
    pub secure_transport: bool,
}

fn invalid_key() -> ApiError {
    ApiError::unauthenticated(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )
}

fn expired_token() -> ApiError {
    ApiError::unauthenticated(
        "ExpiredToken",
        "The security token included in the request is expired",
    )
}

/// Authenticates an `Authorization` header value and, for session
/// credentials, the `X-Amz-Security-Token` header.
pub async fn authenticate(
    state: &AppState,
    authorization: Option<&str>,
    security_token: Option<&str>,
    origin: Origin,
) -> ApiResult<Caller> {
    let header = authorization.ok_or_else(|| {
        ApiError::unauthenticated(
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        )
    })?;
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ApiError::unauthenticated(
            "IncompleteSignature",
            format!("Unsupported authorization scheme {scheme:?}: use Basic or AWS4-HMAC-SHA256."),
        ));
    }
    let creds = parse_basic(rest)?;
    let mismatch = || {
        ApiError::unauthenticated(
            "SignatureDoesNotMatch",
            "The secret access key does not match the access key id.",
        )
    };
    if creds.access_key_id.starts_with("ASIA") {
        let token = security_token.ok_or_else(invalid_key)?;
        let session = session_credentials(state, &creds.access_key_id, token, origin).await?;
        if !secrets_equal(&session.secret, &creds.secret) {
            return Err(mismatch());
        }
        return Ok(session.caller);
    }
    // A token belongs to session credentials only.
    if security_token.is_some() {
        return Err(invalid_key());
    }
    let secret = long_term_secret(state, &creds.access_key_id).await?;
    if !secrets_equal(&secret.1, &creds.secret) {
        return Err(mismatch());
    }
    caller_for_key(state, secret.0, origin).await
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
    state: &AppState,
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
    Ok(Caller {
        account_id: s.account_id,
        arn,
        user_id,
        kind,
        access_key_id: s.access_key_id,
        is_management_account: is_management,
        source_ip: origin.source_ip,
        secure_transport: origin.secure_transport,
    })
}

/// The active long-term key and its decrypted secret; unknown and inactive
/// keys fail alike, as in AWS.
pub async fn long_term_secret(
    state: &AppState,
    access_key_id: &str,
) -> ApiResult<(crate::domain::AccessKey, String)> {
    let key = crate::iam::cached::access_key(state, access_key_id)
        .await?
        .filter(|k| k.status == "Active")
        .ok_or_else(invalid_key)?;
    let secret = state
        .master_key
        .open(&key.access_key_id, &key.secret_ciphertext)
        .map_err(ApiError::Unexpected)?;
    Ok((key, secret))
}

/// Builds the caller behind a verified long-term key.
pub async fn caller_for_key(
    state: &AppState,
    key: crate::domain::AccessKey,
    origin: Origin,
) -> ApiResult<Caller> {
    let account = crate::iam::cached::account(state, &key.account_id)
        .await?
        .ok_or_else(invalid_key)?;
    let (arn, user_id, kind) = match &key.user_id {
        None => (
            Arn::root(&account.id).to_string(),
            account.id.clone(),
            CallerKind::Root,
        ),
        Some(uid) => {
            let user = crate::iam::cached::user_by_id(state, uid)
                .await?
                .ok_or_else(invalid_key)?;
            (
                user.arn().to_string(),
                user.id.clone(),
                CallerKind::User {
                    user_id: user.id.clone(),
                    name: user.name.clone(),
                },
            )
        }
    };
    Ok(Caller {
        account_id: account.id,
        arn,
        user_id,
        kind,
        access_key_id: key.access_key_id,
        is_management_account: account.is_management,
        source_ip: origin.source_ip,
        secure_transport: origin.secure_transport,
    })
}
