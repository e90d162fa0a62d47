//! Property tests: validation never panics, whatever the input.

use super::validate;
use crate::policy::PolicyType;
use proptest::prelude::*;
use serde_json::{Map, Value};

const ALL_TYPES: [PolicyType; 5] = [
    PolicyType::Identity,
    PolicyType::Resource,
    PolicyType::Trust,
    PolicyType::Boundary,
    PolicyType::Session,
];

/// Strings drawn mostly from the vocabulary of policies, so that generated
/// documents get past the grammar and reach the later stages.
fn policy_word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "Version",
            "2012-10-17",
            "2008-10-17",
            "Id",
            "Statement",
            "Sid",
            "Effect",
            "Allow",
            "Deny",
            "allow",
            "Principal",
            "NotPrincipal",
            "AWS",
            "Service",
            "Federated",
            "CanonicalUser",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
            "StringEquals",
            "ForAnyValue:StringLikeIfExists",
            "DateGreaterThan",
            "NumericLessThan",
            "IpAddress",
            "Null",
            "Bool",
            "*",
            "s3:GetObject",
            "iam:*",
            "a a:b",
            "x:y:z",
            "arn:aws:s3:::b/*",
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam:us-east-1::x",
            "arn:aws:sts::123456789012:assumed-role/R/s",
            "a:b:c",
            "arn:aws",
            "arn:aws::x",
            "2020-01-01T00:00:00Z",
            "10.0.0.0/8",
            "ec2.amazonaws.com",
            "123456789012",
            "",
        ])
        .prop_map(str::to_owned),
        "[ -~\u{80}-\u{ff}]{0,12}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        policy_word().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((policy_word(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A document with the right top-level shape and random statements.
fn policy_like_document() -> impl Strategy<Value = String> {
    let statement = prop::collection::vec((policy_word(), json_value()), 0..8)
        .prop_map(|entries| Value::Object(entries.into_iter().collect()));
    (prop::collection::vec(statement, 0..4), policy_word()).prop_map(|(statements, version)| {
        serde_json::json!({"Version": version, "Statement": statements}).to_string()
    })
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_strings(text in any::<String>()) {
        for policy_type in ALL_TYPES {
            let _ = validate(&text, policy_type);
        }
    }

    #[test]
    fn never_panics_on_json_shaped_input(value in json_value()) {
        let text = value.to_string();
        for policy_type in ALL_TYPES {
            let _ = validate(&text, policy_type);
        }
    }

    #[test]
    fn never_panics_on_policy_like_documents(text in policy_like_document()) {
        for policy_type in ALL_TYPES {
            let _ = validate(&text, policy_type);
        }
    }

    #[test]
    fn errors_carry_a_non_empty_message(text in policy_like_document()) {
        if let Err(e) = validate(&text, PolicyType::Identity) {
            prop_assert!(!e.message().is_empty());
            prop_assert_eq!(e.code(), "MalformedPolicyDocument");
        }
    }
}
