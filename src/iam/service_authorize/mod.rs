//! `POST /v1/authorize`: a platform service asks whether a request it
//! received may proceed. latchkey identifies the service's caller (by the
//! SigV4 signature of the forwarded request, or by its access key), fills
//! the context itself and decides one action on one resource. The service
//! holds no secret of its callers.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

mod reply;

use reply::WireName as _;
pub use reply::{AuthorizeOutcome, AuthorizeResponse, MatchedStatementView, SubjectPrincipal};

use super::authorize::{decide, Question};
use super::simulate::{check_context, check_document_size, ContextEntry};
use crate::audit::{AuditDecision, AuditEvent};
use crate::auth::authenticate::{resolve_access_key_in, verify_claim_in};
use crate::auth::sigv4::{ascii, parse_claim, SignedRequest};
use crate::auth::Caller;
use crate::config::AuditAuthorize;
use crate::error::{ApiError, ApiResult};
use crate::policy::limits::MAX_RESOURCE_POLICY_SIZE;
use crate::policy::{CompiledPolicy, PolicyDocument, PolicySource, RequestContext, SourceKind};
use crate::state::OpContext;

// The request types borrow their strings from the body (`JsonBytes`):
// one decision per request is the hot path, and a forwarded request is a
// dozen strings. `Cow` so that a string with JSON escapes still parses.

/// A request the service received, as its caller signed it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardedRequest<'a> {
    #[serde(borrow)]
    #[schema(value_type = String, example = "GET")]
    pub method: Cow<'a, str>,
    /// The URL as received: `https://host/path?query` or `/path?query`,
    /// still percent-encoded.
    #[serde(borrow)]
    #[schema(value_type = String, example = "https://storage.internal/bucket/report.csv")]
    pub url: Cow<'a, str>,
    /// Every header as received (at least the signed ones).
    #[serde(borrow, deserialize_with = "header_list")]
    #[schema(value_type = BTreeMap<String, String>)]
    pub headers: Vec<Header<'a>>,
    /// The body, when small; or give `body_sha256`.
    #[serde(borrow)]
    #[schema(value_type = Option<String>)]
    pub body: Option<Cow<'a, str>>,
    /// Hex SHA-256 of the body.
    #[serde(borrow)]
    #[schema(value_type = Option<String>)]
    pub body_sha256: Option<Cow<'a, str>>,
}

impl<'a> ForwardedRequest<'a> {
    /// The headers as `SignedRequest` takes them, with `host` taken from
    /// an absolute URL when no header gives it: signers such as botocore
    /// sign `host` from the URL without adding the header, and a
    /// forwarding service often passes the URL and the signed headers
    /// only. Both come from the same forwarded request, so a `host` header
    /// that is present always wins and must match the signature.
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        let mut pairs: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .collect();
        if !pairs.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            if let Some(host) = url_host(&self.url) {
                pairs.push(("host", host));
            }
        }
        pairs
    }

    /// The request to verify, over `headers` (from [`Self::header_pairs`],
    /// perhaps completed).
    pub fn signed<'r>(&'r self, headers: &'r [(&'r str, &'r str)]) -> SignedRequest<'r> {
        let (path, query) = path_and_query(&self.url);
        SignedRequest {
            method: &self.method,
            path,
            query,
            headers,
            body: self.body.as_deref().unwrap_or("").as_bytes(),
            body_sha256: if self.body.is_some() {
                None
            } else {
                self.body_sha256.as_deref()
            },
        }
    }
}

/// A header's name and value.
pub type Header<'a> = (Cow<'a, str>, Cow<'a, str>);

/// A JSON object of header names to values, in the order given, borrowing
/// each string when it has no escapes.
fn header_list<'de, D>(deserializer: D) -> Result<Vec<Header<'de>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

    struct Headers;
    impl<'de> serde::de::Visitor<'de> for Headers {
        type Value = Vec<Header<'de>>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of header names to string values")
        }

        fn visit_map<M: serde::de::MapAccess<'de>>(
            self,
            mut map: M,
        ) -> Result<Self::Value, M::Error> {
            let mut out = Vec::with_capacity(map.size_hint().unwrap_or(8));
            while let Some((Text(name), Text(value))) = map.next_entry()? {
                out.push((name, value));
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Headers)
}

/// Credentials the service has already checked by other means.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectCredentials<'a> {
    #[serde(borrow)]
    #[schema(value_type = String)]
    pub access_key_id: Cow<'a, str>,
    #[serde(borrow)]
    #[schema(value_type = Option<String>)]
    pub session_token: Option<Cow<'a, str>>,
}

impl std::fmt::Debug for SubjectCredentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = crate::domain::AccessKeyId::recordable(&self.access_key_id);
        write!(f, "SubjectCredentials({id}, token: ***)")
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest<'a> {
    #[serde(borrow)]
    pub signed_request: Option<ForwardedRequest<'a>>,
    #[serde(borrow)]
    pub credentials: Option<SubjectCredentials<'a>>,
    #[serde(borrow)]
    #[schema(value_type = String, example = "s3:GetObject")]
    pub action: Cow<'a, str>,
    #[serde(borrow)]
    #[schema(value_type = String, example = "arn:aws:s3:::bucket/report.csv")]
    pub resource: Cow<'a, str>,
    /// Request keys the service knows (e.g. `s3:prefix`). Keys latchkey
    /// derives itself (`aws:PrincipalArn`, `aws:SourceIp`, ...) cannot be set.
    #[serde(default)]
    pub context: BTreeMap<String, ContextEntry>,
    /// The caller's address as the service saw it; becomes `aws:SourceIp`.
    #[serde(borrow)]
    #[schema(value_type = Option<String>)]
    pub source_ip: Option<Cow<'a, str>>,
    /// The resource's own policy (e.g. a bucket policy).
    #[schema(value_type = Option<Object>)]
    #[serde(
        default,
        deserialize_with = "crate::policy::validate::strict_document_opt"
    )]
    pub resource_policy: Option<Value>,
    /// The account owning the resource (default: the caller's).
    #[serde(borrow)]
    #[schema(value_type = Option<String>)]
    pub resource_owner: Option<Cow<'a, str>>,
}

/// Keys latchkey derives; a service cannot set them.
const RESERVED_PREFIXES: &[&str] = &[
    "aws:sourceip",
    "aws:currenttime",
    "aws:epochtime",
    "aws:securetransport",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:userid",
    "aws:username",
    "aws:principaltag/",
    "aws:tokenissuetime",
    "aws:multifactorauthpresent",
    "aws:requestedregion",
];

fn is_reserved(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    RESERVED_PREFIXES.iter().any(|p| {
        if p.ends_with('/') {
            lower.starts_with(p)
        } else {
            lower == *p
        }
    })
}

fn subject_error(e: ApiError) -> ApiError {
    match e {
        ApiError::Unauthenticated { code, message } => {
            ApiError::SubjectNotAuthenticated { code, message }
        }
        other => other,
    }
}

/// The authority of an absolute URL (`https://host:port/...`); `None` for
/// a relative one, even when its query holds a URL.
pub(crate) fn url_host(url: &str) -> Option<&str> {
    split_url(url).0.filter(|host| !host.is_empty())
}

/// Splits a URL (`scheme://host/path?query`, or `/path?query`) into its
/// raw path and query. Bytewise, as it runs on every forwarded request.
pub(crate) fn path_and_query(url: &str) -> (&str, &str) {
    let (_, path, query) = split_url(url);
    (path, query)
}

/// A URL's authority (absolute URLs only), raw path (`/` when absent) and
/// query. A relative URL is never read for a scheme: `/cb?next=https://x`
/// is a path and a query.
fn split_url(url: &str) -> (Option<&str>, &str, &str) {
    let after_scheme = ascii::find(url, b':')
        .filter(|_| !url.starts_with('/'))
        .and_then(|i| url[i..].strip_prefix("://"));
    let (authority, rest) = match after_scheme {
        // The authority ends at the path's '/' or, without a path, at '?'.
        Some(authority_on) => match authority_on.bytes().position(|b| b == b'/' || b == b'?') {
            Some(j) if authority_on.as_bytes()[j] == b'?' => {
                return (Some(&authority_on[..j]), "/", &authority_on[j + 1..])
            }
            Some(j) => (Some(&authority_on[..j]), &authority_on[j..]),
            None => (Some(authority_on), "/"),
        },
        None => (None, url),
    };
    let (path, query) = ascii::split_once(rest, b'?').unwrap_or((rest, ""));
    (authority, path, query)
}

/// The subject must be of the service's own account, except for services
/// of the management account (the platform's own), which decide for every
/// account. A key of another account answers as an unknown key does
/// (`InvalidClientTokenId`), so a tenant cannot learn that it exists.
async fn identify(
    state: &OpContext,
    service: &Caller,
    req: &AuthorizeRequest<'_>,
) -> ApiResult<Caller> {
    let account = (!service.is_management_account).then_some(service.account_id.as_str());
    match (&req.signed_request, &req.credentials) {
        (Some(forwarded), None) => {
            let headers = forwarded.header_pairs();
            let signed = forwarded.signed(&headers);
            // `x-amz-content-sha256: UNSIGNED-PAYLOAD` is accepted here,
            // unlike on latchkey's own requests: this is the request another
            // service received (S3 uploads are signed that way), and that
            // service, not latchkey, acts on its body.
            let claim = parse_claim(&signed)
                .map_err(ApiError::from)
                .map_err(subject_error)?
                .ok_or_else(|| ApiError::SubjectNotAuthenticated {
                    code: "MissingAuthenticationToken",
                    message: "signed_request carries no SigV4 signature.".into(),
                })?;
            let resolved = verify_claim_in(state, &signed, &claim, account)
                .await
                .map_err(subject_error)?;
            Ok(resolved.caller.clone())
        }
        (None, Some(creds)) => Ok(resolve_access_key_in(
            state,
            &creds.access_key_id,
            creds.session_token.as_deref(),
            account,
        )
        .await
        .map_err(subject_error)?
        .caller
        .clone()),
        _ => Err(ApiError::ValidationError(
            "Give exactly one of signed_request and credentials.".into(),
        )),
    }
}

pub async fn authorize_request(
    state: &OpContext,
    service: &Caller,
    req: AuthorizeRequest<'_>,
) -> ApiResult<AuthorizeOutcome> {
    super::authorize(state, service, "latchkey:Authorize", &req.resource).await?;
    check_context(req.context.iter().map(|(k, v)| (k.as_str(), v)))?;
    if let Some(doc) = &req.resource_policy {
        check_document_size(doc, "resource_policy", MAX_RESOURCE_POLICY_SIZE)?;
    }
    let mut subject = match identify(state, service, &req).await {
        Ok(subject) => subject,
        Err(e) => {
            if let ApiError::SubjectNotAuthenticated { code, message } = &e {
                // Boxed: a failure path, with a large future.
                Box::pin(crate::auth::authenticate::record_subject_failure(
                    state,
                    code,
                    message,
                    req.credentials
                        .as_ref()
                        .map(|c| c.access_key_id.to_string()),
                    &req.resource,
                ))
                .await;
            }
            return Err(e);
        }
    };
    subject.source_ip = match &req.source_ip {
        Some(ip) => Some(ip.parse::<IpAddr>().map_err(|_| {
            ApiError::ValidationError(format!("source_ip {ip} is not an IP address."))
        })?),
        None => None,
    };
    subject.secure_transport = req
        .signed_request
        .as_ref()
        .is_some_and(|f| f.url.starts_with("https://"));
    let mut context = RequestContext::new();
    for (key, value) in &req.context {
        if is_reserved(key) {
            continue;
        }
        match value {
            ContextEntry::One(v) => context.insert(key, v.clone()),
            ContextEntry::Many(v) => context.insert_many(key, v.iter().cloned()),
        }
    }
    let resource_policy = match &req.resource_policy {
        None => None,
        Some(doc) => Some(CompiledPolicy::compile(
            &PolicyDocument::from_value(doc)?,
            PolicySource::new(SourceKind::Resource, "resource_policy"),
        )?),
    };
    let owner = req.resource_owner.as_deref().unwrap_or(&subject.account_id);
    let evaluation = decide(
        state,
        &subject,
        Question {
            action: &req.action,
            resource: &req.resource,
            context: Some(context),
            resource_policy: resource_policy.as_ref().map(|p| (p, owner)),
            target_tags: None,
        },
    )
    .await?;
    record_decision(
        state,
        service,
        &subject,
        &req,
        evaluation.decision.wire_name(),
        evaluation.is_allowed(),
    );
    Ok(AuthorizeOutcome {
        subject,
        evaluation,
    })
}

/// Counts the decision and, by the `audit_authorize` setting, queues its
/// audit record (the subject as principal, the asking service in params).
fn record_decision(
    state: &OpContext,
    service: &Caller,
    subject: &Caller,
    req: &AuthorizeRequest,
    decision: &'static str,
    allowed: bool,
) {
    state.metrics.decision(decision);
    if allowed && state.config.audit_authorize != AuditAuthorize::All {
        return;
    }
    let (outcome, code) = if allowed {
        (AuditDecision::Allowed, None)
    } else {
        (AuditDecision::Denied, Some(decision))
    };
    state.audit.record(
        AuditEvent::by(subject, &req.action, req.resource.to_string())
            .param("service", &service.arn)
            .decided(outcome, code),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_raw_path_and_query() {
        assert_eq!(
            path_and_query("https://h.example/a/b%20c?x=1&y"),
            ("/a/b%20c", "x=1&y")
        );
        assert_eq!(path_and_query("http://h.example"), ("/", ""));
        assert_eq!(path_and_query("/p?q=2"), ("/p", "q=2"));
        // A URL in the query of a relative one is not its scheme.
        assert_eq!(
            path_and_query("/cb?next=https://elsewhere/x"),
            ("/cb", "next=https://elsewhere/x")
        );
        assert_eq!(path_and_query("https://h?a=b"), ("/", "a=b"));
        assert_eq!(url_host("https://h?a=b"), Some("h"));
        assert_eq!(url_host("/cb?next=https://elsewhere/x"), None);
        assert_eq!(url_host("https:///p"), None);
    }

    #[test]
    fn derived_keys_are_reserved() {
        assert!(is_reserved("AWS:SourceIp"));
        assert!(is_reserved("aws:PrincipalTag/team"));
        assert!(!is_reserved("s3:prefix"));
        assert!(!is_reserved("aws:RequestTag/team"));
    }
}
