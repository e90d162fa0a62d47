//! A device's life beside its user's: Terraform's force_destroy, login
//! with a code, and a master-key rotation that re-seals the seeds.

use std::time::{Duration, Instant};

use aws_sdk_iam::types::AssignmentStatusType;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};

use super::{
    code_at, create_device, enable, mfa_only, put_user_policy, scan_qr_code, session, step_now,
    wrong_code,
};
use crate::awsquery::{failure, iam_client, iam_client_with_token};
use crate::helpers::{assert_error, json_with_status, spawn_app};
use crate::sts::Session;

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
    let uri = created["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"));
    let png = base64::engine::general_purpose::STANDARD
        .decode(created["qr_code_png"].as_str().unwrap())
        .unwrap();
    assert_eq!(scan_qr_code(&png), uri);
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
    let signed_in = Session::from_reply(&json_with_status(r, 200).await);
    let r = login(with(json!({"password": password, "mfa_code": code})))
        .await
        .unwrap();
    assert_error(r, 401, "InvalidAuthenticationCode").await;

    // The login session is MFA-authenticated: a policy that allows only
    // with aws:MultiFactorAuthPresent true lets it through.
    put_user_policy(&app, "frank", "roles-with-mfa", &mfa_only("iam:ListRoles")).await;
    let client = iam_client_with_token(&app, &signed_in.creds, Some(signed_in.token));
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

#[tokio::test]
async fn resync_follows_a_device_whose_clock_runs_ahead() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let hugo = app.user_with_key("hugo").await;
    let (serial, seed) = create_device(&iam, "hugo").await;
    let now = enable(&iam, "hugo", &serial, &seed).await;
    let resync = |first: String, second: String| {
        iam.resync_mfa_device()
            .user_name("hugo")
            .serial_number(&serial)
            .authentication_code1(first)
            .authentication_code2(second)
            .send()
    };
    let bad = wrong_code(&seed);
    let refused = resync(bad.clone(), bad).await;
    assert_eq!(failure(refused), ("InvalidAuthenticationCode".into(), 403));
    // The device shows codes six steps (three minutes) ahead.
    resync(code_at(&seed, now + 5), code_at(&seed, now + 6))
        .await
        .unwrap();
    let on_server_time = session(&app, &hugo, Some((&serial, &code_at(&seed, now + 1)))).await;
    assert_eq!(on_server_time.unwrap_err(), ("AccessDenied".into(), 403));
    let on_device_time = code_at(&seed, now + 7);
    session(&app, &hugo, Some((&serial, &on_device_time)))
        .await
        .unwrap();
}
