//! Nothing about one tenant reaches another (issue 15 §3), and simulations
//! evaluate the context they are given (§5, in `simulation`). Two tenant
//! accounts, A and B, and the management account (the platform's own
//! services).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json_with_status, policy, spawn_app, Credentials, TestApp};
use crate::services::other_account;
use crate::signing::{sign_request, Signing};

mod simulation;

/// A tenant: its account id and root key.
struct Tenant {
    id: String,
    root: Credentials,
}

async fn tenant(app: &TestApp, name: &str) -> Tenant {
    let (id, root) = other_account(app, name).await;
    Tenant { id, root }
}

/// A request as `creds`, asserting `status`, returning the JSON body.
async fn call(
    app: &TestApp,
    creds: &Credentials,
    method: Method,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    json_with_status(
        app.send_as(creds, method, path, body.as_ref()).await,
        status,
    )
    .await
}

/// Creates a user with an access key in the account of `root`.
async fn user_with_key(app: &TestApp, root: &Credentials, name: &str) -> Credentials {
    call(
        app,
        root,
        Method::POST,
        "/v1/users",
        Some(json!({"name": name})),
        201,
    )
    .await;
    let key = call(
        app,
        root,
        Method::POST,
        &format!("/v1/users/{name}/access-keys"),
        None,
        201,
    )
    .await;
    Credentials {
        access_key_id: key["access_key_id"].as_str().unwrap().to_string(),
        secret_access_key: key["secret_access_key"].as_str().unwrap().to_string(),
    }
}

async fn put_user_policy(app: &TestApp, root: &Credentials, user: &str, name: &str, doc: Value) {
    call(
        app,
        root,
        Method::PUT,
        &format!("/v1/users/{user}/policies/{name}"),
        Some(json!({ "document": doc })),
        200,
    )
    .await;
}

/// Bob of tenant B, with a key and a named, Sid'd grant on a bucket.
async fn bob_of(app: &TestApp, b: &Tenant) -> Credentials {
    let bob = user_with_key(app, &b.root, "bob").await;
    put_user_policy(
        app,
        &b.root,
        "bob",
        "bob-reads-reports",
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "BobSecretSid", "Effect": "Allow",
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]}),
    )
    .await;
    bob
}

// ---- §3.1: /v1/authorize resolves only the caller's own account's keys ----

fn by_key(access_key_id: &str) -> Value {
    json!({"credentials": {"access_key_id": access_key_id},
        "action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q1.csv"})
}

fn by_signature(subject: &Credentials) -> Value {
    let url = "https://storage.internal/reports/q1.csv";
    let mut signing = Signing::now(subject);
    signing.service = "s3";
    let signed = sign_request(&signing, "GET", url, &[], b"");
    let mut headers = serde_json::Map::new();
    headers.insert("host".into(), json!("storage.internal"));
    for (n, v) in signed.headers {
        headers.insert(n, json!(v));
    }
    json!({"signed_request": {"method": "GET", "url": url, "headers": headers, "body": ""},
        "action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q1.csv"})
}

/// The refusal's code and message (the request id differs per request),
/// after checking that it tells nothing of tenant B.
async fn refusal(app: &TestApp, service: &Credentials, body: Value, b: &Tenant) -> (Value, Value) {
    let r = app
        .send_as(service, Method::POST, "/v1/authorize", Some(&body))
        .await;
    let body = assert_error(r, 400, "InvalidClientTokenId").await;
    let text = body.to_string();
    for secret in [b.id.as_str(), "bob", "BobSecretSid", "bob-reads-reports"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    (
        body["error"]["code"].clone(),
        body["error"]["message"].clone(),
    )
}

#[tokio::test]
async fn a_tenant_cannot_authorize_another_tenants_key() {
    let app = spawn_app().await;
    let a = tenant(&app, "tenant-a").await;
    let b = tenant(&app, "tenant-b").await;
    let bob = bob_of(&app, &b).await;
    let made_up = Credentials {
        access_key_id: "AKIAZZZZZZZZZZZZZZZZ".into(),
        secret_access_key: "x".repeat(40),
    };
    // A service user of A, holding latchkey:Authorize, and A's root.
    let a_service = user_with_key(&app, &a.root, "a-service").await;
    put_user_policy(
        &app,
        &a.root,
        "a-service",
        "authorize",
        policy("Allow", "latchkey:Authorize", "*"),
    )
    .await;

    for service in [&a.root, &a_service] {
        // Credentials mode: B's key id answers as a made-up one does.
        let foreign = refusal(&app, service, by_key(&bob.access_key_id), &b).await;
        let unknown = refusal(&app, service, by_key(&made_up.access_key_id), &b).await;
        assert_eq!(foreign, unknown);
        // Signed mode, even with a valid signature by B's key.
        let foreign = refusal(&app, service, by_signature(&bob), &b).await;
        let unknown = refusal(&app, service, by_signature(&made_up), &b).await;
        assert_eq!(foreign, unknown);
    }

    // A's own keys are still decided, in both modes.
    let alice = user_with_key(&app, &a.root, "alice").await;
    for body in [by_key(&alice.access_key_id), by_signature(&alice)] {
        let reply = call(
            &app,
            &a_service,
            Method::POST,
            "/v1/authorize",
            Some(body),
            200,
        )
        .await;
        assert_eq!(
            reply["principal"]["arn"],
            format!("arn:aws:iam::{}:user/alice", a.id)
        );
    }

    // A service of the management account decides for every account.
    let platform = app.authorizing_service("platform").await;
    for body in [by_key(&bob.access_key_id), by_signature(&bob)] {
        let reply = call(
            &app,
            &platform,
            Method::POST,
            "/v1/authorize",
            Some(body),
            200,
        )
        .await;
        assert_eq!(
            reply["principal"]["arn"],
            format!("arn:aws:iam::{}:user/bob", b.id)
        );
        assert_eq!(reply["allowed"], true, "{reply}");
        assert_eq!(reply["matched_statements"][0]["sid"], "BobSecretSid");
    }
}

// ---- §3.2: trust analysis does not look into other tenants ----

fn trust_statement(sid: &str, aws: Value, condition: Option<Value>) -> Value {
    let mut st = json!({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": aws},
        "Action": "sts:AssumeRole"});
    if let Some(c) = condition {
        st["Condition"] = c;
    }
    st
}

async fn create_role(app: &TestApp, root: &Credentials, name: &str, statements: Vec<Value>) {
    call(
        app,
        root,
        Method::POST,
        "/v1/roles",
        Some(json!({"name": name, "trust_policy":
            {"Version": "2012-10-17", "Statement": statements}})),
        201,
    )
    .await;
}

async fn trust_analysis(app: &TestApp, root: &Credentials, role: &str) -> (String, Vec<Value>) {
    let body = call(
        app,
        root,
        Method::GET,
        &format!("/v1/roles/{role}/trust-analysis"),
        None,
        200,
    )
    .await;
    let found = body["principals"].as_array().unwrap().clone();
    (body.to_string(), found)
}

#[tokio::test]
async fn trust_analysis_reports_another_tenant_as_one_sealed_entry() {
    let app = spawn_app().await;
    let a = tenant(&app, "tenant-a").await;
    let b = tenant(&app, "tenant-b").await;
    // B's principals that could assume A's roles: bob (by his own policy)
    // and a role of B.
    user_with_key(&app, &b.root, "bob").await;
    let hop = json!({"Version": "2012-10-17", "Statement": [{"Sid": "BobHopSid",
        "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]});
    put_user_policy(&app, &b.root, "bob", "bob-hop-policy", hop.clone()).await;
    create_role(
        &app,
        &b.root,
        "b-secret-role",
        vec![trust_statement("Self", json!(b.id.clone()), None)],
    )
    .await;
    call(
        &app,
        &b.root,
        Method::PUT,
        "/v1/roles/b-secret-role/policies/b-role-hop",
        Some(json!({ "document": hop })),
        200,
    )
    .await;
    // A's own user, allowed to assume: A's account is still listed.
    user_with_key(&app, &a.root, "alice").await;
    put_user_policy(
        &app,
        &a.root,
        "alice",
        "alice-hop",
        policy("Allow", "sts:AssumeRole", "*"),
    )
    .await;

    let external_id = json!({"StringEquals": {"sts:ExternalId": "partner-7"}});
    let bob_arn = format!("arn:aws:iam::{}:user/bob", b.id);
    let alice_arn = format!("arn:aws:iam::{}:user/alice", a.id);
    // Trusting B's whole account; trusting B's bob by name (stored pinned
    // to his unique id); and A's alice by name.
    create_role(
        &app,
        &a.root,
        "by-account",
        vec![trust_statement(
            "Partner",
            json!(b.id.clone()),
            Some(external_id.clone()),
        )],
    )
    .await;
    create_role(
        &app,
        &a.root,
        "by-name",
        vec![
            trust_statement("Bob", json!(bob_arn.clone()), Some(external_id.clone())),
            trust_statement("Alice", json!(alice_arn.clone()), None),
        ],
    )
    .await;

    for role in ["by-account", "by-name"] {
        let (text, found) = trust_analysis(&app, &a.root, role).await;
        for inside in [
            "user/bob",
            "b-secret-role",
            "bob-hop-policy",
            "b-role-hop",
            "BobHopSid",
        ] {
            assert!(!text.contains(inside), "{role}: {inside} leaked: {text}");
        }
        let of_b: Vec<&Value> = found.iter().filter(|p| p["account_id"] == b.id).collect();
        assert_eq!(of_b.len(), 1, "{role}: {found:#?}");
        let entry = of_b[0];
        assert_eq!(entry["principal_type"], "account");
        assert_eq!(entry["principal"], b.id);
        assert_eq!(entry["external"], true);
        assert_eq!(entry["conditional"], true);
        assert_eq!(entry["condition_keys"], json!(["sts:ExternalId"]));
        let sid = if role == "by-account" {
            "Partner"
        } else {
            "Bob"
        };
        assert_eq!(
            entry["statements"],
            json!([{"policy": "trust policy",
            "kind": "trust", "sid": sid, "index": 0}])
        );
    }
    // The caller's own account is still looked into.
    let (_, found) = trust_analysis(&app, &a.root, "by-name").await;
    let alice = found
        .iter()
        .find(|p| p["principal"] == alice_arn)
        .expect("alice listed");
    assert_eq!(alice["external"], false);
    assert_eq!(found.len(), 2, "{found:#?}");

    // The sealed entry is the same whether or not the account holds
    // anyone: an account id that exists nowhere answers alike.
    create_role(
        &app,
        &a.root,
        "by-nobody",
        vec![trust_statement(
            "Partner",
            json!("999999999999"),
            Some(external_id.clone()),
        )],
    )
    .await;
    let (_, nobody) = trust_analysis(&app, &a.root, "by-nobody").await;
    let (_, by_b) = trust_analysis(&app, &a.root, "by-account").await;
    let strip = |found: &[Value], id: &str| -> Vec<Value> {
        found
            .iter()
            .map(|p| serde_json::from_str(&p.to_string().replace(id, "ACCOUNT")).unwrap())
            .collect()
    };
    assert_eq!(strip(&nobody, "999999999999"), strip(&by_b, &b.id));

    // The management account's caller (the platform's operator) sees
    // inside the accounts its roles trust.
    create_role(
        &app,
        &app.root,
        "platform-by-account",
        vec![trust_statement("Partner", json!(b.id.clone()), None)],
    )
    .await;
    let (_, found) = trust_analysis(&app, &app.root, "platform-by-account").await;
    assert!(
        found.iter().any(|p| p["principal"] == bob_arn),
        "{found:#?}"
    );
}

// ---- §3.3: AssumeRole writes the owner's copy only for a real role ----

async fn assume_role_events(app: &TestApp, as_: &Credentials) -> Vec<Value> {
    let page = call(
        app,
        as_,
        Method::GET,
        "/v1/audit/events?action=sts:AssumeRole&max_items=1000",
        None,
        200,
    )
    .await;
    page["items"].as_array().unwrap().clone()
}

async fn assume(app: &TestApp, who: &Credentials, role_arn: &str, status: u16) -> Value {
    call(
        app,
        who,
        Method::POST,
        "/v1/sts/assume-role",
        Some(json!({"role_arn": role_arn, "role_session_name": "probe-session"})),
        status,
    )
    .await
}

#[tokio::test]
async fn assuming_a_role_that_does_not_exist_writes_only_the_callers_trail() {
    let app = spawn_app().await;
    let a = tenant(&app, "tenant-a").await;
    let b = tenant(&app, "tenant-b").await;
    let ann = user_with_key(&app, &a.root, "ann").await;
    put_user_policy(
        &app,
        &a.root,
        "ann",
        "assume",
        policy("Allow", "sts:AssumeRole", "*"),
    )
    .await;
    let ann_arn = format!("arn:aws:iam::{}:user/ann", a.id);
    let made_up_in_b = format!("arn:aws:iam::{}:role/made-up", b.id);
    let in_no_account = "arn:aws:iam::999999999999:role/made-up";
    for arn in [made_up_in_b.as_str(), in_no_account] {
        assert_error(
            app.send_as(
                &ann,
                Method::POST,
                "/v1/sts/assume-role",
                Some(&json!({"role_arn": arn, "role_session_name": "probe-session"})),
            )
            .await,
            403,
            "AccessDenied",
        )
        .await;
    }

    // B's trail holds nothing of it.
    assert_eq!(assume_role_events(&app, &b.root).await, Vec::<Value>::new());
    // A's own trail records both failed attempts.
    let mine = assume_role_events(&app, &a.root).await;
    let mut resources: Vec<&str> = mine
        .iter()
        .map(|e| e["resource"].as_str().unwrap())
        .collect();
    resources.sort();
    let mut expected = vec![made_up_in_b.as_str(), in_no_account];
    expected.sort();
    assert_eq!(resources, expected, "{mine:#?}");
    assert!(mine
        .iter()
        .all(|e| e["principal_arn"] == ann_arn && e["decision"] == "denied"));
    // Nor any account's (the management account sees them all): only A's
    // two records exist.
    let all = assume_role_events(&app, &app.root).await;
    assert_eq!(all.len(), 2, "{all:#?}");

    // A real role of B: B gets its copy.
    create_role(
        &app,
        &b.root,
        "real",
        vec![trust_statement("Ann", json!(ann_arn.clone()), None)],
    )
    .await;
    assume(&app, &ann, &format!("arn:aws:iam::{}:role/real", b.id), 200).await;
    let theirs = assume_role_events(&app, &b.root).await;
    assert_eq!(theirs.len(), 1, "{theirs:#?}");
    assert_eq!(theirs[0]["principal_arn"], ann_arn);
    assert_eq!(theirs[0]["decision"], "allowed");
    assert_eq!(assume_role_events(&app, &a.root).await.len(), 3);
}
