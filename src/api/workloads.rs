//! /v1/workloads, /v1/workload-credentials and /v1/identify: workloads
//! and their token, the container-credentials endpoint the AWS SDKs read,
//! and identity proofs.

use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{origin_of, BodyBytes, JsonBytes};
use super::service_principals::PageQuery;
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorResponse};
use crate::state::AppState;
use crate::sts::identify::{IdentifyRequest, IdentifyResponse};
use crate::sts::workload_credentials::ContainerCredentials;
use crate::sts::workloads::{CreateWorkloadRequest, RotateTokenRequest, WorkloadResponse};
use crate::sts::{self, optional_body};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_workload)
        .service(list_workloads)
        .service(get_workload)
        .service(delete_workload)
        .service(rotate_token)
        .service(workload_credentials)
        .service(identify);
}

super::listing::list_response!(WorkloadList, WorkloadResponse);

/// Register a workload with an instance profile and the service principal
/// that runs it. The reply carries the workload's `token` once.
///
/// The profile must hold a role whose trust policy allows the service
/// `sts:AssumeRole` (400 InvalidInput otherwise).
///
/// Permissions: `latchkey:CreateWorkload` on `arn:aws:iam::ACCOUNT:workload/*`,
/// `iam:GetInstanceProfile` on the profile, and `iam:PassRole` on the
/// profile's role (with `iam:PassedToService` = the service).
#[utoipa::path(tag = "workloads", request_body = CreateWorkloadRequest, responses(
    (status = 201, body = WorkloadResponse),
    (status = 400, description = "ValidationError, or InvalidInput: no role, or the role does not trust the service", body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, description = "no such instance profile or service principal", body = ErrorResponse)))]
#[post("/workloads")]
async fn create_workload(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateWorkloadRequest>,
) -> ApiResult<HttpResponse> {
    let reply = sts::workloads::create_workload(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(reply))
}

/// List the account's workloads (never their tokens).
///
/// Permissions: `latchkey:ListWorkloads`.
#[utoipa::path(tag = "workloads", params(PageQuery), responses(
    (status = 200, body = WorkloadList), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/workloads")]
async fn list_workloads(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = sts::workloads::list_workloads(&state, &caller, &query.params()?).await?;
    Ok(HttpResponse::Ok().json(WorkloadList::from_page(page, |w| w)))
}

/// Get a workload.
///
/// Permissions: `latchkey:GetWorkload` on the workload's ARN.
#[utoipa::path(tag = "workloads", params(("id" = String, Path)), responses(
    (status = 200, body = WorkloadResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/workloads/{id}")]
async fn get_workload(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sts::workloads::get_workload(&state, &caller, &path).await?))
}

/// Delete a workload: its token stops working and the sessions it fetched
/// are revoked.
///
/// Permissions: `latchkey:DeleteWorkload` on the workload's ARN.
#[utoipa::path(tag = "workloads", params(("id" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[delete("/workloads/{id}")]
async fn delete_workload(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    sts::workloads::delete_workload(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Issue a new workload token. The old token stops working, and the
/// sessions fetched with it are revoked. The body is optional.
///
/// Permissions: `latchkey:RotateWorkloadToken` on the workload's ARN.
#[utoipa::path(tag = "workloads", params(("id" = String, Path)), request_body(content = Option<RotateTokenRequest>), responses(
    (status = 200, body = WorkloadResponse), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[post("/workloads/{id}/rotate-token")]
async fn rotate_token(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: BodyBytes,
) -> ApiResult<HttpResponse> {
    let req: RotateTokenRequest = optional_body(&body.0)?;
    let reply = sts::workloads::rotate_token(&state, &caller, &path, req).await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(reply))
}

/// The workload's role credentials, as AWS's container credentials
/// endpoint serves them: point an AWS SDK at it with
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` and set
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN` to the workload token.
///
/// Authentication: the workload token alone, as the whole `Authorization`
/// header; access keys, Basic and SigV4 are refused here, and the token is
/// refused everywhere else. The token must not be expired and, when the
/// workload is bound to source CIDRs, must come from one of them.
#[utoipa::path(tag = "workloads", security(("workload_token" = [])), responses(
    (status = 200, body = ContainerCredentials),
    (status = 401, description = "missing, invalid or expired workload token", body = ErrorResponse),
    (status = 403, description = "wrong source address, the profile has no role, or the role no longer trusts the service", body = ErrorResponse)))]
#[get("/workload-credentials")]
async fn workload_credentials(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let authorization = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let source_ip = origin_of(&req, &state.config.trusted_proxies).source_ip;
    let credentials =
        sts::workload_credentials::workload_credentials(&state, authorization, source_ip).await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(credentials))
}

/// Verify an identity proof: a SigV4-signed `sts:GetCallerIdentity`
/// request that some caller made with its latchkey credentials and handed
/// to the verifying party. Answers who signed it.
///
/// The proof must sign an `x-latchkey-audience` header equal to `audience`
/// (so that a proof made for one party cannot be replayed at another), be
/// signed for `sts`, be at most 15 minutes old, and be a GetCallerIdentity
/// (`Action` in the body or query). latchkey never fetches the proof's URL.
/// The verifying party needs no credentials: the answer tells nothing the
/// proof's holder could not learn from GetCallerIdentity itself.
#[utoipa::path(tag = "workloads", request_body = IdentifyRequest, security(()), responses(
    (status = 200, body = IdentifyResponse),
    (status = 400, description = "the proof is not authentic (its AWS code, or InvalidAudience), expired, or not a GetCallerIdentity", body = ErrorResponse)))]
#[post("/identify")]
async fn identify(state: web::Data<AppState>, body: JsonBytes) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sts::identify::identify(&state, body.parse()?).await?))
}
