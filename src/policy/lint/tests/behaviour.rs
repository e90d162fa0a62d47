//! What surrounds the checks: validation first, the Version exception,
//! locations, severities, options and registered services.

use super::{codes, document, run, run_with};
use crate::policy::lint::{
    lint, AccessLevel, ActionDefinition, Catalog, ServiceDefinition, Severity,
};
use crate::policy::PolicyType;

#[test]
fn a_refused_document_gives_one_error_with_the_validator_message() {
    let findings = run(
        r#"{"Effect":"Allow","Action":"s3:GetObject"}"#,
        PolicyType::Identity,
    );
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f.code, "MALFORMED_POLICY_DOCUMENT");
    assert_eq!(f.severity, Severity::Error);
    assert!(f
        .message
        .starts_with("Policy statement must contain resources."));
    assert_eq!(f.location.statement_index, None);
    assert_eq!(
        codes(&lint("not json", PolicyType::Identity, &Catalog::builtin())),
        ["MALFORMED_POLICY_DOCUMENT"]
    );
}

#[test]
fn a_missing_version_is_an_error_and_linting_goes_on() {
    let findings = run(
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
        PolicyType::Identity,
    );
    assert_eq!(
        codes(&findings),
        ["MISSING_VERSION", "ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES"]
    );
    assert_eq!(findings[0].location.path, "Version");
    // A later validation problem still stops it, with the version finding kept.
    let findings = run(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject"}}"#,
        PolicyType::Identity,
    );
    assert_eq!(
        codes(&findings),
        ["UNSUPPORTED_VERSION", "MALFORMED_POLICY_DOCUMENT"]
    );
}

#[test]
fn paths_follow_the_json_shape() {
    let findings = run(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}}"#,
        PolicyType::Identity,
    );
    let pass = findings
        .iter()
        .find(|f| f.code == "PASS_ROLE_WITH_STAR_IN_RESOURCE")
        .unwrap();
    assert_eq!(pass.location.path, "Statement.Action");
    assert_eq!(pass.location.statement_index, Some(0));

    let findings = run(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/*"},
           {"Effect":"Allow","Action":["s3:GetObject","iam:PassRole"],"Resource":"*",
            "Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","10.0.0.0/8"]}}}"#,
        PolicyType::Identity,
    );
    let by_code = |code| findings.iter().find(|f| f.code == code).unwrap();
    assert_eq!(
        by_code("PASS_ROLE_WITH_STAR_IN_RESOURCE").location.path,
        "Statement[1].Action[1]"
    );
    assert_eq!(
        by_code("PRIVATE_IP_ADDRESS").location.path,
        "Statement[1].Condition.IpAddress.aws:SourceIp[1]"
    );
    assert!(findings
        .windows(2)
        .all(|w| w[0].location.statement_index <= w[1].location.statement_index));
}

#[test]
fn severities_order_parse_and_serialize() {
    assert!(Severity::Error > Severity::SecurityWarning);
    assert!(Severity::SecurityWarning > Severity::Warning);
    assert!(Severity::Warning > Severity::Suggestion);
    assert_eq!(
        "security_warning".parse::<Severity>(),
        Ok(Severity::SecurityWarning)
    );
    assert_eq!("SUGGESTION".parse::<Severity>(), Ok(Severity::Suggestion));
    assert!("fatal".parse::<Severity>().is_err());
    let findings = run(
        r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#,
        PolicyType::Identity,
    );
    let json = serde_json::to_value(&findings[0]).unwrap();
    assert_eq!(json["severity"], "SECURITY_WARNING");
    assert_eq!(json["code"], "ASSUME_ROLE_WITH_STAR_IN_RESOURCE");
    assert_eq!(json["location"]["statement_index"], 0);
    assert_eq!(json["location"]["path"], "Statement[0].Action");
}

#[test]
fn the_owner_account_decides_what_is_cross_account() {
    let trust = r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci"},"Action":"sts:AssumeRole"}"#;
    let same = run_with(trust, PolicyType::Trust, "111122223333");
    assert!(!codes(&same).contains(&"CROSS_ACCOUNT_TRUST_WITHOUT_EXTERNAL_ID"));
    let other = run_with(trust, PolicyType::Trust, "999988887777");
    let f = other
        .iter()
        .find(|f| f.code == "CROSS_ACCOUNT_TRUST_WITHOUT_EXTERNAL_ID")
        .unwrap();
    assert!(f.message.contains("another account"), "{}", f.message);
    let org = r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}"#;
    assert!(run_with(org, PolicyType::Trust, "999988887777").is_empty());
}

#[test]
fn boundaries_and_session_policies_do_not_grant() {
    for policy_type in [PolicyType::Boundary, PolicyType::Session] {
        let findings = run(
            r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#,
            policy_type,
        );
        assert!(findings.is_empty(), "{policy_type:?}: {findings:?}");
    }
}

#[test]
fn registered_services_are_judged_and_unknown_prefixes_are_not() {
    let mut catalog = Catalog::builtin();
    let action = |name: &str, access_level| ActionDefinition {
        name: name.into(),
        access_level,
        resource_types: vec![],
        condition_keys: vec![],
    };
    catalog
        .register(ServiceDefinition {
            prefix: "files".into(),
            actions: vec![
                action("GetFile", AccessLevel::Read),
                action("PutFile", AccessLevel::Write),
                action("PutFilePolicy", AccessLevel::PermissionsManagement),
            ],
            condition_keys: vec![],
        })
        .unwrap();
    let text = document(
        r#"{"Effect":"Allow","Action":["files:GetFlie","files:Put*","other:Anything"],"Resource":"*"}"#,
    );
    let findings = lint(&text, PolicyType::Identity, &catalog);
    let unknown: Vec<_> = findings
        .iter()
        .filter(|f| f.code == "UNKNOWN_ACTION")
        .collect();
    assert_eq!(unknown.len(), 1, "{findings:?}");
    assert!(unknown[0].message.contains("Did you mean files:GetFile?"));
    let levels = findings
        .iter()
        .find(|f| f.code == "WILDCARD_GRANTS_PERMISSIONS_MANAGEMENT")
        .unwrap();
    assert!(
        levels.message.contains("1 Permissions management, 1 Write"),
        "{}",
        levels.message
    );
    assert_eq!(levels.location.path, "Statement[0].Action[1]");
}

#[test]
fn a_clean_policy_has_no_findings() {
    for (text, policy_type) in [
        (
            r#"{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}"#,
            PolicyType::Identity,
        ),
        (
            r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
            PolicyType::Trust,
        ),
        (
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"k"}}}"#,
            PolicyType::Trust,
        ),
    ] {
        let findings = run(text, policy_type);
        assert!(findings.is_empty(), "{text}: {findings:#?}");
    }
}
