//! Last accessed from the audit trail: the query-protocol jobs at service
//! and action level, the /v1 unused-access views, and context keys.

use aws_sdk_iam::types::{AccessAdvisorUsageGranularityType as Granularity, JobStatusType};

use super::*;

fn two_actions() -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["iam:CreateGroup", "iam:DeleteGroup"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]})
    .to_string()
}

async fn job(
    iam: &aws_sdk_iam::Client,
    arn: &str,
    granularity: Granularity,
) -> aws_sdk_iam::operation::get_service_last_accessed_details::GetServiceLastAccessedDetailsOutput
{
    let id = iam
        .generate_service_last_accessed_details()
        .arn(arn)
        .granularity(granularity)
        .send()
        .await
        .unwrap()
        .job_id()
        .unwrap()
        .to_string();
    let got = iam
        .get_service_last_accessed_details()
        .job_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.job_status(), &JobStatusType::Completed);
    got
}

#[tokio::test]
async fn a_used_action_is_named_and_an_unused_one_is_not() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let dev = app.user_with_key("dev").await;
    iam.tag_user()
        .user_name("dev")
        .tags(tag("team", "blue"))
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("dev")
        .policy_name("groups")
        .policy_document(two_actions())
        .send()
        .await
        .unwrap();
    // Used a moment ago: CreateGroup. Never used: DeleteGroup.
    iam_client(&app, &dev)
        .create_group()
        .group_name("made-by-dev")
        .send()
        .await
        .unwrap();
    let dev_arn = format!("arn:aws:iam::{}:user/dev", app.account_id);

    let got = job(&iam, &dev_arn, Granularity::ActionLevel).await;
    assert_eq!(
        got.job_type(),
        Some(&aws_sdk_iam::types::AccessAdvisorUsageGranularityType::ActionLevel)
    );
    let services = got.services_last_accessed();
    assert_eq!(services.len(), 1, "only iam is granted");
    let s = &services[0];
    assert_eq!(s.service_namespace(), "iam");
    assert!(s.last_authenticated().is_some());
    assert_eq!(s.last_authenticated_entity(), Some(dev_arn.as_str()));
    assert_eq!(s.total_authenticated_entities(), Some(1));
    let tracked = s.tracked_actions_last_accessed();
    let create = tracked
        .iter()
        .find(|a| a.action_name() == Some("CreateGroup"))
        .unwrap();
    assert!(create.last_accessed_time().is_some());
    assert_eq!(create.last_accessed_entity(), Some(dev_arn.as_str()));
    let delete = tracked
        .iter()
        .find(|a| a.action_name() == Some("DeleteGroup"))
        .unwrap();
    assert!(delete.last_accessed_time().is_none());

    // SERVICE_LEVEL: no actions listed.
    let svc = job(&iam, &dev_arn, Granularity::ServiceLevel).await;
    assert!(svc.services_last_accessed()[0]
        .tracked_actions_last_accessed()
        .is_empty());

    // /v1: the unused-access view.
    let view: Value = app
        .get("/v1/users/dev/unused-access?days=90")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["unused_actions"], json!(["iam:DeleteGroup"]), "{view}");
    assert_eq!(view["used_actions"][0]["action"], "iam:CreateGroup");
    assert_eq!(view["access_keys"][0]["unused"], false);
    assert_eq!(
        view["access_keys"][0]["access_key_id"],
        dev.access_key_id.as_str()
    );

    // Context keys: of the user's policies, and of a custom document.
    let keys = iam
        .get_context_keys_for_principal_policy()
        .policy_source_arn(&dev_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(keys.context_key_names(), ["aws:PrincipalTag/team"]);
    let custom = iam
        .get_context_keys_for_custom_policy()
        .policy_input_list(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                "Bool": {"aws:SecureTransport": "true"}}}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let mut names = custom.context_key_names().to_vec();
    names.sort();
    assert_eq!(names, ["aws:SecureTransport", "aws:SourceIp"]);

    // The policy's holders count: dev through an attached policy.
    let (code, status) = failure(
        iam.get_service_last_accessed_details()
            .job_id("no-such-job")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    let (code, _) = failure(
        iam_client(&app, &dev)
            .generate_service_last_accessed_details()
            .arn(&dev_arn)
            .send()
            .await,
    );
    assert_eq!(code, "AccessDenied");
}

#[tokio::test]
async fn a_role_is_every_one_of_its_sessions() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let role_arn = iam
        .create_role()
        .role_name("builder")
        .assume_role_policy_document(trust_root(&app.account_id))
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string();
    iam.put_role_policy()
        .role_name("builder")
        .policy_name("groups")
        .policy_document(allow("iam:CreateGroup"))
        .send()
        .await
        .unwrap();
    let never: Value = app
        .get("/v1/roles/builder/unused-access")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(never["last_assumed"]["unused"], true, "{never}");
    assert_eq!(never["unused_actions"], json!(["iam:CreateGroup"]));

    // The root may not assume roles: a user allowed to does.
    let assumer = app.user_with_key("assumer").await;
    iam.put_user_policy()
        .user_name("assumer")
        .policy_name("assume")
        .policy_document(allow("sts:AssumeRole"))
        .send()
        .await
        .unwrap();
    let sts = sts_client(&app, &assumer, None);
    for (session, group) in [("one", "g1"), ("two", "g2")] {
        let assumed = sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(session)
            .send()
            .await
            .unwrap();
        let c = assumed.credentials().unwrap();
        let creds = crate::helpers::Credentials {
            access_key_id: c.access_key_id().to_string(),
            secret_access_key: c.secret_access_key().to_string(),
        };
        iam_client_with_token(&app, &creds, Some(c.session_token().to_string()))
            .create_group()
            .group_name(group)
            .send()
            .await
            .unwrap();
    }
    let got = job(&iam, &role_arn, Granularity::ActionLevel).await;
    let s = &got.services_last_accessed()[0];
    assert_eq!(s.last_authenticated_entity(), Some(role_arn.as_str()));
    assert_eq!(s.total_authenticated_entities(), Some(1));
    assert!(s.tracked_actions_last_accessed()[0]
        .last_accessed_time()
        .is_some());

    let view: Value = app
        .get("/v1/roles/builder/unused-access?days=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["unused_actions"], json!([]), "{view}");
    assert_eq!(view["last_assumed"]["unused"], false);

    // A policy's report counts its holders: the role, through its sessions.
    let policy_arn = iam
        .create_policy()
        .policy_name("shared")
        .policy_document(allow("iam:CreateGroup"))
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    iam.attach_role_policy()
        .role_name("builder")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    let by_policy = job(&iam, &policy_arn, Granularity::ServiceLevel).await;
    assert_eq!(
        by_policy.services_last_accessed()[0].last_authenticated_entity(),
        Some(role_arn.as_str())
    );
}

#[tokio::test]
async fn a_group_job_names_the_members_behind_each_service() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    iam.create_group().group_name("devs").send().await.unwrap();
    iam.put_group_policy()
        .group_name("devs")
        .policy_name("groups")
        .policy_document(allow("iam:CreateGroup"))
        .send()
        .await
        .unwrap();
    let user = app.user_with_key("user").await;
    app.create_user("idle").await;
    for name in ["user", "idle"] {
        iam.add_user_to_group()
            .group_name("devs")
            .user_name(name)
            .send()
            .await
            .unwrap();
    }
    iam_client(&app, &user)
        .create_group()
        .group_name("made-by-user")
        .send()
        .await
        .unwrap();
    let group_arn = format!("arn:aws:iam::{}:group/devs", app.account_id);
    let id = iam
        .generate_service_last_accessed_details()
        .arn(&group_arn)
        .send()
        .await
        .unwrap()
        .job_id()
        .unwrap()
        .to_string();
    let got = iam
        .get_service_last_accessed_details_with_entities()
        .job_id(&id)
        .service_namespace("iam")
        .send()
        .await
        .unwrap();
    assert_eq!(got.job_status(), &JobStatusType::Completed);
    assert!(!got.is_truncated());
    let entities = got.entity_details_list();
    let names: Vec<&str> = entities
        .iter()
        .map(|e| e.entity_info().unwrap().name())
        .collect();
    assert_eq!(names, ["user", "idle"], "the one that used iam first");
    let used = entities[0].entity_info().unwrap();
    assert_eq!(
        used.arn(),
        format!("arn:aws:iam::{}:user/user", app.account_id)
    );
    assert_eq!(
        used.r#type(),
        &aws_sdk_iam::types::PolicyOwnerEntityType::User
    );
    assert_eq!(used.path(), Some("/"));
    assert!(used.id().starts_with("AIDA"), "{used:?}");
    assert!(entities[0].last_authenticated().is_some());
    assert!(entities[1].last_authenticated().is_none());

    // Paged by MaxItems and Marker.
    let first = iam
        .get_service_last_accessed_details_with_entities()
        .job_id(&id)
        .service_namespace("iam")
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert!(first.is_truncated());
    let rest = iam
        .get_service_last_accessed_details_with_entities()
        .job_id(&id)
        .service_namespace("iam")
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        rest.entity_details_list()[0].entity_info().unwrap().name(),
        "idle"
    );
    assert!(!rest.is_truncated());

    // A service the group is not granted: nobody.
    let none = iam
        .get_service_last_accessed_details_with_entities()
        .job_id(&id)
        .service_namespace("s3")
        .send()
        .await
        .unwrap();
    assert!(none.entity_details_list().is_empty());
    let (code, status) = failure(
        iam.get_service_last_accessed_details_with_entities()
            .job_id("no-such-job")
            .service_namespace("iam")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    // A member without the permission is refused.
    let (code, _) = failure(
        iam_client(&app, &user)
            .get_service_last_accessed_details_with_entities()
            .job_id(&id)
            .service_namespace("iam")
            .send()
            .await,
    );
    assert_eq!(code, "AccessDenied");
}
