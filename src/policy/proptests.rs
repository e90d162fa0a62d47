//! Properties of the engine: deny wins, Allow is monotone, order does not
//! matter (nor does merging into one indexed set), and documents survive a
//! parse -> serialize -> parse round trip.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:Get*",
    "s3:*",
    "*",
    "iam:ListUsers",
    "iam:*",
    "S3:getobject",
    "s?:PutObject",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::c/*",
    "arn:aws:s3:::*",
    "arn:aws:s3:::home/${aws:username}/*",
];
const REQ_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "iam:ListUsers",
    "ec2:RunInstances",
];
const REQ_RESOURCES: &[&str] = &[
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::c/x",
    "arn:aws:s3:::home/alice/x",
    "*",
];

fn pick(list: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop::sample::select(list)
}

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(json!({"StringEquals": {"aws:username": "alice"}}))),
        1 => Just(Some(json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}))),
        1 => Just(Some(json!({"Bool": {"aws:SecureTransport": true}}))),
        1 => Just(Some(json!({"StringNotEqualsIfExists": {"aws:username": ["bob", "carol"]}}))),
        1 => Just(Some(json!({"NumericLessThan": {"s3:max-keys": 10}, "Null": {"aws:TagKeys": "true"}}))),
    ]
}

fn statement() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(pick(ACTIONS), 1..3),
        any::<bool>(),
        prop::collection::vec(pick(RESOURCES), 1..3),
        condition(),
        prop::option::of("[A-Za-z0-9]{1,6}"),
    )
        .prop_map(
            |(allow, not_action, actions, not_resource, resources, cond, sid)| {
                let mut st = json!({"Effect": if allow { "Allow" } else { "Deny" }});
                st[if not_action { "NotAction" } else { "Action" }] = json!(actions);
                st[if not_resource {
                    "NotResource"
                } else {
                    "Resource"
                }] = json!(resources);
                if let Some(c) = cond {
                    st["Condition"] = c;
                }
                if let Some(s) = sid {
                    st["Sid"] = json!(s);
                }
                st
            },
        )
}

fn policies() -> impl Strategy<Value = Vec<Vec<Value>>> {
    prop::collection::vec(prop::collection::vec(statement(), 1..6), 1..5)
}

#[derive(Debug, Clone)]
struct Req {
    action: &'static str,
    resource: &'static str,
    ctx: Vec<(&'static str, &'static str)>,
}

fn request() -> impl Strategy<Value = Req> {
    (
        pick(REQ_ACTIONS),
        pick(REQ_RESOURCES),
        prop::sample::subsequence(
            vec![
                ("aws:username", "alice"),
                ("aws:SourceIp", "10.1.1.1"),
                ("aws:SecureTransport", "true"),
                ("s3:max-keys", "5"),
            ],
            0..4,
        ),
    )
        .prop_map(|(action, resource, ctx)| Req {
            action,
            resource,
            ctx,
        })
}

fn compile_all(docs: &[Vec<Value>]) -> Vec<CompiledPolicy> {
    docs.iter()
        .enumerate()
        .map(|(i, statements)| {
            let doc = PolicyDocument::from_value(
                &json!({"Version": "2012-10-17", "Statement": statements}),
            )
            .unwrap();
            CompiledPolicy::compile(
                &doc,
                PolicySource::new(SourceKind::Identity, format!("p{i}")),
            )
            .unwrap()
        })
        .collect()
}

fn decide(policies: &[CompiledPolicy], req: &Req) -> Decision {
    let who = Principal::from_arn("arn:aws:iam::123456789012:user/alice").unwrap();
    let mut ctx = RequestContext::new();
    for (k, v) in &req.ctx {
        ctx.insert(k, *v);
    }
    let refs: Vec<&CompiledPolicy> = policies.iter().collect();
    let r = EvaluationRequest {
        principal: &who,
        action: req.action,
        resource: req.resource,
        context: &ctx,
        identity: &refs,
        boundary: None,
        session: None,
        resource_policy: None,
    };
    let e = evaluate(&r);
    assert_eq!(is_allowed(&r), e.is_allowed());
    e.decision
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn an_applicable_deny_always_wins(docs in policies(), req in request(), at in 0usize..5) {
        let mut docs = docs;
        let n = docs.len();
        docs[at % n].push(json!({"Effect": "Deny", "Action": req.action, "Resource": "*"}));
        prop_assert_eq!(decide(&compile_all(&docs), &req), Decision::ExplicitDeny);
    }

    #[test]
    fn adding_an_allow_never_denies(docs in policies(), req in request(), extra in statement(), at in 0usize..5) {
        let before = decide(&compile_all(&docs), &req);
        let mut extra = extra;
        extra["Effect"] = json!("Allow");
        let mut more = docs.clone();
        let n = more.len();
        more[at % n].push(extra);
        let after = decide(&compile_all(&more), &req);
        if before == Decision::Allowed {
            prop_assert_eq!(after, Decision::Allowed);
        }
        if before == Decision::ExplicitDeny {
            prop_assert_eq!(after, Decision::ExplicitDeny);
        }
    }

    #[test]
    fn order_and_merging_never_change_a_decision(docs in policies(), req in request(), rot in 0usize..20) {
        let base = decide(&compile_all(&docs), &req);
        // Every statement in one document, rotated and reversed: this also
        // crosses the linear/index threshold.
        let mut flat: Vec<Value> = docs.iter().flatten().cloned().collect();
        let len = flat.len();
        flat.rotate_left(rot % len);
        flat.reverse();
        let mut padded = flat.clone();
        for i in 0..14 {
            padded.push(json!({"Effect": "Allow", "Action": format!("sqs:Op{i}"), "Resource": "*"}));
        }
        prop_assert_eq!(decide(&compile_all(&[flat]), &req), base);
        prop_assert_eq!(decide(&compile_all(&[padded]), &req), base);
        let compiled = compile_all(&docs);
        let refs: Vec<&CompiledPolicy> = compiled.iter().collect();
        let merged = CompiledPolicy::merge(PolicySource::new(SourceKind::Identity, "set"), &refs);
        prop_assert_eq!(decide(&[merged], &req), base);
    }

    #[test]
    fn parse_serialize_parse_is_identity(statements in prop::collection::vec(statement(), 1..5),
                                          principal in prop::option::of(principal()),
                                          version in prop::option::of(any::<bool>()),
                                          id in prop::option::of("[a-z0-9-]{1,8}")) {
        let mut statements = statements;
        if let Some(p) = principal {
            statements[0]["Principal"] = p;
        }
        let mut doc = json!({"Statement": statements});
        if let Some(v) = version {
            doc["Version"] = json!(if v { "2012-10-17" } else { "2008-10-17" });
        }
        if let Some(id) = id {
            doc["Id"] = json!(id);
        }
        let first = PolicyDocument::parse(&doc.to_string()).unwrap();
        let text = serde_json::to_string(&first).unwrap();
        let second = PolicyDocument::parse(&text).unwrap();
        prop_assert_eq!(&second, &first);
        prop_assert_eq!(second.to_json_value(), first.to_json_value());
    }
}

fn principal() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("*")),
        Just(json!({"AWS": "*"})),
        Just(
            json!({"AWS": ["123456789012", "arn:aws:iam::123456789012:role/R"], "Service": "ec2.amazonaws.com"})
        ),
        Just(json!({"Federated": "accounts.google.com", "CanonicalUser": ["abc"]})),
    ]
}
