//! The moto corpus (read at test time, never copied): every document IAM
//! accepts gets no ERROR finding.

use super::super::{lint, Catalog, Severity};
use crate::policy::PolicyType;
use serde_json::Value;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpora/moto-iam-policy-validation/policy_documents.json"
);

/// Cases moto calls valid that AWS refuses (Sids with underscores, see
/// `validate::corpus_tests`): the validator's ERROR is right there.
const AWS_REFUSES: [&str; 2] = ["valid-039", "valid-040"];

#[test]
fn moto_valid_documents_have_no_error_finding() {
    let text = match std::fs::read_to_string(CORPUS) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("skipping: cannot read corpus {CORPUS}: {e}");
            return;
        }
    };
    let corpus: Value = serde_json::from_str(&text).expect("corpus is JSON");
    let catalog = Catalog::builtin();
    let mut errors = Vec::new();
    let mut checked = 0;
    for case in corpus["cases"].as_array().expect("cases") {
        let id = case["id"].as_str().expect("id");
        let document = case["document_string"].as_str().expect("document_string");
        let findings = lint(document, PolicyType::Identity, &catalog);
        if !case["valid"].as_bool().expect("valid") {
            // Refused documents: the validator's message as an ERROR.
            assert!(
                findings.iter().any(|f| f.severity == Severity::Error),
                "{id}: an invalid document must give an ERROR finding"
            );
            continue;
        }
        if AWS_REFUSES.contains(&id) {
            continue;
        }
        checked += 1;
        errors.extend(
            findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| format!("{id}: {f:?}")),
        );
    }
    assert!(checked > 40, "only {checked} valid documents checked");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
