//! Tags and permissions boundaries, shared by several kinds of entity:
//! `/v1/{kind}/{name}/tags` (users, roles, policies, instance profiles) and
//! `/v1/{kind}/{name}/permissions-boundary` (users, roles).

use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::domain::Tag;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam;
use crate::iam::tags::Taggable;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(tag)
        .service(untag)
        .service(list_tags)
        .service(put_boundary)
        .service(delete_boundary);
}

/// What carries tags: `users`, `roles`, `policies` (customer managed) or
/// `instance-profiles`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaggableKind {
    Users,
    Roles,
    Policies,
    #[serde(rename = "instance-profiles")]
    InstanceProfiles,
}

impl From<TaggableKind> for Taggable {
    fn from(k: TaggableKind) -> Self {
        match k {
            TaggableKind::Users => Taggable::User,
            TaggableKind::Roles => Taggable::Role,
            TaggableKind::Policies => Taggable::Policy,
            TaggableKind::InstanceProfiles => Taggable::InstanceProfile,
        }
    }
}

/// What has a permissions boundary: `users` or `roles`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BoundedKind {
    Users,
    Roles,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagRequest {
    pub tags: Vec<Tag>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagList {
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UntagQuery {
    /// Comma-separated tag keys to remove.
    pub keys: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoundaryRequest {
    /// ARN of a managed policy.
    #[schema(example = "arn:aws:iam::aws:policy/IAMReadOnlyAccess")]
    pub policy_arn: String,
}

/// Add or replace tags (at most 50; keys are case-insensitive).
///
/// Permissions: `iam:TagUser`, `iam:TagRole`, `iam:TagPolicy` or
/// `iam:TagInstanceProfile` on the entity's ARN.
#[utoipa::path(tag = "tags", params(("kind" = TaggableKind, Path), ("name" = String, Path, description = "name (policies: name or URL-encoded ARN)")),
    request_body = TagRequest, responses(
    (status = 204), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[post("/{kind}/{name}/tags")]
async fn tag(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(TaggableKind, String)>,
    body: web::Json<TagRequest>,
) -> ApiResult<HttpResponse> {
    let (kind, name) = path.into_inner();
    iam::tags::tag(&state, &caller, kind.into(), &name, &body.tags).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove tags by key.
///
/// Permissions: `iam:UntagUser`, `iam:UntagRole`, `iam:UntagPolicy` or
/// `iam:UntagInstanceProfile` on the entity's ARN.
#[utoipa::path(tag = "tags", params(("kind" = TaggableKind, Path), ("name" = String, Path), UntagQuery), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[delete("/{kind}/{name}/tags")]
async fn untag(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(TaggableKind, String)>,
    query: web::Query<UntagQuery>,
) -> ApiResult<HttpResponse> {
    let (kind, name) = path.into_inner();
    let keys: Vec<String> = query
        .keys
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(String::from)
        .collect();
    iam::tags::untag(&state, &caller, kind.into(), &name, &keys).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List tags.
///
/// Permissions: `iam:ListUserTags`, `iam:ListRoleTags`, `iam:ListPolicyTags`
/// or `iam:ListInstanceProfileTags` on the entity's ARN.
#[utoipa::path(tag = "tags", params(("kind" = TaggableKind, Path), ("name" = String, Path)), responses(
    (status = 200, body = TagList), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/{kind}/{name}/tags")]
async fn list_tags(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(TaggableKind, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, name) = path.into_inner();
    let tags = iam::tags::list(&state, &caller, kind.into(), &name).await?;
    Ok(HttpResponse::Ok().json(TagList { tags }))
}

/// Set the permissions boundary of a user or role.
///
/// Permissions: `iam:PutUserPermissionsBoundary` or `iam:PutRolePermissionsBoundary`.
#[utoipa::path(tag = "tags", params(("kind" = BoundedKind, Path), ("name" = String, Path)), request_body = BoundaryRequest, responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[put("/{kind}/{name}/permissions-boundary")]
async fn put_boundary(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(BoundedKind, String)>,
    body: web::Json<BoundaryRequest>,
) -> ApiResult<HttpResponse> {
    let (kind, name) = path.into_inner();
    match kind {
        BoundedKind::Users => {
            iam::users::put_user_boundary(&state, &caller, &name, &body.policy_arn).await?
        }
        BoundedKind::Roles => {
            iam::roles::put_role_boundary(&state, &caller, &name, &body.policy_arn).await?
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Remove the permissions boundary of a user or role.
///
/// Permissions: `iam:DeleteUserPermissionsBoundary` or `iam:DeleteRolePermissionsBoundary`.
#[utoipa::path(tag = "tags", params(("kind" = BoundedKind, Path), ("name" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[delete("/{kind}/{name}/permissions-boundary")]
async fn delete_boundary(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(BoundedKind, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, name) = path.into_inner();
    match kind {
        BoundedKind::Users => iam::users::delete_user_boundary(&state, &caller, &name).await?,
        BoundedKind::Roles => iam::roles::delete_role_boundary(&state, &caller, &name).await?,
    }
    Ok(HttpResponse::NoContent().finish())
}
