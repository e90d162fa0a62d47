//! Noisy-neighbour load against a running server: does one tenant's most
//! expensive simulation slow another tenant down?
//!
//! As the management root (from the server's credentials file) it creates
//! two accounts. The quiet tenant's root calls `GET /v1/sts/caller-identity`
//! back to back for SECONDS alone, then for SECONDS again while NOISY
//! clients of the other tenant post the most expensive `/v1/evaluate` body
//! the limits of `policy::limits` let through (NOISE picks it: `globs`,
//! `backtracking`, `documents`, or `authorize` for the most expensive
//! `/v1/authorize` body; default `globs`). Prints the quiet
//! tenant's p50/p99 in both phases and the ratio of the p99s.
//!
//! `cargo run --release --example noisy_neighbour -- URL ROOT_CREDENTIALS_JSON SECONDS [NOISY]`

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use latchkey::policy::limits::{
    MAX_CONDITION_VALUES_PER_KEY, MAX_CONTEXT_VALUES_PER_KEY, MAX_CONTEXT_VALUE_LENGTH,
    MAX_INLINE_POLICIES, MAX_INLINE_POLICY_SIZE, MAX_MATCH_WORK, MAX_RESOURCE_POLICY_SIZE,
    MAX_SIMULATION_PAGE, WORK_BYTES_PER_UNIT,
};
use latchkey::policy::validate::policy_size;
use serde_json::{json, Value};

/// The server's default request body limit (`--max-body-bytes`).
const BODY_LIMIT: usize = 256 * 1024;

#[derive(Clone)]
struct Key {
    id: String,
    secret: String,
}

fn like(key: &str, values: Vec<String>) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {"ForAnyValue:StringLike": {key: values}}}]})
}

/// The request bodies of benches/bounded_work.rs, as `/v1/evaluate` bodies,
/// and (`authorize`) the most expensive `/v1/authorize` body: general globs
/// against context values up to MAX_AUTHORIZE_WORK, the subject being the
/// noisy tenant's own root key. The path to post to, and the body.
fn noise(kind: &str, subject: &str) -> anyhow::Result<(&'static str, Value)> {
    if kind == "authorize" {
        let globs: Vec<String> = (0..50).map(|i| format!("*{i}*x")).collect();
        let values: Vec<String> = (0..MAX_CONTEXT_VALUES_PER_KEY)
            .map(|i| format!("a{i}"))
            .collect();
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
            "Action": "*", "Resource": "*", "Condition": {"ForAnyValue:StringLike": {"svc:a": globs}}}]});
        return Ok((
            "/v1/authorize",
            json!({"credentials": {"access_key_id": subject},
            "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
            "resource_policy": policy, "context": {"svc:a": values}}),
        ));
    }
    let body = match kind {
        "globs" => {
            let globs = (0..MAX_CONDITION_VALUES_PER_KEY)
                .map(|i| format!("*{i}*x"))
                .collect();
            let values: Vec<String> = (0..MAX_CONTEXT_VALUES_PER_KEY / 2)
                .map(|i| format!("a{i}"))
                .collect();
            json!({"policies": [like("svc:a", globs)], "context": {"svc:a": values},
                "action_names": ["s3:GetObject"], "max_items": MAX_SIMULATION_PAGE})
        }
        "backtracking" => {
            let steps =
                (MAX_MATCH_WORK - 1) * WORK_BYTES_PER_UNIT / MAX_CONTEXT_VALUE_LENGTH as u64;
            let glob = format!("*{}b", "a?".repeat((steps as usize - 2) / 2));
            json!({"policies": [like("svc:a", vec![glob])],
                "context": {"svc:a": "a".repeat(MAX_CONTEXT_VALUE_LENGTH)},
                "action_names": ["s3:GetObject"]})
        }
        "documents" => {
            let fill = |limit: usize, statement: &dyn Fn(usize) -> Value| {
                let mut statements = Vec::new();
                loop {
                    statements.push(statement(statements.len()));
                    let doc = json!({"Version": "2012-10-17", "Statement": statements});
                    if policy_size(&doc.to_string()) > limit {
                        statements.pop();
                        return json!({"Version": "2012-10-17", "Statement": statements});
                    }
                }
            };
            let identity = |p: usize| {
                fill(MAX_INLINE_POLICY_SIZE, &|i| {
                    json!({"Effect": if i % 7 == 6 { "Deny" } else { "Allow" },
                        "Action": [format!("s3:Get{p}x{i}*"), "s3:List*"],
                        "Resource": format!("arn:aws:s3:::bucket-{p}-{i}/*")})
                })
            };
            // As many as the server's 256 KB body limit lets through.
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
            let resource = fill(MAX_RESOURCE_POLICY_SIZE, &|i| {
                json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::123456789012:user/u{i}")},
                    "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::bucket-0-{i}/*")})
            });
            let actions: Vec<String> = (0..100).map(|i| format!("s3:Get0x{i}Object")).collect();
            let resources: Vec<String> = (0..10)
                .map(|i| format!("arn:aws:s3:::bucket-0-{i}/key"))
                .collect();
            json!({"policies": policies, "resource_policy": resource, "action_names": actions,
                "resource_arns": resources, "max_items": MAX_SIMULATION_PAGE})
        }
        other => bail!("NOISE must be globs, backtracking, documents or authorize, not {other}"),
    };
    Ok(("/v1/evaluate", body))
}

async fn post(
    client: &reqwest::Client,
    key: &Key,
    url: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let r = client
        .post(url)
        .basic_auth(&key.id, Some(&key.secret))
        .json(body)
        .send()
        .await?;
    let status = r.status();
    let text = r.text().await?;
    if !status.is_success() {
        bail!("{status}: {text}");
    }
    Ok(serde_json::from_str(&text)?)
}

async fn account(
    client: &reqwest::Client,
    root: &Key,
    url: &str,
    name: &str,
) -> anyhow::Result<Key> {
    let created = post(
        client,
        root,
        &format!("{url}/v1/accounts"),
        &json!({"name": name}),
    )
    .await?;
    let creds = &created["root_credentials"];
    Ok(Key {
        id: creds["access_key_id"].as_str().context("key id")?.into(),
        secret: creds["secret_access_key"]
            .as_str()
            .context("secret")?
            .into(),
    })
}

/// Calls GetCallerIdentity back to back for `seconds`; the latencies.
async fn quiet(
    client: &reqwest::Client,
    key: &Key,
    url: &str,
    seconds: u64,
) -> anyhow::Result<Vec<Duration>> {
    let url = format!("{url}/v1/sts/caller-identity");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let t = Instant::now();
        let r = client
            .get(&url)
            .basic_auth(&key.id, Some(&key.secret))
            .send()
            .await?;
        let status = r.status();
        r.bytes().await?;
        if !status.is_success() {
            bail!("GetCallerIdentity: {status}");
        }
        latencies.push(t.elapsed());
    }
    latencies.sort();
    Ok(latencies)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (url, creds_path, seconds, noisy) = match args.as_slice() {
        [_, u, c, s] => (u, c, s.parse::<u64>()?, 2usize),
        [_, u, c, s, n] => (u, c, s.parse::<u64>()?, n.parse()?),
        _ => bail!("usage: noisy_neighbour URL ROOT_CREDENTIALS_JSON SECONDS [NOISY]"),
    };
    let kind = std::env::var("NOISE").unwrap_or_else(|_| "globs".into());
    let creds: Value = serde_json::from_str(&std::fs::read_to_string(creds_path)?)?;
    let root = Key {
        id: creds["access_key_id"].as_str().context("id")?.into(),
        secret: creds["secret_access_key"]
            .as_str()
            .context("secret")?
            .into(),
    };
    let client = reqwest::Client::new();
    let quiet_key = account(&client, &root, url, "quiet").await?;
    let noisy_key = account(&client, &root, url, "noisy").await?;
    let (path, body) = noise(&kind, &noisy_key.id)?;
    let body = Arc::new(body);
    let evaluate = format!("{url}{path}");
    // One noisy request first: it must pass the limits, or it is no noise.
    let t = Instant::now();
    let reply = post(&client, &noisy_key, &evaluate, &body).await?;
    eprintln!(
        "noise {kind}: {} bytes of body, {} results, {:.1} ms alone",
        body.to_string().len(),
        reply["results"].as_array().map_or(0, Vec::len),
        t.elapsed().as_secs_f64() * 1000.0
    );
    quiet(&client, &quiet_key, url, 1).await?; // warm-up
    let alone = quiet(&client, &quiet_key, url, seconds).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let noise_tasks: Vec<_> = (0..noisy)
        .map(|_| {
            // Each noisy caller on its own connection, as two clients would be.
            let client = reqwest::Client::new();
            let (key, body, url) = (noisy_key.clone(), body.clone(), evaluate.clone());
            let (stop, sent, failed) = (stop.clone(), sent.clone(), failed.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match post(&client, &key, &url, &body).await {
                        Ok(_) => sent.fetch_add(1, Ordering::Relaxed),
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let noisy_phase = quiet(&client, &quiet_key, url, seconds).await?;
    stop.store(true, Ordering::Relaxed);
    for t in noise_tasks {
        t.await?;
    }
    let (quiet_p99, noisy_p99) = (pct(&alone, 0.99), pct(&noisy_phase, 0.99));
    println!(
        "quiet tenant alone: {} calls, p50 {:.2} ms, p99 {:.2} ms",
        alone.len(),
        pct(&alone, 0.50),
        quiet_p99
    );
    println!(
        "quiet tenant beside {noisy} noisy callers ({kind}, {} evaluations, {} failed): {} calls, p50 {:.2} ms, p99 {:.2} ms",
        sent.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        noisy_phase.len(),
        pct(&noisy_phase, 0.50),
        noisy_p99
    );
    println!(
        "p99 ratio under noise: {:.2}x (target <= 2x)",
        noisy_p99 / quiet_p99
    );
    Ok(())
}
