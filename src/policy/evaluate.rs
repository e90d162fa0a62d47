//! Evaluation (§6): explicit deny anywhere wins; then the identity side
//! (identity policies, boundary, session policies) and the resource side
//! (resource policy or role trust policy), combined by AWS's same-account,
//! cross-account and trust rules.
//!
//! `evaluate` explains (every matching statement, the deciding layer, the
//! condition keys the context lacked); `is_allowed` runs the same logic
//! with short-circuits and without allocating.

use serde::{Deserialize, Serialize};

use super::compile::{CompiledPolicy, CompiledStatement, PolicyProbe, SourceKind};
use super::context::RequestContext;
use super::index::Query;
use super::principal::Grant;
pub use super::principal::{Principal, PrincipalKind};
use super::Effect;

/// A resource-based policy with the account that owns the resource. A trust
/// policy is passed here too, compiled with `SourceKind::Trust`.
#[derive(Debug, Clone, Copy)]
pub struct ResourcePolicy<'a> {
    pub policy: &'a CompiledPolicy,
    pub owner_account: &'a str,
}

#[derive(Debug, Clone, Copy)]
pub struct EvaluationRequest<'a> {
    pub principal: &'a Principal,
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a RequestContext,
    pub identity: &'a [&'a CompiledPolicy],
    pub boundary: Option<&'a CompiledPolicy>,
    /// `None`: no session policies were passed (they then limit nothing).
    pub session: Option<&'a [&'a CompiledPolicy]>,
    /// For `sts:AssumeRole`: the role's trust policy, which must always allow.
    pub resource_policy: Option<ResourcePolicy<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
}

/// The layer that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Identity,
    Boundary,
    Session,
    Resource,
    Trust,
    /// The root user's implicit allow in its own account, or the rule that
    /// root credentials cannot assume roles.
    Root,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedStatement {
    pub source: SourceKind,
    pub policy: String,
    pub sid: Option<String>,
    pub index: usize,
    pub effect: Effect,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub decision: Decision,
    pub decided_by: Layer,
    pub matched_statements: Vec<MatchedStatement>,
    pub missing_context_keys: Vec<String>,
}

impl Evaluation {
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allowed
    }

    /// AWS's reason clause (§6.6), e.g. "with an explicit deny in an
    /// identity-based policy" or "because no role trust policy allows the
    /// sts:AssumeRole action". `None` when allowed.
    pub fn denial_reason(&self, action: &str) -> Option<String> {
        // AWS says "a permissions boundary", not "a permissions boundary policy".
        let (article, kind) = match self.decided_by {
            Layer::Identity => ("an", "identity-based policy"),
            Layer::Boundary => ("a", "permissions boundary"),
            Layer::Session => ("a", "session policy"),
            Layer::Resource => ("a", "resource-based policy"),
            Layer::Trust => ("a", "role trust policy"),
            Layer::Root => {
                return match self.decision {
                    Decision::Allowed => None,
                    _ => Some("because roles may not be assumed by root accounts".into()),
                }
            }
        };
        match self.decision {
            Decision::Allowed => None,
            Decision::ExplicitDeny => Some(format!("with an explicit deny in {article} {kind}")),
            Decision::ImplicitDeny => Some(format!("because no {kind} allows the {action} action")),
        }
    }

    /// The whole AccessDenied message: "User: ARN is not authorized to
    /// perform: ACTION on resource: RESOURCE REASON".
    pub fn denial_message(&self, caller_arn: &str, action: &str, resource: &str) -> Option<String> {
        let reason = self.denial_reason(action)?;
        Some(format!(
            "User: {caller_arn} is not authorized to perform: {action} on resource: {resource} {reason}"
        ))
    }
}

/// Collects explanations; the fast path uses `()` and records nothing.
trait Sink {
    const EXPLAIN: bool;
    fn matched(&mut self, st: &CompiledStatement);
    fn examined(&mut self, st: &CompiledStatement, ctx: &RequestContext);
    fn end_scan(&mut self) {}
}

impl Sink for () {
    const EXPLAIN: bool = false;
    fn matched(&mut self, _: &CompiledStatement) {}
    fn examined(&mut self, _: &CompiledStatement, _: &RequestContext) {}
}

#[derive(Default)]
struct Explain {
    /// Statement addresses: statements of one policy live in one Vec, so
    /// address order is document order, and duplicates (a statement offered
    /// by two index buckets) sort together.
    pending: Vec<(usize, MatchedStatement)>,
    matched: Vec<MatchedStatement>,
    missing: Vec<String>,
}

impl Sink for Explain {
    const EXPLAIN: bool = true;
    fn end_scan(&mut self) {
        self.pending.sort_by_key(|(addr, _)| *addr);
        self.pending.dedup_by_key(|(addr, _)| *addr);
        self.matched.extend(self.pending.drain(..).map(|(_, m)| m));
    }
    fn matched(&mut self, st: &CompiledStatement) {
        self.matched_impl(st);
    }
    fn examined(&mut self, st: &CompiledStatement, ctx: &RequestContext) {
        self.examined_impl(st, ctx);
    }
}

impl Explain {
    fn matched_impl(&mut self, st: &CompiledStatement) {
        self.pending.push((
            st as *const CompiledStatement as usize,
            MatchedStatement {
                source: st.source,
                policy: st.policy.to_string(),
                sid: st.sid.as_deref().map(str::to_string),
                index: st.index,
                effect: st.effect,
            },
        ));
    }
    fn examined_impl(&mut self, st: &CompiledStatement, ctx: &RequestContext) {
        for c in &st.conditions {
            if c.key_missing(ctx) && !self.missing.iter().any(|k| k.eq_ignore_ascii_case(&c.name)) {
                self.missing.push(c.name.to_string());
            }
        }
    }
}

/// Policies whose index probe a decision keeps: the identity set, the
/// boundary, a session policy and the resource policy. More (several
/// session policies) are probed again for the allow pass.
const PROBES_KEPT: usize = 4;

struct Run<'r, 'a, S> {
    req: &'r EvaluationRequest<'a>,
    q: Query<'r>,
    sink: S,
    /// Probes of the deny pass, reused by the allow pass.
    probes: [Option<PolicyProbe<'a>>; PROBES_KEPT],
}

impl<'r, 'a, S: Sink> Run<'r, 'a, S> {
    fn new(req: &'r EvaluationRequest<'a>, q: Query<'r>, sink: S) -> Self {
        Run {
            req,
            q,
            sink,
            probes: [None; PROBES_KEPT],
        }
    }

    fn probe(&mut self, policy: &'a CompiledPolicy) -> PolicyProbe<'a> {
        let mut free = None;
        for slot in &mut self.probes {
            match slot {
                Some(p) if std::ptr::eq(p.policy, policy) => return *p,
                Some(_) => {}
                None => {
                    free = Some(slot);
                    break;
                }
            }
        }
        let p = policy.probe(&self.q);
        if let Some(slot) = free {
            *slot = Some(p);
        }
        p
    }

    /// The strongest grant among applicable statements of `effect`.
    fn scan(&mut self, policy: &'a CompiledPolicy, effect: Effect) -> Option<Grant> {
        let probe = self.probe(policy);
        let (q, req, sink) = (&self.q, self.req, &mut self.sink);
        let ctx = req.context;
        let mut best: Option<Grant> = None;
        probe.candidates(effect, |st| {
            if !st.action_matches(q.action) || !st.resource_matches(&q.resource, ctx) {
                return false;
            }
            let Some(grant) = st.principal_grant(req.principal) else {
                return false;
            };
            sink.examined(st, ctx);
            if !st.conditions_hold(ctx) {
                return false;
            }
            sink.matched(st);
            best = best.max(Some(grant));
            !S::EXPLAIN && grant == Grant::Direct
        });
        sink.end_scan();
        best
    }

    fn any(&mut self, policies: &[&'a CompiledPolicy], effect: Effect) -> bool {
        let mut found = false;
        for &p in policies {
            found |= self.scan(p, effect).is_some();
            if found && !S::EXPLAIN {
                break;
            }
        }
        found
    }

    fn decide(&mut self) -> (Decision, Layer) {
        let req = self.req;
        let rp = req.resource_policy;
        let rp_layer = match rp.map(|r| r.policy.kind()) {
            Some(SourceKind::Trust) => Layer::Trust,
            _ => Layer::Resource,
        };

        // 1. An applicable Deny anywhere ends it.
        let mut denied: Option<Layer> = None;
        let mut layers: [(Layer, &[&CompiledPolicy]); 2] =
            [(Layer::Identity, req.identity), (Layer::Session, &[])];
        if let Some(s) = req.session {
            layers[1].1 = s;
        }
        let boundary = req.boundary.map(|b| [b]);
        let rp_arr = rp.map(|r| [r.policy]);
        let deny_order: [(Layer, &[&CompiledPolicy]); 4] = [
            layers[0],
            (
                Layer::Boundary,
                boundary.as_ref().map_or(&[][..], |b| &b[..]),
            ),
            layers[1],
            (rp_layer, rp_arr.as_ref().map_or(&[][..], |r| &r[..])),
        ];
        for (layer, policies) in deny_order {
            if self.any(policies, Effect::Deny) {
                if !S::EXPLAIN {
                    return (Decision::ExplicitDeny, layer);
                }
                denied.get_or_insert(layer);
            }
        }

        let who = req.principal;
        let member = who.is_account_member();
        let assume = self.q.action.starts_with(b"sts:assumerole");
        let resource_account = match rp {
            Some(r) => Some(r.owner_account),
            None => self.q.resource.account(),
        };
        let same_account = resource_account.is_none_or(|a| a == who.account);
        let root_here = who.kind == PrincipalKind::Root && same_account;

        // 2. The identity side, each part computed in explain mode even when
        //    an earlier part already failed, so that every match is listed.
        let identity_ok = member && (root_here || self.any(req.identity, Effect::Allow));
        // The boundary and session policies also cap a resource policy that
        // names the role (§6.3), so they are needed then too.
        let needed = member && (S::EXPLAIN || identity_ok || rp.is_some());
        let boundary_ok = match req.boundary {
            Some(b) if needed => self.scan(b, Effect::Allow).is_some(),
            Some(_) => false,
            None => true,
        };
        let session_ok = match req.session {
            Some(s) if needed => self.any(s, Effect::Allow),
            Some(_) => false,
            // A GetFederationToken session without a session policy has no
            // permissions (§6.2 step 6).
            None => !matches!(who.kind, PrincipalKind::FederatedUser { .. }),
        };
        let identity_side = identity_ok && boundary_ok && session_ok;
        let identity_fail = if !identity_ok {
            Layer::Identity
        } else if !boundary_ok {
            Layer::Boundary
        } else {
            Layer::Session
        };
        let identity_layer = if root_here && req.identity.is_empty() {
            Layer::Root
        } else {
            Layer::Identity
        };

        // 3. The resource side.
        let grant = match rp {
            Some(r) => self.scan(r.policy, Effect::Allow),
            None => None,
        };

        if let Some(layer) = denied {
            return (Decision::ExplicitDeny, layer);
        }
        if assume && who.kind == PrincipalKind::Root {
            return (Decision::ImplicitDeny, Layer::Root);
        }
        let Some(_) = rp else {
            return if !member || !identity_side {
                (Decision::ImplicitDeny, identity_fail)
            } else if !same_account {
                // Another account's resource needs that account's resource
                // policy (§6.4).
                (Decision::ImplicitDeny, Layer::Resource)
            } else {
                (Decision::Allowed, identity_layer)
            };
        };
        if !member {
            // Anonymous callers, services and identity providers have no
            // identity side: the resource policy alone decides.
            return match grant {
                Some(_) => (Decision::Allowed, rp_layer),
                None => (Decision::ImplicitDeny, rp_layer),
            };
        }
        if !same_account {
            // §6.4: both accounts must allow; the §6.3 shortcuts do not apply.
            return match (identity_side, grant) {
                (false, _) => (Decision::ImplicitDeny, identity_fail),
                (true, None) => (Decision::ImplicitDeny, rp_layer),
                (true, Some(_)) => (Decision::Allowed, rp_layer),
            };
        }
        // §6.3: what the resource policy grants depends on how it names us.
        let resource_grants = match grant {
            None => None,
            Some(Grant::Direct) => Some(true),
            Some(Grant::Capped) => Some(boundary_ok && session_ok),
            Some(Grant::Account) => Some(identity_side),
        };
        let capped_fail = if !boundary_ok {
            Layer::Boundary
        } else {
            Layer::Session
        };
        if rp_layer == Layer::Trust {
            // §6.5: the trust policy must allow, whatever the identity side says.
            return match (grant, resource_grants) {
                (None, _) => (Decision::ImplicitDeny, Layer::Trust),
                (_, Some(true)) => (Decision::Allowed, Layer::Trust),
                (Some(Grant::Account), _) => (Decision::ImplicitDeny, identity_fail),
                _ => (Decision::ImplicitDeny, capped_fail),
            };
        }
        match resource_grants {
            Some(true) if grant != Some(Grant::Account) => (Decision::Allowed, Layer::Resource),
            _ if identity_side => (Decision::Allowed, identity_layer),
            Some(false) if grant == Some(Grant::Capped) => (Decision::ImplicitDeny, capped_fail),
            _ => (Decision::ImplicitDeny, identity_fail),
        }
    }
}

const STACK_ACTION: usize = 128;

/// Lower-cases the action on the stack (the globs it is matched against
/// are lower-cased bytes, so it is never re-validated as UTF-8).
fn with_query<R>(req: &EvaluationRequest, f: impl FnOnce(Query) -> R) -> R {
    let bytes = req.action.as_bytes();
    let mut buf = [0u8; STACK_ACTION];
    if bytes.len() <= STACK_ACTION {
        let lower = &mut buf[..bytes.len()];
        lower.copy_from_slice(bytes);
        lower.make_ascii_lowercase();
        return f(Query::new(lower, req.resource));
    }
    let owned = req.action.to_ascii_lowercase();
    f(Query::new(owned.as_bytes(), req.resource))
}

/// Decides and explains.
pub fn evaluate(req: &EvaluationRequest) -> Evaluation {
    with_query(req, |q| {
        let mut run = Run::new(req, q, Explain::default());
        let (decision, decided_by) = run.decide();
        run.sink.end_scan();
        let mut missing = std::mem::take(&mut run.sink.missing);
        missing.sort();
        Evaluation {
            decision,
            decided_by,
            matched_statements: std::mem::take(&mut run.sink.matched),
            missing_context_keys: missing,
        }
    })
}

/// Decides only: the hot path.
pub fn is_allowed(req: &EvaluationRequest) -> bool {
    with_query(req, |q| {
        let mut run = Run::new(req, q, ());
        run.decide().0 == Decision::Allowed
    })
}

/// Decision and deciding layer without the explanation.
pub fn decide(req: &EvaluationRequest) -> (Decision, Layer) {
    with_query(req, |q| Run::new(req, q, ()).decide())
}
