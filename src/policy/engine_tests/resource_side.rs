//! Resource policies and trust policies (§6.3 to §6.5), and variables.

use serde_json::json;

use super::*;

fn bucket_policy(principal: serde_json::Value, cond: Option<serde_json::Value>) -> CompiledPolicy {
    let mut st = json!({"Sid":"BP","Effect":"Allow","Principal":principal,"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"});
    if let Some(c) = cond {
        st["Condition"] = c;
    }
    pol(
        SourceKind::Resource,
        "bucket-policy",
        json!({"Version":"2012-10-17","Statement":[st]}),
    )
}

#[test]
fn same_account_resource_policy_depends_on_the_named_arn() {
    let nothing = pol(SourceKind::Boundary, "b", allow("iam:*", "*"));
    let sess_pol = pol(SourceKind::Session, "s", allow("iam:*", "*"));
    // User ARN: bypasses identity and boundary.
    let by_user = bucket_policy(json!({"AWS": format!("arn:aws:iam::{ACCT}:user/u")}), None);
    case(user(ACCT, "u"), "s3:GetObject", R)
        .rp(&by_user, ACCT)
        .expect(Decision::Allowed, Layer::Resource);
    case(user(ACCT, "u"), "s3:GetObject", R)
        .boundary(&nothing)
        .rp(&by_user, ACCT)
        .expect(Decision::Allowed, Layer::Resource);
    case(user(ACCT, "v"), "s3:GetObject", R)
        .rp(&by_user, ACCT)
        .expect(Decision::ImplicitDeny, Layer::Identity);
    // Role ARN: bypasses identity, but boundary and session policies cap it.
    let by_role = bucket_policy(json!({"AWS": format!("arn:aws:iam::{ACCT}:role/R")}), None);
    let who = || session(ACCT, "R", "s");
    case(who(), "s3:GetObject", R)
        .rp(&by_role, ACCT)
        .expect(Decision::Allowed, Layer::Resource);
    case(who(), "s3:GetObject", R)
        .boundary(&nothing)
        .rp(&by_role, ACCT)
        .expect(Decision::ImplicitDeny, Layer::Boundary);
    case(who(), "s3:GetObject", R)
        .session(&[&sess_pol])
        .rp(&by_role, ACCT)
        .expect(Decision::ImplicitDeny, Layer::Session);
    // Session ARN: bypasses all.
    let by_session = bucket_policy(
        json!({"AWS": format!("arn:aws:sts::{ACCT}:assumed-role/R/s")}),
        None,
    );
    case(who(), "s3:GetObject", R)
        .boundary(&nothing)
        .session(&[&sess_pol])
        .rp(&by_session, ACCT)
        .expect(Decision::Allowed, Layer::Resource);
    // Account: delegation only, the identity side must allow.
    let by_account = bucket_policy(json!({"AWS": format!("arn:aws:iam::{ACCT}:root")}), None);
    case(user(ACCT, "u"), "s3:GetObject", R)
        .rp(&by_account, ACCT)
        .expect(Decision::ImplicitDeny, Layer::Identity);
    let a = id(allow("s3:GetObject", "*"));
    case(user(ACCT, "u"), "s3:GetObject", R)
        .id(&a)
        .rp(&by_account, ACCT)
        .expect(Decision::Allowed, Layer::Identity);
    // "*" filtered by aws:PrincipalArn behaves as a direct grant.
    let by_cond = bucket_policy(
        json!("*"),
        Some(json!({"ArnEquals":{"aws:PrincipalArn": format!("arn:aws:iam::{ACCT}:role/R")}})),
    );
    case(who(), "s3:GetObject", R)
        .boundary(&nothing)
        .session(&[&sess_pol])
        .rp(&by_cond, ACCT)
        .ctx("aws:PrincipalArn", &format!("arn:aws:iam::{ACCT}:role/R"))
        .expect(Decision::Allowed, Layer::Resource);
    case(user(ACCT, "u"), "s3:GetObject", R)
        .rp(&by_cond, ACCT)
        .ctx("aws:PrincipalArn", &format!("arn:aws:iam::{ACCT}:user/u"))
        .expect(Decision::ImplicitDeny, Layer::Identity);
}

#[test]
fn cross_account_needs_both_sides() {
    let by_user = bucket_policy(json!({"AWS": format!("arn:aws:iam::{OTHER}:user/u")}), None);
    let a = id(allow("s3:GetObject", "*"));
    case(user(OTHER, "u"), "s3:GetObject", R)
        .rp(&by_user, ACCT)
        .expect(Decision::ImplicitDeny, Layer::Identity);
    case(user(OTHER, "u"), "s3:GetObject", R)
        .id(&a)
        .rp(&by_user, ACCT)
        .expect(Decision::Allowed, Layer::Resource);
    let by_account = bucket_policy(json!({"AWS": OTHER}), None);
    case(user(OTHER, "u"), "s3:GetObject", R)
        .id(&a)
        .rp(&by_account, ACCT)
        .expect(Decision::Allowed, Layer::Resource);
    let e = case(user(OTHER, "u"), "s3:GetObject", R)
        .id(&a)
        .rp(&by_user, ACCT)
        .expect(Decision::Allowed, Layer::Resource);
    assert_eq!(e.matched_statements.len(), 2);
    let not_me = bucket_policy(json!({"AWS": ACCT}), None);
    let e = case(user(OTHER, "u"), "s3:GetObject", R)
        .id(&a)
        .rp(&not_me, ACCT)
        .expect(Decision::ImplicitDeny, Layer::Resource);
    assert_eq!(
        e.denial_reason("s3:GetObject").unwrap(),
        "because no resource-based policy allows the s3:GetObject action"
    );
    // Without any resource policy, another account's resource is out of reach.
    let all = id(allow("*", "*"));
    case(
        user(OTHER, "u"),
        "iam:GetRole",
        "arn:aws:iam::111122223333:role/R",
    )
    .id(&all)
    .expect(Decision::ImplicitDeny, Layer::Resource);
}

fn trust(principal: serde_json::Value, cond: Option<serde_json::Value>) -> CompiledPolicy {
    let mut st = json!({"Effect":"Allow","Principal":principal,"Action":"sts:AssumeRole"});
    if let Some(c) = cond {
        st["Condition"] = c;
    }
    pol(
        SourceKind::Trust,
        "arn:aws:iam::111122223333:role/R",
        json!({"Version":"2012-10-17","Statement":[st]}),
    )
}

const ROLE: &str = "arn:aws:iam::111122223333:role/R";

#[test]
fn trust_policy_must_always_allow() {
    let a = id(allow("sts:AssumeRole", "*"));
    let t_user = trust(json!({"AWS": format!("arn:aws:iam::{ACCT}:user/u")}), None);
    // Same account, trust names the user: no identity allow needed.
    case(user(ACCT, "u"), "sts:AssumeRole", ROLE)
        .rp(&t_user, ACCT)
        .expect(Decision::Allowed, Layer::Trust);
    // An identity allow alone is never enough.
    let e = case(user(ACCT, "v"), "sts:AssumeRole", ROLE)
        .id(&a)
        .rp(&t_user, ACCT)
        .expect(Decision::ImplicitDeny, Layer::Trust);
    assert_eq!(
        e.denial_reason("sts:AssumeRole").unwrap(),
        "because no role trust policy allows the sts:AssumeRole action"
    );
    // Trust naming the account: the identity side must allow too, even in the same account.
    let t_acct = trust(json!({"AWS": ACCT}), None);
    case(user(ACCT, "u"), "sts:AssumeRole", ROLE)
        .rp(&t_acct, ACCT)
        .expect(Decision::ImplicitDeny, Layer::Identity);
    case(user(ACCT, "u"), "sts:AssumeRole", ROLE)
        .id(&a)
        .rp(&t_acct, ACCT)
        .expect(Decision::Allowed, Layer::Trust);
    // Cross account: both, even when the trust names the user.
    let t_other = trust(json!({"AWS": format!("arn:aws:iam::{OTHER}:user/u")}), None);
    case(user(OTHER, "u"), "sts:AssumeRole", ROLE)
        .rp(&t_other, ACCT)
        .expect(Decision::ImplicitDeny, Layer::Identity);
    case(user(OTHER, "u"), "sts:AssumeRole", ROLE)
        .id(&a)
        .rp(&t_other, ACCT)
        .expect(Decision::Allowed, Layer::Trust);
    // Explicit denies in the trust policy work as usual.
    let t_deny = pol(
        SourceKind::Trust,
        "t",
        json!({"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"AWS":ACCT},"Action":"sts:AssumeRole"},
        {"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"Null":{"sts:ExternalId":"true"}}}]}),
    );
    case(user(ACCT, "u"), "sts:AssumeRole", ROLE)
        .id(&a)
        .rp(&t_deny, ACCT)
        .expect(Decision::ExplicitDeny, Layer::Trust);
    case(user(ACCT, "u"), "sts:AssumeRole", ROLE)
        .id(&a)
        .rp(&t_deny, ACCT)
        .ctx("sts:ExternalId", "x")
        .expect(Decision::Allowed, Layer::Trust);
    // Services are trusted by name.
    let t_svc = trust(json!({"Service": "ec2.amazonaws.com"}), None);
    let ec2 = Principal {
        arn: "ec2.amazonaws.com".into(),
        account: String::new(),
        unique_id: String::new(),
        kind: PrincipalKind::Service,
    };
    case(ec2, "sts:AssumeRole", ROLE)
        .rp(&t_svc, ACCT)
        .expect(Decision::Allowed, Layer::Trust);
    case(user(ACCT, "u"), "sts:AssumeRole", ROLE)
        .id(&a)
        .rp(&t_svc, ACCT)
        .expect(Decision::ImplicitDeny, Layer::Trust);
}

#[test]
fn trust_principals_pinned_to_unique_ids() {
    let t = trust(json!({"AWS": ["AIDAU"]}), None);
    case(user(ACCT, "u"), "sts:AssumeRole", ROLE)
        .rp(&t, ACCT)
        .expect(Decision::Allowed, Layer::Trust);
    // Re-created with the same name, the user has a new id and is not trusted.
    let mut again = user(ACCT, "u");
    again.unique_id = "AIDANEW".into();
    case(again, "sts:AssumeRole", ROLE)
        .rp(&t, ACCT)
        .expect(Decision::ImplicitDeny, Layer::Trust);
    // A role id trusts the role's sessions (role chaining), capped like the role ARN.
    let t_role = trust(json!({"AWS": "AROAR"}), None);
    case(
        session(ACCT, "R", "s"),
        "sts:AssumeRole",
        "arn:aws:iam::111122223333:role/Next",
    )
    .rp(&t_role, ACCT)
    .expect(Decision::Allowed, Layer::Trust);
}

#[test]
fn policy_variables_in_resources() {
    let p = id(
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}),
    );
    let run = |res: &str, name: Option<&str>| {
        let mut c = case(user(ACCT, "alice"), "s3:GetObject", res).id(&p);
        if let Some(n) = name {
            c = c.ctx("aws:username", n);
        }
        c.run().decision
    };
    assert_eq!(
        run("arn:aws:s3:::home/alice/x", Some("alice")),
        Decision::Allowed
    );
    assert_eq!(
        run("arn:aws:s3:::home/bob/x", Some("alice")),
        Decision::ImplicitDeny
    );
    // Unresolved without default: the entry matches nothing.
    assert_eq!(run("arn:aws:s3:::home//x", None), Decision::ImplicitDeny);
    assert_eq!(
        run("arn:aws:s3:::home/${aws:username}/x", None),
        Decision::ImplicitDeny
    );
    // Substituted values are literal: a user named "*" gets no wildcard.
    assert_eq!(
        run("arn:aws:s3:::home/bob/x", Some("*")),
        Decision::ImplicitDeny
    );
    // 2008 or no Version: the text is literal.
    let old = id(
        json!({"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}),
    );
    let c = case(
        user(ACCT, "a"),
        "s3:GetObject",
        "arn:aws:s3:::home/${aws:username}/x",
    )
    .id(&old)
    .ctx("aws:username", "a");
    assert_eq!(c.run().decision, Decision::Allowed);
    // Defaults and escapes.
    let d = id(
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::t/${aws:PrincipalTag/team, 'shared'}/${*}"}]}),
    );
    assert_eq!(
        case(user(ACCT, "a"), "s3:GetObject", "arn:aws:s3:::t/shared/*")
            .id(&d)
            .run()
            .decision,
        Decision::Allowed
    );
    assert_eq!(
        case(user(ACCT, "a"), "s3:GetObject", "arn:aws:s3:::t/shared/x")
            .id(&d)
            .run()
            .decision,
        Decision::ImplicitDeny
    );
    // NotResource with an unresolved entry excludes nothing.
    let nr = id(
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::home/${aws:username}/*"}]}),
    );
    let all = id(allow("*", "*"));
    assert_eq!(
        case(user(ACCT, "a"), "s3:GetObject", "arn:aws:s3:::home/a/x")
            .id(&all)
            .id(&nr)
            .run()
            .decision,
        Decision::ExplicitDeny
    );
}

#[test]
fn deny_with_negated_if_exists_on_missing_key_still_denies() {
    let all = id(allow("*", "*"));
    let d = id(
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",
        "Condition":{"StringNotEqualsIfExists":{"aws:RequestedRegion":"us-east-1"}}}]}),
    );
    case(user(ACCT, "u"), "ec2:RunInstances", "*")
        .id(&all)
        .id(&d)
        .expect(Decision::ExplicitDeny, Layer::Identity);
    case(user(ACCT, "u"), "ec2:RunInstances", "*")
        .id(&all)
        .id(&d)
        .ctx("aws:RequestedRegion", "us-east-1")
        .expect(Decision::Allowed, Layer::Identity);
}

#[test]
fn for_all_values_allows_untagged_requests() {
    let p = id(
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:TagUser","Resource":"*",
        "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}]}),
    );
    case(user(ACCT, "u"), "iam:TagUser", "*")
        .id(&p)
        .expect(Decision::Allowed, Layer::Identity);
    let guarded = id(
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:TagUser","Resource":"*",
        "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]},"Null":{"aws:TagKeys":"false"}}}]}),
    );
    case(user(ACCT, "u"), "iam:TagUser", "*")
        .id(&guarded)
        .expect(Decision::ImplicitDeny, Layer::Identity);
}

#[test]
fn explanations_name_statements_and_missing_keys() {
    let p = pol(
        SourceKind::Identity,
        "p1",
        json!({"Version":"2012-10-17","Statement":[
        {"Sid":"Zero","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
        {"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
        {"Sid":"Two","Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}),
    );
    let e = case(user(ACCT, "u"), "s3:GetObject", R)
        .id(&p)
        .ctx("aws:SecureTransport", "true")
        .expect(Decision::Allowed, Layer::Identity);
    let got: Vec<_> = e
        .matched_statements
        .iter()
        .map(|m| (m.policy.as_str(), m.sid.as_deref(), m.index))
        .collect();
    assert_eq!(got, vec![("p1", None, 1), ("p1", Some("Two"), 2)]);
    assert_eq!(e.missing_context_keys, vec!["aws:SourceIp".to_string()]);
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["decided_by"], "identity");
    assert_eq!(v["matched_statements"][0]["source"], "identity");
    assert_eq!(v["matched_statements"][0]["effect"], "Allow");
}

#[test]
fn large_sets_use_the_index_and_agree_with_small_ones() {
    let mut statements = Vec::new();
    for i in 0..40 {
        statements.push(json!({"Effect":"Allow","Action":format!("s3:Get{i}"),"Resource":format!("arn:aws:s3:::b{i}/*")}));
    }
    statements
        .push(json!({"Sid":"W","Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::w*"}));
    statements
        .push(json!({"Sid":"D","Effect":"Deny","Action":"*","Resource":"arn:aws:s3:::b7/secret"}));
    let big = id(json!({"Version":"2012-10-17","Statement":statements}));
    assert!(big.statement_count() > 12);
    let run = |action: &str, res: &str| case(user(ACCT, "u"), action, res).id(&big).run().decision;
    assert_eq!(run("s3:get5", "arn:aws:s3:::b5/x"), Decision::Allowed);
    assert_eq!(run("s3:Get5", "arn:aws:s3:::b6/x"), Decision::ImplicitDeny);
    assert_eq!(
        run("s3:GetAnything", "arn:aws:s3:::wide/x"),
        Decision::Allowed
    );
    assert_eq!(
        run("s3:Get7", "arn:aws:s3:::b7/secret"),
        Decision::ExplicitDeny
    );
    let merged = CompiledPolicy::merge(
        PolicySource::new(SourceKind::Identity, "set"),
        &[&big, &id(allow("ec2:*", "*"))],
    );
    let e = case(user(ACCT, "u"), "ec2:RunInstances", "*")
        .id(&merged)
        .expect(Decision::Allowed, Layer::Identity);
    assert_eq!(e.matched_statements[0].policy, "id");
}
