//! Keeping a data directory: online backup, verified restore, the
//! master key (its check value at start, offline rotation), and the move
//! from SQLite to PostgreSQL. The `latchkey backup`, `restore`,
//! `master-key` and `store` commands are defined here; the SQL they need
//! is in `store::backup`, `store::master_key` and `store::copy`.

pub mod backup;
pub mod copy;
pub mod rotation;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::audit::AuditEvent;
use crate::auth::crypto::{MasterKey, KEY_FILE, PREVIOUS_KEY_FILE};
use crate::error::ApiError;
use crate::store::Store;

/// The database file in a data directory.
pub const DATABASE_FILE: &str = "latchkey.db";
/// Held shared by a running server and exclusively by the offline commands
/// (restore, rotate, forget-previous), so that those refuse to run under a
/// server instead of racing it.
pub const LOCK_FILE: &str = "latchkey.lock";

#[derive(Debug, Clone, Default, Args)]
pub struct KeyArgs {
    /// Hex-encoded 32-byte master key; otherwise `master.key` in the data dir.
    #[arg(long, env = "LATCHKEY_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// Hex-encoded previous master key (during a rotation); otherwise
    /// `master.key.previous` when the key comes from the data dir.
    #[arg(long, env = "LATCHKEY_PREVIOUS_MASTER_KEY", hide_env_values = true)]
    pub previous_master_key: Option<String>,
}

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

/// Runs `future` on a small runtime of its own and maps the outcome to an
/// exit code: 0, or 1 with the reason on stderr.
pub(crate) fn run(future: impl std::future::Future<Output = anyhow::Result<String>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(future) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
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

/// The keys to run with: `--master-key` (or its variable) and
/// `--previous-master-key`, else `master.key` in the data directory, created
/// on first start when `create`, with `master.key.previous` beside it.
pub fn resolve_keys(data_dir: &Path, keys: &KeyArgs, create: bool) -> anyhow::Result<MasterKey> {
    let key = match &keys.master_key {
        Some(hex_key) => MasterKey::from_hex(hex_key)?,
        None if create => MasterKey::load_or_create(data_dir)?,
        None => {
            let path = data_dir.join(KEY_FILE);
            if !path.is_file() {
                anyhow::bail!(
                    "no master key: put the {KEY_FILE} the database was sealed under into {}, or pass --master-key",
                    data_dir.display()
                );
            }
            let key = MasterKey::read_file(&path)?;
            let previous = data_dir.join(PREVIOUS_KEY_FILE);
            if previous.is_file() {
                key.with_previous(MasterKey::read_file(&previous)?)
            } else {
                key
            }
        }
    };
    Ok(match &keys.previous_master_key {
        Some(hex_key) => key.with_previous(MasterKey::from_hex(hex_key)?),
        None => key,
    })
}

/// Checks at start that the database's secrets are sealed under `key` and
/// refuses with both check values when they are not; a database without a
/// check value yet (new, or from before checks were kept) is stamped with
/// the key's, after one of its secrets, if any, opened under it.
pub async fn verify_master_key(store: &Store, key: &MasterKey) -> anyhow::Result<()> {
    match store.master_key_check().await.map_err(api)? {
        Some(stored) if key.accepts(&stored) => {
            if stored != key.check() {
                tracing::warn!(
                    key_check = %key.check(),
                    "a master-key rotation is unfinished: a server on master.key finishes it in the background; with keys given by flag, once every node holds both, call POST /v1/master-key/rotate with {{\"reseal_only\": true}} (or run `latchkey master-key rotate` with the server stopped)"
                );
            }
            Ok(())
        }
        Some(stored) => Err(anyhow!(key.mismatch(&stored))),
        None => {
            if let Some(secret) = store.any_sealed_secret().await.map_err(api)? {
                if key
                    .open(&secret.access_key_id, &secret.secret_ciphertext)
                    .is_err()
                {
                    anyhow::bail!(
                        "the secrets in this database do not open under the master key given (check {}); start with the key the database was sealed under",
                        key.check()
                    );
                }
            }
            let check = key.check();
            let event = AuditEvent::system("latchkey:SetMasterKeyCheck", "master-key")
                .params(json!({ "key_check": check }));
            store
                .audited(event, async |tx| tx.set_master_key_check(&check).await)
                .await
                .map_err(api)?;
            Ok(())
        }
    }
}

/// An error as the offline commands print it: what a client would read.
pub(crate) fn api(e: impl Into<ApiError>) -> anyhow::Error {
    anyhow!("{}", e.into())
}

/// Takes the data directory's lock: shared for a server, exclusive for the
/// offline commands. Released when the file is dropped (or the process dies).
pub fn lock_data_dir(data_dir: &Path, exclusive: bool) -> anyhow::Result<File> {
    let path = data_dir.join(LOCK_FILE);
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    let locked = if exclusive {
        file.try_lock()
    } else {
        file.try_lock_shared()
    };
    match locked {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) if exclusive => Err(anyhow!(
            "a latchkey server or command is using {}; stop it first",
            data_dir.display()
        )),
        Err(std::fs::TryLockError::WouldBlock) => Err(anyhow!(
            "an offline latchkey command (restore or master-key) is working on {}",
            data_dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(anyhow::Error::new(e).context(format!("locking {}", path.display())))
        }
    }
}

/// The data directory, private to the server's user.
pub(crate) fn create_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", dir.display()))?;
    }
    Ok(())
}
