//! Authorization of latchkey's own operations: every operation is an IAM
//! action on a resource ARN, decided by the policy engine over the caller's
//! stored policies (user inline and attached, and those of its groups;
//! boundary). Compiled policy sets are cached per principal and the whole
//! cache is dropped on every IAM write, which is rare next to reads.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{Caller, CallerKind};
use crate::domain::{PolicyHolder, Tag};
use crate::error::{ApiError, ApiResult};
use crate::policy::{
    evaluate, CompiledPolicy, Evaluation, EvaluationRequest, PolicySource, Principal,
    PrincipalKind, RequestContext, ResourcePolicy, SourceKind,
};
use crate::state::AppState;

/// A principal's compiled identity policies (merged into one set, so a
/// decision probes one index however many policies there are), boundary and
/// tags.
pub struct PrincipalPolicies {
    pub identity: CompiledPolicy,
    pub boundary: Option<CompiledPolicy>,
    pub tags: Vec<Tag>,
}

#[derive(Clone)]
pub struct PolicyCache {
    inner: moka::sync::Cache<String, Arc<PrincipalPolicies>>,
}

impl Default for PolicyCache {
    fn default() -> Self {
        Self::new()
    }
}

impl PolicyCache {
    pub fn new() -> Self {
        PolicyCache {
            inner: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(300))
                .build(),
        }
    }

    /// Called after every IAM write.
    pub fn invalidate_all(&self) {
        self.inner.invalidate_all();
    }

    pub fn get(&self, principal_id: &str) -> Option<Arc<PrincipalPolicies>> {
        self.inner.get(principal_id)
    }

    pub fn insert(&self, principal_id: String, policies: Arc<PrincipalPolicies>) {
        self.inner.insert(principal_id, policies);
    }
}

/// Compiles a stored document; a stored document that no longer compiles
/// is a server fault, not the caller's.
fn compile_stored(text: &str, source: PolicySource) -> ApiResult<CompiledPolicy> {
    CompiledPolicy::from_json(text, source).map_err(|e| {
        ApiError::Unexpected(anyhow::anyhow!(
            "stored policy does not compile: {}",
            e.message()
        ))
    })
}

/// Loads and compiles the identity side of a policy holder: its inline and
/// attached policies (and, for users, those of its groups) and its boundary.
pub async fn load_holder_policies(
    state: &AppState,
    holder: PolicyHolder,
    holder_id: &str,
    boundary_arn: Option<&str>,
) -> ApiResult<PrincipalPolicies> {
    let store = &state.store;
    let mut identity = Vec::new();
    let mut holders = vec![(holder, holder_id.to_string())];
    if holder == PolicyHolder::User {
        for group in store.groups_of_user(holder_id).await? {
            holders.push((PolicyHolder::Group, group.id));
        }
    }
    for (kind, id) in &holders {
        for (name, document) in store.list_inline_policies(*kind, id).await? {
            identity.push(compile_stored(
                &document,
                PolicySource::new(SourceKind::Identity, name),
            )?);
        }
        for policy in store.attached_policies(*kind, id).await? {
            if let Some(document) = store.default_policy_document(&policy.id).await? {
                identity.push(compile_stored(
                    &document,
                    PolicySource::new(SourceKind::Identity, policy.arn),
                )?);
            }
        }
    }
    let boundary = match boundary_arn {
        None => None,
        Some(arn) => match store.get_policy_by_arn(arn).await? {
            Some(policy) => match store.default_policy_document(&policy.id).await? {
                Some(document) => Some(compile_stored(
                    &document,
                    PolicySource::new(SourceKind::Boundary, arn),
                )?),
                None => None,
            },
            // A boundary that no longer exists allows nothing.
            None => Some(compile_stored(
                r#"{"Version":"2012-10-17","Statement":[]}"#,
                PolicySource::new(SourceKind::Boundary, arn),
            )?),
        },
    };
    let tags = if holder == PolicyHolder::Group {
        Vec::new()
    } else {
        store.list_tags(holder_id).await?
    };
    let parts: Vec<&CompiledPolicy> = identity.iter().collect();
    let identity =
        CompiledPolicy::merge(PolicySource::new(SourceKind::Identity, "identity"), &parts);
    Ok(PrincipalPolicies {
        identity,
        boundary,
        tags,
    })
}

async fn user_policies(state: &AppState, user_id: &str) -> ApiResult<Arc<PrincipalPolicies>> {
    if let Some(hit) = state.policies.get(user_id) {
        return Ok(hit);
    }
    let user = state
        .store
        .get_user_by_id(user_id)
        .await?
        .ok_or_else(|| ApiError::AccessDenied("The calling user no longer exists.".into()))?;
    let loaded = Arc::new(
        load_holder_policies(
            state,
            PolicyHolder::User,
            user_id,
            user.permissions_boundary.as_deref(),
        )
        .await?,
    );
    state.policies.insert(user_id.to_string(), loaded.clone());
    Ok(loaded)
}

/// The server-derived context keys of a caller (AWS-IAM-NOTES §5.1, §5.2).
/// These are set last, so nothing a client sends can override them.
pub fn caller_context(caller: &Caller, tags: &[Tag], region: &str) -> RequestContext {
    let mut ctx = RequestContext::new();
    let now = time::OffsetDateTime::now_utc();
    ctx.insert("aws:CurrentTime", crate::domain::format_time(now));
    ctx.insert("aws:EpochTime", now.unix_timestamp().to_string());
    ctx.insert("aws:SecureTransport", caller.secure_transport.to_string());
    ctx.insert("aws:PrincipalArn", caller.arn.clone());
    ctx.insert("aws:PrincipalAccount", caller.account_id.clone());
    ctx.insert("aws:PrincipalType", caller.principal_type());
    ctx.insert("aws:userid", caller.user_id.clone());
    ctx.insert("aws:RequestedRegion", region);
    if let Some(ip) = caller.source_ip {
        ctx.insert("aws:SourceIp", ip.to_string());
    }
    if let CallerKind::User { name, .. } = &caller.kind {
        ctx.insert("aws:username", name.clone());
    }
    for tag in tags {
        ctx.insert(&format!("aws:PrincipalTag/{}", tag.key), tag.value.clone());
    }
    ctx
}

pub fn engine_principal(caller: &Caller) -> Principal {
    Principal {
        arn: caller.arn.clone(),
        account: caller.account_id.clone(),
        unique_id: caller.user_id.clone(),
        kind: match caller.kind {
            CallerKind::Root => PrincipalKind::Root,
            CallerKind::User { .. } => PrincipalKind::User,
        },
    }
}

/// What a decision is asked about, beyond the caller.
pub struct Question<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    /// Extra request keys (never the caller's own: those are derived).
    pub context: Option<RequestContext>,
    pub resource_policy: Option<(&'a CompiledPolicy, &'a str)>,
}

/// Decides a question for a caller with the engine, over the caller's
/// stored policies (cached). Root gets the engine's root rules.
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    question: Question<'_>,
) -> ApiResult<Evaluation> {
    let policies = match &caller.kind {
        CallerKind::Root => None,
        CallerKind::User { user_id, .. } => Some(user_policies(state, user_id).await?),
    };
    let tags = policies.as_ref().map(|p| p.tags.as_slice()).unwrap_or(&[]);
    let mut context = question.context.unwrap_or_default();
    for (key, values) in caller_context(caller, tags, &state.config.region).iter() {
        context.insert_many(key, values.iter().cloned());
    }
    let identity: Vec<&CompiledPolicy> = policies
        .as_ref()
        .map(|p| vec![&p.identity])
        .unwrap_or_default();
    let principal = engine_principal(caller);
    let request = EvaluationRequest {
        principal: &principal,
        action: question.action,
        resource: question.resource,
        context: &context,
        identity: &identity,
        boundary: policies.as_ref().and_then(|p| p.boundary.as_ref()),
        session: None,
        resource_policy: question
            .resource_policy
            .map(|(policy, owner_account)| ResourcePolicy {
                policy,
                owner_account,
            }),
    };
    Ok(evaluate(&request))
}

/// Decides `action` on `resource` for the caller: an IAM operation's own
/// authorization. The account root may do anything in its own account;
/// everyone else needs an identity policy allow within the boundary.
pub async fn authorize(
    state: &AppState,
    caller: &Caller,
    action: &str,
    resource: &str,
) -> ApiResult<()> {
    if caller.is_root() {
        return Ok(());
    }
    let evaluation = decide(
        state,
        caller,
        Question {
            action,
            resource,
            context: None,
            resource_policy: None,
        },
    )
    .await?;
    match evaluation.denial_message(&caller.arn, action, resource) {
        None => Ok(()),
        Some(message) => Err(ApiError::AccessDenied(message)),
    }
}
