//! /v1/sts: temporary credentials (assume-role, session-token, login),
//! caller identity, and a role's sessions (/v1/roles/{role}/sessions).

use actix_web::{delete, get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::BodyBytes;
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorResponse};
use crate::state::AppState;
use crate::store::ListParams;
use crate::sts::assume_role::{AssumeRoleRequest, AssumeRoleResponse};
use crate::sts::caller_identity::CallerIdentity;
use crate::sts::login::{LoginRequest, LoginResponse};
use crate::sts::session_token::SessionTokenRequest;
use crate::sts::sessions::{RevokedSessions, SessionSummary};
use crate::sts::{self, optional_body, Credentials};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(assume_role)
        .service(session_token)
        .service(login)
        .service(caller_identity)
        .service(list_sessions)
        .service(revoke_session)
        .service(revoke_sessions);
}

/// Reply of session-token: the credentials only, as GetSessionToken.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SessionTokenResponse {
    pub credentials: Credentials,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionSummary>,
    /// More items follow; ask again with `marker`.
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionListQuery {
    /// The `marker` of the previous page.
    pub marker: Option<String>,
    /// 1 to 1000, default 100.
    pub max_items: Option<i64>,
}

/// Assume a role: temporary credentials for it.
///
/// The role's trust policy must allow the caller `sts:AssumeRole`; when it
/// names only the caller's account, or the role is in another account, the
/// caller's own policies must allow it too. Root credentials cannot assume
/// roles. Passing `tags` needs `sts:TagSession`, `source_identity` needs
/// `sts:SetSourceIdentity`. A role session assuming a role (chaining) gets
/// at most 3600 seconds. The secret and token are in this reply only.
#[utoipa::path(tag = "sts", request_body = AssumeRoleRequest, responses(
    (status = 200, body = AssumeRoleResponse),
    (status = 400, description = "ValidationError, MalformedPolicyDocument, PackedPolicyTooLarge", body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, description = "a policy_arns entry does not exist", body = ErrorResponse)))]
#[post("/sts/assume-role")]
async fn assume_role(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<AssumeRoleRequest>,
) -> ApiResult<HttpResponse> {
    let reply = sts::assume_role::assume_role(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(reply))
}

/// Get a session token: the calling user's (or root's) own temporary
/// credentials, with the same permissions.
///
/// Needs long-term credentials; no policy is consulted. The body is
/// optional. 900 to 129600 seconds (default 43200); root sessions are cut
/// to 3600.
#[utoipa::path(tag = "sts", request_body(content = Option<SessionTokenRequest>), responses(
    (status = 200, body = SessionTokenResponse), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[post("/sts/session-token")]
async fn session_token(
    state: web::Data<AppState>,
    caller: Caller,
    body: BodyBytes,
) -> ApiResult<HttpResponse> {
    let req: SessionTokenRequest = optional_body(&body.0)?;
    let credentials = sts::session_token::get_session_token(&state, &caller, req).await?;
    Ok(HttpResponse::Ok().json(SessionTokenResponse { credentials }))
}

/// Log in with a password: the user's own temporary credentials.
///
/// No credentials needed. After 5 failures for one account and user name,
/// that name is refused (429 Throttling) for 15 minutes after the last one.
/// Password checks are bounded server-wide: when they are at capacity the
/// login is refused with 503 `ServiceUnavailable` and `Retry-After`.
#[utoipa::path(tag = "sts", request_body = LoginRequest, security(()), responses(
    (status = 200, body = LoginResponse), (status = 400, body = ErrorResponse),
    (status = 401, description = "AuthFailure", body = ErrorResponse),
    (status = 429, description = "Throttling", body = ErrorResponse),
    (status = 503, description = "ServiceUnavailable", body = ErrorResponse)))]
#[post("/sts/login")]
async fn login(
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let reply = sts::login::login(&state, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(reply))
}

/// Who is calling: account, ARN and user id. Always allowed.
#[utoipa::path(tag = "sts", responses(
    (status = 200, body = CallerIdentity), (status = 401, body = ErrorResponse)))]
#[get("/sts/caller-identity")]
async fn caller_identity(caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sts::caller_identity::caller_identity(&caller)))
}

/// List the role's live sessions (neither expired nor revoked), without
/// their secrets.
///
/// Permissions: `iam:ListRoleSessions` on the role's ARN.
#[utoipa::path(tag = "sts", params(("role" = String, Path, description = "role name"), SessionListQuery), responses(
    (status = 200, body = SessionList), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[get("/roles/{role}/sessions")]
async fn list_sessions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<SessionListQuery>,
) -> ApiResult<HttpResponse> {
    let params = ListParams::from_request(None, query.marker.as_deref(), query.max_items)?;
    let page = sts::sessions::list_sessions(&state, &caller, &path, &params).await?;
    Ok(HttpResponse::Ok().json(SessionList {
        items: page.items,
        is_truncated: page.is_truncated,
        marker: page.marker,
    }))
}

/// Revoke one session of the role: its credentials stop working at once.
///
/// Permissions: `iam:RevokeRoleSession` on the role's ARN.
#[utoipa::path(tag = "sts", params(("role" = String, Path), ("access_key_id" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, description = "no such live session of this role", body = ErrorResponse)))]
#[delete("/roles/{role}/sessions/{access_key_id}")]
async fn revoke_session(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (role, key) = path.into_inner();
    sts::sessions::revoke_session(&state, &caller, &role, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revoke every session of the role issued before now; sessions issued
/// afterwards are not affected.
///
/// Permissions: `iam:RevokeRoleSessions` on the role's ARN.
#[utoipa::path(tag = "sts", params(("role" = String, Path)), responses(
    (status = 200, body = RevokedSessions), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[post("/roles/{role}/revoke-sessions")]
async fn revoke_sessions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let reply = sts::sessions::revoke_all_sessions(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(reply))
}
