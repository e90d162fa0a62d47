//! Inline policies and managed-policy attachments of users, groups and
//! roles: `/v1/{kind}/{name}/policies[/{policy_name}]` and
//! `/v1/{kind}/{name}/attached-policies`, where `kind` is `users`, `groups`
//! or `roles`. One handler per operation serves all three kinds.

use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::policies::{finding_list, FindingResponse, StrictQuery};
use crate::auth::Caller;
use crate::domain::PolicyHolder;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam;
use crate::iam::inline_policies::PutInlinePolicyRequest;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(put_inline)
        .service(get_inline)
        .service(list_inline)
        .service(delete_inline)
        .service(attach)
        .service(list_attached)
        .service(detach);
}

/// Which kind of principal holds the policies.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HolderKind {
    Users,
    Groups,
    Roles,
}

impl From<HolderKind> for PolicyHolder {
    fn from(k: HolderKind) -> Self {
        match k {
            HolderKind::Users => PolicyHolder::User,
            HolderKind::Groups => PolicyHolder::Group,
            HolderKind::Roles => PolicyHolder::Role,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InlinePolicyResponse {
    pub policy_name: String,
    #[schema(value_type = Object)]
    pub document: Value,
}

/// The reply of an inline-policy PUT.
#[derive(Debug, Serialize, ToSchema)]
pub struct PutInlinePolicyResponse {
    pub policy_name: String,
    /// Lint findings of the document just written.
    pub findings: Vec<FindingResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InlinePolicyNames {
    pub items: Vec<String>,
    pub is_truncated: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachPolicyRequest {
    #[schema(example = "arn:aws:iam::aws:policy/IAMReadOnlyAccess")]
    pub policy_arn: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachedPolicy {
    pub policy_name: String,
    pub policy_arn: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachedPolicyList {
    pub items: Vec<AttachedPolicy>,
    pub is_truncated: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DetachQuery {
    pub policy_arn: String,
}

/// Create or replace an inline policy. The sizes of all inline policies of
/// one user, group or role are capped together (2,048 / 5,120 / 10,240).
/// The reply carries the document's lint `findings`; in strict mode a
/// document with an ERROR or SECURITY_WARNING finding is refused.
///
/// Permissions: `iam:PutUserPolicy`, `iam:PutGroupPolicy` or `iam:PutRolePolicy`.
#[utoipa::path(tag = "principal-policies", params(
    ("kind" = HolderKind, Path), ("name" = String, Path), ("policy_name" = String, Path), StrictQuery),
    request_body = PutInlinePolicyRequest, responses(
    (status = 200, body = PutInlinePolicyResponse),
    (status = 400, description = "MalformedPolicyDocument, ValidationError or PolicyLintFailed", body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, description = "LimitExceeded", body = ErrorResponse)))]
#[put("/{kind}/{name}/policies/{policy_name}")]
async fn put_inline(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(HolderKind, String, String)>,
    query: web::Query<StrictQuery>,
    body: web::Json<PutInlinePolicyRequest>,
) -> ApiResult<HttpResponse> {
    let (kind, name, policy_name) = path.into_inner();
    let findings = iam::inline_policies::put_inline_policy(
        &state,
        &caller,
        kind.into(),
        &name,
        &policy_name,
        &body.document,
        query.strict(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(PutInlinePolicyResponse {
        policy_name,
        findings: finding_list(findings),
    }))
}

/// Get an inline policy.
///
/// Permissions: `iam:GetUserPolicy`, `iam:GetGroupPolicy` or `iam:GetRolePolicy`.
#[utoipa::path(tag = "principal-policies", params(
    ("kind" = HolderKind, Path), ("name" = String, Path), ("policy_name" = String, Path)), responses(
    (status = 200, body = InlinePolicyResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/{kind}/{name}/policies/{policy_name}")]
async fn get_inline(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(HolderKind, String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, name, policy_name) = path.into_inner();
    let document =
        iam::inline_policies::get_inline_policy(&state, &caller, kind.into(), &name, &policy_name)
            .await?;
    Ok(HttpResponse::Ok().json(InlinePolicyResponse {
        policy_name,
        document,
    }))
}

/// List inline policy names.
///
/// Permissions: `iam:ListUserPolicies`, `iam:ListGroupPolicies` or `iam:ListRolePolicies`.
#[utoipa::path(tag = "principal-policies", params(("kind" = HolderKind, Path), ("name" = String, Path)), responses(
    (status = 200, body = InlinePolicyNames), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/{kind}/{name}/policies")]
async fn list_inline(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(HolderKind, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, name) = path.into_inner();
    let items =
        iam::inline_policies::list_inline_policies(&state, &caller, kind.into(), &name).await?;
    Ok(HttpResponse::Ok().json(InlinePolicyNames {
        items,
        is_truncated: false,
    }))
}

/// Delete an inline policy.
///
/// Permissions: `iam:DeleteUserPolicy`, `iam:DeleteGroupPolicy` or `iam:DeleteRolePolicy`.
#[utoipa::path(tag = "principal-policies", params(
    ("kind" = HolderKind, Path), ("name" = String, Path), ("policy_name" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[delete("/{kind}/{name}/policies/{policy_name}")]
async fn delete_inline(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(HolderKind, String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, name, policy_name) = path.into_inner();
    iam::inline_policies::delete_inline_policy(&state, &caller, kind.into(), &name, &policy_name)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Attach a managed policy (at most 10 per user, group or role).
///
/// Permissions: `iam:AttachUserPolicy`, `iam:AttachGroupPolicy` or `iam:AttachRolePolicy`.
#[utoipa::path(tag = "principal-policies", params(("kind" = HolderKind, Path), ("name" = String, Path)),
    request_body = AttachPolicyRequest, responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse), (status = 409, description = "LimitExceeded", body = ErrorResponse)))]
#[post("/{kind}/{name}/attached-policies")]
async fn attach(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(HolderKind, String)>,
    body: web::Json<AttachPolicyRequest>,
) -> ApiResult<HttpResponse> {
    let (kind, name) = path.into_inner();
    iam::attachments::attach_policy(&state, &caller, kind.into(), &name, &body.policy_arn).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List attached managed policies.
///
/// Permissions: `iam:ListAttachedUserPolicies`, `iam:ListAttachedGroupPolicies` or `iam:ListAttachedRolePolicies`.
#[utoipa::path(tag = "principal-policies", params(("kind" = HolderKind, Path), ("name" = String, Path)), responses(
    (status = 200, body = AttachedPolicyList), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/{kind}/{name}/attached-policies")]
async fn list_attached(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(HolderKind, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, name) = path.into_inner();
    let policies =
        iam::attachments::list_attached_policies(&state, &caller, kind.into(), &name).await?;
    let items = policies
        .into_iter()
        .map(|p| AttachedPolicy {
            policy_name: p.name,
            policy_arn: p.arn,
        })
        .collect();
    Ok(HttpResponse::Ok().json(AttachedPolicyList {
        items,
        is_truncated: false,
    }))
}

/// Detach a managed policy: `DELETE ...?policy_arn=`.
///
/// Permissions: `iam:DetachUserPolicy`, `iam:DetachGroupPolicy` or `iam:DetachRolePolicy`.
#[utoipa::path(tag = "principal-policies", params(("kind" = HolderKind, Path), ("name" = String, Path), DetachQuery), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[delete("/{kind}/{name}/attached-policies")]
async fn detach(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(HolderKind, String)>,
    query: web::Query<DetachQuery>,
) -> ApiResult<HttpResponse> {
    let (kind, name) = path.into_inner();
    iam::attachments::detach_policy(&state, &caller, kind.into(), &name, &query.policy_arn).await?;
    Ok(HttpResponse::NoContent().finish())
}
