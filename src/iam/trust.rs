//! Trust-policy principals pinned to unique ids (AWS-IAM-NOTES §3.3, §12.5):
//! when a trust policy is saved, user and role ARNs are replaced by the
//! entities' unique ids, so a user deleted and re-created under the same
//! name is not trusted; on display the ids are turned back into ARNs.
//! Naming a user or role that does not exist is refused, as AWS does.

use serde_json::Value;

use crate::domain::Arn;
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;

/// Applies `f` to every string under `Principal.AWS` of every statement.
fn for_each_aws_principal(doc: &mut Value, f: &mut dyn FnMut(&mut String)) {
    let statements: Vec<&mut Value> = match doc.get_mut("Statement") {
        Some(Value::Array(list)) => list.iter_mut().collect(),
        Some(obj @ Value::Object(_)) => vec![obj],
        _ => Vec::new(),
    };
    for statement in statements {
        if let Some(aws) = statement
            .get_mut("Principal")
            .and_then(|p| p.get_mut("AWS"))
        {
            match aws {
                Value::String(s) => f(s),
                Value::Array(items) => items.iter_mut().for_each(|v| {
                    if let Value::String(s) = v {
                        f(s)
                    }
                }),
                _ => {}
            }
        }
    }
}

/// Resolves user and role ARNs to unique ids. Fails with AWS's
/// "Invalid principal in policy" when one does not exist.
pub async fn pin(state: &OpContext, text: &str) -> ApiResult<String> {
    let mut doc: Value = serde_json::from_str(text)
        .map_err(|_| ApiError::MalformedPolicyDocument("Syntax errors in policy.".into()))?;
    let mut arns = Vec::new();
    for_each_aws_principal(&mut doc, &mut |s| arns.push(s.clone()));
    let mut resolved = std::collections::HashMap::new();
    for value in arns {
        let Ok(arn) = value.parse::<Arn>() else {
            continue;
        };
        if arn.service != "iam" {
            continue;
        }
        let id = match arn.resource_type() {
            "user" => state
                .store
                .get_user(&arn.account, arn.resource_name())
                .await?
                .filter(|u| u.arn().to_string() == value)
                .map(|u| u.id),
            "role" => state
                .store
                .get_role(&arn.account, arn.resource_name())
                .await?
                .filter(|r| r.arn().to_string() == value)
                .map(|r| r.id),
            _ => continue,
        };
        match id {
            Some(id) => {
                resolved.insert(value, id);
            }
            None => {
                return Err(ApiError::MalformedPolicyDocument(format!(
                    "Invalid principal in policy: \"AWS\":\"{value}\""
                )))
            }
        }
    }
    for_each_aws_principal(&mut doc, &mut |s| {
        if let Some(id) = resolved.get(s.as_str()) {
            *s = id.clone();
        }
    });
    Ok(doc.to_string())
}

fn looks_like_unique_id(s: &str) -> bool {
    (s.starts_with("AIDA") || s.starts_with("AROA")) && s.len() == 21
}

/// Turns pinned ids back into ARNs for display; an id whose entity is gone
/// stays as the raw id, as in AWS.
pub async fn unpin(state: &OpContext, stored: &str) -> ApiResult<Value> {
    let mut doc: Value = crate::iam::documents::stored_value(stored)?;
    let mut ids = Vec::new();
    for_each_aws_principal(&mut doc, &mut |s| {
        if looks_like_unique_id(s) {
            ids.push(s.clone())
        }
    });
    let mut arns = std::collections::HashMap::new();
    for id in ids {
        let arn = if id.starts_with("AIDA") {
            state
                .store
                .get_user_by_id(&id)
                .await?
                .map(|u| u.arn().to_string())
        } else {
            state
                .store
                .get_role_by_id(&id)
                .await?
                .map(|r| r.arn().to_string())
        };
        if let Some(arn) = arn {
            arns.insert(id, arn);
        }
    }
    for_each_aws_principal(&mut doc, &mut |s| {
        if let Some(arn) = arns.get(s.as_str()) {
            *s = arn.clone();
        }
    });
    Ok(doc)
}
