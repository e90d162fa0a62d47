//! Findings in the replies of policy writes, and strict lint (per request
//! with `?strict=true`, or for every write with the server setting, also
//! over the AWS query protocol).

use serde_json::{json, Value};

use crate::awsquery::iam_client;
use crate::helpers::{assert_error, json_with_status, policy, spawn_app, spawn_app_with};

fn codes(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect()
}

fn public_trust() -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
}

fn service_trust() -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "compute.platform.internal"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]})
}

#[tokio::test]
async fn create_and_update_replies_carry_findings() {
    let app = spawn_app().await;
    let pass = policy("Allow", "iam:PassRole", "*");
    let created = json_with_status(
        app.post("/v1/policies", &json!({"name": "passer", "document": pass}))
            .await,
        201,
    )
    .await;
    assert!(codes(&created["findings"]).contains(&"PASS_ROLE_WITH_STAR_IN_RESOURCE".into()));
    let f = &created["findings"][0];
    assert_eq!(f["severity"], "SECURITY_WARNING");
    assert_eq!(f["location"]["statement_index"], 0);

    let clean = policy("Allow", "iam:GetUser", "*");
    let version = json_with_status(
        app.post("/v1/policies/passer/versions", &json!({"document": clean}))
            .await,
        201,
    )
    .await;
    assert_eq!(version["findings"], json!([]));

    app.create_user("ivy").await;
    let inline = json_with_status(
        app.put(
            "/v1/users/ivy/policies/broad",
            &json!({"document": policy("Allow", "*", "*")}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(inline["policy_name"], "broad");
    assert!(codes(&inline["findings"]).contains(&"ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES".into()));

    let role = json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "open", "trust_policy": public_trust()}),
        )
        .await,
        201,
    )
    .await;
    assert!(codes(&role["findings"]).contains(&"TRUST_POLICY_PUBLIC_PRINCIPAL".into()));
    let updated = json_with_status(
        app.put(
            "/v1/roles/open/trust-policy",
            &json!({"trust_policy": service_trust()}),
        )
        .await,
        200,
    )
    .await;
    assert!(!codes(&updated["findings"]).contains(&"TRUST_POLICY_PUBLIC_PRINCIPAL".into()));
    // Reads do not carry findings.
    let got = json_with_status(app.get("/v1/roles/open").await, 200).await;
    assert!(got.get("findings").is_none());
}

#[tokio::test]
async fn strict_query_refuses_and_stores_nothing() {
    let app = spawn_app().await;
    let pass = policy("Allow", "iam:PassRole", "*");
    let refused = assert_error(
        app.post(
            "/v1/policies?strict=true",
            &json!({"name": "passer", "document": pass}),
        )
        .await,
        400,
        "PolicyLintFailed",
    )
    .await;
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("PASS_ROLE_WITH_STAR_IN_RESOURCE"),
        "{message}"
    );
    assert_error(app.get("/v1/policies/passer").await, 404, "NoSuchEntity").await;

    // Without strict the same write passes; a strict new version is refused.
    json_with_status(
        app.post("/v1/policies", &json!({"name": "passer", "document": pass}))
            .await,
        201,
    )
    .await;
    assert_error(
        app.post(
            "/v1/policies/passer/versions?strict=true",
            &json!({"document": policy("Allow", "iam:CreatePolicyVersion", "*"), "set_as_default": true}),
        )
        .await,
        400,
        "PolicyLintFailed",
    )
    .await;
    let versions = json_with_status(app.get("/v1/policies/passer/versions").await, 200).await;
    assert_eq!(versions["items"].as_array().unwrap().len(), 1);

    app.create_user("ivy").await;
    assert_error(
        app.put(
            "/v1/users/ivy/policies/broad?strict=true",
            &json!({"document": policy("Allow", "*", "*")}),
        )
        .await,
        400,
        "PolicyLintFailed",
    )
    .await;
    assert_error(
        app.get("/v1/users/ivy/policies/broad").await,
        404,
        "NoSuchEntity",
    )
    .await;
    // A WARNING or SUGGESTION does not block: a redundant action is only a
    // SUGGESTION.
    let redundant = policy("Allow", json!(["iam:Get*", "iam:GetUser"]), "*");
    let ok = json_with_status(
        app.put(
            "/v1/users/ivy/policies/reads?strict=true",
            &json!({"document": redundant}),
        )
        .await,
        200,
    )
    .await;
    assert!(codes(&ok["findings"]).contains(&"REDUNDANT_ACTION".into()));

    assert_error(
        app.post(
            "/v1/roles?strict=true",
            &json!({"name": "open", "trust_policy": public_trust()}),
        )
        .await,
        400,
        "PolicyLintFailed",
    )
    .await;
    assert_error(app.get("/v1/roles/open").await, 404, "NoSuchEntity").await;
    json_with_status(
        app.post(
            "/v1/roles?strict=true",
            &json!({"name": "svc", "trust_policy": service_trust()}),
        )
        .await,
        201,
    )
    .await;
    assert_error(
        app.put(
            "/v1/roles/svc/trust-policy?strict=true",
            &json!({"trust_policy": public_trust()}),
        )
        .await,
        400,
        "PolicyLintFailed",
    )
    .await;
    let role = json_with_status(app.get("/v1/roles/svc").await, 200).await;
    assert_eq!(role["trust_policy"], service_trust());
    assert_error(
        app.post(
            "/v1/roles?strict=maybe",
            &json!({"name": "x", "trust_policy": service_trust()}),
        )
        .await,
        400,
        "ValidationError",
    )
    .await;
}

#[tokio::test]
async fn strict_setting_applies_to_both_front_ends() {
    let app = spawn_app_with(|c| c.strict_policy_lint = true).await;
    let pass = policy("Allow", "iam:PassRole", "*");
    assert_error(
        app.post("/v1/policies", &json!({"name": "passer", "document": pass}))
            .await,
        400,
        "PolicyLintFailed",
    )
    .await;
    let iam = iam_client(&app, &app.root);
    let err = iam
        .create_policy()
        .policy_name("passer")
        .policy_document(pass.to_string())
        .send()
        .await
        .expect_err("strict lint refuses it");
    use aws_sdk_iam::error::ProvideErrorMetadata;
    assert_eq!(err.code(), Some("PolicyLintFailed"));
    assert!(err
        .message()
        .unwrap_or_default()
        .contains("PASS_ROLE_WITH_STAR_IN_RESOURCE"));
    assert!(iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap()
        .policies()
        .is_empty());
    iam.create_policy()
        .policy_name("reader")
        .policy_document(policy("Allow", "iam:GetUser", "*").to_string())
        .send()
        .await
        .expect("a clean document passes");
}
