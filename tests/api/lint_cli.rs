//! `latchkey policy lint` as CI runs it (the built binary, temp files), and
//! POST /v1/policies/validate.

use std::path::Path;
use std::process::{Command, Output};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json_with_status, spawn_app};

const CLEAN: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}"#;
const PASS_ROLE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}"#;

fn latchkey(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .output()
        .expect("run latchkey")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path.display().to_string()
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let clean = write(dir.path(), "clean.json", CLEAN);
    let pass_role = write(dir.path(), "pass-role.json", PASS_ROLE);

    let out = latchkey(&["policy", "lint", &clean]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty());

    // A SECURITY_WARNING passes the default (error) and fails security_warning.
    let out = latchkey(&["policy", "lint", &pass_role]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        line.starts_with(&format!(
            "{pass_role}: SECURITY_WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE Statement[0].Action: "
        )),
        "{line}"
    );
    let out = latchkey(&[
        "policy",
        "lint",
        "--fail-on",
        "security_warning",
        &clean,
        &pass_role,
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    // An invalid document is an ERROR finding: fails by default.
    let broken = write(dir.path(), "broken.json", r#"{"Statement":[]}"#);
    assert_eq!(
        latchkey(&["policy", "lint", &broken]).status.code(),
        Some(1)
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let clean = write(dir.path(), "clean.json", CLEAN);
    for args in [
        vec!["policy", "lint"],
        vec!["policy", "lint", "--fail-on", "fatal", clean.as_str()],
        vec!["policy", "lint", "--type", "bucket", clean.as_str()],
        vec!["policy", "lint", "--no-such-flag", clean.as_str()],
    ] {
        assert_eq!(latchkey(&args).status.code(), Some(2), "{args:?}");
    }
    let missing = dir.path().join("missing.json").display().to_string();
    let out = latchkey(&["policy", "lint", &clean, &missing]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn json_output_parses() {
    let dir = tempfile::tempdir().unwrap();
    let trust = write(
        dir.path(),
        "trust.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}"#,
    );
    let out = latchkey(&["policy", "lint", "--type", "trust", "--json", &trust]);
    assert_eq!(out.status.code(), Some(0));
    let reply: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(reply["failed"], false);
    let findings = &reply["results"][0]["findings"];
    assert_eq!(reply["results"][0]["file"], trust.as_str());
    assert_eq!(findings[0]["code"], "TRUST_POLICY_PUBLIC_PRINCIPAL");
    assert_eq!(findings[0]["severity"], "SECURITY_WARNING");
    assert_eq!(findings[0]["location"]["path"], "Statement[0].Principal");

    // `policy validate --json` carries the same findings.
    let pass_role = write(dir.path(), "pass-role.json", PASS_ROLE);
    let out = latchkey(&["policy", "validate", "--json", &pass_role]);
    let reply: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(reply["valid"], true);
    assert_eq!(
        reply["findings"][0]["code"],
        "PASS_ROLE_WITH_STAR_IN_RESOURCE"
    );
}

#[tokio::test]
async fn validate_endpoint_returns_findings() {
    let app = spawn_app().await;
    let reply = json_with_status(
        app.post(
            "/v1/policies/validate",
            &json!({"document": serde_json::from_str::<Value>(PASS_ROLE).unwrap()}),
        )
        .await,
        200,
    )
    .await;
    let findings = reply["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{reply}");
    assert_eq!(findings[0]["code"], "PASS_ROLE_WITH_STAR_IN_RESOURCE");
    assert_eq!(findings[0]["location"]["statement_index"], 0);

    // Trust policies are judged against the caller's own account.
    let own = format!("arn:aws:iam::{}:role/ci", app.account_id);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": [own, "arn:aws:iam::111122223333:role/vendor"]}, "Action": "sts:AssumeRole"}]});
    let reply = json_with_status(
        app.post(
            "/v1/policies/validate",
            &json!({"document": trust.to_string(), "policy_type": "trust"}),
        )
        .await,
        200,
    )
    .await;
    let cross: Vec<&Value> = reply["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "CROSS_ACCOUNT_TRUST_WITHOUT_EXTERNAL_ID")
        .collect();
    assert_eq!(cross.len(), 1, "{reply}");
    assert_eq!(
        cross[0]["location"]["path"],
        "Statement[0].Principal.AWS[1]"
    );

    // A refused document is a finding, not a 400; an unknown type is a 400.
    let reply = json_with_status(
        app.post(
            "/v1/policies/validate",
            &json!({"document": {"Statement": []}}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(reply["findings"][0]["code"], "MALFORMED_POLICY_DOCUMENT");
    assert_eq!(reply["findings"][0]["severity"], "ERROR");
    assert_error(
        app.post(
            "/v1/policies/validate",
            &json!({"document": {}, "policy_type": "bucket"}),
        )
        .await,
        400,
        "ValidationError",
    )
    .await;

    // Users need latchkey:ValidatePolicy.
    let bob = app.user_with_key("bob").await;
    let body = json!({"document": serde_json::from_str::<Value>(CLEAN).unwrap()});
    let denied = app
        .request_as(&bob, Method::POST, "/v1/policies/validate")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(denied, 403, "AccessDenied").await;
    let grant = json!({"document": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "latchkey:ValidatePolicy", "Resource": "*"}]}});
    let put = app.put("/v1/users/bob/policies/lint", &grant).await;
    assert!(put.status().is_success(), "{}", put.status());
    let allowed = app
        .request_as(&bob, Method::POST, "/v1/policies/validate")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(allowed, 200).await,
        json!({"findings": []})
    );
}
