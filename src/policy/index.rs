//! The statement index: why a request costs a handful of probes whatever
//! the number of statements.
//!
//! Every statement is filed under (action key, resource key) pairs:
//! - action key: the exact lower-cased action (`s3:getobject`), or its
//!   service when the action name has wildcards (`s3:get*` -> `s3`), or
//!   "global" for `*`, a wildcard service or NotAction;
//! - resource key: the resource *head* (ARN up to the first `/` or `:` of
//!   the resource part, e.g. `arn:aws:s3:::bucket`) when every Resource
//!   pattern fixes it, else "any".
//!
//! A request probes the 3 x 2 combinations. Keys are 64-bit hashes: a
//! collision only adds candidates, which are fully matched anyway, so the
//! index can never change a decision, only its cost.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::compile::CompiledStatement;
use super::pattern::{pattern_head, SplitArn};
use super::Effect;

/// Sets this small are scanned linearly: cheaper than six probes.
const LINEAR_MAX: usize = 12;

const SEED_EXACT: u64 = 0xcbf2_9ce4_8422_2325;
const SEED_SERVICE: u64 = 0x84222325_cbf29ce4;
const GLOBAL: u64 = 0x5bd1_e995_5bd1_e995;
const ANY_RESOURCE: u64 = 0x9e37_79b9_7f4a_7c15;

fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    super::fasthash::hash_bytes(seed, bytes)
}

fn mix(action_key: u64, resource_key: u64) -> u64 {
    // murmur3 finalizer: spreads the bits hashbrown's control bytes use.
    let mut k = action_key
        ^ resource_key
            .rotate_left(29)
            .wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// The keys are already well mixed; hashing them again is wasted time.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv(self.0 ^ SEED_EXACT, bytes);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Map = HashMap<u64, Vec<u32>, BuildHasherDefault<IdHasher>>;

/// A request, prepared once for all layers.
pub(crate) struct Query<'a> {
    /// ASCII-lower-cased action bytes.
    pub action: &'a [u8],
    pub resource: SplitArn<'a>,
    keys: [u64; 6],
}

impl<'a> Query<'a> {
    /// `action` must already be lower-cased.
    pub(crate) fn new(action: &'a [u8], resource: &'a str) -> Self {
        let svc = match action.iter().position(|&b| b == b':') {
            Some(p) => &action[..p],
            None => action,
        };
        let split = SplitArn::new(resource);
        let head = fnv(SEED_EXACT, split.head().as_bytes());
        let exact = fnv(SEED_EXACT, action);
        let service = fnv(SEED_SERVICE, svc);
        Query {
            action,
            resource: split,
            keys: [
                mix(exact, head),
                mix(exact, ANY_RESOURCE),
                mix(service, head),
                mix(service, ANY_RESOURCE),
                mix(GLOBAL, head),
                mix(GLOBAL, ANY_RESOURCE),
            ],
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// [deny, allow]: statement numbers, for small sets.
    linear: [Vec<u32>; 2],
    map: Option<[Map; 2]>,
    /// Per map, one bit per key (by its top six bits): most probes are for
    /// keys no statement uses, and this answers them without touching the map.
    present: [u64; 2],
}

fn bloom_bit(key: u64) -> u64 {
    1 << (key >> 58)
}

fn slot(effect: Effect) -> usize {
    match effect {
        Effect::Deny => 0,
        Effect::Allow => 1,
    }
}

fn action_keys(st: &CompiledStatement) -> Vec<u64> {
    let Some((negated, globs)) = &st.actions else {
        return Vec::new();
    };
    if *negated {
        return vec![GLOBAL];
    }
    globs
        .iter()
        .map(|g| {
            let (prefix, whole) = g.literal_prefix();
            match prefix.split_once(':') {
                Some(_) if whole => fnv(SEED_EXACT, prefix.as_bytes()),
                Some((svc, _)) => fnv(SEED_SERVICE, svc.as_bytes()),
                None => GLOBAL,
            }
        })
        .collect()
}

fn resource_keys(st: &CompiledStatement) -> Vec<u64> {
    let Some(prefixes) = st.resource_prefixes() else {
        return vec![ANY_RESOURCE];
    };
    let mut keys = Vec::with_capacity(prefixes.len());
    for (prefix, whole) in &prefixes {
        match pattern_head(prefix, *whole) {
            Some(h) => keys.push(fnv(SEED_EXACT, h.as_bytes())),
            None => return vec![ANY_RESOURCE],
        }
    }
    keys
}

impl Index {
    pub(crate) fn build(statements: &[CompiledStatement]) -> Index {
        let mut index = Index::default();
        for (i, st) in statements.iter().enumerate() {
            if st.actions.is_some() {
                index.linear[slot(st.effect)].push(i as u32);
            }
        }
        if statements.len() <= LINEAR_MAX {
            return index;
        }
        let mut maps: [Map; 2] = Default::default();
        for (i, st) in statements.iter().enumerate() {
            let map = &mut maps[slot(st.effect)];
            let rkeys = resource_keys(st);
            for a in action_keys(st) {
                for &r in &rkeys {
                    let key = mix(a, r);
                    index.present[slot(st.effect)] |= bloom_bit(key);
                    let list = map.entry(key).or_default();
                    if list.last() != Some(&(i as u32)) {
                        list.push(i as u32);
                    }
                }
            }
        }
        index.map = Some(maps);
        index
    }

    pub(crate) fn candidates(
        &self,
        effect: Effect,
        q: &Query,
        mut f: impl FnMut(u32) -> bool,
    ) -> bool {
        let s = slot(effect);
        match &self.map {
            None => self.linear[s].iter().any(|&i| f(i)),
            Some(maps) => {
                let (map, present) = (&maps[s], self.present[s]);
                q.keys
                    .iter()
                    .filter(|&&k| present & bloom_bit(k) != 0)
                    .filter_map(|k| map.get(k))
                    .any(|list| list.iter().any(|&i| f(i)))
            }
        }
    }
}
