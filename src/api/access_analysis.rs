//! Access analysis: `GET /v1/roles/{role}/trust-analysis` (who can assume
//! a role) and `GET /v1/{users,roles}/{name}/effective-permissions` (what a
//! principal may do, over the action catalog).

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam;
use crate::policy::access::effective::{EffectivePermissions, StatementGrant};
use crate::policy::access::trust::{PrincipalType, TrustedPrincipal};
use crate::policy::access::{DocumentKind, StatementRef};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(trust_analysis)
        .service(user_effective_permissions)
        .service(role_effective_permissions);
}

/// One statement of a policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementRefResponse {
    /// The managed policy's ARN, the inline policy's name, the boundary's
    /// ARN, or `trust policy`.
    pub policy: String,
    /// `inline`, `managed`, `boundary` or `trust`.
    #[schema(example = "managed")]
    pub kind: String,
    /// `user/NAME`, `group/NAME` or `role/NAME` holding the policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Position in the document's Statement list.
    pub index: usize,
}

impl From<StatementRef> for StatementRefResponse {
    fn from(r: StatementRef) -> Self {
        StatementRefResponse {
            policy: r.source.policy,
            kind: match r.source.kind {
                DocumentKind::Inline => "inline",
                DocumentKind::Managed => "managed",
                DocumentKind::Boundary => "boundary",
                DocumentKind::Trust => "trust",
            }
            .into(),
            attached_to: r.source.attached_to,
            sid: r.sid,
            index: r.index,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrustedPrincipalResponse {
    /// `user`, `role_session` (sessions of the named role), `service`,
    /// `federated`, `account` or `public` (`*`).
    #[schema(example = "user")]
    pub principal_type: String,
    /// An ARN, a service or provider name, an account id, or `*`.
    pub principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Access from another account, an identity provider, or anyone.
    pub external: bool,
    /// Allowed only when request condition keys (`condition_keys`) hold
    /// the right values.
    pub conditional: bool,
    pub condition_keys: Vec<String>,
    /// Why it can assume the role, in words.
    pub reason: String,
    /// The Allow statements that grant it (trust policy and, where needed,
    /// the principal's own identity policy).
    pub statements: Vec<StatementRefResponse>,
}

impl From<TrustedPrincipal> for TrustedPrincipalResponse {
    fn from(p: TrustedPrincipal) -> Self {
        TrustedPrincipalResponse {
            principal_type: match p.principal_type {
                PrincipalType::User => "user",
                PrincipalType::RoleSession => "role_session",
                PrincipalType::Service => "service",
                PrincipalType::Federated => "federated",
                PrincipalType::Account => "account",
                PrincipalType::Public => "public",
            }
            .into(),
            principal: p.principal,
            account_id: p.account_id,
            external: p.external,
            conditional: p.conditional,
            condition_keys: p.condition_keys,
            reason: p.reason,
            statements: p.statements.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrustAnalysisResponse {
    pub role_arn: String,
    /// Stored users and role sessions first, then what the trust policy
    /// names itself (services, identity providers, accounts, `*`).
    pub principals: Vec<TrustedPrincipalResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementGrantResponse {
    pub statement: StatementRefResponse,
    /// Resource patterns, or with `not_resource` everything except these.
    pub resources: Vec<String>,
    pub not_resource: bool,
    /// The statement has a Condition.
    pub conditional: bool,
}

impl From<StatementGrant> for StatementGrantResponse {
    fn from(g: StatementGrant) -> Self {
        StatementGrantResponse {
            statement: g.statement.into(),
            resources: g.resources,
            not_resource: g.not_resource,
            conditional: g.conditional,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EffectiveActionResponse {
    #[schema(example = "store:GetObject")]
    pub action: String,
    pub grants: Vec<StatementGrantResponse>,
    /// Denies that limit the action without removing it (conditional, or
    /// on some resources only).
    pub denies: Vec<StatementGrantResponse>,
    /// Allowed only when its grants' conditions hold.
    pub conditional: bool,
    /// The permissions boundary allows it only conditionally or on some
    /// resources.
    pub limited_by_boundary: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLevelResponse {
    /// `List`, `Read`, `Write`, `Permissions management` or `Tagging`.
    #[schema(example = "Read")]
    pub access_level: String,
    pub actions: Vec<EffectiveActionResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OtherGrantResponse {
    /// The Action (or with `not_action` NotAction) patterns as written.
    pub actions: Vec<String>,
    pub not_action: bool,
    pub grant: StatementGrantResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EffectivePermissionsResponse {
    pub principal_arn: String,
    /// Catalog actions allowed, by access level.
    pub access_levels: Vec<AccessLevelResponse>,
    /// Grants that reach beyond the catalog (unknown prefixes, wildcard
    /// prefixes such as `*`, NotAction), as written.
    pub other_grants: Vec<OtherGrantResponse>,
    /// Catalog actions an Allow covers but a deny or the boundary removes.
    pub removed: Vec<String>,
}

impl EffectivePermissionsResponse {
    fn new(principal_arn: String, e: EffectivePermissions) -> Self {
        EffectivePermissionsResponse {
            principal_arn,
            access_levels: e
                .access_levels
                .into_iter()
                .map(|g| AccessLevelResponse {
                    access_level: g.access_level.as_str().into(),
                    actions: g
                        .actions
                        .into_iter()
                        .map(|a| EffectiveActionResponse {
                            action: a.action,
                            grants: a.grants.into_iter().map(Into::into).collect(),
                            denies: a.denies.into_iter().map(Into::into).collect(),
                            conditional: a.conditional,
                            limited_by_boundary: a.limited_by_boundary,
                        })
                        .collect(),
                })
                .collect(),
            other_grants: e
                .other_grants
                .into_iter()
                .map(|o| OtherGrantResponse {
                    actions: o.actions,
                    not_action: o.not_action,
                    grant: o.grant.into(),
                })
                .collect(),
            removed: e.removed,
        }
    }
}

/// Who can assume this role: every stored user and role session of this
/// account for which the policy engine allows `sts:AssumeRole`, from the
/// trust policy and the principal's own identity policies and boundary,
/// plus the services, identity providers, accounts and `*` the trust policy
/// names. Another account the trust policy names (by id, root, or one of
/// its users or roles) is one `account` entry with its id, the trust
/// statements and the conditions they set, and nothing of what it holds;
/// only a caller of the management account sees its stored principals
/// listed one by one. `*` is one public entry, not every tenant. Principals
/// of other accounts, identity providers and `*` are `external`. Grants
/// that depend on request keys (an external id, a source IP) are listed as
/// `conditional` with those keys.
///
/// Permissions: `iam:GetRole` and `latchkey:AnalyzeAccess` on the role's ARN.
#[utoipa::path(tag = "access-analysis", params(("role" = String, Path)), responses(
    (status = 200, body = TrustAnalysisResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/roles/{role}/trust-analysis")]
async fn trust_analysis(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (role, found) = iam::access_analysis::trust_analysis(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(TrustAnalysisResponse {
        role_arn: role.arn().to_string(),
        principals: found.into_iter().map(Into::into).collect(),
    }))
}

/// What a user may do: over the action catalog (built-in and registered
/// services), the actions its own and its groups' policies allow, on which
/// resource patterns, grouped by access level, with the statements that
/// grant them. Unconditional denies remove grants they cover; conditional
/// or partial denies are listed under `denies`; a boundary removes what it
/// does not allow.
///
/// Permissions: `iam:GetUser` and `latchkey:AnalyzeAccess` on the user's ARN.
#[utoipa::path(tag = "access-analysis", params(("user" = String, Path)), responses(
    (status = 200, body = EffectivePermissionsResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/users/{user}/effective-permissions")]
async fn user_effective_permissions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (arn, e) = iam::access_analysis::user_effective_permissions(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(EffectivePermissionsResponse::new(arn, e)))
}

/// What a role's sessions may do (before any session policy), as for users.
///
/// Permissions: `iam:GetRole` and `latchkey:AnalyzeAccess` on the role's ARN.
#[utoipa::path(tag = "access-analysis", params(("role" = String, Path)), responses(
    (status = 200, body = EffectivePermissionsResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/roles/{role}/effective-permissions")]
async fn role_effective_permissions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (arn, e) = iam::access_analysis::role_effective_permissions(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(EffectivePermissionsResponse::new(arn, e)))
}
