//! GET /v1/roles/{role}/trust-analysis and
//! GET /v1/{users,roles}/{name}/effective-permissions.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json_with_status, policy, spawn_app, TestApp};
use crate::services::{other_account, store_service};

fn trust(principal: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Trust", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})
}

async fn create_role(app: &TestApp, name: &str, trust_policy: Value) -> String {
    let role = json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": name, "trust_policy": trust_policy}),
        )
        .await,
        201,
    )
    .await;
    role["arn"].as_str().unwrap().to_string()
}

async fn put_inline(app: &TestApp, kind: &str, holder: &str, name: &str, document: Value) {
    json_with_status(
        app.put(
            &format!("/v1/{kind}/{holder}/policies/{name}"),
            &json!({ "document": document }),
        )
        .await,
        200,
    )
    .await;
}

async fn analysis(app: &TestApp, role: &str) -> Vec<Value> {
    let body = json_with_status(
        app.get(&format!("/v1/roles/{role}/trust-analysis")).await,
        200,
    )
    .await;
    body["principals"].as_array().unwrap().clone()
}

fn find<'a>(found: &'a [Value], principal: &str) -> Option<&'a Value> {
    found.iter().find(|p| p["principal"] == principal)
}

#[tokio::test]
async fn same_account_principal_named_by_arn() {
    let app = spawn_app().await;
    let acct = app.account_id.clone();
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = format!("arn:aws:iam::{acct}:user/alice");
    create_role(&app, "target", trust(json!(alice))).await;
    let found = analysis(&app, "target").await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let a = &found[0];
    assert_eq!(a["principal_type"], "user");
    assert_eq!(a["principal"], alice);
    assert_eq!(a["external"], false);
    assert_eq!(a["conditional"], false);
    assert!(a["reason"].as_str().unwrap().contains("by name"), "{a}");
    assert_eq!(a["statements"][0]["kind"], "trust");
    assert_eq!(a["statements"][0]["sid"], "Trust");
}

#[tokio::test]
async fn account_wide_trust_needs_the_principals_own_allow() {
    let app = spawn_app().await;
    let acct = app.account_id.clone();
    let role_arn = create_role(
        &app,
        "target",
        trust(json!(format!("arn:aws:iam::{acct}:root"))),
    )
    .await;
    // carol: allowed through a group's managed policy.
    app.create_user("carol").await;
    json_with_status(
        app.post("/v1/groups", &json!({"name": "hoppers"})).await,
        201,
    )
    .await;
    json_with_status(
        app.put("/v1/groups/hoppers/members/carol", &json!({}))
            .await,
        204,
    )
    .await;
    let hop = app
        .create_policy("hop", policy("Allow", "sts:AssumeRole", &role_arn))
        .await;
    app.attach("groups", "hoppers", &hop).await;
    // dave: an allow, but his own deny wins: must NOT be listed.
    app.create_user("dave").await;
    put_inline(
        &app,
        "users",
        "dave",
        "hop",
        policy("Allow", "sts:AssumeRole", "*"),
    )
    .await;
    put_inline(
        &app,
        "users",
        "dave",
        "never",
        policy("Deny", "sts:AssumeRole", &role_arn),
    )
    .await;
    // erin: nothing.
    app.create_user("erin").await;
    // The session of another role with an allow (role chaining).
    let relay = create_role(
        &app,
        "relay",
        trust(json!(format!("arn:aws:iam::{acct}:root"))),
    )
    .await;
    put_inline(
        &app,
        "roles",
        "relay",
        "hop",
        policy("Allow", "sts:AssumeRole", &role_arn),
    )
    .await;

    let found = analysis(&app, "target").await;
    let carol = find(&found, &format!("arn:aws:iam::{acct}:user/carol")).expect("carol listed");
    assert_eq!(carol["external"], false);
    let reason = carol["reason"].as_str().unwrap();
    assert!(
        reason.contains("trusts its whole account") && reason.contains(&hop),
        "{reason}"
    );
    let kinds: Vec<&str> = carol["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["trust", "managed"]);
    assert_eq!(carol["statements"][1]["attached_to"], "group/hoppers");
    assert!(
        find(&found, &format!("arn:aws:iam::{acct}:user/dave")).is_none(),
        "{found:#?}"
    );
    assert!(find(&found, &format!("arn:aws:iam::{acct}:user/erin")).is_none());
    let session = find(&found, &relay).expect("relay sessions listed");
    assert_eq!(session["principal_type"], "role_session");
    let account = find(&found, &acct).expect("the account itself");
    assert_eq!(account["principal_type"], "account");
    assert_eq!(account["external"], false);
    assert_eq!(found.len(), 3, "{found:#?}");

    // The analysis agrees with what assume-role does.
    let dave = app.user_with_key("dave2").await;
    put_inline(
        &app,
        "users",
        "dave2",
        "hop",
        policy("Allow", "sts:AssumeRole", "*"),
    )
    .await;
    let r = app
        .send_as(
            &dave,
            Method::POST,
            "/v1/sts/assume-role",
            Some(&json!({"role_arn": role_arn, "role_session_name": "s1"})),
        )
        .await;
    json_with_status(r, 200).await;
    assert!(find(
        &analysis(&app, "target").await,
        &format!("arn:aws:iam::{acct}:user/dave2")
    )
    .is_some());
}

#[tokio::test]
async fn cross_account_principals_are_external_and_need_their_own_allow() {
    let app = spawn_app().await;
    let (other, other_root) = other_account(&app, "partner").await;
    let as_other = |method: Method, path: String, body: Option<Value>| {
        let app = &app;
        let creds = other_root.clone();
        async move { app.send_as(&creds, method, &path, body.as_ref()).await }
    };
    json_with_status(
        as_other(
            Method::POST,
            "/v1/users".into(),
            Some(json!({"name": "frank"})),
        )
        .await,
        201,
    )
    .await;
    json_with_status(
        as_other(
            Method::POST,
            "/v1/users".into(),
            Some(json!({"name": "gina"})),
        )
        .await,
        201,
    )
    .await;
    let role_arn = format!("arn:aws:iam::{}:role/shared", app.account_id);
    json_with_status(
        as_other(
            Method::PUT,
            "/v1/users/frank/policies/hop".into(),
            Some(json!({"document": policy("Allow", "sts:AssumeRole", &role_arn)})),
        )
        .await,
        200,
    )
    .await;
    let trust_policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": other.clone()}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"sts:ExternalId": "partner-7"}}}]});
    create_role(&app, "shared", trust_policy).await;
    // A same-account user with an allow is not trusted: the trust names only the partner.
    app.create_user("henry").await;
    put_inline(
        &app,
        "users",
        "henry",
        "hop",
        policy("Allow", "sts:AssumeRole", "*"),
    )
    .await;

    let found = analysis(&app, "shared").await;
    let frank = find(&found, &format!("arn:aws:iam::{other}:user/frank")).expect("frank listed");
    assert_eq!(frank["external"], true);
    assert_eq!(frank["account_id"], other);
    assert_eq!(frank["conditional"], true);
    assert_eq!(frank["condition_keys"], json!(["sts:ExternalId"]));
    assert!(
        frank["reason"]
            .as_str()
            .unwrap()
            .contains("another account"),
        "{frank}"
    );
    assert!(find(&found, &format!("arn:aws:iam::{other}:user/gina")).is_none());
    assert!(find(
        &found,
        &format!("arn:aws:iam::{}:user/henry", app.account_id)
    )
    .is_none());
    let account = find(&found, &other).expect("the partner account");
    assert_eq!(account["external"], true);
    assert_eq!(found.len(), 2, "{found:#?}");
}

#[tokio::test]
async fn analyses_need_analyze_access() {
    let app = spawn_app().await;
    create_role(&app, "target", trust(json!(app.account_id.clone()))).await;
    let ivy = app.user_with_key("ivy").await;
    let r = app
        .send_as(&ivy, Method::GET, "/v1/roles/target/trust-analysis", None)
        .await;
    assert_error(r, 403, "AccessDenied").await;
    put_inline(
        &app,
        "users",
        "ivy",
        "read",
        policy("Allow", "iam:GetRole", "*"),
    )
    .await;
    let r = app
        .send_as(&ivy, Method::GET, "/v1/roles/target/trust-analysis", None)
        .await;
    let body = assert_error(r, 403, "AccessDenied").await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("latchkey:AnalyzeAccess"));
    put_inline(
        &app,
        "users",
        "ivy",
        "analyze",
        policy(
            "Allow",
            json!(["latchkey:AnalyzeAccess", "iam:GetUser"]),
            "*",
        ),
    )
    .await;
    let r = app
        .send_as(&ivy, Method::GET, "/v1/roles/target/trust-analysis", None)
        .await;
    json_with_status(r, 200).await;
    let r = app
        .send_as(
            &ivy,
            Method::GET,
            "/v1/users/ivy/effective-permissions",
            None,
        )
        .await;
    json_with_status(r, 200).await;
    assert_error(
        app.get("/v1/roles/nobody/trust-analysis").await,
        404,
        "NoSuchEntity",
    )
    .await;
    assert_error(
        app.get("/v1/users/nobody/effective-permissions").await,
        404,
        "NoSuchEntity",
    )
    .await;
}

fn level<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body["access_levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["access_level"] == name)
}

fn action<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body["access_levels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["actions"].as_array().unwrap())
        .find(|a| a["action"] == name)
}

#[tokio::test]
async fn effective_permissions_over_a_registered_service() {
    let app = spawn_app().await;
    json_with_status(app.post("/v1/services", &store_service()).await, 201).await;
    app.create_user("uma").await;
    put_inline(
        &app,
        "users",
        "uma",
        "objects",
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Reads", "Effect": "Allow", "Action": "store:Get*", "Resource": "arn:aws:store:::data/*"},
            {"Sid": "All", "Effect": "Allow", "Action": "store:*", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
            {"Effect": "Deny", "Action": "store:PutBucketPolicy", "Resource": "*"},
            {"Effect": "Deny", "Action": "store:PutObject", "Resource": "arn:aws:store:::data/locked/*"},
            {"Effect": "Allow", "Action": "compute:Run*", "Resource": "*"}
        ]}),
    )
    .await;
    json_with_status(
        app.post("/v1/groups", &json!({"name": "readers"})).await,
        201,
    )
    .await;
    json_with_status(
        app.put("/v1/groups/readers/members/uma", &json!({})).await,
        204,
    )
    .await;
    app.attach(
        "groups",
        "readers",
        "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
    )
    .await;

    let body = json_with_status(app.get("/v1/users/uma/effective-permissions").await, 200).await;
    assert_eq!(
        body["principal_arn"],
        format!("arn:aws:iam::{}:user/uma", app.account_id)
    );
    let get = action(&body, "store:GetObject").expect("GetObject");
    assert_eq!(get["conditional"], false);
    assert_eq!(get["grants"].as_array().unwrap().len(), 2);
    assert_eq!(get["grants"][0]["statement"]["sid"], "Reads");
    assert_eq!(get["grants"][0]["statement"]["attached_to"], "user/uma");
    assert_eq!(
        get["grants"][0]["resources"],
        json!(["arn:aws:store:::data/*"])
    );
    assert!(level(&body, "Read").unwrap()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["action"] == "store:GetObject"));
    let put = action(&body, "store:PutObject").expect("PutObject");
    assert_eq!(put["conditional"], true);
    assert_eq!(
        put["denies"][0]["resources"],
        json!(["arn:aws:store:::data/locked/*"])
    );
    assert!(action(&body, "store:PutBucketPolicy").is_none());
    assert!(body["removed"]
        .as_array()
        .unwrap()
        .contains(&json!("store:PutBucketPolicy")));
    assert!(level(&body, "Tagging").is_some() && level(&body, "List").is_some());
    // The group's managed policy grants IAM reads.
    let get_user = action(&body, "iam:GetUser").expect("IAM reads from the group");
    assert_eq!(
        get_user["grants"][0]["statement"]["attached_to"],
        "group/readers"
    );
    assert_eq!(get_user["grants"][0]["statement"]["kind"], "managed");
    // compute is not in the catalog: listed as written.
    assert_eq!(body["other_grants"][0]["actions"], json!(["compute:Run*"]));

    // A role, within a boundary.
    create_role(&app, "worker", trust(json!(app.account_id.clone()))).await;
    put_inline(
        &app,
        "roles",
        "worker",
        "all",
        policy("Allow", "store:*", "*"),
    )
    .await;
    let edge = app
        .create_policy("edge", policy("Allow", "store:Get*", "*"))
        .await;
    json_with_status(
        app.put(
            "/v1/roles/worker/permissions-boundary",
            &json!({"policy_arn": edge}),
        )
        .await,
        204,
    )
    .await;
    let body = json_with_status(app.get("/v1/roles/worker/effective-permissions").await, 200).await;
    let levels: Vec<&str> = body["access_levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["access_level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, vec!["Read"]);
    assert_eq!(body["removed"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_public_trust_is_one_external_entry_without_other_tenants() {
    let app = spawn_app().await;
    let (other, other_root) = other_account(&app, "tenant").await;
    let r = app
        .send_as(
            &other_root,
            Method::POST,
            "/v1/users",
            Some(&json!({"name": "zed"})),
        )
        .await;
    json_with_status(r, 201).await;
    let r = app
        .send_as(
            &other_root,
            Method::PUT,
            "/v1/users/zed/policies/hop",
            Some(&json!({"document": policy("Allow", "sts:AssumeRole", "*")})),
        )
        .await;
    json_with_status(r, 200).await;
    app.create_user("yan").await;
    put_inline(
        &app,
        "users",
        "yan",
        "hop",
        policy("Allow", "sts:AssumeRole", "*"),
    )
    .await;
    create_role(&app, "open", trust(json!("*"))).await;
    let found = analysis(&app, "open").await;
    let public = find(&found, "*").expect("the public entry");
    assert_eq!(public["principal_type"], "public");
    assert_eq!(public["external"], true);
    // This account's principals are listed (the trust names them too).
    assert!(find(&found, &format!("arn:aws:iam::{}:user/yan", app.account_id)).is_some());
    // Another tenant's users are not enumerated.
    assert!(found.iter().all(|p| p["account_id"] != other), "{found:#?}");
}
