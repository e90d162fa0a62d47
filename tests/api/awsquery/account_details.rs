//! GetAccountAuthorizationDetails read by the SDK: every part of a small
//! account, the filters, and pages that cross entity kinds.

use aws_sdk_iam::types::EntityType as Filter;

use super::*;

async fn fixture(iam: &aws_sdk_iam::Client, account: &str) -> String {
    let policy = iam
        .create_policy()
        .policy_name("readers")
        .policy_document(allow("iam:Get*"))
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_string();
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(allow("iam:List*"))
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("ops").send().await.unwrap();
    iam.put_group_policy()
        .group_name("ops")
        .policy_name("g-inline")
        .policy_document(allow("iam:ListUsers"))
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("ops")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.create_user()
        .user_name("alice")
        .permissions_boundary(&arn)
        .tags(tag("team", "blue"))
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("ops")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("u-inline")
        .policy_document(allow("iam:GetUser"))
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("alice")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("bob").send().await.unwrap();
    iam.create_role()
        .role_name("deployer")
        .assume_role_policy_document(trust_root(account))
        .permissions_boundary(&arn)
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("deployer")
        .policy_name("r-inline")
        .policy_document(allow("sts:GetCallerIdentity"))
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("deployer")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("deployer-profile")
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name("deployer-profile")
        .role_name("deployer")
        .send()
        .await
        .unwrap();
    arn
}

#[tokio::test]
async fn every_part_of_the_account_as_the_sdk_reads_it() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let arn = fixture(&iam, &app.account_id).await;

    let all = iam
        .get_account_authorization_details()
        .filter(Filter::User)
        .filter(Filter::Group)
        .filter(Filter::Role)
        .filter(Filter::LocalManagedPolicy)
        .send()
        .await
        .unwrap();
    assert!(!all.is_truncated());

    let users = all.user_detail_list();
    let names: Vec<_> = users.iter().filter_map(|u| u.user_name()).collect();
    assert_eq!(names, ["alice", "bob"]);
    let alice = &users[0];
    assert_eq!(alice.group_list(), ["ops"]);
    let inline = &alice.user_policy_list()[0];
    assert_eq!(inline.policy_name(), Some("u-inline"));
    assert_eq!(
        decoded(inline.policy_document())["Statement"][0]["Action"],
        "iam:GetUser"
    );
    assert_eq!(
        alice.attached_managed_policies()[0].policy_arn(),
        Some(arn.as_str())
    );
    assert_eq!(
        alice
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some(arn.as_str())
    );
    assert_eq!(alice.tags()[0].key(), "team");
    assert!(users[1].user_policy_list().is_empty());

    let group = &all.group_detail_list()[0];
    assert_eq!(group.group_name(), Some("ops"));
    assert_eq!(group.group_policy_list()[0].policy_name(), Some("g-inline"));
    assert_eq!(group.attached_managed_policies().len(), 1);

    let role = &all.role_detail_list()[0];
    assert_eq!(role.role_name(), Some("deployer"));
    assert_eq!(
        decoded(role.assume_role_policy_document())["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{}:root", app.account_id)
    );
    assert_eq!(role.role_policy_list()[0].policy_name(), Some("r-inline"));
    assert_eq!(role.attached_managed_policies().len(), 1);
    let profile = &role.instance_profile_list()[0];
    assert_eq!(profile.instance_profile_name(), "deployer-profile");
    assert_eq!(profile.roles()[0].role_name(), "deployer");
    assert!(role.permissions_boundary().is_some());
    assert_eq!(role.tags()[0].value(), "prod");
    assert!(role.role_last_used().is_some());

    let policies = all.policies();
    assert_eq!(policies.len(), 1, "only the account's own policies");
    let p = &policies[0];
    assert_eq!(p.arn(), Some(arn.as_str()));
    assert_eq!(p.default_version_id(), Some("v2"));
    // Attached to alice, ops and deployer; the boundary of alice and deployer.
    assert_eq!(p.attachment_count(), Some(3));
    assert_eq!(p.permissions_boundary_usage_count(), Some(2));
    let versions = p.policy_version_list();
    assert_eq!(versions.len(), 2, "every version");
    let v1 = versions
        .iter()
        .find(|v| v.version_id() == Some("v1"))
        .unwrap();
    assert!(!v1.is_default_version());
    assert_eq!(decoded(v1.document())["Statement"][0]["Action"], "iam:Get*");
    let v2 = versions
        .iter()
        .find(|v| v.version_id() == Some("v2"))
        .unwrap();
    assert!(v2.is_default_version());

    // One filter: only that kind.
    let roles_only = iam
        .get_account_authorization_details()
        .filter(Filter::Role)
        .send()
        .await
        .unwrap();
    assert!(roles_only.user_detail_list().is_empty());
    assert!(roles_only.policies().is_empty());
    assert_eq!(roles_only.role_detail_list().len(), 1);

    // The built-in policies are the AWS-managed ones.
    let aws = iam
        .get_account_authorization_details()
        .filter(Filter::AwsManagedPolicy)
        .send()
        .await
        .unwrap();
    assert!(aws
        .policies()
        .iter()
        .all(|p| p.arn().unwrap().starts_with("arn:aws:iam::aws:policy/")));

    let (code, status) = failure(
        iam.get_account_authorization_details()
            .marker("not-a-marker!")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("InvalidInput", 400));
}

#[tokio::test]
async fn pages_cross_entity_kinds_and_end_exactly() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    fixture(&iam, &app.account_id).await;
    let kinds = [
        Filter::User,
        Filter::Group,
        Filter::Role,
        Filter::LocalManagedPolicy,
    ];
    // 2 users, 1 group, 1 role, 1 policy: five entities.
    for max_items in [1, 2, 3, 5] {
        let mut seen = Vec::new();
        let mut marker: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = iam
                .get_account_authorization_details()
                .set_filter(Some(kinds.to_vec()))
                .max_items(max_items)
                .set_marker(marker.clone())
                .send()
                .await
                .unwrap();
            pages += 1;
            let n = page.user_detail_list().len()
                + page.group_detail_list().len()
                + page.role_detail_list().len()
                + page.policies().len();
            assert!(n <= max_items as usize);
            seen.extend(
                page.user_detail_list()
                    .iter()
                    .map(|u| u.user_name().unwrap().to_string()),
            );
            seen.extend(
                page.group_detail_list()
                    .iter()
                    .map(|g| g.group_name().unwrap().to_string()),
            );
            seen.extend(
                page.role_detail_list()
                    .iter()
                    .map(|r| r.role_name().unwrap().to_string()),
            );
            seen.extend(
                page.policies()
                    .iter()
                    .map(|p| p.policy_name().unwrap().to_string()),
            );
            if !page.is_truncated() {
                assert!(page.marker().is_none());
                break;
            }
            assert!(n > 0, "a truncated page is never empty");
            marker = page.marker().map(String::from);
        }
        assert_eq!(
            seen,
            ["alice", "bob", "ops", "deployer", "readers"],
            "max {max_items}"
        );
        assert_eq!(
            pages,
            5usize.div_ceil(max_items as usize),
            "max {max_items}"
        );
    }

    // The SDK's own paginator walks the same pages.
    let mut stream = iam
        .get_account_authorization_details()
        .set_filter(Some(kinds.to_vec()))
        .max_items(2)
        .into_paginator()
        .send();
    let mut users = 0;
    while let Some(page) = stream.next().await {
        users += page.unwrap().user_detail_list().len();
    }
    assert_eq!(users, 2);
}

#[tokio::test]
async fn a_user_without_the_permission_is_refused() {
    let app = spawn_app().await;
    let creds = app.user_with_key("mallory").await;
    let iam = iam_client(&app, &creds);
    let (code, status) = failure(iam.get_account_authorization_details().send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
}
