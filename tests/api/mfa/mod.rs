//! Virtual MFA devices, driven with the AWS SDK for Rust as a user would:
//! a device is created (its seed returned once), enabled with two codes
//! computed here from that seed (RFC 6238, independently of the server's
//! code), and its codes make sessions whose `aws:MultiFactorAuthPresent`
//! is true, once each. The IAM User Guide's force-MFA policy allows
//! exactly what it should with long-term keys, a session without MFA (no
//! IAM at all, as AWS has it for GetSessionToken credentials) and
//! one with MFA; Terraform's force_destroy gets past an enabled device;
//! login asks for a code only after the password; a master-key rotation
//! re-seals the seeds. The seed never appears in a list or the audit trail.

use std::time::{Duration, Instant};

use aws_sdk_iam::types::AssignmentStatusType;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha1::Sha1;

use crate::awsquery::{failure, iam_client, iam_client_with_token, sts_client};
mod lifecycle;
mod policies;

use crate::helpers::{spawn_app, Credentials, TestApp};

/// RFC 4648 base32, as authenticator apps read the seed.
pub fn base32_decode(text: &str) -> Vec<u8> {
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
pub fn code_at(seed: &str, step: i64) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&base32_decode(seed)).unwrap();
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = usize::from(h[19] & 0x0f);
    let n = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]);
    format!("{:06}", n % 1_000_000)
}

pub fn step_now() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    secs as i64 / 30
}

/// A code that is not the seed's for any step near now.
pub fn wrong_code(seed: &str) -> String {
    let now = step_now();
    let near: Vec<String> = (now - 25..=now + 25).map(|s| code_at(seed, s)).collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// A virtual device created by `iam` (its serial and base32 seed). Its QR
/// code, scanned as an authenticator app would, holds the same seed.
pub async fn create_device(iam: &aws_sdk_iam::Client, name: &str) -> (String, String) {
    let out = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(name)
        .send()
        .await
        .unwrap();
    let device = out.virtual_mfa_device().unwrap();
    let seed = String::from_utf8(device.base32_string_seed().unwrap().as_ref().to_vec()).unwrap();
    let uri = scan_qr_code(device.qr_code_png().unwrap().as_ref());
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={seed}&")), "{uri}");
    (device.serial_number().to_string(), seed)
}

/// The text of the QR code in a PNG, read with crates other than the
/// server's (png decodes, rqrr finds and reads the code).
pub fn scan_qr_code(png_bytes: &[u8]) -> String {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    // One bit per pixel, widened to a byte (0 or 255).
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    let (width, height) = (frame.width as usize, frame.height as usize);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().unwrap().1
}

/// Enables the device for `user` with the codes of the previous and the
/// current step: the next code (of step now + 1) is then the first fresh one.
pub async fn enable(iam: &aws_sdk_iam::Client, user: &str, serial: &str, seed: &str) -> i64 {
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
pub async fn session(
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

pub fn mfa_only(action: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action,
        "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})
    .to_string()
}

pub async fn put_user_policy(app: &TestApp, user: &str, name: &str, document: &str) {
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
pub async fn audit_text(app: &TestApp) -> String {
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
