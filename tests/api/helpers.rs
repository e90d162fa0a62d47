//! Spawns the real application and talks HTTP to it.

#![allow(dead_code)]

use std::sync::{Arc, LazyLock, Mutex};

use latchkey::config::Config;
use latchkey::startup::Application;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

/// Everything the server logs (every test of this binary, at `info`, and
/// `trace` for latchkey itself), so that a test can assert that no secret
/// ever reaches a log line. The subscriber is global because the server's
/// workers run on their own threads.
pub static LOGS: LazyLock<Arc<Mutex<Vec<u8>>>> = LazyLock::new(Default::default);

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;

    fn make_writer(&'a self) -> Self::Writer {
        CaptureWriter(self.0.clone())
    }
}

/// The captured logs so far, as text.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

/// Installs the capturing subscriber; `TEST_LOG=1 cargo test` also prints
/// the server's logs.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    install_crypto_provider();
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::{EnvFilter, Layer as _};
    let capture = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(Capture(LOGS.clone()))
        .with_filter(EnvFilter::new("info,latchkey=trace"));
    let print = std::env::var("TEST_LOG").is_ok().then(|| {
        tracing_subscriber::fmt::layer()
            .with_test_writer()
            .with_filter(EnvFilter::new("info"))
    });
    let _ = tracing_subscriber::registry()
        .with(capture)
        .with(print)
        .try_init();
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
    /// The app's own PostgreSQL database, dropped with the app; None on
    /// SQLite.
    pub postgres: Option<TestDatabase>,
}

/// `LATCHKEY_TEST_DATABASE_URL`: a PostgreSQL cluster (its maintenance
/// database, e.g. `postgres://postgres@127.0.0.1:54329/postgres`) on which
/// every test server gets a fresh database. Unset: SQLite.
pub fn test_database_url() -> Option<String> {
    std::env::var("LATCHKEY_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// True on the PostgreSQL pass. `skip_on_postgres` returns true (and says
/// why) for a test of something only SQLite has.
pub fn on_postgres() -> bool {
    test_database_url().is_some()
}

pub fn skip_on_postgres(why: &str) -> bool {
    if on_postgres() {
        println!("skipped on postgres: {why}");
        return true;
    }
    false
}

/// The converse of `skip_on_postgres`: true (and why) on SQLite, for a
/// test of what only PostgreSQL does.
pub fn skip_on_postgres_only(why: &str) -> bool {
    if !on_postgres() {
        println!("skipped on sqlite: {why}");
        return true;
    }
    false
}

/// A connection pool to a test server's database, on either backend; the
/// SQL given must be valid on both.
pub enum TestDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl TestDb {
    pub async fn execute(&self, sql: &'static str) -> Result<u64, sqlx::Error> {
        match self {
            TestDb::Sqlite(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
            TestDb::Postgres(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
        }
    }

    /// The single BIGINT (a COUNT) the query returns.
    pub async fn count(&self, sql: &'static str) -> i64 {
        match self {
            TestDb::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            TestDb::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .expect("count")
    }

    /// The first column of every row, as bytes.
    pub async fn blobs(&self, sql: &'static str) -> Vec<Vec<u8>> {
        match self {
            TestDb::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
            TestDb::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        }
        .expect("rows")
    }

    /// The first column of every row, as optional text.
    pub async fn texts(&self, sql: &'static str) -> Vec<Option<String>> {
        match self {
            TestDb::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
            TestDb::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        }
        .expect("rows")
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres(_))
    }
}

/// A database of its own on the test cluster, dropped (with its
/// connections) when the test ends.
pub struct TestDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create(admin_url: &str) -> TestDatabase {
        use sqlx::Connection as _;
        let name = format!("lk_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .expect("connect to the test cluster");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        // The cluster URL with the new database as its path.
        let (base, query) = match admin_url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (admin_url, String::new()),
        };
        let authority_end = base
            .find("://")
            .map(|i| i + 3)
            .and_then(|start| base[start..].find('/').map(|j| start + j))
            .unwrap_or(base.len());
        TestDatabase {
            url: format!("{}/{name}{query}", &base[..authority_end]),
            admin_url: admin_url.to_string(),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime: the DROP gets a thread and
        // a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                use sqlx::Connection as _;
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .ok()
            })
        });
        let _ = dropped.join();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app after letting the test adjust the configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_stoppable_app(adjust).await.0
}

/// The server's stop handle and the task running it (which ends after the
/// graceful shutdown, audit flush included).
pub type Running = (
    actix_web::dev::ServerHandle,
    tokio::task::JoinHandle<std::io::Result<()>>,
);

/// Stops a server started with [`spawn_stoppable_app`] or [`serve`]
/// gracefully and waits until it has ended.
pub async fn stop_app((handle, running): Running) {
    handle.stop(true).await;
    running.await.unwrap().unwrap();
}

/// A server built from `config` as `latchkey serve` would start it: its
/// address and what it takes to stop it.
pub async fn serve_config(config: Config) -> anyhow::Result<(String, Running)> {
    let (port, running) = serve(Application::build(config).await?);
    Ok((format!("http://127.0.0.1:{port}"), running))
}

/// Spawns the app and keeps what it takes to stop it gracefully.
pub async fn spawn_stoppable_app(adjust: impl FnOnce(&mut Config)) -> (TestApp, Running) {
    LazyLock::force(&TRACING);
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_data_dir(data_dir.path());
    let postgres = match test_database_url() {
        Some(admin) => Some(TestDatabase::create(&admin).await),
        None => None,
    };
    config.database_url = postgres.as_ref().map(|db| db.url.as_str().into());
    adjust(&mut config);
    let (port, running) = serve(
        Application::build(config)
            .await
            .expect("application builds"),
    );
    let creds: Value = serde_json::from_str(
        &std::fs::read_to_string(data_dir.path().join("root-credentials.json"))
            .expect("credentials file"),
    )
    .expect("credentials JSON");
    let app = TestApp {
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
        postgres,
    };
    (app, running)
}

/// Serves a built application (a node of a test's database) and returns
/// its port and what stops it.
pub fn serve(app: Application) -> (u16, Running) {
    LazyLock::force(&TRACING);
    let port = app.port();
    let handle = app.server_handle();
    let running = tokio::spawn(app.run_until_stopped());
    (port, (handle, running))
}

impl TestApp {
    /// Another node on this app's database: its own server, state and
    /// caches, over the same data directory and database. The node's
    /// `TestApp` is for requests: its data directory is an empty one of
    /// its own, and the database is this app's (ask `self` for either).
    pub async fn spawn_node(&self) -> (TestApp, Running) {
        let built = Application::build(self.node_config())
            .await
            .expect("a second node builds");
        let (port, running) = serve(built);
        let node = TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: reqwest::Client::new(),
            root: self.root.clone(),
            account_id: self.account_id.clone(),
            data_dir: tempfile::tempdir().expect("temp dir"),
            postgres: None,
        };
        (node, running)
    }
}

impl TestApp {
    /// The app's store, opened beside it (to move expiries without
    /// waiting, to run a background task's step), on either backend.
    pub async fn open_store(&self) -> latchkey::store::Store {
        match &self.postgres {
            Some(db) => latchkey::store::Store::open_postgres(&db.url).await,
            None => latchkey::store::Store::open(&self.data_dir.path().join("latchkey.db")).await,
        }
        .expect("open the store")
    }

    /// The configuration of another node over the same data directory and
    /// database.
    pub fn node_config(&self) -> Config {
        let mut config = Config::for_data_dir(self.data_dir.path());
        config.database_url = self.postgres.as_ref().map(|db| db.url.as_str().into());
        config
    }

    /// A second connection to the app's database, SQLite or PostgreSQL,
    /// for what only the database shows (the audit table, triggers that
    /// make writes fail).
    pub async fn database(&self) -> TestDb {
        match &self.postgres {
            Some(db) => TestDb::Postgres(
                sqlx::PgPool::connect(&db.url)
                    .await
                    .expect("open the database"),
            ),
            None => TestDb::Sqlite(self.open_db().await),
        }
    }

    /// A second connection to the app's SQLite file, for what only the
    /// database shows (the audit table, triggers that make writes fail).
    pub async fn open_db(&self) -> sqlx::SqlitePool {
        let path = self.data_dir.path().join("latchkey.db");
        sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("open the database")
    }

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

    /// PUTs an inline policy (`path` ends in `/policies/NAME`) as root and
    /// asserts it was stored.
    pub async fn put_inline(&self, path: &str, document: Value) -> Value {
        json_with_status(
            self.put(path, &serde_json::json!({ "document": document }))
                .await,
            200,
        )
        .await
    }

    /// A user with a key, allowed to call `/v1/authorize`: a platform service.
    pub async fn authorizing_service(&self, name: &str) -> Credentials {
        let creds = self.user_with_key(name).await;
        self.put_inline(
            &format!("/v1/users/{name}/policies/authorize"),
            serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "latchkey:Authorize", "Resource": "*"}]}),
        )
        .await;
        creds
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

impl TestApp {
    /// A request as `creds`, with an optional JSON body.
    pub async fn send_as(
        &self,
        creds: &Credentials,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.request_as(creds, method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request")
    }

    /// Creates a user (as root) and asserts 201.
    pub async fn create_user(&self, name: &str) -> Value {
        json_with_status(
            self.post("/v1/users", &serde_json::json!({ "name": name }))
                .await,
            201,
        )
        .await
    }

    /// Creates a customer managed policy (as root) and returns its ARN.
    pub async fn create_policy(&self, name: &str, document: Value) -> String {
        let body = json_with_status(
            self.post(
                "/v1/policies",
                &serde_json::json!({ "name": name, "document": document }),
            )
            .await,
            201,
        )
        .await;
        body["arn"].as_str().expect("policy arn").to_string()
    }

    /// Attaches a managed policy to a user, group or role (as root).
    pub async fn attach(&self, kind: &str, name: &str, policy_arn: &str) {
        let r = self
            .post(
                &format!("/v1/{kind}/{name}/attached-policies"),
                &serde_json::json!({ "policy_arn": policy_arn }),
            )
            .await;
        json_with_status(r, 204).await;
    }

    /// Every item of a paginated list, following `marker` page by page.
    /// Returns the items and the number of pages read.
    pub async fn list_all(&self, path: &str, max_items: u32) -> (Vec<Value>, usize) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut marker: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut url = format!("{path}{sep}max_items={max_items}");
            if let Some(m) = &marker {
                url.push_str(&format!("&marker={m}"));
            }
            let page = json_with_status(self.get(&url).await, 200).await;
            pages += 1;
            let got = page["items"].as_array().expect("items");
            assert!(got.len() <= max_items as usize, "page too long: {page}");
            items.extend(got.iter().cloned());
            if page["is_truncated"] == true {
                let m = page["marker"].as_str().expect("marker when truncated");
                marker = Some(m.to_string());
            } else {
                assert!(
                    page.get("marker").is_none(),
                    "marker on the last page: {page}"
                );
                break;
            }
            assert!(pages < 100, "pagination does not end");
        }
        (items, pages)
    }
}

/// An identity policy of one statement.
pub fn policy(effect: &str, action: impl Into<Value>, resource: &str) -> Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": action.into(), "Resource": resource}]
    })
}

/// The `name` field of every item.
pub fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_string())
        .collect()
}

/// Asserts an error reply and its exact message.
pub async fn assert_error_message(response: Response, status: u16, code: &str, message: &str) {
    let body = assert_error(response, status, code).await;
    assert_eq!(body["error"]["message"], message, "body: {body}");
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

/// reqwest is built without a TLS provider of its own (its default would
/// compile aws-lc), so every client, plain http ones too, takes the
/// process default: ring, as the server uses.
pub fn install_crypto_provider() {
    // Err only when one is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A private CA for HTTPS tests, as an internal CA would issue them.
pub struct TestCa {
    pub cert_pem: String,
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

/// A server certificate and its key, PEM.
pub struct IssuedCert {
    pub cert_pem: String,
    pub key_pem: String,
}

impl IssuedCert {
    /// The leaf certificate's DER, as a client sees it in the handshake.
    pub fn der(&self) -> Vec<u8> {
        use rustls::pki_types::pem::PemObject as _;
        rustls::pki_types::CertificateDer::from_pem_slice(self.cert_pem.as_bytes())
            .expect("PEM certificate")
            .to_vec()
    }
}

impl TestCa {
    pub fn new() -> Self {
        install_crypto_provider();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "latchkey test CA");
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let key = rcgen::KeyPair::generate().expect("CA key");
        let issuer = rcgen::CertifiedIssuer::self_signed(params, key).expect("CA certificate");
        TestCa {
            cert_pem: issuer.pem(),
            issuer,
        }
    }

    /// A server certificate for localhost, 127.0.0.1, ::1 and `ips`, with
    /// common name `cn` and a fresh key and serial.
    pub fn server_cert(&self, cn: &str, ips: &[std::net::IpAddr]) -> IssuedCert {
        let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
        names.extend(ips.iter().map(|ip| ip.to_string()));
        let mut params = rcgen::CertificateParams::new(names).expect("server params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        // Positive and never zero-led, as DER wants a serial.
        let mut serial = *uuid::Uuid::new_v4().as_bytes();
        serial[0] = (serial[0] & 0x7f) | 0x01;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let key = rcgen::KeyPair::generate().expect("server key");
        let cert = params
            .signed_by(&key, &*self.issuer)
            .expect("server certificate");
        IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A rustls client configuration trusting only this CA, offering `alpn`.
    pub fn client_config(&self, alpn: &[&[u8]]) -> rustls::ClientConfig {
        use rustls::pki_types::pem::PemObject as _;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(
                rustls::pki_types::CertificateDer::from_pem_slice(self.cert_pem.as_bytes())
                    .expect("CA PEM"),
            )
            .expect("CA root");
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        config
    }

    /// A reqwest client trusting only this CA; `h2` offers only HTTP/2,
    /// otherwise only HTTP/1.1. One connection per client (no reuse
    /// across clients), and the peer certificate kept on each response.
    pub fn reqwest_client(&self, h2: bool) -> reqwest::Client {
        let alpn: &[&[u8]] = if h2 { &[b"h2"] } else { &[b"http/1.1"] };
        reqwest::Client::builder()
            .use_preconfigured_tls(self.client_config(alpn))
            .tls_info(true)
            .build()
            .expect("reqwest client")
    }
}

/// Where the HTTPS test server reads its certificate and key.
pub struct TlsFiles {
    pub dir: tempfile::TempDir,
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

impl TlsFiles {
    /// Replaces the files the way a renewal would (write, then rename).
    pub fn install(&self, issued: &IssuedCert) {
        for (path, pem) in [(&self.cert, &issued.cert_pem), (&self.key, &issued.key_pem)] {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, pem).expect("write PEM");
            std::fs::rename(&tmp, path).expect("rename PEM");
        }
    }
}

/// Spawns the app serving HTTPS with `issued`; `app.address` is
/// `https://127.0.0.1:PORT` and `app.client` trusts `ca` (HTTP/1.1).
pub async fn spawn_tls_app_with(
    ca: &TestCa,
    issued: &IssuedCert,
    adjust: impl FnOnce(&mut Config),
) -> (TestApp, TlsFiles) {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = TlsFiles {
        cert: dir.path().join("server.crt"),
        key: dir.path().join("server.key"),
        dir,
    };
    files.install(issued);
    let (cert, key) = (files.cert.clone(), files.key.clone());
    let mut app = spawn_app_with(move |c| {
        c.tls_cert = Some(cert);
        c.tls_key = Some(key);
        c.tls_reload_secs = 1;
        adjust(c);
    })
    .await;
    app.address = format!("https://127.0.0.1:{}", app.port);
    app.client = ca.reqwest_client(false);
    (app, files)
}
