//! Spawns the real application and talks HTTP to it.

#![allow(dead_code)]

use std::sync::LazyLock;

use latchkey::config::Config;
use latchkey::startup::Application;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

/// `TEST_LOG=1 cargo test` shows the server's logs.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        latchkey::telemetry::init(latchkey::telemetry::LogFormat::Text, "info");
    }
});

/// Access key id and secret.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub root: Credentials,
    pub account_id: String,
    pub data_dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app after letting the test adjust the configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    LazyLock::force(&TRACING);
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_data_dir(data_dir.path());
    adjust(&mut config);
    let app = Application::build(config)
        .await
        .expect("application builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    let creds: Value = serde_json::from_str(
        &std::fs::read_to_string(data_dir.path().join("root-credentials.json"))
            .expect("credentials file"),
    )
    .expect("credentials JSON");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::new(),
        root: Credentials {
            access_key_id: creds["access_key_id"].as_str().expect("id").to_string(),
            secret_access_key: creds["secret_access_key"]
                .as_str()
                .expect("secret")
                .to_string(),
        },
        account_id: creds["account_id"].as_str().expect("account").to_string(),
        data_dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request signed in with `creds` (Basic).
    pub fn request_as(&self, creds: &Credentials, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .basic_auth(&creds.access_key_id, Some(&creds.secret_access_key))
    }

    /// A request as the account root.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.request_as(&self.root, method, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PUT, path)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path)
            .send()
            .await
            .expect("request")
    }

    /// Creates a user with an access key and returns the key.
    pub async fn user_with_key(&self, name: &str) -> Credentials {
        let r = self
            .post("/v1/users", &serde_json::json!({"name": name}))
            .await;
        assert_eq!(r.status(), 201, "create user {name}");
        let key: Value = self
            .request(Method::POST, &format!("/v1/users/{name}/access-keys"))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        Credentials {
            access_key_id: key["access_key_id"].as_str().expect("id").to_string(),
            secret_access_key: key["secret_access_key"]
                .as_str()
                .expect("secret")
                .to_string(),
        }
    }
}

/// Reads a JSON body, asserting the status first.
pub async fn json_with_status(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let body = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {body}");
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).expect("JSON body")
    }
}

/// Asserts an error reply: status and AWS error code.
pub async fn assert_error(response: Response, status: u16, code: &str) -> Value {
    let body = json_with_status(response, status).await;
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(body["error"]["request_id"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    body
}
