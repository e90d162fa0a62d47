//! Fills a data directory at scale through latchkey's own store (no SQL
//! here): USERS users of the management account, each with an access key
//! sealed under the data dir's master key; one role, `scale-role`, with
//! SESSIONS live sessions expiring over the next 12 hours; and AUDIT
//! `latchkey:Authorize` audit events plus a few rare ones (action
//! `iam:DeleteRole`, decision `failed`, principal `.../user/rare`) for the
//! audit filters. Rows go in batches, each one audited transaction.
//!
//! The data dir must have been started once (`latchkey serve`) so that the
//! management account and master key exist.
//!
//! `cargo run --release --example seed_scale -- DATA_DIR [USERS] [SESSIONS] [AUDIT]`
//! (defaults 100000, 1000000, 1000000)

use std::time::Instant;

use latchkey::audit::AuditEvent;
use latchkey::auth::crypto::MasterKey;
use latchkey::domain::ids::{new_unique_id, KeyKind, UniqueIdPrefix};
use latchkey::domain::{format_time_ms, AccessKey, AccessKeyId, RoleSession, SecretAccessKey};
use latchkey::domain::{Role, User};
use latchkey::store::{Store, StoreError};

const BATCH: usize = 2000;

fn arg(args: &[String], i: usize, default: usize) -> anyhow::Result<usize> {
    Ok(args
        .get(i)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(default))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir =
        std::path::PathBuf::from(args.get(1).ok_or_else(|| {
            anyhow::anyhow!("usage: seed_scale DATA_DIR [USERS] [SESSIONS] [AUDIT]")
        })?);
    let users = arg(&args, 2, 100_000)?;
    let sessions = arg(&args, 3, 1_000_000)?;
    let audit = arg(&args, 4, 1_000_000)?;
    let store = Store::open(&dir.join("latchkey.db")).await?;
    let master = MasterKey::load_or_create(&dir)?;
    let account = store
        .management_account()
        .await?
        .ok_or_else(|| anyhow::anyhow!("no management account: start the server once first"))?
        .id;
    let now = time::OffsetDateTime::now_utc();
    let started = Instant::now();

    let mut done = 0;
    while done < users {
        let batch: Vec<(User, AccessKey)> = (done..users.min(done + BATCH))
            .map(|n| {
                let user = User {
                    id: new_unique_id(UniqueIdPrefix::User),
                    account_id: account.clone(),
                    name: format!("user{n:07}"),
                    path: "/".into(),
                    permissions_boundary: None,
                    created_at: format_time_ms(now),
                };
                let id = AccessKeyId::generate(KeyKind::LongTerm);
                let secret = SecretAccessKey::generate();
                let key = AccessKey {
                    access_key_id: id.to_string(),
                    account_id: account.clone(),
                    user_id: Some(user.id.clone()),
                    secret_ciphertext: master.seal(id.as_str(), secret.expose())?,
                    status: "Active".into(),
                    created_at: format_time_ms(now),
                    last_used_at: None,
                    last_used_service: None,
                    last_used_region: None,
                };
                Ok((user, key))
            })
            .collect::<anyhow::Result<_>>()?;
        let event = AuditEvent::system("iam:CreateUser", "seed_scale");
        store
            .audited(event, async |tx| {
                for (user, key) in &batch {
                    tx.insert_user(user, &[]).await?;
                    tx.insert_access_key(key).await?;
                }
                Ok::<_, StoreError>(())
            })
            .await?;
        done += batch.len();
        if done % 20_000 == 0 || done == users {
            println!("users: {done}/{users} ({:.0?})", started.elapsed());
        }
    }

    let role = match store.get_role(&account, "scale-role").await? {
        Some(role) => role,
        None => {
            let role = Role {
                id: new_unique_id(UniqueIdPrefix::Role),
                account_id: account.clone(),
                name: "scale-role".into(),
                path: "/".into(),
                trust_policy: serde_json::json!({"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                    "Action": "sts:AssumeRole"}]})
                .to_string(),
                description: None,
                max_session_duration: 43200,
                permissions_boundary: None,
                created_at: format_time_ms(now),
                last_used_at: None,
                last_used_region: None,
            };
            let event = AuditEvent::system("iam:CreateRole", "seed_scale");
            store
                .audited(event, async |tx| tx.insert_role(&role, &[]).await)
                .await?;
            role
        }
    };
    let issuer = format!("arn:aws:iam::{account}:root");
    let mut done = 0;
    while done < sessions {
        let batch: Vec<RoleSession> = (done..sessions.min(done + BATCH))
            .map(|n| {
                let id = AccessKeyId::generate(KeyKind::Session);
                RoleSession {
                    secret_ciphertext: master
                        .seal(id.as_str(), SecretAccessKey::generate().expose())
                        .unwrap_or_default(),
                    access_key_id: id.to_string(),
                    account_id: account.clone(),
                    role_id: Some(role.id.clone()),
                    user_id: None,
                    session_name: format!("seed-{n}"),
                    issuer_arn: issuer.clone(),
                    token_sha256: format!(
                        "{:064x}",
                        (n as u128) << 40 | now.unix_timestamp() as u128
                    ),
                    session_policies: None,
                    tags: "[]".into(),
                    transitive_tag_keys: "[]".into(),
                    source_identity: None,
                    mfa_authenticated_at: None,
                    issued_by: Some("sts:AssumeRole".into()),
                    chained: false,
                    issued_at: format_time_ms(now),
                    expires_at: format_time_ms(
                        now + time::Duration::seconds(600 + (n as i64 * 7919) % 42_000),
                    ),
                    revoked_at: None,
                }
            })
            .collect();
        let event = AuditEvent::system("sts:AssumeRole", "seed_scale");
        store
            .audited(event, async |tx| {
                for s in &batch {
                    tx.insert_session(s).await?;
                }
                Ok::<_, StoreError>(())
            })
            .await?;
        done += batch.len();
        if done % 100_000 == 0 || done == sessions {
            println!("sessions: {done}/{sessions} ({:.0?})", started.elapsed());
        }
    }

    // The audit queue's own batch writer; one event in 100,000 is rare.
    let mut done = 0;
    while done < audit {
        let batch: Vec<AuditEvent> = (done..audit.min(done + 4096))
            .map(|n| {
                let mut e = AuditEvent::system("latchkey:Authorize", "arn:aws:s3:::bucket/key");
                e.account_id = Some(account.clone());
                e.principal_arn = Some(format!(
                    "arn:aws:iam::{account}:user/user{:07}",
                    n % users.max(1)
                ));
                e.event_time =
                    format_time_ms(now - time::Duration::seconds((audit - n) as i64 / 50));
                if n % 100_000 == 7 {
                    e.action = "iam:DeleteRole".into();
                    e.decision = "failed".into();
                    e.principal_arn = Some(format!("arn:aws:iam::{account}:user/rare"));
                }
                e
            })
            .collect();
        done += batch.len();
        store.insert_audit_events(batch).await?;
        if done % 200_000 < 4096 || done == audit {
            println!("audit events: {done}/{audit} ({:.0?})", started.elapsed());
        }
    }
    println!("seeded {} in {:.1?}", dir.display(), started.elapsed());
    Ok(())
}
