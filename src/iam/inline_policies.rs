//! Inline policies of users, groups and roles. Their sizes are capped per
//! holder in total, not per policy (AWS-IAM-NOTES §2.1, §12.8).

use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::documents::{lint_for_write, stored_value, validated_text};
use super::holders::{action, find_holder_authorized};
use super::{parse_name, ActionContext};
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::{EntityKind, PolicyHolder};
use crate::error::{ApiError, ApiResult};
use crate::policy::lint::Finding;
use crate::policy::validate::{check_inline_policies_size, InlinePolicyOwner};
use crate::policy::PolicyType;
use crate::state::OpContext;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutInlinePolicyRequest {
    /// An identity policy document (JSON object).
    #[schema(value_type = Object)]
    #[serde(deserialize_with = "crate::policy::validate::strict_document")]
    pub document: Value,
}

fn owner(kind: PolicyHolder) -> InlinePolicyOwner {
    match kind {
        PolicyHolder::User => InlinePolicyOwner::User,
        PolicyHolder::Group => InlinePolicyOwner::Group,
        PolicyHolder::Role => InlinePolicyOwner::Role,
    }
}

/// Creates or replaces an inline policy; returns the lint findings of its
/// document (`strict`: refuse ERROR and SECURITY_WARNING findings).
pub async fn put_inline_policy(
    state: &OpContext,
    caller: &Caller,
    kind: PolicyHolder,
    holder_name: &str,
    policy_name: &str,
    document: &Value,
    strict: bool,
) -> ApiResult<Vec<Finding>> {
    let name = action(kind, "Put", "Policy");
    let holder =
        find_holder_authorized(state, caller, kind, holder_name, ActionContext::new(&name)).await?;
    let policy_name = parse_name(EntityKind::InlinePolicy, policy_name)?;
    let text = validated_text(document, PolicyType::Identity)?;
    // The limit is on all of the holder's inline policies together, with
    // this one replacing any of the same name.
    let others = state.store.list_inline_policies(kind, &holder.id).await?;
    let documents = others
        .iter()
        .filter(|(name, _)| name != policy_name.as_str())
        .map(|(_, doc)| doc.as_str())
        .chain(std::iter::once(text.as_str()));
    check_inline_policies_size(owner(kind), &holder.name, documents)?;
    let findings = lint_for_write(state, caller, document, PolicyType::Identity, strict)?;
    let event = AuditEvent::by(caller, &action(kind, "Put", "Policy"), holder.arn.clone())
        .params(json!({"policy_name": policy_name.as_str(), "document": text}));
    audited(state, event, async |tx| {
        tx.put_inline_policy(kind, &holder.id, policy_name.as_str(), &text)
            .await
    })
    .await?;
    Ok(findings)
}

pub async fn get_inline_policy(
    state: &OpContext,
    caller: &Caller,
    kind: PolicyHolder,
    holder_name: &str,
    policy_name: &str,
) -> ApiResult<Value> {
    let name = action(kind, "Get", "Policy");
    let holder =
        find_holder_authorized(state, caller, kind, holder_name, ActionContext::new(&name)).await?;
    let (_, document) = state
        .store
        .get_inline_policy(kind, &holder.id, policy_name)
        .await?
        .ok_or_else(|| {
            ApiError::NoSuchEntity(format!(
                "The {} policy with name {policy_name} cannot be found.",
                kind.noun()
            ))
        })?;
    stored_value(&document)
}

pub async fn list_inline_policies(
    state: &OpContext,
    caller: &Caller,
    kind: PolicyHolder,
    holder_name: &str,
) -> ApiResult<Vec<String>> {
    let name = action(kind, "List", "Policies");
    let holder =
        find_holder_authorized(state, caller, kind, holder_name, ActionContext::new(&name)).await?;
    Ok(state
        .store
        .list_inline_policies(kind, &holder.id)
        .await?
        .into_iter()
        .map(|(name, _)| name)
        .collect())
}

pub async fn delete_inline_policy(
    state: &OpContext,
    caller: &Caller,
    kind: PolicyHolder,
    holder_name: &str,
    policy_name: &str,
) -> ApiResult<()> {
    let name = action(kind, "Delete", "Policy");
    let holder =
        find_holder_authorized(state, caller, kind, holder_name, ActionContext::new(&name)).await?;
    let event = AuditEvent::by(
        caller,
        &action(kind, "Delete", "Policy"),
        holder.arn.clone(),
    )
    .params(json!({"policy_name": policy_name}));
    audited(state, event, async |tx| {
        if tx
            .delete_inline_policy(kind, &holder.id, policy_name)
            .await?
        {
            Ok(())
        } else {
            Err(ApiError::NoSuchEntity(format!(
                "The {} policy with name {policy_name} cannot be found.",
                kind.noun()
            )))
        }
    })
    .await?;
    Ok(())
}
