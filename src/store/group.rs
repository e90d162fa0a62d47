//! Group commit on SQLite (issue 16). SQLite has one writer at a time;
//! eight pooled connections that each `BEGIN IMMEDIATE` fall into its busy
//! handler, which sleeps (1, 2, 5, 10 ... ms), and every transaction writes
//! its pages to the log once more. Here the writers of this process take
//! turns on a lock instead (first come, first served), and the audited
//! writes that arrive together share one transaction:
//!
//! - A member takes the turn, opens the batch's transaction if none is
//!   open, and writes inside a `SAVEPOINT` of its own (the counter's
//!   advance too). A write that fails rolls back to it, so it undoes
//!   nothing of its neighbours'. A write that succeeded leaves its audit
//!   record with the batch, which inserts the records of all its members
//!   in a few multi-row statements just before its `COMMIT`: one round
//!   trip inside the turn per member less. A failure to insert them fails
//!   the batch, as a failed commit does.
//! - It then commits the batch if nobody waits for the turn (a lone writer
//!   never waits for a timer) or the batch holds [`MAX_BATCH`] writes;
//!   otherwise it hands the turn, and the open transaction, to the next.
//! - It answers only once the batch's `COMMIT` succeeded; a failed commit
//!   fails every member.
//!
//! A member's future may be dropped at any await (a client gone): the
//! commit runs in a task of its own, so that the others still learn their
//! outcome, and a member dropped inside its savepoint, or a writer dropped
//! while it waited for its turn (a member may have left the batch open for
//! it), has a task finish the batch for it ([`spawn_flush`]).
//!
//! The writes outside the pipeline (the audit queue, bookkeeping, the
//! checkpointer's TRUNCATE) take the turn too ([`super::Store::write_turn`]),
//! committing the open batch first: they queue in order rather than sleep in
//! the busy handler while batches hold the lock back to back.
//!
//! PostgreSQL keeps one transaction per write: its writers run side by
//! side, and `AuditTx::lock`'s advisory locks last until a commit, which a
//! shared transaction would hold across its neighbours' writes.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{watch, Mutex, OwnedMutexGuard};

use super::error::{is_storage_failure, StoreError, StoreResult};
use crate::domain::audit::AuditEvent;

/// The most writes one transaction carries: a bound on how long the first
/// member of a batch waits for its answer.
pub(crate) const MAX_BATCH: usize = 64;

/// How a batch ended, as each of its members learns it.
#[derive(Debug, Clone)]
enum Outcome {
    Committed,
    /// Rolled back; `storage`: the disk refused it.
    Failed {
        storage: bool,
        why: String,
    },
}

impl Outcome {
    fn failed(e: &sqlx::Error) -> Self {
        Outcome::Failed {
            storage: is_storage_failure(e),
            why: e.to_string(),
        }
    }

    fn into_result(self) -> StoreResult<()> {
        match self {
            Outcome::Committed => Ok(()),
            Outcome::Failed { storage: true, .. } => Err(StoreError::StorageUnavailable),
            Outcome::Failed { why, .. } => Err(StoreError::Database {
                context: "committing a batch of writes",
                source: sqlx::Error::Protocol(why),
            }),
        }
    }
}

/// The batch being written, behind the write turn.
pub(crate) struct Batch {
    /// Open from its first member's turn to its commit.
    tx: Option<Transaction<'static, Sqlite>>,
    /// Writes the transaction holds (released savepoints).
    members: usize,
    /// The audit records of those writes, inserted at the commit.
    records: Vec<AuditEvent>,
    /// A member's savepoint is open: its write runs, or its future was
    /// dropped inside it and the next turn must roll it back.
    in_savepoint: bool,
    /// The member before opened the next one's savepoint along with
    /// releasing its own (one round trip to SQLite's thread less).
    next_savepoint: bool,
    /// Tells this batch's members how it ended.
    outcome: watch::Sender<Option<Outcome>>,
}

impl Batch {
    /// Ends the batch: its transaction rolls back unless it committed.
    fn end(&mut self, outcome: Outcome) {
        self.tx = None;
        self.members = 0;
        self.records.clear();
        self.in_savepoint = false;
        self.next_savepoint = false;
        let next = watch::channel(None).0;
        std::mem::replace(&mut self.outcome, next).send_replace(Some(outcome));
    }

    // Members and cleanups only run on an open transaction: `join` opens
    // it before it hands out a member, and `AuditTx::conn` has no error
    // to return.
    #[allow(clippy::expect_used)]
    fn conn(&mut self) -> &mut SqliteConnection {
        self.tx.as_mut().expect("the batch's transaction is open")
    }

    /// Rolls back the open savepoint; ends the batch when that fails (SQLite
    /// rolled the whole transaction back by itself: a full disk).
    async fn undo(&mut self) {
        if !self.in_savepoint {
            return;
        }
        let undone = sqlx::raw_sql("ROLLBACK TO member; RELEASE member")
            .execute(self.conn())
            .await;
        self.in_savepoint = false;
        if let Err(e) = undone {
            tracing::warn!(error = %e, "rolling back a write in a batch failed; the batch rolls back");
            self.end(Outcome::failed(&e));
        }
    }
}

/// The write turn and the open batch of one SQLite store.
pub(crate) struct Group {
    pool: SqlitePool,
    batch: Arc<Mutex<Batch>>,
    /// Writers waiting for the turn: while there are any, a member leaves
    /// the batch open for them.
    waiting: AtomicUsize,
    /// Batches committed (each of one or more writes).
    commits: AtomicU64,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("waiting", &self.waiting.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Group {
    pub(crate) fn new(pool: SqlitePool) -> Arc<Self> {
        Arc::new(Group {
            pool,
            batch: Arc::new(Mutex::new(Batch {
                tx: None,
                members: 0,
                records: Vec::new(),
                in_savepoint: false,
                next_savepoint: false,
                outcome: watch::channel(None).0,
            })),
            waiting: AtomicUsize::new(0),
            commits: AtomicU64::new(0),
        })
    }

    /// Waits for the turn, counted among the waiting meanwhile, and rolls
    /// back the savepoint of a member dropped inside it.
    async fn turn(self: &Arc<Self>) -> Member {
        let queued = Queued::new(self);
        let batch = self.batch.clone().lock_owned().await;
        queued.served();
        let mut member = Member {
            group: self.clone(),
            batch: Some(batch),
        };
        member.batch().undo().await;
        member
    }

    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Takes the turn in the open batch, or opens one, and enters a
    /// savepoint of its own.
    pub(crate) async fn join(self: &Arc<Self>) -> StoreResult<Member> {
        let mut member = self.turn().await;
        let batch = member.batch();
        if batch.tx.is_none() {
            match self.pool.begin_with("BEGIN IMMEDIATE").await {
                Ok(tx) => batch.tx = Some(tx),
                Err(e) => {
                    member.batch = None;
                    return Err(e.into());
                }
            }
        }
        let batch = member.batch();
        if std::mem::take(&mut batch.next_savepoint) {
            batch.in_savepoint = true;
            return Ok(member);
        }
        if let Err(e) = sqlx::query("SAVEPOINT member").execute(batch.conn()).await {
            batch.end(Outcome::failed(&e));
            member.batch = None;
            return Err(StoreError::database(e, "opening a write in a batch"));
        }
        batch.in_savepoint = true;
        Ok(member)
    }

    /// Holds the turn for a write of its own (not an audited one),
    /// committing the open batch first.
    // `turn` always hands out a member that holds the batch.
    #[allow(clippy::expect_used)]
    pub(crate) async fn exclusive(self: &Arc<Self>) -> OwnedMutexGuard<Batch> {
        let mut member = self.turn().await;
        let batch = member.batch.take().expect("a turn holds the batch");
        if batch.tx.is_none() {
            return batch;
        }
        match tokio::spawn(commit(batch, self.clone())).await {
            Ok(batch) => batch,
            // The commit task panicked and its guard went with it.
            Err(_) => self.batch.clone().lock_owned().await,
        }
    }
}

/// A writer counted among the waiting until it has the turn. Dropped
/// before (its request gone), it may leave a batch open that a member left
/// for it: a task finishes it.
struct Queued {
    group: Arc<Group>,
    served: bool,
}

impl Queued {
    fn new(group: &Arc<Group>) -> Self {
        group.waiting.fetch_add(1, Ordering::AcqRel);
        Queued {
            group: group.clone(),
            served: false,
        }
    }

    fn served(mut self) {
        self.served = true;
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.group.waiting.fetch_sub(1, Ordering::AcqRel);
        if !self.served {
            spawn_flush(&self.group);
        }
    }
}

/// One audited write's place in a batch: holds the turn from its
/// savepoint to its release.
pub(crate) struct Member {
    group: Arc<Group>,
    batch: Option<OwnedMutexGuard<Batch>>,
}

impl Member {
    // Only `settle` and `Drop` take the turn from a member, and neither
    // uses it after.
    #[allow(clippy::expect_used)]
    fn batch(&mut self) -> &mut Batch {
        self.batch.as_mut().expect("a member holds the turn")
    }

    /// The connection of the batch's transaction.
    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        self.batch().conn()
    }

    /// Keeps the write and its audit record: releases its savepoint, then
    /// answers once the batch committed.
    pub(crate) async fn commit(mut self, record: AuditEvent) -> StoreResult<()> {
        let waiting = self.group.waiting.load(Ordering::Acquire) > 0;
        let batch = self.batch();
        // Someone will carry on (`settle`): open its savepoint now.
        let next = waiting && batch.members + 1 < MAX_BATCH;
        let sql = if next {
            "RELEASE member; SAVEPOINT member"
        } else {
            "RELEASE member"
        };
        if let Err(e) = sqlx::raw_sql(sql).execute(batch.conn()).await {
            let error = StoreError::database(e, "closing a write in a batch");
            self.abandon().await;
            return Err(error);
        }
        batch.in_savepoint = false;
        batch.next_savepoint = next;
        batch.members += 1;
        batch.records.push(record);
        let mut outcome = batch.outcome.subscribe();
        self.settle().await;
        let ended = outcome.wait_for(Option::is_some).await.map(|o| o.clone());
        match ended {
            Ok(Some(outcome)) => outcome.into_result(),
            _ => Err(StoreError::Database {
                context: "committing a batch of writes",
                source: sqlx::Error::Protocol("the batch ended without an outcome".into()),
            }),
        }
    }

    /// Drops the write (it failed): rolls back to its savepoint.
    pub(crate) async fn abandon(mut self) {
        self.batch().undo().await;
        self.settle().await;
    }

    /// Commits the batch when nobody waits for the turn or it is full;
    /// otherwise hands it on with the turn.
    async fn settle(mut self) {
        if let Some(batch) = self.batch.take() {
            settle(&self.group, batch).await;
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if self.batch.take().is_some() {
            spawn_flush(&self.group);
        }
    }
}

async fn settle(group: &Arc<Group>, batch: OwnedMutexGuard<Batch>) {
    let full = batch.members >= MAX_BATCH;
    if batch.tx.is_some() && (full || group.waiting.load(Ordering::Acquire) == 0) {
        // In a task of its own: dropping the member that commits must not
        // leave the others without their outcome.
        let _ = tokio::spawn(commit(batch, group.clone())).await;
    }
}

/// Inserts the batch's audit records, commits it and tells its members;
/// returns the turn.
async fn commit(mut batch: OwnedMutexGuard<Batch>, group: Arc<Group>) -> OwnedMutexGuard<Batch> {
    let records = std::mem::take(&mut batch.records);
    if !records.is_empty() {
        if let Err(e) = super::audit_rows::insert_sqlite(batch.conn(), records).await {
            tracing::warn!(error = %e, "writing the audit records of a batch failed; the batch rolls back");
            batch.end(Outcome::failed(&e));
            return batch;
        }
    }
    if let Some(tx) = batch.tx.take() {
        let outcome = match tx.commit().await {
            Ok(()) => {
                if batch.members > 0 {
                    group.commits.fetch_add(1, Ordering::AcqRel);
                }
                Outcome::Committed
            }
            Err(e) => {
                tracing::warn!(error = %e, "committing a batch of writes failed");
                Outcome::failed(&e)
            }
        };
        batch.end(outcome);
    }
    batch
}

/// Finishes the batch of a writer that went away: rolls back its
/// savepoint, and commits what the others wrote unless someone waits to
/// carry on.
fn spawn_flush(group: &Arc<Group>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let group = group.clone();
    runtime.spawn(async move { group.turn().await.settle().await });
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::domain::audit::AuditEvent;
    use crate::store::{Backend, Store};

    /// A store with a table `t` whose `parent` must exist by the commit
    /// (a deferred foreign key: a way to make a COMMIT fail).
    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        sqlx::query(
            "CREATE TABLE t (n INTEGER PRIMARY KEY,
                 parent INTEGER REFERENCES t (n) DEFERRABLE INITIALLY DEFERRED)",
        )
        .execute(store.sqlite_pool().unwrap())
        .await
        .unwrap();
        (dir, store)
    }

    /// An audited write of row `n`, failing after it wrote when `fail`.
    async fn write(store: &Store, n: i64, parent: Option<i64>, fail: bool) -> StoreResult<()> {
        let event = AuditEvent::system("test:Write", &format!("n{n}"));
        store
            .audited(event, async |tx| {
                let Backend::Sqlite(c) = tx.conn() else {
                    unreachable!("a SQLite store")
                };
                sqlx::query("INSERT INTO t (n, parent) VALUES ($1, $2)")
                    .bind(n)
                    .bind(parent)
                    .execute(c)
                    .await?;
                if fail {
                    return Err(StoreError::LimitExceeded(format!("refused {n}")));
                }
                Ok(())
            })
            .await
    }

    async fn committed_rows(store: &Store) -> Vec<i64> {
        sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(store.sqlite_pool().unwrap())
            .await
            .unwrap()
    }

    async fn audited_resources(store: &Store) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT resource FROM audit_events WHERE action = 'test:Write' ORDER BY id",
        )
        .fetch_all(store.sqlite_pool().unwrap())
        .await
        .unwrap()
    }

    fn group(store: &Store) -> &Arc<Group> {
        store.group.as_ref().expect("SQLite has a group")
    }

    /// Waits (with a deadline) until `n` writers wait for the turn.
    async fn until_waiting(store: &Store, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while group(store).waiting.load(Ordering::Acquire) < n {
            assert!(Instant::now() < deadline, "{n} writers never queued");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Starts writers 0..count while the turn is held, so that they all
    /// queue and then share one batch; `spec(n)` gives each its parent and
    /// whether it fails. Each writer, once answered Ok, looks for its row
    /// from another connection: an answer before the commit would miss it.
    async fn batch_of(
        store: &Store,
        count: i64,
        spec: impl Fn(i64) -> (Option<i64>, bool),
    ) -> Vec<StoreResult<()>> {
        let turn = store.write_turn().await;
        let mut writers = Vec::new();
        for n in 0..count {
            let (writer, (parent, fail)) = (store.clone(), spec(n));
            writers.push(tokio::spawn(async move {
                let result = write(&writer, n, parent, fail).await;
                if result.is_ok() {
                    let seen: Option<i64> = sqlx::query_scalar("SELECT n FROM t WHERE n = $1")
                        .bind(n)
                        .fetch_optional(writer.sqlite_pool().unwrap())
                        .await
                        .unwrap();
                    assert_eq!(seen, Some(n), "write {n} answered before its commit");
                }
                result
            }));
            until_waiting(store, n as usize + 1).await;
        }
        drop(turn);
        let mut results = Vec::new();
        for w in writers {
            results.push(w.await.unwrap());
        }
        results
    }

    #[tokio::test]
    async fn a_failing_member_undoes_its_own_write_and_its_neighbours_commit() {
        let (_dir, store) = store().await;
        let results = batch_of(&store, 10, |n| (None, n % 2 == 1)).await;
        for (n, result) in results.iter().enumerate() {
            match result {
                Ok(()) => assert_eq!(n % 2, 0, "write {n}"),
                Err(StoreError::LimitExceeded(m)) => assert_eq!(m, &format!("refused {n}")),
                Err(e) => panic!("write {n}: {e:?}"),
            }
        }
        assert_eq!(committed_rows(&store).await, vec![0, 2, 4, 6, 8]);
        assert_eq!(
            audited_resources(&store).await,
            vec!["n0", "n2", "n4", "n6", "n8"]
        );
        // All ten shared one transaction.
        assert_eq!(group(&store).commits(), 1);
    }

    #[tokio::test]
    async fn a_failed_commit_fails_every_member_of_the_batch() {
        let (_dir, store) = store().await;
        // Write 3 names a parent that never exists: its savepoint releases,
        // the batch's COMMIT fails on the deferred foreign key.
        let results = batch_of(&store, 6, |n| (if n == 3 { Some(99) } else { None }, false)).await;
        for (n, result) in results.iter().enumerate() {
            assert!(
                matches!(result, Err(StoreError::Database { .. })),
                "write {n}: {result:?}"
            );
        }
        assert!(committed_rows(&store).await.is_empty());
        assert!(audited_resources(&store).await.is_empty());
        assert_eq!(group(&store).commits(), 0);
        // The next write commits on its own.
        write(&store, 7, None, false).await.unwrap();
        assert_eq!(committed_rows(&store).await, vec![7]);
    }

    #[tokio::test]
    async fn a_lone_writer_commits_at_once() {
        let (_dir, store) = store().await;
        for n in 0..3 {
            write(&store, n, None, false).await.unwrap();
            assert_eq!(group(&store).commits(), n as u64 + 1);
        }
        assert_eq!(committed_rows(&store).await, vec![0, 1, 2]);
    }

    /// A member whose future is dropped inside its savepoint (its client
    /// went away): its write is rolled back, the writers queued behind it
    /// carry on in the same batch and commit.
    #[tokio::test]
    async fn a_member_dropped_mid_write_leaves_nothing_and_blocks_no_one() {
        let (_dir, store) = store().await;
        let turn = store.write_turn().await;
        let (inside, entered) = tokio::sync::oneshot::channel::<()>();
        let dropped = {
            let store = store.clone();
            tokio::spawn(async move {
                let event = AuditEvent::system("test:Write", "n100");
                let _ = store
                    .audited(event, async |tx| {
                        let Backend::Sqlite(c) = tx.conn() else {
                            unreachable!("a SQLite store")
                        };
                        sqlx::query("INSERT INTO t (n) VALUES (100)")
                            .execute(c)
                            .await?;
                        let _ = inside.send(());
                        std::future::pending::<StoreResult<()>>().await
                    })
                    .await;
            })
        };
        until_waiting(&store, 1).await;
        let others: Vec<_> = (0..3)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move { write(&store, n, None, false).await })
            })
            .collect();
        until_waiting(&store, 4).await;
        drop(turn);
        entered.await.unwrap();
        dropped.abort();
        for w in others {
            w.await.unwrap().unwrap();
        }
        assert_eq!(committed_rows(&store).await, vec![0, 1, 2]);
        assert_eq!(audited_resources(&store).await, vec!["n0", "n1", "n2"]);
    }
}
