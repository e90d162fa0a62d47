//! Several nodes on one database (issue 16): each has its own caches, and
//! a revocation made on one is refused on the other within a second. Each
//! test warms node B's caches with a successful request on B, changes
//! something on node A, then asks B again and again until it refuses,
//! failing after one second.

use std::time::{Duration, Instant};

use latchkey::config::Config;
use latchkey::startup::Application;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, json_with_status, policy, serve, spawn_app, test_database_url, Credentials,
    TestApp, TestDatabase,
};
use crate::sts::{assume_ok, caller_identity, role_trusting_user, As, Session};
use crate::workloads::{fetch, fetch_ok, setup, whoami};

/// The most a change on one node may take to hold on another.
const DEADLINE: Duration = Duration::from_secs(1);

/// Asks node B (`ask`) until `holds` says its answer shows the change;
/// fails when it still does not after [`DEADLINE`]. Returns that answer.
pub(crate) async fn within_a_second(
    what: &str,
    mut ask: impl AsyncFnMut() -> Response,
    holds: impl Fn(&Response) -> bool,
) -> Response {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let answer = ask().await;
        if holds(&answer) {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the other node still answers {} after {DEADLINE:?}",
            answer.status()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(crate) fn refused(r: &Response) -> bool {
    r.status().is_client_error()
}

fn allowed(r: &Response) -> bool {
    r.status() == 200
}

/// Node A (from `spawn_app`) and node B on its database.
async fn two_nodes() -> (TestApp, TestApp) {
    let a = spawn_app().await;
    let (b, _running) = a.spawn_node().await;
    (a, b)
}

async fn whoami_key(node: &TestApp, key: &Credentials) -> Response {
    caller_identity(node, As::Key(key)).await
}

#[tokio::test]
async fn a_key_deactivated_or_deleted_on_one_node_is_refused_on_the_other() {
    let (a, b) = two_nodes().await;
    let alice = a.user_with_key("alice").await;
    let bob = a.user_with_key("bob").await;
    for key in [&alice, &bob] {
        json_with_status(whoami_key(&b, key).await, 200).await;
    }

    let r = a
        .patch(
            &format!("/v1/users/alice/access-keys/{}", alice.access_key_id),
            &json!({"status": "Inactive"}),
        )
        .await;
    json_with_status(r, 200).await;
    let r = within_a_second(
        "key deactivated",
        async || whoami_key(&b, &alice).await,
        refused,
    )
    .await;
    assert_error(r, 401, "InvalidClientTokenId").await;

    let r = a
        .delete(&format!("/v1/users/bob/access-keys/{}", bob.access_key_id))
        .await;
    json_with_status(r, 204).await;
    let r = within_a_second("key deleted", async || whoami_key(&b, &bob).await, refused).await;
    assert_error(r, 401, "InvalidClientTokenId").await;
}

#[tokio::test]
async fn a_policy_detached_or_edited_on_one_node_denies_on_the_other() {
    let (a, b) = two_nodes().await;
    let carol = a.user_with_key("carol").await;
    let arn = a
        .create_policy("list-users", policy("Allow", "iam:ListUsers", "*"))
        .await;
    a.attach("users", "carol", &arn).await;
    let list = async || b.send_as(&carol, Method::GET, "/v1/users", None).await;
    // B may have read carol's policies before the attachment: it sees it
    // within the second too.
    within_a_second("policy attached", list, allowed).await;

    let encoded = arn.replace(':', "%3A").replace('/', "%2F");
    let r = a
        .delete(&format!(
            "/v1/users/carol/attached-policies?policy_arn={encoded}"
        ))
        .await;
    json_with_status(r, 204).await;
    let r = within_a_second("policy detached", list, refused).await;
    assert_error(r, 403, "AccessDenied").await;

    a.attach("users", "carol", &arn).await;
    within_a_second("policy attached again", list, allowed).await;
    let r = a
        .post(
            "/v1/policies/list-users/versions",
            &json!({"document": policy("Allow", "iam:GetUser", "*"), "set_as_default": true}),
        )
        .await;
    json_with_status(r, 201).await;
    let r = within_a_second("new default version", list, refused).await;
    assert_error(r, 403, "AccessDenied").await;

    let r = a
        .put(
            "/v1/policies/list-users/default-version",
            &json!({"version_id": "v1"}),
        )
        .await;
    json_with_status(r, 200).await;
    within_a_second("default version set back", list, allowed).await;
}

#[tokio::test]
async fn a_session_revoked_on_one_node_is_refused_on_the_other() {
    let (a, b) = two_nodes().await;
    let dave = a.user_with_key("dave").await;
    let role_arn = role_trusting_user(&a, "worker", "dave").await;
    let assume = async |name: &str| -> Session {
        let body = json!({"role_arn": role_arn, "role_session_name": name});
        assume_ok(&a, As::Key(&dave), body).await.0
    };
    let whoami = async |s: &Session| caller_identity(&b, As::Session(s)).await;

    let one = assume("one").await;
    json_with_status(whoami(&one).await, 200).await;
    let r = a
        .delete(&format!("/v1/roles/worker/sessions/{}", one.key()))
        .await;
    json_with_status(r, 204).await;
    within_a_second("session revoked", async || whoami(&one).await, refused).await;

    let (two, three) = (assume("two").await, assume("three").await);
    for s in [&two, &three] {
        json_with_status(whoami(s).await, 200).await;
    }
    let r = a.post("/v1/roles/worker/revoke-sessions", &json!({})).await;
    json_with_status(r, 200).await;
    for s in [&two, &three] {
        within_a_second("role's sessions revoked", async || whoami(s).await, refused).await;
    }
}

#[tokio::test]
async fn a_workload_deleted_on_one_node_is_refused_on_the_other() {
    let (a, b) = two_nodes().await;
    let fixture = setup(&a).await;
    let issued = fetch_ok(&b, &fixture.token).await;
    json_with_status(whoami(&b, &issued).await, 200).await;
    // The second fetch on B is served from B's handed-out credentials.
    assert_eq!(fetch_ok(&b, &fixture.token).await.key(), issued.key());

    let r = a.delete(&format!("/v1/workloads/{}", fixture.id())).await;
    json_with_status(r, 204).await;
    within_a_second(
        "workload's session",
        async || whoami(&b, &issued).await,
        refused,
    )
    .await;
    within_a_second(
        "workload's token",
        async || fetch(&b, &fixture.token).await,
        refused,
    )
    .await;
}

#[tokio::test]
async fn a_service_registered_on_one_node_joins_the_other_s_catalog() {
    let (a, b) = two_nodes().await;
    let has_store = |list: &Value| {
        list["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|s| s["prefix"] == "store"))
    };
    let list = json_with_status(b.get("/v1/services").await, 200).await;
    assert!(!has_store(&list), "{list}");
    let r = a
        .post("/v1/services", &crate::services::store_service())
        .await;
    json_with_status(r, 201).await;
    let deadline = Instant::now() + DEADLINE;
    loop {
        let list = json_with_status(b.get("/v1/services").await, 200).await;
        if has_store(&list) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "service not in B's catalog: {list}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn login_failures_on_one_node_lock_the_name_on_the_other() {
    let (a, b) = two_nodes().await;
    a.create_user("erin").await;
    let r = a
        .put(
            "/v1/users/erin/login-profile",
            &json!({"password": "correct horse battery"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let login = async |node: &TestApp, password: &str| {
        node.client
            .post(node.url("/v1/sts/login"))
            .json(&json!({"account_id": a.account_id, "user_name": "erin", "password": password}))
            .send()
            .await
            .expect("request")
    };
    // Five failures, spread over both nodes, lock the name on both.
    for node in [&a, &b, &a, &b, &a] {
        assert_error(login(node, "guess").await, 401, "AuthFailure").await;
    }
    for node in [&b, &a] {
        assert_error(
            login(node, "correct horse battery").await,
            429,
            "Throttling",
        )
        .await;
    }
}

/// What the database says about the change counter.
async fn counter(app: &TestApp) -> i64 {
    app.database()
        .await
        .count("SELECT generation FROM coherence WHERE id = 1")
        .await
}

/// AssumeRole (thousands a second) leaves every node's caches alone;
/// revoking, like every other IAM write, advances the counter.
#[tokio::test]
async fn assume_role_keeps_the_counter_and_revocations_advance_it() {
    let app = spawn_app().await;
    let frank = app.user_with_key("frank").await;
    let role_arn = role_trusting_user(&app, "builder", "frank").await;
    let before = counter(&app).await;
    let mut sessions = Vec::new();
    for n in 0..3 {
        let body = json!({"role_arn": role_arn, "role_session_name": format!("s{n}")});
        sessions.push(assume_ok(&app, As::Key(&frank), body).await.0);
    }
    assert_eq!(
        counter(&app).await,
        before,
        "AssumeRole advanced the counter"
    );
    let r = app
        .delete(&format!("/v1/roles/builder/sessions/{}", sessions[0].key()))
        .await;
    json_with_status(r, 204).await;
    assert_eq!(counter(&app).await, before + 1);
    let r = app
        .post("/v1/roles/builder/revoke-sessions", &json!({}))
        .await;
    json_with_status(r, 200).await;
    assert_eq!(counter(&app).await, before + 2);
}

#[tokio::test]
async fn nodes_starting_at_once_on_an_empty_database_create_one_management_account() {
    let dir = tempfile::tempdir().expect("temp dir");
    let postgres = match test_database_url() {
        Some(admin) => Some(TestDatabase::create(&admin).await),
        None => None,
    };
    let build = || {
        let mut config = Config::for_data_dir(dir.path());
        config.database_url = postgres.as_ref().map(|db| db.url.as_str().into());
        Application::build(config)
    };
    let built = tokio::join!(build(), build(), build());
    let built = [built.0, built.1, built.2].map(|b| b.expect("every node starts"));
    // The nodes that lost the claim may be up before the winner renamed
    // the credentials file into place: read it once all are.
    let ports = built.map(|app| serve(app).0);
    let (root, account_id) = root_credentials(dir.path());
    let client = reqwest::Client::new();
    for port in ports {
        let me: Value = client
            .get(format!("http://127.0.0.1:{port}/v1/sts/caller-identity"))
            .basic_auth(&root.access_key_id, Some(&root.secret_access_key))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            me["account"], account_id,
            "the one file names the key that exists"
        );
    }
    let db = match &postgres {
        Some(db) => crate::helpers::TestDb::Postgres(
            sqlx::PgPool::connect(&db.url).await.expect("database"),
        ),
        None => crate::helpers::TestDb::Sqlite(
            sqlx::SqlitePool::connect(&format!(
                "sqlite://{}",
                dir.path().join("latchkey.db").display()
            ))
            .await
            .expect("database"),
        ),
    };
    let accounts = db
        .count("SELECT COUNT(*) FROM accounts WHERE name = 'management'")
        .await;
    let root_keys = db
        .count("SELECT COUNT(*) FROM access_keys WHERE user_id IS NULL")
        .await;
    assert_eq!((accounts, root_keys), (1, 1));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("data dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".pending") || name.ends_with(".new"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The root credentials in the file the first start wrote.
fn root_credentials(dir: &std::path::Path) -> (Credentials, String) {
    let creds: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("root-credentials.json")).expect("credentials file"),
    )
    .expect("credentials JSON");
    (
        Credentials {
            access_key_id: creds["access_key_id"].as_str().expect("id").into(),
            secret_access_key: creds["secret_access_key"].as_str().expect("secret").into(),
        },
        creds["account_id"].as_str().expect("account").into(),
    )
}
