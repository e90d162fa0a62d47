//! The scanners' reports under /v1: the credential report (CSV or JSON).

use std::collections::BTreeMap;

use actix_web::http::header::{ACCEPT, CONTENT_TYPE};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam;
use crate::iam::credential_report::{to_csv, COLUMNS};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(generate_credential_report)
        .service(get_credential_report);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GenerationResponse {
    /// `STARTED`, `INPROGRESS` or `COMPLETE`.
    #[schema(example = "STARTED")]
    pub state: String,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialReportResponse {
    pub generated_time: String,
    /// AWS's columns, in order.
    pub columns: Vec<String>,
    /// One object per row (the account root first), keyed by column.
    pub rows: Vec<BTreeMap<String, String>>,
}

/// Starts generating the account's credential report, as
/// GenerateCredentialReport: `STARTED`, then `INPROGRESS` while it runs,
/// `COMPLETE` once a report less than four hours old exists.
///
/// Permissions: `iam:GenerateCredentialReport`.
#[utoipa::path(tag = "access-analysis", responses(
    (status = 200, body = GenerationResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse)))]
#[post("/credential-report")]
async fn generate_credential_report(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let s = iam::credential_report::generate_credential_report(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(GenerationResponse {
        state: s.wire_name().into(),
        description: s.description().into(),
    }))
}

/// The account's credential report, in AWS's CSV (with `Accept: text/csv`)
/// or as JSON rows keyed by AWS's column names. 410 `ReportNotPresent`
/// before any generation, 404 `ReportInProgress` while one runs, 410
/// `ReportExpired` four hours after it was generated.
///
/// Permissions: `iam:GetCredentialReport`.
#[utoipa::path(tag = "access-analysis", responses(
    (status = 200, body = CredentialReportResponse, content_type = "application/json"),
    (status = 200, body = String, content_type = "text/csv"),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse), (status = 410, body = ErrorResponse)))]
#[get("/credential-report")]
async fn get_credential_report(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let report = iam::credential_report::get_credential_report(&state, &caller).await?;
    let wants_csv = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        return Ok(HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/csv"))
            .body(to_csv(&report)));
    }
    Ok(HttpResponse::Ok().json(CredentialReportResponse {
        generated_time: report.generated_time.clone(),
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows: report
            .rows
            .iter()
            .map(|row| {
                COLUMNS
                    .iter()
                    .map(|c| c.to_string())
                    .zip(row.iter().cloned())
                    .collect()
            })
            .collect(),
    }))
}
