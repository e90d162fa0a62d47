//! HTTPS on the listener (issue 18): a private CA's certificate served
//! over HTTP/1.1 and HTTP/2, `aws:SecureTransport` true, the AWS SDK's IAM
//! client and container-credentials provider over https (on a
//! non-loopback address too, which plain http cannot serve), certificate
//! reload without a restart, no TLS 1.0/1.1, and the warning for plain
//! http on a non-loopback address.

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::ProvideCredentials as _;
use reqwest::{Method, Version};
use serde_json::json;

use crate::awsquery::sdk_credentials;
use crate::helpers::{
    captured_logs, json_with_status, spawn_app, spawn_app_with, spawn_tls_app_with, TestApp, TestCa,
};
use crate::signing::{send, sign_request, Signing};
use crate::workloads::{setup, SERVICE};

/// How long a test waits for the reload task to act (it polls every
/// second in tests); far above what it takes, only there to end a broken
/// run instead of hanging.
const PATIENCE: Duration = Duration::from_secs(60);

fn peer_cert(response: &reqwest::Response) -> Vec<u8> {
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("the TLS peer certificate")
        .to_vec()
}

/// The certificate a new connection is served (a new client each time, so
/// no pooled connection is reused).
async fn served_cert(ca: &TestCa, app: &TestApp) -> Vec<u8> {
    let r = ca
        .reqwest_client(false)
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("https request");
    assert_eq!(r.status(), 200);
    peer_cert(&r)
}

/// Polls new connections until one is served `want`; false after PATIENCE.
async fn eventually_served(ca: &TestCa, app: &TestApp, want: &[u8]) -> bool {
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        if served_cert(ca, app).await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Waits until the logs hold a line containing both `a` and `b`.
async fn logged(a: &str, b: &str) -> bool {
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        if captured_logs()
            .lines()
            .any(|l| l.contains(a) && l.contains(b))
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn https_with_a_private_ca_serves_http1_and_http2() {
    let ca = TestCa::new();
    let issued = ca.server_cert("latchkey-tls-a", &[]);
    let (app, _files) = spawn_tls_app_with(&ca, &issued, |_| {}).await;
    app.create_user("alice").await;
    for (h2, version) in [(false, Version::HTTP_11), (true, Version::HTTP_2)] {
        let client = ca.reqwest_client(h2);
        let r = client
            .get(app.url("/v1/users/alice"))
            .basic_auth(&app.root.access_key_id, Some(&app.root.secret_access_key))
            .send()
            .await
            .expect("https request");
        assert_eq!(r.version(), version);
        assert_eq!(peer_cert(&r), issued.der());
        let user = json_with_status(r, 200).await;
        assert_eq!(user["name"], "alice");
        // SigV4 too: over HTTP/2 the signed `host` is the :authority.
        let url = app.url("/v1/users/alice");
        let signed = sign_request(&Signing::now(&app.root), "GET", &url, &[], b"");
        let r = send(&client, Method::GET, &signed, Vec::new()).await;
        assert_eq!(r.version(), version);
        json_with_status(r, 200).await;
        let r = client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("https request");
        assert_eq!(r.version(), version);
        assert_eq!(r.status(), 200);
    }
    // The one listener speaks only TLS: plain http to it gets no reply.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/healthz", app.port))
        .send()
        .await;
    assert!(plain.is_err(), "plain http answered: {plain:?}");
    // A client that does not trust the private CA refuses the server.
    let stranger = TestCa::new().reqwest_client(false);
    let refused = stranger.get(app.url("/healthz")).send().await;
    assert!(refused.is_err(), "untrusted certificate accepted");
}

#[tokio::test]
async fn secure_transport_is_true_over_https() {
    let tls_only = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    let ca = TestCa::new();
    let (app, _files) =
        spawn_tls_app_with(&ca, &ca.server_cert("latchkey-tls-b", &[]), |_| {}).await;
    let plain = spawn_app().await;
    for (app, status) in [(&app, 200), (&plain, 403)] {
        let bob = app.user_with_key("bob").await;
        app.put_inline("/v1/users/bob/policies/tls-only", tls_only.clone())
            .await;
        let r = app.send_as(&bob, Method::GET, "/v1/users/bob", None).await;
        json_with_status(r, status).await;
    }
}

#[tokio::test]
async fn the_aws_sdk_calls_iam_over_https() {
    let ca = TestCa::new();
    let (app, _files) =
        spawn_tls_app_with(&ca, &ca.server_cert("latchkey-tls-c", &[]), |_| {}).await;
    app.create_user("carol").await;
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .endpoint_url(&app.address)
            .credentials_provider(sdk_credentials(&app.root, None))
            .http_client(sdk_https_client(&ca.cert_pem))
            .build(),
    );
    let user = iam
        .get_user()
        .user_name("carol")
        .send()
        .await
        .expect("GetUser over https");
    assert_eq!(user.user().map(|u| u.user_name()), Some("carol"));
}

/// The SDK's own HTTP client (hyper + rustls/ring) trusting only `ca_pem`.
fn sdk_https_client(ca_pem: &str) -> aws_sdk_iam::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    let context = tls::TlsContext::builder()
        .with_trust_store(
            tls::TrustStore::empty()
                .with_native_roots(false)
                .with_pem_certificate(ca_pem.as_bytes()),
        )
        .build()
        .expect("TLS context");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(context)
        .build_https()
}

/// An IPv4 address of this host that is not loopback (from the kernel's
/// table of local addresses), if it has one.
fn non_loopback_address() -> Option<IpAddr> {
    let table = std::fs::read_to_string("/proc/net/fib_trie").ok()?;
    let lines: Vec<&str> = table.lines().collect();
    lines.windows(2).find_map(|w| {
        let ip: IpAddr = w[0].trim().strip_prefix("|-- ")?.parse().ok()?;
        (w[1].contains("/32 host LOCAL") && !ip.is_loopback()).then_some(ip)
    })
}

const CHILD_TEST: &str = "tls::sdk_container_provider_in_a_child_process";
const URIS_VAR: &str = "LATCHKEY_TLS_E2E_URIS";
const CA_VAR: &str = "LATCHKEY_TLS_E2E_CA";

/// The container-credentials provider (`aws_config::ecs`) with only the
/// container variables, as a workload on another host would run it: over
/// https on 127.0.0.1 and on a non-loopback address of this host, where
/// the SDK refuses plain http.
#[tokio::test]
async fn the_aws_sdk_container_provider_fetches_workload_credentials_over_https() {
    let ca = TestCa::new();
    let other = non_loopback_address();
    let extra: Vec<IpAddr> = other.into_iter().collect();
    let issued = ca.server_cert("latchkey-tls-d", &extra);
    let bind = if other.is_some() {
        "0.0.0.0:0"
    } else {
        "127.0.0.1:0"
    };
    let (app, files) = spawn_tls_app_with(&ca, &issued, |c| c.bind = bind.into()).await;
    let fixture = setup(&app).await;
    let path = "/v1/workload-credentials";
    let mut uris = vec![format!("https://127.0.0.1:{}{path}", app.port)];
    match other {
        Some(ip) => {
            uris.push(format!("https://{ip}:{}{path}", app.port));
            uris.push(format!("http://{ip}:{}{path}", app.port));
        }
        None => {
            println!("skipped the non-loopback case: this host has no non-loopback IPv4 address")
        }
    }
    let ca_file = files.dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.cert_pem).expect("write CA");
    let exe = std::env::current_exe().expect("test binary");
    let (token, joined) = (fixture.token.clone(), uris.join(","));
    let output = tokio::task::spawn_blocking(move || {
        Command::new(exe)
            .args([
                CHILD_TEST,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", token)
            .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            .env_remove("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
            .env(URIS_VAR, joined)
            .env(CA_VAR, ca_file)
            .output()
    })
    .await
    .expect("join")
    .expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "child failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    let expected = fixture.workload["assumed_role_arn"].as_str().unwrap();
    for uri in &uris {
        // The harness may print its "test ... " prefix on the same line.
        let marker = format!("RESULT {uri} ");
        let line = stdout
            .lines()
            .find_map(|l| l.find(&marker).map(|at| &l[at..]))
            .unwrap_or_else(|| panic!("no result for {uri}: {stdout}"));
        if uri.starts_with("https://") {
            assert_eq!(line, format!("RESULT {uri} OK {expected}"), "{stdout}");
        } else {
            // Why TLS is needed: the SDK refuses plain http off loopback.
            assert!(
                line.contains("ERR") && line.contains("allowed IP"),
                "{line}"
            );
        }
    }
    // Each https fetch issued one session of the workload's role.
    let sessions = json_with_status(app.get("/v1/roles/runner/sessions").await, 200).await;
    let items = sessions["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{sessions}");
    assert!(
        items.iter().all(|s| s["issuer_arn"] == SERVICE),
        "{sessions}"
    );
}

/// The workload process: run only as the child of the test above. For
/// each URI it sets AWS_CONTAINER_CREDENTIALS_FULL_URI, lets the SDK's
/// provider fetch credentials, and calls STS GetCallerIdentity with them
/// on the same host over https.
#[tokio::test]
#[ignore = "runs as a child process of the container-provider https test"]
async fn sdk_container_provider_in_a_child_process() {
    let uris = std::env::var(URIS_VAR).expect("run by the https test");
    let ca_pem = std::fs::read_to_string(std::env::var(CA_VAR).expect("CA path")).expect("CA");
    for uri in uris.split(',') {
        // One test thread in this process: nothing else reads the
        // environment concurrently.
        std::env::set_var("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri);
        let config = ProviderConfig::without_region().with_http_client(sdk_https_client(&ca_pem));
        let provider = aws_config::ecs::EcsCredentialsProvider::builder()
            .configure(&config)
            .build();
        let result = match provider.provide_credentials().await {
            Ok(creds) => {
                let endpoint = uri.trim_end_matches("/v1/workload-credentials");
                let sts = aws_sdk_sts::Client::from_conf(
                    aws_sdk_sts::Config::builder()
                        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
                        .region(aws_sdk_sts::config::Region::new("us-east-1"))
                        .endpoint_url(endpoint)
                        .credentials_provider(creds)
                        .http_client(sdk_https_client(&ca_pem))
                        .build(),
                );
                match sts.get_caller_identity().send().await {
                    Ok(me) => format!("OK {}", me.arn().unwrap_or_default()),
                    Err(e) => format!("ERR sts {}", aws_sdk_sts::error::DisplayErrorContext(e)),
                }
            }
            Err(e) => format!(
                "ERR provider {}",
                aws_sdk_sts::error::DisplayErrorContext(e)
            ),
        };
        println!("RESULT {uri} {result}");
    }
}

#[tokio::test]
async fn a_replaced_certificate_is_served_to_the_next_connection() {
    let ca = TestCa::new();
    let first = ca.server_cert("latchkey-tls-e1", &[]);
    let (app, files) = spawn_tls_app_with(&ca, &first, |_| {}).await;
    assert_eq!(served_cert(&ca, &app).await, first.der());
    // A renewal: same CA and names, new key, serial and common name.
    let second = ca.server_cert("latchkey-tls-e2", &[]);
    assert_ne!(second.der(), first.der());
    files.install(&second);
    assert!(
        eventually_served(&ca, &app, &second.der()).await,
        "the renewed certificate was never served"
    );
}

#[tokio::test]
async fn a_reload_that_fails_keeps_the_previous_certificate() {
    let ca = TestCa::new();
    let first = ca.server_cert("latchkey-tls-f1", &[]);
    let (app, files) = spawn_tls_app_with(&ca, &first, |_| {}).await;
    let path = files.cert.display().to_string();
    let failed = "TLS certificate reload failed";
    // Not PEM at all.
    std::fs::write(
        &files.cert,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    assert!(logged(failed, &path).await, "no error logged");
    assert_eq!(served_cert(&ca, &app).await, first.der());
    // A renewed certificate whose key has not been written yet.
    let second = ca.server_cert("latchkey-tls-f2", &[]);
    std::fs::write(&files.cert, &second.cert_pem).expect("write");
    assert!(logged("does not fit", &path).await, "no error logged");
    assert_eq!(served_cert(&ca, &app).await, first.der());
    // Then its key arrives: the pair is served.
    std::fs::write(&files.key, &second.key_pem).expect("write");
    assert!(eventually_served(&ca, &app, &second.der()).await);
}

#[tokio::test]
async fn sighup_reloads_the_certificate() {
    let ca = TestCa::new();
    let first = ca.server_cert("latchkey-tls-g1", &[]);
    // No polling: only the signal can make the server read the files.
    let (app, files) = spawn_tls_app_with(&ca, &first, |c| c.tls_reload_secs = 0).await;
    let second = ca.server_cert("latchkey-tls-g2", &[]);
    files.install(&second);
    assert_eq!(served_cert(&ca, &app).await, first.der());
    let status = Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    assert!(
        eventually_served(&ca, &app, &second.der()).await,
        "SIGHUP did not reload the certificate"
    );
}

/// A ClientHello offering at most `version` (0x0301 TLS 1.0, 0x0302 TLS
/// 1.1), with no supported_versions extension, as an old client sends it.
fn legacy_client_hello(version: u16) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // no session id
    body.extend_from_slice(&[0x00, 0x04, 0xc0, 0x13, 0x00, 0x2f]); // 2 suites
    body.extend_from_slice(&[0x01, 0x00]); // null compression
    let mut handshake = vec![0x01, 0x00];
    handshake.extend_from_slice(&(body.len() as u16).to_be_bytes());
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

#[tokio::test]
async fn tls_1_0_and_1_1_clients_are_refused() {
    let ca = TestCa::new();
    let (app, _files) =
        spawn_tls_app_with(&ca, &ca.server_cert("latchkey-tls-h", &[]), |_| {}).await;
    let port = app.port;
    let replies = tokio::task::spawn_blocking(move || {
        [0x0301u16, 0x0302].map(|version| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            stream
                .set_read_timeout(Some(PATIENCE))
                .expect("read timeout");
            stream
                .write_all(&legacy_client_hello(version))
                .expect("send hello");
            let mut reply = Vec::new();
            let _ = stream.read_to_end(&mut reply);
            reply
        })
    })
    .await
    .expect("join");
    for reply in replies {
        // A fatal alert record (0x15, level 2) and no ServerHello (a
        // handshake record, 0x16). rustls names the reason
        // handshake_failure (40) or protocol_version (70).
        assert!(reply.len() >= 7, "reply {reply:02x?}");
        assert_eq!((reply[0], reply[5]), (0x15, 2), "{reply:02x?}");
        assert!([40, 70].contains(&reply[6]), "{reply:02x?}");
        assert!(!reply.contains(&0x16), "{reply:02x?}");
    }
    // A real client, when there is one: openssl refuses 1.0/1.1 and
    // negotiates 1.2 and 1.3 against the same server.
    let addr = format!("127.0.0.1:{port}");
    let s_client = |flag: &str| {
        Command::new("openssl")
            // SECLEVEL=0: OpenSSL 3 would not even offer 1.0/1.1 otherwise.
            .args([
                "s_client",
                "-connect",
                &addr,
                flag,
                "-cipher",
                "DEFAULT:@SECLEVEL=0",
            ])
            .stdin(Stdio::null())
            .output()
    };
    let Ok(probe) = s_client("-tls1_2") else {
        println!("skipped the openssl s_client checks: openssl is not installed");
        return;
    };
    let out = String::from_utf8_lossy(&probe.stdout);
    assert!(probe.status.success() && out.contains("TLSv1.2"), "{out}");
    let out = s_client("-tls1_3").expect("openssl");
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("TLSv1.3"));
    for flag in ["-tls1", "-tls1_1"] {
        let out = s_client(flag).expect("openssl");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // One alert back and no cipher agreed (rustls sends
        // handshake_failure for a hello of 1.0/1.1 without the signature
        // algorithms extension, protocol_version otherwise).
        assert!(!out.status.success(), "{flag} was accepted: {text}");
        assert!(text.contains("Cipher is (NONE)"), "{flag}: {text}");
        assert!(
            text.contains("alert handshake failure") || text.contains("alert protocol version"),
            "{flag}: {text}"
        );
    }
}

#[tokio::test]
async fn plain_http_on_a_non_loopback_address_logs_a_warning() {
    let warning = "listening on a non-loopback address without TLS";
    let exposed = spawn_app_with(|c| c.bind = "0.0.0.0:0".into()).await;
    let loopback = spawn_app().await;
    let ca = TestCa::new();
    let (tls, _files) = spawn_tls_app_with(&ca, &ca.server_cert("latchkey-tls-i", &[]), |c| {
        c.bind = "0.0.0.0:0".into()
    })
    .await;
    let logs = captured_logs();
    let warned = |port: u16| {
        let field = format!("address=0.0.0.0:{port}");
        logs.lines()
            .any(|l| l.contains(warning) && l.split_whitespace().any(|w| w == field))
    };
    assert!(warned(exposed.port), "no warning for 0.0.0.0 over http");
    assert!(!warned(loopback.port), "warning for loopback");
    assert!(!warned(tls.port), "warning for 0.0.0.0 over https");
}

#[tokio::test]
async fn the_binary_wants_both_tls_files_and_refuses_to_start_on_a_bad_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let serve = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .arg("serve")
            .args(["--bind", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(args)
            .env_remove("LATCHKEY_TLS_CERT")
            .env_remove("LATCHKEY_TLS_KEY")
            .stdin(Stdio::null())
            .output()
            .expect("latchkey runs")
    };
    let cert = dir.path().join("missing.crt");
    let cert = cert.to_str().expect("utf-8 path");
    let alone = serve(&["--tls-cert", cert]);
    assert!(!alone.status.success());
    let stderr = String::from_utf8_lossy(&alone.stderr);
    assert!(stderr.contains("--tls-key"), "{stderr}");
    // A certificate that cannot be read stops the start (no plain-http
    // fallback), naming the file.
    let missing = serve(&["--tls-cert", cert, "--tls-key", cert]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("missing.crt"), "{stderr}");
}
