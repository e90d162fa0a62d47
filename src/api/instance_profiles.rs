//! /v1/instance-profiles: instance profiles and their one role.

use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::{list_response, ListQuery};
use crate::auth::Caller;
use crate::domain::Tag;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam::instance_profiles::{self as profiles, ProfileView};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_instance_profile)
        .service(list_instance_profiles)
        .service(get_instance_profile)
        .service(delete_instance_profile)
        .service(add_role)
        .service(remove_role)
        .service(list_for_role);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInstanceProfileRequest {
    /// 1 to 128 characters of `[\w+=,.@-]`.
    #[schema(example = "ci-runner")]
    pub name: String,
    pub path: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// The role of a profile, in short.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileRole {
    /// The AROA unique id.
    pub id: String,
    pub name: String,
    pub arn: String,
    pub path: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceProfileResponse {
    /// The AIPA unique id.
    #[schema(example = "AIPAJQABLZS4A3QDU576Q")]
    pub id: String,
    pub name: String,
    #[schema(example = "arn:aws:iam::123456789012:instance-profile/ci-runner")]
    pub arn: String,
    pub path: String,
    pub created_at: String,
    /// The profile's role: none or one.
    pub roles: Vec<ProfileRole>,
    /// On GET of one profile and on create; lists leave them out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl From<ProfileView> for InstanceProfileResponse {
    fn from(v: ProfileView) -> Self {
        InstanceProfileResponse {
            arn: v.profile.arn().to_string(),
            id: v.profile.id,
            name: v.profile.name,
            path: v.profile.path,
            created_at: v.profile.created_at,
            roles: v
                .role
                .into_iter()
                .map(|r| ProfileRole {
                    arn: r.arn().to_string(),
                    id: r.id,
                    name: r.name,
                    path: r.path,
                })
                .collect(),
            tags: v.tags,
        }
    }
}

list_response!(InstanceProfileList, InstanceProfileResponse);

/// Create an instance profile (empty; add its role next).
///
/// Permissions: `iam:CreateInstanceProfile` on the profile's ARN.
#[utoipa::path(tag = "instance-profiles", request_body = CreateInstanceProfileRequest, responses(
    (status = 201, body = InstanceProfileResponse), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 409, description = "EntityAlreadyExists or LimitExceeded", body = ErrorResponse)))]
#[post("/instance-profiles")]
async fn create_instance_profile(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateInstanceProfileRequest>,
) -> ApiResult<HttpResponse> {
    let view = profiles::create_instance_profile(
        &state,
        &caller,
        &body.name,
        body.path.as_deref(),
        &body.tags,
    )
    .await?;
    Ok(HttpResponse::Created().json(InstanceProfileResponse::from(view)))
}

/// List instance profiles.
///
/// Permissions: `iam:ListInstanceProfiles`.
#[utoipa::path(tag = "instance-profiles", params(ListQuery), responses(
    (status = 200, body = InstanceProfileList), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/instance-profiles")]
async fn list_instance_profiles(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page = profiles::list_instance_profiles(&state, &caller, &query.params()?).await?;
    Ok(HttpResponse::Ok().json(InstanceProfileList::from_page(page, Into::into)))
}

/// Get an instance profile and its role.
///
/// Permissions: `iam:GetInstanceProfile` on the profile's ARN.
#[utoipa::path(tag = "instance-profiles", params(("name" = String, Path)), responses(
    (status = 200, body = InstanceProfileResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/instance-profiles/{name}")]
async fn get_instance_profile(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let view = profiles::get_instance_profile(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(InstanceProfileResponse::from(view)))
}

/// Delete an instance profile. Its role must be removed first, and no
/// workload may use it (409 DeleteConflict).
///
/// Permissions: `iam:DeleteInstanceProfile` on the profile's ARN.
#[utoipa::path(tag = "instance-profiles", params(("name" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[delete("/instance-profiles/{name}")]
async fn delete_instance_profile(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    profiles::delete_instance_profile(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Put a role into the profile. A profile holds one role: a second one is
/// 409 LimitExceeded.
///
/// Permissions: `iam:AddRoleToInstanceProfile` on the profile's ARN and
/// `iam:PassRole` on the role's ARN.
#[utoipa::path(tag = "instance-profiles", params(("name" = String, Path), ("role" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse),
    (status = 409, description = "LimitExceeded or EntityAlreadyExists", body = ErrorResponse)))]
#[put("/instance-profiles/{name}/roles/{role}")]
async fn add_role(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (profile, role) = path.into_inner();
    profiles::add_role(&state, &caller, &profile, &role).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Take the role out of the profile. The profile's workloads can no longer
/// fetch credentials, and the sessions they fetched stop working at once.
///
/// Permissions: `iam:RemoveRoleFromInstanceProfile` on the profile's ARN.
#[utoipa::path(tag = "instance-profiles", params(("name" = String, Path), ("role" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[delete("/instance-profiles/{name}/roles/{role}")]
async fn remove_role(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (profile, role) = path.into_inner();
    profiles::remove_role(&state, &caller, &profile, &role).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The instance profiles that hold a role.
///
/// Permissions: `iam:ListInstanceProfilesForRole` on the role's ARN.
#[utoipa::path(tag = "instance-profiles", params(("role" = String, Path), ListQuery), responses(
    (status = 200, body = InstanceProfileList), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[get("/roles/{role}/instance-profiles")]
async fn list_for_role(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page =
        profiles::list_instance_profiles_for_role(&state, &caller, &path, &query.params()?).await?;
    Ok(HttpResponse::Ok().json(InstanceProfileList::from_page(page, Into::into)))
}
