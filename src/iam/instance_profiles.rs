//! Instance profiles (AWS-IAM-NOTES §7.6): a named holder of exactly one
//! role that workloads are registered with. Adding a role needs
//! `iam:PassRole` on it (§9.4), as in AWS; a profile that holds a role
//! cannot be deleted, nor can a role that sits in a profile (§9.2).

use super::roles::{find_role_authorized, find_role_authorized_with};
use super::{all_of, arn_in, authorize, authorize_with, parse_name, parse_path, ActionContext};
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::ids::{new_unique_id, UniqueIdPrefix};
use crate::domain::tags::validate_tags;
use crate::domain::{format_time_ms, now, EntityKind, InstanceProfile, Role, Tag};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;
use crate::store::{ListParams, Page};

/// AWS's default quota of instance profiles per account (§2.2).
pub const MAX_PER_ACCOUNT: i64 = 1000;

/// A profile and its role, if it holds one.
#[derive(Debug, Clone)]
pub struct ProfileView {
    pub profile: InstanceProfile,
    pub role: Option<Role>,
    /// Its tags on the single reads (get, create); lists leave them out,
    /// as IAM's do.
    pub tags: Vec<Tag>,
}

fn no_such_profile(name: &str) -> ApiError {
    ApiError::NoSuchEntity(format!("Instance Profile {name} cannot be found."))
}

async fn find_profile(
    state: &OpContext,
    caller: &Caller,
    name: &str,
) -> ApiResult<InstanceProfile> {
    state
        .store
        .get_instance_profile(&caller.account_id, name)
        .await?
        .ok_or_else(|| no_such_profile(name))
}

/// Finds a profile of the caller's account and authorizes `action` on it
/// (403 before 404, as `authorize_found` explains).
pub async fn find_profile_authorized(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    action: &str,
) -> ApiResult<InstanceProfile> {
    find_profile_authorized_with(state, caller, name, ActionContext::new(action)).await
}

/// [`find_profile_authorized`] with the keys the operation supplies; the
/// profile's tags are added.
pub async fn find_profile_authorized_with(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    cx: ActionContext<'_>,
) -> ApiResult<InstanceProfile> {
    let found = find_profile(state, caller, name).await;
    super::authorize_found(
        state,
        caller,
        cx,
        found,
        |p, cx| {
            cx.target(&p.id, None);
            p.arn().to_string()
        },
        || arn_in(caller, "instance-profile", "/", name),
    )
    .await
}

pub async fn view(state: &OpContext, profile: InstanceProfile) -> ApiResult<ProfileView> {
    let role = match &profile.role_id {
        Some(id) => state.store.get_role_by_id(id).await?,
        None => None,
    };
    Ok(ProfileView {
        profile,
        role,
        tags: Vec::new(),
    })
}

async fn views(state: &OpContext, page: Page<InstanceProfile>) -> ApiResult<Page<ProfileView>> {
    let mut items = Vec::with_capacity(page.items.len());
    for profile in page.items {
        items.push(view(state, profile).await?);
    }
    Ok(Page {
        items,
        is_truncated: page.is_truncated,
        marker: page.marker,
    })
}

pub async fn create_instance_profile(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    path: Option<&str>,
    tags: &[Tag],
) -> ApiResult<ProfileView> {
    let name = parse_name(EntityKind::InstanceProfile, name)?;
    let path = parse_path(path)?;
    validate_tags(tags).map_err(ApiError::ValidationError)?;
    authorize_with(
        state,
        caller,
        &arn_in(caller, "instance-profile", path.as_str(), name.as_str()),
        ActionContext::new("iam:CreateInstanceProfile").request_tags(tags),
    )
    .await?;
    if state
        .store
        .count_instance_profiles(&caller.account_id)
        .await?
        >= MAX_PER_ACCOUNT
    {
        return Err(ApiError::LimitExceeded(format!(
            "Cannot exceed quota for InstanceProfilesPerAccount: {MAX_PER_ACCOUNT}"
        )));
    }
    let profile = InstanceProfile {
        id: new_unique_id(UniqueIdPrefix::InstanceProfile),
        account_id: caller.account_id.clone(),
        name: name.to_string(),
        path: path.as_str().to_string(),
        role_id: None,
        created_at: now(),
    };
    let event = AuditEvent::by(
        caller,
        "iam:CreateInstanceProfile",
        profile.arn().to_string(),
    )
    .params(serde_json::json!({ "tags": tags }));
    audited(state, event, async |tx| {
        tx.insert_instance_profile(&profile).await?;
        tx.replace_tags_in(&profile.id, tags).await
    })
    .await?;
    let tags = state.store.list_tags(&profile.id).await?;
    Ok(ProfileView {
        profile,
        role: None,
        tags,
    })
}

pub async fn get_instance_profile(
    state: &OpContext,
    caller: &Caller,
    name: &str,
) -> ApiResult<ProfileView> {
    let profile = find_profile_authorized(state, caller, name, "iam:GetInstanceProfile").await?;
    let tags = state.store.list_tags(&profile.id).await?;
    Ok(ProfileView {
        tags,
        ..view(state, profile).await?
    })
}

pub async fn list_instance_profiles(
    state: &OpContext,
    caller: &Caller,
    params: &ListParams,
) -> ApiResult<Page<ProfileView>> {
    authorize(
        state,
        caller,
        "iam:ListInstanceProfiles",
        &all_of(caller, "instance-profile"),
    )
    .await?;
    let page = state
        .store
        .list_instance_profiles(&caller.account_id, params)
        .await?;
    views(state, page).await
}

pub async fn list_instance_profiles_for_role(
    state: &OpContext,
    caller: &Caller,
    role_name: &str,
    params: &ListParams,
) -> ApiResult<Page<ProfileView>> {
    let role =
        find_role_authorized(state, caller, role_name, "iam:ListInstanceProfilesForRole").await?;
    let page = state
        .store
        .list_instance_profiles_for_role(&role.id, params)
        .await?;
    views(state, page).await
}

pub async fn delete_instance_profile(
    state: &OpContext,
    caller: &Caller,
    name: &str,
) -> ApiResult<()> {
    let profile = find_profile_authorized(state, caller, name, "iam:DeleteInstanceProfile").await?;
    let conflict = || {
        ApiError::DeleteConflict(
            "Cannot delete entity, must remove roles from instance profile first.".into(),
        )
    };
    if profile.role_id.is_some() {
        return Err(conflict());
    }
    if state.store.count_profile_workloads(&profile.id).await? > 0 {
        return Err(ApiError::DeleteConflict(
            "Cannot delete entity, must delete the workloads registered with the instance profile first."
                .into(),
        ));
    }
    let event = AuditEvent::by(
        caller,
        "iam:DeleteInstanceProfile",
        profile.arn().to_string(),
    );
    audited(state, event, async |tx| {
        match tx.delete_instance_profile(&profile.id).await? {
            true => Ok(tx.delete_all_tags(&profile.id).await?),
            // A role was added since the read.
            false => Err(conflict()),
        }
    })
    .await?;
    tracing::info!(profile = %profile.name, by = %caller.arn, "instance profile deleted");
    Ok(())
}

/// AddRoleToInstanceProfile: `iam:AddRoleToInstanceProfile` on the
/// profile and `iam:PassRole` on the role. One role per profile.
pub async fn add_role(
    state: &OpContext,
    caller: &Caller,
    profile_name: &str,
    role_name: &str,
) -> ApiResult<()> {
    let profile =
        find_profile_authorized(state, caller, profile_name, "iam:AddRoleToInstanceProfile")
            .await?;
    // The role becomes associated with the profile (AWS's
    // iam:AssociatedResourceArn); the service it will be passed to is
    // named only when a workload is registered.
    let profile_arn = profile.arn().to_string();
    let cx = ActionContext::new("iam:PassRole").associated_resource(&profile_arn);
    let role = find_role_authorized_with(state, caller, role_name, cx).await?;
    if let Some(current) = &profile.role_id {
        return Err(if *current == role.id {
            ApiError::EntityAlreadyExists(format!(
                "The role with name {} is already in instance profile {}.",
                role.name, profile.name
            ))
        } else {
            limit_exceeded()
        });
    }
    let event = AuditEvent::by(
        caller,
        "iam:AddRoleToInstanceProfile",
        profile.arn().to_string(),
    )
    .params(serde_json::json!({ "role_name": role.name }));
    audited(state, event, async |tx| {
        match tx.set_instance_profile_role(&profile.id, &role.id).await? {
            true => Ok(()),
            false => Err(limit_exceeded()),
        }
    })
    .await?;
    tracing::info!(profile = %profile.name, role = %role.name, by = %caller.arn, "role added to instance profile");
    Ok(())
}

/// AWS's message when a profile holds its one role already.
fn limit_exceeded() -> ApiError {
    ApiError::LimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1".into())
}

/// RemoveRoleFromInstanceProfile. The profile's workloads can no longer
/// refresh, and the sessions they fetched are revoked at once.
pub async fn remove_role(
    state: &OpContext,
    caller: &Caller,
    profile_name: &str,
    role_name: &str,
) -> ApiResult<()> {
    let profile = find_profile_authorized(
        state,
        caller,
        profile_name,
        "iam:RemoveRoleFromInstanceProfile",
    )
    .await?;
    let role = super::roles::find_role(state, caller, role_name).await?;
    let now = format_time_ms(time::OffsetDateTime::now_utc());
    let event = AuditEvent::by(
        caller,
        "iam:RemoveRoleFromInstanceProfile",
        profile.arn().to_string(),
    )
    .params(serde_json::json!({ "role_name": role.name }));
    audited(state, event, async |tx| {
        match tx
            .remove_instance_profile_role(&profile.id, &role.id, &now)
            .await?
        {
            true => Ok(()),
            false => Err(ApiError::NoSuchEntity(format!(
                "The role with name {} is not in instance profile {}.",
                role.name, profile.name
            ))),
        }
    })
    .await?;
    tracing::info!(profile = %profile.name, role = %role.name, by = %caller.arn, "role removed from instance profile");
    Ok(())
}
