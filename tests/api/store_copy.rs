//! `latchkey store copy`, run as the built binary: a SQLite server
//! populated through the API is stopped, copied into a fresh PostgreSQL
//! database, and a server on PostgreSQL with the same master key serves
//! the same users, keys, sessions, workloads and audit trail. The
//! refusals (an unknown table or column, another master key, a target
//! that holds data) are checked too; the first two need no PostgreSQL.

use std::path::Path;
use std::process::{Command, Output};

use latchkey::startup::Application;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    json_with_status, on_postgres, policy, serve, spawn_stoppable_app, stop_app, Credentials,
    Running, TestApp,
};
use crate::signing::{send, sign_request, Signing};
use crate::workloads::{fetch_ok, setup as workload_setup, whoami};

fn latchkey(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .env_remove("LATCHKEY_DATA_DIR")
        .env_remove("LATCHKEY_MASTER_KEY")
        .output()
        .expect("run latchkey")
}

async fn latchkey_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        latchkey(&args)
    })
    .await
    .unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// A server on SQLite (whatever the test pass), kept to be stopped.
async fn sqlite_app() -> (TestApp, Running) {
    spawn_stoppable_app(|c| c.database_url = None).await
}

fn sha256_of(path: &Path) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// GetCallerIdentity signed with SigV4 (AWS's signer); returns the ARN.
async fn arn_by_sigv4(app: &TestApp, creds: &Credentials, token: Option<&str>) -> String {
    let url = app.url("/v1/sts/caller-identity");
    let signing = Signing {
        service: "sts",
        session_token: token,
        ..Signing::now(creds)
    };
    let signed = sign_request(&signing, "GET", &url, &[], b"");
    let r = send(&app.client, Method::GET, &signed, Vec::new()).await;
    assert_eq!(r.status(), 200, "SigV4 as {}", creds.access_key_id);
    r.json::<Value>().await.unwrap()["arn"]
        .as_str()
        .unwrap()
        .to_string()
}

fn gauge(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in the scrape"))
}

async fn scrape(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The printed table: (table, source, target) per line.
fn printed_counts(stdout: &str) -> Vec<(String, i64, i64)> {
    stdout
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let table = w.next()?.to_string();
            let source = w.next()?.parse().ok()?;
            let target = w.next()?.parse().ok()?;
            Some((table, source, target))
        })
        .collect()
}

/// Everything the copy must carry: users with keys and a password,
/// a group, a role with inline and attached policies, a policy with
/// versions, tags, sessions (own and assumed), a workload and its role
/// session, and the audit trail of all of it.
struct Populated {
    alice: Credentials,
    own_session: (Credentials, String),
    assumed: (Credentials, String),
    workload_token: String,
}

async fn populate(app: &TestApp) -> Populated {
    let alice = app.user_with_key("alice").await;
    app.user_with_key("bob").await;
    json_with_status(
        app.put(
            "/v1/users/alice/login-profile",
            &json!({"password": "correct-horse-battery"}),
        )
        .await,
        201,
    )
    .await;
    json_with_status(app.post("/v1/groups", &json!({"name": "devs"})).await, 201).await;
    json_with_status(
        app.put("/v1/groups/devs/members/bob", &json!({})).await,
        204,
    )
    .await;
    let arn = app
        .create_policy("readers", policy("Allow", "iam:GetUser", "*"))
        .await;
    json_with_status(
        app.post(
            "/v1/policies/readers/versions",
            &json!({"document": policy("Allow", "iam:List*", "*"), "set_as_default": true}),
        )
        .await,
        201,
    )
    .await;
    app.attach("groups", "devs", &arn).await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", app.account_id)},
        "Action": "sts:AssumeRole"}]});
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "deployer", "trust_policy": trust, "tags": [{"key": "team", "value": "ops"}]}),
        )
        .await,
        201,
    )
    .await;
    app.put_inline(
        "/v1/users/alice/policies/assume",
        policy("Allow", "sts:AssumeRole", "*"),
    )
    .await;
    app.put_inline(
        "/v1/roles/deployer/policies/read",
        policy("Allow", "iam:Get*", "*"),
    )
    .await;
    let own = json_with_status(
        app.request_as(&alice, Method::POST, "/v1/sts/session-token")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let assumed = json_with_status(
        app.request_as(&alice, Method::POST, "/v1/sts/assume-role")
            .json(&json!({
                "role_arn": format!("arn:aws:iam::{}:role/deployer", app.account_id),
                "role_session_name": "moving"}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    // A revoked session: its minute's count goes back to 0 on the source.
    let gone = json_with_status(
        app.request_as(&alice, Method::POST, "/v1/sts/assume-role")
            .json(&json!({
                "role_arn": format!("arn:aws:iam::{}:role/deployer", app.account_id),
                "role_session_name": "gone", "duration_seconds": 1800}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let gone_key = gone["credentials"]["access_key_id"].as_str().unwrap();
    json_with_status(
        app.delete(&format!("/v1/roles/deployer/sessions/{gone_key}"))
            .await,
        204,
    )
    .await;
    json_with_status(
        app.post("/v1/services", &crate::services::store_service())
            .await,
        201,
    )
    .await;
    let workload = workload_setup(app).await;
    fetch_ok(app, &workload.token).await;
    let session = |reply: &Value| {
        let c = &reply["credentials"];
        (
            Credentials {
                access_key_id: c["access_key_id"].as_str().unwrap().into(),
                secret_access_key: c["secret_access_key"].as_str().unwrap().into(),
            },
            c["session_token"].as_str().unwrap().to_string(),
        )
    };
    Populated {
        alice,
        own_session: session(&own),
        assumed: session(&assumed),
        workload_token: workload.token,
    }
}

/// What a client sees of the data, to compare before and after.
async fn view(app: &TestApp) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/v1/users",
        "/v1/users/alice/access-keys",
        "/v1/users/bob/access-keys",
        "/v1/groups",
        "/v1/roles",
        "/v1/policies?scope=Local",
        "/v1/policies/readers/versions",
        "/v1/roles/deployer/sessions",
        "/v1/workloads",
    ] {
        let mut page = json_with_status(app.get(path).await, 200).await;
        // Last-used stamps move with every request made to compare.
        strip(&mut page, "last_used");
        seen.push(json!({ path: page }));
    }
    seen
}

fn strip(value: &mut Value, prefix: &str) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with(prefix));
            map.values_mut().for_each(|v| strip(v, prefix));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip(v, prefix)),
        _ => {}
    }
}

async fn audit_events(app: &TestApp) -> Vec<Value> {
    let page = json_with_status(app.get("/v1/audit/events?max_items=1000").await, 200).await;
    assert_eq!(page["is_truncated"], false);
    page["items"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_server_moves_to_postgres_with_its_keys_sessions_and_audit_trail() {
    if !on_postgres() {
        println!(
            "skipped: LATCHKEY_TEST_DATABASE_URL is unset (run it with scripts/with-postgres.sh)"
        );
        return;
    }
    let (app, running) = sqlite_app().await;
    let made = populate(&app).await;
    let before = view(&app).await;
    let events_before = audit_events(&app).await;
    let active_before = gauge(&scrape(&app).await, "latchkey_active_sessions");
    assert!(active_before >= 3.0, "{active_before}");
    stop_app(running).await;

    let dir = app.data_dir.path().to_path_buf();
    let db = dir.join("latchkey.db");
    let digest = sha256_of(&db);
    let target_url = app
        .postgres
        .as_ref()
        .expect("a fresh PostgreSQL database")
        .url
        .clone();
    let args = vec![
        "store".to_string(),
        "copy".into(),
        "--from".into(),
        format!("sqlite://{}", db.display()),
        "--to".into(),
        target_url.clone(),
        "--data-dir".into(),
        dir.display().to_string(),
    ];
    let out = latchkey_async(args.clone()).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    println!("{stdout}");
    assert_eq!(sha256_of(&db), digest, "the source is never written");
    for secret in [
        &app.root.secret_access_key,
        &made.alice.secret_access_key,
        &made.own_session.1,
        &made.workload_token,
    ] {
        assert!(!stdout.contains(secret.as_str()) && !text(&out.stderr).contains(secret.as_str()));
    }

    // The printed counts are the databases' own, table by table.
    let counts = printed_counts(&stdout);
    assert!(counts.len() >= 27, "{stdout}");
    let pg = sqlx::PgPool::connect(&target_url).await.unwrap();
    let sqlite = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .read_only(true),
    )
    .await
    .unwrap();
    for (table, source, copied) in &counts {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_one(&sqlite)
            .await
            .unwrap();
        let m: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pg)
            .await
            .unwrap();
        assert_eq!((n, m), (*source, *copied), "{table}");
        if !["_sqlx_migrations", "session_expiry_minutes"].contains(&table.as_str()) {
            assert_eq!(source, copied, "{table}: {stdout}");
        }
    }
    // The revoked session's minute is a row of 0 on the source only.
    let minutes = counts
        .iter()
        .find(|c| c.0 == "session_expiry_minutes")
        .unwrap();
    assert!(minutes.1 > minutes.2, "{stdout}");
    let events = counts.iter().find(|c| c.0 == "audit_events").unwrap();
    assert_eq!(events.1 as usize, events_before.len(), "{stdout}");
    sqlite.close().await;

    // A server on PostgreSQL with the same data directory (master.key).
    let mut config = app.node_config();
    config.database_url = Some(target_url.as_str().into());
    let (port, running) = serve(
        Application::build(config)
            .await
            .expect("starts on PostgreSQL"),
    );
    let app = TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        ..app
    };
    assert_eq!(view(&app).await, before);
    let events_after = audit_events(&app).await;
    assert_eq!(
        &events_after[events_after.len() - events_before.len()..],
        &events_before[..]
    );
    assert_eq!(
        gauge(&scrape(&app).await, "latchkey_active_sessions"),
        active_before,
        "the per-minute session counts were rebuilt"
    );

    // Old credentials sign; sessions and the workload go on.
    let account = &app.account_id;
    assert_eq!(
        arn_by_sigv4(&app, &made.alice, None).await,
        format!("arn:aws:iam::{account}:user/alice")
    );
    assert_eq!(
        arn_by_sigv4(&app, &made.own_session.0, Some(&made.own_session.1)).await,
        format!("arn:aws:iam::{account}:user/alice")
    );
    assert_eq!(
        arn_by_sigv4(&app, &made.assumed.0, Some(&made.assumed.1)).await,
        format!("arn:aws:sts::{account}:assumed-role/deployer/moving")
    );
    let issued = fetch_ok(&app, &made.workload_token).await;
    assert_eq!(whoami(&app, &issued).await.status(), 200);

    // New audit events follow the copied ones (the sequence moved).
    let last_id = events_before.iter().filter_map(|e| e["id"].as_i64()).max();
    app.create_user("carol").await;
    let newest = &audit_events(&app).await[0];
    assert_eq!(newest["action"], "iam:CreateUser", "{newest}");
    assert!(
        newest["id"].as_i64() > last_id,
        "{newest} after {last_id:?}"
    );
    stop_app(running).await;

    // Copying into it again is refused, and changes nothing.
    let again = latchkey_async(args).await;
    let stderr = text(&again.stderr);
    assert!(!again.status.success());
    assert!(stderr.contains("already holds data"), "{stderr}");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&pg)
        .await
        .unwrap();
    assert_eq!(users, 3);
    pg.close().await;
}

#[tokio::test]
async fn an_unknown_table_or_column_or_another_master_key_is_refused_before_any_write() {
    let (app, running) = sqlite_app().await;
    app.create_user("alice").await;
    stop_app(running).await;
    let dir = app.data_dir.path();
    let work = tempfile::tempdir().unwrap();
    // Nothing listens on port 1: a refusal that connected would say so.
    let nowhere = "postgres://latchkey@127.0.0.1:1/none";
    let copy_with = |sql: &'static str| {
        let db = work
            .path()
            .join(format!("{}.db", uuid::Uuid::new_v4().simple()));
        std::fs::copy(dir.join("latchkey.db"), &db).unwrap();
        // The stopped server's last writes may still be in its log.
        let wal = dir.join("latchkey.db-wal");
        if wal.exists() {
            std::fs::copy(&wal, format!("{}-wal", db.display())).unwrap();
        }
        async move {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
                .await
                .unwrap();
            if !sql.is_empty() {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            pool.close().await;
            db
        }
    };

    let db = copy_with("CREATE TABLE change_counter (n INTEGER)").await;
    let out = latchkey(&[
        "store",
        "copy",
        "--from",
        &db.display().to_string(),
        "--to",
        nowhere,
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("table `change_counter`"), "{stderr}");

    let db = copy_with("ALTER TABLE users ADD COLUMN nickname TEXT").await;
    let out = latchkey(&[
        "store",
        "copy",
        "--from",
        &db.display().to_string(),
        "--to",
        nowhere,
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("`users` has a column `nickname`"),
        "{stderr}"
    );

    // A data directory with another master.key.
    let db = copy_with("").await;
    let other = tempfile::tempdir().unwrap();
    std::fs::write(
        other.path().join("master.key"),
        format!("{}\n", "ab".repeat(32)),
    )
    .unwrap();
    let digest = sha256_of(&db);
    let out = latchkey(&[
        "store",
        "copy",
        "--from",
        &format!("sqlite://{}", db.display()),
        "--to",
        nowhere,
        "--data-dir",
        &other.path().display().to_string(),
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("is sealed under master key"), "{stderr}");
    assert_eq!(sha256_of(&db), digest);

    // Only SQLite to PostgreSQL.
    let out = latchkey(&["store", "copy", "--from", nowhere, "--to", nowhere]);
    assert!(text(&out.stderr).contains("--from must be a SQLite database"));
    let out = latchkey(&[
        "store",
        "copy",
        "--from",
        &db.display().to_string(),
        "--to",
        "x.db",
    ]);
    assert!(text(&out.stderr).contains("--to must be a PostgreSQL database"));
}
