//! Turns request credentials into a `Caller`. Front ends pass the pieces of
//! the request they received; no framework type crosses this boundary.

use std::net::IpAddr;

use crate::auth::basic::parse_basic;
use crate::auth::crypto::secrets_equal;
use crate::auth::{Caller, CallerKind};
use crate::domain::{now, AccessKey, Arn};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

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

/// Authenticates an `Authorization` header value.
pub async fn authenticate(
    state: &AppState,
    authorization: Option<&str>,
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
    let secret = long_term_secret(state, &creds.access_key_id).await?;
    if !secrets_equal(&secret.1, &creds.secret) {
        return Err(ApiError::unauthenticated(
            "SignatureDoesNotMatch",
            "The secret access key does not match the access key id.",
        ));
    }
    caller_for_key(state, secret.0, origin).await
}

/// The active long-term key and its decrypted secret; unknown and inactive
/// keys fail alike, as in AWS.
pub async fn long_term_secret(
    state: &AppState,
    access_key_id: &str,
) -> ApiResult<(AccessKey, String)> {
    let key = state
        .store
        .get_access_key(access_key_id)
        .await?
        .filter(|k| k.status == "Active")
        .ok_or_else(invalid_key)?;
    let secret = state
        .master_key
        .open(&key.access_key_id, &key.secret_ciphertext)
        .map_err(ApiError::Unexpected)?;
    Ok((key, secret))
}

/// Records a key's last use (IAM's AccessKeyLastUsed). Timestamps are
/// `YYYY-MM-DDTHH:MM:SSZ`; writing at most once a minute per key keeps
/// every authenticated read from becoming a database write. A failed write
/// is logged and does not fail the request.
async fn record_use(state: &AppState, key: &AccessKey) {
    let now = now();
    if key
        .last_used_at
        .as_deref()
        .is_some_and(|last| last.get(..16) == now.get(..16))
    {
        return;
    }
    if let Err(e) = state
        .store
        .record_access_key_use(&key.access_key_id, &now, "iam", &state.config.region)
        .await
    {
        tracing::warn!(access_key_id = %key.access_key_id, error = ?e, "recording key use failed");
    }
}

/// Builds the caller behind a verified long-term key.
pub async fn caller_for_key(state: &AppState, key: AccessKey, origin: Origin) -> ApiResult<Caller> {
    record_use(state, &key).await;
    let account = state
        .store
        .get_account(&key.account_id)
        .await?
        .ok_or_else(invalid_key)?;
    let (arn, user_id, kind) = match &key.user_id {
        None => (
            Arn::root(&account.id).to_string(),
            account.id.clone(),
            CallerKind::Root,
        ),
        Some(uid) => {
            let user = state
                .store
                .get_user_by_id(uid)
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
