//! Copying a SQLite database into PostgreSQL (`latchkey store copy`): the
//! SQL side. Every table of the schema is named in [`TABLES`]
//! (`copy_tables.rs`) with its columns and how it moves.
//!
//! Rows are read generically into [`Value`]s from one read transaction on
//! the source (a consistent snapshot) and inserted in batches of
//! multi-row `INSERT`s, one transaction per table on the target. The bytes
//! of sealed secrets are copied as they are: the target needs the same
//! master key.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use futures_util::TryStreamExt as _;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteRow};
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder, Row as _};

pub use super::copy_tables::{check_schema, Handling, Kind, Table, TABLES};
use super::{Backend, Store};

/// One column's value of one row.
#[derive(Debug, Clone)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

/// Rows per multi-row INSERT, also bounded by PostgreSQL's 65,535 bind
/// parameters per statement.
const BATCH_ROWS: usize = 1000;

/// One table's outcome.
#[derive(Debug, Clone)]
pub struct TableCount {
    pub table: &'static str,
    pub handling: Handling,
    pub source: i64,
    pub target: i64,
}

/// The source of a copy: a SQLite file opened read-only, read through
/// one connection inside one read transaction.
pub struct Source {
    conn: sqlx::pool::PoolConnection<sqlx::Sqlite>,
    pool: sqlx::SqlitePool,
}

impl Source {
    /// Opens `path` read-only (no file created, no migration run) and
    /// begins the read transaction every later read shares.
    pub async fn open(path: &Path) -> anyhow::Result<Source> {
        if !path.is_file() {
            bail!("no database at {}", path.display());
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .with_context(|| format!("bad database path {}", path.display()))?
            .read_only(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .with_context(|| format!("opening {}", path.display()))?;
        let mut conn = pool.acquire().await?;
        // Held until the copy ends: every read sees one snapshot.
        sqlx::query("BEGIN").execute(&mut *conn).await?;
        Ok(Source { conn, pool })
    }

    pub async fn close(mut self) {
        let _ = sqlx::query("ROLLBACK").execute(&mut *self.conn).await;
        drop(self.conn);
        self.pool.close().await;
    }

    /// Every table (but SQLite's own) with its columns.
    pub async fn schema(&mut self) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, c.cid",
        )
        .fetch_all(&mut *self.conn)
        .await?;
        let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (table, column) in rows {
            tables.entry(table).or_default().push(column);
        }
        Ok(tables)
    }

    /// The highest migration applied.
    pub async fn schema_version(&mut self) -> anyhow::Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut *self.conn)
                .await?,
        )
    }

    pub async fn master_key_check(&mut self) -> anyhow::Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT key_check FROM master_key WHERE id = 1")
                .fetch_optional(&mut *self.conn)
                .await?,
        )
    }

    pub async fn count(&mut self, table: &Table) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(AssertSqlSafe(count_sql(table)))
            .fetch_one(&mut *self.conn)
            .await?)
    }
}

/// The names come from [`TABLES`], never from input.
fn count_sql(table: &Table) -> String {
    format!("SELECT COUNT(*) FROM {}", table.name)
}

fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ")
}

fn read_value(row: &SqliteRow, i: usize, kind: Kind) -> sqlx::Result<Value> {
    Ok(match kind {
        Kind::Text => Value::Text(row.try_get(i)?),
        Kind::Int => Value::Int(row.try_get(i)?),
        Kind::Bool => Value::Bool(row.try_get(i)?),
        Kind::Bytes => Value::Bytes(row.try_get(i)?),
    })
}

impl Store {
    /// How many rows `table` holds here.
    pub async fn copy_count(&self, table: &Table) -> anyhow::Result<i64> {
        let sql = count_sql(table);
        Ok(on_db!(self.db(), c => sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(c).await)?)
    }

    /// A derived table's check: how many of its rows disagree with the
    /// rows they count (PostgreSQL).
    pub async fn copy_check_derived(&self, check: &'static str) -> anyhow::Result<i64> {
        let pool = self.postgres_pool()?;
        Ok(sqlx::query_scalar(check).fetch_one(pool).await?)
    }

    fn postgres_pool(&self) -> anyhow::Result<&sqlx::PgPool> {
        match &self.db {
            Backend::Postgres(pool) => Ok(pool),
            Backend::Sqlite(_) => Err(anyhow!("the copy's target must be PostgreSQL")),
        }
    }

    /// Copies every row of `table` from `source`, in one transaction of
    /// batched inserts; returns the rows copied. A [`Handling::KeyCheck`]
    /// row the target already has is kept.
    pub async fn copy_table_from(&self, source: &mut Source, table: &Table) -> anyhow::Result<u64> {
        let pool = self.postgres_pool()?;
        let columns = column_list(table);
        let select = format!("SELECT {columns} FROM {}", table.name);
        let insert = format!("INSERT INTO {} ({columns}) ", table.name);
        let conflict = match table.handling {
            Handling::KeyCheck => " ON CONFLICT DO NOTHING",
            _ => "",
        };
        let batch_rows = BATCH_ROWS.min(65_535 / table.columns.len());
        let mut tx = pool.begin().await?;
        let mut rows = sqlx::query(AssertSqlSafe(select)).fetch(&mut *source.conn);
        let mut batch: Vec<Vec<Value>> = Vec::with_capacity(batch_rows);
        let mut copied = 0u64;
        loop {
            let row = rows.try_next().await?;
            if let Some(row) = &row {
                let values = table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, kind))| read_value(row, i, *kind))
                    .collect::<sqlx::Result<Vec<_>>>()?;
                batch.push(values);
            }
            if batch.len() >= batch_rows || (row.is_none() && !batch.is_empty()) {
                let mut query = QueryBuilder::<Postgres>::new(insert.clone());
                query.push_values(batch.drain(..), |mut b, values| {
                    for value in values {
                        match value {
                            Value::Text(v) => b.push_bind(v),
                            Value::Int(v) => b.push_bind(v),
                            Value::Bool(v) => b.push_bind(v),
                            Value::Bytes(v) => b.push_bind(v),
                        };
                    }
                });
                query.push(conflict);
                let done = query
                    .build()
                    .execute(&mut *tx)
                    .await
                    .with_context(|| format!("inserting into {}", table.name))?;
                copied += done.rows_affected();
            }
            if row.is_none() {
                break;
            }
        }
        if let Handling::CopyWithIdentity(column) = table.handling {
            // The next generated id follows the largest copied one.
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{0}', '{column}'),
                               COALESCE((SELECT MAX({column}) FROM {0}), 0) + 1, false)",
                table.name
            );
            sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(copied)
    }
}
