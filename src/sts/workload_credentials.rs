//! `GET /v1/workload-credentials` (AWS-IAM-NOTES §7.7): the container
//! credentials endpoint that every AWS SDK reads natively. The workload's
//! token is the whole `Authorization` header; nothing else is accepted
//! here, and the token is accepted nowhere else.
//!
//! The credentials are a role session of the profile's role, obtained on
//! the service principal's behalf: session name = workload id, issuer =
//! the service principal, not role chaining (so the role's own
//! MaxSessionDuration applies), and the trust policy decided with the
//! service as principal on every refresh. A session is reused while at
//! least half of its lifetime remains (SDKs refresh shortly before
//! expiry, botocore 15 minutes before), and a workload keeps at most
//! `MAX_LIVE_SESSIONS` live sessions: older ones are revoked when a new
//! one is minted.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::workloads::{decide_service_trust, token_workload_id};
use super::{issue_then, SessionSpec};
use crate::audit::AuditEvent;
use crate::auth::crypto::{secrets_equal, token_digest};
use crate::domain::{format_time, format_time_ms, Role, Workload};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;

pub use crate::runtime::issued_credentials::ContainerCredentials;
use crate::runtime::issued_credentials::Issued;

/// Live sessions a workload may hold at once.
pub const MAX_LIVE_SESSIONS: i64 = 4;

fn invalid_token() -> ApiError {
    ApiError::unauthenticated(
        "InvalidClientTokenId",
        "The workload token included in the request is invalid.",
    )
}

/// The token from the `Authorization` header: the header's whole value, as
/// the SDKs send `AWS_CONTAINER_AUTHORIZATION_TOKEN`. Keys, Basic
/// credentials and signatures are refused here.
fn presented_token(authorization: Option<&str>) -> ApiResult<&str> {
    let value = authorization.map(str::trim).ok_or_else(|| {
        ApiError::unauthenticated(
            "MissingAuthenticationToken",
            "Request is missing the workload token: send it as the Authorization header.",
        )
    })?;
    if token_workload_id(value).is_none() {
        return Err(ApiError::unauthenticated(
            "InvalidClientTokenId",
            "Only a workload token is accepted here: send it alone as the Authorization header.",
        ));
    }
    Ok(value)
}

/// The workload behind a token: found by the id the token names, then the
/// digest compared in constant time; not expired; used from an allowed
/// network.
async fn workload_for(
    state: &OpContext,
    token: &str,
    source_ip: Option<IpAddr>,
) -> ApiResult<Workload> {
    let id = token_workload_id(token).ok_or_else(invalid_token)?;
    let workload = state
        .store
        .get_workload(id)
        .await?
        .ok_or_else(invalid_token)?;
    if !secrets_equal(&workload.token_sha256, &token_digest(token)) {
        return Err(invalid_token());
    }
    let now = format_time_ms(time::OffsetDateTime::now_utc());
    if workload
        .token_expires_at
        .as_ref()
        .is_some_and(|at| *at <= now)
    {
        return Err(ApiError::unauthenticated(
            "ExpiredToken",
            "The workload token is expired: rotate it.",
        ));
    }
    let cidrs = workload.cidrs();
    if !cidrs.is_empty() {
        let allowed = source_ip.is_some_and(|ip| {
            cidrs
                .iter()
                .filter_map(|c| c.parse::<IpNet>().ok())
                .any(|net| net.contains(&ip))
        });
        if !allowed {
            let from =
                source_ip.map_or_else(|| "an unknown address".to_string(), |ip| ip.to_string());
            return Err(ApiError::AccessDenied(format!(
                "The workload token of {} cannot be used from {from}.",
                workload.id
            )));
        }
    }
    Ok(workload)
}

/// The role the workload's profile holds now.
async fn current_role(state: &OpContext, workload: &Workload) -> ApiResult<Role> {
    let profile = state
        .store
        .get_instance_profile_by_id(&workload.instance_profile_id)
        .await?
        .ok_or_else(invalid_token)?;
    let no_role = || {
        ApiError::AccessDenied(format!(
            "The instance profile {} of workload {} has no role.",
            profile.name, workload.id
        ))
    };
    let role_id = profile.role_id.as_deref().ok_or_else(no_role)?;
    state
        .store
        .get_role_by_id(role_id)
        .await?
        .ok_or_else(no_role)
}

/// A cached session that may be handed out again: same role and token
/// generation, half its lifetime left, and still live in the store (not
/// revoked one by one, by revoke-sessions, or with the workload's token).
async fn reusable(
    state: &OpContext,
    workload: &Workload,
    role: &Role,
) -> ApiResult<Option<ContainerCredentials>> {
    let Some(hit) = state.workload_credentials.inner.get(&workload.id) else {
        return Ok(None);
    };
    let fresh = hit.role_id == role.id
        && hit.token_issued_at == workload.token_issued_at
        && time::OffsetDateTime::now_utc() < hit.reuse_until;
    if !fresh {
        return Ok(None);
    }
    let Some(record) = state
        .store
        .get_session_record(&hit.credentials.access_key_id)
        .await?
    else {
        return Ok(None);
    };
    let revoked = record.session.revoked_at.is_some()
        || record
            .sessions_revoked_before
            .as_ref()
            .is_some_and(|before| record.session.issued_at < *before);
    Ok((!revoked).then(|| hit.credentials.clone()))
}

pub async fn workload_credentials(
    state: &OpContext,
    authorization: Option<&str>,
    source_ip: Option<IpAddr>,
) -> ApiResult<ContainerCredentials> {
    let token = presented_token(authorization)?;
    let workload = workload_for(state, token, source_ip).await?;
    let role = current_role(state, &workload).await?;
    decide_service_trust(
        state,
        &role,
        &workload.service,
        &workload.account_id,
        &workload.id,
        source_ip,
    )?;
    if let Some(credentials) = reusable(state, &workload, &role).await? {
        return Ok(credentials);
    }
    mint(state, &workload, &role).await
}

async fn mint(
    state: &OpContext,
    workload: &Workload,
    role: &Role,
) -> ApiResult<ContainerCredentials> {
    let duration = role.max_session_duration;
    let now = time::OffsetDateTime::now_utc();
    // The issuer is the service principal; the workload token is never
    // recorded, only the workload it belongs to.
    let mut event = AuditEvent::anonymous("sts:AssumeRole", role.arn().to_string())
        .params(serde_json::json!({"workload": workload.id, "service": workload.service}));
    event.account_id = Some(role.account_id.clone());
    event.principal_arn = Some(workload.service.clone());
    let issued = issue_then(
        state,
        SessionSpec {
            account_id: role.account_id.clone(),
            role_id: Some(role.id.clone()),
            user_id: None,
            session_name: workload.id.clone(),
            issuer_arn: workload.service.clone(),
            session_policies: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            source_identity: None,
            chained: false,
            duration_seconds: duration,
            mfa_authenticated_at: None,
            // Audited as the AssumeRole it stands for.
            issued_by: "sts:AssumeRole",
        },
        event,
        // Linked in the session's own transaction: a workload deleted
        // meanwhile rolls the session back, so it never lives on.
        async |tx, session| {
            let linked = tx
                .link_workload_session(
                    &workload.id,
                    &session.access_key_id,
                    &session.issued_at,
                    &session.expires_at,
                    &format_time_ms(now),
                    MAX_LIVE_SESSIONS,
                )
                .await?;
            // Older sessions it revoked are dropped from every node's
            // caches by the write pipeline (the link marks the change).
            linked.ok_or_else(invalid_token)?;
            Ok(())
        },
    )
    .await?;
    let credentials = ContainerCredentials {
        access_key_id: issued.access_key_id.clone(),
        secret_access_key: issued.secret_access_key.clone(),
        token: issued.session_token.clone(),
        expiration: issued.expiration.clone(),
        role_arn: role.arn().to_string(),
        account_id: role.account_id.clone(),
    };
    state.workload_credentials.inner.insert(
        workload.id.clone(),
        Arc::new(Issued {
            credentials: credentials.clone(),
            role_id: role.id.clone(),
            token_issued_at: workload.token_issued_at.clone(),
            reuse_until: now + time::Duration::seconds(duration / 2),
        }),
    );
    tracing::info!(
        workload = %workload.id,
        role_arn = %credentials.role_arn,
        service = %workload.service,
        access_key_id = %credentials.access_key_id,
        expiration = %format_time(now + time::Duration::seconds(duration)),
        "workload credentials issued"
    );
    Ok(credentials)
}
