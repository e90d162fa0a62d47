//! §5: simulations evaluate the context they are given. Supplied context
//! wins; keys derived from `caller_arn` (or a stored principal) fill only
//! what is not supplied; with neither, the key is missing.

use serde_json::{json, Value};

use crate::awsquery::iam_client;
use crate::helpers::{json_with_status, policy, spawn_app, TestApp};

async fn evaluate(app: &TestApp, body: Value) -> Value {
    let reply = json_with_status(app.post("/v1/evaluate", &body).await, 200).await;
    reply["results"][0].clone()
}

fn home_policy(resource: &str) -> Value {
    policy("Allow", "s3:GetObject", resource)
}

fn conditioned(key: &str, value: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
        "Resource": "*", "Condition": {"StringEquals": {key: value}}}]})
}

#[tokio::test]
async fn supplied_username_is_used_without_a_caller() {
    let app = spawn_app().await;
    let r = evaluate(
        &app,
        json!({"policies": [home_policy("arn:aws:s3:::home/${aws:username}/*")],
            "action_names": ["s3:GetObject"], "resource_arns": ["arn:aws:s3:::home/alice/x"],
            "context": {"aws:username": "alice"}}),
    )
    .await;
    assert_eq!(r["decision"], "allowed", "{r}");
}

#[tokio::test]
async fn a_variable_default_applies_when_nothing_is_supplied() {
    let app = spawn_app().await;
    let body = |resource: &str, context: Value| {
        json!({"policies": [home_policy("arn:aws:s3:::home/${aws:username, 'guest'}/*")],
            "action_names": ["s3:GetObject"], "resource_arns": [resource], "context": context})
    };
    let r = evaluate(&app, body("arn:aws:s3:::home/guest/x", json!({}))).await;
    assert_eq!(r["decision"], "allowed", "{r}");
    let r = evaluate(&app, body("arn:aws:s3:::home/simulated/x", json!({}))).await;
    assert_eq!(r["decision"], "implicit_deny", "{r}");
    let r = evaluate(
        &app,
        body(
            "arn:aws:s3:::home/alice/x",
            json!({"aws:username": "alice"}),
        ),
    )
    .await;
    assert_eq!(r["decision"], "allowed", "{r}");
}

#[tokio::test]
async fn supplied_principal_arn_and_account_are_used_without_a_caller() {
    let app = spawn_app().await;
    for (key, value) in [
        ("aws:PrincipalArn", "arn:aws:iam::111122223333:user/alice"),
        ("aws:PrincipalAccount", "111122223333"),
    ] {
        let r = evaluate(
            &app,
            json!({"policies": [conditioned(key, value)], "action_names": ["s3:GetObject"],
                "context": {key: value}}),
        )
        .await;
        assert_eq!(r["decision"], "allowed", "{key}: {r}");
        assert_eq!(r["missing_context_keys"], json!([]), "{key}: {r}");
    }
}

#[tokio::test]
async fn without_caller_or_value_a_derived_key_is_missing() {
    let app = spawn_app().await;
    for key in ["aws:PrincipalArn", "aws:PrincipalAccount", "aws:username"] {
        let r = evaluate(
            &app,
            json!({"policies": [conditioned(key, "x")], "action_names": ["s3:GetObject"]}),
        )
        .await;
        assert_eq!(r["decision"], "implicit_deny", "{key}: {r}");
        assert_eq!(r["missing_context_keys"], json!([key]), "{key}: {r}");
    }
}

#[tokio::test]
async fn caller_arn_fills_only_the_keys_not_supplied() {
    let app = spawn_app().await;
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::home/${aws:username}/*",
        "Condition": {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}}]});
    let body = |resource: &str, context: Value| {
        json!({"caller_arn": "arn:aws:iam::111122223333:user/carol", "policies": [doc.clone()],
            "action_names": ["s3:GetObject"], "resource_arns": [resource], "context": context})
    };
    // Nothing supplied: both keys come from the caller.
    let r = evaluate(&app, body("arn:aws:s3:::home/carol/x", json!({}))).await;
    assert_eq!(r["decision"], "allowed", "{r}");
    assert_eq!(r["missing_context_keys"], json!([]));
    // A supplied username wins; the account still comes from the caller.
    let r = evaluate(
        &app,
        body("arn:aws:s3:::home/dave/x", json!({"aws:username": "dave"})),
    )
    .await;
    assert_eq!(r["decision"], "allowed", "{r}");
    let r = evaluate(
        &app,
        body("arn:aws:s3:::home/carol/x", json!({"aws:username": "dave"})),
    )
    .await;
    assert_eq!(r["decision"], "implicit_deny", "{r}");
}

#[tokio::test]
async fn stored_principals_and_the_query_protocol_use_supplied_context() {
    use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum};
    let app = spawn_app().await;
    app.create_user("carol").await;
    app.put_inline(
        "/v1/users/carol/policies/home",
        home_policy("arn:aws:s3:::home/${aws:username}/*"),
    )
    .await;
    let carol_arn = format!("arn:aws:iam::{}:user/carol", app.account_id);
    // REST, stored mode: the supplied username wins over the stored one.
    let r = evaluate(
        &app,
        json!({"principal_arn": carol_arn, "action_names": ["s3:GetObject"],
            "resource_arns": ["arn:aws:s3:::home/alice/x"], "context": {"aws:username": "alice"}}),
    )
    .await;
    assert_eq!(r["decision"], "allowed", "{r}");

    let iam = iam_client(&app, &app.root);
    let alice = ContextEntry::builder()
        .context_key_name("aws:username")
        .context_key_values("alice")
        .context_key_type(ContextKeyTypeEnum::String)
        .build();
    let out = iam
        .simulate_custom_policy()
        .policy_input_list(home_policy("arn:aws:s3:::home/${aws:username}/*").to_string())
        .action_names("s3:GetObject")
        .resource_arns("arn:aws:s3:::home/alice/x")
        .context_entries(alice.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.evaluation_results()[0].eval_decision().as_str(),
        "allowed"
    );
    let out = iam
        .simulate_principal_policy()
        .policy_source_arn(&carol_arn)
        .action_names("s3:GetObject")
        .resource_arns("arn:aws:s3:::home/alice/x")
        .context_entries(alice)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.evaluation_results()[0].eval_decision().as_str(),
        "allowed"
    );
    // Without a caller or a value, the key is reported missing.
    let out = iam
        .simulate_custom_policy()
        .policy_input_list(conditioned("aws:PrincipalArn", "x").to_string())
        .action_names("s3:GetObject")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.evaluation_results()[0].missing_context_values(),
        ["aws:PrincipalArn"]
    );
}
