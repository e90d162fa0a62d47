//! Providers as IAM entities: the lifecycle on /v1 and with the AWS SDK
//! (the calls Terraform makes), AWS's limits and errors.

use aws_sdk_iam::types::Tag;
use serde_json::json;

use super::AUDIENCE;
use crate::awsquery::{failure, iam_client};
use crate::helpers::{assert_error, json_with_status, spawn_app};

const THUMB_A: &str = "6938fd4d98bab03faadb97b34396831e3780aea1";
const THUMB_B: &str = "1c58a3a8518e8759bf075b76b750d4f2df264fcd";

#[tokio::test]
async fn the_provider_lifecycle_round_trips_on_v1() {
    let app = spawn_app().await;
    let created = json_with_status(
        app.post(
            "/v1/oidc-providers",
            &json!({"url": "https://GitLab.example.com/group/", "client_ids": ["gitlab"],
                    "thumbprints": [THUMB_A], "tags": [{"key": "team", "value": "ci"}],
                    "extra_claims": ["project_path", "ref_protected"]}),
        )
        .await,
        201,
    )
    .await;
    let arn = format!(
        "arn:aws:iam::{}:oidc-provider/gitlab.example.com/group",
        app.account_id
    );
    assert_eq!(created["arn"], arn.as_str(), "{created}");
    assert_eq!(created["url"], "gitlab.example.com/group");
    assert_eq!(created["key_source"], "discovery");
    assert_eq!(
        created["extra_claims"],
        json!(["project_path", "ref_protected"])
    );
    assert_eq!(created["tags"], json!([{"key": "team", "value": "ci"}]));

    // Named by ARN or by URL, `/` escaped.
    let by_url = json_with_status(
        app.get("/v1/oidc-providers/https:%2F%2Fgitlab.example.com%2Fgroup")
            .await,
        200,
    )
    .await;
    assert_eq!(by_url["arn"], arn.as_str());
    let path = format!("/v1/oidc-providers/{}", arn.replace('/', "%2F"));
    assert_error(
        app.post(
            "/v1/oidc-providers",
            &json!({"url": "https://gitlab.example.com/group"}),
        )
        .await,
        409,
        "EntityAlreadyExists",
    )
    .await;

    json_with_status(
        app.post(
            &format!("{path}/client-ids"),
            &json!({"client_id": AUDIENCE}),
        )
        .await,
        204,
    )
    .await;
    json_with_status(app.delete(&format!("{path}/client-ids/gitlab")).await, 204).await;
    json_with_status(
        app.put(
            &format!("{path}/thumbprints"),
            &json!({"thumbprints": [THUMB_B]}),
        )
        .await,
        204,
    )
    .await;
    json_with_status(
        app.post(
            &format!("{path}/tags"),
            &json!({"tags": [{"key": "env", "value": "prod"}]}),
        )
        .await,
        204,
    )
    .await;
    json_with_status(app.delete(&format!("{path}/tags?keys=team")).await, 204).await;
    let got = json_with_status(app.get(&path).await, 200).await;
    assert_eq!(got["client_ids"], json!([AUDIENCE]));
    assert_eq!(got["thumbprints"], json!([THUMB_B]));
    assert_eq!(got["tags"], json!([{"key": "env", "value": "prod"}]));
    let tags = json_with_status(app.get(&format!("{path}/tags")).await, 200).await;
    assert_eq!(tags["tags"], json!([{"key": "env", "value": "prod"}]));

    let list = json_with_status(app.get("/v1/oidc-providers").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    json_with_status(app.delete(&path).await, 204).await;
    assert_error(app.get(&path).await, 404, "NoSuchEntity").await;
    let list = json_with_status(app.get("/v1/oidc-providers").await, 200).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
}

#[tokio::test]
async fn aws_limits_and_input_checks() {
    let app = spawn_app().await;
    for (body, status, code) in [
        (
            json!({"url": "http://insecure.example"}),
            400,
            "InvalidInput",
        ),
        (
            json!({"url": "https://a.example", "thumbprints": ["abc"]}),
            400,
            "ValidationError",
        ),
        (
            json!({"url": "https://a.example", "thumbprints": [THUMB_A, THUMB_B, THUMB_A.replace('6', "7"),
                THUMB_A.replace('6', "8"), THUMB_A.replace('6', "9"), THUMB_A.replace('6', "0")]}),
            409,
            "LimitExceeded",
        ),
        (
            json!({"url": "https://a.example", "client_ids": (0..101).map(|i| i.to_string()).collect::<Vec<_>>()}),
            409,
            "LimitExceeded",
        ),
        (
            json!({"url": "https://a.example", "key_source": "static", "jwks": "{\"keys\": []}"}),
            400,
            "InvalidInput",
        ),
        (
            json!({"url": "https://a.example", "key_source": "jwks_uri", "jwks_uri": "http://a.example/keys"}),
            400,
            "InvalidInput",
        ),
        (
            json!({"url": "https://a.example", "ca_bundle_pem": "not a certificate"}),
            400,
            "InvalidInput",
        ),
    ] {
        assert_error(app.post("/v1/oidc-providers", &body).await, status, code).await;
    }
    // 100 per account.
    for i in 0..100 {
        json_with_status(
            app.post(
                "/v1/oidc-providers",
                &json!({"url": format!("https://issuer{i}.example")}),
            )
            .await,
            201,
        )
        .await;
    }
    assert_error(
        app.post(
            "/v1/oidc-providers",
            &json!({"url": "https://one-too-many.example"}),
        )
        .await,
        409,
        "LimitExceeded",
    )
    .await;
}

/// What Terraform's aws_iam_openid_connect_provider does, with the SDK.
#[tokio::test]
async fn the_provider_lifecycle_round_trips_with_the_aws_sdk() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let created = iam
        .create_open_id_connect_provider()
        .url("https://token.actions.githubusercontent.com")
        .client_id_list(AUDIENCE)
        .thumbprint_list(THUMB_A)
        .tags(
            Tag::builder()
                .key("owner")
                .value("platform")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create");
    let arn = created.open_id_connect_provider_arn().unwrap().to_string();
    assert_eq!(
        arn,
        format!(
            "arn:aws:iam::{}:oidc-provider/token.actions.githubusercontent.com",
            app.account_id
        )
    );
    assert_eq!(created.tags().len(), 1);
    let (code, status) = failure(
        iam.create_open_id_connect_provider()
            .url("https://token.actions.githubusercontent.com/")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("EntityAlreadyExists", 409));

    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("another")
        .send()
        .await
        .expect("add client id");
    iam.remove_client_id_from_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id(AUDIENCE)
        .send()
        .await
        .expect("remove client id");
    iam.update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&arn)
        .thumbprint_list(THUMB_B)
        .send()
        .await
        .expect("thumbprint");
    iam.tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .expect("tag");
    iam.untag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tag_keys("owner")
        .send()
        .await
        .expect("untag");
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .expect("get");
    assert_eq!(got.url(), Some("token.actions.githubusercontent.com"));
    assert_eq!(got.client_id_list(), ["another"]);
    assert_eq!(got.thumbprint_list(), [THUMB_B]);
    assert!(got.create_date().is_some());
    let tags: Vec<_> = got.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("env", "prod")]);
    let listed = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .expect("list tags");
    assert_eq!(listed.tags().len(), 1);

    let list = iam
        .list_open_id_connect_providers()
        .send()
        .await
        .expect("list");
    let arns: Vec<_> = list
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .collect();
    assert_eq!(arns, [arn.as_str()]);

    iam.delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .expect("delete");
    let (code, status) = failure(
        iam.get_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
}

/// A user needs the IAM action on the provider, like any IAM entity.
#[tokio::test]
async fn provider_calls_are_authorized_by_policy() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let iam = iam_client(&app, &alice);
    let (code, status) = failure(
        iam.create_open_id_connect_provider()
            .url("https://issuer.example")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    app.put_inline(
        "/v1/users/alice/policies/oidc",
        crate::helpers::policy(
            "Allow",
            json!([
                "iam:CreateOpenIDConnectProvider",
                "iam:GetOpenIDConnectProvider"
            ]),
            "*",
        ),
    )
    .await;
    let created = iam
        .create_open_id_connect_provider()
        .url("https://issuer.example")
        .send()
        .await
        .expect("create");
    let arn = created.open_id_connect_provider_arn().unwrap();
    let (code, status) = failure(
        iam.delete_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
}

/// The classic CI misconfiguration, said at write time; and trust
/// analysis names the provider as external with the claims it requires.
#[tokio::test]
async fn lint_warns_on_open_oidc_trust_and_analysis_lists_the_provider() {
    let app = spawn_app().await;
    let provider = format!(
        "arn:aws:iam::{}:oidc-provider/gitlab.example.com",
        app.account_id
    );
    let created = json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "any-project", "trust_policy": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {"gitlab.example.com:sub": "*"}}}]}}),
        )
        .await,
        201,
    )
    .await;
    let findings: Vec<(String, String)> = created["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for code in [
        "MISSING_OIDC_AUDIENCE_CONDITION",
        "OIDC_SUBJECT_UNRESTRICTED",
    ] {
        assert!(
            findings
                .iter()
                .any(|(c, s)| c == code && s == "SECURITY_WARNING"),
            "{code}: {findings:?}"
        );
    }
    let analysis =
        json_with_status(app.get("/v1/roles/any-project/trust-analysis").await, 200).await;
    let text = analysis.to_string();
    let listed = analysis["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["principal"] == provider.as_str())
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(listed["external"], true, "{listed}");
    assert_eq!(listed["principal_type"], "federated", "{listed}");
    assert!(
        listed["reason"].as_str().unwrap().contains("claims: sub"),
        "{listed}"
    );
}
