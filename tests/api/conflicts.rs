//! DeleteConflict: IAM never cascades (AWS-IAM-NOTES §9.2).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error_message, json_with_status, policy, spawn_app};

fn encoded(arn: &str) -> String {
    arn.replace(':', "%3A").replace('/', "%2F")
}

#[tokio::test]
async fn a_user_is_deleted_only_when_bare() {
    let app = spawn_app().await;
    let key = app.user_with_key("full").await;
    json_with_status(
        app.put(
            "/v1/users/full/login-profile",
            &json!({"password": "long-enough-pw"}),
        )
        .await,
        201,
    )
    .await;
    json_with_status(
        app.put(
            "/v1/users/full/policies/inline",
            &json!({"document": policy("Allow", "iam:GetUser", "*")}),
        )
        .await,
        200,
    )
    .await;
    let arn = app
        .create_policy("attached", policy("Allow", "iam:GetUser", "*"))
        .await;
    app.attach("users", "full", &arn).await;
    json_with_status(app.post("/v1/groups", &json!({"name": "club"})).await, 201).await;
    json_with_status(
        app.put("/v1/groups/club/members/full", &json!({})).await,
        204,
    )
    .await;
    // A boundary does not block.
    json_with_status(
        app.put(
            "/v1/users/full/permissions-boundary",
            &json!({"policy_arn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}),
        )
        .await,
        204,
    )
    .await;

    let steps: [(&str, Method, String); 5] = [
        (
            "Cannot delete entity, must delete access keys first.",
            Method::DELETE,
            format!("/v1/users/full/access-keys/{}", key.access_key_id),
        ),
        (
            "Cannot delete entity, must delete login profile first.",
            Method::DELETE,
            "/v1/users/full/login-profile".into(),
        ),
        (
            "Cannot delete entity, must delete policies first.",
            Method::DELETE,
            "/v1/users/full/policies/inline".into(),
        ),
        (
            "Cannot delete entity, must detach all policies first.",
            Method::DELETE,
            format!(
                "/v1/users/full/attached-policies?policy_arn={}",
                encoded(&arn)
            ),
        ),
        (
            "Cannot delete entity, must remove user from group first.",
            Method::DELETE,
            "/v1/groups/club/members/full".into(),
        ),
    ];
    for (message, method, remove) in steps {
        assert_error_message(
            app.delete("/v1/users/full").await,
            409,
            "DeleteConflict",
            message,
        )
        .await;
        // Still there, whole.
        json_with_status(app.get("/v1/users/full").await, 200).await;
        let r = app.request(method, &remove).send().await.unwrap();
        json_with_status(r, 204).await;
    }
    json_with_status(app.delete("/v1/users/full").await, 204).await;
}

#[tokio::test]
async fn a_group_is_deleted_only_when_empty() {
    let app = spawn_app().await;
    app.create_user("m").await;
    json_with_status(app.post("/v1/groups", &json!({"name": "busy"})).await, 201).await;
    json_with_status(app.put("/v1/groups/busy/members/m", &json!({})).await, 204).await;
    json_with_status(
        app.put(
            "/v1/groups/busy/policies/inline",
            &json!({"document": policy("Allow", "iam:GetUser", "*")}),
        )
        .await,
        200,
    )
    .await;
    let arn = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";
    app.attach("groups", "busy", arn).await;

    let steps = [
        (
            "Cannot delete entity, must remove users from group first.",
            "/v1/groups/busy/members/m".to_string(),
        ),
        (
            "Cannot delete entity, must delete policies first.",
            "/v1/groups/busy/policies/inline".to_string(),
        ),
        (
            "Cannot delete entity, must detach all policies first.",
            format!(
                "/v1/groups/busy/attached-policies?policy_arn={}",
                encoded(arn)
            ),
        ),
    ];
    for (message, remove) in steps {
        assert_error_message(
            app.delete("/v1/groups/busy").await,
            409,
            "DeleteConflict",
            message,
        )
        .await;
        json_with_status(app.delete(&remove).await, 204).await;
    }
    json_with_status(app.delete("/v1/groups/busy").await, 204).await;
}

#[tokio::test]
async fn a_role_is_deleted_only_without_policies() {
    let app = spawn_app().await;
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "busy", "trust_policy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}),
        )
        .await,
        201,
    )
    .await;
    json_with_status(
        app.put(
            "/v1/roles/busy/policies/inline",
            &json!({"document": policy("Allow", "iam:GetUser", "*")}),
        )
        .await,
        200,
    )
    .await;
    let arn = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    app.attach("roles", "busy", arn).await;
    let steps = [
        (
            "Cannot delete entity, must delete policies first.",
            "/v1/roles/busy/policies/inline".to_string(),
        ),
        (
            "Cannot delete entity, must detach all policies first.",
            format!(
                "/v1/roles/busy/attached-policies?policy_arn={}",
                encoded(arn)
            ),
        ),
    ];
    for (message, remove) in steps {
        assert_error_message(
            app.delete("/v1/roles/busy").await,
            409,
            "DeleteConflict",
            message,
        )
        .await;
        json_with_status(app.delete(&remove).await, 204).await;
    }
    json_with_status(app.delete("/v1/roles/busy").await, 204).await;
}

#[tokio::test]
async fn a_policy_is_deleted_only_when_unused_and_single_versioned() {
    let app = spawn_app().await;
    let arn = app
        .create_policy("used", policy("Allow", "iam:GetUser", "*"))
        .await;
    app.create_user("holder").await;
    app.attach("users", "holder", &arn).await;
    assert_error_message(
        app.delete("/v1/policies/used").await,
        409,
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
    )
    .await;
    json_with_status(
        app.delete(&format!(
            "/v1/users/holder/attached-policies?policy_arn={}",
            encoded(&arn)
        ))
        .await,
        204,
    )
    .await;
    // Used as a boundary.
    json_with_status(
        app.put(
            "/v1/users/holder/permissions-boundary",
            &json!({"policy_arn": arn}),
        )
        .await,
        204,
    )
    .await;
    assert_error_message(
        app.delete("/v1/policies/used").await,
        409,
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
    )
    .await;
    json_with_status(
        app.delete("/v1/users/holder/permissions-boundary").await,
        204,
    )
    .await;
    // More than one version.
    json_with_status(
        app.post(
            "/v1/policies/used/versions",
            &json!({"document": policy("Allow", "iam:GetRole", "*")}),
        )
        .await,
        201,
    )
    .await;
    assert_error_message(
        app.delete("/v1/policies/used").await,
        409,
        "DeleteConflict",
        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
    )
    .await;
    json_with_status(app.delete("/v1/policies/used/versions/v2").await, 204).await;
    json_with_status(app.delete("/v1/policies/used").await, 204).await;
    // The name is free again.
    app.create_policy("used", policy("Allow", "iam:GetUser", "*"))
        .await;
}

/// Concurrent mutations wait their turn for SQLite's one writer: none of
/// them fails with a busy database.
#[tokio::test]
async fn concurrent_writes_all_succeed() {
    let app = spawn_app().await;
    app.create_user("busy").await;
    let writes = (0..40).map(|i| {
        let app = &app;
        async move {
            let r = if i % 2 == 0 {
                app.request(Method::POST, "/v1/users")
                    .json(&json!({"name": format!("concurrent-{i}")}))
                    .send()
                    .await
                    .unwrap()
            } else {
                app.request(Method::PUT, &format!("/v1/users/busy/policies/p{i}"))
                    .json(&json!({"document": policy("Allow", "iam:GetUser", "*")}))
                    .send()
                    .await
                    .unwrap()
            };
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    });
    for (status, body) in futures_util::future::join_all(writes).await {
        assert!(status == 200 || status == 201, "{status}: {body}");
    }
    let users = json_with_status(app.get("/v1/users?max_items=100").await, 200).await;
    assert_eq!(users["items"].as_array().unwrap().len(), 21);
}
