//! Tags (AWS-IAM-NOTES §1.7).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A tag on a user, role or managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tag {
    /// 1 to 128 characters; must not start with `aws:`.
    pub key: String,
    /// 0 to 256 characters.
    pub value: String,
}

pub const MAX_TAGS: usize = 50;

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

impl Tag {
    pub fn validate(&self) -> Result<(), String> {
        let key_len = self.key.chars().count();
        if key_len == 0 || key_len > 128 || !self.key.chars().all(is_tag_char) {
            return Err(format!(
                "1 validation error detected: Value '{}' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128 and match [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]+",
                self.key
            ));
        }
        if self.value.chars().count() > 256 || !self.value.chars().all(is_tag_char) {
            return Err(format!(
                "1 validation error detected: Value at 'tags.member.value' for key '{}' failed to satisfy constraint: Member must have length between 0 and 256 and match [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*",
                self.key
            ));
        }
        if self.key.to_ascii_lowercase().starts_with("aws:") {
            return Err("Tag keys starting with 'aws:' are reserved for internal use".to_string());
        }
        Ok(())
    }
}

/// Validates a tag set: each tag, at most 50, and no key twice ignoring
/// case (users and roles treat keys case-insensitively).
pub fn validate_tags(tags: &[Tag]) -> Result<(), String> {
    if tags.len() > MAX_TAGS {
        return Err(format!(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to {MAX_TAGS}"
        ));
    }
    for tag in tags {
        tag.validate()?;
    }
    let mut seen = std::collections::HashSet::new();
    for tag in tags {
        if !seen.insert(tag.key.to_lowercase()) {
            return Err(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
                    .to_string(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn tag_rules() {
        assert!(validate_tags(&[tag("team", "blue"), tag("cost center", "")]).is_ok());
        assert!(validate_tags(&[tag("aws:x", "y")]).is_err());
        assert!(validate_tags(&[tag("", "y")]).is_err());
        assert!(validate_tags(&[tag("Dept", "a"), tag("dept", "b")]).is_err());
        assert!(validate_tags(&[tag("k", "bad!")]).is_err());
        let fifty: Vec<Tag> = (0..50).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(validate_tags(&fifty).is_ok());
        let fifty_one: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(validate_tags(&fifty_one).is_err());
    }
}
