//! The providers' signing keys: fetched (discovery, then `jwks_uri`; or
//! the `jwks_uri` alone) or parsed from the uploaded JWKS, kept per
//! provider, and refetched on an unknown `kid` at most once a minute.
//!
//! Fetching is the server's only outbound traffic, and happens only while
//! a web identity token of that provider is being checked: https only
//! (redirects too), the provider's CA bundle added to the roots when it
//! has one, a few seconds to connect and to finish, and at most
//! [`MAX_DOCUMENT_BYTES`] read.
//!
//! Coherence with provider edits: each entry carries a digest of the
//! provider's key settings (URL, source, `jwks_uri`, static JWKS, CA
//! bundle), and the provider row is read from the store on every call, so
//! an edit on any node is seen by the next token. The cache is not dropped
//! with the node's other caches: every IAM write drops those, and a write
//! that has nothing to do with a provider must not cause a refetch (the
//! keys of a provider whose row is unchanged are still its keys).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::jwt::{parse_jwks, Alg, Jwk};
use super::refusal::Refusal;
use crate::domain::oidc::{KeySource, OidcProvider};

/// An unknown `kid` refetches the keys at most this often per provider
/// (the first load, and the reload of keys older than [`KEYS_MAX_AGE`],
/// do not count: a rotated-in key works on first use).
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Keys older than this are reloaded on next use, so that a key the
/// issuer withdrew stops verifying.
pub const KEYS_MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// After a failed fetch, tokens of that provider are refused without
/// another attempt for this long, so that a down issuer is not hammered.
pub const FAILURE_BACKOFF: Duration = Duration::from_secs(5);
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Default, Clone)]
struct Snapshot {
    keys: Arc<Vec<Jwk>>,
    fetched_at: Option<Instant>,
    /// The last refetch an unknown kid caused.
    refetched_at: Option<Instant>,
    failed: Option<(Instant, Refusal)>,
}

struct ProviderKeys {
    settings: String,
    snapshot: Mutex<Snapshot>,
    /// Held while fetching: concurrent tokens of one provider wait for the
    /// one fetch instead of each starting theirs.
    fetching: tokio::sync::Mutex<()>,
}

/// The keys of every provider this node has verified a token of.
#[derive(Default, Clone)]
pub struct KeyCache {
    providers: Arc<Mutex<HashMap<String, Arc<ProviderKeys>>>>,
    fetches: Arc<std::sync::atomic::AtomicU64>,
}

/// The digest of what decides a provider's keys.
fn settings_of(p: &OidcProvider) -> String {
    let mut h = Sha256::new();
    for part in [
        Some(p.url.as_str()),
        Some(p.key_source.as_str()),
        p.jwks_uri.as_deref(),
        p.jwks_json.as_deref(),
        p.ca_bundle_pem.as_deref(),
    ] {
        h.update(part.unwrap_or("\u{0}").as_bytes());
        h.update([0xff]);
    }
    hex::encode(h.finalize())
}

fn find(keys: &[Jwk], kid: Option<&str>, alg: Alg) -> Vec<Jwk> {
    keys.iter()
        .filter(|k| k.fits(alg))
        .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
        .cloned()
        .collect()
}

impl KeyCache {
    /// Documents fetched so far (for tests and the load example).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn entry(&self, p: &OidcProvider) -> Arc<ProviderKeys> {
        let settings = settings_of(p);
        let mut map = self.providers.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&p.id) {
            Some(e) if e.settings == settings => e.clone(),
            _ => {
                let e = Arc::new(ProviderKeys {
                    settings,
                    snapshot: Mutex::new(Snapshot::default()),
                    fetching: tokio::sync::Mutex::new(()),
                });
                map.insert(p.id.clone(), e.clone());
                e
            }
        }
    }

    /// The keys that may have signed a token with `kid` and `alg` (all
    /// keys of the algorithm's type when the token names no kid). Fetches
    /// when nothing was fetched yet, or once a minute on an unknown kid.
    pub async fn keys_for(
        &self,
        p: &OidcProvider,
        kid: Option<&str>,
        alg: Alg,
    ) -> Result<Vec<Jwk>, Refusal> {
        let entry = self.entry(p);
        let read = |e: &ProviderKeys| e.snapshot.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let seen = read(&entry);
        let fresh = |s: &Snapshot| s.fetched_at.is_some_and(|at| at.elapsed() < KEYS_MAX_AGE);
        if fresh(&seen) {
            let found = find(&seen.keys, kid, alg);
            if !found.is_empty() {
                return Ok(found);
            }
        }
        let _turn = entry.fetching.lock().await;
        // Another token may have fetched while this one waited.
        let now = read(&entry);
        if fresh(&now) {
            let found = find(&now.keys, kid, alg);
            if !found.is_empty() {
                return Ok(found);
            }
        }
        if let Some((at, refusal)) = &now.failed {
            if at.elapsed() < FAILURE_BACKOFF {
                return Err(refusal.clone());
            }
        }
        // Fresh keys without this kid: one refetch a minute at most.
        let refetch = fresh(&now);
        if refetch
            && now
                .refetched_at
                .is_some_and(|at| at.elapsed() < REFETCH_INTERVAL)
        {
            return Err(Refusal::KidUnknownAfterRefresh);
        }
        let fetched = self.load(p).await;
        let mut snap = entry.snapshot.lock().unwrap_or_else(|e| e.into_inner());
        match fetched {
            Ok(keys) => {
                snap.keys = Arc::new(keys);
                snap.fetched_at = Some(Instant::now());
                if refetch {
                    snap.refetched_at = snap.fetched_at;
                }
                snap.failed = None;
                let found = find(&snap.keys, kid, alg);
                if found.is_empty() {
                    Err(Refusal::KidUnknownAfterRefresh)
                } else {
                    Ok(found)
                }
            }
            Err(refusal) => {
                if refetch {
                    snap.refetched_at = Some(Instant::now());
                }
                snap.failed = Some((Instant::now(), refusal.clone()));
                Err(refusal)
            }
        }
    }

    async fn load(&self, p: &OidcProvider) -> Result<Vec<Jwk>, Refusal> {
        let jwks_uri = match p.source() {
            KeySource::Static => {
                let text = p.jwks_json.as_deref().unwrap_or_default();
                return parse_jwks(text.as_bytes()).map_err(Refusal::IdpUnreachable);
            }
            KeySource::JwksUri => p.jwks_uri.clone().unwrap_or_default(),
            KeySource::Discovery => {
                let url = format!("{}/.well-known/openid-configuration", p.issuer());
                let doc = self.get(p, &url).await?;
                let doc: serde_json::Value = serde_json::from_slice(&doc).map_err(|_| {
                    Refusal::IdpUnreachable(format!("{url} is not a JSON discovery document"))
                })?;
                let issuer = doc.get("issuer").and_then(|v| v.as_str()).unwrap_or("");
                if super::jwt::issuer_url(issuer).as_deref() != Some(p.url.as_str()) {
                    return Err(Refusal::DiscoveryIssuerMismatch);
                }
                doc.get("jwks_uri")
                    .and_then(|v| v.as_str())
                    .map(String::from)
                    .ok_or_else(|| Refusal::IdpUnreachable(format!("{url} names no jwks_uri")))?
            }
        };
        let doc = self.get(p, &jwks_uri).await?;
        parse_jwks(&doc).map_err(|e| Refusal::IdpUnreachable(format!("{jwks_uri}: {e}")))
    }

    /// One document, https only, bounded in time and size.
    async fn get(&self, p: &OidcProvider, url: &str) -> Result<Vec<u8>, Refusal> {
        let fail = |what: String| Refusal::IdpUnreachable(format!("{url}: {what}"));
        if !url.starts_with("https://") {
            return Err(fail("only https URLs are fetched".into()));
        }
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let client = client(p.ca_bundle_pem.as_deref()).map_err(fail)?;
        let mut response = client
            .get(url)
            .send()
            .await
            .map_err(|e| fail(format!("{e}")))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(format!("{e}")))? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(fail(format!("larger than {MAX_DOCUMENT_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn client(ca_bundle: Option<&str>) -> Result<reqwest::Client, String> {
    // reqwest is built without a crypto provider of its own: use ring, as
    // the listener does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .https_only(true)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(3))
        .no_proxy();
    if let Some(pem) = ca_bundle {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| format!("the provider's CA bundle: {e}"))?;
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().map_err(|e| format!("{e}"))
}

/// Checks a CA bundle when a provider is created: PEM certificates, at
/// least one.
pub fn check_ca_bundle(pem: &str) -> Result<(), String> {
    match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
        Ok(certs) if !certs.is_empty() => Ok(()),
        _ => Err("The CA bundle must be PEM certificates.".into()),
    }
}
