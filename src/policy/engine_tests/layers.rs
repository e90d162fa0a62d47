//! Identity, boundary and session layers; explanations; the index.

use serde_json::json;

use super::*;

#[test]
fn explicit_deny_wins_everywhere() {
    let a = id(allow("s3:*", "*"));
    let d = id(deny("s3:GetObject", R));
    let e = case(user(ACCT, "u"), "s3:GetObject", R)
        .id(&a)
        .id(&d)
        .expect(Decision::ExplicitDeny, Layer::Identity);
    assert_eq!(
        e.denial_reason("s3:GetObject").unwrap(),
        "with an explicit deny in an identity-based policy"
    );
    assert_eq!(
        e.matched_statements.len(),
        2,
        "explanations list the Allow too"
    );
    let b = pol(SourceKind::Boundary, "b", deny("*", "*"));
    case(user(ACCT, "u"), "s3:GetObject", R)
        .id(&a)
        .boundary(&b)
        .expect(Decision::ExplicitDeny, Layer::Boundary);
    let s = pol(SourceKind::Session, "s", deny("*", "*"));
    case(session(ACCT, "R", "s"), "s3:GetObject", R)
        .id(&a)
        .session(&[&s])
        .expect(Decision::ExplicitDeny, Layer::Session);
    let rp = pol(
        SourceKind::Resource,
        "bp",
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}),
    );
    case(user(ACCT, "u"), "s3:GetObject", R)
        .id(&a)
        .rp(&rp, ACCT)
        .expect(Decision::ExplicitDeny, Layer::Resource);
    // Even root is stopped by an explicit deny.
    case(root(ACCT), "s3:GetObject", R)
        .rp(&rp, ACCT)
        .expect(Decision::ExplicitDeny, Layer::Resource);
}

#[test]
fn implicit_deny_and_reason() {
    let a = id(allow("ec2:Run*", "*"));
    let e = case(user(ACCT, "u"), "ec2:DescribeInstances", "*")
        .id(&a)
        .expect(Decision::ImplicitDeny, Layer::Identity);
    assert_eq!(
        e.denial_reason("ec2:DescribeInstances").unwrap(),
        "because no identity-based policy allows the ec2:DescribeInstances action"
    );
    assert_eq!(
        e.denial_message("arn:aws:iam::1:user/u", "ec2:DescribeInstances", "*").unwrap(),
        "User: arn:aws:iam::1:user/u is not authorized to perform: ec2:DescribeInstances on resource: * because no identity-based policy allows the ec2:DescribeInstances action"
    );
    assert!(case(user(ACCT, "u"), "ec2:RunInstances", "*")
        .id(&a)
        .run()
        .denial_reason("x")
        .is_none());
}

#[test]
fn actions_ignore_case_resources_do_not() {
    let a = id(allow(
        "IAM:listAccessKeys",
        "arn:aws:iam::111122223333:user/Bob",
    ));
    case(
        user(ACCT, "u"),
        "iam:ListAccessKeys",
        "arn:aws:iam::111122223333:user/Bob",
    )
    .id(&a)
    .expect(Decision::Allowed, Layer::Identity);
    case(
        user(ACCT, "u"),
        "iam:ListAccessKeys",
        "arn:aws:iam::111122223333:user/bob",
    )
    .id(&a)
    .expect(Decision::ImplicitDeny, Layer::Identity);
}

#[test]
fn not_action_and_not_resource() {
    let a = id(
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}),
    );
    case(user(ACCT, "u"), "s3:GetObject", R)
        .id(&a)
        .expect(Decision::Allowed, Layer::Identity);
    case(user(ACCT, "u"), "iam:GetUser", "*")
        .id(&a)
        .expect(Decision::ImplicitDeny, Layer::Identity);
    let all = id(allow("*", "*"));
    let d = id(
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::bucket/*"}]}),
    );
    case(user(ACCT, "u"), "s3:GetObject", R)
        .id(&all)
        .id(&d)
        .expect(Decision::Allowed, Layer::Identity);
    case(user(ACCT, "u"), "s3:GetObject", "arn:aws:s3:::other/k")
        .id(&all)
        .id(&d)
        .expect(Decision::ExplicitDeny, Layer::Identity);
}

#[test]
fn root_has_implicit_allow_in_its_own_account_only() {
    let role = "arn:aws:iam::111122223333:role/R";
    case(
        root(ACCT),
        "iam:CreateUser",
        "arn:aws:iam::111122223333:user/x",
    )
    .expect(Decision::Allowed, Layer::Root);
    case(
        root(OTHER),
        "iam:CreateUser",
        "arn:aws:iam::111122223333:user/x",
    )
    .expect(Decision::ImplicitDeny, Layer::Identity);
    // Root credentials can never assume a role (§12 rule 4).
    let trust = pol(
        SourceKind::Trust,
        "trust",
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":ACCT},"Action":"sts:AssumeRole"}]}),
    );
    let e = case(root(ACCT), "sts:AssumeRole", role)
        .rp(&trust, ACCT)
        .expect(Decision::ImplicitDeny, Layer::Root);
    assert!(e.denial_reason("sts:AssumeRole").unwrap().contains("root"));
}

#[test]
fn boundary_caps_and_never_grants() {
    let a = id(allow("s3:*", "*"));
    let b = pol(SourceKind::Boundary, "b", allow("s3:Get*", "*"));
    case(user(ACCT, "u"), "s3:GetObject", R)
        .id(&a)
        .boundary(&b)
        .expect(Decision::Allowed, Layer::Identity);
    let e = case(user(ACCT, "u"), "s3:PutObject", R)
        .id(&a)
        .boundary(&b)
        .expect(Decision::ImplicitDeny, Layer::Boundary);
    assert_eq!(
        e.denial_reason("s3:PutObject").unwrap(),
        "because no permissions boundary allows the s3:PutObject action"
    );
    case(user(ACCT, "u"), "s3:GetObject", R)
        .boundary(&b)
        .expect(Decision::ImplicitDeny, Layer::Identity);
}

#[test]
fn session_policies_cap_sessions() {
    let a = id(allow("s3:*", "*"));
    let s = pol(SourceKind::Session, "inline", allow("s3:GetObject", "*"));
    let who = || session(ACCT, "R", "s");
    case(who(), "s3:GetObject", R)
        .id(&a)
        .session(&[&s])
        .expect(Decision::Allowed, Layer::Identity);
    case(who(), "s3:PutObject", R)
        .id(&a)
        .session(&[&s])
        .expect(Decision::ImplicitDeny, Layer::Session);
    case(who(), "s3:PutObject", R)
        .id(&a)
        .expect(Decision::Allowed, Layer::Identity);
    // A federated-user session without a session policy has no permissions.
    let fed = Principal {
        arn: format!("arn:aws:sts::{ACCT}:federated-user/f"),
        account: ACCT.into(),
        unique_id: format!("{ACCT}:f"),
        kind: PrincipalKind::FederatedUser {
            user_arn: format!("arn:aws:iam::{ACCT}:user/u"),
        },
    };
    case(fed.clone(), "s3:GetObject", R)
        .id(&a)
        .expect(Decision::ImplicitDeny, Layer::Session);
    case(fed, "s3:GetObject", R)
        .id(&a)
        .session(&[&s])
        .expect(Decision::Allowed, Layer::Identity);
}
