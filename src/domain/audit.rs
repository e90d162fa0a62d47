//! One audit record, as the store keeps it. What fills it (the caller, the
//! request's id, user agent and address) lives in `crate::audit`.

/// What an audited event came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditDecision {
    /// The operation was allowed and done (or a decision allowed it).
    Allowed,
    /// Access denied, or authentication refused.
    Denied,
    /// Allowed, but the operation failed (a conflict, a bad input, ...).
    Failed,
}

impl AuditDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditDecision::Allowed => "allowed",
            AuditDecision::Denied => "denied",
            AuditDecision::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allowed" => Some(AuditDecision::Allowed),
            "denied" => Some(AuditDecision::Denied),
            "failed" => Some(AuditDecision::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEvent {
    /// Assigned by the store; 0 before the event is written.
    pub id: i64,
    pub event_time: String,
    pub request_id: String,
    pub account_id: Option<String>,
    pub principal_arn: Option<String>,
    /// Never a secret: an access key id names a key, it does not prove it.
    pub access_key_id: Option<String>,
    pub action: String,
    pub resource: Option<String>,
    /// `allowed`, `denied` or `failed` ([`AuditDecision`]).
    pub decision: String,
    pub error_code: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// JSON object, already scrubbed of secrets (see `crate::audit::scrub`).
    pub params: String,
}

impl AuditEvent {
    /// An event of latchkey itself (bootstrap, built-in policies): no
    /// request, no caller.
    pub fn system(action: &str, resource: &str) -> Self {
        AuditEvent {
            id: 0,
            event_time: String::new(),
            request_id: "-".into(),
            account_id: None,
            principal_arn: Some("latchkey".into()),
            access_key_id: None,
            action: action.into(),
            resource: Some(resource.into()),
            decision: AuditDecision::Allowed.as_str().into(),
            error_code: None,
            source_ip: None,
            user_agent: None,
            params: "{}".into(),
        }
    }
}
