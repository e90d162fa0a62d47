//! /v1/roles: roles, trust policies, boundaries and tags.

use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::{list_response, ListQuery};
use crate::api::policies::{finding_list, FindingResponse, StrictQuery};
use crate::auth::Caller;
use crate::domain::{Role, Tag};
use crate::error::{ApiResult, ErrorResponse};
use crate::iam;
use crate::iam::roles::{CreateRoleRequest, UpdateRoleRequest};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_role)
        .service(list_roles)
        .service(get_role)
        .service(update_role)
        .service(delete_role)
        .service(put_trust_policy);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleResponse {
    /// The AROA unique id.
    pub id: String,
    pub name: String,
    pub arn: String,
    pub path: String,
    pub created_at: String,
    /// Principals show as ARNs; a principal deleted since shows as its
    /// unique id (it is no longer trusted, even if re-created).
    #[schema(value_type = Object)]
    pub trust_policy: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub max_session_duration: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// When a session of the role last authenticated a request (at most
    /// a minute late); absent when never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_region: Option<String>,
    /// Lint findings of the trust policy just written (create and
    /// trust-policy replies only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<FindingResponse>>,
}

impl RoleResponse {
    async fn new(state: &AppState, role: Role, tags: Option<Vec<Tag>>) -> ApiResult<Self> {
        let trust_policy = iam::trust::unpin(state, &role.trust_policy).await?;
        Ok(RoleResponse {
            arn: role.arn().to_string(),
            id: role.id,
            name: role.name,
            path: role.path,
            created_at: role.created_at,
            trust_policy,
            description: role.description,
            max_session_duration: role.max_session_duration,
            permissions_boundary: role.permissions_boundary,
            tags,
            last_used_at: role.last_used_at,
            last_used_region: role.last_used_region,
            findings: None,
        })
    }
}

list_response!(RoleList, RoleResponse);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustPolicyRequest {
    /// The new trust policy (JSON object).
    #[schema(value_type = Object)]
    #[serde(deserialize_with = "crate::policy::validate::strict_document")]
    pub trust_policy: Value,
}

/// Create a role. The trust policy is validated as a trust policy; its
/// user and role principals must exist and are pinned to their unique ids.
/// The reply carries the trust policy's lint `findings`; in strict mode a
/// trust policy with an ERROR or SECURITY_WARNING finding is refused.
///
/// Permissions: `iam:CreateRole` on the new role's ARN.
#[utoipa::path(tag = "roles", params(StrictQuery), request_body = CreateRoleRequest, responses(
    (status = 201, body = RoleResponse), (status = 400, description = "ValidationError, MalformedPolicyDocument or PolicyLintFailed", body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[post("/roles")]
async fn create_role(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<StrictQuery>,
    body: web::Json<CreateRoleRequest>,
) -> ApiResult<HttpResponse> {
    let (role, tags, findings) =
        iam::roles::create_role(&state, &caller, body.into_inner(), query.strict()).await?;
    Ok(HttpResponse::Created().json(RoleResponse {
        findings: Some(finding_list(findings)),
        ..RoleResponse::new(&state, role, Some(tags)).await?
    }))
}

/// List roles.
///
/// Permissions: `iam:ListRoles`.
#[utoipa::path(tag = "roles", params(ListQuery), responses(
    (status = 200, body = RoleList), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/roles")]
async fn list_roles(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page = iam::roles::list_roles(&state, &caller, &query.params()?).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for role in page.items {
        items.push(RoleResponse::new(&state, role, None).await?);
    }
    Ok(HttpResponse::Ok().json(RoleList {
        items,
        is_truncated: page.is_truncated,
        marker: page.marker,
    }))
}

/// Get a role.
///
/// Permissions: `iam:GetRole` on the role's ARN.
#[utoipa::path(tag = "roles", params(("role" = String, Path)), responses(
    (status = 200, body = RoleResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/roles/{role}")]
async fn get_role(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (role, tags) = iam::roles::get_role(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(RoleResponse::new(&state, role, Some(tags)).await?))
}

/// Change a role's description or maximum session duration.
///
/// Permissions: `iam:UpdateRole` on the role's ARN.
#[utoipa::path(tag = "roles", params(("role" = String, Path)), request_body = UpdateRoleRequest, responses(
    (status = 200, body = RoleResponse), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[patch("/roles/{role}")]
async fn update_role(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<UpdateRoleRequest>,
) -> ApiResult<HttpResponse> {
    let role = iam::roles::update_role(&state, &caller, &path, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(RoleResponse::new(&state, role, None).await?))
}

/// Delete a role (its policies must be removed first).
///
/// Permissions: `iam:DeleteRole` on the role's ARN.
#[utoipa::path(tag = "roles", params(("role" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[delete("/roles/{role}")]
async fn delete_role(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    iam::roles::delete_role(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replace the role's trust policy. The reply carries the new policy's
/// lint `findings`; in strict mode a trust policy with an ERROR or
/// SECURITY_WARNING finding is refused.
///
/// Permissions: `iam:UpdateAssumeRolePolicy` on the role's ARN.
#[utoipa::path(tag = "roles", params(("role" = String, Path), StrictQuery), request_body = TrustPolicyRequest, responses(
    (status = 200, body = RoleResponse), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[put("/roles/{role}/trust-policy")]
async fn put_trust_policy(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<StrictQuery>,
    body: web::Json<TrustPolicyRequest>,
) -> ApiResult<HttpResponse> {
    let (role, findings) =
        iam::roles::update_trust_policy(&state, &caller, &path, &body.trust_policy, query.strict())
            .await?;
    Ok(HttpResponse::Ok().json(RoleResponse {
        findings: Some(finding_list(findings)),
        ..RoleResponse::new(&state, role, None).await?
    }))
}
