//! The server starts, bootstraps its management account and answers.

use serde_json::json;

use crate::helpers::{assert_error, json_with_status, spawn_app};

#[tokio::test]
async fn health_probes_answer_without_credentials() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(r.headers().contains_key("x-request-id"));
    assert_eq!(json_with_status(r, 200).await["status"], "ok");
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(json_with_status(r, 200).await["status"], "ready");
}

#[tokio::test]
async fn root_credentials_file_is_private_and_works() {
    let app = spawn_app().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(app.data_dir.path().join("root-credentials.json")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let key = std::fs::metadata(app.data_dir.path().join("master.key")).unwrap();
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(app.account_id.len(), 12);
    assert!(app.root.access_key_id.starts_with("AKIA"));
    let body = json_with_status(app.get("/v1/users").await, 200).await;
    assert_eq!(body["items"], json!([]));
    assert_eq!(body["is_truncated"], false);
}

#[tokio::test]
async fn missing_and_wrong_credentials_are_401() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/v1/users")).send().await.unwrap();
    assert_error(r, 401, "MissingAuthenticationToken").await;
    let r = app
        .client
        .get(app.url("/v1/users"))
        .basic_auth(&app.root.access_key_id, Some("not-the-secret"))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "SignatureDoesNotMatch").await;
    let r = app
        .client
        .get(app.url("/v1/users"))
        .basic_auth("AKIAAAAAAAAAAAAAAAAA", Some("whatever"))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "InvalidClientTokenId").await;
}

#[tokio::test]
async fn preset_root_credentials_are_used_on_first_start() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.root_access_key_id = Some("AKIAPRESETPRESET0001".into());
        c.root_secret_access_key = Some("preset/secret/for+tests0000000000000000".into());
    })
    .await;
    assert_eq!(app.root.access_key_id, "AKIAPRESETPRESET0001");
    json_with_status(app.get("/v1/users").await, 200).await;
}
