//! The metrics scrape: `latchkey:ReadMetrics` when the server requires
//! credentials for it, then the scrape-time gauges and the text encoding.

use std::time::Instant;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::runtime::metrics::GAUGE_MAX_AGE;
use crate::state::OpContext;

/// Refreshes the scrape-time gauges and encodes every metric. `caller` is
/// Some when the server requires credentials for metrics.
pub async fn scrape(state: &OpContext, caller: Option<&Caller>) -> ApiResult<String> {
    if let Some(caller) = caller {
        super::authorize(state, caller, "latchkey:ReadMetrics", "*").await?;
    }
    let metrics = &state.metrics;
    {
        let mut read_at = metrics.gauges_read_at.lock().await;
        let commits = state.store.commits();
        let fresh =
            read_at.is_some_and(|(at, seen)| seen == commits && at.elapsed() < GAUGE_MAX_AGE);
        if !fresh {
            metrics.scrape_store_reads.inc();
            let started = Instant::now();
            let now = crate::domain::format_time_ms(time::OffsetDateTime::now_utc());
            metrics
                .active_sessions
                .set(state.store.count_active_sessions(&now).await?);
            *read_at = Some((started, commits));
        }
    }
    metrics.audit_queue_depth.set(state.audit.depth() as i64);
    let (size, idle) = state.store.pool_stats();
    metrics.db_pool_size.set(i64::from(size));
    metrics.db_pool_idle.set(idle as i64);
    Ok(metrics.encode())
}
