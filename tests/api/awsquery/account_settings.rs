//! The account password policy, its enforcement (login profiles, the
//! user's own ChangePassword, reuse, maximum age at login) and account
//! aliases, with the AWS SDK and over /v1.

use super::*;

async fn login(app: &TestApp, account: &str, user: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/sts/login"))
        .json(&json!({"account_id": account, "user_name": user, "password": password}))
        .send()
        .await
        .unwrap()
}

fn message<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
) -> (String, String) {
    let err = result.expect_err("the call should fail");
    (
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn password_policy_is_enforced_on_every_password_set() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);

    let (code, status) = failure(iam.get_account_password_policy().send().await);
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    let (code, status) = failure(
        iam.update_account_password_policy()
            .minimum_password_length(5)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ValidationError", 400));
    let (code, _) = failure(
        iam.update_account_password_policy()
            .password_reuse_prevention(25)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationError");
    iam.update_account_password_policy()
        .minimum_password_length(10)
        .require_uppercase_characters(true)
        .require_lowercase_characters(true)
        .require_numbers(true)
        .require_symbols(true)
        .password_reuse_prevention(2)
        .max_password_age(90)
        .send()
        .await
        .unwrap();
    let got = iam.get_account_password_policy().send().await.unwrap();
    let p = got.password_policy().unwrap();
    assert_eq!(p.minimum_password_length(), Some(10));
    assert!(p.require_symbols());
    assert!(!p.allow_users_to_change_password());
    assert!(p.expire_passwords());
    assert_eq!(p.max_password_age(), Some(90));
    assert_eq!(p.password_reuse_prevention(), Some(2));
    assert_eq!(p.hard_expiry(), Some(false));

    iam.create_user().user_name("dana").send().await.unwrap();
    let (code, text) = message(
        iam.create_login_profile()
            .user_name("dana")
            .password("lowercase-only-1")
            .send()
            .await,
    );
    assert_eq!(code, "PasswordPolicyViolation");
    assert!(
        text.contains("Password should have at least one uppercase letter"),
        "{text}"
    );
    let (_, text) = message(
        iam.create_login_profile()
            .user_name("dana")
            .password("Short1!")
            .send()
            .await,
    );
    assert!(
        text.contains("Password should have a minimum length of 10"),
        "{text}"
    );
    iam.create_login_profile()
        .user_name("dana")
        .password("First-Pass-1")
        .send()
        .await
        .unwrap();
    let (code, text) = message(
        iam.update_login_profile()
            .user_name("dana")
            .password("no-upper-case-1")
            .send()
            .await,
    );
    assert_eq!(code, "PasswordPolicyViolation");
    assert!(text.contains("uppercase"), "{text}");
    // Reuse: the last two passwords are refused, the third back is not.
    iam.update_login_profile()
        .user_name("dana")
        .password("Second-Pass-2")
        .send()
        .await
        .unwrap();
    let (code, text) = message(
        iam.update_login_profile()
            .user_name("dana")
            .password("First-Pass-1")
            .send()
            .await,
    );
    assert_eq!(code, "PasswordPolicyViolation");
    assert!(text.contains("last 2 passwords"), "{text}");
    iam.update_login_profile()
        .user_name("dana")
        .password("Third-Pass-3")
        .send()
        .await
        .unwrap();
    iam.update_login_profile()
        .user_name("dana")
        .password("First-Pass-1")
        .send()
        .await
        .unwrap();
    // The hashes only: no password is stored in clear.
    let db = app.database().await;
    let hashes = db.texts("SELECT password_hash FROM password_history").await;
    assert_eq!(hashes.len(), 4);
    assert!(hashes
        .iter()
        .all(|h| h.as_deref().is_some_and(|h| h.starts_with("$argon2"))));

    // Max age: a password older than 90 days signs in only to be changed.
    let r = login(&app, &app.account_id, "dana", "First-Pass-1").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["password_reset_required"], false);
    db.execute("UPDATE password_history SET set_at = '2000-01-01T00:00:00Z'")
        .await
        .unwrap();
    let r = login(&app, &app.account_id, "dana", "First-Pass-1").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["password_reset_required"], true);

    // Deleting the policy lifts it: a weak password of 8 is accepted again.
    iam.delete_account_password_policy().send().await.unwrap();
    let (code, _) = failure(iam.delete_account_password_policy().send().await);
    assert_eq!(code, "NoSuchEntity");
    iam.update_login_profile()
        .user_name("dana")
        .password("plainpass")
        .send()
        .await
        .unwrap();
    let r = login(&app, &app.account_id, "dana", "plainpass").await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["password_reset_required"], false);
}

#[tokio::test]
async fn users_change_their_own_password() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let erin = app.user_with_key("erin").await;
    let as_erin = iam_client(&app, &erin);
    iam.create_login_profile()
        .user_name("erin")
        .password("Initial-Pass-1")
        .password_reset_required(true)
        .send()
        .await
        .unwrap();

    // Neither the policy flag nor iam:ChangePassword: refused.
    let (code, status) = failure(
        as_erin
            .change_password()
            .old_password("Initial-Pass-1")
            .new_password("Changed-Pass-2")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    iam.update_account_password_policy()
        .allow_users_to_change_password(true)
        .require_numbers(true)
        .password_reuse_prevention(1)
        .send()
        .await
        .unwrap();
    let (code, status) = failure(
        as_erin
            .change_password()
            .old_password("wrong-old-password")
            .new_password("Changed-Pass-2")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, text) = message(
        as_erin
            .change_password()
            .old_password("Initial-Pass-1")
            .new_password("no-digits-here")
            .send()
            .await,
    );
    assert_eq!(code, "PasswordPolicyViolation");
    assert_eq!(text, "Password should have at least one number");
    let (code, _) = message(
        as_erin
            .change_password()
            .old_password("Initial-Pass-1")
            .new_password("Initial-Pass-1")
            .send()
            .await,
    );
    assert_eq!(code, "PasswordPolicyViolation");
    as_erin
        .change_password()
        .old_password("Initial-Pass-1")
        .new_password("Changed-Pass-2")
        .send()
        .await
        .unwrap();
    // The change clears the reset flag; the old password no longer works.
    let r = login(&app, &app.account_id, "erin", "Changed-Pass-2").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["password_reset_required"], false);
    assert_eq!(
        login(&app, &app.account_id, "erin", "Initial-Pass-1")
            .await
            .status(),
        401
    );
    // The root is not an IAM user.
    let (code, status) = failure(
        iam.change_password()
            .old_password("x")
            .new_password("y")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("InvalidUserType", 400));

    // Over /v1 too.
    let r = app
        .send_as(
            &erin,
            Method::POST,
            "/v1/account/change-password",
            Some(&json!({"old_password": "Changed-Pass-2", "new_password": "nodigits"})),
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .send_as(
            &erin,
            Method::POST,
            "/v1/account/change-password",
            Some(&json!({"old_password": "Changed-Pass-2", "new_password": "Third-Pass-3"})),
        )
        .await;
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn hard_expiry_refuses_sign_in_until_reset() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    iam.create_user().user_name("finn").send().await.unwrap();
    iam.create_login_profile()
        .user_name("finn")
        .password("Finn-Pass-1")
        .send()
        .await
        .unwrap();
    iam.update_account_password_policy()
        .max_password_age(1)
        .hard_expiry(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        login(&app, &app.account_id, "finn", "Finn-Pass-1")
            .await
            .status(),
        200
    );
    app.database()
        .await
        .execute("UPDATE password_history SET set_at = '2000-01-01T00:00:00Z'")
        .await
        .unwrap();
    assert_eq!(
        login(&app, &app.account_id, "finn", "Finn-Pass-1")
            .await
            .status(),
        403
    );
    // An administrator's reset makes it new again.
    iam.update_login_profile()
        .user_name("finn")
        .password("Finn-Pass-2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        login(&app, &app.account_id, "finn", "Finn-Pass-2")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn password_policy_over_v1() {
    let app = spawn_app().await;
    let r = app.get("/v1/account/password-policy").await;
    assert_eq!(r.status(), 404);
    let r = app
        .put(
            "/v1/account/password-policy",
            &json!({"minimum_password_length": 12, "require_symbols": true, "max_password_age": 30}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = app
        .get("/v1/account/password-policy")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["minimum_password_length"], 12);
    assert_eq!(body["require_symbols"], true);
    assert_eq!(body["require_numbers"], false);
    assert_eq!(body["expire_passwords"], true);
    assert_eq!(body["max_password_age"], 30);
    let r = app
        .put(
            "/v1/account/password-policy",
            &json!({"minimum_password_length": 200}),
        )
        .await;
    assert_eq!(r.status(), 400);
    app.create_user("gil").await;
    let r = app
        .put(
            "/v1/users/gil/login-profile",
            &json!({"password": "longenoughbutnosymbol"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "PasswordPolicyViolation", "{body}");
    assert_eq!(
        app.delete("/v1/account/password-policy").await.status(),
        204
    );
    assert_eq!(
        app.delete("/v1/account/password-policy").await.status(),
        404
    );
}

#[tokio::test]
async fn account_alias_is_one_per_account_unique_and_signs_in() {
    let app = spawn_app().await;
    let iam = iam_client(&app, &app.root);
    let listed = iam.list_account_aliases().send().await.unwrap();
    assert!(listed.account_aliases().is_empty());
    for bad in ["ab", "-corp", "corp-", "Corp", "a--b", "123456789012"] {
        let (code, status) = failure(iam.create_account_alias().account_alias(bad).send().await);
        assert_eq!((code.as_str(), status), ("ValidationError", 400), "{bad}");
    }
    iam.create_account_alias()
        .account_alias("example-corp")
        .send()
        .await
        .unwrap();
    let listed = iam.list_account_aliases().send().await.unwrap();
    assert_eq!(listed.account_aliases(), ["example-corp"]);
    let (code, status) = failure(
        iam.create_account_alias()
            .account_alias("example-corp")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("EntityAlreadyExists", 409));
    let (code, status) = failure(
        iam.create_account_alias()
            .account_alias("second-alias")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("LimitExceeded", 409));

    // Another account may not take it: aliases are unique on the server.
    let created: Value = app
        .post("/v1/accounts", &json!({"name": "other"}))
        .await
        .json()
        .await
        .unwrap();
    let other = Credentials {
        access_key_id: created["root_credentials"]["access_key_id"]
            .as_str()
            .unwrap()
            .into(),
        secret_access_key: created["root_credentials"]["secret_access_key"]
            .as_str()
            .unwrap()
            .into(),
    };
    let other_iam = iam_client(&app, &other);
    let (code, status) = failure(
        other_iam
            .create_account_alias()
            .account_alias("example-corp")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("EntityAlreadyExists", 409));
    let r = app
        .send_as(
            &other,
            Method::POST,
            "/v1/account/aliases",
            Some(&json!({"alias": "other-corp"})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let body: Value = app
        .send_as(&other, Method::GET, "/v1/account/aliases", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["aliases"], json!(["other-corp"]));

    // Login takes the alias in place of the account id.
    iam.create_user().user_name("hana").send().await.unwrap();
    iam.create_login_profile()
        .user_name("hana")
        .password("Hana-Pass-1")
        .send()
        .await
        .unwrap();
    let r = login(&app, "example-corp", "hana", "Hana-Pass-1").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["user"]["arn"],
        format!("arn:aws:iam::{}:user/hana", app.account_id)
    );
    assert_eq!(
        login(&app, "other-corp", "hana", "Hana-Pass-1")
            .await
            .status(),
        401
    );
    assert_eq!(
        login(&app, "no-such-alias", "hana", "Hana-Pass-1")
            .await
            .status(),
        401
    );

    let (code, status) = failure(
        iam.delete_account_alias()
            .account_alias("other-corp")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    iam.delete_account_alias()
        .account_alias("example-corp")
        .send()
        .await
        .unwrap();
    assert!(iam
        .list_account_aliases()
        .send()
        .await
        .unwrap()
        .account_aliases()
        .is_empty());
    assert_eq!(
        login(&app, "example-corp", "hana", "Hana-Pass-1")
            .await
            .status(),
        401
    );
    // Freed, the alias can be taken again, here over /v1 by the other
    // account after it drops its own.
    let r = app
        .send_as(
            &other,
            Method::DELETE,
            "/v1/account/aliases/other-corp",
            None,
        )
        .await;
    assert_eq!(r.status(), 204);
    let r = app
        .send_as(
            &other,
            Method::POST,
            "/v1/account/aliases",
            Some(&json!({"alias": "example-corp"})),
        )
        .await;
    assert_eq!(r.status(), 201);
}
