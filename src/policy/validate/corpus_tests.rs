//! Table tests against the shared corpora (read at test time, never copied
//! into the repository). A missing corpus folder skips the test with a note.

use super::{check_inline_policies_size, validate, InlinePolicyOwner, SID_CHARACTERS_ERROR};
use crate::policy::{PolicyError, PolicyType};
use serde_json::Value;
use std::path::Path;

const CORPORA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora");

/// Moto cases where AWS (AWS-IAM-NOTES.md) disagrees with moto; the value is
/// the message AWS gives.
const AWS_OVERRIDES: [(&str, &str); 2] = [
    // Sids with underscores: IAM allows only [0-9A-Za-z] (§3.1).
    ("valid-039", SID_CHARACTERS_ERROR),
    ("valid-040", SID_CHARACTERS_ERROR),
];

fn load(relative: &str) -> Option<Value> {
    let path = Path::new(CORPORA).join(relative);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("corpus file is JSON")),
        Err(e) => {
            eprintln!("skipping: cannot read corpus {}: {e}", path.display());
            None
        }
    }
}

fn message(result: &Result<(), PolicyError>) -> Option<&str> {
    result.as_ref().err().map(PolicyError::message)
}

#[test]
fn moto_policy_documents() {
    let Some(corpus) = load("moto-iam-policy-validation/policy_documents.json") else {
        return;
    };
    let cases = corpus["cases"].as_array().expect("cases array");
    assert_eq!(cases.len(), 132);

    let mut wrong_verdicts = Vec::new();
    let mut wrong_messages = Vec::new();
    for case in cases {
        let id = case["id"].as_str().expect("id");
        let text = case["document_string"].as_str().expect("document_string");
        // CreatePolicy: an identity policy.
        let result = validate(text, PolicyType::Identity);

        if let Some((_, aws_message)) = AWS_OVERRIDES.iter().find(|(o, _)| *o == id) {
            assert_eq!(message(&result), Some(*aws_message), "{id}: AWS override");
            continue;
        }
        let expected_valid = case["valid"].as_bool().expect("valid");
        if result.is_ok() != expected_valid {
            wrong_verdicts.push(format!("{id}: got {result:?}, text {text}"));
            continue;
        }
        let expected_message = case["error"].as_str();
        if message(&result) != expected_message {
            wrong_messages.push(format!(
                "{id}: got {:?}, expected {expected_message:?}",
                message(&result)
            ));
        }
    }

    let judged = cases.len() - AWS_OVERRIDES.len();
    let exact = judged - wrong_verdicts.len() - wrong_messages.len();
    eprintln!(
        "moto corpus: {}/{judged} verdicts and {exact}/{judged} exact messages as moto; \
         {} cases follow AWS instead of moto",
        judged - wrong_verdicts.len(),
        AWS_OVERRIDES.len()
    );
    for line in wrong_messages.iter().chain(&wrong_verdicts) {
        eprintln!("  mismatch {line}");
    }
    assert!(
        wrong_verdicts.is_empty(),
        "wrong verdicts: {wrong_verdicts:#?}"
    );
    let judged = cases.len() - AWS_OVERRIDES.len();
    assert!(
        exact * 10 >= judged * 9,
        "only {exact}/{judged} exact messages: {wrong_messages:#?}"
    );
}

#[test]
fn ceph_invalid_inline_policies() {
    let Some(corpus) = load("ceph-s3-tests/invalid_inline_policies.json") else {
        return;
    };
    let mut checked = 0;
    for case in corpus["cases"].as_array().expect("cases array") {
        let what = case["what"].as_str().unwrap_or_default();
        if let Some(text) = case["document_string"].as_str() {
            // PutUserPolicy: an identity policy; each must be refused (400).
            let result = validate(text, PolicyType::Identity);
            assert!(
                matches!(result, Err(PolicyError::Malformed(_))),
                "{what}: {result:?}"
            );
            checked += 1;
        } else {
            // The size case: 1000 copies of one statement, built as described.
            let statement = r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#;
            let text = format!(
                r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#,
                vec![statement; 1000].join(", ")
            );
            assert_eq!(validate(&text, PolicyType::Identity), Ok(()));
            assert!(matches!(
                check_inline_policies_size(InlinePolicyOwner::User, "u", [text.as_str()]),
                Err(PolicyError::LimitExceeded(_))
            ));
            checked += 1;
        }
    }
    assert_eq!(checked, 5);
}

/// MinIO's statement tables, wrapped into a 2012-10-17 document. Only cases
/// whose MinIO rule is also an IAM rule are used.
#[test]
fn minio_statements_that_fit_aws() {
    let Some(corpus) = load("minio-policy/document_validation.json") else {
        return;
    };
    // MinIO-only rules: an empty Condition (IAM accepts it, moto valid-010)
    // and its own list of supported condition keys (IAM checks no keys).
    let minio_only = |comment: &str| {
        comment.starts_with("Empty condition") || comment.starts_with("Unsupported condition key")
    };
    let mut checked = 0;
    for case in corpus["cases"].as_array().expect("cases array") {
        let kind = case["kind"].as_str().unwrap_or_default();
        let policy_type = match kind {
            "identity policy statement" => PolicyType::Identity,
            "bucket policy statement" => PolicyType::Resource,
            _ => continue,
        };
        let comment = case["comment"].as_str().unwrap_or_default();
        if minio_only(comment) {
            continue;
        }
        let statement = case["document_text"].as_str().expect("document_text");
        let text = format!(r#"{{"Version": "2012-10-17", "Statement": {statement}}}"#);
        let expected_valid = case["valid"].as_bool().expect("valid");
        let result = validate(&text, policy_type);
        assert_eq!(
            result.is_ok(),
            expected_valid,
            "{kind} {}: {comment} {result:?}",
            case["case"]
        );
        checked += 1;
    }
    assert_eq!(checked, 19);
}
