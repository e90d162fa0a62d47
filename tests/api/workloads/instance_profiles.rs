//! Instance profiles over REST and through aws-sdk-iam: AWS names, ids and
//! ARNs, one role each, DeleteConflict both ways, PassRole to add a role.

use reqwest::Method;
use serde_json::json;

use super::{role_in_profile, service_trust, SERVICE};
use crate::awsquery::{failure, iam_client, trust_root};
use crate::helpers::{
    assert_error, assert_error_message, json_with_status, policy, spawn_app, TestApp,
};

async fn put_role(app: &TestApp, profile: &str, role: &str) -> reqwest::Response {
    app.request(
        Method::PUT,
        &format!("/v1/instance-profiles/{profile}/roles/{role}"),
    )
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn instance_profiles_over_rest_hold_one_role_and_never_cascade() {
    let app = spawn_app().await;
    let acct = &app.account_id;
    let created = json_with_status(
        app.post(
            "/v1/instance-profiles",
            &json!({"name": "Web", "path": "/fleet/"}),
        )
        .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("AIPA") && id.len() == 21, "{created}");
    assert_eq!(
        created["arn"],
        format!("arn:aws:iam::{acct}:instance-profile/fleet/Web")
    );
    assert_eq!(created["roles"], json!([]));
    // Names are unique case-insensitively.
    assert_error(
        app.post("/v1/instance-profiles", &json!({"name": "web"}))
            .await,
        409,
        "EntityAlreadyExists",
    )
    .await;
    assert_error(
        app.post("/v1/instance-profiles", &json!({"name": "bad name"}))
            .await,
        400,
        "ValidationError",
    )
    .await;

    for name in ["a", "b"] {
        app.post(
            "/v1/roles",
            &json!({"name": name, "trust_policy": service_trust(SERVICE)}),
        )
        .await;
    }
    json_with_status(put_role(&app, "web", "a").await, 204).await;
    assert_error_message(
        put_role(&app, "Web", "b").await,
        409,
        "LimitExceeded",
        "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
    )
    .await;
    assert_error(put_role(&app, "Web", "a").await, 409, "EntityAlreadyExists").await;
    assert_error(put_role(&app, "Web", "nobody").await, 404, "NoSuchEntity").await;

    let got = json_with_status(app.get("/v1/instance-profiles/Web").await, 200).await;
    assert_eq!(got["roles"][0]["name"], "a");
    assert_eq!(
        got["roles"][0]["arn"],
        format!("arn:aws:iam::{acct}:role/a")
    );
    let for_role = json_with_status(app.get("/v1/roles/a/instance-profiles").await, 200).await;
    assert_eq!(for_role["items"][0]["name"], "Web");
    let none = json_with_status(app.get("/v1/roles/b/instance-profiles").await, 200).await;
    assert_eq!(none["items"], json!([]));

    assert_error_message(
        app.delete("/v1/instance-profiles/Web").await,
        409,
        "DeleteConflict",
        "Cannot delete entity, must remove roles from instance profile first.",
    )
    .await;
    assert_error_message(
        app.delete("/v1/roles/a").await,
        409,
        "DeleteConflict",
        "Cannot delete entity, must remove roles from instance profile first.",
    )
    .await;

    json_with_status(app.delete("/v1/instance-profiles/Web/roles/a").await, 204).await;
    assert_error(
        app.delete("/v1/instance-profiles/Web/roles/a").await,
        404,
        "NoSuchEntity",
    )
    .await;
    json_with_status(app.delete("/v1/roles/a").await, 204).await;
    json_with_status(app.delete("/v1/instance-profiles/Web").await, 204).await;
    assert_error(
        app.get("/v1/instance-profiles/Web").await,
        404,
        "NoSuchEntity",
    )
    .await;

    // Pagination follows the list contract.
    for i in 0..5 {
        app.post("/v1/instance-profiles", &json!({"name": format!("p{i}")}))
            .await;
    }
    let (items, pages) = app.list_all("/v1/instance-profiles", 2).await;
    assert_eq!(items.len(), 5);
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn adding_a_role_to_a_profile_needs_pass_role() {
    let app = spawn_app().await;
    role_in_profile(&app, "runner", service_trust(SERVICE)).await;
    app.post("/v1/instance-profiles", &json!({"name": "spare"}))
        .await;
    let alice = app.user_with_key("alice").await;
    app.put(
        "/v1/users/alice/policies/profiles",
        &json!({"document": policy("Allow", json!(["iam:AddRoleToInstanceProfile", "iam:GetRole"]), "*")}),
    )
    .await;
    let add = |who| {
        app.request_as(who, Method::PUT, "/v1/instance-profiles/spare/roles/runner")
            .send()
    };
    let denied = assert_error(add(&alice).await.unwrap(), 403, "AccessDenied").await;
    assert!(
        denied["error"]["message"]
            .as_str()
            .unwrap()
            .contains("iam:PassRole"),
        "{denied}"
    );
    app.put(
        "/v1/users/alice/policies/pass",
        &json!({"document": policy("Allow", "iam:PassRole", &format!("arn:aws:iam::{}:role/runner", app.account_id))}),
    )
    .await;
    json_with_status(add(&alice).await.unwrap(), 204).await;
}

#[tokio::test]
async fn instance_profiles_through_the_aws_sdk() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let acct = &app.account_id;
    iam.create_role()
        .role_name("app")
        .assume_role_policy_document(trust_root(acct))
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("other")
        .assume_role_policy_document(trust_root(acct))
        .send()
        .await
        .unwrap();
    let created = iam
        .create_instance_profile()
        .instance_profile_name("app-profile")
        .path("/svc/")
        .send()
        .await
        .unwrap();
    let p = created.instance_profile().unwrap();
    assert!(p.instance_profile_id().starts_with("AIPA"));
    assert_eq!(
        p.arn(),
        format!("arn:aws:iam::{acct}:instance-profile/svc/app-profile")
    );
    assert_eq!(p.path(), "/svc/");
    assert!(p.roles().is_empty());

    iam.add_role_to_instance_profile()
        .instance_profile_name("app-profile")
        .role_name("app")
        .send()
        .await
        .unwrap();
    let (code, status) = failure(
        iam.add_role_to_instance_profile()
            .instance_profile_name("app-profile")
            .role_name("other")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("LimitExceeded", 409));

    let got = iam
        .get_instance_profile()
        .instance_profile_name("app-profile")
        .send()
        .await
        .unwrap();
    let roles = got.instance_profile().unwrap().roles();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].role_name(), "app");
    assert_eq!(roles[0].arn(), format!("arn:aws:iam::{acct}:role/app"));
    // The role's trust policy comes URL-encoded, as in GetRole.
    let trust = crate::awsquery::decoded(roles[0].assume_role_policy_document());
    assert_eq!(trust["Statement"][0]["Action"], "sts:AssumeRole");

    let listed = iam.list_instance_profiles().send().await.unwrap();
    assert_eq!(listed.instance_profiles().len(), 1);
    assert!(!listed.is_truncated());
    let for_role = iam
        .list_instance_profiles_for_role()
        .role_name("app")
        .send()
        .await
        .unwrap();
    assert_eq!(
        for_role.instance_profiles()[0].instance_profile_name(),
        "app-profile"
    );
    let (code, status) = failure(
        iam.list_instance_profiles_for_role()
            .role_name("ghost")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));

    let (code, status) = failure(
        iam.delete_instance_profile()
            .instance_profile_name("app-profile")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("DeleteConflict", 409));
    let (code, status) = failure(iam.delete_role().role_name("app").send().await);
    assert_eq!((code.as_str(), status), ("DeleteConflict", 409));

    iam.remove_role_from_instance_profile()
        .instance_profile_name("app-profile")
        .role_name("app")
        .send()
        .await
        .unwrap();
    iam.delete_instance_profile()
        .instance_profile_name("app-profile")
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name("app").send().await.unwrap();
    let (code, status) = failure(
        iam.get_instance_profile()
            .instance_profile_name("app-profile")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    // Profile tags are kept and shown.
    let tagged = iam
        .create_instance_profile()
        .instance_profile_name("tagged")
        .tags(crate::awsquery::tag("team", "blue"))
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.instance_profile().unwrap().tags()[0].key(), "team");
}
