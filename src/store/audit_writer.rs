//! The audit queue's way to the database.
//!
//! On PostgreSQL the queue writes on a connection of its own, opened by the
//! task that writes. A pooled connection's socket belongs to the runtime
//! that opened it, for most of them the runtime of one of the HTTP
//! workers; those runtimes end with the server, before the queue's last
//! flush at a graceful stop, and a connection used after its runtime ended
//! fails ("A Tokio 1.x context was found, but it is being shutdown"): the
//! flush lost its batch whenever the pool handed it such a connection. A
//! connection of its own also keeps the queue's large batches from taking
//! a pooled connection from a request. On SQLite a connection is a thread
//! of its own and the pool serves.

use sqlx::{Connection as _, PgConnection};

use super::error::{StoreError, StoreResult, WriteHealth};
use super::{audit_rows, Backend, Store};
use crate::domain::audit::AuditEvent;

/// Writes the audit queue's batches; one per queue writer task.
pub struct AuditWriter {
    store: Store,
    /// PostgreSQL: the writer's own connection, opened on first use and
    /// dropped after any failure (a broken connection is not reused).
    own: Option<PgConnection>,
}

impl Store {
    pub fn audit_writer(&self) -> AuditWriter {
        AuditWriter {
            store: self.clone(),
            own: None,
        }
    }
}

impl AuditWriter {
    pub fn write_health(&self) -> &WriteHealth {
        self.store.write_health()
    }

    /// Makes sure there is a connection to write on, so that a database
    /// that cannot be reached fails the batch before it is handed over (and
    /// the caller can keep it for a retry).
    pub async fn ready(&mut self) -> StoreResult<()> {
        let Backend::Postgres(pool) = self.store.db() else {
            return Ok(());
        };
        if self.own.is_some() {
            return Ok(());
        }
        let result = PgConnection::connect_with(&pool.connect_options())
            .await
            .map_err(|e| StoreError::database(e, "connecting the audit writer"));
        self.store.write_health().observe(&result);
        self.own = Some(result?);
        Ok(())
    }

    /// Writes `events` in one transaction (see [`Store::insert_audit_events`]).
    pub async fn insert(&mut self, events: Vec<AuditEvent>) -> StoreResult<()> {
        if matches!(self.store.db(), Backend::Sqlite(_)) {
            return self.store.insert_audit_events(events).await;
        }
        self.ready().await?;
        let Some(conn) = self.own.as_mut() else {
            return Err(StoreError::StorageUnavailable);
        };
        let written = async {
            let mut tx = conn.begin().await?;
            audit_rows::insert_postgres(&mut tx, events).await?;
            tx.commit().await
        }
        .await;
        if written.is_err() {
            self.own = None;
        }
        let result = written.map_err(|e| StoreError::database(e, "writing audit events"));
        self.store.write_health().observe(&result);
        result
    }
}
