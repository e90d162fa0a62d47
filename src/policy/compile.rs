//! Compilation: a document becomes statements with lower-cased actions,
//! compiled globs and parsed condition values, filed in an index so that a
//! request visits only the statements that can match its action and
//! resource (see `index.rs`). Done once per document; the result is
//! immutable, `Send + Sync`, and shared as `Arc<CompiledPolicy>`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::condition::CompiledCondition;
use super::context::RequestContext;
use super::document::{ActionElement, PolicyDocument, PrincipalElement, ResourceElement};
use super::global_keys::GlobalKeys;
use super::index::{Index, Probe, Query};
use super::pattern::{arn_colons, ArnPattern, Glob, SplitArn};
use super::principal::{Grant, Principal, PrincipalMatcher};
use super::variables::Template;
use super::{Effect, PolicyError};

/// Which layer a policy belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Identity,
    Boundary,
    Session,
    Resource,
    Trust,
}

/// Where a policy came from; `name` (policy name or ARN) is reported in
/// explanations.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PolicySource {
    pub kind: SourceKind,
    pub name: String,
}

impl PolicySource {
    pub fn new(kind: SourceKind, name: impl Into<String>) -> Self {
        PolicySource {
            kind,
            name: name.into(),
        }
    }
}

#[derive(Debug, Clone)]
enum ResourcePattern {
    Static(ArnPattern),
    /// Variables in the resource segment: the head stays fixed.
    Vars {
        text: Box<str>,
        colons: Option<[usize; 5]>,
        rest: Template,
    },
}

impl ResourcePattern {
    fn compile(text: &str, expand_vars: bool) -> ResourcePattern {
        let template = if expand_vars {
            Template::parse(text)
        } else {
            None
        };
        let Some(whole) = template else {
            return ResourcePattern::Static(ArnPattern::new(text, true));
        };
        match arn_colons(text) {
            // Variables are only allowed after the fifth colon (§5.4).
            Some(c) if !text[..c[4]].contains("${") => ResourcePattern::Vars {
                text: text.into(),
                colons: Some(c),
                rest: Template::parse(&text[c[4] + 1..]).unwrap_or(whole),
            },
            _ => ResourcePattern::Vars {
                text: text.into(),
                colons: None,
                rest: whole,
            },
        }
    }

    #[inline]
    fn matches(&self, resource: &SplitArn, ctx: &RequestContext) -> bool {
        match self {
            ResourcePattern::Static(p) => p.matches(resource),
            ResourcePattern::Vars { .. } => self.matches_vars(resource, ctx),
        }
    }

    /// Out of line, so that the common static case above inlines into the
    /// scan loop.
    #[inline(never)]
    fn matches_vars(&self, resource: &SplitArn, ctx: &RequestContext) -> bool {
        let ResourcePattern::Vars { text, colons, rest } = self else {
            return false;
        };
        // An unresolved variable without default matches nothing (§5.4).
        match rest.resolve_glob(ctx) {
            None => false,
            Some(g) => match colons {
                Some(c) => ArnPattern::with_head(text, *c, g, true).matches(resource),
                None => g.matches(resource.full),
            },
        }
    }

    /// The text every match starts with, and whether it is the whole match.
    pub(crate) fn literal_prefix(&self) -> (String, bool) {
        match self {
            ResourcePattern::Static(p) => p.literal_prefix(),
            ResourcePattern::Vars { text, .. } => {
                let cut = text.find(['*', '?']).unwrap_or(text.len());
                let cut = cut.min(text.find("${").unwrap_or(text.len()));
                (text[..cut].to_owned(), false)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledStatement {
    pub(crate) source: SourceKind,
    pub(crate) policy: Arc<str>,
    pub(crate) sid: Option<Arc<str>>,
    pub(crate) index: usize,
    pub(crate) effect: Effect,
    /// (negated, lower-cased patterns); `None`: no Action element, matches nothing.
    pub(crate) actions: Option<(bool, Vec<Glob>)>,
    /// `None`: no Resource element (trust policies): any resource.
    resources: Option<(bool, Vec<ResourcePattern>)>,
    principal: Option<(bool, PrincipalMatcher)>,
    pub(crate) conditions: Vec<CompiledCondition>,
}

impl CompiledStatement {
    pub(crate) fn resource_prefixes(&self) -> Option<Vec<(String, bool)>> {
        match &self.resources {
            Some((false, pats)) => Some(pats.iter().map(ResourcePattern::literal_prefix).collect()),
            _ => None,
        }
    }

    /// `action_lower`: the request's action, ASCII-lower-cased.
    #[inline]
    pub(crate) fn action_matches(&self, action_lower: &[u8]) -> bool {
        match &self.actions {
            None => false,
            Some((negated, pats)) => pats.iter().any(|g| g.matches_bytes(action_lower)) != *negated,
        }
    }

    #[inline]
    pub(crate) fn resource_matches(&self, resource: &SplitArn, ctx: &RequestContext) -> bool {
        match &self.resources {
            None => true,
            Some((negated, pats)) => pats.iter().any(|p| p.matches(resource, ctx)) != *negated,
        }
    }

    /// How the statement's Principal names the caller. Identity-side
    /// statements carry no Principal and always apply to their owner.
    #[inline]
    pub(crate) fn principal_grant(&self, who: &Principal) -> Option<Grant> {
        match &self.principal {
            None => match self.source {
                SourceKind::Resource | SourceKind::Trust => None,
                _ => Some(Grant::Direct),
            },
            Some((false, m)) => m.grant(who),
            // NotPrincipal: applies to everyone it does not name.
            Some((true, m)) => match m.grant(who) {
                Some(_) => None,
                None => Some(Grant::Direct),
            },
        }
    }

    /// Conditions and resource variables are the only readers of the
    /// context: the derived keys among what they read.
    fn global_keys_read(&self) -> GlobalKeys {
        let in_conditions = self
            .conditions
            .iter()
            .fold(GlobalKeys::NONE, |keys, c| keys.union(c.global_keys_read()));
        let resources = self.resources.iter().flat_map(|(_, pats)| pats);
        resources.fold(in_conditions, |keys, p| match p {
            ResourcePattern::Vars { rest, .. } => keys.union(rest.global_keys_read()),
            ResourcePattern::Static(_) => keys,
        })
    }

    #[inline]
    pub(crate) fn conditions_hold(&self, ctx: &RequestContext) -> bool {
        self.conditions.iter().all(|c| c.eval(ctx))
    }

    fn compile(
        st: &super::document::Statement,
        index: usize,
        source: &PolicySource,
        policy: &Arc<str>,
        expand_vars: bool,
    ) -> Result<Self, PolicyError> {
        let actions = st.action.as_ref().map(|a| {
            let (negated, list) = match a {
                ActionElement::Action(l) => (false, l),
                ActionElement::NotAction(l) => (true, l),
            };
            (
                negated,
                list.iter()
                    .map(|s| Glob::new(&s.to_ascii_lowercase()))
                    .collect(),
            )
        });
        let resources = st.resource.as_ref().map(|r| {
            let (negated, list) = match r {
                ResourceElement::Resource(l) => (false, l),
                ResourceElement::NotResource(l) => (true, l),
            };
            (
                negated,
                list.iter()
                    .map(|s| ResourcePattern::compile(s, expand_vars))
                    .collect(),
            )
        });
        let principal = st.principal.as_ref().map(|p| match p {
            PrincipalElement::Principal(p) => (false, PrincipalMatcher::compile(p)),
            PrincipalElement::NotPrincipal(p) => (true, PrincipalMatcher::compile(p)),
        });
        let mut conditions = Vec::new();
        for (op, keys) in &st.condition {
            for (key, values) in keys {
                conditions.push(CompiledCondition::compile(op, key, values, expand_vars)?);
            }
        }
        Ok(CompiledStatement {
            source: source.kind,
            policy: policy.clone(),
            sid: st.sid.as_deref().map(Arc::from),
            index,
            effect: st.effect,
            actions,
            resources,
            principal,
            conditions,
        })
    }
}

/// One policy (or several merged into one set), ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    source: PolicySource,
    statements: Vec<CompiledStatement>,
    index: Index,
    global_keys_read: GlobalKeys,
    /// Sums of every condition's `linear_values` and `weight`, for a
    /// cheap work bound.
    linear_values: u64,
    linear_weight: u64,
}

impl CompiledPolicy {
    pub fn compile(doc: &PolicyDocument, source: PolicySource) -> Result<Self, PolicyError> {
        let name: Arc<str> = Arc::from(source.name.as_str());
        let expand = doc.effective_version().expands_variables();
        let statements = doc
            .statements
            .iter()
            .enumerate()
            .map(|(i, st)| CompiledStatement::compile(st, i, &source, &name, expand))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_statements(source, statements))
    }

    /// Parses and compiles JSON text in one step.
    pub fn from_json(text: &str, source: PolicySource) -> Result<Self, PolicyError> {
        Self::compile(&PolicyDocument::parse(text)?, source)
    }

    /// Merges several compiled policies of one layer into a single indexed
    /// set, so that a principal with hundreds of policies still costs a
    /// handful of index probes per request. Statements keep the name of the
    /// policy they came from; `source` names the set.
    pub fn merge(source: PolicySource, parts: &[&CompiledPolicy]) -> Self {
        let statements = parts
            .iter()
            .flat_map(|p| p.statements.iter().cloned())
            .collect();
        Self::from_statements(source, statements)
    }

    fn from_statements(source: PolicySource, statements: Vec<CompiledStatement>) -> Self {
        let index = Index::build(&statements);
        let global_keys_read = statements
            .iter()
            .fold(GlobalKeys::NONE, |keys, s| keys.union(s.global_keys_read()));
        let linear_values = statements
            .iter()
            .flat_map(|s| &s.conditions)
            .map(CompiledCondition::linear_values)
            .fold(0u64, u64::saturating_add);
        let linear_weight = statements
            .iter()
            .flat_map(|s| &s.conditions)
            .map(CompiledCondition::weight)
            .fold(0u64, u64::saturating_add);
        CompiledPolicy {
            source,
            statements,
            index,
            global_keys_read,
            linear_values,
            linear_weight,
        }
    }

    /// The policy values, over all conditions, that are compared with a
    /// request value one by one (see `policy::limits`).
    pub fn linear_values(&self) -> u64 {
        self.linear_values
    }

    /// The steps of those comparisons per byte compared (see `policy::limits`).
    pub fn linear_weight(&self) -> u64 {
        self.linear_weight
    }

    /// An upper bound on the condition comparisons evaluating this policy
    /// in `ctx` costs, as if every statement applied.
    pub fn condition_work(&self, ctx: &RequestContext) -> u64 {
        if self.linear_values == 0 {
            return 0;
        }
        self.statements
            .iter()
            .flat_map(|s| &s.conditions)
            .map(|c| c.work(ctx))
            .fold(0u64, u64::saturating_add)
    }

    pub fn source(&self) -> &PolicySource {
        &self.source
    }

    pub fn kind(&self) -> SourceKind {
        self.source.kind
    }

    /// The server-derived keys (§5.1) some statement reads, in a condition
    /// key or a policy variable. The others cannot change a decision over
    /// this policy, so the server need not build them.
    pub fn global_keys_read(&self) -> GlobalKeys {
        self.global_keys_read
    }

    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// The index buckets `q` hits, for the deny and the allow pass.
    #[inline]
    pub(crate) fn probe(&self, q: &Query) -> PolicyProbe<'_> {
        PolicyProbe {
            policy: self,
            probe: self.index.probe(q),
        }
    }
}

/// A policy with the index buckets one request hits.
#[derive(Clone, Copy)]
pub(crate) struct PolicyProbe<'p> {
    pub(crate) policy: &'p CompiledPolicy,
    probe: Probe<'p>,
}

impl<'p> PolicyProbe<'p> {
    /// Calls `f` on every statement of `effect` that may match the query,
    /// until `f` returns true. A statement may be offered more than once.
    #[inline]
    pub(crate) fn candidates(
        &self,
        effect: Effect,
        mut f: impl FnMut(&'p CompiledStatement) -> bool,
    ) -> bool {
        let statements = &self.policy.statements;
        self.probe
            .candidates(effect, |i| f(&statements[i as usize]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn compiled_policy_is_shareable() {
        assert_send_sync::<CompiledPolicy>();
        assert_send_sync::<Arc<CompiledPolicy>>();
    }

    #[test]
    fn knows_which_derived_keys_it_reads() {
        use crate::policy::GlobalKey;
        let src = || PolicySource::new(SourceKind::Identity, "p");
        let doc = |extra: &str, resource: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}},{{"Effect":"Deny","Action":"*","Resource":"{resource}"{extra}}}]}}"#
            )
        };
        let reads = |extra: &str, resource: &str| {
            CompiledPolicy::from_json(&doc(extra, resource), src())
                .unwrap()
                .global_keys_read()
        };
        assert!(reads("", "*").is_empty());
        // A request key is not a derived one.
        assert!(reads(r#","Condition":{"StringLike":{"s3:prefix":"a/*"}}"#, "*").is_empty());
        let secure = reads(
            r#","Condition":{"Bool":{"AWS:securetransport":"false"}}"#,
            "*",
        );
        assert!(secure.contains(GlobalKey::SecureTransport));
        assert!(!secure.contains(GlobalKey::SourceIp));
        assert!(reads("", "arn:aws:s3:::b/${aws:username}/*").contains(GlobalKey::Username));
        // Variables in condition values count too.
        let in_value = reads(
            r#","Condition":{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/team}"}}"#,
            "*",
        );
        assert!(in_value.contains(GlobalKey::PrincipalTag));
        // Version 2008-10-17 leaves variables literal.
        let old = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username}"}}"#;
        assert!(CompiledPolicy::from_json(old, src())
            .unwrap()
            .global_keys_read()
            .is_empty());
        let plain = CompiledPolicy::from_json(&doc("", "*"), src()).unwrap();
        let ip = CompiledPolicy::from_json(
            &doc(
                r#","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
                "*",
            ),
            src(),
        )
        .unwrap();
        let merged = CompiledPolicy::merge(src(), &[&plain, &ip]).global_keys_read();
        assert!(merged.contains(GlobalKey::SourceIp));
        assert!(CompiledPolicy::merge(src(), &[&plain])
            .global_keys_read()
            .is_empty());
    }

    #[test]
    fn unknown_operator_and_bad_values_fail_to_compile() {
        let src = || PolicySource::new(SourceKind::Identity, "p");
        let doc = |cond: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{cond}}}}}"#
            )
        };
        for bad in [
            r#"{"UnsupportedOperation":{"k":"v"}}"#,
            r#"{"IpAddress":{"aws:SourceIp":"not-an-ip"}}"#,
            r#"{"NumericEquals":{"k":"ten"}}"#,
            r#"{"DateLessThan":{"k":"tomorrow"}}"#,
            r#"{"BinaryEquals":{"k":"%%%"}}"#,
            r#"{"Bool":{"k":"maybe"}}"#,
        ] {
            assert!(
                CompiledPolicy::from_json(&doc(bad), src()).is_err(),
                "{bad}"
            );
        }
        assert!(CompiledPolicy::from_json(&doc(r#"{"Bool":{"k":"${aws:x}"}}"#), src()).is_ok());
    }
}
