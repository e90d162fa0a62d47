//! What every action of the query protocol is: a function from the
//! request's context to its XML reply, listed in a table by name. Apart
//! from `mod.rs` (the router) so that the actions and the router do not
//! import each other.

use std::future::Future;
use std::pin::Pin;

use super::params::Params;
use super::xml::Xml;
use crate::auth::{Caller, CallerKind};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What an action works with: the caller, already authenticated, and the
/// request's parameters.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub caller: &'a Caller,
    pub params: &'a Params,
}

/// An action's reply: the content of its `<XResult>`, or `None` for the
/// actions that answer with metadata only.
pub type Outcome = ApiResult<Option<Xml>>;

pub type Handler = for<'r> fn(&'r Ctx<'r>) -> Pin<Box<dyn Future<Output = Outcome> + 'r>>;

/// Builds an action table `[(name, handler)]` from `name => async_fn` or
/// `name => async_fn(extra, args)` (called as `async_fn(ctx, extra, args)`).
macro_rules! actions {
    ($($name:literal => $f:ident $(($($arg:expr),*))?),* $(,)?) => {
        &[$(($name, |c| Box::pin($f(c $($(, $arg)*)?)))),*]
    };
}
pub(crate) use actions;

/// `UserName` when given; otherwise, as AWS, the calling user's own name
/// (with its keys or its own session). None for callers that are not IAM
/// users (the root, role sessions).
pub fn user_name_or_self(ctx: &Ctx<'_>) -> Option<String> {
    match (ctx.params.get("UserName"), &ctx.caller.kind) {
        (Some(name), _) => Some(name.to_string()),
        (None, CallerKind::User { name, .. } | CallerKind::UserSession { name, .. }) => {
            Some(name.clone())
        }
        _ => None,
    }
}

/// As [`user_name_or_self`], for the actions that cannot act on the root.
pub fn user_name_required(ctx: &Ctx<'_>) -> ApiResult<String> {
    user_name_or_self(ctx).ok_or_else(|| {
        ApiError::ValidationError(
            "Must specify userName when calling with non-User credentials".into(),
        )
    })
}
