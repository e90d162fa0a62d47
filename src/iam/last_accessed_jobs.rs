//! Last-accessed jobs: GenerateServiceLastAccessedDetails computes an
//! entity's report (`last_accessed::report`) and keeps it in the database
//! under a new JobId; GetServiceLastAccessedDetails and
//! GetServiceLastAccessedDetailsWithEntities read it through any node.
//!
//! Bounds: a job is readable for a day and the purge task deletes it after
//! that (`sts::purge`); an account keeps its 100 newest jobs; a job's
//! result is at most 4 MiB of JSON (a generation past it is refused with
//! LimitExceeded). Its size follows the catalog's granted actions and the
//! entity's principals (a policy's holders and their groups' members).
//!
//! LastAuthenticatedRegion is not reported: the audit trail, from which
//! uses come, records no region (the last-used stamps of keys and roles
//! keep one, but per key and role, not per service).

use serde::{Deserialize, Serialize};

use super::authorize;
use super::credential_report::now_ms;
use super::last_accessed::{entity_arn, find_entity, report};
use crate::auth::Caller;
use crate::domain::now;
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;
use crate::store::reports::LastAccessedJobRow;

/// How long a job is readable, in milliseconds.
pub const JOB_LIFETIME_MS: i64 = 24 * 3600 * 1000;
/// Jobs an account keeps; its oldest go first.
const MAX_JOBS_PER_ACCOUNT: i64 = 100;
/// The largest result a job may store (its JSON).
const MAX_JOB_BYTES: usize = 4 << 20;

/// What a job found, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobResult {
    pub services: Vec<ServiceLastAccessed>,
    /// The users and roles whose uses count for the job's entity.
    pub entities: Vec<EntityInfo>,
}

/// One service the entity's policies grant, with its last use.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceLastAccessed {
    pub service_name: String,
    pub namespace: String,
    pub last_authenticated: Option<String>,
    /// The user or role (ARN) of that last use.
    pub last_entity: Option<String>,
    /// How many of the entity's principals used the service.
    pub total_entities: i64,
    /// ACTION_LEVEL only: each granted action of the service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionLastAccessed>,
    /// Each principal that used the service (its index in
    /// [`JobResult::entities`]) with its newest use.
    #[serde(default)]
    pub entity_uses: Vec<(usize, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionLastAccessed {
    /// As the catalog spells it, without the prefix: `CreateUser`.
    pub action_name: String,
    pub last_accessed: Option<String>,
    pub last_entity: Option<String>,
}

/// AWS's `EntityInfo`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntityInfo {
    pub arn: String,
    pub name: String,
    /// `USER` or `ROLE`.
    pub kind: String,
    pub id: String,
    pub path: String,
}

/// A job as GetServiceLastAccessedDetails reads it.
#[derive(Debug)]
pub struct LastAccessedJob {
    /// `SERVICE_LEVEL` or `ACTION_LEVEL`.
    pub granularity: String,
    /// `COMPLETED`: a job is computed when generated.
    pub status: String,
    pub created: String,
    pub completed: Option<String>,
    pub result: JobResult,
}

/// One entity of GetServiceLastAccessedDetailsWithEntities.
#[derive(Debug)]
pub struct EntityDetails {
    pub info: EntityInfo,
    /// None: it did not use the service.
    pub last_authenticated: Option<String>,
}

/// GenerateServiceLastAccessedDetails: computes the job, keeps it and
/// returns its id.
pub async fn generate_service_last_accessed_details(
    state: &OpContext,
    caller: &Caller,
    arn: &str,
    granularity: Option<&str>,
) -> ApiResult<String> {
    let action_level = match granularity {
        None | Some("SERVICE_LEVEL") => false,
        Some("ACTION_LEVEL") => true,
        Some(other) => {
            return Err(ApiError::ValidationError(format!(
                "1 validation error detected: Value '{other}' at 'granularity' failed to satisfy constraint: Member must satisfy enum value set: [SERVICE_LEVEL, ACTION_LEVEL]"
            )))
        }
    };
    authorize(state, caller, "iam:GenerateServiceLastAccessedDetails", arn).await?;
    let entity = find_entity(state, caller, arn).await?;
    let (created, created_ms) = (now(), now_ms());
    let result = report(state, &entity, &caller.account_id, action_level).await?;
    let result = serde_json::to_string(&result).map_err(|e| ApiError::Unexpected(e.into()))?;
    if result.len() > MAX_JOB_BYTES {
        return Err(ApiError::LimitExceeded(format!(
            "The report on {arn} is larger than {MAX_JOB_BYTES} bytes: generate it at SERVICE_LEVEL or for the entities that hold the policy."
        )));
    }
    let job_id = uuid::Uuid::new_v4().to_string();
    let row = LastAccessedJobRow {
        job_id: job_id.clone(),
        account_id: caller.account_id.clone(),
        arn: entity_arn(&entity),
        granularity: if action_level {
            "ACTION_LEVEL"
        } else {
            "SERVICE_LEVEL"
        }
        .into(),
        status: "COMPLETED".into(),
        completed_at: Some(created.clone()),
        created_at: created,
        created_ms,
        result,
    };
    state
        .store
        .insert_last_accessed_job(&row, MAX_JOBS_PER_ACCOUNT)
        .await?;
    Ok(job_id)
}

/// A live job of the caller's account.
async fn find_job(state: &OpContext, caller: &Caller, job_id: &str) -> ApiResult<LastAccessedJob> {
    let row = state
        .store
        .last_accessed_job(job_id, &caller.account_id, now_ms() - JOB_LIFETIME_MS)
        .await?
        .ok_or_else(|| {
            ApiError::NoSuchEntity(format!("The job with ID {job_id} cannot be found."))
        })?;
    Ok(LastAccessedJob {
        granularity: row.granularity,
        status: row.status,
        created: row.created_at,
        completed: row.completed_at,
        result: serde_json::from_str(&row.result).map_err(|e| ApiError::Unexpected(e.into()))?,
    })
}

/// GetServiceLastAccessedDetails: a job of the caller's account.
pub async fn get_service_last_accessed_details(
    state: &OpContext,
    caller: &Caller,
    job_id: &str,
) -> ApiResult<LastAccessedJob> {
    authorize(state, caller, "iam:GetServiceLastAccessedDetails", "*").await?;
    find_job(state, caller, job_id).await
}

/// GetServiceLastAccessedDetailsWithEntities: the users and roles behind
/// a job whose uses count for one service (a group's members, a policy's
/// holders; a user's or role's job names itself), each with its newest
/// use of the service, the ones that used it first (newest first), then
/// the others in the job's order. A service the job does not report has
/// no entities.
pub async fn get_service_last_accessed_details_with_entities(
    state: &OpContext,
    caller: &Caller,
    job_id: &str,
    namespace: &str,
) -> ApiResult<(LastAccessedJob, Vec<EntityDetails>)> {
    let valid = (1..=64).contains(&namespace.len())
        && namespace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(ApiError::ValidationError(format!(
            "1 validation error detected: Value '{namespace}' at 'serviceNamespace' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]*"
        )));
    }
    authorize(
        state,
        caller,
        "iam:GetServiceLastAccessedDetailsWithEntities",
        "*",
    )
    .await?;
    let job = find_job(state, caller, job_id).await?;
    let entities = match job
        .result
        .services
        .iter()
        .find(|s| s.namespace.eq_ignore_ascii_case(namespace))
    {
        None => Vec::new(),
        Some(service) => entity_details(&job.result.entities, &service.entity_uses),
    };
    Ok((job, entities))
}

fn entity_details(entities: &[EntityInfo], uses: &[(usize, String)]) -> Vec<EntityDetails> {
    let mut used: Vec<&(usize, String)> =
        uses.iter().filter(|(i, _)| *i < entities.len()).collect();
    used.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out: Vec<EntityDetails> = used
        .iter()
        .map(|(i, t)| EntityDetails {
            info: entities[*i].clone(),
            last_authenticated: Some(t.clone()),
        })
        .collect();
    for (i, info) in entities.iter().enumerate() {
        if !uses.iter().any(|(u, _)| *u == i) {
            out.push(EntityDetails {
                info: info.clone(),
                last_authenticated: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(name: &str) -> EntityInfo {
        EntityInfo {
            arn: format!("arn:aws:iam::123456789012:user/{name}"),
            name: name.into(),
            kind: "USER".into(),
            id: format!("AIDA{name}"),
            path: "/".into(),
        }
    }

    #[test]
    fn users_of_the_service_first_newest_first_then_the_others() {
        let entities = [entity("a"), entity("b"), entity("c")];
        let uses = [
            (0, "2026-01-01T00:00:00Z".into()),
            (2, "2026-02-01T00:00:00Z".into()),
        ];
        let got: Vec<(String, Option<String>)> = entity_details(&entities, &uses)
            .into_iter()
            .map(|d| (d.info.name, d.last_authenticated))
            .collect();
        assert_eq!(
            got,
            [
                ("c".into(), Some("2026-02-01T00:00:00Z".into())),
                ("a".into(), Some("2026-01-01T00:00:00Z".into())),
                ("b".into(), None),
            ]
        );
    }

    #[test]
    fn a_stored_job_reads_back_as_written() {
        let result = JobResult {
            services: vec![ServiceLastAccessed {
                service_name: "AWS Identity and Access Management".into(),
                namespace: "iam".into(),
                last_authenticated: None,
                last_entity: None,
                total_entities: 0,
                actions: Vec::new(),
                entity_uses: vec![(0, "t".into())],
            }],
            entities: vec![entity("a")],
        };
        let text = serde_json::to_string(&result).unwrap();
        let back: JobResult = serde_json::from_str(&text).unwrap();
        assert_eq!(back.services[0].entity_uses, [(0, "t".to_string())]);
        assert_eq!(back.entities[0].id, "AIDAa");
    }
}
