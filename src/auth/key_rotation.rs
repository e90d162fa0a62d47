//! Master-key rotation, as the offline command (`latchkey master-key
//! rotate`) and the online endpoint (`POST /v1/master-key/rotate`) both do
//! it: the key files of the data directory, the re-seal of every secret in
//! audited batches, the check value stamped when none is left under
//! another key, and the test before the previous key may go.
//!
//! Resumable by construction: the secrets still to do are those whose
//! header names another key, and the database keeps the old check value
//! until the last one is done.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::crypto::{replace_private_file, sync_parent, MasterKey, KEY_FILE, PREVIOUS_KEY_FILE};
use crate::domain::audit::AuditEvent;
use crate::error::ApiResult;
use crate::store::master_key::SealedTable;
use crate::store::Store;

/// The action of every audit record of a rotation.
pub const ROTATE_ACTION: &str = "latchkey:RotateMasterKey";
/// The action of the record of forgetting the previous key.
pub const FORGET_ACTION: &str = "latchkey:ForgetPreviousMasterKey";

/// The key files of a data directory, read and checked. No `Debug`: they
/// hold key material.
pub struct KeyFiles {
    current_hex: String,
    previous_hex: Option<String>,
}

impl KeyFiles {
    pub fn read(data_dir: &Path) -> anyhow::Result<Self> {
        let current = data_dir.join(KEY_FILE);
        if !current.is_file() {
            anyhow::bail!(
                "no {} in {}: rotation manages the key files of the data directory (a key given with --master-key is not rotated here)",
                KEY_FILE,
                data_dir.display()
            );
        }
        let read = |p: &Path| -> anyhow::Result<String> {
            let text = std::fs::read_to_string(p)?;
            MasterKey::from_hex(&text)?;
            Ok(text.trim().to_string())
        };
        let previous = data_dir.join(PREVIOUS_KEY_FILE);
        let previous_hex = if previous.is_file() {
            Some(read(&previous)?)
        } else {
            None
        };
        Ok(KeyFiles {
            current_hex: read(&current)?,
            previous_hex,
        })
    }

    pub fn current(&self) -> anyhow::Result<MasterKey> {
        MasterKey::from_hex(&self.current_hex)
    }

    pub fn has_previous(&self) -> bool {
        self.previous_hex.is_some()
    }
}

/// Starts a rotation of the data directory's key files, or picks up the
/// one they show unfinished: returns the keys to re-seal with (the new key
/// current, the old one previous). A fresh start saves the old key as
/// `master.key.previous` before `master.key` changes, so a crash in
/// between leaves the same key in both files, read here as "not started".
pub fn begin_file_rotation(data_dir: &Path) -> anyhow::Result<MasterKey> {
    let files = KeyFiles::read(data_dir)?;
    let current = files.current()?;
    match &files.previous_hex {
        None => {
            replace_private_file(
                &data_dir.join(PREVIOUS_KEY_FILE),
                files.current_hex.as_bytes(),
            )?;
            start_new_key(data_dir, current)
        }
        Some(previous_hex) => {
            let previous = MasterKey::from_hex(previous_hex)?;
            if previous.check() == current.check() {
                start_new_key(data_dir, previous)
            } else {
                Ok(current.with_previous(previous))
            }
        }
    }
}

/// Writes a fresh `master.key` and returns it with `previous` as previous.
fn start_new_key(data_dir: &Path, previous: MasterKey) -> anyhow::Result<MasterKey> {
    let new_hex = MasterKey::generate_hex();
    replace_private_file(&data_dir.join(KEY_FILE), new_hex.as_bytes())?;
    Ok(MasterKey::from_hex(&new_hex)?.with_previous(previous))
}

/// Deletes `master.key.previous`, durably.
pub fn remove_previous_file(data_dir: &Path) -> anyhow::Result<()> {
    let path = data_dir.join(PREVIOUS_KEY_FILE);
    if path.exists() {
        std::fs::remove_file(&path)?;
        sync_parent(&path)?;
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct ResealOptions {
    /// Secrets re-sealed per transaction.
    pub batch_size: i64,
    /// Pause between batches, leaving the write lock to requests.
    pub batch_pause: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct ResealOutcome {
    pub resealed: u64,
    /// The database was already stamped with the current key's check.
    pub finished_before: bool,
}

/// Re-seals every secret not under `keys`' current key, in audited batches
/// (`base` cloned for each, with the table, both checks and the count),
/// calling `progress` after each; then stamps the database with the
/// current key's check. The stamp's transaction first re-seals whatever a
/// write committed since the last count: sealing happens inside the write
/// transactions (IMMEDIATE), so once the stamp commits nothing can appear
/// under the old key.
pub async fn reseal_all(
    store: &Store,
    keys: &MasterKey,
    base: &AuditEvent,
    options: &ResealOptions,
    mut progress: impl FnMut(u64),
) -> ApiResult<ResealOutcome> {
    let new_check = keys.check();
    let old_check = keys.previous_check().unwrap_or_default();
    let finished_before = store.master_key_check().await?.as_deref() == Some(new_check.as_str());
    let header = keys.current_header();
    let batch_size = options.batch_size.max(1);
    let mut resealed = 0u64;
    for table in SealedTable::ALL {
        while store.count_sealed_elsewhere(table, &header).await? > 0 {
            let mut event = base.clone();
            event.set_param("table", json!(table.name()));
            event.set_param("from_key_check", json!(old_check));
            event.set_param("to_key_check", json!(new_check));
            let n = store
                .audited(event, async |tx| {
                    let n = reseal_batch(tx, keys, table, &header, batch_size).await?;
                    tx.event().set_param("resealed", json!(n));
                    Ok(n)
                })
                .await?;
            resealed += n;
            progress(resealed);
            if !options.batch_pause.is_zero() {
                tokio::time::sleep(options.batch_pause).await;
            }
        }
    }
    if !finished_before {
        let mut event = base.clone();
        event.set_param("from_key_check", json!(old_check));
        event.set_param("to_key_check", json!(new_check));
        event.set_param("completed", json!(true));
        let late = store
            .audited(event, async |tx| {
                let mut late = 0;
                for table in SealedTable::ALL {
                    loop {
                        let n = reseal_batch(tx, keys, table, &header, batch_size).await?;
                        late += n;
                        if n == 0 {
                            break;
                        }
                    }
                }
                if late > 0 {
                    tx.event().set_param("resealed", json!(late));
                }
                tx.set_master_key_check(&new_check).await?;
                Ok(late)
            })
            .await?;
        resealed += late;
        progress(resealed);
    }
    Ok(ResealOutcome {
        resealed,
        finished_before,
    })
}

async fn reseal_batch(
    tx: &mut crate::store::audit::AuditTx,
    keys: &MasterKey,
    table: SealedTable,
    header: &[u8],
    limit: i64,
) -> ApiResult<u64> {
    let rows = tx.sealed_elsewhere(table, header, limit).await?;
    for row in &rows {
        let sealed = keys.reseal(&row.access_key_id, &row.secret_ciphertext)?;
        tx.replace_sealed(table, row, &sealed).await?;
    }
    Ok(rows.len() as u64)
}

/// What keeps the previous key from being forgotten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unfinished {
    /// The database is stamped with another check than the current key's.
    Stamp(String),
    /// Secrets of a table are not sealed under the current key.
    Left(SealedTable, i64),
}

/// Secrets not sealed under `keys`' current key, per table.
pub async fn sealed_elsewhere(
    store: &Store,
    keys: &MasterKey,
) -> ApiResult<Vec<(SealedTable, i64)>> {
    let header = keys.current_header();
    let mut counts = Vec::with_capacity(SealedTable::ALL.len());
    for table in SealedTable::ALL {
        counts.push((table, store.count_sealed_elsewhere(table, &header).await?));
    }
    Ok(counts)
}

/// Whether the rotation to `keys`' current key is done: the database
/// stamped with its check and every secret sealed under it.
pub async fn unfinished(store: &Store, keys: &MasterKey) -> ApiResult<Option<Unfinished>> {
    let stored = store.master_key_check().await?.unwrap_or_default();
    if stored != keys.check() {
        return Ok(Some(Unfinished::Stamp(stored)));
    }
    Ok(sealed_elsewhere(store, keys)
        .await?
        .into_iter()
        .find(|(_, n)| *n > 0)
        .map(|(table, n)| Unfinished::Left(table, n)))
}

/// The audit record of forgetting the key whose check is `previous_check`.
pub fn forget_event(base: AuditEvent, previous_check: &str) -> AuditEvent {
    let mut event = base;
    event.set_param("key_check", json!(previous_check));
    event
}
