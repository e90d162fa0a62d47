//! Cleanups that do not change what a policy allows: actions, resources or
//! whole statements already covered by others (§11 suggestions).
//!
//! "Covered" is decided conservatively: a pattern covers a literal when it
//! matches it, and covers another pattern only when it is a prefix
//! wildcard (`iam:Get*` covers `iam:GetUser*`) or `*`. Anything with a
//! variable is left alone, since its value is known only per request.

use super::view::{Item, List, Stmt};
use super::{action_matches, Ctx};
use super::{Check, Severity};
use crate::policy::pattern::{ArnPattern, SplitArn};

pub(super) const REDUNDANT_ACTION: Check = Check {
    code: "REDUNDANT_ACTION",
    severity: Severity::Suggestion,
};
pub(super) const REDUNDANT_RESOURCE: Check = Check {
    code: "REDUNDANT_RESOURCE",
    severity: Severity::Suggestion,
};
pub(super) const REDUNDANT_STATEMENT: Check = Check {
    code: "REDUNDANT_STATEMENT",
    severity: Severity::Suggestion,
};

pub(super) fn check(cx: &mut Ctx<'_, '_>) {
    let doc = cx.doc;
    for s in &doc.statements {
        if let Some(list) = &s.action {
            for (item, by) in redundant_items(list, action_covers) {
                cx.push(
                    REDUNDANT_ACTION,
                    Some(s.index),
                    &item.path,
                    format!(
                        "{:?} is already covered by {:?} in the same {}; remove it.",
                        item.text, by.text, list.element
                    ),
                );
            }
        }
        if let Some(list) = &s.resource {
            for (item, by) in redundant_items(list, resource_covers) {
                cx.push(
                    REDUNDANT_RESOURCE,
                    Some(s.index),
                    &item.path,
                    format!(
                        "{:?} is already covered by {:?} in the same {}; remove it.",
                        item.text, by.text, list.element
                    ),
                );
            }
        }
    }
    for (j, s) in doc.statements.iter().enumerate() {
        let covering = doc.statements.iter().enumerate().find(|&(i, other)| {
            i != j && statement_covers(other, s) && !(i > j && statement_covers(s, other))
        });
        if let Some((_, other)) = covering {
            cx.push(
                REDUNDANT_STATEMENT,
                Some(s.index),
                &s.path,
                format!(
                    "Everything this statement covers is already covered by {} (same effect, \
                     principal and conditions, or fewer conditions); remove it.",
                    other.path
                ),
            );
        }
    }
}

/// Items covered by another item of the same list. Of two equal items the
/// later one is reported.
fn redundant_items<'l, 'a>(
    list: &'l List<'a>,
    covers: fn(&str, &str) -> bool,
) -> Vec<(&'l Item<'a>, &'l Item<'a>)> {
    let items = &list.items;
    let mut out = Vec::new();
    for (j, item) in items.iter().enumerate() {
        let by = items.iter().enumerate().find(|&(i, other)| {
            i != j && covers(other.text, item.text) && !(i > j && covers(item.text, other.text))
        });
        if let Some((_, by)) = by {
            out.push((item, by));
        }
    }
    out
}

fn has_wildcard(text: &str) -> bool {
    text.contains(['*', '?'])
}

/// Whether pattern `a` matches everything pattern `b` matches (see the
/// module comment for how conservative this is).
fn pattern_covers(a: &str, b: &str, literal_match: impl Fn(&str, &str) -> bool) -> bool {
    if a.contains("${") || b.contains("${") {
        return a == b;
    }
    if a == b || a == "*" {
        return true;
    }
    if !has_wildcard(b) {
        return literal_match(a, b);
    }
    match a.strip_suffix('*') {
        Some(prefix) if !has_wildcard(prefix) => b.starts_with(prefix),
        _ => false,
    }
}

fn action_covers(a: &str, b: &str) -> bool {
    pattern_covers(&a.to_ascii_lowercase(), &b.to_ascii_lowercase(), |a, b| {
        action_matches(a, b)
    })
}

fn resource_covers(a: &str, b: &str) -> bool {
    pattern_covers(a, b, |a, b| {
        ArnPattern::new(a, true).matches(&SplitArn::new(b))
    })
}

fn list_covers(a: &List<'_>, b: &List<'_>, covers: fn(&str, &str) -> bool) -> bool {
    !a.negated
        && !b.negated
        && b.items
            .iter()
            .all(|bi| a.items.iter().any(|ai| covers(ai.text, bi.text)))
}

/// Whether statement `a` applies to every request statement `b` applies
/// to, with the same effect: then `b` adds nothing.
fn statement_covers(a: &Stmt<'_>, b: &Stmt<'_>) -> bool {
    if a.effect != b.effect {
        return false;
    }
    if principal(a) != principal(b) {
        return false;
    }
    let conditions_ok = match (condition(a), condition(b)) {
        (None, _) => true,
        (Some(ca), Some(cb)) => ca == cb,
        (Some(_), None) => false,
    };
    let actions_ok = match (&a.action, &b.action) {
        (Some(la), Some(lb)) => list_covers(la, lb, action_covers),
        _ => false,
    };
    let resources_ok = match (&a.resource, &b.resource) {
        (Some(ra), Some(rb)) => list_covers(ra, rb, resource_covers),
        (None, None) => true,
        _ => false,
    };
    conditions_ok && actions_ok && resources_ok
}

fn principal<'v>(s: &Stmt<'v>) -> Option<(bool, &'v serde_json::Value)> {
    s.principal.as_ref().map(|p| (p.negated, p.raw))
}

/// The Condition element, when it tests anything.
fn condition<'v>(s: &Stmt<'v>) -> Option<&'v serde_json::Value> {
    s.raw.get("Condition").filter(|_| s.has_conditions())
}
