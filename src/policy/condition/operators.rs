//! Condition operator names (§4.2): the base operator, its `IfExists`
//! suffix and its `ForAllValues:` / `ForAnyValue:` qualifier.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub(crate) fn holds<T: Ord>(self, request: &T, policy: &T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    String { ignore_case: bool },
    Like,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Qualifier {
    Single,
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operator {
    pub family: Family,
    /// The Not* forms: several policy values act as a NOR (§4.1).
    pub negated: bool,
    pub if_exists: bool,
    pub qualifier: Qualifier,
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..cut])
}

/// Parses an operator name; `None` for anything unknown (AWS rejects those
/// at save time, §3.6 stage 1). Names are matched without regard to case.
pub(crate) fn parse_operator(name: &str) -> Option<Operator> {
    let (qualifier, rest) = if let Some(r) = strip_prefix_ci(name, "ForAllValues:") {
        (Qualifier::ForAllValues, r)
    } else if let Some(r) = strip_prefix_ci(name, "ForAnyValue:") {
        (Qualifier::ForAnyValue, r)
    } else {
        (Qualifier::Single, name)
    };
    let (if_exists, base) = match strip_suffix_ci(rest, "IfExists") {
        Some(b) => (true, b),
        None => (false, rest),
    };
    use Cmp::*;
    use Family::*;
    let (family, negated) = match base.to_ascii_lowercase().as_str() {
        "stringequals" => (String { ignore_case: false }, false),
        "stringnotequals" => (String { ignore_case: false }, true),
        "stringequalsignorecase" => (String { ignore_case: true }, false),
        "stringnotequalsignorecase" => (String { ignore_case: true }, true),
        "stringlike" => (Like, false),
        "stringnotlike" => (Like, true),
        "numericequals" => (Numeric(Eq), false),
        "numericnotequals" => (Numeric(Eq), true),
        "numericlessthan" => (Numeric(Lt), false),
        "numericlessthanequals" => (Numeric(Le), false),
        "numericgreaterthan" => (Numeric(Gt), false),
        "numericgreaterthanequals" => (Numeric(Ge), false),
        "dateequals" => (Date(Eq), false),
        "datenotequals" => (Date(Eq), true),
        "datelessthan" => (Date(Lt), false),
        "datelessthanequals" => (Date(Le), false),
        "dategreaterthan" => (Date(Gt), false),
        "dategreaterthanequals" => (Date(Ge), false),
        "bool" => (Bool, false),
        "binaryequals" => (Binary, false),
        "ipaddress" => (Ip, false),
        "notipaddress" => (Ip, true),
        "arnequals" | "arnlike" => (Arn, false),
        "arnnotequals" | "arnnotlike" => (Arn, true),
        // `NullIfExists` is meaningless (Access Analyzer calls it an error).
        "null" if !if_exists => (Null, false),
        _ => return None,
    };
    Some(Operator {
        family,
        negated,
        if_exists,
        qualifier,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_qualifiers_and_suffixes() {
        let op = parse_operator("ForAnyValue:StringNotLikeIfExists").unwrap();
        assert_eq!(op.family, Family::Like);
        assert!(op.negated && op.if_exists);
        assert_eq!(op.qualifier, Qualifier::ForAnyValue);
        let op = parse_operator("NumericLessThanEquals").unwrap();
        assert_eq!(op.family, Family::Numeric(Cmp::Le));
        assert!(!op.negated && !op.if_exists);
        assert_eq!(parse_operator("ArnLike"), parse_operator("ArnEquals"));
        assert!(parse_operator("NullIfExists").is_none());
        assert!(parse_operator("UnsupportedOperation").is_none());
        assert!(parse_operator("ForSomeValues:StringEquals").is_none());
    }
}
