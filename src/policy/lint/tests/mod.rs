//! Each check fires on one document and stays quiet on a close one
//! ([`cases`]), plus the behaviours around the checks: the Version
//! exception, JSON paths, options, registered services, and the moto corpus.

mod behaviour;
mod cases;
mod corpus;
mod supplied;

use super::{lint, lint_with, Catalog, Finding, LintOptions};
use crate::policy::PolicyType;

/// A whole document, or the statements of a 2012-10-17 one.
fn document(text: &str) -> String {
    if text.starts_with("{\"Version\"") || text.starts_with("{\"Statement\"") {
        text.to_owned()
    } else {
        format!(r#"{{"Version":"2012-10-17","Statement":[{text}]}}"#)
    }
}

fn run(text: &str, policy_type: PolicyType) -> Vec<Finding> {
    lint(&document(text), policy_type, &Catalog::builtin())
}

fn run_with(text: &str, policy_type: PolicyType, account: &str) -> Vec<Finding> {
    let options = LintOptions {
        account_id: Some(account.to_owned()),
    };
    lint_with(&document(text), policy_type, &Catalog::builtin(), &options)
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code).collect()
}
