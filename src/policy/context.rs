//! The request context: condition keys and their values.
//!
//! Condition-key names are case-insensitive (§4.1), so keys are stored
//! lower-cased once, when the context is built, and looked up with a
//! lower-cased name compiled into each condition. Values stay as given:
//! whether they compare case-sensitively depends on the operator.
//!
//! Lookups are on every condition's hot path, so each key is hashed once:
//! the context when a key is inserted, a compiled condition (a `KeyName`)
//! when the policy is compiled. A lookup is then one probe of a small
//! open-addressing table with the precomputed hash, and one comparison.

use std::fmt;
use std::net::IpAddr;

use super::fasthash::{hash_bytes, process_seed};

/// Values of one key. Most keys carry one value; `aws:TagKeys` and other
/// multivalued keys carry several.
pub type ContextValues = Vec<String>;

/// The hash every lookup of `lowercase` uses. Seeded once per process, so
/// that request-supplied context keys cannot be chosen to collide.
#[inline]
fn key_hash(lowercase: &str) -> u64 {
    hash_bytes(process_seed(), lowercase.as_bytes())
}

/// A lower-cased condition-key name with its hash, computed once (at
/// policy compile time) for lookups in any context of this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyName {
    hash: u64,
    text: Box<str>,
}

impl KeyName {
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn new(name: &str) -> Self {
        let text: Box<str> = name.to_ascii_lowercase().into();
        KeyName {
            hash: key_hash(&text),
            text,
        }
    }
}

#[derive(Clone)]
struct Entry {
    hash: u64,
    key: String,
    values: ContextValues,
    /// A single value read as an IP address, once per request rather than
    /// once per IpAddress condition (aws:SourceIp is tested by most
    /// guardrail policies).
    ip: Option<IpAddr>,
}

/// The address `values` holds, if it is one value that reads as one.
fn single_ip(values: &[String]) -> Option<IpAddr> {
    let [v] = values else { return None };
    // Every context build inserts a dozen values (times, ARNs, account
    // ids): only text made of address characters, with a dot or colon, is
    // worth a parse (an address may carry a /prefix, and spaces are trimmed).
    let t = v.trim();
    let shaped = t.len() <= 64
        && t.bytes().any(|b| b == b'.' || b == b':')
        && t.bytes()
            .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'/'));
    if shaped {
        super::condition::values::parse_ip(v)
    } else {
        None
    }
}

/// An address as `Display` writes it; IPv4 by hand, since the formatter
/// costs more than the rest of building a caller's context or an audit
/// record.
pub fn ip_text(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut out = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if octet >= 100 {
            out.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            out.push(char::from(b'0' + octet / 10 % 10));
        }
        out.push(char::from(b'0' + octet % 10));
    }
    out
}

const EMPTY: u32 = u32::MAX;

/// A slot from the hash's high bits first: the multiplicative hash mixes
/// upwards, so its low bits see little of the key.
#[inline]
fn home(hash: u64) -> usize {
    hash.rotate_left(24) as usize
}

#[derive(Clone, Default)]
pub struct RequestContext {
    /// In insertion order.
    entries: Vec<Entry>,
    /// Open addressing with linear probing: indexes into `entries`, or
    /// `EMPTY`. A power of two at least twice `entries.len()`, or empty.
    slots: Vec<u32>,
}

impl RequestContext {
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    fn find(&self, hash: u64, lowercase_key: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = home(hash) & mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return None;
            }
            let e = &self.entries[s as usize];
            if e.hash == hash && e.key == lowercase_key {
                return Some(s as usize);
            }
            i = (i + 1) & mask;
        }
    }

    fn rebuild_slots(&mut self) {
        self.rebuild_slots_to((self.entries.len() * 2).next_power_of_two());
    }

    fn rebuild_slots_to(&mut self, want: usize) {
        let want = want.max(8);
        self.slots.clear();
        self.slots.resize(want, EMPTY);
        let mask = want - 1;
        for (n, e) in self.entries.iter().enumerate() {
            let mut i = home(e.hash) & mask;
            while self.slots[i] != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = n as u32;
        }
    }

    fn set(&mut self, key: &str, values: ContextValues) {
        let ip = single_ip(&values);
        self.set_with_ip(key, values, ip);
    }

    fn set_with_ip(&mut self, key: &str, values: ContextValues, ip: Option<IpAddr>) {
        let key = key.to_ascii_lowercase();
        let hash = key_hash(&key);
        if let Some(n) = self.find(hash, &key) {
            self.entries[n].values = values;
            self.entries[n].ip = ip;
            return;
        }
        self.entries.push(Entry {
            hash,
            key,
            values,
            ip,
        });
        if self.entries.len() * 2 > self.slots.len() {
            self.rebuild_slots();
        } else {
            let mask = self.slots.len() - 1;
            let mut i = home(hash) & mask;
            while self.slots[i] != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = (self.entries.len() - 1) as u32;
        }
    }

    /// Room for `additional` more keys without growing.
    pub fn reserve(&mut self, additional: usize) {
        self.entries.reserve(additional);
        if (self.entries.len() + additional) * 2 > self.slots.len() {
            let want = ((self.entries.len() + additional) * 2).next_power_of_two();
            self.rebuild_slots_to(want);
        }
    }

    /// Sets a single-valued key, replacing any previous value.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.set(key, vec![value.into()]);
    }

    /// Sets a key to an address the caller already holds parsed
    /// (`aws:SourceIp`), sparing the parse back from text.
    pub fn insert_ip(&mut self, key: &str, ip: IpAddr) {
        self.set_with_ip(key, vec![ip_text(ip)], Some(ip));
    }

    /// Sets a multivalued key, replacing any previous values.
    pub fn insert_many<I, S>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set(key, values.into_iter().map(Into::into).collect());
    }

    /// The most values any one key holds, and the most bytes (0 for an
    /// empty context): a bound for `policy::limits`.
    pub fn largest_key(&self) -> (usize, usize) {
        self.entries.iter().fold((0, 0), |(n, b), e| {
            let bytes = e.values.iter().map(String::len).sum::<usize>();
            (n.max(e.values.len()), b.max(bytes))
        })
    }

    /// Removes a key; used to strip reserved keys from caller-supplied context.
    pub fn remove(&mut self, key: &str) -> Option<ContextValues> {
        let key = key.to_ascii_lowercase();
        let n = self.find(key_hash(&key), &key)?;
        let e = self.entries.remove(n);
        self.rebuild_slots();
        Some(e.values)
    }

    /// Looks a compiled key name up: the hot path (no hashing, no allocation).
    #[inline]
    pub(crate) fn get_key(&self, key: &KeyName) -> Option<&[String]> {
        self.find(key.hash, &key.text)
            .map(|n| self.entries[n].values.as_slice())
    }

    /// `get_key`, with the value already read as an IP address when the key
    /// has one value and it is one.
    #[inline]
    pub(crate) fn get_key_ip(&self, key: &KeyName) -> Option<(&[String], Option<IpAddr>)> {
        self.find(key.hash, &key.text).map(|n| {
            let e = &self.entries[n];
            (e.values.as_slice(), e.ip)
        })
    }

    /// Looks a key up by a name that is already lower-cased.
    pub fn get_lowercase(&self, lowercase_key: &str) -> Option<&[String]> {
        self.find(key_hash(lowercase_key), lowercase_key)
            .map(|n| self.entries[n].values.as_slice())
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
        self.entries
            .iter()
            .map(|e| (e.key.as_str(), e.values.as_slice()))
    }
}

/// Two contexts are equal when they hold the same keys with the same
/// values, whatever the order they were inserted in.
impl PartialEq for RequestContext {
    fn eq(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len()
            && self.entries.iter().all(|e| {
                other
                    .find(e.hash, &e.key)
                    .is_some_and(|n| other.entries[n].values == e.values)
            })
    }
}

impl Eq for RequestContext {}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Entries<'a>(&'a RequestContext);
        impl fmt::Debug for Entries<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map().entries(self.0.iter()).finish()
            }
        }
        f.debug_struct("RequestContext")
            .field("entries", &Entries(self))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_written_as_display_does() {
        for ip in [
            "0.0.0.0",
            "203.0.113.7",
            "10.100.9.255",
            "1.20.199.0",
            "::1",
            "2001:db8::42",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }

    #[test]
    fn keys_are_case_insensitive() {
        let mut ctx = RequestContext::new();
        ctx.insert("aws:SourceIp", "203.0.113.7");
        assert_eq!(ctx.get_single("AWS:sourceip"), Some("203.0.113.7"));
        assert_eq!(ctx.get_lowercase("aws:sourceip").map(|v| v.len()), Some(1));
        assert_eq!(
            ctx.get_key(&KeyName::new("aws:SOURCEIP")).map(|v| v.len()),
            Some(1)
        );
        assert!(ctx.get("aws:username").is_none());
        assert!(ctx.get_key(&KeyName::new("aws:username")).is_none());
    }

    #[test]
    fn single_addresses_are_parsed_once_and_follow_replacement() {
        let mut ctx = RequestContext::new();
        let key = KeyName::new("aws:SourceIp");
        ctx.insert("aws:SourceIp", "10.1.2.3");
        assert_eq!(ctx.get_key_ip(&key).unwrap().1, "10.1.2.3".parse().ok());
        ctx.insert("AWS:SOURCEIP", "2001:db8::7");
        assert_eq!(ctx.get_key_ip(&key).unwrap().1, "2001:db8::7".parse().ok());
        ctx.insert("aws:sourceip", "not an address");
        assert_eq!(ctx.get_key_ip(&key).unwrap().1, None);
        ctx.insert_many("aws:sourceip", ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(ctx.get_key_ip(&key).unwrap().1, None);
        ctx.insert("aws:userid", "AIDAEXAMPLE");
        assert_eq!(ctx.get_key_ip(&KeyName::new("aws:userid")).unwrap().1, None);
    }

    #[test]
    fn reserve_keeps_lookups_working() {
        let mut ctx = RequestContext::new();
        ctx.insert("a:one", "1");
        ctx.reserve(20);
        for i in 0..20 {
            ctx.insert(&format!("k:{i}"), i.to_string());
        }
        ctx.reserve(3);
        assert_eq!(ctx.get_single("A:ONE"), Some("1"));
        assert_eq!(ctx.get_single("k:19"), Some("19"));
        assert_eq!(ctx.iter().count(), 21);
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

    #[test]
    fn many_keys_replace_remove_and_compare() {
        let mut a = RequestContext::new();
        for i in 0..100 {
            a.insert(&format!("k:Key{i}"), format!("v{i}"));
        }
        a.insert("K:KEY7", "again");
        assert_eq!(a.iter().count(), 100);
        assert_eq!(a.get_single("k:key7"), Some("again"));
        for i in (0..100).step_by(3) {
            assert!(a.remove(&format!("k:key{i}")).is_some());
        }
        assert!(a.remove("k:key0").is_none());
        for i in 0..100 {
            let key = KeyName::new(&format!("k:key{i}"));
            assert_eq!(a.get_key(&key).is_some(), i % 3 != 0, "{i}");
        }
        let mut b = RequestContext::new();
        for i in (0..100).rev().filter(|i| i % 3 != 0) {
            let v = if i == 7 {
                "again".into()
            } else {
                format!("v{i}")
            };
            b.insert(&format!("k:key{i}"), v);
        }
        assert_eq!(a, b);
        b.insert("k:key1", "other");
        assert_ne!(a, b);
    }
}
