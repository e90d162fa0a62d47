//! POST /v1/evaluate: custom and stored modes, every layer.

use serde_json::{json, Value};

use crate::helpers::{assert_error, json_with_status, spawn_app, TestApp};

fn allow(action: &str, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": action, "Resource": resource}]})
}

async fn evaluate(app: &TestApp, body: Value) -> Value {
    json_with_status(app.post("/v1/evaluate", &body).await, 200).await
}

#[tokio::test]
async fn custom_mode_explains_each_pair() {
    let app = spawn_app().await;
    let reply = evaluate(
        &app,
        json!({
            "policies": [
                allow("s3:*", "arn:aws:s3:::reports/*"),
                {"Version": "2012-10-17", "Statement": [{"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}
            ],
            "action_names": ["s3:GetObject", "s3:DeleteObject", "iam:CreateUser"],
            "resource_arns": ["arn:aws:s3:::reports/q1.csv"]
        }),
    )
    .await;
    let results = reply["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["decision"], "allowed");
    assert_eq!(results[0]["decided_by"], "identity");
    assert_eq!(results[0]["matched_statements"][0]["policy"], "policies[0]");
    assert_eq!(results[0]["matched_statements"][0]["sid"], "A");
    assert_eq!(results[1]["decision"], "explicit_deny");
    assert!(results[1]["matched_statements"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["sid"] == "NoDelete"));
    assert_eq!(results[2]["decision"], "implicit_deny");
}

#[tokio::test]
async fn custom_mode_boundary_session_and_missing_keys() {
    let app = spawn_app().await;
    let reply = evaluate(
        &app,
        json!({
            "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}}}]}],
            "permissions_boundary": allow("s3:Get*", "*"),
            "action_names": ["s3:GetObject", "s3:PutObject"],
        }),
    )
    .await;
    assert_eq!(reply["results"][0]["decision"], "implicit_deny");
    assert_eq!(
        reply["results"][0]["missing_context_keys"],
        json!(["aws:RequestTag/team"])
    );
    let reply = evaluate(
        &app,
        json!({
            "policies": [allow("s3:*", "*")],
            "permissions_boundary": allow("s3:Get*", "*"),
            "action_names": ["s3:GetObject", "s3:PutObject"],
        }),
    )
    .await;
    assert_eq!(reply["results"][0]["decision"], "allowed");
    assert_eq!(reply["results"][1]["decision"], "implicit_deny");
    assert_eq!(reply["results"][1]["decided_by"], "boundary");

    let reply = evaluate(
        &app,
        json!({
            "caller_arn": "arn:aws:sts::123456789012:assumed-role/Builder/ci",
            "policies": [allow("s3:*", "*")],
            "session_policy": allow("s3:GetObject", "*"),
            "action_names": ["s3:GetObject", "s3:PutObject"],
        }),
    )
    .await;
    assert_eq!(reply["results"][0]["decision"], "allowed");
    assert_eq!(reply["results"][1]["decided_by"], "session");
}

#[tokio::test]
async fn resource_policies_same_and_cross_account() {
    let app = spawn_app().await;
    let bucket_policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:user/ann"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*"}]});
    // Same account: the resource policy naming the user suffices.
    let same = evaluate(
        &app,
        json!({"caller_arn": "arn:aws:iam::111111111111:user/ann", "policies": [], "resource_policy": bucket_policy,
            "resource_owner": "111111111111", "action_names": ["s3:GetObject"], "resource_arns": ["arn:aws:s3:::shared/a"]}),
    )
    .await;
    assert_eq!(same["results"][0]["decision"], "allowed");
    assert_eq!(same["results"][0]["decided_by"], "resource");
    // Cross account: the identity side must allow too.
    let cross = evaluate(
        &app,
        json!({"caller_arn": "arn:aws:iam::111111111111:user/ann", "policies": [], "resource_policy": bucket_policy,
            "resource_owner": "222222222222", "action_names": ["s3:GetObject"], "resource_arns": ["arn:aws:s3:::shared/a"]}),
    )
    .await;
    assert_eq!(cross["results"][0]["decision"], "implicit_deny");
    let both = evaluate(
        &app,
        json!({"caller_arn": "arn:aws:iam::111111111111:user/ann", "policies": [allow("s3:GetObject", "*")], "resource_policy": bucket_policy,
            "resource_owner": "222222222222", "action_names": ["s3:GetObject"], "resource_arns": ["arn:aws:s3:::shared/a"]}),
    )
    .await;
    assert_eq!(both["results"][0]["decision"], "allowed");
}

#[tokio::test]
async fn stored_mode_user_with_groups_and_boundary() {
    let app = spawn_app().await;
    app.post("/v1/users", &json!({"name": "dana"})).await;
    app.post("/v1/groups", &json!({"name": "readers"})).await;
    app.put("/v1/groups/readers/members/dana", &json!({})).await;
    app.put(
        "/v1/groups/readers/policies/read",
        &json!({"document": allow("s3:Get*", "*")}),
    )
    .await;
    app.put(
        "/v1/users/dana/policies/write",
        &json!({"document": allow("s3:PutObject", "*")}),
    )
    .await;
    let arn = format!("arn:aws:iam::{}:user/dana", app.account_id);
    let reply = evaluate(&app, json!({"principal_arn": arn, "action_names": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]})).await;
    assert_eq!(reply["results"][0]["decision"], "allowed");
    assert_eq!(
        reply["results"][0]["matched_statements"][0]["policy"],
        "read"
    );
    assert_eq!(reply["results"][1]["decision"], "allowed");
    assert_eq!(reply["results"][2]["decision"], "implicit_deny");

    // A boundary caps what the identity policies give.
    app.post(
        "/v1/policies",
        &json!({"name": "only-get", "document": allow("s3:Get*", "*")}),
    )
    .await;
    let boundary = format!("arn:aws:iam::{}:policy/only-get", app.account_id);
    json_with_status(
        app.put(
            "/v1/users/dana/permissions-boundary",
            &json!({"policy_arn": boundary}),
        )
        .await,
        204,
    )
    .await;
    let reply = evaluate(
        &app,
        json!({"principal_arn": arn, "action_names": ["s3:GetObject", "s3:PutObject"]}),
    )
    .await;
    assert_eq!(reply["results"][0]["decision"], "allowed");
    assert_eq!(reply["results"][1]["decision"], "implicit_deny");
    assert_eq!(reply["results"][1]["decided_by"], "boundary");
}

#[tokio::test]
async fn stored_mode_role_and_errors() {
    let app = spawn_app().await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", app.account_id)}, "Action": "sts:AssumeRole"}]});
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "deployer", "trust_policy": trust}),
        )
        .await,
        201,
    )
    .await;
    app.post(
        "/v1/roles/deployer/attached-policies",
        &json!({"policy_arn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}),
    )
    .await;
    let arn = format!("arn:aws:iam::{}:role/deployer", app.account_id);
    let reply = evaluate(
        &app,
        json!({"principal_arn": arn, "action_names": ["iam:GetUser", "iam:CreateUser"]}),
    )
    .await;
    assert_eq!(reply["results"][0]["decision"], "allowed");
    assert_eq!(
        reply["results"][0]["matched_statements"][0]["policy"],
        "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    );
    assert_eq!(reply["results"][1]["decision"], "implicit_deny");

    let missing = format!("arn:aws:iam::{}:role/nobody", app.account_id);
    assert_error(
        app.post(
            "/v1/evaluate",
            &json!({"principal_arn": missing, "action_names": ["iam:GetUser"]}),
        )
        .await,
        404,
        "NoSuchEntity",
    )
    .await;
    assert_error(
        app.post(
            "/v1/evaluate",
            &json!({"principal_arn": "nope", "action_names": ["iam:GetUser"]}),
        )
        .await,
        400,
        "InvalidInput",
    )
    .await;
    assert_error(
        app.post("/v1/evaluate", &json!({"policies": [{"Version": "2012-10-17", "Statement": "bad"}], "action_names": ["s3:GetObject"]})).await,
        400,
        "MalformedPolicyDocument",
    )
    .await;
}

#[tokio::test]
async fn evaluate_needs_simulate_permissions() {
    let app = spawn_app().await;
    let erin = app.user_with_key("erin").await;
    let r = app
        .request_as(&erin, reqwest::Method::POST, "/v1/evaluate")
        .json(&json!({"policies": [], "action_names": ["s3:GetObject"]}))
        .send()
        .await
        .unwrap();
    let body = assert_error(r, 403, "AccessDenied").await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("iam:SimulateCustomPolicy"));
    app.post(
        "/v1/users/erin/attached-policies",
        &json!({"policy_arn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}),
    )
    .await;
    let r = app
        .request_as(&erin, reqwest::Method::POST, "/v1/evaluate")
        .json(&json!({"policies": [], "action_names": ["s3:GetObject"]}))
        .send()
        .await
        .unwrap();
    json_with_status(r, 200).await;
}

#[tokio::test]
async fn stored_mode_session_uses_its_session_policies() {
    let app = spawn_app().await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:user/ops", app.account_id)}, "Action": "sts:AssumeRole"}]});
    let ops = app.user_with_key("ops").await;
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "worker", "trust_policy": trust}),
        )
        .await,
        201,
    )
    .await;
    app.put(
        "/v1/roles/worker/policies/s3",
        &json!({"document": allow("s3:*", "*")}),
    )
    .await;
    let r = app
        .request_as(&ops, reqwest::Method::POST, "/v1/sts/assume-role")
        .json(&json!({"role_arn": format!("arn:aws:iam::{}:role/worker", app.account_id), "role_session_name": "job-1",
            "policy": allow("s3:GetObject", "*")}))
        .send()
        .await
        .unwrap();
    json_with_status(r, 200).await;
    let session = format!("arn:aws:sts::{}:assumed-role/worker/job-1", app.account_id);
    let reply = evaluate(
        &app,
        json!({"principal_arn": session, "action_names": ["s3:GetObject", "s3:PutObject"]}),
    )
    .await;
    assert_eq!(reply["results"][0]["decision"], "allowed", "{reply}");
    assert_eq!(reply["results"][1]["decision"], "implicit_deny");
    assert_eq!(reply["results"][1]["decided_by"], "session");
    // The role itself is not narrowed.
    let role = format!("arn:aws:iam::{}:role/worker", app.account_id);
    let reply = evaluate(
        &app,
        json!({"principal_arn": role, "action_names": ["s3:PutObject"]}),
    )
    .await;
    assert_eq!(reply["results"][0]["decision"], "allowed");
    let gone = format!("arn:aws:sts::{}:assumed-role/worker/job-2", app.account_id);
    assert_error(
        app.post(
            "/v1/evaluate",
            &json!({"principal_arn": gone, "action_names": ["s3:GetObject"]}),
        )
        .await,
        404,
        "NoSuchEntity",
    )
    .await;
}
