//! /v1/roles: trust policies validated as the trust type and pinned to
//! unique ids, session durations, updates, deletes.

use serde_json::{json, Value};

use crate::helpers::{assert_error, assert_error_message, json_with_status, spawn_app};

fn trust_service(service: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})
}

fn trust_aws(principal: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})
}

#[tokio::test]
async fn role_create_get_update_trust_delete() {
    let app = spawn_app().await;
    let created = json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "deployer", "path": "/ci/", "description": "deploys",
                    "trust_policy": trust_service("ec2.amazonaws.com"),
                    "tags": [{"key": "k", "value": "v"}]}),
        )
        .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("AROA") && id.len() == 21, "{id}");
    assert_eq!(
        created["arn"],
        format!("arn:aws:iam::{}:role/ci/deployer", app.account_id)
    );
    assert_eq!(created["max_session_duration"], 3600);
    assert_eq!(created["description"], "deploys");
    assert_eq!(
        created["trust_policy"]["Statement"][0]["Principal"]["Service"],
        "ec2.amazonaws.com"
    );
    assert_error_message(
        app.post(
            "/v1/roles",
            &json!({"name": "DEPLOYER", "trust_policy": trust_service("ec2.amazonaws.com")}),
        )
        .await,
        409,
        "EntityAlreadyExists",
        "Role with name DEPLOYER already exists.",
    )
    .await;

    let got = json_with_status(app.get("/v1/roles/deployer").await, 200).await;
    assert_eq!(got["id"], id.as_str());
    assert_eq!(got["tags"], json!([{"key": "k", "value": "v"}]));

    let updated = json_with_status(
        app.patch(
            "/v1/roles/deployer",
            &json!({"description": "ships it", "max_session_duration": 43200}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(updated["description"], "ships it");
    assert_eq!(updated["max_session_duration"], 43200);
    let got = json_with_status(app.get("/v1/roles/deployer").await, 200).await;
    assert_eq!(got["max_session_duration"], 43200);
    assert_eq!(got["description"], "ships it");

    let trusted = json_with_status(
        app.put(
            "/v1/roles/deployer/trust-policy",
            &json!({"trust_policy": trust_service("lambda.amazonaws.com")}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        trusted["trust_policy"]["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
    let got = json_with_status(app.get("/v1/roles/deployer").await, 200).await;
    assert_eq!(
        got["trust_policy"]["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );

    json_with_status(app.delete("/v1/roles/deployer").await, 204).await;
    assert_error_message(
        app.get("/v1/roles/deployer").await,
        404,
        "NoSuchEntity",
        "The role with name deployer cannot be found.",
    )
    .await;
    for r in [
        app.delete("/v1/roles/deployer").await,
        app.patch("/v1/roles/deployer", &json!({"description": "x"}))
            .await,
        app.put(
            "/v1/roles/deployer/trust-policy",
            &json!({"trust_policy": trust_service("ec2.amazonaws.com")}),
        )
        .await,
    ] {
        assert_error(r, 404, "NoSuchEntity").await;
    }
}

#[tokio::test]
async fn max_session_duration_is_3600_to_43200() {
    let app = spawn_app().await;
    for (i, seconds) in [3599, 43201, 0, -1].into_iter().enumerate() {
        assert_error(
            app.post(
                "/v1/roles",
                &json!({"name": format!("r{i}"), "max_session_duration": seconds,
                        "trust_policy": trust_service("ec2.amazonaws.com")}),
            )
            .await,
            400,
            "ValidationError",
        )
        .await;
    }
    for (name, seconds) in [("low", 3600), ("high", 43200)] {
        let role = json_with_status(
            app.post(
                "/v1/roles",
                &json!({"name": name, "max_session_duration": seconds,
                        "trust_policy": trust_service("ec2.amazonaws.com")}),
            )
            .await,
            201,
        )
        .await;
        assert_eq!(role["max_session_duration"], seconds);
    }
    assert_error(
        app.patch("/v1/roles/low", &json!({"max_session_duration": 43201}))
            .await,
        400,
        "ValidationError",
    )
    .await;
    let got = json_with_status(app.get("/v1/roles/low").await, 200).await;
    assert_eq!(got["max_session_duration"], 3600);
}

#[tokio::test]
async fn bad_trust_policies_are_refused() {
    let app = spawn_app().await;
    let missing = format!("arn:aws:iam::{}:user/nobody", app.account_id);
    let body = assert_error(
        app.post(
            "/v1/roles",
            &json!({"name": "r", "trust_policy": trust_aws(&missing)}),
        )
        .await,
        400,
        "MalformedPolicyDocument",
    )
    .await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Invalid principal in policy"),
        "{message}"
    );
    assert!(message.contains(&missing), "{message}");

    // Not a trust policy: no principal; a resource; missing Version.
    let no_principal = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "sts:AssumeRole"}]});
    let with_resource = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole", "Resource": "*"}]});
    let no_version = json!({"Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    for doc in [
        no_principal,
        with_resource,
        no_version,
        json!({}),
        json!("not json"),
    ] {
        assert_error(
            app.post("/v1/roles", &json!({"name": "r", "trust_policy": doc}))
                .await,
            400,
            "MalformedPolicyDocument",
        )
        .await;
    }
    // Bad names, paths and descriptions.
    for body in [
        json!({"name": "r r", "trust_policy": trust_service("ec2.amazonaws.com")}),
        json!({"name": "r".repeat(65), "trust_policy": trust_service("ec2.amazonaws.com")}),
        json!({"name": "r", "path": "x", "trust_policy": trust_service("ec2.amazonaws.com")}),
        json!({"name": "r", "description": "d".repeat(1001), "trust_policy": trust_service("ec2.amazonaws.com")}),
        json!({"name": "r"}),
    ] {
        assert_error(app.post("/v1/roles", &body).await, 400, "ValidationError").await;
    }
    // A trust policy over 2,048 non-whitespace characters.
    let services: Vec<String> = (0..100)
        .map(|i| format!("service{i:03}.amazonaws.com"))
        .collect();
    let big = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": services}, "Action": "sts:AssumeRole"}]});
    assert_error_message(
        app.post("/v1/roles", &json!({"name": "r", "trust_policy": big}))
            .await,
        409,
        "LimitExceeded",
        "Cannot exceed quota for ACLSizePerRole: 2048",
    )
    .await;
    assert_error(app.get("/v1/roles/r").await, 404, "NoSuchEntity").await;

    // The same checks on PUT trust-policy; the old trust stays.
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "r", "trust_policy": trust_service("ec2.amazonaws.com")}),
        )
        .await,
        201,
    )
    .await;
    assert_error(
        app.put(
            "/v1/roles/r/trust-policy",
            &json!({"trust_policy": trust_aws(&missing)}),
        )
        .await,
        400,
        "MalformedPolicyDocument",
    )
    .await;
    let got = json_with_status(app.get("/v1/roles/r").await, 200).await;
    assert_eq!(
        got["trust_policy"]["Statement"][0]["Principal"]["Service"],
        "ec2.amazonaws.com"
    );
}

#[tokio::test]
async fn trust_is_pinned_to_the_unique_id_not_the_name() {
    let app = spawn_app().await;
    let bob = app.create_user("bob").await;
    let bob_arn = bob["arn"].as_str().unwrap().to_string();
    let bob_id = bob["id"].as_str().unwrap().to_string();
    let role = json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "bobs-role", "trust_policy": trust_aws(&bob_arn)}),
        )
        .await,
        201,
    )
    .await;
    // While bob exists the trust policy shows his ARN.
    assert_eq!(
        role["trust_policy"]["Statement"][0]["Principal"]["AWS"],
        bob_arn.as_str()
    );
    let root_arn = format!("arn:aws:iam::{}:root", app.account_id);
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "account-role", "trust_policy": trust_aws(&root_arn)}),
        )
        .await,
        201,
    )
    .await;

    json_with_status(app.delete("/v1/users/bob").await, 204).await;
    let new_bob = app.create_user("bob").await;
    assert_ne!(new_bob["id"], bob_id.as_str());

    // The new bob is not trusted: the role shows the old, raw unique id.
    let got = json_with_status(app.get("/v1/roles/bobs-role").await, 200).await;
    assert_eq!(
        got["trust_policy"]["Statement"][0]["Principal"]["AWS"],
        bob_id.as_str(),
        "{got}"
    );
    let list = json_with_status(app.get("/v1/roles").await, 200).await;
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "bobs-role")
        .unwrap();
    assert_eq!(
        listed["trust_policy"]["Statement"][0]["Principal"]["AWS"],
        bob_id.as_str()
    );
    // The account principal is not an entity and is kept as written.
    let got = json_with_status(app.get("/v1/roles/account-role").await, 200).await;
    assert_eq!(
        got["trust_policy"]["Statement"][0]["Principal"]["AWS"],
        root_arn.as_str()
    );

    // Trusting the new bob explicitly pins his new id.
    let retrusted = json_with_status(
        app.put(
            "/v1/roles/bobs-role/trust-policy",
            &json!({"trust_policy": trust_aws(&bob_arn)}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        retrusted["trust_policy"]["Statement"][0]["Principal"]["AWS"],
        bob_arn.as_str()
    );
}
