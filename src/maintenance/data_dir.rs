//! What the maintenance commands share, and the server with them: the
//! data directory's files and lock, the master key to run with and its
//! check against the database, and how a command runs and reports.

use std::fs::File;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Context as _};
use clap::Args;
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
