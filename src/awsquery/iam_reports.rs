//! The scanners' reports over the query protocol: the credential report
//! (its CSV base64-encoded in `Content`, as AWS sends it), last-accessed
//! jobs (with the entities behind a service), and the condition keys of
//! policies.

use base64::Engine as _;

use super::action::{actions, Ctx, Handler, Outcome};
use super::xml::Xml;
use crate::iam;
use crate::iam::credential_report::to_csv;
use crate::iam::last_accessed_jobs::ServiceLastAccessed;
use crate::store::{decode_marker, encode_marker, DEFAULT_MAX_ITEMS};

pub const ACTIONS: &[(&str, Handler)] = actions![
    "GenerateCredentialReport" => generate_credential_report,
    "GetCredentialReport" => get_credential_report,
    "GenerateServiceLastAccessedDetails" => generate_service_last_accessed_details,
    "GetServiceLastAccessedDetails" => get_service_last_accessed_details,
    "GetServiceLastAccessedDetailsWithEntities" => get_service_last_accessed_details_with_entities,
    "GetContextKeysForCustomPolicy" => get_context_keys_for_custom_policy,
    "GetContextKeysForPrincipalPolicy" => get_context_keys_for_principal_policy,
];

async fn generate_credential_report(c: &Ctx<'_>) -> Outcome {
    let state = iam::credential_report::generate_credential_report(c.state, c.caller).await?;
    let mut x = Xml::new();
    x.text("State", state.wire_name())
        .text("Description", state.description());
    Ok(Some(x))
}

async fn get_credential_report(c: &Ctx<'_>) -> Outcome {
    let report = iam::credential_report::get_credential_report(c.state, c.caller).await?;
    let csv = to_csv(&report);
    let mut x = Xml::new();
    x.text(
        "Content",
        base64::engine::general_purpose::STANDARD.encode(csv.as_bytes()),
    )
    .text("ReportFormat", "text/csv")
    .text("GeneratedTime", &report.generated_time);
    Ok(Some(x))
}

async fn generate_service_last_accessed_details(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let id = iam::last_accessed_jobs::generate_service_last_accessed_details(
        c.state,
        c.caller,
        p.required("Arn")?,
        p.get("Granularity"),
    )
    .await?;
    let mut x = Xml::new();
    x.text("JobId", id);
    Ok(Some(x))
}

fn service(x: &mut Xml, s: &ServiceLastAccessed, action_level: bool) {
    x.text("ServiceName", &s.service_name)
        .text("ServiceNamespace", &s.namespace)
        .opt("LastAuthenticated", s.last_authenticated.as_deref())
        .opt("LastAuthenticatedEntity", s.last_entity.as_deref())
        .text("TotalAuthenticatedEntities", s.total_entities);
    if action_level {
        x.members("TrackedActionsLastAccessed", &s.actions, |m, a| {
            m.text("ActionName", &a.action_name)
                .opt("LastAccessedEntity", a.last_entity.as_deref())
                .opt("LastAccessedTime", a.last_accessed.as_deref());
        });
    }
}

/// MaxItems (1..=1000, 100 by default) and Marker of a job's page: a
/// job does not change once made, so its lists are paged by position.
fn page_bounds(c: &Ctx<'_>, len: usize) -> Result<(usize, usize), crate::error::ApiError> {
    let p = c.params;
    let max = p.int("MaxItems")?.unwrap_or(DEFAULT_MAX_ITEMS);
    if !(1..=1000).contains(&max) {
        return Err(crate::error::ApiError::ValidationError(format!(
            "1 validation error detected: Value '{max}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"
        )));
    }
    let start = match p.get("Marker") {
        None | Some("") => 0,
        Some(m) => decode_marker(m)?
            .parse::<usize>()
            .map_err(|_| crate::store::StoreError::InvalidMarker)?,
    };
    Ok((start, start.saturating_add(max as usize).min(len)))
}

fn page_end(x: &mut Xml, end: usize, len: usize) {
    x.text("IsTruncated", end < len);
    if end < len {
        x.text("Marker", encode_marker(&end.to_string()));
    }
}

async fn get_service_last_accessed_details(c: &Ctx<'_>) -> Outcome {
    let job = iam::last_accessed_jobs::get_service_last_accessed_details(
        c.state,
        c.caller,
        c.params.required("JobId")?,
    )
    .await?;
    let services = &job.result.services;
    let (start, end) = page_bounds(c, services.len())?;
    let page = services.get(start..end).unwrap_or_default();
    let action_level = job.granularity == "ACTION_LEVEL";
    let mut x = Xml::new();
    x.text("JobStatus", &job.status)
        .text("JobType", &job.granularity)
        .text("JobCreationDate", &job.created)
        .members("ServicesLastAccessed", page, |m, s| {
            service(m, s, action_level)
        })
        .opt("JobCompletionDate", job.completed.as_deref());
    page_end(&mut x, end, services.len());
    Ok(Some(x))
}

async fn get_service_last_accessed_details_with_entities(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (job, entities) = iam::last_accessed_jobs::get_service_last_accessed_details_with_entities(
        c.state,
        c.caller,
        p.required("JobId")?,
        p.required("ServiceNamespace")?,
    )
    .await?;
    let (start, end) = page_bounds(c, entities.len())?;
    let page = entities.get(start..end).unwrap_or_default();
    let mut x = Xml::new();
    x.text("JobStatus", &job.status)
        .text("JobCreationDate", &job.created)
        .opt("JobCompletionDate", job.completed.as_deref())
        .members("EntityDetailsList", page, |m, e| {
            m.node("EntityInfo", |i| {
                i.text("Arn", &e.info.arn)
                    .text("Name", &e.info.name)
                    .text("Type", &e.info.kind)
                    .text("Id", &e.info.id)
                    .text("Path", &e.info.path);
            })
            .opt("LastAuthenticated", e.last_authenticated.as_deref());
        });
    page_end(&mut x, end, entities.len());
    Ok(Some(x))
}

async fn get_context_keys_for_custom_policy(c: &Ctx<'_>) -> Outcome {
    let inputs = c.params.list("PolicyInputList");
    let keys =
        iam::last_accessed::get_context_keys_for_custom_policy(c.state, c.caller, &inputs).await?;
    let mut x = Xml::new();
    x.strings("ContextKeyNames", &keys);
    Ok(Some(x))
}

async fn get_context_keys_for_principal_policy(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let inputs = p.list("PolicyInputList");
    let keys = iam::last_accessed::get_context_keys_for_principal_policy(
        c.state,
        c.caller,
        p.required("PolicySourceArn")?,
        &inputs,
    )
    .await?;
    let mut x = Xml::new();
    x.strings("ContextKeyNames", &keys);
    Ok(Some(x))
}
