//! The request context: condition keys and their values.
//!
//! Condition-key names are case-insensitive (§4.1), so keys are stored
//! lower-cased once, when the context is built, and looked up with a
//! lower-cased name compiled into each condition. Values stay as given:
//! whether they compare case-sensitively depends on the operator.

use std::collections::HashMap;

use super::fasthash::SeededState;

/// Values of one key. Most keys carry one value; `aws:TagKeys` and other
/// multivalued keys carry several.
pub type ContextValues = Vec<String>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    // A fast seeded hasher: lookups are on every condition's hot path.
    entries: HashMap<String, ContextValues, SeededState>,
}

impl RequestContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a single-valued key, replacing any previous value.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.entries
            .insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    /// Sets a multivalued key, replacing any previous values.
    pub fn insert_many<I, S>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.entries.insert(
            key.to_ascii_lowercase(),
            values.into_iter().map(Into::into).collect(),
        );
    }

    /// Removes a key; used to strip reserved keys from caller-supplied context.
    pub fn remove(&mut self, key: &str) -> Option<ContextValues> {
        self.entries.remove(&key.to_ascii_lowercase())
    }

    /// Looks a key up by a name that is already lower-cased (compiled
    /// conditions hold lower-cased names, so the hot path never allocates).
    pub fn get_lowercase(&self, lowercase_key: &str) -> Option<&[String]> {
        self.entries.get(lowercase_key).map(Vec::as_slice)
    }

    /// Looks a key up by any spelling.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        if key.bytes().any(|b| b.is_ascii_uppercase()) {
            self.get_lowercase(&key.to_ascii_lowercase())
        } else {
            self.get_lowercase(key)
        }
    }

    /// The first value of a single-valued key.
    pub fn get_single(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|v| v.first()).map(String::as_str)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keys (lower-cased) and values, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive() {
        let mut ctx = RequestContext::new();
        ctx.insert("aws:SourceIp", "203.0.113.7");
        assert_eq!(ctx.get_single("AWS:sourceip"), Some("203.0.113.7"));
        assert_eq!(ctx.get_lowercase("aws:sourceip").map(|v| v.len()), Some(1));
        assert!(ctx.get("aws:username").is_none());
    }

    #[test]
    fn multivalued_keys_keep_all_values() {
        let mut ctx = RequestContext::new();
        ctx.insert_many("aws:TagKeys", ["a", "B"]);
        assert_eq!(
            ctx.get("aws:tagkeys"),
            Some(&["a".to_string(), "B".to_string()][..])
        );
        assert!(ctx.remove("AWS:TAGKEYS").is_some());
        assert!(ctx.is_empty());
    }
}
