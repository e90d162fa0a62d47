//! `POST /v1/evaluate`: what a stored principal, or a set of given
//! documents, may do: a decision per action x resource with the statements
//! that matched, the deciding layer and the context keys that were missing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::authorize as authz;
use super::authorize::{compile_stored, load_holder_policies};
use crate::auth::Caller;
use crate::domain::{Arn, FrozenPolicy, PolicyHolder};
use crate::error::{ApiError, ApiResult};
use crate::policy::budget::simulated_pair_work;
use crate::policy::limits::{
    DEFAULT_SIMULATION_PAGE, MAX_CONTEXT_KEYS, MAX_CONTEXT_KEY_LENGTH, MAX_CONTEXT_VALUES_PER_KEY,
    MAX_CONTEXT_VALUE_LENGTH, MAX_INLINE_POLICIES, MAX_INLINE_POLICY_SIZE,
    MAX_RESOURCE_POLICY_SIZE, MAX_SIMULATION_PAGE,
};
use crate::policy::simulate::{
    pair_count, result, run_page, simulate_custom_page, ContextValue, Page, SimulateRequest,
    SimulateResponse,
};
use crate::policy::validate::policy_size;
use crate::policy::{
    evaluate, CompiledPolicy, EvaluationRequest, PolicyDocument, PolicySource, Principal,
    PrincipalKind, RequestContext, ResourcePolicy, SourceKind,
};
use crate::runtime::policy_cache::PrincipalPolicies;
use crate::state::AppState;
use crate::store::{decode_marker, encode_marker};

/// One context value, or several for a multivalued key.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ContextEntry {
    One(String),
    Many(Vec<String>),
}

impl From<ContextEntry> for ContextValue {
    fn from(e: ContextEntry) -> Self {
        match e {
            ContextEntry::One(s) => ContextValue::One(s),
            ContextEntry::Many(v) => ContextValue::Many(v),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// Stored mode: a user, role or assumed-role session ARN; its stored
    /// policies, boundary (and session policies) are evaluated.
    pub principal_arn: Option<String>,
    /// Custom mode: identity policy documents (stored mode: added to the
    /// principal's own).
    #[schema(value_type = Vec<Object>)]
    #[serde(
        default,
        deserialize_with = "crate::policy::validate::strict_documents"
    )]
    pub policies: Vec<Value>,
    #[schema(value_type = Option<Object>)]
    #[serde(
        default,
        deserialize_with = "crate::policy::validate::strict_document_opt"
    )]
    pub permissions_boundary: Option<Value>,
    #[schema(value_type = Option<Object>)]
    #[serde(
        default,
        deserialize_with = "crate::policy::validate::strict_document_opt"
    )]
    pub session_policy: Option<Value>,
    /// Custom mode: who asks (Principal matching and `aws:` variables).
    pub caller_arn: Option<String>,
    /// A resource-based policy; one with no Resource is a trust policy.
    #[schema(value_type = Option<Object>)]
    #[serde(
        default,
        deserialize_with = "crate::policy::validate::strict_document_opt"
    )]
    pub resource_policy: Option<Value>,
    /// The account owning the resources (default: the principal's).
    pub resource_owner: Option<String>,
    #[schema(example = json!(["iam:CreateUser"]))]
    pub action_names: Vec<String>,
    /// Default `["*"]`.
    #[serde(default)]
    pub resource_arns: Vec<String>,
    #[serde(default)]
    pub context: BTreeMap<String, ContextEntry>,
    /// Results per page, 1–1000 (default 100). A page may hold fewer when
    /// the policies' conditions are expensive; follow `marker`.
    #[schema(minimum = 1, maximum = 1000)]
    pub max_items: Option<i64>,
    /// The `marker` of the previous page.
    pub marker: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EvaluateMatchedStatement {
    /// identity, boundary, session, resource or trust.
    pub source: String,
    /// The policy's ARN, or the inline policy's name.
    pub policy: String,
    pub sid: Option<String>,
    pub index: usize,
    pub effect: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EvaluateResult {
    pub action: String,
    pub resource: String,
    /// allowed, explicit_deny or implicit_deny.
    #[schema(example = "allowed")]
    pub decision: String,
    pub matched_statements: Vec<EvaluateMatchedStatement>,
    /// The layer that decided: identity, boundary, session, resource, trust or root.
    pub decided_by: String,
    pub missing_context_keys: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EvaluateResponse {
    pub results: Vec<EvaluateResult>,
    /// More pairs follow; ask again with `marker`.
    #[serde(default)]
    pub is_truncated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

fn to_wire(response: SimulateResponse) -> ApiResult<EvaluateResponse> {
    let marker = response.next.map(|n| encode_marker(&n.to_string()));
    let results = serde_json::to_value(response.results)
        .and_then(serde_json::from_value)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("evaluation reply: {e}")))?;
    Ok(EvaluateResponse {
        results,
        is_truncated: marker.is_some(),
        marker,
    })
}

/// The bounds of `policy::limits` on a request's context, for
/// `/v1/evaluate`, Simulate* and `/v1/authorize`.
pub fn check_context<'a>(
    entries: impl ExactSizeIterator<Item = (&'a str, &'a ContextEntry)>,
) -> ApiResult<()> {
    if entries.len() > MAX_CONTEXT_KEYS {
        return Err(ApiError::ValidationError(format!(
            "The context has {} keys; at most {MAX_CONTEXT_KEYS} context keys are allowed.",
            entries.len()
        )));
    }
    for (key, entry) in entries {
        if key.len() > MAX_CONTEXT_KEY_LENGTH {
            return Err(ApiError::ValidationError(format!(
                "A context key name is {} characters long; at most {MAX_CONTEXT_KEY_LENGTH} are allowed.",
                key.len()
            )));
        }
        let values = match entry {
            ContextEntry::One(v) => std::slice::from_ref(v),
            ContextEntry::Many(v) => v.as_slice(),
        };
        if values.len() > MAX_CONTEXT_VALUES_PER_KEY {
            return Err(ApiError::ValidationError(format!(
                "Context key {key} has {} values; at most {MAX_CONTEXT_VALUES_PER_KEY} values per context key are allowed.",
                values.len()
            )));
        }
        if values.iter().any(|v| v.len() > MAX_CONTEXT_VALUE_LENGTH) {
            return Err(ApiError::ValidationError(format!(
                "A value of context key {key} is longer than {MAX_CONTEXT_VALUE_LENGTH} characters, the most a context value may have."
            )));
        }
    }
    Ok(())
}

/// A document given in the request, against its size bound (counted as
/// AWS counts: characters excluding whitespace).
pub fn check_document_size(doc: &Value, name: &str, limit: usize) -> ApiResult<()> {
    let size = match doc {
        Value::String(text) => policy_size(text),
        other => policy_size(&other.to_string()),
    };
    if size > limit {
        return Err(ApiError::ValidationError(format!(
            "{name} is {size} characters (excluding whitespace); at most {limit} are allowed."
        )));
    }
    Ok(())
}

/// Every bound of `policy::limits` a simulation request can be checked
/// against before anything is compiled or evaluated; the page it asks for.
fn check_request(req: &EvaluateRequest) -> ApiResult<Page> {
    let resources = req.resource_arns.len().max(1);
    let pairs = pair_count(req.action_names.len(), resources)?;
    if req.policies.len() > MAX_INLINE_POLICIES {
        return Err(ApiError::ValidationError(format!(
            "{} policies were given; at most {MAX_INLINE_POLICIES} policies are allowed per simulation.",
            req.policies.len()
        )));
    }
    for (i, doc) in req.policies.iter().enumerate() {
        check_document_size(doc, &format!("policies[{i}]"), MAX_INLINE_POLICY_SIZE)?;
    }
    if let Some(doc) = &req.permissions_boundary {
        check_document_size(doc, "permissions_boundary", MAX_INLINE_POLICY_SIZE)?;
    }
    if let Some(doc) = &req.session_policy {
        check_document_size(doc, "session_policy", MAX_INLINE_POLICY_SIZE)?;
    }
    if let Some(doc) = &req.resource_policy {
        check_document_size(doc, "resource_policy", MAX_RESOURCE_POLICY_SIZE)?;
    }
    check_context(req.context.iter().map(|(k, v)| (k.as_str(), v)))?;
    let max_items = req.max_items.unwrap_or(DEFAULT_SIMULATION_PAGE as i64);
    let max_items = usize::try_from(max_items)
        .ok()
        .filter(|n| (1..=MAX_SIMULATION_PAGE).contains(n))
        .ok_or_else(|| {
            ApiError::ValidationError(format!(
                "1 validation error detected: Value '{max_items}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and {MAX_SIMULATION_PAGE}"
            ))
        })?;
    let start = match req.marker.as_deref() {
        None | Some("") => 0,
        Some(m) => decode_marker(m)?
            .parse::<usize>()
            .ok()
            .filter(|&n| n < pairs)
            .ok_or_else(|| ApiError::InvalidInput("Invalid Marker.".into()))?,
    };
    Ok(Page { start, max_items })
}

pub async fn evaluate_request(
    state: &AppState,
    caller: &Caller,
    req: EvaluateRequest,
) -> ApiResult<EvaluateResponse> {
    if req.action_names.is_empty() {
        return Err(ApiError::ValidationError(
            "action_names must name at least one action.".into(),
        ));
    }
    let page = check_request(&req)?;
    match req.principal_arn.clone() {
        None => {
            authz::authorize(state, caller, "iam:SimulateCustomPolicy", "*").await?;
            let simulate = SimulateRequest {
                policies: req.policies,
                permissions_boundary: req.permissions_boundary,
                session_policy: req.session_policy,
                caller_arn: req.caller_arn,
                resource_policy: req.resource_policy,
                resource_owner: req.resource_owner,
                action_names: req.action_names,
                resource_arns: if req.resource_arns.is_empty() {
                    vec!["*".into()]
                } else {
                    req.resource_arns
                },
                context: req
                    .context
                    .into_iter()
                    .map(|(k, v)| (k, v.into()))
                    .collect(),
            };
            off_worker(state, move || {
                to_wire(simulate_custom_page(&simulate, page)?)
            })
            .await
        }
        Some(arn) => {
            authz::authorize(state, caller, "iam:SimulatePrincipalPolicy", &arn).await?;
            stored(state, caller, &arn, req, page).await
        }
    }
}

fn compile_value(doc: &Value, kind: SourceKind, name: &str) -> ApiResult<CompiledPolicy> {
    Ok(CompiledPolicy::compile(
        &PolicyDocument::from_value(doc)?,
        PolicySource::new(kind, name),
    )?)
}

/// A stored principal: who it is for the engine, its policies and the
/// context keys AWS derives for it.
struct StoredPrincipal {
    principal: Principal,
    policies: PrincipalPolicies,
    /// A live session's frozen session policies (None: none were passed).
    session_policies: Option<Vec<CompiledPolicy>>,
    keys: Vec<(String, String)>,
}

async fn load_principal(
    state: &AppState,
    caller: &Caller,
    arn_text: &str,
) -> ApiResult<StoredPrincipal> {
    let arn: Arn = arn_text
        .parse()
        .map_err(|_| ApiError::InvalidInput(format!("principal_arn {arn_text} is not an ARN.")))?;
    if arn.account != caller.account_id {
        return Err(ApiError::NoSuchEntity(format!(
            "The principal {arn_text} is not in this account."
        )));
    }
    let mut keys = vec![("aws:PrincipalAccount".to_string(), arn.account.clone())];
    match (arn.service.as_str(), arn.resource_type()) {
        ("iam", "user") => {
            let user = super::users::find_user(state, caller, arn.resource_name()).await?;
            let policies = load_holder_policies(
                state,
                PolicyHolder::User,
                &user.id,
                user.permissions_boundary.as_deref(),
            )
            .await?;
            keys.push(("aws:PrincipalType".into(), "User".into()));
            keys.push(("aws:PrincipalArn".into(), user.arn().to_string()));
            keys.push(("aws:username".into(), user.name.clone()));
            keys.push(("aws:userid".into(), user.id.clone()));
            Ok(StoredPrincipal {
                principal: Principal {
                    arn: user.arn().to_string(),
                    account: arn.account.clone(),
                    unique_id: user.id.clone(),
                    kind: PrincipalKind::User,
                },
                policies,
                session_policies: None,
                keys,
            })
        }
        ("iam", "role") | ("sts", "assumed-role") => {
            // A role is evaluated as a session of it ("evaluate a role").
            let (role_name, session_name) = if arn.service == "iam" {
                (
                    arn.resource_name().to_string(),
                    "latchkey-evaluate".to_string(),
                )
            } else {
                let mut parts = arn.resource.splitn(3, '/').skip(1);
                let role = parts.next().unwrap_or_default().to_string();
                (role, parts.next().unwrap_or_default().to_string())
            };
            let role = super::roles::find_role(state, caller, &role_name).await?;
            let policies = load_holder_policies(
                state,
                PolicyHolder::Role,
                &role.id,
                role.permissions_boundary.as_deref(),
            )
            .await?;
            let session_policies = if arn.service == "sts" {
                live_session_policies(state, &role.id, &session_name, arn_text).await?
            } else {
                None
            };
            let session_arn = format!(
                "arn:aws:sts::{}:assumed-role/{}/{session_name}",
                role.account_id, role.name
            );
            let user_id = format!("{}:{session_name}", role.id);
            keys.push(("aws:PrincipalType".into(), "AssumedRole".into()));
            keys.push(("aws:PrincipalArn".into(), role.arn().to_string()));
            keys.push(("aws:userid".into(), user_id.clone()));
            Ok(StoredPrincipal {
                principal: Principal {
                    arn: session_arn,
                    account: role.account_id.clone(),
                    unique_id: user_id,
                    kind: PrincipalKind::AssumedRole {
                        role_arn: role.arn().to_string(),
                        role_unique_id: role.id.clone(),
                    },
                },
                policies,
                session_policies,
                keys,
            })
        }
        _ => Err(ApiError::InvalidInput(format!(
            "principal_arn must be a user, role or assumed-role session ARN, not {arn_text}."
        ))),
    }
}

/// The session policies of the newest live session of a role with this
/// name; a session ARN with no live session is unknown.
async fn live_session_policies(
    state: &AppState,
    role_id: &str,
    session_name: &str,
    arn_text: &str,
) -> ApiResult<Option<Vec<CompiledPolicy>>> {
    let now = crate::domain::format_time_ms(time::OffsetDateTime::now_utc());
    let session = state
        .store
        .latest_active_role_session(role_id, session_name, &now)
        .await?
        .ok_or_else(|| ApiError::NoSuchEntity(format!("No live session {arn_text}.")))?;
    let Some(stored) = session.session_policies else {
        return Ok(None);
    };
    let frozen: Vec<FrozenPolicy> = serde_json::from_str(&stored).map_err(|e| {
        ApiError::Unexpected(anyhow::anyhow!("stored session policies are not JSON: {e}"))
    })?;
    frozen
        .iter()
        .map(|p| {
            compile_stored(
                &p.document,
                PolicySource::new(SourceKind::Session, p.name.clone()),
            )
        })
        .collect::<ApiResult<Vec<_>>>()
        .map(Some)
}

async fn stored(
    state: &AppState,
    caller: &Caller,
    arn: &str,
    req: EvaluateRequest,
    page: Page,
) -> ApiResult<EvaluateResponse> {
    let loaded = load_principal(state, caller, arn).await?;
    off_worker(state, move || simulate_stored(&loaded, req, page)).await
}

/// Runs a simulation's CPU work (compiling the request's documents,
/// deciding a page of pairs: up to a few ms) on the blocking pool rather
/// than on an actix worker, which serves every other tenant's requests
/// too, and a bounded number at a time (`AppState::simulations`), so that
/// simulations never take every core.
async fn off_worker<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let _permit = state
        .simulations
        .acquire()
        .await
        .map_err(|e| ApiError::Unexpected(e.into()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("simulation task: {e}")))?
}

fn simulate_stored(
    loaded: &StoredPrincipal,
    req: EvaluateRequest,
    page: Page,
) -> ApiResult<EvaluateResponse> {
    let mut identity = vec![&loaded.policies.identity];
    let extra = req
        .policies
        .iter()
        .enumerate()
        .map(|(i, d)| compile_value(d, SourceKind::Identity, &format!("policies[{i}]")))
        .collect::<ApiResult<Vec<_>>>()?;
    identity.extend(extra.iter());
    let boundary = match &req.permissions_boundary {
        Some(doc) => Some(compile_value(
            doc,
            SourceKind::Boundary,
            "permissions_boundary",
        )?),
        None => None,
    };
    let boundary = boundary.as_ref().or(loaded.policies.boundary.as_ref());
    let session = match &req.session_policy {
        Some(doc) => Some(compile_value(doc, SourceKind::Session, "session_policy")?),
        None => None,
    };
    let session_refs: Option<Vec<&CompiledPolicy>> = match (&session, &loaded.session_policies) {
        (Some(given), _) => Some(vec![given]),
        (None, Some(frozen)) => Some(frozen.iter().collect()),
        (None, None) => None,
    };
    let resource_policy = match &req.resource_policy {
        None => None,
        Some(v) => {
            let doc = PolicyDocument::from_value(v)?;
            let kind = if doc.is_trust_shaped() {
                SourceKind::Trust
            } else {
                SourceKind::Resource
            };
            Some(CompiledPolicy::compile(
                &doc,
                PolicySource::new(kind, "resource_policy"),
            )?)
        }
    };
    // The principal's own keys come from the store; what the body supplies
    // wins, as in AWS's simulator (a what-if, not a request).
    let mut context = RequestContext::new();
    for tag in &loaded.policies.tags {
        context.insert(&format!("aws:PrincipalTag/{}", tag.key), tag.value.clone());
    }
    for (k, v) in &loaded.keys {
        context.insert(k, v.clone());
    }
    for (k, v) in req.context {
        match v {
            ContextEntry::One(s) => context.insert(&k, s),
            ContextEntry::Many(list) => context.insert_many(&k, list),
        }
    }
    let owner = req
        .resource_owner
        .clone()
        .unwrap_or_else(|| loaded.principal.account.clone());
    let resources = if req.resource_arns.is_empty() {
        vec!["*".to_string()]
    } else {
        req.resource_arns
    };
    let probe = EvaluationRequest {
        principal: &loaded.principal,
        action: "",
        resource: "",
        context: &context,
        identity: &identity,
        boundary,
        session: session_refs.as_deref(),
        resource_policy: resource_policy.as_ref().map(|policy| ResourcePolicy {
            policy,
            owner_account: &owner,
        }),
    };
    let per_pair = simulated_pair_work(&probe).map_err(ApiError::ValidationError)?;
    to_wire(run_page(
        &req.action_names,
        &resources,
        page,
        per_pair,
        |action, resource| {
            let decision = evaluate(&EvaluationRequest {
                action,
                resource,
                ..probe
            });
            result(action, resource, decision)
        },
    ))
}
