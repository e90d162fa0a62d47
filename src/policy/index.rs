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

type Map = HashMap<u64, Bucket, BuildHasherDefault<IdHasher>>;

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

/// Statement numbers filed under one key, denies first: the deny pass and
/// the allow pass of a decision share one probe.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bucket {
    ids: Vec<u32>,
    allow_from: usize,
}

static NO_BUCKET: Bucket = Bucket {
    ids: Vec::new(),
    allow_from: 0,
};

impl Bucket {
    fn new(deny: Vec<u32>, allow: Vec<u32>) -> Bucket {
        let allow_from = deny.len();
        let mut ids = deny;
        ids.extend(allow);
        Bucket { ids, allow_from }
    }

    #[inline]
    fn of(&self, effect: Effect) -> &[u32] {
        match effect {
            Effect::Deny => &self.ids[..self.allow_from],
            Effect::Allow => &self.ids[self.allow_from..],
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// Every statement, for small sets.
    linear: Bucket,
    map: Option<Map>,
    /// One bit per key (by its top seven bits): most probes are for keys no
    /// statement uses, and this answers them without touching the map.
    present: u128,
}

/// The buckets one query hits in one index, looked up once per decision.
#[derive(Clone, Copy)]
pub(crate) struct Probe<'p> {
    buckets: [&'p Bucket; 6],
    len: usize,
}

impl Probe<'_> {
    /// Calls `f` on the statement numbers of `effect` until it returns true.
    #[inline]
    pub(crate) fn candidates(&self, effect: Effect, mut f: impl FnMut(u32) -> bool) -> bool {
        self.buckets[..self.len]
            .iter()
            .any(|b| b.of(effect).iter().any(|&i| f(i)))
    }
}

#[inline]
fn bloom_bit(key: u64) -> u128 {
    1 << (key >> 57)
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
        let mut lists: [Vec<u32>; 2] = Default::default();
        for (i, st) in statements.iter().enumerate() {
            if st.actions.is_some() {
                lists[slot(st.effect)].push(i as u32);
            }
        }
        let [deny, allow] = lists;
        let mut index = Index {
            linear: Bucket::new(deny, allow),
            ..Index::default()
        };
        if statements.len() <= LINEAR_MAX {
            return index;
        }
        let mut keyed: HashMap<u64, [Vec<u32>; 2], BuildHasherDefault<IdHasher>> =
            HashMap::default();
        for (i, st) in statements.iter().enumerate() {
            let rkeys = resource_keys(st);
            for a in action_keys(st) {
                for &r in &rkeys {
                    let key = mix(a, r);
                    index.present |= bloom_bit(key);
                    let list = &mut keyed.entry(key).or_default()[slot(st.effect)];
                    if list.last() != Some(&(i as u32)) {
                        list.push(i as u32);
                    }
                }
            }
        }
        let map = keyed
            .into_iter()
            .map(|(key, [deny, allow])| (key, Bucket::new(deny, allow)))
            .collect();
        index.map = Some(map);
        index
    }

    #[inline]
    pub(crate) fn probe(&self, q: &Query) -> Probe<'_> {
        let mut probe = Probe {
            buckets: [&NO_BUCKET; 6],
            len: 0,
        };
        match &self.map {
            None => {
                probe.buckets[0] = &self.linear;
                probe.len = 1;
            }
            Some(map) => {
                for k in &q.keys {
                    if self.present & bloom_bit(*k) == 0 {
                        continue;
                    }
                    if let Some(b) = map.get(k) {
                        probe.buckets[probe.len] = b;
                        probe.len += 1;
                    }
                }
            }
        }
        probe
    }
}
