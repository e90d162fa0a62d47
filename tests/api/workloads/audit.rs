//! Every workload mutation commits with its audit record, and neither the
//! workload token nor the credentials it fetches ever reach the trail.

use serde_json::{json, Value};

use super::{fetch_ok, setup};
use crate::helpers::{json_with_status, spawn_app, TestApp};

async fn all_events(app: &TestApp) -> Vec<Value> {
    let page = json_with_status(app.get("/v1/audit/events?max_items=1000").await, 200).await;
    page["items"].as_array().expect("items").clone()
}

#[tokio::test]
async fn workload_mutations_are_audited_without_their_secrets() {
    let app = spawn_app().await;
    let fixture = setup(&app).await;
    let issued = fetch_ok(&app, &fixture.token).await;
    let rotated = json_with_status(
        app.post(
            &format!("/v1/workloads/{}/rotate-token", fixture.id()),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let new_token = rotated["token"].as_str().expect("new token").to_string();
    json_with_status(
        app.delete(&format!("/v1/workloads/{}", fixture.id())).await,
        204,
    )
    .await;

    let events = all_events(&app).await;
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    for expected in [
        "latchkey:CreateServicePrincipal",
        "iam:CreateRole",
        "iam:CreateInstanceProfile",
        "iam:AddRoleToInstanceProfile",
        "latchkey:CreateWorkload",
        "latchkey:RotateWorkloadToken",
        "latchkey:DeleteWorkload",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    // The refresh is an AssumeRole by the service on the workload's behalf,
    // committed with the session it issued.
    let refresh = events
        .iter()
        .find(|e| e["action"] == "sts:AssumeRole")
        .expect("the refresh's AssumeRole");
    assert_eq!(refresh["principal_arn"], super::SERVICE);
    assert_eq!(refresh["decision"], "allowed");
    assert!(refresh["resource"]
        .as_str()
        .expect("resource")
        .ends_with(":role/runner"));

    let trail = serde_json::to_string(&events).expect("json");
    for secret in [
        fixture.token.as_str(),
        new_token.as_str(),
        issued.token.as_str(),
        issued.creds.secret_access_key.as_str(),
    ] {
        assert!(!trail.contains(secret), "a secret reached the audit trail");
    }
}
