//! End to end: the AWS SDK for Rust's default credentials chain, given
//! nothing but the variables a CI job or a Kubernetes pod gets
//! (`AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`,
//! `AWS_ENDPOINT_URL_STS`) and no keys, finds the web identity provider,
//! calls AssumeRoleWithWebIdentity here and then GetCallerIdentity with
//! what it got. In a child process, as `workloads::e2e` explains: the chain
//! reads the process environment.

use std::process::Command;

use aws_config::provider_config::ProviderConfig;

use super::{federated_role, github_claims, provider_for, Issuer, Signer};
use crate::helpers::spawn_app;

const CHILD_TEST: &str = "oidc::e2e::sdk_chain_in_a_child_process";
const EXPECT_VAR: &str = "LATCHKEY_E2E_EXPECTED_ARN";

#[tokio::test]
async fn the_sdk_default_chain_assumes_a_role_from_a_token_file() {
    let app = spawn_app().await;
    let rsa = Signer::rsa(1);
    let issuer = Issuer::start(&[(&rsa, "k")]).await;
    let provider = provider_for(&app, &issuer).await;
    let role = federated_role(&app, "from-file", &provider, serde_json::Value::Null).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, rsa.mint("k", &github_claims(&issuer.url))).unwrap();
    let expected = format!(
        "arn:aws:sts::{}:assumed-role/from-file/e2e-session",
        app.account_id
    );
    let exe = std::env::current_exe().expect("test binary");
    let (address, arn) = (app.address.clone(), expected.clone());
    let output = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(exe);
        command
            .args([
                CHILD_TEST,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
            .env("AWS_ROLE_ARN", role)
            .env("AWS_ROLE_SESSION_NAME", "e2e-session")
            .env("AWS_ENDPOINT_URL_STS", &address)
            .env("AWS_REGION", "us-east-1")
            .env(EXPECT_VAR, arn);
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        ] {
            command.env_remove(var);
        }
        // No shared config or credentials file of the machine's.
        command
            .env("AWS_CONFIG_FILE", "/nonexistent/config")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
        command.output()
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
}

/// The CI job: run only as the child of the test above.
#[tokio::test]
#[ignore = "runs as a child process of the end-to-end test, with the web identity variables set"]
async fn sdk_chain_in_a_child_process() {
    let expected = std::env::var(EXPECT_VAR).expect("run by the end-to-end test");
    let endpoint = std::env::var("AWS_ENDPOINT_URL_STS").expect("endpoint");
    let config = ProviderConfig::without_region()
        .with_region(Some(aws_config::Region::new("us-east-1")))
        .with_http_client(aws_smithy_http_client::Builder::new().build_http());
    let chain = aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
        .configure(config)
        .build()
        .await;
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(chain)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build(),
    );
    let me = sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with the web identity credentials");
    assert_eq!(me.arn(), Some(expected.as_str()));
    println!("SDK-ARN={}", me.arn().unwrap_or_default());
}
