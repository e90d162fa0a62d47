//! The global condition keys the server derives for every caller (§5.1):
//! `aws:CurrentTime`, `aws:PrincipalArn`, `aws:SourceIp`, ..., and the
//! target's tags (`aws:ResourceTag/*`, `iam:ResourceTag/*`), which cost a
//! store read.
//!
//! Building them costs a dozen allocations and a formatted clock (and a
//! query for the tags), and most decisions read none or one of them. A compiled policy therefore records
//! which of them it reads (as condition keys or as policy variables), and
//! the server builds only those. A key no policy reads cannot change a
//! decision, so the result is the same as building them all.

/// One server-derived key. `aws:PrincipalTag/*` is one entry: a policy
/// that reads any principal tag gets all of them; so is `ResourceTag`, for
/// both `aws:ResourceTag/*` and `iam:ResourceTag/*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalKey {
    CurrentTime,
    EpochTime,
    SecureTransport,
    PrincipalArn,
    PrincipalAccount,
    PrincipalType,
    UserId,
    RequestedRegion,
    SourceIp,
    Username,
    PrincipalTag,
    TokenIssueTime,
    MultiFactorAuthPresent,
    SourceIdentity,
    ResourceTag,
    /// The OIDC provider a web identity session came from.
    FederatedProvider,
    /// Seconds since the session's MFA authentication.
    MultiFactorAuthAge,
}

impl GlobalKey {
    pub const ALL: [GlobalKey; 17] = [
        GlobalKey::CurrentTime,
        GlobalKey::EpochTime,
        GlobalKey::SecureTransport,
        GlobalKey::PrincipalArn,
        GlobalKey::PrincipalAccount,
        GlobalKey::PrincipalType,
        GlobalKey::UserId,
        GlobalKey::RequestedRegion,
        GlobalKey::SourceIp,
        GlobalKey::Username,
        GlobalKey::PrincipalTag,
        GlobalKey::TokenIssueTime,
        GlobalKey::MultiFactorAuthPresent,
        GlobalKey::SourceIdentity,
        GlobalKey::ResourceTag,
        GlobalKey::FederatedProvider,
        GlobalKey::MultiFactorAuthAge,
    ];

    /// The key's name as AWS writes it; for `PrincipalTag` and
    /// `ResourceTag`, the (`aws:`) prefix.
    pub fn name(self) -> &'static str {
        match self {
            GlobalKey::CurrentTime => "aws:CurrentTime",
            GlobalKey::EpochTime => "aws:EpochTime",
            GlobalKey::SecureTransport => "aws:SecureTransport",
            GlobalKey::PrincipalArn => "aws:PrincipalArn",
            GlobalKey::PrincipalAccount => "aws:PrincipalAccount",
            GlobalKey::PrincipalType => "aws:PrincipalType",
            GlobalKey::UserId => "aws:userid",
            GlobalKey::RequestedRegion => "aws:RequestedRegion",
            GlobalKey::SourceIp => "aws:SourceIp",
            GlobalKey::Username => "aws:username",
            GlobalKey::PrincipalTag => "aws:PrincipalTag/",
            GlobalKey::TokenIssueTime => "aws:TokenIssueTime",
            GlobalKey::MultiFactorAuthPresent => "aws:MultiFactorAuthPresent",
            GlobalKey::SourceIdentity => "aws:SourceIdentity",
            GlobalKey::ResourceTag => "aws:ResourceTag/",
            GlobalKey::FederatedProvider => "aws:FederatedProvider",
            GlobalKey::MultiFactorAuthAge => "aws:MultiFactorAuthAge",
        }
    }

    /// The derived key a condition-key name denotes, if any (any case).
    pub fn of_name(name: &str) -> Option<GlobalKey> {
        let prefixed = |prefix: &str| {
            name.len() > prefix.len()
                && name.is_char_boundary(prefix.len())
                && name[..prefix.len()].eq_ignore_ascii_case(prefix)
        };
        if prefixed("aws:principaltag/") {
            return Some(GlobalKey::PrincipalTag);
        }
        if prefixed("aws:resourcetag/") || prefixed("iam:resourcetag/") {
            return Some(GlobalKey::ResourceTag);
        }
        GlobalKey::ALL
            .into_iter()
            .filter(|k| !matches!(k, GlobalKey::PrincipalTag | GlobalKey::ResourceTag))
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// A set of [`GlobalKey`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GlobalKeys(u32);

impl GlobalKeys {
    pub const NONE: GlobalKeys = GlobalKeys(0);
    /// Every derived key: for simulations, which show the whole context.
    pub const ALL: GlobalKeys = GlobalKeys(u32::MAX);

    /// The derived key `name` denotes, or none.
    pub fn of_name(name: &str) -> GlobalKeys {
        GlobalKeys(GlobalKey::of_name(name).map_or(0, GlobalKey::bit))
    }

    pub fn contains(self, key: GlobalKey) -> bool {
        self.0 & key.bit() != 0
    }

    #[must_use]
    pub fn union(self, other: GlobalKeys) -> GlobalKeys {
        GlobalKeys(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_keys_in_any_case() {
        for key in GlobalKey::ALL {
            if !matches!(key, GlobalKey::PrincipalTag | GlobalKey::ResourceTag) {
                assert_eq!(GlobalKey::of_name(key.name()), Some(key));
                assert_eq!(
                    GlobalKey::of_name(&key.name().to_ascii_uppercase()),
                    Some(key)
                );
            }
        }
        assert_eq!(
            GlobalKey::of_name("AWS:principalTag/team"),
            Some(GlobalKey::PrincipalTag)
        );
        assert_eq!(GlobalKey::of_name("aws:PrincipalTag/"), None);
        for name in ["aws:ResourceTag/team", "IAM:resourcetag/team"] {
            assert_eq!(GlobalKey::of_name(name), Some(GlobalKey::ResourceTag));
        }
        assert_eq!(GlobalKey::of_name("aws:ResourceTag/"), None);
        assert_eq!(GlobalKey::of_name("aws:RequestTag/team"), None);
        assert_eq!(GlobalKey::of_name("s3:prefix"), None);
    }

    #[test]
    fn sets_hold_what_was_put_in() {
        let ip = GlobalKeys::of_name("aws:sourceip");
        let both = ip.union(GlobalKeys::of_name("aws:username"));
        assert!(ip.contains(GlobalKey::SourceIp));
        assert!(!ip.contains(GlobalKey::Username));
        assert!(both.contains(GlobalKey::Username) && both.contains(GlobalKey::SourceIp));
        assert!(GlobalKeys::of_name("s3:prefix").is_empty());
        assert!(GlobalKey::ALL
            .into_iter()
            .all(|k| GlobalKeys::ALL.contains(k) && !GlobalKeys::NONE.contains(k)));
    }
}
