//! Policy engine benchmarks: the perf scenarios of ../shared/perf-scenarios
//! (skipped with a message when the folder is absent), and parse + compile
//! of a ~6 KB document. Run: `cargo bench --bench policy`.
//!
//! For instruction counts (stable on a noisy machine), the same binary runs
//! a fixed number of decisions instead of criterion when
//! `POLICY_DECISIONS=N` is set (`POLICY_SCENARIO` picks the scenario,
//! default scenario_a; `POLICY_FN` = is_allowed (default), evaluate or
//! unmerged):
//!
//! ```text
//! cargo bench --bench policy --no-run
//! POLICY_DECISIONS=100000 POLICY_SCENARIO=scenario_b_10000 \
//!   valgrind --tool=callgrind --toggle-collect='*run_decisions*' \
//!   target/release/deps/policy-<hash>
//! ```
//!
//! then divide the collected instructions (Ir) by N.

use std::hint::black_box;

use criterion::{criterion_group, Criterion};
use latchkey::policy::{
    evaluate, is_allowed, CompiledPolicy, Decision, EvaluationRequest, PolicyDocument,
    PolicySource, Principal, RequestContext, SourceKind,
};
use serde_json::Value;

struct Scenario {
    principal: Principal,
    action: String,
    resource: String,
    context: RequestContext,
    separate: Vec<CompiledPolicy>,
    merged: CompiledPolicy,
}

fn load(name: &str) -> Option<Scenario> {
    let path = format!(
        "{}/../shared/perf-scenarios/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("skipping {name}: cannot read {path}: {e}");
            return None;
        }
    };
    let v: Value = serde_json::from_str(&text).ok()?;
    let principal = Principal::from_arn(v["principal"].as_str()?)?;
    let req = &v["request"];
    let mut context = RequestContext::new();
    for (k, val) in req["context"].as_object()? {
        context.insert(k, val.as_str()?);
    }
    let mut separate = Vec::new();
    for p in v["policies"].as_array()? {
        let doc = PolicyDocument::from_value(&p["document"]).ok()?;
        let source = PolicySource::new(SourceKind::Identity, p["name"].as_str()?);
        separate.push(CompiledPolicy::compile(&doc, source).ok()?);
    }
    let refs: Vec<&CompiledPolicy> = separate.iter().collect();
    let merged = CompiledPolicy::merge(PolicySource::new(SourceKind::Identity, "alice"), &refs);
    let s = Scenario {
        principal,
        action: req["action"].as_str()?.to_string(),
        resource: req["resource"].as_str()?.to_string(),
        context,
        separate,
        merged,
    };
    check_expected(name, &s, &v["expected"]);
    Some(s)
}

/// The scenario's `expected` decision and matching statements must be what
/// the engine explains, for both the merged set and the separate policies.
fn check_expected(name: &str, s: &Scenario, expected: &Value) {
    let want_allow = expected["decision"] == "Allow";
    let names = |key: &str| -> Vec<String> {
        expected[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    };
    let (want_allows, want_denies) = (names("matched_allow"), names("matched_deny"));
    let separate: Vec<&CompiledPolicy> = s.separate.iter().collect();
    for identity in [&[&s.merged][..], &separate[..]] {
        let req = request(s, identity);
        let e = evaluate(&req);
        assert_eq!(e.decision == Decision::Allowed, want_allow, "{name}: {e:?}");
        assert_eq!(is_allowed(&req), want_allow, "{name}: fast path");
        let got = |effect: &str| -> Vec<String> {
            e.matched_statements
                .iter()
                .filter(|m| format!("{:?}", m.effect) == effect)
                .map(|m| format!("{}/{}", m.policy, m.sid.as_deref().unwrap_or("")))
                .collect()
        };
        assert_eq!(got("Allow"), want_allows, "{name}: matched allows");
        assert_eq!(got("Deny"), want_denies, "{name}: matched denies");
    }
    eprintln!("{name}: expected decision and statements confirmed");
}

fn request<'a>(s: &'a Scenario, identity: &'a [&'a CompiledPolicy]) -> EvaluationRequest<'a> {
    EvaluationRequest {
        principal: &s.principal,
        action: &s.action,
        resource: &s.resource,
        context: &s.context,
        identity,
        boundary: None,
        session: None,
        resource_policy: None,
    }
}

fn scenarios(c: &mut Criterion) {
    for name in ["scenario_a", "scenario_b_1000", "scenario_b_10000"] {
        let Some(s) = load(name) else { continue };
        let merged = [&s.merged];
        c.bench_function(&format!("{name}/is_allowed"), |b| {
            let req = request(&s, &merged);
            b.iter(|| is_allowed(black_box(&req)))
        });
        c.bench_function(&format!("{name}/evaluate"), |b| {
            let req = request(&s, &merged);
            b.iter(|| evaluate(black_box(&req)))
        });
        if name != "scenario_b_10000" {
            // Unmerged: one CompiledPolicy per document, as a cache that
            // does not merge would hold them.
            let separate: Vec<&CompiledPolicy> = s.separate.iter().collect();
            c.bench_function(&format!("{name}/is_allowed_unmerged"), |b| {
                let req = request(&s, &separate);
                b.iter(|| is_allowed(black_box(&req)))
            });
        }
    }
}

/// A realistic document of about 6 KB (the managed-policy quota is 6,144).
fn six_kb_document() -> String {
    let mut statements = Vec::new();
    let mut i = 0;
    loop {
        let st = serde_json::json!({
            "Sid": format!("S{i}"),
            "Effect": if i % 5 == 4 { "Deny" } else { "Allow" },
            "Action": [format!("s3:Get{i}*"), format!("s3:PutObject{i}"), "dynamodb:Query"],
            "Resource": [format!("arn:aws:s3:::bucket-{i}/home/${{aws:username}}/*"),
                         format!("arn:aws:dynamodb:us-east-1:123456789012:table/t{i}")],
            "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]},
                          "StringEquals": {"aws:PrincipalTag/team": ["a", "b"]},
                          "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}
        });
        statements.push(st);
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
        let text = doc.to_string();
        if text.len() > 5800 {
            return text;
        }
        i += 1;
    }
}

fn parse_compile(c: &mut Criterion) {
    let text = six_kb_document();
    eprintln!("parse+compile document: {} bytes", text.len());
    c.bench_function("parse_compile_6kb", |b| {
        b.iter(|| {
            let doc = PolicyDocument::parse(black_box(&text));
            doc.and_then(|d| {
                CompiledPolicy::compile(&d, PolicySource::new(SourceKind::Identity, "p"))
            })
        })
    });
}

/// The measured loop alone, so that callgrind can collect just it
/// (`--toggle-collect='*run_decisions*'`).
#[inline(never)]
fn run_decisions(req: &EvaluationRequest, n: u64, f: &str) -> u64 {
    let mut allowed = 0;
    for _ in 0..n {
        let ok = match f {
            "evaluate" => evaluate(black_box(req)).is_allowed(),
            _ => is_allowed(black_box(req)),
        };
        allowed += u64::from(ok);
    }
    allowed
}

fn count_mode(n: u64) {
    let name = std::env::var("POLICY_SCENARIO").unwrap_or_else(|_| "scenario_a".into());
    let f = std::env::var("POLICY_FN").unwrap_or_else(|_| "is_allowed".into());
    let s = load(&name).expect("scenario");
    let merged = [&s.merged];
    let separate: Vec<&CompiledPolicy> = s.separate.iter().collect();
    let identity: &[&CompiledPolicy] = if f == "unmerged" { &separate } else { &merged };
    let req = request(&s, identity);
    let allowed = run_decisions(&req, n, &f);
    eprintln!("{name} {f}: {n} decisions, {allowed} allowed");
}

criterion_group!(benches, scenarios, parse_compile);

fn main() {
    if let Some(n) = std::env::var("POLICY_DECISIONS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        count_mode(n);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
