//! Resolved sessions are cached as long-term keys are, and the cache never
//! accepts what the store would refuse. Each test first makes a successful
//! request signed with the session (so that it is cached), then changes one
//! thing, and the very next request must be refused or denied: on
//! `/v1/authorize` (a forwarded SigV4 request, the hot path) and on
//! latchkey's own API (Basic plus `X-Amz-Security-Token`).

use std::time::{Duration, SystemTime};

use reqwest::{Method, Response};
use serde_json::{json, Value};

use super::*;
use crate::helpers::{assert_error, json_with_status, spawn_app, Credentials, TestApp};
use crate::signing::{sign_request, Signing};

const STORAGE_URL: &str = "https://storage.internal/reports/q1.csv";

struct Fixture {
    app: TestApp,
    /// A platform service allowed `latchkey:Authorize`.
    service: Credentials,
    /// A user the role `reader` trusts.
    alice: Credentials,
    role_arn: String,
    policy_arn: String,
}

/// A role `reader` whose attached policy allows `s3:GetObject` on reports.
async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let service = app.authorizing_service("storage").await;
    let alice = app.user_with_key("alice").await;
    let role_arn = role_trusting_user(&app, "reader", "alice").await;
    let policy_arn = app
        .create_policy(
            "read-reports",
            allow(json!("s3:GetObject"), "arn:aws:s3:::reports/*"),
        )
        .await;
    app.attach("roles", "reader", &policy_arn).await;
    Fixture {
        app,
        service,
        alice,
        role_arn,
        policy_arn,
    }
}

impl Fixture {
    async fn session(&self) -> Session {
        let body = json!({"role_arn": self.role_arn, "role_session_name": "nightly"});
        assume_ok(&self.app, As::Key(&self.alice), body).await.0
    }

    /// `/v1/authorize` about a GET of the report signed with `creds` and
    /// `token`.
    async fn decide(&self, creds: &Credentials, token: &str) -> Response {
        let mut signing = Signing::now(creds);
        signing.service = "s3";
        signing.session_token = Some(token);
        let signed = sign_request(&signing, "GET", STORAGE_URL, &[], b"");
        let mut headers = serde_json::Map::new();
        headers.insert("host".into(), json!("storage.internal"));
        for (n, v) in signed.headers {
            headers.insert(n, json!(v));
        }
        let body = json!({
            "signed_request": {"method": "GET", "url": STORAGE_URL, "headers": headers, "body": ""},
            "action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q1.csv"});
        send(
            self.app
                .request_as(&self.service, Method::POST, "/v1/authorize")
                .json(&body),
        )
        .await
    }

    /// The decision about `session`'s request: whether it was allowed.
    async fn allowed(&self, session: &Session) -> bool {
        let reply: Value =
            json_with_status(self.decide(&session.creds, &session.token).await, 200).await;
        reply["allowed"].as_bool().expect("allowed")
    }

    /// Both ways of using `session` succeed (and so cache it).
    async fn works(&self, session: &Session) {
        assert!(self.allowed(session).await);
        json_with_status(caller_identity(&self.app, As::Session(session)).await, 200).await;
    }

    /// Both ways of using `session` are refused with `code`; the message.
    async fn refused(&self, session: &Session, code: &str) -> String {
        assert_error(self.decide(&session.creds, &session.token).await, 400, code).await;
        message(
            caller_identity(&self.app, As::Session(session)).await,
            401,
            code,
        )
        .await
    }
}

#[tokio::test]
async fn a_cached_session_still_needs_its_own_token() {
    let fx = fixture().await;
    let (a, b) = (fx.session().await, fx.session().await);
    fx.works(&a).await;
    fx.works(&b).await;
    for token in [b.token.clone(), format!("{}x", a.token)] {
        let wrong = Session {
            creds: a.creds.clone(),
            token,
        };
        fx.refused(&wrong, "InvalidClientTokenId").await;
    }
    // Basic credentials of the cached session without its token header.
    let bare = send(
        fx.app
            .request_as(&a.creds, Method::GET, "/v1/sts/caller-identity"),
    )
    .await;
    assert_error(bare, 401, "InvalidClientTokenId").await;
    fx.works(&a).await;
}

#[tokio::test]
async fn a_cached_session_still_needs_its_own_secret() {
    let fx = fixture().await;
    let (a, b) = (fx.session().await, fx.session().await);
    fx.works(&a).await;
    let wrong = Session {
        creds: Credentials {
            access_key_id: a.key().into(),
            secret_access_key: b.creds.secret_access_key.clone(),
        },
        token: a.token.clone(),
    };
    fx.refused(&wrong, "SignatureDoesNotMatch").await;
    fx.works(&a).await;
}

#[tokio::test]
async fn revoking_a_cached_session_takes_effect_on_the_next_request() {
    let fx = fixture().await;
    let (a, b) = (fx.session().await, fx.session().await);
    fx.works(&a).await;
    fx.works(&b).await;
    let r = fx
        .app
        .delete(&format!("/v1/roles/reader/sessions/{}", a.key()))
        .await;
    assert_eq!(r.status(), 204);
    let m = fx.refused(&a, "InvalidClientTokenId").await;
    assert!(m.contains("revoked"), "{m}");
    fx.works(&b).await;
}

#[tokio::test]
async fn revoking_all_of_a_roles_sessions_takes_effect_on_the_next_request() {
    let fx = fixture().await;
    let (a, b) = (fx.session().await, fx.session().await);
    fx.works(&a).await;
    fx.works(&b).await;
    let r = fx
        .app
        .post("/v1/roles/reader/revoke-sessions", &json!({}))
        .await;
    json_with_status(r, 200).await;
    for s in [&a, &b] {
        let m = fx.refused(s, "InvalidClientTokenId").await;
        assert!(m.contains("revoked"), "{m}");
    }
    let c = fx.session().await;
    fx.works(&c).await;
}

#[tokio::test]
async fn a_cached_session_expires_on_time() {
    let fx = fixture().await;
    let store = store(&fx.app).await;
    // Sessions last at least 15 minutes: give one a near expiry through the
    // store before its first use, so that the cache holds that expiry. A
    // very slow first request would find it expired already; then another
    // session gets a later one.
    let mut lead = Duration::from_secs(2);
    let (session, expires_at) = loop {
        let s = fx.session().await;
        let expires_at = SystemTime::now() + lead;
        let at = time::OffsetDateTime::from(expires_at);
        let text = latchkey::domain::format_time_ms(at);
        assert!(store.set_session_expires_at(s.key(), &text).await.unwrap());
        let r = caller_identity(&fx.app, As::Session(&s)).await;
        if r.status() == 200 {
            break (s, expires_at);
        }
        assert!(lead < Duration::from_secs(60), "requests far too slow");
        lead *= 2;
    };
    // Wait out the expiry (the assertion does not depend on how long).
    while SystemTime::now() <= expires_at + Duration::from_millis(50) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let m = fx.refused(&session, "ExpiredToken").await;
    assert_eq!(m, "The security token included in the request is expired");
}

#[tokio::test]
async fn detaching_the_roles_policy_takes_effect_on_the_next_request() {
    let fx = fixture().await;
    let s = fx.session().await;
    fx.works(&s).await;
    let r = fx
        .app
        .delete(&format!(
            "/v1/roles/reader/attached-policies?policy_arn={}",
            fx.policy_arn
        ))
        .await;
    assert_eq!(r.status(), 204);
    assert!(!fx.allowed(&s).await);
    // The session itself still authenticates: it only lost its permission.
    json_with_status(caller_identity(&fx.app, As::Session(&s)).await, 200).await;
    fx.app.attach("roles", "reader", &fx.policy_arn).await;
    assert!(fx.allowed(&s).await);
}

#[tokio::test]
async fn a_cached_session_of_a_deleted_role_is_refused() {
    let fx = fixture().await;
    let s = fx.session().await;
    fx.works(&s).await;
    let r = fx
        .app
        .delete(&format!(
            "/v1/roles/reader/attached-policies?policy_arn={}",
            fx.policy_arn
        ))
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(fx.app.delete("/v1/roles/reader").await.status(), 204);
    fx.refused(&s, "InvalidClientTokenId").await;
}
