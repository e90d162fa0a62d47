//! One test per rule of [`super::validate`], each with AWS's exact message.

use super::validate;
use crate::policy::{PolicyError, PolicyType};

const ALL_TYPES: [PolicyType; 5] = [
    PolicyType::Identity,
    PolicyType::Resource,
    PolicyType::Trust,
    PolicyType::Boundary,
    PolicyType::Session,
];

fn message(text: &str, policy_type: PolicyType) -> Option<String> {
    match validate(text, policy_type) {
        Ok(()) => None,
        Err(PolicyError::Malformed(m)) => Some(m),
        Err(other) => panic!("unexpected error kind {other:?}"),
    }
}

/// Wraps statements (JSON text) into a 2012-10-17 document.
fn doc(statements: &str) -> String {
    format!(r#"{{"Version": "2012-10-17", "Statement": {statements}}}"#)
}

fn identity(text: &str) -> Option<String> {
    message(text, PolicyType::Identity)
}

fn trust(text: &str) -> Option<String> {
    message(text, PolicyType::Trust)
}

const ALLOW_S3: &str =
    r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#;
const SYNTAX: Option<&str> = Some("Syntax errors in policy.");
const LEGACY: Option<&str> = Some("The policy failed legacy parsing");

#[test]
fn a_plain_identity_policy_is_valid() {
    assert_eq!(identity(&doc(ALLOW_S3)), None);
    assert_eq!(identity(&doc(&format!("[{ALLOW_S3}, {ALLOW_S3}]"))), None);
}

#[test]
fn syntax_not_json_or_not_an_object() {
    for text in [
        "",
        "not json",
        r#""a string""#,
        "[]",
        "42",
        "{",
        r#"{"Version": "2012-10-17"} x"#,
    ] {
        assert_eq!(identity(text).as_deref(), SYNTAX, "{text}");
    }
}

#[test]
fn syntax_duplicate_keys() {
    let twice = r#"{"Effect": "Allow", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}"#;
    assert_eq!(identity(&doc(twice)).as_deref(), SYNTAX);
    let twice_top = r#"{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": []}"#;
    assert_eq!(identity(twice_top).as_deref(), SYNTAX);
}

#[test]
fn syntax_unknown_or_miscased_element_names() {
    let extra_top = format!(r#"{{"Version": "2012-10-17", "Statement": {ALLOW_S3}, "Extra": 1}}"#);
    assert_eq!(identity(&extra_top).as_deref(), SYNTAX);
    let lower = r#"{"effect": "Allow", "Action": "s3:*", "Resource": "*"}"#;
    assert_eq!(identity(&doc(lower)).as_deref(), SYNTAX);
    let top_conditions =
        format!(r#"{{"Version": "2012-10-17", "Statement": {ALLOW_S3}, "Conditions": {{}}}}"#);
    assert_eq!(identity(&top_conditions).as_deref(), SYNTAX);
}

#[test]
fn syntax_element_types() {
    for statement in [
        r#"{"Effect": 1, "Action": "s3:*", "Resource": "*"}"#,
        r#"{"Effect": "Allow", "Action": {}, "Resource": "*"}"#,
        r#"{"Effect": "Allow", "Action": [["s3:*"]], "Resource": "*"}"#,
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": null}"#,
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": ["a", {}]}"#,
        r#"{"Sid": 5, "Effect": "Allow", "Action": "s3:*", "Resource": "*"}"#,
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": []}"#,
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": "b"}}"#,
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"k": null}}}"#,
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"k": {}}}}"#,
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"k": [["a"]]}}}"#,
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": 5}"#,
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": {"AWS": 5}}"#,
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": {"AWS": [null]}}"#,
        r#""not an object""#,
    ] {
        assert_eq!(identity(&doc(statement)).as_deref(), SYNTAX, "{statement}");
    }
    let id_list = format!(r#"{{"Version": "2012-10-17", "Id": ["x"], "Statement": {ALLOW_S3}}}"#);
    assert_eq!(identity(&id_list).as_deref(), SYNTAX);
}

#[test]
fn syntax_mutually_exclusive_pairs() {
    for statement in [
        r#"{"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}"#,
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": []}"#,
        r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*", "NotPrincipal": "*"}"#,
    ] {
        for policy_type in ALL_TYPES {
            assert_eq!(
                message(&doc(statement), policy_type).as_deref(),
                SYNTAX,
                "{statement}"
            );
        }
    }
}

#[test]
fn syntax_effect_version_and_statement_presence() {
    let bad_effect = r#"{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}"#;
    assert_eq!(identity(&doc(bad_effect)).as_deref(), SYNTAX);
    let missing_effect = r#"{"Action": "s3:*", "Resource": "*"}"#;
    assert_eq!(identity(&doc(missing_effect)).as_deref(), SYNTAX);
    let wrong_version = format!(r#"{{"Version": "2013-10-17", "Statement": {ALLOW_S3}}}"#);
    assert_eq!(identity(&wrong_version).as_deref(), SYNTAX);
    let numeric_version = format!(r#"{{"Version": 2012, "Statement": {ALLOW_S3}}}"#);
    assert_eq!(identity(&numeric_version).as_deref(), SYNTAX);
    assert_eq!(identity(r#"{"Version": "2012-10-17"}"#).as_deref(), SYNTAX);
    assert_eq!(identity(&doc("[]")).as_deref(), SYNTAX);
    assert_eq!(identity(&doc(r#""s""#)).as_deref(), SYNTAX);
}

#[test]
fn syntax_unknown_condition_operator_only_when_it_has_a_body() {
    let with_body = r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEqual": {"k": "v"}}}"#;
    assert_eq!(identity(&doc(with_body)).as_deref(), SYNTAX);
    let double_colon = r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"ForAnyValue::StringEquals": {"k": "v"}}}"#;
    assert_eq!(identity(&doc(double_colon)).as_deref(), SYNTAX);
    let empty_body = r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEqual": {}}}"#;
    assert_eq!(identity(&doc(empty_body)), None);
}

#[test]
fn known_condition_operators_and_value_types_are_accepted() {
    let statement = r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {
        "StringLikeIfExists": {"s3:prefix": ["home/${aws:username}/*", ""]},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]},
        "ForAnyValue:StringNotEqualsIgnoreCase": {"aws:TagKeys": "x"},
        "NumericLessThanEquals": {"s3:max-keys": [10, "20", 2.5]},
        "DateGreaterThan": {"aws:CurrentTime": ["2020-01-01T00:00:00Z", 1600000000]},
        "Bool": {"aws:SecureTransport": true},
        "BinaryEquals": {"k": "QmluYXJ5"},
        "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]},
        "NotIpAddressIfExists": {"aws:SourceIp": "10.0.0.1"},
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x*"},
        "Null": {"aws:TokenIssueTime": "true"},
        "NullIfExists": {"k": false}
    }}"#;
    assert_eq!(identity(&doc(statement)), None);
}

#[test]
fn version_must_be_2012_for_every_type() {
    let missing = format!(r#"{{"Statement": {ALLOW_S3}}}"#);
    let old = format!(r#"{{"Version": "2008-10-17", "Statement": {ALLOW_S3}}}"#);
    for policy_type in ALL_TYPES {
        for text in [&missing, &old] {
            assert_eq!(
                message(text, policy_type).as_deref(),
                Some("Policy document must be version 2012-10-17 or greater.")
            );
        }
    }
}

#[test]
fn version_comes_before_legacy_parsing() {
    let text = r#"{"Statement": {"Effect": "allow", "Action": "s3:*", "Resource": "*"}}"#;
    assert_eq!(
        identity(text).as_deref(),
        Some("Policy document must be version 2012-10-17 or greater.")
    );
}

#[test]
fn legacy_effect_is_case_sensitive() {
    let statement = r#"{"Effect": "deny", "Action": "s3:*", "Resource": "*"}"#;
    assert_eq!(identity(&doc(statement)).as_deref(), LEGACY);
}

#[test]
fn legacy_condition_values() {
    for (operator, value) in [
        ("DateGreaterThan", r#""yesterday""#),
        ("DateLessThanEquals", r#""2016-13-01""#),
        ("DateLessThan", "true"),
        ("ForAnyValue:DateEqualsIfExists", r#"["2020-01-01", "x"]"#),
        ("NumericEquals", r#""ten""#),
        ("NumericLessThan", r#""${aws:username}""#),
        ("IpAddress", r#""not-an-ip""#),
        ("NotIpAddress", r#""10.0.0.0/40""#),
    ] {
        let statement = format!(
            r#"{{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {{"{operator}": {{"k": {value}}}}}}}"#
        );
        assert_eq!(
            identity(&doc(&statement)).as_deref(),
            LEGACY,
            "{operator} {value}"
        );
    }
}

#[test]
fn legacy_resource_structure() {
    let statement = r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3::bucket"}"#;
    assert_eq!(identity(&doc(statement)).as_deref(), LEGACY);
}

#[test]
fn legacy_comes_before_duplicate_sids_and_missing_actions() {
    let text = doc(
        r#"[{"Sid": "a", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                      {"Sid": "a", "Effect": "Allow", "Resource": "arn:aws:s3::b"}]"#,
    );
    assert_eq!(identity(&text).as_deref(), LEGACY);
}

#[test]
fn sids_must_be_alphanumeric() {
    for sid in ["my sid", "with_underscore", "dash-ed", "ünï"] {
        let statement =
            format!(r#"{{"Sid": "{sid}", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#);
        assert_eq!(
            identity(&doc(&statement)).as_deref(),
            Some("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"),
            "{sid}"
        );
    }
}

#[test]
fn sids_must_be_unique_but_empty_ones_may_repeat() {
    let duplicate = doc(
        r#"[{"Sid": "One", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                           {"Sid": "One", "Effect": "Deny"}]"#,
    );
    assert_eq!(
        identity(&duplicate).as_deref(),
        Some("Statement IDs (SID) in a single policy must be unique.")
    );
    let case_differs = doc(
        r#"[{"Sid": "One", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                              {"Sid": "one", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]"#,
    );
    assert_eq!(identity(&case_differs), None);
    let empty = doc(
        r#"[{"Sid": "", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                       {"Sid": "", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]"#,
    );
    assert_eq!(identity(&empty), None);
}

#[test]
fn actions_are_required() {
    for statement in [
        r#"{"Effect": "Allow", "Resource": "*"}"#,
        r#"{"Effect": "Allow", "Action": [], "Resource": "*"}"#,
        r#"{"Effect": "Allow", "NotAction": [null], "Resource": "*"}"#,
    ] {
        for policy_type in ALL_TYPES {
            assert_eq!(
                message(&doc(statement), policy_type).as_deref(),
                Some("Policy statement must contain actions."),
                "{statement}"
            );
        }
    }
}

#[test]
fn resource_format_messages_come_after_missing_actions() {
    let text = doc(
        r#"[{"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"},
                      {"Effect": "Allow", "Resource": "*"}]"#,
    );
    assert_eq!(
        identity(&text).as_deref(),
        Some("Policy statement must contain actions.")
    );
    let alone = doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}"#);
    assert_eq!(
        identity(&alone).as_deref(),
        Some(r#"Resource bucket must be in ARN format or "*"."#)
    );
}

#[test]
fn first_resource_problem_in_document_order_decides() {
    let format_first =
        doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": ["bucket", "arn:aws:s3::b"]}"#);
    assert_eq!(
        identity(&format_first).as_deref(),
        Some(r#"Resource bucket must be in ARN format or "*"."#)
    );
    let legacy_first =
        doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3::b", "bucket"]}"#);
    assert_eq!(identity(&legacy_first).as_deref(), LEGACY);
}

#[test]
fn resource_format_comes_before_action_format() {
    let text = doc(r#"{"Effect": "Allow", "Action": "s:3:Get", "Resource": "bucket"}"#);
    assert_eq!(
        identity(&text).as_deref(),
        Some(r#"Resource bucket must be in ARN format or "*"."#)
    );
}

#[test]
fn action_format_messages() {
    let text = doc(
        r#"[{"Effect": "Allow", "Action": "s3:Get", "Resource": "*"},
                      {"Effect": "Allow", "NotAction": ["iam:*", "a b:Get"], "Resource": "*"}]"#,
    );
    assert_eq!(identity(&text).as_deref(), Some("Vendor a b is not valid"));
}

#[test]
fn action_format_comes_before_missing_resources() {
    let text = doc(r#"{"Effect": "Allow", "Action": "invalid"}"#);
    assert_eq!(
        identity(&text).as_deref(),
        Some("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
    );
}

#[test]
fn identity_like_policies_refuse_principals_and_need_resources() {
    for policy_type in [
        PolicyType::Identity,
        PolicyType::Boundary,
        PolicyType::Session,
    ] {
        for principal in [r#""*""#, r#"{"AWS": "123456789012"}"#] {
            let statement = format!(
                r#"{{"Effect": "Allow", "Principal": {principal}, "Action": "s3:*", "Resource": "*"}}"#
            );
            assert_eq!(
                message(&doc(&statement), policy_type).as_deref(),
                Some("Policy document should not specify a principal.")
            );
        }
        let not_principal =
            r#"{"Effect": "Deny", "NotPrincipal": "*", "Action": "s3:*", "Resource": "*"}"#;
        assert_eq!(
            message(&doc(not_principal), policy_type).as_deref(),
            Some("Policy document should not specify a principal.")
        );
        for statement in [
            r#"{"Effect": "Allow", "Action": "s3:*"}"#,
            r#"{"Effect": "Allow", "Action": "s3:*", "Resource": []}"#,
        ] {
            assert_eq!(
                message(&doc(statement), policy_type).as_deref(),
                Some("Policy statement must contain resources.")
            );
        }
        let not_resource = r#"{"Effect": "Allow", "NotAction": "s3:*", "NotResource": "*"}"#;
        assert_eq!(message(&doc(not_resource), policy_type), None);
    }
}

const TRUST_EC2: &str = r#"{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}"#;

#[test]
fn trust_policy_accepts_the_usual_principals() {
    assert_eq!(trust(&doc(TRUST_EC2)), None);
    let many = r#"{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Principal": {
        "AWS": ["arn:aws:iam::123456789012:root", "123456789012", "arn:aws:iam::123456789012:role/path/R",
                "arn:aws:sts::123456789012:assumed-role/R/s", "AROAJQABLZS4A3QDU576Q", "*"],
        "Federated": ["arn:aws:iam::123456789012:saml-provider/Okta", "accounts.google.com"],
        "Service": ["lambda.amazonaws.com"]},
        "Condition": {"StringEquals": {"sts:ExternalId": "x"}}}"#;
    assert_eq!(trust(&doc(many)), None);
    let star = r#"{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}"#;
    assert_eq!(trust(&doc(star)), None);
}

#[test]
fn trust_policy_prohibits_resource_and_not_principal() {
    let with_resource =
        r#"{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"}"#;
    assert_eq!(
        trust(&doc(with_resource)).as_deref(),
        Some("Has prohibited field Resource.")
    );
    let with_not_resource =
        r#"{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "NotResource": "*"}"#;
    assert_eq!(
        trust(&doc(with_not_resource)).as_deref(),
        Some("Has prohibited field NotResource.")
    );
    let not_principal = r#"{"Effect": "Deny", "NotPrincipal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole"}"#;
    assert_eq!(
        trust(&doc(not_principal)).as_deref(),
        Some("Has prohibited field NotPrincipal.")
    );
}

#[test]
fn trust_policy_requires_a_principal() {
    for statement in [
        r#"{"Effect": "Allow", "Action": "sts:AssumeRole"}"#,
        r#"{"Effect": "Allow", "Principal": {}, "Action": "sts:AssumeRole"}"#,
        r#"{"Effect": "Allow", "Principal": {"AWS": []}, "Action": "sts:AssumeRole"}"#,
    ] {
        assert_eq!(
            trust(&doc(statement)).as_deref(),
            Some("Missing required field Principal"),
            "{statement}"
        );
    }
}

#[test]
fn trust_policy_principal_formats() {
    for (principal, expected) in [
        (
            r#"{"AWS": "foo"}"#,
            r#"Invalid principal in policy: "AWS":"foo""#,
        ),
        (
            r#"{"AWS": ["123456789012", "arn:aws:iam::123456789012:user/*"]}"#,
            r#"Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/*""#,
        ),
        (
            r#"{"AWS": "arn:aws:sts::123456789012:assumed-role/R/*"}"#,
            r#"Invalid principal in policy: "AWS":"arn:aws:sts::123456789012:assumed-role/R/*""#,
        ),
        (
            r#"{"Service": "ec2"}"#,
            r#"Invalid principal in policy: "Service":"ec2""#,
        ),
        (
            r#"{"User": "alice"}"#,
            r#"Invalid principal in policy: "User":"alice""#,
        ),
        (
            r#""arn:aws:iam::123456789012:root""#,
            r#"Invalid principal in policy: "arn:aws:iam::123456789012:root""#,
        ),
    ] {
        let statement = format!(
            r#"{{"Effect": "Allow", "Principal": {principal}, "Action": "sts:AssumeRole"}}"#
        );
        assert_eq!(
            trust(&doc(&statement)).as_deref(),
            Some(expected),
            "{principal}"
        );
    }
}

#[test]
fn resource_policies_need_principal_and_resource() {
    let resource = |text: &str| message(text, PolicyType::Resource);
    let ok = r#"{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/a"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#;
    assert_eq!(resource(&doc(ok)), None);
    let not_principal = r#"{"Effect": "Deny", "NotPrincipal": {"AWS": "123456789012"}, "Action": "s3:*", "Resource": "*"}"#;
    assert_eq!(resource(&doc(not_principal)), None);
    let missing = r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}"#;
    assert_eq!(
        resource(&doc(missing)).as_deref(),
        Some("Missing required field Principal")
    );
    let no_resource = r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:*"}"#;
    assert_eq!(
        resource(&doc(no_resource)).as_deref(),
        Some("Policy statement must contain resources.")
    );
    let bad =
        r#"{"Effect": "Allow", "Principal": {"AWS": "*foo"}, "Action": "s3:*", "Resource": "*"}"#;
    assert_eq!(
        resource(&doc(bad)).as_deref(),
        Some(r#"Invalid principal in policy: "AWS":"*foo""#)
    );
}

#[test]
fn whitespace_and_latin1_text_are_fine() {
    let text = "\t{\r\n \"Version\" : \"2012-10-17\" ,\n \"Id\": \"caf\u{e9}\", \"Statement\":\n {\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::caf\u{e9}/*\"}\n}\n";
    assert_eq!(identity(text), None);
}
