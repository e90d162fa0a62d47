//! GET /metrics: Prometheus text. Open on the listener by default (it
//! holds counts by route pattern and reason, no names, ARNs or keys);
//! with `LATCHKEY_METRICS_REQUIRE_AUTH=true` it needs credentials allowed
//! `latchkey:ReadMetrics`.

use actix_web::{get, web, FromRequest as _, HttpRequest, HttpResponse};

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorResponse};
use crate::state::AppState;

/// Prometheus metrics, in the OpenMetrics text format.
///
/// Permissions: none by default; `latchkey:ReadMetrics` on `*` when the
/// server runs with `LATCHKEY_METRICS_REQUIRE_AUTH=true`.
#[utoipa::path(tag = "health", security((), ("basic" = []), ("sigv4" = [])), responses(
    (status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/metrics")]
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let caller = if state.config.metrics_require_auth {
        Some(Caller::extract(&req).await?)
    } else {
        None
    };
    let text = crate::iam::read_metrics::scrape(&state, caller.as_ref()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text))
}
