//! SigV4 on /v1: requests signed by AWS's own signer are accepted;
//! tampered, expired and unknown-key requests are 401 with AWS's codes.

use std::time::{Duration, SystemTime};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, json_with_status, spawn_app, Credentials};
use crate::signing::{send, sign_request, Signing};

#[tokio::test]
async fn header_signed_get_and_post_work_for_root_and_users() {
    let app = spawn_app().await;
    let url = app.url("/v1/users");
    let body = serde_json::to_vec(&json!({"name": "signed-alice"})).unwrap();
    let signed = sign_request(
        &Signing::now(&app.root),
        "POST",
        &url,
        &[("content-type", "application/json")],
        &body,
    );
    let created = json_with_status(send(&app.client, Method::POST, &signed, body).await, 201).await;
    assert_eq!(created["name"], "signed-alice");

    let signed = sign_request(&Signing::now(&app.root), "GET", &url, &[], b"");
    let list = json_with_status(send(&app.client, Method::GET, &signed, vec![]).await, 200).await;
    assert_eq!(list["items"][0]["name"], "signed-alice");

    // A user signs too, and is then authorized by its policies.
    let bob = app.user_with_key("bob").await;
    let get_url = app.url("/v1/users/bob");
    let signed = sign_request(&Signing::now(&bob), "GET", &get_url, &[], b"");
    let body = assert_error(
        send(&app.client, Method::GET, &signed, vec![]).await,
        403,
        "AccessDenied",
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("iam:GetUser"));
}

#[tokio::test]
async fn presigned_urls_work() {
    let app = spawn_app().await;
    let mut signing = Signing::now(&app.root);
    signing.presigned = true;
    let signed = sign_request(&signing, "GET", &app.url("/v1/users?max_items=5"), &[], b"");
    assert!(signed.url.contains("X-Amz-Signature="));
    json_with_status(send(&app.client, Method::GET, &signed, vec![]).await, 200).await;
}

#[tokio::test]
async fn tampering_fails_with_signature_does_not_match() {
    let app = spawn_app().await;
    let url = app.url("/v1/users");
    let body = serde_json::to_vec(&json!({"name": "mallory"})).unwrap();
    let signed = sign_request(
        &Signing::now(&app.root),
        "POST",
        &url,
        &[("content-type", "application/json")],
        &body,
    );
    let tampered = serde_json::to_vec(&json!({"name": "mallorz"})).unwrap();
    assert_error(
        send(&app.client, Method::POST, &signed, tampered).await,
        401,
        "SignatureDoesNotMatch",
    )
    .await;
    // Nothing was created.
    let list = json_with_status(app.get("/v1/users").await, 200).await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn requests_outside_the_skew_window_are_refused() {
    let app = spawn_app().await;
    let mut signing = Signing::now(&app.root);
    signing.time = SystemTime::now() - Duration::from_secs(20 * 60);
    let signed = sign_request(&signing, "GET", &app.url("/v1/users"), &[], b"");
    let body = assert_error(
        send(&app.client, Method::GET, &signed, vec![]).await,
        401,
        "SignatureDoesNotMatch",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Signature expired"),
        "{body}"
    );

    signing.time = SystemTime::now() + Duration::from_secs(20 * 60);
    let signed = sign_request(&signing, "GET", &app.url("/v1/users"), &[], b"");
    let body = assert_error(
        send(&app.client, Method::GET, &signed, vec![]).await,
        401,
        "SignatureDoesNotMatch",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not yet current"),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_and_wrong_keys_are_refused() {
    let app = spawn_app().await;
    let stranger = Credentials {
        access_key_id: "AKIAAAAAAAAAAAAAAAAA".into(),
        secret_access_key: "x".repeat(40),
    };
    let signed = sign_request(
        &Signing::now(&stranger),
        "GET",
        &app.url("/v1/users"),
        &[],
        b"",
    );
    assert_error(
        send(&app.client, Method::GET, &signed, vec![]).await,
        401,
        "InvalidClientTokenId",
    )
    .await;

    let wrong = Credentials {
        access_key_id: app.root.access_key_id.clone(),
        secret_access_key: "y".repeat(40),
    };
    let signed = sign_request(
        &Signing::now(&wrong),
        "GET",
        &app.url("/v1/users"),
        &[],
        b"",
    );
    assert_error(
        send(&app.client, Method::GET, &signed, vec![]).await,
        401,
        "SignatureDoesNotMatch",
    )
    .await;

    let malformed = app
        .client
        .get(app.url("/v1/users"))
        .header("authorization", "AWS4-HMAC-SHA256 Credential=garbage")
        .send()
        .await
        .unwrap();
    assert_error(malformed, 401, "IncompleteSignature").await;
}

#[tokio::test]
async fn a_deactivated_key_stops_working_at_once() {
    let app = spawn_app().await;
    let carol = app.user_with_key("carol").await;
    app.put(
        "/v1/users/carol/policies/self",
        &json!({"document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}}),
    )
    .await;
    let signed = sign_request(
        &Signing::now(&carol),
        "GET",
        &app.url("/v1/users/carol"),
        &[],
        b"",
    );
    json_with_status(send(&app.client, Method::GET, &signed, vec![]).await, 200).await;
    let r = app
        .patch(
            &format!("/v1/users/carol/access-keys/{}", carol.access_key_id),
            &json!({"status": "Inactive"}),
        )
        .await;
    json_with_status(r, 200).await;
    let signed = sign_request(
        &Signing::now(&carol),
        "GET",
        &app.url("/v1/users/carol"),
        &[],
        b"",
    );
    assert_error(
        send(&app.client, Method::GET, &signed, vec![]).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
}

#[tokio::test]
async fn a_presigned_query_decides_the_caller_even_beside_basic_credentials() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    // A first request puts alice's key in the credential cache.
    let me = |r| async { json_with_status(r, 200).await["arn"].clone() };
    let alice_arn = me(app
        .request_as(&alice, Method::GET, "/v1/sts/caller-identity")
        .send()
        .await
        .unwrap())
    .await;
    assert!(alice_arn.as_str().unwrap().ends_with(":user/alice"));
    let mut signing = Signing::now(&app.root);
    signing.presigned = true;
    let signed = sign_request(
        &signing,
        "GET",
        &app.url("/v1/sts/caller-identity"),
        &[],
        b"",
    );
    let basic = app
        .request_as(&alice, Method::GET, "/v1/sts/caller-identity")
        .build()
        .unwrap()
        .headers()
        .get("authorization")
        .unwrap()
        .clone();
    let r = app
        .client
        .get(&signed.url)
        .header("authorization", basic)
        .send()
        .await
        .unwrap();
    let arn = me(r).await;
    assert!(arn.as_str().unwrap().ends_with(":root"), "{arn}");
}
