//! Policy documents at the API boundary: JSON objects in, validated text
//! stored, JSON objects out.

use serde_json::Value;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::policy::lint::{lint_with, Finding, LintOptions, Severity};
use crate::policy::validate::{has_only_policy_characters, policy_size, validate};
use crate::policy::PolicyType;
use crate::state::OpContext;

/// Validates a document for its type and returns the text to store.
/// REST bodies carry documents as JSON objects; a JSON string holding the
/// document (the AWS wire form) is accepted too.
pub fn validated_text(document: &Value, policy_type: PolicyType) -> ApiResult<String> {
    let text = match document {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // AWS refuses other characters as a request error, before any policy check.
    if !has_only_policy_characters(&text) {
        return Err(ApiError::ValidationError(
            "1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+".into(),
        ));
    }
    validate(&text, policy_type)?;
    Ok(text)
}

/// Parses stored text back into the JSON object the API returns.
pub fn stored_value(text: &str) -> ApiResult<Value> {
    serde_json::from_str(text)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("stored policy is not JSON: {e}")))
}

/// The size AWS counts (non-whitespace characters).
pub fn size(text: &str) -> usize {
    policy_size(text)
}

/// The lint findings of a document, judged for the caller's account (so
/// that trust checks can tell cross-account principals apart) against the
/// server's catalog (built-in plus registered services).
pub fn findings(
    state: &OpContext,
    document: &Value,
    policy_type: PolicyType,
    account_id: &str,
) -> Vec<Finding> {
    let text = match document {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let options = LintOptions {
        account_id: Some(account_id.to_owned()),
    };
    lint_with(&text, policy_type, &state.catalog.current(), &options)
}

/// Lints a document about to be written. In strict mode (the server
/// setting, or `strict` asked by the request) a finding of ERROR or
/// SECURITY_WARNING refuses the write before anything is stored.
pub fn lint_for_write(
    state: &OpContext,
    caller: &Caller,
    document: &Value,
    policy_type: PolicyType,
    strict: bool,
) -> ApiResult<Vec<Finding>> {
    let found = findings(state, document, policy_type, &caller.account_id);
    if strict || state.config.strict_policy_lint {
        refuse_blocking(&found)?;
    }
    Ok(found)
}

/// The strict-mode verdict: which findings block a write, named in the error.
pub fn refuse_blocking(found: &[Finding]) -> ApiResult<()> {
    let mut codes: Vec<&str> = found
        .iter()
        .filter(|f| f.severity >= Severity::SecurityWarning)
        .map(|f| f.code)
        .collect();
    if codes.is_empty() {
        return Ok(());
    }
    codes.sort_unstable();
    codes.dedup();
    Err(ApiError::PolicyLintFailed(format!(
        "The policy was not saved: strict policy lint refuses documents with ERROR or SECURITY_WARNING findings, and this one has {}. Validate it with POST /v1/policies/validate to see each finding and how to fix it.",
        codes.join(", ")
    )))
}

/// POST /v1/policies/validate: lint a document without storing it.
///
/// Authorized as `latchkey:ValidatePolicy` on `*`. It reads nothing stored,
/// so it needs no resource; a latchkey action (rather than Access
/// Analyzer's `access-analyzer:ValidatePolicy`) keeps latchkey's own
/// permissions under one prefix the catalog knows.
pub async fn validate_policy(
    state: &OpContext,
    caller: &Caller,
    document: &Value,
    policy_type: Option<&str>,
) -> ApiResult<Vec<Finding>> {
    super::authorize(state, caller, "latchkey:ValidatePolicy", "*").await?;
    let policy_type = match policy_type {
        None => PolicyType::Identity,
        Some(t) => t.parse().map_err(ApiError::ValidationError)?,
    };
    Ok(findings(state, document, policy_type, &caller.account_id))
}
