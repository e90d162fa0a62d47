//! AssumeRole (AWS-IAM-NOTES §6.5, §7.1, §7.2; durations §2.4; session
//! policies §2.5; session tags and source identity §5.3).
//!
//! The role's trust policy is the resource side of `sts:AssumeRole` and
//! must always allow; the engine applies the rest of §6.5: a same-account
//! trust that names the caller suffices alone, one that names only the
//! account (or any cross-account call) also needs the caller's identity
//! policies, root credentials never assume roles, and explicit denies win
//! wherever they are.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::session_token::{check_mfa_params, mfa_failed};
use super::{
    check_duration_range, check_token_param, issue_then, model_error, to_json, Credentials,
    SessionSpec,
};
use crate::audit::AuditEvent;
use crate::auth::{Caller, CallerKind};
use crate::domain::tags::{validate_tags, MAX_TAGS};
use crate::domain::{format_time_ms, Arn, FrozenPolicy, Role, Tag};
use crate::error::{ApiError, ApiResult};
use crate::iam::authorize::{identity_side, trust_policy, IdentitySide};
use crate::iam::documents::validated_text;
use crate::policy::validate::{policy_size, SESSION_POLICY_MAX};
use crate::policy::{
    evaluate, CompiledPolicy, EvaluationRequest, PolicyType, Principal, RequestContext,
    ResourcePolicy,
};
use crate::state::OpContext;

pub const DEFAULT_DURATION: i64 = 3600;
pub const MIN_DURATION: i64 = 900;
/// The model's ceiling; the role's MaxSessionDuration is the real one.
pub const MAX_DURATION: i64 = 43200;
/// Role chaining caps sessions at one hour (§2.4).
pub const CHAINED_MAX_DURATION: i64 = 3600;
pub const MAX_POLICY_ARNS: usize = 10;
/// The budget behind `packed_policy_size`. AWS's packing cannot be
/// reproduced (§2.5); this one is deterministic: compact session policy
/// bytes plus policy ARN bytes plus session tag key and value bytes.
pub const PACKED_BUDGET: usize = 4096;

/// A managed session policy: `"arn"` or AWS's `{"arn": "..."}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PolicyArn {
    Arn(String),
    Descriptor { arn: String },
}

impl PolicyArn {
    pub fn arn(&self) -> &str {
        match self {
            PolicyArn::Arn(a) | PolicyArn::Descriptor { arn: a } => a,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssumeRoleRequest {
    #[schema(example = "arn:aws:iam::123456789012:role/deployer")]
    pub role_arn: String,
    /// 2 to 64 characters of `[\w+=,.@-]`; ends the session ARN.
    #[schema(example = "ci-build-42")]
    pub role_session_name: String,
    /// 900 to the role's MaxSessionDuration (at most 3600 when the caller
    /// is itself a role session); default 3600.
    pub duration_seconds: Option<i64>,
    /// Compared by the trust policy through `sts:ExternalId`.
    pub external_id: Option<String>,
    /// An inline session policy (JSON object): the session gets at most
    /// what the role's policies and this both allow.
    #[schema(value_type = Option<Object>)]
    #[serde(
        default,
        deserialize_with = "crate::policy::validate::strict_document_opt"
    )]
    pub policy: Option<Value>,
    /// Up to 10 managed policies (of the role's account or AWS managed)
    /// used as session policies.
    #[serde(default)]
    pub policy_arns: Vec<PolicyArn>,
    /// Session tags; need `sts:TagSession` in the trust policy.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Keys of `tags` handed down to sessions this session assumes.
    #[serde(default)]
    pub transitive_tag_keys: Vec<String>,
    /// Needs `sts:SetSourceIdentity`; fixed for the rest of a role chain.
    pub source_identity: Option<String>,
    /// The calling user's MFA device (its ARN); with `token_code`, the
    /// trust policy sees `aws:MultiFactorAuthPresent` true and the session
    /// is MFA-authenticated.
    pub serial_number: Option<String>,
    /// The device's current 6-digit code; accepted once.
    pub token_code: Option<String>,
}

impl std::fmt::Debug for AssumeRoleRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRoleRequest")
            .field("role_arn", &self.role_arn)
            .field("role_session_name", &self.role_session_name)
            .field("serial_number", &self.serial_number)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssumedRoleUser {
    #[schema(example = "arn:aws:sts::123456789012:assumed-role/deployer/ci-build-42")]
    pub arn: String,
    #[schema(example = "AROAJQABLZS4A3QDU576Q:ci-build-42")]
    pub assumed_role_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssumeRoleResponse {
    pub credentials: Credentials,
    pub assumed_role_user: AssumedRoleUser,
    /// Percentage of the packed budget that the session policies and tags
    /// use; present when any were passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packed_policy_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
}

/// The request's parameters, checked before anything is looked up.
pub(crate) struct Checked {
    pub role_arn: Arn,
    pub duration: i64,
    pub inline_policy: Option<String>,
}

pub(crate) fn check_params(req: &AssumeRoleRequest) -> ApiResult<Checked> {
    check_token_param(&req.role_session_name, "roleSessionName", 2, 64, "")?;
    let arn_len = req.role_arn.chars().count();
    if !(20..=2048).contains(&arn_len) {
        return Err(model_error(
            &req.role_arn,
            "roleArn",
            "Member must have length between 20 and 2048",
        ));
    }
    let role_arn: Arn = req
        .role_arn
        .parse()
        .ok()
        .filter(|a: &Arn| a.service == "iam" && a.resource_type() == "role")
        .ok_or_else(|| ApiError::ValidationError(format!("{} is invalid", req.role_arn)))?;
    if let Some(external_id) = &req.external_id {
        check_token_param(external_id, "externalId", 2, 1224, ":/")?;
    }
    if let Some(source) = &req.source_identity {
        check_token_param(source, "sourceIdentity", 2, 64, "")?;
        if source.to_ascii_lowercase().starts_with("aws:") {
            return Err(ApiError::ValidationError(
                "SourceIdentity must not begin with 'aws:'.".into(),
            ));
        }
    }
    let duration = req.duration_seconds.unwrap_or(DEFAULT_DURATION);
    check_duration_range(duration, MIN_DURATION, MAX_DURATION)?;
    let inline_policy = match &req.policy {
        Some(doc) => Some(validated_text(doc, PolicyType::Session)?),
        None => None,
    };
    if req.policy_arns.len() > MAX_POLICY_ARNS {
        return Err(model_error(
            &format!("{} policy ARNs", req.policy_arns.len()),
            "policyArns",
            "Member must have length less than or equal to 10",
        ));
    }
    // AWS limits the plaintext of the inline and managed session policies
    // together; whitespace does not count.
    let plaintext = inline_policy.as_deref().map(policy_size).unwrap_or(0)
        + req.policy_arns.iter().map(|p| p.arn().len()).sum::<usize>();
    if plaintext > SESSION_POLICY_MAX {
        return Err(ApiError::ValidationError(format!(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to {SESSION_POLICY_MAX} (the session policies have {plaintext} characters, whitespace excluded)"
        )));
    }
    if req.tags.len() > MAX_TAGS {
        return Err(model_error(
            &format!("{} tags", req.tags.len()),
            "tags",
            "Member must have length less than or equal to 50",
        ));
    }
    validate_tags(&req.tags).map_err(ApiError::ValidationError)?;
    if req.transitive_tag_keys.len() > MAX_TAGS {
        return Err(model_error(
            &format!("{} keys", req.transitive_tag_keys.len()),
            "transitiveTagKeys",
            "Member must have length less than or equal to 50",
        ));
    }
    for key in &req.transitive_tag_keys {
        if !req.tags.iter().any(|t| t.key.eq_ignore_ascii_case(key)) {
            return Err(ApiError::ValidationError(format!(
                "The transitive tag key {key} must be the key of a session tag passed in this request."
            )));
        }
    }
    Ok(Checked {
        role_arn,
        duration,
        inline_policy,
    })
}

/// What a calling role session hands down to the next one (§5.3).
struct Inherited {
    chained: bool,
    tags: Vec<Tag>,
    transitive_keys: Vec<String>,
    source_identity: Option<String>,
}

fn inherited(caller: &Caller, req: &AssumeRoleRequest) -> ApiResult<Inherited> {
    let CallerKind::AssumedRole { session, .. } = &caller.kind else {
        return Ok(Inherited {
            chained: false,
            tags: Vec::new(),
            transitive_keys: Vec::new(),
            source_identity: None,
        });
    };
    let is_transitive = |key: &str| {
        session
            .transitive_tag_keys
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key))
    };
    let tags: Vec<Tag> = session
        .tags
        .iter()
        .filter(|t| is_transitive(&t.key))
        .cloned()
        .collect();
    if let Some(clash) = req
        .tags
        .iter()
        .find(|t| tags.iter().any(|i| i.key.eq_ignore_ascii_case(&t.key)))
    {
        return Err(ApiError::ValidationError(format!(
            "The session tag {} is already set as a transitive tag by the calling session and cannot be changed.",
            clash.key
        )));
    }
    if let (Some(fixed), Some(asked)) = (&session.source_identity, &req.source_identity) {
        if fixed != asked {
            return Err(ApiError::ValidationError(format!(
                "The source identity of a role chain cannot change: the calling session's is {fixed}."
            )));
        }
    }
    Ok(Inherited {
        chained: true,
        transitive_keys: tags.iter().map(|t| t.key.clone()).collect(),
        tags,
        source_identity: session.source_identity.clone(),
    })
}

fn not_authorized(caller: &Caller, role_arn: &str) -> ApiError {
    ApiError::AccessDenied(format!(
        "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        caller.arn
    ))
}

/// The role an ARN names: same account, name and path. A role that does
/// not exist answers like a refusal, so that other accounts cannot probe
/// which roles exist.
async fn find_role(state: &OpContext, caller: &Caller, arn: &Arn) -> ApiResult<Role> {
    let wanted = arn.to_string();
    crate::iam::cached::role_by_name(state, &arn.account, arn.resource_name())
        .await?
        .filter(|r| r.arn().to_string() == wanted)
        .ok_or_else(|| not_authorized(caller, &wanted))
}

/// One decision on the role: `action` by `principal` with the trust policy
/// as the resource side. `identity` is None for principals without an
/// identity side (services).
pub(crate) fn decide(
    principal: &Principal,
    identity: Option<&IdentitySide>,
    context: &RequestContext,
    role: &Role,
    trust: &CompiledPolicy,
    action: &str,
) -> ApiResult<()> {
    let role_arn = role.arn().to_string();
    let policies = identity.map(IdentitySide::identity).unwrap_or_default();
    let session = identity.and_then(IdentitySide::session);
    let request = EvaluationRequest {
        principal,
        action,
        resource: &role_arn,
        context,
        identity: &policies,
        boundary: identity.and_then(|s| s.policies.boundary.as_ref()),
        session: session.as_deref(),
        resource_policy: Some(ResourcePolicy {
            policy: trust,
            owner_account: &role.account_id,
        }),
    };
    match evaluate(&request).denial_message(&principal.arn, action, &role_arn) {
        None => Ok(()),
        Some(message) => Err(ApiError::AccessDenied(message)),
    }
}

/// The STS keys of the request (§5.1, §6.5), added to the caller's own.
fn request_context(ctx: &mut RequestContext, req: &AssumeRoleRequest) {
    ctx.insert("sts:RoleSessionName", req.role_session_name.clone());
    if let Some(external_id) = &req.external_id {
        ctx.insert("sts:ExternalId", external_id.clone());
    }
    if let Some(source) = &req.source_identity {
        ctx.insert("sts:SourceIdentity", source.clone());
    }
    if !req.tags.is_empty() {
        for tag in &req.tags {
            ctx.insert(&format!("aws:RequestTag/{}", tag.key), tag.value.clone());
        }
        ctx.insert_many("aws:TagKeys", req.tags.iter().map(|t| t.key.clone()));
        ctx.insert_many("sts:TransitiveTagKeys", req.transitive_tag_keys.clone());
    }
}

pub(crate) fn check_duration(duration: i64, chained: bool, role: &Role) -> ApiResult<()> {
    if chained && duration > CHAINED_MAX_DURATION {
        return Err(ApiError::ValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".into(),
        ));
    }
    if duration > role.max_session_duration {
        return Err(ApiError::ValidationError(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .into(),
        ));
    }
    Ok(())
}

/// Freezes the session policies: the inline one and the current default
/// version of each managed one, which must be AWS managed or belong to the
/// role's account.
pub(crate) async fn freeze_policies(
    state: &OpContext,
    role: &Role,
    inline: Option<&str>,
    arns: &[PolicyArn],
) -> ApiResult<Option<Vec<FrozenPolicy>>> {
    if inline.is_none() && arns.is_empty() {
        return Ok(None);
    }
    let mut frozen = Vec::new();
    if let Some(text) = inline {
        frozen.push(FrozenPolicy {
            name: "inline session policy".into(),
            document: text.to_string(),
        });
    }
    for entry in arns {
        let arn = entry.arn();
        let policy = state
            .store
            .get_policy_by_arn(arn)
            .await?
            .filter(|p| p.is_aws_managed() || p.account_id == role.account_id)
            .ok_or_else(|| {
                ApiError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
            })?;
        let document = state
            .store
            .default_policy_document(&policy.id)
            .await?
            .ok_or_else(|| {
                ApiError::NoSuchEntity(format!("Policy {arn} has no default version."))
            })?;
        frozen.push(FrozenPolicy {
            name: arn.to_string(),
            document,
        });
    }
    Ok(Some(frozen))
}

/// The packed size as a percentage of `PACKED_BUDGET`; over 100 fails.
pub(crate) fn packed_percent(
    inline: Option<&str>,
    arns: &[PolicyArn],
    tags: &[Tag],
) -> ApiResult<u32> {
    let inline_bytes = match inline {
        // Compact JSON, so that formatting does not count.
        Some(text) => serde_json::from_str::<Value>(text)
            .map(|v| v.to_string().len())
            .unwrap_or(text.len()),
        None => 0,
    };
    let packed = inline_bytes
        + arns.iter().map(|a| a.arn().len()).sum::<usize>()
        + tags
            .iter()
            .map(|t| t.key.len() + t.value.len())
            .sum::<usize>();
    let percent = packed.saturating_mul(100).div_ceil(PACKED_BUDGET);
    if percent > 100 {
        return Err(ApiError::PackedPolicyTooLarge(format!(
            "Packed size of the session policies and session tags consumes {percent}% of the allotted space."
        )));
    }
    Ok(percent as u32)
}

/// AssumeRole, audited: the session and its record commit together; a
/// refusal or a failure is recorded through the queue. The write goes
/// through the write pipeline (`sts::issue`), which leaves the failure
/// record to this function: the checks run before the write transaction
/// (holding the write lock through a policy decision would queue every
/// AssumeRole behind it), so one record covers checks and write, and
/// another account's role gets its copy of it.
pub async fn assume_role(
    state: &OpContext,
    caller: &Caller,
    req: AssumeRoleRequest,
) -> ApiResult<AssumeRoleResponse> {
    let event = AuditEvent::by(caller, "sts:AssumeRole", req.role_arn.clone()).params(json!({
        "role_arn": req.role_arn,
        "role_session_name": req.role_session_name,
        "duration_seconds": req.duration_seconds,
        "policy": req.policy,
        "policy_arns": req.policy_arns.iter().map(|p| p.arn().to_string()).collect::<Vec<_>>(),
        "tags": req.tags,
        "transitive_tag_keys": req.transitive_tag_keys,
        "source_identity": req.source_identity,
        "serial_number": req.serial_number,
    }));
    let role_arn = req.role_arn.clone();
    let result = assume_role_audited(state, caller, req, event.clone()).await;
    let outcome = match &result {
        Ok(_) => event,
        Err(e) => {
            if matches!(e, ApiError::AccessDenied(_)) {
                state.metrics.access_denied.inc();
            }
            let failed = event.failed_with(e);
            state.audit.record(failed.clone());
            failed
        }
    };
    if let Some(owner) = other_owner(state, caller, &role_arn).await {
        state.audit.record(AuditEvent {
            account_id: Some(owner),
            ..outcome
        });
    }
    result
}

/// The account that owns the role `role_arn` names, when it is another
/// account's and the role exists. Across accounts the owner sees the
/// attempt too (a copy in its account), as CloudTrail shows it to both; but
/// only for a role it has: a caller must not write its parameters into the
/// trail of any account id it cares to name.
async fn other_owner(state: &OpContext, caller: &Caller, role_arn: &str) -> Option<String> {
    let arn = role_arn.parse::<Arn>().ok()?;
    if arn.account == caller.account_id || arn.service != "iam" || arn.resource_type() != "role" {
        return None;
    }
    // A lookup that fails writes no copy: the caller's own record stands.
    let role = crate::iam::cached::role_by_name(state, &arn.account, arn.resource_name())
        .await
        .ok()??;
    (role.arn().to_string() == role_arn).then(|| role.account_id.clone())
}

async fn assume_role_audited(
    state: &OpContext,
    caller: &Caller,
    req: AssumeRoleRequest,
    event: AuditEvent,
) -> ApiResult<AssumeRoleResponse> {
    let checked = check_params(&req)?;
    let parent = inherited(caller, &req)?;
    let role = find_role(state, caller, &checked.role_arn).await?;
    let user_id = match &caller.kind {
        CallerKind::User { user_id, .. } | CallerKind::UserSession { user_id, .. } => {
            Some(user_id.as_str())
        }
        _ => None,
    };
    let mfa = check_mfa_params(
        state,
        user_id,
        req.serial_number.as_deref(),
        req.token_code.as_deref(),
    )
    .await?;
    // A valid code authenticates MFA now; otherwise a calling session's
    // MFA carries over, with its original time.
    let mfa_at = match &mfa {
        Some(_) => Some(format_time_ms(time::OffsetDateTime::now_utc())),
        None => caller
            .session()
            .and_then(|s| s.mfa_authenticated_at.clone()),
    };

    // The decision: sts:AssumeRole, then sts:TagSession and
    // sts:SetSourceIdentity when the call uses them.
    let trust = trust_policy(state, &role)?;
    let mut side = identity_side(state, caller, RequestContext::new()).await?;
    request_context(&mut side.context, &req);
    if mfa.is_some() {
        side.context.insert("aws:MultiFactorAuthPresent", "true");
        side.context.insert("aws:MultiFactorAuthAge", "0");
    }
    let principal = caller.engine_principal();
    let mut actions = vec!["sts:AssumeRole"];
    if !req.tags.is_empty() {
        actions.push("sts:TagSession");
    }
    if req.source_identity.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    for action in actions {
        decide(principal, Some(&side), &side.context, &role, &trust, action)?;
    }

    check_duration(checked.duration, parent.chained, &role)?;
    let frozen = freeze_policies(
        state,
        &role,
        checked.inline_policy.as_deref(),
        &req.policy_arns,
    )
    .await?;
    let mut tags = parent.tags;
    tags.extend(req.tags.iter().cloned());
    let mut transitive = parent.transitive_keys;
    transitive.extend(req.transitive_tag_keys.iter().cloned());
    let passed_any = frozen.is_some() || !tags.is_empty();
    let packed = packed_percent(checked.inline_policy.as_deref(), &req.policy_arns, &tags)?;
    let source_identity = parent.source_identity.or(req.source_identity);

    let credentials = issue_then(
        state,
        SessionSpec {
            account_id: role.account_id.clone(),
            role_id: Some(role.id.clone()),
            user_id: None,
            session_name: req.role_session_name.clone(),
            issuer_arn: caller.arn.clone(),
            session_policies: frozen.as_ref().map(to_json).transpose()?,
            tags,
            transitive_tag_keys: transitive,
            source_identity: source_identity.clone(),
            chained: parent.chained,
            duration_seconds: checked.duration,
            mfa_authenticated_at: mfa_at,
            issued_by: "sts:AssumeRole",
        },
        event,
        async |tx, _| match &mfa {
            Some(code) if !code.accept(tx).await? => Err(mfa_failed()),
            _ => Ok(()),
        },
    )
    .await?;
    tracing::info!(
        role_arn = %checked.role_arn,
        session_name = %req.role_session_name,
        issuer = %caller.arn,
        access_key_id = %credentials.access_key_id,
        "role assumed"
    );
    Ok(AssumeRoleResponse {
        assumed_role_user: AssumedRoleUser {
            arn: format!(
                "arn:aws:sts::{}:assumed-role/{}/{}",
                role.account_id, role.name, req.role_session_name
            ),
            assumed_role_id: format!("{}:{}", role.id, req.role_session_name),
        },
        credentials,
        packed_policy_size: passed_any.then_some(packed),
        source_identity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{PolicySource, PrincipalKind, SourceKind};

    fn role(trust: &str) -> (Role, CompiledPolicy) {
        let role = Role {
            id: "AROAAAAAAAAAAAAAAAAAA".into(),
            account_id: "111122223333".into(),
            name: "svc".into(),
            path: "/".into(),
            trust_policy: trust.into(),
            description: None,
            max_session_duration: 3600,
            permissions_boundary: None,
            created_at: String::new(),
            last_used_at: None,
            last_used_region: None,
        };
        let compiled =
            CompiledPolicy::from_json(trust, PolicySource::new(SourceKind::Trust, "t")).unwrap();
        (role, compiled)
    }

    fn service(name: &str) -> Principal {
        Principal {
            arn: name.into(),
            account: String::new(),
            unique_id: String::new(),
            kind: PrincipalKind::Service,
        }
    }

    /// §6.5's service row: a `{"Service": ...}` trust admits that service,
    /// which has no identity side; nobody else gets in through it.
    #[test]
    fn service_principals_are_admitted_by_a_service_trust_only() {
        let (r, trust) = role(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
                "Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        );
        let ctx = RequestContext::new();
        let ec2 = service("ec2.amazonaws.com");
        assert!(decide(&ec2, None, &ctx, &r, &trust, "sts:AssumeRole").is_ok());
        let lambda = service("lambda.amazonaws.com");
        let denied = decide(&lambda, None, &ctx, &r, &trust, "sts:AssumeRole").unwrap_err();
        assert!(denied
            .to_string()
            .ends_with("because no role trust policy allows the sts:AssumeRole action"));
        let (r, trust) = role(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
                "Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}"#,
        );
        assert!(decide(&ec2, None, &ctx, &r, &trust, "sts:AssumeRole").is_err());
    }

    #[test]
    fn packed_size_is_a_percentage_with_a_ceiling() {
        let tag = |k: &str, v: &str| Tag {
            key: k.into(),
            value: v.into(),
        };
        assert_eq!(packed_percent(None, &[], &[]).unwrap(), 0);
        // Formatting does not count: compact JSON is measured.
        let spaced = r#"{ "Version" : "2012-10-17",   "Statement" : [] }"#;
        let compact = r#"{"Version":"2012-10-17","Statement":[]}"#;
        assert_eq!(
            packed_percent(Some(spaced), &[], &[]).unwrap(),
            packed_percent(Some(compact), &[], &[]).unwrap()
        );
        assert_eq!(packed_percent(None, &[], &[tag("k", "v")]).unwrap(), 1);
        let big: Vec<Tag> = (0..50)
            .map(|i| tag(&format!("key{i:03}{}", "k".repeat(100)), &"v".repeat(200)))
            .collect();
        let e = packed_percent(None, &[], &big).unwrap_err();
        assert_eq!(e.code(), "PackedPolicyTooLarge");
    }
}
