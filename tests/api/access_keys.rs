//! Access keys (two per user, secret shown once, Active/Inactive, last used)
//! and login profiles (argon2id passwords, never shown).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    assert_error, assert_error_message, json_with_status, spawn_app, Credentials,
};

#[tokio::test]
async fn access_key_lifecycle() {
    let app = spawn_app().await;
    app.create_user("kim").await;
    let created = json_with_status(
        app.request(Method::POST, "/v1/users/kim/access-keys")
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let id = created["access_key_id"].as_str().unwrap().to_string();
    let secret = created["secret_access_key"].as_str().unwrap().to_string();
    assert!(id.starts_with("AKIA") && id.len() == 20, "{id}");
    assert_eq!(secret.len(), 40);
    assert_eq!(created["status"], "Active");
    assert_eq!(created["user_name"], "kim");
    assert!(created["created_at"].is_string());
    let kim = Credentials {
        access_key_id: id.clone(),
        secret_access_key: secret.clone(),
    };

    // The key authenticates: kim has no policy, so 403, not 401.
    assert_error(
        app.send_as(&kim, Method::GET, "/v1/users/kim", None).await,
        403,
        "AccessDenied",
    )
    .await;

    // Lists show the key, its status and last use, never the secret.
    let r = app.get("/v1/users/kim/access-keys").await;
    let text = r.text().await.unwrap();
    assert!(!text.contains(&secret));
    assert!(!text.to_lowercase().contains("secret"), "{text}");
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["access_key_id"], id.as_str());
    assert_eq!(list["items"][0]["status"], "Active");
    assert!(
        list["items"][0]["last_used_at"].is_string(),
        "a used key shows when it was last used: {list}"
    );
    assert_eq!(list["items"][0]["last_used_service"], "iam");
    assert_eq!(list["items"][0]["last_used_region"], "us-east-1");

    // Inactive: the key no longer authenticates, as AWS answers.
    let updated = json_with_status(
        app.patch(
            &format!("/v1/users/kim/access-keys/{id}"),
            &json!({"status": "Inactive"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(updated["status"], "Inactive");
    assert_error_message(
        app.send_as(&kim, Method::GET, "/v1/users/kim", None).await,
        401,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )
    .await;
    let list = json_with_status(app.get("/v1/users/kim/access-keys").await, 200).await;
    assert_eq!(list["items"][0]["status"], "Inactive");
    // And back.
    json_with_status(
        app.patch(
            &format!("/v1/users/kim/access-keys/{id}"),
            &json!({"status": "Active"}),
        )
        .await,
        200,
    )
    .await;
    assert_error(
        app.send_as(&kim, Method::GET, "/v1/users/kim", None).await,
        403,
        "AccessDenied",
    )
    .await;
    assert_error(
        app.patch(
            &format!("/v1/users/kim/access-keys/{id}"),
            &json!({"status": "Expired"}),
        )
        .await,
        400,
        "ValidationError",
    )
    .await;

    // Two keys at most, inactive ones included.
    json_with_status(
        app.request(Method::POST, "/v1/users/kim/access-keys")
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_error_message(
        app.request(Method::POST, "/v1/users/kim/access-keys")
            .send()
            .await
            .unwrap(),
        409,
        "LimitExceeded",
        "Cannot exceed quota for AccessKeysPerUser: 2",
    )
    .await;

    // Delete: the key is gone and no longer authenticates.
    json_with_status(
        app.delete(&format!("/v1/users/kim/access-keys/{id}")).await,
        204,
    )
    .await;
    assert_error(
        app.send_as(&kim, Method::GET, "/v1/users/kim", None).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    assert_error_message(
        app.delete(&format!("/v1/users/kim/access-keys/{id}")).await,
        404,
        "NoSuchEntity",
        &format!("The Access Key with id {id} cannot be found."),
    )
    .await;
    let list = json_with_status(app.get("/v1/users/kim/access-keys").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn access_keys_of_missing_users_and_other_users_are_404() {
    let app = spawn_app().await;
    assert_error(
        app.request(Method::POST, "/v1/users/ghost/access-keys")
            .send()
            .await
            .unwrap(),
        404,
        "NoSuchEntity",
    )
    .await;
    assert_error(
        app.get("/v1/users/ghost/access-keys").await,
        404,
        "NoSuchEntity",
    )
    .await;
    // A key is found only under its own user.
    let ann = app.user_with_key("ann").await;
    app.create_user("ben").await;
    assert_error(
        app.patch(
            &format!("/v1/users/ben/access-keys/{}", ann.access_key_id),
            &json!({"status": "Inactive"}),
        )
        .await,
        404,
        "NoSuchEntity",
    )
    .await;
    assert_error(
        app.delete(&format!("/v1/users/ben/access-keys/{}", ann.access_key_id))
            .await,
        404,
        "NoSuchEntity",
    )
    .await;
    // The root's own key is not a user's key.
    assert_error(
        app.delete(&format!(
            "/v1/users/ann/access-keys/{}",
            app.root.access_key_id
        ))
        .await,
        404,
        "NoSuchEntity",
    )
    .await;
}

#[tokio::test]
async fn login_profile_create_replace_get_delete() {
    let app = spawn_app().await;
    app.create_user("lea").await;
    assert_error_message(
        app.get("/v1/users/lea/login-profile").await,
        404,
        "NoSuchEntity",
        "Login Profile for User lea cannot be found.",
    )
    .await;
    let password = "correct-horse-battery";
    let created = json_with_status(
        app.put(
            "/v1/users/lea/login-profile",
            &json!({"password": password, "password_reset_required": true}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(created["user_name"], "lea");
    assert_eq!(created["password_reset_required"], true);

    let replaced = json_with_status(
        app.put(
            "/v1/users/lea/login-profile",
            &json!({"password": "another-long-password"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(replaced["password_reset_required"], false);
    assert_eq!(replaced["created_at"], created["created_at"]);

    let r = app.get("/v1/users/lea/login-profile").await;
    let text = r.text().await.unwrap();
    assert!(!text.contains(password) && !text.contains("another-long-password"));
    assert!(!text.contains("argon2"), "the hash is never shown: {text}");
    assert!(!text.to_lowercase().contains("password\""), "{text}");
    let got: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(got["user_name"], "lea");

    // Too short and too long passwords (AWS's code, also without an
    // account password policy); missing users.
    for bad in ["short", &"p".repeat(129)] {
        assert_error(
            app.put("/v1/users/lea/login-profile", &json!({"password": bad}))
                .await,
            400,
            "PasswordPolicyViolation",
        )
        .await;
    }
    assert_error(
        app.put(
            "/v1/users/ghost/login-profile",
            &json!({"password": "long-enough-1"}),
        )
        .await,
        404,
        "NoSuchEntity",
    )
    .await;

    json_with_status(app.delete("/v1/users/lea/login-profile").await, 204).await;
    assert_error(
        app.get("/v1/users/lea/login-profile").await,
        404,
        "NoSuchEntity",
    )
    .await;
    assert_error(
        app.delete("/v1/users/lea/login-profile").await,
        404,
        "NoSuchEntity",
    )
    .await;
    // A too-short first password creates nothing.
    assert_error(
        app.put(
            "/v1/users/lea/login-profile",
            &json!({"password": "1234567"}),
        )
        .await,
        400,
        "PasswordPolicyViolation",
    )
    .await;
    assert_error(
        app.get("/v1/users/lea/login-profile").await,
        404,
        "NoSuchEntity",
    )
    .await;
}
