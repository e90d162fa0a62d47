//! Registration (PassRole, the trust in the service), the token's scope,
//! CIDR binding, expiry and rotation, and the credentials themselves.

use reqwest::Method;
use serde_json::{json, Value};

use super::{
    fetch, fetch_ok, register_service, role_in_profile, service_trust, setup, setup_with, store,
    whoami, SERVICE,
};
use crate::helpers::{
    assert_error, captured_logs, json_with_status, policy, spawn_app, spawn_app_with,
};

fn register_body() -> Value {
    json!({"name": "build-7", "instance_profile": "runner-profile", "service": SERVICE})
}

#[tokio::test]
async fn registering_a_workload_needs_pass_role_on_the_profiles_role() {
    let app = spawn_app().await;
    register_service(&app, SERVICE).await;
    role_in_profile(&app, "runner", service_trust(SERVICE)).await;
    let alice = app.user_with_key("alice").await;
    app.put(
        "/v1/users/alice/policies/workloads",
        &json!({"document": policy("Allow", json!(["latchkey:CreateWorkload", "iam:GetInstanceProfile"]), "*")}),
    )
    .await;
    let register = || async {
        app.request_as(&alice, Method::POST, "/v1/workloads")
            .json(&register_body())
            .send()
            .await
            .unwrap()
    };
    let role_arn = format!("arn:aws:iam::{}:role/runner", app.account_id);
    let denied = assert_error(register().await, 403, "AccessDenied").await;
    assert_eq!(
        denied["error"]["message"],
        format!("User: arn:aws:iam::{}:user/alice is not authorized to perform: iam:PassRole on resource: {role_arn} because no identity-based policy allows the iam:PassRole action", app.account_id)
    );

    // PassRole only towards another service does not do.
    let pass_to = |service: &str| {
        json!({"document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "iam:PassRole", "Resource": role_arn,
            "Condition": {"StringEquals": {"iam:PassedToService": service}}}]}})
    };
    app.put(
        "/v1/users/alice/policies/pass",
        &pass_to("other.platform.internal"),
    )
    .await;
    assert_error(register().await, 403, "AccessDenied").await;
    app.put("/v1/users/alice/policies/pass", &pass_to(SERVICE))
        .await;
    let workload = json_with_status(register().await, 201).await;
    let id = workload["id"].as_str().unwrap();
    assert!(id.starts_with("wl-"), "{workload}");
    assert_eq!(workload["role_arn"], role_arn);
    assert_eq!(
        workload["assumed_role_arn"],
        format!("arn:aws:sts::{}:assumed-role/runner/{id}", app.account_id)
    );
    assert_eq!(
        workload["created_by"],
        format!("arn:aws:iam::{}:user/alice", app.account_id)
    );
    let token = workload["token"].as_str().unwrap();
    assert!(token.starts_with("lkwt_") && token.len() > 64, "{token}");

    // The token is shown once: never in a read, a list or a log line.
    let got = json_with_status(app.get(&format!("/v1/workloads/{id}")).await, 200).await;
    assert!(got.get("token").is_none(), "{got}");
    let listed = json_with_status(app.get("/v1/workloads").await, 200).await;
    assert_eq!(listed["items"][0]["id"], id);
    assert!(!listed.to_string().contains(token));
    fetch_ok(&app, token).await;
    assert!(!captured_logs().contains(token));
}

#[tokio::test]
async fn the_role_must_trust_the_service_the_service_must_exist_and_the_profile_needs_a_role() {
    let app = spawn_app().await;
    register_service(&app, SERVICE).await;
    let account_trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", app.account_id)}, "Action": "sts:AssumeRole"}]});
    role_in_profile(&app, "runner", account_trust).await;
    let body = assert_error(
        app.post("/v1/workloads", &register_body()).await,
        400,
        "InvalidInput",
    )
    .await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "The role arn:aws:iam::{}:role/runner does not trust the service principal {SERVICE}: its trust policy must allow {{\"Service\": \"{SERVICE}\"}} to perform sts:AssumeRole.",
            app.account_id
        )),
        "{message}"
    );

    let mut unknown = register_body();
    unknown["service"] = json!("storage.platform.internal");
    assert_error(
        app.post("/v1/workloads", &unknown).await,
        404,
        "NoSuchEntity",
    )
    .await;

    app.post("/v1/instance-profiles", &json!({"name": "empty"}))
        .await;
    let mut empty = register_body();
    empty["instance_profile"] = json!("empty");
    assert_error(app.post("/v1/workloads", &empty).await, 400, "InvalidInput").await;

    // Fixing the trust makes it work; the profile may be given by ARN.
    app.put(
        "/v1/roles/runner/trust-policy",
        &json!({"trust_policy": service_trust(SERVICE)}),
    )
    .await;
    let mut by_arn = register_body();
    by_arn["instance_profile"] = json!(format!(
        "arn:aws:iam::{}:instance-profile/runner-profile",
        app.account_id
    ));
    json_with_status(app.post("/v1/workloads", &by_arn).await, 201).await;
}

#[tokio::test]
async fn service_principals_are_global_and_managed_by_the_management_account() {
    let app = spawn_app().await;
    let shown = register_service(&app, "Compute.Platform.Internal").await;
    assert_eq!(shown["name"], SERVICE);
    assert_eq!(shown["principal"], json!({"Service": SERVICE}));
    assert_error(
        app.post("/v1/service-principals", &json!({"name": SERVICE}))
            .await,
        409,
        "EntityAlreadyExists",
    )
    .await;
    assert_error(
        app.post("/v1/service-principals", &json!({"name": "nodots"}))
            .await,
        400,
        "ValidationError",
    )
    .await;
    // Another account reads the registry but cannot change it.
    let other = json_with_status(
        app.post("/v1/accounts", &json!({"name": "team"})).await,
        201,
    )
    .await;
    let team = crate::helpers::Credentials {
        access_key_id: other["root_credentials"]["access_key_id"]
            .as_str()
            .unwrap()
            .into(),
        secret_access_key: other["root_credentials"]["secret_access_key"]
            .as_str()
            .unwrap()
            .into(),
    };
    let listed = json_with_status(
        app.send_as(&team, Method::GET, "/v1/service-principals", None)
            .await,
        200,
    )
    .await;
    assert_eq!(listed["items"][0]["name"], SERVICE);
    assert_error(
        app.send_as(
            &team,
            Method::POST,
            "/v1/service-principals",
            Some(&json!({"name": "evil.platform.internal"})),
        )
        .await,
        403,
        "AccessDenied",
    )
    .await;
    assert_error(
        app.send_as(
            &team,
            Method::DELETE,
            &format!("/v1/service-principals/{SERVICE}"),
            None,
        )
        .await,
        403,
        "AccessDenied",
    )
    .await;
    // In use: cannot be removed.
    role_in_profile(&app, "runner", service_trust(SERVICE)).await;
    json_with_status(app.post("/v1/workloads", &register_body()).await, 201).await;
    assert_error(
        app.delete(&format!("/v1/service-principals/{SERVICE}"))
            .await,
        409,
        "DeleteConflict",
    )
    .await;
}

#[tokio::test]
async fn the_token_fetches_role_credentials_and_nothing_else() {
    let app = spawn_app().await;
    let fixture = setup(&app).await;
    let token = &fixture.token;
    let id = fixture.id();
    let issued = fetch_ok(&app, token).await;
    let body = &issued.body;
    assert!(issued.key().starts_with("ASIA"), "{body}");
    assert_eq!(issued.creds.secret_access_key.len(), 40);
    let expiration = body["Expiration"].as_str().unwrap();
    assert!(
        time::PrimitiveDateTime::parse(
            expiration,
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")
        )
        .is_ok(),
        "{expiration}"
    );
    let role_arn = format!("arn:aws:iam::{}:role/runner", app.account_id);
    assert_eq!(body["RoleArn"], role_arn);
    assert_eq!(body["AccountId"], app.account_id);

    // A role session named after the workload, issued by the service.
    let me = json_with_status(whoami(&app, &issued).await, 200).await;
    assert_eq!(
        me["arn"],
        format!("arn:aws:sts::{}:assumed-role/runner/{id}", app.account_id)
    );
    let sessions = json_with_status(app.get("/v1/roles/runner/sessions").await, 200).await;
    let session = &sessions["items"][0];
    assert_eq!(session["session_name"], id);
    assert_eq!(session["issuer_arn"], SERVICE);
    assert_eq!(session["chained"], false);

    // A still-fresh session is handed out again rather than a new one.
    let again = fetch_ok(&app, token).await;
    assert_eq!(again.key(), issued.key());
    assert_eq!(again.token, issued.token);

    // The token authenticates nothing else, and is never echoed back.
    for path in [
        "/v1/users",
        "/v1/sts/caller-identity",
        "/v1/roles/runner",
        "/v1/workloads",
    ] {
        let r = app
            .client
            .get(app.url(path))
            .header("Authorization", token)
            .send()
            .await
            .unwrap();
        let body = assert_error(r, 401, "InvalidClientTokenId").await;
        assert!(!body.to_string().contains(token), "{path}: {body}");
    }
    let r = app
        .client
        .post(app.url("/v1/sts/assume-role"))
        .header("Authorization", token)
        .json(&json!({"role_arn": role_arn, "role_session_name": "x1"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "InvalidClientTokenId").await;
    let r = app
        .client
        .get(app.url("/?Action=GetCallerIdentity&Version=2011-06-15"))
        .header("Authorization", token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the query protocol answers AWS's 403");
    let xml = r.text().await.unwrap();
    assert!(xml.contains("<Code>InvalidClientTokenId</Code>"), "{xml}");
    assert!(!xml.contains(token));

    // The endpoint takes a workload token and nothing else.
    let basic = app
        .request(Method::GET, "/v1/workload-credentials")
        .send()
        .await
        .unwrap();
    assert_error(basic, 401, "InvalidClientTokenId").await;
    let none = app
        .client
        .get(app.url("/v1/workload-credentials"))
        .send()
        .await
        .unwrap();
    assert_error(none, 401, "MissingAuthenticationToken").await;
    assert_error(
        fetch(&app, &issued.creds.access_key_id).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    assert_error(fetch(&app, &tampered).await, 401, "InvalidClientTokenId").await;
    assert_error(
        fetch(&app, &format!("Bearer {token}")).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
}

#[tokio::test]
async fn ordinary_callers_cannot_pass_as_the_service() {
    let app = spawn_app().await;
    setup(&app).await;
    let alice = app.user_with_key("alice").await;
    app.put(
        "/v1/users/alice/policies/all",
        &json!({"document": policy("Allow", "*", "*")}),
    )
    .await;
    // Whatever she names herself, her principal is a user: a trust policy
    // that names only the service does not admit her.
    let r = app
        .request_as(&alice, Method::POST, "/v1/sts/assume-role")
        .json(
            &json!({"role_arn": format!("arn:aws:iam::{}:role/runner", app.account_id),
            "role_session_name": SERVICE}),
        )
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "AccessDenied").await;
}

#[tokio::test]
async fn a_cidr_bound_token_works_only_from_its_networks() {
    // Two trusted proxies: 127.0.0.1 (the peer) and 10.0.0.1 before it.
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap(), "10.0.0.1".parse().unwrap()]
    })
    .await;
    let fixture = setup_with(
        &app,
        json!({"source_cidrs": ["198.51.100.0/24", "2001:db8::1"]}),
    )
    .await;
    assert_eq!(
        fixture.workload["source_cidrs"],
        json!(["198.51.100.0/24", "2001:db8::1/128"])
    );
    let from = |ip: Option<&'static str>| {
        let mut r = app
            .client
            .get(app.url("/v1/workload-credentials"))
            .header("Authorization", &fixture.token);
        if let Some(ip) = ip {
            r = r.header("X-Forwarded-For", ip);
        }
        r.send()
    };
    let wrong = assert_error(
        from(Some("203.0.113.9")).await.unwrap(),
        403,
        "AccessDenied",
    )
    .await;
    assert_eq!(
        wrong["error"]["message"],
        format!(
            "The workload token of {} cannot be used from 203.0.113.9.",
            fixture.id()
        )
    );
    // The proxy itself (127.0.0.1) is not in the networks either.
    assert_error(from(None).await.unwrap(), 403, "AccessDenied").await;
    json_with_status(from(Some("198.51.100.7, 10.0.0.1")).await.unwrap(), 200).await;
    // A first hop the client wrote itself is not its address: the proxies
    // appended the real one after it (issue 15 §4).
    assert_error(
        from(Some("198.51.100.7, 203.0.113.9, 10.0.0.1"))
            .await
            .unwrap(),
        403,
        "AccessDenied",
    )
    .await;
    json_with_status(from(Some("2001:db8::1")).await.unwrap(), 200).await;

    // Without a trusted proxy, X-Forwarded-For is not believed.
    let direct = spawn_app().await;
    let fixture = setup_with(&direct, json!({"source_cidrs": ["198.51.100.0/24"]})).await;
    let r = direct
        .client
        .get(direct.url("/v1/workload-credentials"))
        .header("Authorization", &fixture.token)
        .header("X-Forwarded-For", "198.51.100.7")
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "AccessDenied").await;

    assert_error(
        direct
            .post(
                "/v1/workloads",
                &json!({"name": "x", "instance_profile": "runner-profile", "service": SERVICE,
                    "source_cidrs": ["not-a-network"]}),
            )
            .await,
        400,
        "ValidationError",
    )
    .await;
}

#[tokio::test]
async fn rotation_retires_the_old_token_and_its_sessions_and_tokens_expire() {
    let app = spawn_app().await;
    let fixture = setup_with(&app, json!({"token_ttl_seconds": 3600})).await;
    assert!(fixture.workload["token_expires_at"].is_string());
    let old = fetch_ok(&app, &fixture.token).await;
    json_with_status(whoami(&app, &old).await, 200).await;

    let rotated = json_with_status(
        app.request(
            Method::POST,
            &format!("/v1/workloads/{}/rotate-token", fixture.id()),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    let new_token = rotated["token"].as_str().unwrap();
    assert_ne!(new_token, fixture.token);
    assert_eq!(rotated["token_ttl_seconds"], 3600);
    assert_error(
        fetch(&app, &fixture.token).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    assert_error(whoami(&app, &old).await, 401, "InvalidClientTokenId").await;
    let new = fetch_ok(&app, new_token).await;
    assert_ne!(new.key(), old.key());
    json_with_status(whoami(&app, &new).await, 200).await;

    // Expire the token through the store (never by waiting).
    assert!(store(&app)
        .await
        .set_workload_token_expires_at(fixture.id(), "2000-01-01T00:00:00.000Z")
        .await
        .unwrap());
    assert_error(fetch(&app, new_token).await, 401, "ExpiredToken").await;

    assert_error(
        app.post(
            &format!("/v1/workloads/{}/rotate-token", fixture.id()),
            &json!({"token_ttl_seconds": 10}),
        )
        .await,
        400,
        "ValidationError",
    )
    .await;
    let renewed = json_with_status(
        app.post(
            &format!("/v1/workloads/{}/rotate-token", fixture.id()),
            &json!({"token_ttl_seconds": 600}),
        )
        .await,
        200,
    )
    .await;
    fetch_ok(&app, renewed["token"].as_str().unwrap()).await;
}

#[tokio::test]
async fn reading_a_workload_needs_permission_and_unknown_ids_are_404() {
    let app = spawn_app().await;
    let fixture = setup(&app).await;
    let bob = app.user_with_key("bob").await;
    let r = app
        .send_as(
            &bob,
            Method::GET,
            &format!("/v1/workloads/{}", fixture.id()),
            None,
        )
        .await;
    assert_error(r, 403, "AccessDenied").await;
    assert_error(
        app.get("/v1/workloads/wl-aaaaaaaaaaaaaaaaa").await,
        404,
        "NoSuchEntity",
    )
    .await;
}
