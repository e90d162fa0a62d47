//! Tags on users, roles, managed policies and instance profiles (at most
//! 50; keys are case-insensitive).

use serde_json::json;

use super::instance_profiles::find_profile_authorized_with;
use super::policies::resolve_policy_authorized_with;
use super::roles::find_role_authorized_with;
use super::users::find_user_authorized_with;
use super::ActionContext;
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::tags::{validate_tags, MAX_TAGS};
use crate::domain::Tag;
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;

/// What can carry tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taggable {
    User,
    Role,
    Policy,
    InstanceProfile,
}

impl Taggable {
    /// The resource noun of the tag actions, e.g. `iam:TagUser`.
    fn noun(self) -> &'static str {
        match self {
            Taggable::User => "User",
            Taggable::Role => "Role",
            Taggable::Policy => "Policy",
            Taggable::InstanceProfile => "InstanceProfile",
        }
    }
}

/// Finds the tagged entity and authorizes `cx.action` on it (with its
/// current tags as resource tags); returns its unique id and ARN.
async fn resolve(
    state: &OpContext,
    caller: &Caller,
    kind: Taggable,
    name: &str,
    cx: ActionContext<'_>,
) -> ApiResult<(String, String)> {
    Ok(match kind {
        Taggable::User => {
            let u = find_user_authorized_with(state, caller, name, cx).await?;
            (u.id.clone(), u.arn().to_string())
        }
        Taggable::Role => {
            let r = find_role_authorized_with(state, caller, name, cx).await?;
            (r.id.clone(), r.arn().to_string())
        }
        Taggable::Policy => {
            let p = resolve_policy_authorized_with(state, caller, name, cx).await?;
            if p.is_aws_managed() {
                return Err(ApiError::InvalidInput(
                    "AWS managed policies cannot be tagged.".into(),
                ));
            }
            (p.id, p.arn)
        }
        Taggable::InstanceProfile => {
            let p = find_profile_authorized_with(state, caller, name, cx).await?;
            (p.id.clone(), p.arn().to_string())
        }
    })
}

pub async fn tag(
    state: &OpContext,
    caller: &Caller,
    kind: Taggable,
    name: &str,
    tags: &[Tag],
) -> ApiResult<()> {
    let action = format!("iam:Tag{}", kind.noun());
    let cx = ActionContext::new(&action).request_tags(tags);
    let (id, arn) = resolve(state, caller, kind, name, cx).await?;
    validate_tags(tags).map_err(ApiError::ValidationError)?;
    let event = AuditEvent::by(caller, &action, arn).params(json!({ "tags": tags }));
    // Over the limit, the error rolls the tags just written back.
    audited(state, event, async |tx| {
        if tx.tag_entity(&id, tags, MAX_TAGS).await? {
            Ok(())
        } else {
            Err(ApiError::LimitExceeded(format!(
                "The number of tags has reached the maximum limit of {MAX_TAGS}."
            )))
        }
    })
    .await?;
    Ok(())
}

pub async fn untag(
    state: &OpContext,
    caller: &Caller,
    kind: Taggable,
    name: &str,
    keys: &[String],
) -> ApiResult<()> {
    let action = format!("iam:Untag{}", kind.noun());
    let cx = ActionContext::new(&action).removed_tag_keys(keys);
    let (id, arn) = resolve(state, caller, kind, name, cx).await?;
    let event = AuditEvent::by(caller, &action, arn).params(json!({ "tag_keys": keys }));
    audited(state, event, async |tx| tx.untag_entity(&id, keys).await).await?;
    Ok(())
}

pub async fn list(
    state: &OpContext,
    caller: &Caller,
    kind: Taggable,
    name: &str,
) -> ApiResult<Vec<Tag>> {
    let action = format!("iam:List{}Tags", kind.noun());
    let (id, _) = resolve(state, caller, kind, name, ActionContext::new(&action)).await?;
    Ok(state.store.list_tags(&id).await?)
}
