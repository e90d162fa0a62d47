//! STS: assume-role per AWS-IAM-NOTES §6.5, durations, session policies,
//! tags, source identity, expiry, revocation, session tokens, login and
//! caller identity, over HTTP with Basic plus X-Amz-Security-Token.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

use crate::helpers::{assert_error, json_with_status, spawn_app, Credentials, TestApp};

/// Session credentials: a key, a secret and the token that must go with them.
#[derive(Clone, Debug)]
struct Session {
    creds: Credentials,
    token: String,
}

impl Session {
    fn from_reply(reply: &Value) -> Session {
        let c = &reply["credentials"];
        Session {
            creds: Credentials {
                access_key_id: c["access_key_id"].as_str().unwrap().to_string(),
                secret_access_key: c["secret_access_key"].as_str().unwrap().to_string(),
            },
            token: c["session_token"].as_str().unwrap().to_string(),
        }
    }

    fn key(&self) -> &str {
        &self.creds.access_key_id
    }
}

/// Who makes a request: long-term credentials or a session.
enum As<'a> {
    Key(&'a Credentials),
    Session(&'a Session),
}

fn request(app: &TestApp, who: As<'_>, method: Method, path: &str) -> RequestBuilder {
    match who {
        As::Key(c) => app.request_as(c, method, path),
        As::Session(s) => app
            .request_as(&s.creds, method, path)
            .header("X-Amz-Security-Token", &s.token),
    }
}

async fn send(builder: RequestBuilder) -> Response {
    builder.send().await.expect("request")
}

async fn assume(app: &TestApp, who: As<'_>, body: Value) -> Response {
    send(request(app, who, Method::POST, "/v1/sts/assume-role").json(&body)).await
}

async fn assume_ok(app: &TestApp, who: As<'_>, body: Value) -> (Session, Value) {
    let reply = json_with_status(assume(app, who, body).await, 200).await;
    (Session::from_reply(&reply), reply)
}

async fn caller_identity(app: &TestApp, who: As<'_>) -> Response {
    send(request(app, who, Method::GET, "/v1/sts/caller-identity")).await
}

fn trust(principal: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})
}

fn allow(actions: Value, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resource}]})
}

/// Creates a role as `owner` (root of some account) and returns its ARN.
async fn create_role(app: &TestApp, owner: &Credentials, name: &str, extra: Value) -> String {
    let mut body = json!({"name": name});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = send(app.request_as(owner, Method::POST, "/v1/roles").json(&body)).await;
    json_with_status(r, 201).await["arn"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn put_inline(app: &TestApp, owner: &Credentials, kind: &str, name: &str, doc: Value) {
    let r = send(
        app.request_as(owner, Method::PUT, &format!("/v1/{kind}/{name}/policies/p"))
            .json(&json!({"document": doc})),
    )
    .await;
    assert!(
        r.status().is_success(),
        "put policy: {}",
        r.text().await.unwrap()
    );
}

/// A second account: (account id, its root credentials).
async fn second_account(app: &TestApp) -> (String, Credentials) {
    let reply = json_with_status(app.post("/v1/accounts", &json!({"name": "b"})).await, 201).await;
    let c = &reply["root_credentials"];
    (
        reply["account_id"].as_str().unwrap().to_string(),
        Credentials {
            access_key_id: c["access_key_id"].as_str().unwrap().to_string(),
            secret_access_key: c["secret_access_key"].as_str().unwrap().to_string(),
        },
    )
}

/// A user with a key, created by `owner`.
async fn user_in(app: &TestApp, owner: &Credentials, name: &str) -> Credentials {
    let r = send(
        app.request_as(owner, Method::POST, "/v1/users")
            .json(&json!({"name": name})),
    )
    .await;
    json_with_status(r, 201).await;
    let r = send(app.request_as(
        owner,
        Method::POST,
        &format!("/v1/users/{name}/access-keys"),
    ))
    .await;
    let key = json_with_status(r, 201).await;
    Credentials {
        access_key_id: key["access_key_id"].as_str().unwrap().to_string(),
        secret_access_key: key["secret_access_key"].as_str().unwrap().to_string(),
    }
}

fn user_arn(app: &TestApp, name: &str) -> String {
    format!("arn:aws:iam::{}:user/{name}", app.account_id)
}

async fn message(r: Response, status: u16, code: &str) -> String {
    assert_error(r, status, code).await["error"]["message"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Opens the app's database beside it, to move a session's expiry.
async fn store(app: &TestApp) -> latchkey::store::Store {
    latchkey::store::Store::open(&app.data_dir.path().join("latchkey.db"))
        .await
        .expect("store opens")
}

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
    let m = message(
        assume(
            &app,
            As::Key(&app.root),
            json!({"role_arn": role_arn, "role_session_name": "sess"}),
        )
        .await,
        403,
        "AccessDenied",
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
    let m = message(
        assume(
            &app,
            As::Key(&alice),
            json!({"role_arn": role_arn, "role_session_name": "blocked-1"}),
        )
        .await,
        403,
        "AccessDenied",
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
    let m = message(
        assume(
            &app,
            As::Key(&alice),
            json!({"role_arn": role_arn, "role_session_name": "ok"}),
        )
        .await,
        403,
        "AccessDenied",
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
    let m = message(
        assume(
            &app,
            As::Key(&alice),
            json!({"role_arn": role_arn, "role_session_name": "sess"}),
        )
        .await,
        403,
        "AccessDenied",
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
    let m = message(
        assume(
            &app,
            As::Key(&carol),
            json!({"role_arn": private, "role_session_name": "xx"}),
        )
        .await,
        403,
        "AccessDenied",
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
    let role_arn = create_role(
        &app,
        &app.root,
        "admin",
        json!({
        "trust_policy": trust(json!({"AWS": user_arn(&app, "alice")}))}),
    )
    .await;
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
    let plain = create_role(
        &app,
        &app.root,
        "plain",
        json!({
        "trust_policy": trust(json!({"AWS": user_arn(&app, "alice")}))}),
    )
    .await;
    let tags = json!([{"key": "team", "value": "blue"}]);
    let m = message(
        assume(
            &app,
            As::Key(&alice),
            json!({"role_arn": plain, "role_session_name": "sess", "tags": tags}),
        )
        .await,
        403,
        "AccessDenied",
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
    assert_error(
        assume(
            &app,
            As::Key(&alice),
            json!({"role_arn": tagged, "role_session_name": "sess",
        "tags": tags, "transitive_tag_keys": ["other"]}),
        )
        .await,
        400,
        "ValidationError",
    )
    .await;
    assert_error(
        assume(
            &app,
            As::Key(&alice),
            json!({"role_arn": tagged, "role_session_name": "sess",
        "tags": [{"key": "aws:x", "value": "y"}]}),
        )
        .await,
        400,
        "ValidationError",
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
    let m = message(
        assume(
            &app,
            As::Key(&alice),
            json!({"role_arn": second, "role_session_name": "sess", "source_identity": "alice"}),
        )
        .await,
        403,
        "AccessDenied",
    )
    .await;
    assert!(
        m.contains("sts:AssumeRole"),
        "alice is not trusted by the second role: {m}"
    );
    assert_error(
        assume(
            &app,
            As::Key(&alice),
            json!({"role_arn": first, "role_session_name": "sess",
        "source_identity": "aws:alice"}),
        )
        .await,
        400,
        "ValidationError",
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
    assert_error(
        assume(
            &app,
            As::Session(&one),
            json!({"role_arn": second, "role_session_name": "two",
        "source_identity": "mallory"}),
        )
        .await,
        400,
        "ValidationError",
    )
    .await;
    assert_error(
        assume(
            &app,
            As::Session(&one),
            json!({"role_arn": second, "role_session_name": "two",
        "tags": [{"key": "Project", "value": "x"}]}),
        )
        .await,
        400,
        "ValidationError",
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

#[tokio::test]
async fn session_credentials_need_their_own_token_and_expire() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = create_role(
        &app,
        &app.root,
        "r",
        json!({
        "trust_policy": trust(json!({"AWS": user_arn(&app, "alice")}))}),
    )
    .await;
    let body = json!({"role_arn": role_arn, "role_session_name": "sess"});
    let (a, _) = assume_ok(&app, As::Key(&alice), body.clone()).await;
    let (b, _) = assume_ok(&app, As::Key(&alice), body).await;

    let without = send(app.request_as(&a.creds, Method::GET, "/v1/sts/caller-identity")).await;
    assert_error(without, 401, "InvalidClientTokenId").await;
    let crossed = Session {
        creds: a.creds.clone(),
        token: b.token.clone(),
    };
    assert_error(
        caller_identity(&app, As::Session(&crossed)).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    let wrong_secret = Session {
        creds: Credentials {
            access_key_id: a.key().into(),
            secret_access_key: b.creds.secret_access_key.clone(),
        },
        token: a.token.clone(),
    };
    assert_error(
        caller_identity(&app, As::Session(&wrong_secret)).await,
        401,
        "SignatureDoesNotMatch",
    )
    .await;
    let key_with_token = send(
        app.request_as(&alice, Method::GET, "/v1/sts/caller-identity")
            .header("X-Amz-Security-Token", &a.token),
    )
    .await;
    assert_error(key_with_token, 401, "InvalidClientTokenId").await;
    json_with_status(caller_identity(&app, As::Session(&a)).await, 200).await;

    // Expire it through the store (never by waiting).
    let store = store(&app).await;
    assert!(store
        .set_session_expires_at(a.key(), "2000-01-01T00:00:00.000Z")
        .await
        .unwrap());
    let m = message(
        caller_identity(&app, As::Session(&a)).await,
        401,
        "ExpiredToken",
    )
    .await;
    assert_eq!(m, "The security token included in the request is expired");
    json_with_status(caller_identity(&app, As::Session(&b)).await, 200).await;
    // Expired sessions are not listed, and the purge deletes them.
    let listed = json_with_status(app.get("/v1/roles/r/sessions").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        store
            .purge_expired_sessions("2001-01-01T00:00:00.000Z")
            .await
            .unwrap(),
        1
    );
    assert!(store.get_session(a.key()).await.unwrap().is_none());
    assert!(store.get_session(b.key()).await.unwrap().is_some());
    // The token is stored only as a digest.
    let row = store.get_session(b.key()).await.unwrap().unwrap();
    assert_ne!(row.token_sha256, b.token);
    assert_eq!(
        row.token_sha256,
        latchkey::auth::crypto::token_digest(&b.token)
    );
}

#[tokio::test]
async fn revoking_one_session_and_all_sessions() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = create_role(
        &app,
        &app.root,
        "r",
        json!({
        "trust_policy": trust(json!({"AWS": user_arn(&app, "alice")}))}),
    )
    .await;
    let body = json!({"role_arn": role_arn, "role_session_name": "sess"});
    let (one, _) = assume_ok(&app, As::Key(&alice), body.clone()).await;
    let (two, _) = assume_ok(&app, As::Key(&alice), body.clone()).await;
    let (three, _) = assume_ok(&app, As::Key(&alice), body.clone()).await;

    let listed = json_with_status(app.get("/v1/roles/r/sessions").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 3);
    let text = listed.to_string();
    assert!(!text.contains(&one.token) && !text.contains(&one.creds.secret_access_key));
    let page = json_with_status(app.get("/v1/roles/r/sessions?max_items=2").await, 200).await;
    assert_eq!(page["is_truncated"], true);
    let rest = json_with_status(
        app.get(&format!(
            "/v1/roles/r/sessions?marker={}",
            page["marker"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);

    // Alice may not revoke; root may.
    let r = send(app.request_as(
        &alice,
        Method::DELETE,
        &format!("/v1/roles/r/sessions/{}", one.key()),
    ))
    .await;
    assert!(message(r, 403, "AccessDenied")
        .await
        .contains("iam:RevokeRoleSession"));
    assert_eq!(
        app.delete(&format!("/v1/roles/r/sessions/{}", one.key()))
            .await
            .status(),
        204
    );
    assert_error(
        app.delete(&format!("/v1/roles/r/sessions/{}", one.key()))
            .await,
        404,
        "NoSuchEntity",
    )
    .await;
    let m = message(
        caller_identity(&app, As::Session(&one)).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    assert!(m.contains("revoked"), "{m}");
    json_with_status(caller_identity(&app, As::Session(&two)).await, 200).await;

    let revoked = json_with_status(
        app.post("/v1/roles/r/revoke-sessions", &json!({})).await,
        200,
    )
    .await;
    assert_eq!(revoked["revoked"], 2);
    for s in [&two, &three] {
        assert_error(
            caller_identity(&app, As::Session(s)).await,
            401,
            "InvalidClientTokenId",
        )
        .await;
    }
    // Sessions issued afterwards are unaffected.
    let (four, _) = assume_ok(&app, As::Key(&alice), body).await;
    json_with_status(caller_identity(&app, As::Session(&four)).await, 200).await;
    let listed = json_with_status(app.get("/v1/roles/r/sessions").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["access_key_id"], four.key());
}

#[tokio::test]
async fn a_session_of_a_deleted_role_is_refused() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = create_role(
        &app,
        &app.root,
        "r",
        json!({
        "trust_policy": trust(json!({"AWS": user_arn(&app, "alice")}))}),
    )
    .await;
    let (s, _) = assume_ok(
        &app,
        As::Key(&alice),
        json!({"role_arn": role_arn, "role_session_name": "sess"}),
    )
    .await;
    assert_eq!(app.delete("/v1/roles/r").await.status(), 204);
    assert_error(
        caller_identity(&app, As::Session(&s)).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    // Re-created under the same name, it is another role.
    create_role(
        &app,
        &app.root,
        "r",
        json!({"trust_policy": trust(json!({"AWS": user_arn(&app, "alice")}))}),
    )
    .await;
    assert_error(
        caller_identity(&app, As::Session(&s)).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
}

#[tokio::test]
async fn caller_identity_of_every_principal_kind() {
    let app = spawn_app().await;
    let acct = app.account_id.clone();
    let root = json_with_status(caller_identity(&app, As::Key(&app.root)).await, 200).await;
    assert_eq!(
        root,
        json!({"account": acct, "arn": format!("arn:aws:iam::{acct}:root"), "user_id": acct})
    );

    let alice = app.user_with_key("alice").await;
    // Always allowed, even when denied outright.
    put_inline(
        &app,
        &app.root,
        "users",
        "alice",
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "*"}]}),
    )
    .await;
    let user = json_with_status(caller_identity(&app, As::Key(&alice)).await, 200).await;
    let alice_id = json_with_status(app.get("/v1/users/alice").await, 200).await["id"].clone();
    assert_eq!(
        user,
        json!({"account": acct, "arn": user_arn(&app, "alice"), "user_id": alice_id})
    );

    // The user's own session: the user's identity.
    let r = send(app.request_as(&alice, Method::POST, "/v1/sts/session-token")).await;
    let own = Session::from_reply(&json_with_status(r, 200).await);
    assert!(own.key().starts_with("ASIA"));
    let me = json_with_status(caller_identity(&app, As::Session(&own)).await, 200).await;
    assert_eq!(me, user);

    // Root's session: root's identity.
    let r = send(app.request(Method::POST, "/v1/sts/session-token")).await;
    let root_session = Session::from_reply(&json_with_status(r, 200).await);
    assert_eq!(
        json_with_status(caller_identity(&app, As::Session(&root_session)).await, 200).await,
        root
    );

    // A role session (tested in detail above).
    let bob = app.user_with_key("bob").await;
    let role_arn = create_role(
        &app,
        &app.root,
        "r",
        json!({"trust_policy": trust(json!({"AWS": user_arn(&app, "bob")}))}),
    )
    .await;
    let (s, reply) = assume_ok(
        &app,
        As::Key(&bob),
        json!({"role_arn": role_arn, "role_session_name": "xx"}),
    )
    .await;
    let me = json_with_status(caller_identity(&app, As::Session(&s)).await, 200).await;
    assert_eq!(me["arn"], reply["assumed_role_user"]["arn"]);
    assert_eq!(me["user_id"], reply["assumed_role_user"]["assumed_role_id"]);
}

#[tokio::test]
async fn session_token_durations_permissions_and_who_may_ask() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    put_inline(
        &app,
        &app.root,
        "users",
        "alice",
        allow(json!("iam:ListUsers"), "*"),
    )
    .await;
    let token = |who: As<'_>, body: Option<Value>| {
        let b = request(&app, who, Method::POST, "/v1/sts/session-token");
        send(match body {
            Some(v) => b.json(&v),
            None => b,
        })
    };
    for bad in [899, 129_601] {
        assert_error(
            token(As::Key(&alice), Some(json!({"duration_seconds": bad}))).await,
            400,
            "ValidationError",
        )
        .await;
    }
    let reply = json_with_status(
        token(As::Key(&alice), Some(json!({"duration_seconds": 129_600}))).await,
        200,
    )
    .await;
    let own = Session::from_reply(&reply);
    // The user's permissions, no more.
    json_with_status(
        send(request(&app, As::Session(&own), Method::GET, "/v1/users")).await,
        200,
    )
    .await;
    assert_error(
        send(request(&app, As::Session(&own), Method::GET, "/v1/roles")).await,
        403,
        "AccessDenied",
    )
    .await;
    // Session credentials cannot ask for another session token.
    assert_error(token(As::Session(&own), None).await, 403, "AccessDenied").await;
    // Root is cut to one hour.
    let reply = json_with_status(
        token(As::Key(&app.root), Some(json!({"duration_seconds": 7200}))).await,
        200,
    )
    .await;
    let expiration = time::OffsetDateTime::parse(
        reply["credentials"]["expiration"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = (expiration - time::OffsetDateTime::now_utc()).whole_seconds();
    assert!((3500..=3600).contains(&left), "{left}");
    // A user's session may assume a role; that is not chaining.
    let role_arn = create_role(
        &app,
        &app.root,
        "r",
        json!({"max_session_duration": 7200,
        "trust_policy": trust(json!({"AWS": user_arn(&app, "alice")}))}),
    )
    .await;
    assume_ok(
        &app,
        As::Session(&own),
        json!({"role_arn": role_arn, "role_session_name": "sess", "duration_seconds": 7200}),
    )
    .await;
}

#[tokio::test]
async fn login_with_a_password_is_constant_shape_and_throttled() {
    let app = spawn_app().await;
    app.user_with_key("alice").await;
    let r = app
        .put(
            "/v1/users/alice/login-profile",
            &json!({"password": "correct horse battery"}),
        )
        .await;
    assert!(r.status().is_success());
    let login = |user: &str, password: &str| {
        send(app.client.post(app.url("/v1/sts/login")).json(&json!({
            "account_id": app.account_id, "user_name": user, "password": password})))
    };
    let wrong = message(login("alice", "wrong password").await, 401, "AuthFailure").await;
    let unknown = message(login("nobody", "wrong password").await, 401, "AuthFailure").await;
    assert_eq!(
        wrong, unknown,
        "the reply does not tell which part was wrong"
    );
    let reply = json_with_status(login("ALICE", "correct horse battery").await, 200).await;
    assert_eq!(reply["user"]["arn"], user_arn(&app, "alice"));
    assert_eq!(reply["password_reset_required"], false);
    let s = Session::from_reply(&reply);
    let me = json_with_status(caller_identity(&app, As::Session(&s)).await, 200).await;
    assert_eq!(me["arn"], user_arn(&app, "alice"));

    // Five failures lock the name, even for the right password.
    for _ in 0..5 {
        assert_error(login("alice", "guess").await, 401, "AuthFailure").await;
    }
    let m = message(
        login("alice", "correct horse battery").await,
        429,
        "Throttling",
    )
    .await;
    assert!(m.contains("Too many failed sign-in attempts"), "{m}");
}

#[tokio::test]
async fn two_hundred_concurrent_assume_role_calls_all_succeed() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let role_arn = create_role(
        &app,
        &app.root,
        "busy",
        json!({
        "trust_policy": trust(json!({"AWS": user_arn(&app, "alice")}))}),
    )
    .await;
    let calls = (0..200).map(|i| {
        let body = json!({"role_arn": role_arn, "role_session_name": format!("s{i}")});
        let builder =
            request(&app, As::Key(&alice), Method::POST, "/v1/sts/assume-role").json(&body);
        async move {
            let r = builder.send().await.expect("request");
            let status = r.status().as_u16();
            let reply: Value = r.json().await.expect("json");
            (status, reply)
        }
    });
    let results = futures_util::future::join_all(calls).await;
    let mut ids = std::collections::HashSet::new();
    for (status, reply) in &results {
        assert_eq!(*status, 200, "{reply}");
        ids.insert(
            reply["credentials"]["access_key_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(ids.len(), 200);
    let listed =
        json_with_status(app.get("/v1/roles/busy/sessions?max_items=1000").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 200);
}
