//! Offline master-key rotation. The new key becomes `master.key` and the
//! old one `master.key.previous`; every sealed secret is then re-sealed in
//! batches, each one audited transaction; the database's check value
//! changes only when none is left under another key. An interrupted run
//! (killed, crashed) is finished by running it again: the secrets still to
//! do are those whose header names another key.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::{api, lock_data_dir, verify_master_key, DATABASE_FILE};
use crate::audit::AuditEvent;
use crate::auth::crypto::{
    replace_private_file, sync_parent, MasterKey, KEY_FILE, PREVIOUS_KEY_FILE,
};
use crate::store::master_key::SealedTable;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct RotateOptions {
    pub batch_size: i64,
    pub batch_pause: Duration,
}

const AUDIT_ACTION: &str = "latchkey:RotateMasterKey";

/// The data directory's lock, and the store: `database_url` (PostgreSQL)
/// when given, else the SQLite file of the data directory. On PostgreSQL
/// the lock holds off only a server sharing this data directory: stop
/// every node first.
async fn open_offline(
    data_dir: &Path,
    database_url: Option<&str>,
) -> anyhow::Result<(std::fs::File, Store)> {
    let lock = lock_data_dir(data_dir, true)?;
    if let Some(url) = database_url {
        return Ok((
            lock,
            Store::open_url(url, crate::store::wal::DEFAULT_CHECKPOINT_BYTES).await?,
        ));
    }
    let db = data_dir.join(DATABASE_FILE);
    if !db.is_file() {
        anyhow::bail!("no database at {}", db.display());
    }
    let store = Store::open(&db).await?;
    Ok((lock, store))
}

fn key_files(data_dir: &Path) -> anyhow::Result<(String, Option<String>)> {
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
    let previous = if previous.is_file() {
        Some(read(&previous)?)
    } else {
        None
    };
    Ok((read(&current)?, previous))
}

pub async fn rotate(
    data_dir: &Path,
    database_url: Option<&str>,
    options: &RotateOptions,
) -> anyhow::Result<String> {
    let (_lock, store) = open_offline(data_dir, database_url).await?;
    let (current_hex, previous_hex) = key_files(data_dir)?;
    let current = MasterKey::from_hex(&current_hex)?;
    let keys = match previous_hex {
        None => {
            // Stamps a database that has no check value yet.
            verify_master_key(&store, &current).await?;
            let stored = store.master_key_check().await.map_err(api)?;
            if stored.as_deref() != Some(current.check().as_str()) {
                anyhow::bail!(current.mismatch(stored.as_deref().unwrap_or("")));
            }
            // The old key is saved before master.key changes: a crash in
            // between leaves the same key in both files, which the next run
            // takes as "not started".
            replace_private_file(&data_dir.join(PREVIOUS_KEY_FILE), current_hex.as_bytes())?;
            start_new_key(data_dir, current)?
        }
        Some(previous_hex) => {
            let previous = MasterKey::from_hex(&previous_hex)?;
            if previous.check() == current.check() {
                start_new_key(data_dir, previous)?
            } else {
                current.with_previous(previous)
            }
        }
    };
    let (new_check, old_check) = (keys.check(), keys.previous_check().unwrap_or_default());
    let stored = store.master_key_check().await.map_err(api)?;
    match stored.as_deref() {
        Some(s) if keys.accepts(s) => {}
        Some(s) => anyhow::bail!(keys.mismatch(s)),
        None => anyhow::bail!("the database has no master-key check value"),
    }
    let finished_before = stored.as_deref() == Some(new_check.as_str());

    let header = keys.current_header();
    let mut resealed = 0usize;
    for table in SealedTable::ALL {
        while store
            .count_sealed_elsewhere(table, &header)
            .await
            .map_err(api)?
            > 0
        {
            let event = AuditEvent::system(AUDIT_ACTION, "master-key").params(json!({
                "table": table.name(),
                "from_key_check": old_check,
                "to_key_check": new_check,
            }));
            let keys = &keys;
            let header = &header;
            let n = store
                .audited(event, async |tx| {
                    let rows = tx
                        .sealed_elsewhere(table, header, options.batch_size)
                        .await?;
                    for row in &rows {
                        let sealed = keys.reseal(&row.access_key_id, &row.secret_ciphertext)?;
                        tx.replace_sealed(table, row, &sealed).await?;
                    }
                    tx.event().set_param("resealed", json!(rows.len()));
                    Ok(rows.len())
                })
                .await
                .map_err(api)?;
            resealed += n;
            if !options.batch_pause.is_zero() {
                tokio::time::sleep(options.batch_pause).await;
            }
        }
    }
    if !finished_before {
        let event = AuditEvent::system(AUDIT_ACTION, "master-key").params(json!({
            "from_key_check": old_check,
            "to_key_check": new_check,
            "completed": true,
        }));
        store
            .audited(event, async |tx| tx.set_master_key_check(&new_check).await)
            .await
            .map_err(api)?;
    }
    store.close().await;
    Ok(if finished_before && resealed == 0 {
        format!(
            "the rotation to master key {new_check} is already complete; run `latchkey master-key forget-previous` before rotating again"
        )
    } else {
        format!(
            "master key rotated: {resealed} secret(s) re-sealed under master key {new_check}; the previous key ({old_check}) stays in {PREVIOUS_KEY_FILE} until `latchkey master-key forget-previous`"
        )
    })
}

/// Writes a fresh `master.key` and returns it with `previous` as previous.
fn start_new_key(data_dir: &Path, previous: MasterKey) -> anyhow::Result<MasterKey> {
    let new_hex = MasterKey::generate_hex();
    replace_private_file(&data_dir.join(KEY_FILE), new_hex.as_bytes())?;
    Ok(MasterKey::from_hex(&new_hex)?.with_previous(previous))
}

/// Removes `master.key.previous` once the database is stamped with the
/// current key and no secret is sealed under another.
pub async fn forget_previous(
    data_dir: &Path,
    database_url: Option<&str>,
) -> anyhow::Result<String> {
    let (_lock, store) = open_offline(data_dir, database_url).await?;
    let (current_hex, previous_hex) = key_files(data_dir)?;
    let Some(previous_hex) = previous_hex else {
        return Ok(format!("no {PREVIOUS_KEY_FILE}: nothing to forget"));
    };
    let current = MasterKey::from_hex(&current_hex)?;
    let previous_check = MasterKey::from_hex(&previous_hex)?.check();
    let stored = store.master_key_check().await.map_err(api)?;
    if stored.as_deref() != Some(current.check().as_str()) {
        anyhow::bail!(
            "the rotation to master key {} is unfinished (the database is stamped {}); run `latchkey master-key rotate` to finish it",
            current.check(),
            stored.unwrap_or_default()
        );
    }
    let header = current.current_header();
    for table in SealedTable::ALL {
        let left = store
            .count_sealed_elsewhere(table, &header)
            .await
            .map_err(api)?;
        if left > 0 {
            anyhow::bail!(
                "{left} secret(s) in {} are not sealed under master key {}; run `latchkey master-key rotate` to finish the rotation",
                table.name(),
                current.check()
            );
        }
    }
    let path = data_dir.join(PREVIOUS_KEY_FILE);
    std::fs::remove_file(&path)?;
    sync_parent(&path)?;
    let event = AuditEvent::system("latchkey:ForgetPreviousMasterKey", "master-key")
        .params(json!({ "key_check": previous_check }));
    store
        .audited(event, async |_tx| Ok(()))
        .await
        .map_err(api)?;
    store.close().await;
    Ok(format!(
        "forgot the previous master key ({previous_check}); every secret is sealed under {}",
        current.check()
    ))
}
