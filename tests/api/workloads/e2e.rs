//! End to end: the AWS SDK for Rust's own container credentials provider
//! (`aws_config::ecs`) configured by nothing but the two environment
//! variables a container gets, then STS GetCallerIdentity with the
//! credentials it fetched.
//!
//! The provider reads the process environment (aws-config offers no public
//! way to hand it another), and tests run in parallel threads, so the test
//! does not change its own environment: it runs this test binary again as
//! a child process, with the variables set, filtered to the one ignored
//! test below, exactly as a workload process would start.

use std::process::Command;

use aws_config::provider_config::ProviderConfig;

use super::{setup, SERVICE};
use crate::helpers::{json_with_status, spawn_app};

const CHILD_TEST: &str = "workloads::e2e::sdk_in_a_child_process";
const ENDPOINT_VAR: &str = "LATCHKEY_E2E_STS_ENDPOINT";
const EXPECT_VAR: &str = "LATCHKEY_E2E_EXPECTED_ARN";

#[tokio::test]
async fn an_aws_sdk_with_only_the_container_variables_gets_workload_credentials() {
    let app = spawn_app().await;
    let fixture = setup(&app).await;
    let expected = fixture.workload["assumed_role_arn"]
        .as_str()
        .unwrap()
        .to_string();
    let exe = std::env::current_exe().expect("test binary");
    let (address, token, arn) = (app.address.clone(), fixture.token.clone(), expected.clone());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(exe)
            .args([
                CHILD_TEST,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                format!("{address}/v1/workload-credentials"),
            )
            .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", token)
            .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            .env_remove("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
            .env(ENDPOINT_VAR, address)
            .env(EXPECT_VAR, arn)
            .output()
    })
    .await
    .expect("join")
    .expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "child failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(stdout.contains(&format!("SDK-ARN={expected}")), "{stdout}");
    // The SDK's credentials are the workload's session, issued by the service.
    let sessions = json_with_status(app.get("/v1/roles/runner/sessions").await, 200).await;
    let items = sessions["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{sessions}");
    assert_eq!(items[0]["arn"], expected);
    assert_eq!(items[0]["issuer_arn"], SERVICE);
}

/// The workload process: run only as the child of the test above.
#[tokio::test]
#[ignore = "runs as a child process of the end-to-end test, with the container variables set"]
async fn sdk_in_a_child_process() {
    let endpoint = std::env::var(ENDPOINT_VAR).expect("run by the end-to-end test");
    let expected = std::env::var(EXPECT_VAR).expect("run by the end-to-end test");
    // Plain HTTP to 127.0.0.1 (the provider allows loopback over http).
    let config = ProviderConfig::without_region()
        .with_http_client(aws_smithy_http_client::Builder::new().build_http());
    let provider = aws_config::ecs::EcsCredentialsProvider::builder()
        .configure(&config)
        .build();
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(provider)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build(),
    );
    let me = sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with the container credentials");
    assert_eq!(me.arn(), Some(expected.as_str()));
    println!("SDK-ARN={}", me.arn().unwrap_or_default());
}
