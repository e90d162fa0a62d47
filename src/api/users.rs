//! /v1/users: users, their permissions boundary and tags.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::{list_response, ListQuery};
use crate::auth::Caller;
use crate::domain::{Tag, User};
use crate::error::{ApiResult, ErrorResponse};
use crate::iam::users::{CreateUserRequest, UpdateUserRequest};
use crate::iam::{self};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_user)
        .service(list_users)
        .service(get_user)
        .service(update_user)
        .service(delete_user);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    /// The AIDA unique id.
    #[schema(example = "AIDAJQABLZS4A3QDU576Q")]
    pub id: String,
    pub name: String,
    #[schema(example = "arn:aws:iam::123456789012:user/alice")]
    pub arn: String,
    pub path: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    /// Present on single-user replies; lists omit tags, as IAM's ListUsers does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

impl UserResponse {
    pub fn new(user: User, tags: Option<Vec<Tag>>) -> Self {
        UserResponse {
            arn: user.arn().to_string(),
            id: user.id,
            name: user.name,
            path: user.path,
            created_at: user.created_at,
            permissions_boundary: user.permissions_boundary,
            tags,
        }
    }
}

list_response!(UserList, UserResponse);

/// Create a user.
///
/// Permissions: `iam:CreateUser` on the new user's ARN.
#[utoipa::path(tag = "users", request_body = CreateUserRequest, responses(
    (status = 201, body = UserResponse), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, description = "the boundary policy does not exist", body = ErrorResponse),
    (status = 409, description = "EntityAlreadyExists", body = ErrorResponse)))]
#[post("/users")]
async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateUserRequest>,
) -> ApiResult<HttpResponse> {
    let (user, tags) = iam::users::create_user(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(UserResponse::new(user, Some(tags))))
}

/// List users, by name, paginated.
///
/// Permissions: `iam:ListUsers`.
#[utoipa::path(tag = "users", params(ListQuery), responses(
    (status = 200, body = UserList), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/users")]
async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page = iam::users::list_users(&state, &caller, &query.params()?).await?;
    Ok(HttpResponse::Ok().json(UserList::from_page(page, |u| UserResponse::new(u, None))))
}

/// Get a user.
///
/// Permissions: `iam:GetUser` on the user's ARN.
#[utoipa::path(tag = "users", params(("user" = String, Path, description = "user name")), responses(
    (status = 200, body = UserResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/users/{user}")]
async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (user, tags) = iam::users::get_user(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(UserResponse::new(user, Some(tags))))
}

/// Rename or move a user.
///
/// Permissions: `iam:UpdateUser` on the user's ARN.
#[utoipa::path(tag = "users", params(("user" = String, Path)), request_body = UpdateUserRequest, responses(
    (status = 200, body = UserResponse), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[patch("/users/{user}")]
async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<UpdateUserRequest>,
) -> ApiResult<HttpResponse> {
    let user = iam::users::update_user(&state, &caller, &path, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(UserResponse::new(user, None)))
}

/// Delete a user. Its keys, password, policies and group memberships must
/// be removed first (409 DeleteConflict otherwise).
///
/// Permissions: `iam:DeleteUser` on the user's ARN.
#[utoipa::path(tag = "users", params(("user" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[delete("/users/{user}")]
async fn delete_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    iam::users::delete_user(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}
