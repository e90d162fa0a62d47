//! Expired sessions are kept for a retention (so that an operator can still
//! see them), then deleted by a background task, with the sign-in failure
//! counts whose lockout window ended and the last-accessed jobs older than
//! a day (`iam::last_accessed_jobs`).
//!
//! Every node runs this task; that is safe without coordination. Each
//! purge is one DELETE of rows past a cutoff, so two nodes purging at once
//! delete each row once (the second finds it gone). The rows are expired
//! sessions, refused on their expiry already (cached or not), and links
//! of those sessions: deleting them changes nothing a cache holds, so the
//! purge does not advance the change counter.

use std::time::Duration;

use crate::domain::format_time_ms;
use crate::state::AppState;

/// How often the task looks for sessions to purge.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// Deletes sessions that expired more than `retention` ago; returns how many.
pub async fn purge_once(state: &AppState, retention: Duration) -> crate::error::ApiResult<u64> {
    let cutoff = time::OffsetDateTime::now_utc()
        - time::Duration::try_from(retention).unwrap_or(time::Duration::ZERO);
    let cutoff = format_time_ms(cutoff);
    let purged = state.store.purge_expired_sessions(&cutoff).await?;
    // Their links to the workloads that fetched them go too.
    state.store.purge_workload_session_links(&cutoff).await?;
    state.login_throttle.purge(&state.store).await?;
    // No cache holds a job either.
    let jobs_before =
        crate::iam::credential_report::now_ms() - crate::iam::last_accessed_jobs::JOB_LIFETIME_MS;
    state.store.purge_last_accessed_jobs(jobs_before).await?;
    Ok(purged)
}

/// Runs `purge_once` now and every `PURGE_INTERVAL`, for as long as the
/// runtime lives. A failure is logged and retried at the next tick.
pub fn spawn_purge_task(state: AppState, retention: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(PURGE_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match purge_once(&state, retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "expired sessions purged"),
                Err(e) => tracing::warn!(error = ?e, "purging expired sessions failed"),
            }
        }
    })
}
