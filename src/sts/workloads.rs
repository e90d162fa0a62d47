//! Workloads (AWS-IAM-NOTES §7.6): a VM, container or CI job registered
//! with an instance profile and the service principal that runs it. The
//! registering caller needs `iam:PassRole` on the profile's role (AWS's
//! guard against privilege escalation: nobody hands a workload a role they
//! could not pass), and the role's trust policy must trust the service.
//! The reply carries the workload's bearer token once; the store keeps its
//! SHA-256 digest only. The token fetches the role's credentials from
//! `GET /v1/workload-credentials` and does nothing else.

use std::net::IpAddr;

use ipnet::IpNet;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{check_token_param, model_error, to_json};
use crate::audit::{audited, AuditEvent};
use crate::auth::crypto::token_digest;
use crate::auth::Caller;
use crate::domain::workloads::{is_workload_id, new_workload_id, workload_arn};
use crate::domain::{format_time, format_time_ms, Arn, InstanceProfile, Role, Workload};
use crate::error::{ApiError, ApiResult};
use crate::iam::authorize::trust_policy;
use crate::iam::{authorize_found, ActionContext};
use crate::policy::{Principal, PrincipalKind, RequestContext};
use crate::state::OpContext;
use crate::store::{encode_marker, ListParams, Page};

pub use crate::domain::workloads::WORKLOAD_TOKEN_PREFIX as TOKEN_PREFIX;
/// Random bytes in a token: 256 bits.
const TOKEN_BYTES: usize = 32;
pub const MIN_TOKEN_TTL: i64 = 300;
pub const MAX_TOKEN_TTL: i64 = 31_536_000;
pub const MAX_SOURCE_CIDRS: usize = 20;

/// A workload token as handed out, once: `lkwt_<workload id>_<64 hex>`.
/// The id lets the server find the workload and compare the digest in
/// constant time; the hex is the secret.
#[derive(Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(transparent)]
pub struct WorkloadToken(String);

impl WorkloadToken {
    fn generate(workload_id: &str) -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        WorkloadToken(format!(
            "{TOKEN_PREFIX}{workload_id}_{}",
            hex::encode(bytes)
        ))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WorkloadToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkloadToken(***)")
    }
}

/// The workload id a presented token names, when it has a token's shape.
pub fn token_workload_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let shaped = is_workload_id(id)
        && secret.len() == TOKEN_BYTES * 2
        && secret.bytes().all(|b| b.is_ascii_hexdigit());
    shaped.then_some(id)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkloadRequest {
    /// A label: 1 to 128 characters of `[\w+=,.@-]`.
    #[schema(example = "build-runner-7")]
    pub name: String,
    /// The instance profile's name or ARN; it must hold a role.
    #[schema(example = "ci-runner")]
    pub instance_profile: String,
    /// The registered service principal that runs the workload; the role's
    /// trust policy must allow it `sts:AssumeRole`.
    #[schema(example = "compute.platform.internal")]
    pub service: String,
    /// The token expires this many seconds after it is issued (300 to
    /// 31536000); it never expires when absent. Rotation issues a token
    /// with the same lifetime.
    pub token_ttl_seconds: Option<i64>,
    /// The token works only from these networks (the peer address, or the
    /// first X-Forwarded-For hop from a trusted proxy); any address when
    /// empty. Up to 20 CIDRs or addresses.
    #[serde(default)]
    #[schema(example = json!(["10.0.0.0/8"]))]
    pub source_cidrs: Vec<String>,
}

/// A workload as shown; `token` only in the replies of create and rotate.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkloadResponse {
    #[schema(example = "wl-abcdefghijklmnopq")]
    pub id: String,
    pub name: String,
    #[schema(example = "arn:aws:iam::123456789012:workload/wl-abcdefghijklmnopq")]
    pub arn: String,
    pub account: String,
    pub instance_profile: String,
    pub instance_profile_arn: String,
    /// The role the workload gets, absent while the profile holds none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The session ARN its credentials carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumed_role_arn: Option<String>,
    pub service: String,
    pub source_cidrs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_ttl_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_expires_at: Option<String>,
    pub token_issued_at: String,
    /// Who registered it.
    pub created_by: String,
    pub created_at: String,
    /// The bearer token, shown in this reply only: send it as the whole
    /// `Authorization` header of `GET /v1/workload-credentials` (the AWS
    /// SDKs do, from `AWS_CONTAINER_AUTHORIZATION_TOKEN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<WorkloadToken>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateTokenRequest {
    /// A new lifetime for the token (and its later rotations); default:
    /// the workload's current one.
    pub token_ttl_seconds: Option<i64>,
}

fn now_ms() -> String {
    format_time_ms(time::OffsetDateTime::now_utc())
}

fn check_ttl(ttl: Option<i64>) -> ApiResult<()> {
    match ttl {
        Some(t) if !(MIN_TOKEN_TTL..=MAX_TOKEN_TTL).contains(&t) => Err(model_error(
            &t.to_string(),
            "tokenTtlSeconds",
            &format!("Member must have value between {MIN_TOKEN_TTL} and {MAX_TOKEN_TTL}"),
        )),
        _ => Ok(()),
    }
}

fn token_expiry(ttl: Option<i64>) -> Option<String> {
    ttl.map(|t| format_time_ms(time::OffsetDateTime::now_utc() + time::Duration::seconds(t)))
}

/// Parses the CIDRs (a bare address is its own /32 or /128), in their
/// canonical form.
pub fn parse_cidrs(items: &[String]) -> ApiResult<Vec<IpNet>> {
    if items.len() > MAX_SOURCE_CIDRS {
        return Err(model_error(
            &format!("{} CIDRs", items.len()),
            "sourceCidrs",
            &format!("Member must have length less than or equal to {MAX_SOURCE_CIDRS}"),
        ));
    }
    items
        .iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map(|n| n.trunc())
                .map_err(|_| {
                    ApiError::ValidationError(format!(
                        "source_cidrs: {s} is not a CIDR block (such as 10.0.0.0/8) or an IP address."
                    ))
                })
        })
        .collect()
}

/// The engine's principal for a service: it has no account and no
/// identity policies; only a trust policy naming it admits it. No caller
/// can ever be one: authentication only yields roots, users and sessions.
pub(crate) fn service_principal(service: &str) -> Principal {
    Principal {
        arn: service.to_string(),
        account: String::new(),
        unique_id: String::new(),
        kind: PrincipalKind::Service,
    }
}

/// Whether the role's trust policy lets `service` assume it for this
/// workload: `sts:AssumeRole` decided with the service as principal, as
/// AWS does for EC2 (§6.5's service row). The context carries what a
/// trust condition may test: the session name (the workload id), the
/// workload's account and ARN (`aws:SourceAccount`, `aws:SourceArn`, the
/// confused-deputy keys), the time and, on refresh, the workload's address.
pub(crate) fn decide_service_trust(
    state: &OpContext,
    role: &Role,
    service: &str,
    workload_account: &str,
    workload_id: &str,
    source_ip: Option<IpAddr>,
) -> ApiResult<()> {
    let trust = trust_policy(state, role)?;
    let now = time::OffsetDateTime::now_utc();
    let mut ctx = RequestContext::new();
    ctx.insert("aws:CurrentTime", format_time(now));
    ctx.insert("aws:EpochTime", now.unix_timestamp().to_string());
    ctx.insert("aws:PrincipalServiceName", service);
    ctx.insert("aws:SourceAccount", workload_account);
    ctx.insert("aws:SourceArn", workload_arn(workload_account, workload_id));
    ctx.insert("sts:RoleSessionName", workload_id);
    if let Some(ip) = source_ip {
        ctx.insert("aws:SourceIp", ip.to_string());
    }
    super::assume_role::decide(
        &service_principal(service),
        None,
        &ctx,
        role,
        &trust,
        "sts:AssumeRole",
    )
}

/// `iam:PassRole` on the role, with AWS's `iam:PassedToService` and
/// `iam:AssociatedResourceArn` keys so that a policy can say to which
/// service and which workloads a role may be passed (and the role's tags as
/// resource tags).
async fn authorize_pass_role(
    state: &OpContext,
    caller: &Caller,
    role: &Role,
    service: &str,
    workload_arn: &str,
) -> ApiResult<()> {
    let mut cx = ActionContext::new("iam:PassRole")
        .passed_to_service(service)
        .associated_resource(workload_arn);
    cx.target(&role.id, role.permissions_boundary.as_deref());
    crate::iam::authorize_with(state, caller, &role.arn().to_string(), cx).await
}

/// The profile a request names, by name or ARN, in the caller's account.
async fn find_profile(
    state: &OpContext,
    caller: &Caller,
    given: &str,
) -> ApiResult<InstanceProfile> {
    let name = if given.starts_with("arn:") {
        let arn: Arn = given
            .parse()
            .map_err(|_| ApiError::InvalidInput(format!("ARN {given} is not valid.")))?;
        if arn.service != "iam" || arn.resource_type() != "instance-profile" {
            return Err(ApiError::InvalidInput(format!(
                "{given} is not an instance profile ARN."
            )));
        }
        arn.resource_name().to_string()
    } else {
        given.to_string()
    };
    let profile = crate::iam::instance_profiles::find_profile_authorized(
        state,
        caller,
        &name,
        "iam:GetInstanceProfile",
    )
    .await?;
    if given.starts_with("arn:") && profile.arn().to_string() != given {
        return Err(ApiError::NoSuchEntity(format!(
            "Instance Profile {given} cannot be found."
        )));
    }
    Ok(profile)
}

async fn profile_role(state: &OpContext, profile: &InstanceProfile) -> ApiResult<Option<Role>> {
    match &profile.role_id {
        Some(id) => Ok(state.store.get_role_by_id(id).await?),
        None => Ok(None),
    }
}

/// Builds the reply for a workload.
pub async fn describe(
    state: &OpContext,
    w: Workload,
    token: Option<WorkloadToken>,
) -> ApiResult<WorkloadResponse> {
    let profile = state
        .store
        .get_instance_profile_by_id(&w.instance_profile_id)
        .await?
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("workload without its profile")))?;
    let role = profile_role(state, &profile).await?;
    Ok(WorkloadResponse {
        arn: w.arn(),
        source_cidrs: w.cidrs(),
        role_arn: role.as_ref().map(|r| r.arn().to_string()),
        assumed_role_arn: role.as_ref().map(|r| {
            format!(
                "arn:aws:sts::{}:assumed-role/{}/{}",
                r.account_id, r.name, w.id
            )
        }),
        instance_profile: profile.name.clone(),
        instance_profile_arn: profile.arn().to_string(),
        id: w.id,
        name: w.name,
        account: w.account_id,
        service: w.service,
        token_ttl_seconds: w.token_ttl_seconds,
        token_expires_at: w.token_expires_at,
        token_issued_at: w.token_issued_at,
        created_by: w.created_by,
        created_at: w.created_at,
        token,
    })
}

pub async fn create_workload(
    state: &OpContext,
    caller: &Caller,
    req: CreateWorkloadRequest,
) -> ApiResult<WorkloadResponse> {
    check_token_param(&req.name, "name", 1, 128, "")?;
    check_ttl(req.token_ttl_seconds)?;
    let cidrs = parse_cidrs(&req.source_cidrs)?;
    let id = new_workload_id();
    let arn = workload_arn(&caller.account_id, &id);
    crate::iam::authorize(
        state,
        caller,
        "latchkey:CreateWorkload",
        &workload_arn(&caller.account_id, "*"),
    )
    .await?;
    let profile = find_profile(state, caller, &req.instance_profile).await?;
    let service = state
        .store
        .get_service_principal(&req.service)
        .await?
        .ok_or_else(|| crate::iam::service_principals::no_such(&req.service))?;
    let role = profile_role(state, &profile).await?.ok_or_else(|| {
        ApiError::InvalidInput(format!(
            "The instance profile {} has no role: add one with AddRoleToInstanceProfile first.",
            profile.name
        ))
    })?;
    authorize_pass_role(state, caller, &role, &service.name, &arn).await?;
    decide_service_trust(state, &role, &service.name, &caller.account_id, &id, None).map_err(
        |e| match e {
            ApiError::AccessDenied(why) => ApiError::InvalidInput(format!(
                "The role {} does not trust the service principal {}: its trust policy must allow {{\"Service\": \"{}\"}} to perform sts:AssumeRole. ({why})",
                role.arn(),
                service.name,
                service.name
            )),
            other => other,
        },
    )?;
    let token = WorkloadToken::generate(&id);
    let now = now_ms();
    let workload = Workload {
        id,
        account_id: caller.account_id.clone(),
        name: req.name,
        instance_profile_id: profile.id.clone(),
        service: service.name.clone(),
        token_sha256: token_digest(token.expose()),
        token_ttl_seconds: req.token_ttl_seconds,
        token_expires_at: token_expiry(req.token_ttl_seconds),
        source_cidrs: to_json(&cidrs.iter().map(|c| c.to_string()).collect::<Vec<_>>())?,
        created_by: caller.arn.clone(),
        created_at: now.clone(),
        token_issued_at: now,
    };
    // The token is a secret: only what identifies the workload is recorded.
    let event = AuditEvent::by(caller, "latchkey:CreateWorkload", workload.arn()).params(
        serde_json::json!({
            "name": workload.name,
            "instance_profile": profile.name,
            "service": workload.service,
            "token_ttl_seconds": workload.token_ttl_seconds,
            "source_cidrs": workload.cidrs(),
        }),
    );
    audited(state, event, async |tx| tx.insert_workload(&workload).await).await?;
    tracing::info!(workload = %workload.id, profile = %profile.name, role = %role.arn(), service = %workload.service, by = %caller.arn, "workload registered");
    describe(state, workload, Some(token)).await
}

/// A workload of the caller's account, `action` authorized on it (403
/// before 404).
async fn find_workload_authorized(
    state: &OpContext,
    caller: &Caller,
    id: &str,
    action: &str,
) -> ApiResult<Workload> {
    let found = state
        .store
        .get_workload(id)
        .await?
        .filter(|w| w.account_id == caller.account_id)
        .ok_or_else(|| no_such_workload(id));
    authorize_found(
        state,
        caller,
        ActionContext::new(action),
        found,
        |w, _| w.arn(),
        || workload_arn(&caller.account_id, id),
    )
    .await
}

pub async fn get_workload(
    state: &OpContext,
    caller: &Caller,
    id: &str,
) -> ApiResult<WorkloadResponse> {
    let w = find_workload_authorized(state, caller, id, "latchkey:GetWorkload").await?;
    describe(state, w, None).await
}

pub async fn list_workloads(
    state: &OpContext,
    caller: &Caller,
    params: &ListParams,
) -> ApiResult<Page<WorkloadResponse>> {
    crate::iam::authorize(
        state,
        caller,
        "latchkey:ListWorkloads",
        &workload_arn(&caller.account_id, "*"),
    )
    .await?;
    let mut rows = state
        .store
        .list_workloads(&caller.account_id, &params.after, params.fetch_limit())
        .await?;
    let is_truncated = rows.len() as i64 > params.max_items;
    rows.truncate(params.max_items as usize);
    let marker = is_truncated
        .then(|| rows.last().map(|w| encode_marker(&w.id)))
        .flatten();
    let mut items = Vec::with_capacity(rows.len());
    for w in rows {
        items.push(describe(state, w, None).await?);
    }
    Ok(Page {
        items,
        is_truncated,
        marker,
    })
}

/// Deletes the workload: its token stops working and the sessions it
/// fetched are revoked.
pub async fn delete_workload(state: &OpContext, caller: &Caller, id: &str) -> ApiResult<()> {
    let w = find_workload_authorized(state, caller, id, "latchkey:DeleteWorkload").await?;
    let event = AuditEvent::by(caller, "latchkey:DeleteWorkload", w.arn());
    audited(state, event, async |tx| {
        match tx.delete_workload(&w.id, &now_ms()).await? {
            true => Ok(()),
            false => Err(no_such_workload(id)),
        }
    })
    .await?;
    tracing::info!(workload = %w.id, by = %caller.arn, "workload deleted");
    Ok(())
}

/// Issues a new token; the old one stops working, and the sessions fetched
/// with it are revoked (whoever may hold the old token may hold them too).
pub async fn rotate_token(
    state: &OpContext,
    caller: &Caller,
    id: &str,
    req: RotateTokenRequest,
) -> ApiResult<WorkloadResponse> {
    check_ttl(req.token_ttl_seconds)?;
    let mut w = find_workload_authorized(state, caller, id, "latchkey:RotateWorkloadToken").await?;
    let ttl = req.token_ttl_seconds.or(w.token_ttl_seconds);
    let token = WorkloadToken::generate(&w.id);
    let now = now_ms();
    let expires = token_expiry(ttl);
    let digest = token_digest(token.expose());
    let event = AuditEvent::by(caller, "latchkey:RotateWorkloadToken", w.arn())
        .params(serde_json::json!({ "token_ttl_seconds": ttl }));
    audited(state, event, async |tx| {
        match tx
            .rotate_workload_token(&w.id, &digest, ttl, expires.as_deref(), &now)
            .await?
        {
            true => Ok(()),
            false => Err(no_such_workload(id)),
        }
    })
    .await?;
    w.token_sha256 = digest;
    w.token_ttl_seconds = ttl;
    w.token_expires_at = expires;
    w.token_issued_at = now;
    tracing::info!(workload = %w.id, by = %caller.arn, "workload token rotated");
    describe(state, w, Some(token)).await
}

fn no_such_workload(id: &str) -> ApiError {
    ApiError::NoSuchEntity(format!("The workload {id} cannot be found."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_workload_and_hide_in_debug() {
        let id = new_workload_id();
        let token = WorkloadToken::generate(&id);
        assert!(token.expose().starts_with(TOKEN_PREFIX));
        assert_eq!(token_workload_id(token.expose()), Some(id.as_str()));
        assert_eq!(format!("{token:?}"), "WorkloadToken(***)");
        assert_ne!(WorkloadToken::generate(&id), token);
        assert_eq!(token_workload_id("Basic YWJjOmRlZg=="), None);
        assert_eq!(token_workload_id(&format!("{TOKEN_PREFIX}{id}_abc")), None);
        assert_eq!(token_workload_id(&format!("{}x", token.expose())), None);
    }

    #[test]
    fn cidrs_are_canonical_and_bounded() {
        let parsed = parse_cidrs(&[
            "10.1.2.3/8".into(),
            "192.0.2.7".into(),
            "2001:db8::/32".into(),
        ])
        .unwrap();
        let shown: Vec<String> = parsed.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]);
        assert!(parse_cidrs(&["10.0.0.0/33".into()]).is_err());
        assert!(parse_cidrs(&["example.com".into()]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("10.0.0.{i}")).collect();
        assert!(parse_cidrs(&many).is_err());
    }
}
