//! The AWS query protocol driven by the AWS SDK for Rust: every IAM action
//! the front end answers, paginators, error codes and policy documents
//! that round-trip; raw requests for the protocol's own errors.

use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::config::{BehaviorVersion, Credentials as SdkCredentials, Region};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, EntityType, StatusType, Tag};
use percent_encoding::percent_decode_str;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Credentials, TestApp};
use crate::signing::{send, sign_request, Signing};

fn sdk_credentials(creds: &Credentials, token: Option<String>) -> SdkCredentials {
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
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&app.address)
        .credentials_provider(sdk_credentials(creds, None))
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
fn decoded(document: Option<&str>) -> Value {
    let text = percent_decode_str(document.expect("a document"))
        .decode_utf8()
        .expect("UTF-8");
    serde_json::from_str(&text).expect("JSON")
}

fn allow(action: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
        .to_string()
}

fn trust_root(account: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "sts:AssumeRole"}]})
    .to_string()
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

#[tokio::test]
async fn users_groups_membership_tags_and_boundaries() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);

    let created = iam
        .create_user()
        .user_name("alice")
        .path("/team/")
        .tags(tag("env", "dev"))
        .send()
        .await
        .unwrap();
    let user = created.user().unwrap();
    assert_eq!(user.user_name(), "alice");
    assert_eq!(user.path(), "/team/");
    assert!(user.user_id().starts_with("AIDA"));
    assert_eq!(
        user.arn(),
        format!("arn:aws:iam::{}:user/team/alice", app.account_id)
    );
    assert_eq!(user.tags()[0].key(), "env");

    let (code, status) = failure(iam.create_user().user_name("ALICE").send().await);
    assert_eq!((code.as_str(), status), ("EntityAlreadyExists", 409));
    let (code, status) = failure(iam.get_user().user_name("nobody").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));

    // Without UserName, the caller: here the root user.
    let me = iam.get_user().send().await.unwrap();
    assert_eq!(
        me.user().unwrap().arn(),
        format!("arn:aws:iam::{}:root", app.account_id)
    );

    iam.update_user()
        .user_name("alice")
        .new_user_name("alicia")
        .send()
        .await
        .unwrap();
    let got = iam.get_user().user_name("alicia").send().await.unwrap();
    assert_eq!(got.user().unwrap().tags().len(), 1);
    let listed = iam.list_users().send().await.unwrap();
    assert_eq!(listed.users().len(), 1);
    assert!(!listed.is_truncated());

    iam.tag_user()
        .user_name("alicia")
        .tags(tag("team", "blue"))
        .send()
        .await
        .unwrap();
    let tags = iam
        .list_user_tags()
        .user_name("alicia")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 2);
    iam.untag_user()
        .user_name("alicia")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let tags = iam
        .list_user_tags()
        .user_name("alicia")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().iter().map(|t| t.key()).collect::<Vec<_>>(),
        ["team"]
    );

    let boundary = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";
    iam.put_user_permissions_boundary()
        .user_name("alicia")
        .permissions_boundary(boundary)
        .send()
        .await
        .unwrap();
    let got = iam.get_user().user_name("alicia").send().await.unwrap();
    let pb = got.user().unwrap().permissions_boundary().unwrap();
    assert_eq!(pb.permissions_boundary_arn(), Some(boundary));
    iam.delete_user_permissions_boundary()
        .user_name("alicia")
        .send()
        .await
        .unwrap();
    let got = iam.get_user().user_name("alicia").send().await.unwrap();
    assert!(got.user().unwrap().permissions_boundary().is_none());

    let group = iam.create_group().group_name("devs").send().await.unwrap();
    assert!(group.group().unwrap().group_id().starts_with("AGPA"));
    iam.add_user_to_group()
        .group_name("devs")
        .user_name("alicia")
        .send()
        .await
        .unwrap();
    let got = iam.get_group().group_name("devs").send().await.unwrap();
    assert_eq!(got.users()[0].user_name(), "alicia");
    let groups = iam
        .list_groups_for_user()
        .user_name("alicia")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups()[0].group_name(), "devs");
    assert_eq!(iam.list_groups().send().await.unwrap().groups().len(), 1);

    let (code, status) = failure(iam.delete_group().group_name("devs").send().await);
    assert_eq!((code.as_str(), status), ("DeleteConflict", 409));
    let (code, _) = failure(iam.delete_user().user_name("alicia").send().await);
    assert_eq!(code, "DeleteConflict");
    iam.remove_user_from_group()
        .group_name("devs")
        .user_name("alicia")
        .send()
        .await
        .unwrap();
    iam.delete_group().group_name("devs").send().await.unwrap();
    iam.delete_user().user_name("alicia").send().await.unwrap();
    assert!(iam.list_users().send().await.unwrap().users().is_empty());
}

#[tokio::test]
async fn access_keys_login_profiles_and_the_callers_own_user() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    iam.create_user().user_name("bob").send().await.unwrap();

    let key = iam
        .create_access_key()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    assert!(key.access_key_id().starts_with("AKIA"));
    assert_eq!(key.secret_access_key().len(), 40);
    assert_eq!(key.status(), &StatusType::Active);
    let bob = Credentials {
        access_key_id: key.access_key_id().to_string(),
        secret_access_key: key.secret_access_key().to_string(),
    };

    // A user without permissions is denied, with AWS's code and status.
    let as_bob = iam_client(&app, &bob);
    let (code, status) = failure(as_bob.list_users().send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));

    iam.put_user_policy()
        .user_name("bob")
        .policy_name("self")
        .policy_document(allow("iam:*AccessKey*"))
        .send()
        .await
        .unwrap();
    // Without UserName, bob's own keys.
    let own = as_bob.list_access_keys().send().await.unwrap();
    assert_eq!(own.access_key_metadata().len(), 1);
    assert_eq!(own.access_key_metadata()[0].user_name(), Some("bob"));
    let second = as_bob.create_access_key().send().await.unwrap();
    let second_id = second.access_key().unwrap().access_key_id().to_string();
    let (code, status) = failure(as_bob.create_access_key().send().await);
    assert_eq!((code.as_str(), status), ("LimitExceeded", 409));

    let used = iam
        .get_access_key_last_used()
        .access_key_id(&second_id)
        .send()
        .await
        .unwrap();
    assert_eq!(used.user_name(), Some("bob"));
    let last = used.access_key_last_used().unwrap();
    assert!(last.last_used_date().is_none());
    assert_eq!(last.service_name(), "N/A");
    assert_eq!(last.region(), "N/A");

    as_bob
        .update_access_key()
        .access_key_id(&second_id)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let keys = iam
        .list_access_keys()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    let statuses: Vec<_> = keys
        .access_key_metadata()
        .iter()
        .map(|k| k.status().cloned())
        .collect();
    assert!(statuses.contains(&Some(StatusType::Inactive)));
    as_bob
        .delete_access_key()
        .access_key_id(&second_id)
        .send()
        .await
        .unwrap();
    let (code, _) = failure(
        iam.delete_access_key()
            .user_name("bob")
            .access_key_id(&second_id)
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity");

    let created = iam
        .create_login_profile()
        .user_name("bob")
        .password("correct horse battery")
        .password_reset_required(true)
        .send()
        .await
        .unwrap();
    assert!(created.login_profile().unwrap().password_reset_required());
    let (code, _) = failure(
        iam.create_login_profile()
            .user_name("bob")
            .password("another one!")
            .send()
            .await,
    );
    assert_eq!(code, "EntityAlreadyExists");
    iam.update_login_profile()
        .user_name("bob")
        .password_reset_required(false)
        .send()
        .await
        .unwrap();
    let got = iam
        .get_login_profile()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    assert!(!got.login_profile().unwrap().password_reset_required());
    iam.delete_login_profile()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    let (code, status) = failure(iam.get_login_profile().user_name("bob").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    let (code, _) = failure(
        iam.update_login_profile()
            .user_name("bob")
            .password("whatever12")
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity");

    let summary = iam.get_account_summary().send().await.unwrap();
    let map = summary.summary_map().unwrap();
    assert_eq!(
        map.get(&aws_sdk_iam::types::SummaryKeyType::Users),
        Some(&1)
    );
    assert_eq!(
        map.get(&aws_sdk_iam::types::SummaryKeyType::AccessKeysPerUserQuota),
        Some(&2)
    );
}

#[tokio::test]
async fn roles_trust_policies_and_documents_round_trip() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let trust = trust_root(&app.account_id);
    let role = iam
        .create_role()
        .role_name("deployer")
        .assume_role_policy_document(&trust)
        .description("ships things")
        .max_session_duration(7200)
        .tags(tag("team", "ops"))
        .send()
        .await
        .unwrap();
    let role = role.role().unwrap();
    assert!(role.role_id().starts_with("AROA"));
    let sent: Value = serde_json::from_str(&trust).unwrap();
    assert_eq!(decoded(role.assume_role_policy_document()), sent);

    let got = iam.get_role().role_name("deployer").send().await.unwrap();
    let got = got.role().unwrap();
    assert_eq!(got.max_session_duration(), Some(7200));
    assert_eq!(got.description(), Some("ships things"));
    assert_eq!(decoded(got.assume_role_policy_document()), sent);
    let listed = iam.list_roles().send().await.unwrap();
    assert_eq!(listed.roles().len(), 1);
    assert_eq!(
        decoded(listed.roles()[0].assume_role_policy_document()),
        sent
    );

    let (code, status) = failure(
        iam.create_role()
            .role_name("broken")
            .assume_role_policy_document("{\"Version\": \"2012-10-17\"")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("MalformedPolicyDocument", 400));

    iam.update_role()
        .role_name("deployer")
        .max_session_duration(3600)
        .send()
        .await
        .unwrap();
    let narrower = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    iam.update_assume_role_policy()
        .role_name("deployer")
        .policy_document(narrower.to_string())
        .send()
        .await
        .unwrap();
    let got = iam.get_role().role_name("deployer").send().await.unwrap();
    assert_eq!(got.role().unwrap().max_session_duration(), Some(3600));
    assert_eq!(
        decoded(got.role().unwrap().assume_role_policy_document()),
        narrower
    );

    iam.tag_role()
        .role_name("deployer")
        .tags(tag("tier", "1"))
        .send()
        .await
        .unwrap();
    iam.untag_role()
        .role_name("deployer")
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = iam
        .list_role_tags()
        .role_name("deployer")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().iter().map(|t| t.key()).collect::<Vec<_>>(),
        ["tier"]
    );

    let boundary = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";
    iam.put_role_permissions_boundary()
        .role_name("deployer")
        .permissions_boundary(boundary)
        .send()
        .await
        .unwrap();
    let got = iam.get_role().role_name("deployer").send().await.unwrap();
    let pb = got.role().unwrap().permissions_boundary().unwrap();
    assert_eq!(pb.permissions_boundary_arn(), Some(boundary));
    iam.delete_role_permissions_boundary()
        .role_name("deployer")
        .send()
        .await
        .unwrap();

    iam.delete_role()
        .role_name("deployer")
        .send()
        .await
        .unwrap();
    let (code, _) = failure(iam.get_role().role_name("deployer").send().await);
    assert_eq!(code, "NoSuchEntity");
}

#[tokio::test]
async fn inline_and_managed_policies_with_versions_and_attachments() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    iam.create_user().user_name("u").send().await.unwrap();
    iam.create_group().group_name("g").send().await.unwrap();
    iam.create_role()
        .role_name("r")
        .assume_role_policy_document(trust_root(&app.account_id))
        .send()
        .await
        .unwrap();

    // Inline policies, for each kind of holder; the document comes back
    // URL-encoded and decodes to the same JSON, odd characters included.
    let document = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Odd", "Effect": "Allow",
        "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::bucket/a b+c&d=é/*"}]});
    iam.put_user_policy()
        .user_name("u")
        .policy_name("p")
        .policy_document(document.to_string())
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name("g")
        .policy_name("p")
        .policy_document(document.to_string())
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("r")
        .policy_name("p")
        .policy_document(document.to_string())
        .send()
        .await
        .unwrap();
    let got = iam
        .get_user_policy()
        .user_name("u")
        .policy_name("p")
        .send()
        .await
        .unwrap();
    assert_eq!((got.user_name(), got.policy_name()), ("u", "p"));
    assert_eq!(decoded(Some(got.policy_document())), document);
    let got = iam
        .get_group_policy()
        .group_name("g")
        .policy_name("p")
        .send()
        .await
        .unwrap();
    assert_eq!(decoded(Some(got.policy_document())), document);
    let got = iam
        .get_role_policy()
        .role_name("r")
        .policy_name("p")
        .send()
        .await
        .unwrap();
    assert_eq!(decoded(Some(got.policy_document())), document);
    assert_eq!(
        iam.list_user_policies()
            .user_name("u")
            .send()
            .await
            .unwrap()
            .policy_names(),
        ["p"]
    );
    assert_eq!(
        iam.list_group_policies()
            .group_name("g")
            .send()
            .await
            .unwrap()
            .policy_names(),
        ["p"]
    );
    assert_eq!(
        iam.list_role_policies()
            .role_name("r")
            .send()
            .await
            .unwrap()
            .policy_names(),
        ["p"]
    );
    let (code, status) = failure(
        iam.put_role_policy()
            .role_name("r")
            .policy_name("bad")
            .policy_document("{\"Statement\": 3}")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("MalformedPolicyDocument", 400));
    let (code, _) = failure(iam.delete_role().role_name("r").send().await);
    assert_eq!(code, "DeleteConflict");
    iam.delete_user_policy()
        .user_name("u")
        .policy_name("p")
        .send()
        .await
        .unwrap();
    iam.delete_group_policy()
        .group_name("g")
        .policy_name("p")
        .send()
        .await
        .unwrap();
    iam.delete_role_policy()
        .role_name("r")
        .policy_name("p")
        .send()
        .await
        .unwrap();
    let (code, _) = failure(
        iam.get_role_policy()
            .role_name("r")
            .policy_name("p")
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity");

    // Managed policies and versions.
    let v1 = allow("s3:ListBucket");
    let created = iam
        .create_policy()
        .policy_name("readers")
        .policy_document(&v1)
        .description("read")
        .send()
        .await
        .unwrap();
    let arn = created.policy().unwrap().arn().unwrap().to_string();
    assert_eq!(created.policy().unwrap().default_version_id(), Some("v1"));
    let (code, _) = failure(
        iam.create_policy()
            .policy_name("readers")
            .policy_document(&v1)
            .send()
            .await,
    );
    assert_eq!(code, "EntityAlreadyExists");
    let local = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    assert_eq!(local.policies().len(), 1);
    let all = iam.list_policies().send().await.unwrap();
    assert!(all
        .policies()
        .iter()
        .any(|p| p.arn() == Some("arn:aws:iam::aws:policy/IAMReadOnlyAccess")));

    let v2 = allow("s3:*");
    let version = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(&v2)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    assert_eq!(version.policy_version().unwrap().version_id(), Some("v2"));
    assert!(version.policy_version().unwrap().is_default_version());
    let got = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    let got = got.policy_version().unwrap();
    assert!(!got.is_default_version());
    assert_eq!(
        decoded(got.document()),
        serde_json::from_str::<Value>(&v1).unwrap()
    );
    for _ in 0..3 {
        iam.create_policy_version()
            .policy_arn(&arn)
            .policy_document(&v2)
            .send()
            .await
            .unwrap();
    }
    let (code, status) = failure(
        iam.create_policy_version()
            .policy_arn(&arn)
            .policy_document(&v2)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("LimitExceeded", 409));
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 5);
    iam.set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    let (code, _) = failure(
        iam.delete_policy_version()
            .policy_arn(&arn)
            .version_id("v1")
            .send()
            .await,
    );
    assert_eq!(code, "DeleteConflict");
    for v in ["v2", "v3", "v4", "v5"] {
        iam.delete_policy_version()
            .policy_arn(&arn)
            .version_id(v)
            .send()
            .await
            .unwrap();
    }

    // Attachments, for each kind of holder.
    iam.attach_user_policy()
        .user_name("u")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("g")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let attached = iam
        .list_attached_user_policies()
        .user_name("u")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some(arn.as_str())
    );
    let attached = iam
        .list_attached_group_policies()
        .group_name("g")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_name(),
        Some("readers")
    );
    let attached = iam
        .list_attached_role_policies()
        .role_name("r")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 1);
    let got = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(got.policy().unwrap().attachment_count(), Some(3));
    let entities = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(entities.policy_users()[0].user_name(), Some("u"));
    assert_eq!(entities.policy_groups()[0].group_name(), Some("g"));
    assert_eq!(entities.policy_roles()[0].role_name(), Some("r"));
    let only_roles = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .entity_filter(EntityType::Role)
        .send()
        .await
        .unwrap();
    assert!(only_roles.policy_users().is_empty());
    assert_eq!(only_roles.policy_roles().len(), 1);
    let (code, status) = failure(iam.delete_policy().policy_arn(&arn).send().await);
    assert_eq!((code.as_str(), status), ("DeleteConflict", 409));
    let (code, _) = failure(
        iam.attach_role_policy()
            .role_name("r")
            .policy_arn("arn:aws:iam::aws:policy/Nope")
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity");

    iam.detach_user_policy()
        .user_name("u")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.detach_group_policy()
        .group_name("g")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.detach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.delete_policy().policy_arn(&arn).send().await.unwrap();
    let (code, _) = failure(iam.get_policy().policy_arn(&arn).send().await);
    assert_eq!(code, "NoSuchEntity");
}

#[tokio::test]
async fn paginators_walk_every_page_with_the_stores_marker() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    for i in 0..7 {
        iam.create_user()
            .user_name(format!("user-{i}"))
            .send()
            .await
            .unwrap();
    }
    let first = iam.list_users().max_items(3).send().await.unwrap();
    assert!(first.is_truncated());
    assert!(first.marker().is_some());
    let pages: Vec<_> = iam
        .list_users()
        .max_items(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 4);
    let names: Vec<String> = iam
        .list_users()
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.user_name().to_string())
        .collect();
    assert_eq!(
        names,
        (0..7).map(|i| format!("user-{i}")).collect::<Vec<_>>()
    );
    let (code, status) = failure(iam.list_users().marker("not-a-marker").send().await);
    assert_eq!(status, 400, "{code}");
}

#[tokio::test]
async fn simulate_principal_and_custom_policies() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    iam.create_user().user_name("sim").send().await.unwrap();
    let deny = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]});
    iam.put_user_policy()
        .user_name("sim")
        .policy_name("s3")
        .policy_document(deny.to_string())
        .send()
        .await
        .unwrap();
    let user_arn = format!("arn:aws:iam::{}:user/sim", app.account_id);

    let out = iam
        .simulate_principal_policy()
        .policy_source_arn(&user_arn)
        .action_names("s3:GetObject")
        .action_names("s3:DeleteObject")
        .action_names("ec2:RunInstances")
        .send()
        .await
        .unwrap();
    let decisions: Vec<_> = out
        .evaluation_results()
        .iter()
        .map(|r| (r.eval_action_name(), r.eval_decision().as_str()))
        .collect();
    assert_eq!(
        decisions,
        [
            ("s3:GetObject", "allowed"),
            ("s3:DeleteObject", "explicitDeny"),
            ("ec2:RunInstances", "implicitDeny")
        ]
    );
    assert_eq!(
        out.evaluation_results()[0].matched_statements()[0].source_policy_id(),
        Some("s3")
    );

    let conditional = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}}}]});
    let out = iam
        .simulate_custom_policy()
        .policy_input_list(conditional.to_string())
        .action_names("s3:GetObject")
        .resource_arns("arn:aws:s3:::b/k")
        .send()
        .await
        .unwrap();
    let result = &out.evaluation_results()[0];
    assert_eq!(result.eval_decision().as_str(), "implicitDeny");
    assert_eq!(result.eval_resource_name(), Some("arn:aws:s3:::b/k"));
    assert_eq!(result.missing_context_values(), ["aws:RequestTag/team"]);
    let out = iam
        .simulate_custom_policy()
        .policy_input_list(conditional.to_string())
        .action_names("s3:GetObject")
        .context_entries(
            ContextEntry::builder()
                .context_key_name("aws:RequestTag/team")
                .context_key_values("blue")
                .context_key_type(ContextKeyTypeEnum::String)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let result = &out.evaluation_results()[0];
    assert_eq!(result.eval_decision().as_str(), "allowed");
    assert_eq!(
        result.matched_statements()[0].source_policy_id(),
        Some("PolicyInputList.1")
    );
    let (code, _) = failure(
        iam.simulate_custom_policy()
            .policy_input_list("not json")
            .action_names("s3:GetObject")
            .send()
            .await,
    );
    assert_eq!(code, "MalformedPolicyDocument");
}

#[tokio::test]
async fn sts_get_caller_identity_for_root_and_users() {
    let app = spawn_app().await;
    let sts = sts_client(&app, &app.root, None);
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(app.account_id.as_str()));
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{}:root", app.account_id).as_str())
    );

    // No permission is needed, as in AWS.
    let carol = app.user_with_key("carol").await;
    let me = sts_client(&app, &carol, None)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{}:user/carol", app.account_id).as_str())
    );
    assert!(me.user_id().unwrap().starts_with("AIDA"));

    let forged = Credentials {
        secret_access_key: "x".repeat(40),
        ..carol
    };
    let err = sts_client(&app, &forged, None)
        .get_caller_identity()
        .send()
        .await;
    let err = err.expect_err("a wrong secret fails");
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
}

/// Posts a signed form to `/` and returns status and body.
async fn post_form(app: &TestApp, creds: &Credentials, service: &str, form: &str) -> (u16, String) {
    let mut signing = Signing::now(creds);
    signing.service = service;
    let content_type = (
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    );
    let signed = sign_request(
        &signing,
        "POST",
        &app.url("/"),
        &[content_type],
        form.as_bytes(),
    );
    let response = send(&app.client, Method::POST, &signed, form.as_bytes().to_vec()).await;
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "text/xml");
    assert!(response.headers().contains_key("x-amzn-requestid"));
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn protocol_errors_are_aws_xml() {
    let app = spawn_app().await;
    let iam_ns = "xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"";
    let sts_ns = "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"";

    let (status, body) = post_form(
        &app,
        &app.root,
        "iam",
        "Action=Frobnicate&Version=2010-05-08",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.starts_with(&format!(
            "<ErrorResponse {iam_ns}><Error><Type>Sender</Type><Code>InvalidAction</Code>"
        )),
        "{body}"
    );
    assert!(body.contains("<RequestId>"), "{body}");
    // An IAM action asked of STS's version is unknown there.
    let (status, body) = post_form(
        &app,
        &app.root,
        "sts",
        "Action=ListUsers&Version=2011-06-15",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body.contains(sts_ns) && body.contains("<Code>InvalidAction</Code>"),
        "{body}"
    );

    let (status, body) = post_form(&app, &app.root, "iam", "Version=2010-05-08").await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>MissingAction</Code>"), "{body}");
    let (status, body) =
        post_form(&app, &app.root, "iam", "Action=GetRole&Version=2010-05-08").await;
    assert_eq!(status, 400);
    assert!(
        body.contains("<Code>MissingParameter</Code>") && body.contains("RoleName"),
        "{body}"
    );
    let (status, body) = post_form(
        &app,
        &app.root,
        "iam",
        "Action=ListUsers&Version=2010-05-08&MaxItems=lots",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>ValidationError</Code>"), "{body}");

    // Without Version, the action finds its service; the reply is IAM's.
    let (status, body) = post_form(&app, &app.root, "iam", "Action=ListUsers").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with(&format!("<ListUsersResponse {iam_ns}><ListUsersResult><Users></Users><IsTruncated>false</IsTruncated></ListUsersResult><ResponseMetadata><RequestId>")), "{body}");
    let (status, body) = post_form(&app, &app.root, "sts", "Action=GetCallerIdentity").await;
    assert_eq!(status, 200);
    assert!(
        body.starts_with(&format!(
            "<GetCallerIdentityResponse {sts_ns}><GetCallerIdentityResult><UserId>"
        )),
        "{body}"
    );

    // Operations without output answer with the metadata only.
    let (status, body) = post_form(
        &app,
        &app.root,
        "iam",
        "Action=CreateGroup&Version=2010-05-08&GroupName=g",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = post_form(
        &app,
        &app.root,
        "iam",
        "Action=DeleteGroup&Version=2010-05-08&GroupName=g",
    )
    .await;
    assert!(
        body.starts_with(&format!(
            "<DeleteGroupResponse {iam_ns}><ResponseMetadata><RequestId>"
        )),
        "{body}"
    );

    // Credentials fail with 403 here (401 on /v1), in the XML envelope.
    let response = app
        .client
        .post(app.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=ListUsers&Version=2010-05-08")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );
    let unknown = Credentials {
        access_key_id: "AKIAAAAAAAAAAAAAAAAA".into(),
        secret_access_key: "x".repeat(40),
    };
    let (status, body) =
        post_form(&app, &unknown, "iam", "Action=ListUsers&Version=2010-05-08").await;
    assert_eq!(status, 403);
    assert!(body.contains("<Code>InvalidClientTokenId</Code>"), "{body}");
}

#[tokio::test]
async fn presigned_get_works_like_the_post() {
    let app = spawn_app().await;
    let mut signing = Signing::now(&app.root);
    signing.presigned = true;
    signing.service = "sts";
    let url = app.url("/?Action=GetCallerIdentity&Version=2011-06-15");
    let signed = sign_request(&signing, "GET", &url, &[], b"");
    let response = send(&app.client, Method::GET, &signed, vec![]).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(
        body.contains(&format!("<Account>{}</Account>", app.account_id)),
        "{body}"
    );
}
