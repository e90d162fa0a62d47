//! The AWS query protocol driven by the AWS SDK for Rust: every IAM action
//! the front end answers, paginators, error codes and policy documents
//! that round-trip; raw requests for the protocol's own errors; botocore's
//! output cases read back from our envelopes.

mod account_details;
mod account_settings;
mod corpus;
mod entities;
mod last_accessed;
mod policies;
mod protocol;
pub(crate) mod reports;
mod sts;
mod terraform;

use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::config::{BehaviorVersion, Credentials as SdkCredentials, Region};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, EntityType, StatusType, Tag};
use percent_encoding::percent_decode_str;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Credentials, TestApp};
use crate::signing::{send, sign_request, Signing};

pub fn sdk_credentials(creds: &Credentials, token: Option<String>) -> SdkCredentials {
    SdkCredentials::new(
        &creds.access_key_id,
        &creds.secret_access_key,
        token,
        None,
        "latchkey-tests",
    )
}

/// An IAM client pointed at the test server over plain HTTP.
pub fn iam_client(app: &TestApp, creds: &Credentials) -> aws_sdk_iam::Client {
    iam_client_with_token(app, creds, None)
}

/// An IAM client with temporary credentials (a session token).
pub fn iam_client_with_token(
    app: &TestApp,
    creds: &Credentials,
    token: Option<String>,
) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&app.address)
        .credentials_provider(sdk_credentials(creds, token))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

pub fn sts_client(
    app: &TestApp,
    creds: &Credentials,
    token: Option<String>,
) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(&app.address)
        .credentials_provider(sdk_credentials(creds, token))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// The wire code and HTTP status of a failed SDK call.
pub fn failure<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
) -> (String, u16) {
    let err = result.expect_err("the call should fail");
    let status = err.raw_response().map_or(0, |r| r.status().as_u16());
    (err.code().unwrap_or_default().to_string(), status)
}

/// A document as IAM returns it (URL-encoded JSON), decoded and parsed.
pub fn decoded(document: Option<&str>) -> Value {
    let text = percent_decode_str(document.expect("a document"))
        .decode_utf8()
        .expect("UTF-8");
    serde_json::from_str(&text).expect("JSON")
}

pub fn allow(action: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
        .to_string()
}

pub fn trust_root(account: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "sts:AssumeRole"}]})
    .to_string()
}

pub fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}
