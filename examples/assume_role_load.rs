//! Load generator for POST /v1/sts/assume-role against a running server.
//! Sets up a user with a key and a role that trusts it (as the root in the
//! server's credentials file), then has CONCURRENCY clients assume the role
//! in a loop for SECONDS, over keep-alive connections, and reports the rate,
//! latency percentiles and any non-200 answers.
//!
//! `cargo run --release --example assume_role_load -- URL ROOT_CREDENTIALS_JSON SECONDS CONCURRENCY`

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

struct Key {
    id: String,
    secret: String,
}

async fn call(
    client: &reqwest::Client,
    key: &Key,
    method: reqwest::Method,
    url: String,
    body: Value,
) -> anyhow::Result<Value> {
    let r = client
        .request(method, url)
        .basic_auth(&key.id, Some(&key.secret))
        .json(&body)
        .send()
        .await?;
    let status = r.status();
    let text = r.text().await?;
    if !status.is_success() {
        bail!("{status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, creds_path, seconds, concurrency] = args.as_slice() else {
        bail!("usage: assume_role_load URL ROOT_CREDENTIALS_JSON SECONDS CONCURRENCY");
    };
    let seconds: u64 = seconds.parse()?;
    let concurrency: usize = concurrency.parse()?;
    let creds: Value = serde_json::from_str(&std::fs::read_to_string(creds_path)?)?;
    let root = Key {
        id: creds["access_key_id"].as_str().context("id")?.into(),
        secret: creds["secret_access_key"]
            .as_str()
            .context("secret")?
            .into(),
    };
    let account = creds["account_id"].as_str().context("account")?;
    // reqwest has no TLS provider of its own here (see Cargo.toml).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    use reqwest::Method;
    call(
        &client,
        &root,
        Method::POST,
        format!("{url}/v1/users"),
        json!({"name": "load"}),
    )
    .await?;
    let key = call(
        &client,
        &root,
        Method::POST,
        format!("{url}/v1/users/load/access-keys"),
        json!({}),
    )
    .await?;
    let user = Key {
        id: key["access_key_id"].as_str().context("key id")?.into(),
        secret: key["secret_access_key"]
            .as_str()
            .context("key secret")?
            .into(),
    };
    let role = call(
        &client,
        &root,
        Method::POST,
        format!("{url}/v1/roles"),
        json!({
        "name": "load-role",
        "trust_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:user/load")},
            "Action": "sts:AssumeRole"}]}}),
    )
    .await?;
    let role_arn = role["arn"].as_str().context("role arn")?.to_string();

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let user = std::sync::Arc::new(user);
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let client = client.clone();
            let user = user.clone();
            let url = format!("{url}/v1/sts/assume-role");
            let role_arn = role_arn.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let body =
                        json!({"role_arn": role_arn, "role_session_name": format!("w{w}-{n}")});
                    let t = Instant::now();
                    match call(&client, &user, Method::POST, url.clone(), body).await {
                        Ok(_) => latencies.push(t.elapsed()),
                        Err(e) => {
                            errors += 1;
                            if errors <= 3 {
                                eprintln!("error: {e}");
                            }
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    println!(
        "assume_role_load: {} ok, {errors} errors in {elapsed:.2}s with {concurrency} clients = {:.0} assume-role/s (p50 {:.1} ms, p99 {:.1} ms)",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99)
    );
    if errors > 0 {
        bail!("{errors} requests failed");
    }
    Ok(())
}
