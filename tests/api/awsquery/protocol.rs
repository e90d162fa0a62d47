//! STS, and the protocol itself: its errors, routing and presigned GET.

use super::*;

#[tokio::test]
async fn sts_get_caller_identity_for_root_and_users() {
    let app = spawn_app().await;
    let sts = sts_client(&app, &app.root, None);
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(app.account_id.as_str()));
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{}:root", app.account_id).as_str())
    );

    // No permission is needed, as in AWS.
    let carol = app.user_with_key("carol").await;
    let me = sts_client(&app, &carol, None)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{}:user/carol", app.account_id).as_str())
    );
    assert!(me.user_id().unwrap().starts_with("AIDA"));

    let forged = Credentials {
        secret_access_key: "x".repeat(40),
        ..carol
    };
    let err = sts_client(&app, &forged, None)
        .get_caller_identity()
        .send()
        .await;
    let err = err.expect_err("a wrong secret fails");
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
}

/// Posts a signed form to `/` and returns status and body.
async fn post_form(app: &TestApp, creds: &Credentials, service: &str, form: &str) -> (u16, String) {
    let mut signing = Signing::now(creds);
    signing.service = service;
    let content_type = (
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    );
    let signed = sign_request(
        &signing,
        "POST",
        &app.url("/"),
        &[content_type],
        form.as_bytes(),
    );
    let response = send(&app.client, Method::POST, &signed, form.as_bytes().to_vec()).await;
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "text/xml");
    assert!(response.headers().contains_key("x-amzn-requestid"));
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn protocol_errors_are_aws_xml() {
    let app = spawn_app().await;
    let iam_ns = "xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"";
    let sts_ns = "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"";

    let (status, body) = post_form(
        &app,
        &app.root,
        "iam",
        "Action=Frobnicate&Version=2010-05-08",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.starts_with(&format!(
            "<ErrorResponse {iam_ns}><Error><Type>Sender</Type><Code>InvalidAction</Code>"
        )),
        "{body}"
    );
    assert!(body.contains("<RequestId>"), "{body}");
    // An IAM action asked of STS's version is unknown there.
    let (status, body) = post_form(
        &app,
        &app.root,
        "sts",
        "Action=ListUsers&Version=2011-06-15",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body.contains(sts_ns) && body.contains("<Code>InvalidAction</Code>"),
        "{body}"
    );

    let (status, body) = post_form(&app, &app.root, "iam", "Version=2010-05-08").await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>MissingAction</Code>"), "{body}");
    let (status, body) =
        post_form(&app, &app.root, "iam", "Action=GetRole&Version=2010-05-08").await;
    assert_eq!(status, 400);
    assert!(
        body.contains("<Code>MissingParameter</Code>") && body.contains("RoleName"),
        "{body}"
    );
    let (status, body) = post_form(
        &app,
        &app.root,
        "iam",
        "Action=ListUsers&Version=2010-05-08&MaxItems=lots",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>ValidationError</Code>"), "{body}");

    // Without Version, the action finds its service; the reply is IAM's.
    let (status, body) = post_form(&app, &app.root, "iam", "Action=ListUsers").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with(&format!("<ListUsersResponse {iam_ns}><ListUsersResult><Users></Users><IsTruncated>false</IsTruncated></ListUsersResult><ResponseMetadata><RequestId>")), "{body}");
    let (status, body) = post_form(&app, &app.root, "sts", "Action=GetCallerIdentity").await;
    assert_eq!(status, 200);
    assert!(
        body.starts_with(&format!(
            "<GetCallerIdentityResponse {sts_ns}><GetCallerIdentityResult><UserId>"
        )),
        "{body}"
    );

    // Operations without output answer with the metadata only.
    let (status, body) = post_form(
        &app,
        &app.root,
        "iam",
        "Action=CreateGroup&Version=2010-05-08&GroupName=g",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = post_form(
        &app,
        &app.root,
        "iam",
        "Action=DeleteGroup&Version=2010-05-08&GroupName=g",
    )
    .await;
    assert!(
        body.starts_with(&format!(
            "<DeleteGroupResponse {iam_ns}><ResponseMetadata><RequestId>"
        )),
        "{body}"
    );

    // Credentials fail with 403 here (401 on /v1), in the XML envelope.
    let response = app
        .client
        .post(app.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=ListUsers&Version=2010-05-08")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );
    let unknown = Credentials {
        access_key_id: "AKIAAAAAAAAAAAAAAAAA".into(),
        secret_access_key: "x".repeat(40),
    };
    let (status, body) =
        post_form(&app, &unknown, "iam", "Action=ListUsers&Version=2010-05-08").await;
    assert_eq!(status, 403);
    assert!(body.contains("<Code>InvalidClientTokenId</Code>"), "{body}");
}

#[tokio::test]
async fn presigned_get_works_like_the_post() {
    let app = spawn_app().await;
    let mut signing = Signing::now(&app.root);
    signing.presigned = true;
    signing.service = "sts";
    let url = app.url("/?Action=GetCallerIdentity&Version=2011-06-15");
    let signed = sign_request(&signing, "GET", &url, &[], b"");
    let response = send(&app.client, Method::GET, &signed, vec![]).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(
        body.contains(&format!("<Account>{}</Account>", app.account_id)),
        "{body}"
    );
}
