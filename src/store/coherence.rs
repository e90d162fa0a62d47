//! The change counter that keeps the caches of several nodes on one
//! database coherent (`src/coherence.rs` polls it). One row: `generation`
//! advances in the transaction of every write that changes cached state,
//! `catalog` in that of every write to the service definitions. Advancing
//! it in the writing transaction means a node that reads the new value
//! reads after the write committed, so what it loads after dropping its
//! caches is the new state.

use super::error::StoreResult;
use super::{Backend, Conn, Store};

/// The PostgreSQL channel a write that advanced the counter notifies.
const CHANNEL: &str = "latchkey_coherence";

/// The counter after a write advanced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advance {
    pub generation: i64,
    /// The catalog's value, when this write advanced it.
    pub catalog: Option<i64>,
}

/// The counter's values as a node reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Counter {
    pub generation: i64,
    pub catalog: i64,
}

/// Advances the counter inside a write transaction (`Store::audited`). Only
/// called there, so that no write commits without it.
pub(super) async fn advance(conn: Conn<'_>, catalog: bool) -> StoreResult<Advance> {
    const SQL: &str = "UPDATE coherence SET generation = generation + 1, catalog = catalog + $1
         WHERE id = 1 RETURNING generation, catalog";
    let counter: Counter = match conn {
        Backend::Sqlite(c) => {
            sqlx::query_as(SQL)
                .bind(i64::from(catalog))
                .fetch_one(c)
                .await?
        }
        Backend::Postgres(c) => {
            let counter = sqlx::query_as(SQL)
                .bind(i64::from(catalog))
                .fetch_one(&mut *c)
                .await?;
            // Delivered when (and only if) the transaction commits: the
            // other nodes poll at once instead of at their next tick.
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(CHANNEL)
                .execute(c)
                .await?;
            counter
        }
    };
    Ok(Advance {
        generation: counter.generation,
        catalog: catalog.then_some(counter.catalog),
    })
}

impl Store {
    /// On PostgreSQL, calls `notified` for every notification that the
    /// counter moved, for as long as the server runs, reconnecting after a
    /// lost connection (and calling it then too: a notification sent while
    /// not listening is lost, the poll catches it anyway). On SQLite there
    /// is nothing to listen to and it returns at once: polling is all.
    pub async fn follow_change_notifications(&self, notified: impl Fn()) {
        let super::Backend::Postgres(pool) = self.db() else {
            return;
        };
        loop {
            match sqlx::postgres::PgListener::connect_with(pool).await {
                Ok(mut listener) => {
                    if listener.listen(CHANNEL).await.is_ok() {
                        notified();
                        // recv reconnects by itself; an error means it
                        // could not, and the outer loop tries again.
                        while listener.recv().await.is_ok() {
                            notified();
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(error = ?e, "listening for change notifications failed; polling only until it succeeds");
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }

    /// The counter now: one primary-key read, what every node runs every
    /// poll.
    pub async fn coherence_counter(&self) -> StoreResult<Counter> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT generation, catalog FROM coherence WHERE id = 1"
        )
        .fetch_one(c)
        .await)?)
    }
}

#[cfg(test)]
mod tests {
    /// The writes that leave every node's caches as they are, and why
    /// none of them can leave a stale entry: a new session's key was never
    /// cached (misses are not), and a workload session link revokes older
    /// sessions only with `touch()`; accepting an MFA code moves only a
    /// device's replay guard, and no cache holds devices.
    const KEEP_CACHES: &[&str] = &["accept_mfa_step", "insert_session", "link_workload_session"];

    /// Guards "a write that changes cached state advances the counter":
    /// only the functions above write through `conn_keeping_caches()`.
    /// A new one fails here until it is added with its reason (and the
    /// caches it could leave stale are checked).
    #[test]
    fn only_reviewed_writes_keep_the_caches() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("audit.rs") {
                continue;
            }
            let mut function = String::new();
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests (this one included) write no rows.
            for line in text.lines().take_while(|l| l.trim() != "#[cfg(test)]") {
                if let Some(rest) = line.split("fn ").nth(1) {
                    function = rest.split(['(', '<']).next().unwrap_or("").to_string();
                }
                let code = !line.trim_start().starts_with("//");
                if code && line.contains("conn_keeping_caches()") && !found.contains(&function) {
                    found.push(function.clone());
                }
            }
        }
        found.sort();
        let mut expected: Vec<String> = KEEP_CACHES.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(found, expected, "writes that keep the caches");
    }
}
