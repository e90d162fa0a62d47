//! /v1/policies: customer managed policies, versions (five at most, the
//! default one cannot be deleted), built-in AWS policies, scopes, entities.

use serde_json::{json, Value};

use crate::helpers::{
    assert_error, assert_error_message, json_with_status, names, policy, spawn_app,
};

const BUILTINS: [&str; 4] = [
    "AdministratorAccess",
    "IAMFullAccess",
    "IAMReadOnlyAccess",
    "ReadOnlyAccess",
];

fn encoded(arn: &str) -> String {
    arn.replace('/', "%2F")
}

#[tokio::test]
async fn policy_create_get_by_name_and_arn_list_delete() {
    let app = spawn_app().await;
    let doc = policy("Allow", "iam:GetUser", "*");
    let created = json_with_status(
        app.post(
            "/v1/policies",
            &json!({"name": "readers", "path": "/team/", "description": "read users", "document": doc}),
        )
        .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("ANPA") && id.len() == 21, "{id}");
    let arn = format!("arn:aws:iam::{}:policy/team/readers", app.account_id);
    assert_eq!(created["arn"], arn.as_str());
    assert_eq!(created["default_version_id"], "v1");
    assert_eq!(created["aws_managed"], false);
    assert_eq!(created["attachment_count"], 0);

    let by_name = json_with_status(app.get("/v1/policies/readers").await, 200).await;
    assert_eq!(by_name["arn"], arn.as_str());
    assert_eq!(by_name["description"], "read users");
    let by_arn = json_with_status(
        app.get(&format!("/v1/policies/{}", encoded(&arn))).await,
        200,
    )
    .await;
    assert_eq!(by_arn["id"], created["id"]);

    let v1 = json_with_status(app.get("/v1/policies/readers/versions/v1").await, 200).await;
    assert_eq!(v1["document"], doc);
    assert_eq!(v1["is_default_version"], true);

    assert_error_message(
        app.post("/v1/policies", &json!({"name": "READERS", "document": doc}))
            .await,
        409,
        "EntityAlreadyExists",
        "A policy called READERS already exists. Duplicate names are not allowed.",
    )
    .await;

    let local = json_with_status(app.get("/v1/policies?scope=Local").await, 200).await;
    assert_eq!(names(local["items"].as_array().unwrap()), ["readers"]);

    json_with_status(app.delete("/v1/policies/readers").await, 204).await;
    assert_error_message(
        app.get(&format!("/v1/policies/{}", encoded(&arn))).await,
        404,
        "NoSuchEntity",
        &format!("Policy {arn} was not found."),
    )
    .await;
    assert_error(app.get("/v1/policies/readers").await, 404, "NoSuchEntity").await;
    assert_error(
        app.delete("/v1/policies/readers").await,
        404,
        "NoSuchEntity",
    )
    .await;
}

#[tokio::test]
async fn invalid_policy_documents_get_aws_messages() {
    let app = spawn_app().await;
    let cases: [(Value, &str); 5] = [
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}),
            "Policy document must be version 2012-10-17 or greater.",
        ),
        (
            json!({"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}),
            "Policy document must be version 2012-10-17 or greater.",
        ),
        (
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "iam:GetUser", "Resource": "*"}]}),
            "Syntax errors in policy.",
        ),
        (
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
            "Policy statement must contain actions.",
        ),
        (
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser",
                   "Resource": "*", "Principal": "*"}]}),
            "Policy document should not specify a principal.",
        ),
    ];
    for (doc, message) in cases {
        assert_error_message(
            app.post("/v1/policies", &json!({"name": "p", "document": doc}))
                .await,
            400,
            "MalformedPolicyDocument",
            message,
        )
        .await;
    }
    // Bad names and paths (managed-policy paths admit no `*`).
    let doc = policy("Allow", "iam:GetUser", "*");
    for body in [
        json!({"name": "p p", "document": doc}),
        json!({"name": "p", "path": "/a*b/", "document": doc}),
        json!({"name": "p", "path": "nope", "document": doc}),
        json!({"name": "p"}),
    ] {
        assert_error(
            app.post("/v1/policies", &body).await,
            400,
            "ValidationError",
        )
        .await;
    }

    // Policy text is Latin-1 at most: anything else is refused before the
    // document is read, as a ValidationError of the request.
    let euro = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser",
        "Resource": "*", "Condition": {"StringEquals": {"aws:username": "\u{20ac}uro"}}}]});
    assert_error(
        app.post("/v1/policies", &json!({"name": "euro", "document": euro}))
            .await,
        400,
        "ValidationError",
    )
    .await;
    app.create_user("u").await;
    assert_error(
        app.put("/v1/users/u/policies/p", &json!({"document": euro}))
            .await,
        400,
        "ValidationError",
    )
    .await;
    // Latin-1 itself is fine.
    let latin1 = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser",
        "Resource": "*", "Condition": {"StringEquals": {"aws:username": "caf\u{e9}"}}}]});
    json_with_status(
        app.post(
            "/v1/policies",
            &json!({"name": "latin1", "document": latin1}),
        )
        .await,
        201,
    )
    .await;
    json_with_status(app.delete("/v1/policies/latin1").await, 204).await;

    // Over 6,144 non-whitespace characters: LimitExceeded (409).
    let actions: Vec<String> = (0..400).map(|i| format!("iam:GetUser{i:05}")).collect();
    let big = policy("Allow", json!(actions), "*");
    assert!(big.to_string().len() > 6144);
    assert_error_message(
        app.post("/v1/policies", &json!({"name": "big", "document": big}))
            .await,
        409,
        "LimitExceeded",
        "Cannot exceed quota for PolicySize: 6144",
    )
    .await;
    // Whitespace does not count.
    let spaced = serde_json::to_string_pretty(&policy("Allow", "iam:GetUser", "*")).unwrap()
        + &" ".repeat(7000);
    json_with_status(
        app.post(
            "/v1/policies",
            &json!({"name": "spaced", "document": spaced}),
        )
        .await,
        201,
    )
    .await;
    let list = json_with_status(app.get("/v1/policies?scope=Local").await, 200).await;
    assert_eq!(names(list["items"].as_array().unwrap()), ["spaced"]);
}

#[tokio::test]
async fn five_versions_at_most_and_the_default_cannot_be_deleted() {
    let app = spawn_app().await;
    app.create_policy("versioned", policy("Allow", "iam:GetUser", "*"))
        .await;
    for n in 2..=5 {
        let v = json_with_status(
            app.post(
                "/v1/policies/versioned/versions",
                &json!({"document": policy("Allow", format!("iam:GetRole{n}"), "*")}),
            )
            .await,
            201,
        )
        .await;
        assert_eq!(v["version_id"], format!("v{n}"));
        assert_eq!(v["is_default_version"], false);
    }
    assert_error_message(
        app.post(
            "/v1/policies/versioned/versions",
            &json!({"document": policy("Allow", "iam:GetRole6", "*")}),
        )
        .await,
        409,
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
    )
    .await;
    let versions = json_with_status(app.get("/v1/policies/versioned/versions").await, 200).await;
    let items = versions["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(
        items
            .iter()
            .filter(|v| v["is_default_version"] == true)
            .count(),
        1
    );

    // Set v3 as default: it is the one that counts now.
    let p = json_with_status(
        app.put(
            "/v1/policies/versioned/default-version",
            &json!({"version_id": "v3"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(p["default_version_id"], "v3");
    let v3 = json_with_status(app.get("/v1/policies/versioned/versions/v3").await, 200).await;
    assert_eq!(v3["is_default_version"], true);
    assert_eq!(v3["document"]["Statement"][0]["Action"], "iam:GetRole3");
    assert_error(
        app.put(
            "/v1/policies/versioned/default-version",
            &json!({"version_id": "v9"}),
        )
        .await,
        404,
        "NoSuchEntity",
    )
    .await;

    assert_error_message(
        app.delete("/v1/policies/versioned/versions/v3").await,
        409,
        "DeleteConflict",
        "Cannot delete the default version of a policy.",
    )
    .await;
    json_with_status(app.delete("/v1/policies/versioned/versions/v1").await, 204).await;
    assert_error(
        app.get("/v1/policies/versioned/versions/v1").await,
        404,
        "NoSuchEntity",
    )
    .await;
    assert_error(
        app.delete("/v1/policies/versioned/versions/v1").await,
        404,
        "NoSuchEntity",
    )
    .await;
    // Room again; numbers are not reused.
    let v = json_with_status(
        app.post(
            "/v1/policies/versioned/versions",
            &json!({"document": policy("Allow", "iam:GetRole6", "*"), "set_as_default": true}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(v["version_id"], "v6");
    assert_eq!(v["is_default_version"], true);
    let p = json_with_status(app.get("/v1/policies/versioned").await, 200).await;
    assert_eq!(p["default_version_id"], "v6");

    // A bad document for a new version is refused as for a new policy.
    json_with_status(app.delete("/v1/policies/versioned/versions/v2").await, 204).await;
    assert_error(
        app.post(
            "/v1/policies/versioned/versions",
            &json!({"document": {"Statement": []}}),
        )
        .await,
        400,
        "MalformedPolicyDocument",
    )
    .await;
    assert_error(
        app.post(
            "/v1/policies/nope/versions",
            &json!({"document": policy("Allow", "iam:GetUser", "*")}),
        )
        .await,
        404,
        "NoSuchEntity",
    )
    .await;
}

#[tokio::test]
async fn builtin_policies_are_visible_and_read_only() {
    let app = spawn_app().await;
    for name in BUILTINS {
        let arn = format!("arn:aws:iam::aws:policy/{name}");
        let p = json_with_status(
            app.get(&format!("/v1/policies/{}", encoded(&arn))).await,
            200,
        )
        .await;
        assert_eq!(p["name"], name);
        assert_eq!(p["aws_managed"], true);
        let by_name = json_with_status(app.get(&format!("/v1/policies/{name}")).await, 200).await;
        assert_eq!(by_name["arn"], arn.as_str());
        let v = json_with_status(
            app.get(&format!("/v1/policies/{}/versions/v1", encoded(&arn)))
                .await,
            200,
        )
        .await;
        assert_eq!(v["document"]["Version"], "2012-10-17");
    }
    let aws = json_with_status(app.get("/v1/policies?scope=AWS").await, 200).await;
    assert_eq!(names(aws["items"].as_array().unwrap()), BUILTINS);
    app.create_policy("mine", policy("Allow", "iam:GetUser", "*"))
        .await;
    let local = json_with_status(app.get("/v1/policies?scope=Local").await, 200).await;
    assert_eq!(names(local["items"].as_array().unwrap()), ["mine"]);
    let all = json_with_status(app.get("/v1/policies").await, 200).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 5);

    // Nobody but AWS changes them.
    let admin = encoded("arn:aws:iam::aws:policy/AdministratorAccess");
    assert_error(
        app.delete(&format!("/v1/policies/{admin}")).await,
        403,
        "AccessDenied",
    )
    .await;
    assert_error(
        app.post(
            &format!("/v1/policies/{admin}/versions"),
            &json!({"document": policy("Allow", "*", "*")}),
        )
        .await,
        403,
        "AccessDenied",
    )
    .await;
    assert_error(
        app.post(
            &format!("/v1/policies/{admin}/tags"),
            &json!({"tags": [{"key": "a", "value": "b"}]}),
        )
        .await,
        400,
        "InvalidInput",
    )
    .await;
}

#[tokio::test]
async fn entities_for_policy_and_attached_delete_conflict() {
    let app = spawn_app().await;
    let arn = app
        .create_policy("shared", policy("Allow", "iam:GetUser", "*"))
        .await;
    app.create_user("u1").await;
    json_with_status(app.post("/v1/groups", &json!({"name": "g1"})).await, 201).await;
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "r1", "trust_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}),
        )
        .await,
        201,
    )
    .await;
    app.attach("users", "u1", &arn).await;
    app.attach("groups", "g1", &arn).await;
    app.attach("roles", "r1", &arn).await;
    let entities = json_with_status(app.get("/v1/policies/shared/entities").await, 200).await;
    assert_eq!(
        entities,
        json!({"users": ["u1"], "groups": ["g1"], "roles": ["r1"]})
    );
    let p = json_with_status(app.get("/v1/policies/shared").await, 200).await;
    assert_eq!(p["attachment_count"], 3);

    assert_error_message(
        app.delete("/v1/policies/shared").await,
        409,
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
    )
    .await;
    for kind in ["users/u1", "groups/g1", "roles/r1"] {
        json_with_status(
            app.delete(&format!(
                "/v1/{kind}/attached-policies?policy_arn={}",
                encoded(&arn).replace(':', "%3A")
            ))
            .await,
            204,
        )
        .await;
    }
    let entities = json_with_status(app.get("/v1/policies/shared/entities").await, 200).await;
    assert_eq!(entities, json!({"users": [], "groups": [], "roles": []}));
    json_with_status(app.delete("/v1/policies/shared").await, 204).await;
    assert_error(
        app.get("/v1/policies/shared/entities").await,
        404,
        "NoSuchEntity",
    )
    .await;
}
