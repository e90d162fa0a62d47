//! Turns request credentials into a `Caller`: SigV4 (header or presigned
//! query) or Basic. Front ends pass the pieces of the request they
//! received; no framework type crosses this boundary.
//!
//! Long-term keys (AKIA) carry no token. Session keys (ASIA) must come with
//! their `X-Amz-Security-Token` (header, or query when presigned), checked
//! by `session_key` whichever way the credentials were presented.
//!
//! Resolving a key (store lookups, decrypting the secret) is cached in
//! memory, bounded, and dropped on every IAM write, so a signed request
//! costs the HMACs plus a cache hit. A session key is cached the same way
//! (see [`session_key`](crate::auth::session_key)): its token's digest and
//! its expiry are checked on every request, hit or miss, and everything that
//! revokes a session is an IAM write.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::audit::{AuditDecision, AuditEvent};
use crate::auth::basic::{parse_basic, with_basic};
use crate::auth::caller::CallerIdentity;
use crate::auth::crypto::secrets_equal;
use crate::auth::session_key::{check_cached_session, resolve_session_key};
use crate::auth::sigv4::{parse_claim, SigV4Error, SignatureClaim, SignedRequest};
use crate::auth::{Caller, CallerKind};
use crate::domain::workloads::WORKLOAD_TOKEN_PREFIX;
use crate::domain::{now, AccessKey, AccessKeyId, Arn, SecretAccessKey};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;

pub use crate::runtime::resolved_key::ResolvedKey;

/// Where the request came from, as the front end saw it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub source_ip: Option<IpAddr>,
    pub secure_transport: bool,
}

/// The parts of an HTTP request that authentication reads.
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// Raw, still percent-encoded.
    pub path: &'a str,
    /// Raw query string without `?`.
    pub query: &'a str,
    pub headers: Vec<(&'a str, &'a str)>,
    /// The body; only SigV4 needs it.
    pub body: &'a [u8],
}

impl RequestParts<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// Whether the request carries a SigV4 signature (and so needs its body).
    pub fn is_sigv4(authorization: Option<&str>, query: &str) -> bool {
        authorization.is_some_and(|a| a.starts_with("AWS4-")) || query.contains("X-Amz-Signature=")
    }
}

pub(crate) fn invalid_key() -> ApiError {
    ApiError::unauthenticated(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )
}

pub(crate) fn expired_token() -> ApiError {
    ApiError::unauthenticated(
        "ExpiredToken",
        "The security token included in the request is expired",
    )
}

impl From<SigV4Error> for ApiError {
    fn from(e: SigV4Error) -> Self {
        let code = e.code();
        ApiError::unauthenticated(code, e.message().to_string())
    }
}

/// Authenticates a request: SigV4 when signed, else `Authorization: Basic`.
/// A refusal is counted by reason and audited.
pub async fn authenticate_request(
    state: &OpContext,
    parts: &RequestParts<'_>,
    origin: Origin,
) -> ApiResult<Caller> {
    let mut presented = None;
    let result = authenticate(state, parts, origin.clone(), &mut presented).await;
    if let Err(ApiError::Unauthenticated { code, message }) = &result {
        let reason = failure_reason(code, message);
        state.metrics.auth_failure(reason);
        let mut event = AuditEvent::anonymous("latchkey:Authenticate", parts.path.to_string())
            .params(serde_json::json!({ "method": parts.method, "reason": reason }))
            .decided(AuditDecision::Denied, Some(code));
        if let Some(ip) = origin.source_ip {
            event.source_ip = Some(ip.to_string());
        }
        record_auth_failure_event(state, event, presented).await;
    }
    result
}

/// The metric label of a refusal.
fn failure_reason(code: &str, message: &str) -> &'static str {
    match code {
        "MissingAuthenticationToken" => "missing",
        "IncompleteSignature" => "malformed",
        "SignatureDoesNotMatch" => "bad_signature",
        "ExpiredToken" => "expired",
        "RequestExpired" => "request_expired",
        "InvalidClientTokenId" if message.contains("revoked") => "revoked",
        "InvalidClientTokenId" => "unknown_key",
        _ => "other",
    }
}

/// Counts and audits a refused credential presented to `/v1/authorize`
/// (the subject of a service's question).
pub async fn record_subject_failure(
    state: &OpContext,
    code: &str,
    message: &str,
    access_key_id: Option<String>,
    resource: &str,
) {
    let reason = failure_reason(code, message);
    state.metrics.auth_failure(reason);
    let event = AuditEvent::anonymous("latchkey:Authenticate", resource.to_string())
        .params(serde_json::json!({ "subject": true, "reason": reason }))
        .decided(AuditDecision::Denied, Some(code));
    record_auth_failure_event(state, event, access_key_id).await;
}

/// Queues a refusal, in the account of the presented key when it exists.
/// The presented id is recorded only when it has a key id's shape (see
/// [`AccessKeyId::recordable`]): it may be a secret typed in the wrong field.
async fn record_auth_failure_event(
    state: &OpContext,
    mut event: AuditEvent,
    access_key_id: Option<String>,
) {
    if let Some(presented) = access_key_id {
        event.access_key_id = Some(AccessKeyId::recordable(&presented).into_owned());
        if let Ok(id) = AccessKeyId::parse(&presented) {
            event.account_id = account_of_key(state, id.as_str()).await;
        }
    }
    state.audit.record(event);
}

/// The account of a session or long-term key, if it exists.
async fn account_of_key(state: &OpContext, id: &str) -> Option<String> {
    if id.starts_with("ASIA") {
        state
            .store
            .get_session(id)
            .await
            .ok()
            .flatten()
            .map(|s| s.account_id)
    } else {
        state
            .store
            .get_access_key(id)
            .await
            .ok()
            .flatten()
            .map(|k| k.account_id)
    }
}

async fn authenticate(
    state: &OpContext,
    parts: &RequestParts<'_>,
    origin: Origin,
    presented: &mut Option<String>,
) -> ApiResult<Caller> {
    let signed = SignedRequest {
        method: parts.method,
        path: parts.path,
        query: parts.query,
        headers: &parts.headers,
        body: parts.body,
        body_sha256: None,
    };
    if let Some(claim) = parse_claim(&signed)? {
        *presented = Some(claim.access_key_id.to_string());
        refuse_unsigned_payload(&claim)?;
        let resolved = verify_claim(state, &signed, &claim).await?;
        return Ok(with_origin(&resolved.caller, origin));
    }
    let header = parts.header("authorization").ok_or_else(|| {
        ApiError::unauthenticated(
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        )
    })?;
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        if header.starts_with(WORKLOAD_TOKEN_PREFIX) {
            return Err(ApiError::unauthenticated(
                "InvalidClientTokenId",
                "A workload token is accepted by GET /v1/workload-credentials only.",
            ));
        }
        // A scheme-less header may be a bearer secret: never echo it.
        let named = scheme.len() <= 32
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let shown = if named {
            format!(" {scheme:?}")
        } else {
            String::new()
        };
        return Err(ApiError::unauthenticated(
            "IncompleteSignature",
            format!("Unsupported authorization scheme{shown}: use Basic or AWS4-HMAC-SHA256."),
        ));
    }
    let creds = parse_basic(rest)?;
    *presented = Some(creds.access_key_id.clone());
    let token = parts.header("x-amz-security-token");
    let resolved = resolve_access_key(state, &creds.access_key_id, token).await?;
    if !secrets_equal(resolved.secret.expose(), &creds.secret) {
        return Err(ApiError::unauthenticated(
            "SignatureDoesNotMatch",
            "The secret access key does not match the access key id.",
        ));
    }
    record_use(
        state,
        &resolved,
        &creds.access_key_id,
        "iam",
        &state.config.region,
    )
    .await;
    Ok(with_origin(&resolved.caller, origin))
}

/// latchkey's own requests must sign their body. On `/` the form body
/// carries the Action and every parameter, and on `/v1` the JSON body is
/// the operation's input: a signature over `UNSIGNED-PAYLOAD` would let
/// whoever captures a signed GetUser replay it as a CreateUser. IAM and STS
/// always hash the body, so AWS answers such a request with a signature
/// mismatch; so does latchkey, with a message that says why. (The forwarded
/// request that `/v1/authorize` checks is another service's, where S3-style
/// unsigned bodies are legitimate: that path verifies with `verify_claim`
/// and does not come through here.)
fn refuse_unsigned_payload(claim: &SignatureClaim<'_>) -> Result<(), SigV4Error> {
    if claim.unsigned_payload {
        return Err(SigV4Error::SignatureDoesNotMatch(
            "x-amz-content-sha256: UNSIGNED-PAYLOAD is not accepted: IAM and STS requests must \
             sign the SHA-256 of their body."
                .to_owned(),
        ));
    }
    Ok(())
}

/// The caller of `Authorization: Basic` credentials when all it takes is
/// in memory: the key resolved and cached, the secret matching, and its use
/// already recorded this minute. `None` means "take the full path", which
/// gives every other case (a miss, a session key, a wrong secret) its
/// answer, metrics and audit record.
pub fn cached_basic_caller(
    state: &OpContext,
    authorization: &str,
    origin: &Origin,
) -> Option<Caller> {
    let (scheme, encoded) = authorization.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let resolved = with_basic(encoded, |id, secret| {
        // A session key needs its token checked: the full path does that.
        let resolved = state.credentials.get(id).filter(|r| r.session.is_none())?;
        secrets_equal(resolved.secret.expose(), secret).then_some(resolved)
    })??;
    if !resolved.use_recorded_since(time::OffsetDateTime::now_utc().unix_timestamp()) {
        return None;
    }
    Some(
        resolved
            .caller
            .from_origin(origin.source_ip, origin.secure_transport),
    )
}

fn with_origin(caller: &Caller, origin: Origin) -> Caller {
    caller.from_origin(origin.source_ip, origin.secure_transport)
}

/// Checks a signed request's claim against its key: the key resolved (a
/// session key's token checked), the signature verified now, the key's use
/// recorded.
pub async fn verify_claim(
    state: &OpContext,
    signed: &SignedRequest<'_>,
    claim: &SignatureClaim<'_>,
) -> ApiResult<Arc<ResolvedKey>> {
    verify_claim_in(state, signed, claim, None).await
}

/// [`verify_claim`] for a key of `account` only (when given). A key of
/// another account is refused before its signature is checked or its use
/// recorded, with the answer of a key that does not exist.
pub async fn verify_claim_in(
    state: &OpContext,
    signed: &SignedRequest<'_>,
    claim: &SignatureClaim<'_>,
    account: Option<&str>,
) -> ApiResult<Arc<ResolvedKey>> {
    let resolved = resolve_access_key_in(
        state,
        &claim.access_key_id,
        claim.security_token.as_deref(),
        account,
    )
    .await?;
    resolved.verify(signed, claim, time::OffsetDateTime::now_utc())?;
    record_use(
        state,
        &resolved,
        &claim.access_key_id,
        &claim.service,
        &claim.region,
    )
    .await;
    Ok(resolved)
}

/// Finds the secret and owner of an access key: a session's (its token
/// checked), or a long-term key's from the cache or the store.
pub async fn resolve_access_key(
    state: &OpContext,
    access_key_id: &str,
    token: Option<&str>,
) -> ApiResult<Arc<ResolvedKey>> {
    if access_key_id.starts_with("ASIA") {
        let token = token.ok_or_else(invalid_key)?;
        if let Some(hit) = state.credentials.get(access_key_id) {
            check_cached_session(state, &hit, token).await?;
            return Ok(hit);
        }
        return Box::pin(resolve_session_key(state, access_key_id, token)).await;
    }
    // A token belongs to session credentials only.
    if token.is_some() {
        return Err(invalid_key());
    }
    if let Some(hit) = state
        .credentials
        .get(access_key_id)
        .filter(|r| r.session.is_none())
    {
        return Ok(hit);
    }
    // Boxed, like the session path: a cache hit should not carry (and
    // copy) the space of the store queries' futures.
    Box::pin(load_long_term_key(state, access_key_id)).await
}

/// [`resolve_access_key`] for a key of `account` only (when given): a key
/// of another account answers exactly as one that does not exist, so that
/// its existence is not revealed.
pub async fn resolve_access_key_in(
    state: &OpContext,
    access_key_id: &str,
    token: Option<&str>,
    account: Option<&str>,
) -> ApiResult<Arc<ResolvedKey>> {
    let resolved = resolve_access_key(state, access_key_id, token).await?;
    match account {
        Some(account) if resolved.caller.account_id != account => Err(invalid_key()),
        _ => Ok(resolved),
    }
}

async fn load_long_term_key(state: &OpContext, access_key_id: &str) -> ApiResult<Arc<ResolvedKey>> {
    let guard = state.cache_guard();
    let (key, secret) = long_term_secret(state, access_key_id).await?;
    let caller = caller_for_key(state, key, Origin::default()).await?;
    let resolved = Arc::new(ResolvedKey::new(secret, caller));
    state
        .credentials
        .insert(&guard, access_key_id.to_string(), resolved.clone());
    Ok(resolved)
}

/// The active long-term key and its decrypted secret; unknown and inactive
/// keys fail alike, as in AWS.
pub async fn long_term_secret(
    state: &OpContext,
    access_key_id: &str,
) -> ApiResult<(AccessKey, SecretAccessKey)> {
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
    let secret =
        SecretAccessKey::parse(&secret).map_err(|e| ApiError::Unexpected(anyhow::anyhow!(e)))?;
    Ok((key, secret))
}

/// Records a key's last use (IAM's AccessKeyLastUsed): time, service and
/// region. At most once a minute per key, so that authenticated reads do
/// not each become a database write; a failed write is logged and does not
/// fail the request. The resolved key remembers when it last recorded,
/// which spares the shared cache's lookup on the other requests of that
/// minute.
async fn record_use(
    state: &OpContext,
    resolved: &ResolvedKey,
    access_key_id: &str,
    service: &str,
    region: &str,
) {
    let second = time::OffsetDateTime::now_utc().unix_timestamp();
    if resolved.use_recorded_since(second) {
        return;
    }
    if state
        .credentials
        .recently_recorded
        .get(access_key_id)
        .is_some()
    {
        return;
    }
    state
        .credentials
        .recently_recorded
        .insert(access_key_id.to_string(), ());
    resolved.recorded_at.store(second, Ordering::Relaxed);
    // Boxed: once a minute, and its future is large.
    let now = now();
    let write = state
        .store
        .record_access_key_use(access_key_id, &now, service, region);
    if let Err(e) = Box::pin(write).await {
        tracing::warn!(access_key_id = %access_key_id, error = ?e, "recording key use failed");
    }
}

/// Builds the caller behind a verified long-term key.
pub async fn caller_for_key(
    state: &OpContext,
    key: AccessKey,
    origin: Origin,
) -> ApiResult<Caller> {
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
    let identity = CallerIdentity::new(
        account.id,
        arn,
        user_id,
        kind,
        key.access_key_id,
        account.is_management,
    );
    Ok(Caller::new(
        identity,
        origin.source_ip,
        origin.secure_transport,
    ))
}
