//! `latchkey backup`, `restore` and `master-key`, run as the built binary
//! against the data directories of real servers: a backup taken under
//! load restores everything acknowledged before it began; restores refuse
//! another key's copy and a live database; a rotation killed halfway
//! finishes when run again, and every credential still works after it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use latchkey::auth::crypto::MasterKey;
use latchkey::config::Config;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    captured_logs, serve_config, skip_on_postgres, spawn_stoppable_app, stop_app, Credentials,
    Running,
};
use crate::signing::{send, sign_request, Signing};

fn latchkey(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .envs(envs.iter().copied())
        .env_remove("LATCHKEY_MASTER_KEY")
        .env_remove("LATCHKEY_DATA_DIR")
        .output()
        .expect("run latchkey")
}

async fn latchkey_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        latchkey(&args, &[])
    })
    .await
    .unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn key_hex(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("master.key"))
        .unwrap()
        .trim()
        .to_string()
}

fn check_of(hex_key: &str) -> String {
    MasterKey::from_hex(hex_key).unwrap().check()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn s(path: &Path) -> String {
    path.display().to_string()
}

/// A server on `dir` as `latchkey serve` would start it.
async fn start(dir: &Path, adjust: impl FnOnce(&mut Config)) -> anyhow::Result<(String, Running)> {
    let mut config = Config::for_data_dir(dir);
    adjust(&mut config);
    serve_config(config).await
}

/// Temporary credentials of `creds`' owner (GetSessionToken).
#[derive(Clone, Debug)]
struct Session {
    creds: Credentials,
    token: String,
}

async fn session_of(client: &reqwest::Client, address: &str, creds: &Credentials) -> Session {
    let r = client
        .post(format!("{address}/v1/sts/session-token"))
        .basic_auth(&creds.access_key_id, Some(&creds.secret_access_key))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let c = &body["credentials"];
    Session {
        creds: Credentials {
            access_key_id: c["access_key_id"].as_str().unwrap().into(),
            secret_access_key: c["secret_access_key"].as_str().unwrap().into(),
        },
        token: c["session_token"].as_str().unwrap().into(),
    }
}

/// GetCallerIdentity with Basic and with SigV4; returns the ARN both saw.
async fn who(
    client: &reqwest::Client,
    address: &str,
    creds: &Credentials,
    token: Option<&str>,
) -> String {
    let url = format!("{address}/v1/sts/caller-identity");
    let mut basic = client
        .get(&url)
        .basic_auth(&creds.access_key_id, Some(&creds.secret_access_key));
    if let Some(token) = token {
        basic = basic.header("X-Amz-Security-Token", token);
    }
    let r = basic.send().await.unwrap();
    assert_eq!(r.status(), 200, "Basic as {}", creds.access_key_id);
    let arn = r.json::<Value>().await.unwrap()["arn"]
        .as_str()
        .unwrap()
        .to_string();
    let signing = Signing {
        service: "sts",
        session_token: token,
        ..Signing::now(creds)
    };
    let signed = sign_request(&signing, "GET", &url, &[], b"");
    let r = send(client, Method::GET, &signed, Vec::new()).await;
    assert_eq!(r.status(), 200, "SigV4 as {}", creds.access_key_id);
    assert_eq!(r.json::<Value>().await.unwrap()["arn"], arn.as_str());
    arn
}

async fn open_read_only(path: &Path) -> sqlx::SqlitePool {
    use std::str::FromStr as _;
    let options =
        sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .unwrap()
            .read_only(true);
    sqlx::SqlitePool::connect_with(options).await.unwrap()
}

/// Every sealed secret: (table, key id, sealed value).
async fn sealed_secrets(db: &sqlx::SqlitePool) -> Vec<(String, String, Vec<u8>)> {
    let mut all = Vec::new();
    for table in ["access_keys", "role_sessions"] {
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT access_key_id, secret_ciphertext FROM {table}"
        )))
        .fetch_all(db)
        .await
        .unwrap();
        all.extend(rows.into_iter().map(|(id, v)| (table.to_string(), id, v)));
    }
    all
}

fn header_of(check: &str) -> Vec<u8> {
    [&[1u8][..], &hex::decode(check).unwrap()].concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_every_acknowledged_write() {
    if skip_on_postgres("backup, restore and these offline commands work on the SQLite file") {
        return;
    }
    let (app, running) = spawn_stoppable_app(|_| {}).await;
    let early = app.user_with_key("early-bird").await;
    let early_session = session_of(&app.client, &app.address, &early).await;

    // Writers create users, keys and sessions until the backup is done;
    // what each acknowledged before the backup began must be in the copy.
    let started = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let before: Arc<Mutex<Vec<(String, Credentials, Session)>>> = Default::default();
    let mut writers = Vec::new();
    for w in 0..3 {
        let (started, done, acknowledged, before) = (
            started.clone(),
            done.clone(),
            acknowledged.clone(),
            before.clone(),
        );
        let (client, address, root) = (app.client.clone(), app.address.clone(), app.root.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !done.load(Ordering::SeqCst) {
                let name = format!("writer{w}-{i}");
                i += 1;
                let r = client
                    .post(format!("{address}/v1/users"))
                    .basic_auth(&root.access_key_id, Some(&root.secret_access_key))
                    .json(&json!({"name": name}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let r = client
                    .post(format!("{address}/v1/users/{name}/access-keys"))
                    .basic_auth(&root.access_key_id, Some(&root.secret_access_key))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let key: Value = r.json().await.unwrap();
                let creds = Credentials {
                    access_key_id: key["access_key_id"].as_str().unwrap().into(),
                    secret_access_key: key["secret_access_key"].as_str().unwrap().into(),
                };
                let session = session_of(&client, &address, &creds).await;
                // All three were acknowledged before this load: if the
                // backup had not begun then, it must hold them.
                if !started.load(Ordering::SeqCst) {
                    before.lock().unwrap().push((name, creds, session));
                }
                acknowledged.fetch_add(1, Ordering::SeqCst);
            }
            i
        }));
    }
    while acknowledged.load(Ordering::SeqCst) < 6 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("latchkey-backup.db");
    started.store(true, Ordering::SeqCst);
    let at_start = acknowledged.load(Ordering::SeqCst);
    let out = latchkey_async(vec![
        "backup".into(),
        "--to".into(),
        s(&file),
        "--data-dir".into(),
        s(app.data_dir.path()),
    ])
    .await;
    let during = acknowledged.load(Ordering::SeqCst) - at_start;
    done.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    assert!(out.status.success(), "{}", text(&out.stderr));
    eprintln!("writes acknowledged while the backup ran: {during}");

    // The copy: 0600, integrity ok, and a manifest that describes it.
    assert_eq!(mode(&file), 0o600);
    let copy = open_read_only(&file).await;
    let (integrity,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&copy)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    let (users_in_copy,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(&copy)
        .await
        .unwrap();
    copy.close().await;
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(backups.path().join("latchkey-backup.db.manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        manifest,
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    );
    let key = key_hex(app.data_dir.path());
    assert_eq!(manifest["master_key_check"], check_of(&key).as_str());
    assert_eq!(
        manifest["schema_version"],
        latchkey::store::backup::latest_schema_version()
    );
    assert_eq!(manifest["integrity"], "ok");
    assert_eq!(manifest["row_counts"]["users"], users_in_copy);
    assert_eq!(manifest["bytes"], std::fs::metadata(&file).unwrap().len());
    assert!(manifest["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(!text(&out.stdout).contains(&key) && !text(&out.stderr).contains(&key));

    // Restored into a new directory (with the key the backup was taken
    // under), a server holds every acknowledged write.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(
        app.data_dir.path().join("master.key"),
        restored.path().join("master.key"),
    )
    .unwrap();
    let out = latchkey_async(vec![
        "restore".into(),
        "--from".into(),
        s(&file),
        "--data-dir".into(),
        s(restored.path()),
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&restored.path().join("latchkey.db")), 0o600);
    stop_app(running).await;

    let (address, running) = start(restored.path(), |_| {}).await.unwrap();
    let client = reqwest::Client::new();
    assert!(who(&client, &address, &early, None)
        .await
        .ends_with(":user/early-bird"));
    who(
        &client,
        &address,
        &early_session.creds,
        Some(&early_session.token),
    )
    .await;
    let before = before.lock().unwrap().clone();
    assert!(before.len() >= 6);
    for (name, creds, session) in &before {
        let r = client
            .get(format!("{address}/v1/users/{name}"))
            .basic_auth(&app.root.access_key_id, Some(&app.root.secret_access_key))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name} was acknowledged before the backup");
        assert!(who(&client, &address, creds, None)
            .await
            .ends_with(&format!(":user/{name}")));
        who(&client, &address, &session.creds, Some(&session.token)).await;
    }
    stop_app(running).await;
}

#[tokio::test]
async fn restore_refuses_another_keys_copy_a_damaged_copy_and_a_live_database() {
    if skip_on_postgres("backup, restore and these offline commands work on the SQLite file") {
        return;
    }
    let (app, running) = spawn_stoppable_app(|_| {}).await;
    app.user_with_key("alice").await;
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("b.db");
    let out = latchkey(
        &[
            "backup",
            "--to",
            &s(&file),
            "--data-dir",
            &s(app.data_dir.path()),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A second backup to the same file is refused: nothing is overwritten.
    let again = latchkey(
        &[
            "backup",
            "--to",
            &s(&file),
            "--data-dir",
            &s(app.data_dir.path()),
        ],
        &[],
    );
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("exists"),
        "{}",
        text(&again.stderr)
    );
    stop_app(running).await;
    let key = key_hex(app.data_dir.path());

    // Another master key: refused with both check values.
    let other = tempfile::tempdir().unwrap();
    let other_key = MasterKey::generate_hex();
    std::fs::write(other.path().join("master.key"), &other_key).unwrap();
    let out = latchkey(
        &[
            "restore",
            "--from",
            &s(&file),
            "--data-dir",
            &s(other.path()),
        ],
        &[],
    );
    assert!(!out.status.success());
    let expected = format!(
        "was sealed under master key {}, but the key given has check {}",
        check_of(&key),
        check_of(&other_key)
    );
    assert!(
        text(&out.stderr).contains(&expected),
        "{}",
        text(&out.stderr)
    );
    assert!(!other.path().join("latchkey.db").exists());
    // The same with --master-key.
    let out = latchkey(
        &[
            "restore",
            "--from",
            &s(&file),
            "--data-dir",
            &s(other.path()),
            "--master-key",
            &other_key,
        ],
        &[],
    );
    assert!(
        text(&out.stderr).contains(&expected),
        "{}",
        text(&out.stderr)
    );
    assert!(!other.path().join("latchkey.db").exists());

    // A live database in the directory: refused, left as it was.
    let live = tempfile::tempdir().unwrap();
    std::fs::write(live.path().join("master.key"), &key).unwrap();
    std::fs::write(live.path().join("latchkey.db"), b"the live database").unwrap();
    let out = latchkey(
        &[
            "restore",
            "--from",
            &s(&file),
            "--data-dir",
            &s(live.path()),
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("restore never overwrites a database"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read(live.path().join("latchkey.db")).unwrap(),
        b"the live database"
    );

    // A damaged copy: refused, nothing written.
    let mut bytes = std::fs::read(&file).unwrap();
    let page = 4096;
    for b in &mut bytes[page + 8..page + 64] {
        *b = 0xA5;
    }
    let damaged = backups.path().join("damaged.db");
    std::fs::write(&damaged, &bytes).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    std::fs::write(fresh.path().join("master.key"), &key).unwrap();
    let out = latchkey(
        &[
            "restore",
            "--from",
            &s(&damaged),
            "--data-dir",
            &s(fresh.path()),
        ],
        &[],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("integrity") || stderr.contains("malformed"),
        "{stderr}"
    );
    assert!(!fresh.path().join("latchkey.db").exists());

    // The right key restores.
    let out = latchkey(
        &[
            "restore",
            "--from",
            &s(&file),
            "--data-dir",
            &s(fresh.path()),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_killed_halfway_finishes_when_run_again_and_every_credential_still_works() {
    if skip_on_postgres("backup, restore and these offline commands work on the SQLite file") {
        return;
    }
    let (app, running) = spawn_stoppable_app(|_| {}).await;
    let dir = app.data_dir.path().to_path_buf();
    let mut keys = vec![("root".to_string(), app.root.clone())];
    let mut sessions = Vec::new();
    for i in 0..8 {
        let name = format!("user{i}");
        let creds = app.user_with_key(&name).await;
        sessions.push(session_of(&app.client, &app.address, &creds).await);
        keys.push((name, creds));
    }
    sessions.push(session_of(&app.client, &app.address, &app.root).await);

    // Offline only: refused while the server runs.
    let out = latchkey(&["master-key", "rotate", "--data-dir", &s(&dir)], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("stop it first"),
        "{}",
        text(&out.stderr)
    );
    stop_app(running).await;

    let old_key = key_hex(&dir);
    let old_check = check_of(&old_key);
    let db_path = dir.join("latchkey.db");
    let total = sealed_secrets(&open_read_only(&db_path).await).await.len();
    assert_eq!(total, 9 + 9);

    // Two secrets a batch, a pause between batches; killed (SIGKILL) once
    // the first batch has committed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["master-key", "rotate", "--data-dir", &s(&dir)])
        .env("LATCHKEY_ROTATE_BATCH_SIZE", "2")
        .env("LATCHKEY_ROTATE_BATCH_PAUSE_MS", "200")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let db = open_read_only(&db_path).await;
    loop {
        let (batches,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'latchkey:RotateMasterKey'",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        if batches > 0 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the rotation ended before its first batch was seen"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let new_key = key_hex(&dir);
    let new_check = check_of(&new_key);
    assert_ne!(new_check, old_check);
    assert_eq!(
        std::fs::read_to_string(dir.join("master.key.previous"))
            .unwrap()
            .trim(),
        old_key
    );
    let under_new = sealed_secrets(&db)
        .await
        .iter()
        .filter(|(_, _, v)| v.starts_with(&header_of(&new_check)))
        .count();
    assert!(
        under_new >= 2 && under_new < total,
        "{under_new} of {total} re-sealed when killed"
    );
    let (stamped,): (String,) = sqlx::query_as("SELECT key_check FROM master_key")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stamped, old_check, "the check changes only at the end");

    // Run again: it finishes.
    let out = latchkey(&["master-key", "rotate", "--data-dir", &s(&dir)], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&new_check),
        "{}",
        text(&out.stdout)
    );
    let old = MasterKey::from_hex(&old_key).unwrap();
    let new = MasterKey::from_hex(&new_key).unwrap();
    let secrets = sealed_secrets(&db).await;
    assert_eq!(secrets.len(), total, "nothing lost");
    for (table, id, sealed) in &secrets {
        assert!(sealed.starts_with(&header_of(&new_check)), "{table} {id}");
        assert!(
            old.open(id, sealed).is_err(),
            "{table} {id} opens under the old key"
        );
        new.open(id, sealed).unwrap();
    }
    let (stamped,): (String,) = sqlx::query_as("SELECT key_check FROM master_key")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stamped, new_check);
    let rotated: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, params FROM audit_events WHERE action LIKE 'latchkey:%MasterKey%'",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    // One record per batch, with its count (2 per batch in the killed
    // run): every secret re-sealed exactly once across the two runs.
    let batches: Vec<Value> = rotated
        .iter()
        .filter(|(action, _)| action == "latchkey:RotateMasterKey")
        .map(|(_, params)| serde_json::from_str::<Value>(params).unwrap())
        .filter(|p| p.get("resealed").is_some())
        .collect();
    let resealed: u64 = batches
        .iter()
        .map(|p| p["resealed"].as_u64().unwrap())
        .sum();
    assert_eq!(resealed as usize, total, "{rotated:?}");
    assert!(batches.iter().any(|p| p["resealed"] == 2), "{rotated:?}");
    assert!(
        rotated
            .iter()
            .any(|(_, p)| p.contains("\"completed\":true")),
        "{rotated:?}"
    );
    let audit_text: Vec<(String,)> = sqlx::query_as(
        "SELECT coalesce(params, '') || coalesce(resource, '') || coalesce(error_code, '') FROM audit_events",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    for (row,) in &audit_text {
        assert!(
            !row.contains(&old_key) && !row.contains(&new_key),
            "key material in the audit trail"
        );
    }
    db.close().await;

    // Every key and session authenticates (Basic and SigV4) on a server
    // started with the new key and the previous one.
    let (address, running) = start(&dir, |_| {}).await.unwrap();
    let client = reqwest::Client::new();
    for (name, creds) in &keys {
        let arn = who(&client, &address, creds, None).await;
        assert!(
            arn.ends_with(&format!(":{name}")) || arn.ends_with(&format!("/{name}")),
            "{arn}"
        );
    }
    for session in &sessions {
        who(&client, &address, &session.creds, Some(&session.token)).await;
    }
    stop_app(running).await;

    let out = latchkey(
        &["master-key", "forget-previous", "--data-dir", &s(&dir)],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!dir.join("master.key.previous").exists());
    let logs = captured_logs();
    assert!(
        !logs.contains(&old_key) && !logs.contains(&new_key),
        "key material in a log"
    );

    // The old key alone is refused at start, with both check values.
    let refused = start(&dir, |c| c.master_key = Some(old_key.clone().into())).await;
    let Err(refusal) = refused else {
        panic!("the old key must be refused")
    };
    let message = format!("{refusal:#}");
    assert!(
        message.contains(&format!(
            "this database was sealed under master key {new_check}, but the key given has check {old_check}"
        )),
        "{message}"
    );
    // The new key alone is enough now.
    let (address, running) = start(&dir, |_| {}).await.unwrap();
    who(&reqwest::Client::new(), &address, &keys[1].1, None).await;
    stop_app(running).await;
}

#[tokio::test]
async fn a_server_started_with_another_master_key_refuses_to_start() {
    if skip_on_postgres("backup, restore and these offline commands work on the SQLite file") {
        return;
    }
    let (app, running) = spawn_stoppable_app(|_| {}).await;
    app.user_with_key("alice").await;
    stop_app(running).await;
    let dir: PathBuf = app.data_dir.path().to_path_buf();
    let right = check_of(&key_hex(&dir));
    let wrong_key = MasterKey::generate_hex();
    let refused = start(&dir, |c| c.master_key = Some(wrong_key.clone().into())).await;
    let Err(refusal) = refused else {
        panic!("another key must be refused")
    };
    let message = format!("{refusal:#}");
    assert!(
        message.contains(&format!(
            "this database was sealed under master key {right}, but the key given has check {}",
            check_of(&wrong_key)
        )),
        "{message}"
    );
    assert!(!message.contains(&wrong_key));
    // The same with another master.key file.
    std::fs::write(dir.join("master.key"), &wrong_key).unwrap();
    let refused = start(&dir, |_| {}).await;
    let Err(refusal) = refused else {
        panic!("another master.key must be refused")
    };
    assert!(format!("{refusal:#}").contains(&right));
}
