//! `latchkey store copy`: moves a SQLite database into a new PostgreSQL
//! one, with the server stopped. Everything is checked before the first
//! row is written (the source's schema against the copy's table list, the
//! master key, an empty target); afterwards every table's counts are
//! compared and printed. The source is only read.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};

use super::data_dir::{api, lock_data_dir, resolve_keys, run, KeyArgs};
use crate::store::backup::latest_schema_version;
use crate::store::copy::{check_schema, Handling, Source, TableCount, TABLES};
use crate::store::{is_postgres_url, masked_url, wal, Store};

#[derive(Debug, Clone, Subcommand)]
pub enum StoreCommand {
    /// Copy a SQLite database into an empty PostgreSQL database (stop the
    /// server first), then compare every table's row counts.
    Copy(CopyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CopyArgs {
    /// The SQLite database: sqlite://PATH (or a bare path). Only read.
    #[arg(long)]
    pub from: String,
    /// The PostgreSQL database: postgres://USER[:PASSWORD]@HOST/DB. It is
    /// migrated, and must hold no data.
    #[arg(long, hide_env_values = true)]
    pub to: String,
    /// The data directory whose master.key the servers on the target will
    /// use: it must be the key the source is sealed under. Its lock is
    /// held during the copy (without it, the source's directory's is).
    #[arg(long, env = "LATCHKEY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

// Here rather than in mod.rs, which never names this file: the folder's
// files must not import each other in a cycle (tests/layering.rs).
pub fn run_store(command: StoreCommand) -> std::process::ExitCode {
    match command {
        StoreCommand::Copy(args) => run(async move {
            let report = copy(&args).await?;
            Ok(report.render(&args.from, &args.to))
        }),
    }
}

/// What a copy did.
#[derive(Debug, Clone)]
pub struct CopyReport {
    pub counts: Vec<TableCount>,
    pub rows: u64,
    pub seconds: f64,
}

impl CopyReport {
    /// One line per table (`table source target`), then the totals.
    pub fn render(&self, from: &str, to: &str) -> String {
        let mut out = format!("{:<26} {:>10} {:>10}\n", "table", "source", "target");
        for c in &self.counts {
            let note = match c.handling {
                Handling::Derived { .. } => {
                    "  (rebuilt by triggers and checked; minutes at 0 not kept)"
                }
                Handling::Fixed => "  (written by the migrations)",
                Handling::Migrations => "  (the target's own migrations)",
                _ => "",
            };
            let _ = writeln!(
                out,
                "{:<26} {:>10} {:>10}{note}",
                c.table, c.source, c.target
            );
        }
        let _ = write!(
            out,
            "copied {} rows from {from} to {} in {:.2} s ({:.0} rows/s); every count verified",
            self.rows,
            masked_url(to),
            self.seconds,
            self.rows as f64 / self.seconds.max(1e-6)
        );
        out
    }
}

/// The SQLite file a `--from` names.
fn sqlite_path(from: &str) -> anyhow::Result<PathBuf> {
    if is_postgres_url(from) {
        bail!(
            "--from must be a SQLite database (sqlite://PATH): the copy moves SQLite to PostgreSQL"
        );
    }
    let path = from
        .strip_prefix("sqlite://")
        .or_else(|| from.strip_prefix("sqlite:"))
        .unwrap_or(from);
    Ok(PathBuf::from(path))
}

pub async fn copy(args: &CopyArgs) -> anyhow::Result<CopyReport> {
    let path = sqlite_path(&args.from)?;
    if !is_postgres_url(&args.to) {
        bail!("--to must be a PostgreSQL database (postgres://...)");
    }
    // A server on this data directory holds its lock shared: refused.
    let lock_dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    let _lock = lock_data_dir(&lock_dir, true)?;

    let mut source = Source::open(&path).await?;
    let result = copy_from(&mut source, args).await;
    source.close().await;
    result
}

async fn copy_from(source: &mut Source, args: &CopyArgs) -> anyhow::Result<CopyReport> {
    let latest = latest_schema_version();
    match source.schema_version().await? {
        Some(v) if v == latest => {}
        Some(v) if v < latest => bail!(
            "the source is at schema version {v} and this latchkey at {latest}: start this version's server on it once (it migrates the database), stop it, then copy"
        ),
        Some(v) => bail!("the source has schema version {v}, newer than this latchkey knows ({latest})"),
        None => bail!("the source is not a latchkey database (no migrations)"),
    }
    check_schema(&source.schema().await?)?;
    let Some(check) = source.master_key_check().await? else {
        bail!("the source carries no master-key check value; start this version's server on it once, stop it, then copy");
    };
    if let Some(dir) = &args.data_dir {
        let key = resolve_keys(dir, &KeyArgs::default(), false)?;
        if !key.accepts(&check) {
            bail!(
                "the source is sealed under master key {check}, but {}/master.key has check {}: copy with the data directory holding the source's key",
                dir.display(),
                key.check()
            );
        }
    }

    let target = Store::open_url(&args.to, wal::DEFAULT_CHECKPOINT_BYTES).await?;
    let result = async {
        let target_check = target.master_key_check().await.map_err(api)?;
        if let Some(theirs) = target_check.filter(|t| *t != check) {
            bail!("the target is sealed under master key {theirs} and the source under {check}: refusing to mix them");
        }
        for t in TABLES {
            if matches!(t.handling, Handling::Copy | Handling::CopyWithIdentity(_)) {
                let n = target.copy_count(t).await?;
                if n > 0 {
                    bail!(
                        "the target already holds data ({n} rows in {}): copy into a new, empty database",
                        t.name
                    );
                }
            }
        }
        let started = Instant::now();
        let mut rows = 0;
        for t in TABLES {
            if matches!(
                t.handling,
                Handling::Copy | Handling::CopyWithIdentity(_) | Handling::KeyCheck
            ) {
                rows += target.copy_table_from(source, t).await.with_context(|| {
                    format!(
                        "copying {}; the target now holds part of the copy: drop and re-create it before copying again",
                        t.name
                    )
                })?;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let counts = verify(source, &target, &check).await?;
        anyhow::Ok(CopyReport {
            counts,
            rows,
            seconds,
        })
    }
    .await;
    target.close().await;
    result
}

/// Compares every table: copied ones and the migrations' fixed rows row
/// for row in number, derived ones by their check, the key check by value.
async fn verify(
    source: &mut Source,
    target: &Store,
    check: &str,
) -> anyhow::Result<Vec<TableCount>> {
    let mut counts = Vec::new();
    for t in TABLES {
        let count = TableCount {
            table: t.name,
            handling: t.handling,
            source: source.count(t).await?,
            target: target.copy_count(t).await?,
        };
        match t.handling {
            Handling::Derived { check } => {
                let wrong = target.copy_check_derived(check).await?;
                if wrong != 0 {
                    bail!("{}: {wrong} rows disagree with the rows they count", t.name);
                }
            }
            Handling::Migrations => {}
            _ if count.source != count.target => bail!(
                "{}: {} rows in the source but {} in the target",
                t.name,
                count.source,
                count.target
            ),
            _ => {}
        }
        counts.push(count);
    }
    let copied = target.master_key_check().await.map_err(api)?;
    if copied.as_deref() != Some(check) {
        bail!("the target's master-key check value is not the source's");
    }
    Ok(counts)
}
