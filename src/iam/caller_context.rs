//! The server-derived keys of a caller (AWS-IAM-NOTES §5.1, §5.2):
//! `aws:PrincipalArn`, `aws:PrincipalTag/K`, `aws:SourceIp`, the clock...

use crate::auth::Caller;
use crate::domain::Tag;
use crate::policy::{GlobalKey, GlobalKeys, RequestContext};

/// Adds the server-derived context keys of a caller (AWS-IAM-NOTES §5.1,
/// §5.2) to `ctx`: those in `wanted`, the ones the decision's policies
/// read. They are set last, so nothing a client sends can override them.
/// `tags` are the user's or role's; a session's own tags override them.
pub fn add_caller_context(
    ctx: &mut RequestContext,
    caller: &Caller,
    tags: &[Tag],
    region: &str,
    wanted: GlobalKeys,
) {
    if wanted.is_empty() {
        return;
    }
    let session = caller.session();
    let clock = wanted.contains(GlobalKey::CurrentTime) || wanted.contains(GlobalKey::EpochTime);
    let (current_time, epoch_time) = if clock {
        time_keys(time::OffsetDateTime::now_utc())
    } else {
        Default::default()
    };
    for key in GlobalKey::ALL.into_iter().filter(|k| wanted.contains(*k)) {
        let name = key.name();
        match key {
            GlobalKey::CurrentTime => ctx.insert(name, current_time.as_str()),
            GlobalKey::EpochTime => ctx.insert(name, epoch_time.as_str()),
            GlobalKey::SecureTransport => ctx.insert(
                name,
                if caller.secure_transport {
                    "true"
                } else {
                    "false"
                },
            ),
            GlobalKey::PrincipalArn => ctx.insert(name, caller.principal_arn()),
            GlobalKey::PrincipalAccount => ctx.insert(name, caller.account_id.as_str()),
            GlobalKey::PrincipalType => ctx.insert(name, caller.principal_type()),
            GlobalKey::UserId => ctx.insert(name, caller.user_id.as_str()),
            GlobalKey::RequestedRegion => ctx.insert(name, region),
            GlobalKey::SourceIp => {
                if let Some(ip) = caller.source_ip {
                    ctx.insert_ip(name, ip);
                }
            }
            GlobalKey::Username => {
                if let Some(user) = caller.user_name() {
                    ctx.insert(name, user);
                }
            }
            GlobalKey::PrincipalTag => {
                // Context keys are case-insensitive, so a session tag
                // replaces the role's tag of the same key whatever its case
                // (§1.7).
                let session_tags = session.iter().flat_map(|s| &s.tags);
                for tag in tags.iter().chain(session_tags) {
                    ctx.insert(&format!("{name}{}", tag.key), tag.value.as_str());
                }
            }
            GlobalKey::TokenIssueTime => {
                if let Some(session) = session {
                    ctx.insert(name, session.issued_at.as_str());
                }
            }
            // Present only with temporary credentials (absent with
            // long-term keys): whether MFA was authenticated for them.
            GlobalKey::MultiFactorAuthPresent => {
                if let Some(session) = session {
                    let present = session.mfa_authenticated_at.is_some();
                    ctx.insert(name, if present { "true" } else { "false" });
                }
            }
            GlobalKey::MultiFactorAuthAge => {
                let at = session.and_then(|s| s.mfa_authenticated_at.as_deref());
                if let Some(age) = at.and_then(mfa_age) {
                    ctx.insert(name, age.to_string());
                }
            }
            GlobalKey::SourceIdentity => {
                if let Some(source) = session.and_then(|s| s.source_identity.as_deref()) {
                    ctx.insert(name, source);
                }
            }
            // A web identity session's provider (its issuer ARN).
            GlobalKey::FederatedProvider => {
                if let Some(provider) = session.and_then(|s| s.federated_provider.as_deref()) {
                    ctx.insert(name, provider);
                }
            }
            // The target's, not the caller's: the decision adds them.
            GlobalKey::ResourceTag => {}
        }
    }
}

/// Whole seconds since `at` (a session's MFA time), never negative.
fn mfa_age(at: &str) -> Option<i64> {
    let at =
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()?;
    Some(
        (time::OffsetDateTime::now_utc() - at)
            .whole_seconds()
            .max(0),
    )
}

/// `aws:CurrentTime` and `aws:EpochTime` for `now`. They change once a
/// second, so each worker thread formats them once per second and clones
/// them for the other requests of that second.
fn time_keys(now: time::OffsetDateTime) -> (String, String) {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String, String)> =
            const { std::cell::RefCell::new((i64::MIN, String::new(), String::new())) };
    }
    let second = now.unix_timestamp();
    LAST.with_borrow_mut(|(at, current, epoch)| {
        if *at != second {
            *at = second;
            *current = crate::domain::format_time(now);
            *epoch = second.to_string();
        }
        (current.clone(), epoch.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_keys_follow_the_clock_second_by_second() {
        let base = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        for offset_ms in [0, 400, 999, 1_000, 1_500, 61_000, -5_000] {
            let t = base + time::Duration::milliseconds(offset_ms);
            assert_eq!(
                time_keys(t),
                (
                    crate::domain::format_time(t),
                    t.unix_timestamp().to_string()
                ),
                "{offset_ms}"
            );
        }
    }
}
