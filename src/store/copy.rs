//! Copying a SQLite database into PostgreSQL (`latchkey store copy`): the
//! SQL side. Every table of the schema is named in [`TABLES`] with its
//! columns and how it moves; a source table or column the list does not
//! know stops the copy before anything is written, so a table added by a
//! migration is never silently left behind (add it to the list, in
//! foreign-key order, with the same columns as its migration).
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

use super::{Backend, Store};

/// How a column is read and bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// INTEGER on SQLite; BIGINT (or INTEGER) on PostgreSQL.
    Int,
    /// 0/1 on SQLite; BOOLEAN on PostgreSQL.
    Bool,
    /// BLOB on SQLite; BYTEA on PostgreSQL.
    Bytes,
}

/// One column's value of one row.
#[derive(Debug, Clone)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

/// What the copy does with a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// Every row copied; the target's must be empty.
    Copy,
    /// Copied with its ids; then the target's identity sequence of that
    /// column is moved past the largest id, so new rows never collide.
    CopyWithIdentity(&'static str),
    /// The master key's check value: copied when the target has none (the
    /// command has checked that a target's own one is the same).
    KeyCheck,
    /// Rows the migrations write themselves (a gate, a probe row): not
    /// copied, their counts must match.
    Fixed,
    /// Kept by triggers on other tables, so rebuilt on the target by the
    /// copied rows' inserts. `check` (PostgreSQL) counts the target's rows
    /// that disagree with what they count; it must return 0.
    Derived { check: &'static str },
    /// The migrator's own record; the target has its own.
    Migrations,
}

pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    pub handling: Handling,
}

use Kind::{Bool, Bytes, Int, Text};

const fn table(
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
    handling: Handling,
) -> Table {
    Table {
        name,
        columns,
        handling,
    }
}

/// The whole schema, parents before children (the copy inserts in this
/// order). A new table goes here with its migration.
pub const TABLES: &[Table] = &[
    table(
        "accounts",
        &[
            ("id", Text),
            ("name", Text),
            ("is_management", Bool),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "users",
        &[
            ("id", Text),
            ("account_id", Text),
            ("name", Text),
            ("name_lower", Text),
            ("path", Text),
            ("permissions_boundary", Text),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "groups",
        &[
            ("id", Text),
            ("account_id", Text),
            ("name", Text),
            ("name_lower", Text),
            ("path", Text),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "group_members",
        &[("group_id", Text), ("user_id", Text), ("added_at", Text)],
        Handling::Copy,
    ),
    table(
        "roles",
        &[
            ("id", Text),
            ("account_id", Text),
            ("name", Text),
            ("name_lower", Text),
            ("path", Text),
            ("trust_policy", Text),
            ("description", Text),
            ("max_session_duration", Int),
            ("permissions_boundary", Text),
            ("created_at", Text),
            ("last_used_at", Text),
            ("last_used_region", Text),
            ("sessions_revoked_before", Text),
        ],
        Handling::Copy,
    ),
    table(
        "managed_policies",
        &[
            ("id", Text),
            ("account_id", Text),
            ("name", Text),
            ("name_lower", Text),
            ("path", Text),
            ("arn", Text),
            ("description", Text),
            ("default_version_id", Text),
            ("next_version", Int),
            ("created_at", Text),
            ("updated_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "policy_versions",
        &[
            ("policy_id", Text),
            ("version_id", Text),
            ("document", Text),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "user_inline_policies",
        &[("user_id", Text), ("name", Text), ("document", Text)],
        Handling::Copy,
    ),
    table(
        "group_inline_policies",
        &[("group_id", Text), ("name", Text), ("document", Text)],
        Handling::Copy,
    ),
    table(
        "role_inline_policies",
        &[("role_id", Text), ("name", Text), ("document", Text)],
        Handling::Copy,
    ),
    table(
        "user_attached_policies",
        &[("user_id", Text), ("policy_id", Text)],
        Handling::Copy,
    ),
    table(
        "group_attached_policies",
        &[("group_id", Text), ("policy_id", Text)],
        Handling::Copy,
    ),
    table(
        "role_attached_policies",
        &[("role_id", Text), ("policy_id", Text)],
        Handling::Copy,
    ),
    table(
        "tags",
        &[
            ("entity_id", Text),
            ("key", Text),
            ("key_lower", Text),
            ("value", Text),
        ],
        Handling::Copy,
    ),
    table(
        "access_keys",
        &[
            ("access_key_id", Text),
            ("account_id", Text),
            ("user_id", Text),
            ("secret_ciphertext", Bytes),
            ("status", Text),
            ("created_at", Text),
            ("last_used_at", Text),
            ("last_used_service", Text),
            ("last_used_region", Text),
        ],
        Handling::Copy,
    ),
    table(
        "login_profiles",
        &[
            ("user_id", Text),
            ("password_hash", Text),
            ("password_reset_required", Bool),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "role_sessions",
        &[
            ("access_key_id", Text),
            ("account_id", Text),
            ("role_id", Text),
            ("user_id", Text),
            ("session_name", Text),
            ("issuer_arn", Text),
            ("secret_ciphertext", Bytes),
            ("token_sha256", Text),
            ("session_policies", Text),
            ("tags", Text),
            ("transitive_tag_keys", Text),
            ("source_identity", Text),
            ("chained", Bool),
            ("issued_at", Text),
            ("expires_at", Text),
            ("revoked_at", Text),
        ],
        Handling::Copy,
    ),
    // Rebuilt by role_sessions' insert trigger (migration 0007). Minutes
    // whose sessions all ended keep a row of 0 on the source; the target
    // has none of those, so only the non-zero counts are compared.
    table(
        "session_expiry_minutes",
        &[("minute", Text), ("live", Int)],
        Handling::Derived {
            check: "SELECT COUNT(*) FROM (
                        SELECT substr(expires_at, 1, 16) AS minute, COUNT(*) AS live
                        FROM role_sessions WHERE revoked_at IS NULL
                        GROUP BY substr(expires_at, 1, 16)
                    ) s
                    FULL JOIN (SELECT minute, live FROM session_expiry_minutes WHERE live <> 0) m
                    ON s.minute = m.minute
                    WHERE s.live IS DISTINCT FROM m.live",
        },
    ),
    // Only BEFORE UPDATE and BEFORE DELETE triggers guard the trail:
    // inserts, the copy's included, pass.
    table(
        "audit_events",
        &[
            ("id", Int),
            ("event_time", Text),
            ("request_id", Text),
            ("account_id", Text),
            ("principal_arn", Text),
            ("access_key_id", Text),
            ("action", Text),
            ("resource", Text),
            ("decision", Text),
            ("error_code", Text),
            ("source_ip", Text),
            ("user_agent", Text),
            ("params", Text),
        ],
        Handling::CopyWithIdentity("id"),
    ),
    table("audit_retention_gate", &[("open", Int)], Handling::Fixed),
    table(
        "services",
        &[
            ("prefix", Text),
            ("definition", Text),
            ("created_at", Text),
            ("updated_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "service_principals",
        &[("name", Text), ("description", Text), ("created_at", Text)],
        Handling::Copy,
    ),
    table(
        "instance_profiles",
        &[
            ("id", Text),
            ("account_id", Text),
            ("name", Text),
            ("name_lower", Text),
            ("path", Text),
            ("role_id", Text),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "workloads",
        &[
            ("id", Text),
            ("account_id", Text),
            ("name", Text),
            ("instance_profile_id", Text),
            ("service", Text),
            ("token_sha256", Text),
            ("token_ttl_seconds", Int),
            ("token_expires_at", Text),
            ("source_cidrs", Text),
            ("created_by", Text),
            ("created_at", Text),
            ("token_issued_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "workload_sessions",
        &[
            ("access_key_id", Text),
            ("workload_id", Text),
            ("issued_at", Text),
            ("expires_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "write_probe",
        &[("id", Int), ("probed_at", Text)],
        Handling::Fixed,
    ),
    table(
        "master_key",
        &[("id", Int), ("key_check", Text), ("updated_at", Text)],
        Handling::KeyCheck,
    ),
    table(
        "_sqlx_migrations",
        &[
            ("version", Int),
            ("description", Text),
            ("installed_on", Text),
            ("success", Bool),
            ("checksum", Bytes),
            ("execution_time", Int),
        ],
        Handling::Migrations,
    ),
];

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

/// Checks the source's tables and columns against [`TABLES`]: a table or a
/// column the list does not know, or one it names that the source lacks,
/// stops the copy, named.
pub fn check_schema(source: &BTreeMap<String, Vec<String>>) -> anyhow::Result<()> {
    for name in source.keys() {
        if !TABLES.iter().any(|t| t.name == name) {
            bail!(
                "the source has a table `{name}` that `latchkey store copy` does not know: refusing rather than leaving it behind (add it to TABLES in src/store/copy.rs)"
            );
        }
    }
    for t in TABLES {
        let Some(columns) = source.get(t.name) else {
            bail!(
                "the source has no table `{}`: not a latchkey database of this version",
                t.name
            );
        };
        let known: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
        for c in columns {
            if !known.contains(&c.as_str()) {
                bail!(
                    "the source's table `{}` has a column `{c}` that `latchkey store copy` does not know (add it to TABLES in src/store/copy.rs)",
                    t.name
                );
            }
        }
        if let Some(missing) = known.iter().find(|k| !columns.iter().any(|c| c == *k)) {
            bail!("the source's table `{}` has no column `{missing}`", t.name);
        }
    }
    Ok(())
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
        Text => Value::Text(row.try_get(i)?),
        Int => Value::Int(row.try_get(i)?),
        Bool => Value::Bool(row.try_get(i)?),
        Bytes => Value::Bytes(row.try_get(i)?),
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
