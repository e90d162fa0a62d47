//! Evaluation rules (§6) and the §12 pitfalls the engine owns. Every case
//! runs both paths (`evaluate` and `is_allowed`) and checks they agree.

use serde_json::json;

use super::evaluate::decide;
use super::*;

const ACCT: &str = "111122223333";
const OTHER: &str = "999999999999";

fn pol(kind: SourceKind, name: &str, doc: serde_json::Value) -> CompiledPolicy {
    let doc = PolicyDocument::from_value(&doc).unwrap();
    CompiledPolicy::compile(&doc, PolicySource::new(kind, name)).unwrap()
}

fn allow(action: &str, resource: &str) -> serde_json::Value {
    json!({"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":action,"Resource":resource}]})
}

fn deny(action: &str, resource: &str) -> serde_json::Value {
    json!({"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Action":action,"Resource":resource}]})
}

fn id(doc: serde_json::Value) -> CompiledPolicy {
    pol(SourceKind::Identity, "id", doc)
}

fn user(acct: &str, name: &str) -> Principal {
    Principal {
        arn: format!("arn:aws:iam::{acct}:user/{name}"),
        account: acct.into(),
        unique_id: format!("AIDA{}", name.to_uppercase()),
        kind: PrincipalKind::User,
    }
}

fn session(acct: &str, role: &str, name: &str) -> Principal {
    Principal {
        arn: format!("arn:aws:sts::{acct}:assumed-role/{role}/{name}"),
        account: acct.into(),
        unique_id: format!("AROA{}:{name}", role.to_uppercase()),
        kind: PrincipalKind::AssumedRole {
            role_arn: format!("arn:aws:iam::{acct}:role/{role}"),
            role_unique_id: format!("AROA{}", role.to_uppercase()),
        },
    }
}

fn root(acct: &str) -> Principal {
    Principal {
        arn: format!("arn:aws:iam::{acct}:root"),
        account: acct.into(),
        unique_id: acct.into(),
        kind: PrincipalKind::Root,
    }
}

struct Case<'a> {
    who: Principal,
    action: &'a str,
    resource: &'a str,
    ctx: RequestContext,
    identity: Vec<&'a CompiledPolicy>,
    boundary: Option<&'a CompiledPolicy>,
    session: Option<Vec<&'a CompiledPolicy>>,
    rp: Option<(&'a CompiledPolicy, &'a str)>,
}

fn case<'a>(who: Principal, action: &'a str, resource: &'a str) -> Case<'a> {
    Case {
        who,
        action,
        resource,
        ctx: RequestContext::new(),
        identity: Vec::new(),
        boundary: None,
        session: None,
        rp: None,
    }
}

impl<'a> Case<'a> {
    fn id(mut self, p: &'a CompiledPolicy) -> Self {
        self.identity.push(p);
        self
    }
    fn boundary(mut self, p: &'a CompiledPolicy) -> Self {
        self.boundary = Some(p);
        self
    }
    fn session(mut self, p: &'a [&'a CompiledPolicy]) -> Self {
        self.session = Some(p.to_vec());
        self
    }
    fn rp(mut self, p: &'a CompiledPolicy, owner: &'a str) -> Self {
        self.rp = Some((p, owner));
        self
    }
    fn ctx(mut self, k: &str, v: &str) -> Self {
        self.ctx.insert(k, v);
        self
    }
    fn run(&self) -> Evaluation {
        let req = EvaluationRequest {
            principal: &self.who,
            action: self.action,
            resource: self.resource,
            context: &self.ctx,
            identity: &self.identity,
            boundary: self.boundary,
            session: self.session.as_deref(),
            resource_policy: self.rp.map(|(policy, owner_account)| ResourcePolicy {
                policy,
                owner_account,
            }),
        };
        let e = evaluate(&req);
        assert_eq!(
            is_allowed(&req),
            e.is_allowed(),
            "fast and explained paths agree"
        );
        assert_eq!(decide(&req), (e.decision, e.decided_by));
        e
    }
    fn expect(&self, decision: Decision, layer: Layer) -> Evaluation {
        let e = self.run();
        assert_eq!((e.decision, e.decided_by), (decision, layer), "{e:?}");
        e
    }
}

const R: &str = "arn:aws:s3:::bucket/key";

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
