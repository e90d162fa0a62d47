//! /v1/audit/events: who did what, when, from where, with what decision.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::list_response;
use crate::audit::query::{list_events, AuditEventsQuery};
use crate::audit::AuditEvent;
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorResponse};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_audit_events);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventResponse {
    /// Increases with every event written.
    pub id: i64,
    #[schema(example = "2026-11-28T09:00:00.123Z")]
    pub time: String,
    pub request_id: String,
    pub account_id: Option<String>,
    pub principal_arn: Option<String>,
    /// The access key the caller used (never its secret or token).
    pub access_key_id: Option<String>,
    #[schema(example = "iam:CreateUser")]
    pub action: String,
    pub resource: Option<String>,
    /// `allowed`, `denied` or `failed`.
    pub decision: String,
    /// The AWS error code when denied or failed (for refused credentials,
    /// the reason: `InvalidClientTokenId`, `SignatureDoesNotMatch`, ...).
    pub error_code: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Request parameters without secrets, tokens or passwords; policy
    /// documents as `{"sha256": ...}`.
    #[schema(value_type = Object)]
    pub params: Value,
}

impl From<AuditEvent> for AuditEventResponse {
    fn from(e: AuditEvent) -> Self {
        AuditEventResponse {
            id: e.id,
            time: e.event_time,
            request_id: e.request_id,
            account_id: e.account_id,
            principal_arn: e.principal_arn,
            access_key_id: e.access_key_id,
            action: e.action,
            resource: e.resource,
            decision: e.decision,
            error_code: e.error_code,
            source_ip: e.source_ip,
            user_agent: e.user_agent,
            params: serde_json::from_str(&e.params).unwrap_or(Value::Null),
        }
    }
}

list_response!(AuditEventList, AuditEventResponse);

/// Query the audit trail, newest first, paginated.
///
/// A caller sees its own account's events; a caller of the management
/// account sees every account's.
///
/// Permissions: `latchkey:ReadAudit` on `*`.
#[utoipa::path(tag = "audit", params(AuditEventsQuery), responses(
    (status = 200, body = AuditEventList), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/audit/events")]
async fn list_audit_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AuditEventsQuery>,
) -> ApiResult<HttpResponse> {
    let page = list_events(&state, &caller, query.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AuditEventList::from_page(page, AuditEventResponse::from)))
}
