//! Document-level and element-level checks: the Version, policy variables
//! (§5.4), empty elements, and what the catalog knows about actions.

use super::catalog::Expansion;
use super::keys;
use super::view::{Doc, Family};
use super::{finding, Ctx, Finding};
use super::{Check, Severity};

pub(super) const MALFORMED_POLICY_DOCUMENT: Check = Check {
    code: "MALFORMED_POLICY_DOCUMENT",
    severity: Severity::Error,
};
pub(super) const MISSING_VERSION: Check = Check {
    code: "MISSING_VERSION",
    severity: Severity::Error,
};
pub(super) const UNSUPPORTED_VERSION: Check = Check {
    code: "UNSUPPORTED_VERSION",
    severity: Severity::Error,
};
pub(super) const VARIABLE_UNSUPPORTED_IN_VERSION: Check = Check {
    code: "VARIABLE_UNSUPPORTED_IN_VERSION",
    severity: Severity::Error,
};
pub(super) const VARIABLE_UNSUPPORTED_IN_ELEMENT: Check = Check {
    code: "VARIABLE_UNSUPPORTED_IN_ELEMENT",
    severity: Severity::Error,
};
pub(super) const INVALID_VARIABLE_FOR_OPERATOR: Check = Check {
    code: "INVALID_VARIABLE_FOR_OPERATOR",
    severity: Severity::Error,
};
pub(super) const VARIABLE_MISSING_BRACE: Check = Check {
    code: "VARIABLE_MISSING_BRACE",
    severity: Severity::Error,
};
pub(super) const VARIABLE_EMPTY: Check = Check {
    code: "VARIABLE_EMPTY",
    severity: Severity::Error,
};
pub(super) const VARIABLE_UNSUPPORTED_SPACE: Check = Check {
    code: "VARIABLE_UNSUPPORTED_SPACE",
    severity: Severity::Error,
};
pub(super) const VARIABLE_MISSING_QUOTE: Check = Check {
    code: "VARIABLE_MISSING_QUOTE",
    severity: Severity::Error,
};
pub(super) const VARIABLE_WITH_MULTIVALUED_KEY: Check = Check {
    code: "VARIABLE_WITH_MULTIVALUED_KEY",
    severity: Severity::Warning,
};
pub(super) const EMPTY_SID: Check = Check {
    code: "EMPTY_SID",
    severity: Severity::Suggestion,
};
pub(super) const EMPTY_ARRAY_PRINCIPAL: Check = Check {
    code: "EMPTY_ARRAY_PRINCIPAL",
    severity: Severity::Suggestion,
};
pub(super) const WILDCARD_IN_SERVICE_NAME: Check = Check {
    code: "WILDCARD_IN_SERVICE_NAME",
    severity: Severity::Warning,
};
pub(super) const UNKNOWN_ACTION: Check = Check {
    code: "UNKNOWN_ACTION",
    severity: Severity::Warning,
};

/// Findings for a document whose Version the validator refused.
pub(super) fn check_version(doc: &Doc<'_>, out: &mut Vec<Finding>) {
    let (code, message) = match doc.version {
        None => (
            MISSING_VERSION,
            "Policy document must be version 2012-10-17 or greater. The document has no \
             Version; add \"Version\": \"2012-10-17\" (without it, policy variables are not \
             expanded and latchkey refuses to store it).",
        ),
        Some(_) => (
            UNSUPPORTED_VERSION,
            "Policy document must be version 2012-10-17 or greater. Replace \"2008-10-17\" \
             with \"2012-10-17\".",
        ),
    };
    out.push(finding(code, None, "Version", message.to_owned()));
    for (element, index, text, path) in variable_places(doc) {
        if text.contains("${") {
            out.push(finding(
                VARIABLE_UNSUPPORTED_IN_VERSION,
                Some(index),
                &path,
                format!(
                    "{element} value {text:?} holds a policy variable, but only Version \
                     2012-10-17 expands variables; this version matches the text literally. \
                     Set \"Version\": \"2012-10-17\"."
                ),
            ));
        }
    }
}

/// Resource items and condition values: where variables are meant to be.
fn variable_places(doc: &Doc<'_>) -> Vec<(&'static str, usize, String, String)> {
    let mut out: Vec<_> = doc
        .texts()
        .into_iter()
        .filter(|(element, ..)| element.ends_with("Resource"))
        .map(|(e, i, t, p)| (e, i, t.to_owned(), p))
        .collect();
    for s in &doc.statements {
        for op in s.ops() {
            for entry in &op.entries {
                for v in &entry.values {
                    out.push(("Condition", s.index, v.text.clone(), v.path.clone()));
                }
            }
        }
    }
    out
}

pub(super) fn check(cx: &mut Ctx<'_, '_>) {
    check_variables(cx);
    let doc = cx.doc;
    for s in &doc.statements {
        if s.sid == Some("") {
            cx.push(
                EMPTY_SID,
                Some(s.index),
                &format!("{}.Sid", s.path),
                "The Sid is empty; remove it or name the statement.".into(),
            );
        }
        if let Some(p) = &s.principal {
            for (kind, _, empty) in &p.kinds {
                if *empty {
                    cx.push(
                        EMPTY_ARRAY_PRINCIPAL,
                        Some(s.index),
                        &format!("{}.{kind}", p.path),
                        format!(
                            "{} {kind} is an empty list and names nobody; remove it or list \
                             principals.",
                            if p.negated {
                                "NotPrincipal"
                            } else {
                                "Principal"
                            }
                        ),
                    );
                }
            }
        }
        for item in s.action.iter().flat_map(|l| &l.items) {
            check_action(cx, s.index, item.text, &item.path);
        }
    }
}

fn check_action(cx: &mut Ctx<'_, '_>, index: usize, action: &str, path: &str) {
    let Some((vendor, _)) = action.split_once(':') else {
        return;
    };
    if vendor.contains(['*', '?']) {
        cx.push(
            WILDCARD_IN_SERVICE_NAME,
            Some(index),
            path,
            format!(
                "{action:?} wildcards the service prefix, so it covers every service whose \
                 name fits, including services added later. Name the services explicitly."
            ),
        );
        return;
    }
    if let Expansion::Actions(found) = cx.catalog.expand(action) {
        if found.is_empty() {
            let hint = match cx.catalog.closest_action(action) {
                Some(close) if !action.contains(['*', '?']) => format!(" Did you mean {close}?"),
                _ => String::new(),
            };
            cx.push(
                UNKNOWN_ACTION,
                Some(index),
                path,
                format!(
                    "{action:?} matches no action of the {vendor} service in the catalog, so \
                     it grants or denies nothing.{hint} Fix the name, or register the action \
                     with the service."
                ),
            );
        }
    }
}

fn check_variables(cx: &mut Ctx<'_, '_>) {
    let doc = cx.doc;
    for (element, index, text, path) in doc.texts() {
        if !text.contains("${") {
            continue;
        }
        if element.ends_with("Resource") {
            check_syntax(cx, index, text, &path, element);
        } else {
            cx.push(
                VARIABLE_UNSUPPORTED_IN_ELEMENT,
                Some(index),
                &path,
                format!(
                    "{element} cannot hold policy variables ({text:?} is matched literally). \
                     Use variables only in Resource and in String, ARN or Bool condition \
                     values; filter principals with a condition on aws:PrincipalArn instead."
                ),
            );
        }
    }
    for s in &doc.statements {
        for op in s.ops() {
            for entry in &op.entries {
                if entry.key.contains("${") {
                    cx.push(
                        VARIABLE_UNSUPPORTED_IN_ELEMENT,
                        Some(s.index),
                        &entry.path,
                        format!(
                            "The condition key {:?} holds a policy variable; keys are never \
                             expanded. Put the variable in the value.",
                            entry.key
                        ),
                    );
                }
                for v in entry.values.iter().filter(|v| v.text.contains("${")) {
                    match op.op.family {
                        Some(Family::Numeric | Family::Date | Family::Ip | Family::Binary)
                        | Some(Family::Null) => cx.push(
                            INVALID_VARIABLE_FOR_OPERATOR,
                            Some(s.index),
                            &v.path,
                            format!(
                                "{} does not expand policy variables, so {:?} is compared \
                                 literally. Use a String or ARN operator, or a fixed value.",
                                op.name, v.text
                            ),
                        ),
                        _ => check_syntax(cx, s.index, &v.text, &v.path, "Condition"),
                    }
                }
            }
        }
    }
}

/// Reports the first malformed variable of `text`, and variables naming a
/// multivalued key (only single-valued keys can be substituted).
fn check_syntax(cx: &mut Ctx<'_, '_>, index: usize, text: &str, path: &str, element: &str) {
    let (names, issue) = parse_variables(text);
    if let Some((code, what)) = issue {
        cx.push(
            code,
            Some(index),
            path,
            format!(
                "{element} value {text:?}: {what}. Write variables as ${{key}} or \
                 ${{key, 'default'}}, e.g. ${{aws:username}}."
            ),
        );
    }
    for name in names {
        if keys::key_type(cx.catalog, name).is_some_and(|t| t.is_multivalued()) {
            cx.push(
                VARIABLE_WITH_MULTIVALUED_KEY,
                Some(index),
                path,
                format!(
                    "${{{name}}} names a multivalued key; only single-valued keys can be \
                     substituted, so it always resolves to nothing. Use a ForAnyValue or \
                     ForAllValues condition on {name} instead."
                ),
            );
        }
    }
}

/// The variable names in `text`, and the first syntax problem (§5.4 lists
/// Access Analyzer's four).
fn parse_variables(text: &str) -> (Vec<&str>, Option<(Check, &'static str)>) {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return (
                names,
                Some((VARIABLE_MISSING_BRACE, "a variable has no closing }")),
            );
        };
        let inner = &after[..end];
        rest = &after[end + 1..];
        if inner.is_empty() {
            return (names, Some((VARIABLE_EMPTY, "${} is an empty variable")));
        }
        if matches!(inner, "*" | "?" | "$") {
            continue;
        }
        let (name, default) = match inner.split_once(',') {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let space = "a variable holds a space where none is allowed";
        if name.is_empty() || name.contains(char::is_whitespace) {
            return (names, Some((VARIABLE_UNSUPPORTED_SPACE, space)));
        }
        if let Some(default) = default {
            // Exactly one space after the comma, then a quoted default.
            let Some(quoted) = default.strip_prefix(' ') else {
                return (names, Some((VARIABLE_UNSUPPORTED_SPACE, space)));
            };
            if quoted.starts_with(' ') {
                return (names, Some((VARIABLE_UNSUPPORTED_SPACE, space)));
            }
            if !(quoted.len() >= 2 && quoted.starts_with('\'') && quoted.ends_with('\'')) {
                return (
                    names,
                    Some((
                        VARIABLE_MISSING_QUOTE,
                        "a variable's default value is not in single quotes",
                    )),
                );
            }
        }
        names.push(name);
    }
    (names, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_syntax() {
        assert_eq!(
            parse_variables("a/${aws:username}/b"),
            (vec!["aws:username"], None)
        );
        assert_eq!(
            parse_variables("${aws:PrincipalTag/t, 'x y'}${*}"),
            (vec!["aws:PrincipalTag/t"], None)
        );
        let code = |t| parse_variables(t).1.map(|(c, _)| c.code);
        assert_eq!(code("${aws:username"), Some(VARIABLE_MISSING_BRACE.code));
        assert_eq!(code("${}"), Some(VARIABLE_EMPTY.code));
        assert_eq!(
            code("${ aws:username}"),
            Some(VARIABLE_UNSUPPORTED_SPACE.code)
        );
        assert_eq!(
            code("${aws:username,'x'}"),
            Some(VARIABLE_UNSUPPORTED_SPACE.code)
        );
        assert_eq!(
            code("${aws:username, x}"),
            Some(VARIABLE_MISSING_QUOTE.code)
        );
        assert_eq!(code("no variable"), None);
    }
}
