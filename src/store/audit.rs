//! The audit trail, and the only way to write a mutation: [`Store::audited`]
//! opens the transaction, hands the operation an [`AuditTx`] (mutating
//! store functions are methods of `AuditTx`, not of `Store`), and commits
//! the mutation together with its audit record. If the record cannot be
//! written, nothing is: the transaction rolls back and the caller gets a
//! 500. `AuditTx` cannot be built anywhere else, so a new mutation cannot
//! skip its record without failing to compile.
//!
//! The same transaction advances the change counter (`store::coherence`)
//! when the mutation changed anything a node may have cached, which every
//! write does unless its store function says otherwise: `conn()` marks the
//! transaction, `conn_keeping_caches()` does not and is kept for the few
//! writes no cache can hold a stale copy of (see the test in
//! `coherence.rs`).
//!
//! On SQLite, concurrent writes commit together (`group.rs`): "the
//! transaction" of a write is then its savepoint in the batch's, and the
//! write is acknowledged only after the batch committed.

use super::audit_rows;
use super::coherence::{advance, Advance};
use super::error::{CarriesStoreError, StoreError, StoreResult};
use super::group::Member;
use super::{Page, Store, WriteTx};
use crate::domain::audit::AuditEvent;
use crate::domain::format_time_ms;

/// An open write transaction with the audit record it will commit.
pub struct AuditTx {
    tx: Open,
    event: AuditEvent,
    /// The write changed what some node may have cached.
    changes_caches: bool,
    /// The write changed the action catalog.
    changes_catalog: bool,
}

/// Where an audited write runs: a transaction of its own (PostgreSQL), or
/// its savepoint in SQLite's open batch (`group.rs`).
enum Open {
    Alone(WriteTx),
    Member(Member),
}

impl Open {
    fn conn(&mut self) -> super::Conn<'_> {
        match self {
            Open::Alone(tx) => tx.conn(),
            Open::Member(member) => super::Backend::Sqlite(member.conn()),
        }
    }
}

impl AuditTx {
    /// The connection of the transaction, for the mutating store functions.
    /// Writing through it advances the change counter at commit, so every
    /// node drops its caches: the safe default for any new write.
    pub(crate) fn conn(&mut self) -> super::Conn<'_> {
        self.changes_caches = true;
        self.tx.conn()
    }

    /// The connection, for a write that no cache can hold a stale copy of
    /// (a new session: key lookups that miss are not cached). It spares
    /// every node's caches on the hot paths (AssumeRole). Listed in
    /// `store::coherence`'s `KEEP_CACHES`, with the reason.
    pub(crate) fn conn_keeping_caches(&mut self) -> super::Conn<'_> {
        self.tx.conn()
    }

    /// Marks the transaction as changing cached state, for a write through
    /// [`Self::conn_keeping_caches`] that turned out to (a session link
    /// that revoked older sessions).
    pub(crate) fn touch(&mut self) {
        self.changes_caches = true;
    }

    /// Marks the transaction as changing the action catalog too.
    pub(crate) fn touch_catalog(&mut self) {
        self.changes_caches = true;
        self.changes_catalog = true;
    }

    /// The record that will be committed: an operation may fill in what it
    /// learns while writing (the id it created, the resource it found).
    pub fn event(&mut self) -> &mut AuditEvent {
        &mut self.event
    }

    /// Serializes the writes that read before they write (a count checked
    /// against a quota, a row that must still exist) on `key` until the
    /// transaction ends. SQLite's writes run one at a time already (one
    /// member of a batch after the other, each seeing the ones before); PostgreSQL's run side by side under
    /// READ COMMITTED, so there this takes a transaction-level advisory
    /// lock on the key's hash (a collision only serializes two unrelated
    /// writes).
    pub(crate) async fn lock(&mut self, key: &str) -> StoreResult<()> {
        // Not `conn()`: a lock changes nothing cached.
        if let super::Backend::Postgres(c) = self.tx.conn() {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(key)
                .execute(c)
                .await?;
        }
        Ok(())
    }
}

/// Filters of `GET /v1/audit/events`. `account_id` None: every account.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub account_id: Option<String>,
    pub principal: Option<String>,
    pub action: Option<String>,
    pub resource_prefix: Option<String>,
    pub decision: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// Newest first: the page starts below this id.
    pub before_id: Option<i64>,
    pub max_items: i64,
}

const COLUMNS: &str =
    "id, event_time, request_id, account_id, principal_arn, access_key_id, action,
     resource, decision, error_code, source_ip, user_agent, params";

/// A value bound into the audit list query.
#[derive(Debug, Clone)]
pub(crate) enum Bound {
    Text(String),
    Int(i64),
}

/// The query of `GET /v1/audit/events` for these filters, with its values
/// in `$N` order. Every filter has an index (migration 0007;
/// `store::plans` checks each combination on SQLite): an equality filter's
/// `(filter, id)` index yields the newest events first without a sort.
/// With only time bounds, `+id` keeps SQLite from walking the whole table
/// newest first in the hope of a match and has it read the window from the
/// time index instead (and sort its ids); PostgreSQL reads `+id` as `id`.
pub(crate) fn list_audit_sql(q: &AuditQuery) -> (String, Vec<Bound>) {
    let mut sql = format!("SELECT {COLUMNS} FROM audit_events WHERE 1 = 1");
    let mut binds = Vec::new();
    let mut push = |sql: &mut String, text: &str, value: Bound| {
        binds.push(value);
        sql.push_str(text);
        sql.push_str(&format!("${}", binds.len()));
    };
    if let Some(account) = &q.account_id {
        push(&mut sql, " AND account_id = ", Bound::Text(account.clone()));
    }
    if let Some(p) = &q.principal {
        push(&mut sql, " AND principal_arn = ", Bound::Text(p.clone()));
    }
    if let Some(a) = &q.action {
        push(
            &mut sql,
            " AND lower(action) = ",
            Bound::Text(a.to_ascii_lowercase()),
        );
    }
    if let Some(prefix) = &q.resource_prefix {
        // The prefix ignores ASCII case (lower() folds only ASCII on both
        // backends, and SQLite's LIKE ignores ASCII case where PostgreSQL's
        // does not, so the LIKE compares lower-cased text): the
        // lower-cased prefix's range of the lower(resource) index holds
        // exactly the rows the LIKE matches.
        let lower = prefix.to_ascii_lowercase();
        let escaped = lower
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        push(
            &mut sql,
            " AND lower(resource) >= ",
            Bound::Text(lower.clone()),
        );
        push(
            &mut sql,
            " AND lower(resource) < ",
            Bound::Text(format!("{lower}\u{10FFFF}")),
        );
        push(
            &mut sql,
            " AND lower(resource) LIKE ",
            Bound::Text(format!("{escaped}%")),
        );
        sql.push_str(" ESCAPE '\\'");
    }
    if let Some(d) = &q.decision {
        push(&mut sql, " AND decision = ", Bound::Text(d.clone()));
    }
    if let Some(t) = &q.start_time {
        push(&mut sql, " AND event_time >= ", Bound::Text(t.clone()));
    }
    if let Some(t) = &q.end_time {
        push(&mut sql, " AND event_time <= ", Bound::Text(t.clone()));
    }
    if let Some(id) = q.before_id {
        push(&mut sql, " AND id < ", Bound::Int(id));
    }
    let only_time = q.principal.is_none()
        && q.action.is_none()
        && q.resource_prefix.is_none()
        && q.decision.is_none()
        && (q.start_time.is_some() || q.end_time.is_some());
    let order = if only_time && q.account_id.is_none() {
        " ORDER BY +id DESC LIMIT "
    } else {
        " ORDER BY id DESC LIMIT "
    };
    push(&mut sql, order, Bound::Int(q.max_items + 1));
    (sql, binds)
}

/// Runs an audited write, then the counter's advance, on its open
/// transaction. Its record is inserted by the caller, once the write
/// succeeded: at once when the write has a transaction of its own, by the
/// batch just before its COMMIT for a member of a SQLite batch (each
/// statement inside the write turn is a round trip to SQLite's thread that
/// every writer queued behind waits for).
async fn write_recorded<T, E: CarriesStoreError>(
    tx: &mut AuditTx,
    write: impl AsyncFnOnce(&mut AuditTx) -> Result<T, E>,
) -> Result<(T, Option<Advance>), E> {
    let out = write(tx).await?;
    tx.event.event_time = format_time_ms(time::OffsetDateTime::now_utc());
    let advanced = if tx.changes_caches {
        Some(advance(tx.tx.conn(), tx.changes_catalog).await?)
    } else {
        None
    };
    Ok((out, advanced))
}

/// Inserts `events` on `conn`, many rows per statement (`audit_rows.rs`).
async fn insert_events(conn: super::Conn<'_>, events: Vec<AuditEvent>) -> sqlx::Result<()> {
    match conn {
        super::Backend::Sqlite(c) => audit_rows::insert_sqlite(c, events).await,
        super::Backend::Postgres(c) => audit_rows::insert_postgres(c, events).await,
    }
}

impl Store {
    /// Runs `write` in one transaction and commits it with `event`. The
    /// event's time is the commit's. An error from `write` rolls back and
    /// is returned as is; a failure to write the record rolls back too.
    /// It returns only once the write committed.
    ///
    /// On SQLite the writes that arrive together share a transaction, each
    /// in a savepoint of its own (group commit, `group.rs`): "rolls back"
    /// is then to its savepoint, and a failed commit fails every write of
    /// the batch. Its transactions begin IMMEDIATE. A deferred one that
    /// reads first and then writes gets SQLITE_BUSY at once, without the
    /// busy timeout, when another writer committed after its read (WAL's
    /// snapshot rule): a 500 for a request that only had to wait. IMMEDIATE
    /// waits its turn. PostgreSQL's begin plainly; the writes that read
    /// first take [`AuditTx::lock`].
    pub async fn audited<T, E: CarriesStoreError>(
        &self,
        event: AuditEvent,
        write: impl AsyncFnOnce(&mut AuditTx) -> Result<T, E>,
    ) -> Result<T, E> {
        Ok(self.audited_change(event, write).await?.0)
    }

    /// [`Store::audited`], also telling how the write advanced the change
    /// counter (None: it changed nothing cached). `audit::audited`, the
    /// pipeline of a serving node, drops its own caches by it.
    pub(crate) async fn audited_change<T, E: CarriesStoreError>(
        &self,
        event: AuditEvent,
        write: impl AsyncFnOnce(&mut AuditTx) -> Result<T, E>,
    ) -> Result<(T, Option<Advance>), E> {
        self.wait_for_wal_room().await;
        let result: Result<(T, Option<Advance>), E> = async {
            let open = match &self.group {
                Some(group) => Open::Member(group.join().await?),
                None => Open::Alone(self.begin_write().await.map_err(StoreError::from)?),
            };
            let mut tx = AuditTx {
                tx: open,
                event,
                changes_caches: false,
                changes_catalog: false,
            };
            let written = write_recorded(&mut tx, write).await;
            // Acknowledged only once committed: a member of a batch waits
            // for the batch's commit.
            match tx.tx {
                Open::Alone(mut alone) => {
                    let written = written?;
                    insert_events(alone.conn(), vec![tx.event])
                        .await
                        .map_err(|e| {
                            StoreError::database(e, "writing the audit record of a mutation")
                        })?;
                    alone.commit().await.map_err(StoreError::from)?;
                    Ok(written)
                }
                Open::Member(member) => match written {
                    Ok(written) => {
                        member.commit(tx.event).await?;
                        Ok(written)
                    }
                    Err(e) => {
                        member.abandon().await;
                        Err(e)
                    }
                },
            }
        }
        .await;
        if result.is_ok() {
            self.count_commit();
        }
        self.write_health().observe(&result);
        result
    }

    /// Writes a batch of events (from the audit queue) in one transaction,
    /// many rows per statement ([`insert_events`]): each statement is a
    /// round trip to the database, and the queue must keep up with
    /// `/v1/authorize`.
    pub async fn insert_audit_events(&self, events: Vec<AuditEvent>) -> StoreResult<()> {
        let result = self.insert_audit_batch(events).await;
        self.write_health().observe(&result);
        result
    }

    async fn insert_audit_batch(&self, events: Vec<AuditEvent>) -> StoreResult<()> {
        self.wait_for_wal_room().await;
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        insert_events(tx.conn(), events).await?;
        tx.commit().await?;
        self.wal_written();
        Ok(())
    }

    pub async fn list_audit_events(&self, q: &AuditQuery) -> StoreResult<Page<AuditEvent>> {
        let (sql, binds) = list_audit_sql(q);
        let mut rows: Vec<AuditEvent> = on_db!(self.db(), c => {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for bound in binds {
                query = match bound {
                    Bound::Text(t) => query.bind(t),
                    Bound::Int(i) => query.bind(i),
                };
            }
            query.fetch_all(c).await
        })?;
        let is_truncated = rows.len() as i64 > q.max_items;
        rows.truncate(q.max_items as usize);
        let marker = if is_truncated {
            rows.last().map(|e| super::encode_marker(&e.id.to_string()))
        } else {
            None
        };
        Ok(Page {
            items: rows,
            is_truncated,
            marker,
        })
    }

    /// Deletes the events older than `before`: the retention task, the one
    /// writer allowed through the append-only trigger's gate.
    pub async fn purge_audit_events(&self, before: &str) -> StoreResult<u64> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let deleted = on_db!(tx.conn(), c => {
            sqlx::query("UPDATE audit_retention_gate SET open = 1")
                .execute(&mut *c)
                .await?;
            let deleted = sqlx::query("DELETE FROM audit_events WHERE event_time < $1")
                .bind(before)
                .execute(&mut *c)
                .await?
                .rows_affected();
            sqlx::query("UPDATE audit_retention_gate SET open = 0")
                .execute(&mut *c)
                .await?;
            deleted
        });
        tx.commit().await?;
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch that is not a multiple of 128 goes out in chunks of several
    /// shapes; every event lands once, in order, with its own columns.
    #[tokio::test]
    async fn odd_sized_batches_are_written_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let events: Vec<AuditEvent> = (0..301)
            .map(|i| {
                let mut e = AuditEvent::system("test:Write", &format!("r{i}"));
                e.request_id = format!("req-{i}");
                e.event_time = format!("2026-01-01T00:00:00.{:03}Z", i % 1000);
                e
            })
            .collect();
        store.insert_audit_events(events).await.unwrap();
        let page = store
            .list_audit_events(&AuditQuery {
                max_items: 1000,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(page.items.len(), 301);
        for (n, e) in page.items.iter().rev().enumerate() {
            assert_eq!(e.request_id, format!("req-{n}"));
            assert_eq!(e.resource.as_deref(), Some(format!("r{n}").as_str()));
            assert_eq!(e.action, "test:Write");
        }
    }
    /// Store functions of `impl Store` that write without an audit record,
    /// on purpose: bookkeeping of reads (last used), background purges,
    /// the audit queue itself, a test-only expiry switch that no
    /// operation calls, and `latchkey store copy`'s bulk insert into an
    /// empty database (it carries the source's audit trail as it is).
    const UNAUDITED_WRITERS: &[&str] = &[
        "record_access_key_use",
        "record_role_use",
        "purge_expired_sessions",
        "purge_audit_events",
        "insert_audit_events",
        "set_session_expires_at",
        "purge_workload_session_links",
        "set_workload_token_expires_at",
        "probe_write",
        "copy_table_from",
        "record_login_failure",
        "clear_login_failures",
        "purge_login_failures",
        // Generated reports (`reports.rs`): what a read found, kept for
        // the nodes that serve the next call; no IAM change.
        "claim_credential_report",
        "complete_credential_report",
        "abandon_credential_report",
        "insert_last_accessed_job",
        "purge_last_accessed_jobs",
    ];

    /// Guards "no mutation goes unaudited": every INSERT, UPDATE or DELETE
    /// in an `impl` block of src/store/ sits in `impl AuditTx` (reachable only
    /// through `Store::audited`), or in a function of the list above. A new
    /// mutation written on `Store` fails here: move it to `impl AuditTx`
    /// (`self.conn()` for `self.pool()`) and call it inside `audited`.
    #[test]
    fn every_store_write_is_in_an_audited_transaction() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
        let mut offenders = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("audit.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut block = "";
            let mut function = String::new();
            for line in text.lines() {
                if line.starts_with("impl ") {
                    block = if line.starts_with("impl AuditTx") {
                        "AuditTx"
                    } else {
                        "other"
                    };
                }
                if line.starts_with('}') && !line.starts_with("})") {
                    block = "";
                }
                if let Some(rest) = line.split("fn ").nth(1) {
                    function = rest.split(['(', '<']).next().unwrap_or("").to_string();
                }
                let writes = ["\"INSERT ", "\"UPDATE ", "\"DELETE "]
                    .iter()
                    .any(|w| line.contains(w));
                // SQL text outside any impl (tables of statements per
                // holder kind) only runs from the methods that use it.
                if writes && block == "other" && !UNAUDITED_WRITERS.contains(&function.as_str()) {
                    offenders.push(format!("{}: {function}", path.display()));
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "unaudited store writes: {offenders:?}"
        );
    }
}
