//! `GET /v1/audit/events`: the operation behind it.
//!
//! Events belong to accounts. A caller sees its own account's events; a
//! caller of the management account sees every account's, and the events
//! that belong to no account (a refused key that does not exist). Both
//! need `latchkey:ReadAudit` (on `*`); an account root has it implicitly.

use serde::Deserialize;
use utoipa::IntoParams;

use super::{AuditDecision, AuditEvent};
use crate::auth::Caller;
use crate::domain::format_time_ms;
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;
use crate::store::audit::AuditQuery;
use crate::store::{decode_marker, Page, DEFAULT_MAX_ITEMS};

/// Filters of the audit query; all optional and combined with AND.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditEventsQuery {
    /// The principal ARN exactly (`arn:aws:iam::123456789012:user/alice`,
    /// or an assumed-role session ARN).
    pub principal: Option<String>,
    /// The action, ignoring case (`iam:CreateUser`, `sts:AssumeRole`,
    /// `latchkey:Authenticate` for refused credentials).
    pub action: Option<String>,
    /// Events whose resource starts with this.
    pub resource_prefix: Option<String>,
    /// `allowed`, `denied` or `failed`.
    pub decision: Option<String>,
    /// RFC 3339; events at or after it.
    pub start_time: Option<String>,
    /// RFC 3339; events at or before it.
    pub end_time: Option<String>,
    /// 1 to 1000, default 100. Newest events first.
    pub max_items: Option<i64>,
    /// The `marker` of the previous page.
    pub marker: Option<String>,
}

fn parse_time(name: &str, value: &str) -> ApiResult<String> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(format_time_ms)
        .map_err(|_| {
            ApiError::ValidationError(format!("{name} {value:?} is not an RFC 3339 time."))
        })
}

pub async fn list_events(
    state: &OpContext,
    caller: &Caller,
    q: AuditEventsQuery,
) -> ApiResult<Page<AuditEvent>> {
    crate::iam::authorize(state, caller, "latchkey:ReadAudit", "*").await?;
    let max_items = q.max_items.unwrap_or(DEFAULT_MAX_ITEMS);
    if !(1..=1000).contains(&max_items) {
        return Err(ApiError::ValidationError(format!(
            "max_items {max_items} must be between 1 and 1000."
        )));
    }
    if let Some(d) = &q.decision {
        if AuditDecision::parse(d).is_none() {
            return Err(ApiError::ValidationError(format!(
                "decision {d:?} must be one of allowed, denied, failed."
            )));
        }
    }
    let before_id = match q.marker.as_deref() {
        None | Some("") => None,
        Some(m) => Some(
            decode_marker(m)?
                .parse::<i64>()
                .map_err(|_| ApiError::InvalidInput("Invalid Marker.".into()))?,
        ),
    };
    let query = AuditQuery {
        account_id: (!caller.is_management_account).then(|| caller.account_id.clone()),
        principal: q.principal,
        action: q.action,
        resource_prefix: q.resource_prefix,
        decision: q.decision,
        start_time: q
            .start_time
            .as_deref()
            .map(|t| parse_time("start_time", t))
            .transpose()?,
        end_time: q
            .end_time
            .as_deref()
            .map(|t| parse_time("end_time", t))
            .transpose()?,
        before_id,
        max_items,
    };
    // Read your own writes: what was queued before this query is in it.
    state.audit.flush().await;
    Ok(state.store.list_audit_events(&query).await?)
}
