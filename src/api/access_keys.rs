//! /v1/users/{user}/access-keys and /v1/users/{user}/login-profile.

use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::list_response;
use crate::auth::Caller;
use crate::domain::{AccessKey, LoginProfile};
use crate::error::{ApiResult, ErrorResponse};
use crate::iam;
use crate::iam::access_keys::UpdateAccessKeyRequest;
use crate::iam::login_profiles::LoginProfileRequest;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_access_key)
        .service(list_access_keys)
        .service(update_access_key)
        .service(delete_access_key)
        .service(put_login_profile)
        .service(get_login_profile)
        .service(delete_login_profile);
}

/// The create reply: the only time the secret is shown.
#[derive(Serialize, ToSchema)]
pub struct CreatedAccessKey {
    #[schema(example = "AKIAIOSFODNN7EXAMPLE")]
    pub access_key_id: String,
    /// Shown once; store it now.
    pub secret_access_key: String,
    pub status: String,
    pub user_name: String,
    pub created_at: String,
}

/// A key as lists show it: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessKeyResponse {
    pub access_key_id: String,
    pub status: String,
    pub user_name: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_region: Option<String>,
}

impl AccessKeyResponse {
    fn new(key: AccessKey, user_name: &str) -> Self {
        AccessKeyResponse {
            access_key_id: key.access_key_id,
            status: key.status,
            user_name: user_name.to_string(),
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            last_used_service: key.last_used_service,
            last_used_region: key.last_used_region,
        }
    }
}

list_response!(AccessKeyList, AccessKeyResponse);

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginProfileResponse {
    pub user_name: String,
    pub created_at: String,
    pub password_reset_required: bool,
}

impl LoginProfileResponse {
    fn new(profile: LoginProfile, user_name: &str) -> Self {
        LoginProfileResponse {
            user_name: user_name.to_string(),
            created_at: profile.created_at,
            password_reset_required: profile.password_reset_required,
        }
    }
}

/// Create an access key (at most two per user). The secret is in this reply only.
///
/// Permissions: `iam:CreateAccessKey` on the user's ARN.
#[utoipa::path(tag = "users", params(("user" = String, Path)), responses(
    (status = 201, body = CreatedAccessKey), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse), (status = 409, description = "LimitExceeded", body = ErrorResponse)))]
#[post("/users/{user}/access-keys")]
async fn create_access_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (user, new_key) = iam::access_keys::create_access_key(&state, &caller, &path).await?;
    Ok(HttpResponse::Created().json(CreatedAccessKey {
        access_key_id: new_key.key.access_key_id.clone(),
        secret_access_key: new_key.secret.expose().to_string(),
        status: new_key.key.status.clone(),
        user_name: user.name,
        created_at: new_key.key.created_at.clone(),
    }))
}

/// List a user's access keys (ids, status, created and last used; never secrets).
///
/// Permissions: `iam:ListAccessKeys` on the user's ARN.
#[utoipa::path(tag = "users", params(("user" = String, Path)), responses(
    (status = 200, body = AccessKeyList), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/users/{user}/access-keys")]
async fn list_access_keys(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (user, keys) = iam::access_keys::list_access_keys(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(AccessKeyList::complete(
        keys.into_iter()
            .map(|k| AccessKeyResponse::new(k, &user.name))
            .collect(),
    )))
}

/// Activate or deactivate an access key.
///
/// Permissions: `iam:UpdateAccessKey` on the user's ARN.
#[utoipa::path(tag = "users", params(("user" = String, Path), ("key_id" = String, Path)), request_body = UpdateAccessKeyRequest, responses(
    (status = 200, body = AccessKeyResponse), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[patch("/users/{user}/access-keys/{key_id}")]
async fn update_access_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<UpdateAccessKeyRequest>,
) -> ApiResult<HttpResponse> {
    let (user, key_id) = path.into_inner();
    let key =
        iam::access_keys::update_access_key(&state, &caller, &user, &key_id, body.status).await?;
    Ok(HttpResponse::Ok().json(AccessKeyResponse::new(key, &user)))
}

/// Delete an access key.
///
/// Permissions: `iam:DeleteAccessKey` on the user's ARN.
#[utoipa::path(tag = "users", params(("user" = String, Path), ("key_id" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[delete("/users/{user}/access-keys/{key_id}")]
async fn delete_access_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (user, key_id) = path.into_inner();
    iam::access_keys::delete_access_key(&state, &caller, &user, &key_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Set the user's password (created or replaced; stored as an argon2id hash).
///
/// Permissions: `iam:CreateLoginProfile`, or `iam:UpdateLoginProfile` when one exists.
///
/// Password hashing is bounded server-wide: when it is at capacity the
/// request is refused with 503 `ServiceUnavailable` and `Retry-After`.
#[utoipa::path(tag = "users", params(("user" = String, Path)), request_body = LoginProfileRequest, responses(
    (status = 201, body = LoginProfileResponse), (status = 200, body = LoginProfileResponse), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    (status = 503, description = "ServiceUnavailable", body = ErrorResponse)))]
#[put("/users/{user}/login-profile")]
async fn put_login_profile(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<LoginProfileRequest>,
) -> ApiResult<HttpResponse> {
    let (profile, created) =
        iam::login_profiles::put_login_profile(&state, &caller, &path, body.into_inner()).await?;
    let reply = LoginProfileResponse::new(profile, &path);
    Ok(if created {
        HttpResponse::Created().json(reply)
    } else {
        HttpResponse::Ok().json(reply)
    })
}

/// Whether the user has a password (never the password or its hash).
///
/// Permissions: `iam:GetLoginProfile` on the user's ARN.
#[utoipa::path(tag = "users", params(("user" = String, Path)), responses(
    (status = 200, body = LoginProfileResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/users/{user}/login-profile")]
async fn get_login_profile(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let profile = iam::login_profiles::get_login_profile(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(LoginProfileResponse::new(profile, &path)))
}

/// Remove the user's password.
///
/// Permissions: `iam:DeleteLoginProfile` on the user's ARN.
#[utoipa::path(tag = "users", params(("user" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[delete("/users/{user}/login-profile")]
async fn delete_login_profile(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    iam::login_profiles::delete_login_profile(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}
