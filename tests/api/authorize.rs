//! POST /v1/authorize: a platform service asks about a request it received.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::helpers::{
    assert_error, assert_error_message, json_with_status, spawn_app, Credentials, TestApp,
};
use crate::signing::{sign_request, Signing};

const STORAGE_URL: &str = "https://storage.internal/reports/q1.csv";

/// A service user allowed `latchkey:Authorize`, and a subject user that may
/// read `arn:aws:s3:::reports/*` from one network.
async fn setup(app: &TestApp) -> (Credentials, Credentials) {
    let service = app.user_with_key("storage-service").await;
    app.put(
        "/v1/users/storage-service/policies/authorize",
        &json!({"document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "latchkey:Authorize", "Resource": "*"}]}}),
    )
    .await;
    let subject = app.user_with_key("reader").await;
    app.put(
        "/v1/users/reader/policies/read",
        &json!({"document": {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::reports/*", "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}}),
    )
    .await;
    (service, subject)
}

fn signed_get(subject: &Credentials, time: SystemTime) -> Value {
    let mut signing = Signing::now(subject);
    signing.service = "s3";
    signing.time = time;
    let signed = sign_request(&signing, "GET", STORAGE_URL, &[], b"");
    let mut headers = serde_json::Map::new();
    headers.insert("host".into(), json!("storage.internal"));
    for (n, v) in signed.headers {
        headers.insert(n, json!(v));
    }
    json!({"method": "GET", "url": STORAGE_URL, "headers": headers, "body": ""})
}

async fn ask(app: &TestApp, service: &Credentials, body: Value) -> reqwest::Response {
    app.request_as(service, reqwest::Method::POST, "/v1/authorize")
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn signed_request_from_a_user_is_identified_and_decided() {
    let app = spawn_app().await;
    let (service, subject) = setup(&app).await;
    let reply = json_with_status(
        ask(&app, &service, json!({"signed_request": signed_get(&subject, SystemTime::now()), "action": "s3:GetObject",
            "resource": "arn:aws:s3:::reports/q1.csv", "source_ip": "203.0.113.9"})).await,
        200,
    )
    .await;
    assert_eq!(reply["allowed"], true, "{reply}");
    assert_eq!(reply["decision"], "allowed");
    assert_eq!(
        reply["principal"]["arn"],
        format!("arn:aws:iam::{}:user/reader", app.account_id)
    );
    assert_eq!(reply["principal"]["type"], "User");
    assert_eq!(reply["matched_statements"][0]["sid"], "Read");
    assert_eq!(reply["decided_by"], "identity");

    // From elsewhere the condition fails: a deny, not an error.
    let reply = json_with_status(
        ask(&app, &service, json!({"signed_request": signed_get(&subject, SystemTime::now()), "action": "s3:GetObject",
            "resource": "arn:aws:s3:::reports/q1.csv", "source_ip": "198.51.100.1"})).await,
        200,
    )
    .await;
    assert_eq!(reply["allowed"], false);
    assert_eq!(reply["decision"], "implicit_deny");
}

#[tokio::test]
async fn reserved_context_keys_cannot_be_forged() {
    let app = spawn_app().await;
    let (service, subject) = setup(&app).await;
    let reply = json_with_status(
        ask(&app, &service, json!({"credentials": {"access_key_id": subject.access_key_id}, "action": "s3:GetObject",
            "resource": "arn:aws:s3:::reports/q1.csv", "context": {"aws:SourceIp": "203.0.113.9"}})).await,
        200,
    )
    .await;
    // aws:SourceIp from the body is ignored: no source_ip, so the condition fails.
    assert_eq!(reply["allowed"], false, "{reply}");
    assert_eq!(reply["missing_context_keys"], json!(["aws:SourceIp"]));
}

#[tokio::test]
async fn tampered_and_expired_requests_are_errors_not_denies() {
    let app = spawn_app().await;
    let (service, subject) = setup(&app).await;
    let mut tampered = signed_get(&subject, SystemTime::now());
    tampered["url"] = json!("https://storage.internal/reports/secret.csv");
    let body = assert_error(
        ask(&app, &service, json!({"signed_request": tampered, "action": "s3:GetObject", "resource": "arn:aws:s3:::reports/secret.csv"})).await,
        400,
        "SignatureDoesNotMatch",
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("signed_request:"));

    let stale = signed_get(&subject, SystemTime::now() - Duration::from_secs(30 * 60));
    let body = assert_error(
        ask(&app, &service, json!({"signed_request": stale, "action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q1.csv"})).await,
        400,
        "SignatureDoesNotMatch",
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Signature expired"));

    assert_error(
        ask(&app, &service, json!({"credentials": {"access_key_id": "AKIAAAAAAAAAAAAAAAAA"}, "action": "s3:GetObject", "resource": "*"})).await,
        400,
        "InvalidClientTokenId",
    )
    .await;
    assert_error(
        ask(
            &app,
            &service,
            json!({"action": "s3:GetObject", "resource": "*"}),
        )
        .await,
        400,
        "ValidationError",
    )
    .await;
}

#[tokio::test]
async fn the_service_needs_latchkey_authorize() {
    let app = spawn_app().await;
    let (_, subject) = setup(&app).await;
    let nosy = app.user_with_key("nosy").await;
    let body = assert_error(
        ask(&app, &nosy, json!({"credentials": {"access_key_id": subject.access_key_id}, "action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q1.csv"})).await,
        403,
        "AccessDenied",
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("latchkey:Authorize"));
}

#[tokio::test]
async fn resource_policies_decide_for_root_and_users() {
    let app = spawn_app().await;
    let (service, subject) = setup(&app).await;
    let bucket = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoWrites", "Effect": "Deny", "Principal": "*",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]});
    let reply = json_with_status(
        ask(&app, &service, json!({"credentials": {"access_key_id": subject.access_key_id}, "action": "s3:GetObject",
            "resource": "arn:aws:s3:::reports/q1.csv", "source_ip": "203.0.113.9", "resource_policy": bucket})).await,
        200,
    )
    .await;
    assert_eq!(reply["decision"], "explicit_deny", "{reply}");
    assert_eq!(reply["decided_by"], "resource");
}

#[tokio::test]
async fn signed_request_from_a_role_session() {
    let app = spawn_app().await;
    let (service, subject) = setup(&app).await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:user/reader", app.account_id)}, "Action": "sts:AssumeRole"}]});
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "report-reader", "trust_policy": trust}),
        )
        .await,
        201,
    )
    .await;
    app.put(
        "/v1/roles/report-reader/policies/read",
        &json!({"document": {"Version": "2012-10-17", "Statement": [{"Sid": "RoleRead", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]}}),
    )
    .await;
    let r = app
        .request_as(&subject, reqwest::Method::POST, "/v1/sts/assume-role")
        .json(&json!({"role_arn": format!("arn:aws:iam::{}:role/report-reader", app.account_id), "role_session_name": "nightly"}))
        .send()
        .await
        .unwrap();
    let creds = json_with_status(r, 200).await["credentials"].clone();
    let temp = Credentials {
        access_key_id: creds["access_key_id"].as_str().unwrap().into(),
        secret_access_key: creds["secret_access_key"].as_str().unwrap().into(),
    };
    let token = creds["session_token"].as_str().unwrap().to_string();
    let mut signing = Signing::now(&temp);
    signing.service = "s3";
    signing.session_token = Some(&token);
    let signed = sign_request(&signing, "GET", STORAGE_URL, &[], b"");
    let mut headers = serde_json::Map::new();
    headers.insert("host".into(), json!("storage.internal"));
    for (n, v) in signed.headers {
        headers.insert(n, json!(v));
    }
    let forwarded = json!({"method": "GET", "url": STORAGE_URL, "headers": headers, "body": ""});
    let reply = json_with_status(
        ask(&app, &service, json!({"signed_request": forwarded, "action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q1.csv"})).await,
        200,
    )
    .await;
    assert_eq!(reply["allowed"], true, "{reply}");
    assert_eq!(reply["principal"]["type"], "AssumedRole");
    assert_eq!(
        reply["principal"]["arn"],
        format!(
            "arn:aws:sts::{}:assumed-role/report-reader/nightly",
            app.account_id
        )
    );
    assert_eq!(reply["matched_statements"][0]["sid"], "RoleRead");

    // The same request without its token is not authentic.
    let mut no_token = forwarded.clone();
    no_token["headers"]
        .as_object_mut()
        .unwrap()
        .remove("x-amz-security-token");
    let r = ask(&app, &service, json!({"signed_request": no_token, "action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q1.csv"})).await;
    assert_eq!(r.status(), 400);
}

async fn ask_raw(
    app: &TestApp,
    service: &Credentials,
    content_type: Option<&str>,
    body: String,
) -> reqwest::Response {
    let mut request = app.request_as(service, reqwest::Method::POST, "/v1/authorize");
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.body(body).send().await.unwrap()
}

#[tokio::test]
async fn strings_with_json_escapes_are_read_as_their_text() {
    let app = spawn_app().await;
    let (service, subject) = setup(&app).await;
    let body =
        json!({"signed_request": signed_get(&subject, SystemTime::now()), "action": "s3:GetObject",
        "resource": "arn:aws:s3:::reports/q1.csv", "source_ip": "203.0.113.9"})
        .to_string();
    // The same request, with a header name, the URL and the action escaped.
    let escaped = body
        .replace(r#""host""#, r#""\u0068ost""#)
        .replace("https://", r"https:\/\/")
        .replace("s3:GetObject", r"s3:Get\u004fbject");
    assert_ne!(escaped, body);
    let reply = json_with_status(
        ask_raw(&app, &service, Some("application/json"), escaped).await,
        200,
    )
    .await;
    assert_eq!(reply["allowed"], true, "{reply}");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_clear_error() {
    let app = crate::helpers::spawn_app_with(|c| c.max_body_bytes = 4096).await;
    let (service, subject) = setup(&app).await;
    let body =
        json!({"credentials": {"access_key_id": subject.access_key_id}, "action": "s3:GetObject",
        "resource": "arn:aws:s3:::reports/q1.csv"})
        .to_string();
    for content_type in [None, Some("text/plain")] {
        assert_error_message(
            ask_raw(&app, &service, content_type, body.clone()).await,
            400,
            "ValidationError",
            "The request body must be JSON (Content-Type: application/json).",
        )
        .await;
    }
    // A vendor JSON type is JSON.
    let reply = json_with_status(
        ask_raw(&app, &service, Some("application/vnd.api+json"), body).await,
        200,
    )
    .await;
    assert_eq!(reply["decision"], "implicit_deny");
    let reply = assert_error(
        ask_raw(
            &app,
            &service,
            Some("application/json"),
            "{\"action\":".into(),
        )
        .await,
        400,
        "ValidationError",
    )
    .await;
    assert!(reply["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid request body"));
    let huge = json!({"action": "s3:GetObject", "resource": "x".repeat(8192)}).to_string();
    assert_error(
        ask_raw(&app, &service, Some("application/json"), huge).await,
        413,
        "PayloadTooLarge",
    )
    .await;
}
