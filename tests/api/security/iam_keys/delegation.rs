//! The IAM User Guide's delegation through permissions boundaries: an
//! administrator may create users and roles only with a given boundary,
//! manage the policies only of principals that carry it, never change or
//! remove it, and never edit the boundary policy. Then ABAC on IAM
//! resources with `aws:ResourceTag`.

use reqwest::Method;
use serde_json::{json, Value};

use super::{denied, doc, send, status, trust, user_with_policy, READ_ONLY};
use crate::helpers::{json_with_status, spawn_app, Credentials, TestApp};

/// The delegated administrator's policy, in the User Guide's shape.
fn delegated_admin(boundary: &str, own: &str) -> Value {
    doc(json!([
        {"Sid": "CreateOrChangeOnlyWithBoundary", "Effect": "Allow",
         "Action": ["iam:CreateUser", "iam:CreateRole",
                    "iam:AttachUserPolicy", "iam:AttachRolePolicy",
                    "iam:DetachUserPolicy", "iam:DetachRolePolicy",
                    "iam:PutUserPolicy", "iam:PutRolePolicy",
                    "iam:DeleteUserPolicy", "iam:DeleteRolePolicy",
                    "iam:PutUserPermissionsBoundary", "iam:PutRolePermissionsBoundary"],
         "Resource": "*",
         "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}},
        {"Sid": "OtherIAMTasks", "Effect": "Allow",
         "Action": ["iam:Get*", "iam:List*", "iam:CreatePolicy", "iam:CreatePolicyVersion",
                    "iam:DeletePolicy", "iam:DeletePolicyVersion",
                    "iam:SetDefaultPolicyVersion", "iam:CreateAccessKey", "iam:DeleteUser"],
         "Resource": "*"},
        {"Sid": "NoBoundaryPolicyEdit", "Effect": "Deny",
         "Action": ["iam:CreatePolicyVersion", "iam:DeletePolicy",
                    "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"],
         "Resource": [boundary, own]},
        {"Sid": "NoBoundaryUserDelete", "Effect": "Deny",
         "Action": ["iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary"],
         "Resource": "*"}
    ]))
}

async fn as_admin(
    app: &TestApp,
    admin: &Credentials,
    method: Method,
    path: &str,
    body: Option<Value>,
    expected: u16,
) {
    let response = send(app, admin, method, path, body).await;
    if expected == 403 {
        denied(response).await;
    } else {
        status(response, expected).await;
    }
}

#[tokio::test]
async fn delegated_administration_with_a_permissions_boundary() {
    let app = spawn_app().await;
    let acct = app.account_id.clone();
    let boundary = app
        .create_policy(
            "XCompanyBoundaries",
            doc(json!([{"Effect": "Allow", "Action": ["iam:Get*", "sts:*"], "Resource": "*"}])),
        )
        .await;
    let own = format!("arn:aws:iam::{acct}:policy/DelegatedAdminPermissions");
    let other = app
        .create_policy(
            "Other",
            doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}])),
        )
        .await;
    let admin = user_with_policy(&app, "zhang", delegated_admin(&boundary, &own)).await;
    // Principals the administrator did not make, without the boundary.
    app.create_user("outsider").await;
    app.put_inline(
        "/v1/users/outsider/policies/old",
        doc(json!([{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}])),
    )
    .await;
    let call = |method, path: String, body, expected| {
        let admin = &admin;
        let app = &app;
        async move { as_admin(app, admin, method, &path, body, expected).await }
    };

    // Users and roles only with the boundary.
    let user = |name: &str, b: Option<&str>| json!({"name": name, "permissions_boundary": b});
    call(
        Method::POST,
        "/v1/users".into(),
        Some(user("dev", Some(&boundary))),
        201,
    )
    .await;
    call(
        Method::POST,
        "/v1/users".into(),
        Some(user("free", None)),
        403,
    )
    .await;
    call(
        Method::POST,
        "/v1/users".into(),
        Some(user("wide", Some(&other))),
        403,
    )
    .await;
    let role = |name: &str, b: Option<&str>| json!({"name": name, "trust_policy": trust(&app), "permissions_boundary": b});
    call(
        Method::POST,
        "/v1/roles".into(),
        Some(role("app", Some(&boundary))),
        201,
    )
    .await;
    call(
        Method::POST,
        "/v1/roles".into(),
        Some(role("loose", None)),
        403,
    )
    .await;

    // Policies only on principals that carry the boundary.
    let attach = Some(json!({"policy_arn": READ_ONLY}));
    let inline = Some(json!({"document": doc(json!([
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]))}));
    for (kind, name) in [("users", "dev"), ("roles", "app")] {
        let attached = format!("/v1/{kind}/{name}/attached-policies");
        call(Method::POST, attached.clone(), attach.clone(), 204).await;
        call(
            Method::DELETE,
            format!("{attached}?policy_arn={READ_ONLY}"),
            None,
            204,
        )
        .await;
        let put = format!("/v1/{kind}/{name}/policies/work");
        call(Method::PUT, put.clone(), inline.clone(), 200).await;
        call(Method::DELETE, put, None, 204).await;
    }
    call(
        Method::POST,
        "/v1/users/outsider/attached-policies".into(),
        attach,
        403,
    )
    .await;
    call(
        Method::PUT,
        "/v1/users/outsider/policies/work".into(),
        inline,
        403,
    )
    .await;
    call(
        Method::DELETE,
        "/v1/users/outsider/policies/old".into(),
        None,
        403,
    )
    .await;

    // The boundary may be set to itself, never changed nor removed.
    let set = |arn: &str| Some(json!({"policy_arn": arn}));
    let dev_boundary = "/v1/users/dev/permissions-boundary".to_string();
    call(Method::PUT, dev_boundary.clone(), set(&boundary), 204).await;
    call(Method::PUT, dev_boundary.clone(), set(&other), 403).await;
    call(Method::DELETE, dev_boundary, None, 403).await;
    call(
        Method::DELETE,
        "/v1/roles/app/permissions-boundary".into(),
        None,
        403,
    )
    .await;
    call(
        Method::PUT,
        "/v1/users/outsider/permissions-boundary".into(),
        set(&other),
        403,
    )
    .await;

    // The boundary policy cannot be edited; the administrator's own may.
    let new_version = Some(json!({"document": doc(json!([
        {"Effect": "Allow", "Action": "*", "Resource": "*"}])), "set_as_default": true}));
    let versions = "/v1/policies/XCompanyBoundaries/versions".to_string();
    call(Method::POST, versions, new_version.clone(), 403).await;
    let default = "/v1/policies/XCompanyBoundaries/default-version".to_string();
    call(Method::PUT, default, Some(json!({"version_id": "v1"})), 403).await;
    let delete = "/v1/policies/XCompanyBoundaries".to_string();
    call(Method::DELETE, delete, None, 403).await;
    call(
        Method::POST,
        "/v1/policies".into(),
        Some(json!({"name": "team", "document": doc(json!([
            {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]))})),
        201,
    )
    .await;
    call(
        Method::POST,
        "/v1/policies/team/versions".into(),
        new_version,
        201,
    )
    .await;

    let dev = json_with_status(app.get("/v1/users/dev").await, 200).await;
    assert_eq!(dev["permissions_boundary"], boundary.as_str());
}

/// ABAC on IAM users: a team lead manages only the users of its own team,
/// and creates users only into it.
#[tokio::test]
async fn abac_on_iam_users_follows_the_principal_team_tag() {
    let app = spawn_app().await;
    let acct = app.account_id.clone();
    let tagged =
        |name: &str, team: &str| json!({"name": name, "tags": [{"key": "team", "value": team}]});
    status(app.post("/v1/users", &tagged("lead", "blue")).await, 201).await;
    let key: Value = app
        .request(Method::POST, "/v1/users/lead/access-keys")
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("key");
    let lead = Credentials {
        access_key_id: key["access_key_id"].as_str().expect("id").into(),
        secret_access_key: key["secret_access_key"].as_str().expect("secret").into(),
    };
    app.put_inline(
        "/v1/users/lead/policies/abac",
        doc(json!([
            {"Effect": "Allow", "Action": "iam:*", "Resource": format!("arn:aws:iam::{acct}:user/*"),
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}},
            {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*",
             "Condition": {"StringEquals": {"aws:RequestTag/team": "${aws:PrincipalTag/team}"},
                           "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}}
        ])),
    )
    .await;
    status(
        app.post("/v1/users", &tagged("blue-dev", "blue")).await,
        201,
    )
    .await;
    status(app.post("/v1/users", &tagged("red-dev", "red")).await, 201).await;
    app.create_user("untagged").await;

    let get = |name: &str| send(&app, &lead, Method::GET, format!("/v1/users/{name}"), None);
    status(get("blue-dev").await, 200).await;
    denied(get("red-dev").await).await;
    denied(get("untagged").await).await;
    // Access before existence: a missing user has no tags, so 403, not 404.
    denied(get("ghost").await).await;
    let put = |name: &str| {
        send(
            &app,
            &lead,
            Method::PUT,
            format!("/v1/users/{name}/policies/p"),
            Some(json!({"document": doc(json!([
                {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]))})),
        )
    };
    status(put("blue-dev").await, 200).await;
    denied(put("red-dev").await).await;

    let create = |body: Value| send(&app, &lead, Method::POST, "/v1/users", Some(body));
    status(create(tagged("blue-new", "blue")).await, 201).await;
    denied(create(tagged("red-new", "red")).await).await;
    denied(create(json!({"name": "no-tag"})).await).await;
    // Once created, the new user is the lead's to manage.
    status(get("blue-new").await, 200).await;
}
