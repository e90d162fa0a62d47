//! Issue 15 §2: the work one request can cause is bounded. Simulations are
//! paged and capped, condition values and request contexts have limits,
//! and condition matching has a budget (`latchkey::policy::limits`).

use reqwest::Method;
use serde_json::{json, Value};

use crate::awsquery::{failure, iam_client};
use crate::helpers::{assert_error, json_with_status, spawn_app, TestApp};
use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum};
use latchkey::policy::limits::{
    MAX_AUTHORIZE_WORK, MAX_CONDITION_VALUES_PER_KEY, MAX_CONTEXT_KEYS, MAX_CONTEXT_VALUES_PER_KEY,
    MAX_MATCH_WORK, MAX_RESOURCE_POLICY_SIZE, MAX_SIMULATION_PAIRS,
};

fn allow_all() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

/// A policy allowing everything when one of `values` is like the key's.
fn like_policy(key: &str, values: &[String]) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {"ForAnyValue:StringLike": {key: values}}}]})
}

/// `n` glob patterns that are neither exact nor prefixes, so that each is
/// tried one by one.
fn general_globs(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("*{i}*x")).collect()
}

fn strings(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

async fn evaluate(app: &TestApp, body: &Value) -> reqwest::Response {
    app.post("/v1/evaluate", body).await
}

/// The `action resource` of each result.
fn pairs(reply: &Value) -> Vec<String> {
    reply["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| format!("{} {}", r["action"], r["resource"]))
        .collect()
}

#[tokio::test]
async fn a_simulation_of_20000_by_20000_pairs_is_a_clean_400() {
    let app = spawn_app().await;
    // About 200 KB of body: it used to make the server allocate 41.6 GB
    // for the results up front, and abort.
    let body = json!({
        "policies": [allow_all()],
        "action_names": vec!["a:b"; 20_000],
        "resource_arns": vec!["*"; 20_000],
    });
    let reply = assert_error(evaluate(&app, &body).await, 400, "ValidationError").await;
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&MAX_SIMULATION_PAIRS.to_string()),
        "{message}"
    );
    assert!(message.contains("400000000 pairs"), "{message}");

    // Just at the cap is answered, one page at a time.
    let body = json!({
        "policies": [allow_all()],
        "action_names": vec!["a:b"; 100],
        "resource_arns": vec!["*"; MAX_SIMULATION_PAIRS / 100],
    });
    let reply = json_with_status(evaluate(&app, &body).await, 200).await;
    assert_eq!(reply["results"].as_array().unwrap().len(), 100);
    assert_eq!(reply["is_truncated"], true);
}

#[tokio::test]
async fn rest_simulation_pages_with_max_items_and_marker() {
    let app = spawn_app().await;
    let actions = ["s3:GetObject", "s3:PutObject", "iam:CreateUser"];
    let resources: Vec<String> = (0..5).map(|i| format!("arn:aws:s3:::b/{i}")).collect();
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
    let base = json!({"policies": [policy], "action_names": actions, "resource_arns": resources});

    let whole = json_with_status(evaluate(&app, &base).await, 200).await;
    assert_eq!(whole["is_truncated"], false);
    assert!(whole.get("marker").is_none(), "{whole}");
    let expected = pairs(&whole);
    assert_eq!(expected.len(), 15);

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut body = base.clone();
        body["max_items"] = json!(4);
        if let Some(m) = &marker {
            body["marker"] = json!(m);
        }
        let page = json_with_status(evaluate(&app, &body).await, 200).await;
        sizes.push(page["results"].as_array().unwrap().len());
        seen.extend(pairs(&page));
        match page["is_truncated"].as_bool().unwrap() {
            true => marker = Some(page["marker"].as_str().expect("marker").to_string()),
            false => {
                assert!(page.get("marker").is_none(), "{page}");
                break;
            }
        }
    }
    assert_eq!(sizes, [4, 4, 4, 3]);
    assert_eq!(seen, expected);

    // Stored mode pages the same way.
    app.create_user("paged").await;
    app.put_inline("/v1/users/paged/policies/s3", allow_all())
        .await;
    let stored = json!({"principal_arn": format!("arn:aws:iam::{}:user/paged", app.account_id),
        "action_names": actions, "resource_arns": resources, "max_items": 10});
    let page = json_with_status(evaluate(&app, &stored).await, 200).await;
    assert_eq!(page["results"].as_array().unwrap().len(), 10);
    assert_eq!(page["is_truncated"], true);
    let mut rest = stored.clone();
    rest["marker"] = page["marker"].clone();
    let last = json_with_status(evaluate(&app, &rest).await, 200).await;
    assert_eq!(last["results"].as_array().unwrap().len(), 5);
    assert_eq!(last["is_truncated"], false);
    assert_eq!(last["results"][4]["action"], "iam:CreateUser");
    assert_eq!(last["results"][4]["decision"], "allowed");

    // Bad paging parameters are refused as AWS refuses them.
    for max_items in [0, 1001] {
        let mut body = base.clone();
        body["max_items"] = json!(max_items);
        assert_error(evaluate(&app, &body).await, 400, "ValidationError").await;
    }
    for bad in ["not-a-marker!", "MTU"] {
        // "MTU" is the marker of pair 15, one past the last.
        let mut body = base.clone();
        body["marker"] = json!(bad);
        assert_error(evaluate(&app, &body).await, 400, "InvalidInput").await;
    }
}

#[tokio::test]
async fn sdk_simulate_custom_policy_pages_with_max_items_and_marker() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let actions = [
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "iam:CreateUser",
        "ec2:RunInstances",
    ];
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    .to_string();
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut call = iam
            .simulate_custom_policy()
            .policy_input_list(&policy)
            .max_items(2);
        for a in actions {
            call = call.action_names(a);
        }
        if let Some(m) = &marker {
            call = call.marker(m);
        }
        let out = call.send().await.expect("SimulateCustomPolicy");
        sizes.push(out.evaluation_results().len());
        seen.extend(out.evaluation_results().iter().map(|r| {
            (
                r.eval_action_name().to_string(),
                r.eval_decision().as_str().to_string(),
            )
        }));
        if !out.is_truncated() {
            assert_eq!(out.marker(), None);
            break;
        }
        marker = Some(out.marker().expect("a marker").to_string());
    }
    assert_eq!(sizes, [2, 2, 1]);
    let decisions: Vec<(&str, &str)> = seen.iter().map(|(a, d)| (a.as_str(), d.as_str())).collect();
    assert_eq!(
        decisions,
        [
            ("s3:GetObject", "allowed"),
            ("s3:PutObject", "allowed"),
            ("s3:DeleteObject", "allowed"),
            ("iam:CreateUser", "implicitDeny"),
            ("ec2:RunInstances", "implicitDeny"),
        ]
    );
    let (code, status) = failure(
        iam.simulate_custom_policy()
            .policy_input_list(&policy)
            .action_names("s3:GetObject")
            .max_items(0)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ValidationError", 400));
}

#[tokio::test]
async fn a_condition_key_over_its_value_limit_is_a_malformed_policy() {
    let app = spawn_app().await;
    let over = MAX_CONDITION_VALUES_PER_KEY + 1;
    let values = strings("", over);
    let document = like_policy("aws:TagKeys", &values);

    // Stored: refused by validation, with the limit in the message.
    let r = app
        .post(
            "/v1/policies",
            &json!({"name": "wide", "document": document}),
        )
        .await;
    let body = assert_error(r, 400, "MalformedPolicyDocument").await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("{over} values"))
            && message.contains(&MAX_CONDITION_VALUES_PER_KEY.to_string()),
        "{message}"
    );
    // At the limit it is stored.
    let at_limit = like_policy("aws:TagKeys", &values[..MAX_CONDITION_VALUES_PER_KEY]);
    let r = app
        .post(
            "/v1/policies",
            &json!({"name": "wide", "document": at_limit}),
        )
        .await;
    json_with_status(r, 201).await;

    // Given inline to a simulation: the same refusal.
    let body = json!({"policies": [document], "action_names": ["s3:GetObject"]});
    let body = assert_error(evaluate(&app, &body).await, 400, "MalformedPolicyDocument").await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 1000 values"));

    // The attacker's request: 6,000 patterns against 3,000 context values.
    let body = json!({"policies": [like_policy("aws:TagKeys", &general_globs(6_000))],
        "action_names": ["s3:GetObject"],
        "context": {"aws:TagKeys": strings("k", 3_000)}});
    let r = evaluate(&app, &body).await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn an_oversized_context_is_a_validation_error() {
    let app = spawn_app().await;
    let service = app.authorizing_service("storage").await;
    let subject = app.user_with_key("alice").await;
    let wide = strings("v", MAX_CONTEXT_VALUES_PER_KEY + 1);
    let many_keys: serde_json::Map<String, Value> = (0..=MAX_CONTEXT_KEYS)
        .map(|i| (format!("svc:key{i}"), json!("x")))
        .collect();
    for (context, limit) in [
        (json!({"aws:TagKeys": wide}), MAX_CONTEXT_VALUES_PER_KEY),
        (Value::Object(many_keys), MAX_CONTEXT_KEYS),
    ] {
        let body = json!({"policies": [allow_all()], "action_names": ["s3:GetObject"], "context": context});
        let reply = assert_error(evaluate(&app, &body).await, 400, "ValidationError").await;
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("at most {limit}")), "{message}");

        let body = json!({"credentials": {"access_key_id": subject.access_key_id},
            "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "context": context});
        let r = app
            .send_as(&service, Method::POST, "/v1/authorize", Some(&body))
            .await;
        let reply = assert_error(r, 400, "ValidationError").await;
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("at most {limit}")), "{message}");
    }

    // Through the query protocol too.
    let iam = iam_client(&app, &app.root);
    let mut entry = ContextEntry::builder()
        .context_key_name("aws:TagKeys")
        .context_key_type(ContextKeyTypeEnum::StringList);
    for v in strings("v", MAX_CONTEXT_VALUES_PER_KEY + 1) {
        entry = entry.context_key_values(v);
    }
    let (code, status) = failure(
        iam.simulate_custom_policy()
            .policy_input_list(allow_all().to_string())
            .action_names("s3:GetObject")
            .context_entries(entry.build())
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ValidationError", 400));
}

#[tokio::test]
async fn an_oversized_resource_policy_is_a_validation_error() {
    let app = spawn_app().await;
    let service = app.authorizing_service("storage").await;
    let subject = app.user_with_key("alice").await;
    let sids: Vec<Value> = (0..MAX_RESOURCE_POLICY_SIZE / 60)
        .map(|i| {
            json!({"Sid": format!("S{i}"), "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"})
        })
        .collect();
    let big = json!({"Version": "2012-10-17", "Statement": sids});
    assert!(big.to_string().len() > MAX_RESOURCE_POLICY_SIZE);
    let body = json!({"credentials": {"access_key_id": subject.access_key_id},
        "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "resource_policy": big});
    let r = app
        .send_as(&service, Method::POST, "/v1/authorize", Some(&body))
        .await;
    let reply = assert_error(r, 400, "ValidationError").await;
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&MAX_RESOURCE_POLICY_SIZE.to_string()),
        "{message}"
    );
    let body = json!({"policies": [allow_all()], "resource_policy": big, "action_names": ["s3:GetObject"]});
    assert_error(evaluate(&app, &body).await, 400, "ValidationError").await;
}

#[tokio::test]
async fn condition_matching_has_a_budget_per_request() {
    let app = spawn_app().await;
    let service = app.authorizing_service("storage").await;
    let subject = app.user_with_key("alice").await;
    // Two keys, each with the most patterns a key may list, against the
    // most values a context key may carry: within every other limit, but
    // twice the comparisons one request may make.
    let globs = general_globs(MAX_CONDITION_VALUES_PER_KEY);
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
        "Action": "*", "Resource": "*", "Condition": {
            "ForAnyValue:StringLike": {"svc:a": globs, "svc:b": globs}}}]});
    let context = json!({"svc:a": strings("a", MAX_CONTEXT_VALUES_PER_KEY),
        "svc:b": strings("b", MAX_CONTEXT_VALUES_PER_KEY)});
    let body = json!({"credentials": {"access_key_id": subject.access_key_id},
        "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
        "resource_policy": policy, "context": context});
    let r = app
        .send_as(&service, Method::POST, "/v1/authorize", Some(&body))
        .await;
    let reply = assert_error(r, 400, "ValidationError").await;
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("the limit is {MAX_AUTHORIZE_WORK}.")),
        "{message}"
    );
    // The same documents and context in a simulation, which runs off the
    // request workers, meet the larger simulation budget.
    let body = json!({"policies": [allow_all()], "resource_policy": policy,
        "context": context, "action_names": ["s3:GetObject"]});
    let reply = assert_error(evaluate(&app, &body).await, 400, "ValidationError").await;
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("the limit is {MAX_MATCH_WORK}.")),
        "{message}"
    );

    // A decision /v1/authorize makes inline has a tenth of that budget:
    // 200 patterns against 100 values pass a simulation, not an authorize.
    let small = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
        "Action": "*", "Resource": "*", "Condition": {
            "ForAnyValue:StringLike": {"svc:a": general_globs(200)}}}]});
    let context = json!({"svc:a": strings("a", MAX_CONTEXT_VALUES_PER_KEY)});
    let body = json!({"credentials": {"access_key_id": subject.access_key_id},
        "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
        "resource_policy": small, "context": context});
    let r = app
        .send_as(&service, Method::POST, "/v1/authorize", Some(&body))
        .await;
    assert_error(r, 400, "ValidationError").await;
    let body = json!({"policies": [allow_all()], "resource_policy": small,
        "context": context, "action_names": ["s3:GetObject"]});
    json_with_status(evaluate(&app, &body).await, 200).await;

    // One key's worth fits one decision but not two, so each simulation
    // page holds one pair (AWS too may return fewer than MaxItems) and
    // says more follow.
    let half = like_policy("svc:a", &globs);
    let base = json!({"policies": [half], "action_names": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
        "context": {"svc:a": strings("a", MAX_CONTEXT_VALUES_PER_KEY / 2)}, "max_items": 10});
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    let mut body = base.clone();
    loop {
        let page = json_with_status(evaluate(&app, &body).await, 200).await;
        sizes.push(page["results"].as_array().unwrap().len());
        seen.extend(pairs(&page));
        if page["is_truncated"] == false {
            break;
        }
        body["marker"] = page["marker"].clone();
    }
    assert_eq!(sizes, [1, 1, 1]);
    assert_eq!(seen.len(), 3);
    assert!(seen[2].starts_with("\"s3:ListBucket\""), "{seen:?}");
}
