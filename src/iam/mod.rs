//! The IAM operations. Each takes the authenticated `Caller`, authorizes
//! itself with the policy engine, applies AWS's rules and quotas, writes
//! through the store and invalidates the compiled-policy cache. Both front
//! ends (REST and the AWS query protocol) call these, so neither can forget
//! a check.

pub mod absent_credentials;
pub mod access_analysis;
pub mod access_keys;
pub mod account_aliases;
pub mod account_details;
pub mod accounts;
pub mod action_context;
pub mod attachments;
pub mod authorize;
pub mod builtin;
pub mod cached;
mod caller_context;
pub mod change_password;
#[cfg(test)]
mod context_tests;
pub mod credential_report;
pub mod documents;
pub mod groups;
pub mod holders;
pub mod inline_policies;
pub mod instance_profiles;
pub mod last_accessed;
pub mod last_accessed_jobs;
pub mod login_profiles;
pub mod master_key;
pub mod mfa_devices;
mod mfa_qr;
pub mod oidc_providers;
pub mod password_policy;
pub mod policies;
pub mod read_metrics;
pub mod roles;
pub mod service_authorize;
pub mod service_principals;
pub mod services;
pub mod simulate;
pub mod summary;
pub mod tags;
pub mod trust;
pub mod users;

use crate::auth::Caller;
use crate::domain::{EntityKind, EntityName, IamPath};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;

pub use action_context::ActionContext;
pub use authorize::{authorize, authorize_with};

/// `arn:aws:iam::ACCT:KIND/PATH/NAME` for the caller's account.
pub(crate) fn arn_in(caller: &Caller, kind: &str, path: &str, name: &str) -> String {
    crate::domain::Arn::iam(&caller.account_id, kind, path, name).to_string()
}

/// `arn:aws:iam::ACCT:KIND/*`: the resource of list operations.
pub(crate) fn all_of(caller: &Caller, kind: &str) -> String {
    format!("arn:aws:iam::{}:{kind}/*", caller.account_id)
}

pub(crate) fn parse_name(kind: EntityKind, name: &str) -> ApiResult<EntityName> {
    EntityName::parse(kind, name).map_err(ApiError::ValidationError)
}

pub(crate) fn parse_path(path: Option<&str>) -> ApiResult<IamPath> {
    match path {
        None => Ok(IamPath::root()),
        Some(p) => IamPath::parse(p).map_err(ApiError::ValidationError),
    }
}

/// Authorizes `cx.action` on what a lookup found and returns the lookup.
/// `target` names the found entity (its ARN) and adds its keys to `cx`
/// (its tags, its boundary). When nothing was found, the action is
/// authorized on `missing_arn` (the ARN the entity would have at path `/`),
/// with no target keys, so that a caller who may not act on it gets 403
/// rather than a 404 telling which names exist: IAM decides access before
/// existence.
pub(crate) async fn authorize_found<T>(
    state: &OpContext,
    caller: &Caller,
    mut cx: ActionContext<'_>,
    found: ApiResult<T>,
    target: impl FnOnce(&T, &mut ActionContext<'_>) -> String,
    missing_arn: impl FnOnce() -> String,
) -> ApiResult<T> {
    let resource = match &found {
        Ok(entity) => target(entity, &mut cx),
        Err(ApiError::NoSuchEntity(_)) => missing_arn(),
        Err(_) => return found,
    };
    authorize_with(state, caller, &resource, cx).await?;
    found
}
