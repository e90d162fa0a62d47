//! Online master-key rotation (`/v1/master-key`): requests signed with
//! existing keys and sessions keep succeeding before, during and after;
//! every secret ends sealed under the new key; a stop halfway is finished
//! at the next start; the previous key is forgotten and a server on the
//! new key alone still serves every credential; key material reaches no
//! response, audit record or log; only the management account may do it;
//! a key given by flag is rotated by rolling restart and `reseal_only`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey::auth::crypto::MasterKey;
use latchkey::config::Config;
use latchkey::startup::Application;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, captured_logs, json_with_status, serve_config, spawn_stoppable_app, stop_app,
    Credentials, Running, TestApp, TestDb,
};
use crate::signing::{send, sign_request, Signing};

/// A server on the test server's data directory and database, as `latchkey
/// serve` would start it.
async fn start(mut config: Config, adjust: impl FnOnce(&mut Config)) -> (String, Running) {
    adjust(&mut config);
    serve_config(config).await.expect("server starts")
}

fn key_hex(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap()
        .trim()
        .to_string()
}

fn check_of(hex_key: &str) -> String {
    MasterKey::from_hex(hex_key).unwrap().check()
}

/// A credential and, for a session, its token.
#[derive(Clone, Debug)]
struct Signer {
    creds: Credentials,
    token: Option<String>,
}

async fn session_of(client: &reqwest::Client, address: &str, creds: &Credentials) -> Signer {
    let r = client
        .post(format!("{address}/v1/sts/session-token"))
        .basic_auth(&creds.access_key_id, Some(&creds.secret_access_key))
        .send()
        .await
        .unwrap();
    let body = json_with_status(r, 200).await;
    let c = &body["credentials"];
    Signer {
        creds: Credentials {
            access_key_id: c["access_key_id"].as_str().unwrap().into(),
            secret_access_key: c["secret_access_key"].as_str().unwrap().into(),
        },
        token: Some(c["session_token"].as_str().unwrap().into()),
    }
}

/// GetCallerIdentity signed with SigV4 (and with Basic): the status codes.
async fn who(client: &reqwest::Client, address: &str, signer: &Signer) -> (u16, u16) {
    let url = format!("{address}/v1/sts/caller-identity");
    let signing = Signing {
        service: "sts",
        session_token: signer.token.as_deref(),
        ..Signing::now(&signer.creds)
    };
    let signed = sign_request(&signing, "GET", &url, &[], b"");
    let sigv4 = send(client, Method::GET, &signed, Vec::new())
        .await
        .status();
    let mut basic = client.get(&url).basic_auth(
        &signer.creds.access_key_id,
        Some(&signer.creds.secret_access_key),
    );
    if let Some(token) = &signer.token {
        basic = basic.header("X-Amz-Security-Token", token);
    }
    let basic = basic.send().await.unwrap().status();
    (sigv4.as_u16(), basic.as_u16())
}

async fn assert_all_sign(client: &reqwest::Client, address: &str, signers: &[Signer]) {
    for s in signers {
        assert_eq!(
            who(client, address, s).await,
            (200, 200),
            "{}",
            s.creds.access_key_id
        );
    }
}

/// Users with keys, a session of each and one of the root.
async fn credentials(app: &TestApp, users: usize) -> Vec<Signer> {
    let mut signers = vec![Signer {
        creds: app.root.clone(),
        token: None,
    }];
    for i in 0..users {
        let creds = app.user_with_key(&format!("user{i}")).await;
        signers.push(session_of(&app.client, &app.address, &creds).await);
        signers.push(Signer { creds, token: None });
    }
    signers.push(session_of(&app.client, &app.address, &app.root).await);
    signers
}

async fn status(client: &reqwest::Client, address: &str, root: &Credentials) -> Value {
    let r = client
        .get(format!("{address}/v1/master-key"))
        .basic_auth(&root.access_key_id, Some(&root.secret_access_key))
        .send()
        .await
        .unwrap();
    json_with_status(r, 200).await
}

async fn post(
    client: &reqwest::Client,
    address: &str,
    creds: &Credentials,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut r = client
        .post(format!("{address}{path}"))
        .basic_auth(&creds.access_key_id, Some(&creds.secret_access_key));
    if let Some(body) = body {
        r = r.json(&body);
    }
    r.send().await.unwrap()
}

/// Polls the status until the last run has ended; returns that status.
async fn until_run_ends(client: &reqwest::Client, address: &str, root: &Credentials) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s = status(client, address, root).await;
        if s["rotation"]["state"] != "running" {
            return s;
        }
        assert!(Instant::now() < deadline, "the rotation does not end: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every sealed value, and whether it names the key of `check`.
async fn sealed_under(db: &TestDb, check: &str) -> (usize, usize) {
    let header = [&[1u8][..], &hex::decode(check).unwrap()].concat();
    let mut rows = db.blobs("SELECT secret_ciphertext FROM access_keys").await;
    rows.extend(
        db.blobs("SELECT secret_ciphertext FROM role_sessions")
            .await,
    );
    let under = rows.iter().filter(|v| v.starts_with(&header)).count();
    (rows.len(), under)
}

/// Every audit record of the test server's database, as one text.
async fn audit_text(db: &TestDb) -> String {
    db.texts(
        "SELECT action || ' ' || coalesce(params, '') || coalesce(resource, '') || coalesce(error_code, '') FROM audit_events",
    )
    .await
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_rotation_keeps_every_credential_working_and_reseals_every_secret() {
    let (app, running) = spawn_stoppable_app(|c| {
        c.rotate_batch_size = 2;
        c.rotate_batch_pause_ms = 20;
    })
    .await;
    let dir = app.data_dir.path().to_path_buf();
    let signers = credentials(&app, 5).await;
    let old_key = key_hex(&dir, "master.key");
    let old_check = check_of(&old_key);
    let mut bodies = Vec::new();

    let before = status(&app.client, &app.address, &app.root).await;
    assert_eq!(before["current_key_check"], old_check.as_str());
    assert_eq!(before["database_key_check"], old_check.as_str());
    assert_eq!(before["previous_key_check"], Value::Null);
    assert_eq!(before["secrets_under_previous_key"], 0);
    assert_eq!(before["key_source"], "data_dir");
    assert_eq!(before["rotation"], Value::Null);
    bodies.push(before.to_string());
    assert_all_sign(&app.client, &app.address, &signers).await;

    // Traffic with every credential, and new keys sealed, all along.
    let stop_traffic = Arc::new(AtomicBool::new(false));
    let signed = Arc::new(AtomicUsize::new(0));
    let traffic = {
        let (client, address, signers) = (app.client.clone(), app.address.clone(), signers.clone());
        let (stop_traffic, signed) = (stop_traffic.clone(), signed.clone());
        tokio::spawn(async move {
            while !stop_traffic.load(Ordering::SeqCst) {
                for s in &signers {
                    let got = who(&client, &address, s).await;
                    assert_eq!(got, (200, 200), "{} during", s.creds.access_key_id);
                    signed.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    let r = post(
        &app.client,
        &app.address,
        &app.root,
        "/v1/master-key/rotate",
        Some(json!({})),
    )
    .await;
    let started = json_with_status(r, 202).await;
    bodies.push(started.to_string());
    let new_key = key_hex(&dir, "master.key");
    let new_check = check_of(&new_key);
    assert_ne!(new_check, old_check);
    assert_eq!(key_hex(&dir, "master.key.previous"), old_key);
    assert_eq!(started["current_key_check"], new_check.as_str());
    assert_eq!(started["previous_key_check"], old_check.as_str());
    assert_eq!(started["rotation"]["to_key_check"], new_check.as_str());
    assert_eq!(started["rotation"]["from_key_check"], old_check.as_str());
    assert!(started["rotation"]["id"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));

    // Keys and sessions made during the rotation are sealed under the new key.
    let mut late = Vec::new();
    for i in 0..3 {
        let creds = app.user_with_key(&format!("late{i}")).await;
        late.push(session_of(&app.client, &app.address, &creds).await);
        late.push(Signer { creds, token: None });
    }
    let done = until_run_ends(&app.client, &app.address, &app.root).await;
    bodies.push(done.to_string());
    let during = signed.load(Ordering::SeqCst);
    assert_eq!(done["rotation"]["state"], "completed", "{done}");
    assert_eq!(done["secrets_under_previous_key"], 0, "{done}");
    if done["database_key_check"] != new_check.as_str() {
        let audit = audit_text(&app.database().await).await;
        panic!("the database is not stamped with the new key: {done}\n{audit}");
    }
    // 1 root key + 5 users' keys, their 5 sessions and the root's.
    assert!(
        done["rotation"]["resealed"].as_u64().unwrap() >= 12,
        "{done}"
    );
    stop_traffic.store(true, Ordering::SeqCst);
    traffic.await.unwrap();
    assert!(
        signed.load(Ordering::SeqCst) > 0 && during > 0,
        "no request was signed during the rotation"
    );
    let (total, under_new) = sealed_under(&app.database().await, &new_check).await;
    assert_eq!(total, under_new, "every secret sealed under the new key");
    assert_eq!(total, 12 + 6);
    assert_all_sign(&app.client, &app.address, &signers).await;
    assert_all_sign(&app.client, &app.address, &late).await;

    // Rotating again needs the previous key forgotten first.
    let r = post(
        &app.client,
        &app.address,
        &app.root,
        "/v1/master-key/rotate",
        Some(json!({})),
    )
    .await;
    assert_error(r, 409, "PreviousMasterKeyHeld").await;
    let r = post(
        &app.client,
        &app.address,
        &app.root,
        "/v1/master-key/forget-previous",
        None,
    )
    .await;
    let forgotten = json_with_status(r, 200).await;
    bodies.push(forgotten.to_string());
    assert_eq!(forgotten["previous_key_check"], Value::Null);
    assert!(!dir.join("master.key.previous").exists());
    assert_all_sign(&app.client, &app.address, &signers).await;
    stop_app(running).await;

    // The new key alone: every old key and session still signs.
    let (address, running) = start(app.node_config(), |_| {}).await;
    let client = reqwest::Client::new();
    assert_all_sign(&client, &address, &signers).await;
    assert_all_sign(&client, &address, &late).await;
    let after = status(&client, &address, &app.root).await;
    assert_eq!(after["previous_key_check"], Value::Null);
    assert_eq!(after["database_key_check"], new_check.as_str());
    bodies.push(after.to_string());
    stop_app(running).await;

    // The old key alone is refused.
    let mut config = app.node_config();
    config.master_key = Some(old_key.clone().into());
    assert!(Application::build(config).await.is_err());

    let audit = audit_text(&app.database().await).await;
    assert!(audit.contains("latchkey:RotateMasterKey"), "{audit}");
    assert!(
        audit.contains("latchkey:ForgetPreviousMasterKey"),
        "{audit}"
    );
    assert!(audit.contains("\"completed\":true"), "{audit}");
    for text in bodies.iter().chain([&audit, &captured_logs()]) {
        assert!(
            !text.contains(&old_key) && !text.contains(&new_key),
            "key material leaked"
        );
        assert!(
            !text.contains(&old_key.to_uppercase()) && !text.contains(&new_key.to_uppercase()),
            "key material leaked"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_stopped_halfway_is_finished_at_the_next_start() {
    // One secret a batch and a pause no test waits out: the run is still
    // going whatever the machine's speed.
    let (app, running) = spawn_stoppable_app(|c| {
        c.rotate_batch_size = 1;
        c.rotate_batch_pause_ms = 600_000;
    })
    .await;
    let dir = app.data_dir.path().to_path_buf();
    let signers = credentials(&app, 2).await;
    let old_check = check_of(&key_hex(&dir, "master.key"));
    let r = post(
        &app.client,
        &app.address,
        &app.root,
        "/v1/master-key/rotate",
        Some(json!({})),
    )
    .await;
    let started = json_with_status(r, 202).await;
    assert_eq!(started["rotation"]["state"], "running");
    let new_check = started["current_key_check"].as_str().unwrap().to_string();

    // One run at a time; nothing forgotten while it runs.
    let again = post(
        &app.client,
        &app.address,
        &app.root,
        "/v1/master-key/rotate",
        Some(json!({"reseal_only": true})),
    )
    .await;
    assert_error(again, 409, "ConcurrentModification").await;
    let forget = post(
        &app.client,
        &app.address,
        &app.root,
        "/v1/master-key/forget-previous",
        None,
    )
    .await;
    assert_error(forget, 409, "ConcurrentModification").await;

    let deadline = Instant::now() + Duration::from_secs(60);
    let halfway = loop {
        let s = status(&app.client, &app.address, &app.root).await;
        if s["rotation"]["resealed"].as_u64().unwrap() >= 1 {
            break s;
        }
        assert!(Instant::now() < deadline, "no batch committed: {s}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(halfway["rotation"]["state"], "running");
    assert!(halfway["secrets_under_previous_key"].as_i64().unwrap() > 0);
    assert_eq!(halfway["database_key_check"], old_check.as_str());
    assert_all_sign(&app.client, &app.address, &signers).await;
    stop_app(running).await;
    let (total, under_new) = sealed_under(&app.database().await, &new_check).await;
    assert!(
        under_new >= 1 && under_new < total,
        "{under_new} of {total}"
    );

    // The next start picks the rotation up from the key files.
    let (address, running) = start(app.node_config(), |_| {}).await;
    let client = reqwest::Client::new();
    assert_all_sign(&client, &address, &signers).await;
    let done = until_run_ends(&client, &address, &app.root).await;
    assert_eq!(done["rotation"]["state"], "completed", "{done}");
    assert_eq!(done["rotation"]["resumed"], true);
    assert_eq!(done["current_key_check"], new_check.as_str());
    assert_eq!(done["previous_key_check"], old_check.as_str());
    assert_eq!(done["database_key_check"], new_check.as_str(), "{done}");
    assert_eq!(done["secrets_under_previous_key"], 0);
    let (total, under_new) = sealed_under(&app.database().await, &new_check).await;
    assert_eq!(total, under_new);
    assert_all_sign(&client, &address, &signers).await;
    stop_app(running).await;
}

#[tokio::test]
async fn only_the_management_account_manages_the_master_key() {
    let (app, _running) = spawn_stoppable_app(|_| {}).await;
    let plain = app.user_with_key("plain").await;
    let tenant = json_with_status(
        app.post("/v1/accounts", &json!({"name": "tenant"})).await,
        201,
    )
    .await;
    let tenant_root = Credentials {
        access_key_id: tenant["root_credentials"]["access_key_id"]
            .as_str()
            .unwrap()
            .into(),
        secret_access_key: tenant["root_credentials"]["secret_access_key"]
            .as_str()
            .unwrap()
            .into(),
    };
    let check_before =
        status(&app.client, &app.address, &app.root).await["current_key_check"].clone();
    for creds in [&plain, &tenant_root] {
        let r = app
            .request_as(creds, Method::GET, "/v1/master-key")
            .send()
            .await
            .unwrap();
        assert_error(r, 403, "AccessDenied").await;
        for path in ["/v1/master-key/rotate", "/v1/master-key/forget-previous"] {
            let r = app
                .send_as(creds, Method::POST, path, Some(&json!({})))
                .await;
            assert_error(r, 403, "AccessDenied").await;
        }
    }
    let after = status(&app.client, &app.address, &app.root).await;
    assert_eq!(after["current_key_check"], check_before);
    assert_eq!(after["rotation"], Value::Null);

    // A management user with the policy may read the status (not rotate).
    app.put_inline(
        "/v1/users/plain/policies/keys",
        crate::helpers::policy("Allow", "latchkey:GetMasterKeyStatus", "*"),
    )
    .await;
    let r = app
        .request_as(&plain, Method::GET, "/v1/master-key")
        .send()
        .await
        .unwrap();
    json_with_status(r, 200).await;
    let r = app
        .send_as(
            &plain,
            Method::POST,
            "/v1/master-key/rotate",
            Some(&json!({})),
        )
        .await;
    assert_error(r, 403, "AccessDenied").await;
    let r = app
        .send_as(
            &app.root,
            Method::POST,
            "/v1/master-key/rotate",
            Some(&json!({"reseal_only": "yes"})),
        )
        .await;
    assert_error(r, 400, "ValidationError").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_given_by_flag_rotates_by_rolling_restart_and_reseal_only() {
    let old_key = MasterKey::generate_hex();
    let new_key = MasterKey::generate_hex();
    let (old_check, new_check) = (check_of(&old_key), check_of(&new_key));
    let given = old_key.clone();
    let (app, running) = spawn_stoppable_app(move |c| c.master_key = Some(given.into())).await;
    let dir = app.data_dir.path().to_path_buf();
    let signers = credentials(&app, 2).await;
    let s = status(&app.client, &app.address, &app.root).await;
    assert_eq!(s["key_source"], "configuration");
    let r = post(
        &app.client,
        &app.address,
        &app.root,
        "/v1/master-key/rotate",
        Some(json!({})),
    )
    .await;
    let refused = assert_error(r, 409, "MasterKeyGiven").await;
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("--previous-master-key OLD") && message.contains("reseal_only"),
        "{message}"
    );
    stop_app(running).await;

    // The rolling restart: both keys, the new one current.
    let (new, old) = (new_key.clone(), old_key.clone());
    let (address, running) = start(app.node_config(), move |c| {
        c.master_key = Some(new.into());
        c.previous_master_key = Some(old.into());
    })
    .await;
    let client = reqwest::Client::new();
    let s = status(&client, &address, &app.root).await;
    assert_eq!(s["current_key_check"], new_check.as_str());
    assert_eq!(s["previous_key_check"], old_check.as_str());
    assert_eq!(s["database_key_check"], old_check.as_str());
    assert_eq!(
        s["rotation"],
        Value::Null,
        "keys by flag: no re-seal at start"
    );
    assert!(s["secrets_under_previous_key"].as_i64().unwrap() > 0);
    assert_all_sign(&client, &address, &signers).await;
    let r = post(
        &client,
        &address,
        &app.root,
        "/v1/master-key/forget-previous",
        None,
    )
    .await;
    assert_error(r, 409, "DeleteConflict").await;
    let r = post(
        &client,
        &address,
        &app.root,
        "/v1/master-key/rotate",
        Some(json!({"reseal_only": true})),
    )
    .await;
    let started = json_with_status(r, 202).await;
    assert_eq!(started["rotation"]["reseal_only"], true);
    let done = until_run_ends(&client, &address, &app.root).await;
    assert_eq!(done["rotation"]["state"], "completed", "{done}");
    assert_eq!(done["database_key_check"], new_check.as_str(), "{done}");
    assert_eq!(done["secrets_under_previous_key"], 0);
    let r = post(
        &client,
        &address,
        &app.root,
        "/v1/master-key/forget-previous",
        None,
    )
    .await;
    assert_eq!(
        json_with_status(r, 200).await["previous_key_check"],
        Value::Null
    );
    assert_all_sign(&client, &address, &signers).await;
    stop_app(running).await;

    let new = new_key.clone();
    let (address, running) =
        start(app.node_config(), move |c| c.master_key = Some(new.into())).await;
    assert_all_sign(&client, &address, &signers).await;
    stop_app(running).await;
    assert!(!dir.join("master.key").exists(), "no key file was written");
    let audit = audit_text(&app.database().await).await;
    assert!(!audit.contains(&old_key) && !audit.contains(&new_key));
}
