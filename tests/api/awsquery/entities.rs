//! Users, groups, access keys, login profiles and roles.

use super::*;

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
