//! Authorization of latchkey's own operations: every operation is an IAM
//! action on a resource ARN, decided by the policy engine over the caller's
//! stored policies (user inline and attached, and those of its groups;
//! boundary). A role session is authorized with its role's policies, its
//! frozen session policies and the role's boundary; a user's own session
//! with the user's policies. Compiled policy sets are cached per principal
//! (and trust policies per role) and dropped on every IAM write (on every
//! node: `coherence`), which is rare next to reads; session policies never change, so they are cached
//! per session and only age out.
//!
//! The request context of a decision is built from two sides, as AWS does
//! (AWS-IAM-NOTES §5.1):
//! - the caller's keys (`aws:PrincipalArn`, `aws:PrincipalTag/K`,
//!   `aws:SourceIp`, the clock...), derived here from the authenticated
//!   caller and set last, so that nothing else can override them;
//! - the keys of the action, which the operation supplies in an
//!   [`ActionContext`]: `iam:PolicyARN` on Attach/Detach*Policy,
//!   `iam:PermissionsBoundary` (the boundary being set, or the target's
//!   current one on the policy writes AWS lists it for),
//!   `aws:RequestTag/K` and `aws:TagKeys` of create and tag calls,
//!   `aws:TagKeys` of untag calls, `iam:PassedToService` and
//!   `iam:AssociatedResourceArn` on PassRole, and the target's stored tags
//!   as `aws:ResourceTag/K` (and `iam:ResourceTag/K` for users and roles).
//!   Only the keys the built-in catalog lists for the action are kept
//!   (`policy::action_keys`), the table lint judges conditions by.
//!
//! Both sides are built only as far as some policy of the decision reads
//! them (`GlobalKeys`): the target's tags, a store read, are loaded only
//! when a policy reads a resource tag. A target that does not exist (403
//! before 404, `iam::authorize_found`) has no tags and no boundary.

use std::sync::Arc;

use super::action_context::{ActionContext, TargetTags};
use super::caller_context::add_caller_context;
use crate::auth::caller::SessionInfo;
use crate::auth::{Caller, CallerKind};
use crate::domain::{FrozenPolicy, PolicyHolder};
use crate::error::{ApiError, ApiResult};
use crate::policy::budget::check_decision_work;
use crate::policy::limits::MAX_AUTHORIZE_WORK;
use crate::policy::{
    evaluate, is_allowed, CompiledPolicy, Evaluation, EvaluationRequest, GlobalKey, GlobalKeys,
    PolicySource, RequestContext, ResourcePolicy, SourceKind,
};
use crate::runtime::policy_cache::PrincipalPolicies;
use crate::state::OpContext;

/// Compiles a stored document; a stored document that no longer compiles
/// is a server fault, not the caller's.
pub(crate) fn compile_stored(text: &str, source: PolicySource) -> ApiResult<CompiledPolicy> {
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
    state: &OpContext,
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

fn empty_policies() -> Arc<PrincipalPolicies> {
    Arc::new(PrincipalPolicies {
        identity: CompiledPolicy::merge(PolicySource::new(SourceKind::Identity, "identity"), &[]),
        boundary: None,
        tags: Vec::new(),
    })
}

async fn role_policies(state: &OpContext, role_id: &str) -> ApiResult<Arc<PrincipalPolicies>> {
    if let Some(hit) = state.policies.get(role_id) {
        return Ok(hit);
    }
    let guard = state.cache_guard();
    let role = state.store.get_role_by_id(role_id).await?.ok_or_else(|| {
        ApiError::AccessDenied("The role of this session no longer exists.".into())
    })?;
    let loaded = Arc::new(
        load_holder_policies(
            state,
            PolicyHolder::Role,
            role_id,
            role.permissions_boundary.as_deref(),
        )
        .await?,
    );
    guard.insert(&state.policies.inner, role_id.to_string(), loaded.clone());
    Ok(loaded)
}

/// A role's trust policy, compiled as the resource side of `sts:AssumeRole`.
pub fn trust_policy(
    state: &OpContext,
    role: &crate::domain::Role,
) -> ApiResult<Arc<CompiledPolicy>> {
    if let Some((text, compiled)) = state.policies.trust.get(&role.id) {
        if *text == *role.trust_policy {
            return Ok(compiled);
        }
    }
    let compiled = Arc::new(compile_stored(
        &role.trust_policy,
        PolicySource::new(SourceKind::Trust, role.arn().to_string()),
    )?);
    state.policies.trust.insert(
        role.id.clone(),
        (Arc::from(role.trust_policy.as_str()), compiled.clone()),
    );
    Ok(compiled)
}

/// Compiles a session's frozen session policies (None: none were passed).
fn session_policies(
    state: &OpContext,
    access_key_id: &str,
    session: &SessionInfo,
) -> ApiResult<Option<Arc<Vec<CompiledPolicy>>>> {
    let Some(stored) = &session.session_policies else {
        return Ok(None);
    };
    if let Some(hit) = state.policies.sessions.get(access_key_id) {
        return Ok(Some(hit));
    }
    let frozen: Vec<FrozenPolicy> = serde_json::from_str(stored).map_err(|e| {
        ApiError::Unexpected(anyhow::anyhow!("stored session policies are not JSON: {e}"))
    })?;
    let compiled = Arc::new(
        frozen
            .iter()
            .map(|p| {
                compile_stored(
                    &p.document,
                    PolicySource::new(SourceKind::Session, p.name.clone()),
                )
            })
            .collect::<ApiResult<Vec<_>>>()?,
    );
    state
        .policies
        .sessions
        .insert(access_key_id.to_string(), compiled.clone());
    Ok(Some(compiled))
}

/// Everything on the caller's side of a decision: identity policies and
/// boundary (empty for root), session policies, and the server-derived
/// context.
pub struct IdentitySide {
    pub policies: Arc<PrincipalPolicies>,
    pub session: Option<Arc<Vec<CompiledPolicy>>>,
    pub context: RequestContext,
}

impl IdentitySide {
    pub fn identity(&self) -> Vec<&CompiledPolicy> {
        vec![&self.policies.identity]
    }

    pub fn session(&self) -> Option<Vec<&CompiledPolicy>> {
        session_refs(&self.session)
    }
}

/// Session policies as the engine takes them: `None` when none were passed.
fn session_refs(session: &Option<Arc<Vec<CompiledPolicy>>>) -> Option<Vec<&CompiledPolicy>> {
    session.as_ref().map(|s| s.iter().collect())
}

/// Loads the caller's side: a user (or the user's own session) has the
/// user's policies; a role session has the role's policies and boundary
/// plus its session policies; a root has none (its implicit allow is the
/// engine's rule).
pub async fn identity_side(
    state: &OpContext,
    caller: &Caller,
    mut context: RequestContext,
) -> ApiResult<IdentitySide> {
    let (policies, session) = caller_policies(state, caller).await?;
    add_caller_context(
        &mut context,
        caller,
        &policies.tags,
        &state.config.region,
        GlobalKeys::ALL,
    );
    Ok(IdentitySide {
        policies: policies.clone(),
        session,
        context,
    })
}

/// The identity's policies (kept with it) and the session's policies.
type CallerPolicies<'c> = (&'c Arc<PrincipalPolicies>, Option<Arc<Vec<CompiledPolicy>>>);

/// The caller's identity policies and boundary, and its session policies.
/// The identity's are borrowed from the caller, which keeps them: a clone
/// of their `Arc` would bounce its count between the worker threads.
async fn caller_policies<'c>(
    state: &OpContext,
    caller: &'c Caller,
) -> ApiResult<CallerPolicies<'c>> {
    let identity = match caller.policies.get() {
        Some(kept) => kept,
        // Boxed: the loads' futures (store queries) are large, and every
        // decision's future would otherwise carry their space and copy it
        // around, though a kept identity never runs them.
        None => {
            Box::pin(async {
                let loaded = match &caller.kind {
                    CallerKind::Root | CallerKind::RootSession { .. } => empty_policies(),
                    CallerKind::User { user_id, .. } | CallerKind::UserSession { user_id, .. } => {
                        user_policies(state, user_id).await?
                    }
                    CallerKind::AssumedRole { role_id, .. } => {
                        role_policies(state, role_id).await?
                    }
                };
                ApiResult::Ok(caller.policies.get_or_init(|| loaded))
            })
            .await?
        }
    };
    let session = match &caller.kind {
        CallerKind::AssumedRole { session, .. } => {
            session_policies(state, &caller.access_key_id, session)?
        }
        _ => None,
    };
    Ok((identity, session))
}

async fn user_policies(state: &OpContext, user_id: &str) -> ApiResult<Arc<PrincipalPolicies>> {
    if let Some(hit) = state.policies.get(user_id) {
        return Ok(hit);
    }
    let guard = state.cache_guard();
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
    guard.insert(&state.policies.inner, user_id.to_string(), loaded.clone());
    Ok(loaded)
}

/// What a decision is asked about, beyond the caller.
pub struct Question<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    /// Extra request keys (never the caller's own: those are derived).
    pub context: Option<RequestContext>,
    pub resource_policy: Option<(&'a CompiledPolicy, &'a str)>,
    /// The target whose stored tags are the resource tags; read only when
    /// a policy of the decision reads a resource tag.
    pub target_tags: Option<&'a TargetTags>,
}

/// Decides a question for a caller with the engine, over the caller's
/// stored (cached) policies, session policies and boundary, and hands the
/// built request to `judge` (the full explanation, or the fast verdict).
/// Root gets the engine's root rules.
async fn with_request<R>(
    state: &OpContext,
    caller: &Caller,
    question: Question<'_>,
    judge: impl FnOnce(&EvaluationRequest) -> R,
) -> ApiResult<R> {
    let (policies, session) = caller_policies(state, caller).await?;
    let mut context = question.context.unwrap_or_default();
    // Only the caller's keys that some policy of this decision reads can
    // change it; the others (a dozen strings, the clock formatted) are not
    // built.
    let wanted = std::iter::once(&policies.identity)
        .chain(&policies.boundary)
        .chain(session.iter().flat_map(|s| s.iter()))
        .chain(question.resource_policy.map(|(p, _)| p))
        .fold(GlobalKeys::NONE, |keys, p| keys.union(p.global_keys_read()));
    if let (Some(target), true) = (
        question.target_tags,
        wanted.contains(GlobalKey::ResourceTag),
    ) {
        for tag in state.store.list_tags(&target.entity_id).await? {
            if target.aws {
                context.insert(&format!("aws:ResourceTag/{}", tag.key), tag.value.as_str());
            }
            if target.iam {
                context.insert(&format!("iam:ResourceTag/{}", tag.key), tag.value);
            }
        }
    }
    add_caller_context(
        &mut context,
        caller,
        &policies.tags,
        &state.config.region,
        wanted,
    );
    let identity = [&policies.identity];
    let session = session_refs(&session);
    let principal = caller.engine_principal();
    let request = EvaluationRequest {
        principal,
        action: question.action,
        resource: question.resource,
        context: &context,
        identity: &identity,
        boundary: policies.boundary.as_ref(),
        session: session.as_deref(),
        resource_policy: question
            .resource_policy
            .map(|(policy, owner_account)| ResourcePolicy {
                policy,
                owner_account,
            }),
    };
    Ok(judge(&request))
}

/// The full decision, with the statements that matched and the deciding layer.
pub async fn decide(
    state: &OpContext,
    caller: &Caller,
    question: Question<'_>,
) -> ApiResult<Evaluation> {
    // The context (and a resource policy) may come from the request: a
    // decision that could cost more than the match-work budget is refused
    // rather than evaluated.
    with_request(state, caller, question, |request| {
        check_decision_work(request, MAX_AUTHORIZE_WORK).map_err(ApiError::ValidationError)?;
        Ok(evaluate(request))
    })
    .await?
}

/// Decides `action` on `resource` for the caller, with no request keys
/// but the caller's: for actions that carry none (see [`authorize_with`]).
pub async fn authorize(
    state: &OpContext,
    caller: &Caller,
    action: &str,
    resource: &str,
) -> ApiResult<()> {
    authorize_question(state, caller, action, resource, None, None).await
}

/// Decides an IAM operation's own authorization: `cx.action` on `resource`,
/// over the caller's keys and the keys the operation supplies for its
/// action (`cx`, see [`ActionContext`]). The account root (with its key or
/// its own session) may do anything in its own account; everyone else
/// needs an identity policy allow within the boundary and, for a role
/// session, within its session policies. The common case (allowed) takes
/// the engine's fast path; only a denial computes the explanation its
/// message needs.
pub async fn authorize_with(
    state: &OpContext,
    caller: &Caller,
    resource: &str,
    cx: ActionContext<'_>,
) -> ApiResult<()> {
    let context = (!cx.context.is_empty()).then_some(cx.context);
    let tags = cx.target_tags.as_ref();
    authorize_question(state, caller, cx.action, resource, context, tags).await
}

async fn authorize_question(
    state: &OpContext,
    caller: &Caller,
    action: &str,
    resource: &str,
    context: Option<RequestContext>,
    target_tags: Option<&TargetTags>,
) -> ApiResult<()> {
    if action.starts_with("iam:") && caller.session().is_some_and(|s| !s.may_call_iam()) {
        crate::audit::denied(state, caller, action, resource);
        return Err(ApiError::AccessDenied(format!(
            "User: {} is not authorized to perform: {action} on resource: {resource} because \
             credentials from GetSessionToken call IAM only when MFA was given (pass \
             SerialNumber and TokenCode to GetSessionToken)",
            caller.arn
        )));
    }
    if caller.is_root() {
        return Ok(());
    }
    let question = Question {
        action,
        resource,
        context,
        resource_policy: None,
        target_tags,
    };
    let denial = with_request(state, caller, question, |request| {
        if is_allowed(request) {
            None
        } else {
            evaluate(request).denial_message(&caller.arn, action, resource)
        }
    })
    .await?;
    match denial {
        None => Ok(()),
        Some(message) => {
            crate::audit::denied(state, caller, action, resource);
            Err(ApiError::AccessDenied(message))
        }
    }
}
