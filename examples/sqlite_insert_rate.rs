//! The ceiling for assume-role throughput: single-row insert transactions
//! into `role_sessions`, each committed with its audit record as every
//! AssumeRole is, through latchkey's own store (same schema, same
//! SQLite settings: WAL, synchronous=NORMAL, foreign keys, busy timeout,
//! an 8-connection pool), with rows shaped like real sessions, and nothing
//! else (no HTTP, no authentication, no policy, no crypto).
//!
//! `cargo run --release --example sqlite_insert_rate -- SECONDS CONCURRENCY`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey::audit::AuditEvent;
use latchkey::domain::{format_time_ms, RoleSession};
use latchkey::store::Store;

fn row(n: u64) -> RoleSession {
    let now = time::OffsetDateTime::now_utc();
    RoleSession {
        access_key_id: format!("ASIA{n:016}"),
        account_id: "123456789012".into(),
        role_id: Some("AROAAAAAAAAAAAAAAAAAA".into()),
        user_id: None,
        session_name: format!("load-{n}"),
        issuer_arn: "arn:aws:iam::123456789012:user/load".into(),
        // nonce + 40-byte secret + tag, as the master key seals it
        secret_ciphertext: vec![7u8; 12 + 40 + 16],
        token_sha256: format!("{n:064x}"),
        session_policies: None,
        tags: "[]".into(),
        transitive_tag_keys: "[]".into(),
        source_identity: None,
        mfa_authenticated_at: None,
        issued_by: Some("sts:AssumeRole".into()),
        chained: false,
        issued_at: format_time_ms(now),
        expires_at: format_time_ms(now + time::Duration::hours(1)),
        revoked_at: None,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(10);
    let concurrency: u64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(32);
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("latchkey.db")).await?;
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let store = store.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let row = row(n);
                    let event = AuditEvent::system("sts:AssumeRole", "load");
                    match store
                        .audited(event, async |tx| tx.insert_session(&row).await)
                        .await
                    {
                        Ok(true) => done += 1,
                        other => panic!("insert {n} failed: {other:?}"),
                    }
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for w in workers {
        total += w.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let commits = store.batch_commits().unwrap_or(0).max(1);
    println!(
        "sqlite_insert_rate: {total} inserts in {elapsed:.2}s with {concurrency} tasks = {:.0} tx/s ({:.1} writes per commit)",
        total as f64 / elapsed,
        total as f64 / commits as f64
    );
    Ok(())
}
