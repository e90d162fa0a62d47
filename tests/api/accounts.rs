//! /v1/accounts: the management account creates accounts; each new root
//! works in its own account only.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, json_with_status, policy, spawn_app, Credentials};

#[tokio::test]
async fn management_root_creates_accounts_whose_roots_stay_at_home() {
    let app = spawn_app().await;
    let created = json_with_status(
        app.post("/v1/accounts", &json!({"name": "team-blue"}))
            .await,
        201,
    )
    .await;
    let account_id = created["account_id"].as_str().unwrap().to_string();
    assert_eq!(account_id.len(), 12);
    assert!(account_id.chars().all(|c| c.is_ascii_digit()));
    assert_ne!(account_id, app.account_id);
    assert_eq!(created["name"], "team-blue");
    let blue = Credentials {
        access_key_id: created["root_credentials"]["access_key_id"]
            .as_str()
            .unwrap()
            .to_string(),
        secret_access_key: created["root_credentials"]["secret_access_key"]
            .as_str()
            .unwrap()
            .to_string(),
    };
    assert!(blue.access_key_id.starts_with("AKIA"));
    assert_eq!(blue.secret_access_key.len(), 40);

    // Listed and readable; the secret is never shown again.
    let r = app.get("/v1/accounts").await;
    let text = r.text().await.unwrap();
    assert!(!text.contains(&blue.secret_access_key));
    assert!(!text.to_lowercase().contains("secret"), "{text}");
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items
        .iter()
        .any(|a| a["account_id"] == app.account_id.as_str() && a["is_management"] == true));
    let got = json_with_status(app.get(&format!("/v1/accounts/{account_id}")).await, 200).await;
    assert_eq!(got["is_management"], false);
    assert_error(
        app.get("/v1/accounts/000000000000").await,
        404,
        "NoSuchEntity",
    )
    .await;

    // The new root works in its own account, which starts empty.
    let users = json_with_status(
        app.send_as(&blue, Method::GET, "/v1/users", None).await,
        200,
    )
    .await;
    assert_eq!(users["items"], json!([]));
    let made = json_with_status(
        app.send_as(
            &blue,
            Method::POST,
            "/v1/users",
            Some(&json!({"name": "bluey"})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(made["arn"], format!("arn:aws:iam::{account_id}:user/bluey"));
    // Names are per account: the management account may have its own bluey.
    app.create_user("bluey").await;
    app.create_user("only-in-management").await;
    assert_error(
        app.send_as(&blue, Method::GET, "/v1/users/only-in-management", None)
            .await,
        404,
        "NoSuchEntity",
    )
    .await;
    let users = json_with_status(
        app.send_as(&blue, Method::GET, "/v1/users", None).await,
        200,
    )
    .await;
    assert_eq!(users["items"].as_array().unwrap().len(), 1);
    // Another account's policy cannot be attached or read.
    let mgmt_policy = app
        .create_policy("mgmt-only", policy("Allow", "*", "*"))
        .await;
    assert_error(
        app.send_as(
            &blue,
            Method::POST,
            "/v1/users/bluey/attached-policies",
            Some(&json!({"policy_arn": mgmt_policy})),
        )
        .await,
        404,
        "NoSuchEntity",
    )
    .await;
    assert_error(
        app.send_as(
            &blue,
            Method::GET,
            &format!("/v1/policies/{}", mgmt_policy.replace('/', "%2F")),
            None,
        )
        .await,
        404,
        "NoSuchEntity",
    )
    .await;

    // It cannot manage accounts.
    for (method, path, body) in [
        (
            Method::POST,
            "/v1/accounts".to_string(),
            Some(json!({"name": "x"})),
        ),
        (Method::GET, "/v1/accounts".to_string(), None),
        (
            Method::GET,
            format!("/v1/accounts/{}", app.account_id),
            None,
        ),
        (Method::DELETE, format!("/v1/accounts/{account_id}"), None),
    ] {
        assert_error(
            app.send_as(&blue, method, &path, body.as_ref()).await,
            403,
            "AccessDenied",
        )
        .await;
    }

    // A non-empty account cannot be deleted; an empty one can, and its
    // root key goes with it.
    assert_error(
        app.delete(&format!("/v1/accounts/{account_id}")).await,
        409,
        "DeleteConflict",
    )
    .await;
    json_with_status(
        app.send_as(&blue, Method::DELETE, "/v1/users/bluey", None)
            .await,
        204,
    )
    .await;
    json_with_status(app.delete(&format!("/v1/accounts/{account_id}")).await, 204).await;
    assert_error(
        app.get(&format!("/v1/accounts/{account_id}")).await,
        404,
        "NoSuchEntity",
    )
    .await;
    assert_error(
        app.send_as(&blue, Method::GET, "/v1/users", None).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    // The management account itself cannot be deleted.
    assert_error(
        app.delete(&format!("/v1/accounts/{}", app.account_id))
            .await,
        409,
        "DeleteConflict",
    )
    .await;
}

#[tokio::test]
async fn account_names_are_validated() {
    let app = spawn_app().await;
    for name in ["", &"n".repeat(51)] {
        assert_error(
            app.post("/v1/accounts", &json!({"name": name})).await,
            400,
            "ValidationError",
        )
        .await;
    }
    assert_error(
        app.post("/v1/accounts", &json!({})).await,
        400,
        "ValidationError",
    )
    .await;
    let list = json_with_status(app.get("/v1/accounts").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn management_users_need_permission_for_accounts() {
    let app = spawn_app().await;
    let plain = app.user_with_key("plain").await;
    let body = assert_error(
        app.send_as(
            &plain,
            Method::POST,
            "/v1/accounts",
            Some(&json!({"name": "x"})),
        )
        .await,
        403,
        "AccessDenied",
    )
    .await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("latchkey:CreateAccount")
            && message.contains(&format!("arn:aws:iam::{}:user/plain", app.account_id)),
        "{message}"
    );
    assert_error(
        app.send_as(&plain, Method::GET, "/v1/accounts", None).await,
        403,
        "AccessDenied",
    )
    .await;
    // Allowed by policy, it may.
    let arn = app
        .create_policy("accounts", policy("Allow", "latchkey:*Account*", "*"))
        .await;
    app.attach("users", "plain", &arn).await;
    let created = json_with_status(
        app.send_as(
            &plain,
            Method::POST,
            "/v1/accounts",
            Some(&json!({"name": "x"})),
        )
        .await,
        201,
    )
    .await;
    assert!(created["root_credentials"]["secret_access_key"].is_string());
    json_with_status(
        app.send_as(&plain, Method::GET, "/v1/accounts", None).await,
        200,
    )
    .await;
}
