//! Validated names and paths (AWS-IAM-NOTES §1.2, §1.3). Parse, don't
//! validate: once a `EntityName` exists, it fits its kind's rules.

use std::fmt;

/// The kinds of named IAM entity, with their name limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    User,
    Group,
    Role,
    Policy,
    InlinePolicy,
    InstanceProfile,
    MfaDevice,
}

impl EntityKind {
    fn max_len(self) -> usize {
        match self {
            EntityKind::User | EntityKind::Role => 64,
            EntityKind::MfaDevice => 226,
            _ => 128,
        }
    }

    /// The member name AWS uses in validation messages.
    fn field(self) -> &'static str {
        match self {
            EntityKind::User => "userName",
            EntityKind::Group => "groupName",
            EntityKind::Role => "roleName",
            EntityKind::Policy | EntityKind::InlinePolicy => "policyName",
            EntityKind::InstanceProfile => "instanceProfileName",
            EntityKind::MfaDevice => "virtualMFADeviceName",
        }
    }

    /// The word AWS uses in "The user with name X cannot be found.".
    pub fn noun(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::Role => "role",
            EntityKind::Policy | EntityKind::InlinePolicy => "policy",
            EntityKind::InstanceProfile => "instance profile",
            EntityKind::MfaDevice => "MFA device",
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// A user, group, role, policy or instance-profile name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityName(String);

impl EntityName {
    /// Checks length and the pattern `[\w+=,.@-]+`; the error is AWS's
    /// ValidationError message.
    pub fn parse(kind: EntityKind, s: &str) -> Result<Self, String> {
        let field = kind.field();
        if s.is_empty() || s.chars().count() > kind.max_len() {
            return Err(format!(
                "1 validation error detected: Value '{s}' at '{field}' failed to satisfy constraint: Member must have length between 1 and {}",
                kind.max_len()
            ));
        }
        if !s.chars().all(is_name_char) {
            return Err(format!(
                "1 validation error detected: Value '{s}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
            ));
        }
        Ok(EntityName(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key names are unique under (AWS: case-insensitively).
    pub fn lower(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for EntityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EntityName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An IAM path: `/` or `/segments/` (1 to 512 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IamPath(String);

impl IamPath {
    /// Users, groups, roles and instance profiles: printable ASCII but space.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_with(
            s,
            |c| ('\u{21}'..='\u{7e}').contains(&c),
            "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        )
    }

    /// Managed policies use a stricter pattern (no `*`).
    pub fn parse_policy_path(s: &str) -> Result<Self, String> {
        Self::parse_with(
            s,
            |c| c.is_ascii_alphanumeric() || ".,+@=_-/".contains(c),
            "((/[A-Za-z0-9\\.,\\+@=_-]+)*)/",
        )
    }

    fn parse_with(s: &str, allowed: impl Fn(char) -> bool, pattern: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > 512 {
            return Err(format!(
                "1 validation error detected: Value '{s}' at 'path' failed to satisfy constraint: Member must have length between 1 and 512"
            ));
        }
        let shaped = s == "/"
            || (s.len() >= 3 && s.starts_with('/') && s.ends_with('/') && !s.contains("//"));
        if !shaped || !s.chars().all(allowed) {
            return Err(format!(
                "1 validation error detected: Value '{s}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
            ));
        }
        Ok(IamPath(s.to_string()))
    }

    pub fn root() -> Self {
        IamPath("/".to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for IamPath {
    fn default() -> Self {
        Self::root()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_model_pattern() {
        assert!(EntityName::parse(EntityKind::User, "alice+ops@example.com").is_ok());
        assert!(EntityName::parse(EntityKind::User, "has space").is_err());
        assert!(EntityName::parse(EntityKind::User, &"a".repeat(65)).is_err());
        assert!(EntityName::parse(EntityKind::Group, &"a".repeat(128)).is_ok());
        assert!(EntityName::parse(EntityKind::Role, "").is_err());
        let err = EntityName::parse(EntityKind::Role, "a/b").unwrap_err();
        assert!(err.contains("roleName"), "{err}");
    }

    #[test]
    fn paths_start_and_end_with_a_slash() {
        assert!(IamPath::parse("/").is_ok());
        assert!(IamPath::parse("/division/team/").is_ok());
        assert!(IamPath::parse("division/").is_err());
        assert!(IamPath::parse("/division").is_err());
        assert!(IamPath::parse("/a b/").is_err());
        assert!(IamPath::parse_policy_path("/a*/").is_err());
        assert!(IamPath::parse("/a*/").is_ok());
    }
}
