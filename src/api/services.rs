//! /v1/services: the action catalog (built-in iam, sts and latchkey plus the
//! services platforms register). Only the action catalog: service
//! principals for workload trust live elsewhere.

use actix_web::{get, post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::list_response;
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam;
use crate::iam::services::RegisterServiceRequest;
use crate::policy::lint::ServiceDefinition;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(put_service).service(list_services);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceActionResponse {
    pub name: String,
    /// `List`, `Read`, `Write`, `Permissions management` or `Tagging`.
    #[schema(example = "Read")]
    pub access_level: String,
    pub resource_types: Vec<String>,
    pub condition_keys: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceConditionKeyResponse {
    pub name: String,
    #[serde(rename = "type")]
    #[schema(example = "String")]
    pub key_type: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceResponse {
    pub prefix: String,
    /// True for iam, sts and latchkey (part of the server, read-only).
    pub builtin: bool,
    pub actions: Vec<ServiceActionResponse>,
    pub condition_keys: Vec<ServiceConditionKeyResponse>,
}

impl ServiceResponse {
    fn new(service: ServiceDefinition, builtin: bool) -> Self {
        ServiceResponse {
            prefix: service.prefix,
            builtin,
            actions: service
                .actions
                .into_iter()
                .map(|a| ServiceActionResponse {
                    name: a.name,
                    access_level: a.access_level.as_str().to_owned(),
                    resource_types: a.resource_types,
                    condition_keys: a.condition_keys,
                })
                .collect(),
            condition_keys: service
                .condition_keys
                .into_iter()
                .map(|k| ServiceConditionKeyResponse {
                    name: k.name,
                    key_type: serde_json::to_value(k.key_type)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                })
                .collect(),
        }
    }
}

list_response!(ServiceList, ServiceResponse);

/// Register or replace a platform service of the action catalog: its
/// action prefix, its actions (each with an access level, resource types
/// and condition keys) and its condition keys with their types. From then
/// on every lint (validate, and the findings of policy writes) flags
/// unknown actions of the prefix, expands its wildcards and names access
/// levels; effective permissions list its actions. Prefixes not in the
/// catalog stay valid. The catalog is global: only the management account
/// registers services. 201 when the prefix is new, 200 when replaced.
///
/// Permissions: `latchkey:PutService` on
/// `arn:aws:latchkey::MANAGEMENT_ACCOUNT:service/PREFIX`.
#[utoipa::path(tag = "services", request_body = RegisterServiceRequest, responses(
    (status = 201, body = ServiceResponse), (status = 200, description = "replaced", body = ServiceResponse),
    (status = 400, description = "ValidationError: bad prefix, action or key, or a built-in prefix", body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[post("/services")]
async fn put_service(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<RegisterServiceRequest>,
) -> ApiResult<HttpResponse> {
    let (service, created) = iam::services::put_service(&state, &caller, body.into_inner()).await?;
    let reply = ServiceResponse::new(service, false);
    Ok(if created {
        HttpResponse::Created().json(reply)
    } else {
        HttpResponse::Ok().json(reply)
    })
}

/// The action catalog: built-in services first, then registered ones.
///
/// Permissions: `latchkey:ListServices` on
/// `arn:aws:latchkey::ACCOUNT:service/*` (any account may read it).
#[utoipa::path(tag = "services", responses(
    (status = 200, body = ServiceList), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/services")]
async fn list_services(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let services = iam::services::list_services(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(ServiceList::complete(
        services
            .into_iter()
            .map(|(s, builtin)| ServiceResponse::new(s, builtin))
            .collect(),
    )))
}
