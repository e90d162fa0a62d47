//! No secret access key, password or root secret ever reaches a log line or
//! a list reply; the request-size cap; request ids on errors.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    assert_error, captured_logs, json_with_status, spawn_app, spawn_app_with, Credentials,
};

#[tokio::test]
async fn secrets_stay_out_of_logs_and_lists() {
    let app = spawn_app().await;
    let mut secrets = vec![app.root.secret_access_key.clone()];

    let alice = app.user_with_key("alice").await;
    secrets.push(alice.secret_access_key.clone());
    let second = json_with_status(
        app.request(Method::POST, "/v1/users/alice/access-keys")
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    secrets.push(second["secret_access_key"].as_str().unwrap().to_string());

    let password = "Pa55word-that-must-not-leak";
    secrets.push(password.to_string());
    json_with_status(
        app.put(
            "/v1/users/alice/login-profile",
            &json!({"password": password}),
        )
        .await,
        201,
    )
    .await;
    let replaced = "Another-pa55word-never-logged";
    secrets.push(replaced.to_string());
    json_with_status(
        app.put(
            "/v1/users/alice/login-profile",
            &json!({"password": replaced}),
        )
        .await,
        200,
    )
    .await;
    // A refused password is not logged either.
    let refused = "short!";
    assert_error(
        app.put(
            "/v1/users/alice/login-profile",
            &json!({"password": refused}),
        )
        .await,
        400,
        "PasswordPolicyViolation",
    )
    .await;

    let account = json_with_status(
        app.post("/v1/accounts", &json!({"name": "other"})).await,
        201,
    )
    .await;
    let other_root = Credentials {
        access_key_id: account["root_credentials"]["access_key_id"]
            .as_str()
            .unwrap()
            .into(),
        secret_access_key: account["root_credentials"]["secret_access_key"]
            .as_str()
            .unwrap()
            .into(),
    };
    secrets.push(other_root.secret_access_key.clone());

    // Use the keys, right and wrong, so authentication logs what it logs.
    for creds in [&alice, &other_root] {
        app.send_as(creds, Method::GET, "/v1/users", None).await;
    }
    let wrong = Credentials {
        access_key_id: alice.access_key_id.clone(),
        secret_access_key: "wrong-secret-also-private".into(),
    };
    assert_error(
        app.send_as(&wrong, Method::GET, "/v1/users", None).await,
        401,
        "SignatureDoesNotMatch",
    )
    .await;
    secrets.push(wrong.secret_access_key.clone());

    // Temporary credentials: an assumed role, a session token, a login,
    // and a decision asked with session credentials. Their secrets and
    // tokens, and the password, must stay out of the audit trail too.
    app.put_inline("/v1/users/alice/policies/assume", json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["sts:AssumeRole", "latchkey:Authorize"], "Resource": "*"}]}))
        .await;
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "deployer", "trust_policy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{}:root", app.account_id)},
                 "Action": "sts:AssumeRole"}]}}),
        )
        .await,
        201,
    )
    .await;
    let mut session_creds = Vec::new();
    let assumed = json_with_status(
        app.send_as(
            &alice,
            Method::POST,
            "/v1/sts/assume-role",
            Some(
                &json!({"role_arn": format!("arn:aws:iam::{}:role/deployer", app.account_id),
                "role_session_name": "s1", "external_id": "external-id-kept-private"}),
            ),
        )
        .await,
        200,
    )
    .await;
    session_creds.push(assumed["credentials"].clone());
    session_creds.push(
        json_with_status(
            app.send_as(
                &alice,
                Method::POST,
                "/v1/sts/session-token",
                Some(&json!({})),
            )
            .await,
            200,
        )
        .await["credentials"]
            .clone(),
    );
    session_creds.push(
        json_with_status(
            app.client
                .post(app.url("/v1/sts/login"))
                .json(&json!({"account_id": app.account_id, "user_name": "alice", "password": replaced}))
                .send()
                .await
                .unwrap(),
            200,
        )
        .await["credentials"]
            .clone(),
    );
    let wrong_login = "Wrong-pa55word-not-logged";
    secrets.push(wrong_login.to_string());
    assert_error(
        app.client
            .post(app.url("/v1/sts/login"))
            .json(&json!({"account_id": app.account_id, "user_name": "alice", "password": wrong_login}))
            .send()
            .await
            .unwrap(),
        401,
        "AuthFailure",
    )
    .await;
    for c in &session_creds {
        secrets.push(c["secret_access_key"].as_str().unwrap().to_string());
        secrets.push(c["session_token"].as_str().unwrap().to_string());
    }
    secrets.push("external-id-kept-private".into());
    let session = &session_creds[0];
    let decision = json_with_status(
        app.send_as(
            &alice,
            Method::POST,
            "/v1/authorize",
            Some(&json!({"credentials": {
                    "access_key_id": session["access_key_id"],
                    "session_token": session["session_token"]},
                "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(decision["allowed"], false);
    // A wrong session token is refused, and audited without the token.
    let forged = "forged-session-token-never-written-anywhere";
    secrets.push(forged.into());
    assert_error(
        app.request_as(
            &Credentials {
                access_key_id: session["access_key_id"].as_str().unwrap().into(),
                secret_access_key: session["secret_access_key"].as_str().unwrap().into(),
            },
            Method::GET,
            "/v1/sts/caller-identity",
        )
        .header("x-amz-security-token", forged)
        .send()
        .await
        .unwrap(),
        401,
        "InvalidClientTokenId",
    )
    .await;

    // The audit trail, through the API and in the table, carries none of them.
    let (events, _) = app.list_all("/v1/audit/events", 1000).await;
    let api_text = serde_json::to_string(&events).unwrap();
    assert!(api_text.contains("sts:AssumeRole") && api_text.contains("sts:Login"));
    assert!(api_text.contains("latchkey:Authenticate"));
    let db = app.database().await;
    let rows: Vec<Option<String>> = db.texts(
        "SELECT request_id || '|' || COALESCE(account_id, '') || '|' || COALESCE(principal_arn, '')
             || '|' || COALESCE(access_key_id, '') || '|' || action || '|' || COALESCE(resource, '')
             || '|' || decision || '|' || COALESCE(error_code, '') || '|' || COALESCE(source_ip, '')
             || '|' || COALESCE(user_agent, '') || '|' || params
         FROM audit_events",
        )
        .await;
    assert!(rows.len() >= events.len());
    let table_text: String = rows
        .into_iter()
        .map(|r| r.unwrap_or_default() + "\n")
        .collect();
    for secret in &secrets {
        assert!(
            !api_text.contains(secret.as_str()),
            "a secret reached the audit API"
        );
        assert!(
            !table_text.contains(secret.as_str()),
            "a secret reached the audit table"
        );
    }
    assert!(!table_text.contains(refused));

    // List replies never carry a secret.
    for path in [
        "/v1/users",
        "/v1/users/alice",
        "/v1/users/alice/access-keys",
        "/v1/users/alice/login-profile",
        "/v1/accounts",
    ] {
        let text = app.get(path).await.text().await.unwrap();
        assert!(!text.to_lowercase().contains("secret"), "{path}: {text}");
        assert!(!text.contains("argon2"), "{path}: {text}");
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{path} shows a secret");
        }
    }

    // The logs saw this test's requests (so the capture works) ...
    let logs = captured_logs();
    assert!(
        logs.contains(&alice.access_key_id),
        "the key id is logged at creation; capture is not working"
    );
    assert!(logs.contains(&other_root.access_key_id));
    // ... and none of its secrets.
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs");
    }
    assert!(!logs.contains(refused));
    assert!(
        !logs.contains("$argon2"),
        "a password hash reached the logs"
    );
}

#[tokio::test]
async fn bodies_over_the_cap_are_413_with_a_request_id() {
    let app = spawn_app_with(|c| c.max_body_bytes = 4096).await;
    let big = json!({"name": "x", "path": format!("/{}/", "p".repeat(5000))});
    let r = app.post("/v1/users", &big).await;
    let header = r
        .headers()
        .get("x-request-id")
        .expect("x-request-id")
        .to_str()
        .unwrap()
        .to_string();
    let body = assert_error(r, 413, "PayloadTooLarge").await;
    assert_eq!(body["error"]["request_id"], header.as_str());
    // Under the cap, the same kind of request goes through.
    json_with_status(
        app.post("/v1/users", &json!({"name": "x", "path": "/p/"}))
            .await,
        201,
    )
    .await;
    // The cap holds for policy documents as well.
    let stream = format!(
        r#"{{"name":"p","document":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:GetUser","Resource":"*","Sid":"{}"}}]}}}}"#,
        "a".repeat(8000)
    );
    let r = app
        .request(Method::POST, "/v1/policies")
        .header("content-type", "application/json")
        .body(stream)
        .send()
        .await
        .unwrap();
    assert_error(r, 413, "PayloadTooLarge").await;
}

#[tokio::test]
async fn every_error_carries_the_request_id_of_its_header() {
    let app = spawn_app().await;
    let responses = [
        app.get("/v1/users/ghost").await,
        app.get("/v1/nowhere").await,
        app.post("/v1/users", &json!({"name": "bad name"})).await,
    ];
    let mut ids = Vec::new();
    for r in responses {
        let header = r
            .headers()
            .get("x-request-id")
            .expect("x-request-id")
            .to_str()
            .unwrap()
            .to_string();
        let status = r.status().as_u16();
        let body = json_with_status(r, status).await;
        assert_eq!(body["error"]["request_id"], header.as_str(), "{body}");
        ids.push(header);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "each request has its own id");
    // Successes carry one too.
    let r = app.get("/v1/users").await;
    assert!(r.headers().contains_key("x-request-id"));
}
