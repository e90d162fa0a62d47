//! Temporary credentials as the store keeps them (`role_sessions`).

use super::Tag;

/// One STS session: an AssumeRole session (`role_id` set) or a user's or
/// root's own session from GetSessionToken or login (`role_id` NULL). The
/// secret stays sealed and the token exists only as its digest.
#[derive(Clone, sqlx::FromRow)]
pub struct RoleSession {
    pub access_key_id: String,
    pub account_id: String,
    pub role_id: Option<String>,
    pub user_id: Option<String>,
    pub session_name: String,
    pub issuer_arn: String,
    pub secret_ciphertext: Vec<u8>,
    pub token_sha256: String,
    /// JSON `[{"name", "document"}]`, or None when no session policy was passed.
    pub session_policies: Option<String>,
    /// JSON `[{"key", "value"}]`.
    pub tags: String,
    /// JSON `["key"]`.
    pub transitive_tag_keys: String,
    pub source_identity: Option<String>,
    pub chained: bool,
    pub issued_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    /// When MFA was authenticated for this session (`aws:MultiFactorAuthAge`
    /// counts from it); None when no MFA was used.
    pub mfa_authenticated_at: Option<String>,
    /// The STS action that issued the session (`sts:GetSessionToken`,
    /// `sts:Login`, ...); None for sessions issued before it was kept.
    pub issued_by: Option<String>,
}

/// `issued_by` of a session from GetSessionToken, whose credentials call
/// IAM only with MFA.
pub const ISSUED_BY_GET_SESSION_TOKEN: &str = "sts:GetSessionToken";

impl std::fmt::Debug for RoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleSession")
            .field("access_key_id", &self.access_key_id)
            .field("role_id", &self.role_id)
            .field("user_id", &self.user_id)
            .field("session_name", &self.session_name)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl RoleSession {
    pub fn tag_list(&self) -> Vec<Tag> {
        serde_json::from_str(&self.tags).unwrap_or_default()
    }

    pub fn transitive_keys(&self) -> Vec<String> {
        serde_json::from_str(&self.transitive_tag_keys).unwrap_or_default()
    }
}

/// A session policy frozen into a session: its name (`inline` or the ARN
/// it was resolved from) and its document text.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FrozenPolicy {
    pub name: String,
    pub document: String,
}

/// Session times: ISO-8601 UTC with milliseconds, fixed width so that text
/// comparison is time order. Sub-second precision matters for "revoke every
/// session issued before now" followed at once by a new session.
pub fn format_time_ms(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            year,
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        );
    }
    // Digits by hand: every audited decision takes its time here, and the
    // formatting machinery costs several times the rest of the event.
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut value: u32| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year as u32);
    put(5, 2, u8::from(t.month()).into());
    put(8, 2, t.day().into());
    put(11, 2, t.hour().into());
    put(14, 2, t.minute().into());
    put(17, 2, t.second().into());
    put(20, 3, t.millisecond().into());
    out.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millisecond_times_sort_as_text() {
        let t = time::macros::datetime!(2024-03-05 07:08:09.012 UTC);
        assert_eq!(format_time_ms(t), "2024-03-05T07:08:09.012Z");
        let later = t + time::Duration::milliseconds(990);
        assert!(format_time_ms(later) > format_time_ms(t));
    }

    #[test]
    fn hand_formatted_times_match_the_formatter() {
        let start = time::macros::datetime!(1999-12-31 23:59:58.997 UTC);
        for step in 0..5000i64 {
            let t = start + time::Duration::milliseconds(step * 7_919_311);
            let expected = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.millisecond()
            );
            assert_eq!(format_time_ms(t), expected);
        }
    }
}
