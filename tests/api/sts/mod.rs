//! STS over HTTP with Basic plus X-Amz-Security-Token: assume-role per
//! AWS-IAM-NOTES §6.5 with its inputs (durations, session policies, tags,
//! source identity), session lifecycles (expiry, revocation), and the
//! user's own sessions (session token, login) and caller identity.

mod assume_role;
mod inputs;
mod lifecycle;
mod own_sessions;
mod session_cache;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

use crate::helpers::{assert_error, json_with_status, Credentials, TestApp};

/// Session credentials: a key, a secret and the token that must go with them.
#[derive(Clone, Debug)]
pub(super) struct Session {
    pub creds: Credentials,
    pub token: String,
}

impl Session {
    pub fn from_reply(reply: &Value) -> Session {
        let c = &reply["credentials"];
        Session {
            creds: Credentials {
                access_key_id: c["access_key_id"].as_str().unwrap().to_string(),
                secret_access_key: c["secret_access_key"].as_str().unwrap().to_string(),
            },
            token: c["session_token"].as_str().unwrap().to_string(),
        }
    }

    pub fn key(&self) -> &str {
        &self.creds.access_key_id
    }
}

/// Who makes a request: long-term credentials or a session.
pub(super) enum As<'a> {
    Key(&'a Credentials),
    Session(&'a Session),
}

pub(super) fn request(app: &TestApp, who: As<'_>, method: Method, path: &str) -> RequestBuilder {
    match who {
        As::Key(c) => app.request_as(c, method, path),
        As::Session(s) => app
            .request_as(&s.creds, method, path)
            .header("X-Amz-Security-Token", &s.token),
    }
}

pub(super) async fn send(builder: RequestBuilder) -> Response {
    builder.send().await.expect("request")
}

pub(super) async fn assume(app: &TestApp, who: As<'_>, body: Value) -> Response {
    send(request(app, who, Method::POST, "/v1/sts/assume-role").json(&body)).await
}

/// An AssumeRole refused with 403 AccessDenied: its message.
pub(super) async fn assume_denied(app: &TestApp, who: As<'_>, body: Value) -> String {
    message(assume(app, who, body).await, 403, "AccessDenied").await
}

/// An AssumeRole refused with 400 ValidationError: the error body.
pub(super) async fn assume_invalid(app: &TestApp, who: As<'_>, body: Value) -> Value {
    crate::helpers::assert_error(assume(app, who, body).await, 400, "ValidationError").await
}

pub(super) async fn assume_ok(app: &TestApp, who: As<'_>, body: Value) -> (Session, Value) {
    let reply = json_with_status(assume(app, who, body).await, 200).await;
    (Session::from_reply(&reply), reply)
}

pub(super) async fn caller_identity(app: &TestApp, who: As<'_>) -> Response {
    send(request(app, who, Method::GET, "/v1/sts/caller-identity")).await
}

pub(super) fn trust(principal: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})
}

pub(super) fn allow(actions: Value, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resource}]})
}

/// Creates a role as `owner` (root of some account) and returns its ARN.
/// A role of root's account whose trust names one user of that account.
pub(super) async fn role_trusting_user(app: &TestApp, name: &str, user: &str) -> String {
    let trusted = user_arn(app, user);
    create_role(
        app,
        &app.root,
        name,
        json!({ "trust_policy": trust(json!({ "AWS": trusted })) }),
    )
    .await
}

pub(super) async fn create_role(
    app: &TestApp,
    owner: &Credentials,
    name: &str,
    extra: Value,
) -> String {
    let mut body = json!({"name": name});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = send(app.request_as(owner, Method::POST, "/v1/roles").json(&body)).await;
    json_with_status(r, 201).await["arn"]
        .as_str()
        .unwrap()
        .to_string()
}

pub(super) async fn put_inline(
    app: &TestApp,
    owner: &Credentials,
    kind: &str,
    name: &str,
    doc: Value,
) {
    let r = send(
        app.request_as(owner, Method::PUT, &format!("/v1/{kind}/{name}/policies/p"))
            .json(&json!({"document": doc})),
    )
    .await;
    assert!(
        r.status().is_success(),
        "put policy: {}",
        r.text().await.unwrap()
    );
}

/// A second account: (account id, its root credentials).
pub(super) async fn second_account(app: &TestApp) -> (String, Credentials) {
    let reply = json_with_status(app.post("/v1/accounts", &json!({"name": "b"})).await, 201).await;
    let c = &reply["root_credentials"];
    (
        reply["account_id"].as_str().unwrap().to_string(),
        Credentials {
            access_key_id: c["access_key_id"].as_str().unwrap().to_string(),
            secret_access_key: c["secret_access_key"].as_str().unwrap().to_string(),
        },
    )
}

/// A user with a key, created by `owner`.
pub(super) async fn user_in(app: &TestApp, owner: &Credentials, name: &str) -> Credentials {
    let r = send(
        app.request_as(owner, Method::POST, "/v1/users")
            .json(&json!({"name": name})),
    )
    .await;
    json_with_status(r, 201).await;
    let r = send(app.request_as(
        owner,
        Method::POST,
        &format!("/v1/users/{name}/access-keys"),
    ))
    .await;
    let key = json_with_status(r, 201).await;
    Credentials {
        access_key_id: key["access_key_id"].as_str().unwrap().to_string(),
        secret_access_key: key["secret_access_key"].as_str().unwrap().to_string(),
    }
}

pub(super) fn user_arn(app: &TestApp, name: &str) -> String {
    format!("arn:aws:iam::{}:user/{name}", app.account_id)
}

pub(super) async fn message(r: Response, status: u16, code: &str) -> String {
    assert_error(r, status, code).await["error"]["message"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Opens the app's database beside it, to move a session's expiry.
pub(super) async fn store(app: &TestApp) -> latchkey::store::Store {
    app.open_store().await
}
