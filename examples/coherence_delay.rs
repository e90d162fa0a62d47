//! How long a revocation on one node takes to hold on another (issue 16).
//!
//! Starts two nodes in this process on one new data directory (each its
//! own server, state and caches, as nodes on one database are). Each trial
//! creates an access key on node A, uses it once on node B (so B caches
//! it), deletes it on A, then asks B back to back until B refuses it: the
//! delay is from A's answer to the delete to B's first refusal. Each
//! trial waits a random part of the poll period before it uses the key on
//! B, so that the deletes do not fall at one phase of B's polling. Prints
//! p50, p99 and the maximum.
//!
//! `cargo run --release --example coherence_delay -- [TRIALS] [POLL_MS]`;
//! with `LATCHKEY_DATABASE_URL=postgres://...` the nodes share that
//! database instead (e.g. under `scripts/with-postgres.sh`).
//! (defaults: 100 trials, the default `coherence_poll_ms`).

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use latchkey::config::{Config, DEFAULT_COHERENCE_POLL_MS};
use latchkey::startup::Application;
use serde_json::Value;

struct Key {
    id: String,
    secret: String,
}

struct Node {
    url: String,
}

async fn start(dir: &std::path::Path, poll_ms: u64) -> anyhow::Result<Node> {
    let mut config = Config::for_data_dir(dir);
    config.coherence_poll_ms = poll_ms;
    // Nodes on PostgreSQL (`LATCHKEY_DATABASE_URL`), where a notification
    // wakes the poller, or else on the SQLite file of `dir`.
    config.database_url = std::env::var("LATCHKEY_DATABASE_URL")
        .ok()
        .map(|url| url.as_str().into());
    let app = Application::build(config).await?;
    let url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    Ok(Node { url })
}

fn call(
    client: &reqwest::Client,
    node: &Node,
    key: &Key,
    method: reqwest::Method,
    path: &str,
) -> reqwest::RequestBuilder {
    client
        .request(method, format!("{}{path}", node.url))
        .basic_auth(&key.id, Some(&key.secret))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut args = std::env::args().skip(1);
    let trials: usize = args.next().map_or(Ok(100), |a| a.parse())?;
    let poll_ms: u64 = args
        .next()
        .map_or(Ok(DEFAULT_COHERENCE_POLL_MS), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let a = start(dir.path(), poll_ms).await?;
    let b = start(dir.path(), poll_ms).await?;
    let creds: Value = serde_json::from_str(&std::fs::read_to_string(
        dir.path().join("root-credentials.json"),
    )?)?;
    let root = Key {
        id: creds["access_key_id"].as_str().context("id")?.into(),
        secret: creds["secret_access_key"]
            .as_str()
            .context("secret")?
            .into(),
    };
    let client = reqwest::Client::new();
    let r = call(&client, &a, &root, reqwest::Method::POST, "/v1/users")
        .json(&serde_json::json!({"name": "probe"}))
        .send()
        .await?;
    if r.status() != 201 {
        bail!("create user: {}", r.status());
    }
    let mut delays = Vec::with_capacity(trials);
    for _ in 0..trials {
        let created: Value = call(
            &client,
            &a,
            &root,
            reqwest::Method::POST,
            "/v1/users/probe/access-keys",
        )
        .send()
        .await?
        .json()
        .await?;
        let key = Key {
            id: created["access_key_id"].as_str().context("key id")?.into(),
            secret: created["secret_access_key"]
                .as_str()
                .context("secret")?
                .into(),
        };
        let whoami = || {
            call(
                &client,
                &b,
                &key,
                reqwest::Method::GET,
                "/v1/sts/caller-identity",
            )
            .send()
        };
        // The key's creation advanced the counter too: B drops its caches
        // at its next look, which must come before B caches the key. Then
        // a random part of the period more, so that the deletes do not all
        // fall at one phase of B's polling (right after a look, each would
        // wait a whole period).
        let pause = poll_ms + rand::random_range(0..poll_ms);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let warm = whoami().await?.status();
        if warm != 200 {
            bail!("warming B: {warm}");
        }
        let path = format!("/v1/users/probe/access-keys/{}", key.id);
        let r = call(&client, &a, &root, reqwest::Method::DELETE, &path)
            .send()
            .await?;
        if r.status() != 204 {
            bail!("delete on A: {}", r.status());
        }
        let deleted = Instant::now();
        loop {
            if whoami().await?.status().is_client_error() {
                delays.push(deleted.elapsed());
                break;
            }
            if deleted.elapsed() > Duration::from_secs(10) {
                bail!("B still accepts the key after 10 s");
            }
        }
    }
    delays.sort();
    println!(
        "coherence_poll_ms={poll_ms} trials={trials} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        percentile(&delays, 0.50).as_secs_f64() * 1e3,
        percentile(&delays, 0.99).as_secs_f64() * 1e3,
        delays[delays.len() - 1].as_secs_f64() * 1e3,
    );
    Ok(())
}
