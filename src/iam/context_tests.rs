//! Operations run on an `OpContext` alone: a real SQLite store in a
//! temporary directory, no server, no HTTP.

use crate::audit::{audited, AuditEvent};
use crate::auth::caller::{CallerIdentity, CallerKind};
use crate::auth::crypto::MasterKey;
use crate::auth::key_ring::{KeyRing, KeySource};
use crate::auth::Caller;
use crate::config::Config;
use crate::domain::{now, Account};
use crate::error::ApiError;
use crate::iam::groups::{add_user_to_group, create_group, get_group, CreateGroupRequest};
use crate::iam::users::{create_user, CreateUserRequest};
use crate::state::OpContext;
use crate::store::audit::AuditQuery;
use crate::store::Store;

const ACCOUNT: &str = "111122223333";

fn caller(kind: CallerKind, arn: String, user_id: &str) -> Caller {
    let identity = CallerIdentity::new(
        ACCOUNT.into(),
        arn,
        user_id.into(),
        kind,
        "AKIAIOSFODNN7EXAMPLE".into(),
        false,
    );
    Caller::new(identity, None, true)
}

async fn context(dir: &tempfile::TempDir) -> OpContext {
    let store = Store::open(&dir.path().join("latchkey.db")).await.unwrap();
    let key = MasterKey::from_hex(&MasterKey::generate_hex()).unwrap();
    let cx = OpContext::new(
        store,
        KeyRing::new(key, KeySource::Given),
        Config::default(),
    );
    let account = Account {
        id: ACCOUNT.into(),
        name: "tenant".into(),
        is_management: false,
        created_at: now(),
    };
    let event = AuditEvent::system(
        "latchkey:CreateAccount",
        &format!("arn:aws:iam::{ACCOUNT}:root"),
    );
    audited(&cx, event, async |tx| tx.insert_account(&account).await)
        .await
        .unwrap();
    cx
}

#[tokio::test]
async fn users_and_groups_run_on_a_context_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let cx = context(&dir).await;
    let root = caller(
        CallerKind::Root,
        format!("arn:aws:iam::{ACCOUNT}:root"),
        ACCOUNT,
    );

    let (alice, _) = create_user(
        &cx,
        &root,
        CreateUserRequest {
            name: "alice".into(),
            path: None,
            permissions_boundary: None,
            tags: Vec::new(),
        },
    )
    .await
    .unwrap();
    let group = CreateGroupRequest {
        name: "admins".into(),
        path: None,
    };
    create_group(&cx, &root, group).await.unwrap();
    add_user_to_group(&cx, &root, "admins", "ALICE")
        .await
        .unwrap();
    let (_, members) = get_group(&cx, &root, "admins").await.unwrap();
    let names: Vec<_> = members.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["alice"]);

    // A user with no policy is refused by the operation itself.
    let as_alice = caller(
        CallerKind::User {
            user_id: alice.id.clone(),
            name: alice.name.clone(),
        },
        alice.arn().to_string(),
        &alice.id,
    );
    let group = CreateGroupRequest {
        name: "others".into(),
        path: None,
    };
    let refused = create_group(&cx, &as_alice, group).await;
    assert!(
        matches!(refused, Err(ApiError::AccessDenied(_))),
        "{refused:?}"
    );

    // Each write committed with its audit record, newest first.
    let query = AuditQuery {
        account_id: Some(ACCOUNT.into()),
        max_items: 50,
        ..Default::default()
    };
    let page = cx.store.list_audit_events(&query).await.unwrap();
    let actions: Vec<_> = page
        .items
        .iter()
        .filter(|e| e.decision == "allowed")
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        ["iam:AddUserToGroup", "iam:CreateGroup", "iam:CreateUser"]
    );
}
