//! Inline policies and managed-policy attachments of users, groups and
//! roles; permissions boundaries of users and roles; tags.

use serde_json::{json, Value};

use crate::helpers::{
    assert_error, assert_error_message, json_with_status, policy, spawn_app, TestApp,
};

/// Creates one user, group and role called `holder`; returns the three
/// collection names of the REST paths.
async fn holders(app: &TestApp) -> [&'static str; 3] {
    app.create_user("holder").await;
    json_with_status(
        app.post("/v1/groups", &json!({"name": "holder"})).await,
        201,
    )
    .await;
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "holder", "trust_policy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}),
        )
        .await,
        201,
    )
    .await;
    ["users", "groups", "roles"]
}

fn detach_path(kind: &str, arn: &str) -> String {
    let encoded = arn.replace(':', "%3A").replace('/', "%2F");
    format!("/v1/{kind}/holder/attached-policies?policy_arn={encoded}")
}

#[tokio::test]
async fn inline_policies_put_get_list_delete_on_all_three_kinds() {
    let app = spawn_app().await;
    for kind in holders(&app).await {
        let base = format!("/v1/{kind}/holder/policies");
        let doc = policy("Allow", "iam:GetUser", "*");
        json_with_status(
            app.put(&format!("{base}/read"), &json!({"document": doc}))
                .await,
            200,
        )
        .await;
        json_with_status(
            app.put(
                &format!("{base}/write"),
                &json!({"document": policy("Allow", "iam:CreateUser", "*")}),
            )
            .await,
            200,
        )
        .await;
        let got = json_with_status(app.get(&format!("{base}/read")).await, 200).await;
        assert_eq!(got["policy_name"], "read");
        assert_eq!(got["document"], doc);
        // Replacing a policy keeps one of that name.
        let doc2 = policy("Allow", "iam:GetRole", "*");
        json_with_status(
            app.put(&format!("{base}/read"), &json!({"document": doc2}))
                .await,
            200,
        )
        .await;
        let got = json_with_status(app.get(&format!("{base}/read")).await, 200).await;
        assert_eq!(got["document"], doc2);
        let list = json_with_status(app.get(&base).await, 200).await;
        assert_eq!(list["items"], json!(["read", "write"]), "{kind}");

        json_with_status(app.delete(&format!("{base}/write")).await, 204).await;
        assert_error(app.get(&format!("{base}/write")).await, 404, "NoSuchEntity").await;
        assert_error(
            app.delete(&format!("{base}/write")).await,
            404,
            "NoSuchEntity",
        )
        .await;
        let list = json_with_status(app.get(&base).await, 200).await;
        assert_eq!(list["items"], json!(["read"]));

        // 400s: a bad document, a bad policy name; 404: a missing holder.
        assert_error_message(
            app.put(
                &format!("{base}/bad"),
                &json!({"document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}),
            )
            .await,
            400,
            "MalformedPolicyDocument",
            "Policy document must be version 2012-10-17 or greater.",
        )
        .await;
        assert_error(
            app.put(&format!("{base}/bad%20name"), &json!({"document": doc}))
                .await,
            400,
            "ValidationError",
        )
        .await;
        assert_error(
            app.put(
                &format!("/v1/{kind}/nobody/policies/read"),
                &json!({"document": doc}),
            )
            .await,
            404,
            "NoSuchEntity",
        )
        .await;
        assert_error(
            app.get(&format!("/v1/{kind}/nobody/policies")).await,
            404,
            "NoSuchEntity",
        )
        .await;
    }
}

/// A policy of about `size` non-whitespace characters.
fn policy_of_size(size: usize) -> Value {
    let base = policy("Allow", "iam:GetUser", "*").to_string().len();
    let resource = format!(
        "arn:aws:iam::123456789012:user/{}",
        "x".repeat(size - base - 31 + 1)
    );
    let doc = policy("Allow", "iam:GetUser", &resource);
    assert_eq!(doc.to_string().len(), size);
    doc
}

#[tokio::test]
async fn inline_policy_sizes_are_summed_per_user() {
    let app = spawn_app().await;
    holders(&app).await;
    json_with_status(
        app.put(
            "/v1/users/holder/policies/a",
            &json!({"document": policy_of_size(1000)}),
        )
        .await,
        200,
    )
    .await;
    json_with_status(
        app.put(
            "/v1/users/holder/policies/b",
            &json!({"document": policy_of_size(1048)}),
        )
        .await,
        200,
    )
    .await;
    // 2,048 in all: one more character is over.
    assert_error_message(
        app.put(
            "/v1/users/holder/policies/c",
            &json!({"document": policy("Allow", "iam:GetUser", "*")}),
        )
        .await,
        409,
        "LimitExceeded",
        "Maximum policy size of 2048 bytes exceeded for user holder",
    )
    .await;
    // Replacing b by a bigger one is over; by a smaller one is fine.
    assert_error(
        app.put(
            "/v1/users/holder/policies/b",
            &json!({"document": policy_of_size(1049)}),
        )
        .await,
        409,
        "LimitExceeded",
    )
    .await;
    json_with_status(
        app.put(
            "/v1/users/holder/policies/b",
            &json!({"document": policy_of_size(900)}),
        )
        .await,
        200,
    )
    .await;
    // Groups and roles have larger budgets.
    for kind in ["groups", "roles"] {
        for name in ["a", "b", "c"] {
            json_with_status(
                app.put(
                    &format!("/v1/{kind}/holder/policies/{name}"),
                    &json!({"document": policy_of_size(1000)}),
                )
                .await,
                200,
            )
            .await;
        }
    }
}

#[tokio::test]
async fn attachments_attach_list_detach_and_limits() {
    let app = spawn_app().await;
    let mut arns = Vec::new();
    for i in 0..11 {
        arns.push(
            app.create_policy(&format!("p{i:02}"), policy("Allow", "iam:GetUser", "*"))
                .await,
        );
    }
    for kind in holders(&app).await {
        let base = format!("/v1/{kind}/holder/attached-policies");
        app.attach(kind, "holder", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
            .await;
        app.attach(kind, "holder", &arns[0]).await;
        // Attaching again changes nothing.
        app.attach(kind, "holder", &arns[0]).await;
        let list = json_with_status(app.get(&base).await, 200).await;
        let listed: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["policy_arn"].as_str().unwrap())
            .collect();
        assert_eq!(listed.len(), 2, "{list}");
        assert!(listed.contains(&"arn:aws:iam::aws:policy/IAMReadOnlyAccess"));
        assert!(listed.contains(&arns[0].as_str()));

        for arn in &arns[1..9] {
            app.attach(kind, "holder", arn).await;
        }
        // Ten attached: the eleventh is over.
        let noun = match kind {
            "users" => "PoliciesPerUser",
            "groups" => "PoliciesPerGroup",
            _ => "PoliciesPerRole",
        };
        assert_error_message(
            app.post(&base, &json!({"policy_arn": arns[9]})).await,
            409,
            "LimitExceeded",
            &format!("Cannot exceed quota for {noun}: 10"),
        )
        .await;

        let missing = format!("arn:aws:iam::{}:policy/missing", app.account_id);
        assert_error_message(
            app.post(&base, &json!({"policy_arn": missing})).await,
            404,
            "NoSuchEntity",
            &format!("Policy {missing} does not exist or is not attachable."),
        )
        .await;
        assert_error(
            app.post(
                &format!("/v1/{kind}/nobody/attached-policies"),
                &json!({"policy_arn": arns[0]}),
            )
            .await,
            404,
            "NoSuchEntity",
        )
        .await;

        // Detach: gone from the list; detaching again is 404.
        json_with_status(app.delete(&detach_path(kind, &arns[0])).await, 204).await;
        let list = json_with_status(app.get(&base).await, 200).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 9);
        assert_error(
            app.delete(&detach_path(kind, &arns[0])).await,
            404,
            "NoSuchEntity",
        )
        .await;
        assert_error(
            app.delete(&detach_path(kind, &arns[10])).await,
            404,
            "NoSuchEntity",
        )
        .await;
        // There is room for one more again.
        app.attach(kind, "holder", &arns[10]).await;
    }
}

#[tokio::test]
async fn permissions_boundaries_on_users_and_roles() {
    let app = spawn_app().await;
    holders(&app).await;
    let arn = app
        .create_policy("cap", policy("Allow", "iam:Get*", "*"))
        .await;
    for kind in ["users", "roles"] {
        let path = format!("/v1/{kind}/holder/permissions-boundary");
        json_with_status(app.put(&path, &json!({"policy_arn": arn})).await, 204).await;
        let got = json_with_status(app.get(&format!("/v1/{kind}/holder")).await, 200).await;
        assert_eq!(got["permissions_boundary"], arn.as_str());

        // A policy used as a boundary cannot be deleted.
        assert_error_message(
            app.delete("/v1/policies/cap").await,
            409,
            "DeleteConflict",
            "Cannot delete a policy attached to entities.",
        )
        .await;

        let missing = format!("arn:aws:iam::{}:policy/missing", app.account_id);
        assert_error(
            app.put(&path, &json!({"policy_arn": missing})).await,
            404,
            "NoSuchEntity",
        )
        .await;
        let got = json_with_status(app.get(&format!("/v1/{kind}/holder")).await, 200).await;
        assert_eq!(got["permissions_boundary"], arn.as_str());

        json_with_status(app.delete(&path).await, 204).await;
        let got = json_with_status(app.get(&format!("/v1/{kind}/holder")).await, 200).await;
        assert!(got.get("permissions_boundary").is_none(), "{got}");
        assert_error(
            app.put(
                &format!("/v1/{kind}/nobody/permissions-boundary"),
                &json!({"policy_arn": arn}),
            )
            .await,
            404,
            "NoSuchEntity",
        )
        .await;
    }
    // Unused again: the policy can go.
    json_with_status(app.delete("/v1/policies/cap").await, 204).await;
}

#[tokio::test]
async fn tags_on_users_roles_and_policies() {
    let app = spawn_app().await;
    holders(&app).await;
    app.create_policy("holder", policy("Allow", "iam:GetUser", "*"))
        .await;
    for kind in ["users", "roles", "policies"] {
        let path = format!("/v1/{kind}/holder/tags");
        json_with_status(
            app.post(
                &path,
                &json!({"tags": [{"key": "Department", "value": "finance"}, {"key": "team", "value": ""}]}),
            )
            .await,
            204,
        )
        .await;
        let tags = json_with_status(app.get(&path).await, 200).await;
        assert_eq!(
            tags["tags"],
            json!([{"key": "Department", "value": "finance"}, {"key": "team", "value": ""}])
        );
        // A key in another case replaces the tag.
        json_with_status(
            app.post(
                &path,
                &json!({"tags": [{"key": "department", "value": "hr"}]}),
            )
            .await,
            204,
        )
        .await;
        let tags = json_with_status(app.get(&path).await, 200).await;
        assert_eq!(
            tags["tags"],
            json!([{"key": "department", "value": "hr"}, {"key": "team", "value": ""}]),
            "{kind}"
        );
        json_with_status(app.delete(&format!("{path}?keys=TEAM")).await, 204).await;
        let tags = json_with_status(app.get(&path).await, 200).await;
        assert_eq!(tags["tags"], json!([{"key": "department", "value": "hr"}]));

        // 50 tags at most, counting the ones already there.
        let many: Vec<Value> = (0..50)
            .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
            .collect();
        assert_error(
            app.post(&path, &json!({"tags": many})).await,
            409,
            "LimitExceeded",
        )
        .await;
        let tags = json_with_status(app.get(&path).await, 200).await;
        assert_eq!(tags["tags"].as_array().unwrap().len(), 1, "nothing written");
        json_with_status(app.post(&path, &json!({"tags": many[..49]})).await, 204).await;
        let tags = json_with_status(app.get(&path).await, 200).await;
        assert_eq!(tags["tags"].as_array().unwrap().len(), 50);

        // The aws: prefix is reserved; bad characters; duplicate keys.
        for bad in [
            json!([{"key": "aws:team", "value": "x"}]),
            json!([{"key": "AWS:team", "value": "x"}]),
            json!([{"key": "bad!", "value": "x"}]),
            json!([{"key": "", "value": "x"}]),
            json!([{"key": "dup", "value": "1"}, {"key": "DUP", "value": "2"}]),
        ] {
            assert_error(
                app.post(&path, &json!({"tags": bad})).await,
                400,
                "ValidationError",
            )
            .await;
        }
        assert_error(
            app.post(
                &format!("/v1/{kind}/nobody/tags"),
                &json!({"tags": [{"key": "a", "value": "b"}]}),
            )
            .await,
            404,
            "NoSuchEntity",
        )
        .await;
    }
    // Tags given at creation count against the limit too.
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect();
    assert_error(
        app.post("/v1/users", &json!({"name": "tagged", "tags": many}))
            .await,
        400,
        "ValidationError",
    )
    .await;
}
