//! The table: for every code, a document that fires it and one that does
//! not. `every_check_has_a_case` keeps the table complete.

use super::{codes, run};
use crate::policy::lint::CHECKS;
use crate::policy::PolicyType::{self, Identity as I, Resource as R, Trust as T};

struct Case {
    code: &'static str,
    policy_type: PolicyType,
    fires: &'static str,
    quiet: &'static str,
}

const fn case(
    code: &'static str,
    policy_type: PolicyType,
    fires: &'static str,
    quiet: &'static str,
) -> Case {
    Case {
        code,
        policy_type,
        fires,
        quiet,
    }
}

const CASES: &[Case] = &[
    case(
        "MALFORMED_POLICY_DOCUMENT",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject"}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
    ),
    case(
        "MISSING_VERSION",
        I,
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    ),
    case(
        "UNSUPPORTED_VERSION",
        I,
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    ),
    case(
        "VARIABLE_UNSUPPORTED_IN_VERSION",
        I,
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}"#,
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    ),
    case(
        "VARIABLE_UNSUPPORTED_IN_ELEMENT",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/${aws:username}":"x"}}}"#,
        r#"{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}"#,
    ),
    case(
        "INVALID_VARIABLE_FOR_OPERATOR",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Null":{"aws:username":"${aws:userid}"}}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:username":"${aws:userid}"}}}"#,
    ),
    case(
        "VARIABLE_MISSING_BRACE",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username/*"}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}"#,
    ),
    case(
        "VARIABLE_EMPTY",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${}/*"}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${*}/*"}"#,
    ),
    case(
        "VARIABLE_UNSUPPORTED_SPACE",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${ aws:username}/*"}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username, 'x'}/*"}"#,
    ),
    case(
        "VARIABLE_MISSING_QUOTE",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username, guest}/*"}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username, 'guest'}/*"}"#,
    ),
    case(
        "VARIABLE_WITH_MULTIVALUED_KEY",
        I,
        r#"{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":"${aws:TagKeys}/*"}}}"#,
        r#"{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":"${aws:username}/*"}}}"#,
    ),
    case(
        "EMPTY_SID",
        I,
        r#"{"Sid":"","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
        r#"{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
    ),
    case(
        "EMPTY_ARRAY_PRINCIPAL",
        T,
        r#"{"Effect":"Allow","Principal":{"AWS":[],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
        r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
    ),
    case(
        "WILDCARD_IN_SERVICE_NAME",
        I,
        r#"{"Effect":"Allow","Action":"s*:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
    ),
    case(
        "UNKNOWN_ACTION",
        I,
        r#"{"Effect":"Allow","Action":"iam:GetUsr","Resource":"*"}"#,
        r#"{"Effect":"Allow","Action":["iam:GetUser","s3:Frobnicate","iam:List*"],"Resource":"*"}"#,
    ),
    case(
        "ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES",
        I,
        r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#,
        r#"{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/*"}"#,
    ),
    case(
        "PASS_ROLE_WITH_STAR_IN_RESOURCE",
        I,
        r#"{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}"#,
        r#"{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}"#,
    ),
    case(
        "PRIVILEGE_ESCALATION_ON_STAR",
        I,
        r#"{"Effect":"Allow","Action":["iam:GetUser","iam:CreatePolicyVersion"],"Resource":"*"}"#,
        r#"{"Effect":"Allow","Action":"iam:CreatePolicyVersion","Resource":"arn:aws:iam::123456789012:policy/app"}"#,
    ),
    case(
        "ASSUME_ROLE_WITH_STAR_IN_RESOURCE",
        I,
        r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#,
        r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/app"}"#,
    ),
    case(
        "ALLOW_WITH_NOT_ACTION",
        I,
        r#"{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}"#,
        r#"{"Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}"#,
    ),
    case(
        "ALLOW_WITH_NOT_RESOURCE",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}"#,
        r#"{"Effect":"Deny","Action":"s3:GetObject","NotResource":"arn:aws:s3:::public/*"}"#,
    ),
    case(
        "ALLOW_WITH_NOT_PRINCIPAL",
        R,
        r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
        r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
    ),
    case(
        "WILDCARD_GRANTS_PERMISSIONS_MANAGEMENT",
        I,
        r#"{"Effect":"Allow","Action":"iam:Attach*","Resource":"*"}"#,
        r#"{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}"#,
    ),
    case(
        "CREATE_SLR_WITH_STAR_IN_RESOURCE",
        I,
        r#"{"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"*"}"#,
        r#"{"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"*","Condition":{"StringEquals":{"iam:AWSServiceName":"ecs.amazonaws.com"}}}"#,
    ),
    case(
        "DENY_NOT_ACTION_WITHOUT_RESOURCE_LIMIT",
        I,
        r#"{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}"#,
        r#"{"Effect":"Deny","NotAction":"s3:*","Resource":"arn:aws:s3:::b/*"}"#,
    ),
    case(
        "TRUST_POLICY_PUBLIC_PRINCIPAL",
        T,
        r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}"#,
    ),
    case(
        "TRUST_POLICY_ACCOUNT_WITHOUT_CONDITION",
        T,
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}"#,
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci"},"Action":"sts:AssumeRole"}"#,
    ),
    case(
        "CROSS_ACCOUNT_TRUST_WITHOUT_EXTERNAL_ID",
        T,
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/vendor"},"Action":"sts:AssumeRole"}"#,
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/vendor"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x7Yq"}}}"#,
    ),
    case(
        "MISSING_OIDC_CONDITION_KEY",
        T,
        r#"{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity"}"#,
        r#"{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"accounts.google.com:aud":"app-1"}}}"#,
    ),
    case(
        "MISSING_GITHUB_REPO_CONDITION_KEY",
        T,
        r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}"#,
        r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:org/app:*"}}}"#,
    ),
    case(
        "MISSING_OIDC_AUDIENCE_CONDITION",
        T,
        r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/gitlab.example.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"gitlab.example.com:sub":"project_path:g/p:ref_type:branch:ref:main"}}}"#,
        r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/gitlab.example.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"gitlab.example.com:aud":"https://latchkey.example"}}}"#,
    ),
    case(
        "OIDC_SUBJECT_UNRESTRICTED",
        T,
        r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.example.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.eks.example.com/id/ABC:aud":"sts.amazonaws.com"},"StringLike":{"oidc.eks.example.com/id/ABC:sub":"*"}}}"#,
        r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.example.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.eks.example.com/id/ABC:sub":"system:serviceaccount:ci:deployer"}}}"#,
    ),
    case(
        "MISMATCHED_ACTION_FOR_PRINCIPAL",
        T,
        r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/okta"},"Action":"sts:AssumeRoleWithWebIdentity"}"#,
        r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/okta"},"Action":"sts:AssumeRoleWithSAML"}"#,
    ),
    case(
        "TRUST_POLICY_NON_STS_ACTION",
        T,
        r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","s3:GetObject"]}"#,
        r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}"#,
    ),
    case(
        "RESOURCE_POLICY_PUBLIC_ACCESS",
        R,
        r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}"#,
    ),
    case(
        "SERVICE_PRINCIPAL_WITHOUT_SOURCE_CONDITION",
        R,
        r#"{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:123456789012:q"}"#,
        r#"{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:123456789012:q","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:123456789012:t"}}}"#,
    ),
    case(
        "INVALID_PRINCIPAL_REFERENCE",
        T,
        r#"{"Effect":"Allow","Principal":{"AWS":"AROAJ2UCCR6DPCEXAMPLE"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}"#,
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/app"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}"#,
    ),
    case(
        "REDUNDANT_PRINCIPAL",
        T,
        r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:role/app","arn:aws:sts::123456789012:assumed-role/app/s1"]},"Action":"sts:AssumeRole"}"#,
        r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:role/app","arn:aws:sts::123456789012:assumed-role/web/s1"]},"Action":"sts:AssumeRole"}"#,
    ),
    case(
        "FOR_ALL_VALUES_WITH_SINGLE_VALUED_KEY",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:PrincipalTag/dept":"eng"}}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/dept":"eng"}}}"#,
    ),
    case(
        "FOR_ALL_VALUES_WITHOUT_NULL_CHECK",
        I,
        r#"{"Effect":"Allow","Action":"iam:TagUser","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}"#,
        r#"{"Effect":"Allow","Action":"iam:TagUser","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]},"Null":{"aws:TagKeys":"false"}}}"#,
    ),
    case(
        "MISSING_QUALIFIER",
        I,
        r#"{"Effect":"Allow","Action":"iam:TagUser","Resource":"*","Condition":{"StringEquals":{"aws:TagKeys":"team"}}}"#,
        r#"{"Effect":"Allow","Action":"iam:TagUser","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}}"#,
    ),
    case(
        "NULL_WITH_IF_EXISTS",
        I,
        r#"{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NullIfExists":{"aws:SourceVpce":"true"}}}"#,
        r#"{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Null":{"aws:SourceVpce":"true"}}}"#,
    ),
    case(
        "NULL_WITH_QUALIFIER",
        I,
        r#"{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"ForAllValues:Null":{"aws:TagKeys":"true"}}}"#,
        r#"{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Null":{"aws:TagKeys":"true"}}}"#,
    ),
    case(
        "WILDCARD_WITHOUT_LIKE_OPERATOR",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/env":"dev-*"}}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"aws:PrincipalTag/env":"dev-*"},"StringEquals":{"aws:PrincipalTag/x":"a${*}"}}}"#,
    ),
    case(
        "TYPE_MISMATCH_BOOLEAN",
        I,
        r#"{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"no"}}}"#,
        r#"{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}"#,
    ),
    case(
        "TYPE_MISMATCH_ARN",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"role/admin"}}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/admin"}}}"#,
    ),
    case(
        "TYPE_MISMATCH_BINARY",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"BinaryEquals":{"x:blob":"not base64!"}}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"BinaryEquals":{"x:blob":"QmluYXJ5"}}}"#,
    ),
    case(
        "OPERATOR_KEY_TYPE_MISMATCH",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceIp":"203.0.113.7"}}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.7"},"NumericLessThan":{"aws:EpochTime":"1900000000"}}}"#,
    ),
    case(
        "PRIVATE_IP_ADDRESS",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}"#,
    ),
    case(
        "IMPROVE_IP_RANGE",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.9/24"}}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","198.51.100.7"]}}}"#,
    ),
    case(
        "DEPRECATED_GLOBAL_CONDITION_KEY",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ArnEquals":{"aws:ARN":"arn:aws:iam::123456789012:user/bob"}}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:user/bob"}}}"#,
    ),
    case(
        "UNKNOWN_CONDITION_KEY",
        I,
        r#"{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToServices":"ec2.amazonaws.com"}}}"#,
        r#"{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com","s3:anything":"x"}}}"#,
    ),
    case(
        "REDUNDANT_CONDITION_VALUE_NUM",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":["3600","7200"]}}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"NumericEquals":{"aws:MultiFactorAuthAge":["3600","7200"]}}}"#,
    ),
    case(
        "MISSING_PAIRED_CONDITION_KEYS",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:VpcSourceIp":"10.1.0.0/16"}}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:VpcSourceIp":"10.1.0.0/16"},"StringEquals":{"aws:SourceVpc":"vpc-1a2b"}}}"#,
    ),
    case(
        "CONDITION_KEY_NEVER_SUPPLIED",
        I,
        r#"{"Effect":"Deny","Action":"iam:CreateUser","Resource":"*","Condition":{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/AdministratorAccess"}}}"#,
        r#"{"Effect":"Deny","Action":"iam:AttachUserPolicy","Resource":"*","Condition":{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/AdministratorAccess"}}}"#,
    ),
    case(
        "SPOOFABLE_CONDITION_KEY",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"aws:Referer":"https://example.com/*"}}}"#,
        r#"{"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"StringNotLike":{"aws:Referer":"https://example.com/*"}}}"#,
    ),
    case(
        "EMPTY_OBJECT_CONDITION",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}"#,
    ),
    case(
        "EMPTY_ARRAY_CONDITION",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:username":[]}}}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:username":["ann"]}}}"#,
    ),
    case(
        "EMPTY_ARRAY_CONDITION_QUALIFIER",
        I,
        r#"{"Effect":"Allow","Action":"iam:TagUser","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":[]}}}"#,
        r#"{"Effect":"Allow","Action":"iam:TagUser","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["team"]}}}"#,
    ),
    case(
        "REDUNDANT_ACTION",
        I,
        r#"{"Effect":"Allow","Action":["iam:Get*","iam:GetUser"],"Resource":"arn:aws:iam::123456789012:user/x"}"#,
        r#"{"Effect":"Allow","Action":["iam:GetUser","iam:ListUsers"],"Resource":"arn:aws:iam::123456789012:user/x"}"#,
    ),
    case(
        "REDUNDANT_RESOURCE",
        I,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/*","arn:aws:s3:::b/a"]}"#,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/a","arn:aws:s3:::c/a"]}"#,
    ),
    case(
        "REDUNDANT_STATEMENT",
        I,
        r#"{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a"}"#,
        r#"{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::c/a"}"#,
    ),
];

#[test]
fn every_check_fires_and_stays_quiet() {
    let mut failures = Vec::new();
    for c in CASES {
        let fired = run(c.fires, c.policy_type);
        if !codes(&fired).contains(&c.code) {
            failures.push(format!("{} did not fire: {fired:#?}", c.code));
        }
        let quiet = run(c.quiet, c.policy_type);
        if codes(&quiet).contains(&c.code) {
            failures.push(format!(
                "{} fired on the quiet document: {quiet:#?}",
                c.code
            ));
        }
        for f in &fired {
            let listed = CHECKS.iter().find(|c| c.code == f.code);
            assert_eq!(listed.map(|c| c.severity), Some(f.severity), "{}", f.code);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_check_has_a_case() {
    let mut seen = std::collections::HashSet::new();
    for check in CHECKS {
        let code = check.code;
        assert!(seen.insert(code), "{code} listed twice in CHECKS");
        assert!(
            CASES.iter().any(|c| c.code == code),
            "{code} has no test case"
        );
    }
    assert!(CHECKS.len() >= 30);
}
