//! The scanners' reports under /v1: the credential report (CSV or JSON)
//! and the unused-access views of users and roles.

use std::collections::BTreeMap;

use actix_web::http::header::{ACCEPT, CONTENT_TYPE};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::domain::PolicyHolder;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam;
use crate::iam::credential_report::{to_csv, COLUMNS};
use crate::iam::last_accessed::UnusedAccess;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(generate_credential_report)
        .service(get_credential_report)
        .service(user_unused_access)
        .service(role_unused_access);
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
    (status = 200, description = "The report: JSON, or CSV with `Accept: text/csv`",
        content((CredentialReportResponse = "application/json"), (String = "text/csv"))),
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnusedQuery {
    /// The window: what was not used in this many days is unused
    /// (1..=3650, default 90).
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsedAction {
    pub action: String,
    pub last_accessed: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyUse {
    pub access_key_id: String,
    /// Absent: never used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    pub unused: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LastAssumed {
    /// Absent: never assumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    pub unused: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnusedAccessResponse {
    pub principal_arn: String,
    pub days: u32,
    /// Uses before this time count as unused.
    pub since: String,
    /// Catalog actions the policies grant and that were not used in the
    /// window (never used ones included).
    pub unused_actions: Vec<String>,
    /// Granted actions used in the window, with their newest use.
    pub used_actions: Vec<UsedAction>,
    /// A user's access keys.
    pub access_keys: Vec<KeyUse>,
    /// A role's last assumption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_assumed: Option<LastAssumed>,
}

impl From<UnusedAccess> for UnusedAccessResponse {
    fn from(u: UnusedAccess) -> Self {
        UnusedAccessResponse {
            principal_arn: u.principal_arn,
            days: u.days,
            since: u.since,
            unused_actions: u.unused_actions,
            used_actions: u
                .used_actions
                .into_iter()
                .map(|(action, last_accessed)| UsedAction {
                    action,
                    last_accessed,
                })
                .collect(),
            access_keys: u
                .access_keys
                .into_iter()
                .map(|(access_key_id, last_used, unused)| KeyUse {
                    access_key_id,
                    last_used,
                    unused,
                })
                .collect(),
            last_assumed: u
                .last_assumed
                .map(|(last_used, unused)| LastAssumed { last_used, unused }),
        }
    }
}

const DEFAULT_DAYS: u32 = 90;

/// What a user is granted and has not used in `days` days: the catalog
/// actions its policies (and its groups') allow with no allowed use in the
/// audit trail in the window, and its access keys unused as long. What the
/// trail does not record (reads of latchkey's own API) shows no use.
///
/// Permissions: `iam:GenerateServiceLastAccessedDetails` on the user's ARN.
#[utoipa::path(tag = "access-analysis", params(("user" = String, Path), UnusedQuery), responses(
    (status = 200, body = UnusedAccessResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/users/{user}/unused-access")]
async fn user_unused_access(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<UnusedQuery>,
) -> ApiResult<HttpResponse> {
    let days = query.days.unwrap_or(DEFAULT_DAYS);
    let u =
        iam::last_accessed::unused_access(&state, &caller, PolicyHolder::User, &path, days).await?;
    Ok(HttpResponse::Ok().json(UnusedAccessResponse::from(u)))
}

/// As for users, for a role's sessions, with when the role was last
/// assumed.
///
/// Permissions: `iam:GenerateServiceLastAccessedDetails` on the role's ARN.
#[utoipa::path(tag = "access-analysis", params(("role" = String, Path), UnusedQuery), responses(
    (status = 200, body = UnusedAccessResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/roles/{role}/unused-access")]
async fn role_unused_access(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<UnusedQuery>,
) -> ApiResult<HttpResponse> {
    let days = query.days.unwrap_or(DEFAULT_DAYS);
    let u =
        iam::last_accessed::unused_access(&state, &caller, PolicyHolder::Role, &path, days).await?;
    Ok(HttpResponse::Ok().json(UnusedAccessResponse::from(u)))
}
