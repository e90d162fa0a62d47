//! AWS-faithful validation of policy documents (AWS-IAM-NOTES.md §3, §3.6).
//!
//! [`validate`] reads the raw text and reports the *first* problem in the
//! order IAM reports them, with IAM's exact `MalformedPolicyDocument`
//! message:
//!
//! 1. grammar: JSON (no repeated keys), element names and JSON types, the
//!    mutually exclusive pairs, Effect (in any case), Version value,
//!    operator names, at least one statement → "Syntax errors in policy."
//! 2. Version missing or `2008-10-17` → "Policy document must be version
//!    2012-10-17 or greater." (latchkey stores only IAM documents, and IAM
//!    refuses the legacy version for every document type).
//! 3. legacy parser: Effect case, Date/Numeric/IP condition values, ARN
//!    structure → "The policy failed legacy parsing".
//! 4. Sids: alphanumeric, then unique.
//! 5. every statement has actions → "Policy statement must contain actions."
//! 6. resource format messages (§3.5).
//! 7. action vendor messages (§3.4).
//! 8. the rules of the policy type: principals, required or prohibited
//!    resources (§3.2, §3.3).
//!
//! Each stage runs over all statements before the next one starts, so a
//! stage-3 problem in the last statement wins over a stage-5 problem in the
//! first.
//!
//! Characters: the API only admits tab, LF, CR and U+0020–U+00FF in a
//! policy parameter, and refuses anything else as a `ValidationError` of
//! the request, before any policy check. That is a transport rule, so
//! [`validate`] does not apply it (it would have to invent a
//! MalformedPolicyDocument message AWS never sends); the server checks it
//! with [`has_only_policy_characters`].

mod action;
mod condition;
mod date;
mod json;
mod principal;
mod resource;
mod size;
mod syntax;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;

pub use json::{strict_document, strict_document_opt, strict_documents, DUPLICATE_KEY};
pub use principal::invalid_principal_message;
pub use size::{
    check_inline_policies_size, check_managed_policy_size, check_trust_policy_size,
    has_only_policy_characters, policy_size, InlinePolicyOwner, GROUP_INLINE_MAX,
    MANAGED_POLICY_MAX_SIZE, ROLE_INLINE_MAX, SESSION_POLICY_MAX, TRUST_POLICY_MAX,
    USER_INLINE_MAX,
};

use crate::policy::limits::{too_many_values, MAX_CONDITION_VALUES_PER_KEY};
use crate::policy::{PolicyError, PolicyType};
use resource::ResourceIssue;
use syntax::{Document, Statement};

/// IAM's message for a document that is not well-formed (repeated keys too).
pub const SYNTAX_ERROR: &str = "Syntax errors in policy.";
/// Public so that lint can recognise the one refusal it reports as a
/// finding and then lints past (see `policy::lint`).
pub const VERSION_ERROR: &str = "Policy document must be version 2012-10-17 or greater.";
const LEGACY_ERROR: &str = "The policy failed legacy parsing";
const SID_CHARACTERS_ERROR: &str = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*";
const SID_UNIQUE_ERROR: &str = "Statement IDs (SID) in a single policy must be unique.";
const ACTIONS_REQUIRED: &str = "Policy statement must contain actions.";

/// Validates a policy document's text for its type, in AWS's check order (§3.6).
/// Err(PolicyError::Malformed(aws_message)) on the first failure.
pub fn validate(text: &str, policy_type: PolicyType) -> Result<(), PolicyError> {
    let root = json::parse_strict(text).map_err(|_| PolicyError::malformed(SYNTAX_ERROR))?;
    let document =
        syntax::parse_document(&root).map_err(|_| PolicyError::malformed(SYNTAX_ERROR))?;
    check_condition_sizes(&document).map_err(PolicyError::Malformed)?;
    check_document(&document, policy_type).map_err(PolicyError::Malformed)
}

/// latchkey's own bound (`policy::limits`), before AWS's stages: a
/// condition key with thousands of values is refused whatever else is wrong.
fn check_condition_sizes(document: &Document<'_>) -> Result<(), String> {
    let too_many = document
        .statements
        .iter()
        .flat_map(|s| &s.conditions)
        .flat_map(|block| &block.entries)
        .find(|(_, values)| values.len() > MAX_CONDITION_VALUES_PER_KEY);
    match too_many {
        Some((key, values)) => Err(too_many_values(key, values.len())),
        None => Ok(()),
    }
}

fn check_document(document: &Document<'_>, policy_type: PolicyType) -> Result<(), String> {
    if document.version != Some("2012-10-17") {
        return Err(VERSION_ERROR.to_owned());
    }
    let statements = &document.statements;
    let resource_format_error = legacy_parse(statements)?;
    check_sids(statements)?;
    if statements.iter().any(lacks_actions) {
        return Err(ACTIONS_REQUIRED.to_owned());
    }
    if let Some(message) = resource_format_error {
        return Err(message);
    }
    check_actions(statements)?;
    principal::check_type_rules(statements, policy_type)
}

/// Stage 3. Returns the first resource *format* problem, which AWS reports
/// only at stage 6. Resources are scanned in document order and the first
/// problematic one decides: once a format problem is seen, later ARNs are
/// not legacy-parsed (moto `invalid-025`, `-038`).
fn legacy_parse(statements: &[Statement<'_>]) -> Result<Option<String>, String> {
    let legacy_error = || LEGACY_ERROR.to_owned();
    for statement in statements {
        if statement.effect != "Allow" && statement.effect != "Deny" {
            return Err(legacy_error());
        }
        for block in &statement.conditions {
            let family = block.operator.family;
            let values_ok = block
                .entries
                .iter()
                .flat_map(|(_, values)| values)
                .all(|value| condition::legacy_value_ok(family, value));
            if !values_ok {
                return Err(legacy_error());
            }
        }
    }
    let resources = statements
        .iter()
        .filter_map(|s| s.resource.as_ref())
        .flat_map(|r| r.items.iter().copied());
    for resource in resources {
        match resource::check_resource(resource) {
            None => {}
            Some(ResourceIssue::Legacy) => return Err(legacy_error()),
            Some(ResourceIssue::Format(message)) => return Ok(Some(message)),
        }
    }
    Ok(None)
}

/// Stage 4. IAM Sids are `[0-9A-Za-z]*` (other services allow more); empty
/// Sids are not compared for uniqueness.
///
/// The moto corpus lists Sids with underscores (`valid-039`, `valid-040`) as
/// valid; AWS refuses them (AWS-IAM-NOTES.md §3.1, and the IAM error text
/// reported in awsdocs/iam-user-guide#282), so AWS's rule is kept.
fn check_sids(statements: &[Statement<'_>]) -> Result<(), String> {
    let sids: Vec<&str> = statements.iter().filter_map(|s| s.sid).collect();
    if sids
        .iter()
        .any(|sid| !sid.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(SID_CHARACTERS_ERROR.to_owned());
    }
    let mut seen = std::collections::HashSet::new();
    if sids
        .iter()
        .filter(|sid| !sid.is_empty())
        .any(|sid| !seen.insert(*sid))
    {
        return Err(SID_UNIQUE_ERROR.to_owned());
    }
    Ok(())
}

fn lacks_actions(statement: &Statement<'_>) -> bool {
    statement.action.as_ref().is_none_or(|a| a.items.is_empty())
}

/// Stage 7, in document order.
fn check_actions(statements: &[Statement<'_>]) -> Result<(), String> {
    statements
        .iter()
        .filter_map(|s| s.action.as_ref())
        .flat_map(|a| a.items.iter())
        .find_map(|action| action::action_error(action))
        .map_or(Ok(()), Err)
}
