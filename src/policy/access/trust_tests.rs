//! Trust analysis over hand-built principals: same-account, account-wide,
//! cross-account, conditional, public and federated trust.

use super::*;
use crate::policy::access::DocumentKind;

const ROLE: &str = "arn:aws:iam::111111111111:role/target";

fn doc(json: serde_json::Value) -> PolicyDocument {
    PolicyDocument::from_value(&json).unwrap()
}

fn user(account: &str, name: &str, identity: Vec<serde_json::Value>) -> Candidate {
    let arn = format!("arn:aws:iam::{account}:user/{name}");
    let mut context = RequestContext::new();
    context.insert("aws:PrincipalArn", arn.clone());
    Candidate {
        name: arn.clone(),
        principal: Principal {
            arn,
            account: account.into(),
            unique_id: format!("AIDA{}", name.to_uppercase()),
            kind: PrincipalKind::User,
        },
        principal_type: PrincipalType::User,
        identity: identity
            .into_iter()
            .enumerate()
            .map(|(i, d)| NamedDocument {
                source: DocumentSource {
                    policy: format!("p{i}"),
                    kind: DocumentKind::Inline,
                    attached_to: Some(format!("user/{name}")),
                },
                document: doc(d),
            })
            .collect(),
        boundary: None,
        context,
    }
}

fn allow_assume() -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Hop", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE}]})
}

fn deny_assume() -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
        {"Effect": "Deny", "Action": "sts:*", "Resource": "*"}]})
}

fn analyze(trust: serde_json::Value, candidates: &[Candidate]) -> Vec<TrustedPrincipal> {
    let trust = doc(trust);
    analyze_trust(
        &TrustQuestion {
            role_arn: ROLE,
            role_account: "111111111111",
            trust: &trust,
        },
        candidates,
    )
    .unwrap()
}

fn names(found: &[TrustedPrincipal]) -> Vec<&str> {
    found.iter().map(|p| p.principal.as_str()).collect()
}

#[test]
fn same_account_by_name_needs_no_identity_policy() {
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:user/alice"}, "Action": "sts:AssumeRole"}]});
    let found = analyze(
        trust,
        &[
            user("111111111111", "alice", vec![]),
            user("111111111111", "bob", vec![allow_assume()]),
        ],
    );
    assert_eq!(names(&found), vec!["arn:aws:iam::111111111111:user/alice"]);
    assert!(!found[0].external && !found[0].conditional);
    assert!(found[0].reason.contains("by name"), "{}", found[0].reason);
}

#[test]
fn account_trust_needs_the_identity_allow_and_a_deny_excludes() {
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "Acct", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"}]});
    let found = analyze(
        trust,
        &[
            user("111111111111", "alice", vec![allow_assume()]),
            user("111111111111", "bob", vec![]),
            user("111111111111", "carol", vec![deny_assume()]),
        ],
    );
    assert_eq!(
        names(&found),
        vec!["arn:aws:iam::111111111111:user/alice", "111111111111"]
    );
    let alice = &found[0];
    assert!(
        alice.reason.contains("trusts its whole account"),
        "{}",
        alice.reason
    );
    assert!(
        alice
            .reason
            .contains("inline policy p0 of user/alice, statement 0 \"Hop\""),
        "{}",
        alice.reason
    );
    assert_eq!(alice.statements.len(), 2);
    assert_eq!(found[1].principal_type, PrincipalType::Account);
    assert!(!found[1].external);
}

#[test]
fn cross_account_principals_are_external_and_need_their_own_allow() {
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": ["222222222222", "arn:aws:iam::333333333333:user/dave"]}, "Action": "sts:AssumeRole"}]});
    let found = analyze(
        trust,
        &[
            user("222222222222", "erin", vec![allow_assume()]),
            user("222222222222", "frank", vec![]),
            user("333333333333", "dave", vec![]),
        ],
    );
    assert_eq!(
        names(&found),
        vec!["arn:aws:iam::222222222222:user/erin", "222222222222"]
    );
    assert!(found.iter().all(|p| p.external));
    assert!(found[0].reason.contains("another account"));
}

#[test]
fn conditions_on_request_keys_make_a_grant_conditional() {
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "222222222222", "Service": "compute.platform.internal"},
         "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x-1"}}},
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"Null": {"sts:ExternalId": "true"}}}]});
    let found = analyze(trust, &[user("222222222222", "erin", vec![allow_assume()])]);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found.iter().all(|p| p.conditional));
    assert_eq!(found[0].condition_keys, vec!["sts:ExternalId"]);
    let service = found
        .iter()
        .find(|p| p.principal_type == PrincipalType::Service)
        .unwrap();
    assert!(!service.external);
}

#[test]
fn public_and_federated_are_external() {
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"Federated": "accounts.example.com"},
         "Action": "sts:AssumeRoleWithWebIdentity"}]});
    let found = analyze(trust, &[]);
    let kinds: Vec<PrincipalType> = found.iter().map(|p| p.principal_type).collect();
    assert_eq!(kinds, vec![PrincipalType::Public, PrincipalType::Federated]);
    assert!(found.iter().all(|p| p.external && !p.conditional));
    assert_eq!(
        named_accounts(&doc(
            serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["123456789012", "arn:aws:iam::210987654321:role/r"]},
             "Action": "sts:AssumeRole"}]})
        )),
        NamedAccounts {
            everyone: false,
            accounts: vec!["123456789012".to_string(), "210987654321".to_string()],
            unique_ids: Vec::new(),
        }
    );
}

#[test]
fn an_oidc_provider_is_external_with_the_claims_it_requires() {
    let provider = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";
    let found = analyze(
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": provider},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                           "StringLike": {"token.actions.githubusercontent.com:sub": "repo:o/r:*"}}}]}),
        &[],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    let p = &found[0];
    assert_eq!(p.principal_type, PrincipalType::Federated);
    assert_eq!(p.principal, provider);
    assert!(p.external && p.conditional);
    assert!(
        p.reason.contains("must carry the claims: aud, sub"),
        "{}",
        p.reason
    );
    let open = analyze(
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": provider},
             "Action": "sts:AssumeRoleWithWebIdentity"}]}),
        &[],
    );
    assert!(
        open[0].reason.contains("no claim is required"),
        "{}",
        open[0].reason
    );
}
