//! Inline and managed policies, paginators and the simulator.

use super::*;

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
