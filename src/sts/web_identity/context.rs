//! What a verified token tells the trust policy: the condition keys AWS
//! names (`<host/path>:aud`, `:sub`, `:amr`, `:oaud`, `:email`,
//! `aws:FederatedProvider`), the provider's opted-in extra claims, the
//! session tags of the `https://aws.amazon.com/tags` claim, and, when the
//! trust policy says no, which condition key said it.

use serde_json::{json, Map, Value};

use super::jwt::Token;
use super::refusal::Refusal;
use crate::domain::oidc::OidcProvider;
use crate::domain::tags::{validate_tags, MAX_TAGS};
use crate::domain::Tag;
use crate::policy::{
    evaluate, CompiledPolicy, EvaluationRequest, PolicySource, Principal, PrincipalKind,
    RequestContext, ResourcePolicy, SourceKind,
};

pub const ACTION: &str = "sts:AssumeRoleWithWebIdentity";
/// AWS's session-tags claim.
pub const TAGS_CLAIM: &str = "https://aws.amazon.com/tags";

/// The engine's principal for a provider: `{"Federated": ARN}`.
pub fn federated(provider: &OidcProvider) -> Principal {
    Principal {
        arn: provider.arn(),
        account: String::new(),
        unique_id: String::new(),
        kind: PrincipalKind::Federated,
    }
}

/// A claim's values as strings: a scalar is one value, an array of
/// scalars several (multivalued: `ForAnyValue:` operators apply); objects
/// and nulls give none.
fn values(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Number(n) => vec![n.to_string()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Array(a) => a.iter().flat_map(values).collect(),
        _ => Vec::new(),
    }
}

/// The token's condition keys. `aud` is the client id the token matched;
/// `oaud` every audience it carries.
pub fn token_context(
    ctx: &mut RequestContext,
    provider: &OidcProvider,
    token: &Token,
    matched_client: &str,
) {
    let url = &provider.url;
    ctx.insert(&format!("{url}:aud"), matched_client);
    let audiences: Vec<String> = token.audiences().into_iter().map(String::from).collect();
    if !audiences.is_empty() {
        ctx.insert_many(&format!("{url}:oaud"), audiences);
    }
    for claim in ["sub", "amr", "email"] {
        if let Some(v) = token.claims.get(claim) {
            let vs = values(v);
            if !vs.is_empty() {
                ctx.insert_many(&format!("{url}:{claim}"), vs);
            }
        }
    }
    for claim in provider.extra_claim_list() {
        if let Some(v) = token.claims.get(&claim) {
            let vs = values(v);
            if !vs.is_empty() {
                ctx.insert_many(&format!("{url}:{claim}"), vs);
            }
        }
    }
    ctx.insert("aws:FederatedProvider", provider.arn());
}

/// Session tags and transitive keys from AWS's tags claim:
/// `{"principal_tags": {"K": ["V"]}, "transitive_tag_keys": ["K"]}`.
pub fn session_tags(claims: &Map<String, Value>) -> Result<(Vec<Tag>, Vec<String>), Refusal> {
    let Some(claim) = claims.get(TAGS_CLAIM) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let bad = Refusal::Malformed("the https://aws.amazon.com/tags claim is not AWS's shape");
    let mut tags = Vec::new();
    if let Some(principal_tags) = claim.get("principal_tags") {
        let map = principal_tags.as_object().ok_or(bad.clone())?;
        for (key, v) in map {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Array(a) if a.len() == 1 => a[0].as_str().ok_or(bad.clone())?.to_string(),
                _ => return Err(bad.clone()),
            };
            tags.push(Tag {
                key: key.clone(),
                value,
            });
        }
    }
    if tags.len() > MAX_TAGS || validate_tags(&tags).is_err() {
        return Err(bad);
    }
    let transitive: Vec<String> = match claim.get("transitive_tag_keys") {
        None => Vec::new(),
        Some(v) => values(v),
    };
    if transitive
        .iter()
        .any(|k| !tags.iter().any(|t| t.key.eq_ignore_ascii_case(k)))
    {
        return Err(bad);
    }
    Ok((tags, transitive))
}

/// Why the trust policy refused `principal`: the first condition key of
/// a statement that names the provider and the action whose condition
/// does not hold (each condition tried alone), or a plain denial when no
/// statement names them. Pure: the same engine, asked smaller questions.
pub fn explain_denial(
    trust_text: &str,
    role_arn: &str,
    owner: &str,
    principal: &Principal,
    context: &RequestContext,
    action: &str,
    denial: String,
) -> Refusal {
    let Ok(doc) = serde_json::from_str::<Value>(trust_text) else {
        return Refusal::TrustDenied(denial);
    };
    let version = doc.get("Version").cloned().unwrap_or(Value::Null);
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let allows = |statement: Value| -> bool {
        let text = json!({"Version": version, "Statement": [statement]}).to_string();
        let Ok(policy) =
            CompiledPolicy::from_json(&text, PolicySource::new(SourceKind::Trust, "probe"))
        else {
            return false;
        };
        evaluate(&EvaluationRequest {
            principal,
            action,
            resource: role_arn,
            context,
            identity: &[],
            boundary: None,
            session: None,
            resource_policy: Some(ResourcePolicy {
                policy: &policy,
                owner_account: owner,
            }),
        })
        .is_allowed()
    };
    for st in statements {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let mut bare = st.clone();
        let Some(conditions) = bare.as_object_mut().and_then(|o| o.remove("Condition")) else {
            continue;
        };
        if !allows(bare.clone()) {
            continue;
        }
        let Some(operators) = conditions.as_object() else {
            continue;
        };
        for (operator, keys) in operators {
            for (key, wanted) in keys.as_object().into_iter().flatten() {
                let mut one = bare.clone();
                one["Condition"] = json!({ operator.as_str(): { key.as_str(): wanted } });
                if !allows(one) {
                    return Refusal::ConditionFailed(key.clone());
                }
            }
        }
    }
    Refusal::TrustDenied(denial)
}
