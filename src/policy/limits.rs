//! Bounds on the work one request may make the engine do, in one place so
//! that the README's security section can quote them.
//!
//! Real policies are small (identity policies are at most 6,144 or 10,240
//! characters, resource policies 20–32 KB), so none of these limits is
//! reached by a policy AWS would store; they exist because `/v1/evaluate`
//! and `/v1/authorize` take documents and context from the request itself,
//! and a single oversized request used to hold an actix worker for
//! seconds.

/// Values under one condition key of one operator. AWS publishes no such
/// limit; a 6,144-character policy cannot hold more than ~1,500 values, and
/// the longest real lists (CIDR allow-lists in bucket policies) run to a
/// few hundred.
pub const MAX_CONDITION_VALUES_PER_KEY: usize = 1_000;

/// The MalformedPolicyDocument message for a condition key over
/// [`MAX_CONDITION_VALUES_PER_KEY`].
pub fn too_many_values(key: &str, n: usize) -> String {
    format!(
        "Condition key {key} lists {n} values; a condition key may list at most {MAX_CONDITION_VALUES_PER_KEY} values."
    )
}

/// Keys in a request's `context` (`/v1/evaluate`, `/v1/authorize`,
/// `ContextEntries` of Simulate*). AWS derives about thirty global keys;
/// a service adds a handful of its own.
pub const MAX_CONTEXT_KEYS: usize = 100;
/// Values of one multivalued context key. AWS caps the tags of a request
/// (`aws:TagKeys`) at 50.
pub const MAX_CONTEXT_VALUES_PER_KEY: usize = 100;
/// Bytes in one context key name (AWS's `ContextKeyName` is 5–256).
pub const MAX_CONTEXT_KEY_LENGTH: usize = 256;
/// Bytes in one context value: the longest ARN AWS accepts.
pub const MAX_CONTEXT_VALUE_LENGTH: usize = 2_048;

/// Characters (AWS's count: excluding whitespace) of one identity,
/// boundary or session document given inline to `/v1/evaluate`: the
/// largest identity-policy quota AWS has (a role's inline policies). A
/// larger document could not be attached anywhere.
pub const MAX_INLINE_POLICY_SIZE: usize = 10_240;
/// Identity documents given inline to one `/v1/evaluate` request: a role
/// holds at most 25 managed policies, plus its inline ones.
pub const MAX_INLINE_POLICIES: usize = 30;
/// Characters (excluding whitespace) of a resource policy given to
/// `/v1/evaluate` or `/v1/authorize`: the largest resource-policy quota
/// among AWS services (KMS key policies, 32 KB; S3 and SQS allow 20 KB).
pub const MAX_RESOURCE_POLICY_SIZE: usize = 32_768;

/// Action x resource pairs one simulation may name. The AWS console and
/// CLI page Simulate* results; 10,000 is e.g. every S3 action against 60
/// resources. Checked before anything is allocated for the results.
pub const MAX_SIMULATION_PAIRS: usize = 10_000;
/// Results per page of a simulation (AWS's MaxItems range is 1–1000,
/// default 100).
pub const MAX_SIMULATION_PAGE: usize = 1_000;
pub const DEFAULT_SIMULATION_PAGE: usize = 100;

/// Condition work one request may cost, in units of about one simple
/// comparison (~25 ns): each policy value tested against a context value
/// one by one (glob and ARN patterns, CIDR blocks, numbers, dates) is a
/// unit, plus its steps times the bytes compared over
/// [`WORK_BYTES_PER_UNIT`]. Exact strings, `prefix*` and `*` patterns are
/// looked up in hash sets and cost nothing here. A few ms of one core at
/// the worst (benches/policy.rs `bounded_work`).
pub const MAX_MATCH_WORK: u64 = 100_000;
/// The same budget for one `/v1/authorize` decision (and every decision
/// `iam::authorize::decide` makes), which runs on the actix worker that
/// also serves other tenants, where a simulation runs off it: a tenth.
/// Real policies and contexts cost tens of units.
pub const MAX_AUTHORIZE_WORK: u64 = 10_000;
/// Glob steps x bytes that count as one unit of [`MAX_MATCH_WORK`].
pub const WORK_BYTES_PER_UNIT: u64 = 16;

/// The work of comparing `linear` policy values, of `weight` steps in all,
/// with `values` request values of `bytes` bytes in all.
pub fn work(linear: u64, weight: u64, values: u64, bytes: u64) -> u64 {
    linear
        .saturating_mul(values)
        .saturating_add(weight.saturating_mul(bytes) / WORK_BYTES_PER_UNIT)
}

/// How many pairs of a simulation page fit the budget at `per_pair` each
/// (at least one: a single decision was checked on its own).
pub fn pairs_within_budget(per_pair: u64) -> usize {
    let n = MAX_MATCH_WORK.checked_div(per_pair).unwrap_or(u64::MAX);
    usize::try_from(n).unwrap_or(usize::MAX).max(1)
}
