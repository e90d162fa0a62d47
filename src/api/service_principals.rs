//! /v1/service-principals: the registry of the platform's services that
//! roles trust with `{"Service": NAME}`.

use actix_web::{delete, get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::list_response;
use crate::auth::Caller;
use crate::domain::ServicePrincipal;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam::service_principals::{self as services, service_principal_arn};
use crate::state::AppState;
use crate::store::ListParams;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_service_principal)
        .service(list_service_principals)
        .service(get_service_principal)
        .service(delete_service_principal);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServicePrincipalRequest {
    /// A DNS name with at least one dot; stored in lower case.
    #[schema(example = "compute.platform.internal")]
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServicePrincipalResponse {
    #[schema(example = "compute.platform.internal")]
    pub name: String,
    /// The resource of the `latchkey:*ServicePrincipal` actions.
    #[schema(example = "arn:aws:iam::aws:service-principal/compute.platform.internal")]
    pub arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_at: String,
    /// What a trust policy names to trust this service.
    #[schema(value_type = Object, example = json!({"Service": "compute.platform.internal"}))]
    pub principal: serde_json::Value,
}

impl From<ServicePrincipal> for ServicePrincipalResponse {
    fn from(s: ServicePrincipal) -> Self {
        ServicePrincipalResponse {
            arn: service_principal_arn(&s.name),
            principal: serde_json::json!({ "Service": s.name }),
            name: s.name,
            description: s.description,
            created_at: s.created_at,
        }
    }
}

list_response!(ServicePrincipalList, ServicePrincipalResponse);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `marker` of the previous page.
    pub marker: Option<String>,
    /// 1 to 1000, default 100.
    pub max_items: Option<i64>,
}

impl PageQuery {
    pub fn params(&self) -> ApiResult<ListParams> {
        ListParams::from_request(None, self.marker.as_deref(), self.max_items)
    }
}

/// Register a service principal. Service principals are global (like
/// `ec2.amazonaws.com`): only the management account registers them.
///
/// Permissions: management account, `latchkey:CreateServicePrincipal` on
/// `arn:aws:iam::aws:service-principal/NAME`.
#[utoipa::path(tag = "workloads", request_body = CreateServicePrincipalRequest, responses(
    (status = 201, body = ServicePrincipalResponse), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 409, body = ErrorResponse)))]
#[post("/service-principals")]
async fn create_service_principal(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateServicePrincipalRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let service =
        services::create_service_principal(&state, &caller, &body.name, body.description).await?;
    Ok(HttpResponse::Created().json(ServicePrincipalResponse::from(service)))
}

/// List the service principals.
///
/// Permissions: `latchkey:ListServicePrincipals` (any account).
#[utoipa::path(tag = "workloads", params(PageQuery), responses(
    (status = 200, body = ServicePrincipalList), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/service-principals")]
async fn list_service_principals(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = services::list_service_principals(&state, &caller, &query.params()?).await?;
    Ok(HttpResponse::Ok().json(ServicePrincipalList::from_page(page, Into::into)))
}

/// Get a service principal.
///
/// Permissions: `latchkey:GetServicePrincipal` (any account).
#[utoipa::path(tag = "workloads", params(("name" = String, Path)), responses(
    (status = 200, body = ServicePrincipalResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/service-principals/{name}")]
async fn get_service_principal(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let service = services::get_service_principal(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(ServicePrincipalResponse::from(service)))
}

/// Remove a service principal; no workload may be registered with it.
///
/// Permissions: management account, `latchkey:DeleteServicePrincipal`.
#[utoipa::path(tag = "workloads", params(("name" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[delete("/service-principals/{name}")]
async fn delete_service_principal(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    services::delete_service_principal(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}
