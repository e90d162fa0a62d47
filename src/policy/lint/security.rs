//! Overly broad grants: the mistakes that hurt most (§11's security
//! warnings, and the privilege-escalation paths practitioners check with
//! parliament and cloudsplaining).

use std::collections::BTreeMap;

use super::catalog::{AccessLevel, Expansion};
use super::view::Stmt;
use super::{all_resources_path, granting_item, is_allow, Ctx};
use super::{Check, Severity};
use crate::policy::{Effect, PolicyType};

pub(super) const ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES: Check = Check {
    code: "ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES",
    severity: Severity::SecurityWarning,
};
pub(super) const PASS_ROLE_WITH_STAR_IN_RESOURCE: Check = Check {
    code: "PASS_ROLE_WITH_STAR_IN_RESOURCE",
    severity: Severity::SecurityWarning,
};
pub(super) const PRIVILEGE_ESCALATION_ON_STAR: Check = Check {
    code: "PRIVILEGE_ESCALATION_ON_STAR",
    severity: Severity::SecurityWarning,
};
pub(super) const ASSUME_ROLE_WITH_STAR_IN_RESOURCE: Check = Check {
    code: "ASSUME_ROLE_WITH_STAR_IN_RESOURCE",
    severity: Severity::SecurityWarning,
};
pub(super) const ALLOW_WITH_NOT_ACTION: Check = Check {
    code: "ALLOW_WITH_NOT_ACTION",
    severity: Severity::SecurityWarning,
};
pub(super) const ALLOW_WITH_NOT_RESOURCE: Check = Check {
    code: "ALLOW_WITH_NOT_RESOURCE",
    severity: Severity::SecurityWarning,
};
pub(super) const ALLOW_WITH_NOT_PRINCIPAL: Check = Check {
    code: "ALLOW_WITH_NOT_PRINCIPAL",
    severity: Severity::SecurityWarning,
};
pub(super) const WILDCARD_GRANTS_PERMISSIONS_MANAGEMENT: Check = Check {
    code: "WILDCARD_GRANTS_PERMISSIONS_MANAGEMENT",
    severity: Severity::Warning,
};
pub(super) const CREATE_SLR_WITH_STAR_IN_RESOURCE: Check = Check {
    code: "CREATE_SLR_WITH_STAR_IN_RESOURCE",
    severity: Severity::Warning,
};
pub(super) const DENY_NOT_ACTION_WITHOUT_RESOURCE_LIMIT: Check = Check {
    code: "DENY_NOT_ACTION_WITHOUT_RESOURCE_LIMIT",
    severity: Severity::Suggestion,
};

/// Actions that let a principal give itself (or a principal it controls)
/// more permissions when allowed on every user, role, group or policy.
const ESCALATION_ACTIONS: [&str; 17] = [
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachUserPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachGroupPolicy",
    "iam:PutUserPolicy",
    "iam:PutRolePolicy",
    "iam:PutGroupPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup",
    "iam:DeleteUserPermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutUserPermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
];

pub(super) fn check(cx: &mut Ctx<'_, '_>) {
    let doc = cx.doc;
    for s in &doc.statements {
        if is_allow(s) {
            check_not_elements(cx, s);
            if cx.grants() {
                check_grants(cx, s);
            }
        } else {
            check_deny_not_action(cx, s);
        }
    }
}

fn check_not_elements(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>) {
    if let Some(list) = s.action.as_ref().filter(|l| l.negated) {
        cx.push(
            ALLOW_WITH_NOT_ACTION,
            Some(s.index),
            &list.path,
            "Allow with NotAction grants every action except the listed ones, including \
             actions of every other service and actions added later. List the allowed \
             actions in Action instead."
                .into(),
        );
    }
    if let Some(list) = s.resource.as_ref().filter(|l| l.negated) {
        cx.push(
            ALLOW_WITH_NOT_RESOURCE,
            Some(s.index),
            &list.path,
            "Allow with NotResource grants access to every resource except the listed ones, \
             including resources created later. List the allowed resources in Resource \
             instead."
                .into(),
        );
    }
    if let Some(p) = s.principal.as_ref().filter(|p| p.negated) {
        cx.push(
            ALLOW_WITH_NOT_PRINCIPAL,
            Some(s.index),
            &p.path,
            "Allow with NotPrincipal grants access to everyone, anonymous callers included, \
             except the listed principals. Name the allowed principals in Principal, or use \
             Principal \"*\" with a condition on aws:PrincipalArn or aws:PrincipalAccount."
                .into(),
        );
    }
}

fn check_grants(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>) {
    let Some(star) = all_resources_path(s) else {
        return;
    };
    let everything = s
        .action
        .as_ref()
        .is_some_and(|l| !l.negated && l.items.iter().any(|i| i.text == "*" || i.text == "*:*"))
        && s.resource
            .as_ref()
            .is_some_and(|r| !r.negated && r.items.iter().any(|i| i.text == "*"));
    if everything {
        cx.push(
            ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES,
            Some(s.index),
            &s.path,
            "This statement allows every action on every resource: full administrator \
             access. Grant the actions and resources the principal needs; keep \"*\" on \
             \"*\" for a break-glass role only, with MFA and a short session."
                .into(),
        );
        // The specific findings below would only repeat this one.
        return;
    }
    if let Some((item, path)) = granting_item(s, "iam:PassRole") {
        if !s.has_condition_key("iam:PassedToService") {
            cx.push(
                PASS_ROLE_WITH_STAR_IN_RESOURCE,
                Some(s.index),
                &path,
                format!(
                    "Allows iam:PassRole (Write) on every role ({star}){}, so the principal \
                     can hand any role, an administrator role included, to a service it \
                     controls. List the role ARNs in Resource, or add an \
                     iam:PassedToService condition.",
                    through(item, "iam:PassRole")
                ),
            );
        }
    }
    let escalations: Vec<&str> = ESCALATION_ACTIONS
        .iter()
        .copied()
        .filter(|a| granting_item(s, a).is_some())
        .collect();
    if let Some(first) = escalations.first() {
        let path = granting_item(s, first).map(|(_, p)| p).unwrap_or_default();
        cx.push(
            PRIVILEGE_ESCALATION_ON_STAR,
            Some(s.index),
            &path,
            format!(
                "Allowed on every resource ({star}): {}. Each lets the principal grant itself \
                 or another principal more permissions (privilege escalation). Limit Resource \
                 to the users, roles, groups or policies it must manage, or add conditions \
                 such as iam:PolicyARN or iam:PermissionsBoundary.",
                escalations.join(", ")
            ),
        );
    }
    if cx.policy_type == PolicyType::Identity {
        if let Some((item, path)) = granting_item(s, "sts:AssumeRole") {
            cx.push(
                ASSUME_ROLE_WITH_STAR_IN_RESOURCE,
                Some(s.index),
                &path,
                format!(
                    "Allows sts:AssumeRole on every role ({star}){}: the principal can \
                     become any role whose trust policy trusts this account. List the role \
                     ARNs it may assume.",
                    through(item, "sts:AssumeRole")
                ),
            );
        }
    }
    if let Some((_, path)) = granting_item(s, "iam:CreateServiceLinkedRole") {
        if !s.has_condition_key("iam:AWSServiceName") {
            cx.push(
                CREATE_SLR_WITH_STAR_IN_RESOURCE,
                Some(s.index),
                &path,
                format!(
                    "iam:CreateServiceLinkedRole is allowed on every resource ({star}). Name \
                     the service-linked role ARNs, or add an iam:AWSServiceName condition."
                ),
            );
        }
    }
    check_wildcard_levels(cx, s, &star);
}

/// Wildcard actions that expand (through the catalog) to Permissions
/// management actions on every resource: name what they really grant.
fn check_wildcard_levels(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>, star: &str) {
    let Some(list) = s.action.as_ref().filter(|l| !l.negated) else {
        return;
    };
    for item in list.items.iter().filter(|i| i.text.contains(['*', '?'])) {
        let Expansion::Actions(actions) = cx.catalog.expand(item.text) else {
            continue;
        };
        let mut levels: BTreeMap<AccessLevel, usize> = BTreeMap::new();
        for a in &actions {
            *levels.entry(a.action.access_level).or_default() += 1;
        }
        if !levels.contains_key(&AccessLevel::PermissionsManagement) {
            continue;
        }
        let summary: Vec<String> = levels
            .iter()
            .rev()
            .map(|(level, n)| format!("{n} {}", level.as_str()))
            .collect();
        cx.push(
            WILDCARD_GRANTS_PERMISSIONS_MANAGEMENT,
            Some(s.index),
            &item.path,
            format!(
                "{:?} on every resource ({star}) expands to {} actions ({}), including \
                 Permissions management actions that change who can do what. List the \
                 actions the principal needs.",
                item.text,
                actions.len(),
                summary.join(", ")
            ),
        );
    }
}

/// ` through "iam:*"` when a wildcard (or NotAction) grants the action.
fn through(item: &str, action: &str) -> String {
    if item.eq_ignore_ascii_case(action) {
        String::new()
    } else {
        format!(" through {item:?}")
    }
}

fn check_deny_not_action(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>) {
    debug_assert_eq!(s.effect, Effect::Deny);
    let Some(list) = s.action.as_ref().filter(|l| l.negated) else {
        return;
    };
    // A trust policy has no Resource: its Deny covers the role as a whole.
    let unlimited = s.resource.is_none() || all_resources_path(s).is_some();
    if unlimited && !s.has_conditions() {
        cx.push(
            DENY_NOT_ACTION_WITHOUT_RESOURCE_LIMIT,
            Some(s.index),
            &list.path,
            "Deny with NotAction and no resource limit or condition denies every other action \
             of every service on everything, unconditionally. If that is the intent, consider \
             a permissions boundary; otherwise limit Resource or add a condition (for example \
             aws:MultiFactorAuthPresent) so the Deny applies only where meant."
                .into(),
        );
    }
}
