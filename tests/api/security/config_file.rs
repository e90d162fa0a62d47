//! The configuration file (issue 18): `--config FILE` and `LATCHKEY_CONFIG`,
//! unknown keys refused, flags > environment > file > defaults, and
//! `latchkey config check`; a server started from a file, and a SIGTERM
//! that drains the request in flight.
//!
//! The binary runs with a cleared environment plus what each test passes,
//! so no test sets a variable in this (shared, parallel) process.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use latchkey::config::{resolve, Settings};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app_with};

const MASTER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const ROOT_SECRET: &str = "preset/secret/for+config0000000000000000";

fn latchkey(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("run latchkey")
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the config file");
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn config_check_shows_each_value_with_its_source_and_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "latchkey.toml",
        &format!(
            r#"
bind = "127.0.0.1:9001"
region = "eu-west-1"
max_body_bytes = 1000
trusted_proxies = ["10.0.0.1", "10.0.0.2"]
strict_policy_lint = true
master_key = "{MASTER_KEY}"
"#
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let file = file.to_str().unwrap();
    let out = latchkey(
        &[
            "config",
            "check",
            "--config",
            file,
            "--bind",
            "127.0.0.1:9003",
        ],
        &[
            ("LATCHKEY_BIND", "127.0.0.1:9002"),
            ("LATCHKEY_REGION", "eu-west-2"),
            ("LATCHKEY_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = text(&out.stdout);
    for line in [
        // flag > env > file
        "bind = \"127.0.0.1:9003\"  # flag --bind",
        // env > file
        "region = \"eu-west-2\"  # env LATCHKEY_REGION",
        // file > default
        "max_body_bytes = 1000  # file",
        "trusted_proxies = [\"10.0.0.1\", \"10.0.0.2\"]  # file",
        "strict_policy_lint = true  # file",
        // default
        "session_retention_hours = 24  # default",
        "audit_authorize = \"denies\"  # default",
        // secrets: set, never shown
        "master_key = \"********\"  # file",
        "root_secret_access_key = \"********\"  # env LATCHKEY_ROOT_SECRET_ACCESS_KEY",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "missing `{line}` in:\n{stdout}"
        );
    }
    assert!(stdout.contains(&format!("# File: {file}")), "{stdout}");
    assert!(!stdout.contains(MASTER_KEY), "{stdout}");
    assert!(!stdout.contains(ROOT_SECRET), "{stdout}");
    // A secret in a file every user may read is warned about.
    #[cfg(unix)]
    assert!(
        text(&out.stderr).contains("sets master_key and is readable by every user"),
        "{out:?}"
    );

    // LATCHKEY_CONFIG names the file when --config does not.
    let out = latchkey(&["config", "check"], &[("LATCHKEY_CONFIG", file)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l == "bind = \"127.0.0.1:9001\"  # file"),
        "{stdout}"
    );
}

#[test]
fn an_unknown_key_is_refused_naming_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "typo.toml",
        "bind = \"127.0.0.1:0\"\nmax_body_byte = 1000\n",
    );
    let file = file.to_str().unwrap();
    let check: &[&str] = &["config", "check", "--config", file];
    let serve: &[&str] = &["serve", "--config", file, "--bind", "127.0.0.1:0"];
    for args in [check, serve] {
        let out = latchkey(args, &[]);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("unknown field `max_body_byte`"), "{stderr}");
        assert!(stderr.contains(file), "{stderr}");
        assert!(stderr.contains("line 2"), "{stderr}");
    }
    // A missing file is an error too, not an empty configuration.
    let missing = dir.path().join("missing.toml");
    let out = latchkey(
        &["config", "check", "--config", missing.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // So is a variable that does not parse, named.
    let out = latchkey(&["config", "check"], &[("LATCHKEY_MAX_BODY_BYTES", "lots")]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        text(&out.stderr).contains("LATCHKEY_MAX_BODY_BYTES"),
        "{out:?}"
    );
}

#[tokio::test]
async fn a_server_built_from_a_file_uses_the_files_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "latchkey.toml",
        "bind = \"127.0.0.1:0\"\nmax_body_bytes = 4096\nstrict_policy_lint = true\n",
    );
    let resolved = resolve(Settings::default(), Some(file), &HashMap::new()).unwrap();
    let app = spawn_app_with(|c| {
        let data_dir = c.data_dir.clone();
        *c = resolved.config;
        c.data_dir = data_dir;
    })
    .await;
    // max_body_bytes from the file (the default is 256 KiB).
    let big = json!({"name": "x", "path": format!("/{}/", "p".repeat(5000))});
    assert_error(app.post("/v1/users", &big).await, 413, "PayloadTooLarge").await;
    // strict_policy_lint from the file (the default is off).
    let pass = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]});
    assert_error(
        app.post("/v1/policies", &json!({"name": "passer", "document": pass}))
            .await,
        400,
        "PolicyLintFailed",
    )
    .await;
}

/// `latchkey serve --config FILE` with `data_dir` in `dir`: the child, its
/// JSON log, and the port it listens on (from the log, which also shows
/// the file's data_dir in use).
#[cfg(unix)]
fn serve_from_file(
    dir: &Path,
    extra: &str,
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    u16,
) {
    let data_dir = dir.join("state");
    let file = write_file(
        dir,
        "latchkey.toml",
        &format!(
            "bind = \"127.0.0.1:0\"\ndata_dir = \"{}\"\nlog_format = \"json\"\n{extra}",
            data_dir.display()
        ),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["serve", "--config", file.to_str().unwrap()])
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start latchkey");
    let mut logs = BufReader::new(child.stdout.take().unwrap());
    match listening_port(&mut logs, &data_dir) {
        Some(port) => (child, logs, port),
        None => {
            let _ = child.wait();
            panic!("the server exited before listening");
        }
    }
}

/// The port of the "latchkey listening" line; `None` if the log ends first.
#[cfg(unix)]
fn listening_port(logs: &mut impl BufRead, data_dir: &Path) -> Option<u16> {
    let mut line = String::new();
    while logs.read_line(&mut line).ok()? > 0 {
        if line.contains("latchkey listening") {
            let event: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(event["data_dir"], data_dir.display().to_string());
            return event["port"].as_u64().map(|p| p as u16);
        }
        line.clear();
    }
    None
}

#[cfg(unix)]
fn sigterm(child: &std::process::Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

/// The log says it listens: from then on SIGTERM is a graceful stop (exit
/// 0), never the default action of the signal (killed mid-request).
#[cfg(unix)]
#[test]
fn sigterm_as_soon_as_the_server_listens_is_a_graceful_stop() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _logs, _port) = serve_from_file(dir.path(), "");
    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// `latchkey serve --config FILE` as a service runs it: the file's values
/// apply, and SIGTERM lets the request in flight finish before the process
/// exits 0.
#[cfg(unix)]
#[test]
fn serve_from_a_file_drains_the_request_in_flight_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _logs, port) = serve_from_file(dir.path(), "max_body_bytes = 2048\n");
    let data_dir = dir.path().join("state");
    let creds: Value = serde_json::from_str(
        &std::fs::read_to_string(data_dir.join("root-credentials.json")).unwrap(),
    )
    .unwrap();
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!(
            "{}:{}",
            creds["access_key_id"].as_str().unwrap(),
            creds["secret_access_key"].as_str().unwrap()
        ),
    );
    let post = |body: &str| {
        format!(
            "POST /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {basic}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
    };
    let reply = |stream: &mut TcpStream| {
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        reply
    };

    // The file's max_body_bytes applies.
    let big = format!(r#"{{"name":"big","path":"/{}/"}}"#, "p".repeat(3000));
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(post(&big).as_bytes()).unwrap();
    stream.write_all(big.as_bytes()).unwrap();
    assert!(reply(&mut stream).starts_with("HTTP/1.1 413"));

    // A request whose body is half sent when SIGTERM comes. Its
    // `Expect: 100-continue` is answered once a worker is reading it:
    // from then on it is in flight, not merely queued (a queued
    // connection is dropped at shutdown, as it should be).
    let body = r#"{"name":"drained"}"#;
    let mut in_flight = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = post(body).replace("\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n");
    in_flight.write_all(head.as_bytes()).unwrap();
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        in_flight.read_exact(&mut byte).unwrap();
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100 Continue"),
        "{}",
        text(&interim)
    );
    in_flight.write_all(&body.as_bytes()[..5]).unwrap();

    sigterm(&child);
    // Shutdown has begun once the listener is closed.
    let mut refused = false;
    for _ in 0..600 {
        if TcpStream::connect(("127.0.0.1", port)).is_err() {
            refused = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(refused, "the server kept accepting after SIGTERM");

    in_flight.write_all(&body.as_bytes()[5..]).unwrap();
    let answer = reply(&mut in_flight);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
