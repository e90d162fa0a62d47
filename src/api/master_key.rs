//! /v1/master-key: the master key's status, online rotation and forgetting
//! the previous key (management account only). Check values only: no
//! reply carries key material.

use actix_web::{get, post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::key_ring::RotationRun;
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam;
use crate::iam::master_key::{MasterKeyStatus, RotateRequest};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_master_key)
        .service(rotate_master_key)
        .service(forget_previous_master_key);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MasterKeyStatusResponse {
    /// The check value of the key that seals (16 hex digits of
    /// HMAC-SHA256(key, "latchkey master key check v1")): names the key,
    /// reveals nothing of it.
    #[schema(example = "3f9a0c1b2d4e5f60")]
    pub current_key_check: String,
    /// The check value of the key kept to open what is not re-sealed yet.
    pub previous_key_check: Option<String>,
    /// The check value the database is stamped with: the current key's
    /// once every secret is sealed under it.
    pub database_key_check: Option<String>,
    /// `data_dir` (`master.key` files, rotated by the server) or
    /// `configuration` (`--master-key`: a rolling restart, then
    /// `reseal_only`).
    #[schema(example = "data_dir")]
    pub key_source: String,
    /// Secrets not yet sealed under the current key (under the previous
    /// one), all tables.
    pub secrets_under_previous_key: i64,
    /// The same, per table (`access_keys`, `role_sessions`).
    pub sealed_elsewhere: Vec<SealedCount>,
    /// The last re-seal run since the server started, if any.
    pub rotation: Option<RotationResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SealedCount {
    pub table: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotationResponse {
    pub id: String,
    /// `running`, `completed` or `failed` (a failed run is resumed by the
    /// next rotate call or the next start).
    #[schema(example = "running")]
    pub state: String,
    pub reseal_only: bool,
    /// Finishing a rotation a restart or a failure interrupted.
    pub resumed: bool,
    pub from_key_check: Option<String>,
    pub to_key_check: String,
    /// Secrets re-sealed so far by this run.
    pub resealed: u64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub error: Option<String>,
}

impl From<RotationRun> for RotationResponse {
    fn from(r: RotationRun) -> Self {
        RotationResponse {
            id: r.id,
            state: r.state.as_str().to_string(),
            reseal_only: r.reseal_only,
            resumed: r.resumed,
            from_key_check: r.from_key_check,
            to_key_check: r.to_key_check,
            resealed: r.resealed,
            started_at: r.started_at,
            finished_at: r.finished_at,
            error: r.error,
        }
    }
}

impl From<MasterKeyStatus> for MasterKeyStatusResponse {
    fn from(s: MasterKeyStatus) -> Self {
        MasterKeyStatusResponse {
            current_key_check: s.current_key_check,
            previous_key_check: s.previous_key_check,
            database_key_check: s.database_key_check,
            key_source: s.key_source.to_string(),
            secrets_under_previous_key: s.sealed_elsewhere.iter().map(|(_, n)| n).sum(),
            sealed_elsewhere: s
                .sealed_elsewhere
                .into_iter()
                .map(|(table, count)| SealedCount {
                    table: table.name().to_string(),
                    count,
                })
                .collect(),
            rotation: s.rotation.map(Into::into),
        }
    }
}

/// The master key's status: check values of the current and previous
/// keys and of the database, secrets still under the previous key, and the
/// last rotation run.
///
/// Permissions: the management account, `latchkey:GetMasterKeyStatus`.
#[utoipa::path(tag = "master-key", responses(
    (status = 200, body = MasterKeyStatusResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/master-key")]
async fn get_master_key(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let status = iam::master_key::status(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(MasterKeyStatusResponse::from(status)))
}

/// Rotate the master key online: a new `master.key` (the old one kept as
/// `master.key.previous`), swapped in at once (the new key seals, both
/// open), every secret re-sealed in the background in audited batches.
/// With `reseal_only`, re-seal under the current key without making a new
/// one (after a rolling restart with `--master-key NEW
/// --previous-master-key OLD`). An unfinished rotation is resumed.
///
/// 409 `MasterKeyGiven` when the key came from `--master-key`,
/// `ConcurrentModification` while a run is going, `PreviousMasterKeyHeld`
/// when the previous key must be forgotten first.
///
/// Permissions: the management account, `latchkey:RotateMasterKey`.
#[utoipa::path(tag = "master-key", request_body = RotateRequest, responses(
    (status = 202, body = MasterKeyStatusResponse), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[post("/master-key/rotate")]
async fn rotate_master_key(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<RotateRequest>,
) -> ApiResult<HttpResponse> {
    let status = iam::master_key::rotate(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(MasterKeyStatusResponse::from(status)))
}

/// Forget the previous master key (and delete `master.key.previous`);
/// refused (409) while a secret is still sealed under it or a rotation
/// runs. With keys given by flag, drop `--previous-master-key` at the next
/// restart.
///
/// Permissions: the management account, `latchkey:ForgetPreviousMasterKey`.
#[utoipa::path(tag = "master-key", responses(
    (status = 200, body = MasterKeyStatusResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[post("/master-key/forget-previous")]
async fn forget_previous_master_key(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let status = iam::master_key::forget_previous(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(MasterKeyStatusResponse::from(status)))
}
