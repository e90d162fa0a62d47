//! The SQLite store: the only place that writes SQL. One file per
//! aggregate; each returns domain types. SQL stays portable (no SQLite-only
//! syntax beyond what PostgreSQL also takes) so that a second backend stays
//! a swap of this module.
//!
//! Reads are methods of [`Store`]. Writes are methods of
//! [`audit::AuditTx`], which only [`Store::audited`] opens: a mutation
//! commits with its audit record or not at all (see `audit.rs`, whose test
//! fails on a write added to `impl Store`).

pub mod access_keys;
pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod backup;
pub mod coherence;
pub mod groups;
pub mod health;
pub mod inline_policies;
pub mod instance_profiles;
pub mod login_profiles;
pub mod master_key;
pub mod plans;
pub mod policies;
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
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::error::{ApiError, ApiResult};
pub use health::{is_storage_failure, Readiness, WriteHealth};

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    /// The database file; its write-ahead log is this with `-wal`.
    path: std::sync::Arc<std::path::PathBuf>,
    /// The log size past which writes wait for the checkpointer
    /// (`wal::WAL_BOUND_FACTOR` times the checkpoint threshold).
    wal_cap: u64,
    /// Told when the checkpointer emptied the log.
    wal_truncated: std::sync::Arc<tokio::sync::Notify>,
    /// How to open a connection of our own (the WAL checkpointer's).
    options: SqliteConnectOptions,
    /// Audited writes committed so far: tells the metrics scrape whether
    /// the gauges it read a moment ago may have moved.
    commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Told of every commit, so that the WAL checkpointer looks at the log
    /// at once rather than at its next tick (`wal.rs`).
    committed: std::sync::Arc<tokio::sync::Notify>,
    write_health: std::sync::Arc<WriteHealth>,
}

impl Store {
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
        {
            // sqlx takes no lock to migrate SQLite (it does on PostgreSQL):
            // nodes starting at once on a new database would each apply the
            // first migration, and all but one fail. A lock file beside the
            // database makes them take turns; the later ones find the
            // migrations applied.
            let lock = migration_lock(path).await?;
            let migrated = sqlx::migrate!("./migrations").run(&pool).await;
            drop(lock);
            migrated.context("running migrations")?;
        }
        Ok(Store::assemble(
            pool,
            path,
            own_options,
            wal_checkpoint_bytes.saturating_mul(wal::WAL_BOUND_FACTOR),
        ))
    }

    /// A store over an open pool; `wal_cap` is the log size past which
    /// writes wait for the checkpointer.
    fn assemble(
        pool: SqlitePool,
        path: &Path,
        options: SqliteConnectOptions,
        wal_cap: u64,
    ) -> Self {
        Store {
            pool,
            path: std::sync::Arc::new(path.to_path_buf()),
            options,
            wal_cap,
            wal_truncated: Default::default(),
            commits: Default::default(),
            committed: Default::default(),
            write_health: Default::default(),
        }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
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
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
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
    ) -> ApiResult<Self> {
        let max_items = max_items.unwrap_or(DEFAULT_MAX_ITEMS);
        if !(1..=1000).contains(&max_items) {
            return Err(ApiError::ValidationError(format!(
                "1 validation error detected: Value '{max_items}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"
            )));
        }
        let path_prefix = path_prefix.unwrap_or("/").to_string();
        if !path_prefix.starts_with('/') || path_prefix.len() > 512 {
            return Err(ApiError::ValidationError(format!(
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

    /// `LIKE` pattern for the path prefix, with LIKE's wildcards escaped.
    pub fn path_like(&self) -> String {
        let escaped = self
            .path_prefix
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

pub(crate) fn decode_marker(marker: &str) -> ApiResult<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(marker)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::InvalidInput("Invalid Marker.".to_string()))
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
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
