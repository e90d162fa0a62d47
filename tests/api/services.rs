//! The action catalog: POST/GET /v1/services, and the server-side lint and
//! analyses that use registered services.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json_with_status, policy, spawn_app, Credentials, TestApp};
use latchkey::startup::Application;

pub fn store_service() -> Value {
    json!({
        "prefix": "store",
        "actions": [
            {"name": "GetObject", "access_level": "Read", "resource_types": ["object"],
             "condition_keys": ["store:prefix"]},
            {"name": "PutObject", "access_level": "Write", "resource_types": ["object"]},
            {"name": "ListBucket", "access_level": "List", "resource_types": ["bucket"]},
            {"name": "PutBucketPolicy", "access_level": "Permissions management"},
            {"name": "TagObject", "access_level": "Tagging"}
        ],
        "condition_keys": [{"name": "store:prefix", "type": "String"}]
    })
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

async fn validate(app: &TestApp, document: Value) -> Value {
    json_with_status(
        app.post("/v1/policies/validate", &json!({"document": document}))
            .await,
        200,
    )
    .await
}

/// A second account and its root key.
pub async fn other_account(app: &TestApp, name: &str) -> (String, Credentials) {
    let created =
        json_with_status(app.post("/v1/accounts", &json!({"name": name})).await, 201).await;
    let creds = Credentials {
        access_key_id: created["root_credentials"]["access_key_id"]
            .as_str()
            .unwrap()
            .into(),
        secret_access_key: created["root_credentials"]["secret_access_key"]
            .as_str()
            .unwrap()
            .into(),
    };
    (created["account_id"].as_str().unwrap().to_string(), creds)
}

#[tokio::test]
async fn registered_services_change_what_lint_knows() {
    let app = spawn_app().await;
    let unknown = policy("Allow", json!(["store:GetObjekt", "ec2:Frobnicate"]), "*");
    // Before registering, neither prefix is known: both are valid.
    assert!(!codes(&validate(&app, unknown.clone()).await).contains(&"UNKNOWN_ACTION".into()));

    let created = json_with_status(app.post("/v1/services", &store_service()).await, 201).await;
    assert_eq!(created["prefix"], "store");
    assert_eq!(created["builtin"], false);
    assert_eq!(
        created["actions"][3]["access_level"],
        "Permissions management"
    );

    let findings = validate(&app, unknown.clone()).await;
    let unknown_actions: Vec<&Value> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "UNKNOWN_ACTION")
        .collect();
    assert_eq!(unknown_actions.len(), 1, "{findings}");
    let message = unknown_actions[0]["message"].as_str().unwrap();
    assert!(
        message.contains("store:GetObjekt") && message.contains("store:GetObject"),
        "{message}"
    );
    // Write replies use the same catalog.
    let written = json_with_status(
        app.post(
            "/v1/policies",
            &json!({"name": "typo", "document": unknown}),
        )
        .await,
        201,
    )
    .await;
    assert!(codes(&written).contains(&"UNKNOWN_ACTION".into()));

    // Wildcards of the service expand, and findings name access levels.
    let wide = validate(&app, policy("Allow", "store:Put*", "*")).await;
    let level = wide["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "WILDCARD_GRANTS_PERMISSIONS_MANAGEMENT")
        .unwrap_or_else(|| panic!("{wide}"));
    let message = level["message"].as_str().unwrap();
    assert!(
        message.contains("expands to 2 actions (1 Permissions management, 1 Write)"),
        "{message}"
    );

    // Replacing: 200, and the new definition is what lint knows.
    let mut renamed = store_service();
    renamed["actions"][0]["name"] = json!("GetObjekt");
    let replaced = json_with_status(app.post("/v1/services", &renamed).await, 200).await;
    assert_eq!(replaced["actions"][0]["name"], "GetObjekt");
    assert!(
        !codes(&validate(&app, policy("Allow", "store:GetObjekt", "*")).await)
            .contains(&"UNKNOWN_ACTION".into())
    );

    let list = json_with_status(app.get("/v1/services").await, 200).await;
    let prefixes: Vec<(&str, bool)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["prefix"].as_str().unwrap(),
                s["builtin"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        prefixes,
        vec![
            ("iam", true),
            ("latchkey", true),
            ("sts", true),
            ("store", false)
        ]
    );
    let latchkey = &list["items"][1]["actions"];
    for action in ["PutService", "ListServices", "AnalyzeAccess"] {
        assert!(
            latchkey
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["name"] == action),
            "{action}"
        );
    }
}

#[tokio::test]
async fn bad_definitions_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    for (body, code) in [
        (
            json!({"prefix": "s 3", "actions": [{"name": "Get", "access_level": "Read"}]}),
            "ValidationError",
        ),
        (
            json!({"prefix": "iam", "actions": [{"name": "Get", "access_level": "Read"}]}),
            "ValidationError",
        ),
        (json!({"prefix": "x", "actions": []}), "ValidationError"),
        (
            json!({"prefix": "x", "actions": [{"name": "Get*", "access_level": "Read"}]}),
            "ValidationError",
        ),
        (
            json!({"prefix": "x", "actions": [{"name": "Get", "access_level": "Read"}, {"name": "get", "access_level": "Write"}]}),
            "ValidationError",
        ),
        (
            json!({"prefix": "x", "actions": [{"name": "Get", "access_level": "Admin"}]}),
            "ValidationError",
        ),
        (
            json!({"prefix": "x", "actions": [{"name": "Get", "access_level": "Read"}], "condition_keys": [{"name": "nokey", "type": "String"}]}),
            "ValidationError",
        ),
    ] {
        let r = app.post("/v1/services", &body).await;
        let status = r.status().as_u16();
        assert!(status == 400, "{body}: {status}");
        assert_error(r, 400, code).await;
    }
    let list = json_with_status(app.get("/v1/services").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn only_the_management_account_registers_and_everyone_may_read() {
    let app = spawn_app().await;
    let (_, tenant) = other_account(&app, "tenant").await;
    let r = app
        .send_as(
            &tenant,
            Method::POST,
            "/v1/services",
            Some(&store_service()),
        )
        .await;
    let body = assert_error(r, 403, "AccessDenied").await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("latchkey:PutService"));
    let r = app
        .send_as(&tenant, Method::GET, "/v1/services", None)
        .await;
    json_with_status(r, 200).await;

    // A management-account user needs latchkey:PutService.
    let alice = app.user_with_key("alice").await;
    let r = app
        .send_as(&alice, Method::POST, "/v1/services", Some(&store_service()))
        .await;
    assert_error(r, 403, "AccessDenied").await;
    json_with_status(
        app.put(
            "/v1/users/alice/policies/catalog",
            &json!({"document": policy("Allow", json!(["latchkey:PutService", "latchkey:ListServices"]),
                &format!("arn:aws:latchkey::{}:service/*", app.account_id))}),
        )
        .await,
        200,
    )
    .await;
    let r = app
        .send_as(&alice, Method::POST, "/v1/services", Some(&store_service()))
        .await;
    json_with_status(r, 201).await;
}

#[tokio::test]
async fn registered_services_are_loaded_again_at_start() {
    let app = spawn_app().await;
    json_with_status(app.post("/v1/services", &store_service()).await, 201).await;
    // A second server on the same data directory reads the catalog back.
    let again = Application::build(app.node_config())
        .await
        .expect("second server");
    let address = format!("http://127.0.0.1:{}", again.port());
    tokio::spawn(again.run_until_stopped());
    let list: Value = app
        .client
        .get(format!("{address}/v1/services"))
        .basic_auth(&app.root.access_key_id, Some(&app.root.secret_access_key))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["prefix"] == "store"),
        "{list}"
    );
}
