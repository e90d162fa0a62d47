//! The refusal matrix: each bad token answers its AWS code, is audited
//! with its exact failing step and counted by reason; the unsigned route
//! on `/` lets exactly one action through.

use serde_json::json;

use super::assume::anonymous_sts;
use super::{
    assume, create_provider, federated_role, github_claims, params, provider_for, raw_token,
    web_identity_events, Issuer, Signer, AUDIENCE,
};
use crate::awsquery::failure;
use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn every_refusal_has_its_code_and_its_audited_step() {
    let app = spawn_app().await;
    let rsa = Signer::rsa(1);
    let issuer = Issuer::start(&[(&rsa, "k")]).await;
    let provider = provider_for(&app, &issuer).await;
    let host = issuer.host();
    let role = federated_role(
        &app,
        "guarded",
        &provider,
        json!({"StringEquals": {format!("{host}:aud"): AUDIENCE},
               "StringLike": {format!("{host}:sub"): "repo:octo-org/octo-repo:*"}}),
    )
    .await;
    let good = github_claims(&issuer.url);
    let with = |key: &str, value: serde_json::Value| {
        let mut c = good.clone();
        c[key] = value;
        c
    };
    let t = super::now();
    // The public key, used as an HMAC secret: the classic forgery.
    let public_pem = serde_json::to_vec(&rsa.jwk("k")).unwrap();
    let hs256 = {
        use hmac::{KeyInit as _, Mac as _};
        let header = json!({"alg": "HS256", "kid": "k"});
        let unsigned = raw_token(&header, &good, b"");
        let input = unsigned.trim_end_matches('.');
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&public_pem).unwrap();
        mac.update(input.as_bytes());
        raw_token(&header, &good, &mac.finalize().into_bytes())
    };
    let other_key = Signer::rsa(2);
    let cases: Vec<(&str, String, u16, &str, String)> = vec![
        (
            "wrong sub",
            rsa.mint(
                "k",
                &with("sub", json!("repo:evil/repo:ref:refs/heads/main")),
            ),
            403,
            "AccessDenied",
            format!("condition_failed:{host}:sub"),
        ),
        (
            "wrong aud",
            rsa.mint("k", &with("aud", json!("someone-else"))),
            400,
            "InvalidIdentityToken",
            "aud_mismatch".into(),
        ),
        (
            "expired",
            rsa.mint("k", &with("exp", json!(t - 600))),
            400,
            "ExpiredTokenException",
            "expired".into(),
        ),
        (
            "nbf ahead",
            rsa.mint("k", &with("nbf", json!(t + 600))),
            400,
            "InvalidIdentityToken",
            "not_yet_valid".into(),
        ),
        (
            "alg none",
            raw_token(&json!({"alg": "none"}), &good, b""),
            400,
            "InvalidIdentityToken",
            "alg_not_allowed".into(),
        ),
        (
            "HS256 with the public key",
            hs256,
            400,
            "InvalidIdentityToken",
            "alg_not_allowed".into(),
        ),
        (
            "unknown issuer",
            rsa.mint("k", &with("iss", json!("https://issuer.invalid"))),
            400,
            "InvalidIdentityToken",
            "issuer_unknown".into(),
        ),
        (
            "signed by another key under a known kid",
            other_key.mint("k", &good),
            400,
            "InvalidIdentityToken",
            "signature_invalid".into(),
        ),
    ];
    for (what, token, status, code, _) in &cases {
        let body = assert_error(assume(&app, &role, token).await, *status, code).await;
        // The token is never echoed.
        assert!(!body.to_string().contains(token.as_str()), "{what}: {body}");
    }
    let events = web_identity_events(&app, cases.len()).await;
    assert_eq!(events.len(), cases.len(), "{events:?}");
    // Newest first.
    for (event, (what, _, _, code, reason)) in events.iter().rev().zip(&cases) {
        assert_eq!(event["error_code"], *code, "{what}: {event}");
        assert_eq!(params(event)["refusal"], reason.as_str(), "{what}: {event}");
        assert!(params(event)["web_identity_sha256"].is_string(), "{what}");
    }
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (reason, n) in [
        ("alg_not_allowed", 2),
        ("aud_mismatch", 1),
        ("condition_failed", 1),
    ] {
        let line = format!("latchkey_web_identity_refusals_total{{reason=\"{reason}\"}} {n}");
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }

    // The SDK sees the same codes.
    let sts = anonymous_sts(&app);
    let (code, status) = failure(
        sts.assume_role_with_web_identity()
            .role_arn(&role)
            .role_session_name("s1")
            .web_identity_token(rsa.mint("k", &with("exp", json!(t - 600))))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ExpiredTokenException", 400));
    let (code, status) = failure(
        sts.assume_role_with_web_identity()
            .role_arn(&role)
            .role_session_name("s1")
            .web_identity_token(rsa.mint("k", &with("sub", json!("repo:x/y:ref:z"))))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
}

#[tokio::test]
async fn an_unreachable_issuer_is_idp_communication_error_and_a_lying_discovery_is_refused() {
    let app = spawn_app().await;
    let rsa = Signer::rsa(1);
    let issuer = Issuer::start(&[(&rsa, "k")]).await;
    let provider = provider_for(&app, &issuer).await;
    let role = federated_role(&app, "down", &provider, serde_json::Value::Null).await;
    let token = rsa.mint("k", &github_claims(&issuer.url));
    issuer.stop().await;
    assert_error(
        assume(&app, &role, &token).await,
        400,
        "IDPCommunicationError",
    )
    .await;
    let events = web_identity_events(&app, 1).await;
    assert_eq!(params(&events[0])["refusal"], "idp_unreachable");

    let liar = Issuer::start(&[(&rsa, "k")]).await;
    liar.set_discovery_issuer("https://somebody-else.example");
    let provider = provider_for(&app, &liar).await;
    let role = federated_role(&app, "lied-to", &provider, serde_json::Value::Null).await;
    let token = rsa.mint("k", &github_claims(&liar.url));
    assert_error(
        assume(&app, &role, &token).await,
        400,
        "InvalidIdentityToken",
    )
    .await;
    let events = web_identity_events(&app, 2).await;
    assert_eq!(params(&events[0])["refusal"], "discovery_issuer_mismatch");
    assert_eq!(
        liar.jwks_fetches(),
        0,
        "keys of a lying issuer are never fetched"
    );
}

/// `/` takes AssumeRoleWithWebIdentity unsigned and nothing else.
#[tokio::test]
async fn the_unsigned_route_lets_exactly_one_action_through() {
    let app = spawn_app().await;
    let post = |body: &'static str| {
        app.client
            .post(app.url("/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    for body in [
        "Action=ListUsers&Version=2010-05-08",
        "Action=GetCallerIdentity&Version=2011-06-15",
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/r&RoleSessionName=s",
        // Not routed to STS's action: IAM has none of that name.
        "Action=AssumeRoleWithWebIdentity&Version=2010-05-08",
    ] {
        let response = post(body).await.unwrap();
        assert_eq!(response.status(), 403, "{body}");
        let text = response.text().await.unwrap();
        assert!(text.contains("MissingAuthenticationToken"), "{body}: {text}");
    }
    // The one action: refused for its token, not for a missing signature.
    let response = post(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/r&RoleSessionName=s1&WebIdentityToken=abcd",
    )
    .await
    .unwrap();
    let text = response.text().await.unwrap();
    assert!(!text.contains("MissingAuthenticationToken"), "{text}");
    assert!(
        text.contains("AccessDenied") || text.contains("InvalidIdentityToken"),
        "{text}"
    );
}

/// A provider of another account does not vouch for this account's role.
#[tokio::test]
async fn the_provider_must_be_in_the_roles_account() {
    let app = spawn_app().await;
    let rsa = Signer::rsa(1);
    let issuer = Issuer::start(&[(&rsa, "k")]).await;
    // A role naming a provider ARN that was never created here.
    let phantom = format!(
        "arn:aws:iam::{}:oidc-provider/{}",
        app.account_id,
        issuer.host()
    );
    let role = federated_role(&app, "phantom", &phantom, serde_json::Value::Null).await;
    let token = rsa.mint("k", &github_claims(&issuer.url));
    assert_error(
        assume(&app, &role, &token).await,
        400,
        "InvalidIdentityToken",
    )
    .await;
    // Created now: accepted.
    create_provider(
        &app,
        &json!({"url": issuer.url, "client_ids": [AUDIENCE], "ca_bundle_pem": issuer.ca_pem}),
    )
    .await;
    crate::helpers::json_with_status(assume(&app, &role, &token).await, 200).await;
}
