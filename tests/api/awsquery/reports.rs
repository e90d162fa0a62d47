//! The credential report, read by the SDK and under /v1.

use std::time::{Duration, Instant};

use aws_sdk_iam::types::ReportStateType;
use base64::Engine as _;

use super::*;

const AWS_HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// Generates until COMPLETE (STARTED first), within a deadline.
pub async fn generate_report(iam: &aws_sdk_iam::Client) {
    let first = iam.generate_credential_report().send().await.unwrap();
    assert_eq!(first.state(), Some(&ReportStateType::Started));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let again = iam.generate_credential_report().send().await.unwrap();
        if again.state() == Some(&ReportStateType::Complete) {
            return;
        }
        assert_eq!(again.state(), Some(&ReportStateType::Inprogress));
        assert!(Instant::now() < deadline, "the report never completed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The report's rows keyed by `user`, each a column -> cell map.
fn parse(csv: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(AWS_HEADER));
    let header: Vec<&str> = AWS_HEADER.split(',').collect();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), header.len(), "{line}");
            header
                .iter()
                .map(|h| h.to_string())
                .zip(cells.iter().map(|c| c.to_string()))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn the_credential_report_in_aws_columns_with_a_key_used_through_sigv4() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let (code, status) = failure(iam.get_credential_report().send().await);
    assert_eq!((code.as_str(), status), ("ReportNotPresent", 410));

    // alice: a password and a key she uses; bob: nothing.
    let alice = app.user_with_key("alice").await;
    iam.create_login_profile()
        .user_name("alice")
        .password("Correct-Horse-9")
        .send()
        .await
        .unwrap();
    app.create_user("bob").await;
    // carol: a password never used to sign in.
    app.create_user("carol").await;
    iam.create_login_profile()
        .user_name("carol")
        .password("Correct-Horse-9")
        .send()
        .await
        .unwrap();
    // Passwords expire after 90 days: the report says when.
    iam.update_account_password_policy()
        .max_password_age(90)
        .send()
        .await
        .unwrap();
    let login = app
        .client
        .post(app.url("/v1/sts/login"))
        .json(&json!({"account_id": app.account_id, "user_name": "alice", "password": "Correct-Horse-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let as_alice = iam_client(&app, &alice);
    // Denied (alice has no policy), yet the key was used: AWS records it.
    let _ = as_alice.list_users().send().await;

    generate_report(&iam).await;
    let got = iam.get_credential_report().send().await.unwrap();
    assert_eq!(got.report_format().map(|f| f.as_str()), Some("text/csv"));
    assert!(got.generated_time().is_some());
    let csv = String::from_utf8(got.content().unwrap().as_ref().to_vec()).unwrap();
    let rows = parse(&csv);
    let users: Vec<&str> = rows.iter().map(|r| r["user"].as_str()).collect();
    assert_eq!(users, ["<root_account>", "alice", "bob", "carol"]);

    let root = &rows[0];
    assert_eq!(root["arn"], format!("arn:aws:iam::{}:root", app.account_id));
    assert_eq!(root["password_enabled"], "not_supported");
    assert_eq!(root["password_last_changed"], "not_supported");
    // The test's root key signed every call so far.
    assert_eq!(root["access_key_1_active"], "true");
    assert_eq!(root["access_key_1_last_used_service"], "iam");

    let a = &rows[1];
    let b = &rows[2];
    assert_eq!(
        a["arn"],
        format!("arn:aws:iam::{}:user/alice", app.account_id)
    );
    assert_eq!(a["password_enabled"], "true");
    assert!(a["password_last_used"].ends_with("+00:00"), "{a:?}");
    assert_eq!(rows[3]["password_enabled"], "true");
    assert_eq!(rows[3]["password_last_used"], "no_information");
    assert!(a["password_last_changed"].ends_with("+00:00"), "{a:?}");
    assert!(a["password_next_rotation"].ends_with("+00:00"), "{a:?}");
    assert!(a["password_next_rotation"] > a["password_last_changed"]);
    assert_eq!(b["password_next_rotation"], "N/A");
    assert_eq!(a["mfa_active"], "false");
    assert_eq!(a["access_key_1_active"], "true");
    assert!(a["access_key_1_last_rotated"].ends_with("+00:00"));
    assert!(
        a["access_key_1_last_used_date"].ends_with("+00:00"),
        "{a:?}"
    );
    assert_eq!(a["access_key_1_last_used_region"], "us-east-1");
    assert_eq!(a["access_key_1_last_used_service"], "iam");
    assert_eq!(a["access_key_2_active"], "false");
    assert_eq!(a["access_key_2_last_rotated"], "N/A");
    assert_eq!(a["cert_1_active"], "false");
    assert_eq!(a["cert_2_last_rotated"], "N/A");

    assert_eq!(b["password_enabled"], "false");
    assert_eq!(b["password_last_used"], "N/A");
    assert_eq!(b["access_key_1_active"], "false");
    assert_eq!(b["access_key_1_last_used_date"], "N/A");

    // The raw XML carries the CSV base64-encoded, as AWS sends it.
    let raw = app
        .request_as(
            &app.root,
            Method::GET,
            "/?Action=GetCredentialReport&Version=2010-05-08",
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let content = raw
        .split("<Content>")
        .nth(1)
        .and_then(|r| r.split("</Content>").next())
        .unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(content)
        .unwrap();
    assert!(decoded.starts_with(AWS_HEADER.as_bytes()));

    // /v1: CSV on request, JSON otherwise.
    let as_csv = app
        .request(Method::GET, "/v1/credential-report")
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(as_csv.status(), 200);
    assert!(as_csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert_eq!(parse(&as_csv.text().await.unwrap()).len(), 4);
    let json: Value = app.get("/v1/credential-report").await.json().await.unwrap();
    assert_eq!(json["columns"].as_array().unwrap().len(), 22);
    assert_eq!(json["rows"][1]["user"], "alice");
    assert_eq!(json["rows"][1]["access_key_1_last_used_service"], "iam");

    // Without the permission: refused before anything is said.
    let (code, status) = failure(as_alice.get_credential_report().send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, _) = failure(as_alice.generate_credential_report().send().await);
    assert_eq!(code, "AccessDenied");
}
