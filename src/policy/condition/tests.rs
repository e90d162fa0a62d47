//! One test per operator family, per qualifier and per missing-key rule.

use super::*;
use serde_json::{json, Value};

fn values(v: Value) -> Vec<ConditionValue> {
    let list = match v {
        Value::Array(a) => a,
        other => vec![other],
    };
    list.into_iter()
        .map(|v| match v {
            Value::String(s) => ConditionValue::String(s),
            Value::Number(n) => ConditionValue::Number(n),
            Value::Bool(b) => ConditionValue::Bool(b),
            other => panic!("bad value {other}"),
        })
        .collect()
}

fn ctx(pairs: &[(&str, &[&str])]) -> RequestContext {
    let mut c = RequestContext::new();
    for (k, v) in pairs {
        c.insert_many(k, v.iter().copied());
    }
    c
}

/// Evaluates `op: {key: policy}` against a context.
fn check(op: &str, key: &str, policy: Value, pairs: &[(&str, &[&str])]) -> bool {
    CompiledCondition::compile(op, key, &values(policy), true)
        .unwrap()
        .eval(&ctx(pairs))
}

const K: &str = "aws:SourceIp";

#[test]
fn string_equals_family() {
    let p = || json!(["a", "B"]);
    assert!(check("StringEquals", "k", p(), &[("k", &["a"])]));
    assert!(
        !check("StringEquals", "k", p(), &[("k", &["b"])]),
        "case-sensitive"
    );
    assert!(!check("StringEquals", "k", p(), &[]), "missing: false");
    assert!(!check("StringNotEquals", "k", p(), &[("k", &["a"])]));
    assert!(
        !check("StringNotEquals", "k", p(), &[("k", &["B"])]),
        "NOR over values"
    );
    assert!(check("StringNotEquals", "k", p(), &[("k", &["c"])]));
    assert!(
        check("StringNotEquals", "k", p(), &[]),
        "missing: negated true"
    );
    assert!(check("StringEqualsIgnoreCase", "k", p(), &[("k", &["b"])]));
    assert!(check(
        "StringEqualsIgnoreCase",
        "k",
        json!("ÉTÉ"),
        &[("k", &["été"])]
    ));
    assert!(!check(
        "StringNotEqualsIgnoreCase",
        "k",
        p(),
        &[("k", &["A"])]
    ));
    assert!(check("StringNotEqualsIgnoreCase", "k", p(), &[]));
    // A `*` under a non-Like operator is literal.
    assert!(!check("StringEquals", "k", json!("a*"), &[("k", &["abc"])]));
    assert!(check("StringEquals", "k", json!("a*"), &[("k", &["a*"])]));
    // Condition key names are case-insensitive.
    assert!(check(
        "StringEquals",
        "AWS:UserName",
        json!("x"),
        &[("aws:username", &["x"])]
    ));
    // Numbers and booleans may be unquoted.
    assert!(check("StringEquals", "k", json!(5), &[("k", &["5"])]));
}

#[test]
fn string_like_family() {
    assert!(
        check("StringLike", "k", json!("a*c"), &[("k", &["a:b/c"])]),
        "crosses colons"
    );
    assert!(check("StringLike", "k", json!("a?c"), &[("k", &["abc"])]));
    assert!(
        !check("StringLike", "k", json!("A*"), &[("k", &["abc"])]),
        "case-sensitive"
    );
    assert!(!check("StringLike", "k", json!("a*"), &[]));
    assert!(!check(
        "StringNotLike",
        "k",
        json!(["a*", "b*"]),
        &[("k", &["bx"])]
    ));
    assert!(check(
        "StringNotLike",
        "k",
        json!(["a*", "b*"]),
        &[("k", &["cx"])]
    ));
    assert!(check("StringNotLike", "k", json!("a*"), &[]));
}

#[test]
fn numeric_family() {
    let n = |op: &str, r: &str| check(op, "k", json!("16"), &[("k", &[r])]);
    assert!(n("NumericEquals", "16") && n("NumericEquals", "16.0") && !n("NumericEquals", "61"));
    assert!(n("NumericNotEquals", "15") && !n("NumericNotEquals", "16"));
    assert!(n("NumericLessThan", "15.5") && !n("NumericLessThan", "16"));
    assert!(n("NumericLessThanEquals", "16") && !n("NumericLessThanEquals", "16.01"));
    assert!(n("NumericGreaterThan", "100") && !n("NumericGreaterThan", "16"));
    assert!(n("NumericGreaterThanEquals", "16") && !n("NumericGreaterThanEquals", "-16"));
    assert!(!check("NumericEquals", "k", json!(16), &[]));
    assert!(check("NumericNotEquals", "k", json!(16), &[]));
    assert!(check(
        "NumericLessThan",
        "k",
        json!(0.5),
        &[("k", &["0.25"])]
    ));
}

#[test]
fn date_family() {
    let d = |op: &str, r: &str| {
        check(
            op,
            "aws:CurrentTime",
            json!("2020-01-01T00:00:00Z"),
            &[("aws:CurrentTime", &[r])],
        )
    };
    assert!(d("DateEquals", "2020-01-01T01:00:00+01:00"));
    assert!(d("DateEquals", "1577836800"), "epoch seconds");
    assert!(d("DateNotEquals", "2020-01-02"));
    assert!(d("DateLessThan", "2019-12-31T23:59:59.999Z"));
    assert!(!d("DateLessThan", "2020-01-01T00:00:00Z"));
    assert!(d("DateLessThanEquals", "2020-01-01T00:00:00Z"));
    assert!(d("DateGreaterThan", "2020-01-01T00:00:00.001Z"));
    assert!(d("DateGreaterThanEquals", "2020-01-01"));
    assert!(
        !check(
            "DateLessThan",
            "aws:TokenIssueTime",
            json!("2020-01-01"),
            &[]
        ),
        "the revoke-sessions Deny never touches long-term keys"
    );
    assert!(check(
        "DateGreaterThan",
        "aws:EpochTime",
        json!(1000),
        &[("aws:EpochTime", &["1001"])]
    ));
}

#[test]
fn bool_binary_ip_null() {
    assert!(check(
        "Bool",
        "aws:SecureTransport",
        json!(true),
        &[("aws:SecureTransport", &["true"])]
    ));
    assert!(check(
        "Bool",
        "aws:SecureTransport",
        json!("false"),
        &[("aws:SecureTransport", &["FALSE"])]
    ));
    assert!(!check("Bool", "aws:SecureTransport", json!("true"), &[]));
    assert!(check(
        "BinaryEquals",
        "k",
        json!("QUJD"),
        &[("k", &["ABC"])]
    ));
    assert!(!check(
        "BinaryEquals",
        "k",
        json!("QUJD"),
        &[("k", &["abc"])]
    ));
    assert!(check(
        "IpAddress",
        K,
        json!(["10.0.0.0/8"]),
        &[(K, &["10.9.8.7"])]
    ));
    assert!(
        check(
            "IpAddress",
            K,
            json!("203.0.113.7"),
            &[(K, &["203.0.113.7"])]
        ),
        "bare = /32"
    );
    assert!(!check(
        "IpAddress",
        K,
        json!("203.0.113.7"),
        &[(K, &["203.0.113.8"])]
    ));
    assert!(check(
        "IpAddress",
        K,
        json!("2001:db8::/32"),
        &[(K, &["2001:db8:1::1"])]
    ));
    assert!(
        check(
            "IpAddress",
            K,
            json!("2001:db8::1"),
            &[(K, &["2001:db8::1"])]
        ),
        "bare = /128"
    );
    assert!(!check("IpAddress", K, json!("10.0.0.0/8"), &[]));
    assert!(check(
        "NotIpAddress",
        K,
        json!(["10.0.0.0/8", "172.16.0.0/12"]),
        &[(K, &["192.168.0.1"])]
    ));
    assert!(!check(
        "NotIpAddress",
        K,
        json!(["10.0.0.0/8", "172.16.0.0/12"]),
        &[(K, &["172.16.0.1"])]
    ));
    assert!(check("NotIpAddress", K, json!("10.0.0.0/8"), &[]));
    assert!(check("Null", "k", json!("true"), &[]));
    assert!(
        check("Null", "k", json!(true), &[("k", &[""])]),
        "empty string is null"
    );
    assert!(!check("Null", "k", json!(true), &[("k", &["v"])]));
    assert!(check("Null", "k", json!("false"), &[("k", &["v"])]));
    assert!(!check("Null", "k", json!(false), &[]));
}

#[test]
fn arn_operators_are_segment_wise() {
    let p = json!("arn:aws:svc:*:111122223333:finance/*");
    let v = "arn:aws:svc:us-east-2:999999999999:store/abc:111122223333:finance/x";
    assert!(!check(
        "ArnLike",
        "aws:SourceArn",
        p.clone(),
        &[("aws:SourceArn", &[v])]
    ));
    assert!(check(
        "StringLike",
        "aws:SourceArn",
        p.clone(),
        &[("aws:SourceArn", &[v])]
    ));
    let ok = "arn:aws:svc:us-east-2:111122223333:finance/x:y";
    assert!(check(
        "ArnLike",
        "aws:SourceArn",
        p.clone(),
        &[("aws:SourceArn", &[ok])]
    ));
    assert!(check(
        "ArnEquals",
        "aws:SourceArn",
        p.clone(),
        &[("aws:SourceArn", &[ok])]
    ));
    assert!(!check(
        "ArnNotLike",
        "aws:SourceArn",
        p.clone(),
        &[("aws:SourceArn", &[ok])]
    ));
    assert!(check(
        "ArnNotEquals",
        "aws:SourceArn",
        p.clone(),
        &[("aws:SourceArn", &[v])]
    ));
    assert!(check("ArnNotLike", "aws:SourceArn", p.clone(), &[]));
    assert!(!check("ArnLike", "aws:SourceArn", p, &[]));
    assert!(!check(
        "ArnLike",
        "k",
        json!("arn:aws:iam::1:role/R"),
        &[("k", &["arn:aws:iam::1:role/r"])]
    ));
}

#[test]
fn if_exists_makes_missing_true() {
    assert!(check(
        "StringLikeIfExists",
        "ec2:InstanceType",
        json!("t3.*"),
        &[]
    ));
    assert!(!check(
        "StringLikeIfExists",
        "ec2:InstanceType",
        json!("t3.*"),
        &[("ec2:InstanceType", &["m5.large"])]
    ));
    assert!(check("StringNotEqualsIfExists", "k", json!("a"), &[]));
    assert!(check("NumericGreaterThanIfExists", "k", json!(16), &[]));
    assert!(check("IpAddressIfExists", K, json!("10.0.0.0/8"), &[]));
    assert!(check(
        "BoolIfExists",
        "aws:MultiFactorAuthPresent",
        json!(true),
        &[]
    ));
}

#[test]
fn set_qualifiers() {
    fn tags<'a>(v: &'a [&'a str]) -> Vec<(&'static str, &'a [&'a str])> {
        vec![("aws:TagKeys", v)]
    }
    let allv = |v: &[&str]| {
        check(
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            json!(["a", "b"]),
            &tags(v),
        )
    };
    assert!(allv(&["a", "b"]) && allv(&["a"]) && !allv(&["a", "c"]));
    assert!(
        check(
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            json!(["a"]),
            &[]
        ),
        "vacuous"
    );
    assert!(
        check(
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            json!(["a"]),
            &tags(&[""])
        ),
        "empty string"
    );
    let anyv = |v: &[&str]| {
        check(
            "ForAnyValue:StringEquals",
            "aws:TagKeys",
            json!(["a", "b"]),
            &tags(v),
        )
    };
    assert!(anyv(&["c", "b"]) && !anyv(&["c"]) && !anyv(&[]));
    assert!(!check(
        "ForAnyValue:StringEquals",
        "aws:TagKeys",
        json!(["a"]),
        &[]
    ));
    // Negated base: m(r) = r matches no policy value.
    let alln = |v: &[&str]| {
        check(
            "ForAllValues:StringNotEquals",
            "aws:TagKeys",
            json!(["a", "b"]),
            &tags(v),
        )
    };
    assert!(alln(&["c", "d"]) && !alln(&["c", "a"]));
    assert!(check(
        "ForAllValues:StringNotEquals",
        "aws:TagKeys",
        json!(["a"]),
        &[]
    ));
    let anyn = |v: &[&str]| {
        check(
            "ForAnyValue:StringNotEquals",
            "aws:TagKeys",
            json!(["a", "b"]),
            &tags(v),
        )
    };
    assert!(anyn(&["a", "c"]) && !anyn(&["a", "b"]));
    assert!(!check(
        "ForAnyValue:StringNotEquals",
        "aws:TagKeys",
        json!(["a"]),
        &[]
    ));
    assert!(check(
        "ForAnyValue:StringLike",
        "k",
        json!("x*"),
        &[("k", &["a", "xy"])]
    ));
    assert!(check(
        "ForAnyValue:StringEqualsIfExists",
        "k",
        json!("x"),
        &[]
    ));
    // Empty policy list: ForAll matches only a missing key, ForAny never.
    assert!(!check(
        "ForAllValues:StringEquals",
        "k",
        json!([]),
        &[("k", &["a"])]
    ));
    assert!(check("ForAllValues:StringEquals", "k", json!([]), &[]));
    assert!(!check(
        "ForAnyValue:StringEquals",
        "k",
        json!([]),
        &[("k", &["a"])]
    ));
    // Null with a set qualifier is constant.
    assert!(check("ForAllValues:Null", "k", json!("false"), &[]));
    assert!(!check("ForAnyValue:Null", "k", json!("true"), &[]));
}

#[test]
fn unparseable_request_values_make_the_condition_false() {
    assert!(!check(
        "IpAddress",
        K,
        json!("10.0.0.0/8"),
        &[(K, &["not-an-ip"])]
    ));
    assert!(!check(
        "NotIpAddress",
        K,
        json!("10.0.0.0/8"),
        &[(K, &["not-an-ip"])]
    ));
    assert!(!check(
        "NumericNotEquals",
        "k",
        json!(1),
        &[("k", &["one"])]
    ));
    assert!(!check(
        "DateNotEquals",
        "k",
        json!("2020-01-01"),
        &[("k", &["soon"])]
    ));
    assert!(!check("Bool", "k", json!(true), &[("k", &["yes"])]));
    assert!(!check(
        "ForAllValues:NumericLessThan",
        "k",
        json!(5),
        &[("k", &["1", "x"])]
    ));
}

#[test]
fn variables_in_condition_values() {
    let who = [("aws:username", &["alice"][..])];
    assert!(check(
        "StringEquals",
        "s3:prefix",
        json!("home/${aws:username}/"),
        &[who[0], ("s3:prefix", &["home/alice/"])]
    ));
    assert!(check(
        "StringLike",
        "s3:prefix",
        json!("home/${aws:username}/*"),
        &[who[0], ("s3:prefix", &["home/alice/x"])]
    ));
    assert!(!check(
        "StringLike",
        "s3:prefix",
        json!("home/${aws:username}/*"),
        &[who[0], ("s3:prefix", &["home/bob/x"])]
    ));
    // Unresolved without default: null, so positive false and negated true.
    assert!(!check(
        "StringEquals",
        "k",
        json!("${aws:username}"),
        &[("k", &["x"])]
    ));
    assert!(check(
        "StringNotEquals",
        "k",
        json!("${aws:username}"),
        &[("k", &["x"])]
    ));
    assert!(check(
        "StringEquals",
        "k",
        json!("${aws:username, 'guest'}"),
        &[("k", &["guest"])]
    ));
    assert!(check(
        "ArnLike",
        "k",
        json!("arn:aws:iam::1:user/${aws:username}"),
        &[who[0], ("k", &["arn:aws:iam::1:user/alice"])]
    ));
    assert!(check(
        "Bool",
        "k",
        json!("${aws:SecureTransport}"),
        &[("aws:SecureTransport", &["true"]), ("k", &["true"])]
    ));
    // Escapes are literal.
    assert!(check("StringLike", "k", json!("a${*}"), &[("k", &["a*"])]));
    assert!(!check("StringLike", "k", json!("a${*}"), &[("k", &["ab"])]));
    // Version 2008: no expansion.
    let c = CompiledCondition::compile(
        "StringEquals",
        "k",
        &values(json!("${aws:username}")),
        false,
    )
    .unwrap();
    assert!(c.eval(&ctx(&[("k", &["${aws:username}"])])));
}

/// Exact, prefix and `*` patterns are answered from hash sets: the same
/// answers as trying every glob, including prefixes that end inside a
/// multibyte character of the request value. (An empty request value is
/// null, §4.2, and matches nothing either way.)
#[test]
fn like_sets_match_as_the_globs_do() {
    let patterns = [
        "a", "ab*", "é*", "*", "x?z", "*mid*", "pre*fix", "", "日本*", "abc",
    ];
    let requests = [
        "a",
        "ab",
        "abc",
        "abd",
        "é",
        "éa",
        "xyz",
        "xz",
        "amidb",
        "prefix",
        "pre-fix",
        "日本語",
        "日",
        "z",
    ];
    for n in 1..=patterns.len() {
        let subset = &patterns[..n];
        let policy: Vec<Value> = subset.iter().map(|p| json!(p)).collect();
        for r in requests {
            let expected = subset.iter().any(|p| Glob::new(p).matches(r));
            let got = check(
                "StringLike",
                "k",
                Value::Array(policy.clone()),
                &[("k", &[r])],
            );
            assert_eq!(got, expected, "{subset:?} against {r:?}");
        }
    }
}

#[test]
fn a_key_may_list_a_bounded_number_of_values() {
    use crate::policy::limits::MAX_CONDITION_VALUES_PER_KEY;
    let list = |n: usize| values(Value::Array((0..n).map(|i| json!(i.to_string())).collect()));
    assert!(CompiledCondition::compile(
        "StringEquals",
        "k",
        &list(MAX_CONDITION_VALUES_PER_KEY),
        true
    )
    .is_ok());
    let err = CompiledCondition::compile(
        "StringEquals",
        "k",
        &list(MAX_CONDITION_VALUES_PER_KEY + 1),
        true,
    )
    .unwrap_err();
    assert_eq!(err.code(), "MalformedPolicyDocument");
    assert!(err.message().contains("at most 1000 values"), "{err}");
}

/// Only values compared one by one count as work; set lookups do not.
#[test]
fn work_counts_linear_values_against_request_values() {
    let c = |op: &str, v: Value| CompiledCondition::compile(op, "k", &values(v), true).unwrap();
    let exact = c("StringEquals", json!(["a", "b", "c"]));
    let likes = c("StringLike", json!(["a", "b*", "*", "*x*y"]));
    let nets = c("IpAddress", json!(["10.0.0.0/8", "192.0.2.0/24"]));
    let request = ctx(&[("k", &["aaaaaaaaaaaaaaaa", "b"])]);
    assert_eq!(exact.linear_values(), 0);
    assert_eq!(exact.work(&request), 0);
    // The one prefix length and the one general glob (4 steps).
    assert_eq!(likes.linear_values(), 2);
    assert_eq!(likes.work(&request), 2 * 2 + 4 * 17 / 16);
    assert_eq!(nets.work(&request), 2 * 2);
    assert_eq!(nets.work(&ctx(&[("other", &["x"])])), 0);
}
