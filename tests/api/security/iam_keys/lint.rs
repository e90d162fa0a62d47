//! Lint warns, on the policy write itself, about a guardrail over a key
//! that latchkey never supplies for the statement's actions.

use serde_json::{json, Value};

use super::{doc, ADMIN_ACCESS};
use crate::helpers::{json_with_status, spawn_app};

const CODE: &str = "CONDITION_KEY_NEVER_SUPPLIED";

fn never_supplied(findings: &Value) -> Vec<&Value> {
    findings
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == CODE)
        .collect()
}

#[tokio::test]
async fn a_guardrail_that_can_never_match_is_warned_about_when_written() {
    let app = spawn_app().await;
    app.create_user("ivy").await;
    let misplaced = doc(json!([
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["iam:CreateUser", "iam:PutUserPolicy"], "Resource": "*",
         "Condition": {"ArnEquals": {"iam:PolicyARN": ADMIN_ACCESS}}}
    ]));
    let reply = json_with_status(
        app.put(
            "/v1/users/ivy/policies/guard",
            &json!({"document": misplaced}),
        )
        .await,
        200,
    )
    .await;
    let found = never_supplied(&reply["findings"]);
    assert_eq!(found.len(), 1, "{reply}");
    assert_eq!(found[0]["severity"], "WARNING");
    assert_eq!(found[0]["location"]["statement_index"], 1);
    let message = found[0]["message"].as_str().expect("message");
    assert!(message.contains("can never match"), "{message}");
    assert!(message.contains("iam:PolicyARN"), "{message}");
    assert!(
        message.contains("iam:CreateUser, iam:PutUserPolicy"),
        "{message}"
    );

    // The guardrail on the action that carries the key is clean, through
    // the lint endpoint too.
    let placed = doc(json!([
        {"Effect": "Deny", "Action": "iam:AttachUserPolicy", "Resource": "*",
         "Condition": {"ArnEquals": {"iam:PolicyARN": ADMIN_ACCESS}}}
    ]));
    let created = json_with_status(
        app.post(
            "/v1/policies",
            &json!({"name": "guard", "document": placed}),
        )
        .await,
        201,
    )
    .await;
    assert!(never_supplied(&created["findings"]).is_empty(), "{created}");
    let linted = json_with_status(
        app.post(
            "/v1/policies/validate",
            &json!({"document": doc(json!([
                {"Effect": "Deny", "Action": "iam:GetGroup", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:ResourceTag/protected": "true"}}}]))}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(never_supplied(&linted["findings"]).len(), 1, "{linted}");
}
