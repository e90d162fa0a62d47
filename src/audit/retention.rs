//! Audit events older than the retention are deleted by a background task,
//! the one writer the append-only trigger lets through.
//!
//! Every node runs this task; that is safe without coordination. A purge
//! opens the trigger's gate, deletes and closes it in one write
//! transaction, so no other writer ever sees it open: SQLite runs one
//! write transaction at a time, and on PostgreSQL the gate row stays
//! locked by the UPDATE that opened it until the commit, so a second
//! node's purge waits, then finds nothing left to delete.

use std::time::Duration;

use crate::domain::format_time_ms;
use crate::error::ApiResult;
use crate::store::Store;

/// How often the task runs.
pub const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// Deletes the events older than `days`; returns how many.
pub async fn purge_once(store: &Store, days: u64) -> ApiResult<u64> {
    let cutoff = time::OffsetDateTime::now_utc() - time::Duration::days(days.min(1_000_000) as i64);
    Ok(store.purge_audit_events(&format_time_ms(cutoff)).await?)
}

/// Runs `purge_once` now and every [`RETENTION_INTERVAL`]; 0 days keeps
/// events forever.
pub fn spawn_retention_task(store: Store, days: u64) -> Option<tokio::task::JoinHandle<()>> {
    if days == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(RETENTION_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match purge_once(&store, days).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "audit events past retention deleted"),
                Err(e) => tracing::warn!(error = ?e, "deleting old audit events failed"),
            }
        }
    }))
}
