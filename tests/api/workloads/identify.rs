//! Identity proofs: a caller signs a GetCallerIdentity with an audience
//! header; the verifier posts it to /v1/identify with the audience it
//! expects. Replays at another audience and tampered proofs fail.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::{fetch_ok, setup};
use crate::helpers::{assert_error, json_with_status, spawn_app, Credentials, TestApp};
use crate::signing::{sign_request, Signed, Signing};

const URL: &str = "https://sts.latchkey.example/";
const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// A header-signed proof for `audience` (None: no audience header).
fn proof(
    creds: &Credentials,
    token: Option<&str>,
    audience: Option<&str>,
    body: &str,
    time: SystemTime,
) -> Signed {
    let mut signing = Signing::now(creds);
    signing.service = "sts";
    signing.session_token = token;
    signing.time = time;
    let mut headers = vec![("content-type", FORM)];
    if let Some(a) = audience {
        headers.push(("x-latchkey-audience", a));
    }
    sign_request(&signing, "POST", URL, &headers, body.as_bytes())
}

/// The /v1/identify body for a signed request (the host header put back:
/// the signer leaves it to the HTTP client).
fn identify_body(signed: &Signed, method: &str, body: &str, audience: &str) -> Value {
    let mut headers = serde_json::Map::new();
    headers.insert("host".into(), json!("sts.latchkey.example"));
    for (n, v) in &signed.headers {
        headers.insert(n.clone(), json!(v));
    }
    json!({"signed_request": {"method": method, "url": signed.url, "headers": headers, "body": body},
        "audience": audience})
}

/// Posts to /v1/identify with no credentials at all.
async fn identify(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/identify"))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_proof_identifies_its_signer_to_its_audience() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let signed = proof(&alice, None, Some("vault-a"), BODY, SystemTime::now());
    let who = json_with_status(
        identify(&app, &identify_body(&signed, "POST", BODY, "vault-a")).await,
        200,
    )
    .await;
    assert_eq!(
        who["arn"],
        format!("arn:aws:iam::{}:user/alice", app.account_id)
    );
    assert_eq!(who["account"], app.account_id);
    assert_eq!(who["type"], "User");
    assert!(who["user_id"].as_str().unwrap().starts_with("AIDA"));
    assert_eq!(who["audience"], "vault-a");

    // A workload proves itself with its role credentials.
    let fixture = setup(&app).await;
    let issued = fetch_ok(&app, &fixture.token).await;
    let signed = proof(
        &issued.creds,
        Some(&issued.token),
        Some("vault-a"),
        BODY,
        SystemTime::now(),
    );
    let who = json_with_status(
        identify(&app, &identify_body(&signed, "POST", BODY, "vault-a")).await,
        200,
    )
    .await;
    assert_eq!(
        who["arn"],
        format!(
            "arn:aws:sts::{}:assumed-role/runner/{}",
            app.account_id,
            fixture.id()
        )
    );
    assert_eq!(who["type"], "AssumedRole");

    // Presigned (GET, Action in the query) works too.
    let mut signing = Signing::now(&alice);
    signing.service = "sts";
    signing.presigned = true;
    let url = format!("{URL}?{BODY}");
    let signed = sign_request(
        &signing,
        "GET",
        &url,
        &[("x-latchkey-audience", "vault-a")],
        b"",
    );
    let mut body = identify_body(&signed, "GET", "", "vault-a");
    // Without a host header (botocore does not add one), the URL's is used.
    body["signed_request"]["headers"]
        .as_object_mut()
        .unwrap()
        .remove("host");
    let who = json_with_status(identify(&app, &body).await, 200).await;
    assert_eq!(who["type"], "User");
}

#[tokio::test]
async fn a_proof_cannot_be_replayed_at_another_audience() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let signed = proof(&alice, None, Some("vault-a"), BODY, SystemTime::now());
    let refused = assert_error(
        identify(&app, &identify_body(&signed, "POST", BODY, "vault-b")).await,
        400,
        "InvalidAudience",
    )
    .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be replayed"),
        "{refused}"
    );
    // Swapping the header after signing breaks the signature.
    let mut forged = identify_body(&signed, "POST", BODY, "vault-b");
    forged["signed_request"]["headers"]["x-latchkey-audience"] = json!("vault-b");
    assert_error(identify(&app, &forged).await, 400, "SignatureDoesNotMatch").await;
    // A proof without a signed audience is for anyone: refused.
    let unbound = proof(&alice, None, None, BODY, SystemTime::now());
    let mut body = identify_body(&unbound, "POST", BODY, "vault-a");
    body["signed_request"]["headers"]["x-latchkey-audience"] = json!("vault-a");
    assert_error(identify(&app, &body).await, 400, "InvalidAudience").await;
}

#[tokio::test]
async fn tampered_stale_or_other_proofs_are_refused() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let signed = proof(&alice, None, Some("vault-a"), BODY, SystemTime::now());
    // Body changed after signing.
    let tampered = format!("{BODY}&Extra=1");
    assert_error(
        identify(&app, &identify_body(&signed, "POST", &tampered, "vault-a")).await,
        400,
        "SignatureDoesNotMatch",
    )
    .await;
    // Signature changed.
    let mut body = identify_body(&signed, "POST", BODY, "vault-a");
    let auth = body["signed_request"]["headers"]["authorization"]
        .as_str()
        .unwrap()
        .to_string();
    let flipped = if auth.ends_with('0') {
        format!("{}1", &auth[..auth.len() - 1])
    } else {
        format!("{}0", &auth[..auth.len() - 1])
    };
    body["signed_request"]["headers"]["authorization"] = json!(flipped);
    assert_error(identify(&app, &body).await, 400, "SignatureDoesNotMatch").await;
    // Older than 15 minutes.
    let stale = proof(
        &alice,
        None,
        Some("vault-a"),
        BODY,
        SystemTime::now() - Duration::from_secs(20 * 60),
    );
    assert_error(
        identify(&app, &identify_body(&stale, "POST", BODY, "vault-a")).await,
        400,
        "RequestExpired",
    )
    .await;
    // Signed, but not a GetCallerIdentity.
    let other = "Action=AssumeRole&Version=2011-06-15";
    let signed = proof(&alice, None, Some("vault-a"), other, SystemTime::now());
    assert_error(
        identify(&app, &identify_body(&signed, "POST", other, "vault-a")).await,
        400,
        "ValidationError",
    )
    .await;
    // An unknown key.
    let ghost = Credentials {
        access_key_id: "AKIAAAAAAAAAAAAAAAAA".into(),
        secret_access_key: "x".repeat(40),
    };
    let signed = proof(&ghost, None, Some("vault-a"), BODY, SystemTime::now());
    assert_error(
        identify(&app, &identify_body(&signed, "POST", BODY, "vault-a")).await,
        400,
        "InvalidClientTokenId",
    )
    .await;
}
