//! Table tests against the shared corpora (moto, MinIO), read at test time
//! from ../shared/corpora. Nothing is copied into the repository. Where a
//! case is flagged `aws_divergence`, AWS's answer (`aws_expected`) wins.
//! Cases that cannot apply to AWS IAM are skipped, counted and printed.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;

const ACCT: &str = "123456789012";

fn load(rel: &str) -> Option<Value> {
    let path = format!("{}/../shared/corpora/{rel}", env!("CARGO_MANIFEST_DIR"));
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).ok(),
        Err(e) => {
            eprintln!("skipping corpus {path}: {e}");
            None
        }
    }
}

#[derive(Default)]
struct Tally {
    passed: usize,
    skipped: BTreeMap<String, usize>,
    failed: Vec<String>,
}

impl Tally {
    fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_string()).or_default() += 1;
    }
    fn check(&mut self, got: bool, want: bool, what: impl FnOnce() -> String) {
        if got == want {
            self.passed += 1;
        } else {
            self.failed.push(what());
        }
    }
    fn finish(self, name: &str) {
        let skipped: usize = self.skipped.values().sum();
        eprintln!("{name}: {} passed, {skipped} skipped", self.passed);
        for (reason, n) in &self.skipped {
            eprintln!("  skipped {n}: {reason}");
        }
        assert!(
            self.failed.is_empty(),
            "{name} failures:\n{}",
            self.failed.join("\n")
        );
        assert!(self.passed > 0, "{name}: nothing was checked");
    }
}

fn context(v: Option<&Value>) -> RequestContext {
    let mut ctx = RequestContext::new();
    for (k, v) in v.and_then(Value::as_object).into_iter().flatten() {
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let text = |s: &Value| match s.as_str() {
            Some("<now, RFC3339>") => now.clone(),
            Some(s) => s.to_string(),
            None => s.to_string(),
        };
        match v {
            Value::Array(items) => ctx.insert_many(k, items.iter().map(text)),
            other => ctx.insert(k, text(other)),
        }
    }
    ctx
}

fn compile(kind: SourceKind, doc: &Value) -> Result<CompiledPolicy, PolicyError> {
    let doc = PolicyDocument::from_value(doc)?;
    CompiledPolicy::compile(&doc, PolicySource::new(kind, "corpus"))
}

fn identity_decision(
    who: &Principal,
    policies: &[&CompiledPolicy],
    action: &str,
    resource: &str,
    ctx: &RequestContext,
) -> Evaluation {
    evaluate(&EvaluationRequest {
        principal: who,
        action,
        resource,
        context: ctx,
        identity: policies,
        boundary: None,
        session: None,
        resource_policy: None,
    })
}

fn default_user() -> Principal {
    Principal::from_arn(&format!("arn:aws:iam::{ACCT}:user/test-user")).unwrap()
}

#[test]
fn moto_access_control_tuples() {
    let Some(corpus) = load("moto-access-control/tuples.json") else {
        return;
    };
    let mut t = Tally::default();
    for case in corpus["tuples"].as_array().into_iter().flatten() {
        let action = case["action"].as_str().unwrap_or_default();
        let resource = case["resource"].as_str().unwrap_or_default();
        if action.eq_ignore_ascii_case("sts:GetCallerIdentity") {
            // §12 rule 6: GetCallerIdentity needs no permission; the server
            // answers it without asking the engine.
            t.skip("sts:GetCallerIdentity is never authorized by policies");
            continue;
        }
        let identity: Result<Vec<_>, _> = case["identity_policies"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| compile(SourceKind::Identity, d))
            .collect();
        let Ok(identity) = identity else {
            t.skip("identity policy does not compile");
            continue;
        };
        let trust = match case.get("trust_policy") {
            Some(doc) if action.eq_ignore_ascii_case("sts:AssumeRole") => {
                match compile(SourceKind::Trust, doc) {
                    Ok(p) => Some(p),
                    Err(_) => {
                        // moto ignores unknown operators; AWS refuses to save such a
                        // trust policy (§3.6 stage 1), so the call could not happen.
                        t.skip("trust policy with an unknown condition operator (AWS rejects it at save time)");
                        continue;
                    }
                }
            }
            _ => None,
        };
        let who = match case["caller"].as_str() {
            Some(arn) => Principal::from_arn(arn).unwrap(),
            None => default_user(),
        };
        let ctx = context(case.get("context"));
        let refs: Vec<&CompiledPolicy> = identity.iter().collect();
        let e = evaluate(&EvaluationRequest {
            principal: &who,
            action,
            resource,
            context: &ctx,
            identity: &refs,
            boundary: None,
            session: None,
            resource_policy: trust.as_ref().map(|p| ResourcePolicy {
                policy: p,
                owner_account: ACCT,
            }),
        });
        let want = case["expected"] == "allow";
        t.check(e.is_allowed(), want, || {
            format!("{}: {action} {resource}: {e:?}", case["test"])
        });
    }
    t.finish("moto tuples");
}

#[test]
fn minio_condition_operators() {
    let Some(corpus) = load("minio-policy/condition_operators.json") else {
        return;
    };
    let mut t = Tally::default();
    for case in corpus["cases"].as_array().into_iter().flatten() {
        let doc = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":case["condition"]}]});
        let Ok(p) = compile(SourceKind::Identity, &doc) else {
            t.skip("condition does not compile");
            continue;
        };
        let want = case
            .get("aws_expected")
            .unwrap_or(&case["expected"])
            .as_bool()
            .unwrap_or(false);
        let ctx = context(case.get("context"));
        let e = identity_decision(
            &default_user(),
            &[&p],
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            &ctx,
        );
        t.check(e.is_allowed(), want, || {
            format!(
                "{} {} ctx={}",
                case["test"], case["condition"], case["context"]
            )
        });
    }
    t.finish("minio condition operators");
}

#[test]
fn minio_resource_matching() {
    let Some(corpus) = load("minio-policy/resource_matching.json") else {
        return;
    };
    let mut t = Tally::default();
    for case in corpus["cases"].as_array().into_iter().flatten() {
        let doc = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":case["patterns"]}]});
        let p = compile(SourceKind::Identity, &doc).unwrap();
        let resource = case["resource"].as_str().unwrap_or_default();
        let ctx = context(case.get("context"));
        let e = identity_decision(&default_user(), &[&p], "s3:GetObject", resource, &ctx);
        let want = case["expected"].as_bool().unwrap_or(false);
        t.check(e.is_allowed(), want, || {
            format!("{} vs {resource}", case["patterns"])
        });
    }
    t.finish("minio resource matching");
}

/// MinIO authorizes a versioned GetObject as GetObjectVersion; AWS does too,
/// so the case is translated rather than skipped.
fn minio_action(case: &Value) -> String {
    let action = case["args"]["action"].as_str().unwrap_or_default();
    let note = case["note"].as_str().unwrap_or_default();
    if action == "s3:GetObject" && note.contains("GetObjectVersion") {
        "s3:GetObjectVersion".into()
    } else {
        action.into()
    }
}

#[test]
fn minio_statement_is_allowed() {
    let Some(corpus) = load("minio-policy/statement_is_allowed.json") else {
        return;
    };
    let mut t = Tally::default();
    for case in corpus["cases"].as_array().into_iter().flatten() {
        let doc = json!({"Version":"2012-10-17","Statement":[case["statement"]]});
        let p = compile(SourceKind::Identity, &doc).unwrap();
        let resource = case["args"]["resource"].as_str().unwrap_or_default();
        let ctx = context(case["args"].get("context"));
        let e = identity_decision(&default_user(), &[&p], &minio_action(case), resource, &ctx);
        let want = case["as_single_statement_policy_expected"]
            .as_bool()
            .unwrap_or(false);
        t.check(e.is_allowed(), want, || {
            format!("decision {} {}", case["statement"], case["args"])
        });
        let applies = case["statement_applies"].as_bool().unwrap_or(false);
        t.check(!e.matched_statements.is_empty(), applies, || {
            format!("applies {} {}", case["statement"], case["args"])
        });
    }
    t.finish("minio statement_is_allowed");
}

#[test]
fn minio_policy_is_allowed() {
    let Some(corpus) = load("minio-policy/policy_is_allowed.json") else {
        return;
    };
    let mut t = Tally::default();
    for case in corpus["cases"].as_array().into_iter().flatten() {
        let Ok(p) = compile(SourceKind::Identity, &case["policy"]) else {
            t.skip("policy does not compile");
            continue;
        };
        let resource = case["args"]["resource"].as_str().unwrap_or_default();
        let ctx = context(case["args"].get("context"));
        let e = identity_decision(&default_user(), &[&p], &minio_action(case), resource, &ctx);
        let want = case["expected"].as_bool().unwrap_or(false);
        t.check(e.is_allowed(), want, || {
            format!("{} {}", case["policy"], case["args"])
        });
    }
    t.finish("minio policy_is_allowed");
}

#[test]
fn minio_bucket_policy_is_allowed() {
    let Some(corpus) = load("minio-policy/bucket_policy_is_allowed.json") else {
        return;
    };
    let mut t = Tally::default();
    for case in corpus["cases"].as_array().into_iter().flatten() {
        let Ok(p) = compile(SourceKind::Resource, &case["policy"]) else {
            t.skip("bucket policy does not compile");
            continue;
        };
        // MinIO's bucket owner maps to the owning account's root (implicit
        // allow, stopped only by an explicit deny); anyone else is anonymous.
        let who = if case["args"]["is_owner"] == true {
            Principal::from_arn(&format!("arn:aws:iam::{ACCT}:root")).unwrap()
        } else {
            Principal {
                arn: "*".into(),
                account: String::new(),
                unique_id: "anonymous".into(),
                kind: PrincipalKind::Anonymous,
            }
        };
        let resource = case["args"]["resource"].as_str().unwrap_or_default();
        let ctx = context(case["args"].get("context"));
        let action = minio_action(case);
        let e = evaluate(&EvaluationRequest {
            principal: &who,
            action: &action,
            resource,
            context: &ctx,
            identity: &[],
            boundary: None,
            session: None,
            resource_policy: Some(ResourcePolicy {
                policy: &p,
                owner_account: ACCT,
            }),
        });
        let want = case["expected"].as_bool().unwrap_or(false);
        t.check(e.is_allowed(), want, || {
            format!("{} {} {e:?}", case["policy"], case["args"])
        });
    }
    t.finish("minio bucket policies");
}
