//! Assume-role inputs: external id, session name, durations, session
//! policies, session tags, transitive tags and source identity.

use reqwest::Method;
use serde_json::json;

use super::*;
use crate::helpers::{assert_error, json_with_status, spawn_app};

#[tokio::test]
async fn external_id_present_absent_and_wrong() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = create_role(
        &app,
        &app.root,
        "vendor",
        json!({"trust_policy": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": user_arn(&app, "alice")}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "tenant-42:x/y"}}}]}}),
    )
    .await;
    let with = |id: Option<&str>| {
        let mut b = json!({"role_arn": role_arn, "role_session_name": "sess"});
        if let Some(id) = id {
            b["external_id"] = json!(id);
        }
        b
    };
    assert_error(
        assume(&app, As::Key(&alice), with(None)).await,
        403,
        "AccessDenied",
    )
    .await;
    assert_error(
        assume(&app, As::Key(&alice), with(Some("tenant-43"))).await,
        403,
        "AccessDenied",
    )
    .await;
    assume_ok(&app, As::Key(&alice), with(Some("tenant-42:x/y"))).await;
    let m = message(
        assume(&app, As::Key(&alice), with(Some("has space"))).await,
        400,
        "ValidationError",
    )
    .await;
    assert!(m.contains("'externalId'"), "{m}");
    assert_error(
        assume(&app, As::Key(&alice), with(Some("x"))).await,
        400,
        "ValidationError",
    )
    .await;
}

#[tokio::test]
async fn session_name_pattern_and_sts_role_session_name_condition() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = create_role(
        &app,
        &app.root,
        "r",
        json!({"trust_policy": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": user_arn(&app, "alice")}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}}}]}}),
    )
    .await;
    let body = |name: &str| json!({"role_arn": role_arn, "role_session_name": name});
    assume_ok(&app, As::Key(&alice), body("alice")).await;
    assert_error(
        assume(&app, As::Key(&alice), body("mallory")).await,
        403,
        "AccessDenied",
    )
    .await;
    for bad in ["a", "has space", "colon:no", &"x".repeat(65)] {
        let m = message(
            assume(&app, As::Key(&alice), body(bad)).await,
            400,
            "ValidationError",
        )
        .await;
        assert!(m.contains("'roleSessionName'"), "{m}");
    }
}

#[tokio::test]
async fn duration_bounds_role_maximum_and_chaining_cap() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let first = create_role(
        &app,
        &app.root,
        "first",
        json!({"max_session_duration": 7200,
        "trust_policy": trust(json!({"AWS": user_arn(&app, "alice")}))}),
    )
    .await;
    let body = |arn: &str, d: i64| json!({"role_arn": arn, "role_session_name": "sess", "duration_seconds": d});
    let m = message(
        assume(&app, As::Key(&alice), body(&first, 899)).await,
        400,
        "ValidationError",
    )
    .await;
    assert_eq!(m, "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900");
    let m = message(
        assume(&app, As::Key(&alice), body(&first, 43201)).await,
        400,
        "ValidationError",
    )
    .await;
    assert_eq!(m, "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200");
    let m = message(
        assume(&app, As::Key(&alice), body(&first, 7201)).await,
        400,
        "ValidationError",
    )
    .await;
    assert_eq!(
        m,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    );
    assume_ok(&app, As::Key(&alice), body(&first, 900)).await;
    let (session, reply) = assume_ok(&app, As::Key(&alice), body(&first, 7200)).await;
    let expiration = time::OffsetDateTime::parse(
        reply["credentials"]["expiration"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = (expiration - time::OffsetDateTime::now_utc()).whole_seconds();
    assert!((7100..=7200).contains(&left), "{left}");
    // The default is 3600, which a role of maximum 3600 accepts.
    let second = create_role(
        &app,
        &app.root,
        "second",
        json!({"max_session_duration": 43200,
        "trust_policy": trust(json!({"AWS": first}))}),
    )
    .await;
    let m = message(
        assume(&app, As::Session(&session), body(&second, 3601)).await,
        400,
        "ValidationError",
    )
    .await;
    assert_eq!(m, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
    let (chained, _) = assume_ok(&app, As::Session(&session), body(&second, 3600)).await;
    let me = json_with_status(caller_identity(&app, As::Session(&chained)).await, 200).await;
    assert_eq!(
        me["arn"],
        format!("arn:aws:sts::{}:assumed-role/second/sess", app.account_id)
    );
    let listed = json_with_status(app.get("/v1/roles/second/sessions").await, 200).await;
    assert_eq!(listed["items"][0]["chained"], true);
    assert_eq!(
        listed["items"][0]["issuer_arn"],
        format!("arn:aws:sts::{}:assumed-role/first/sess", app.account_id)
    );
}

#[tokio::test]
async fn session_policies_narrow_the_role_and_are_checked() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = role_trusting_user(&app, "admin", "alice").await;
    put_inline(
        &app,
        &app.root,
        "roles",
        "admin",
        allow(
            json!(["iam:ListUsers", "iam:ListRoles", "iam:GetRole"]),
            "*",
        ),
    )
    .await;

    // No session policy: the role's permissions.
    let (full, _) = assume_ok(
        &app,
        As::Key(&alice),
        json!({"role_arn": role_arn, "role_session_name": "full"}),
    )
    .await;
    for path in ["/v1/users", "/v1/roles"] {
        json_with_status(
            send(request(&app, As::Session(&full), Method::GET, path)).await,
            200,
        )
        .await;
    }
    // Inline session policy: only ListUsers is left; it cannot add anything.
    let (narrow, reply) = assume_ok(
        &app,
        As::Key(&alice),
        json!({
        "role_arn": role_arn, "role_session_name": "narrow",
        "policy": allow(json!(["iam:ListUsers", "iam:CreateUser"]), "*")}),
    )
    .await;
    let packed = reply["packed_policy_size"].as_u64().unwrap();
    assert!((1..=100).contains(&packed), "{packed}");
    json_with_status(
        send(request(
            &app,
            As::Session(&narrow),
            Method::GET,
            "/v1/users",
        ))
        .await,
        200,
    )
    .await;
    let m = message(
        send(request(
            &app,
            As::Session(&narrow),
            Method::GET,
            "/v1/roles",
        ))
        .await,
        403,
        "AccessDenied",
    )
    .await;
    assert!(
        m.starts_with(&format!(
            "User: arn:aws:sts::{}:assumed-role/admin/narrow is not authorized",
            app.account_id
        )),
        "{m}"
    );
    assert!(
        m.ends_with("because no session policy allows the iam:ListRoles action"),
        "{m}"
    );
    let r = send(
        request(&app, As::Session(&narrow), Method::POST, "/v1/users").json(&json!({"name": "x"})),
    )
    .await;
    assert!(message(r, 403, "AccessDenied")
        .await
        .contains("no identity-based policy"));

    // A managed session policy, frozen at issue time.
    let (managed, _) = assume_ok(
        &app,
        As::Key(&alice),
        json!({
        "role_arn": role_arn, "role_session_name": "managed",
        "policy_arns": [{"arn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}]}),
    )
    .await;
    json_with_status(
        send(request(
            &app,
            As::Session(&managed),
            Method::GET,
            "/v1/roles",
        ))
        .await,
        200,
    )
    .await;

    // Checks: malformed, too long, too many ARNs, unknown ARN.
    let body = |extra: Value| {
        let mut b = json!({"role_arn": role_arn, "role_session_name": "xx"});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    assert_error(
        assume(
            &app,
            As::Key(&alice),
            body(json!({"policy": {"Statement": []}})),
        )
        .await,
        400,
        "MalformedPolicyDocument",
    )
    .await;
    let many: Vec<Value> = (0..40)
        .map(
            |i| json!({"Effect": "Allow", "Action": format!("iam:GetUser{i:02}"), "Resource": "*"}),
        )
        .collect();
    let big = json!({"Version": "2012-10-17", "Statement": many});
    let m = message(
        assume(&app, As::Key(&alice), body(json!({"policy": big}))).await,
        400,
        "ValidationError",
    )
    .await;
    assert!(m.contains("2048"), "{m}");
    let arns: Vec<Value> = (0..11)
        .map(|_| json!("arn:aws:iam::aws:policy/IAMReadOnlyAccess"))
        .collect();
    assert_error(
        assume(&app, As::Key(&alice), body(json!({"policy_arns": arns}))).await,
        400,
        "ValidationError",
    )
    .await;
    let unknown = format!("arn:aws:iam::{}:policy/none", app.account_id);
    assert_error(
        assume(
            &app,
            As::Key(&alice),
            body(json!({"policy_arns": [unknown]})),
        )
        .await,
        404,
        "NoSuchEntity",
    )
    .await;
}

#[tokio::test]
async fn session_tags_need_tag_session_and_override_role_tags() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let plain = role_trusting_user(&app, "plain", "alice").await;
    let tags = json!([{"key": "team", "value": "blue"}]);
    let m = assume_denied(
        &app,
        As::Key(&alice),
        json!({"role_arn": plain, "role_session_name": "sess", "tags": tags}),
    )
    .await;
    assert!(
        m.contains("sts:TagSession")
            && m.ends_with("because no role trust policy allows the sts:TagSession action"),
        "{m}"
    );

    let tagged = create_role(
        &app,
        &app.root,
        "tagged",
        json!({
        "tags": [{"key": "Team", "value": "red"}],
        "trust_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": user_arn(&app, "alice")},
            "Action": ["sts:AssumeRole", "sts:TagSession"]}]}}),
    )
    .await;
    // The role may list users only as team blue.
    put_inline(
        &app,
        &app.root,
        "roles",
        "tagged",
        json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]}),
    )
    .await;
    let (red, _) = assume_ok(
        &app,
        As::Key(&alice),
        json!({"role_arn": tagged, "role_session_name": "red"}),
    )
    .await;
    assert_error(
        send(request(&app, As::Session(&red), Method::GET, "/v1/users")).await,
        403,
        "AccessDenied",
    )
    .await;
    let (blue, reply) = assume_ok(
        &app,
        As::Key(&alice),
        json!({"role_arn": tagged, "role_session_name": "blue", "tags": tags}),
    )
    .await;
    assert!(reply["packed_policy_size"].as_u64().unwrap() >= 1);
    json_with_status(
        send(request(&app, As::Session(&blue), Method::GET, "/v1/users")).await,
        200,
    )
    .await;

    // Tag checks: a transitive key must be a passed tag; aws: is reserved.
    assume_invalid(
        &app,
        As::Key(&alice),
        json!({"role_arn": tagged, "role_session_name": "sess",
        "tags": tags, "transitive_tag_keys": ["other"]}),
    )
    .await;
    assume_invalid(
        &app,
        As::Key(&alice),
        json!({"role_arn": tagged, "role_session_name": "sess",
        "tags": [{"key": "aws:x", "value": "y"}]}),
    )
    .await;
}

#[tokio::test]
async fn transitive_tags_and_source_identity_carry_through_a_chain() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let first = create_role(
        &app,
        &app.root,
        "first",
        json!({"trust_policy": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": user_arn(&app, "alice")},
            "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]}]}}),
    )
    .await;
    let second = create_role(
        &app,
        &app.root,
        "second",
        json!({
        "trust_policy": trust(json!({"AWS": first}))}),
    )
    .await;
    put_inline(&app, &app.root, "roles", "second", json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/project": "apollo", "aws:SourceIdentity": "alice"}}}]})).await;

    // Source identity needs sts:SetSourceIdentity.
    let m = assume_denied(
        &app,
        As::Key(&alice),
        json!({"role_arn": second, "role_session_name": "sess", "source_identity": "alice"}),
    )
    .await;
    assert!(
        m.contains("sts:AssumeRole"),
        "alice is not trusted by the second role: {m}"
    );
    assume_invalid(
        &app,
        As::Key(&alice),
        json!({"role_arn": first, "role_session_name": "sess",
        "source_identity": "aws:alice"}),
    )
    .await;

    let (one, reply) = assume_ok(
        &app,
        As::Key(&alice),
        json!({
        "role_arn": first, "role_session_name": "one", "source_identity": "alice",
        "tags": [{"key": "project", "value": "apollo"}, {"key": "cost", "value": "1"}],
        "transitive_tag_keys": ["project"]}),
    )
    .await;
    assert_eq!(reply["source_identity"], "alice");
    // Changing the source identity or an inherited transitive tag fails.
    assume_invalid(
        &app,
        As::Session(&one),
        json!({"role_arn": second, "role_session_name": "two",
        "source_identity": "mallory"}),
    )
    .await;
    assume_invalid(
        &app,
        As::Session(&one),
        json!({"role_arn": second, "role_session_name": "two",
        "tags": [{"key": "Project", "value": "x"}]}),
    )
    .await;

    let (two, reply) = assume_ok(
        &app,
        As::Session(&one),
        json!({"role_arn": second, "role_session_name": "two"}),
    )
    .await;
    assert_eq!(reply["source_identity"], "alice");
    json_with_status(
        send(request(&app, As::Session(&two), Method::GET, "/v1/users")).await,
        200,
    )
    .await;
    let listed = json_with_status(app.get("/v1/roles/second/sessions").await, 200).await;
    let item = &listed["items"][0];
    assert_eq!(
        item["tags"],
        json!([{"key": "project", "value": "apollo"}]),
        "only transitive tags pass"
    );
    assert_eq!(item["transitive_tag_keys"], json!(["project"]));
    assert_eq!(item["source_identity"], "alice");
}
