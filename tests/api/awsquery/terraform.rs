//! The calls the Terraform AWS provider makes for its IAM resources, in
//! the order a create, a plan (refresh), an update and a destroy make them,
//! driven with the AWS SDK: each sequence must finish without an error.

use super::*;

#[tokio::test]
async fn aws_iam_role_create_plan_update_destroy() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let acct = &app.account_id;
    let boundary = iam
        .create_policy()
        .policy_name("boundary")
        .policy_document(allow("s3:*"))
        .send()
        .await
        .unwrap();
    let boundary_arn = boundary.policy().unwrap().arn().unwrap().to_string();

    // create
    iam.create_role()
        .role_name("app")
        .assume_role_policy_document(trust_root(acct))
        .description("first")
        .tags(tag("env", "dev"))
        .send()
        .await
        .unwrap();
    // plan: what the provider reads on every refresh
    let plan = async || {
        let role = iam.get_role().role_name("app").send().await.unwrap();
        iam.list_role_policies()
            .role_name("app")
            .send()
            .await
            .unwrap();
        iam.list_attached_role_policies()
            .role_name("app")
            .send()
            .await
            .unwrap();
        iam.list_instance_profiles_for_role()
            .role_name("app")
            .send()
            .await
            .unwrap();
        role.role().unwrap().clone()
    };
    let role = plan().await;
    assert_eq!(role.description(), Some("first"));

    // update: description, tags, max duration, boundary
    let updated = iam
        .update_role_description()
        .role_name("app")
        .description("second")
        .send()
        .await
        .unwrap();
    let shown = updated.role().unwrap();
    assert_eq!(shown.description(), Some("second"));
    assert_eq!(shown.role_name(), "app");
    assert_eq!(shown.tags().len(), 1);
    iam.untag_role()
        .role_name("app")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    iam.tag_role()
        .role_name("app")
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    iam.update_role()
        .role_name("app")
        .max_session_duration(7200)
        .send()
        .await
        .unwrap();
    iam.put_role_permissions_boundary()
        .role_name("app")
        .permissions_boundary(&boundary_arn)
        .send()
        .await
        .unwrap();
    let role = plan().await;
    assert_eq!(role.description(), Some("second"));
    assert_eq!(role.max_session_duration(), Some(7200));
    assert_eq!(role.tags()[0].value(), "prod");
    assert_eq!(
        role.permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some(boundary_arn.as_str())
    );
    let (code, status) = failure(
        iam.update_role_description()
            .role_name("nobody")
            .description("x")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));

    // destroy
    iam.delete_role_permissions_boundary()
        .role_name("app")
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name("app").send().await.unwrap();
    let (code, _) = failure(iam.get_role().role_name("app").send().await);
    assert_eq!(code, "NoSuchEntity");
}

#[tokio::test]
async fn aws_iam_policy_and_instance_profile_tags() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);

    let created = iam
        .create_policy()
        .policy_name("reader")
        .policy_document(allow("s3:GetObject"))
        .tags(tag("env", "dev"))
        .tags(tag("team", "blue"))
        .send()
        .await
        .unwrap();
    let arn = created.policy().unwrap().arn().unwrap().to_string();
    // read as a plan does
    let got = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(got.policy().unwrap().tags().len(), 2);
    iam.get_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    let tags = iam
        .list_policy_tags()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 2);
    assert!(!tags.is_truncated());
    // retag: default_tags changed
    iam.untag_policy()
        .policy_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    iam.tag_policy()
        .policy_arn(&arn)
        .tags(tag("env", "prod"))
        .tags(tag("owner", "ops"))
        .send()
        .await
        .unwrap();
    let tags = iam
        .list_policy_tags()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let pairs: Vec<_> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("env", "prod"), ("owner", "ops")]);
    // 50 tags at most, as on users and roles
    let mut too_many = iam.tag_policy().policy_arn(&arn);
    for i in 0..49 {
        too_many = too_many.tags(tag(&format!("k{i}"), "v"));
    }
    let (code, status) = failure(too_many.send().await);
    assert_eq!((code.as_str(), status), ("LimitExceeded", 409));
    let (code, _) = failure(
        iam.tag_policy()
            .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
            .tags(tag("a", "b"))
            .send()
            .await,
    );
    assert!(code == "InvalidInput" || code == "NoSuchEntity", "{code}");
    // destroy
    iam.delete_policy().policy_arn(&arn).send().await.unwrap();
    let (code, _) = failure(iam.list_policy_tags().policy_arn(&arn).send().await);
    assert_eq!(code, "NoSuchEntity");

    // aws_iam_instance_profile: tags at create, in GetInstanceProfile, retag
    let profile = iam
        .create_instance_profile()
        .instance_profile_name("web")
        .tags(tag("env", "dev"))
        .send()
        .await
        .unwrap();
    assert_eq!(profile.instance_profile().unwrap().tags().len(), 1);
    iam.tag_instance_profile()
        .instance_profile_name("web")
        .tags(tag("team", "red"))
        .send()
        .await
        .unwrap();
    iam.untag_instance_profile()
        .instance_profile_name("web")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let got = iam
        .get_instance_profile()
        .instance_profile_name("web")
        .send()
        .await
        .unwrap();
    let tags = got.instance_profile().unwrap().tags();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].key(), "team");
    let listed = iam
        .list_instance_profile_tags()
        .instance_profile_name("web")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.tags().len(), 1);
    let (code, status) = failure(
        iam.list_instance_profile_tags()
            .instance_profile_name("nope")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    iam.delete_instance_profile()
        .instance_profile_name("web")
        .send()
        .await
        .unwrap();
    // A profile created again under the name starts without the old tags.
    iam.create_instance_profile()
        .instance_profile_name("web")
        .send()
        .await
        .unwrap();
    let listed = iam
        .list_instance_profile_tags()
        .instance_profile_name("web")
        .send()
        .await
        .unwrap();
    assert!(listed.tags().is_empty());
}

#[tokio::test]
async fn aws_iam_user_force_destroy_and_group_rename() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);

    iam.create_user().user_name("bob").send().await.unwrap();
    // force_destroy lists every credential kind before DeleteUser
    let keys = iam
        .list_ssh_public_keys()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    assert!(keys.ssh_public_keys().is_empty());
    assert!(!keys.is_truncated());
    let certs = iam
        .list_signing_certificates()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    assert!(certs.certificates().is_empty());
    let creds = iam
        .list_service_specific_credentials()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    assert!(creds.service_specific_credentials().is_empty());
    iam.list_access_keys()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    iam.list_groups_for_user()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    iam.delete_user().user_name("bob").send().await.unwrap();
    for (code, status) in [
        failure(iam.list_ssh_public_keys().user_name("bob").send().await),
        failure(
            iam.list_signing_certificates()
                .user_name("bob")
                .send()
                .await,
        ),
        failure(
            iam.list_service_specific_credentials()
                .user_name("bob")
                .send()
                .await,
        ),
    ] {
        assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    }
    // Without UserName: the caller's own (the root has none).
    let own = iam.list_ssh_public_keys().send().await.unwrap();
    assert!(own.ssh_public_keys().is_empty());

    // aws_iam_group: rename keeps members and attachments
    iam.create_group().group_name("devs").send().await.unwrap();
    iam.create_group().group_name("taken").send().await.unwrap();
    iam.create_user().user_name("carol").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("devs")
        .user_name("carol")
        .send()
        .await
        .unwrap();
    let policy = iam
        .create_policy()
        .policy_name("p")
        .policy_document(allow("s3:*"))
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().arn().unwrap().to_string();
    iam.attach_group_policy()
        .group_name("devs")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    let (code, status) = failure(
        iam.update_group()
            .group_name("devs")
            .new_group_name("Taken")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("EntityAlreadyExists", 409));
    iam.update_group()
        .group_name("devs")
        .new_group_name("engineers")
        .new_path("/eng/")
        .send()
        .await
        .unwrap();
    let got = iam
        .get_group()
        .group_name("engineers")
        .send()
        .await
        .unwrap();
    let group = got.group().unwrap();
    assert_eq!(group.path(), "/eng/");
    assert_eq!(
        group.arn(),
        format!("arn:aws:iam::{}:group/eng/engineers", app.account_id)
    );
    assert_eq!(got.users()[0].user_name(), "carol");
    let attached = iam
        .list_attached_group_policies()
        .group_name("engineers")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 1);
    let (code, _) = failure(iam.get_group().group_name("devs").send().await);
    assert_eq!(code, "NoSuchEntity");
    let (code, _) = failure(
        iam.update_group()
            .group_name("devs")
            .new_group_name("x")
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity");
}
