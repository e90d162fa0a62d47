//! Authentication (401) and authorization by the policy engine (403):
//! identity policies direct and through groups, explicit denies,
//! permissions boundaries, and the compiled-policy cache.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    assert_error, assert_error_message, json_with_status, policy, spawn_app, Credentials, TestApp,
};

async fn assert_401(app: &TestApp, creds: Option<(&str, &str)>, code: &str) {
    let mut request = app.client.get(app.url("/v1/users"));
    if let Some((id, secret)) = creds {
        request = request.basic_auth(id, Some(secret));
    }
    let r = request.send().await.unwrap();
    let request_id = r
        .headers()
        .get("x-request-id")
        .expect("request id header")
        .to_str()
        .unwrap()
        .to_string();
    let body = assert_error(r, 401, code).await;
    assert_eq!(body["error"]["request_id"], request_id.as_str());
}

#[tokio::test]
async fn bad_credentials_are_401() {
    let app = spawn_app().await;
    assert_401(&app, None, "MissingAuthenticationToken").await;
    assert_401(
        &app,
        Some((&app.root.access_key_id, "wrong-secret")),
        "SignatureDoesNotMatch",
    )
    .await;
    assert_401(
        &app,
        Some(("AKIAUNKNOWNUNKNOWN00", "whatever")),
        "InvalidClientTokenId",
    )
    .await;
    // Not Basic, and Basic that is not base64(id:secret).
    for header in ["Bearer abc", "Basic !!!", "Basic bm9jb2xvbg=="] {
        let r = app
            .client
            .get(app.url("/v1/users"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        let body = json_with_status(r, 401).await;
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    // An inactive key of a user, and one whose user is gone.
    let key = app.user_with_key("ina").await;
    json_with_status(
        app.patch(
            &format!("/v1/users/ina/access-keys/{}", key.access_key_id),
            &json!({"status": "Inactive"}),
        )
        .await,
        200,
    )
    .await;
    assert_401(
        &app,
        Some((&key.access_key_id, &key.secret_access_key)),
        "InvalidClientTokenId",
    )
    .await;
    // Probes stay open.
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// A user with the given managed policy attached.
async fn user_with_policy(app: &TestApp, name: &str, document: serde_json::Value) -> Credentials {
    let creds = app.user_with_key(name).await;
    let arn = app.create_policy(&format!("{name}-policy"), document).await;
    app.attach("users", name, &arn).await;
    creds
}

#[tokio::test]
async fn a_get_only_user_reads_but_cannot_write() {
    let app = spawn_app().await;
    let reader = user_with_policy(&app, "reader", policy("Allow", "iam:Get*", "*")).await;
    app.create_user("target").await;
    let acct = &app.account_id;
    let reader_arn = format!("arn:aws:iam::{acct}:user/reader");

    let got = json_with_status(
        app.send_as(&reader, Method::GET, "/v1/users/target", None)
            .await,
        200,
    )
    .await;
    assert_eq!(got["name"], "target");
    json_with_status(
        app.send_as(&reader, Method::GET, "/v1/policies/reader-policy", None)
            .await,
        200,
    )
    .await;
    // A Get of a user that does not exist: the reader may ask, so 404.
    assert_error(
        app.send_as(&reader, Method::GET, "/v1/users/ghost", None)
            .await,
        404,
        "NoSuchEntity",
    )
    .await;
    // List* is not Get*.
    assert_error_message(
        app.send_as(&reader, Method::GET, "/v1/users", None).await,
        403,
        "AccessDenied",
        &format!(
            "User: {reader_arn} is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::{acct}:user/* because no identity-based policy allows the iam:ListUsers action"
        ),
    )
    .await;

    assert_error_message(
        app.send_as(
            &reader,
            Method::POST,
            "/v1/users",
            Some(&json!({"name": "new", "path": "/p/"})),
        )
        .await,
        403,
        "AccessDenied",
        &format!(
            "User: {reader_arn} is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::{acct}:user/p/new because no identity-based policy allows the iam:CreateUser action"
        ),
    )
    .await;
    let writes: Vec<(Method, &str, Option<serde_json::Value>, &str)> = vec![
        (Method::DELETE, "/v1/users/target", None, "iam:DeleteUser"),
        (
            Method::PATCH,
            "/v1/users/target",
            Some(json!({"new_name": "t2"})),
            "iam:UpdateUser",
        ),
        (
            Method::POST,
            "/v1/users/target/access-keys",
            None,
            "iam:CreateAccessKey",
        ),
        (
            Method::PUT,
            "/v1/users/target/login-profile",
            Some(json!({"password": "long-enough-pw"})),
            "iam:CreateLoginProfile",
        ),
        (
            Method::PUT,
            "/v1/users/target/policies/p",
            Some(json!({"document": policy("Allow", "*", "*")})),
            "iam:PutUserPolicy",
        ),
        (
            Method::POST,
            "/v1/users/reader/attached-policies",
            Some(json!({"policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"})),
            "iam:AttachUserPolicy",
        ),
        (
            Method::POST,
            "/v1/users/target/tags",
            Some(json!({"tags": [{"key": "a", "value": "b"}]})),
            "iam:TagUser",
        ),
        (
            Method::POST,
            "/v1/groups",
            Some(json!({"name": "g"})),
            "iam:CreateGroup",
        ),
        (
            Method::POST,
            "/v1/policies",
            Some(json!({"name": "p", "document": policy("Allow", "*", "*")})),
            "iam:CreatePolicy",
        ),
        (
            Method::DELETE,
            "/v1/policies/reader-policy",
            None,
            "iam:DeletePolicy",
        ),
    ];
    for (method, path, body, action) in writes {
        let r = app.send_as(&reader, method, path, body.as_ref()).await;
        let body = assert_error(r, 403, "AccessDenied").await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("User: {reader_arn} is not authorized to perform: {action} on resource: arn:aws:iam::{acct}:")),
            "{path}: {message}"
        );
        assert!(
            message.ends_with(&format!(
                "because no identity-based policy allows the {action} action"
            )),
            "{message}"
        );
    }
    // Nothing changed.
    let got = json_with_status(app.get("/v1/users/target").await, 200).await;
    assert!(got.get("tags").unwrap().as_array().unwrap().is_empty());
    let keys = json_with_status(app.get("/v1/users/target/access-keys").await, 200).await;
    assert_eq!(keys["items"], json!([]));
}

#[tokio::test]
async fn policies_through_groups_count_and_explicit_deny_wins() {
    let app = spawn_app().await;
    let member = app.user_with_key("member").await;
    json_with_status(app.post("/v1/groups", &json!({"name": "team"})).await, 201).await;
    json_with_status(
        app.put("/v1/groups/team/members/member", &json!({})).await,
        204,
    )
    .await;
    assert_error(
        app.send_as(&member, Method::GET, "/v1/users", None).await,
        403,
        "AccessDenied",
    )
    .await;
    // An inline group policy.
    json_with_status(
        app.put(
            "/v1/groups/team/policies/list",
            &json!({"document": policy("Allow", "iam:ListUsers", "*")}),
        )
        .await,
        200,
    )
    .await;
    json_with_status(
        app.send_as(&member, Method::GET, "/v1/users", None).await,
        200,
    )
    .await;
    // A managed policy attached to the group.
    app.attach("groups", "team", "arn:aws:iam::aws:policy/IAMFullAccess")
        .await;
    json_with_status(
        app.send_as(
            &member,
            Method::POST,
            "/v1/users",
            Some(&json!({"name": "made-by-member"})),
        )
        .await,
        201,
    )
    .await;

    // An explicit deny on the user beats the group's allow.
    json_with_status(
        app.put(
            "/v1/users/member/policies/no-deletes",
            &json!({"document": policy("Deny", "iam:DeleteUser", "*")}),
        )
        .await,
        200,
    )
    .await;
    let acct = &app.account_id;
    assert_error_message(
        app.send_as(&member, Method::DELETE, "/v1/users/made-by-member", None)
            .await,
        403,
        "AccessDenied",
        &format!(
            "User: arn:aws:iam::{acct}:user/member is not authorized to perform: iam:DeleteUser on resource: arn:aws:iam::{acct}:user/made-by-member with an explicit deny in an identity-based policy"
        ),
    )
    .await;
    json_with_status(app.get("/v1/users/made-by-member").await, 200).await;

    // Leaving the group takes its policies away at once.
    json_with_status(app.delete("/v1/groups/team/members/member").await, 204).await;
    assert_error(
        app.send_as(&member, Method::GET, "/v1/users", None).await,
        403,
        "AccessDenied",
    )
    .await;
}

#[tokio::test]
async fn a_permissions_boundary_caps_identity_policies() {
    let app = spawn_app().await;
    let capped = user_with_policy(&app, "capped", policy("Allow", "iam:*", "*")).await;
    json_with_status(
        app.send_as(&capped, Method::GET, "/v1/users", None).await,
        200,
    )
    .await;
    json_with_status(
        app.put(
            "/v1/users/capped/permissions-boundary",
            &json!({"policy_arn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}),
        )
        .await,
        204,
    )
    .await;
    // Reads are within the boundary.
    json_with_status(
        app.send_as(&capped, Method::GET, "/v1/users", None).await,
        200,
    )
    .await;
    let acct = &app.account_id;
    assert_error_message(
        app.send_as(
            &capped,
            Method::POST,
            "/v1/groups",
            Some(&json!({"name": "g"})),
        )
        .await,
        403,
        "AccessDenied",
        &format!(
            "User: arn:aws:iam::{acct}:user/capped is not authorized to perform: iam:CreateGroup on resource: arn:aws:iam::{acct}:group/g because no permissions boundary allows the iam:CreateGroup action"
        ),
    )
    .await;
    // The boundary alone grants nothing: a user with only a boundary.
    let bare = app.user_with_key("bare").await;
    json_with_status(
        app.put(
            "/v1/users/bare/permissions-boundary",
            &json!({"policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        )
        .await,
        204,
    )
    .await;
    assert_error(
        app.send_as(&bare, Method::GET, "/v1/users", None).await,
        403,
        "AccessDenied",
    )
    .await;
    // Removing the boundary restores the identity policy at once.
    json_with_status(
        app.delete("/v1/users/capped/permissions-boundary").await,
        204,
    )
    .await;
    json_with_status(
        app.send_as(
            &capped,
            Method::POST,
            "/v1/groups",
            Some(&json!({"name": "g"})),
        )
        .await,
        201,
    )
    .await;
}

/// The status of `GET /v1/users` as `creds`.
async fn list(app: &TestApp, creds: &Credentials) -> u16 {
    app.send_as(creds, Method::GET, "/v1/users", None)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn writes_invalidate_the_policy_cache_at_once() {
    let app = spawn_app().await;
    let user = app.user_with_key("cached").await;
    // Warm the cache with a denial.
    assert_eq!(list(&app, &user).await, 403);
    assert_eq!(list(&app, &user).await, 403);
    let arn = app
        .create_policy("lister", policy("Allow", "iam:ListUsers", "*"))
        .await;
    app.attach("users", "cached", &arn).await;
    assert_eq!(list(&app, &user).await, 200);
    // A new default version that no longer allows it.
    json_with_status(
        app.post(
            "/v1/policies/lister/versions",
            &json!({"document": policy("Allow", "iam:GetUser", "*"), "set_as_default": true}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(list(&app, &user).await, 403);
    json_with_status(
        app.put(
            "/v1/policies/lister/default-version",
            &json!({"version_id": "v1"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list(&app, &user).await, 200);
    let encoded = arn.replace(':', "%3A").replace('/', "%2F");
    json_with_status(
        app.delete(&format!(
            "/v1/users/cached/attached-policies?policy_arn={encoded}"
        ))
        .await,
        204,
    )
    .await;
    assert_eq!(list(&app, &user).await, 403);
    // Inline policies too.
    json_with_status(
        app.put(
            "/v1/users/cached/policies/inline",
            &json!({"document": policy("Allow", "iam:ListUsers", "*")}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list(&app, &user).await, 200);
    json_with_status(app.delete("/v1/users/cached/policies/inline").await, 204).await;
    assert_eq!(list(&app, &user).await, 403);
}

#[tokio::test]
async fn resource_scoped_policies_follow_the_arn() {
    let app = spawn_app().await;
    let acct = app.account_id.clone();
    let scoped = user_with_policy(
        &app,
        "scoped",
        policy(
            "Allow",
            json!(["iam:GetUser", "iam:CreateUser", "iam:DeleteUser"]),
            &format!("arn:aws:iam::{acct}:user/sandbox/*"),
        ),
    )
    .await;
    json_with_status(
        app.send_as(
            &scoped,
            Method::POST,
            "/v1/users",
            Some(&json!({"name": "kid", "path": "/sandbox/"})),
        )
        .await,
        201,
    )
    .await;
    json_with_status(
        app.send_as(&scoped, Method::GET, "/v1/users/kid", None)
            .await,
        200,
    )
    .await;
    assert_error(
        app.send_as(
            &scoped,
            Method::POST,
            "/v1/users",
            Some(&json!({"name": "adult"})),
        )
        .await,
        403,
        "AccessDenied",
    )
    .await;
    // Not allowed to read users outside the sandbox, found or not: 403
    // rather than a 404 that would reveal which names exist.
    assert_error(
        app.send_as(&scoped, Method::GET, "/v1/users/scoped", None)
            .await,
        403,
        "AccessDenied",
    )
    .await;
    assert_error(
        app.send_as(&scoped, Method::GET, "/v1/users/ghost", None)
            .await,
        403,
        "AccessDenied",
    )
    .await;
    json_with_status(
        app.send_as(&scoped, Method::DELETE, "/v1/users/kid", None)
            .await,
        204,
    )
    .await;
}

#[tokio::test]
async fn access_is_decided_before_existence() {
    let app = spawn_app().await;
    let nobody = app.user_with_key("nobody").await;
    let reader = user_with_policy(&app, "reader", policy("Allow", "iam:*", "*")).await;
    let acct = app.account_id.clone();
    let ghost_policy = format!("arn:aws:iam::{acct}:policy/ghost").replace('/', "%2F");
    let cases: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, "/v1/users/ghost".into(), None),
        (Method::DELETE, "/v1/users/ghost".into(), None),
        (
            Method::PATCH,
            "/v1/users/ghost".into(),
            Some(json!({"new_name": "g"})),
        ),
        (Method::GET, "/v1/users/ghost/access-keys".into(), None),
        (Method::POST, "/v1/users/ghost/access-keys".into(), None),
        (Method::GET, "/v1/users/ghost/login-profile".into(), None),
        (
            Method::PUT,
            "/v1/users/ghost/login-profile".into(),
            Some(json!({"password": "long-enough-pw"})),
        ),
        (Method::GET, "/v1/users/ghost/groups".into(), None),
        (Method::GET, "/v1/users/ghost/tags".into(), None),
        (Method::GET, "/v1/groups/ghost".into(), None),
        (
            Method::DELETE,
            "/v1/groups/ghost/members/nobody".into(),
            None,
        ),
        (Method::GET, "/v1/roles/ghost".into(), None),
        (Method::DELETE, "/v1/roles/ghost".into(), None),
        (Method::GET, "/v1/roles/ghost/policies".into(), None),
        (
            Method::GET,
            "/v1/groups/ghost/attached-policies".into(),
            None,
        ),
        (Method::GET, "/v1/policies/ghost".into(), None),
        (
            Method::GET,
            format!("/v1/policies/{ghost_policy}/versions"),
            None,
        ),
        (Method::DELETE, "/v1/policies/ghost".into(), None),
    ];
    for (method, path, body) in cases {
        let r = app
            .send_as(&nobody, method.clone(), &path, body.as_ref())
            .await;
        let denied = assert_error(r, 403, "AccessDenied").await;
        assert!(
            denied["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("on resource: arn:aws:iam::{acct}:")),
            "{method} {path}: {denied}"
        );
        // Allowed to act, the same caller learns that it does not exist.
        let r = app
            .send_as(&reader, method.clone(), &path, body.as_ref())
            .await;
        assert_error(r, 404, "NoSuchEntity").await;
    }
}
