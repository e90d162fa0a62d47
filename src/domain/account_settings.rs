//! An account's password policy, as IAM's UpdateAccountPasswordPolicy sets
//! it (AWS-IAM-NOTES; the defaults are IAM's for a field left out).

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    /// 6 to 128; default 6.
    #[schema(example = 14)]
    pub minimum_password_length: i64,
    /// At least one of `! @ # $ % ^ & * ( ) _ + - = [ ] { } | '`.
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    /// Users may change their own password (ChangePassword) without a
    /// policy allowing `iam:ChangePassword`.
    pub allow_users_to_change_password: bool,
    /// Days a password stays valid (1 to 1095); none: passwords never expire.
    pub max_password_age: Option<i64>,
    /// How many previous passwords may not be reused (1 to 24).
    pub password_reuse_prevention: Option<i64>,
    /// An expired password cannot be changed by its user: an administrator
    /// must reset it.
    pub hard_expiry: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            minimum_password_length: 6,
            require_symbols: false,
            require_numbers: false,
            require_uppercase_characters: false,
            require_lowercase_characters: false,
            allow_users_to_change_password: false,
            max_password_age: None,
            password_reuse_prevention: None,
            hard_expiry: false,
        }
    }
}

/// The symbols IAM's `RequireSymbols` counts.
pub const PASSWORD_SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";

/// Whether a password set at `set_at` (RFC 3339) is past the policy's
/// maximum age at `now`, and whether hard expiry then forbids its user to
/// change it. A time that does not parse never expires.
pub fn password_expiry(
    policy: Option<&PasswordPolicy>,
    set_at: &str,
    now: time::OffsetDateTime,
) -> (bool, bool) {
    let Some((days, hard)) = policy.and_then(|p| Some((p.max_password_age?, p.hard_expiry))) else {
        return (false, false);
    };
    let expired = time::OffsetDateTime::parse(set_at, &Rfc3339)
        .is_ok_and(|t| t + time::Duration::days(days) <= now);
    (expired, expired && hard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_expires_after_max_age_days() {
        let now = time::OffsetDateTime::parse("2026-03-10T00:00:00Z", &Rfc3339).unwrap();
        let policy = PasswordPolicy {
            max_password_age: Some(9),
            ..PasswordPolicy::default()
        };
        assert_eq!(
            password_expiry(Some(&policy), "2026-03-01T00:00:01Z", now),
            (false, false)
        );
        assert_eq!(
            password_expiry(Some(&policy), "2026-03-01T00:00:00Z", now),
            (true, false)
        );
        let hard = PasswordPolicy {
            hard_expiry: true,
            ..policy
        };
        assert_eq!(
            password_expiry(Some(&hard), "2020-01-01T00:00:00Z", now),
            (true, true)
        );
        assert_eq!(
            password_expiry(None, "2020-01-01T00:00:00Z", now),
            (false, false)
        );
        let forever = PasswordPolicy::default();
        assert_eq!(
            password_expiry(Some(&forever), "2020-01-01T00:00:00Z", now),
            (false, false)
        );
    }
}
