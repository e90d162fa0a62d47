//! Session credentials in use: their token, expiry, revocation, and the
//! role they belong to; and many sessions at once.

use reqwest::Method;
use serde_json::json;

use super::*;
use crate::helpers::{assert_error, json_with_status, spawn_app, Credentials};

#[tokio::test]
async fn session_credentials_need_their_own_token_and_expire() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = role_trusting_user(&app, "r", "alice").await;
    let body = json!({"role_arn": role_arn, "role_session_name": "sess"});
    let (a, _) = assume_ok(&app, As::Key(&alice), body.clone()).await;
    let (b, _) = assume_ok(&app, As::Key(&alice), body.clone()).await;
    let (c, _) = assume_ok(&app, As::Key(&alice), body).await;

    let without = send(app.request_as(&a.creds, Method::GET, "/v1/sts/caller-identity")).await;
    assert_error(without, 401, "InvalidClientTokenId").await;
    let crossed = Session {
        creds: a.creds.clone(),
        token: b.token.clone(),
    };
    assert_error(
        caller_identity(&app, As::Session(&crossed)).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    let wrong_secret = Session {
        creds: Credentials {
            access_key_id: a.key().into(),
            secret_access_key: b.creds.secret_access_key.clone(),
        },
        token: a.token.clone(),
    };
    assert_error(
        caller_identity(&app, As::Session(&wrong_secret)).await,
        401,
        "SignatureDoesNotMatch",
    )
    .await;
    let key_with_token = send(
        app.request_as(&alice, Method::GET, "/v1/sts/caller-identity")
            .header("X-Amz-Security-Token", &a.token),
    )
    .await;
    assert_error(key_with_token, 401, "InvalidClientTokenId").await;
    json_with_status(caller_identity(&app, As::Session(&a)).await, 200).await;

    // Expire one through the store (never by waiting). Before its first
    // use: the server caches a session it resolved, with its expiry, and
    // sees only its own writes (session_cache.rs expires a cached one).
    let store = store(&app).await;
    assert!(store
        .set_session_expires_at(c.key(), "2000-01-01T00:00:00.000Z")
        .await
        .unwrap());
    let m = message(
        caller_identity(&app, As::Session(&c)).await,
        401,
        "ExpiredToken",
    )
    .await;
    assert_eq!(m, "The security token included in the request is expired");
    json_with_status(caller_identity(&app, As::Session(&b)).await, 200).await;
    // Expired sessions are not listed, and the purge deletes them.
    let listed = json_with_status(app.get("/v1/roles/r/sessions").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        store
            .purge_expired_sessions("2001-01-01T00:00:00.000Z")
            .await
            .unwrap(),
        1
    );
    assert!(store.get_session(c.key()).await.unwrap().is_none());
    assert!(store.get_session(b.key()).await.unwrap().is_some());
    // The token is stored only as a digest.
    let row = store.get_session(b.key()).await.unwrap().unwrap();
    assert_ne!(row.token_sha256, b.token);
    assert_eq!(
        row.token_sha256,
        latchkey::auth::crypto::token_digest(&b.token)
    );
}

#[tokio::test]
async fn revoking_one_session_and_all_sessions() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = role_trusting_user(&app, "r", "alice").await;
    let body = json!({"role_arn": role_arn, "role_session_name": "sess"});
    let (one, _) = assume_ok(&app, As::Key(&alice), body.clone()).await;
    let (two, _) = assume_ok(&app, As::Key(&alice), body.clone()).await;
    let (three, _) = assume_ok(&app, As::Key(&alice), body.clone()).await;

    let listed = json_with_status(app.get("/v1/roles/r/sessions").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 3);
    let text = listed.to_string();
    assert!(!text.contains(&one.token) && !text.contains(&one.creds.secret_access_key));
    let page = json_with_status(app.get("/v1/roles/r/sessions?max_items=2").await, 200).await;
    assert_eq!(page["is_truncated"], true);
    let rest = json_with_status(
        app.get(&format!(
            "/v1/roles/r/sessions?marker={}",
            page["marker"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);

    // Alice may not revoke; root may.
    let r = send(app.request_as(
        &alice,
        Method::DELETE,
        &format!("/v1/roles/r/sessions/{}", one.key()),
    ))
    .await;
    assert!(message(r, 403, "AccessDenied")
        .await
        .contains("iam:RevokeRoleSession"));
    assert_eq!(
        app.delete(&format!("/v1/roles/r/sessions/{}", one.key()))
            .await
            .status(),
        204
    );
    assert_error(
        app.delete(&format!("/v1/roles/r/sessions/{}", one.key()))
            .await,
        404,
        "NoSuchEntity",
    )
    .await;
    let m = message(
        caller_identity(&app, As::Session(&one)).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    assert!(m.contains("revoked"), "{m}");
    json_with_status(caller_identity(&app, As::Session(&two)).await, 200).await;

    let revoked = json_with_status(
        app.post("/v1/roles/r/revoke-sessions", &json!({})).await,
        200,
    )
    .await;
    assert_eq!(revoked["revoked"], 2);
    for s in [&two, &three] {
        assert_error(
            caller_identity(&app, As::Session(s)).await,
            401,
            "InvalidClientTokenId",
        )
        .await;
    }
    // Sessions issued afterwards are unaffected.
    let (four, _) = assume_ok(&app, As::Key(&alice), body).await;
    json_with_status(caller_identity(&app, As::Session(&four)).await, 200).await;
    let listed = json_with_status(app.get("/v1/roles/r/sessions").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["access_key_id"], four.key());
}

#[tokio::test]
async fn a_session_of_a_deleted_role_is_refused() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = role_trusting_user(&app, "r", "alice").await;
    let (s, _) = assume_ok(
        &app,
        As::Key(&alice),
        json!({"role_arn": role_arn, "role_session_name": "sess"}),
    )
    .await;
    assert_eq!(app.delete("/v1/roles/r").await.status(), 204);
    assert_error(
        caller_identity(&app, As::Session(&s)).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    // Re-created under the same name, it is another role.
    create_role(
        &app,
        &app.root,
        "r",
        json!({"trust_policy": trust(json!({"AWS": user_arn(&app, "alice")}))}),
    )
    .await;
    assert_error(
        caller_identity(&app, As::Session(&s)).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
}

#[tokio::test]
async fn two_hundred_concurrent_assume_role_calls_all_succeed() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = role_trusting_user(&app, "busy", "alice").await;
    let calls = (0..200).map(|i| {
        let body = json!({"role_arn": role_arn, "role_session_name": format!("s{i}")});
        let builder =
            request(&app, As::Key(&alice), Method::POST, "/v1/sts/assume-role").json(&body);
        async move {
            let r = builder.send().await.expect("request");
            let status = r.status().as_u16();
            let reply: Value = r.json().await.expect("json");
            (status, reply)
        }
    });
    let results = futures_util::future::join_all(calls).await;
    let mut ids = std::collections::HashSet::new();
    for (status, reply) in &results {
        assert_eq!(*status, 200, "{reply}");
        ids.insert(
            reply["credentials"]["access_key_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(ids.len(), 200);
    let listed =
        json_with_status(app.get("/v1/roles/busy/sessions?max_items=1000").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 200);
}

/// Authentication caches keys (the assume-role hot path); deactivating or
/// deleting a key must still take effect at once.
#[tokio::test]
async fn a_deactivated_or_deleted_key_stops_working_at_once() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    json_with_status(caller_identity(&app, As::Key(&alice)).await, 200).await;
    let path = format!("/v1/users/alice/access-keys/{}", alice.access_key_id);
    let r = app.patch(&path, &json!({"status": "Inactive"})).await;
    assert!(r.status().is_success());
    assert_error(
        caller_identity(&app, As::Key(&alice)).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    let r = app.patch(&path, &json!({"status": "Active"})).await;
    assert!(r.status().is_success());
    json_with_status(caller_identity(&app, As::Key(&alice)).await, 200).await;
    assert_eq!(app.delete(&path).await.status(), 204);
    assert_error(
        caller_identity(&app, As::Key(&alice)).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
}
