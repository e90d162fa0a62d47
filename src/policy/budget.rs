//! The condition work of one decision, measured against the bounds of
//! `limits.rs` before the engine runs. Apart from `limits.rs` because it
//! reads compiled policies and the evaluation request, which themselves
//! use those bounds.

use super::evaluate::EvaluationRequest;
use super::limits::{work, MAX_MATCH_WORK};
use super::CompiledPolicy;

/// An upper bound on the condition work one decision costs: every
/// condition of every policy in play, as if every statement matched.
/// The hot path gets a cheaper, coarser bound first.
pub fn decision_work(req: &EvaluationRequest<'_>, limit: u64) -> u64 {
    let policies = || {
        req.identity
            .iter()
            .copied()
            .chain(req.boundary)
            .chain(req.session.into_iter().flatten().copied())
            .chain(req.resource_policy.as_ref().map(|r| r.policy))
    };
    let (values, bytes) = req.context.largest_key();
    let sum = |f: fn(&CompiledPolicy) -> u64| policies().map(f).fold(0u64, u64::saturating_add);
    let coarse = work(
        sum(CompiledPolicy::linear_values),
        sum(CompiledPolicy::linear_weight),
        values as u64,
        bytes as u64,
    );
    if coarse <= limit {
        return coarse;
    }
    policies()
        .map(|p| p.condition_work(req.context))
        .fold(0u64, u64::saturating_add)
}

/// Whether one decision fits `limit` ([`MAX_MATCH_WORK`] or
/// [`super::limits::MAX_AUTHORIZE_WORK`]); the message names the limit.
pub fn check_decision_work(req: &EvaluationRequest<'_>, limit: u64) -> Result<u64, String> {
    let work = decision_work(req, limit);
    if work > limit {
        Err(format!(
            "The policies and context of this request need up to {work} units of condition matching per decision; the limit is {limit}. Use fewer values under condition keys or fewer values per context key."
        ))
    } else {
        Ok(work)
    }
}

/// What one simulated pair costs against a page's [`MAX_MATCH_WORK`]: its
/// condition work, plus a unit per statement in play, since every pair
/// probes every policy (about 25 ns a statement; a page of the largest
/// documents a request can carry otherwise ran to 26 ms). Refuses, naming
/// the limit, a request whose single decision is over it.
pub fn simulated_pair_work(req: &EvaluationRequest<'_>) -> Result<u64, String> {
    let conditions = check_decision_work(req, MAX_MATCH_WORK)?;
    let statements = req
        .identity
        .iter()
        .copied()
        .chain(req.boundary)
        .chain(req.session.into_iter().flatten().copied())
        .chain(req.resource_policy.as_ref().map(|r| r.policy))
        .map(|p| p.statement_count() as u64)
        .fold(0u64, u64::saturating_add);
    Ok(conditions.saturating_add(statements))
}
