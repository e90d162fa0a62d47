//! Revocation: deleting the workload, removing the role from its profile
//! and revoking the role's sessions each end the workload's live sessions;
//! the first two also stop its next refresh. A workload keeps a bounded
//! number of live sessions, even across several latchkey nodes.

use latchkey::startup::Application;
use reqwest::Method;
use serde_json::json;

use super::{fetch, fetch_ok, setup, whoami, Issued};
use crate::helpers::{assert_error, json_with_status, spawn_app};

#[tokio::test]
async fn deleting_the_workload_revokes_its_token_and_sessions() {
    let app = spawn_app().await;
    let fixture = setup(&app).await;
    let issued = fetch_ok(&app, &fixture.token).await;
    json_with_status(whoami(&app, &issued).await, 200).await;
    json_with_status(
        app.delete(&format!("/v1/workloads/{}", fixture.id())).await,
        204,
    )
    .await;
    assert_error(
        fetch(&app, &fixture.token).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    assert_error(whoami(&app, &issued).await, 401, "InvalidClientTokenId").await;
    assert_error(
        app.get(&format!("/v1/workloads/{}", fixture.id())).await,
        404,
        "NoSuchEntity",
    )
    .await;
    // With no workload left, the profile can go once its role is out.
    json_with_status(
        app.delete("/v1/instance-profiles/runner-profile/roles/runner")
            .await,
        204,
    )
    .await;
    json_with_status(
        app.delete("/v1/instance-profiles/runner-profile").await,
        204,
    )
    .await;
}

#[tokio::test]
async fn removing_the_role_from_the_profile_stops_refreshes_and_sessions() {
    let app = spawn_app().await;
    let fixture = setup(&app).await;
    let issued = fetch_ok(&app, &fixture.token).await;
    json_with_status(
        app.delete("/v1/instance-profiles/runner-profile/roles/runner")
            .await,
        204,
    )
    .await;
    assert_error(whoami(&app, &issued).await, 401, "InvalidClientTokenId").await;
    let refused = assert_error(fetch(&app, &fixture.token).await, 403, "AccessDenied").await;
    assert_eq!(
        refused["error"]["message"],
        format!(
            "The instance profile runner-profile of workload {} has no role.",
            fixture.id()
        )
    );
    // The workload blocks the profile's deletion.
    assert_error(
        app.delete("/v1/instance-profiles/runner-profile").await,
        409,
        "DeleteConflict",
    )
    .await;
    // Putting a role back gives the workload new credentials.
    json_with_status(
        app.request(
            Method::PUT,
            "/v1/instance-profiles/runner-profile/roles/runner",
        )
        .send()
        .await
        .unwrap(),
        204,
    )
    .await;
    let fresh = fetch_ok(&app, &fixture.token).await;
    assert_ne!(fresh.key(), issued.key());
    json_with_status(whoami(&app, &fresh).await, 200).await;
}

#[tokio::test]
async fn revoking_the_roles_sessions_ends_the_workloads_live_sessions() {
    let app = spawn_app().await;
    let fixture = setup(&app).await;
    let issued = fetch_ok(&app, &fixture.token).await;
    json_with_status(
        app.request(Method::POST, "/v1/roles/runner/revoke-sessions")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_error(whoami(&app, &issued).await, 401, "InvalidClientTokenId").await;
    // The next refresh cannot hand the revoked session out again: it gets
    // a session issued after the revocation.
    let fresh = fetch_ok(&app, &fixture.token).await;
    assert_ne!(fresh.key(), issued.key());
    json_with_status(whoami(&app, &fresh).await, 200).await;
    // The purge forgets the links of expired sessions with the sessions.
    let store = super::store(&app).await;
    assert_eq!(
        store
            .purge_workload_session_links("2000-01-01T00:00:00.000Z")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .purge_workload_session_links("9999-01-01T00:00:00.000Z")
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn the_trust_policy_is_decided_on_every_refresh() {
    let app = spawn_app().await;
    let fixture = setup(&app).await;
    fetch_ok(&app, &fixture.token).await;
    app.put(
        "/v1/roles/runner/trust-policy",
        &json!({"trust_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "other.platform.internal"}, "Action": "sts:AssumeRole"}]}}),
    )
    .await;
    let refused = assert_error(fetch(&app, &fixture.token).await, 403, "AccessDenied").await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("because no role trust policy allows the sts:AssumeRole action"),
        "{refused}"
    );
}

/// Several latchkey nodes over one database, each handing out its own
/// session: the workload still keeps at most 4 live ones.
#[tokio::test]
async fn live_sessions_per_workload_are_bounded_across_nodes() {
    let app = spawn_app().await;
    let fixture = setup(&app).await;
    let mut issued: Vec<Issued> = vec![fetch_ok(&app, &fixture.token).await];
    let mut nodes = Vec::new();
    for _ in 0..5 {
        let node = Application::build(app.node_config())
            .await
            .expect("a second node builds");
        let port = node.port();
        tokio::spawn(node.run_until_stopped());
        nodes.push(port);
    }
    for port in nodes {
        let body: serde_json::Value = app
            .client
            .get(format!("http://127.0.0.1:{port}/v1/workload-credentials"))
            .header("Authorization", &fixture.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        issued.push(Issued {
            creds: crate::helpers::Credentials {
                access_key_id: body["AccessKeyId"].as_str().unwrap().into(),
                secret_access_key: body["SecretAccessKey"].as_str().unwrap().into(),
            },
            token: body["Token"].as_str().unwrap().into(),
            body,
        });
    }
    let mut keys: Vec<&str> = issued.iter().map(Issued::key).collect();
    keys.dedup();
    assert_eq!(keys.len(), 6, "each node minted its own session");
    let mut live = 0;
    for (i, s) in issued.iter().enumerate() {
        let status = whoami(&app, s).await.status().as_u16();
        if i < 2 {
            assert_eq!(status, 401, "session {i} is among the oldest");
        } else {
            assert_eq!(status, 200, "session {i} is among the newest");
            live += 1;
        }
    }
    assert_eq!(live, 4);
    let listed = json_with_status(app.get("/v1/roles/runner/sessions").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 4);
}
