//! A role's sessions: list the live ones (never their secrets), revoke one,
//! or revoke every session issued before now (AWS-IAM-NOTES §8). These are
//! latchkey's own operations; they use `iam:` action names so that IAM
//! administrators (`iam:*`) hold them and read-only ones (`iam:List*`) can
//! list.

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::{format_time_ms, RoleSession, Tag};
use crate::error::{ApiError, ApiResult};
use crate::iam::authorize;
use crate::iam::roles::find_role;
use crate::state::OpContext;
use crate::store::{encode_marker, ListParams};

pub const LIST_ACTION: &str = "iam:ListRoleSessions";
pub const REVOKE_ACTION: &str = "iam:RevokeRoleSession";
pub const REVOKE_ALL_ACTION: &str = "iam:RevokeRoleSessions";

/// A live session as listed: who obtained it, when, until when. No secret,
/// no token.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionSummary {
    #[schema(example = "ASIAIOSFODNN7EXAMPLE")]
    pub access_key_id: String,
    pub session_name: String,
    #[schema(example = "arn:aws:sts::123456789012:assumed-role/deployer/ci-build-42")]
    pub arn: String,
    pub assumed_role_id: String,
    /// Who assumed the role.
    pub issuer_arn: String,
    pub issued_at: String,
    pub expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    pub tags: Vec<Tag>,
    pub transitive_tag_keys: Vec<String>,
    /// Assumed by another role session.
    pub chained: bool,
    /// Session policies were passed.
    pub has_session_policies: bool,
}

impl SessionSummary {
    fn new(s: RoleSession, role_name: &str) -> Self {
        SessionSummary {
            arn: format!(
                "arn:aws:sts::{}:assumed-role/{role_name}/{}",
                s.account_id, s.session_name
            ),
            assumed_role_id: format!(
                "{}:{}",
                s.role_id.as_deref().unwrap_or_default(),
                s.session_name
            ),
            tags: s.tag_list(),
            transitive_tag_keys: s.transitive_keys(),
            has_session_policies: s.session_policies.is_some(),
            access_key_id: s.access_key_id,
            session_name: s.session_name,
            issuer_arn: s.issuer_arn,
            issued_at: s.issued_at,
            expires_at: s.expires_at,
            source_identity: s.source_identity,
            chained: s.chained,
        }
    }
}

pub struct SessionPage {
    pub items: Vec<SessionSummary>,
    pub is_truncated: bool,
    pub marker: Option<String>,
}

fn now() -> String {
    format_time_ms(time::OffsetDateTime::now_utc())
}

pub async fn list_sessions(
    state: &OpContext,
    caller: &Caller,
    role_name: &str,
    params: &ListParams,
) -> ApiResult<SessionPage> {
    let role = find_role(state, caller, role_name).await?;
    authorize(state, caller, LIST_ACTION, &role.arn().to_string()).await?;
    let mut rows = state
        .store
        .list_active_role_sessions(&role.id, &now(), &params.after, params.fetch_limit())
        .await?;
    let is_truncated = rows.len() as i64 > params.max_items;
    rows.truncate(params.max_items as usize);
    let marker = if is_truncated {
        rows.last().map(|s| encode_marker(&s.access_key_id))
    } else {
        None
    };
    Ok(SessionPage {
        items: rows
            .into_iter()
            .map(|s| SessionSummary::new(s, &role.name))
            .collect(),
        is_truncated,
        marker,
    })
}

pub async fn revoke_session(
    state: &OpContext,
    caller: &Caller,
    role_name: &str,
    access_key_id: &str,
) -> ApiResult<()> {
    let role = find_role(state, caller, role_name).await?;
    authorize(state, caller, REVOKE_ACTION, &role.arn().to_string()).await?;
    let event = AuditEvent::by(caller, REVOKE_ACTION, role.arn().to_string())
        .params(json!({ "access_key_id": access_key_id }));
    audited(state, event, async |tx| {
        if tx.revoke_session(&role.id, access_key_id, &now()).await? {
            Ok(())
        } else {
            Err(ApiError::NoSuchEntity(format!(
                "The role {} has no live session with access key id {access_key_id}.",
                role.name
            )))
        }
    })
    .await?;
    tracing::info!(role = %role.name, access_key_id, by = %caller.arn, "session revoked");
    Ok(())
}

/// What revoke-sessions did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedSessions {
    /// Sessions issued before this instant are refused from now on.
    pub revoked_before: String,
    /// How many live sessions that ended.
    pub revoked: u64,
}

pub async fn revoke_all_sessions(
    state: &OpContext,
    caller: &Caller,
    role_name: &str,
) -> ApiResult<RevokedSessions> {
    let role = find_role(state, caller, role_name).await?;
    authorize(state, caller, REVOKE_ALL_ACTION, &role.arn().to_string()).await?;
    let at = now();
    let event = AuditEvent::by(caller, REVOKE_ALL_ACTION, role.arn().to_string());
    let revoked = audited(state, event, async |tx| {
        let revoked = tx.revoke_role_sessions(&role.id, &at).await?;
        tx.event().set_param("revoked", revoked.into());
        Ok::<_, ApiError>(revoked)
    })
    .await?;
    tracing::info!(role = %role.name, revoked, by = %caller.arn, "role sessions revoked");
    Ok(RevokedSessions {
        revoked_before: at,
        revoked,
    })
}
