//! Plain domain types: ids, ARNs, validated names and paths, tags, and the
//! entities the store returns. No I/O here.

pub mod account_settings;
pub mod arn;
pub mod audit;
pub mod entities;
pub mod ids;
pub mod mfa;
pub mod names;
pub mod oidc;
pub mod session;
pub mod tags;
pub mod workloads;

pub use arn::Arn;
pub use entities::*;
pub use ids::{AccessKeyId, AccountId, SecretAccessKey};
pub use mfa::{MfaDevice, MfaDeviceRow};
pub use names::{EntityKind, EntityName, IamPath};
pub use session::{format_time_ms, FrozenPolicy, RoleSession, ISSUED_BY_GET_SESSION_TOKEN};
pub use tags::Tag;
pub use workloads::{InstanceProfile, ServiceName, ServicePrincipal, Workload};

/// Time as IAM shows it: ISO-8601 UTC with second precision. Stored as
/// text in this fixed-width form so that it also sorts correctly.
pub fn format_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}
