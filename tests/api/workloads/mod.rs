//! Workload credentials (issue 8): service principals, instance profiles,
//! workloads and their token, the container-credentials endpoint (also
//! through the AWS SDK's own provider), revocation, and identity proofs.

mod audit;
mod credentials;
mod e2e;
mod identify;
mod instance_profiles;
mod revocation;

use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{json_with_status, Credentials, TestApp};

pub const SERVICE: &str = "compute.platform.internal";

/// Role credentials as the endpoint hands them out.
#[derive(Clone, Debug)]
pub struct Issued {
    pub creds: Credentials,
    pub token: String,
    pub body: Value,
}

impl Issued {
    pub fn key(&self) -> &str {
        &self.creds.access_key_id
    }
}

/// What `setup` made: a workload of role `runner` through profile
/// `runner-profile`, run by `SERVICE`.
pub struct Fixture {
    pub workload: Value,
    pub token: String,
}

impl Fixture {
    pub fn id(&self) -> &str {
        self.workload["id"].as_str().expect("workload id")
    }
}

pub fn service_trust(service: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})
}

/// Registers a service principal as the management account's root.
pub async fn register_service(app: &TestApp, name: &str) -> Value {
    json_with_status(
        app.post("/v1/service-principals", &json!({ "name": name }))
            .await,
        201,
    )
    .await
}

/// A role with `trust` and a profile of the same name plus `-profile`
/// holding it (as root).
pub async fn role_in_profile(app: &TestApp, role: &str, trust: Value) -> Value {
    let created = json_with_status(
        app.post("/v1/roles", &json!({"name": role, "trust_policy": trust}))
            .await,
        201,
    )
    .await;
    let profile = format!("{role}-profile");
    json_with_status(
        app.post("/v1/instance-profiles", &json!({ "name": profile }))
            .await,
        201,
    )
    .await;
    json_with_status(
        app.request(
            Method::PUT,
            &format!("/v1/instance-profiles/{profile}/roles/{role}"),
        )
        .send()
        .await
        .expect("request"),
        204,
    )
    .await;
    created
}

/// Service `SERVICE`, role `runner` trusting it, profile `runner-profile`,
/// and a workload registered by root with `extra` body fields.
pub async fn setup_with(app: &TestApp, extra: Value) -> Fixture {
    register_service(app, SERVICE).await;
    role_in_profile(app, "runner", service_trust(SERVICE)).await;
    let mut body =
        json!({"name": "build-7", "instance_profile": "runner-profile", "service": SERVICE});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    let workload = json_with_status(app.post("/v1/workloads", &body).await, 201).await;
    let token = workload["token"].as_str().expect("token").to_string();
    Fixture { workload, token }
}

pub async fn setup(app: &TestApp) -> Fixture {
    setup_with(app, json!({})).await
}

/// `GET /v1/workload-credentials` with `Authorization: <authorization>`.
pub async fn fetch(app: &TestApp, authorization: &str) -> Response {
    app.client
        .get(app.url("/v1/workload-credentials"))
        .header("Authorization", authorization)
        .send()
        .await
        .expect("request")
}

pub async fn fetch_ok(app: &TestApp, token: &str) -> Issued {
    let body = json_with_status(fetch(app, token).await, 200).await;
    Issued {
        creds: Credentials {
            access_key_id: body["AccessKeyId"].as_str().expect("key").to_string(),
            secret_access_key: body["SecretAccessKey"]
                .as_str()
                .expect("secret")
                .to_string(),
        },
        token: body["Token"].as_str().expect("token").to_string(),
        body,
    }
}

/// `GET /v1/sts/caller-identity` with role credentials.
pub async fn whoami(app: &TestApp, issued: &Issued) -> Response {
    app.request_as(&issued.creds, Method::GET, "/v1/sts/caller-identity")
        .header("X-Amz-Security-Token", &issued.token)
        .send()
        .await
        .expect("request")
}

/// The store of a running app, opened beside it (to move expiries without
/// waiting).
pub async fn store(app: &TestApp) -> latchkey::store::Store {
    app.open_store().await
}
