//! A user's (or root's) own sessions: session token and login; and
//! caller identity for every kind of principal.

use reqwest::Method;
use serde_json::json;

use super::*;
use crate::helpers::{assert_error, json_with_status, spawn_app};

#[tokio::test]
async fn caller_identity_of_every_principal_kind() {
    let app = spawn_app().await;
    let acct = app.account_id.clone();
    let root = json_with_status(caller_identity(&app, As::Key(&app.root)).await, 200).await;
    assert_eq!(
        root,
        json!({"account": acct, "arn": format!("arn:aws:iam::{acct}:root"), "user_id": acct})
    );

    let alice = app.user_with_key("alice").await;
    // Always allowed, even when denied outright.
    put_inline(
        &app,
        &app.root,
        "users",
        "alice",
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "*"}]}),
    )
    .await;
    let user = json_with_status(caller_identity(&app, As::Key(&alice)).await, 200).await;
    let alice_id = json_with_status(app.get("/v1/users/alice").await, 200).await["id"].clone();
    assert_eq!(
        user,
        json!({"account": acct, "arn": user_arn(&app, "alice"), "user_id": alice_id})
    );

    // The user's own session: the user's identity.
    let r = send(app.request_as(&alice, Method::POST, "/v1/sts/session-token")).await;
    let own = Session::from_reply(&json_with_status(r, 200).await);
    assert!(own.key().starts_with("ASIA"));
    let me = json_with_status(caller_identity(&app, As::Session(&own)).await, 200).await;
    assert_eq!(me, user);

    // Root's session: root's identity.
    let r = send(app.request(Method::POST, "/v1/sts/session-token")).await;
    let root_session = Session::from_reply(&json_with_status(r, 200).await);
    assert_eq!(
        json_with_status(caller_identity(&app, As::Session(&root_session)).await, 200).await,
        root
    );

    // A role session (tested in detail above).
    let bob = app.user_with_key("bob").await;
    let role_arn = create_role(
        &app,
        &app.root,
        "r",
        json!({"trust_policy": trust(json!({"AWS": user_arn(&app, "bob")}))}),
    )
    .await;
    let (s, reply) = assume_ok(
        &app,
        As::Key(&bob),
        json!({"role_arn": role_arn, "role_session_name": "xx"}),
    )
    .await;
    let me = json_with_status(caller_identity(&app, As::Session(&s)).await, 200).await;
    assert_eq!(me["arn"], reply["assumed_role_user"]["arn"]);
    assert_eq!(me["user_id"], reply["assumed_role_user"]["assumed_role_id"]);
}

#[tokio::test]
async fn session_token_durations_permissions_and_who_may_ask() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    put_inline(
        &app,
        &app.root,
        "users",
        "alice",
        allow(json!("iam:ListUsers"), "*"),
    )
    .await;
    let token = |who: As<'_>, body: Option<Value>| {
        let b = request(&app, who, Method::POST, "/v1/sts/session-token");
        send(match body {
            Some(v) => b.json(&v),
            None => b,
        })
    };
    for bad in [899, 129_601] {
        assert_error(
            token(As::Key(&alice), Some(json!({"duration_seconds": bad}))).await,
            400,
            "ValidationError",
        )
        .await;
    }
    let reply = json_with_status(
        token(As::Key(&alice), Some(json!({"duration_seconds": 129_600}))).await,
        200,
    )
    .await;
    let own = Session::from_reply(&reply);
    // Without MFA the credentials call no IAM, not even what the user's
    // policies allow (the MFA tests show the same session with a code).
    let body = assert_error(
        send(request(&app, As::Session(&own), Method::GET, "/v1/users")).await,
        403,
        "AccessDenied",
    )
    .await;
    assert!(body.to_string().contains("MFA"), "{body}");
    assert_error(
        send(request(&app, As::Session(&own), Method::GET, "/v1/roles")).await,
        403,
        "AccessDenied",
    )
    .await;
    // Session credentials cannot ask for another session token.
    assert_error(token(As::Session(&own), None).await, 403, "AccessDenied").await;
    // Root is cut to one hour.
    let reply = json_with_status(
        token(As::Key(&app.root), Some(json!({"duration_seconds": 7200}))).await,
        200,
    )
    .await;
    let expiration = time::OffsetDateTime::parse(
        reply["credentials"]["expiration"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = (expiration - time::OffsetDateTime::now_utc()).whole_seconds();
    assert!((3500..=3600).contains(&left), "{left}");
    // A user's session may assume a role; that is not chaining.
    let role_arn = create_role(
        &app,
        &app.root,
        "r",
        json!({"max_session_duration": 7200,
        "trust_policy": trust(json!({"AWS": user_arn(&app, "alice")}))}),
    )
    .await;
    assume_ok(
        &app,
        As::Session(&own),
        json!({"role_arn": role_arn, "role_session_name": "sess", "duration_seconds": 7200}),
    )
    .await;
}

#[tokio::test]
async fn login_with_a_password_is_constant_shape_and_throttled() {
    let app = spawn_app().await;
    app.user_with_key("alice").await;
    let r = app
        .put(
            "/v1/users/alice/login-profile",
            &json!({"password": "correct horse battery"}),
        )
        .await;
    assert!(r.status().is_success());
    let login = |user: &str, password: &str| {
        send(app.client.post(app.url("/v1/sts/login")).json(&json!({
            "account_id": app.account_id, "user_name": user, "password": password})))
    };
    let wrong = message(login("alice", "wrong password").await, 401, "AuthFailure").await;
    let unknown = message(login("nobody", "wrong password").await, 401, "AuthFailure").await;
    assert_eq!(
        wrong, unknown,
        "the reply does not tell which part was wrong"
    );
    let reply = json_with_status(login("ALICE", "correct horse battery").await, 200).await;
    assert_eq!(reply["user"]["arn"], user_arn(&app, "alice"));
    assert_eq!(reply["password_reset_required"], false);
    let s = Session::from_reply(&reply);
    let me = json_with_status(caller_identity(&app, As::Session(&s)).await, 200).await;
    assert_eq!(me["arn"], user_arn(&app, "alice"));

    // Five failures lock the name, even for the right password.
    for _ in 0..5 {
        assert_error(login("alice", "guess").await, 401, "AuthFailure").await;
    }
    let m = message(
        login("alice", "correct horse battery").await,
        429,
        "Throttling",
    )
    .await;
    assert!(m.contains("Too many failed sign-in attempts"), "{m}");
}
