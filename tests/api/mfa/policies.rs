//! The IAM User Guide's force-MFA policy with each kind of credential, and
//! AssumeRole with a trust policy that asks for MFA.

use aws_sdk_iam::error::ProvideErrorMetadata;
use serde_json::{json, Value};

use super::{code_at, create_device, enable, put_user_policy, session, wrong_code};
use crate::awsquery::{allow, failure, iam_client, iam_client_with_token, sts_client, trust_root};
use crate::helpers::{json_with_status, spawn_app, Credentials};
use crate::sts::Session;

/// The IAM User Guide's "Allows MFA-authenticated IAM users to manage their
/// own credentials on the Security credentials page" policy.
fn force_mfa_policy() -> String {
    let own = "arn:aws:iam::*:user/${aws:username}";
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AllowViewAccountInfo", "Effect": "Allow",
         "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"], "Resource": "*"},
        {"Sid": "AllowManageOwnPasswords", "Effect": "Allow",
         "Action": ["iam:ChangePassword", "iam:GetUser"], "Resource": own},
        {"Sid": "AllowManageOwnAccessKeys", "Effect": "Allow",
         "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys",
                    "iam:UpdateAccessKey", "iam:GetAccessKeyLastUsed"], "Resource": own},
        {"Sid": "AllowManageOwnSigningCertificates", "Effect": "Allow",
         "Action": ["iam:DeleteSigningCertificate", "iam:ListSigningCertificates",
                    "iam:UpdateSigningCertificate", "iam:UploadSigningCertificate"], "Resource": own},
        {"Sid": "AllowManageOwnSSHPublicKeys", "Effect": "Allow",
         "Action": ["iam:DeleteSSHPublicKey", "iam:GetSSHPublicKey", "iam:ListSSHPublicKeys",
                    "iam:UpdateSSHPublicKey", "iam:UploadSSHPublicKey"], "Resource": own},
        {"Sid": "AllowManageOwnGitCredentials", "Effect": "Allow",
         "Action": ["iam:CreateServiceSpecificCredential", "iam:DeleteServiceSpecificCredential",
                    "iam:ListServiceSpecificCredentials", "iam:ResetServiceSpecificCredential",
                    "iam:UpdateServiceSpecificCredential"], "Resource": own},
        {"Sid": "AllowManageOwnVirtualMFADevice", "Effect": "Allow",
         "Action": ["iam:CreateVirtualMFADevice"], "Resource": "arn:aws:iam::*:mfa/*"},
        {"Sid": "AllowManageOwnUserMFA", "Effect": "Allow",
         "Action": ["iam:DeactivateMFADevice", "iam:EnableMFADevice", "iam:ListMFADevices",
                    "iam:ResyncMFADevice"], "Resource": own},
        {"Sid": "DenyAllExceptListedIfNoMFA", "Effect": "Deny",
         "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser",
                       "iam:GetMFADevice", "iam:ListMFADevices", "iam:ListVirtualMFADevices",
                       "iam:ResyncMFADevice", "sts:GetSessionToken"],
         "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
    ]})
    .to_string()
}

/// Which of the probe calls `client` may make, by name.
async fn allowed_calls(client: &aws_sdk_iam::Client, n: usize) -> Vec<&'static str> {
    let mut allowed = Vec::new();
    let ok = |r: Result<(), String>, name: &'static str, allowed: &mut Vec<&'static str>| match r {
        Ok(()) => allowed.push(name),
        Err(code) => assert_eq!(code, "AccessDenied", "{name}"),
    };
    let code = |e: &dyn ProvideErrorMetadata| e.code().unwrap_or_default().to_string();
    macro_rules! probe {
        ($name:literal, $call:expr) => {
            ok(
                $call.send().await.map(|_| ()).map_err(|e| code(&e)),
                $name,
                &mut allowed,
            )
        };
    }
    probe!("GetUser", client.get_user());
    probe!("ListMFADevices", client.list_mfa_devices());
    probe!("ListVirtualMFADevices", client.list_virtual_mfa_devices());
    probe!(
        "CreateVirtualMFADevice",
        client
            .create_virtual_mfa_device()
            .virtual_mfa_device_name(format!("spare{n}"))
    );
    probe!("ListAccessKeys", client.list_access_keys());
    probe!("ListSSHPublicKeys", client.list_ssh_public_keys());
    probe!("ListUsers", client.list_users());
    probe!("ListRoles", client.list_roles());
    allowed
}

#[tokio::test]
async fn the_user_guide_force_mfa_policy_allows_exactly_what_it_should() {
    let app = spawn_app().await;
    let bob = app.user_with_key("bob").await;
    // As the guide has it: a managed policy (too large for an inline one).
    let root = iam_client(&app, &app.root);
    let policy = root
        .create_policy()
        .policy_name("Force_MFA")
        .policy_document(force_mfa_policy())
        .send()
        .await
        .unwrap();
    root.attach_user_policy()
        .user_name("bob")
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    put_user_policy(&app, "bob", "work", &allow("iam:ListUsers")).await;

    // Without MFA, bob sets his device up himself, as the policy intends.
    let own = iam_client(&app, &bob);
    let (serial, seed) = create_device(&own, "bob").await;
    let now = enable(&own, "bob", &serial, &seed).await;

    let without_mfa = [
        "GetUser",
        "ListMFADevices",
        "ListVirtualMFADevices",
        "CreateVirtualMFADevice",
    ];
    assert_eq!(allowed_calls(&own, 1).await, without_mfa, "long-term keys");
    // GetSessionToken credentials without MFA call no IAM at all, whatever
    // the policies say (the guide's "console without MFA" case is bob's
    // long-term key above).
    let (plain, token) = session(&app, &bob, None).await.unwrap();
    let plain = iam_client_with_token(&app, &plain, Some(token));
    assert!(allowed_calls(&plain, 2).await.is_empty(), "no MFA");

    let code = code_at(&seed, now + 1);
    let (mfa, token) = session(&app, &bob, Some((&serial, &code))).await.unwrap();
    let mfa = iam_client_with_token(&app, &mfa, Some(token));
    assert_eq!(
        allowed_calls(&mfa, 3).await,
        [
            "GetUser",
            "ListMFADevices",
            "ListVirtualMFADevices",
            "CreateVirtualMFADevice",
            "ListAccessKeys",
            "ListSSHPublicKeys",
            "ListUsers",
        ],
        "MFA session: everything the identity policies grant"
    );
}

#[tokio::test]
async fn assume_role_needs_a_code_when_the_trust_asks_and_carries_a_sessions_mfa() {
    let app = spawn_app().await;
    let root = iam_client(&app, &app.root);
    let acct = app.account_id.clone();
    let trust: Value = serde_json::from_str(&trust_root(&acct)).unwrap();
    let mut trust = trust;
    trust["Statement"][0]["Condition"] = json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}});
    root.create_role()
        .role_name("secure")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    // The role's own permission reads the session's MFA age.
    let recent = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "iam:ListRoles", "Resource": "*", "Condition": {
            "Bool": {"aws:MultiFactorAuthPresent": "true"},
            "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}}]});
    root.put_role_policy()
        .role_name("secure")
        .policy_name("recent-mfa")
        .policy_document(recent.to_string())
        .send()
        .await
        .unwrap();
    let role_arn = format!("arn:aws:iam::{acct}:role/secure");

    let mut users = Vec::new();
    for name in ["carol", "dave"] {
        let creds = app.user_with_key(name).await;
        put_user_policy(&app, name, "assume", &allow("sts:AssumeRole")).await;
        let (serial, seed) = create_device(&root, name).await;
        let now = enable(&root, name, &serial, &seed).await;
        users.push((creds, serial, seed, now));
    }
    let assume = |creds: &Credentials, token: Option<String>, mfa: Option<(&str, String)>| {
        let mut call = sts_client(&app, creds, token)
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("s1");
        if let Some((serial, code)) = mfa {
            call = call.serial_number(serial).token_code(code);
        }
        call.send()
    };
    let role_lists = |out: aws_sdk_sts::operation::assume_role::AssumeRoleOutput| {
        let c = out.credentials().unwrap();
        let creds = Credentials {
            access_key_id: c.access_key_id().into(),
            secret_access_key: c.secret_access_key().into(),
        };
        let client = iam_client_with_token(&app, &creds, Some(c.session_token().into()));
        async move { client.list_roles().send().await.is_ok() }
    };

    // carol: long-term keys, no code, a wrong code, then a good one.
    let (carol, serial, seed, now) = &users[0];
    let denied = failure(assume(carol, None, None).await);
    assert_eq!(denied, ("AccessDenied".into(), 403));
    let wrong = failure(assume(carol, None, Some((serial, wrong_code(seed)))).await);
    assert_eq!(wrong, ("AccessDenied".into(), 403));
    let code = code_at(seed, now + 1);
    let out = assume(carol, None, Some((serial, code.clone())))
        .await
        .unwrap();
    assert!(
        role_lists(out).await,
        "the role session is MFA-authenticated"
    );
    let replay = failure(assume(carol, None, Some((serial, code))).await);
    assert_eq!(replay, ("AccessDenied".into(), 403));

    // dave: an MFA session assumes the role without a new code; the role
    // session carries the original MFA time.
    let (dave, serial, seed, now) = &users[1];
    let code = code_at(seed, now + 1);
    let (session_creds, token) = session(&app, dave, Some((serial, &code))).await.unwrap();
    let out = assume(&session_creds, Some(token), None).await.unwrap();
    assert!(role_lists(out).await);
    let (plain, token) = session(&app, dave, None).await.unwrap();
    let denied = failure(assume(&plain, Some(token), None).await);
    assert_eq!(denied, ("AccessDenied".into(), 403));
}

#[tokio::test]
async fn session_token_credentials_call_iam_only_with_mfa_and_sign_in_sessions_by_policy() {
    let app = spawn_app().await;
    let root = iam_client(&app, &app.root);
    let carol = app.user_with_key("carol").await;
    put_user_policy(&app, "carol", "work", &allow("iam:ListUsers")).await;

    let (plain, token) = session(&app, &carol, None).await.unwrap();
    let refused = iam_client_with_token(&app, &plain, Some(token.clone()))
        .list_users()
        .send()
        .await;
    let message = refused
        .as_ref()
        .err()
        .and_then(|e| e.message())
        .unwrap_or_default()
        .to_string();
    assert_eq!(failure(refused), ("AccessDenied".into(), 403));
    assert!(message.contains("MFA"), "{message}");
    // Of STS, GetCallerIdentity still answers.
    let me = sts_client(&app, &plain, Some(token))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert!(me.arn().unwrap().ends_with(":user/carol"));

    let (serial, seed) = create_device(&root, "carol").await;
    let now = enable(&root, "carol", &serial, &seed).await;
    let code = code_at(&seed, now + 1);
    let (with_mfa, token) = session(&app, &carol, Some((&serial, &code))).await.unwrap();
    let listed = iam_client_with_token(&app, &with_mfa, Some(token))
        .list_users()
        .send()
        .await
        .unwrap();
    assert!(listed.users().iter().any(|u| u.user_name() == "carol"));

    // A password sign-in makes the same kind of user session, but it is
    // not GetSessionToken: its policies alone decide.
    app.create_user("dave").await;
    put_user_policy(&app, "dave", "work", &allow("iam:ListUsers")).await;
    let password = "Correct-horse-battery-9";
    json_with_status(
        app.put(
            "/v1/users/dave/login-profile",
            &json!({"password": password}),
        )
        .await,
        201,
    )
    .await;
    let signed_in = app
        .client
        .post(app.url("/v1/sts/login"))
        .json(&json!({"account_id": app.account_id, "user_name": "dave", "password": password}))
        .send()
        .await
        .unwrap();
    let dave = Session::from_reply(&json_with_status(signed_in, 200).await);
    iam_client_with_token(&app, &dave.creds, Some(dave.token))
        .list_users()
        .send()
        .await
        .unwrap();
}
