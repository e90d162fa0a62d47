//! Online backup: `VACUUM INTO` writes a consistent copy from one read
//! transaction while the server keeps writing (a file copy of a WAL
//! database and its `-wal` can be torn). And what a copy holds: its
//! integrity, schema version, master-key check and row counts, read
//! without ever writing to it.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, SqlitePool};

use super::Store;

/// What a copy holds, read from the copy itself.
#[derive(Debug, Clone)]
pub struct CopyReport {
    /// `PRAGMA integrity_check`'s answer: "ok", or the problems found.
    pub integrity: String,
    /// The highest migration applied.
    pub schema_version: Option<i64>,
    /// The check value of the master key its secrets are sealed under.
    pub master_key_check: Option<String>,
    pub row_counts: BTreeMap<String, i64>,
}

/// The highest migration this build knows (both backends have the same).
pub fn latest_schema_version() -> i64 {
    sqlx::migrate!("./migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

impl Store {
    /// Opens an existing database as the server left it: no file created,
    /// no migration run (a backup must not change the live database's
    /// schema under a running server).
    pub async fn open_existing(path: &Path) -> anyhow::Result<Self> {
        if !path.is_file() {
            anyhow::bail!("no database at {}", path.display());
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .with_context(|| format!("bad database path {}", path.display()))?
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("opening {}", path.display()))?;
        // No checkpointer runs for this store: its writes never wait on one.
        Ok(Store::assemble(
            super::Backend::Sqlite(pool),
            Some(path),
            Some(options),
            u64::MAX,
        ))
    }

    /// Writes a consistent copy of the database into `target`, which must
    /// not exist or be empty (SQLite refuses anything else).
    pub async fn vacuum_into(&self, target: &Path) -> anyhow::Result<()> {
        let target = target
            .to_str()
            .context("the backup path must be valid UTF-8")?;
        let pool = self
            .sqlite_pool()
            .context("VACUUM INTO copies a SQLite database; use pg_dump for PostgreSQL")?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(pool)
            .await
            .context("VACUUM INTO")?;
        Ok(())
    }
}

/// Reads a copy: opened read-only and immutable, so that checking a backup
/// never changes it (nor creates a `-wal` beside it).
pub async fn inspect_copy(path: &Path) -> anyhow::Result<CopyReport> {
    if !path.is_file() {
        anyhow::bail!("no file at {}", path.display());
    }
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .with_context(|| format!("bad path {}", path.display()))?
        .read_only(true)
        .immutable(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let report = read_report(&pool).await;
    pool.close().await;
    report.with_context(|| format!("{} is not a latchkey database", path.display()))
}

async fn read_report(pool: &SqlitePool) -> anyhow::Result<CopyReport> {
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(pool)
        .await?;
    let integrity = problems.join("; ");
    if integrity != "ok" {
        // Counts of a damaged file would mean nothing.
        return Ok(CopyReport {
            integrity,
            schema_version: None,
            master_key_check: None,
            row_counts: BTreeMap::new(),
        });
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    let mut row_counts = BTreeMap::new();
    for table in tables {
        // The name comes from the schema; quoted as an identifier.
        let sql = format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', "\"\""));
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(pool)
            .await?;
        row_counts.insert(table, n);
    }
    let schema_version = if row_counts.contains_key("_sqlx_migrations") {
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?
    } else {
        None
    };
    let master_key_check = if row_counts.contains_key("master_key") {
        sqlx::query_scalar("SELECT key_check FROM master_key WHERE id = 1")
            .fetch_optional(pool)
            .await?
    } else {
        None
    };
    Ok(CopyReport {
        integrity,
        schema_version,
        master_key_check,
        row_counts,
    })
}
