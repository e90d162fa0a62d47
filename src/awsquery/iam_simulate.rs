//! SimulatePrincipalPolicy and SimulateCustomPolicy over the same
//! simulation as `POST /v1/evaluate` (iam/simulate.rs).

use std::collections::BTreeMap;

use serde_json::Value;

use super::action::{actions, Ctx, Handler, Outcome};
use super::params::{missing, Params};
use super::xml::Xml;
use crate::error::{ApiError, ApiResult};
use crate::iam::simulate::{
    evaluate_request, ContextEntry, EvaluateMatchedStatement, EvaluateRequest,
};

pub const ACTIONS: &[(&str, Handler)] = actions![
    "SimulatePrincipalPolicy" => simulate(true),
    "SimulateCustomPolicy" => simulate(false),
];

/// Policy text from a form value, as a JSON value for the simulator.
fn json_document(text: &str) -> ApiResult<Value> {
    serde_json::from_str(text)
        .map_err(|_| ApiError::MalformedPolicyDocument("Syntax errors in policy.".into()))
}

fn documents(p: &Params, name: &str) -> ApiResult<Vec<Value>> {
    p.list(name).iter().map(|t| json_document(t)).collect()
}

/// `ContextEntries.member.N.{ContextKeyName, ContextKeyValues.member.M,
/// ContextKeyType}`; the `…List` types are multivalued.
fn context(p: &Params) -> ApiResult<BTreeMap<String, ContextEntry>> {
    let mut out = BTreeMap::new();
    for entry in p.structs("ContextEntries") {
        let name = entry.required("ContextKeyName")?.to_string();
        let mut values = entry.list("ContextKeyValues");
        let list_type = entry
            .get("ContextKeyType")
            .is_some_and(|t| t.ends_with("List"));
        let value = match (list_type, values.len()) {
            (false, 1) => ContextEntry::One(values.remove(0)),
            _ => ContextEntry::Many(values),
        };
        out.insert(name, value);
    }
    Ok(out)
}

async fn simulate(c: &Ctx<'_>, principal: bool) -> Outcome {
    let p = c.params;
    let principal_arn = match principal {
        true => Some(p.required("PolicySourceArn")?.to_string()),
        false => None,
    };
    let policies = documents(p, "PolicyInputList")?;
    if !principal && policies.is_empty() {
        return Err(missing("PolicyInputList"));
    }
    let action_names = p.list("ActionNames");
    if action_names.is_empty() {
        return Err(missing("ActionNames"));
    }
    let req = EvaluateRequest {
        principal_arn,
        policies,
        permissions_boundary: documents(p, "PermissionsBoundaryPolicyInputList")?
            .into_iter()
            .next(),
        session_policy: None,
        caller_arn: p.get("CallerArn").map(String::from),
        resource_policy: p.get("ResourcePolicy").map(json_document).transpose()?,
        resource_owner: p.get("ResourceOwner").map(String::from),
        action_names,
        resource_arns: p.list("ResourceArns"),
        context: context(p)?,
        max_items: p.int("MaxItems")?,
        marker: p.get("Marker").map(String::from),
    };
    let reply = evaluate_request(c.state, c.caller, req).await?;
    let mut x = Xml::new();
    x.members("EvaluationResults", &reply.results, |m, r| {
        m.text("EvalActionName", &r.action)
            .text("EvalResourceName", &r.resource)
            .text("EvalDecision", decision(&r.decision))
            .members("MatchedStatements", &r.matched_statements, |s, st| {
                s.text("SourcePolicyId", source_id(st))
                    .text("SourcePolicyType", source_type(st));
            })
            .strings("MissingContextValues", &r.missing_context_keys);
    })
    .text("IsTruncated", reply.is_truncated)
    .opt("Marker", reply.marker.as_deref());
    Ok(Some(x))
}

/// IAM's EvalDecision spelling.
fn decision(d: &str) -> &str {
    match d {
        "explicit_deny" => "explicitDeny",
        "implicit_deny" => "implicitDeny",
        other => other,
    }
}

/// Documents passed in the request are named as IAM names them, by the
/// parameter and 1-based position; stored ones by ARN or inline name.
fn source_id(st: &EvaluateMatchedStatement) -> String {
    let indexed = st
        .policy
        .strip_prefix("policies[")
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|i| i.parse::<usize>().ok());
    match (indexed, st.policy.as_str()) {
        (Some(i), _) => format!("PolicyInputList.{}", i + 1),
        (None, "permissions_boundary") => "PermissionsBoundaryPolicyInputList.1".into(),
        (None, "resource_policy") => "ResourcePolicy".into(),
        (None, other) => other.to_string(),
    }
}

fn source_type(st: &EvaluateMatchedStatement) -> &'static str {
    match (st.source.as_str(), st.policy.as_str()) {
        ("resource" | "trust", _) => "resource",
        (_, p) if p.starts_with("arn:aws:iam::aws:policy/") => "aws-managed",
        (_, p) if p.starts_with("arn:") => "user-managed",
        _ => "IAM Policy",
    }
}
