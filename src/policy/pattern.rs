//! Wildcard matching: `*` (any run) and `?` (one character), and the
//! segment-wise ARN matching shared by Resource/NotResource and the ARN
//! condition operators (§3.5, §4.2, §12 rule 10).

/// One element of a compiled glob. Text that came from a policy variable or
/// an escape such as `${*}` is a `Lit`, so its `*` is not a wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(Box<str>),
    Star,
    One,
}

/// Splits raw pattern text into tokens (wildcards active).
pub(crate) fn tokenize(pattern: &str, out: &mut Vec<Tok>) {
    let mut lit_start = 0;
    for (i, b) in pattern.bytes().enumerate() {
        if b == b'*' || b == b'?' {
            if lit_start < i {
                out.push(Tok::Lit(pattern[lit_start..i].into()));
            }
            out.push(if b == b'*' { Tok::Star } else { Tok::One });
            lit_start = i + 1;
        }
    }
    if lit_start < pattern.len() {
        out.push(Tok::Lit(pattern[lit_start..].into()));
    }
}

/// A compiled glob. The common shapes get their own variant so that the hot
/// path is a comparison, not a backtracking walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    Any,
    Exact(Box<str>),
    Prefix(Box<str>),
    General(Box<[Tok]>),
}

impl Glob {
    pub(crate) fn new(pattern: &str) -> Glob {
        let mut toks = Vec::new();
        tokenize(pattern, &mut toks);
        Glob::from_tokens(toks)
    }

    pub(crate) fn exact(text: &str) -> Glob {
        Glob::Exact(text.into())
    }

    pub(crate) fn from_tokens(mut toks: Vec<Tok>) -> Glob {
        // Merge adjacent literals and collapse runs of stars so the shape
        // checks below see the canonical form.
        let mut merged: Vec<Tok> = Vec::with_capacity(toks.len());
        for t in toks.drain(..) {
            match (merged.last_mut(), t) {
                (Some(Tok::Lit(prev)), Tok::Lit(next)) => {
                    let mut s = String::from(&**prev);
                    s.push_str(&next);
                    *prev = s.into();
                }
                (Some(Tok::Star), Tok::Star) => {}
                (_, t) => merged.push(t),
            }
        }
        match merged.as_slice() {
            [] => Glob::Exact("".into()),
            [Tok::Star] => Glob::Any,
            [Tok::Lit(l)] => Glob::Exact(l.clone()),
            [Tok::Lit(l), Tok::Star] => Glob::Prefix(l.clone()),
            _ => Glob::General(merged.into_boxed_slice()),
        }
    }

    pub(crate) fn matches(&self, s: &str) -> bool {
        self.matches_bytes(s.as_bytes())
    }

    /// `matches` on the bytes of a string (the wildcards step over whole
    /// UTF-8 characters either way).
    #[inline]
    pub(crate) fn matches_bytes(&self, s: &[u8]) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(e) => e.as_bytes() == s,
            Glob::Prefix(p) => s.starts_with(p.as_bytes()),
            Glob::General(toks) => glob_match(toks, s),
        }
    }

    /// A bound on the steps one match takes per byte of the matched text
    /// (a backtracking glob re-walks its tokens from each position).
    pub(crate) fn steps(&self) -> u64 {
        match self {
            Glob::General(toks) => toks.len() as u64,
            _ => 1,
        }
    }

    /// The text every match must start with (for indexing), and whether the
    /// pattern is that text alone.
    pub(crate) fn literal_prefix(&self) -> (&str, bool) {
        match self {
            Glob::Any => ("", false),
            Glob::Exact(e) => (e, true),
            Glob::Prefix(p) => (p, false),
            Glob::General(toks) => match toks.first() {
                Some(Tok::Lit(l)) => (l, false),
                _ => ("", false),
            },
        }
    }
}

fn char_len(lead: u8) -> usize {
    match lead {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Iterative matcher with single-star backtracking: linear in practice and
/// never recursive, so a hostile pattern cannot blow the stack.
fn glob_match(toks: &[Tok], s: &[u8]) -> bool {
    let (mut ti, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(tok) = toks.get(ti) {
            match tok {
                Tok::Star => {
                    star = Some((ti + 1, si));
                    ti += 1;
                    continue;
                }
                Tok::One if si < s.len() => {
                    si += char_len(s[si]);
                    ti += 1;
                    continue;
                }
                Tok::Lit(l) if s[si.min(s.len())..].starts_with(l.as_bytes()) => {
                    si += l.len();
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        } else if si >= s.len() {
            return true;
        }
        match star {
            Some((after, from)) if from < s.len() => {
                let next = from + char_len(s[from]);
                star = Some((after, next));
                ti = after;
                si = next;
            }
            _ => return false,
        }
    }
}

/// Byte offsets of the first five colons: the six ARN segments (§3.5).
pub(crate) fn arn_colons(s: &str) -> Option<[usize; 5]> {
    let mut out = [0usize; 5];
    let mut n = 0;
    for (i, b) in s.bytes().enumerate() {
        if b == b':' {
            out[n] = i;
            n += 1;
            if n == 5 {
                return Some(out);
            }
        }
    }
    None
}

/// A resource (or ARN condition value) split once per request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SplitArn<'a> {
    pub full: &'a str,
    pub colons: Option<[usize; 5]>,
}

impl<'a> SplitArn<'a> {
    pub(crate) fn new(full: &'a str) -> Self {
        SplitArn {
            full,
            colons: arn_colons(full),
        }
    }

    /// `resource_head`, reusing the colons already found.
    pub(crate) fn head(&self) -> &'a str {
        let Some(c) = self.colons else {
            return self.full;
        };
        // Byte search: '/' and ':' are ASCII, so the cut is a char boundary.
        let tail = &self.full.as_bytes()[c[4] + 1..];
        match tail.iter().position(|&b| b == b'/' || b == b':') {
            Some(p) => &self.full[..c[4] + 1 + p],
            None => self.full,
        }
    }

    /// The account segment, when it names a real account.
    pub(crate) fn account(&self) -> Option<&'a str> {
        let acct = self.segment(4)?;
        (!acct.is_empty() && acct != "aws" && acct != "*").then_some(acct)
    }

    fn segment(&self, i: usize) -> Option<&'a str> {
        let c = self.colons?;
        let start = if i == 0 { 0 } else { c[i - 1] + 1 };
        let end = if i < 5 { c[i] } else { self.full.len() };
        self.full.get(start..end)
    }
}

/// The part of a resource that identifies "which thing" coarsely: up to the
/// first `/` or `:` after the fifth colon (the bucket, the table, ...). The
/// index files statements under it; see `compile::Index`.
pub(crate) fn resource_head(s: &str) -> &str {
    let Some(c) = arn_colons(s) else { return s };
    let tail = &s[c[4] + 1..];
    match tail.find(['/', ':']) {
        Some(p) => &s[..c[4] + 1 + p],
        None => s,
    }
}

/// The head every match of a pattern must have, when the pattern fixes it.
pub(crate) fn pattern_head(literal_prefix: &str, fully_literal: bool) -> Option<&str> {
    if fully_literal {
        return Some(resource_head(literal_prefix));
    }
    let c = arn_colons(literal_prefix)?;
    let tail = &literal_prefix[c[4] + 1..];
    tail.find(['/', ':'])
        .map(|p| &literal_prefix[..c[4] + 1 + p])
}

/// Out of line: rare next to the literal and prefix shapes, which then
/// inline into the scan loop.
#[inline(never)]
fn segments_match(segs: &[Glob], rest: &Glob, arn: &SplitArn) -> bool {
    arn.colons.is_some()
        && segs
            .iter()
            .enumerate()
            .all(|(i, g)| arn.segment(i).is_some_and(|s| g.matches(s)))
        && arn.segment(5).is_some_and(|s| rest.matches(s))
}

/// A segment-wise ARN pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArnPattern {
    Any,
    /// Fewer than five colons: not ARN-shaped, matched as one glob.
    Whole(Glob),
    /// The first five segments are literal and the rest is literal or
    /// ends in the only `*`: one comparison with the whole ARN, equal
    /// (`whole`) or as a prefix.
    Literal {
        text: Box<str>,
        whole: bool,
    },
    /// The first five segments are literal: a prefix test plus one glob.
    Prefixed {
        prefix: Box<str>,
        rest: Glob,
    },
    Segments {
        segs: Box<[Glob; 5]>,
        rest: Glob,
    },
}

impl ArnPattern {
    /// `literal_service`: Resource elements never wildcard the service
    /// segment (§3.5); ARN condition operators do.
    pub(crate) fn new(pattern: &str, literal_service: bool) -> ArnPattern {
        if pattern == "*" {
            return ArnPattern::Any;
        }
        let Some(c) = arn_colons(pattern) else {
            return ArnPattern::Whole(Glob::new(pattern));
        };
        let rest = Glob::new(&pattern[c[4] + 1..]);
        ArnPattern::with_head(pattern, c, rest, literal_service)
    }

    /// Builds from a literal-head pattern whose resource segment is given.
    pub(crate) fn with_head(
        pattern: &str,
        c: [usize; 5],
        rest: Glob,
        literal_service: bool,
    ) -> ArnPattern {
        let head = &pattern[..c[4] + 1];
        if !head.contains(['*', '?']) {
            let literal = |tail: &str, whole: bool| ArnPattern::Literal {
                text: format!("{head}{tail}").into(),
                whole,
            };
            return match rest {
                Glob::Any => literal("", false),
                Glob::Exact(e) => literal(&e, true),
                Glob::Prefix(p) => literal(&p, false),
                Glob::General(_) => ArnPattern::Prefixed {
                    prefix: head.into(),
                    rest,
                },
            };
        }
        let seg = |i: usize| {
            let start = if i == 0 { 0 } else { c[i - 1] + 1 };
            &pattern[start..c[i]]
        };
        let segs = [0, 1, 2, 3, 4].map(|i| {
            if i == 2 && literal_service {
                Glob::exact(seg(i))
            } else {
                Glob::new(seg(i))
            }
        });
        ArnPattern::Segments {
            segs: Box::new(segs),
            rest,
        }
    }

    #[inline]
    pub(crate) fn matches(&self, arn: &SplitArn) -> bool {
        match self {
            ArnPattern::Any => true,
            ArnPattern::Literal { text, whole: true } => arn.full == &**text,
            ArnPattern::Literal { text, whole: false } => arn.full.starts_with(&**text),
            ArnPattern::Whole(g) => g.matches(arn.full),
            ArnPattern::Prefixed { prefix, rest } => {
                arn.full.starts_with(&**prefix) && rest.matches(&arn.full[prefix.len()..])
            }
            ArnPattern::Segments { segs, rest } => segments_match(&segs[..], rest, arn),
        }
    }

    /// The literal text every match starts with, and whether it is all.
    pub(crate) fn literal_prefix(&self) -> (String, bool) {
        match self {
            ArnPattern::Any => (String::new(), false),
            ArnPattern::Literal { text, whole } => (text.to_string(), *whole),
            ArnPattern::Whole(g) => {
                let (p, all) = g.literal_prefix();
                (p.to_owned(), all)
            }
            ArnPattern::Prefixed { prefix, rest } => {
                let (p, all) = rest.literal_prefix();
                (format!("{prefix}{p}"), all)
            }
            ArnPattern::Segments { .. } => (String::new(), false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Glob::new(p).matches(s)
    }

    #[test]
    fn globs() {
        assert!(m("*", ""));
        assert!(m("a*c", "abbbc"));
        assert!(m("a*c", "ac"));
        assert!(!m("a*c", "acb"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a?c", "aéc"));
        assert!(m("*:*", "x:y:z"));
        assert!(m("iam:*accesskey*", "iam:listaccesskeys"));
        assert!(!m("abc", "ABC"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*", "xxcxxbxxaxx"));
        assert!(m("bucket/*/test/*", "bucket//test/"));
    }

    fn arn(p: &str, s: &str) -> bool {
        ArnPattern::new(p, true).matches(&SplitArn::new(s))
    }

    #[test]
    fn resources_are_segment_wise() {
        assert!(arn(
            "arn:aws:s3:::bucket/*/test/*",
            "arn:aws:s3:::bucket/1/2/test/3/x"
        ));
        assert!(arn(
            "arn:aws:s3:::bucket/*/test/*",
            "arn:aws:s3:::bucket//test/"
        ));
        assert!(arn(
            "arn:aws:iam::*:user/*",
            "arn:aws:iam::123456789012:user/a/b"
        ));
        assert!(!arn("arn:aws:iam::*:user/*", "arn:aws:iam::1:2:user/a"));
        // `*` in a non-resource segment stops at the colon.
        let p = "arn:aws:svc:*:111122223333:finance/*";
        let v = "arn:aws:svc:us-east-2:999999999999:store/abc:111122223333:finance/x";
        assert!(!ArnPattern::new(p, false).matches(&SplitArn::new(v)));
        assert!(Glob::new(p).matches(v), "StringLike crosses colons");
        // The service segment is never a wildcard in Resource.
        assert!(!arn("arn:aws:s*:::b", "arn:aws:s3:::b"));
        assert!(ArnPattern::new("arn:aws:s*:::b", false).matches(&SplitArn::new("arn:aws:s3:::b")));
        assert!(arn(
            "arn:aws:logs:us-east-1:1:log-group:/a:*",
            "arn:aws:logs:us-east-1:1:log-group:/a:log-stream:x"
        ));
        assert!(!arn("arn:aws:s3:::b", "arn:aws:s3:::B"));
    }

    #[test]
    fn literal_arn_patterns_match_as_before() {
        for (p, yes, no) in [
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/x", "arn:aws:s3:::c/x"),
            ("arn:aws:s3:::b", "arn:aws:s3:::b", "arn:aws:s3:::b/x"),
            ("arn:aws:s3:::*", "arn:aws:s3:::", "arn:aws:s4:::b"),
            (
                "arn:aws:s3:::b/*/x",
                "arn:aws:s3:::b/a/x",
                "arn:aws:s3:::b/a/y",
            ),
        ] {
            assert!(arn(p, yes), "{p} {yes}");
            assert!(!arn(p, no), "{p} {no}");
        }
        assert!(matches!(
            ArnPattern::new("arn:aws:s3:::b/*", true),
            ArnPattern::Literal { whole: false, .. }
        ));
        assert_eq!(
            ArnPattern::new("arn:aws:s3:::b/x", true).literal_prefix(),
            ("arn:aws:s3:::b/x".to_string(), true)
        );
        assert_eq!(
            ArnPattern::new("arn:aws:s3:::b/x*", true).literal_prefix(),
            ("arn:aws:s3:::b/x".to_string(), false)
        );
    }

    #[test]
    fn heads() {
        assert_eq!(resource_head("arn:aws:s3:::bkt/a/b"), "arn:aws:s3:::bkt");
        assert_eq!(resource_head("arn:aws:s3:::bkt"), "arn:aws:s3:::bkt");
        assert_eq!(resource_head("*"), "*");
        assert_eq!(
            pattern_head("arn:aws:s3:::bkt/logs/", false),
            Some("arn:aws:s3:::bkt")
        );
        assert_eq!(pattern_head("arn:aws:s3:::bk", false), None);
        assert_eq!(
            pattern_head("arn:aws:s3:::bkt", true),
            Some("arn:aws:s3:::bkt")
        );
    }
}
