//! Keeping a data directory: online backup, verified restore, the
//! master key (its check value at start, offline rotation), and the move
//! from SQLite to PostgreSQL. The `latchkey backup`, `restore`,
//! `master-key` and `store` commands are defined here; the SQL they need
//! is in `store::backup`, `store::master_key` and `store::copy`.

pub mod backup;
pub mod copy;
mod data_dir;
pub mod rotation;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

pub(crate) use data_dir::{create_data_dir, run};
pub use data_dir::{
    lock_data_dir, resolve_keys, verify_master_key, KeyArgs, DATABASE_FILE, LOCK_FILE,
};

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The copy to write (must not exist); FILE.manifest.json goes beside it.
    #[arg(long)]
    pub to: PathBuf,
    #[arg(long, env = "LATCHKEY_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The server's database URL: backup and restore copy SQLite files;
    /// a PostgreSQL database is copied with pg_dump.
    #[arg(long, env = "LATCHKEY_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// Backup and restore copy SQLite files; PostgreSQL has its own tools.
fn refuse_postgres(database_url: Option<&str>, tool: &str) -> anyhow::Result<()> {
    if database_url.is_some_and(crate::store::is_postgres_url) {
        anyhow::bail!(
            "the database is PostgreSQL: use {tool} (and keep master.key: the stored secrets are sealed under it)"
        );
    }
    Ok(())
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// A copy written by `latchkey backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// Where to restore; must not hold a database.
    #[arg(long, env = "LATCHKEY_DATA_DIR")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The server's database URL (restore writes SQLite files only).
    #[arg(long, env = "LATCHKEY_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum MasterKeyCommand {
    /// Generate a new master key and re-seal every secret under it, with
    /// the server stopped. The old key stays in master.key.previous.
    /// Re-running finishes an interrupted rotation.
    Rotate {
        #[arg(long, env = "LATCHKEY_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
        /// The server's database URL, when it is not the data directory's
        /// SQLite file.
        #[arg(long, env = "LATCHKEY_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        /// Secrets re-sealed per transaction.
        #[arg(
            long,
            env = "LATCHKEY_ROTATE_BATCH_SIZE",
            default_value_t = 500,
            hide = true
        )]
        batch_size: i64,
        /// Pause between batches, in milliseconds (tests interrupt a
        /// rotation halfway with it).
        #[arg(
            long,
            env = "LATCHKEY_ROTATE_BATCH_PAUSE_MS",
            default_value_t = 0,
            hide = true
        )]
        batch_pause_ms: u64,
    },
    /// Delete master.key.previous once nothing is sealed under it.
    ForgetPrevious {
        #[arg(long, env = "LATCHKEY_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
        /// The server's database URL, when it is not the data directory's
        /// SQLite file.
        #[arg(long, env = "LATCHKEY_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// Print the check value of the master key (identifies it, reveals nothing).
    Check {
        #[arg(long, env = "LATCHKEY_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
        #[command(flatten)]
        keys: KeyArgs,
    },
}

pub fn run_backup(args: BackupArgs) -> ExitCode {
    run(async move {
        refuse_postgres(args.database_url.as_deref(), "pg_dump")?;
        let manifest = backup::backup(&args.data_dir, &args.to).await?;
        Ok(serde_json::to_string_pretty(&manifest)?)
    })
}

pub fn run_restore(args: RestoreArgs) -> ExitCode {
    run(async move {
        refuse_postgres(args.database_url.as_deref(), "pg_restore")?;
        let report = backup::restore(&args.from, &args.data_dir, &args.keys).await?;
        Ok(format!(
            "restored {} into {} (schema version {}, master key check {})",
            args.from.display(),
            args.data_dir.join(DATABASE_FILE).display(),
            report.schema_version.unwrap_or(0),
            report.master_key_check.unwrap_or_default()
        ))
    })
}

pub fn run_master_key(command: MasterKeyCommand) -> ExitCode {
    match command {
        MasterKeyCommand::Rotate {
            data_dir,
            database_url,
            batch_size,
            batch_pause_ms,
        } => run(async move {
            let options = rotation::RotateOptions {
                batch_size: batch_size.max(1),
                batch_pause: Duration::from_millis(batch_pause_ms),
            };
            rotation::rotate(&data_dir, database_url.as_deref(), &options).await
        }),
        MasterKeyCommand::ForgetPrevious {
            data_dir,
            database_url,
        } => {
            run(async move { rotation::forget_previous(&data_dir, database_url.as_deref()).await })
        }
        MasterKeyCommand::Check { data_dir, keys } => {
            run(async move { Ok(resolve_keys(&data_dir, &keys, false)?.check()) })
        }
    }
}
