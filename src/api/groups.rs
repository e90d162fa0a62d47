//! /v1/groups: groups and membership.

use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::{list_response, ListQuery};
use super::users::UserResponse;
use crate::auth::Caller;
use crate::domain::Group;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam;
use crate::iam::groups::CreateGroupRequest;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_group)
        .service(list_groups)
        .service(get_group)
        .service(update_group)
        .service(delete_group)
        .service(add_member)
        .service(remove_member)
        .service(groups_for_user);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupResponse {
    /// The AGPA unique id.
    pub id: String,
    pub name: String,
    pub arn: String,
    pub path: String,
    pub created_at: String,
    /// Present on GET of one group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<UserResponse>>,
}

impl GroupResponse {
    fn new(group: Group, members: Option<Vec<UserResponse>>) -> Self {
        GroupResponse {
            arn: group.arn().to_string(),
            id: group.id,
            name: group.name,
            path: group.path,
            created_at: group.created_at,
            members,
        }
    }
}

list_response!(GroupList, GroupResponse);

/// Create a group.
///
/// Permissions: `iam:CreateGroup` on the new group's ARN.
#[utoipa::path(tag = "groups", request_body = CreateGroupRequest, responses(
    (status = 201, body = GroupResponse), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[post("/groups")]
async fn create_group(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateGroupRequest>,
) -> ApiResult<HttpResponse> {
    let group = iam::groups::create_group(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(GroupResponse::new(group, None)))
}

/// List groups.
///
/// Permissions: `iam:ListGroups`.
#[utoipa::path(tag = "groups", params(ListQuery), responses(
    (status = 200, body = GroupList), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/groups")]
async fn list_groups(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page = iam::groups::list_groups(&state, &caller, &query.params()?).await?;
    Ok(HttpResponse::Ok().json(GroupList::from_page(page, |g| GroupResponse::new(g, None))))
}

/// Get a group and its members.
///
/// Permissions: `iam:GetGroup` on the group's ARN.
#[utoipa::path(tag = "groups", params(("group" = String, Path)), responses(
    (status = 200, body = GroupResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/groups/{group}")]
async fn get_group(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (group, members) = iam::groups::get_group(&state, &caller, &path).await?;
    let members = members
        .into_iter()
        .map(|u| UserResponse::new(u, None))
        .collect();
    Ok(HttpResponse::Ok().json(GroupResponse::new(group, Some(members))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroupRequest {
    /// A new name (409 when another group has it).
    pub new_name: Option<String>,
    /// A new path.
    pub new_path: Option<String>,
}

/// Rename or move a group; its members and policies stay.
///
/// Permissions: `iam:UpdateGroup` on the group's ARN and on the ARN it
/// gets.
#[utoipa::path(tag = "groups", params(("group" = String, Path)), request_body = UpdateGroupRequest, responses(
    (status = 200, body = GroupResponse), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[patch("/groups/{group}")]
async fn update_group(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<UpdateGroupRequest>,
) -> ApiResult<HttpResponse> {
    let group = iam::groups::update_group(
        &state,
        &caller,
        &path,
        body.new_name.as_deref(),
        body.new_path.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(GroupResponse::new(group, None)))
}

/// Delete a group (members and policies must be removed first).
///
/// Permissions: `iam:DeleteGroup` on the group's ARN.
#[utoipa::path(tag = "groups", params(("group" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[delete("/groups/{group}")]
async fn delete_group(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    iam::groups::delete_group(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Add a user to a group (idempotent; a user is in at most 10 groups).
///
/// Permissions: `iam:AddUserToGroup` on the group's ARN.
#[utoipa::path(tag = "groups", params(("group" = String, Path), ("user" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[put("/groups/{group}/members/{user}")]
async fn add_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (group, user) = path.into_inner();
    iam::groups::add_user_to_group(&state, &caller, &group, &user).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove a user from a group.
///
/// Permissions: `iam:RemoveUserFromGroup` on the group's ARN.
#[utoipa::path(tag = "groups", params(("group" = String, Path), ("user" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[delete("/groups/{group}/members/{user}")]
async fn remove_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (group, user) = path.into_inner();
    iam::groups::remove_user_from_group(&state, &caller, &group, &user).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The groups a user belongs to.
///
/// Permissions: `iam:ListGroupsForUser` on the user's ARN.
#[utoipa::path(tag = "users", params(("user" = String, Path)), responses(
    (status = 200, body = GroupList), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/users/{user}/groups")]
async fn groups_for_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let groups = iam::groups::list_groups_for_user(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(GroupList::complete(
        groups
            .into_iter()
            .map(|g| GroupResponse::new(g, None))
            .collect(),
    )))
}
