//! The rows of AWS-IAM-NOTES §6.5: who may assume a role, in one account and across two.

use serde_json::json;

use super::*;
use crate::helpers::{assert_error, json_with_status, spawn_app};

#[tokio::test]
async fn same_account_trust_naming_the_user_suffices_and_the_reply_has_aws_shapes() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = create_role(
        &app,
        &app.root,
        "deployer",
        json!({
        "path": "/ci/", "trust_policy": trust(json!({"AWS": user_arn(&app, "alice")}))}),
    )
    .await;
    assert_eq!(
        role_arn,
        format!("arn:aws:iam::{}:role/ci/deployer", app.account_id)
    );
    let (session, reply) = assume_ok(
        &app,
        As::Key(&alice),
        json!({
        "role_arn": role_arn, "role_session_name": "build-1"}),
    )
    .await;
    let c = &reply["credentials"];
    assert!(session.key().starts_with("ASIA") && session.key().len() == 20);
    assert_eq!(c["secret_access_key"].as_str().unwrap().len(), 40);
    assert!(session.token.len() >= 44, "at least 256 bits of token");
    assert!(c["expiration"].as_str().unwrap().ends_with('Z'));
    let user = &reply["assumed_role_user"];
    assert_eq!(
        user["arn"],
        format!(
            "arn:aws:sts::{}:assumed-role/deployer/build-1",
            app.account_id
        )
    );
    let role_id = json_with_status(app.get("/v1/roles/deployer").await, 200).await["id"].clone();
    assert_eq!(
        user["assumed_role_id"],
        format!("{}:build-1", role_id.as_str().unwrap())
    );
    assert!(reply.get("packed_policy_size").is_none());
    assert!(reply.get("source_identity").is_none());

    let me = json_with_status(caller_identity(&app, As::Session(&session)).await, 200).await;
    assert_eq!(me["arn"], user["arn"]);
    assert_eq!(me["user_id"], user["assumed_role_id"]);
    assert_eq!(me["account"], app.account_id.as_str());
}

#[tokio::test]
async fn trust_naming_only_the_account_needs_an_identity_allow() {
    let app = spawn_app().await;
    let bob = app.user_with_key("bob").await;
    let role_arn = create_role(
        &app,
        &app.root,
        "r",
        json!({
        "trust_policy": trust(json!({"AWS": format!("arn:aws:iam::{}:root", app.account_id)}))}),
    )
    .await;
    let body = json!({"role_arn": role_arn, "role_session_name": "sess"});
    let m = message(
        assume(&app, As::Key(&bob), body.clone()).await,
        403,
        "AccessDenied",
    )
    .await;
    assert_eq!(
        m,
        format!("User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn} because no identity-based policy allows the sts:AssumeRole action", user_arn(&app, "bob"))
    );
    put_inline(
        &app,
        &app.root,
        "users",
        "bob",
        allow(json!("sts:AssumeRole"), &role_arn),
    )
    .await;
    assume_ok(&app, As::Key(&bob), body).await;
}

#[tokio::test]
async fn root_credentials_cannot_assume_roles() {
    let app = spawn_app().await;
    let role_arn = create_role(
        &app,
        &app.root,
        "r",
        json!({
        "trust_policy": trust(json!({"AWS": app.account_id}))}),
    )
    .await;
    let m = assume_denied(
        &app,
        As::Key(&app.root),
        json!({"role_arn": role_arn, "role_session_name": "sess"}),
    )
    .await;
    assert!(
        m.contains("roles may not be assumed by root accounts"),
        "{m}"
    );
}

#[tokio::test]
async fn explicit_denies_win_in_the_trust_and_in_identity_policies() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = create_role(&app, &app.root, "r", json!({"trust_policy": {
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": user_arn(&app, "alice")}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
             "Condition": {"StringLike": {"sts:RoleSessionName": "blocked-*"}}}]}})).await;
    let m = assume_denied(
        &app,
        As::Key(&alice),
        json!({"role_arn": role_arn, "role_session_name": "blocked-1"}),
    )
    .await;
    assert!(
        m.ends_with("with an explicit deny in a role trust policy"),
        "{m}"
    );
    assume_ok(
        &app,
        As::Key(&alice),
        json!({"role_arn": role_arn, "role_session_name": "ok"}),
    )
    .await;
    // A deny in the caller's own policy beats a trust that names it.
    put_inline(
        &app,
        &app.root,
        "users",
        "alice",
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]}),
    )
    .await;
    let m = assume_denied(
        &app,
        As::Key(&alice),
        json!({"role_arn": role_arn, "role_session_name": "ok"}),
    )
    .await;
    assert!(
        m.ends_with("with an explicit deny in an identity-based policy"),
        "{m}"
    );
}

#[tokio::test]
async fn a_service_principal_trust_does_not_admit_users_and_unknown_roles_are_refused() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    put_inline(
        &app,
        &app.root,
        "users",
        "alice",
        allow(json!("sts:AssumeRole"), "*"),
    )
    .await;
    let role_arn = create_role(
        &app,
        &app.root,
        "ec2-role",
        json!({
        "trust_policy": trust(json!({"Service": "ec2.amazonaws.com"}))}),
    )
    .await;
    let m = assume_denied(
        &app,
        As::Key(&alice),
        json!({"role_arn": role_arn, "role_session_name": "sess"}),
    )
    .await;
    assert!(
        m.ends_with("because no role trust policy allows the sts:AssumeRole action"),
        "{m}"
    );
    // A role that does not exist looks like a refusal, not a 404.
    let missing = format!("arn:aws:iam::{}:role/nope", app.account_id);
    assert_error(
        assume(
            &app,
            As::Key(&alice),
            json!({"role_arn": missing, "role_session_name": "sess"}),
        )
        .await,
        403,
        "AccessDenied",
    )
    .await;
    // So does a wrong path.
    let wrong_path = format!("arn:aws:iam::{}:role/x/ec2-role", app.account_id);
    assert_error(
        assume(
            &app,
            As::Key(&alice),
            json!({"role_arn": wrong_path, "role_session_name": "sess"}),
        )
        .await,
        403,
        "AccessDenied",
    )
    .await;
    assert_error(
        assume(
            &app,
            As::Key(&alice),
            json!({"role_arn": "arn:aws:iam::123:user/u", "role_session_name": "sess"}),
        )
        .await,
        400,
        "ValidationError",
    )
    .await;
}

#[tokio::test]
async fn cross_account_needs_both_sides_in_both_directions() {
    let app = spawn_app().await;
    let (b, b_root) = second_account(&app).await;
    let alice = app.user_with_key("alice").await;

    // A's user assumes B's role whose trust names account A.
    let b_role = create_role(
        &app,
        &b_root,
        "shared",
        json!({
        "trust_policy": trust(json!({"AWS": format!("arn:aws:iam::{}:root", app.account_id)}))}),
    )
    .await;
    let body = json!({"role_arn": b_role, "role_session_name": "from-a"});
    let m = message(
        assume(&app, As::Key(&alice), body.clone()).await,
        403,
        "AccessDenied",
    )
    .await;
    assert!(m.contains("no identity-based policy allows"), "{m}");
    put_inline(
        &app,
        &app.root,
        "users",
        "alice",
        allow(json!("sts:AssumeRole"), &b_role),
    )
    .await;
    let (session, _) = assume_ok(&app, As::Key(&alice), body).await;
    let me = json_with_status(caller_identity(&app, As::Session(&session)).await, 200).await;
    assert_eq!(me["account"], b.as_str());
    assert_eq!(
        me["arn"],
        format!("arn:aws:sts::{b}:assumed-role/shared/from-a")
    );

    // B's user assumes A's role whose trust names that user: still needs
    // B's identity allow, since the §6.3 shortcut is same-account only.
    let carol = user_in(&app, &b_root, "carol").await;
    let a_role = create_role(
        &app,
        &app.root,
        "for-b",
        json!({
        "trust_policy": trust(json!({"AWS": format!("arn:aws:iam::{b}:user/carol")}))}),
    )
    .await;
    let body = json!({"role_arn": a_role, "role_session_name": "from-b"});
    let m = message(
        assume(&app, As::Key(&carol), body.clone()).await,
        403,
        "AccessDenied",
    )
    .await;
    assert!(m.contains("no identity-based policy allows"), "{m}");
    put_inline(
        &app,
        &b_root,
        "users",
        "carol",
        allow(json!("sts:AssumeRole"), "*"),
    )
    .await;
    let (session, _) = assume_ok(&app, As::Key(&carol), body).await;
    let me = json_with_status(caller_identity(&app, As::Session(&session)).await, 200).await;
    assert_eq!(me["account"], app.account_id.as_str());

    // A trust that does not name the other account refuses it, whatever
    // the caller's own policies say.
    let private = create_role(
        &app,
        &app.root,
        "private",
        json!({
        "trust_policy": trust(json!({"AWS": app.account_id}))}),
    )
    .await;
    let m = assume_denied(
        &app,
        As::Key(&carol),
        json!({"role_arn": private, "role_session_name": "xx"}),
    )
    .await;
    assert!(m.contains("no role trust policy allows"), "{m}");
    // B's root cannot assume A's role either.
    assert_error(
        assume(
            &app,
            As::Key(&b_root),
            json!({"role_arn": a_role, "role_session_name": "xx"}),
        )
        .await,
        403,
        "AccessDenied",
    )
    .await;
}
