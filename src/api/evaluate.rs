//! POST /v1/evaluate (simulation) and POST /v1/authorize (decisions for
//! platform services).

use actix_web::{post, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{app_state, JsonBytes};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::iam::service_authorize::{AuthorizeRequest, AuthorizeResponse};
use crate::iam::simulate::{EvaluateRequest, EvaluateResponse};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(evaluate).service(authorize);
}

/// Simulate: a decision per action x resource, with the statements that
/// matched, the deciding layer and the missing context keys.
///
/// Stored mode (`principal_arn`: a user, a role or an assumed-role session)
/// evaluates the principal's stored policies and boundary. Custom mode
/// evaluates the given documents for `caller_arn`.
///
/// Permissions: `iam:SimulatePrincipalPolicy` on the principal ARN (stored
/// mode) or `iam:SimulateCustomPolicy` (custom mode).
#[utoipa::path(tag = "decisions", request_body = EvaluateRequest, responses(
    (status = 200, body = EvaluateResponse), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[post("/evaluate")]
async fn evaluate(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<EvaluateRequest>,
) -> ApiResult<HttpResponse> {
    let reply = crate::iam::simulate::evaluate_request(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(reply))
}

/// For platform services: identify the caller of a request the service
/// received (by its SigV4 signature, or by its access key) and decide one
/// action on one resource. A forged or expired signature is a 400 with
/// AWS's code, not a deny.
///
/// Permissions: `latchkey:Authorize` on the resource.
#[utoipa::path(tag = "decisions", request_body = AuthorizeRequest, responses(
    (status = 200, body = AuthorizeResponse), (status = 400, description = "invalid body, or the forwarded request is not authentic", body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[post("/authorize")]
async fn authorize(req: HttpRequest, caller: Caller, body: JsonBytes) -> ApiResult<HttpResponse> {
    // The state is borrowed from the request rather than extracted as
    // `web::Data`, whose clone bumps a count that every request on every
    // worker thread shares: this is the hot path of platform services.
    let state = app_state(&req)?;
    let outcome =
        crate::iam::service_authorize::authorize_request(state, &caller, body.parse()?).await?;
    let json = outcome
        .to_json()
        .map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(json))
}
