//! `POST /v1/identify`: identity proofs, the Vault IAM-auth pattern. A
//! caller signs an `sts:GetCallerIdentity` request with its latchkey
//! credentials, including an `x-latchkey-audience` header that names the
//! party it wants to prove itself to, and hands the signed request (not
//! its credentials) to that party. The party posts it here with the
//! audience it expects; latchkey verifies the signature itself (the URL in
//! the proof is never fetched) and answers who signed it.
//!
//! A proof is bound to its audience (the header must be signed, and must
//! equal what the verifier expects), so a proof handed to one party cannot
//! be replayed at another; it is also bound to GetCallerIdentity (it can do
//! nothing else, even if replayed to latchkey itself), and it lives 15
//! minutes at most, presigned or not.
//!
//! The verifying party does not authenticate: verifiers are often outside
//! latchkey, the answer tells nothing the proof's holder could not learn by
//! sending the proof to GetCallerIdentity itself, and nothing changes.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::authenticate::resolve_access_key;
use crate::auth::sigv4::{parse_claim, verify, MAX_CLOCK_SKEW};
use crate::error::{ApiError, ApiResult};
use crate::iam::service_authorize::ForwardedRequest;
use crate::state::OpContext;

/// The signed header that names the verifying party.
pub const AUDIENCE_HEADER: &str = "x-latchkey-audience";
pub const MAX_AUDIENCE_LEN: usize = 256;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifyRequest<'a> {
    /// The proof: a SigV4-signed `sts:GetCallerIdentity` request (method,
    /// URL, headers, body) whose signed headers include `x-latchkey-audience`.
    #[serde(borrow)]
    pub signed_request: ForwardedRequest<'a>,
    /// Who is verifying: must equal the proof's `x-latchkey-audience`.
    #[serde(borrow)]
    #[schema(value_type = String, example = "vault.platform.internal")]
    pub audience: Cow<'a, str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentifyResponse {
    #[schema(example = "123456789012")]
    pub account: String,
    #[schema(example = "arn:aws:sts::123456789012:assumed-role/ci-runner/wl-abcdefghijklmnopq")]
    pub arn: String,
    #[schema(example = "AROAJQABLZS4A3QDU576Q:wl-abcdefghijklmnopq")]
    pub user_id: String,
    /// `aws:PrincipalType`: Account, User or AssumedRole.
    #[serde(rename = "type")]
    #[schema(example = "AssumedRole")]
    pub principal_type: String,
    /// The audience the proof was made for.
    pub audience: String,
}

fn not_authentic(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::SubjectNotAuthenticated {
        code,
        message: message.into(),
    }
}

fn subject_error(e: ApiError) -> ApiError {
    match e {
        ApiError::Unauthenticated { code, message } => not_authentic(code, message),
        other => other,
    }
}

/// The `Action` of a query-protocol request: from the query string, or
/// from a form body (a body value wins, as the query front end reads it).
fn action_of(query: &str, headers: &[(&str, &str)], body: &[u8]) -> Option<String> {
    let is_form = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .is_none_or(|(_, v)| v.starts_with("application/x-www-form-urlencoded"));
    let from_query = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.into_owned());
    let from_body = is_form
        .then(|| {
            form_urlencoded::parse(body)
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v.into_owned())
        })
        .flatten();
    from_body.or(from_query)
}

pub async fn identify(state: &OpContext, req: IdentifyRequest<'_>) -> ApiResult<IdentifyResponse> {
    let audience = req.audience.trim();
    if audience.is_empty() || audience.len() > MAX_AUDIENCE_LEN {
        return Err(ApiError::ValidationError(format!(
            "audience must be 1 to {MAX_AUDIENCE_LEN} characters."
        )));
    }
    let proof = &req.signed_request;
    // `host` comes from the URL when the proof has no such header.
    let headers = proof.header_pairs();
    let signed = proof.signed(&headers);
    let claim = parse_claim(&signed)
        .map_err(ApiError::from)
        .map_err(subject_error)?
        .ok_or_else(|| {
            not_authentic(
                "MissingAuthenticationToken",
                "The proof carries no SigV4 signature.",
            )
        })?;
    if !claim.service.eq_ignore_ascii_case("sts") {
        return Err(ApiError::ValidationError(format!(
            "The proof must be signed for the sts service; its credential scope names {}.",
            claim.service
        )));
    }
    if claim.unsigned_payload {
        return Err(ApiError::ValidationError(
            "The proof must sign its body (x-amz-content-sha256: UNSIGNED-PAYLOAD is refused)."
                .into(),
        ));
    }
    match action_of(signed.query, &headers, signed.body).as_deref() {
        Some("GetCallerIdentity") => {}
        other => {
            return Err(ApiError::ValidationError(format!(
                "The proof must be an sts:GetCallerIdentity request; its Action is {}.",
                other.unwrap_or("missing")
            )))
        }
    }
    if !claim.signed_headers.iter().any(|h| h == AUDIENCE_HEADER) {
        return Err(not_authentic(
            "InvalidAudience",
            format!("The proof must sign the {AUDIENCE_HEADER} header (list it in SignedHeaders)."),
        ));
    }
    let mut values = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(AUDIENCE_HEADER))
        .map(|(_, v)| v.trim());
    let signed_audience = match (values.next(), values.next()) {
        (Some(one), None) => one,
        _ => {
            return Err(not_authentic(
                "InvalidAudience",
                format!("The proof must carry exactly one {AUDIENCE_HEADER} header."),
            ))
        }
    };
    if signed_audience != audience {
        return Err(not_authentic(
            "InvalidAudience",
            format!(
                "The proof was made for another audience than {audience}: it cannot be replayed here."
            ),
        ));
    }
    let now = time::OffsetDateTime::now_utc();
    // A presigned proof may name a long X-Amz-Expires; a proof lives 15
    // minutes whatever it says.
    if claim.timestamp < now - MAX_CLOCK_SKEW {
        return Err(not_authentic(
            "RequestExpired",
            "The proof is older than 15 minutes.",
        ));
    }
    let resolved = resolve_access_key(state, &claim.access_key_id, claim.security_token.as_deref())
        .await
        .map_err(subject_error)?;
    verify(&signed, &claim, resolved.secret.expose(), now)
        .map_err(ApiError::from)
        .map_err(subject_error)?;
    let caller = &resolved.caller;
    tracing::info!(arn = %caller.arn, audience, "identity proof verified");
    Ok(IdentifyResponse {
        account: caller.account_id.clone(),
        arn: caller.arn.clone(),
        user_id: caller.user_id.clone(),
        principal_type: caller.principal_type().to_string(),
        audience: audience.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::service_authorize::url_host;

    #[test]
    fn host_from_absolute_urls() {
        assert_eq!(
            url_host("https://sts.example:8443/?a=b"),
            Some("sts.example:8443")
        );
        assert_eq!(url_host("https://sts.example?x"), Some("sts.example"));
        assert_eq!(url_host("/relative"), None);
    }

    #[test]
    fn action_from_form_body_or_query() {
        let form = [(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )];
        assert_eq!(
            action_of("", &form, b"Action=GetCallerIdentity&Version=2011-06-15").as_deref(),
            Some("GetCallerIdentity")
        );
        assert_eq!(
            action_of("Action=GetCallerIdentity", &[], b"").as_deref(),
            Some("GetCallerIdentity")
        );
        assert_eq!(
            action_of("Action=GetCallerIdentity", &form, b"Action=AssumeRole").as_deref(),
            Some("AssumeRole")
        );
        let json = [("content-type", "application/json")];
        assert_eq!(action_of("", &json, b"Action=GetCallerIdentity"), None);
    }
}
