//! The registry of the platform's service principals (AWS-IAM-NOTES §7.6):
//! names such as `compute.platform.internal` that a role trusts with
//! `{"Service": NAME}`. Like AWS's own service principals they are global,
//! not per account, so only the management account registers and removes
//! them (`latchkey:CreateServicePrincipal`, `latchkey:DeleteServicePrincipal`);
//! any caller allowed `latchkey:GetServicePrincipal` /
//! `latchkey:ListServicePrincipals` reads them, so that every account can
//! write trust policies for them. A service principal holds no
//! credentials: latchkey assumes roles on its behalf only for the workloads
//! registered with it.

use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::{now, ServiceName, ServicePrincipal};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;
use crate::store::{encode_marker, ListParams, Page};

/// `arn:aws:iam::aws:service-principal/NAME`: global, like AWS managed
/// policies (`arn:aws:iam::aws:policy/...`).
pub fn service_principal_arn(name: &str) -> String {
    format!("arn:aws:iam::aws:service-principal/{name}")
}

fn parse(name: &str) -> ApiResult<ServiceName> {
    ServiceName::parse(name).map_err(ApiError::ValidationError)
}

pub fn no_such(name: &str) -> ApiError {
    ApiError::NoSuchEntity(format!("The service principal {name} cannot be found."))
}

async fn authorize_management(
    state: &OpContext,
    caller: &Caller,
    action: &str,
    resource: &str,
) -> ApiResult<()> {
    if !caller.is_management_account {
        return Err(ApiError::AccessDenied(format!(
            "User: {} is not authorized to perform: {action} on resource: {resource} because only the management account manages service principals",
            caller.arn
        )));
    }
    super::authorize(state, caller, action, resource).await
}

fn check_description(description: &Option<String>) -> ApiResult<()> {
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1000 || d.chars().any(char::is_control))
    {
        return Err(ApiError::ValidationError(
            "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000 and no control characters".into(),
        ));
    }
    Ok(())
}

pub async fn create_service_principal(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    description: Option<String>,
) -> ApiResult<ServicePrincipal> {
    let name = parse(name)?;
    check_description(&description)?;
    authorize_management(
        state,
        caller,
        "latchkey:CreateServicePrincipal",
        &service_principal_arn(name.as_str()),
    )
    .await?;
    let service = ServicePrincipal {
        name: name.to_string(),
        description,
        created_at: now(),
    };
    let event = AuditEvent::by(
        caller,
        "latchkey:CreateServicePrincipal",
        service_principal_arn(&service.name),
    )
    .params(serde_json::json!({ "description": service.description }));
    audited(state, event, async |tx| {
        tx.insert_service_principal(&service).await
    })
    .await?;
    tracing::info!(service = %service.name, by = %caller.arn, "service principal registered");
    Ok(service)
}

pub async fn get_service_principal(
    state: &OpContext,
    caller: &Caller,
    name: &str,
) -> ApiResult<ServicePrincipal> {
    super::authorize(
        state,
        caller,
        "latchkey:GetServicePrincipal",
        &service_principal_arn(&name.to_ascii_lowercase()),
    )
    .await?;
    state
        .store
        .get_service_principal(name)
        .await?
        .ok_or_else(|| no_such(name))
}

pub async fn list_service_principals(
    state: &OpContext,
    caller: &Caller,
    params: &ListParams,
) -> ApiResult<Page<ServicePrincipal>> {
    super::authorize(
        state,
        caller,
        "latchkey:ListServicePrincipals",
        &service_principal_arn("*"),
    )
    .await?;
    let mut rows = state
        .store
        .list_service_principals(&params.after, params.fetch_limit())
        .await?;
    let is_truncated = rows.len() as i64 > params.max_items;
    rows.truncate(params.max_items as usize);
    let marker = is_truncated
        .then(|| rows.last().map(|s| encode_marker(&s.name)))
        .flatten();
    Ok(Page {
        items: rows,
        is_truncated,
        marker,
    })
}

pub async fn delete_service_principal(
    state: &OpContext,
    caller: &Caller,
    name: &str,
) -> ApiResult<()> {
    let lower = name.to_ascii_lowercase();
    authorize_management(
        state,
        caller,
        "latchkey:DeleteServicePrincipal",
        &service_principal_arn(&lower),
    )
    .await?;
    if state.store.get_service_principal(&lower).await?.is_none() {
        return Err(no_such(name));
    }
    if state.store.count_service_workloads(&lower).await? > 0 {
        return Err(ApiError::DeleteConflict(
            "Cannot delete entity, must delete the workloads registered with the service principal first.".into(),
        ));
    }
    let event = AuditEvent::by(
        caller,
        "latchkey:DeleteServicePrincipal",
        service_principal_arn(&lower),
    );
    audited(state, event, async |tx| {
        match tx.delete_service_principal(&lower).await? {
            true => Ok(()),
            // Deleted by a concurrent request since the read.
            false => Err(no_such(name)),
        }
    })
    .await?;
    tracing::info!(service = %lower, by = %caller.arn, "service principal removed");
    Ok(())
}
