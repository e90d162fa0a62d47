//! The audit trail: a full scenario found again by every filter of
//! GET /v1/audit/events, a mutation rolled back with its failed record,
//! the queue flushed at graceful shutdown, retention and the append-only
//! table, last-used tracking.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, captured_logs, json_with_status, skip_on_postgres_only, spawn_app,
    spawn_app_with, spawn_stoppable_app, stop_app, Credentials, TestApp,
};

const UA: &str = "audit-test/1.0";

/// Every event a query finds, following the markers.
async fn events(app: &TestApp, as_: &Credentials, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut url = format!("/v1/audit/events?max_items=3&{query}");
        if let Some(m) = &marker {
            url.push_str(&format!("&marker={m}"));
        }
        let page = json_with_status(app.send_as(as_, Method::GET, &url, None).await, 200).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["marker"].as_str() {
            Some(m) if page["is_truncated"] == true => marker = Some(m.to_string()),
            _ => break,
        }
    }
    // Newest first, ids strictly decreasing across pages.
    let ids: Vec<i64> = items.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    items
}

fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

fn enc(s: &str) -> String {
    s.replace(':', "%3A")
        .replace('/', "%2F")
        .replace('+', "%2B")
}

async fn authorize(app: &TestApp, service: &Credentials, subject: &str, resource: &str) -> Value {
    json_with_status(
        app.send_as(
            service,
            Method::POST,
            "/v1/authorize",
            Some(&json!({"credentials": {"access_key_id": subject},
                "action": "s3:GetObject", "resource": resource})),
        )
        .await,
        200,
    )
    .await
}

#[tokio::test]
async fn a_full_scenario_is_found_by_every_filter() {
    let app = spawn_app_with(|c| c.audit_authorize = latchkey::config::AuditAuthorize::All).await;
    let acct = app.account_id.clone();
    let before = json_with_status(app.get("/v1/audit/events?max_items=1").await, 200).await
        ["items"][0]["time"]
        .as_str()
        .unwrap()
        .to_string();

    // Users and keys, with a user agent and a request id to find again.
    let r = app
        .request(Method::POST, "/v1/users")
        .header("user-agent", UA)
        .json(&json!({"name": "alice", "tags": [{"key": "team", "value": "blue"}]}))
        .send()
        .await
        .unwrap();
    let create_request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    json_with_status(r, 201).await;
    let key = json_with_status(
        app.request(Method::POST, "/v1/users/alice/access-keys")
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let alice = Credentials {
        access_key_id: key["access_key_id"].as_str().unwrap().into(),
        secret_access_key: key["secret_access_key"].as_str().unwrap().into(),
    };
    let alice_arn = format!("arn:aws:iam::{acct}:user/alice");
    app.put_inline(
        "/v1/users/alice/policies/work",
        json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "DistinctiveSid", "Effect": "Allow", "Action": "s3:GetObject",
                 "Resource": "arn:aws:s3:::reports/*"}]}),
    )
    .await;

    // A role, assumed by alice; its session is used.
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "deployer", "trust_policy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": alice_arn}, "Action": "sts:AssumeRole"}]}}),
        )
        .await,
        201,
    )
    .await;
    let role_arn = format!("arn:aws:iam::{acct}:role/deployer");
    let assumed = json_with_status(
        app.send_as(
            &alice,
            Method::POST,
            "/v1/sts/assume-role",
            Some(&json!({"role_arn": role_arn, "role_session_name": "build-7"})),
        )
        .await,
        200,
    )
    .await;
    let session_key = assumed["credentials"]["access_key_id"].as_str().unwrap();

    // Denied calls: alice may not list users nor assume a role nobody trusts her for.
    assert_error(
        app.send_as(&alice, Method::GET, "/v1/users", None).await,
        403,
        "AccessDenied",
    )
    .await;
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "vault", "trust_policy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{acct}:root")},
                 "Action": "sts:AssumeRole"}]}}),
        )
        .await,
        201,
    )
    .await;
    assert_error(
        app.send_as(
            &alice,
            Method::POST,
            "/v1/sts/assume-role",
            Some(
                &json!({"role_arn": format!("arn:aws:iam::{acct}:role/vault"),
                "role_session_name": "x1"}),
            ),
        )
        .await,
        403,
        "AccessDenied",
    )
    .await;
    // A refused credential.
    let wrong = Credentials {
        access_key_id: alice.access_key_id.clone(),
        secret_access_key: "not-alices-secret-0000000000000000000000".into(),
    };
    assert_error(
        app.send_as(&wrong, Method::GET, "/v1/users", None).await,
        401,
        "SignatureDoesNotMatch",
    )
    .await;

    // Decisions for a service: one allowed, one denied.
    let storage = app.authorizing_service("storage").await;
    assert_eq!(
        authorize(
            &app,
            &storage,
            &alice.access_key_id,
            "arn:aws:s3:::reports/q1.csv"
        )
        .await["allowed"],
        true
    );
    assert_eq!(
        authorize(
            &app,
            &storage,
            &alice.access_key_id,
            "arn:aws:s3:::payroll/x"
        )
        .await["allowed"],
        false
    );

    let root = app.root.clone();
    // action=
    let created = events(&app, &root, "action=iam:CreateUser").await;
    let alice_created = created
        .iter()
        .find(|e| e["resource"] == alice_arn.as_str())
        .expect("CreateUser alice");
    assert_eq!(alice_created["decision"], "allowed");
    assert_eq!(alice_created["request_id"], create_request_id.as_str());
    assert_eq!(alice_created["user_agent"], UA);
    assert_eq!(alice_created["source_ip"], "127.0.0.1");
    assert_eq!(alice_created["account_id"], acct.as_str());
    assert_eq!(alice_created["access_key_id"], root.access_key_id.as_str());
    assert_eq!(
        alice_created["principal_arn"],
        format!("arn:aws:iam::{acct}:root")
    );
    assert_eq!(alice_created["params"]["name"], "alice");
    assert_eq!(alice_created["params"]["tags"][0]["value"], "blue");
    // Policy documents are kept as a digest only.
    let put = events(&app, &root, "action=iam:PutUserPolicy").await;
    assert_eq!(put.len(), 2, "{put:?}");
    let work = put
        .iter()
        .find(|e| e["params"]["policy_name"] == "work")
        .unwrap();
    assert_eq!(
        work["params"]["document"]["sha256"].as_str().unwrap().len(),
        64
    );
    assert!(!work.to_string().contains("DistinctiveSid"));

    // principal=: alice's own doings, allowed and denied.
    let by_alice = events(&app, &root, &format!("principal={}", enc(&alice_arn))).await;
    let mine = actions(&by_alice);
    for action in ["sts:AssumeRole", "iam:ListUsers", "s3:GetObject"] {
        assert!(mine.iter().any(|a| a == action), "{action} in {mine:?}");
    }
    let assume = by_alice
        .iter()
        .find(|e| e["action"] == "sts:AssumeRole" && e["decision"] == "allowed")
        .unwrap();
    assert_eq!(assume["params"]["session_access_key_id"], session_key);
    assert_eq!(assume["params"]["role_session_name"], "build-7");

    // decision=denied: the refusals, the refused credential and the deny.
    let denied = events(&app, &root, "decision=denied").await;
    let d = actions(&denied);
    assert!(d.iter().any(|a| a == "iam:ListUsers"), "{d:?}");
    assert!(
        denied.iter().any(|e| e["action"] == "sts:AssumeRole"
            && e["resource"] == format!("arn:aws:iam::{acct}:role/vault").as_str()),
        "{d:?}"
    );
    let refused = denied
        .iter()
        .find(|e| e["action"] == "latchkey:Authenticate")
        .expect("refused credential");
    assert_eq!(refused["error_code"], "SignatureDoesNotMatch");
    assert_eq!(refused["access_key_id"], alice.access_key_id.as_str());
    assert_eq!(refused["account_id"], acct.as_str());
    assert_eq!(refused["params"]["reason"], "bad_signature");
    let deny = denied
        .iter()
        .find(|e| e["action"] == "s3:GetObject")
        .expect("authorize deny");
    assert_eq!(deny["resource"], "arn:aws:s3:::payroll/x");
    assert_eq!(deny["error_code"], "implicit_deny");
    assert_eq!(
        deny["params"]["service"],
        format!("arn:aws:iam::{acct}:user/storage")
    );
    // decision=allowed with the setting "all" keeps allowed decisions too.
    let allowed = events(&app, &root, "decision=allowed&action=s3:GetObject").await;
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["resource"], "arn:aws:s3:::reports/q1.csv");

    // resource_prefix=: everything done to roles.
    let roles = events(
        &app,
        &root,
        &format!(
            "resource_prefix={}",
            enc(&format!("arn:aws:iam::{acct}:role/"))
        ),
    )
    .await;
    let r = actions(&roles);
    assert_eq!(
        r.iter().filter(|a| *a == "iam:CreateRole").count(),
        2,
        "{r:?}"
    );
    assert_eq!(r.iter().filter(|a| *a == "sts:AssumeRole").count(), 2);

    // start_time / end_time.
    let since = events(&app, &root, &format!("start_time={}", enc(&before))).await;
    assert!(since.len() >= roles.len());
    let all_before = events(&app, &root, &format!("end_time={}", enc(&before))).await;
    assert!(all_before
        .iter()
        .all(|e| e["time"].as_str().unwrap() <= before.as_str()));
    assert!(!actions(&all_before).iter().any(|a| a == "sts:AssumeRole"));
    let future = events(&app, &root, "start_time=2999-01-01T00:00:00Z").await;
    assert!(future.is_empty());

    // Bad filters are refused clearly.
    assert_error(
        app.get("/v1/audit/events?decision=maybe").await,
        400,
        "ValidationError",
    )
    .await;
    assert_error(
        app.get("/v1/audit/events?start_time=yesterday").await,
        400,
        "ValidationError",
    )
    .await;
    assert_error(
        app.get("/v1/audit/events?marker=%21%21").await,
        400,
        "InvalidInput",
    )
    .await;
    // Reading the trail needs latchkey:ReadAudit, and the refusal is audited.
    assert_error(
        app.send_as(&alice, Method::GET, "/v1/audit/events", None)
            .await,
        403,
        "AccessDenied",
    )
    .await;
    assert_eq!(
        events(&app, &root, "action=latchkey:ReadAudit").await[0]["decision"],
        "denied"
    );
}

#[tokio::test]
async fn an_account_sees_its_own_events_and_the_management_account_all() {
    let app = spawn_app().await;
    let other = json_with_status(app.post("/v1/accounts", &json!({"name": "b"})).await, 201).await;
    let other_root = Credentials {
        access_key_id: other["root_credentials"]["access_key_id"]
            .as_str()
            .unwrap()
            .into(),
        secret_access_key: other["root_credentials"]["secret_access_key"]
            .as_str()
            .unwrap()
            .into(),
    };
    json_with_status(
        app.send_as(
            &other_root,
            Method::POST,
            "/v1/users",
            Some(&json!({"name": "bob"})),
        )
        .await,
        201,
    )
    .await;
    let carol = app.user_with_key("carol").await;
    let theirs = events(&app, &other_root, "action=iam:CreateUser").await;
    assert_eq!(theirs.len(), 1);
    assert!(theirs[0]["resource"]
        .as_str()
        .unwrap()
        .ends_with(":user/bob"));
    let all = events(&app, &app.root, "action=iam:CreateUser").await;
    assert_eq!(all.len(), 2);

    // Across accounts, the role's owner sees who assumed its role.
    let other_id = other["account_id"].as_str().unwrap();
    let carol_arn = format!("arn:aws:iam::{}:user/carol", app.account_id);
    json_with_status(
        app.send_as(
            &other_root,
            Method::POST,
            "/v1/roles",
            Some(
                &json!({"name": "shared", "trust_policy": {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": carol_arn},
                "Action": "sts:AssumeRole"}]}}),
            ),
        )
        .await,
        201,
    )
    .await;
    app.put_inline(
        "/v1/users/carol/policies/assume",
        json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}),
    )
    .await;
    json_with_status(
        app.send_as(
            &carol,
            Method::POST,
            "/v1/sts/assume-role",
            Some(
                &json!({"role_arn": format!("arn:aws:iam::{other_id}:role/shared"),
                "role_session_name": "visit"}),
            ),
        )
        .await,
        200,
    )
    .await;
    let seen = events(&app, &other_root, "action=sts:AssumeRole").await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["principal_arn"], carol_arn.as_str());
    assert_eq!(seen[0]["decision"], "allowed");
}

#[tokio::test]
async fn a_failed_audit_write_rolls_back_its_mutation() {
    let app = spawn_app().await;
    let db = app.database().await;
    if db.is_postgres() {
        db.execute(
            "CREATE FUNCTION audit_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'audit storage unavailable'; END $$",
        )
        .await
        .unwrap();
        db.execute(
            "CREATE TRIGGER audit_disk_full BEFORE INSERT ON audit_events
             FOR EACH ROW EXECUTE FUNCTION audit_disk_full()",
        )
        .await
        .unwrap();
    } else {
        db.execute(
            "CREATE TRIGGER audit_disk_full BEFORE INSERT ON audit_events
             BEGIN SELECT RAISE(ABORT, 'audit storage unavailable'); END",
        )
        .await
        .unwrap();
    }
    assert_error(
        app.post("/v1/users", &json!({"name": "bob"})).await,
        500,
        "ServiceFailure",
    )
    .await;
    // The user was never created ...
    assert_error(app.get("/v1/users/bob").await, 404, "NoSuchEntity").await;
    let users = db
        .count("SELECT COUNT(*) FROM users WHERE name = 'bob'")
        .await;
    assert_eq!(users, 0);
    // ... nor a role with its tags.
    assert_error(
        app.post(
            "/v1/roles",
            &json!({"name": "r", "tags": [{"key": "k", "value": "v"}],
                "trust_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{}:root", app.account_id)},
                "Action": "sts:AssumeRole"}]}}),
        )
        .await,
        500,
        "ServiceFailure",
    )
    .await;
    let tags = db.count("SELECT COUNT(*) FROM tags").await;
    assert_eq!(tags, 0);
    // Once the audit can be written again, so can the user.
    db.execute("DROP TRIGGER audit_disk_full ON audit_events")
        .await
        .or(db.execute("DROP TRIGGER audit_disk_full").await)
        .unwrap();
    json_with_status(app.post("/v1/users", &json!({"name": "bob"})).await, 201).await;
}

#[tokio::test]
async fn queued_decisions_are_written_at_graceful_shutdown() {
    let (app, running) =
        spawn_stoppable_app(|c| c.audit_authorize = latchkey::config::AuditAuthorize::All).await;
    let alice = app.user_with_key("alice").await;
    let storage = app.authorizing_service("storage").await;
    for i in 0..40 {
        authorize(
            &app,
            &storage,
            &alice.access_key_id,
            &format!("arn:aws:s3:::bucket/object-{i}"),
        )
        .await;
    }
    stop_app(running).await;
    assert!(
        app.client.get(app.url("/healthz")).send().await.is_err(),
        "the server is stopped"
    );
    let db = app.database().await;
    let n = db
        .count(
            "SELECT COUNT(*) FROM audit_events WHERE action = 's3:GetObject' AND resource LIKE 'arn:aws:s3:::bucket/object-%'",
        )
        .await;
    // The server is gone: only the logs tell why an event was not written.
    let logs = captured_logs();
    let audit_lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .collect();
    assert_eq!(n, 40, "warnings and errors logged: {audit_lines:#?}");
}

#[tokio::test]
async fn a_writer_connection_closed_by_the_server_loses_no_decision() {
    if skip_on_postgres_only("the audit writer's own connection is PostgreSQL's") {
        return;
    }
    let app = spawn_app_with(|c| c.audit_authorize = latchkey::config::AuditAuthorize::All).await;
    let alice = app.user_with_key("alice").await;
    let storage = app.authorizing_service("storage").await;
    let object = |i: usize| format!("arn:aws:s3:::bucket/object-{i}");
    authorize(&app, &storage, &alice.access_key_id, &object(0)).await;
    // The audit query waits for the queue: the writer has its connection.
    assert_eq!(
        events(&app, &app.root, "action=s3:GetObject").await.len(),
        1
    );
    // The server ends every connection of the app, the writer's among them,
    // as a restart, a failover or a pooler's idle timeout would.
    let db = app.database().await;
    db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await
    .unwrap();
    for i in 1..=10 {
        authorize(&app, &storage, &alice.access_key_id, &object(i)).await;
    }
    let written = events(&app, &app.root, "action=s3:GetObject").await;
    assert_eq!(written.len(), 11, "{written:#?}");
}

#[tokio::test]
async fn the_table_is_append_only_and_retention_deletes_old_events() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let db = app.database().await;
    db.execute(
        "INSERT INTO audit_events (event_time, request_id, action, decision)
         VALUES ('2001-01-01T00:00:00.000Z', 'old', 'iam:CreateUser', 'allowed')",
    )
    .await
    .unwrap();
    for sql in [
        "UPDATE audit_events SET action = 'iam:Nothing'",
        "DELETE FROM audit_events",
    ] {
        let err = db.execute(sql).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let store = app.open_store().await;
    assert_eq!(
        latchkey::audit::retention::purge_once(&store, 90)
            .await
            .unwrap(),
        1
    );
    let left = events(&app, &app.root, "action=iam:CreateUser").await;
    assert_eq!(left.len(), 1, "only the old event went: {left:?}");
    // The gate is closed again.
    assert!(db.execute("DELETE FROM audit_events").await.is_err());
}

#[tokio::test]
async fn roles_and_keys_record_their_last_use() {
    let app = spawn_app().await;
    let alice = app.user_with_key("alice").await;
    let alice_arn = format!("arn:aws:iam::{}:user/alice", app.account_id);
    json_with_status(
        app.post(
            "/v1/roles",
            &json!({"name": "deployer", "trust_policy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": alice_arn}, "Action": "sts:AssumeRole"}]}}),
        )
        .await,
        201,
    )
    .await;
    let role = json_with_status(app.get("/v1/roles/deployer").await, 200).await;
    assert!(role.get("last_used_at").is_none(), "{role}");

    // A SigV4 request with alice's key records time, service and region.
    let signing = crate::signing::Signing {
        service: "sts",
        region: "eu-west-1",
        ..crate::signing::Signing::now(&alice)
    };
    let url = app.url("/v1/sts/caller-identity");
    let signed = crate::signing::sign_request(&signing, "GET", &url, &[], b"");
    let r = crate::signing::send(&app.client, Method::GET, &signed, Vec::new()).await;
    assert_eq!(r.status(), 200);
    let keys = json_with_status(app.get("/v1/users/alice/access-keys").await, 200).await;
    let key = &keys["items"][0];
    assert!(key["last_used_at"].as_str().is_some(), "{keys}");
    assert_eq!(key["last_used_service"], "sts");
    assert_eq!(key["last_used_region"], "eu-west-1");

    // Assuming the role and using the session records the role's use.
    let assumed = json_with_status(
        app.send_as(
            &alice,
            Method::POST,
            "/v1/sts/assume-role",
            Some(
                &json!({"role_arn": format!("arn:aws:iam::{}:role/deployer", app.account_id),
                "role_session_name": "s1"}),
            ),
        )
        .await,
        200,
    )
    .await;
    let c = &assumed["credentials"];
    let session = Credentials {
        access_key_id: c["access_key_id"].as_str().unwrap().into(),
        secret_access_key: c["secret_access_key"].as_str().unwrap().into(),
    };
    let r = app
        .request_as(&session, Method::GET, "/v1/sts/caller-identity")
        .header("x-amz-security-token", c["session_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let role = json_with_status(app.get("/v1/roles/deployer").await, 200).await;
    assert!(role["last_used_at"].as_str().is_some(), "{role}");
    assert_eq!(role["last_used_region"], "us-east-1");
    let list = json_with_status(app.get("/v1/roles").await, 200).await;
    assert!(
        list["items"][0]["last_used_at"].as_str().is_some(),
        "{list}"
    );

    // The query protocol shows both.
    let xml = app
        .request(
            Method::GET,
            "/?Action=GetRole&Version=2010-05-08&RoleName=deployer",
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(xml.contains("<RoleLastUsed><LastUsedDate>"), "{xml}");
    let xml = app
        .request(
            Method::GET,
            &format!(
                "/?Action=GetAccessKeyLastUsed&Version=2010-05-08&AccessKeyId={}",
                alice.access_key_id
            ),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(xml.contains("<ServiceName>sts</ServiceName>"), "{xml}");
    assert!(xml.contains("<Region>eu-west-1</Region>"), "{xml}");
}
