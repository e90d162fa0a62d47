//! Roles: created with a trust policy, assumed (never logged into).

use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::users::check_boundary;
use super::{
    all_of, arn_in, authorize, authorize_with, parse_name, parse_path, trust, ActionContext,
};
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::ids::{new_unique_id, UniqueIdPrefix};
use crate::domain::tags::validate_tags;
use crate::domain::{now, EntityKind, Role, Tag};
use crate::error::{ApiError, ApiResult};
use crate::iam::documents::{lint_for_write, validated_text};
use crate::policy::lint::Finding;
use crate::policy::validate::check_trust_policy_size;
use crate::policy::PolicyType;
use crate::state::OpContext;
use crate::store::{ListParams, Page};

pub const MIN_SESSION_DURATION: i64 = 3600;
pub const MAX_SESSION_DURATION: i64 = 43200;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleRequest {
    /// 1 to 64 characters of `[\w+=,.@-]`.
    #[schema(example = "deployer")]
    pub name: String,
    pub path: Option<String>,
    /// Who may assume the role: an AWS policy document (JSON object).
    #[schema(value_type = Object)]
    #[serde(deserialize_with = "crate::policy::validate::strict_document")]
    pub trust_policy: Value,
    pub description: Option<String>,
    /// 3600 to 43200 seconds; default 3600.
    pub max_session_duration: Option<i64>,
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoleRequest {
    pub description: Option<String>,
    pub max_session_duration: Option<i64>,
}

fn check_duration(seconds: i64) -> ApiResult<()> {
    if !(MIN_SESSION_DURATION..=MAX_SESSION_DURATION).contains(&seconds) {
        return Err(ApiError::ValidationError(format!(
            "1 validation error detected: Value '{seconds}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600 and less than or equal to 43200"
        )));
    }
    Ok(())
}

fn check_description(description: &Option<String>) -> ApiResult<()> {
    if let Some(d) = description {
        let ok = d.chars().count() <= 1000
            && d.chars().all(
                |c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}'),
            );
        if !ok {
            return Err(ApiError::ValidationError(
                "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000 and match [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*".into(),
            ));
        }
    }
    Ok(())
}

/// Validates a trust policy as the trust type, checks its size, lints it
/// (refusing it in strict mode) and pins its principals. Returns the text
/// to store and the findings.
async fn trust_text(
    state: &OpContext,
    caller: &Caller,
    document: &Value,
    strict: bool,
) -> ApiResult<(String, Vec<Finding>)> {
    let text = validated_text(document, PolicyType::Trust)?;
    check_trust_policy_size(&text)?;
    let findings = lint_for_write(state, caller, document, PolicyType::Trust, strict)?;
    Ok((trust::pin(state, &text).await?, findings))
}

pub async fn find_role(state: &OpContext, caller: &Caller, name: &str) -> ApiResult<Role> {
    state
        .store
        .get_role(&caller.account_id, name)
        .await?
        .ok_or_else(|| ApiError::no_such("role", name))
}

/// Finds a role and authorizes `action` on it (see `find_user_authorized`).
pub async fn find_role_authorized(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    action: &str,
) -> ApiResult<Role> {
    find_role_authorized_with(state, caller, name, ActionContext::new(action)).await
}

/// [`find_role_authorized`] with the keys the operation supplies; the
/// role's tags and current boundary are added.
pub async fn find_role_authorized_with(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    cx: ActionContext<'_>,
) -> ApiResult<Role> {
    let found = find_role(state, caller, name).await;
    super::authorize_found(
        state,
        caller,
        cx,
        found,
        |r, cx| {
            cx.target(&r.id, r.permissions_boundary.as_deref());
            r.arn().to_string()
        },
        || arn_in(caller, "role", "/", name),
    )
    .await
}

/// Creates a role; returns it with its tags and the lint findings of its
/// trust policy (`strict`: refuse ERROR and SECURITY_WARNING findings).
pub async fn create_role(
    state: &OpContext,
    caller: &Caller,
    req: CreateRoleRequest,
    strict: bool,
) -> ApiResult<(Role, Vec<Tag>, Vec<Finding>)> {
    let name = parse_name(EntityKind::Role, &req.name)?;
    let path = parse_path(req.path.as_deref())?;
    validate_tags(&req.tags).map_err(ApiError::ValidationError)?;
    check_description(&req.description)?;
    let max_session_duration = req.max_session_duration.unwrap_or(MIN_SESSION_DURATION);
    check_duration(max_session_duration)?;
    authorize_with(
        state,
        caller,
        &arn_in(caller, "role", path.as_str(), name.as_str()),
        ActionContext::new("iam:CreateRole")
            .boundary(req.permissions_boundary.as_deref())
            .request_tags(&req.tags),
    )
    .await?;
    if let Some(boundary) = &req.permissions_boundary {
        check_boundary(state, caller, boundary).await?;
    }
    let (trust_policy, findings) = trust_text(state, caller, &req.trust_policy, strict).await?;
    let role = Role {
        id: new_unique_id(UniqueIdPrefix::Role),
        account_id: caller.account_id.clone(),
        name: name.to_string(),
        path: path.as_str().to_string(),
        trust_policy,
        description: req.description,
        max_session_duration,
        permissions_boundary: req.permissions_boundary,
        created_at: now(),
        last_used_at: None,
        last_used_region: None,
    };
    let event = AuditEvent::by(caller, "iam:CreateRole", role.arn().to_string()).params(json!({
        "name": role.name,
        "path": role.path,
        "trust_policy": role.trust_policy,
        "description": role.description,
        "max_session_duration": role.max_session_duration,
        "permissions_boundary": role.permissions_boundary,
        "tags": req.tags,
    }));
    audited(state, event, async |tx| {
        tx.insert_role(&role, &req.tags).await
    })
    .await?;
    let tags = state.store.list_tags(&role.id).await?;
    Ok((role, tags, findings))
}

pub async fn get_role(
    state: &OpContext,
    caller: &Caller,
    name: &str,
) -> ApiResult<(Role, Vec<Tag>)> {
    let role = find_role_authorized(state, caller, name, "iam:GetRole").await?;
    let tags = state.store.list_tags(&role.id).await?;
    Ok((role, tags))
}

pub async fn list_roles(
    state: &OpContext,
    caller: &Caller,
    params: &ListParams,
) -> ApiResult<Page<Role>> {
    authorize(state, caller, "iam:ListRoles", &all_of(caller, "role")).await?;
    Ok(state.store.list_roles(&caller.account_id, params).await?)
}

pub async fn update_role(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    req: UpdateRoleRequest,
) -> ApiResult<Role> {
    let role = find_role_authorized(state, caller, name, "iam:UpdateRole").await?;
    check_description(&req.description)?;
    let description = req.description.or(role.description.clone());
    let max_session_duration = req
        .max_session_duration
        .unwrap_or(role.max_session_duration);
    check_duration(max_session_duration)?;
    let event = AuditEvent::by(caller, "iam:UpdateRole", role.arn().to_string())
        .params(json!({"description": description, "max_session_duration": max_session_duration}));
    audited(state, event, async |tx| {
        tx.update_role(&role.id, description.as_deref(), max_session_duration)
            .await
    })
    .await?;
    Ok(Role {
        description,
        max_session_duration,
        ..role
    })
}

/// UpdateRoleDescription: only the description changes; returns the role
/// (with its tags), as IAM's reply carries it.
pub async fn update_role_description(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    description: &str,
) -> ApiResult<(Role, Vec<Tag>)> {
    let role = find_role_authorized(state, caller, name, "iam:UpdateRoleDescription").await?;
    let description = Some(description.to_string());
    check_description(&description)?;
    let event = AuditEvent::by(caller, "iam:UpdateRoleDescription", role.arn().to_string())
        .params(json!({ "description": description }));
    audited(state, event, async |tx| {
        tx.update_role(&role.id, description.as_deref(), role.max_session_duration)
            .await
    })
    .await?;
    let tags = state.store.list_tags(&role.id).await?;
    Ok((
        Role {
            description,
            ..role
        },
        tags,
    ))
}

/// Replaces a role's trust policy; returns the role and the findings of
/// the new policy (`strict` as for [`create_role`]).
pub async fn update_trust_policy(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    document: &Value,
    strict: bool,
) -> ApiResult<(Role, Vec<Finding>)> {
    let role = find_role_authorized(state, caller, name, "iam:UpdateAssumeRolePolicy").await?;
    let (trust_policy, findings) = trust_text(state, caller, document, strict).await?;
    let event = AuditEvent::by(caller, "iam:UpdateAssumeRolePolicy", role.arn().to_string())
        .params(json!({ "trust_policy": trust_policy }));
    audited(state, event, async |tx| {
        tx.set_trust_policy(&role.id, &trust_policy).await
    })
    .await?;
    Ok((
        Role {
            trust_policy,
            ..role
        },
        findings,
    ))
}

pub async fn delete_role(state: &OpContext, caller: &Caller, name: &str) -> ApiResult<()> {
    let role = find_role_authorized(state, caller, name, "iam:DeleteRole").await?;
    let deps = state.store.role_dependents(&role.id).await?;
    if deps.instance_profiles > 0 {
        return Err(ApiError::DeleteConflict(
            "Cannot delete entity, must remove roles from instance profile first.".into(),
        ));
    }
    if deps.inline_policies > 0 {
        return Err(ApiError::DeleteConflict(
            "Cannot delete entity, must delete policies first.".into(),
        ));
    }
    if deps.attached_policies > 0 {
        return Err(ApiError::DeleteConflict(
            "Cannot delete entity, must detach all policies first.".into(),
        ));
    }
    let event = AuditEvent::by(caller, "iam:DeleteRole", role.arn().to_string());
    audited(state, event, async |tx| tx.delete_role(&role.id).await).await?;
    Ok(())
}

pub async fn put_role_boundary(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    boundary_arn: &str,
) -> ApiResult<()> {
    let cx = ActionContext::new("iam:PutRolePermissionsBoundary").boundary(Some(boundary_arn));
    let role = find_role_authorized_with(state, caller, name, cx).await?;
    check_boundary(state, caller, boundary_arn).await?;
    let event = AuditEvent::by(
        caller,
        "iam:PutRolePermissionsBoundary",
        role.arn().to_string(),
    )
    .params(json!({ "permissions_boundary": boundary_arn }));
    audited(state, event, async |tx| {
        tx.set_role_boundary(&role.id, Some(boundary_arn)).await
    })
    .await?;
    Ok(())
}

pub async fn delete_role_boundary(state: &OpContext, caller: &Caller, name: &str) -> ApiResult<()> {
    let role =
        find_role_authorized(state, caller, name, "iam:DeleteRolePermissionsBoundary").await?;
    let event = AuditEvent::by(
        caller,
        "iam:DeleteRolePermissionsBoundary",
        role.arn().to_string(),
    );
    audited(state, event, async |tx| {
        tx.set_role_boundary(&role.id, None).await
    })
    .await?;
    Ok(())
}
