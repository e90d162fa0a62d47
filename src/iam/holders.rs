//! The user, group or role that holds inline policies, attachments or tags,
//! looked up by name in the caller's account.

use super::groups::find_group_authorized_with;
use super::roles::find_role_authorized_with;
use super::users::find_user_authorized_with;
use super::ActionContext;
use crate::auth::Caller;
use crate::domain::PolicyHolder;
use crate::error::ApiResult;
use crate::state::OpContext;

pub struct Holder {
    pub kind: PolicyHolder,
    pub id: String,
    pub name: String,
    pub arn: String,
}

/// Finds a holder and authorizes `cx.action` on it (see
/// `find_user_authorized`), with the keys the operation supplies and the
/// holder's own (tags, current boundary).
pub async fn find_holder_authorized(
    state: &OpContext,
    caller: &Caller,
    kind: PolicyHolder,
    name: &str,
    cx: ActionContext<'_>,
) -> ApiResult<Holder> {
    let (id, name, arn) = match kind {
        PolicyHolder::User => {
            let u = find_user_authorized_with(state, caller, name, cx).await?;
            (u.id.clone(), u.name.clone(), u.arn().to_string())
        }
        PolicyHolder::Group => {
            let g = find_group_authorized_with(state, caller, name, cx).await?;
            (g.id.clone(), g.name.clone(), g.arn().to_string())
        }
        PolicyHolder::Role => {
            let r = find_role_authorized_with(state, caller, name, cx).await?;
            (r.id.clone(), r.name.clone(), r.arn().to_string())
        }
    };
    Ok(Holder {
        kind,
        id,
        name,
        arn,
    })
}

/// The IAM action name for an operation on a holder kind, e.g.
/// `("Put", "Policy")` on a role gives `iam:PutRolePolicy`.
pub fn action(kind: PolicyHolder, verb: &str, object: &str) -> String {
    let noun = match kind {
        PolicyHolder::User => "User",
        PolicyHolder::Group => "Group",
        PolicyHolder::Role => "Role",
    };
    format!("iam:{verb}{noun}{object}")
}
