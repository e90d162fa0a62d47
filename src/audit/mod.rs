//! The audit trail: who did what, when, from where, and was it allowed.
//!
//! - Mutations: [`audited`] runs the store writes of one operation and its
//!   audit record in one transaction (see `store::audit`); a record that
//!   cannot be written fails the operation.
//! - Everything that is not a mutation (failed authentication, access
//!   denied, `/v1/authorize` decisions, failed operations) goes through the
//!   bounded [`AuditLog`] queue, written in batches by a background task,
//!   flushed at shutdown; overflow is counted and logged.
//!
//! No secret, token or password is ever written: request parameters go
//! through [`scrub`], which drops them and replaces policy documents by
//! their SHA-256.

pub mod query;
pub mod queue;
pub mod retention;

use std::borrow::Cow;
use std::net::IpAddr;

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

pub use crate::domain::audit::{AuditDecision, AuditEvent};
pub use queue::AuditLog;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::policy::context::ip_text;
use crate::state::OpContext;
use crate::store::audit::AuditTx;

/// What the request middleware knows that the operations do not.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub user_agent: Option<String>,
    pub peer_ip: Option<IpAddr>,
}

tokio::task_local! {
    pub(crate) static REQUEST_META: RequestMeta;
}

fn request_meta() -> RequestMeta {
    REQUEST_META.try_with(Clone::clone).unwrap_or_default()
}

/// Longest user agent kept.
const MAX_USER_AGENT: usize = 256;
/// Largest params JSON kept; beyond it only the keys are.
const MAX_PARAMS: usize = 4096;

impl AuditEvent {
    /// An allowed event of `caller` doing `action` on `resource`, in the
    /// current request.
    pub fn by(caller: &Caller, action: &str, resource: impl Into<String>) -> Self {
        let mut event = Self::anonymous(action, resource);
        event.account_id = Some(caller.account_id.clone());
        event.principal_arn = Some(caller.arn.clone());
        event.access_key_id = Some(caller.access_key_id.clone());
        if let Some(ip) = caller.source_ip {
            event.source_ip = Some(ip_text(ip));
        }
        event
    }

    /// An event of the current request with no authenticated caller.
    pub fn anonymous(action: &str, resource: impl Into<String>) -> Self {
        let meta = request_meta();
        let mut event = AuditEvent::system(action, &resource.into());
        event.request_id = crate::telemetry::current_request_id();
        event.principal_arn = None;
        event.source_ip = meta.peer_ip.map(ip_text);
        event.user_agent = meta.user_agent.map(|mut ua| {
            if ua.len() > MAX_USER_AGENT {
                let mut cut = MAX_USER_AGENT;
                while !ua.is_char_boundary(cut) {
                    cut -= 1;
                }
                ua.truncate(cut);
            }
            ua
        });
        event
    }

    /// Request parameters, scrubbed.
    pub fn params(mut self, params: Value) -> Self {
        self.params = scrub(params).to_string();
        if self.params.len() > MAX_PARAMS {
            self.params = serde_json::json!({"truncated": true}).to_string();
        }
        self
    }

    /// Parameters of one string value: what `params(json!({key: value}))`
    /// writes, without building and scrubbing a JSON tree (the per-decision
    /// path of `/v1/authorize`). A key that `scrub` would touch takes the
    /// general path.
    pub fn param(self, key: &str, value: &str) -> Self {
        if is_secret_key(key) || is_document_key(key) {
            return self.params(serde_json::json!({ key: value }));
        }
        let mut text = Vec::with_capacity(key.len() + value.len() + 8);
        text.push(b'{');
        // Writing a str to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut text, key);
        text.push(b':');
        let _ = serde_json::to_writer(&mut text, value);
        text.push(b'}');
        let mut event = self;
        event.params = String::from_utf8(text).unwrap_or_default();
        if event.params.len() > MAX_PARAMS {
            event.params = serde_json::json!({"truncated": true}).to_string();
        }
        event
    }

    /// Adds one (already safe) parameter after the fact.
    pub fn set_param(&mut self, key: &str, value: Value) {
        let mut params: Map<String, Value> = serde_json::from_str(&self.params).unwrap_or_default();
        params.insert(key.to_string(), value);
        self.params = scrub(Value::Object(params)).to_string();
    }

    pub fn decided(mut self, decision: AuditDecision, error_code: Option<&str>) -> Self {
        self.decision = decision.as_str().into();
        self.error_code = error_code.map(str::to_string);
        self
    }

    /// The same event, as it ended: denied for AccessDenied, failed otherwise.
    pub fn failed_with(self, error: &ApiError) -> Self {
        let decision = match error {
            ApiError::AccessDenied(_) => AuditDecision::Denied,
            _ => AuditDecision::Failed,
        };
        self.decided(decision, Some(error.code()))
    }
}

/// A key as the filters compare it: lower-case, without `_` and `-`.
/// Borrowed when it already is (`service`, `name`, ...): the filters run
/// for every audited `/v1/authorize` decision.
fn normalized_key(key: &str) -> Cow<'_, str> {
    if key
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Cow::Borrowed(key);
    }
    Cow::Owned(
        key.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect(),
    )
}

/// Keys whose values are never written (compared lower-case, without `_`
/// and `-`): anything that is or may hold a secret.
fn is_secret_key(key: &str) -> bool {
    let k = normalized_key(key);
    [
        "secret",
        "password",
        "token",
        "credential",
        "signature",
        "authorization",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// Keys that hold a policy document: kept as a digest, so that an auditor
/// can tell which version was written without the record carrying it.
fn is_document_key(key: &str) -> bool {
    matches!(
        &*normalized_key(key),
        "document"
            | "policy"
            | "policydocument"
            | "trustpolicy"
            | "assumerolepolicydocument"
            | "resourcepolicy"
    )
}

/// SHA-256 (hex) of a document: of the string as given, or of the JSON
/// text of an object.
pub fn document_digest(document: &Value) -> String {
    let text = match document {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Removes secrets and hashes policy documents, at any depth.
pub fn scrub(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, v) in map {
                if is_secret_key(&key) {
                    continue;
                }
                if is_document_key(&key) && !v.is_null() {
                    out.insert(key, serde_json::json!({"sha256": document_digest(&v)}));
                } else {
                    out.insert(key, scrub(v));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(scrub).collect()),
        other => other,
    }
}

/// The write pipeline: runs one mutation's store writes in a transaction
/// that commits with `event` and, when the writes changed cached state,
/// advances the change counter (`Store::audited`); then drops this node's
/// caches (`OpContext::changed_here`; other nodes drop theirs when they
/// poll the counter). A mutation that fails is recorded too (through the
/// queue, as failed or denied), since it wrote nothing to commit a record
/// with. Operations call this and nothing else to write: they neither
/// invalidate caches nor advance the counter themselves.
///
/// The recipe for a new mutation: make its store function a method of
/// `AuditTx` (`self.conn()` instead of `self.pool()`), then call it as
/// `audited(state, AuditEvent::by(caller, "svc:Action", arn), async |tx| tx.f(..).await)`.
pub async fn audited<T, E: Into<ApiError>>(
    state: &OpContext,
    event: AuditEvent,
    write: impl AsyncFnOnce(&mut AuditTx) -> Result<T, E>,
) -> ApiResult<T> {
    let failed = event.clone();
    let result = audited_unrecorded(state, event, write).await;
    if let Err(e) = &result {
        state.audit.record(failed.failed_with(e));
    }
    result
}

/// [`audited`], leaving the record of a failure to the caller: for an
/// operation that records one outcome for its checks and its write
/// together (AssumeRole, GetSessionToken, login).
pub(crate) async fn audited_unrecorded<T, E: Into<ApiError>>(
    state: &OpContext,
    event: AuditEvent,
    write: impl AsyncFnOnce(&mut AuditTx) -> Result<T, E>,
) -> ApiResult<T> {
    let (out, advance) = state
        .store
        .audited_change(event, async |tx| write(tx).await.map_err(Into::into))
        .await?;
    if let Some(advance) = advance {
        state.changed_here(advance).await;
    }
    Ok(out)
}

/// Records an access denied (through the queue).
pub fn denied(state: &OpContext, caller: &Caller, action: &str, resource: &str) {
    state.metrics.access_denied.inc();
    state.audit.record(
        AuditEvent::by(caller, action, resource)
            .decided(AuditDecision::Denied, Some("AccessDenied")),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scrub_drops_secrets_and_hashes_documents() {
        let out = scrub(json!({
            "name": "alice",
            "password": "p",
            "secret_access_key": "s",
            "SessionToken": "t",
            "nested": {"new-password": "x", "keep": 1},
            "document": {"Version": "2012-10-17"},
            "trust_policy": "{\"a\":1}",
            "policy": null,
        }));
        assert_eq!(out["name"], "alice");
        assert!(out.get("password").is_none());
        assert!(out.get("secret_access_key").is_none());
        assert!(out.get("SessionToken").is_none());
        assert_eq!(out["nested"], json!({"keep": 1}));
        assert_eq!(
            out["document"]["sha256"],
            document_digest(&json!({"Version": "2012-10-17"}))
        );
        assert_eq!(out["trust_policy"]["sha256"].as_str().unwrap().len(), 64);
        assert!(out["policy"].is_null());
    }

    #[test]
    fn key_filters_ignore_case_and_separators() {
        assert!(is_secret_key("Secret-Access_Key"));
        assert!(is_secret_key("sessiontoken"));
        assert!(!is_secret_key("service"));
        assert!(is_document_key("Policy_Document"));
        assert!(is_document_key("trust-policy"));
        assert!(!is_document_key("policy2"));
    }

    #[test]
    fn one_param_is_what_params_writes() {
        for (key, value) in [
            ("service", "arn:aws:iam::123456789012:user/storage"),
            ("x", "quote \" back\\slash \u{1} é"),
            ("password", "p"),
            ("policy", "{}"),
        ] {
            let fast = AuditEvent::system("a", "r").param(key, value);
            let general = AuditEvent::system("a", "r").params(json!({ key: value }));
            assert_eq!(fast.params, general.params, "{key}");
        }
        let long = AuditEvent::system("a", "r").param("x", &"y".repeat(10_000));
        assert_eq!(long.params, r#"{"truncated":true}"#);
    }

    #[test]
    fn huge_params_are_cut() {
        let event = AuditEvent::system("a", "r").params(json!({"x": "y".repeat(10_000)}));
        assert_eq!(event.params, r#"{"truncated":true}"#);
    }
}
