//! `aws:SourceIp` comes from the peer, or from X-Forwarded-For only when the
//! peer is a configured trusted proxy; a client cannot set it otherwise.
//! `aws:SecureTransport` likewise believes X-Forwarded-Proto from a trusted
//! proxy only.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, json_with_status, spawn_app, spawn_app_with, TestApp};

/// A user with a key, allowed iam:GetUser only under `condition`.
async fn allowed_only_if(
    app: &TestApp,
    name: &str,
    condition: serde_json::Value,
) -> crate::helpers::Credentials {
    let creds = app.user_with_key(name).await;
    app.put(
        &format!("/v1/users/{name}/policies/only-if"),
        &json!({"document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser",
            "Resource": "*", "Condition": condition}]}}),
    )
    .await;
    creds
}

async fn only_from_documentation_net(app: &TestApp) -> crate::helpers::Credentials {
    allowed_only_if(
        app,
        "ipuser",
        json!({"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}),
    )
    .await
}

#[tokio::test]
async fn forwarded_for_is_ignored_from_untrusted_peers() {
    let app = spawn_app().await;
    let creds = only_from_documentation_net(&app).await;
    let r = app
        .request_as(&creds, Method::GET, "/v1/users/ipuser")
        .header("x-forwarded-for", "198.51.100.7")
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "AccessDenied").await;
}

#[tokio::test]
async fn forwarded_for_is_believed_from_a_trusted_proxy() {
    // 10.0.0.1 is a second trusted proxy: the client is the first
    // untrusted hop from the right.
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap(), "10.0.0.1".parse().unwrap()]
    })
    .await;
    let creds = only_from_documentation_net(&app).await;
    let r = app
        .request_as(&creds, Method::GET, "/v1/users/ipuser")
        .header("x-forwarded-for", "198.51.100.7, 10.0.0.1")
        .send()
        .await
        .unwrap();
    json_with_status(r, 200).await;
    let r = app
        .request_as(&creds, Method::GET, "/v1/users/ipuser")
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "AccessDenied").await;
}

async fn only_over_tls(app: &TestApp) -> crate::helpers::Credentials {
    allowed_only_if(
        app,
        "tlsuser",
        json!({"Bool": {"aws:SecureTransport": "true"}}),
    )
    .await
}

async fn get_self_forwarded_as(
    app: &TestApp,
    creds: &crate::helpers::Credentials,
    proto: Option<&str>,
) -> reqwest::Response {
    let mut r = app.request_as(creds, Method::GET, "/v1/users/tlsuser");
    if let Some(proto) = proto {
        r = r.header("x-forwarded-proto", proto);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn forwarded_proto_is_ignored_from_untrusted_peers() {
    let app = spawn_app().await;
    let creds = only_over_tls(&app).await;
    let r = get_self_forwarded_as(&app, &creds, Some("https")).await;
    assert_error(r, 403, "AccessDenied").await;
}

#[tokio::test]
async fn forwarded_proto_is_believed_from_a_trusted_proxy() {
    let app = spawn_app_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let creds = only_over_tls(&app).await;
    let r = get_self_forwarded_as(&app, &creds, Some("HTTPS")).await;
    json_with_status(r, 200).await;
    // The proxy appends what it saw; a client-written `https` on the left
    // is not believed.
    let r = get_self_forwarded_as(&app, &creds, Some("https, http")).await;
    assert_error(r, 403, "AccessDenied").await;
    let r = get_self_forwarded_as(&app, &creds, Some("http, https")).await;
    json_with_status(r, 200).await;
    let r = get_self_forwarded_as(&app, &creds, Some("http")).await;
    assert_error(r, 403, "AccessDenied").await;
    // Two proxies: the edge took the client's TLS and the trusted inner
    // proxy (127.0.0.1, the test's own address) spoke http: the protocol at
    // the client's place counts, not the last one.
    let via_two = |proto: &'static str| {
        app.request_as(&creds, Method::GET, "/v1/users/tlsuser")
            .header("x-forwarded-for", "198.51.100.7, 127.0.0.1")
            .header("x-forwarded-proto", proto)
            .send()
    };
    json_with_status(via_two("https, http").await.unwrap(), 200).await;
    assert_error(via_two("http, https").await.unwrap(), 403, "AccessDenied").await;
    let r = get_self_forwarded_as(&app, &creds, None).await;
    assert_error(r, 403, "AccessDenied").await;
}
