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
    /// A transaction is open on `own`, ready for the next batch.
    begun: bool,
}

impl Store {
    pub fn audit_writer(&self) -> AuditWriter {
        AuditWriter {
            store: self.clone(),
            own: None,
            begun: false,
        }
    }
}

impl AuditWriter {
    pub fn write_health(&self) -> &WriteHealth {
        self.store.write_health()
    }

    /// Opens the transaction the next batch is written in, so that a
    /// database that cannot be reached fails before the batch is handed
    /// over (and the caller keeps it for a retry). A connection idle since
    /// the last batch may have been closed by the server, a pooler or a
    /// failover: its `BEGIN` finds out, and a fresh connection takes its
    /// place.
    pub async fn ready(&mut self) -> StoreResult<()> {
        let Backend::Postgres(pool) = self.store.db() else {
            return Ok(());
        };
        if self.begun {
            return Ok(());
        }
        if let Some(conn) = self.own.as_mut() {
            if sqlx::query("BEGIN").execute(&mut *conn).await.is_ok() {
                self.begun = true;
                return Ok(());
            }
            self.own = None;
        }
        let opened = async {
            let mut conn = PgConnection::connect_with(&pool.connect_options()).await?;
            sqlx::query("BEGIN").execute(&mut conn).await?;
            Ok(conn)
        }
        .await
        .map_err(|e| StoreError::database(e, "connecting the audit writer"));
        self.store.write_health().observe(&opened);
        self.own = Some(opened?);
        self.begun = true;
        Ok(())
    }

    /// Writes `events` in one transaction (see [`Store::insert_audit_events`]).
    pub async fn insert(&mut self, events: Vec<AuditEvent>) -> StoreResult<()> {
        if matches!(self.store.db(), Backend::Sqlite(_)) {
            return self.store.insert_audit_events(events).await;
        }
        self.ready().await?;
        self.begun = false;
        let Some(conn) = self.own.as_mut() else {
            return Err(StoreError::StorageUnavailable);
        };
        let written = async {
            audit_rows::insert_postgres(conn, events).await?;
            sqlx::query("COMMIT").execute(&mut *conn).await.map(drop)
        }
        .await;
        if written.is_err() {
            // Its transaction is in an unknown state: the connection goes.
            self.own = None;
        }
        let result = written.map_err(|e| StoreError::database(e, "writing audit events"));
        self.store.write_health().observe(&result);
        result
    }
}
