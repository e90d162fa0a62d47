//! Virtual MFA devices, driven with the AWS SDK for Rust as a user would:
//! a device is created (its seed returned once), enabled with two codes
//! computed here from that seed (RFC 6238, independently of the server's
//! code), and its codes make sessions whose `aws:MultiFactorAuthPresent`
//! is true, once each. The IAM User Guide's force-MFA policy allows
//! exactly what it should with long-term keys, a session without MFA and
//! one with MFA; Terraform's force_destroy gets past an enabled device;
//! login asks for a code only after the password; a master-key rotation
//! re-seals the seeds. The seed never appears in a list or the audit trail.

use std::time::{Duration, Instant};

use aws_sdk_iam::types::AssignmentStatusType;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha1::Sha1;

use crate::awsquery::{failure, iam_client, iam_client_with_token, sts_client, trust_root};
use crate::helpers::{assert_error, json_with_status, spawn_app, Credentials, TestApp};

/// RFC 4648 base32, as authenticator apps read the seed.
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u64, 0u32);
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base32 seed") as u64;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// The 6-digit TOTP code of a base32 seed at a time step.
fn code_at(seed: &str, step: i64) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&base32_decode(seed)).unwrap();
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = usize::from(h[19] & 0x0f);
    let n = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]);
    format!("{:06}", n % 1_000_000)
}

fn step_now() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    secs as i64 / 30
}

/// A code that is not the seed's for any step near now.
fn wrong_code(seed: &str) -> String {
    let now = step_now();
    let near: Vec<String> = (now - 25..=now + 25).map(|s| code_at(seed, s)).collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// A virtual device created by `iam` (its serial and base32 seed).
async fn create_device(iam: &aws_sdk_iam::Client, name: &str) -> (String, String) {
    let out = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(name)
        .send()
        .await
        .unwrap();
    let device = out.virtual_mfa_device().unwrap();
    let seed = String::from_utf8(device.base32_string_seed().unwrap().as_ref().to_vec()).unwrap();
    (device.serial_number().to_string(), seed)
}

/// Enables the device for `user` with the codes of the previous and the
/// current step: the next code (of step now + 1) is then the first fresh one.
async fn enable(iam: &aws_sdk_iam::Client, user: &str, serial: &str, seed: &str) -> i64 {
    let now = step_now();
    iam.enable_mfa_device()
        .user_name(user)
        .serial_number(serial)
        .authentication_code1(code_at(seed, now - 1))
        .authentication_code2(code_at(seed, now))
        .send()
        .await
        .unwrap();
    now
}

/// Temporary credentials from GetSessionToken, with a code or without.
async fn session(
    app: &TestApp,
    creds: &Credentials,
    mfa: Option<(&str, &str)>,
) -> Result<(Credentials, String), (String, u16)> {
    let mut call = sts_client(app, creds, None).get_session_token();
    if let Some((serial, code)) = mfa {
        call = call.serial_number(serial).token_code(code);
    }
    match call.send().await {
        Ok(out) => {
            let c = out.credentials().unwrap();
            Ok((
                Credentials {
                    access_key_id: c.access_key_id().into(),
                    secret_access_key: c.secret_access_key().into(),
                },
                c.session_token().into(),
            ))
        }
        Err(e) => Err(failure::<(), _>(Err(e))),
    }
}

fn mfa_only(action: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action,
        "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})
    .to_string()
}

async fn put_user_policy(app: &TestApp, user: &str, name: &str, document: &str) {
    iam_client(app, &app.root)
        .put_user_policy()
        .user_name(user)
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap();
}

/// Every audit record, as one text.
async fn audit_text(app: &TestApp) -> String {
    app.database()
        .await
        .texts("SELECT action || ' ' || coalesce(params, '') || coalesce(resource, '') FROM audit_events")
        .await
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_device_is_enabled_with_two_codes_and_each_code_makes_one_mfa_session() {
    let app = spawn_app().await;
    let root = iam_client(&app, &app.root);
    let alice = app.user_with_key("alice").await;
    put_user_policy(&app, "alice", "roles-with-mfa", &mfa_only("iam:ListRoles")).await;

    let (serial, seed) = create_device(&root, "alice").await;
    assert_eq!(serial, format!("arn:aws:iam::{}:mfa/alice", app.account_id));
    assert_eq!(seed.len(), 32, "160 bits in base32");
    let taken = root
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("alice")
        .send()
        .await;
    assert_eq!(failure(taken), ("EntityAlreadyExists".into(), 409));

    // Wrong codes, then two consecutive ones.
    let bad = wrong_code(&seed);
    let refused = root
        .enable_mfa_device()
        .user_name("alice")
        .serial_number(&serial)
        .authentication_code1(&bad)
        .authentication_code2(&bad)
        .send()
        .await;
    assert_eq!(failure(refused), ("InvalidAuthenticationCode".into(), 403));
    let now = enable(&root, "alice", &serial, &seed).await;
    let again = root
        .enable_mfa_device()
        .user_name("alice")
        .serial_number(&serial)
        .authentication_code1(code_at(&seed, now))
        .authentication_code2(code_at(&seed, now + 1))
        .send()
        .await;
    assert_eq!(failure(again), ("EntityAlreadyExists".into(), 409));

    let listed = root
        .list_mfa_devices()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.mfa_devices().len(), 1);
    assert_eq!(listed.mfa_devices()[0].serial_number(), serial);
    assert_eq!(listed.mfa_devices()[0].user_name(), "alice");
    let assigned = root
        .list_virtual_mfa_devices()
        .assignment_status(AssignmentStatusType::Assigned)
        .send()
        .await
        .unwrap();
    let device = &assigned.virtual_mfa_devices()[0];
    assert_eq!(device.user().unwrap().user_name(), "alice");
    assert!(device.enable_date().is_some());
    assert!(device.base32_string_seed().is_none());
    let unassigned = root
        .list_virtual_mfa_devices()
        .assignment_status(AssignmentStatusType::Unassigned)
        .send()
        .await
        .unwrap();
    assert!(unassigned.virtual_mfa_devices().is_empty());

    // Long-term keys carry no MFA key; a session without a code carries false.
    let roles = |creds: Credentials, token: Option<String>| {
        let client = iam_client_with_token(&app, &creds, token);
        async move { client.list_roles().send().await }
    };
    assert_eq!(failure(roles(alice.clone(), None).await).0, "AccessDenied");
    let (plain, token) = session(&app, &alice, None).await.unwrap();
    assert_eq!(failure(roles(plain, Some(token)).await).0, "AccessDenied");

    // A fresh code: an MFA session, once.
    let code = code_at(&seed, now + 1);
    let (with_mfa, token) = session(&app, &alice, Some((&serial, &code))).await.unwrap();
    roles(with_mfa, Some(token)).await.unwrap();
    let replay = session(&app, &alice, Some((&serial, &code))).await;
    assert_eq!(replay.unwrap_err(), ("AccessDenied".into(), 403));
    let wrong = session(&app, &alice, Some((&serial, &bad))).await;
    assert_eq!(wrong.unwrap_err(), ("AccessDenied".into(), 403));
    // An older code (already used by the enable) is refused too.
    let old = session(&app, &alice, Some((&serial, &code_at(&seed, now)))).await;
    assert_eq!(old.unwrap_err(), ("AccessDenied".into(), 403));

    let summary = root.get_account_summary().send().await.unwrap();
    let map = summary.summary_map().unwrap();
    let count = |k: &str| {
        map.iter()
            .find(|(key, _)| key.as_str() == k)
            .map(|(_, v)| *v)
    };
    assert_eq!(count("MFADevices"), Some(1));
    assert_eq!(count("MFADevicesInUse"), Some(1));

    // The credential report's mfa_active.
    root.generate_credential_report().send().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let csv = loop {
        match root.get_credential_report().send().await {
            Ok(r) => break String::from_utf8(r.content().unwrap().as_ref().to_vec()).unwrap(),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("no report: {e:?}"),
        }
    };
    let row = csv.lines().find(|l| l.starts_with("alice,")).unwrap();
    assert_eq!(row.split(',').nth(7), Some("true"), "{row}");

    // The seed is in no list reply and no audit record.
    let body = app.get("/v1/mfa-devices").await.text().await.unwrap();
    assert!(body.contains(&serial) && !body.contains(&seed), "{body}");
    let audit = audit_text(&app).await;
    assert!(audit.contains("iam:EnableMFADevice"), "{audit}");
    assert!(!audit.contains(&seed), "the seed reached the audit trail");
    assert!(!audit.contains(&code), "a code reached the audit trail");
}

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
    let code =
        |e: &dyn aws_sdk_iam::error::ProvideErrorMetadata| e.code().unwrap_or_default().to_string();
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
    put_user_policy(
        &app,
        "bob",
        "work",
        &crate::awsquery::allow("iam:ListUsers"),
    )
    .await;

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
    let (plain, token) = session(&app, &bob, None).await.unwrap();
    let plain = iam_client_with_token(&app, &plain, Some(token));
    assert_eq!(allowed_calls(&plain, 2).await, without_mfa, "no MFA");

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
        put_user_policy(
            &app,
            name,
            "assume",
            &crate::awsquery::allow("sts:AssumeRole"),
        )
        .await;
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
async fn terraform_force_destroy_deactivates_an_enabled_device_before_delete_user() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    iam.create_user().user_name("erin").send().await.unwrap();
    let (serial, seed) = create_device(&iam, "erin").await;
    enable(&iam, "erin", &serial, &seed).await;
    let blocked = failure(iam.delete_user().user_name("erin").send().await);
    assert_eq!(blocked, ("DeleteConflict".into(), 409));
    let in_use = iam
        .delete_virtual_mfa_device()
        .serial_number(&serial)
        .send()
        .await;
    assert_eq!(failure(in_use), ("DeleteConflict".into(), 409));

    // force_destroy: list the user's devices, deactivate each, delete.
    iam.list_virtual_mfa_devices().send().await.unwrap();
    let devices = iam
        .list_mfa_devices()
        .user_name("erin")
        .send()
        .await
        .unwrap();
    for d in devices.mfa_devices() {
        iam.deactivate_mfa_device()
            .user_name("erin")
            .serial_number(d.serial_number())
            .send()
            .await
            .unwrap();
    }
    iam.delete_user().user_name("erin").send().await.unwrap();

    // The device outlives the user, unassigned, until deleted.
    let left = iam
        .list_virtual_mfa_devices()
        .assignment_status(AssignmentStatusType::Unassigned)
        .send()
        .await
        .unwrap();
    assert_eq!(left.virtual_mfa_devices().len(), 1);
    assert!(left.virtual_mfa_devices()[0].user().is_none());
    iam.tag_mfa_device()
        .serial_number(&serial)
        .tags(crate::awsquery::tag("team", "ops"))
        .send()
        .await
        .unwrap();
    let tags = iam
        .list_mfa_device_tags()
        .serial_number(&serial)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    iam.delete_virtual_mfa_device()
        .serial_number(&serial)
        .send()
        .await
        .unwrap();
    let gone = iam
        .delete_virtual_mfa_device()
        .serial_number(&serial)
        .send()
        .await;
    assert_eq!(failure(gone), ("NoSuchEntity".into(), 404));
    let tags_left = app
        .database()
        .await
        .count("SELECT COUNT(*) FROM tags WHERE entity_id LIKE 'arn:aws:iam::%:mfa/%'")
        .await;
    assert_eq!(tags_left, 0);
}

#[tokio::test]
async fn login_asks_for_a_code_only_after_the_password_and_takes_each_code_once() {
    let app = spawn_app().await;
    app.create_user("frank").await;
    let password = "Correct-horse-battery-9";
    json_with_status(
        app.put(
            "/v1/users/frank/login-profile",
            &json!({"password": password}),
        )
        .await,
        201,
    )
    .await;
    let created = json_with_status(
        app.post("/v1/mfa-devices", &json!({"name": "frank-phone"}))
            .await,
        201,
    )
    .await;
    let serial = created["serial_number"].as_str().unwrap().to_string();
    let seed = created["base32_seed"].as_str().unwrap().to_string();
    assert!(created["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let now = step_now();
    let enabled = app
        .post(
            "/v1/users/frank/mfa-devices",
            &json!({"serial_number": serial,
                    "authentication_code_1": code_at(&seed, now - 1),
                    "authentication_code_2": code_at(&seed, now)}),
        )
        .await;
    json_with_status(enabled, 204).await;

    let login = |body: Value| app.client.post(app.url("/v1/sts/login")).json(&body).send();
    let base = json!({"account_id": app.account_id, "user_name": "frank"});
    let with = |extra: Value| {
        let mut b = base.clone();
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    // A wrong password says nothing of MFA.
    let r = login(with(json!({"password": "Wrong-password-1"})))
        .await
        .unwrap();
    let body = assert_error(r, 401, "AuthFailure").await;
    assert!(!body.to_string().to_lowercase().contains("mfa"), "{body}");
    let r = login(with(json!({"password": password}))).await.unwrap();
    assert_error(r, 401, "MFACodeRequired").await;
    let bad = wrong_code(&seed);
    let r = login(with(json!({"password": password, "mfa_code": bad})))
        .await
        .unwrap();
    assert_error(r, 401, "InvalidAuthenticationCode").await;
    let failures = app
        .database()
        .await
        .count("SELECT CAST(COALESCE(SUM(failures), 0) AS BIGINT) FROM login_failures")
        .await;
    assert!(failures >= 2, "the wrong password and the wrong code count");

    let code = code_at(&seed, now + 1);
    let r = login(with(json!({"password": password, "mfa_code": code})))
        .await
        .unwrap();
    let ok = json_with_status(r, 200).await;
    let creds = Credentials {
        access_key_id: ok["credentials"]["access_key_id"].as_str().unwrap().into(),
        secret_access_key: ok["credentials"]["secret_access_key"]
            .as_str()
            .unwrap()
            .into(),
    };
    let token = ok["credentials"]["session_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = login(with(json!({"password": password, "mfa_code": code})))
        .await
        .unwrap();
    assert_error(r, 401, "InvalidAuthenticationCode").await;

    // The login session is MFA-authenticated: /v1/evaluate-free check
    // through a policy with a Bool condition.
    put_user_policy(&app, "frank", "roles-with-mfa", &mfa_only("iam:ListRoles")).await;
    let client = iam_client_with_token(&app, &creds, Some(token));
    client.list_roles().send().await.unwrap();
    let listed = app
        .request(Method::GET, "/v1/users/frank/mfa-devices")
        .send()
        .await
        .unwrap();
    let listed = json_with_status(listed, 200).await;
    assert_eq!(listed["items"][0]["serial_number"], serial.as_str());
    assert!(!listed.to_string().contains(&seed));
}

#[tokio::test]
async fn a_master_key_rotation_reseals_every_seed() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let gina = app.user_with_key("gina").await;
    let (serial, seed) = create_device(&iam, "gina").await;
    let now = enable(&iam, "gina", &serial, &seed).await;
    create_device(&iam, "spare").await;

    let r = app.post("/v1/master-key/rotate", &json!({})).await;
    let started = json_with_status(r, 202).await;
    let new_check = started["current_key_check"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let s = json_with_status(app.get("/v1/master-key").await, 200).await;
        if s["rotation"]["state"] != "running" {
            break s;
        }
        assert!(Instant::now() < deadline, "the rotation does not end: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(done["rotation"]["state"], "completed", "{done}");
    assert_eq!(done["secrets_under_previous_key"], 0, "{done}");
    let header = [&[1u8][..], &hex::decode(&new_check).unwrap()].concat();
    let seeds = app
        .database()
        .await
        .blobs("SELECT seed_ciphertext FROM mfa_devices")
        .await;
    assert_eq!(seeds.len(), 2);
    assert!(seeds.iter().all(|s| s.starts_with(&header)), "re-sealed");
    // The re-sealed seed still verifies codes.
    let code = code_at(&seed, now + 1);
    session(&app, &gina, Some((&serial, &code))).await.unwrap();
}
