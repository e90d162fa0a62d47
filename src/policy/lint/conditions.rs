//! Condition blocks (§4): operators that cannot do what the author meant,
//! values of the wrong type, and set operators on the wrong kind of key.

use std::net::IpAddr;

use base64::Engine as _;
use ipnet::IpNet;

use super::catalog::{ActionRef, Expansion};
use super::keys::{self, DEPRECATED_KEYS};
use super::view::{Entry, Family, OpView, Qualifier, Stmt};
use super::{is_allow, Ctx};
use super::{Check, Severity};
use crate::policy::action_keys::{self, OWN_SERVICES};

pub(super) const FOR_ALL_VALUES_WITH_SINGLE_VALUED_KEY: Check = Check {
    code: "FOR_ALL_VALUES_WITH_SINGLE_VALUED_KEY",
    severity: Severity::SecurityWarning,
};
pub(super) const FOR_ALL_VALUES_WITHOUT_NULL_CHECK: Check = Check {
    code: "FOR_ALL_VALUES_WITHOUT_NULL_CHECK",
    severity: Severity::Warning,
};
pub(super) const MISSING_QUALIFIER: Check = Check {
    code: "MISSING_QUALIFIER",
    severity: Severity::Error,
};
pub(super) const NULL_WITH_IF_EXISTS: Check = Check {
    code: "NULL_WITH_IF_EXISTS",
    severity: Severity::Error,
};
pub(super) const NULL_WITH_QUALIFIER: Check = Check {
    code: "NULL_WITH_QUALIFIER",
    severity: Severity::Suggestion,
};
pub(super) const WILDCARD_WITHOUT_LIKE_OPERATOR: Check = Check {
    code: "WILDCARD_WITHOUT_LIKE_OPERATOR",
    severity: Severity::Warning,
};
pub(super) const TYPE_MISMATCH_BOOLEAN: Check = Check {
    code: "TYPE_MISMATCH_BOOLEAN",
    severity: Severity::Warning,
};
pub(super) const TYPE_MISMATCH_ARN: Check = Check {
    code: "TYPE_MISMATCH_ARN",
    severity: Severity::Warning,
};
pub(super) const TYPE_MISMATCH_BINARY: Check = Check {
    code: "TYPE_MISMATCH_BINARY",
    severity: Severity::Warning,
};
pub(super) const OPERATOR_KEY_TYPE_MISMATCH: Check = Check {
    code: "OPERATOR_KEY_TYPE_MISMATCH",
    severity: Severity::Warning,
};
pub(super) const PRIVATE_IP_ADDRESS: Check = Check {
    code: "PRIVATE_IP_ADDRESS",
    severity: Severity::Error,
};
pub(super) const IMPROVE_IP_RANGE: Check = Check {
    code: "IMPROVE_IP_RANGE",
    severity: Severity::Suggestion,
};
pub(super) const DEPRECATED_GLOBAL_CONDITION_KEY: Check = Check {
    code: "DEPRECATED_GLOBAL_CONDITION_KEY",
    severity: Severity::Warning,
};
pub(super) const UNKNOWN_CONDITION_KEY: Check = Check {
    code: "UNKNOWN_CONDITION_KEY",
    severity: Severity::Warning,
};
pub(super) const REDUNDANT_CONDITION_VALUE_NUM: Check = Check {
    code: "REDUNDANT_CONDITION_VALUE_NUM",
    severity: Severity::Suggestion,
};
pub(super) const MISSING_PAIRED_CONDITION_KEYS: Check = Check {
    code: "MISSING_PAIRED_CONDITION_KEYS",
    severity: Severity::SecurityWarning,
};
pub(super) const SPOOFABLE_CONDITION_KEY: Check = Check {
    code: "SPOOFABLE_CONDITION_KEY",
    severity: Severity::Warning,
};
pub(super) const CONDITION_KEY_NEVER_SUPPLIED: Check = Check {
    code: "CONDITION_KEY_NEVER_SUPPLIED",
    severity: Severity::Warning,
};
pub(super) const EMPTY_OBJECT_CONDITION: Check = Check {
    code: "EMPTY_OBJECT_CONDITION",
    severity: Severity::Suggestion,
};
pub(super) const EMPTY_ARRAY_CONDITION: Check = Check {
    code: "EMPTY_ARRAY_CONDITION",
    severity: Severity::Suggestion,
};
pub(super) const EMPTY_ARRAY_CONDITION_QUALIFIER: Check = Check {
    code: "EMPTY_ARRAY_CONDITION_QUALIFIER",
    severity: Severity::Suggestion,
};

pub(super) fn check(cx: &mut Ctx<'_, '_>) {
    let doc = cx.doc;
    for s in &doc.statements {
        if let Some(ops) = &s.condition {
            if ops.is_empty() {
                cx.push(
                    EMPTY_OBJECT_CONDITION,
                    Some(s.index),
                    &format!("{}.Condition", s.path),
                    "The Condition block is empty and restricts nothing; remove it.".into(),
                );
            }
        }
        for op in s.ops() {
            if op.entries.is_empty() {
                cx.push(
                    EMPTY_OBJECT_CONDITION,
                    Some(s.index),
                    &op.path,
                    format!(
                        "{} has no keys and restricts nothing; remove it or add keys.",
                        op.name
                    ),
                );
            }
            check_operator(cx, s, op);
            for entry in &op.entries {
                check_key(cx, s, op, entry);
                check_values(cx, s, op, entry);
            }
        }
        check_pairs(cx, s);
        check_supplied(cx, s);
    }
}

fn check_operator(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>, op: &OpView<'_>) {
    if op.op.family != Some(Family::Null) {
        return;
    }
    if op.op.if_exists {
        cx.push(
            NULL_WITH_IF_EXISTS,
            Some(s.index),
            &op.path,
            format!(
                "{} makes no sense: Null already tests whether the key exists. Use Null.",
                op.name
            ),
        );
    }
    if op.op.qualifier.is_some() {
        cx.push(
            NULL_WITH_QUALIFIER,
            Some(s.index),
            &op.path,
            format!(
                "{}: a set qualifier on Null makes it always true (ForAllValues) or always \
                 false (ForAnyValue). Use plain Null.",
                op.name
            ),
        );
    }
}

fn check_key(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>, op: &OpView<'_>, entry: &Entry<'_>) {
    let key = entry.key;
    let lower = key.to_ascii_lowercase();
    let at = |path: &str| (Some(s.index), path.to_owned());
    if let Some((_, replacement)) = DEPRECATED_KEYS.iter().find(|(k, _)| *k == lower) {
        let (i, p) = at(&entry.path);
        cx.push(
            DEPRECATED_GLOBAL_CONDITION_KEY,
            i,
            &p,
            format!("{key} is deprecated; use {replacement}."),
        );
    }
    if keys::is_unknown(cx.catalog, key) {
        let (i, p) = at(&entry.path);
        cx.push(
            UNKNOWN_CONDITION_KEY,
            i,
            &p,
            format!(
                "{key} is not a condition key lint knows (global keys, and the catalog's keys \
                 of that service). A key the request never carries makes positive operators \
                 false and negated ones true; check the spelling."
            ),
        );
    }
    if is_allow(s) && (lower == "aws:useragent" || lower == "aws:referer") {
        let (i, p) = at(&entry.path);
        cx.push(
            SPOOFABLE_CONDITION_KEY,
            i,
            &p,
            format!(
                "{key} comes from a header the caller sets freely; never grant access on it. \
                 Use aws:SourceIp, aws:SourceVpce or aws:PrincipalOrgID."
            ),
        );
    }
    let Some(key_type) = keys::key_type(cx.catalog, key) else {
        return;
    };
    let Some(family) = op.op.family else {
        return;
    };
    if !keys::family_fits(family, key_type, key) {
        cx.push(
            OPERATOR_KEY_TYPE_MISMATCH,
            Some(s.index),
            &entry.path,
            format!(
                "{} cannot compare {key}; it takes {}.",
                op.name,
                keys::operators_for(key_type)
            ),
        );
    }
    if family == Family::Null {
        return;
    }
    match (op.op.qualifier, key_type.is_multivalued()) {
        (None, true) => cx.push(
            MISSING_QUALIFIER,
            Some(s.index),
            &entry.path,
            format!(
                "{key} is multivalued: without ForAnyValue: or ForAllValues: the operator \
                 {} does not say how the request's list is compared. Write \
                 ForAnyValue:{} (some value matches) or ForAllValues:{} (every value \
                 matches).",
                op.name, op.name, op.name
            ),
        ),
        (Some(Qualifier::ForAllValues), false) => cx.push(
            FOR_ALL_VALUES_WITH_SINGLE_VALUED_KEY,
            Some(s.index),
            &entry.path,
            format!(
                "{key} is single-valued: {} is true whenever the request lacks the key, so \
                 this condition lets through requests it was meant to stop. Drop the \
                 ForAllValues: qualifier.",
                op.name
            ),
        ),
        (Some(Qualifier::ForAllValues), true)
            if is_allow(s) && !op.op.is_negated() && !requires_presence(s, key) =>
        {
            cx.push(
                FOR_ALL_VALUES_WITHOUT_NULL_CHECK,
                Some(s.index),
                &entry.path,
                format!(
                    "{} is vacuously true when the request carries no {key}, so this Allow \
                     also matches requests without it. Add \"Null\": {{\"{key}\": \"false\"}}.",
                    op.name
                ),
            );
        }
        _ => {}
    }
}

/// `"Null": {key: "false"}` in the same block.
fn requires_presence(s: &Stmt<'_>, key: &str) -> bool {
    s.ops()
        .filter(|op| op.name == "Null")
        .flat_map(|op| &op.entries)
        .any(|e| e.key.eq_ignore_ascii_case(key) && e.values.iter().all(|v| v.text == "false"))
}

fn check_values(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>, op: &OpView<'_>, entry: &Entry<'_>) {
    if entry.empty_array {
        let (code, what) = match (op.op.qualifier, op.op.if_exists) {
            (Some(Qualifier::ForAllValues), _) => (
                EMPTY_ARRAY_CONDITION_QUALIFIER,
                "with ForAllValues it matches only requests without the key",
            ),
            (Some(Qualifier::ForAnyValue), _) => (
                EMPTY_ARRAY_CONDITION_QUALIFIER,
                "with ForAnyValue it never matches",
            ),
            (None, true) => (
                EMPTY_ARRAY_CONDITION_QUALIFIER,
                "with IfExists it matches only requests without the key",
            ),
            (None, false) => (EMPTY_ARRAY_CONDITION, "it compares against nothing"),
        };
        cx.push(
            code,
            Some(s.index),
            &entry.path,
            format!(
                "{} {} has an empty list of values: {what}. List values, or remove the key.",
                op.name, entry.key
            ),
        );
        return;
    }
    let Some(family) = op.op.family else {
        return;
    };
    let ordered = ["LessThan", "GreaterThan"]
        .iter()
        .any(|w| op.op.base.contains(w));
    if matches!(family, Family::Numeric | Family::Date) && ordered && entry.values.len() > 1 {
        cx.push(
            REDUNDANT_CONDITION_VALUE_NUM,
            Some(s.index),
            &entry.path,
            format!(
                "{} with several values is true when any one holds, so only the loosest \
                 bound matters. Keep one value.",
                op.name
            ),
        );
    }
    let like_exempt = op.op.base.contains("Like");
    for v in &entry.values {
        let text = v.text.as_str();
        let message = |what: &str| format!("{} {}: {what}", op.name, entry.key);
        match family {
            Family::String if !like_exempt && has_wildcard(text) => cx.push(
                WILDCARD_WITHOUT_LIKE_OPERATOR,
                Some(s.index),
                &v.path,
                message(&format!(
                    "{text:?} holds * or ?, which {} compares literally. Use {} for a \
                     pattern, or ${{*}} / ${{?}} for a literal character.",
                    op.op.base,
                    if op.op.is_negated() {
                        "StringNotLike"
                    } else {
                        "StringLike"
                    }
                )),
            ),
            Family::Bool
                if !text.eq_ignore_ascii_case("true") && !text.eq_ignore_ascii_case("false") =>
            {
                cx.push(
                    TYPE_MISMATCH_BOOLEAN,
                    Some(s.index),
                    &v.path,
                    message(&format!(
                        "{text:?} is not a Boolean, so the condition never matches. Write \
                         \"true\" or \"false\"."
                    )),
                )
            }
            Family::Arn if !(text == "*" || text.starts_with("arn:") || text.starts_with("${")) => {
                cx.push(
                    TYPE_MISMATCH_ARN,
                    Some(s.index),
                    &v.path,
                    message(&format!(
                        "{text:?} is not an ARN; ARN operators compare arn:partition:service:\
                         region:account:resource. Write an ARN, or use a String operator."
                    )),
                )
            }
            Family::Binary
                if base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .is_err() =>
            {
                cx.push(
                    TYPE_MISMATCH_BINARY,
                    Some(s.index),
                    &v.path,
                    message(&format!(
                        "{text:?} is not base64; BinaryEquals compares base64-encoded bytes."
                    )),
                )
            }
            Family::Ip => check_ip(cx, s.index, entry.key, text, &v.path),
            _ => {}
        }
    }
}

/// `*` or `?` outside the `${*}` / `${?}` escapes and variables.
fn has_wildcard(text: &str) -> bool {
    let mut rest = text;
    let mut plain = String::new();
    while let Some(start) = rest.find("${") {
        plain.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    plain.push_str(rest);
    plain.contains(['*', '?'])
}

fn check_ip(cx: &mut Ctx<'_, '_>, index: usize, key: &str, text: &str, path: &str) {
    let net = match text.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => match text.parse::<IpAddr>() {
            Ok(addr) => IpNet::from(addr),
            Err(_) => return,
        },
    };
    if net.addr() != net.network() {
        cx.push(
            IMPROVE_IP_RANGE,
            Some(index),
            path,
            format!(
                "{text:?} has host bits set; it means {}. Write that instead.",
                net.trunc()
            ),
        );
    }
    if key.eq_ignore_ascii_case("aws:SourceIp") && is_private(net.network()) {
        cx.push(
            PRIVATE_IP_ADDRESS,
            Some(index),
            path,
            format!(
                "{text:?} is a private range, but aws:SourceIp only ever holds public \
                 addresses (requests through a VPC endpoint carry none). Use aws:VpcSourceIp \
                 together with aws:SourceVpc or aws:SourceVpce."
            ),
        );
    }
}

fn is_private(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Keys that mean something only together (§11 "Missing paired condition
/// keys").
fn check_pairs(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>) {
    let keys = s.condition_keys();
    if keys.iter().any(|k| k == "aws:vpcsourceip")
        && !keys
            .iter()
            .any(|k| k == "aws:sourcevpc" || k == "aws:sourcevpce")
    {
        let path = s
            .ops()
            .flat_map(|op| &op.entries)
            .find(|e| e.key.eq_ignore_ascii_case("aws:VpcSourceIp"))
            .map(|e| e.path.clone())
            .unwrap_or_default();
        cx.push(
            MISSING_PAIRED_CONDITION_KEYS,
            Some(s.index),
            &path,
            "aws:VpcSourceIp alone matches that address range in any VPC, someone else's \
             included. Pair it with aws:SourceVpc or aws:SourceVpce."
                .into(),
        );
    }
}

/// A condition on a key the request never carries for any of the
/// statement's actions: a Deny written on it never denies, an Allow never
/// allows (negated operators and Null always hold instead). Judged only
/// where the server builds the whole context, that is for statements whose
/// actions all belong to latchkey's own services (`/v1/authorize` decides
/// other services' actions over the context their caller passes), and only
/// for the keys whose presence depends on the action.
fn check_supplied(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>) {
    let Some(list) = s.action.as_ref().filter(|l| !l.negated) else {
        return;
    };
    let mut actions: Vec<ActionRef<'_>> = Vec::new();
    for item in &list.items {
        let own = item
            .text
            .split_once(':')
            .is_some_and(|(prefix, _)| OWN_SERVICES.iter().any(|o| o.eq_ignore_ascii_case(prefix)));
        match cx.catalog.expand(item.text) {
            Expansion::Actions(found) if own && !found.is_empty() => actions.extend(found),
            // Another service, or an action the catalog does not know:
            // nothing to judge.
            _ => return,
        }
    }
    let named = list
        .items
        .iter()
        .map(|i| i.text)
        .collect::<Vec<_>>()
        .join(", ");
    for op in s.ops() {
        for entry in &op.entries {
            let key = entry.key;
            if !action_keys::is_per_action(key)
                || actions.iter().any(|a| action_keys::supplies(*a, key))
            {
                continue;
            }
            cx.push(
                CONDITION_KEY_NEVER_SUPPLIED,
                Some(s.index),
                &entry.path,
                format!(
                    "This guardrail can never match: latchkey never supplies {key} for \
                     {named}. {} over a key the request does not carry is false (negated \
                     operators, IfExists and Null are true instead), whatever the request. Use \
                     a key these actions carry (AWS lists them per action in the Service \
                     Authorization Reference), or name the actions that carry {key}.",
                    op.name
                ),
            );
        }
    }
}
