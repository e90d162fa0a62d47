//! Compiled conditions (§4): every operator, `...IfExists`, the set
//! qualifiers and `Null`.
//!
//! Missing keys: a key is missing when the context lacks it or holds only
//! empty strings (an empty string is "null", §4.2). Then `IfExists` is true,
//! `ForAllValues` true, `ForAnyValue` false, a positive operator false and a
//! negated one true.
//!
//! Unparseable request values (an IP that is not an address, a number that
//! is not a number, ...) make the whole condition **false**, negated or not.
//! AWS's simulator raises an error instead; false is the safe reading for an
//! Allow, and for a Deny it means a malformed value cannot trigger it, which
//! is why callers must populate typed keys (aws:SourceIp, aws:CurrentTime)
//! themselves rather than pass them through from clients.

use std::collections::HashSet;
use std::net::IpAddr;

pub(crate) mod operators;
pub(crate) mod values;

use super::context::{KeyName, RequestContext};
use super::document::ConditionValue;
use super::global_keys::GlobalKeys;
use super::limits::{too_many_values, MAX_CONDITION_VALUES_PER_KEY};
use super::pattern::{ArnPattern, Glob, SplitArn};
use super::variables::Template;
use super::PolicyError;
use operators::{parse_operator, Cmp, Family, Operator, Qualifier};
use values::{Cidr, Decimal, Instant};

/// A string-valued policy value: fixed, or a template with variables.
#[derive(Debug, Clone)]
enum Text<T> {
    Fixed(T),
    Vars(Template),
}

/// Fixed strings, looked up by hash: a request value costs one lookup
/// however many values the policy lists (a list of thousands used to be
/// compared one by one, against every request value).
type FixedSet = HashSet<Box<str>, foldhash::fast::RandomState>;

/// `StringEquals` values: the fixed ones in a set, the ones with policy
/// variables resolved per request.
#[derive(Debug, Clone, Default)]
struct StringValues {
    fixed: FixedSet,
    vars: Vec<Template>,
}

/// `StringLike` values, by shape: `*` alone, exact text and `prefix*` are
/// answered by set lookups; only the other globs and variables are tried
/// one by one (and count towards the request's match work).
#[derive(Debug, Clone, Default)]
struct LikeValues {
    any: bool,
    exact: FixedSet,
    prefixes: FixedSet,
    /// The distinct lengths in `prefixes`, ascending.
    prefix_lens: Vec<usize>,
    general: Vec<Glob>,
    vars: Vec<Template>,
}

impl LikeValues {
    fn add(&mut self, glob: Glob) {
        match glob {
            Glob::Any => self.any = true,
            Glob::Exact(e) => {
                self.exact.insert(e);
            }
            Glob::Prefix(p) => {
                if let Err(at) = self.prefix_lens.binary_search(&p.len()) {
                    self.prefix_lens.insert(at, p.len());
                }
                self.prefixes.insert(p);
            }
            general @ Glob::General(_) => self.general.push(general),
        }
    }

    fn matches(&self, r: &str, ctx: &RequestContext) -> bool {
        // A prefix is valid UTF-8, so a request value that starts with it
        // has a character boundary at its length: `get` loses no match.
        self.any
            || self.exact.contains(r)
            || self
                .prefix_lens
                .iter()
                .any(|&n| r.get(..n).is_some_and(|head| self.prefixes.contains(head)))
            || self.general.iter().any(|g| g.matches(r))
            || self
                .vars
                .iter()
                .any(|t| t.resolve_glob(ctx).is_some_and(|g| g.matches(r)))
    }
}

#[derive(Debug, Clone)]
enum Values {
    Strings(StringValues),
    Likes(LikeValues),
    Numbers(Vec<Decimal>),
    Dates(Vec<Instant>),
    Bools(Vec<Text<bool>>),
    Binary(Vec<Vec<u8>>),
    Nets(Vec<Cidr>),
    Arns(Vec<Text<ArnPattern>>),
    Null(Vec<bool>),
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledCondition {
    /// The key as written, for explanations.
    pub(crate) name: Box<str>,
    /// Lower-cased with its hash: context keys are stored lower-cased (§4.1).
    pub(crate) key: KeyName,
    op: Operator,
    values: Values,
    /// How long the linear values take to compare, beyond their count:
    /// the steps of each glob, the length of each ARN pattern or template.
    weight: u64,
}

fn legacy() -> PolicyError {
    PolicyError::malformed("The policy failed legacy parsing")
}

fn syntax() -> PolicyError {
    PolicyError::malformed("Syntax errors in policy.")
}

impl CompiledCondition {
    pub(crate) fn compile(
        operator: &str,
        key: &str,
        raw: &[ConditionValue],
        expand_vars: bool,
    ) -> Result<Self, PolicyError> {
        let op = parse_operator(operator).ok_or_else(syntax)?;
        if raw.len() > MAX_CONDITION_VALUES_PER_KEY {
            return Err(PolicyError::malformed(too_many_values(key, raw.len())));
        }
        let texts: Vec<String> = raw.iter().map(ConditionValue::as_text).collect();
        let template = |t: &str| {
            if expand_vars {
                Template::parse(t)
            } else {
                None
            }
        };
        let values = match op.family {
            Family::String { ignore_case } => {
                let mut set = StringValues::default();
                for t in &texts {
                    match template(t) {
                        Some(v) => set.vars.push(v),
                        None if ignore_case => {
                            set.fixed.insert(t.to_lowercase().into());
                        }
                        None => {
                            set.fixed.insert(Box::<str>::from(&t[..]));
                        }
                    }
                }
                Values::Strings(set)
            }
            Family::Like => {
                let mut set = LikeValues::default();
                for t in &texts {
                    match template(t) {
                        Some(v) => set.vars.push(v),
                        None => set.add(Glob::new(t)),
                    }
                }
                Values::Likes(set)
            }
            Family::Arn => Values::Arns(
                texts
                    .iter()
                    .map(|t| {
                        template(t)
                            .map_or_else(|| Text::Fixed(ArnPattern::new(t, false)), Text::Vars)
                    })
                    .collect(),
            ),
            Family::Bool => Values::Bools(
                texts
                    .iter()
                    .map(|t| match template(t) {
                        Some(v) => Ok(Text::Vars(v)),
                        None => values::parse_bool(t).map(Text::Fixed).ok_or_else(syntax),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Family::Numeric(_) => Values::Numbers(
                texts
                    .iter()
                    .map(|t| values::parse_number(t).ok_or_else(syntax))
                    .collect::<Result<_, _>>()?,
            ),
            Family::Date(_) => Values::Dates(
                texts
                    .iter()
                    .map(|t| values::parse_date(t).ok_or_else(legacy))
                    .collect::<Result<_, _>>()?,
            ),
            Family::Binary => Values::Binary(
                texts
                    .iter()
                    .map(|t| values::parse_base64(t).ok_or_else(syntax))
                    .collect::<Result<_, _>>()?,
            ),
            Family::Ip => Values::Nets(
                texts
                    .iter()
                    .map(|t| Cidr::parse(t).ok_or_else(syntax))
                    .collect::<Result<_, _>>()?,
            ),
            Family::Null => Values::Null(
                texts
                    .iter()
                    .map(|t| values::parse_bool(t).ok_or_else(syntax))
                    .collect::<Result<_, _>>()?,
            ),
        };
        let weigh = |t: &String| (t.len() / 8 + 1) as u64;
        let templates: u64 = if expand_vars {
            texts.iter().filter(|t| t.contains("${")).map(weigh).sum()
        } else {
            0
        };
        let weight = match &values {
            Values::Strings(_) => templates,
            Values::Likes(v) => templates + v.general.iter().map(Glob::steps).sum::<u64>(),
            Values::Arns(_) => texts.iter().map(weigh).sum(),
            _ => 0,
        };
        Ok(CompiledCondition {
            name: key.into(),
            key: KeyName::new(key),
            op,
            values,
            weight,
        })
    }

    /// The server-derived keys this condition reads: its key, and the
    /// variables in its values.
    pub(crate) fn global_keys_read(&self) -> GlobalKeys {
        fn vars<T>(texts: &[Text<T>]) -> GlobalKeys {
            texts.iter().fold(GlobalKeys::NONE, |keys, t| match t {
                Text::Vars(template) => keys.union(template.global_keys_read()),
                Text::Fixed(_) => keys,
            })
        }
        let templates = |ts: &[Template]| {
            ts.iter()
                .fold(GlobalKeys::NONE, |keys, t| keys.union(t.global_keys_read()))
        };
        let in_values = match &self.values {
            Values::Strings(v) => templates(&v.vars),
            Values::Likes(v) => templates(&v.vars),
            Values::Arns(v) => vars(v),
            Values::Bools(v) => vars(v),
            Values::Numbers(_)
            | Values::Dates(_)
            | Values::Binary(_)
            | Values::Nets(_)
            | Values::Null(_) => GlobalKeys::NONE,
        };
        GlobalKeys::of_name(&self.name).union(in_values)
    }

    /// The policy values a request value is compared with one by one (set
    /// lookups are not counted): the unit of [`super::limits::MAX_MATCH_WORK`].
    pub(crate) fn linear_values(&self) -> u64 {
        let n = match &self.values {
            Values::Strings(v) => v.vars.len(),
            Values::Likes(v) => v.prefix_lens.len() + v.general.len() + v.vars.len(),
            Values::Arns(v) => v.len(),
            Values::Bools(v) => v.len(),
            Values::Numbers(v) => v.len(),
            Values::Dates(v) => v.len(),
            Values::Binary(v) => v.len(),
            Values::Nets(v) => v.len(),
            Values::Null(_) => 0,
        };
        n as u64
    }

    /// See `linear_values`: the steps of those comparisons.
    pub(crate) fn weight(&self) -> u64 {
        self.weight
    }

    /// The work one evaluation of this condition costs at most in `ctx`
    /// (see `limits::work`).
    pub(crate) fn work(&self, ctx: &RequestContext) -> u64 {
        let Some(request) = ctx.get_key(&self.key) else {
            return 0;
        };
        let bytes = request.iter().map(|v| v.len() as u64).sum();
        super::limits::work(
            self.linear_values(),
            self.weight,
            request.len() as u64,
            bytes,
        )
    }

    /// Whether the context lacks this condition's key (for explanations).
    pub(crate) fn key_missing(&self, ctx: &RequestContext) -> bool {
        present(ctx.get_key(&self.key)).is_none()
    }

    #[inline]
    pub(crate) fn eval(&self, ctx: &RequestContext) -> bool {
        let (request, ip) = match ctx.get_key_ip(&self.key) {
            Some((values, ip)) => (present(Some(values)), ip),
            None => (None, None),
        };
        if let Values::Null(expect_null) = &self.values {
            return match self.op.qualifier {
                // §4.4: a set qualifier on Null makes it constant.
                Qualifier::ForAllValues => true,
                Qualifier::ForAnyValue => false,
                Qualifier::Single => expect_null.iter().any(|&n| n == request.is_none()),
            };
        }
        let Some(request) = request else {
            return self.op.if_exists
                || match self.op.qualifier {
                    Qualifier::ForAllValues => true,
                    Qualifier::ForAnyValue => false,
                    Qualifier::Single => self.op.negated,
                };
        };
        let negated = self.op.negated;
        match self.op.qualifier {
            Qualifier::Single => {
                let mut any = false;
                for r in request {
                    match self.matches_any(r, ip, ctx) {
                        Some(m) => any |= m,
                        None => return false,
                    }
                }
                any != negated
            }
            Qualifier::ForAnyValue => {
                let mut any = false;
                for r in request {
                    match self.matches_any(r, ip, ctx) {
                        Some(m) => any |= m != negated,
                        None => return false,
                    }
                }
                any
            }
            Qualifier::ForAllValues => {
                for r in request {
                    match self.matches_any(r, ip, ctx) {
                        Some(m) if m != negated => {}
                        _ => return false,
                    }
                }
                true
            }
        }
    }

    /// Does request value `r` match some policy value (positive sense)?
    /// `None` when `r` cannot be read as the operator's type. A policy value
    /// whose variable is unresolved is null and matches nothing (§5.4).
    /// `ip`: the context's parsed address when the key has the one value `r`.
    fn matches_any(&self, r: &str, ip: Option<IpAddr>, ctx: &RequestContext) -> Option<bool> {
        Some(match &self.values {
            Values::Strings(ps) => {
                let ignore = matches!(self.op.family, Family::String { ignore_case: true });
                let lowered;
                let r = if ignore && r.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
                    lowered = r.to_lowercase();
                    lowered.as_str()
                } else {
                    r
                };
                ps.fixed.contains(r)
                    || ps.vars.iter().any(|t| {
                        t.resolve_text(ctx).is_some_and(|p| {
                            if ignore {
                                p.to_lowercase() == r
                            } else {
                                p == r
                            }
                        })
                    })
            }
            Values::Likes(ps) => ps.matches(r, ctx),
            Values::Arns(ps) => {
                let arn = SplitArn::new(r);
                ps.iter().any(|p| match p {
                    Text::Fixed(a) => a.matches(&arn),
                    Text::Vars(t) => t
                        .resolve_text(ctx)
                        .is_some_and(|p| ArnPattern::new(&p, false).matches(&arn)),
                })
            }
            Values::Bools(ps) => {
                let r = values::parse_bool(r)?;
                ps.iter().any(|p| match p {
                    Text::Fixed(b) => *b == r,
                    Text::Vars(t) => t
                        .resolve_text(ctx)
                        .and_then(|p| values::parse_bool(&p))
                        .is_some_and(|b| b == r),
                })
            }
            Values::Numbers(ps) => {
                let r = values::parse_number(r)?;
                let cmp = match self.op.family {
                    Family::Numeric(c) => c,
                    _ => Cmp::Eq,
                };
                ps.iter().any(|p| cmp.holds(&r, p))
            }
            Values::Dates(ps) => {
                let r = values::parse_date(r)?;
                let cmp = match self.op.family {
                    Family::Date(c) => c,
                    _ => Cmp::Eq,
                };
                ps.iter().any(|p| cmp.holds(&r, p))
            }
            Values::Binary(ps) => ps.iter().any(|p| p.as_slice() == r.as_bytes()),
            Values::Nets(ps) => {
                let ip = match ip {
                    Some(ip) => ip,
                    None => values::parse_ip(r)?,
                };
                ps.iter().any(|n| n.contains(ip))
            }
            Values::Null(_) => false,
        })
    }
}

/// The request's values, or `None` when the key is missing or null.
fn present(values: Option<&[String]>) -> Option<&[String]> {
    values.filter(|v| v.iter().any(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests;
