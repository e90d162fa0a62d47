//! Size quotas (§2.1). Overruns are `LimitExceeded`, not malformed documents.

use crate::policy::PolicyError;

/// Each version of a managed policy.
pub const MANAGED_POLICY_MAX_SIZE: usize = 6144;
/// All inline policies of one user, together.
pub const USER_INLINE_MAX: usize = 2048;
/// All inline policies of one group, together.
pub const GROUP_INLINE_MAX: usize = 5120;
/// All inline policies of one role, together.
pub const ROLE_INLINE_MAX: usize = 10240;
/// A role's trust policy (AWS's default; adjustable there).
pub const TRUST_POLICY_MAX: usize = 2048;
/// An STS session policy, inline text plus managed policy ARNs.
pub const SESSION_POLICY_MAX: usize = 2048;

/// Size as AWS counts it: characters excluding whitespace.
///
/// Whitespace means the four whitespace characters a policy may contain at
/// all (space, tab, LF, CR), wherever they are, inside strings too. Other
/// characters count one each, whatever their UTF-8 length.
pub fn policy_size(text: &str) -> usize {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
        .count()
}

/// Whether `text` uses only the characters the IAM API admits in a policy
/// parameter: tab, LF, CR and U+0020–U+00FF. AWS refuses anything else as a
/// `ValidationError` of the request, before validating the policy.
pub fn has_only_policy_characters(text: &str) -> bool {
    text.chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FF}'))
}

/// Checks one document against a limit; Err(PolicyError::LimitExceeded("Cannot exceed quota for PolicySize: 6144")).
pub fn check_managed_policy_size(text: &str) -> Result<(), PolicyError> {
    within(policy_size(text), MANAGED_POLICY_MAX_SIZE, || {
        format!("Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX_SIZE}")
    })
}

/// Checks a role's trust policy. AWS names this quota `ACLSizePerRole`.
pub fn check_trust_policy_size(text: &str) -> Result<(), PolicyError> {
    within(policy_size(text), TRUST_POLICY_MAX, || {
        format!("Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX}")
    })
}

/// The entity whose inline policies share one size budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InlinePolicyOwner {
    User,
    Group,
    Role,
}

impl InlinePolicyOwner {
    pub fn limit(self) -> usize {
        match self {
            InlinePolicyOwner::User => USER_INLINE_MAX,
            InlinePolicyOwner::Group => GROUP_INLINE_MAX,
            InlinePolicyOwner::Role => ROLE_INLINE_MAX,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            InlinePolicyOwner::User => "user",
            InlinePolicyOwner::Group => "group",
            InlinePolicyOwner::Role => "role",
        }
    }
}

/// Checks the inline policies an entity would hold after a put: the sum of
/// their sizes against the owner's limit, e.g.
/// "Maximum policy size of 2048 bytes exceeded for user alice".
pub fn check_inline_policies_size<'a>(
    owner: InlinePolicyOwner,
    owner_name: &str,
    documents: impl IntoIterator<Item = &'a str>,
) -> Result<(), PolicyError> {
    let total = documents.into_iter().map(policy_size).sum();
    within(total, owner.limit(), || {
        format!(
            "Maximum policy size of {} bytes exceeded for {} {owner_name}",
            owner.limit(),
            owner.noun()
        )
    })
}

fn within(size: usize, limit: usize, message: impl FnOnce() -> String) -> Result<(), PolicyError> {
    if size > limit {
        Err(PolicyError::LimitExceeded(message()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_ignores_whitespace_everywhere() {
        assert_eq!(policy_size(" { \"a b\" :\t1 }\r\n"), 8);
        assert_eq!(policy_size("é"), 1);
        assert_eq!(policy_size(""), 0);
    }

    #[test]
    fn managed_policy_limit_is_inclusive() {
        let at_limit = "x".repeat(MANAGED_POLICY_MAX_SIZE);
        assert_eq!(check_managed_policy_size(&at_limit), Ok(()));
        let padded = format!("{at_limit}   \n");
        assert_eq!(check_managed_policy_size(&padded), Ok(()));
        let over = format!("{at_limit}x");
        assert_eq!(
            check_managed_policy_size(&over),
            Err(PolicyError::LimitExceeded(
                "Cannot exceed quota for PolicySize: 6144".to_owned()
            ))
        );
    }

    #[test]
    fn trust_policy_limit() {
        assert!(check_trust_policy_size(&"x".repeat(2048)).is_ok());
        assert_eq!(
            check_trust_policy_size(&"x".repeat(2049)),
            Err(PolicyError::LimitExceeded(
                "Cannot exceed quota for ACLSizePerRole: 2048".to_owned()
            ))
        );
    }

    #[test]
    fn inline_policies_are_summed_per_owner() {
        let half = "x".repeat(1024);
        assert!(check_inline_policies_size(
            InlinePolicyOwner::User,
            "alice",
            [half.as_str(), half.as_str()]
        )
        .is_ok());
        assert_eq!(
            check_inline_policies_size(
                InlinePolicyOwner::User,
                "alice",
                [half.as_str(), half.as_str(), "y"]
            ),
            Err(PolicyError::LimitExceeded(
                "Maximum policy size of 2048 bytes exceeded for user alice".to_owned()
            ))
        );
        assert_eq!(
            check_inline_policies_size(InlinePolicyOwner::Role, "R", [&*"x".repeat(10241)]),
            Err(PolicyError::LimitExceeded(
                "Maximum policy size of 10240 bytes exceeded for role R".to_owned()
            ))
        );
        assert_eq!(InlinePolicyOwner::Group.limit(), 5120);
    }

    #[test]
    fn quota_constants() {
        assert_eq!(
            [
                MANAGED_POLICY_MAX_SIZE,
                USER_INLINE_MAX,
                GROUP_INLINE_MAX,
                ROLE_INLINE_MAX,
                TRUST_POLICY_MAX,
                SESSION_POLICY_MAX
            ],
            [6144, 2048, 5120, 10240, 2048, 2048]
        );
    }

    #[test]
    fn policy_character_set() {
        assert!(has_only_policy_characters("{\"a\":\t\"é\"}\r\n"));
        assert!(!has_only_policy_characters("\u{0100}"));
        assert!(!has_only_policy_characters("\u{7}"));
        assert!(!has_only_policy_characters("日本"));
    }
}
