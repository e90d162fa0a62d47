//! The custom mode of `POST /v1/evaluate` (DESIGN.md "REST API"): given
//! policies, a caller, actions x resources and a context, the decision for
//! each pair with its explanation. `latchkey policy eval --request FILE`
//! prints the same reply.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::compile::{CompiledPolicy, PolicySource, SourceKind};
use super::context::RequestContext;
use super::document::PolicyDocument;
use super::evaluate::{
    evaluate, Decision, Evaluation, EvaluationRequest, Layer, MatchedStatement, Principal,
    PrincipalKind, ResourcePolicy,
};
use super::{limits, PolicyError};

/// The caller when `caller_arn` is absent.
pub const DEFAULT_CALLER: &str = "arn:aws:iam::123456789012:user/simulated";

/// A context value: one string or a list (multivalued keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContextValue {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// Unknown fields are ignored, so a stored-mode body (`principal_arn`) can
/// share the type with the server.
pub struct SimulateRequest {
    /// Identity policy documents (JSON objects).
    #[serde(
        default,
        deserialize_with = "crate::policy::validate::strict_documents"
    )]
    pub policies: Vec<Value>,
    #[serde(
        default,
        deserialize_with = "crate::policy::validate::strict_document_opt"
    )]
    pub permissions_boundary: Option<Value>,
    #[serde(
        default,
        deserialize_with = "crate::policy::validate::strict_document_opt"
    )]
    pub session_policy: Option<Value>,
    /// Who asks; default `arn:aws:iam::123456789012:user/simulated`.
    #[serde(default)]
    pub caller_arn: Option<String>,
    /// A resource-based policy. A document without any Resource/NotResource
    /// is a role trust policy (it must then always allow, §6.5).
    #[serde(
        default,
        deserialize_with = "crate::policy::validate::strict_document_opt"
    )]
    pub resource_policy: Option<Value>,
    /// Account owning the resources; default: the caller's account.
    #[serde(default)]
    pub resource_owner: Option<String>,
    pub action_names: Vec<String>,
    #[serde(default = "default_resources")]
    pub resource_arns: Vec<String>,
    #[serde(default)]
    pub context: BTreeMap<String, ContextValue>,
}

fn default_resources() -> Vec<String> {
    vec!["*".to_string()]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulateResult {
    pub action: String,
    pub resource: String,
    pub decision: Decision,
    pub matched_statements: Vec<MatchedStatement>,
    pub decided_by: Layer,
    pub missing_context_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulateResponse {
    pub results: Vec<SimulateResult>,
    /// Where the next page starts, when more pairs follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<usize>,
}

/// A slice of the action x resource pairs, numbered action-major from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub start: usize,
    pub max_items: usize,
}

/// The number of pairs a simulation names, if within
/// [`limits::MAX_SIMULATION_PAIRS`]; checked before anything is allocated
/// for them.
pub fn pair_count(actions: usize, resources: usize) -> Result<usize, PolicyError> {
    match actions.checked_mul(resources) {
        Some(n) if n <= limits::MAX_SIMULATION_PAIRS => Ok(n),
        product => Err(PolicyError::InvalidRequest(format!(
            "{actions} actions x {resources} resources is {} pairs; a simulation may name at most {} action x resource pairs.",
            product.map_or_else(|| "too many".to_string(), |n| n.to_string()),
            limits::MAX_SIMULATION_PAIRS
        ))),
    }
}

/// Decides the pairs of `page` (action-major) with `decide`, stopping
/// early when the page would go over the request's match-work budget at
/// `per_pair` comparisons each (AWS too may return fewer than MaxItems).
pub fn run_page(
    actions: &[String],
    resources: &[String],
    page: Page,
    per_pair: u64,
    mut decide: impl FnMut(&String, &String) -> SimulateResult,
) -> SimulateResponse {
    let total = actions.len().saturating_mul(resources.len());
    let start = page.start.min(total);
    let len = page
        .max_items
        .min(total - start)
        .min(limits::pairs_within_budget(per_pair));
    let mut results = Vec::with_capacity(len);
    for i in start..start + len {
        let (a, r) = (i / resources.len(), i % resources.len());
        results.push(decide(&actions[a], &resources[r]));
    }
    let end = start + len;
    SimulateResponse {
        results,
        next: (end < total).then_some(end),
    }
}

fn compile(doc: &Value, kind: SourceKind, name: String) -> Result<CompiledPolicy, PolicyError> {
    CompiledPolicy::compile(
        &PolicyDocument::from_value(doc)?,
        PolicySource::new(kind, name),
    )
}

/// A stable made-up unique id (prefix + 17 base32 characters), so that
/// `aws:userid` looks like AWS's for a simulated caller.
fn synthetic_id(prefix: &str, arn: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in arn.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    let mut out = String::from(prefix);
    for _ in 0..17 {
        out.push(char::from(ALPHABET[(h & 31) as usize]));
        h >>= 5;
    }
    out
}

/// The principal for `arn`, and the `aws:` keys AWS would set for it (§5.2).
type PrincipalKeys = Vec<(&'static str, String)>;

fn caller(arn: &str) -> Result<(Principal, PrincipalKeys), PolicyError> {
    let mut who = Principal::from_arn(arn)
        .ok_or_else(|| PolicyError::malformed(format!("Invalid caller_arn: {arn}")))?;
    let last = arn.rsplit('/').next().unwrap_or_default().to_string();
    let mut keys = vec![("aws:PrincipalAccount", who.account.clone())];
    match &mut who.kind {
        PrincipalKind::Root => {
            who.unique_id = who.account.clone();
            keys.push(("aws:PrincipalType", "Account".into()));
            keys.push(("aws:PrincipalArn", arn.into()));
        }
        PrincipalKind::User => {
            who.unique_id = synthetic_id("AIDA", arn);
            keys.push(("aws:PrincipalType", "User".into()));
            keys.push(("aws:PrincipalArn", arn.into()));
            keys.push(("aws:username", last));
        }
        PrincipalKind::AssumedRole {
            role_arn,
            role_unique_id,
        } => {
            *role_unique_id = synthetic_id("AROA", role_arn);
            who.unique_id = format!("{role_unique_id}:{last}");
            keys.push(("aws:PrincipalType", "AssumedRole".into()));
            // aws:PrincipalArn of a session is its role's ARN (§12 rule 6).
            keys.push(("aws:PrincipalArn", role_arn.clone()));
        }
        PrincipalKind::FederatedUser { .. } => {
            who.unique_id = format!("{}:{last}", who.account);
            keys.push(("aws:PrincipalType", "FederatedUser".into()));
            keys.push(("aws:PrincipalArn", arn.into()));
        }
        _ => {}
    }
    keys.push(("aws:userid", who.unique_id.clone()));
    Ok((who, keys))
}

/// Every pair of the request, page after page (the CLI's `eval`).
pub fn simulate_custom(req: &SimulateRequest) -> Result<SimulateResponse, PolicyError> {
    let mut page = Page {
        start: 0,
        max_items: limits::MAX_SIMULATION_PAGE,
    };
    let mut results = Vec::new();
    loop {
        let reply = simulate_custom_page(req, page)?;
        results.extend(reply.results);
        match reply.next {
            Some(next) => page.start = next,
            None => {
                return Ok(SimulateResponse {
                    results,
                    next: None,
                })
            }
        }
    }
}

/// One page of a simulation of given documents. Refuses a request whose
/// single decision is over the match-work budget; the caller has checked
/// the pair count.
pub fn simulate_custom_page(
    req: &SimulateRequest,
    page: Page,
) -> Result<SimulateResponse, PolicyError> {
    pair_count(req.action_names.len(), req.resource_arns.len())?;
    let identity = req
        .policies
        .iter()
        .enumerate()
        .map(|(i, d)| compile(d, SourceKind::Identity, format!("policies[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let boundary = req
        .permissions_boundary
        .as_ref()
        .map(|d| compile(d, SourceKind::Boundary, "permissions_boundary".into()))
        .transpose()?;
    let session = req
        .session_policy
        .as_ref()
        .map(|d| compile(d, SourceKind::Session, "session_policy".into()))
        .transpose()?;
    let resource_policy = match &req.resource_policy {
        None => None,
        Some(v) => {
            let doc = PolicyDocument::from_value(v)?;
            let kind = if doc.is_trust_shaped() {
                SourceKind::Trust
            } else {
                SourceKind::Resource
            };
            let source = PolicySource::new(kind, "resource_policy");
            Some(CompiledPolicy::compile(&doc, source)?)
        }
    };
    let (who, principal_keys) = caller(req.caller_arn.as_deref().unwrap_or(DEFAULT_CALLER))?;
    let mut ctx = RequestContext::new();
    // A simulation evaluates the context it is given, as AWS's simulator
    // does: keys derived from `caller_arn` only fill what is not supplied.
    // The default caller is a stand-in for Principal matching and derives
    // no keys, so a key neither supplied nor derived is reported missing.
    if req.caller_arn.is_some() {
        for (k, v) in principal_keys {
            ctx.insert(k, v);
        }
    }
    for (k, v) in &req.context {
        match v {
            ContextValue::One(s) => ctx.insert(k, s.clone()),
            ContextValue::Many(list) => ctx.insert_many(k, list.iter().cloned()),
        }
    }
    let owner = req.resource_owner.as_deref().unwrap_or(&who.account);
    let identity_refs: Vec<&CompiledPolicy> = identity.iter().collect();
    let session_refs: Option<Vec<&CompiledPolicy>> = session.as_ref().map(|s| vec![s]);
    let probe = EvaluationRequest {
        principal: &who,
        action: "",
        resource: "",
        context: &ctx,
        identity: &identity_refs,
        boundary: boundary.as_ref(),
        session: session_refs.as_deref(),
        resource_policy: resource_policy.as_ref().map(|policy| ResourcePolicy {
            policy,
            owner_account: owner,
        }),
    };
    let per_pair =
        super::budget::simulated_pair_work(&probe).map_err(PolicyError::InvalidRequest)?;
    Ok(run_page(
        &req.action_names,
        &req.resource_arns,
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

/// A pair's reply from its evaluation.
pub fn result(action: &str, resource: &str, e: Evaluation) -> SimulateResult {
    SimulateResult {
        action: action.to_string(),
        resource: resource.to_string(),
        decision: e.decision,
        matched_statements: e.matched_statements,
        decided_by: e.decided_by,
        missing_context_keys: e.missing_context_keys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(body: Value) -> Value {
        let req: SimulateRequest = serde_json::from_value(body).unwrap();
        serde_json::to_value(simulate_custom(&req).unwrap()).unwrap()
    }

    #[test]
    fn reply_shape_and_defaults() {
        let out = run(json!({
            "policies": [{"Version":"2012-10-17","Statement":[{"Sid":"Home","Effect":"Allow","Action":"s3:*",
                "Resource":"arn:aws:s3:::home/${aws:username}/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}],
            "action_names": ["s3:GetObject", "iam:CreateUser"],
            "resource_arns": ["arn:aws:s3:::home/someone-else/x"],
            "context": {"aws:SourceIp": "10.1.2.3", "aws:username": "someone-else"}
        }));
        assert_eq!(out["results"].as_array().unwrap().len(), 2);
        let first = &out["results"][0];
        assert_eq!(first["decision"], "allowed", "{out}");
        assert_eq!(first["decided_by"], "identity");
        assert_eq!(
            first["matched_statements"],
            json!([{"source":"identity","policy":"policies[0]","sid":"Home","index":0,"effect":"Allow"}])
        );
        assert_eq!(first["missing_context_keys"], json!([]));
        let second = &out["results"][1];
        assert_eq!(second["decision"], "implicit_deny");
        assert_eq!(second["resource"], "arn:aws:s3:::home/someone-else/x");
    }

    #[test]
    fn trust_policy_and_session_caller() {
        let out = run(json!({
            "caller_arn": "arn:aws:sts::123456789012:assumed-role/Builder/ci",
            "policies": [],
            "resource_policy": {"Version":"2012-10-17","Statement":[{"Effect":"Allow",
                "Principal":{"AWS":"arn:aws:iam::123456789012:role/Builder"},"Action":"sts:AssumeRole",
                "Condition":{"StringEquals":{"aws:PrincipalType":"AssumedRole","sts:ExternalId":"x"}}}]},
            "action_names": ["sts:AssumeRole"],
            "resource_arns": ["arn:aws:iam::123456789012:role/Deployer"]
        }));
        let r = &out["results"][0];
        assert_eq!(r["decision"], "implicit_deny");
        assert_eq!(r["decided_by"], "trust");
        assert_eq!(r["missing_context_keys"], json!(["sts:ExternalId"]));
    }

    #[test]
    fn default_resource_and_errors() {
        let out = run(
            json!({"policies": [{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}],
            "action_names": ["iam:ListUsers"]}),
        );
        assert_eq!(out["results"][0]["resource"], "*");
        let bad: SimulateRequest = serde_json::from_value(
            json!({"policies": [{"Statement": []}], "action_names": ["a:b"]}),
        )
        .unwrap();
        assert_eq!(
            simulate_custom(&bad).unwrap_err().code(),
            "MalformedPolicyDocument"
        );
        let bad: SimulateRequest =
            serde_json::from_value(json!({"caller_arn": "bob", "action_names": ["a:b"]})).unwrap();
        assert!(simulate_custom(&bad).is_err());
    }
}
