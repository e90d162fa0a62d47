//! Service principals, instance profiles and workloads as the store keeps
//! them (AWS-IAM-NOTES §7.6, §7.7).

use std::fmt;

use rand::Rng as _;

use super::Arn;

/// Every workload token starts with this, so that it is recognisable (in
/// a leaked file, or by a secret scanner) and never mistaken for a key.
pub const WORKLOAD_TOKEN_PREFIX: &str = "lkwt_";

/// A platform service that roles trust with `{"Service": NAME}`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServicePrincipal {
    pub name: String,
    pub description: Option<String>,
    pub created_at: String,
}

/// A validated service principal name: a lower-case DNS name with at least
/// one dot (`compute.platform.internal`), 3 to 253 characters, as AWS's own
/// service principals (`ec2.amazonaws.com`) are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceName(String);

impl ServiceName {
    pub fn parse(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        let labels_ok = lower.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
        if (3..=253).contains(&lower.len()) && lower.contains('.') && labels_ok {
            Ok(ServiceName(lower))
        } else {
            Err(format!(
                "1 validation error detected: Value '{s}' at 'name' failed to satisfy constraint: a service principal is a DNS name with at least one dot, such as compute.platform.internal"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An instance profile: a container for (at most) one role that a workload
/// is launched with.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InstanceProfile {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub role_id: Option<String>,
    pub created_at: String,
}

impl InstanceProfile {
    /// `arn:aws:iam::ACCT:instance-profile/PATH/NAME`.
    pub fn arn(&self) -> Arn {
        Arn::iam(&self.account_id, "instance-profile", &self.path, &self.name)
    }
}

/// A registered workload. The token exists only as its digest.
#[derive(Clone, sqlx::FromRow)]
pub struct Workload {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub instance_profile_id: String,
    pub service: String,
    pub token_sha256: String,
    pub token_ttl_seconds: Option<i64>,
    pub token_expires_at: Option<String>,
    /// JSON `["10.0.0.0/8", ...]`; empty: any address.
    pub source_cidrs: String,
    pub created_by: String,
    pub created_at: String,
    pub token_issued_at: String,
}

impl fmt::Debug for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workload")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("instance_profile_id", &self.instance_profile_id)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Workload {
    /// `arn:aws:iam::ACCT:workload/ID`: the resource of the workload actions.
    pub fn arn(&self) -> String {
        workload_arn(&self.account_id, &self.id)
    }

    pub fn cidrs(&self) -> Vec<String> {
        serde_json::from_str(&self.source_cidrs).unwrap_or_default()
    }
}

pub fn workload_arn(account_id: &str, id: &str) -> String {
    format!("arn:aws:iam::{account_id}:workload/{id}")
}

const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

/// `wl-` and 17 lower-case base32 characters: usable as a role session name.
pub fn new_workload_id() -> String {
    let mut rng = rand::rng();
    let tail: String = (0..17)
        .map(|_| ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())] as char)
        .collect();
    format!("wl-{tail}")
}

/// Whether `s` has the shape of a workload id (checked before any lookup).
pub fn is_workload_id(s: &str) -> bool {
    s.len() == 20 && s.starts_with("wl-") && s[3..].bytes().all(|b| ID_ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_are_dns_names() {
        assert_eq!(
            ServiceName::parse("Compute.Platform.internal")
                .unwrap()
                .as_str(),
            "compute.platform.internal"
        );
        assert!(ServiceName::parse("ec2.amazonaws.com").is_ok());
        for bad in ["compute", "a..b", "-a.b", "a.b-", "a b.c", "a_b.c", ""] {
            assert!(ServiceName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn workload_ids() {
        let id = new_workload_id();
        assert!(is_workload_id(&id), "{id}");
        assert!(!is_workload_id("wl-short"));
        assert!(!is_workload_id("xx-aaaaaaaaaaaaaaaaa"));
        assert_ne!(new_workload_id(), id);
    }
}
