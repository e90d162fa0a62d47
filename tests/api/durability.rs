//! No acknowledged write is lost when the server dies (issue 16): the real
//! binary, several writers creating users at once (on SQLite they commit
//! in shared batches, each answered only after its batch committed),
//! SIGKILL while writes are in flight, a restart on the same data, and
//! every user that was acknowledged is there with its audit record. On
//! PostgreSQL (`LATCHKEY_TEST_DATABASE_URL`) the server runs on a fresh
//! database of the test cluster.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{install_crypto_provider, test_database_url, TestDatabase};

/// Writers at once: more than the pool's eight connections, so that
/// batches form.
const WRITERS: usize = 12;

/// Acknowledged creations before the kill.
const BEFORE_KILL: usize = 150;

struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Starts `latchkey serve` on `data_dir` (and `database_url`), and waits
/// until it answers.
async fn start(data_dir: &Path, database_url: Option<&str>) -> Server {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("LATCHKEY_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = database_url {
        command.args(["--database-url", url]);
    }
    let mut server = Server {
        child: command.spawn().expect("start latchkey"),
        address: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let healthy = client
            .get(format!("{}/healthz", server.address))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if healthy {
            return server;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("the server exited before answering: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the server did not answer in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn root_credentials(data_dir: &Path) -> (String, String) {
    let text = std::fs::read_to_string(data_dir.join("root-credentials.json"))
        .expect("the root credentials file");
    let creds: Value = serde_json::from_str(&text).expect("root credentials JSON");
    (
        creds["access_key_id"].as_str().expect("id").into(),
        creds["secret_access_key"].as_str().expect("secret").into(),
    )
}

/// Every resource of the iam:CreateUser events, following the markers.
async fn created_in_audit(
    client: &reqwest::Client,
    address: &str,
    root: &(String, String),
) -> HashSet<String> {
    let mut found = HashSet::new();
    let mut marker: Option<String> = None;
    loop {
        let mut url = format!("{address}/v1/audit/events?action=iam:CreateUser&max_items=1000");
        if let Some(m) = &marker {
            url.push_str(&format!("&marker={m}"));
        }
        let page: Value = client
            .get(url)
            .basic_auth(&root.0, Some(&root.1))
            .send()
            .await
            .expect("audit query")
            .json()
            .await
            .expect("audit JSON");
        for event in page["items"].as_array().expect("items") {
            if event["decision"] == "allowed" {
                if let Some(resource) = event["resource"].as_str() {
                    found.insert(resource.rsplit('/').next().unwrap_or("").to_string());
                }
            }
        }
        match page["marker"].as_str() {
            Some(m) => marker = Some(m.to_string()),
            None => return found,
        }
    }
}

#[tokio::test]
async fn every_acknowledged_write_survives_a_kill_9() {
    install_crypto_provider();
    let data = tempfile::tempdir().expect("temp dir");
    let database = match test_database_url() {
        Some(admin) => Some(TestDatabase::create(&admin).await),
        None => None,
    };
    let url = database.as_ref().map(|db| db.url.clone());
    let mut server = start(data.path(), url.as_deref()).await;
    let root = root_credentials(data.path());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");

    let acknowledged: Arc<Mutex<Vec<String>>> = Default::default();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (client, address, root, acknowledged) = (
            client.clone(),
            server.address.clone(),
            root.clone(),
            acknowledged.clone(),
        );
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let name = format!("durable-{w}-{i}");
                let sent = client
                    .post(format!("{address}/v1/users"))
                    .basic_auth(&root.0, Some(&root.1))
                    .json(&json!({ "name": name }))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().as_u16() == 201 => {
                        acknowledged.lock().unwrap().push(name);
                    }
                    Ok(r) => panic!("creating {name} answered {}", r.status()),
                    // The server is gone: whatever was in flight was not
                    // acknowledged.
                    Err(_) => return,
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while acknowledged.lock().unwrap().len() < BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "writes too slow to reach {BEFORE_KILL}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // SIGKILL with the writers still sending: some writes are in flight.
    server.child.kill().expect("kill -9");
    server.child.wait().expect("reap");
    for writer in writers {
        writer.await.expect("writer");
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= BEFORE_KILL);
    drop(server);

    let server = start(data.path(), url.as_deref()).await;
    let audited = created_in_audit(&client, &server.address, &root).await;
    let mut missing = Vec::new();
    for name in &acknowledged {
        let status = client
            .get(format!("{}/v1/users/{name}", server.address))
            .basic_auth(&root.0, Some(&root.1))
            .send()
            .await
            .expect("get user")
            .status()
            .as_u16();
        if status != 200 || !audited.contains(name) {
            missing.push(format!(
                "{name}: {status}, audited {}",
                audited.contains(name)
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes lost after kill -9: {missing:?}",
        missing.len(),
        acknowledged.len()
    );
    println!(
        "{} acknowledged writes, all present after kill -9 ({} users audited)",
        acknowledged.len(),
        audited.len()
    );
}
