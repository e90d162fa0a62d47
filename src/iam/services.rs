//! The action catalog of the server: the built-in services (iam, sts,
//! latchkey) plus the services platforms register with `POST /v1/services`.
//! Every server-side lint (validate, and the findings of policy writes) and
//! the effective-permissions analysis read it.
//!
//! The catalog is global, not per account: a platform's services (its
//! prefixes and actions) are the same for every tenant account, and policies
//! of every account are linted against them. So only the management account
//! may register or replace a service (`latchkey:PutService` on
//! `arn:aws:latchkey::MANAGEMENT_ACCOUNT:service/PREFIX`), while any
//! account may read the catalog that judges its policies
//! (`latchkey:ListServices` on `arn:aws:latchkey::OWN_ACCOUNT:service/*`).
//! The ARNs are latchkey's own (IAM ARNs only take IAM's resource types, so
//! a policy could not name them), and per prefix, so that a platform team
//! can be allowed to maintain only its own service.

use serde::Deserialize;
use utoipa::ToSchema;

use super::authorize;
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::now;
use crate::error::{ApiError, ApiResult};
use crate::policy::lint::{
    AccessLevel, ActionDefinition, Catalog, ConditionKeyDefinition, KeyType, ServiceDefinition,
};
use crate::state::OpContext;

/// Most actions one service may declare; the body limit caps it too.
pub const MAX_ACTIONS: usize = 2000;

/// Access level as the wire names it.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, ToSchema)]
pub enum AccessLevelName {
    List,
    Read,
    Write,
    #[serde(rename = "Permissions management", alias = "PermissionsManagement")]
    PermissionsManagement,
    Tagging,
}

impl From<AccessLevelName> for AccessLevel {
    fn from(level: AccessLevelName) -> Self {
        match level {
            AccessLevelName::List => AccessLevel::List,
            AccessLevelName::Read => AccessLevel::Read,
            AccessLevelName::Write => AccessLevel::Write,
            AccessLevelName::PermissionsManagement => AccessLevel::PermissionsManagement,
            AccessLevelName::Tagging => AccessLevel::Tagging,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceActionRequest {
    /// The action name without prefix, letters and digits: `GetObject`.
    #[schema(example = "GetObject")]
    pub name: String,
    pub access_level: AccessLevelName,
    /// Resource types the action acts on (free text, e.g. `bucket`).
    #[serde(default)]
    pub resource_types: Vec<String>,
    /// Condition keys the action supports, e.g. `store:prefix`.
    #[serde(default)]
    pub condition_keys: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceConditionKeyRequest {
    #[schema(example = "store:prefix")]
    pub name: String,
    /// `String`, `ArrayOfString`, `ARN`, `ArrayOfARN`, `Numeric`,
    /// `ArrayOfNumeric`, `Date`, `Bool`, `IPAddress` or `Binary`.
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "String")]
    pub key_type: KeyType,
}

/// A platform service: its action prefix, actions and condition keys.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterServiceRequest {
    /// Letters, digits, `-` and `.`; case-insensitive. `iam`, `sts` and
    /// `latchkey` are built in and cannot be replaced.
    #[schema(example = "store")]
    pub prefix: String,
    pub actions: Vec<ServiceActionRequest>,
    #[serde(default)]
    pub condition_keys: Vec<ServiceConditionKeyRequest>,
}

impl From<RegisterServiceRequest> for ServiceDefinition {
    fn from(req: RegisterServiceRequest) -> Self {
        ServiceDefinition {
            prefix: req.prefix,
            actions: req
                .actions
                .into_iter()
                .map(|a| ActionDefinition {
                    name: a.name,
                    access_level: a.access_level.into(),
                    resource_types: a.resource_types,
                    condition_keys: a.condition_keys,
                })
                .collect(),
            condition_keys: req
                .condition_keys
                .into_iter()
                .map(|k| ConditionKeyDefinition {
                    name: k.name,
                    key_type: k.key_type,
                })
                .collect(),
        }
    }
}

fn catalog_arn(account_id: &str, prefix: &str) -> String {
    format!("arn:aws:latchkey::{account_id}:service/{prefix}")
}

const BUILTIN_PREFIXES: [&str; 3] = ["iam", "sts", "latchkey"];

/// Registers or replaces a service; returns it (as stored) and whether it
/// was new. The catalog of every later lint includes it at once.
pub async fn put_service(
    state: &OpContext,
    caller: &Caller,
    req: RegisterServiceRequest,
) -> ApiResult<(ServiceDefinition, bool)> {
    let prefix = req.prefix.to_ascii_lowercase();
    let resource = catalog_arn(&caller.account_id, &prefix);
    if !caller.is_management_account {
        return Err(ApiError::AccessDenied(format!(
            "User: {} is not authorized to perform: latchkey:PutService on resource: {resource} because only the management account registers services",
            caller.arn
        )));
    }
    authorize(state, caller, "latchkey:PutService", &resource).await?;
    if BUILTIN_PREFIXES.contains(&prefix.as_str()) {
        return Err(ApiError::ValidationError(format!(
            "The service prefix {prefix} is built in and cannot be replaced."
        )));
    }
    if req.actions.is_empty() || req.actions.len() > MAX_ACTIONS {
        return Err(ApiError::ValidationError(format!(
            "1 validation error detected: Value at 'actions' failed to satisfy constraint: Member must have between 1 and {MAX_ACTIONS} items"
        )));
    }
    let definition = ServiceDefinition::from(req);
    // Checked against a copy: a refused definition leaves the catalog as it was.
    let mut probe = Catalog::empty();
    probe
        .register(definition.clone())
        .map_err(|e| ApiError::ValidationError(e.to_string()))?;
    let text = serde_json::to_string(&definition)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("serializing a service: {e}")))?;
    let event = AuditEvent::by(caller, "latchkey:PutService", resource.clone())
        .params(serde_json::json!({ "definition": definition }));
    let created = audited(state, event, async |tx| {
        tx.put_service(&prefix, &text, &now()).await
    })
    .await?;
    // The write pipeline rebuilt the catalog from the store (rather than
    // patching it), here at once and on other nodes at their next poll, so
    // that concurrent writes on several nodes converge on what the
    // database holds.
    Ok((definition, created))
}

/// The whole catalog: built-in services first, then the registered ones,
/// each marked.
pub async fn list_services(
    state: &OpContext,
    caller: &Caller,
) -> ApiResult<Vec<(ServiceDefinition, bool)>> {
    authorize(
        state,
        caller,
        "latchkey:ListServices",
        &catalog_arn(&caller.account_id, "*"),
    )
    .await?;
    let catalog = state.catalog.current();
    let mut services: Vec<(ServiceDefinition, bool)> = catalog
        .services()
        .map(|s| {
            let builtin = BUILTIN_PREFIXES.contains(&s.prefix.to_ascii_lowercase().as_str());
            (s.clone(), builtin)
        })
        .collect();
    services.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.prefix.cmp(&b.0.prefix)));
    Ok(services)
}
