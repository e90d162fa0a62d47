//! One tenant cannot stall or exhaust the server (issue 15 §2 and §4):
//! password hashing is bounded, a request body must arrive within a
//! deadline, `/metrics` labels cannot be minted by clients, and the
//! database files are private.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, json_with_status, on_postgres, spawn_app, spawn_app_with, TestApp,
};

/// A login of a user that does not exist: the dummy-hash path, which an
/// anonymous caller can drive with any name.
async fn login_unknown(app: &TestApp, i: usize) -> (u16, Value) {
    let r = app
        .client
        .post(app.url("/v1/sts/login"))
        .json(&json!({"account_id": app.account_id, "user_name": format!("nobody{i}"), "password": "guess"}))
        .send()
        .await
        .expect("login request");
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Every reply is the password check's own answer or the bound's; never a
/// 500. Returns how many the bound refused.
fn count_refused(replies: &[(u16, Value)], answered: u16) -> usize {
    let mut refused = 0;
    for (status, body) in replies {
        match status {
            503 => {
                assert_eq!(body["error"]["code"], "ServiceUnavailable", "{body}");
                refused += 1;
            }
            s if *s == answered => {}
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    refused
}

#[tokio::test]
async fn concurrent_logins_beyond_the_hashing_bound_are_refused_and_the_server_stays_up() {
    let app = spawn_app_with(|c| {
        c.password_hash_concurrency = Some(1);
        c.password_hash_queue = Some(1);
    })
    .await;
    let logins = (0..200).map(|i| login_unknown(&app, i));
    let health = async {
        // Asked while the logins are in flight: hashing has its own
        // threads, so the server still answers everything else.
        let r = app.client.get(app.url("/healthz")).send().await;
        r.expect("healthz").status().as_u16()
    };
    let (replies, health) = tokio::join!(futures_util::future::join_all(logins), health);
    assert_eq!(health, 200);
    let refused = count_refused(&replies, 401);
    assert!(refused > 0, "no login was refused by the bound");
    assert!(refused < replies.len(), "every login was refused");
    // Once the burst is over, logins are answered again.
    assert_eq!(login_unknown(&app, 1000).await.0, 401);
}

#[tokio::test]
async fn setting_passwords_goes_through_the_same_bound() {
    let app = spawn_app_with(|c| {
        c.password_hash_concurrency = Some(1);
        c.password_hash_queue = Some(0);
    })
    .await;
    let names: Vec<String> = (0..40).map(|i| format!("user{i}")).collect();
    for name in &names {
        app.create_user(name).await;
    }
    let app = &app;
    let puts = names.iter().map(|name| async move {
        let r = app
            .put(
                &format!("/v1/users/{name}/login-profile"),
                &json!({"password": "Correct-Horse-42!"}),
            )
            .await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    });
    let replies = futures_util::future::join_all(puts).await;
    let refused = count_refused(&replies, 201);
    assert!(refused > 0, "no password set was refused by the bound");
    assert!(refused < replies.len(), "every password set was refused");
}

/// Sends `head` and the first `sent` bytes of a `Content-Length: 100`
/// body, then stalls, and returns what the server answers. The read
/// timeout only keeps a failing test from hanging: without a body deadline
/// nothing ever comes back.
async fn stall_body(app: &TestApp, head: String, sent: &'static str) -> String {
    let port = app.port;
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("read timeout");
        stream
            .write_all(format!("{head}Content-Length: 100\r\n\r\n{sent}").as_bytes())
            .expect("send");
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
                Err(e) => {
                    assert!(!reply.is_empty(), "no reply to a stalled body: {e}");
                    break;
                }
            }
        }
        String::from_utf8_lossy(&reply).into_owned()
    })
    .await
    .expect("client thread")
}

fn basic(app: &TestApp) -> String {
    use base64::Engine as _;
    let pair = format!("{}:{}", app.root.access_key_id, app.root.secret_access_key);
    format!(
        "Authorization: Basic {}\r\n",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn assert_timed_out(reply: &str, code_in_body: &str) {
    assert!(reply.starts_with("HTTP/1.1 408"), "reply: {reply}");
    assert!(reply.contains(code_in_body), "reply: {reply}");
    // The rest of the body will never be read: the server closes the
    // connection after answering (the read above ended with EOF).
    assert!(
        reply.to_ascii_lowercase().contains("connection: close"),
        "reply: {reply}"
    );
}

async fn app_with_short_body_deadline() -> TestApp {
    spawn_app_with(|c| c.body_timeout_secs = 1).await
}

#[tokio::test]
async fn a_stalled_json_body_is_answered_408() {
    let app = app_with_short_body_deadline().await;
    let head = format!(
        "POST /v1/users HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\n",
        basic(&app)
    );
    let reply = stall_body(&app, head, "{\"name\": \"sl").await;
    assert_timed_out(&reply, "\"code\":\"RequestTimeout\"");
    // Nothing was created from the part that did arrive.
    let users = json_with_status(app.get("/v1/users").await, 200).await;
    assert_eq!(users["items"].as_array().map(Vec::len), Some(0), "{users}");
}

#[tokio::test]
async fn a_stalled_signed_body_is_answered_408() {
    // A SigV4 request's body is read before authentication (to hash it),
    // by its own code path.
    let app = app_with_short_body_deadline().await;
    let head = "POST /v1/users HTTP/1.1\r\nHost: localhost\r\n\
        Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/iam/aws4_request, \
        SignedHeaders=host, Signature=00\r\nContent-Type: application/json\r\n"
        .to_string();
    let reply = stall_body(&app, head, "{\"na").await;
    assert_timed_out(&reply, "RequestTimeout");
}

#[tokio::test]
async fn a_stalled_form_body_on_the_query_protocol_is_answered_408() {
    let app = app_with_short_body_deadline().await;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/x-www-form-urlencoded\r\n",
        basic(&app)
    );
    let reply = stall_body(&app, head, "Action=CreateUser&Vers").await;
    assert_timed_out(&reply, "<Code>RequestTimeout</Code>");
}

#[tokio::test]
async fn a_body_that_arrives_in_time_is_served() {
    let app = app_with_short_body_deadline().await;
    json_with_status(
        app.post("/v1/users", &json!({"name": "in-time"})).await,
        201,
    )
    .await;
}

async fn scrape(app: &TestApp) -> String {
    let r = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(r.status(), 200);
    r.text().await.expect("metrics text")
}

#[tokio::test]
async fn metrics_labels_are_not_minted_by_clients() {
    let app = spawn_app().await;
    for i in 0..50 {
        let method = Method::from_bytes(format!("MADEUP{i}").as_bytes()).expect("method");
        app.client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .expect("request");
    }
    let long = Method::from_bytes("X".repeat(8000).as_bytes()).expect("method");
    app.client
        .request(long, app.url("/healthz"))
        .send()
        .await
        .expect("request");
    // Raw paths: names and made-up routes.
    assert_error(
        app.get("/v1/users/secret-name-xyz").await,
        404,
        "NoSuchEntity",
    )
    .await;
    app.client
        .get(app.url("/made/up/path-abc"))
        .send()
        .await
        .expect("request");
    app.get("/v1/no-such-route-qrs").await;

    let text = scrape(&app).await;
    for raw in [
        "MADEUP",
        "XXXXXXXX",
        "secret-name-xyz",
        "path-abc",
        "no-such-route-qrs",
    ] {
        assert!(!text.contains(raw), "{raw} became a label:\n{text}");
    }
    assert!(
        text.contains(r#"method="other",route="/healthz""#),
        "unknown methods are not counted as other:\n{text}"
    );
    assert!(
        text.contains(r#"method="GET",route="/v1/users/{user}""#),
        "{text}"
    );
}

#[cfg(unix)]
fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_files_are_private_to_the_server() {
    let app = spawn_app().await;
    app.create_user("writer").await;
    let dir = app.data_dir.path();
    // On PostgreSQL the data directory holds only the key and the root's
    // credentials; the database's files are the cluster's.
    let database: &[&str] = if on_postgres() {
        &[]
    } else {
        &["latchkey.db", "latchkey.db-wal", "latchkey.db-shm"]
    };
    for file in database
        .iter()
        .chain(&["master.key", "root-credentials.json"])
    {
        assert_eq!(mode_of(&dir.join(file)), 0o600, "{file}");
    }
    assert_eq!(mode_of(dir), 0o700);
}
