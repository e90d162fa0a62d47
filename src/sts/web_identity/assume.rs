//! AssumeRoleWithWebIdentity and the trust test. Both run the same
//! checks in AWS's order: the header and its algorithm, the provider by
//! the exact `iss` in the role's account, the key by `kid`, the
//! signature, the times, the audience, then the role's trust policy with
//! the token's condition keys. The operation then issues a session as
//! AssumeRole does (`sts::issue`: stored, revocable, audited); the trust
//! test issues nothing and explains.
//!
//! The token itself is never logged, stored or echoed: the audit record
//! keeps its SHA-256 digest.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::context::{explain_denial, federated, session_tags, token_context, ACTION};
use super::jwt::{decode, issuer_url, Token};
use super::refusal::Refusal;
use crate::audit::AuditEvent;
use crate::auth::Caller;
use crate::domain::oidc::OidcProvider;
use crate::domain::{format_time, Arn, Role};
use crate::error::{ApiError, ApiResult};
use crate::iam::authorize::trust_policy;
use crate::policy::{evaluate, EvaluationRequest, RequestContext, ResourcePolicy};
use crate::state::AppState;
use crate::sts::assume_role::{
    check_duration, check_params, freeze_policies, packed_percent, AssumeRoleRequest,
    AssumedRoleUser, PolicyArn,
};
use crate::sts::{issue, to_json, Credentials, SessionSpec};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebIdentityRequest {
    #[schema(example = "arn:aws:iam::123456789012:role/ci-deployer")]
    pub role_arn: String,
    /// 2 to 64 characters of `[\w+=,.@-]`.
    #[schema(example = "gha-run-42")]
    pub role_session_name: String,
    /// The OIDC ID token (a signed JWT), 4 to 20000 characters. Never
    /// stored or logged; the audit record keeps its SHA-256.
    pub web_identity_token: String,
    /// 900 to the role's MaxSessionDuration; default 3600.
    pub duration_seconds: Option<i64>,
    /// An inline session policy (JSON object).
    #[schema(value_type = Option<Object>)]
    #[serde(
        default,
        deserialize_with = "crate::policy::validate::strict_document_opt"
    )]
    pub policy: Option<Value>,
    /// Up to 10 managed policies used as session policies.
    #[serde(default)]
    pub policy_arns: Vec<PolicyArn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebIdentityResponse {
    pub credentials: Credentials,
    /// The token's `sub`.
    pub subject_from_web_identity_token: String,
    pub assumed_role_user: AssumedRoleUser,
    /// The token's issuer as AWS answers it: host/path, no scheme.
    pub provider: String,
    /// The client id the token was issued to.
    pub audience: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packed_policy_size: Option<u32>,
}

/// A token that passed every check before the trust policy.
pub struct Verified {
    pub provider: OidcProvider,
    pub token: Token,
    pub audience: String,
    pub context: RequestContext,
}

pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The role an ARN names, or None.
async fn role_of(state: &AppState, arn: &Arn) -> ApiResult<Option<Role>> {
    let wanted = arn.to_string();
    Ok(
        crate::iam::cached::role_by_name(state, &arn.account, arn.resource_name())
            .await?
            .filter(|r| r.arn().to_string() == wanted),
    )
}

/// The token checks up to (not including) the trust policy, against the
/// providers of `account_id`. `Err(Ok(refusal))` is a refusal,
/// `Err(Err(e))` a server fault.
pub async fn verify(
    state: &AppState,
    account_id: &str,
    raw: &str,
    found: &mut Option<OidcProvider>,
) -> Result<Verified, Result<Refusal, ApiError>> {
    let token = decode(raw).map_err(Ok)?;
    let iss = token.claim_str("iss").unwrap_or_default().to_string();
    let url = issuer_url(&iss).ok_or_else(|| Ok(Refusal::IssuerUnknown(iss.clone())))?;
    let provider = state
        .store
        .get_oidc_provider(account_id, &url)
        .await
        .map_err(|e| Err(e.into()))?
        .ok_or_else(|| Ok(Refusal::IssuerUnknown(iss.clone())))?;
    *found = Some(provider.clone());
    let keys = state
        .web_identity_keys
        .keys_for(&provider, token.kid.as_deref(), token.alg)
        .await
        .map_err(Ok)?;
    let mut verified = Err(Refusal::SignatureInvalid);
    for key in &keys {
        verified = token.verify(key);
        if verified.is_ok() {
            break;
        }
    }
    verified.map_err(Ok)?;
    let now = time::OffsetDateTime::now_utc();
    token.check_times(now.unix_timestamp()).map_err(Ok)?;
    let audience = token
        .matched_client(&provider.client_id_list())
        .map_err(Ok)?
        .to_string();
    let mut context = RequestContext::new();
    context.insert("aws:CurrentTime", format_time(now));
    context.insert("aws:EpochTime", now.unix_timestamp().to_string());
    token_context(&mut context, &provider, &token, &audience);
    Ok(Verified {
        provider,
        token,
        audience,
        context,
    })
}

/// The trust policy's decision on the verified token, for each action the
/// call needs; a denial explained down to the condition key. `seen` gets
/// the engine's evaluation of the action that decided (the denying one,
/// or the last allowed).
pub fn decide_trust(
    state: &AppState,
    role: &Role,
    v: &Verified,
    actions: &[&str],
    seen: &mut Option<crate::policy::Evaluation>,
) -> Result<(), Result<Refusal, ApiError>> {
    let trust = trust_policy(state, role).map_err(Err)?;
    let principal = federated(&v.provider);
    let role_arn = role.arn().to_string();
    for action in actions {
        let evaluation = evaluate(&EvaluationRequest {
            principal: &principal,
            action,
            resource: &role_arn,
            context: &v.context,
            identity: &[],
            boundary: None,
            session: None,
            resource_policy: Some(ResourcePolicy {
                policy: &trust,
                owner_account: &role.account_id,
            }),
        });
        let denial = evaluation.denial_reason(action);
        *seen = Some(evaluation);
        if let Some(reason) = denial {
            return Err(Ok(explain_denial(
                &role.trust_policy,
                &role_arn,
                &role.account_id,
                &principal,
                &v.context,
                action,
                reason,
            )));
        }
    }
    Ok(())
}

fn refused(state: &AppState, refusal: &Refusal, event: &AuditEvent, role_arn: &str) -> ApiError {
    state
        .metrics
        .web_identity_refusals
        .get_or_create(&crate::runtime::metrics::ReasonLabels {
            reason: refusal.label(),
        })
        .inc();
    let error = refusal.to_error(role_arn);
    let mut failed = event.clone().failed_with(&error);
    failed.set_param("refusal", refusal.reason().into());
    state.audit.record(failed);
    tracing::info!(role_arn, reason = %refusal.reason(), "web identity refused");
    error
}

/// AssumeRoleWithWebIdentity: no caller, the token is the credential.
pub async fn assume_role_with_web_identity(
    state: &AppState,
    req: WebIdentityRequest,
) -> ApiResult<WebIdentityResponse> {
    let mut event = AuditEvent::anonymous(ACTION, req.role_arn.clone()).params(json!({
        "role_arn": req.role_arn,
        "role_session_name": req.role_session_name,
        "duration_seconds": req.duration_seconds,
        "policy": req.policy,
        "policy_arns": req.policy_arns.iter().map(|p| p.arn().to_string()).collect::<Vec<_>>(),
        "web_identity_sha256": token_digest(&req.web_identity_token),
    }));
    let result = run(state, &req, &mut event).await;
    match result {
        Ok(reply) => Ok(reply),
        Err(Ok(refusal)) => Err(refused(state, &refusal, &event, &req.role_arn)),
        Err(Err(e)) => {
            state.audit.record(event.failed_with(&e));
            Err(e)
        }
    }
}

async fn run(
    state: &AppState,
    req: &WebIdentityRequest,
    event: &mut AuditEvent,
) -> Result<WebIdentityResponse, Result<Refusal, ApiError>> {
    let token_len = req.web_identity_token.chars().count();
    if !(4..=20_000).contains(&token_len) {
        return Err(Err(crate::sts::model_error(
            "***",
            "webIdentityToken",
            "Member must have length between 4 and 20000",
        )));
    }
    let as_assume_role = AssumeRoleRequest {
        role_arn: req.role_arn.clone(),
        role_session_name: req.role_session_name.clone(),
        duration_seconds: req.duration_seconds,
        external_id: None,
        policy: req.policy.clone(),
        policy_arns: req.policy_arns.clone(),
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        source_identity: None,
        serial_number: None,
        token_code: None,
    };
    let checked = check_params(&as_assume_role).map_err(Err)?;
    let role = role_of(state, &checked.role_arn)
        .await
        .map_err(Err)?
        .ok_or(Ok(Refusal::RoleUnknown))?;
    // The role's owner sees the attempt in its trail.
    event.account_id = Some(role.account_id.clone());
    let mut provider = None;
    let verified = verify(
        state,
        &role.account_id,
        &req.web_identity_token,
        &mut provider,
    )
    .await;
    if let Some(p) = &provider {
        event.principal_arn = Some(p.arn());
    }
    let mut v = verified?;
    v.context
        .insert("sts:RoleSessionName", req.role_session_name.clone());
    let (tags, transitive) = session_tags(&v.token.claims).map_err(Ok)?;
    let mut actions = vec![ACTION];
    if !tags.is_empty() {
        for tag in &tags {
            v.context
                .insert(&format!("aws:RequestTag/{}", tag.key), tag.value.clone());
        }
        v.context
            .insert_many("aws:TagKeys", tags.iter().map(|t| t.key.clone()));
        actions.push("sts:TagSession");
    }
    decide_trust(state, &role, &v, &actions, &mut None)?;

    check_duration(checked.duration, false, &role).map_err(Err)?;
    let frozen = freeze_policies(
        state,
        &role,
        checked.inline_policy.as_deref(),
        &req.policy_arns,
    )
    .await
    .map_err(Err)?;
    let passed_any = frozen.is_some() || !tags.is_empty();
    let packed =
        packed_percent(checked.inline_policy.as_deref(), &req.policy_arns, &tags).map_err(Err)?;
    let subject = v.token.claim_str("sub").unwrap_or_default().to_string();
    event.set_param("subject", subject.clone().into());
    let credentials = issue(
        state,
        SessionSpec {
            account_id: role.account_id.clone(),
            role_id: Some(role.id.clone()),
            user_id: None,
            session_name: req.role_session_name.clone(),
            issuer_arn: v.provider.arn(),
            session_policies: frozen.as_ref().map(to_json).transpose().map_err(Err)?,
            tags,
            transitive_tag_keys: transitive,
            source_identity: None,
            chained: false,
            duration_seconds: checked.duration,
            mfa_authenticated_at: None,
            issued_by: "sts:AssumeRoleWithWebIdentity",
        },
        event.clone(),
    )
    .await
    .map_err(Err)?;
    tracing::info!(
        role_arn = %checked.role_arn,
        session_name = %req.role_session_name,
        provider = %v.provider.arn(),
        access_key_id = %credentials.access_key_id,
        "role assumed with web identity"
    );
    Ok(WebIdentityResponse {
        credentials,
        subject_from_web_identity_token: subject,
        assumed_role_user: AssumedRoleUser {
            arn: format!(
                "arn:aws:sts::{}:assumed-role/{}/{}",
                role.account_id, role.name, req.role_session_name
            ),
            assumed_role_id: format!("{}:{}", role.id, req.role_session_name),
        },
        provider: v.provider.url.clone(),
        audience: v.audience,
        packed_policy_size: passed_any.then_some(packed),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustTestRequest {
    /// The OIDC ID token to test. Not stored, logged or echoed.
    pub web_identity_token: String,
    /// The session name the test assumes (`sts:RoleSessionName`); default
    /// `trust-test`.
    pub role_session_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrustTestResponse {
    /// Whether AssumeRoleWithWebIdentity would issue credentials.
    pub allowed: bool,
    /// The failing step (`aud_mismatch`, `condition_failed:KEY`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The provider the token's `iss` matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_arn: Option<String>,
    /// The token's claims, decoded (the signature is not shown).
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Map<String, Value>>,
    /// The condition keys the trust policy was evaluated with.
    #[schema(value_type = Object)]
    pub context: Map<String, Value>,
    /// The engine's explanation (decision, statements, missing keys).
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Value>,
}

/// `POST /v1/roles/{role}/trust-test`: the checks and the trust decision
/// for a token, authorized like a read of the role; issues nothing.
pub async fn trust_test(
    state: &AppState,
    caller: &Caller,
    role_name: &str,
    req: TrustTestRequest,
) -> ApiResult<TrustTestResponse> {
    let role =
        crate::iam::roles::find_role_authorized(state, caller, role_name, "iam:GetRole").await?;
    let claims = decode(&req.web_identity_token).ok().map(|t| t.claims);
    let mut provider = None;
    let mut out = TrustTestResponse {
        allowed: false,
        refusal: None,
        error_code: None,
        message: None,
        provider_arn: None,
        claims,
        context: Map::new(),
        evaluation: None,
    };
    let verified = verify(
        state,
        &role.account_id,
        &req.web_identity_token,
        &mut provider,
    )
    .await;
    out.provider_arn = provider.as_ref().map(OidcProvider::arn);
    let outcome = match verified {
        Err(e) => Err(e),
        Ok(mut v) => {
            let name = req.role_session_name.as_deref().unwrap_or("trust-test");
            v.context.insert("sts:RoleSessionName", name);
            out.context = v
                .context
                .iter()
                .map(|(k, vs)| (k.to_string(), json!(vs)))
                .collect();
            let tags = session_tags(&v.token.claims);
            let mut actions = vec![ACTION];
            if tags.as_ref().is_ok_and(|(t, _)| !t.is_empty()) {
                actions.push("sts:TagSession");
            }
            match tags {
                Err(r) => Err(Ok(r)),
                Ok(_) => {
                    let mut seen = None;
                    let decided = decide_trust(state, &role, &v, &actions, &mut seen);
                    out.evaluation = seen.and_then(|e| serde_json::to_value(&e).ok());
                    decided
                }
            }
        }
    };
    match outcome {
        Ok(()) => out.allowed = true,
        Err(Ok(refusal)) => {
            let e = refusal.to_error(&role.arn().to_string());
            out.refusal = Some(refusal.reason());
            out.error_code = Some(e.code().to_string());
            out.message = Some(e.to_string());
        }
        Err(Err(e)) => return Err(e),
    }
    Ok(out)
}
