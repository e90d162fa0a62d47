//! The store: the only place that writes SQL. One file per aggregate; each
//! returns domain types. Two backends, chosen by the database URL: SQLite
//! (embedded, the default) and PostgreSQL. Each query is written once, in
//! SQL both accept (`$N` placeholders: sqlx-sqlite binds `$N` by number),
//! and [`on_db!`] compiles it once per native driver; where the dialects
//! truly differ the text is chosen by backend at that one place.
//!
//! Reads are methods of [`Store`]. Writes are methods of
//! [`audit::AuditTx`], which only [`Store::audited`] opens: a mutation
//! commits with its audit record or not at all (see `audit.rs`, whose test
//! fails on a write added to `impl Store`).

/// Runs `$body` with `$c` bound to the SQLite or the PostgreSQL side of a
/// [`Backend`] (a pool for reads, a connection for writes). The body is
/// compiled once per driver, so the same query text and binds serve both;
/// both arms must yield the same type (map a `QueryResult` to
/// `rows_affected()` inside the body).
macro_rules! on_db {
    ($db:expr, $c:ident => $body:expr) => {
        match $db {
            $crate::store::Backend::Sqlite($c) => $body,
            $crate::store::Backend::Postgres($c) => $body,
        }
    };
}

pub mod access_keys;
pub mod account_settings;
pub mod accounts;
pub mod attachments;
pub mod audit;
mod audit_rows;
pub mod audit_writer;
pub mod backup;
pub mod coherence;
pub mod copy;
pub mod copy_tables;
pub mod error;
pub(crate) mod group;
pub mod groups;
pub mod health;
pub mod inline_policies;
pub mod instance_profiles;
pub mod last_accessed;
pub mod login_failures;
pub mod login_profiles;
pub mod master_key;
pub mod mfa_devices;
pub mod oidc_providers;
pub mod plans;
pub mod policies;
pub mod reports;
pub mod roles;
pub mod services;
pub mod sessions;
pub mod tags;
pub mod users;
pub mod wal;
pub mod workloads;

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

pub use error::{is_storage_failure, CarriesStoreError, StoreError, StoreResult, WriteHealth};

/// One value per backend: the pools of a [`Store`], the connection a query
/// runs on, an open transaction. [`on_db!`] matches on it.
#[derive(Clone, Debug)]
pub enum Backend<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// The pool a store reads from.
pub type Db = Backend<SqlitePool, PgPool>;

/// Where a query runs: a pool (reads) or a transaction's connection.
pub type Conn<'a> = Backend<&'a mut SqliteConnection, &'a mut PgConnection>;

/// An open write transaction.
pub type WriteTx = Backend<Transaction<'static, Sqlite>, Transaction<'static, Postgres>>;

impl WriteTx {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Backend::Sqlite(tx) => Backend::Sqlite(&mut **tx),
            Backend::Postgres(tx) => Backend::Postgres(&mut **tx),
        }
    }

    pub(crate) async fn commit(self) -> sqlx::Result<()> {
        match self {
            Backend::Sqlite(tx) => tx.commit().await,
            Backend::Postgres(tx) => tx.commit().await,
        }
    }
}

/// The write turn a write outside the audited pipeline holds
/// ([`Store::write_turn`]).
pub(crate) struct WriteTurn {
    _turn: Option<tokio::sync::OwnedMutexGuard<group::Batch>>,
}

/// True for a `postgres://` or `postgresql://` URL: the PostgreSQL backend.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    /// The SQLite database file (its write-ahead log is this with `-wal`);
    /// None on PostgreSQL.
    path: Option<std::sync::Arc<std::path::PathBuf>>,
    /// The log size past which writes wait for the checkpointer
    /// (`wal::WAL_BOUND_FACTOR` times the checkpoint threshold).
    wal_cap: u64,
    /// Told when the checkpointer emptied the log.
    wal_truncated: std::sync::Arc<tokio::sync::Notify>,
    /// How to open a SQLite connection of our own (the WAL checkpointer's).
    options: Option<SqliteConnectOptions>,
    /// Audited writes committed so far: tells the metrics scrape whether
    /// the gauges it read a moment ago may have moved.
    commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Told of every commit, so that the WAL checkpointer looks at the log
    /// at once rather than at its next tick (`wal.rs`).
    committed: std::sync::Arc<tokio::sync::Notify>,
    write_health: std::sync::Arc<WriteHealth>,
    /// SQLite's write turn and open batch (`group.rs`); None on PostgreSQL.
    group: Option<std::sync::Arc<group::Group>>,
}

impl Store {
    /// Opens the database a URL names: `postgres://` or `postgresql://`
    /// for PostgreSQL, `sqlite://PATH` (or a bare path) for a SQLite file.
    /// `wal_checkpoint_bytes` is SQLite's (see [`Store::open_with`]).
    pub async fn open_url(url: &str, wal_checkpoint_bytes: u64) -> anyhow::Result<Self> {
        if is_postgres_url(url) {
            return Self::open_postgres(url).await;
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        Self::open_with(Path::new(path), wal_checkpoint_bytes).await
    }

    /// Connects to PostgreSQL and runs its migrations. sqlx's migrator
    /// holds an advisory lock while it runs, so nodes that start together
    /// migrate once and the others wait for it. Errors never carry the URL
    /// (it may hold a password).
    pub async fn open_postgres(url: &str) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| anyhow::anyhow!("bad PostgreSQL URL: {}", redact(&e.to_string(), url)))?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .context("connecting to PostgreSQL")?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .context("running migrations")?;
        Ok(Store::assemble(
            Backend::Postgres(pool),
            None,
            None,
            u64::MAX,
        ))
    }

    /// Opens (creating if needed) the database, with WAL, foreign keys and a
    /// busy timeout, and runs the embedded migrations.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        Self::open_with(path, wal::DEFAULT_CHECKPOINT_BYTES).await
    }

    /// [`Store::open`], with the write-ahead log checkpointed past
    /// `wal_checkpoint_bytes` (see `wal.rs`): a log SQLite rewinds by
    /// itself is also cut back to that size.
    pub async fn open_with(path: &Path, wal_checkpoint_bytes: u64) -> anyhow::Result<Self> {
        make_private(path)?;
        let url = format!("sqlite://{}", path.display());
        let options = SqliteConnectOptions::from_str(&url)
            .with_context(|| format!("bad database path {}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .pragma("journal_size_limit", wal_checkpoint_bytes.to_string());
        let own_options = options.clone();
        // sqlx takes no lock to migrate SQLite (it does on PostgreSQL):
        // nodes starting at once on a new database would each apply the
        // first migration, and all but one fail. A lock file beside the
        // database makes them take turns; the later ones find the
        // migrations applied. It is taken before the first connection too:
        // that connection turns a new file to WAL, which needs the file to
        // itself, and SQLite answers "database is locked" at once, without
        // its busy timeout, to a second node doing the same.
        let lock = migration_lock(path).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // When SQLite rolls a transaction back by itself (SQLITE_FULL),
            // sqlx's own ROLLBACK fails and the connection keeps a
            // transaction depth of one: every later BEGIN on it would fail
            // until a restart. Such a connection is closed, not reused.
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    use sqlx::Connection as _;
                    if conn.is_in_transaction() {
                        // A rollback queued by a dropped transaction runs
                        // before the ping; only a stuck depth remains.
                        conn.ping().await?;
                    }
                    Ok(!conn.is_in_transaction())
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("opening {}", path.display()))?;
        let migrated = sqlx::migrate!("./migrations/sqlite").run(&pool).await;
        drop(lock);
        migrated.context("running migrations")?;
        Ok(Store::assemble(
            Backend::Sqlite(pool),
            Some(path),
            Some(own_options),
            wal_checkpoint_bytes.saturating_mul(wal::WAL_BOUND_FACTOR),
        ))
    }

    /// A store over an open pool; `wal_cap` is the log size past which
    /// writes wait for the checkpointer (SQLite's).
    fn assemble(
        db: Db,
        path: Option<&Path>,
        options: Option<SqliteConnectOptions>,
        wal_cap: u64,
    ) -> Self {
        let group = match &db {
            Backend::Sqlite(pool) => Some(group::Group::new(pool.clone())),
            Backend::Postgres(_) => None,
        };
        Store {
            group,
            db,
            path: path.map(|p| std::sync::Arc::new(p.to_path_buf())),
            options,
            wal_cap,
            wal_truncated: Default::default(),
            commits: Default::default(),
            committed: Default::default(),
            write_health: Default::default(),
        }
    }

    /// The pool, for [`on_db!`].
    pub fn db(&self) -> Backend<&SqlitePool, &PgPool> {
        match &self.db {
            Backend::Sqlite(pool) => Backend::Sqlite(pool),
            Backend::Postgres(pool) => Backend::Postgres(pool),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.db, Backend::Postgres(_))
    }

    /// The SQLite pool; None on PostgreSQL.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.db {
            Backend::Sqlite(pool) => Some(pool),
            Backend::Postgres(_) => None,
        }
    }

    /// Connections open and idle in the pool (the metrics gauges).
    pub fn pool_stats(&self) -> (u32, usize) {
        on_db!(self.db(), pool => (pool.size(), pool.num_idle()))
    }

    /// Closes every connection (the offline commands, before they exit).
    pub async fn close(&self) {
        on_db!(self.db(), pool => pool.close().await)
    }

    /// Begins a write transaction. SQLite's begin IMMEDIATE (see
    /// `Store::audited`); PostgreSQL's are plain, and the few writes that
    /// read before they write serialize with [`audit::AuditTx::lock`].
    pub(crate) async fn begin_write(&self) -> sqlx::Result<WriteTx> {
        Ok(match &self.db {
            Backend::Sqlite(pool) => Backend::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres(pool) => Backend::Postgres(pool.begin().await?),
        })
    }

    /// Waits for SQLite's write turn (after the open batch commits), for a
    /// write outside the audited pipeline: held until dropped, so that it
    /// queues with the batches instead of sleeping in SQLite's busy
    /// handler. Nothing to wait for on PostgreSQL.
    pub(crate) async fn write_turn(&self) -> WriteTurn {
        match &self.group {
            Some(group) => WriteTurn {
                _turn: Some(group.exclusive().await),
            },
            None => WriteTurn { _turn: None },
        }
    }

    /// SQLite's transactions of audited writes committed so far, each of
    /// one or more writes (group commit); None on PostgreSQL.
    pub fn batch_commits(&self) -> Option<u64> {
        self.group.as_ref().map(|group| group.commits())
    }

    /// How many audited writes (and session expiry moves) have committed.
    pub fn commits(&self) -> u64 {
        self.commits.load(std::sync::atomic::Ordering::Acquire)
    }

    pub(crate) fn count_commit(&self) {
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.committed.notify_one();
    }

    /// True when the database answers; backs /readyz.
    pub async fn ping(&self) -> bool {
        on_db!(self.db(), pool => sqlx::query("SELECT 1").execute(pool).await.is_ok())
    }
}

/// Held while a node runs its first-start steps (built-in policies, the
/// management account): on PostgreSQL several nodes may start together on
/// one empty database, and each step reads before it writes. A
/// session-level advisory lock on a connection of its own, released when
/// that connection closes; nothing on SQLite.
pub struct StartGuard(Option<PgConnection>);

impl StartGuard {
    pub async fn release(self) {
        if let Some(conn) = self.0 {
            use sqlx::Connection as _;
            let _ = conn.close().await;
        }
    }
}

impl Store {
    pub async fn start_guard(&self) -> anyhow::Result<StartGuard> {
        match &self.db {
            Backend::Sqlite(_) => Ok(StartGuard(None)),
            Backend::Postgres(pool) => {
                let mut conn = pool.acquire().await?.detach();
                sqlx::query("SELECT pg_advisory_lock(hashtext('latchkey:first-start'))")
                    .execute(&mut conn)
                    .await
                    .context("waiting for the other nodes' first start")?;
                Ok(StartGuard(Some(conn)))
            }
        }
    }
}

/// `text` with the password of `url`, if any, masked.
pub fn redact(text: &str, url: &str) -> String {
    match url_password(url) {
        Some(password) if !password.is_empty() => text.replace(password, "********"),
        _ => text.to_string(),
    }
}

/// The password of a `scheme://user:password@host/...` URL.
pub fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    Some(userinfo.split_once(':')?.1)
}

/// `url` with its password masked, to show or log.
pub fn masked_url(url: &str) -> String {
    match url_password(url) {
        Some(password) if !password.is_empty() => {
            let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
            let at = rest.find('@').unwrap_or(0);
            let colon = rest[..at].find(':').map_or(at, |c| c + 1);
            format!("{scheme}://{}********{}", &rest[..colon], &rest[at..])
        }
        _ => url.to_string(),
    }
}

/// Holds `<database>-migrate.lock` exclusively, waiting for another node
/// that holds it (without blocking the thread: nodes in one process, as in
/// the tests, share the runtime).
async fn migration_lock(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut name = path.as_os_str().to_owned();
    name.push("-migrate.lock");
    let lock_path = std::path::PathBuf::from(name);
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", lock_path.display()));
            }
        }
    }
}

/// The database holds every password hash and sealed secret: it is the
/// owner's alone, like `master.key`. SQLite creates its `-wal` and `-shm`
/// files with the mode of the database file, so creating that one 0600
/// (before SQLite would, under the umask) covers all three; the files of
/// an older version, made under the umask, are narrowed too.
fn make_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = std::path::PathBuf::from(name);
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("restricting {}", file.display()))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// A page of a list: AWS's `IsTruncated`/`Marker` contract.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub is_truncated: bool,
    pub marker: Option<String>,
}

/// How to read one page: a path prefix filter, where to start, how many.
#[derive(Debug, Clone)]
pub struct ListParams {
    pub path_prefix: String,
    /// The sort key (lower-cased name) after which the page starts.
    pub after: String,
    pub max_items: i64,
}

pub const DEFAULT_MAX_ITEMS: i64 = 100;

impl ListParams {
    /// Builds the parameters from the wire values, validating them as IAM
    /// does (MaxItems 1..=1000, an opaque marker, a `/`-prefixed filter).
    pub fn from_request(
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> StoreResult<Self> {
        let max_items = max_items.unwrap_or(DEFAULT_MAX_ITEMS);
        if !(1..=1000).contains(&max_items) {
            return Err(StoreError::InvalidListParameter(format!(
                "1 validation error detected: Value '{max_items}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"
            )));
        }
        let path_prefix = path_prefix.unwrap_or("/").to_string();
        if !path_prefix.starts_with('/') || path_prefix.len() > 512 {
            return Err(StoreError::InvalidListParameter(format!(
                "1 validation error detected: Value '{path_prefix}' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*"
            )));
        }
        let after = match marker {
            None | Some("") => String::new(),
            Some(m) => decode_marker(m)?,
        };
        Ok(ListParams {
            path_prefix,
            after,
            max_items,
        })
    }

    /// `LIKE` pattern for the path prefix, with LIKE's wildcards escaped,
    /// matched against `lower(path)`: SQLite's LIKE ignores ASCII case and
    /// PostgreSQL's does not, so both compare lower-cased text (the filter
    /// ignores ASCII case on both, as it always did on SQLite).
    pub fn path_like(&self) -> String {
        let escaped = self
            .path_prefix
            .to_ascii_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("{escaped}%")
    }

    /// Fetch one more row than asked, to know whether the list goes on.
    pub fn fetch_limit(&self) -> i64 {
        self.max_items + 1
    }
}

pub fn encode_marker(sort_key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sort_key.as_bytes())
}

pub(crate) fn decode_marker(marker: &str) -> StoreResult<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(marker)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(StoreError::InvalidMarker)
}

/// Cuts the extra row off a fetched list and sets the marker from the last
/// item kept.
pub fn paginate<T>(
    mut rows: Vec<T>,
    params: &ListParams,
    sort_key: impl Fn(&T) -> String,
) -> Page<T> {
    let is_truncated = rows.len() as i64 > params.max_items;
    rows.truncate(params.max_items as usize);
    let marker = if is_truncated {
        rows.last().map(|r| encode_marker(&sort_key(r)))
    } else {
        None
    };
    Page {
        items: rows,
        is_truncated,
        marker,
    }
}

/// A unique-constraint violation: a concurrent create of the same name.
/// sqlx maps both drivers' codes to the same kind.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn passwords_are_masked_and_only_them() {
        let url = "postgres://lk:s3cr%40t@db.example:5432/latchkey?sslmode=require";
        assert_eq!(url_password(url), Some("s3cr%40t"));
        assert_eq!(
            masked_url(url),
            "postgres://lk:********@db.example:5432/latchkey?sslmode=require"
        );
        assert_eq!(redact("bad s3cr%40t here", url), "bad ******** here");
        for plain in [
            "postgres://lk@db/latchkey",
            "postgresql://db/latchkey",
            "sqlite:///var/lib/latchkey/latchkey.db",
        ] {
            assert_eq!(masked_url(plain), plain);
            assert_eq!(url_password(plain), None);
        }
        assert!(is_postgres_url("postgresql://x/y") && is_postgres_url("postgres://x"));
        assert!(!is_postgres_url("sqlite://x.db"));
    }
}
