//! Policy lint: Access-Analyzer-style findings on a policy document
//! (AWS-IAM-NOTES.md §11), so that people see a mistake when they write a
//! policy, not after an incident.
//!
//! Lint runs *after* validation. A document the validator refuses gives one
//! ERROR finding carrying the validator's AWS message, because findings on a
//! document IAM will not store would only add noise. The exception is the
//! Version: latchkey refuses a missing or 2008-10-17 Version like IAM's
//! managed-policy APIs, so that is an ERROR finding (`MISSING_VERSION`,
//! `UNSUPPORTED_VERSION`, plus `VARIABLE_UNSUPPORTED_IN_VERSION` for each
//! variable the old version would keep literally), and the rest of the
//! document is still linted as if it said 2012-10-17.
//!
//! Checks live in one file per family: [`grammar`] (versions, variables,
//! empty elements, catalog lookups), [`security`] (overly broad grants),
//! [`trust`] (who may assume a role, who may reach a resource),
//! [`conditions`] and [`redundancy`]. [`CHECKS`] lists every code.
//!
//! Pure: no I/O. The catalog is passed in, so the server can lint against
//! the services a platform registered.

pub mod catalog;
mod catalog_builtin;
mod conditions;
mod grammar;
mod keys;
mod redundancy;
mod security;
mod trust;
mod view;

#[cfg(test)]
mod tests;

pub use catalog::{
    AccessLevel, ActionDefinition, ActionRef, Catalog, CatalogError, ConditionKeyDefinition,
    Expansion, KeyType, ServiceDefinition,
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pattern::Glob;
use super::validate::{validate, VERSION_ERROR};
use super::{Effect, PolicyType};
use view::{Doc, Item, List, Stmt};

/// How bad a finding is, in Access Analyzer's four types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Ordered from least to most severe, so `>=` reads as "at least".
    Suggestion,
    Warning,
    SecurityWarning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::SecurityWarning => "SECURITY_WARNING",
            Severity::Warning => "WARNING",
            Severity::Suggestion => "SUGGESTION",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "error" => Ok(Severity::Error),
            "security_warning" => Ok(Severity::SecurityWarning),
            "warning" => Ok(Severity::Warning),
            "suggestion" => Ok(Severity::Suggestion),
            other => Err(format!(
                "unknown severity {other:?}: expected error, security_warning, warning or suggestion"
            )),
        }
    }
}

/// Where a finding points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// `None` for findings about the whole document.
    pub statement_index: Option<usize>,
    /// A JSON path such as `Statement[0].Action[1]`; empty for the document.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable, SCREAMING_SNAKE_CASE: safe to match on in CI.
    pub code: &'static str,
    /// What is wrong and what to write instead.
    pub message: String,
    pub location: Location,
}

/// A check's stable code and its severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    pub code: &'static str,
    pub severity: Severity,
}

/// Settings that sharpen some checks.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// The account that owns the policy. With it, trust checks can tell a
    /// cross-account principal from a same-account one; without it, every
    /// named account counts as possibly another one.
    pub account_id: Option<String>,
}

/// Every check lint runs.
pub const CHECKS: &[Check] = &[
    grammar::MALFORMED_POLICY_DOCUMENT,
    grammar::MISSING_VERSION,
    grammar::UNSUPPORTED_VERSION,
    grammar::VARIABLE_UNSUPPORTED_IN_VERSION,
    grammar::VARIABLE_UNSUPPORTED_IN_ELEMENT,
    grammar::INVALID_VARIABLE_FOR_OPERATOR,
    grammar::VARIABLE_MISSING_BRACE,
    grammar::VARIABLE_EMPTY,
    grammar::VARIABLE_UNSUPPORTED_SPACE,
    grammar::VARIABLE_MISSING_QUOTE,
    grammar::VARIABLE_WITH_MULTIVALUED_KEY,
    grammar::EMPTY_SID,
    grammar::EMPTY_ARRAY_PRINCIPAL,
    grammar::WILDCARD_IN_SERVICE_NAME,
    grammar::UNKNOWN_ACTION,
    security::ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES,
    security::PASS_ROLE_WITH_STAR_IN_RESOURCE,
    security::PRIVILEGE_ESCALATION_ON_STAR,
    security::ASSUME_ROLE_WITH_STAR_IN_RESOURCE,
    security::ALLOW_WITH_NOT_ACTION,
    security::ALLOW_WITH_NOT_RESOURCE,
    security::ALLOW_WITH_NOT_PRINCIPAL,
    security::WILDCARD_GRANTS_PERMISSIONS_MANAGEMENT,
    security::CREATE_SLR_WITH_STAR_IN_RESOURCE,
    security::DENY_NOT_ACTION_WITHOUT_RESOURCE_LIMIT,
    trust::TRUST_POLICY_PUBLIC_PRINCIPAL,
    trust::TRUST_POLICY_ACCOUNT_WITHOUT_CONDITION,
    trust::CROSS_ACCOUNT_TRUST_WITHOUT_EXTERNAL_ID,
    trust::MISSING_OIDC_CONDITION_KEY,
    trust::MISSING_GITHUB_REPO_CONDITION_KEY,
    trust::MISSING_OIDC_AUDIENCE_CONDITION,
    trust::OIDC_SUBJECT_UNRESTRICTED,
    trust::MISMATCHED_ACTION_FOR_PRINCIPAL,
    trust::TRUST_POLICY_NON_STS_ACTION,
    trust::RESOURCE_POLICY_PUBLIC_ACCESS,
    trust::SERVICE_PRINCIPAL_WITHOUT_SOURCE_CONDITION,
    trust::INVALID_PRINCIPAL_REFERENCE,
    trust::REDUNDANT_PRINCIPAL,
    conditions::FOR_ALL_VALUES_WITH_SINGLE_VALUED_KEY,
    conditions::FOR_ALL_VALUES_WITHOUT_NULL_CHECK,
    conditions::MISSING_QUALIFIER,
    conditions::NULL_WITH_IF_EXISTS,
    conditions::NULL_WITH_QUALIFIER,
    conditions::WILDCARD_WITHOUT_LIKE_OPERATOR,
    conditions::TYPE_MISMATCH_BOOLEAN,
    conditions::TYPE_MISMATCH_ARN,
    conditions::TYPE_MISMATCH_BINARY,
    conditions::OPERATOR_KEY_TYPE_MISMATCH,
    conditions::PRIVATE_IP_ADDRESS,
    conditions::IMPROVE_IP_RANGE,
    conditions::DEPRECATED_GLOBAL_CONDITION_KEY,
    conditions::UNKNOWN_CONDITION_KEY,
    conditions::REDUNDANT_CONDITION_VALUE_NUM,
    conditions::MISSING_PAIRED_CONDITION_KEYS,
    conditions::SPOOFABLE_CONDITION_KEY,
    conditions::CONDITION_KEY_NEVER_SUPPLIED,
    conditions::EMPTY_OBJECT_CONDITION,
    conditions::EMPTY_ARRAY_CONDITION,
    conditions::EMPTY_ARRAY_CONDITION_QUALIFIER,
    redundancy::REDUNDANT_ACTION,
    redundancy::REDUNDANT_RESOURCE,
    redundancy::REDUNDANT_STATEMENT,
];

/// Lints a document's text for its type. See [`lint_with`].
pub fn lint(doc_text: &str, policy_type: PolicyType, catalog: &Catalog) -> Vec<Finding> {
    lint_with(doc_text, policy_type, catalog, &LintOptions::default())
}

/// Lints a document's text. Findings come sorted by statement (document-wide
/// ones first), in check order within a statement.
pub fn lint_with(
    doc_text: &str,
    policy_type: PolicyType,
    catalog: &Catalog,
    options: &LintOptions,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let malformed = |message: &str| Finding {
        severity: grammar::MALFORMED_POLICY_DOCUMENT.severity,
        code: grammar::MALFORMED_POLICY_DOCUMENT.code,
        message: format!(
            "{message} The document is not a valid {} policy; fix this first.",
            policy_type.as_str()
        ),
        location: Location {
            statement_index: None,
            path: String::new(),
        },
    };
    let root: Value = match validate(doc_text, policy_type) {
        Ok(()) => match serde_json::from_str(doc_text) {
            Ok(v) => v,
            Err(e) => return vec![malformed(&e.to_string())],
        },
        Err(e) if e.message() == VERSION_ERROR => {
            let Ok(original) = serde_json::from_str::<Value>(doc_text) else {
                return vec![malformed(e.message())];
            };
            if let Some(doc) = Doc::build(&original) {
                grammar::check_version(&doc, &mut out);
            }
            // Lint the rest as the 2012-10-17 document the author meant.
            let mut patched = original.clone();
            if let Some(map) = patched.as_object_mut() {
                map.insert("Version".into(), Value::String("2012-10-17".into()));
            }
            if let Err(again) = validate(&patched.to_string(), policy_type) {
                out.push(malformed(again.message()));
                return out;
            }
            patched
        }
        Err(e) => return vec![malformed(e.message())],
    };
    let Some(doc) = Doc::build(&root) else {
        return vec![malformed("Syntax errors in policy.")];
    };
    let mut cx = Ctx {
        doc: &doc,
        policy_type,
        catalog,
        options,
        out,
    };
    grammar::check(&mut cx);
    security::check(&mut cx);
    trust::check(&mut cx);
    conditions::check(&mut cx);
    redundancy::check(&mut cx);
    let mut out = cx.out;
    let mut seen = std::collections::HashSet::new();
    out.retain(|f| seen.insert((f.code, f.location.path.clone(), f.message.clone())));
    out.sort_by_key(|f| f.location.statement_index.map_or(0, |i| i + 1));
    out
}

/// What every check gets.
struct Ctx<'a, 'v> {
    pub doc: &'a Doc<'v>,
    pub policy_type: PolicyType,
    pub catalog: &'a Catalog,
    pub options: &'a LintOptions,
    pub out: Vec<Finding>,
}

impl Ctx<'_, '_> {
    pub fn push(
        &mut self,
        check: Check,
        statement_index: Option<usize>,
        path: &str,
        message: String,
    ) {
        self.out
            .push(finding(check, statement_index, path, message));
    }

    /// Policy types whose Allow statements grant permissions. Boundaries and
    /// session policies only cap what identity policies grant, so a broad
    /// Allow in them is normal; trust policies have their own checks.
    pub fn grants(&self) -> bool {
        matches!(
            self.policy_type,
            PolicyType::Identity | PolicyType::Resource
        )
    }
}

fn finding(check: Check, statement_index: Option<usize>, path: &str, message: String) -> Finding {
    Finding {
        severity: check.severity,
        code: check.code,
        message,
        location: Location {
            statement_index,
            path: path.to_owned(),
        },
    }
}

/// Case-insensitive action glob (§3.4).
fn action_matches(pattern: &str, action: &str) -> bool {
    Glob::new(&pattern.to_ascii_lowercase()).matches(&action.to_ascii_lowercase())
}

/// The item of the statement's Action that covers `action`; for NotAction,
/// the element itself when it does not exclude `action`.
fn granting_item<'s>(stmt: &'s Stmt<'_>, action: &str) -> Option<(&'s str, String)> {
    let list = stmt.action.as_ref()?;
    if list.negated {
        let excluded = list.items.iter().any(|i| action_matches(i.text, action));
        (!excluded).then(|| (list.element, list.path.clone()))
    } else {
        list.items
            .iter()
            .find(|i| action_matches(i.text, action))
            .map(|i| (i.text, i.path.clone()))
    }
}

/// The path of what makes the statement apply to every resource: a `"*"`
/// in Resource, or a NotResource element (everything but a few). Trust
/// policies have no Resource: the role itself is the resource.
fn all_resources_path(stmt: &Stmt<'_>) -> Option<String> {
    match &stmt.resource {
        Some(List {
            negated: false,
            items,
            ..
        }) => items
            .iter()
            .find(|i: &&Item| i.text == "*")
            .map(|i| i.path.clone()),
        Some(list) => Some(list.path.clone()),
        None => None,
    }
}

fn is_allow(stmt: &Stmt<'_>) -> bool {
    stmt.effect == Effect::Allow
}
