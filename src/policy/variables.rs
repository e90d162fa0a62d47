//! Policy variables (§5.4): `${aws:username}`, `${aws:PrincipalTag/team}`,
//! defaults `${key, 'value'}` and the escapes `${*}` `${?}` `${$}`.
//!
//! Only 2012-10-17 documents are parsed into templates; older ones keep the
//! text literally. Substituted values and escapes are literal text, never
//! wildcards: a user named `*` must not widen their own access.

use super::context::{KeyName, RequestContext};
use super::global_keys::GlobalKeys;
use super::pattern::{tokenize, Glob, Tok};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Policy text: `*` and `?` keep their wildcard meaning in Like operators.
    Text(Box<str>),
    /// An escape: always literal.
    Literal(Box<str>),
    Var {
        key: KeyName,
        default: Option<Box<str>>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// `None` when the text holds no `${`: the caller compiles it statically.
    pub(crate) fn parse(text: &str) -> Option<Template> {
        if !text.contains("${") {
            return None;
        }
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            if start > 0 {
                pieces.push(Piece::Text(rest[..start].into()));
            }
            let inner = &rest[start + 2..start + len];
            pieces.push(match inner {
                "*" | "?" | "$" => Piece::Literal(inner.into()),
                _ => parse_var(inner),
            });
            rest = &rest[start + len + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.into()));
        }
        Some(Template { pieces })
    }

    /// The server-derived keys this template's variables read.
    pub(crate) fn global_keys_read(&self) -> GlobalKeys {
        self.pieces
            .iter()
            .fold(GlobalKeys::NONE, |keys, piece| match piece {
                Piece::Var { key, .. } => keys.union(GlobalKeys::of_name(key.as_str())),
                Piece::Text(_) | Piece::Literal(_) => keys,
            })
    }

    fn lookup<'c>(
        key: &KeyName,
        default: Option<&'c str>,
        ctx: &'c RequestContext,
    ) -> Option<&'c str> {
        // Only single-valued keys can be variables; an empty value is null.
        match ctx.get_key(key) {
            Some([one]) if !one.is_empty() => Some(one.as_str()),
            _ => default,
        }
    }

    /// The text with variables substituted, or `None` when a variable has
    /// neither a value nor a default (the value is then null, §5.4).
    pub(crate) fn resolve_text(&self, ctx: &RequestContext) -> Option<String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) | Piece::Literal(t) => out.push_str(t),
                Piece::Var { key, default } => {
                    out.push_str(Self::lookup(key, default.as_deref(), ctx)?)
                }
            }
        }
        Some(out)
    }

    /// A glob with policy text as wildcards and substitutions as literals.
    pub(crate) fn resolve_glob(&self, ctx: &RequestContext) -> Option<Glob> {
        let mut toks = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => tokenize(t, &mut toks),
                Piece::Literal(t) => toks.push(Tok::Lit(t.clone())),
                Piece::Var { key, default } => {
                    let v = Self::lookup(key, default.as_deref(), ctx)?;
                    if !v.is_empty() {
                        toks.push(Tok::Lit(v.into()));
                    }
                }
            }
        }
        Some(Glob::from_tokens(toks))
    }
}

fn parse_var(inner: &str) -> Piece {
    // `key, 'default'`: AWS writes one space after the comma; be lenient.
    if let Some((key, default)) = inner.split_once(',') {
        let d = default.trim();
        if d.len() >= 2 && d.starts_with('\'') && d.ends_with('\'') {
            return Piece::Var {
                key: KeyName::new(key.trim()),
                default: Some(d[1..d.len() - 1].into()),
            };
        }
    }
    Piece::Var {
        key: KeyName::new(inner.trim()),
        default: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        let mut c = RequestContext::new();
        c.insert("aws:username", "alice");
        c.insert("aws:PrincipalTag/team", "data");
        c
    }

    #[test]
    fn substitutes_and_defaults() {
        let t = Template::parse("home/${aws:username}/${aws:PrincipalTag/Team}").unwrap();
        assert_eq!(t.resolve_text(&ctx()).unwrap(), "home/alice/data");
        let t = Template::parse("${aws:userid, 'guest'}-x").unwrap();
        assert_eq!(t.resolve_text(&ctx()).unwrap(), "guest-x");
        let t = Template::parse("${aws:userid}").unwrap();
        assert_eq!(t.resolve_text(&ctx()), None);
        assert!(Template::parse("plain").is_none());
    }

    #[test]
    fn escapes_are_literal_not_wildcards() {
        let t = Template::parse("a${*}b${?}${$}").unwrap();
        assert_eq!(t.resolve_text(&ctx()).unwrap(), "a*b?$");
        let g = t.resolve_glob(&ctx()).unwrap();
        assert!(g.matches("a*b?$"));
        assert!(!g.matches("axxb?$"));
        // Wildcards written in the policy still work around variables.
        let g = Template::parse("${aws:username}/*")
            .unwrap()
            .resolve_glob(&ctx())
            .unwrap();
        assert!(g.matches("alice/x/y"));
        assert!(!g.matches("bob/x"));
    }

    #[test]
    fn substituted_values_are_literal() {
        let mut c = RequestContext::new();
        c.insert("aws:username", "*");
        let g = Template::parse("${aws:username}")
            .unwrap()
            .resolve_glob(&c)
            .unwrap();
        assert!(g.matches("*"));
        assert!(!g.matches("bob"));
    }
}
