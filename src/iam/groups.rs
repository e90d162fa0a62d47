//! Groups and membership. Groups are not principals and cannot be tagged.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::users::{find_user, find_user_authorized};
use super::{all_of, arn_in, authorize, parse_name, parse_path};
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::ids::{new_unique_id, UniqueIdPrefix};
use crate::domain::{now, EntityKind, Group, User};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;
use crate::store::{ListParams, Page};

/// A user may belong to at most this many groups.
pub const MAX_GROUPS_PER_USER: i64 = 10;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupRequest {
    /// 1 to 128 characters of `[\w+=,.@-]`.
    #[schema(example = "admins")]
    pub name: String,
    pub path: Option<String>,
}

pub async fn find_group(state: &OpContext, caller: &Caller, name: &str) -> ApiResult<Group> {
    state
        .store
        .get_group(&caller.account_id, name)
        .await?
        .ok_or_else(|| ApiError::no_such("group", name))
}

/// Finds a group and authorizes `action` on it (see `find_user_authorized`).
pub async fn find_group_authorized(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    action: &str,
) -> ApiResult<Group> {
    find_group_authorized_with(state, caller, name, super::ActionContext::new(action)).await
}

/// [`find_group_authorized`] with the keys the operation supplies. Groups
/// carry no tags and no boundary.
pub async fn find_group_authorized_with(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    cx: super::ActionContext<'_>,
) -> ApiResult<Group> {
    let found = find_group(state, caller, name).await;
    super::authorize_found(
        state,
        caller,
        cx,
        found,
        |g, _| g.arn().to_string(),
        || arn_in(caller, "group", "/", name),
    )
    .await
}

pub async fn create_group(
    state: &OpContext,
    caller: &Caller,
    req: CreateGroupRequest,
) -> ApiResult<Group> {
    let name = parse_name(EntityKind::Group, &req.name)?;
    let path = parse_path(req.path.as_deref())?;
    authorize(
        state,
        caller,
        "iam:CreateGroup",
        &arn_in(caller, "group", path.as_str(), name.as_str()),
    )
    .await?;
    let group = Group {
        id: new_unique_id(UniqueIdPrefix::Group),
        account_id: caller.account_id.clone(),
        name: name.to_string(),
        path: path.as_str().to_string(),
        created_at: now(),
    };
    let event = AuditEvent::by(caller, "iam:CreateGroup", group.arn().to_string())
        .params(json!({"name": group.name, "path": group.path}));
    audited(state, event, async |tx| tx.insert_group(&group).await).await?;
    Ok(group)
}

pub async fn get_group(
    state: &OpContext,
    caller: &Caller,
    name: &str,
) -> ApiResult<(Group, Vec<User>)> {
    let group = find_group_authorized(state, caller, name, "iam:GetGroup").await?;
    let members = state.store.members_of_group(&group.id).await?;
    Ok((group, members))
}

pub async fn list_groups(
    state: &OpContext,
    caller: &Caller,
    params: &ListParams,
) -> ApiResult<Page<Group>> {
    authorize(state, caller, "iam:ListGroups", &all_of(caller, "group")).await?;
    Ok(state.store.list_groups(&caller.account_id, params).await?)
}

pub async fn list_groups_for_user(
    state: &OpContext,
    caller: &Caller,
    user_name: &str,
) -> ApiResult<Vec<Group>> {
    let user = find_user_authorized(state, caller, user_name, "iam:ListGroupsForUser").await?;
    Ok(state.store.groups_of_user(&user.id).await?)
}

/// UpdateGroup: a new name and/or path. The group keeps its id, so its
/// members and policies stay. AWS asks `iam:UpdateGroup` on both the
/// group and the group it becomes.
pub async fn update_group(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    new_name: Option<&str>,
    new_path: Option<&str>,
) -> ApiResult<Group> {
    let group = find_group_authorized(state, caller, name, "iam:UpdateGroup").await?;
    let new_name = match new_name {
        Some(n) => parse_name(EntityKind::Group, n)?.to_string(),
        None => group.name.clone(),
    };
    let new_path = match new_path {
        Some(p) => parse_path(Some(p))?.as_str().to_string(),
        None => group.path.clone(),
    };
    let renamed = Group {
        name: new_name,
        path: new_path,
        ..group.clone()
    };
    if renamed.arn().to_string() != group.arn().to_string() {
        authorize(state, caller, "iam:UpdateGroup", &renamed.arn().to_string()).await?;
    }
    let event = AuditEvent::by(caller, "iam:UpdateGroup", group.arn().to_string())
        .params(json!({"new_name": renamed.name, "new_path": renamed.path}));
    audited(state, event, async |tx| {
        tx.update_group(&group.id, &renamed.name, &renamed.path)
            .await
    })
    .await?;
    Ok(renamed)
}

pub async fn delete_group(state: &OpContext, caller: &Caller, name: &str) -> ApiResult<()> {
    let group = find_group_authorized(state, caller, name, "iam:DeleteGroup").await?;
    let deps = state.store.group_dependents(&group.id).await?;
    let blocker = if deps.members > 0 {
        Some("Cannot delete entity, must remove users from group first.")
    } else if deps.inline_policies > 0 {
        Some("Cannot delete entity, must delete policies first.")
    } else if deps.attached_policies > 0 {
        Some("Cannot delete entity, must detach all policies first.")
    } else {
        None
    };
    if let Some(message) = blocker {
        return Err(ApiError::DeleteConflict(message.to_string()));
    }
    let event = AuditEvent::by(caller, "iam:DeleteGroup", group.arn().to_string());
    audited(state, event, async |tx| tx.delete_group(&group.id).await).await?;
    Ok(())
}

pub async fn add_user_to_group(
    state: &OpContext,
    caller: &Caller,
    group_name: &str,
    user_name: &str,
) -> ApiResult<()> {
    let group = find_group_authorized(state, caller, group_name, "iam:AddUserToGroup").await?;
    let user = find_user(state, caller, user_name).await?;
    if state.store.group_count_of_user(&user.id).await? >= MAX_GROUPS_PER_USER {
        let already = state
            .store
            .groups_of_user(&user.id)
            .await?
            .iter()
            .any(|g| g.id == group.id);
        if !already {
            return Err(ApiError::LimitExceeded(format!(
                "Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}"
            )));
        }
    }
    let event = AuditEvent::by(caller, "iam:AddUserToGroup", group.arn().to_string())
        .params(json!({"user_name": user.name}));
    audited(state, event, async |tx| {
        tx.add_group_member(&group.id, &user.id, &now()).await
    })
    .await?;
    Ok(())
}

pub async fn remove_user_from_group(
    state: &OpContext,
    caller: &Caller,
    group_name: &str,
    user_name: &str,
) -> ApiResult<()> {
    let group = find_group_authorized(state, caller, group_name, "iam:RemoveUserFromGroup").await?;
    let user = find_user(state, caller, user_name).await?;
    let event = AuditEvent::by(caller, "iam:RemoveUserFromGroup", group.arn().to_string())
        .params(json!({"user_name": user.name}));
    audited(state, event, async |tx| {
        if tx.remove_group_member(&group.id, &user.id).await? {
            Ok(())
        } else {
            Err(ApiError::NoSuchEntity(format!(
                "The user with name {} is not a member of group {}.",
                user.name, group.name
            )))
        }
    })
    .await?;
    Ok(())
}
