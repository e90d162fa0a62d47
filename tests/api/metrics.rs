//! GET /metrics: Prometheus text, parsed, with the counters a scenario
//! moved; and the setting that puts it behind credentials.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, json_with_status, spawn_app, spawn_app_with, Credentials};

/// Samples of the text format: `name{labels}` -> value. Comments and
/// blank lines are skipped; every other line must parse.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("sample line");
        let value: f64 = value.parse().expect("sample value");
        samples.insert(series.to_string(), value);
    }
    samples
}

fn get(samples: &HashMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no sample {series}"))
}

#[tokio::test]
async fn a_scrape_shows_the_counters_of_a_scenario() {
    let app = spawn_app().await;
    let before = parse(
        &app.client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(get(&before, "latchkey_active_sessions"), 0.0);

    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.user_with_key("carol").await;
    // A refused secret and an unknown key.
    let wrong = Credentials {
        access_key_id: alice.access_key_id.clone(),
        secret_access_key: "x".repeat(40),
    };
    assert_error(
        app.send_as(&wrong, Method::GET, "/v1/users", None).await,
        401,
        "SignatureDoesNotMatch",
    )
    .await;
    let unknown = Credentials {
        access_key_id: "AKIAUNKNOWNUNKNOWN00".into(),
        secret_access_key: "x".repeat(40),
    };
    assert_error(
        app.send_as(&unknown, Method::GET, "/v1/users", None).await,
        401,
        "InvalidClientTokenId",
    )
    .await;
    // An access denied.
    assert_error(
        app.send_as(&alice, Method::GET, "/v1/users", None).await,
        403,
        "AccessDenied",
    )
    .await;
    // A session.
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
    .await;
    // Decisions: one denied (carol may not read the object), via a service.
    let storage = app.authorizing_service("storage").await;
    let decision = json_with_status(
        app.send_as(
            &storage,
            Method::POST,
            "/v1/authorize",
            Some(
                &json!({"credentials": {"access_key_id": alice.access_key_id},
                "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}),
            ),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(decision["decision"], "implicit_deny");

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    let after = parse(&text);
    assert_eq!(
        get(
            &after,
            r#"latchkey_http_requests_total{method="POST",route="/v1/users",status="201"}"#
        ),
        4.0
    );
    assert_eq!(
        get(
            &after,
            r#"latchkey_http_requests_total{method="GET",route="/v1/users",status="401"}"#
        ),
        2.0
    );
    assert_eq!(
        get(
            &after,
            r#"latchkey_authentication_failures_total{reason="bad_signature"}"#
        ),
        1.0
    );
    assert_eq!(
        get(
            &after,
            r#"latchkey_authentication_failures_total{reason="unknown_key"}"#
        ),
        1.0
    );
    assert_eq!(
        get(
            &after,
            r#"latchkey_authorize_decisions_total{decision="implicit_deny"}"#
        ),
        1.0
    );
    assert_eq!(get(&after, "latchkey_access_denied_total"), 1.0);
    assert_eq!(get(&after, "latchkey_active_sessions"), 1.0);
    assert_eq!(get(&after, "latchkey_audit_events_dropped_total"), 0.0);
    assert!(after.contains_key("latchkey_audit_queue_depth"));
    assert!(get(&after, "latchkey_db_pool_connections") >= 1.0);
    assert!(after.contains_key("latchkey_db_pool_idle_connections"));
    // The latency histogram, by route pattern (never the raw path).
    assert_eq!(
        get(
            &after,
            r#"latchkey_http_request_duration_seconds_count{route="/v1/users"}"#
        ),
        7.0
    );
    assert!(after.keys().any(|k| k
        .starts_with("latchkey_http_request_duration_seconds_bucket{le=")
        || k.starts_with(
            r#"latchkey_http_request_duration_seconds_bucket{route="/v1/users",le="#
        )));
    assert!(text.contains(r#"route="/v1/users/{user}/access-keys""#));
    assert!(!text.contains("carol"), "names never become labels");
    assert!(text.trim_end().ends_with("# EOF"));
}

#[tokio::test]
async fn metrics_can_require_credentials() {
    let app = spawn_app_with(|c| c.metrics_require_auth = true).await;
    assert_error(
        app.client.get(app.url("/metrics")).send().await.unwrap(),
        401,
        "MissingAuthenticationToken",
    )
    .await;
    let alice = app.user_with_key("alice").await;
    assert_error(
        app.send_as(&alice, Method::GET, "/metrics", None).await,
        403,
        "AccessDenied",
    )
    .await;
    app.put_inline(
        "/v1/users/alice/policies/m",
        json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "latchkey:ReadMetrics", "Resource": "*"}]}),
    )
    .await;
    let r = app.send_as(&alice, Method::GET, "/metrics", None).await;
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("latchkey_http_requests_total"));
    // Open by default.
    let open = spawn_app().await;
    assert_eq!(
        open.client
            .get(open.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
