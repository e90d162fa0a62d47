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

use std::net::IpAddr;

pub(crate) mod operators;
pub(crate) mod values;

use super::context::{KeyName, RequestContext};
use super::document::ConditionValue;
use super::global_keys::GlobalKeys;
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

#[derive(Debug, Clone)]
enum Values {
    Strings(Vec<Text<Box<str>>>),
    Likes(Vec<Text<Glob>>),
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
        let texts: Vec<String> = raw.iter().map(ConditionValue::as_text).collect();
        let template = |t: &str| {
            if expand_vars {
                Template::parse(t)
            } else {
                None
            }
        };
        let values = match op.family {
            Family::String { ignore_case } => Values::Strings(
                texts
                    .iter()
                    .map(|t| match template(t) {
                        Some(v) => Text::Vars(v),
                        None if ignore_case => Text::Fixed(t.to_lowercase().into()),
                        None => Text::Fixed(Box::<str>::from(&t[..])),
                    })
                    .collect(),
            ),
            Family::Like => Values::Likes(
                texts
                    .iter()
                    .map(|t| template(t).map_or_else(|| Text::Fixed(Glob::new(t)), Text::Vars))
                    .collect(),
            ),
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
        Ok(CompiledCondition {
            name: key.into(),
            key: KeyName::new(key),
            op,
            values,
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
        let in_values = match &self.values {
            Values::Strings(v) => vars(v),
            Values::Likes(v) => vars(v),
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
                ps.iter().any(|p| match p {
                    Text::Fixed(p) => **p == *r,
                    Text::Vars(t) => t.resolve_text(ctx).is_some_and(|p| {
                        if ignore {
                            p.to_lowercase() == r
                        } else {
                            p == r
                        }
                    }),
                })
            }
            Values::Likes(ps) => ps.iter().any(|p| match p {
                Text::Fixed(g) => g.matches(r),
                Text::Vars(t) => t.resolve_glob(ctx).is_some_and(|g| g.matches(r)),
            }),
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
