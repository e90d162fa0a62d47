//! `latchkey backup` and `latchkey restore`. A backup is a `VACUUM INTO`
//! copy (consistent while the server writes), checked and described by a
//! manifest; a restore checks the copy and the key before it writes
//! anything, and never replaces a database.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::data_dir::{create_data_dir, lock_data_dir, resolve_keys, KeyArgs, DATABASE_FILE};
use crate::auth::crypto::{replace_private_file, sync_parent, write_private_file};
use crate::store::backup::{inspect_copy, latest_schema_version, CopyReport};
use crate::store::Store;

/// What `FILE.manifest.json` says about a backup.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub created_at: String,
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    pub integrity: String,
    /// The highest migration applied.
    pub schema_version: i64,
    /// The check value of the master key the secrets are sealed under: a
    /// restore needs that key.
    pub master_key_check: Option<String>,
    pub row_counts: std::collections::BTreeMap<String, i64>,
}

/// `FILE` + `suffix`, beside it.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

pub fn manifest_path(backup: &Path) -> PathBuf {
    with_suffix(backup, ".manifest.json")
}

pub async fn backup(data_dir: &Path, to: &Path) -> anyhow::Result<Manifest> {
    if to.exists() {
        anyhow::bail!("{} exists; a backup never overwrites a file", to.display());
    }
    let store = Store::open_existing(&data_dir.join(DATABASE_FILE)).await?;
    // Written under a temporary name and linked into place when checked:
    // a crash or a failed check never leaves a FILE that looks complete.
    let partial = with_suffix(to, &format!(".partial-{}", std::process::id()));
    let _ = std::fs::remove_file(&partial);
    // SQLite writes into an existing empty file, keeping its mode: 0600.
    write_private_file(&partial, b"")?;
    let checked = async {
        store.vacuum_into(&partial).await?;
        let report = inspect_copy(&partial).await?;
        if report.integrity != "ok" {
            anyhow::bail!("the copy fails its integrity check: {}", report.integrity);
        }
        sync_file(&partial)?;
        std::fs::hard_link(&partial, to)
            .with_context(|| format!("moving the copy to {}", to.display()))?;
        anyhow::Ok(report)
    }
    .await;
    let _ = std::fs::remove_file(&partial);
    store.close().await;
    let report = checked?;
    sync_parent(to)?;
    let (bytes, sha256) = digest(to)?;
    let manifest = Manifest {
        created_at: crate::domain::format_time_ms(time::OffsetDateTime::now_utc()),
        file: to
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        bytes,
        sha256,
        integrity: report.integrity,
        schema_version: report.schema_version.unwrap_or(0),
        master_key_check: report.master_key_check,
        row_counts: report.row_counts,
    };
    replace_private_file(
        &manifest_path(to),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    Ok(manifest)
}

/// Restores `from` into `data_dir`: refuses a copy that fails its integrity
/// check, has a newer schema than this build, or was sealed under another
/// master key than the one given; refuses a directory that holds a
/// database. Writes a temporary file, syncs it, checks it again, and links
/// it into place (a link, unlike a rename, never replaces a file).
pub async fn restore(from: &Path, data_dir: &Path, keys: &KeyArgs) -> anyhow::Result<CopyReport> {
    create_data_dir(data_dir)?;
    let _lock = lock_data_dir(data_dir, true)?;
    let db = data_dir.join(DATABASE_FILE);
    for suffix in ["", "-wal", "-shm"] {
        let file = with_suffix(&db, suffix);
        if file.exists() {
            anyhow::bail!(
                "{} exists: restore never overwrites a database; move it (with its -wal and -shm) away first",
                file.display()
            );
        }
    }
    let key = resolve_keys(data_dir, keys, false)?;
    let report = inspect_copy(from).await?;
    if report.integrity != "ok" {
        anyhow::bail!(
            "{} fails its integrity check: {}",
            from.display(),
            report.integrity
        );
    }
    let latest = latest_schema_version();
    match report.schema_version {
        Some(v) if v > latest => anyhow::bail!(
            "{} has schema version {v}, newer than this latchkey knows ({latest})",
            from.display()
        ),
        None => anyhow::bail!(
            "{} is not a latchkey database (no migrations)",
            from.display()
        ),
        Some(_) => {}
    }
    match &report.master_key_check {
        Some(check) if key.accepts(check) => {}
        Some(check) => anyhow::bail!(
            "{} was sealed under master key {check}, but the key given has check {}; restore with the master key the backup was taken under",
            from.display(),
            key.check()
        ),
        None => anyhow::bail!(
            "{} carries no master-key check value; start this version's server on the database once, then back it up again",
            from.display()
        ),
    }

    let temp = data_dir.join(format!(".{DATABASE_FILE}.restore-{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let copied = async {
        copy_private(from, &temp)?;
        let again = inspect_copy(&temp).await?;
        if again.integrity != "ok" {
            anyhow::bail!(
                "the restored file fails its integrity check: {}",
                again.integrity
            );
        }
        std::fs::hard_link(&temp, &db).with_context(|| {
            format!(
                "{} appeared during the restore; nothing was overwritten",
                db.display()
            )
        })?;
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_file(&temp);
    copied?;
    sync_parent(&db)?;
    Ok(report)
}

/// Copies `from` into a new 0600 file and syncs it.
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    let mut source =
        std::fs::File::open(from).with_context(|| format!("opening {}", from.display()))?;
    write_private_file(to, b"")?;
    let mut target = std::fs::OpenOptions::new()
        .write(true)
        .open(to)
        .with_context(|| format!("opening {}", to.display()))?;
    std::io::copy(&mut source, &mut target)
        .with_context(|| format!("copying into {}", to.display()))?;
    target
        .sync_all()
        .with_context(|| format!("syncing {}", to.display()))
}

fn sync_file(path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", path.display()))
}

/// Size and SHA-256 (hex) of a file, read in chunks.
fn digest(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}
