//! Offline master-key rotation. The new key becomes `master.key` and the
//! old one `master.key.previous`; every sealed secret is then re-sealed in
//! batches, each one audited transaction; the database's check value
//! changes only when none is left under another key. An interrupted run
//! (killed, crashed) is finished by running it again: the secrets still to
//! do are those whose header names another key.

use std::path::Path;

use super::data_dir::{api, lock_data_dir, verify_master_key, DATABASE_FILE};
use crate::audit::AuditEvent;
use crate::auth::crypto::PREVIOUS_KEY_FILE;
use crate::auth::key_rotation::{
    begin_file_rotation, forget_event, remove_previous_file, reseal_all, unfinished, KeyFiles,
    ResealOptions, Unfinished, FORGET_ACTION, ROTATE_ACTION,
};
use crate::store::{Store, StoreError};

pub type RotateOptions = ResealOptions;

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

pub async fn rotate(
    data_dir: &Path,
    database_url: Option<&str>,
    options: &RotateOptions,
) -> anyhow::Result<String> {
    let (_lock, store) = open_offline(data_dir, database_url).await?;
    let files = KeyFiles::read(data_dir)?;
    if !files.has_previous() {
        // Stamps a database that has no check value yet, and refuses one
        // sealed under another key before any file changes.
        let current = files.current()?;
        verify_master_key(&store, &current).await?;
        let stored = store.master_key_check().await.map_err(api)?;
        if stored.as_deref() != Some(current.check().as_str()) {
            anyhow::bail!(current.mismatch(stored.as_deref().unwrap_or("")));
        }
    }
    let keys = begin_file_rotation(data_dir)?;
    let (new_check, old_check) = (keys.check(), keys.previous_check().unwrap_or_default());
    match store.master_key_check().await.map_err(api)?.as_deref() {
        Some(s) if keys.accepts(s) => {}
        Some(s) => anyhow::bail!(keys.mismatch(s)),
        None => anyhow::bail!("the database has no master-key check value"),
    }
    let base = AuditEvent::system(ROTATE_ACTION, "master-key");
    let outcome = reseal_all(&store, &keys, &base, options, |_| {})
        .await
        .map_err(api)?;
    store.close().await;
    Ok(if outcome.finished_before && outcome.resealed == 0 {
        format!(
            "the rotation to master key {new_check} is already complete; run `latchkey master-key forget-previous` before rotating again"
        )
    } else {
        format!(
            "master key rotated: {} secret(s) re-sealed under master key {new_check}; the previous key ({old_check}) stays in {PREVIOUS_KEY_FILE} until `latchkey master-key forget-previous`",
            outcome.resealed
        )
    })
}

/// Removes `master.key.previous` once the database is stamped with the
/// current key and no secret is sealed under another.
pub async fn forget_previous(
    data_dir: &Path,
    database_url: Option<&str>,
) -> anyhow::Result<String> {
    let (_lock, store) = open_offline(data_dir, database_url).await?;
    let files = KeyFiles::read(data_dir)?;
    if !files.has_previous() {
        return Ok(format!("no {PREVIOUS_KEY_FILE}: nothing to forget"));
    }
    let keys = crate::maintenance::resolve_keys(data_dir, &Default::default(), false)?;
    let current = keys.check();
    let previous_check = keys.previous_check().unwrap_or_default();
    match unfinished(&store, &keys).await.map_err(api)? {
        None => {}
        Some(Unfinished::Stamp(stored)) => anyhow::bail!(
            "the rotation to master key {current} is unfinished (the database is stamped {stored}); run `latchkey master-key rotate` to finish it"
        ),
        Some(Unfinished::Left(table, left)) => anyhow::bail!(
            "{left} secret(s) in {} are not sealed under master key {current}; run `latchkey master-key rotate` to finish the rotation",
            table.name()
        ),
    }
    remove_previous_file(data_dir)?;
    let event = forget_event(
        AuditEvent::system(FORGET_ACTION, "master-key"),
        &previous_check,
    );
    store
        .audited(event, async |_tx| Ok::<_, StoreError>(()))
        .await
        .map_err(api)?;
    store.close().await;
    Ok(format!(
        "forgot the previous master key ({previous_check}); every secret is sealed under {current}"
    ))
}
