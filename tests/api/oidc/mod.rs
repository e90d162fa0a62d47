//! OIDC web identity federation (issue 17): providers as IAM entities,
//! AssumeRoleWithWebIdentity on both front ends, refusals explained, key
//! rotation. A local HTTPS issuer runs inside each test (a generated CA,
//! discovery and JWKS, a fetch counter), and tokens are minted here with
//! an RSA key (a PEM fixture) and an EC P-256 key (generated), shaped like
//! GitHub's and Kubernetes'.

mod assume;
mod e2e;
mod keys;
mod providers;
mod refusals;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::Method;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use rustls::pki_types::pem::PemObject as _;
use serde_json::{json, Value};

use crate::helpers::{json_with_status, TestApp, TestCa};

pub const GITHUB_SUB: &str = "repo:octo-org/octo-repo:ref:refs/heads/main";
pub const K8S_SUB: &str = "system:serviceaccount:ci:deployer";
pub const AUDIENCE: &str = "sts.amazonaws.com";

/// A signing key of the test issuer.
pub enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

impl Signer {
    /// The RSA fixture `n` (1 or 2): tests/fixtures/oidc_rsa_N.pem.
    pub fn rsa(n: u8) -> Signer {
        let pem = match n {
            1 => include_str!("../../fixtures/oidc_rsa_1.pem"),
            _ => include_str!("../../fixtures/oidc_rsa_2.pem"),
        };
        let der = rustls::pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
            .expect("PKCS#8 PEM");
        Signer::Rsa(RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).expect("RSA key"))
    }

    /// A fresh P-256 key.
    pub fn ec() -> Signer {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("EC key");
        Signer::Ec(EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("EC key"))
    }

    pub fn alg(&self) -> &'static str {
        match self {
            Signer::Rsa(_) => "RS256",
            Signer::Ec(_) => "ES256",
        }
    }

    /// The public JWK, with `kid`.
    pub fn jwk(&self, kid: &str) -> Value {
        match self {
            Signer::Rsa(k) => {
                let c: signature::RsaPublicKeyComponents<Vec<u8>> = k.public().into();
                json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                       "n": URL_SAFE_NO_PAD.encode(&c.n), "e": URL_SAFE_NO_PAD.encode(&c.e)})
            }
            Signer::Ec(k) => {
                let point = k.public_key().as_ref();
                json!({"kty": "EC", "use": "sig", "crv": "P-256", "kid": kid,
                       "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                       "y": URL_SAFE_NO_PAD.encode(&point[33..65])})
            }
        }
    }

    /// A compact JWS of `claims`, with `kid` in the header.
    pub fn mint(&self, kid: &str, claims: &Value) -> String {
        let header = json!({"alg": self.alg(), "typ": "JWT", "kid": kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let rng = SystemRandom::new();
        let sig = match self {
            Signer::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .expect("sign");
                sig
            }
            Signer::Ec(k) => k
                .sign(&rng, input.as_bytes())
                .expect("sign")
                .as_ref()
                .to_vec(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

/// A token with an arbitrary header and signature bytes (forgeries).
pub fn raw_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Claims shaped like a GitHub Actions ID token.
pub fn github_claims(iss: &str) -> Value {
    let t = now();
    json!({
        "jti": uuid::Uuid::new_v4().to_string(),
        "iss": iss,
        "aud": AUDIENCE,
        "sub": GITHUB_SUB,
        "repository": "octo-org/octo-repo",
        "repository_owner": "octo-org",
        "ref": "refs/heads/main",
        "workflow": "deploy",
        "job_workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
        "event_name": "push",
        "runner_environment": "github-hosted",
        "iat": t, "nbf": t - 5, "exp": t + 300,
    })
}

/// Claims shaped like a Kubernetes projected service-account token.
pub fn k8s_claims(iss: &str) -> Value {
    let t = now();
    json!({
        "iss": iss,
        "aud": [AUDIENCE],
        "sub": K8S_SUB,
        "kubernetes.io": {
            "namespace": "ci",
            "serviceaccount": {"name": "deployer", "uid": uuid::Uuid::new_v4().to_string()},
            "pod": {"name": "runner-0", "uid": uuid::Uuid::new_v4().to_string()}
        },
        "iat": t, "nbf": t, "exp": t + 3600,
    })
}

struct IssuerState {
    real_url: String,
    issuer: Mutex<String>,
    jwks: Mutex<Value>,
    jwks_fetches: AtomicU64,
}

/// A local HTTPS OIDC issuer: discovery and JWKS, counting JWKS fetches.
pub struct Issuer {
    /// `https://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    pub ca_pem: String,
    state: Arc<IssuerState>,
    server: actix_web::dev::ServerHandle,
}

impl Issuer {
    pub async fn start(keys: &[(&Signer, &str)]) -> Issuer {
        let ca = TestCa::new();
        let cert = ca.server_cert("oidc issuer", &[]);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        let state = Arc::new(IssuerState {
            real_url: url.clone(),
            issuer: Mutex::new(url.clone()),
            jwks: Mutex::new(
                json!({"keys": keys.iter().map(|(s, kid)| s.jwk(kid)).collect::<Vec<_>>()}),
            ),
            jwks_fetches: AtomicU64::new(0),
        });
        let certs: Vec<_> =
            rustls::pki_types::CertificateDer::pem_slice_iter(cert.cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .expect("cert");
        let key =
            rustls::pki_types::PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).expect("key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
        let shared = state.clone();
        let server = actix_web::HttpServer::new(move || {
            let state = shared.clone();
            let jwks_state = shared.clone();
            actix_web::App::new()
                .route(
                    "/.well-known/openid-configuration",
                    actix_web::web::get().to(move || {
                        let issuer = state.issuer.lock().unwrap().clone();
                        let url = state.real_url.clone();
                        async move {
                            actix_web::HttpResponse::Ok().json(json!({
                                "issuer": issuer,
                                "jwks_uri": format!("{url}/jwks"),
                                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                            }))
                        }
                    }),
                )
                .route(
                    "/jwks",
                    actix_web::web::get().to(move || {
                        jwks_state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
                        let body = jwks_state.jwks.lock().unwrap().clone();
                        async move { actix_web::HttpResponse::Ok().json(body) }
                    }),
                )
        })
        .workers(1)
        .disable_signals()
        .listen_rustls_0_23(listener, config)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Issuer {
            url,
            ca_pem: ca.cert_pem.clone(),
            state,
            server: handle,
        }
    }

    pub fn jwks_fetches(&self) -> u64 {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn set_keys(&self, keys: &[(&Signer, &str)]) {
        *self.state.jwks.lock().unwrap() =
            json!({"keys": keys.iter().map(|(s, kid)| s.jwk(kid)).collect::<Vec<_>>()});
    }

    /// What the discovery document says the issuer is.
    pub fn set_discovery_issuer(&self, issuer: &str) {
        *self.state.issuer.lock().unwrap() = issuer.to_string();
    }

    /// The URL without its scheme: the provider ARN's suffix, the prefix of
    /// the condition keys.
    pub fn host(&self) -> String {
        self.url.trim_start_matches("https://").to_string()
    }

    pub async fn stop(&self) {
        self.server.stop(false).await;
    }
}

/// Creates a provider on /v1 and returns its ARN.
pub async fn create_provider(app: &TestApp, body: &Value) -> String {
    let created = json_with_status(app.post("/v1/oidc-providers", body).await, 201).await;
    created["arn"].as_str().unwrap().to_string()
}

/// A discovery provider for `issuer` with its CA bundle, client id
/// `sts.amazonaws.com`.
pub async fn provider_for(app: &TestApp, issuer: &Issuer) -> String {
    create_provider(
        app,
        &json!({"url": issuer.url, "client_ids": [AUDIENCE], "ca_bundle_pem": issuer.ca_pem}),
    )
    .await
}

/// A role trusting `provider_arn` for AssumeRoleWithWebIdentity under
/// `conditions`; returns the role ARN.
pub async fn federated_role(
    app: &TestApp,
    name: &str,
    provider_arn: &str,
    conditions: Value,
) -> String {
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
    });
    if !conditions.is_null() {
        statement["Condition"] = conditions;
    }
    let trust = json!({"Version": "2012-10-17", "Statement": [statement]});
    let role = json_with_status(
        app.post("/v1/roles", &json!({"name": name, "trust_policy": trust}))
            .await,
        201,
    )
    .await;
    role["arn"].as_str().unwrap().to_string()
}

/// POST /v1/sts/assume-role-with-web-identity, unauthenticated.
pub async fn assume(app: &TestApp, role_arn: &str, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/sts/assume-role-with-web-identity"))
        .json(&json!({"role_arn": role_arn, "role_session_name": "ci-run-1", "web_identity_token": token}))
        .send()
        .await
        .expect("request")
}

/// The AssumeRoleWithWebIdentity audit events, newest first, once at
/// least `n` are written (the queue writes them shortly after).
pub async fn web_identity_events(app: &TestApp, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let page = json_with_status(
            app.request(
                Method::GET,
                "/v1/audit/events?action=sts:AssumeRoleWithWebIdentity&max_items=200",
            )
            .send()
            .await
            .unwrap(),
            200,
        )
        .await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if items.len() >= n || std::time::Instant::now() > deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An event's params as JSON (stored as text).
pub fn params(event: &Value) -> Value {
    match &event["params"] {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    }
}
