//! Users: create, read, list, rename, delete, permissions boundary.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{all_of, arn_in, authorize, authorize_with, parse_name, parse_path, ActionContext};
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::ids::{new_unique_id, UniqueIdPrefix};
use crate::domain::tags::validate_tags;
use crate::domain::{now, EntityKind, Tag, User};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;
use crate::store::{ListParams, Page};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// 1 to 64 characters of `[\w+=,.@-]`; unique in the account ignoring case.
    #[schema(example = "alice")]
    pub name: String,
    /// `/` (default) or `/a/b/`.
    pub path: Option<String>,
    /// ARN of a managed policy that caps the user's permissions.
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// A new name.
    pub new_name: Option<String>,
    /// A new path.
    pub new_path: Option<String>,
}

/// Finds a user of the caller's account or answers NoSuchEntity.
pub async fn find_user(state: &OpContext, caller: &Caller, name: &str) -> ApiResult<User> {
    state
        .store
        .get_user(&caller.account_id, name)
        .await?
        .ok_or_else(|| ApiError::no_such("user", name))
}

/// Finds a user and authorizes `action` on it (on its would-be ARN when
/// missing, so that only callers allowed to act learn that it is missing).
pub async fn find_user_authorized(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    action: &str,
) -> ApiResult<User> {
    find_user_authorized_with(state, caller, name, ActionContext::new(action)).await
}

/// [`find_user_authorized`] with the keys the operation supplies; the
/// user's tags and current boundary are added.
pub async fn find_user_authorized_with(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    cx: ActionContext<'_>,
) -> ApiResult<User> {
    let found = find_user(state, caller, name).await;
    super::authorize_found(
        state,
        caller,
        cx,
        found,
        |u, cx| {
            cx.target(&u.id, u.permissions_boundary.as_deref());
            u.arn().to_string()
        },
        || arn_in(caller, "user", "/", name),
    )
    .await
}

/// Checks that a boundary ARN names an existing managed policy.
pub(crate) async fn check_boundary(state: &OpContext, caller: &Caller, arn: &str) -> ApiResult<()> {
    let policy = state.store.get_policy_by_arn(arn).await?;
    match policy {
        Some(p) if p.is_aws_managed() || p.account_id == caller.account_id => Ok(()),
        _ => Err(ApiError::NoSuchEntity(format!(
            "Policy {arn} does not exist or is not attachable."
        ))),
    }
}

pub async fn create_user(
    state: &OpContext,
    caller: &Caller,
    req: CreateUserRequest,
) -> ApiResult<(User, Vec<Tag>)> {
    let name = parse_name(EntityKind::User, &req.name)?;
    let path = parse_path(req.path.as_deref())?;
    validate_tags(&req.tags).map_err(ApiError::ValidationError)?;
    authorize_with(
        state,
        caller,
        &arn_in(caller, "user", path.as_str(), name.as_str()),
        ActionContext::new("iam:CreateUser")
            .boundary(req.permissions_boundary.as_deref())
            .request_tags(&req.tags),
    )
    .await?;
    if let Some(boundary) = &req.permissions_boundary {
        check_boundary(state, caller, boundary).await?;
    }
    let user = User {
        id: new_unique_id(UniqueIdPrefix::User),
        account_id: caller.account_id.clone(),
        name: name.to_string(),
        path: path.as_str().to_string(),
        permissions_boundary: req.permissions_boundary,
        created_at: now(),
    };
    let event = AuditEvent::by(caller, "iam:CreateUser", user.arn().to_string()).params(json!({
        "name": user.name,
        "path": user.path,
        "permissions_boundary": user.permissions_boundary,
        "tags": req.tags,
    }));
    audited(state, event, async |tx| {
        tx.insert_user(&user, &req.tags).await
    })
    .await?;
    let tags = state.store.list_tags(&user.id).await?;
    Ok((user, tags))
}

pub async fn get_user(
    state: &OpContext,
    caller: &Caller,
    name: &str,
) -> ApiResult<(User, Vec<Tag>)> {
    let user = find_user_authorized(state, caller, name, "iam:GetUser").await?;
    let tags = state.store.list_tags(&user.id).await?;
    Ok((user, tags))
}

pub async fn list_users(
    state: &OpContext,
    caller: &Caller,
    params: &ListParams,
) -> ApiResult<Page<User>> {
    authorize(state, caller, "iam:ListUsers", &all_of(caller, "user")).await?;
    Ok(state.store.list_users(&caller.account_id, params).await?)
}

pub async fn update_user(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    req: UpdateUserRequest,
) -> ApiResult<User> {
    let user = find_user_authorized(state, caller, name, "iam:UpdateUser").await?;
    let new_name = match &req.new_name {
        Some(n) => parse_name(EntityKind::User, n)?.to_string(),
        None => user.name.clone(),
    };
    let new_path = match &req.new_path {
        Some(p) => parse_path(Some(p))?.as_str().to_string(),
        None => user.path.clone(),
    };
    let event = AuditEvent::by(caller, "iam:UpdateUser", user.arn().to_string())
        .params(json!({"new_name": req.new_name, "new_path": req.new_path}));
    audited(state, event, async |tx| {
        tx.update_user(&user.id, &new_name, &new_path).await
    })
    .await?;
    Ok(User {
        name: new_name,
        path: new_path,
        ..user
    })
}

pub async fn delete_user(state: &OpContext, caller: &Caller, name: &str) -> ApiResult<()> {
    let user = find_user_authorized(state, caller, name, "iam:DeleteUser").await?;
    let deps = state.store.user_dependents(&user.id).await?;
    let blocker = if deps.access_keys > 0 {
        Some("Cannot delete entity, must delete access keys first.")
    } else if deps.login_profile {
        Some("Cannot delete entity, must delete login profile first.")
    } else if deps.mfa_devices > 0 {
        Some("Cannot delete entity, must delete MFA device first.")
    } else if deps.inline_policies > 0 {
        Some("Cannot delete entity, must delete policies first.")
    } else if deps.attached_policies > 0 {
        Some("Cannot delete entity, must detach all policies first.")
    } else if deps.groups > 0 {
        Some("Cannot delete entity, must remove user from group first.")
    } else {
        None
    };
    if let Some(message) = blocker {
        return Err(ApiError::DeleteConflict(message.to_string()));
    }
    let event = AuditEvent::by(caller, "iam:DeleteUser", user.arn().to_string());
    audited(state, event, async |tx| tx.delete_user(&user.id).await).await?;
    Ok(())
}

pub async fn put_user_boundary(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    boundary_arn: &str,
) -> ApiResult<()> {
    let cx = ActionContext::new("iam:PutUserPermissionsBoundary").boundary(Some(boundary_arn));
    let user = find_user_authorized_with(state, caller, name, cx).await?;
    check_boundary(state, caller, boundary_arn).await?;
    let event = AuditEvent::by(
        caller,
        "iam:PutUserPermissionsBoundary",
        user.arn().to_string(),
    )
    .params(json!({ "permissions_boundary": boundary_arn }));
    audited(state, event, async |tx| {
        tx.set_user_boundary(&user.id, Some(boundary_arn)).await
    })
    .await?;
    Ok(())
}

pub async fn delete_user_boundary(state: &OpContext, caller: &Caller, name: &str) -> ApiResult<()> {
    let user =
        find_user_authorized(state, caller, name, "iam:DeleteUserPermissionsBoundary").await?;
    let event = AuditEvent::by(
        caller,
        "iam:DeleteUserPermissionsBoundary",
        user.arn().to_string(),
    );
    audited(state, event, async |tx| {
        tx.set_user_boundary(&user.id, None).await
    })
    .await?;
    Ok(())
}
