//! Managed-policy attachments: at most 10 per user, group or role.

use serde_json::json;

use super::holders::{action, find_holder_authorized};
use super::policies::find_policy_by_arn;
use super::ActionContext;
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::{ManagedPolicy, PolicyHolder};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;

pub const MAX_ATTACHED_POLICIES: i64 = 10;

pub async fn attach_policy(
    state: &OpContext,
    caller: &Caller,
    kind: PolicyHolder,
    holder_name: &str,
    policy_arn: &str,
) -> ApiResult<()> {
    let attach = action(kind, "Attach", "Policy");
    let cx = ActionContext::new(&attach).policy_arn(policy_arn);
    let holder = find_holder_authorized(state, caller, kind, holder_name, cx).await?;
    let policy = find_policy_by_arn(state, caller, policy_arn)
        .await
        .map_err(|_| {
            ApiError::NoSuchEntity(format!(
                "Policy {policy_arn} does not exist or is not attachable."
            ))
        })?;
    let attached = state.store.attached_policies(kind, &holder.id).await?;
    if attached.iter().any(|p| p.id == policy.id) {
        return Ok(());
    }
    if attached.len() as i64 >= MAX_ATTACHED_POLICIES {
        let noun = match kind {
            PolicyHolder::User => "PoliciesPerUser",
            PolicyHolder::Group => "PoliciesPerGroup",
            PolicyHolder::Role => "PoliciesPerRole",
        };
        return Err(ApiError::LimitExceeded(format!(
            "Cannot exceed quota for {noun}: {MAX_ATTACHED_POLICIES}"
        )));
    }
    let event = AuditEvent::by(
        caller,
        &action(kind, "Attach", "Policy"),
        holder.arn.clone(),
    )
    .params(json!({"policy_arn": policy_arn}));
    audited(state, event, async |tx| {
        tx.attach_policy(kind, &holder.id, &policy.id).await
    })
    .await?;
    Ok(())
}

pub async fn detach_policy(
    state: &OpContext,
    caller: &Caller,
    kind: PolicyHolder,
    holder_name: &str,
    policy_arn: &str,
) -> ApiResult<()> {
    let detach = action(kind, "Detach", "Policy");
    let cx = ActionContext::new(&detach).policy_arn(policy_arn);
    let holder = find_holder_authorized(state, caller, kind, holder_name, cx).await?;
    let not_attached = || ApiError::NoSuchEntity(format!("Policy {policy_arn} was not found."));
    let policy = state
        .store
        .get_policy_by_arn(policy_arn)
        .await?
        .ok_or_else(not_attached)?;
    let event = AuditEvent::by(
        caller,
        &action(kind, "Detach", "Policy"),
        holder.arn.clone(),
    )
    .params(json!({"policy_arn": policy_arn}));
    audited(state, event, async |tx| {
        if tx.detach_policy(kind, &holder.id, &policy.id).await? {
            Ok(())
        } else {
            Err(not_attached())
        }
    })
    .await?;
    Ok(())
}

pub async fn list_attached_policies(
    state: &OpContext,
    caller: &Caller,
    kind: PolicyHolder,
    holder_name: &str,
) -> ApiResult<Vec<ManagedPolicy>> {
    let list = action(kind, "ListAttached", "Policies");
    let cx = ActionContext::new(&list);
    let holder = find_holder_authorized(state, caller, kind, holder_name, cx).await?;
    Ok(state.store.attached_policies(kind, &holder.id).await?)
}
