//! Condition operator names (§4.2) and the checks the legacy parser makes on
//! condition values.
//!
//! Where each kind of bad condition is reported:
//!
//! | Problem | Message |
//! | --- | --- |
//! | Condition not an object, operator body not an object, a value that is `null`, an object or a nested list | "Syntax errors in policy." |
//! | unknown operator with a non-empty body (`StringEqual`, `ForAnyValue::StringEquals`) | "Syntax errors in policy." |
//! | unknown operator with an empty body `{}` | accepted (moto `valid-019`, `valid-031`) |
//! | value under a `Date*` operator that is not a date or epoch seconds | "The policy failed legacy parsing" (moto `invalid-064`, `-072`..`-076`) |
//! | value under a `Numeric*` operator that is not a decimal number | "The policy failed legacy parsing" |
//! | value under `IpAddress`/`NotIpAddress` that is not an IP address or CIDR | "The policy failed legacy parsing" |
//!
//! The corpus only shows dates. Numbers and IP ranges are treated the same
//! way because they are the other value types whose parse can fail, and the
//! legacy parser is the stage that reads values; `Bool`, `Binary`, `String*`
//! and `Arn*` values are not checked, as IAM accepts type mismatches there
//! (Access Analyzer only warns, §11).

use super::date;
use serde_json::Value;

/// The value type an operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    IpAddress,
    Arn,
    Null,
}

/// A recognised operator name such as `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Operator {
    pub family: Family,
}

const BASE_OPERATORS: [(&str, Family); 27] = [
    ("StringEquals", Family::String),
    ("StringNotEquals", Family::String),
    ("StringEqualsIgnoreCase", Family::String),
    ("StringNotEqualsIgnoreCase", Family::String),
    ("StringLike", Family::String),
    ("StringNotLike", Family::String),
    ("NumericEquals", Family::Numeric),
    ("NumericNotEquals", Family::Numeric),
    ("NumericLessThan", Family::Numeric),
    ("NumericLessThanEquals", Family::Numeric),
    ("NumericGreaterThan", Family::Numeric),
    ("NumericGreaterThanEquals", Family::Numeric),
    ("DateEquals", Family::Date),
    ("DateNotEquals", Family::Date),
    ("DateLessThan", Family::Date),
    ("DateLessThanEquals", Family::Date),
    ("DateGreaterThan", Family::Date),
    ("DateGreaterThanEquals", Family::Date),
    ("Bool", Family::Bool),
    ("BinaryEquals", Family::Binary),
    ("IpAddress", Family::IpAddress),
    ("NotIpAddress", Family::IpAddress),
    ("ArnEquals", Family::Arn),
    ("ArnLike", Family::Arn),
    ("ArnNotEquals", Family::Arn),
    ("ArnNotLike", Family::Arn),
    ("Null", Family::Null),
];

/// Recognises `[ForAllValues:|ForAnyValue:]Base[IfExists]`, case-sensitively
/// like every other element name. `NullIfExists` is accepted: only Access
/// Analyzer objects to it.
pub(super) fn parse_operator(name: &str) -> Option<Operator> {
    let unqualified = name
        .strip_prefix("ForAllValues:")
        .or_else(|| name.strip_prefix("ForAnyValue:"))
        .unwrap_or(name);
    let base = unqualified.strip_suffix("IfExists").unwrap_or(unqualified);
    BASE_OPERATORS
        .iter()
        .find(|(known, _)| *known == base)
        .map(|&(_, family)| Operator { family })
}

/// Whether the legacy parser accepts `value` for an operator of `family`.
pub(super) fn legacy_value_ok(family: Family, value: &Value) -> bool {
    match family {
        Family::Date => match value {
            Value::String(s) => date::is_policy_date(s),
            Value::Number(n) => n.as_u64().is_some_and(|secs| i64::try_from(secs).is_ok()),
            _ => false,
        },
        Family::Numeric => match value {
            Value::String(s) => is_decimal(s),
            Value::Number(_) => true,
            _ => false,
        },
        Family::IpAddress => match value {
            Value::String(s) => is_ip_or_cidr(s),
            _ => false,
        },
        Family::String | Family::Bool | Family::Binary | Family::Arn | Family::Null => true,
    }
}

/// `[+-]digits[.digits]` or `[+-].digits`: what a decimal comparison can read.
fn is_decimal(text: &str) -> bool {
    let unsigned = text
        .strip_prefix('-')
        .or_else(|| text.strip_prefix('+'))
        .unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match fraction {
        None => !whole.is_empty() && all_digits(whole),
        Some(f) => !f.is_empty() && all_digits(whole) && all_digits(f),
    }
}

/// An IPv4/IPv6 address (meaning a /32 or /128) or a CIDR block.
fn is_ip_or_cidr(text: &str) -> bool {
    text.parse::<ipnet::IpNet>().is_ok() || text.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operator_names_with_qualifiers_and_if_exists() {
        assert_eq!(
            parse_operator("StringEquals").unwrap().family,
            Family::String
        );
        assert_eq!(
            parse_operator("ForAnyValue:StringEqualsIfExists")
                .unwrap()
                .family,
            Family::String
        );
        assert_eq!(
            parse_operator("ForAllValues:NumericLessThan")
                .unwrap()
                .family,
            Family::Numeric
        );
        assert_eq!(parse_operator("NullIfExists").unwrap().family, Family::Null);
        assert_eq!(
            parse_operator("NotIpAddress").unwrap().family,
            Family::IpAddress
        );
    }

    #[test]
    fn unknown_or_misspelt_operators_are_not_recognised() {
        for name in [
            "StringEqual",
            "stringequals",
            "ForAnyValue::StringEquals",
            "ForAnyValue:",
            "IfExists",
            "StringEqualsIfExistsIfExists",
            "ForAllValues:ForAnyValue:StringEquals",
            "x",
        ] {
            assert!(parse_operator(name).is_none(), "{name}");
        }
    }

    #[test]
    fn numeric_values() {
        for ok in [
            json!("1"),
            json!("-1.5"),
            json!("+3"),
            json!(".5"),
            json!(10),
            json!(2.5),
        ] {
            assert!(legacy_value_ok(Family::Numeric, &ok), "{ok}");
        }
        for bad in [
            json!("abc"),
            json!(""),
            json!("1.2.3"),
            json!("."),
            json!("1e5"),
            json!(true),
        ] {
            assert!(!legacy_value_ok(Family::Numeric, &bad), "{bad}");
        }
    }

    #[test]
    fn ip_values() {
        for ok in ["203.0.113.0/24", "203.0.113.7", "2001:db8::/32", "::1"] {
            assert!(legacy_value_ok(Family::IpAddress, &json!(ok)), "{ok}");
        }
        for bad in [
            json!("foo"),
            json!("10.0.0.0/33"),
            json!("300.1.1.1"),
            json!(1),
        ] {
            assert!(!legacy_value_ok(Family::IpAddress, &bad), "{bad}");
        }
    }

    #[test]
    fn date_numbers_are_epoch_seconds() {
        assert!(legacy_value_ok(Family::Date, &json!(1_500_000_000)));
        assert!(!legacy_value_ok(Family::Date, &json!(-5)));
        assert!(!legacy_value_ok(Family::Date, &json!(1.5)));
        assert!(!legacy_value_ok(Family::Date, &json!(u64::MAX)));
        assert!(!legacy_value_ok(Family::Date, &json!(true)));
    }

    #[test]
    fn unchecked_families_accept_anything_scalar() {
        for family in [
            Family::String,
            Family::Bool,
            Family::Binary,
            Family::Arn,
            Family::Null,
        ] {
            assert!(legacy_value_ok(family, &json!("yes")));
            assert!(legacy_value_ok(family, &json!(1)));
        }
    }
}
