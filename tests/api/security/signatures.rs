//! Signatures cover what they must, addresses are the real ones, secrets
//! stay out (issue 15 §4): an unsigned body is refused on latchkey's own
//! requests, X-Forwarded-For is read from the right, a secret typed in the
//! key id field is never recorded, REST policy objects refuse repeated
//! keys and control characters in actions, and `/v1/authorize` takes a
//! forwarded request's host from its URL.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, captured_logs, json_with_status, spawn_app, spawn_app_with, Credentials, TestApp,
};
use crate::signing::{sign_request, Signing};

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Signs `method url` over `UNSIGNED-PAYLOAD` with aws-sigv4, as S3 clients
/// do: `x-amz-content-sha256: UNSIGNED-PAYLOAD` is sent and signed, in the
/// header form or with a presigned query. Returns the URL to call and the
/// headers to send (with `host` when `keep_host`).
fn sign_unsigned_payload(
    creds: &Credentials,
    service: &str,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    presigned: bool,
    keep_host: bool,
) -> (String, Vec<(String, String)>) {
    let identity = AwsCredentials::new(
        &creds.access_key_id,
        &creds.secret_access_key,
        None,
        None,
        "tests",
    )
    .into();
    let mut settings = SigningSettings::default();
    if presigned {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
    } else {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let host = url.split("://").nth(1).unwrap().split('/').next().unwrap();
    let mut all: Vec<(String, String)> = vec![("host".into(), host.into())];
    all.extend(headers.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    if presigned {
        // A presigned URL has no hash of its own: the header says it.
        all.push(("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
    }
    let signable = SignableRequest::new(
        method,
        url,
        all.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::UnsignedPayload,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut url = url.to_string();
    for (i, (name, value)) in instructions.params().iter().enumerate() {
        url.push(if i == 0 && !url.contains('?') {
            '?'
        } else {
            '&'
        });
        url.push_str(name);
        url.push('=');
        url.push_str(&urlencoding(value));
    }
    all.extend(
        instructions
            .headers()
            .map(|(n, v)| (n.to_string(), v.to_string())),
    );
    assert!(all
        .iter()
        .any(|(n, v)| n == "x-amz-content-sha256" && v == "UNSIGNED-PAYLOAD"));
    if !keep_host {
        all.retain(|(n, _)| n != "host");
    }
    (url, all)
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn send_raw(
    app: &TestApp,
    method: Method,
    url: &str,
    headers: &[(String, String)],
    body: &str,
) -> reqwest::Response {
    let mut req = app.client.request(method, url);
    for (n, v) in headers {
        req = req.header(n, v);
    }
    req.body(body.to_string()).send().await.unwrap()
}

async fn user_exists(app: &TestApp, name: &str) -> bool {
    app.get(&format!("/v1/users/{name}")).await.status() == 200
}

// ---- 1. UNSIGNED-PAYLOAD ----------------------------------------------

#[tokio::test]
async fn a_get_user_signed_over_unsigned_payload_cannot_be_replayed_as_create_user() {
    let app = spawn_app().await;
    let get_user = "Action=GetUser&Version=2010-05-08";
    let create_user = "Action=CreateUser&UserName=mallory&Version=2010-05-08";
    for presigned in [false, true] {
        let (url, headers) = sign_unsigned_payload(
            &app.root,
            "iam",
            "POST",
            &app.url("/"),
            &[("content-type", FORM)],
            presigned,
            false,
        );
        // The captured GetUser itself is refused: IAM hashes every body.
        let r = send_raw(&app, Method::POST, &url, &headers, get_user).await;
        assert_eq!(r.status(), 403, "presigned: {presigned}");
        let text = r.text().await.unwrap();
        assert!(
            text.contains("<Code>SignatureDoesNotMatch</Code>")
                && text.contains("UNSIGNED-PAYLOAD"),
            "{text}"
        );
        // And so is its replay with another Action in the body.
        let r = send_raw(&app, Method::POST, &url, &headers, create_user).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, 403, "presigned: {presigned}: {text}");
        assert!(
            text.contains("<Code>SignatureDoesNotMatch</Code>"),
            "{text}"
        );
        assert!(!user_exists(&app, "mallory").await);
    }
    // A body-hashing signature of the same request still works.
    let signed = sign_request(
        &Signing::now(&app.root),
        "POST",
        &app.url("/"),
        &[("content-type", FORM)],
        create_user.as_bytes(),
    );
    let r = crate::signing::send(
        &app.client,
        Method::POST,
        &signed,
        create_user.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(user_exists(&app, "mallory").await);
}

#[tokio::test]
async fn unsigned_payload_is_refused_on_v1_routes() {
    let app = spawn_app().await;
    for presigned in [false, true] {
        let (url, headers) = sign_unsigned_payload(
            &app.root,
            "iam",
            "POST",
            &app.url("/v1/users"),
            &[("content-type", "application/json")],
            presigned,
            false,
        );
        let r = send_raw(&app, Method::POST, &url, &headers, r#"{"name": "mallory"}"#).await;
        let body = assert_error(r, 401, "SignatureDoesNotMatch").await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("UNSIGNED-PAYLOAD"),
            "{body}"
        );
        assert!(!user_exists(&app, "mallory").await);
    }
    // A GET has no body to swap, but latchkey's rule is one rule.
    let (url, headers) = sign_unsigned_payload(
        &app.root,
        "iam",
        "GET",
        &app.url("/v1/users"),
        &[],
        false,
        false,
    );
    let r = send_raw(&app, Method::GET, &url, &headers, "").await;
    assert_error(r, 401, "SignatureDoesNotMatch").await;
}

/// A service and a subject that may read `bucket/*`.
async fn storage_setup(app: &TestApp) -> (Credentials, Credentials) {
    let service = app.authorizing_service("storage-service").await;
    let subject = app.user_with_key("reader").await;
    app.put_inline(
        "/v1/users/reader/policies/read",
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::bucket/*"}]}),
    )
    .await;
    (service, subject)
}

async fn ask(app: &TestApp, service: &Credentials, body: Value) -> reqwest::Response {
    app.request_as(service, Method::POST, "/v1/authorize")
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn header_map(headers: &[(String, String)]) -> Value {
    let mut map = serde_json::Map::new();
    for (n, v) in headers {
        map.insert(n.clone(), json!(v));
    }
    Value::Object(map)
}

#[tokio::test]
async fn authorize_still_verifies_a_forwarded_s3_request_over_unsigned_payload() {
    let app = spawn_app().await;
    let (service, subject) = storage_setup(&app).await;
    let url = "https://storage.internal/bucket/upload.bin";
    let (url, headers) = sign_unsigned_payload(&subject, "s3", "PUT", url, &[], false, true);
    let reply = json_with_status(
        ask(
            &app,
            &service,
            json!({"signed_request": {"method": "PUT", "url": url,
            "headers": header_map(&headers), "body_sha256": "0".repeat(64)},
            "action": "s3:PutObject", "resource": "arn:aws:s3:::bucket/upload.bin"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(reply["allowed"], true, "{reply}");
}

// ---- 2. X-Forwarded-For ------------------------------------------------

#[tokio::test]
async fn a_client_written_first_forwarded_hop_is_not_believed() {
    let app = spawn_app_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let creds = app.user_with_key("ipuser").await;
    app.put_inline(
        "/v1/users/ipuser/policies/only-from",
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser",
            "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}}]}),
    )
    .await;
    let get = |lines: &'static [&'static str]| {
        let mut r = app.request_as(&creds, Method::GET, "/v1/users/ipuser");
        for line in lines {
            r = r.header("x-forwarded-for", *line);
        }
        r.send()
    };
    // The client wrote the allowed address; the trusted proxy appended
    // the one it really came from.
    let r = get(&["198.51.100.7, 203.0.113.9"]).await.unwrap();
    assert_error(r, 403, "AccessDenied").await;
    // Two header lines are one list.
    let r = get(&["198.51.100.7", "203.0.113.9"]).await.unwrap();
    assert_error(r, 403, "AccessDenied").await;
    // Garbage to the right stops the walk at the proxy: not believed.
    let r = get(&["198.51.100.7, not-an-address"]).await.unwrap();
    assert_error(r, 403, "AccessDenied").await;
    // The real address decides, whatever the client wrote before it.
    let r = get(&["203.0.113.9, 198.51.100.7"]).await.unwrap();
    json_with_status(r, 200).await;
    let r = get(&["junk", "198.51.100.7"]).await.unwrap();
    json_with_status(r, 200).await;
}

// ---- 3. Key ids that are not key ids ----------------------------------

#[tokio::test]
async fn a_secret_in_the_key_id_field_is_never_recorded() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let swapped = Credentials {
        access_key_id: alice.secret_access_key.clone(),
        secret_access_key: alice.access_key_id.clone(),
    };
    // Basic, with id and secret swapped.
    let r = app
        .request_as(&swapped, Method::GET, "/v1/users/alice")
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "InvalidClientTokenId").await;
    // /v1/authorize's credentials mode, with the secret as the id.
    let service = app.authorizing_service("svc").await;
    let r = ask(
        &app,
        &service,
        json!({"credentials": {"access_key_id": alice.secret_access_key},
        "action": "s3:GetObject", "resource": "*"}),
    )
    .await;
    assert_eq!(r.status(), 400);
    // SigV4 with the secret in the credential's key id.
    let mut signing = Signing::now(&swapped);
    signing.service = "iam";
    let signed = sign_request(&signing, "GET", &app.url("/v1/users"), &[], b"");
    let r = crate::signing::send(&app.client, Method::GET, &signed, vec![]).await;
    assert_eq!(r.status(), 401);

    let (events, _) = app
        .list_all("/v1/audit/events?action=latchkey:Authenticate", 100)
        .await;
    let text = serde_json::to_string(&events).unwrap();
    assert!(events.len() >= 3, "{text}");
    assert!(
        !text.contains(&alice.secret_access_key),
        "the secret reached the audit trail"
    );
    // Each attempt is still told apart, by a digest.
    assert!(
        events.iter().any(|e| e["access_key_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("sha256:") && id.len() == 19)),
        "{text}"
    );
    let db = app.database().await;
    let ids = db.texts("SELECT access_key_id FROM audit_events").await;
    assert!(ids.iter().all(|id| !id
        .as_deref()
        .unwrap_or("")
        .contains(&alice.secret_access_key)));
    assert!(
        !captured_logs().contains(&alice.secret_access_key),
        "the secret reached the logs"
    );
}

// ---- 4. Policy objects -------------------------------------------------

async fn send_json_text(
    app: &TestApp,
    method: Method,
    path: &str,
    body: &str,
) -> reqwest::Response {
    app.request(method, path)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn rest_policy_objects_with_repeated_keys_are_malformed() {
    let app = spawn_app().await;
    app.create_user("bob").await;
    let doc = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Effect": "Allow",
        "Action": "iam:*", "Resource": "*"}]}"#;
    let writes = [
        (
            Method::PUT,
            "/v1/users/bob/policies/p",
            format!(r#"{{"document": {doc}}}"#),
        ),
        (
            Method::POST,
            "/v1/policies",
            format!(r#"{{"name": "p", "document": {doc}}}"#),
        ),
        (
            Method::POST,
            "/v1/policies/validate",
            format!(r#"{{"document": {doc}}}"#),
        ),
    ];
    for (method, path, body) in writes {
        let r = send_json_text(&app, method, path, &body).await;
        let body = assert_error(r, 400, "MalformedPolicyDocument").await;
        assert_eq!(body["error"]["message"], "Syntax errors in policy.");
    }
    // The string form has always refused it, with the same answer.
    let string_form = json!({ "document": doc }).to_string();
    let r = send_json_text(&app, Method::PUT, "/v1/users/bob/policies/p", &string_form).await;
    assert_error(r, 400, "MalformedPolicyDocument").await;
    // A repeated key deeper down (a trust policy's Principal) too.
    let trust = r#"{"name": "r", "trust_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com", "Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}}"#;
    let r = send_json_text(&app, Method::POST, "/v1/roles", trust).await;
    assert_error(r, 400, "MalformedPolicyDocument").await;
    let list = json_with_status(app.get("/v1/users/bob/policies").await, 200).await;
    assert_eq!(list["items"], json!([]), "{list}");
}

#[tokio::test]
async fn control_characters_in_action_names_are_malformed() {
    let app = spawn_app().await;
    app.create_user("bob").await;
    for action in [
        "iam:Get\\u0000User",
        "iam:GetUser\\u0007",
        "s3:Get\\u001fObject",
    ] {
        let body = format!(
            r#"{{"document": {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow",
                "Action": "{action}", "Resource": "*"}}]}}}}"#
        );
        let r = send_json_text(&app, Method::PUT, "/v1/users/bob/policies/p", &body).await;
        let body = assert_error(r, 400, "MalformedPolicyDocument").await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("control characters"), "{message}");
        assert!(!message.chars().any(char::is_control), "{message:?}");
    }
}

// ---- 5. /v1/authorize without a host header ----------------------------

#[tokio::test]
async fn authorize_takes_the_host_from_the_url_when_no_header_gives_it() {
    let app = spawn_app().await;
    let (service, subject) = storage_setup(&app).await;
    let url = "https://bucket.s3.example.com/key";
    let mut signing = Signing::now(&subject);
    signing.service = "s3";
    // `sign_request` signs host and leaves it out of the headers to send,
    // as a forwarding service often does.
    let signed = sign_request(&signing, "GET", url, &[], b"");
    assert!(!signed.headers.iter().any(|(n, _)| n == "host"));
    let forwarded = |headers: &[(String, String)]| json!({"method": "GET", "url": url, "headers": header_map(headers), "body": ""});
    let reply = json_with_status(
        ask(
            &app,
            &service,
            json!({"signed_request": forwarded(&signed.headers),
            "action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/key"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(reply["allowed"], true, "{reply}");
    let reply = json_with_status(
        ask(
            &app,
            &service,
            json!({"signed_request": forwarded(&signed.headers),
            "action": "s3:GetObject", "resource": "arn:aws:s3:::other/key"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(reply["allowed"], false, "{reply}");
    // A host header that is not the signed one still fails.
    let mut other_host = signed.headers.clone();
    other_host.push(("host".into(), "evil.s3.example.com".into()));
    assert_error(
        ask(
            &app,
            &service,
            json!({"signed_request": forwarded(&other_host),
            "action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/key"}),
        )
        .await,
        400,
        "SignatureDoesNotMatch",
    )
    .await;
}
