//! The most expensive requests `policy::limits` lets through, on the pure
//! engine: each is one page of `POST /v1/evaluate` (custom mode), the
//! widest door an untrusted body has into the engine. Run:
//! `cargo bench --bench bounded_work`. Each case first checks that its
//! request passes the limits (a refused request would measure nothing).

use std::hint::black_box;

use criterion::{criterion_group, Criterion};
use latchkey::policy::limits::{
    MAX_CONDITION_VALUES_PER_KEY, MAX_CONTEXT_VALUES_PER_KEY, MAX_CONTEXT_VALUE_LENGTH,
    MAX_INLINE_POLICIES, MAX_INLINE_POLICY_SIZE, MAX_MATCH_WORK, MAX_RESOURCE_POLICY_SIZE,
    MAX_SIMULATION_PAGE, WORK_BYTES_PER_UNIT,
};
use latchkey::policy::simulate::{simulate_custom_page, Page, SimulateRequest};
use latchkey::policy::validate::policy_size;
use serde_json::{json, Value};

/// The server's default request body limit (`--max-body-bytes`).
const BODY_LIMIT: usize = 256 * 1024;

fn page() -> Page {
    Page {
        start: 0,
        max_items: MAX_SIMULATION_PAGE,
    }
}

fn request(body: Value) -> SimulateRequest {
    let req: SimulateRequest = serde_json::from_value(body).expect("a simulate request");
    let reply = simulate_custom_page(&req, page()).expect("within the limits");
    assert!(!reply.results.is_empty());
    req
}

fn like(key: &str, values: Vec<String>) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {"ForAnyValue:StringLike": {key: values}}}]})
}

/// The most general globs a key may list, against as many context values
/// as then fit the work budget: 85,000 units.
fn many_globs() -> SimulateRequest {
    let globs = (0..MAX_CONDITION_VALUES_PER_KEY)
        .map(|i| format!("*{i}*x"))
        .collect();
    let values: Vec<String> = (0..MAX_CONTEXT_VALUES_PER_KEY / 2)
        .map(|i| format!("a{i}"))
        .collect();
    request(
        json!({"policies": [like("svc:a", globs)], "context": {"svc:a": values},
        "action_names": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]}),
    )
}

/// One glob built to backtrack (`*a?a?...a?b` against `aaaa...`), as long
/// as the budget lets it be against the longest context value.
fn backtracking() -> SimulateRequest {
    let value = "a".repeat(MAX_CONTEXT_VALUE_LENGTH);
    // Steps x bytes / WORK_BYTES_PER_UNIT, plus one for the comparison.
    let steps = (MAX_MATCH_WORK - 1) * WORK_BYTES_PER_UNIT / MAX_CONTEXT_VALUE_LENGTH as u64;
    let pairs = (steps as usize - 2) / 2;
    let glob = format!("*{}b", "a?".repeat(pairs));
    request(
        json!({"policies": [like("svc:a", vec![glob])], "context": {"svc:a": value},
        "action_names": ["s3:GetObject"]}),
    )
}

/// CIDR blocks (compared one by one) against addresses: 100,000 units.
fn cidrs() -> SimulateRequest {
    let nets: Vec<String> = (0..MAX_CONDITION_VALUES_PER_KEY)
        .map(|i| format!("10.{}.{}.0/24", i / 256, i % 256))
        .collect();
    let ips: Vec<String> = (0..MAX_CONTEXT_VALUES_PER_KEY)
        .map(|i| format!("192.0.2.{i}"))
        .collect();
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {"ForAnyValue:IpAddress": {"svc:ips": nets}}}]});
    request(
        json!({"policies": [policy], "context": {"svc:ips": ips}, "action_names": ["s3:GetObject"]}),
    )
}

/// The largest documents a request may carry (identity policies at the
/// inline size limit, as many as the 256 KB body holds beside a resource
/// policy at its own limit), and a full page of 1,000 pairs: parse,
/// compile and 1,000 decisions.
fn largest_documents() -> SimulateRequest {
    fn fill(limit: usize, statement: impl Fn(usize) -> Value) -> Value {
        let mut statements = Vec::new();
        loop {
            statements.push(statement(statements.len()));
            let doc = json!({"Version": "2012-10-17", "Statement": statements});
            if policy_size(&doc.to_string()) > limit {
                statements.pop();
                return json!({"Version": "2012-10-17", "Statement": statements});
            }
        }
    }
    let identity = |p: usize| {
        fill(MAX_INLINE_POLICY_SIZE, move |i| {
            json!({"Effect": if i % 7 == 6 { "Deny" } else { "Allow" },
                "Action": [format!("s3:Get{p}x{i}*"), "s3:List*"],
                "Resource": format!("arn:aws:s3:::bucket-{p}-{i}/*")})
        })
    };
    let resource = fill(MAX_RESOURCE_POLICY_SIZE, |i| {
        json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::123456789012:user/u{i}")},
            "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::bucket-0-{i}/*")})
    });
    // As many as the server's default 256 KB body limit lets through.
    let mut policies: Vec<Value> = Vec::new();
    let mut bytes = 40_000;
    for p in 0..MAX_INLINE_POLICIES {
        let doc = identity(p);
        bytes += doc.to_string().len();
        if bytes > BODY_LIMIT {
            break;
        }
        policies.push(doc);
    }
    let actions: Vec<String> = (0..100).map(|i| format!("s3:Get0x{i}Object")).collect();
    let resources: Vec<String> = (0..10)
        .map(|i| format!("arn:aws:s3:::bucket-0-{i}/key"))
        .collect();
    request(json!({"policies": policies, "resource_policy": resource,
        "action_names": actions, "resource_arns": resources}))
}

fn worst_cases(c: &mut Criterion) {
    let mut group = c.benchmark_group("bounded_work");
    group.sample_size(20);
    for (name, req) in [
        ("many_globs", many_globs()),
        ("backtracking", backtracking()),
        ("cidrs", cidrs()),
        ("largest_documents", largest_documents()),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| simulate_custom_page(black_box(&req), page()))
        });
    }
    group.finish();
}

criterion_group!(benches, worst_cases);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
