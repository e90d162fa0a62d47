//! Policy documents at the API boundary: JSON objects in, validated text
//! stored, JSON objects out.

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::policy::validate::{has_only_policy_characters, policy_size, validate};
use crate::policy::PolicyType;

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
