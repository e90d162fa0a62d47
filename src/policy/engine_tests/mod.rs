//! Evaluation rules (§6) and the §12 pitfalls the engine owns. Every case
//! runs both paths (`evaluate` and `is_allowed`) and checks they agree.

use serde_json::json;

use super::evaluate::decide;
use super::*;

mod layers;
mod resource_side;

pub(super) const ACCT: &str = "111122223333";
pub(super) const OTHER: &str = "999999999999";

pub(super) fn pol(kind: SourceKind, name: &str, doc: serde_json::Value) -> CompiledPolicy {
    let doc = PolicyDocument::from_value(&doc).unwrap();
    CompiledPolicy::compile(&doc, PolicySource::new(kind, name)).unwrap()
}

pub(super) fn allow(action: &str, resource: &str) -> serde_json::Value {
    json!({"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":action,"Resource":resource}]})
}

pub(super) fn deny(action: &str, resource: &str) -> serde_json::Value {
    json!({"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Action":action,"Resource":resource}]})
}

pub(super) fn id(doc: serde_json::Value) -> CompiledPolicy {
    pol(SourceKind::Identity, "id", doc)
}

pub(super) fn user(acct: &str, name: &str) -> Principal {
    Principal {
        arn: format!("arn:aws:iam::{acct}:user/{name}"),
        account: acct.into(),
        unique_id: format!("AIDA{}", name.to_uppercase()),
        kind: PrincipalKind::User,
    }
}

pub(super) fn session(acct: &str, role: &str, name: &str) -> Principal {
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

pub(super) fn root(acct: &str) -> Principal {
    Principal {
        arn: format!("arn:aws:iam::{acct}:root"),
        account: acct.into(),
        unique_id: acct.into(),
        kind: PrincipalKind::Root,
    }
}

pub(super) struct Case<'a> {
    who: Principal,
    action: &'a str,
    resource: &'a str,
    ctx: RequestContext,
    identity: Vec<&'a CompiledPolicy>,
    boundary: Option<&'a CompiledPolicy>,
    session: Option<Vec<&'a CompiledPolicy>>,
    rp: Option<(&'a CompiledPolicy, &'a str)>,
}

pub(super) fn case<'a>(who: Principal, action: &'a str, resource: &'a str) -> Case<'a> {
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
    pub(super) fn id(mut self, p: &'a CompiledPolicy) -> Self {
        self.identity.push(p);
        self
    }
    pub(super) fn boundary(mut self, p: &'a CompiledPolicy) -> Self {
        self.boundary = Some(p);
        self
    }
    pub(super) fn session(mut self, p: &'a [&'a CompiledPolicy]) -> Self {
        self.session = Some(p.to_vec());
        self
    }
    pub(super) fn rp(mut self, p: &'a CompiledPolicy, owner: &'a str) -> Self {
        self.rp = Some((p, owner));
        self
    }
    pub(super) fn ctx(mut self, k: &str, v: &str) -> Self {
        self.ctx.insert(k, v);
        self
    }
    pub(super) fn run(&self) -> Evaluation {
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
    pub(super) fn expect(&self, decision: Decision, layer: Layer) -> Evaluation {
        let e = self.run();
        assert_eq!((e.decision, e.decided_by), (decision, layer), "{e:?}");
        e
    }
}

pub(super) const R: &str = "arn:aws:s3:::bucket/key";
