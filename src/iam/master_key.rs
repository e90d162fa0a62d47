//! The master key, online: its status, a rotation that re-seals every
//! secret in the background while the server serves, and forgetting the
//! previous key. For the management account's principals allowed the
//! `latchkey:*MasterKey*` actions (its root is).
//!
//! The key files and the batched re-seal are `auth::key_rotation`'s, the
//! same code the offline `latchkey master-key` command runs.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tokio::sync::OwnedMutexGuard;
use utoipa::ToSchema;

use crate::audit::{audited, AuditEvent};
use crate::auth::crypto::MasterKey;
use crate::auth::key_ring::{KeySource, RotationRun, RunState};
use crate::auth::key_rotation::{
    begin_file_rotation, forget_event, remove_previous_file, reseal_all, sealed_elsewhere,
    unfinished, KeyFiles, ResealOptions, Unfinished, FORGET_ACTION, ROTATE_ACTION,
};
use crate::auth::Caller;
use crate::domain::now;
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;
use crate::store::master_key::SealedTable;

pub const STATUS_ACTION: &str = "latchkey:GetMasterKeyStatus";
const RESOURCE: &str = "master-key";

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// Re-seal under the key the server already holds as current, without
    /// making a new one: the last step of a rotation by rolling restart
    /// (keys given with `--master-key NEW --previous-master-key OLD`).
    #[serde(default)]
    pub reseal_only: bool,
}

/// What `GET /v1/master-key` reports: check values only, never a key.
#[derive(Debug, Clone)]
pub struct MasterKeyStatus {
    pub current_key_check: String,
    pub previous_key_check: Option<String>,
    pub database_key_check: Option<String>,
    pub key_source: &'static str,
    /// Per table, the secrets not sealed under the current key.
    pub sealed_elsewhere: Vec<(SealedTable, i64)>,
    pub rotation: Option<RotationRun>,
}

const GIVEN_KEY: &str = "This server's master key was given by --master-key (LATCHKEY_MASTER_KEY, or the settings file), which the server cannot rewrite. Rotate it by a rolling restart: restart every node with --master-key NEW --previous-master-key OLD, then call POST /v1/master-key/rotate with {\"reseal_only\": true}; once GET /v1/master-key shows no secret under the previous key, call POST /v1/master-key/forget-previous and drop --previous-master-key at the next restart.";

/// Only the management account's principals manage the master key; among
/// them, those its policies allow `action` (its root always).
async fn authorize_management(state: &OpContext, caller: &Caller, action: &str) -> ApiResult<()> {
    if !caller.is_management_account {
        crate::audit::denied(state, caller, action, RESOURCE);
        return Err(ApiError::AccessDenied(format!(
            "User: {} is not authorized to perform: {action} on resource: * because only the management account manages the master key",
            caller.arn
        )));
    }
    super::authorize(state, caller, action, "*").await
}

fn running() -> ApiError {
    ApiError::conflict(
        "ConcurrentModification",
        "A master-key rotation (or forget-previous) is already running; see GET /v1/master-key.",
    )
}

pub async fn status(state: &OpContext, caller: &Caller) -> ApiResult<MasterKeyStatus> {
    authorize_management(state, caller, STATUS_ACTION).await?;
    read_status(state).await
}

async fn read_status(state: &OpContext) -> ApiResult<MasterKeyStatus> {
    let ring = &state.master_key;
    let keys = ring.snapshot();
    // The run before the database: a run seen completed has committed its
    // stamp, so the stamp read next is the new one. Read the other way
    // round, a run ending in between showed "completed" beside the old
    // stamp.
    let rotation = ring.last_run();
    Ok(MasterKeyStatus {
        current_key_check: keys.check(),
        previous_key_check: keys.previous_check(),
        database_key_check: state.store.master_key_check().await?,
        key_source: match ring.source() {
            KeySource::DataDir(_) => "data_dir",
            KeySource::Given => "configuration",
        },
        sealed_elsewhere: sealed_elsewhere(&state.store, &keys).await?,
        rotation,
    })
}

/// Starts a rotation (or a re-seal, or resumes an unfinished one) and
/// returns at once; the re-seal runs in the background.
pub async fn rotate(
    state: &OpContext,
    caller: &Caller,
    req: RotateRequest,
) -> ApiResult<MasterKeyStatus> {
    authorize_management(state, caller, ROTATE_ACTION).await?;
    let ring = &state.master_key;
    let data_dir = match ring.source() {
        KeySource::DataDir(dir) => Some(dir.clone()),
        KeySource::Given => None,
    };
    let data_dir = match (req.reseal_only, data_dir) {
        (true, _) => None,
        (false, Some(dir)) => Some(dir),
        (false, None) => return Err(ApiError::conflict("MasterKeyGiven", GIVEN_KEY)),
    };
    let busy = ring.try_busy().ok_or_else(running)?;
    let held = ring.snapshot();
    let id = uuid::Uuid::new_v4().to_string();
    let resumed = !req.reseal_only && held.previous_check().is_some();
    if resumed && unfinished(&state.store, &held).await?.is_none() {
        return Err(ApiError::conflict(
            "PreviousMasterKeyHeld",
            format!(
                "The rotation to master key {} is complete; forget the previous key ({}) with POST /v1/master-key/forget-previous before rotating again.",
                held.check(),
                held.previous_check().unwrap_or_default()
            ),
        ));
    }
    if let (Some(dir), false) = (&data_dir, resumed) {
        check_key_files(state, dir, &held).await?;
    }
    let start = AuditEvent::by(caller, ROTATE_ACTION, RESOURCE).params(json!({
        "rotation_id": id,
        "reseal_only": req.reseal_only,
        "resumed": resumed,
        "from_key_check": held.check(),
    }));
    // Recorded before any file changes: a rotation nobody can trace does
    // not start.
    audited(state, start.clone(), async |tx| {
        tx.event().set_param("started", json!(true));
        Ok::<_, ApiError>(())
    })
    .await?;
    let keys = match data_dir {
        Some(dir) if !resumed => Arc::new(start_file_rotation(state, &dir, &held)?),
        _ => held,
    };
    let run = RotationRun {
        id,
        reseal_only: req.reseal_only,
        resumed,
        state: RunState::Running,
        from_key_check: keys.previous_check(),
        to_key_check: keys.check(),
        resealed: 0,
        started_at: now(),
        finished_at: None,
        error: None,
    };
    spawn_run(state, busy, keys, start, run);
    read_status(state).await
}

/// Refuses to rotate files that no longer hold the key this server runs
/// on (changed by hand, or by an offline command run without the lock).
async fn check_key_files(
    state: &OpContext,
    dir: &std::path::Path,
    held: &MasterKey,
) -> ApiResult<()> {
    let stored = state.store.master_key_check().await?;
    let files = KeyFiles::read(dir).map_err(ApiError::Unexpected)?;
    let on_disk = files.current().map_err(ApiError::Unexpected)?.check();
    if files.has_previous() || on_disk != held.check() || stored.as_deref() != Some(&held.check()) {
        return Err(ApiError::conflict(
            "MasterKeyFilesChanged",
            format!(
                "The key files in the data directory (master.key {on_disk}) or the database (stamped {}) no longer match the key this server holds ({}); restart the server to pick them up.",
                stored.unwrap_or_default(),
                held.check()
            ),
        ));
    }
    Ok(())
}

/// Writes the new key files (as the offline command does) and swaps the
/// server's keys: from here on every seal uses the new key, and both open.
fn start_file_rotation(
    state: &OpContext,
    dir: &std::path::Path,
    held: &MasterKey,
) -> ApiResult<MasterKey> {
    let keys = begin_file_rotation(dir).map_err(ApiError::Unexpected)?;
    state.master_key.replace(keys.clone());
    tracing::info!(
        from_key_check = %held.check(),
        to_key_check = %keys.check(),
        "master key rotated online; re-sealing in the background"
    );
    Ok(keys)
}

/// Re-seals in the background, holding the rotation lock until done.
fn spawn_run(
    state: &OpContext,
    busy: OwnedMutexGuard<()>,
    keys: Arc<MasterKey>,
    base: AuditEvent,
    run: RotationRun,
) {
    let ring = state.master_key.clone();
    let store = state.store.clone();
    let options = ResealOptions {
        batch_size: state.config.rotate_batch_size.max(1),
        batch_pause: Duration::from_millis(state.config.rotate_batch_pause_ms),
    };
    let id = run.id.clone();
    ring.update_run(|slot| *slot = Some(run));
    let task_ring = ring.clone();
    let task = tokio::spawn(async move {
        let _busy = busy;
        let ring = task_ring;
        let update = |f: &dyn Fn(&mut RotationRun)| {
            ring.update_run(|slot| {
                if let Some(run) = slot.as_mut().filter(|r| r.id == id) {
                    f(run);
                }
            });
        };
        let outcome = reseal_all(&store, &keys, &base, &options, |n| {
            update(&|run| run.resealed = n)
        })
        .await;
        match outcome {
            Ok(outcome) => {
                tracing::info!(key_check = %keys.check(), resealed = outcome.resealed, "master-key re-seal complete");
                update(&|run| {
                    run.state = RunState::Completed;
                    run.resealed = outcome.resealed;
                    run.finished_at = Some(now());
                });
            }
            Err(e) => {
                tracing::error!(error = ?e, key_check = %keys.check(), "master-key re-seal failed; POST /v1/master-key/rotate resumes it");
                let message = e.to_string();
                update(&|run| {
                    run.state = RunState::Failed;
                    run.finished_at = Some(now());
                    run.error = Some(message.clone());
                });
            }
        }
    });
    ring.set_task(task.abort_handle());
}

/// At start, on keys from the data directory: finishes a rotation that a
/// stop, a crash or a failed batch left unfinished. Keys given by flag are
/// left alone: other nodes may not hold the new key yet.
pub async fn resume_at_start(state: &OpContext) -> anyhow::Result<()> {
    let ring = &state.master_key;
    let keys = ring.snapshot();
    if !matches!(ring.source(), KeySource::DataDir(_)) || keys.previous_check().is_none() {
        return Ok(());
    }
    if unfinished(&state.store, &keys)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .is_none()
    {
        return Ok(());
    }
    let busy = ring
        .try_busy()
        .ok_or_else(|| anyhow::anyhow!("the rotation lock is taken at start"))?;
    let id = uuid::Uuid::new_v4().to_string();
    tracing::info!(key_check = %keys.check(), "resuming an unfinished master-key rotation");
    let base = AuditEvent::system(ROTATE_ACTION, RESOURCE)
        .params(json!({ "rotation_id": id, "resumed": true }));
    let run = RotationRun {
        id,
        reseal_only: false,
        resumed: true,
        state: RunState::Running,
        from_key_check: keys.previous_check(),
        to_key_check: keys.check(),
        resealed: 0,
        started_at: now(),
        finished_at: None,
        error: None,
    };
    spawn_run(state, busy, keys, base, run);
    Ok(())
}

/// Drops the previous key (and `master.key.previous`) once the database
/// is stamped with the current key and nothing is sealed under another.
pub async fn forget_previous(state: &OpContext, caller: &Caller) -> ApiResult<MasterKeyStatus> {
    authorize_management(state, caller, FORGET_ACTION).await?;
    let ring = &state.master_key;
    let _busy = ring.try_busy().ok_or_else(running)?;
    let held = ring.snapshot();
    let Some(previous_check) = held.previous_check() else {
        return read_status(state).await;
    };
    match unfinished(&state.store, &held).await? {
        None => {}
        Some(Unfinished::Stamp(stored)) => {
            return Err(ApiError::DeleteConflict(format!(
                "The rotation to master key {} is unfinished (the database is stamped {stored}); finish it with POST /v1/master-key/rotate first.",
                held.check()
            )))
        }
        Some(Unfinished::Left(table, left)) => {
            return Err(ApiError::DeleteConflict(format!(
                "{left} secret(s) in {} are not sealed under master key {}; finish the rotation with POST /v1/master-key/rotate first.",
                table.name(),
                held.check()
            )))
        }
    }
    let event = forget_event(
        AuditEvent::by(caller, FORGET_ACTION, RESOURCE),
        &previous_check,
    );
    let source = ring.source().clone();
    audited(state, event, async |_tx| {
        if let KeySource::DataDir(dir) = &source {
            remove_previous_file(dir).map_err(ApiError::Unexpected)?;
        }
        Ok::<_, ApiError>(())
    })
    .await?;
    ring.replace(held.current_only());
    tracing::info!(key_check = %previous_check, "forgot the previous master key");
    read_status(state).await
}
