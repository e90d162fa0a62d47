//! The same behaviour on both store backends. These run on SQLite under
//! plain `cargo test` and on PostgreSQL under
//! `scripts/with-postgres.sh cargo test --test api`; each races writes that
//! SQLite serializes by its single writer and PostgreSQL runs side by side
//! (a unique index, an advisory lock or a row lock must then decide).

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{on_postgres, policy, spawn_app, test_database_url};

/// Says once per run which backend the suite is on, and how to run the
/// other pass.
#[test]
fn the_backend_of_this_run_is_named() {
    match test_database_url() {
        Some(url) => println!(
            "PostgreSQL pass: every test server on a fresh database of {}",
            latchkey::store::masked_url(&url)
        ),
        None => println!(
            "PostgreSQL pass skipped: LATCHKEY_TEST_DATABASE_URL is unset \
             (run `scripts/with-postgres.sh cargo test --test api`)"
        ),
    }
    assert_eq!(on_postgres(), test_database_url().is_some());
}

/// Statuses and error codes of responses, sorted.
async fn outcomes(responses: Vec<reqwest::Response>) -> Vec<(u16, String)> {
    let mut out = Vec::new();
    for r in responses {
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let code = body["error"]["code"].as_str().unwrap_or("").to_string();
        out.push((status, code));
    }
    out.sort();
    out
}

/// Concurrent creates of one name (differing in case, which IAM names
/// ignore): one wins, every other gets EntityAlreadyExists, never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_have_one_winner() {
    let app = spawn_app().await;
    let names = ["racer", "Racer", "RACER", "rAcEr", "racer", "RaCeR"];
    for kind in ["users", "groups", "roles"] {
        let responses = join_all(names.iter().map(|name| {
            let body = if kind == "roles" {
                json!({"name": name, "trust_policy": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"AWS": format!("arn:aws:iam::{}:root", app.account_id)}}]}})
            } else {
                json!({ "name": name })
            };
            app.request(Method::POST, &format!("/v1/{kind}"))
                .json(&body)
                .send()
        }))
        .await
        .into_iter()
        .map(|r| r.expect("request"))
        .collect();
        let seen = outcomes(responses).await;
        let mut expected = vec![(409, "EntityAlreadyExists".to_string()); names.len() - 1];
        expected.insert(0, (201, String::new()));
        assert_eq!(seen, expected, "{kind}");
    }
}

/// A user's access keys stop at the quota of two under concurrent
/// creates: the count and the insert are one decision.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_access_key_creates_stop_at_the_quota() {
    let app = spawn_app().await;
    app.create_user("kim").await;
    let responses = join_all((0..6).map(|_| {
        app.request(Method::POST, "/v1/users/kim/access-keys")
            .send()
    }))
    .await
    .into_iter()
    .map(|r| r.expect("request"))
    .collect();
    let seen = outcomes(responses).await;
    let created = seen.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 2, "{seen:?}");
    assert!(
        seen.iter()
            .all(|o| o.0 == 201 || *o == (409, "LimitExceeded".to_string())),
        "{seen:?}"
    );
    let list: Value = app
        .get("/v1/users/kim/access-keys")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2), "{list}");
}

/// Concurrent new versions of one policy: at most five versions, each
/// number handed out once (v2..v5), the rest refused with LimitExceeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_policy_versions_stop_at_five_with_distinct_numbers() {
    let app = spawn_app().await;
    app.create_policy("versioned", policy("Allow", "iam:GetUser", "*"))
        .await;
    let responses: Vec<reqwest::Response> = join_all((0..8).map(|n| {
        app.request(Method::POST, "/v1/policies/versioned/versions")
            .json(&json!({"document": policy("Allow", format!("iam:GetRole{n}"), "*")}))
            .send()
    }))
    .await
    .into_iter()
    .map(|r| r.expect("request"))
    .collect();
    let mut created = Vec::new();
    let mut refused = 0;
    for r in responses {
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        match status {
            201 => created.push(body["version_id"].as_str().unwrap().to_string()),
            409 if body["error"]["code"] == "LimitExceeded" => refused += 1,
            _ => panic!("{status}: {body}"),
        }
    }
    created.sort();
    assert_eq!(created, ["v2", "v3", "v4", "v5"]);
    assert_eq!(refused, 4);
}

/// Keyset pages and name order are bytewise on both backends (PostgreSQL's
/// columns collate "C", whatever the database's locale): upper case, `_`
/// and digits sort where SQLite sorts them, and every page follows on.
#[tokio::test]
async fn lists_sort_bytewise_and_page_through_on_both() {
    let app = spawn_app().await;
    let names = [
        "zed", "Alpha", "_under", "beta", "9lives", "Beta2", "a-b", "a+b",
    ];
    for name in names {
        app.create_user(name).await;
    }
    let (items, pages) = app.list_all("/v1/users", 3).await;
    let listed: Vec<&str> = items.iter().map(|u| u["name"].as_str().unwrap()).collect();
    let mut expected: Vec<&str> = names.to_vec();
    expected.sort_by_key(|n| n.to_ascii_lowercase());
    assert_eq!(listed, expected);
    assert_eq!(pages, 3);
}

/// Nodes that start together on one empty PostgreSQL database (each with
/// its own data directory and the same master key) all start, and there
/// is one management account, one set of built-in policies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_together_on_an_empty_database_bootstrap_once() {
    if crate::helpers::skip_on_postgres_only("nodes share one database only on PostgreSQL") {
        return;
    }
    let admin = test_database_url().expect("on postgres");
    let database = crate::helpers::TestDatabase::create(&admin).await;
    let key = latchkey::auth::crypto::MasterKey::generate_hex();
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let builds = join_all(dirs.iter().map(|dir| {
        let mut config = latchkey::config::Config::for_data_dir(dir.path());
        config.database_url = Some(database.url.as_str().into());
        config.master_key = Some(key.as_str().into());
        latchkey::startup::Application::build(config)
    }))
    .await;
    let mut ports = Vec::new();
    for built in builds {
        let app = built.expect("every node starts");
        ports.push(app.port());
        tokio::spawn(app.run_until_stopped());
    }
    // Exactly one node wrote the root's credentials: the one that created
    // the management account.
    let written: Vec<Value> = dirs
        .iter()
        .filter_map(|d| std::fs::read_to_string(d.path().join("root-credentials.json")).ok())
        .map(|text| serde_json::from_str(&text).unwrap())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let root = &written[0];
    let client = reqwest::Client::new();
    for port in ports {
        let accounts: Value = client
            .get(format!("http://127.0.0.1:{port}/v1/accounts"))
            .basic_auth(
                root["access_key_id"].as_str().unwrap(),
                root["secret_access_key"].as_str(),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = accounts["items"].as_array().expect("accounts");
        assert_eq!(items.len(), 1, "{accounts}");
    }
}
