//! Workload credentials handed out, kept in memory so that the next
//! refresh hands out the same session (`sts::workload_credentials`).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

/// AWS's container-credentials reply, field names as the SDKs read them.
#[derive(Clone, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerCredentials {
    #[schema(example = "ASIAIOSFODNN7EXAMPLE")]
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The session token (`X-Amz-Security-Token`).
    pub token: String,
    /// ISO-8601 UTC, whole seconds (`%Y-%m-%dT%H:%M:%SZ`, as botocore parses it).
    #[schema(example = "2030-01-01T12:00:00Z")]
    pub expiration: String,
    #[schema(example = "arn:aws:iam::123456789012:role/ci-runner")]
    pub role_arn: String,
    #[schema(example = "123456789012")]
    pub account_id: String,
}

impl std::fmt::Debug for ContainerCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ContainerCredentials({}, ***)", self.access_key_id)
    }
}

/// Credentials handed out, kept so that the next refresh can hand out the
/// same session. In memory only, like the long-term key cache: the store
/// keeps no session token.
pub(crate) struct Issued {
    pub(crate) credentials: ContainerCredentials,
    pub(crate) role_id: String,
    /// The token generation it was issued under.
    pub(crate) token_issued_at: String,
    /// Past this instant a refresh mints a new session.
    pub(crate) reuse_until: time::OffsetDateTime,
}

#[derive(Clone)]
pub struct IssuedCache {
    pub(crate) inner: moka::sync::Cache<String, Arc<Issued>>,
}

impl Default for IssuedCache {
    fn default() -> Self {
        IssuedCache {
            inner: moka::sync::Cache::builder()
                .max_capacity(10_000)
                // The longest session is 12 hours; half of it is reused.
                .time_to_live(Duration::from_secs(6 * 3600))
                .build(),
        }
    }
}

impl IssuedCache {
    /// Dropped with the other caches on every change (`AppState::
    /// invalidate_caches`): a reused session is checked in the store
    /// anyway, but a deleted workload's or rotated token's credentials
    /// should not outlive the change in memory.
    pub fn invalidate_all(&self) {
        self.inner.invalidate_all();
    }
}
