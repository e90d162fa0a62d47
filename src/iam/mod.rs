//! The IAM operations. Each takes the authenticated `Caller`, authorizes
//! itself with the policy engine, applies AWS's rules and quotas, writes
//! through the store and invalidates the compiled-policy cache. Both front
//! ends (REST and the AWS query protocol) call these, so neither can forget
//! a check.

pub mod access_keys;
pub mod accounts;
pub mod attachments;
pub mod authorize;
pub mod builtin;
pub mod cached;
pub mod documents;
pub mod groups;
pub mod holders;
pub mod inline_policies;
pub mod login_profiles;
pub mod policies;
pub mod roles;
pub mod tags;
pub mod trust;
pub mod users;

use crate::auth::Caller;
use crate::domain::{EntityKind, EntityName, IamPath};
use crate::error::{ApiError, ApiResult};

pub use authorize::authorize;

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
