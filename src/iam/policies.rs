//! Customer managed policies and their versions (at most five; the default
//! cannot be deleted), and the built-in AWS managed policies (read-only).

use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::documents::{lint_for_write, validated_text};
use super::{all_of, authorize, parse_name};
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::ids::{new_unique_id, UniqueIdPrefix};
use crate::domain::tags::validate_tags;
use crate::domain::{
    now, Arn, EntityKind, IamPath, ManagedPolicy, PolicyHolder, PolicyVersion, Tag,
};
use crate::error::{ApiError, ApiResult};
use crate::policy::lint::Finding;
use crate::policy::validate::check_managed_policy_size;
use crate::policy::PolicyType;
use crate::state::OpContext;
use crate::store::policies::PolicyScope;
use crate::store::{ListParams, Page};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePolicyRequest {
    #[schema(example = "read-only-users")]
    pub name: String,
    pub path: Option<String>,
    pub description: Option<String>,
    /// An identity policy document (JSON object).
    #[schema(value_type = Object)]
    #[serde(deserialize_with = "crate::policy::validate::strict_document")]
    pub document: Value,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePolicyVersionRequest {
    #[schema(value_type = Object)]
    #[serde(deserialize_with = "crate::policy::validate::strict_document")]
    pub document: Value,
    #[serde(default)]
    pub set_as_default: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetDefaultVersionRequest {
    #[schema(example = "v2")]
    pub version_id: String,
}

/// Entities a policy is attached to.
#[derive(Debug, Default)]
pub struct PolicyEntities {
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
}

fn not_found(arn: &str) -> ApiError {
    ApiError::NoSuchEntity(format!("Policy {arn} was not found."))
}

/// A policy the caller's account can see: its own or a built-in one.
pub async fn find_policy_by_arn(
    state: &OpContext,
    caller: &Caller,
    arn: &str,
) -> ApiResult<ManagedPolicy> {
    match state.store.get_policy_by_arn(arn).await? {
        Some(p) if p.is_aws_managed() || p.account_id == caller.account_id => Ok(p),
        _ => Err(not_found(arn)),
    }
}

/// The REST path names a policy by ARN, or by name within the account (then
/// a built-in policy of that name).
pub async fn resolve_policy(
    state: &OpContext,
    caller: &Caller,
    arn_or_name: &str,
) -> ApiResult<ManagedPolicy> {
    if arn_or_name.starts_with("arn:") {
        return find_policy_by_arn(state, caller, arn_or_name).await;
    }
    state
        .store
        .get_policy_by_name(&caller.account_id, arn_or_name)
        .await?
        .ok_or_else(|| ApiError::NoSuchEntity(format!("Policy {arn_or_name} was not found.")))
}

/// Resolves a policy and authorizes `action` on it (see
/// `find_user_authorized`).
pub async fn resolve_policy_authorized(
    state: &OpContext,
    caller: &Caller,
    arn_or_name: &str,
    action: &str,
) -> ApiResult<ManagedPolicy> {
    let cx = super::ActionContext::new(action);
    resolve_policy_authorized_with(state, caller, arn_or_name, cx).await
}

/// [`resolve_policy_authorized`] with the keys the operation supplies; the
/// policy's tags are added.
pub async fn resolve_policy_authorized_with(
    state: &OpContext,
    caller: &Caller,
    arn_or_name: &str,
    cx: super::ActionContext<'_>,
) -> ApiResult<ManagedPolicy> {
    let found = resolve_policy(state, caller, arn_or_name).await;
    super::authorize_found(
        state,
        caller,
        cx,
        found,
        |p, cx| {
            cx.target(&p.id, None);
            p.arn.clone()
        },
        || {
            if arn_or_name.starts_with("arn:") {
                arn_or_name.to_string()
            } else {
                Arn::iam(&caller.account_id, "policy", "/", arn_or_name).to_string()
            }
        },
    )
    .await
}

fn refuse_aws_managed(
    state: &OpContext,
    caller: &Caller,
    policy: &ManagedPolicy,
    action: &str,
) -> ApiResult<()> {
    if policy.is_aws_managed() {
        crate::audit::denied(state, caller, action, &policy.arn);
        return Err(ApiError::AccessDenied(format!(
            "User: {} is not authorized to perform: {action} on resource: {} because AWS managed policies cannot be modified",
            caller.arn, policy.arn
        )));
    }
    Ok(())
}

fn managed_text(document: &Value) -> ApiResult<String> {
    let text = validated_text(document, PolicyType::Identity)?;
    check_managed_policy_size(&text)?;
    Ok(text)
}

/// Creates a managed policy; returns it with its tags and the lint findings
/// of its document (`strict`: refuse ERROR and SECURITY_WARNING findings,
/// as the server setting does for every write).
pub async fn create_policy(
    state: &OpContext,
    caller: &Caller,
    req: CreatePolicyRequest,
    strict: bool,
) -> ApiResult<(ManagedPolicy, Vec<Tag>, Vec<Finding>)> {
    let name = parse_name(EntityKind::Policy, &req.name)?;
    let path = match req.path.as_deref() {
        None => IamPath::root(),
        Some(p) => IamPath::parse_policy_path(p).map_err(ApiError::ValidationError)?,
    };
    validate_tags(&req.tags).map_err(ApiError::ValidationError)?;
    if req
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1000)
    {
        return Err(ApiError::ValidationError(
            "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000".into(),
        ));
    }
    let arn = Arn::iam(&caller.account_id, "policy", path.as_str(), name.as_str()).to_string();
    let cx = super::ActionContext::new("iam:CreatePolicy").request_tags(&req.tags);
    super::authorize_with(state, caller, &arn, cx).await?;
    let text = managed_text(&req.document)?;
    let findings = lint_for_write(state, caller, &req.document, PolicyType::Identity, strict)?;
    let created = now();
    let policy = ManagedPolicy {
        id: new_unique_id(UniqueIdPrefix::Policy),
        account_id: caller.account_id.clone(),
        name: name.to_string(),
        path: path.as_str().to_string(),
        arn,
        description: req.description,
        default_version_id: "v1".into(),
        next_version: 2,
        created_at: created.clone(),
        updated_at: created,
    };
    let event = AuditEvent::by(caller, "iam:CreatePolicy", policy.arn.clone()).params(json!({
        "name": policy.name,
        "path": policy.path,
        "description": policy.description,
        "document": text,
        "tags": req.tags,
    }));
    audited(state, event, async |tx| {
        tx.insert_policy(&policy, &text, &req.tags).await
    })
    .await?;
    let tags = state.store.list_tags(&policy.id).await?;
    Ok((policy, tags, findings))
}

pub async fn get_policy(
    state: &OpContext,
    caller: &Caller,
    arn_or_name: &str,
) -> ApiResult<(ManagedPolicy, i64, Vec<Tag>)> {
    let policy = resolve_policy_authorized(state, caller, arn_or_name, "iam:GetPolicy").await?;
    let (attachments, _) = state.store.policy_usage(&policy).await?;
    let tags = state.store.list_tags(&policy.id).await?;
    Ok((policy, attachments, tags))
}

pub async fn list_policies(
    state: &OpContext,
    caller: &Caller,
    scope: PolicyScope,
    params: &ListParams,
) -> ApiResult<Page<ManagedPolicy>> {
    authorize(state, caller, "iam:ListPolicies", &all_of(caller, "policy")).await?;
    Ok(state
        .store
        .list_policies(&caller.account_id, scope, params)
        .await?)
}

pub async fn delete_policy(state: &OpContext, caller: &Caller, arn_or_name: &str) -> ApiResult<()> {
    let policy = resolve_policy_authorized(state, caller, arn_or_name, "iam:DeletePolicy").await?;
    refuse_aws_managed(state, caller, &policy, "iam:DeletePolicy")?;
    let (attachments, boundaries) = state.store.policy_usage(&policy).await?;
    if attachments > 0 || boundaries > 0 {
        return Err(ApiError::DeleteConflict(
            "Cannot delete a policy attached to entities.".into(),
        ));
    }
    if state.store.list_policy_versions(&policy.id).await?.len() > 1 {
        return Err(ApiError::DeleteConflict(
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.".into(),
        ));
    }
    let event = AuditEvent::by(caller, "iam:DeletePolicy", policy.arn.clone());
    audited(state, event, async |tx| tx.delete_policy(&policy.id).await).await
}

/// Adds a version; returns it, whether it is the default, and the lint
/// findings of its document (`strict` as for [`create_policy`]).
pub async fn create_policy_version(
    state: &OpContext,
    caller: &Caller,
    arn_or_name: &str,
    req: CreatePolicyVersionRequest,
    strict: bool,
) -> ApiResult<(PolicyVersion, bool, Vec<Finding>)> {
    let policy =
        resolve_policy_authorized(state, caller, arn_or_name, "iam:CreatePolicyVersion").await?;
    refuse_aws_managed(state, caller, &policy, "iam:CreatePolicyVersion")?;
    let text = managed_text(&req.document)?;
    let findings = lint_for_write(state, caller, &req.document, PolicyType::Identity, strict)?;
    let event = AuditEvent::by(caller, "iam:CreatePolicyVersion", policy.arn.clone())
        .params(json!({"document": text, "set_as_default": req.set_as_default}));
    let version = audited(state, event, async |tx| {
        tx.insert_policy_version(&policy.id, &text, req.set_as_default, &now())
            .await
    })
    .await?;
    Ok((version, req.set_as_default, findings))
}

pub async fn list_policy_versions(
    state: &OpContext,
    caller: &Caller,
    arn_or_name: &str,
) -> ApiResult<(ManagedPolicy, Vec<PolicyVersion>)> {
    let policy =
        resolve_policy_authorized(state, caller, arn_or_name, "iam:ListPolicyVersions").await?;
    let versions = state.store.list_policy_versions(&policy.id).await?;
    Ok((policy, versions))
}

async fn find_version(
    state: &OpContext,
    policy: &ManagedPolicy,
    version_id: &str,
) -> ApiResult<PolicyVersion> {
    state
        .store
        .get_policy_version(&policy.id, version_id)
        .await?
        .ok_or_else(|| {
            ApiError::NoSuchEntity(format!(
                "Policy {} version {version_id} does not exist or is not attachable.",
                policy.arn
            ))
        })
}

pub async fn get_policy_version(
    state: &OpContext,
    caller: &Caller,
    arn_or_name: &str,
    version_id: &str,
) -> ApiResult<(ManagedPolicy, PolicyVersion)> {
    let policy =
        resolve_policy_authorized(state, caller, arn_or_name, "iam:GetPolicyVersion").await?;
    let version = find_version(state, &policy, version_id).await?;
    Ok((policy, version))
}

pub async fn delete_policy_version(
    state: &OpContext,
    caller: &Caller,
    arn_or_name: &str,
    version_id: &str,
) -> ApiResult<()> {
    let policy =
        resolve_policy_authorized(state, caller, arn_or_name, "iam:DeletePolicyVersion").await?;
    refuse_aws_managed(state, caller, &policy, "iam:DeletePolicyVersion")?;
    let version = find_version(state, &policy, version_id).await?;
    if version.version_id == policy.default_version_id {
        return Err(ApiError::DeleteConflict(
            "Cannot delete the default version of a policy.".into(),
        ));
    }
    let event = AuditEvent::by(caller, "iam:DeletePolicyVersion", policy.arn.clone())
        .params(json!({"version_id": version.version_id}));
    audited(state, event, async |tx| {
        tx.delete_policy_version(&policy.id, &version.version_id)
            .await
    })
    .await
}

pub async fn set_default_policy_version(
    state: &OpContext,
    caller: &Caller,
    arn_or_name: &str,
    version_id: &str,
) -> ApiResult<ManagedPolicy> {
    let policy =
        resolve_policy_authorized(state, caller, arn_or_name, "iam:SetDefaultPolicyVersion")
            .await?;
    refuse_aws_managed(state, caller, &policy, "iam:SetDefaultPolicyVersion")?;
    let version = find_version(state, &policy, version_id).await?;
    let updated = now();
    let event = AuditEvent::by(caller, "iam:SetDefaultPolicyVersion", policy.arn.clone())
        .params(json!({"version_id": version.version_id}));
    audited(state, event, async |tx| {
        tx.set_default_policy_version(&policy.id, &version.version_id, &updated)
            .await
    })
    .await?;
    Ok(ManagedPolicy {
        default_version_id: version.version_id,
        updated_at: updated,
        ..policy
    })
}

pub async fn list_entities_for_policy(
    state: &OpContext,
    caller: &Caller,
    arn_or_name: &str,
) -> ApiResult<PolicyEntities> {
    let policy =
        resolve_policy_authorized(state, caller, arn_or_name, "iam:ListEntitiesForPolicy").await?;
    // Built-in policies are shared by every account: show only this
    // account's holders.
    let mut entities = PolicyEntities::default();
    for (kind, list) in [
        (PolicyHolder::User, &mut entities.users),
        (PolicyHolder::Group, &mut entities.groups),
        (PolicyHolder::Role, &mut entities.roles),
    ] {
        for name in state
            .store
            .policy_holders_in(kind, &policy.id, &caller.account_id)
            .await?
        {
            list.push(name);
        }
    }
    Ok(entities)
}
