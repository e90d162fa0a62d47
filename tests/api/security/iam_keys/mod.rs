//! IAM actions see the condition keys AWS supplies for them (issue 15 §1):
//! `iam:PolicyARN`, `iam:PermissionsBoundary`, `aws:RequestTag/K`,
//! `aws:TagKeys`, the target's `aws:ResourceTag/K` and `iam:ResourceTag/K`,
//! `iam:AssociatedResourceArn`; over REST and the AWS query protocol. And
//! lint warns on a guardrail over a key the actions never carry.

mod delegation;
mod lint;

use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::awsquery::{failure, iam_client, tag, trust_root};
use crate::helpers::{assert_error, json_with_status, spawn_app, Credentials, TestApp};

const ADMIN_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// `iam:*` on everything, and one more statement.
fn iam_star_and(statement: Value) -> Value {
    doc(json!([
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        statement
    ]))
}

/// A user with a key and one inline policy, created by root.
async fn user_with_policy(app: &TestApp, name: &str, document: Value) -> Credentials {
    let creds = app.user_with_key(name).await;
    app.put_inline(&format!("/v1/users/{name}/policies/p"), document)
        .await;
    creds
}

async fn send(
    app: &TestApp,
    creds: &Credentials,
    method: Method,
    path: impl AsRef<str>,
    body: Option<Value>,
) -> Response {
    app.send_as(creds, method, path.as_ref(), body.as_ref())
        .await
}

async fn denied(response: Response) {
    assert_error(response, 403, "AccessDenied").await;
}

async fn status(response: Response, expected: u16) {
    json_with_status(response, expected).await;
}

fn trust(app: &TestApp) -> Value {
    serde_json::from_str(&trust_root(&app.account_id)).expect("trust JSON")
}

/// A user with `iam:*` and a Deny on attaching AdministratorAccess could
/// attach it to itself: the Deny's key was never in the context.
#[tokio::test]
async fn a_policy_arn_guardrail_stops_attaching_administrator_access() {
    let app = spawn_app().await;
    let mallory = user_with_policy(
        &app,
        "mallory",
        iam_star_and(
            json!({"Effect": "Deny", "Action": "iam:AttachUserPolicy", "Resource": "*",
            "Condition": {"ArnEquals": {"iam:PolicyARN": ADMIN_ACCESS}}}),
        ),
    )
    .await;
    let attach = |arn: &str| {
        send(
            &app,
            &mallory,
            Method::POST,
            "/v1/users/mallory/attached-policies",
            Some(json!({"policy_arn": arn})),
        )
    };
    denied(attach(ADMIN_ACCESS).await).await;
    // The guardrail is on that policy only.
    status(attach(READ_ONLY).await, 204).await;
    let attached =
        json_with_status(app.get("/v1/users/mallory/attached-policies").await, 200).await;
    assert_eq!(
        attached["items"].as_array().map(Vec::len),
        Some(1),
        "{attached}"
    );

    // Detach carries the key too.
    let keep = user_with_policy(
        &app,
        "keeper",
        iam_star_and(
            json!({"Effect": "Deny", "Action": "iam:DetachUserPolicy", "Resource": "*",
            "Condition": {"ArnEquals": {"iam:PolicyARN": READ_ONLY}}}),
        ),
    )
    .await;
    let detach = format!("/v1/users/mallory/attached-policies?policy_arn={READ_ONLY}");
    denied(send(&app, &keep, Method::DELETE, &detach, None).await).await;
}

/// `Deny iam:* if aws:ResourceTag/protected = true` protects tagged users
/// (and roles, under `iam:ResourceTag` too); a missing user has no tags.
#[tokio::test]
async fn a_resource_tag_guardrail_protects_tagged_users_and_roles() {
    let app = spawn_app().await;
    let mallory = user_with_policy(
        &app,
        "mallory",
        iam_star_and(json!({"Effect": "Deny", "Action": "iam:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/protected": "true"}}})),
    )
    .await;
    status(
        app.post(
            "/v1/users",
            &json!({"name": "crown", "tags": [{"key": "protected", "value": "true"}]}),
        )
        .await,
        201,
    )
    .await;
    app.create_user("plain").await;
    let inline =
        json!({"document": doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]))});
    let put = |user: &str| {
        send(
            &app,
            &mallory,
            Method::PUT,
            format!("/v1/users/{user}/policies/own"),
            Some(inline.clone()),
        )
    };
    denied(put("crown").await).await;
    status(put("plain").await, 200).await;
    // Nor can the tag be removed, nor the user read.
    denied(
        send(
            &app,
            &mallory,
            Method::DELETE,
            "/v1/users/crown/tags?keys=protected",
            None,
        )
        .await,
    )
    .await;
    denied(send(&app, &mallory, Method::GET, "/v1/users/crown", None).await).await;
    // A user that does not exist has no tags: 404, as for any other name.
    assert_error(put("ghost").await, 404, "NoSuchEntity").await;

    // Roles carry their tags as iam:ResourceTag as well.
    let guard = user_with_policy(
        &app,
        "guard",
        iam_star_and(json!({"Effect": "Deny", "Action": "iam:*", "Resource": "*",
            "Condition": {"StringEquals": {"iam:ResourceTag/protected": "true"}}})),
    )
    .await;
    status(
        app.post(
            "/v1/roles",
            &json!({"name": "vault", "trust_policy": trust(&app),
                "tags": [{"key": "Protected", "value": "true"}]}),
        )
        .await,
        201,
    )
    .await;
    status(
        app.post(
            "/v1/roles",
            &json!({"name": "open", "trust_policy": trust(&app)}),
        )
        .await,
        201,
    )
    .await;
    let attach = |who, role: &str| {
        send(
            &app,
            who,
            Method::POST,
            format!("/v1/roles/{role}/attached-policies"),
            Some(json!({"policy_arn": ADMIN_ACCESS})),
        )
    };
    denied(attach(&guard, "vault").await).await;
    // Condition-key names ignore case, the tag key in them too.
    denied(attach(&mallory, "vault").await).await;
    status(attach(&guard, "open").await, 204).await;
}

/// `Deny iam:CreateUser,iam:TagUser if ForAnyValue:StringEquals
/// aws:TagKeys = [admin]` stops both calls when they pass that tag.
#[tokio::test]
async fn a_tag_keys_guardrail_stops_create_and_tag_calls_passing_the_key() {
    let app = spawn_app().await;
    let mallory = user_with_policy(
        &app,
        "mallory",
        iam_star_and(
            json!({"Effect": "Deny", "Action": ["iam:CreateUser", "iam:TagUser"],
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["admin"]}}}),
        ),
    )
    .await;
    let create = |name: &str, tags: Value| {
        send(
            &app,
            &mallory,
            Method::POST,
            "/v1/users",
            Some(json!({"name": name, "tags": tags})),
        )
    };
    denied(create("boss", json!([{"key": "admin", "value": "yes"}])).await).await;
    status(
        create("worker", json!([{"key": "team", "value": "blue"}])).await,
        201,
    )
    .await;
    status(create("bare", json!([])).await, 201).await;
    let tag_worker = |key: &str| {
        send(
            &app,
            &mallory,
            Method::POST,
            "/v1/users/worker/tags",
            Some(json!({"tags": [{"key": key, "value": "yes"}]})),
        )
    };
    denied(tag_worker("admin").await).await;
    status(tag_worker("shift").await, 204).await;

    // Untag calls carry the keys they remove.
    let keeper = user_with_policy(
        &app,
        "keeper",
        iam_star_and(
            json!({"Effect": "Deny", "Action": "iam:UntagUser", "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}}),
        ),
    )
    .await;
    let untag = |keys: &str| {
        send(
            &app,
            &keeper,
            Method::DELETE,
            format!("/v1/users/worker/tags?keys={keys}"),
            None,
        )
    };
    denied(untag("shift,team").await).await;
    status(untag("shift").await, 204).await;
}

/// AWS's delegation pattern: CreateUser allowed only with a given boundary.
/// It failed closed, the boundary never being in the context.
#[tokio::test]
async fn create_user_allowed_only_with_the_named_boundary() {
    let app = spawn_app().await;
    let boundary = app
        .create_policy(
            "fence",
            doc(json!([{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}])),
        )
        .await;
    let other = app
        .create_policy(
            "other",
            doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}])),
        )
        .await;
    let hr = user_with_policy(
        &app,
        "hr",
        doc(
            json!([{"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*",
            "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}}]),
        ),
    )
    .await;
    let create = |name: &str, boundary: Option<&str>| {
        send(
            &app,
            &hr,
            Method::POST,
            "/v1/users",
            Some(json!({"name": name, "permissions_boundary": boundary})),
        )
    };
    let made = json_with_status(create("new-hire", Some(&boundary)).await, 201).await;
    assert_eq!(made["permissions_boundary"], boundary.as_str());
    denied(create("free", None).await).await;
    denied(create("loose", Some(&other)).await).await;
}

/// The same guardrails through the AWS SDK for Rust, on the query protocol.
#[tokio::test]
async fn the_keys_reach_decisions_over_the_query_protocol() {
    let app = spawn_app().await;
    let boundary = app
        .create_policy(
            "fence",
            doc(json!([{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}])),
        )
        .await;
    let creds = user_with_policy(
        &app,
        "mallory",
        doc(json!([
            {"Effect": "Allow", "Action": ["iam:AttachUserPolicy", "iam:TagUser", "iam:GetUser"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*",
             "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}},
            {"Effect": "Deny", "Action": "iam:AttachUserPolicy", "Resource": "*",
             "Condition": {"ArnEquals": {"iam:PolicyARN": ADMIN_ACCESS}}},
            {"Effect": "Deny", "Action": ["iam:CreateUser", "iam:TagUser"], "Resource": "*",
             "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["admin"]}}},
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/protected": "true"}}}
        ])),
    )
    .await;
    let iam = iam_client(&app, &creds);
    let attach = |arn: &'static str| {
        iam.attach_user_policy()
            .user_name("mallory")
            .policy_arn(arn)
            .send()
    };
    assert_eq!(
        failure(attach(ADMIN_ACCESS).await),
        ("AccessDenied".into(), 403)
    );
    attach(READ_ONLY).await.expect("another policy attaches");

    let create = |name: &str| iam.create_user().user_name(name);
    assert_eq!(
        failure(create("free").send().await),
        ("AccessDenied".into(), 403)
    );
    assert_eq!(
        failure(
            create("boss")
                .permissions_boundary(&boundary)
                .tags(tag("admin", "yes"))
                .send()
                .await
        ),
        ("AccessDenied".into(), 403)
    );
    let made = create("bounded")
        .permissions_boundary(&boundary)
        .tags(tag("team", "blue"))
        .send()
        .await
        .expect("created with the boundary");
    let user = made.user().expect("user");
    assert_eq!(
        user.permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some(boundary.as_str())
    );
    iam.tag_user()
        .user_name("bounded")
        .tags(tag("protected", "true"))
        .send()
        .await
        .expect("tagged");
    // Now protected: even a read is refused.
    assert_eq!(
        failure(iam.get_user().user_name("bounded").send().await),
        ("AccessDenied".into(), 403)
    );
}

/// PassRole carries the instance profile the role becomes associated with
/// (`iam:AssociatedResourceArn`) and the role's tags.
#[tokio::test]
async fn pass_role_carries_the_associated_profile_and_the_role_tags() {
    let app = spawn_app().await;
    let acct = app.account_id.clone();
    for (role, tags) in [
        ("runner", json!([])),
        ("crown", json!([{"key": "protected", "value": "true"}])),
    ] {
        status(
            app.post(
                "/v1/roles",
                &json!({"name": role, "trust_policy": trust(&app), "tags": tags}),
            )
            .await,
            201,
        )
        .await;
    }
    for profile in ["ci-one", "ci-two", "web"] {
        status(
            app.post("/v1/instance-profiles", &json!({"name": profile}))
                .await,
            201,
        )
        .await;
    }
    let ops = user_with_policy(
        &app,
        "ops",
        doc(json!([
            {"Effect": "Allow", "Action": "iam:AddRoleToInstanceProfile", "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
             "Condition": {"ArnLike": {"iam:AssociatedResourceArn":
                 format!("arn:aws:iam::{acct}:instance-profile/ci-*")}}},
            {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/protected": "true"}}}
        ])),
    )
    .await;
    let add = |profile: &str, role: &str| {
        send(
            &app,
            &ops,
            Method::PUT,
            format!("/v1/instance-profiles/{profile}/roles/{role}"),
            None,
        )
    };
    denied(add("web", "runner").await).await;
    denied(add("ci-two", "crown").await).await;
    status(add("ci-one", "runner").await, 204).await;
}
