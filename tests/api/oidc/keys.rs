//! Where keys come from and when they are fetched: a rotated-in key works
//! on first use, unknown kids cannot make the server hammer the issuer,
//! and a static JWKS serves an issuer nothing can reach.

use serde_json::json;

use super::{
    assume, create_provider, federated_role, github_claims, k8s_claims, params, provider_for,
    web_identity_events, Issuer, Signer, AUDIENCE, K8S_SUB,
};
use crate::helpers::{assert_error, json_with_status, spawn_app};

#[tokio::test]
async fn a_rotated_in_key_works_on_first_use() {
    let app = spawn_app().await;
    let (old, new) = (Signer::rsa(1), Signer::ec());
    let issuer = Issuer::start(&[(&old, "2024-01")]).await;
    let provider = provider_for(&app, &issuer).await;
    let role = federated_role(&app, "rotating", &provider, serde_json::Value::Null).await;
    json_with_status(
        assume(
            &app,
            &role,
            &old.mint("2024-01", &github_claims(&issuer.url)),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(issuer.jwks_fetches(), 1);
    // Warm: no fetch.
    json_with_status(
        assume(
            &app,
            &role,
            &old.mint("2024-01", &github_claims(&issuer.url)),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(issuer.jwks_fetches(), 1);
    issuer.set_keys(&[(&old, "2024-01"), (&new, "2024-02")]);
    json_with_status(
        assume(
            &app,
            &role,
            &new.mint("2024-02", &github_claims(&issuer.url)),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(issuer.jwks_fetches(), 2);
}

#[tokio::test]
async fn fifty_unknown_kids_cause_at_most_one_fetch() {
    let app = spawn_app().await;
    let rsa = Signer::rsa(1);
    let issuer = Issuer::start(&[(&rsa, "real")]).await;
    let provider = provider_for(&app, &issuer).await;
    let role = federated_role(&app, "hammered", &provider, serde_json::Value::Null).await;
    json_with_status(
        assume(&app, &role, &rsa.mint("real", &github_claims(&issuer.url))).await,
        200,
    )
    .await;
    let before = issuer.jwks_fetches();
    let tokens: Vec<String> = (0..50)
        .map(|_| {
            rsa.mint(
                &uuid::Uuid::new_v4().to_string(),
                &github_claims(&issuer.url),
            )
        })
        .collect();
    let calls = tokens.iter().map(|t| assume(&app, &role, t));
    for response in futures_util::future::join_all(calls).await {
        assert_error(response, 400, "InvalidIdentityToken").await;
    }
    assert!(
        issuer.jwks_fetches() - before <= 1,
        "{} fetches",
        issuer.jwks_fetches() - before
    );
    let events = web_identity_events(&app, 51).await;
    let refused = events
        .iter()
        .filter(|e| params(e)["refusal"] == "kid_unknown_after_refresh")
        .count();
    assert_eq!(refused, 50);
    // The real key still works, from the cache.
    json_with_status(
        assume(&app, &role, &rsa.mint("real", &github_claims(&issuer.url))).await,
        200,
    )
    .await;
    assert!(issuer.jwks_fetches() - before <= 1);
}

/// A private cluster's API server: nothing serves its issuer URL, so its
/// JWKS is uploaded with the provider.
#[tokio::test]
async fn a_static_jwks_provider_accepts_a_kubernetes_token_for_an_unreachable_issuer() {
    let app = spawn_app().await;
    let ec = Signer::ec();
    let jwks = json!({"keys": [ec.jwk("sa-key")]}).to_string();
    let provider = create_provider(
        &app,
        &json!({"url": "https://kubernetes.default.svc", "client_ids": [AUDIENCE],
                "key_source": "static", "jwks": jwks}),
    )
    .await;
    let role = federated_role(
        &app,
        "in-cluster",
        &provider,
        json!({"StringEquals": {"kubernetes.default.svc:sub": K8S_SUB,
                                "kubernetes.default.svc:aud": AUDIENCE}}),
    )
    .await;
    let token = ec.mint("sa-key", &k8s_claims("https://kubernetes.default.svc"));
    let reply = json_with_status(assume(&app, &role, &token).await, 200).await;
    assert_eq!(reply["subject_from_web_identity_token"], K8S_SUB);
    let mut other = k8s_claims("https://kubernetes.default.svc");
    other["sub"] = json!("system:serviceaccount:default:default");
    let denied = assert_error(
        assume(&app, &role, &ec.mint("sa-key", &other)).await,
        403,
        "AccessDenied",
    )
    .await;
    assert!(
        denied.to_string().contains("kubernetes.default.svc:sub"),
        "{denied}"
    );
}
