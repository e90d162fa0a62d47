//! Several latchkey *processes* on one database (issue 16), as a platform
//! runs them behind a load balancer: each a `latchkey serve` child with its
//! own caches and pools, sharing the data directory's master key and the
//! database (PostgreSQL on the PostgreSQL pass, the SQLite file otherwise).
//! `coherence.rs` covers each revocation between nodes in one process;
//! here the nodes share nothing but the database, and one dies by SIGKILL
//! in the middle of writes.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use aws_sdk_iam::types::{AccessAdvisorUsageGranularityType, JobStatusType, ReportStateType};

use crate::awsquery::reports::generate_report;
use crate::awsquery::{allow, iam_client};
use crate::coherence::{refused, within_a_second};
use crate::helpers::{assert_error, json_with_status, policy, spawn_app, Credentials, TestApp};
use crate::sts::{assume_ok, caller_identity, role_trusting_user, As};

/// A `latchkey serve` child process on `app`'s data directory and
/// database, and a `TestApp` addressing it (with `app`'s root key). Killed
/// with SIGKILL when dropped.
struct Node {
    child: Child,
    app: TestApp,
}

impl Node {
    fn start(app: &TestApp) -> Node {
        let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--log-format", "json"])
            .arg("--data-dir")
            .arg(app.data_dir.path())
            .env_clear()
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(db) = &app.postgres {
            command.env("LATCHKEY_DATABASE_URL", &db.url);
        }
        let mut child = command.spawn().expect("start latchkey serve");
        let mut logs = BufReader::new(child.stdout.take().expect("stdout"));
        let mut port = None;
        let mut line = String::new();
        while logs.read_line(&mut line).unwrap_or(0) > 0 {
            if line.contains("latchkey listening") {
                let event: Value = serde_json::from_str(&line).expect("JSON log line");
                port = event["port"].as_u64().map(|p| p as u16);
                break;
            }
            line.clear();
        }
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the node exited before listening");
        };
        // Keep reading the log, or the child blocks on a full pipe.
        std::thread::spawn(move || for _ in logs.lines() {});
        Node {
            child,
            app: TestApp {
                address: format!("http://127.0.0.1:{port}"),
                port,
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .expect("client"),
                root: app.root.clone(),
                account_id: app.account_id.clone(),
                data_dir: tempfile::tempdir().expect("temp dir"),
                postgres: None,
            },
        }
    }

    fn kill(&mut self) {
        // std's kill is SIGKILL on unix: no shutdown, no flush.
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two processes on a fresh database, created by an in-process server that
/// then stops serving requests (it only holds the database for the test).
async fn two_processes() -> (TestApp, Node, Node) {
    let app = spawn_app().await;
    let (one, two) = (Node::start(&app), Node::start(&app));
    (app, one, two)
}

#[tokio::test]
async fn revocations_on_one_process_are_refused_by_the_other_within_a_second() {
    let (_app, one, two) = two_processes().await;
    let (a, b) = (&one.app, &two.app);

    // A key deactivated on A, then one deleted on B.
    let alice = a.user_with_key("alice").await;
    let bob = b.user_with_key("bob").await;
    for key in [&alice, &bob] {
        json_with_status(caller_identity(b, As::Key(key)).await, 200).await;
        json_with_status(caller_identity(a, As::Key(key)).await, 200).await;
    }
    let r = a
        .patch(
            &format!("/v1/users/alice/access-keys/{}", alice.access_key_id),
            &json!({"status": "Inactive"}),
        )
        .await;
    json_with_status(r, 200).await;
    within_a_second(
        "key deactivated on A",
        async || caller_identity(b, As::Key(&alice)).await,
        refused,
    )
    .await;
    let r = b
        .delete(&format!("/v1/users/bob/access-keys/{}", bob.access_key_id))
        .await;
    assert_eq!(r.status(), 204);
    within_a_second(
        "key deleted on B",
        async || caller_identity(a, As::Key(&bob)).await,
        refused,
    )
    .await;

    // A policy detached on A.
    let carol = a.user_with_key("carol").await;
    let arn = a
        .create_policy("list-users", policy("Allow", "iam:ListUsers", "*"))
        .await;
    a.attach("users", "carol", &arn).await;
    let list = async || b.send_as(&carol, Method::GET, "/v1/users", None).await;
    within_a_second("policy attached on A", list, |r| r.status() == 200).await;
    let encoded = arn.replace(':', "%3A").replace('/', "%2F");
    let r = a
        .delete(&format!(
            "/v1/users/carol/attached-policies?policy_arn={encoded}"
        ))
        .await;
    assert_eq!(r.status(), 204);
    let r = within_a_second("policy detached on A", list, refused).await;
    assert_error(r, 403, "AccessDenied").await;

    // All sessions of a role revoked on B, used on A.
    let dave = b.user_with_key("dave").await;
    let role_arn = role_trusting_user(b, "worker", "dave").await;
    let body = json!({"role_arn": role_arn, "role_session_name": "build"});
    let session = assume_ok(b, As::Key(&dave), body).await.0;
    json_with_status(caller_identity(a, As::Session(&session)).await, 200).await;
    let r = b.post("/v1/roles/worker/revoke-sessions", &json!({})).await;
    json_with_status(r, 200).await;
    within_a_second(
        "sessions revoked on B",
        async || caller_identity(a, As::Session(&session)).await,
        refused,
    )
    .await;
}

/// Reports are kept in the database: one generated through one process is
/// read through the other (issue 19 on issue 16's nodes), and a second
/// generation through the other answers COMPLETE with the same report.
#[tokio::test]
async fn reports_generated_on_one_process_are_read_on_the_other() {
    let (app, one, two) = two_processes().await;
    let (a, b) = (
        iam_client(&one.app, &app.root),
        iam_client(&two.app, &app.root),
    );
    one.app.create_user("alice").await;

    generate_report(&a).await;
    let got = b.get_credential_report().send().await.unwrap();
    let csv = String::from_utf8(got.content().unwrap().as_ref().to_vec()).unwrap();
    let users: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    assert_eq!(users, ["<root_account>", "alice"]);
    let again = b.generate_credential_report().send().await.unwrap();
    assert_eq!(again.state(), Some(&ReportStateType::Complete));
    let same = a.get_credential_report().send().await.unwrap();
    assert_eq!(same.generated_time(), got.generated_time());

    // A group's job: generated on A, read with its entities on B.
    a.create_group().group_name("devs").send().await.unwrap();
    a.add_user_to_group()
        .group_name("devs")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    a.put_group_policy()
        .group_name("devs")
        .policy_name("groups")
        .policy_document(allow("iam:CreateGroup"))
        .send()
        .await
        .unwrap();
    let group_arn = format!("arn:aws:iam::{}:group/devs", app.account_id);
    let job_id = a
        .generate_service_last_accessed_details()
        .arn(&group_arn)
        .granularity(AccessAdvisorUsageGranularityType::ActionLevel)
        .send()
        .await
        .unwrap()
        .job_id()
        .unwrap()
        .to_string();
    let job = b
        .get_service_last_accessed_details()
        .job_id(&job_id)
        .send()
        .await
        .unwrap();
    assert_eq!(job.job_status(), &JobStatusType::Completed);
    let services = job.services_last_accessed();
    assert_eq!(services.len(), 1, "{services:?}");
    assert_eq!(services[0].service_namespace(), "iam");
    assert_eq!(
        services[0].tracked_actions_last_accessed()[0].action_name(),
        Some("CreateGroup")
    );
    let entities = b
        .get_service_last_accessed_details_with_entities()
        .job_id(&job_id)
        .service_namespace("iam")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = entities
        .entity_details_list()
        .iter()
        .map(|e| e.entity_info().unwrap().name())
        .collect();
    assert_eq!(names, ["alice"]);
}

/// What the writers saw: the users whose creation was acknowledged, and
/// the answers of the node that stays up.
#[derive(Default)]
struct Tally {
    acknowledged: BTreeSet<String>,
    acknowledged_by_survivor_after_kill: usize,
    survivor_errors: Vec<String>,
    /// Writes to the killed node that got no answer (cut short or refused).
    unanswered: usize,
}

#[tokio::test]
async fn a_process_killed_under_concurrent_writes_loses_no_acknowledged_write() {
    let (app, mut one, two) = two_processes().await;
    const WRITERS: usize = 8;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let nodes = [one.app.address.clone(), two.app.address.clone()];
    let root = app.root.clone();

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (tally, killed, stop) = (tally.clone(), killed.clone(), stop.clone());
        let (nodes, root) = (nodes.clone(), root.clone());
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client");
            let mut i = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Acquire) {
                // Writers alternate between the nodes, as a load balancer.
                let on_survivor = (w + i) % 2 == 1;
                let name = format!("w{w}-{i}");
                let was_killed = killed.load(std::sync::atomic::Ordering::Acquire);
                let answer = create_user(&client, &nodes[on_survivor as usize], &root, &name).await;
                let mut tally = tally.lock().unwrap();
                match answer {
                    Ok(201) => {
                        tally.acknowledged.insert(name);
                        if on_survivor && was_killed {
                            tally.acknowledged_by_survivor_after_kill += 1;
                        }
                    }
                    other if on_survivor => {
                        tally.survivor_errors.push(format!("{name}: {other:?}"))
                    }
                    // The killed node: refused connections and requests cut
                    // short are unacknowledged, whatever they did.
                    _ => tally.unanswered += 1,
                }
                i += 1;
            }
        }));
    }

    // Kill node one once it has acknowledged writes, with writes in flight.
    let deadline = Instant::now() + Duration::from_secs(30);
    while tally.lock().unwrap().acknowledged.len() < 60 {
        assert!(Instant::now() < deadline, "the writers acknowledge nothing");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    one.kill();
    killed.store(true, std::sync::atomic::Ordering::Release);
    // The survivor keeps taking writes.
    let deadline = Instant::now() + Duration::from_secs(30);
    while tally.lock().unwrap().acknowledged_by_survivor_after_kill < 40 {
        assert!(
            Instant::now() < deadline,
            "the surviving node stopped acknowledging writes"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Release);
    for writer in writers {
        writer.await.expect("writer");
    }
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    assert!(tally.unanswered > 0, "the kill cut no write short");
    eprintln!(
        "{} writes acknowledged, {} after the kill by the survivor, {} unanswered",
        tally.acknowledged.len(),
        tally.acknowledged_by_survivor_after_kill,
        tally.unanswered
    );
    assert!(
        tally.survivor_errors.is_empty(),
        "the surviving node failed requests: {:?}",
        tally.survivor_errors
    );

    // Every acknowledged user is there, with its audit record, on the
    // survivor and on a node started after the kill.
    let restarted = Node::start(&app);
    for node in [&two.app, &restarted.app] {
        let (users, _) = node.list_all("/v1/users", 1000).await;
        let listed: BTreeSet<String> = users
            .iter()
            .filter_map(|u| u["name"].as_str().map(str::to_string))
            .collect();
        let lost: Vec<_> = tally.acknowledged.difference(&listed).collect();
        assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    }
    let audited: BTreeSet<String> = app
        .database()
        .await
        .texts(
            "SELECT resource FROM audit_events
             WHERE action = 'iam:CreateUser' AND decision = 'allowed'",
        )
        .await
        .into_iter()
        .flatten()
        .filter_map(|arn| arn.rsplit_once('/').map(|(_, name)| name.to_string()))
        .collect();
    let unaudited: Vec<_> = tally.acknowledged.difference(&audited).collect();
    assert!(
        unaudited.is_empty(),
        "acknowledged without a record: {unaudited:?}"
    );
}

/// POST /v1/users as root; the status, or the transport error.
async fn create_user(
    client: &reqwest::Client,
    node: &str,
    root: &Credentials,
    name: &str,
) -> Result<u16, String> {
    client
        .post(format!("{node}/v1/users"))
        .basic_auth(&root.access_key_id, Some(&root.secret_access_key))
        .json(&json!({ "name": name }))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}
