//! AssumeRoleWithWebIdentity that succeeds: with the AWS SDK (unsigned)
//! then GetCallerIdentity with the credentials, on /v1, with an EC key,
//! session tags, extra claims, trailing-slash issuers both ways, and the
//! trust test.

use serde_json::{json, Value};

use super::{
    assume, create_provider, federated_role, github_claims, params, provider_for,
    web_identity_events, Issuer, Signer, AUDIENCE, GITHUB_SUB,
};
use crate::awsquery::sts_client;
use crate::helpers::{json_with_status, spawn_app, Credentials, TestApp};

/// An STS client with no credentials at all: AssumeRoleWithWebIdentity is
/// sent unsigned, as the SDK always does.
pub fn anonymous_sts(app: &TestApp) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(&app.address)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

fn github_conditions(host: &str) -> Value {
    json!({"StringEquals": {format!("{host}:aud"): AUDIENCE},
           "StringLike": {format!("{host}:sub"): "repo:octo-org/octo-repo:*"}})
}

#[tokio::test]
async fn the_sdk_assumes_a_role_with_a_github_token_then_calls_sts_with_it() {
    let app = spawn_app().await;
    let rsa = Signer::rsa(1);
    let issuer = Issuer::start(&[(&rsa, "rsa-1")]).await;
    let provider = provider_for(&app, &issuer).await;
    let role_arn = federated_role(
        &app,
        "deployer",
        &provider,
        github_conditions(&issuer.host()),
    )
    .await;
    let token = rsa.mint("rsa-1", &github_claims(&issuer.url));

    let reply = anonymous_sts(&app)
        .assume_role_with_web_identity()
        .role_arn(&role_arn)
        .role_session_name("gha-run-42")
        .web_identity_token(&token)
        .send()
        .await
        .expect("AssumeRoleWithWebIdentity");
    assert_eq!(reply.subject_from_web_identity_token(), Some(GITHUB_SUB));
    assert_eq!(reply.provider(), Some(issuer.host().as_str()));
    assert_eq!(reply.audience(), Some(AUDIENCE));
    let user = reply.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        format!(
            "arn:aws:sts::{}:assumed-role/deployer/gha-run-42",
            app.account_id
        )
    );
    let creds = reply.credentials().unwrap();
    let key = Credentials {
        access_key_id: creds.access_key_id().to_string(),
        secret_access_key: creds.secret_access_key().to_string(),
    };
    let me = sts_client(&app, &key, Some(creds.session_token().to_string()))
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with the session");
    assert_eq!(me.arn(), Some(user.arn()));

    // The session's requests carry aws:FederatedProvider.
    app.put_inline(
        "/v1/roles/deployer/policies/from-ci-only",
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "iam:ListUsers", "Resource": "*",
            "Condition": {"StringEquals": {"aws:FederatedProvider": provider}}}]}),
    )
    .await;
    crate::awsquery::iam_client_with_token(&app, &key, Some(creds.session_token().to_string()))
        .list_users()
        .send()
        .await
        .expect("ListUsers allowed for sessions of this provider");

    // Stored like every session: listed with the provider as issuer, and
    // revocable.
    let sessions = json_with_status(app.get("/v1/roles/deployer/sessions").await, 200).await;
    let items = sessions["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{sessions}");
    assert_eq!(items[0]["issuer_arn"], provider.as_str());
    json_with_status(
        app.delete(&format!(
            "/v1/roles/deployer/sessions/{}",
            key.access_key_id
        ))
        .await,
        204,
    )
    .await;
    let revoked = sts_client(&app, &key, Some(creds.session_token().to_string()))
        .get_caller_identity()
        .send()
        .await;
    assert!(revoked.is_err(), "a revoked session must stop working");

    // The audit record has the token's digest, never the token.
    let events = web_identity_events(&app, 1).await;
    let event = &events[0];
    assert_eq!(event["decision"], "allowed", "{event}");
    assert_eq!(event["principal_arn"], provider.as_str());
    let p = params(event);
    assert_eq!(p["web_identity_sha256"].as_str().unwrap().len(), 64, "{p}");
    assert_eq!(p["subject"], GITHUB_SUB);
    let everything = event.to_string();
    let signature = token.rsplit('.').next().unwrap();
    assert!(!everything.contains(signature), "{everything}");
    assert!(!crate::helpers::captured_logs().contains(signature));
}

#[tokio::test]
async fn v1_accepts_an_ec_signed_kubernetes_token_with_an_array_audience_and_session_tags() {
    let app = spawn_app().await;
    let ec = Signer::ec();
    let issuer = Issuer::start(&[(&ec, "ec-1")]).await;
    let provider = provider_for(&app, &issuer).await;
    let host = issuer.host();
    let role_arn = federated_role(
        &app,
        "k8s",
        &provider,
        json!({"StringEquals": {format!("{host}:sub"): super::K8S_SUB,
                                format!("{host}:aud"): AUDIENCE}}),
    )
    .await;
    let mut claims = super::k8s_claims(&issuer.url);
    claims["aud"] = json!(["other-audience", AUDIENCE]);
    claims["https://aws.amazon.com/tags"] = json!({
        "principal_tags": {"team": ["platform"], "env": ["ci"]},
        "transitive_tag_keys": ["team"]
    });
    let token = ec.mint("ec-1", &claims);
    let reply = json_with_status(assume(&app, &role_arn, &token).await, 200).await;
    assert_eq!(reply["subject_from_web_identity_token"], super::K8S_SUB);
    assert_eq!(reply["audience"], AUDIENCE);
    assert_eq!(reply["provider"], host.as_str());
    assert!(reply["packed_policy_size"].as_u64().is_some(), "{reply}");
    assert!(reply["credentials"]["session_token"].as_str().is_some());
    let sessions = json_with_status(app.get("/v1/roles/k8s/sessions").await, 200).await;
    let tags = &sessions["items"][0]["tags"];
    assert!(tags.to_string().contains("platform"), "{sessions}");
}

#[tokio::test]
async fn trailing_slashes_are_normalized_both_ways() {
    let app = spawn_app().await;
    let rsa = Signer::rsa(1);
    let issuer = Issuer::start(&[(&rsa, "k")]).await;
    // The provider registered with a slash, the token without it.
    let provider = create_provider(
        &app,
        &json!({"url": format!("{}/", issuer.url), "client_ids": [AUDIENCE], "ca_bundle_pem": issuer.ca_pem}),
    )
    .await;
    assert!(provider.ends_with(&issuer.host()), "{provider}");
    let role = federated_role(&app, "slash", &provider, github_conditions(&issuer.host())).await;
    let plain = rsa.mint("k", &github_claims(&issuer.url));
    json_with_status(assume(&app, &role, &plain).await, 200).await;
    // The token with a slash, and the discovery document with one too.
    issuer.set_discovery_issuer(&format!("{}/", issuer.url));
    let slashed = rsa.mint("k", &github_claims(&format!("{}/", issuer.url)));
    json_with_status(assume(&app, &role, &slashed).await, 200).await;
}

#[tokio::test]
async fn extra_claims_are_condition_keys_only_when_opted_in() {
    let app = spawn_app().await;
    let rsa = Signer::rsa(1);
    let issuer = Issuer::start(&[(&rsa, "k")]).await;
    let host = issuer.host();
    let opted = create_provider(
        &app,
        &json!({"url": issuer.url, "client_ids": [AUDIENCE], "ca_bundle_pem": issuer.ca_pem,
                "extra_claims": ["repository", "groups"]}),
    )
    .await;
    let conditions = json!({
        "StringEquals": {format!("{host}:repository"): "octo-org/octo-repo"},
        "ForAnyValue:StringEquals": {format!("{host}:groups"): "deployers"},
    });
    federated_role(&app, "extra", &opted, conditions.clone()).await;
    let mut claims = github_claims(&issuer.url);
    claims["groups"] = json!(["readers", "deployers"]);
    let token = rsa.mint("k", &claims);
    let test = json_with_status(
        app.post(
            "/v1/roles/extra/trust-test",
            &json!({"web_identity_token": token}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(test["allowed"], true, "{test}");
    assert_eq!(
        test["context"][format!("{host}:groups")],
        json!(["readers", "deployers"])
    );

    // The same claims, not opted in: the keys are missing, so the
    // condition fails, and the trust test says which key.
    let path = format!("/v1/oidc-providers/{}", opted.replace('/', "%2F"));
    json_with_status(app.delete(&path).await, 204).await;
    create_provider(
        &app,
        &json!({"url": issuer.url, "client_ids": [AUDIENCE], "ca_bundle_pem": issuer.ca_pem}),
    )
    .await;
    let test = json_with_status(
        app.post(
            "/v1/roles/extra/trust-test",
            &json!({"web_identity_token": token}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(test["allowed"], false, "{test}");
    assert_eq!(
        test["refusal"],
        format!("condition_failed:{host}:repository"),
        "{test}"
    );
    assert!(
        test["context"].get(format!("{host}:repository")).is_none(),
        "{test}"
    );
    // The engine says which key the request lacked.
    let missing = test["evaluation"]["missing_context_keys"]
        .as_array()
        .unwrap_or_else(|| panic!("{test}"))
        .iter()
        .map(|k| k.as_str().unwrap().to_ascii_lowercase())
        .collect::<Vec<_>>();
    assert!(missing.contains(&format!("{host}:repository")), "{test}");
    assert_eq!(test["claims"]["repository"], "octo-org/octo-repo", "{test}");
    assert!(test["provider_arn"].as_str().is_some(), "{test}");
}

#[tokio::test]
async fn the_trust_test_explains_without_issuing_and_is_authorized_like_a_read() {
    let app = spawn_app().await;
    let rsa = Signer::rsa(1);
    let issuer = Issuer::start(&[(&rsa, "k")]).await;
    let provider = provider_for(&app, &issuer).await;
    let host = issuer.host();
    federated_role(&app, "explained", &provider, github_conditions(&host)).await;
    let mut claims = github_claims(&issuer.url);
    claims["sub"] = json!("repo:evil-org/fork:ref:refs/heads/main");
    let token = rsa.mint("k", &claims);
    let test = json_with_status(
        app.post(
            "/v1/roles/explained/trust-test",
            &json!({"web_identity_token": token}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(test["allowed"], false);
    assert_eq!(test["refusal"], format!("condition_failed:{host}:sub"));
    assert_eq!(test["error_code"], "AccessDenied");
    assert_eq!(test["provider_arn"], provider.as_str());
    assert_eq!(
        test["claims"]["sub"],
        "repo:evil-org/fork:ref:refs/heads/main"
    );
    let sessions = json_with_status(app.get("/v1/roles/explained/sessions").await, 200).await;
    assert!(sessions["items"].as_array().unwrap().is_empty());
    // A user without iam:GetRole cannot use it.
    let bob = app.user_with_key("bob").await;
    let denied = app
        .send_as(
            &bob,
            reqwest::Method::POST,
            "/v1/roles/explained/trust-test",
            Some(&json!({"web_identity_token": token})),
        )
        .await;
    crate::helpers::assert_error(denied, 403, "AccessDenied").await;
}
