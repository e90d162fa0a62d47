//! The reply of `POST /v1/authorize`: its documented shape
//! ([`AuthorizeResponse`], which borrows from the outcome), and the JSON
//! writer the handler uses on this hot path.

use serde::Serialize;
use utoipa::ToSchema;

use super::super::simulate::EvaluateMatchedStatement;
use crate::auth::Caller;
use crate::policy::{Decision, Effect, Evaluation, Layer, SourceKind};

// The reply borrows from the outcome (the subject and the evaluation)
// rather than copying their strings: it is written once and dropped.

#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectPrincipal<'a> {
    #[schema(value_type = String)]
    pub arn: &'a str,
    #[schema(value_type = String)]
    pub account: &'a str,
    #[schema(value_type = String)]
    pub user_id: &'a str,
    /// `aws:PrincipalType`: Account, User or AssumedRole.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub principal_type: &'a str,
}

/// One statement that matched, as `EvaluateMatchedStatement` shows it.
#[derive(Debug, Serialize)]
pub struct MatchedStatementView<'a> {
    pub source: &'static str,
    pub policy: &'a str,
    pub sid: Option<&'a str>,
    pub index: usize,
    pub effect: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeResponse<'a> {
    pub allowed: bool,
    /// allowed, explicit_deny or implicit_deny.
    #[schema(value_type = String)]
    pub decision: &'static str,
    pub principal: SubjectPrincipal<'a>,
    #[schema(value_type = Vec<EvaluateMatchedStatement>)]
    pub matched_statements: Vec<MatchedStatementView<'a>>,
    #[schema(value_type = String)]
    pub decided_by: &'static str,
    #[schema(value_type = Vec<String>)]
    pub missing_context_keys: &'a [String],
}

/// What a service's question was answered with, and about whom.
pub struct AuthorizeOutcome {
    pub subject: Caller,
    pub evaluation: Evaluation,
}

impl AuthorizeOutcome {
    pub fn response(&self) -> AuthorizeResponse<'_> {
        let (subject, evaluation) = (&self.subject, &self.evaluation);
        AuthorizeResponse {
            allowed: evaluation.is_allowed(),
            decision: evaluation.decision.wire_name(),
            principal: SubjectPrincipal {
                arn: &subject.arn,
                account: &subject.account_id,
                user_id: &subject.user_id,
                principal_type: subject.principal_type(),
            },
            matched_statements: evaluation
                .matched_statements
                .iter()
                .map(|m| MatchedStatementView {
                    source: m.source.wire_name(),
                    policy: &m.policy,
                    sid: m.sid.as_deref(),
                    index: m.index,
                    effect: m.effect.wire_name(),
                })
                .collect(),
            decided_by: evaluation.decided_by.wire_name(),
            missing_context_keys: &evaluation.missing_context_keys,
        }
    }
}

impl AuthorizeOutcome {
    /// The reply as JSON: the bytes `serde_json` writes for
    /// [`Self::response`] (a test holds them equal), without its
    /// per-string escaping machinery or the intermediate statement list.
    /// Keys are literals; values are copied as they are unless they need
    /// an escape, which serde_json then writes.
    pub fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        let (subject, evaluation) = (&self.subject, &self.evaluation);
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(if evaluation.is_allowed() {
            b"{\"allowed\":true,\"decision\":"
        } else {
            b"{\"allowed\":false,\"decision\":"
        });
        push_str(&mut out, evaluation.decision.wire_name())?;
        out.extend_from_slice(b",\"principal\":{\"arn\":");
        push_str(&mut out, &subject.arn)?;
        out.extend_from_slice(b",\"account\":");
        push_str(&mut out, &subject.account_id)?;
        out.extend_from_slice(b",\"user_id\":");
        push_str(&mut out, &subject.user_id)?;
        out.extend_from_slice(b",\"type\":");
        push_str(&mut out, subject.principal_type())?;
        out.extend_from_slice(b"},\"matched_statements\":[");
        for (i, m) in evaluation.matched_statements.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"source\":");
            push_str(&mut out, m.source.wire_name())?;
            out.extend_from_slice(b",\"policy\":");
            push_str(&mut out, &m.policy)?;
            out.extend_from_slice(b",\"sid\":");
            match &m.sid {
                Some(sid) => push_str(&mut out, sid)?,
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"index\":");
            out.extend_from_slice(itoa::Buffer::new().format(m.index).as_bytes());
            out.extend_from_slice(b",\"effect\":");
            push_str(&mut out, m.effect.wire_name())?;
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"decided_by\":");
        push_str(&mut out, evaluation.decided_by.wire_name())?;
        out.extend_from_slice(b",\"missing_context_keys\":[");
        for (i, key) in evaluation.missing_context_keys.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_str(&mut out, key)?;
        }
        out.extend_from_slice(b"]}");
        Ok(out)
    }
}

/// A JSON string: copied between quotes when nothing in it needs an
/// escape (ARNs, ids and names), else written by serde_json.
fn push_str(out: &mut Vec<u8>, text: &str) -> serde_json::Result<()> {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(out, text)
    }
}

/// The name serde gives an engine enum on the wire, without serializing
/// through a `Value` on every decision. A test keeps it equal to serde's.
pub(super) trait WireName {
    fn wire_name(self) -> &'static str;
}

impl WireName for Decision {
    fn wire_name(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::ExplicitDeny => "explicit_deny",
            Decision::ImplicitDeny => "implicit_deny",
        }
    }
}

impl WireName for Layer {
    fn wire_name(self) -> &'static str {
        match self {
            Layer::Identity => "identity",
            Layer::Boundary => "boundary",
            Layer::Session => "session",
            Layer::Resource => "resource",
            Layer::Trust => "trust",
            Layer::Root => "root",
        }
    }
}

impl WireName for SourceKind {
    fn wire_name(self) -> &'static str {
        match self {
            SourceKind::Identity => "identity",
            SourceKind::Boundary => "boundary",
            SourceKind::Session => "session",
            SourceKind::Resource => "resource",
            SourceKind::Trust => "trust",
        }
    }
}

impl WireName for Effect {
    fn wire_name(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::caller::{CallerIdentity, CallerKind};
    use crate::policy::MatchedStatement;

    fn wire<T: WireName>(value: T) -> String {
        value.wire_name().to_string()
    }

    fn serde_name<T: Serialize>(value: T) -> String {
        serde_json::to_value(value)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn wire_names_are_serdes() {
        use Decision::*;
        for d in [Allowed, ExplicitDeny, ImplicitDeny] {
            assert_eq!(wire(d), serde_name(d));
        }
        use Layer::*;
        for l in [Identity, Boundary, Session, Resource, Trust, Root] {
            assert_eq!(wire(l), serde_name(l));
        }
        for k in [
            SourceKind::Identity,
            SourceKind::Boundary,
            SourceKind::Session,
            SourceKind::Resource,
            SourceKind::Trust,
        ] {
            assert_eq!(wire(k), serde_name(k));
        }
        for e in [Effect::Allow, Effect::Deny] {
            assert_eq!(wire(e), serde_name(e));
        }
    }

    fn outcome(evaluation: Evaluation, arn: &str) -> AuthorizeOutcome {
        let identity = CallerIdentity::new(
            "123456789012".into(),
            arn.into(),
            "AIDAEXAMPLE\\ID".into(),
            CallerKind::User {
                user_id: "AIDAEXAMPLE".into(),
                name: "reader".into(),
            },
            "AKIAEXAMPLE".into(),
            false,
        );
        AuthorizeOutcome {
            subject: Caller::new(identity, None, false),
            evaluation,
        }
    }

    #[test]
    fn written_json_is_serdes() {
        let statement = |source, policy: &str, sid: Option<&str>, index, effect| MatchedStatement {
            source,
            policy: policy.to_string(),
            sid: sid.map(str::to_string),
            index,
            effect,
        };
        let cases = [
            outcome(
                Evaluation {
                    decision: Decision::Allowed,
                    decided_by: Layer::Identity,
                    matched_statements: vec![statement(
                        SourceKind::Identity,
                        "read",
                        None,
                        0,
                        Effect::Allow,
                    )],
                    missing_context_keys: vec![],
                },
                "arn:aws:iam::123456789012:user/reader",
            ),
            outcome(
                Evaluation {
                    decision: Decision::ExplicitDeny,
                    decided_by: Layer::Resource,
                    matched_statements: vec![
                        statement(
                            SourceKind::Identity,
                            "arn:aws:iam::123456789012:policy/p",
                            Some("AllowAll"),
                            12,
                            Effect::Allow,
                        ),
                        statement(
                            SourceKind::Resource,
                            "resource_policy",
                            Some("quote\" back\\ tab\t bell\u{7} é \u{7f}"),
                            3,
                            Effect::Deny,
                        ),
                    ],
                    missing_context_keys: vec!["s3:prefix".into(), "aws:Referer\n".into()],
                },
                "arn:aws:iam::123456789012:user/path/\"odd\"",
            ),
            outcome(
                Evaluation {
                    decision: Decision::ImplicitDeny,
                    decided_by: Layer::Session,
                    matched_statements: vec![],
                    missing_context_keys: vec![],
                },
                "arn:aws:sts::123456789012:assumed-role/r/s",
            ),
        ];
        for case in &cases {
            let written = String::from_utf8(case.to_json().unwrap()).unwrap();
            assert_eq!(written, serde_json::to_string(&case.response()).unwrap());
        }
    }
}
