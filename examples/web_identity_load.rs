//! Load generator for AssumeRoleWithWebIdentity beside plain AssumeRole,
//! against a running server. Sets up (as the root in the server's
//! credentials file) a user and a role it may assume, and an OIDC provider
//! with a static JWKS (an RSA key, RS256 as GitHub signs) and a role that
//! trusts it on `:aud` and `:sub`; then, for SECONDS each, CONCURRENCY
//! clients call POST /v1/sts/assume-role, then POST
//! /v1/sts/assume-role-with-web-identity with GitHub-shaped tokens minted
//! beforehand (the key cache is warm after the first call: a static JWKS
//! is parsed once). Prints both rates and the ratio.
//!
//! `cargo run --release --example web_identity_load -- URL ROOT_CREDENTIALS_JSON SECONDS CONCURRENCY`

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::Method;
use ring::signature::{self, RsaKeyPair};
use rustls::pki_types::pem::PemObject as _;
use serde_json::{json, Value};

const ISSUER: &str = "https://token.actions.githubusercontent.com";
const HOST: &str = "token.actions.githubusercontent.com";

async fn call(
    client: &reqwest::Client,
    key: Option<&(String, String)>,
    method: Method,
    url: String,
    body: Value,
) -> anyhow::Result<Value> {
    let mut r = client.request(method, url).json(&body);
    if let Some((id, secret)) = key {
        r = r.basic_auth(id, Some(secret));
    }
    let r = r.send().await?;
    let status = r.status();
    let text = r.text().await?;
    if !status.is_success() {
        bail!("{status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn signer() -> anyhow::Result<RsaKeyPair> {
    let pem = include_str!("../tests/fixtures/oidc_rsa_1.pem");
    let der = rustls::pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())?;
    RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn jwks(key: &RsaKeyPair) -> String {
    let c: signature::RsaPublicKeyComponents<Vec<u8>> = key.public().into();
    json!({"keys": [{"kty": "RSA", "kid": "load", "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(&c.n), "e": URL_SAFE_NO_PAD.encode(&c.e)}]})
    .to_string()
}

fn mint(key: &RsaKeyPair, worker: usize) -> anyhow::Result<String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "load"});
    let claims = json!({"iss": ISSUER, "aud": "sts.amazonaws.com",
        "sub": format!("repo:load-org/app-{worker}:ref:refs/heads/main"),
        "repository": format!("load-org/app-{worker}"), "iat": now, "nbf": now, "exp": now + 3600});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// The request worker `w` sends as its `n`th: URL, key (None: no
/// credentials) and body.
type Request = Arc<dyn Fn(usize, u64) -> (String, Option<(String, String)>, Value) + Send + Sync>;

/// Runs `concurrency` clients for `seconds`; returns the rate and the
/// p50/p99 latencies in ms.
async fn run(
    client: &reqwest::Client,
    seconds: u64,
    concurrency: usize,
    request: Request,
) -> anyhow::Result<(f64, f64, f64)> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let client = client.clone();
            let request = request.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let (url, key, body) = request(w, n);
                    let t = Instant::now();
                    match call(&client, key.as_ref(), Method::POST, url, body).await {
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
    if errors > 0 {
        bail!("{errors} requests failed");
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    Ok((latencies.len() as f64 / elapsed, pct(0.50), pct(0.99)))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, creds_path, seconds, concurrency] = args.as_slice() else {
        bail!("usage: web_identity_load URL ROOT_CREDENTIALS_JSON SECONDS CONCURRENCY");
    };
    let seconds: u64 = seconds.parse()?;
    let concurrency: usize = concurrency.parse()?;
    let creds: Value = serde_json::from_str(&std::fs::read_to_string(creds_path)?)?;
    let root = (
        creds["access_key_id"].as_str().context("id")?.to_string(),
        creds["secret_access_key"]
            .as_str()
            .context("secret")?
            .to_string(),
    );
    let account = creds["account_id"].as_str().context("account")?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let key = signer()?;

    // Plain AssumeRole: a user and a role that trusts it.
    call(
        &client,
        Some(&root),
        Method::POST,
        format!("{url}/v1/users"),
        json!({"name": "load"}),
    )
    .await?;
    let k = call(
        &client,
        Some(&root),
        Method::POST,
        format!("{url}/v1/users/load/access-keys"),
        json!({}),
    )
    .await?;
    let user = (
        k["access_key_id"].as_str().context("key id")?.to_string(),
        k["secret_access_key"]
            .as_str()
            .context("secret")?
            .to_string(),
    );
    let role = call(
        &client,
        Some(&root),
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

    // Web identity: a static-JWKS provider and a role trusting it.
    let provider = call(&client, Some(&root), Method::POST, format!("{url}/v1/oidc-providers"), json!({
        "url": ISSUER, "client_ids": ["sts.amazonaws.com"], "key_source": "static", "jwks": jwks(&key)}))
    .await?;
    let provider_arn = provider["arn"]
        .as_str()
        .context("provider arn")?
        .to_string();
    let federated = call(
        &client,
        Some(&root),
        Method::POST,
        format!("{url}/v1/roles"),
        json!({
        "name": "load-federated",
        "trust_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {format!("{HOST}:aud"): "sts.amazonaws.com"},
                          "StringLike": {format!("{HOST}:sub"): "repo:load-org/*"}}}]}}),
    )
    .await?;
    let federated_arn = federated["arn"].as_str().context("role arn")?.to_string();
    let tokens: Arc<Vec<String>> = Arc::new(
        (0..concurrency)
            .map(|w| mint(&key, w))
            .collect::<anyhow::Result<_>>()?,
    );

    let assume_url = format!("{url}/v1/sts/assume-role");
    let plain = run(
        &client,
        seconds,
        concurrency,
        Arc::new(move |w, n| {
            (
                assume_url.clone(),
                Some(user.clone()),
                json!({"role_arn": role_arn, "role_session_name": format!("w{w}-{n}")}),
            )
        }),
    )
    .await?;
    println!(
        "assume-role: {:.0}/s (p50 {:.1} ms, p99 {:.1} ms) with {concurrency} clients",
        plain.0, plain.1, plain.2
    );
    let web_url = format!("{url}/v1/sts/assume-role-with-web-identity");
    let web = run(
        &client,
        seconds,
        concurrency,
        Arc::new(move |w, n| {
            (
                web_url.clone(),
                None,
                json!({"role_arn": federated_arn,
            "role_session_name": format!("w{w}-{n}"), "web_identity_token": tokens[w]}),
            )
        }),
    )
    .await?;
    println!(
        "assume-role-with-web-identity: {:.0}/s (p50 {:.1} ms, p99 {:.1} ms) with {concurrency} clients",
        web.0, web.1, web.2
    );
    println!(
        "web identity / assume-role: {:.0}%",
        100.0 * web.0 / plain.0.max(1.0)
    );
    Ok(())
}
