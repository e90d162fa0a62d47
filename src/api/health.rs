//! Probes: /healthz (the process answers) and /readyz (the database
//! answers and takes writes).

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;
use crate::store::health::Readiness;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness.
#[utoipa::path(tag = "health", security(()), responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers reads and takes writes. After a write
/// failed for a full or failing disk, not ready until a probe write commits.
#[utoipa::path(tag = "health", security(()), responses((status = 200, body = Health), (status = 503, body = Health)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.readiness().await {
        Readiness::Ready => HttpResponse::Ok().json(Health { status: "ready" }),
        Readiness::Unavailable => HttpResponse::ServiceUnavailable().json(Health {
            status: "database unavailable",
        }),
        Readiness::WritesFailing => HttpResponse::ServiceUnavailable().json(Health {
            status: "database refuses writes (disk full or failing)",
        }),
    }
}
