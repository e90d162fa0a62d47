//! Tags on users, roles and managed policies (at most 50; keys are
//! case-insensitive on users and roles).

use super::authorize;
use super::policies::resolve_policy;
use super::roles::find_role;
use super::users::find_user;
use crate::auth::Caller;
use crate::domain::tags::{validate_tags, MAX_TAGS};
use crate::domain::Tag;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What can carry tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taggable {
    User,
    Role,
    Policy,
}

async fn resolve(
    state: &AppState,
    caller: &Caller,
    kind: Taggable,
    name: &str,
) -> ApiResult<(String, String, &'static str)> {
    Ok(match kind {
        Taggable::User => {
            let u = find_user(state, caller, name).await?;
            (u.id.clone(), u.arn().to_string(), "User")
        }
        Taggable::Role => {
            let r = find_role(state, caller, name).await?;
            (r.id.clone(), r.arn().to_string(), "Role")
        }
        Taggable::Policy => {
            let p = resolve_policy(state, caller, name).await?;
            if p.is_aws_managed() {
                return Err(ApiError::InvalidInput(
                    "AWS managed policies cannot be tagged.".into(),
                ));
            }
            (p.id.clone(), p.arn.clone(), "Policy")
        }
    })
}

pub async fn tag(
    state: &AppState,
    caller: &Caller,
    kind: Taggable,
    name: &str,
    tags: &[Tag],
) -> ApiResult<()> {
    let (id, arn, noun) = resolve(state, caller, kind, name).await?;
    authorize(state, caller, &format!("iam:Tag{noun}"), &arn).await?;
    validate_tags(tags).map_err(ApiError::ValidationError)?;
    if !state.store.tag_entity(&id, tags, MAX_TAGS).await? {
        return Err(ApiError::LimitExceeded(format!(
            "The number of tags has reached the maximum limit of {MAX_TAGS}."
        )));
    }
    state.invalidate_caches();
    Ok(())
}

pub async fn untag(
    state: &AppState,
    caller: &Caller,
    kind: Taggable,
    name: &str,
    keys: &[String],
) -> ApiResult<()> {
    let (id, arn, noun) = resolve(state, caller, kind, name).await?;
    authorize(state, caller, &format!("iam:Untag{noun}"), &arn).await?;
    state.store.untag_entity(&id, keys).await?;
    state.invalidate_caches();
    Ok(())
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    kind: Taggable,
    name: &str,
) -> ApiResult<Vec<Tag>> {
    let (id, arn, noun) = resolve(state, caller, kind, name).await?;
    authorize(state, caller, &format!("iam:List{noun}Tags"), &arn).await?;
    state.store.list_tags(&id).await
}
