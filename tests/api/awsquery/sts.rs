//! STS through the AWS SDK: AssumeRole's temporary credentials drive a
//! second SDK client, limited to the role's policies; GetSessionToken.

use aws_sdk_sts::types::Tag as StsTag;

use super::{allow, failure, iam_client, sts_client};
use crate::helpers::{spawn_app, Credentials};

#[tokio::test]
async fn assume_role_credentials_work_in_a_second_client() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    iam.create_user().user_name("builder").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("builder")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let builder = Credentials {
        access_key_id: key.access_key_id().to_string(),
        secret_access_key: key.secret_access_key().to_string(),
    };
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:user/builder"}},"Action":["sts:AssumeRole","sts:TagSession"]}}]}}"#,
        app.account_id
    );
    iam.create_role()
        .role_name("reader")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("reader")
        .policy_name("list-users")
        .policy_document(allow("iam:ListUsers"))
        .send()
        .await
        .unwrap();

    let sts = sts_client(&app, &builder, None);
    let role_arn = format!("arn:aws:iam::{}:role/reader", app.account_id);
    let assumed = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("ci-42")
        .duration_seconds(900)
        .tags(StsTag::builder().key("team").value("blue").build().unwrap())
        .send()
        .await
        .unwrap();
    let creds = assumed.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert_eq!(
        assumed.assumed_role_user().unwrap().arn(),
        format!("arn:aws:sts::{}:assumed-role/reader/ci-42", app.account_id)
    );

    // A second client with the temporary credentials: who am I, and what may I do.
    let temp = Credentials {
        access_key_id: creds.access_key_id().to_string(),
        secret_access_key: creds.secret_access_key().to_string(),
    };
    let token = Some(creds.session_token().to_string());
    let me = sts_client(&app, &temp, token.clone())
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:sts::{}:assumed-role/reader/ci-42", app.account_id).as_str())
    );
    assert!(me.user_id().unwrap().ends_with(":ci-42"));
    let as_role = super::iam_client_with_token(&app, &temp, token.clone());
    let users = as_role.list_users().send().await.unwrap();
    assert!(users.users().iter().any(|u| u.user_name() == "builder"));
    let (code, status) = failure(as_role.create_user().user_name("nope").send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));

    // Without the token, the temporary key is refused.
    let (code, _) = failure(
        sts_client(&app, &temp, None)
            .get_caller_identity()
            .send()
            .await,
    );
    assert_eq!(code, "InvalidClientTokenId");

    // The role does not trust the root: AccessDenied.
    let (code, status) = failure(
        sts_client(&app, &app.root, None)
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("x1")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
}

#[tokio::test]
async fn session_token_for_a_user() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    iam.create_user().user_name("dev").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("dev")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let dev = Credentials {
        access_key_id: key.access_key_id().to_string(),
        secret_access_key: key.secret_access_key().to_string(),
    };
    let session = sts_client(&app, &dev, None)
        .get_session_token()
        .duration_seconds(3600)
        .send()
        .await
        .unwrap();
    let creds = session.credentials().unwrap();
    let temp = Credentials {
        access_key_id: creds.access_key_id().to_string(),
        secret_access_key: creds.secret_access_key().to_string(),
    };
    let me = sts_client(&app, &temp, Some(creds.session_token().to_string()))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{}:user/dev", app.account_id).as_str())
    );
}
