//! Who a policy lets in: trust policies (who may assume the role, §6.5) and
//! the principals of resource policies. Misread trust is the second of the
//! two mistakes that hurt most.

use super::view::{PrincipalView, Stmt};
use super::{action_matches, granting_item, is_allow, Ctx};
use super::{Check, Severity};
use crate::policy::PolicyType;

pub(super) const TRUST_POLICY_PUBLIC_PRINCIPAL: Check = Check {
    code: "TRUST_POLICY_PUBLIC_PRINCIPAL",
    severity: Severity::SecurityWarning,
};
pub(super) const TRUST_POLICY_ACCOUNT_WITHOUT_CONDITION: Check = Check {
    code: "TRUST_POLICY_ACCOUNT_WITHOUT_CONDITION",
    severity: Severity::Warning,
};
pub(super) const CROSS_ACCOUNT_TRUST_WITHOUT_EXTERNAL_ID: Check = Check {
    code: "CROSS_ACCOUNT_TRUST_WITHOUT_EXTERNAL_ID",
    severity: Severity::SecurityWarning,
};
pub(super) const MISSING_OIDC_CONDITION_KEY: Check = Check {
    code: "MISSING_OIDC_CONDITION_KEY",
    severity: Severity::SecurityWarning,
};
pub(super) const MISSING_GITHUB_REPO_CONDITION_KEY: Check = Check {
    code: "MISSING_GITHUB_REPO_CONDITION_KEY",
    severity: Severity::SecurityWarning,
};
pub(super) const MISSING_OIDC_AUDIENCE_CONDITION: Check = Check {
    code: "MISSING_OIDC_AUDIENCE_CONDITION",
    severity: Severity::SecurityWarning,
};
pub(super) const OIDC_SUBJECT_UNRESTRICTED: Check = Check {
    code: "OIDC_SUBJECT_UNRESTRICTED",
    severity: Severity::SecurityWarning,
};
pub(super) const MISMATCHED_ACTION_FOR_PRINCIPAL: Check = Check {
    code: "MISMATCHED_ACTION_FOR_PRINCIPAL",
    severity: Severity::Error,
};
pub(super) const TRUST_POLICY_NON_STS_ACTION: Check = Check {
    code: "TRUST_POLICY_NON_STS_ACTION",
    severity: Severity::Warning,
};
pub(super) const RESOURCE_POLICY_PUBLIC_ACCESS: Check = Check {
    code: "RESOURCE_POLICY_PUBLIC_ACCESS",
    severity: Severity::SecurityWarning,
};
pub(super) const SERVICE_PRINCIPAL_WITHOUT_SOURCE_CONDITION: Check = Check {
    code: "SERVICE_PRINCIPAL_WITHOUT_SOURCE_CONDITION",
    severity: Severity::SecurityWarning,
};
pub(super) const INVALID_PRINCIPAL_REFERENCE: Check = Check {
    code: "INVALID_PRINCIPAL_REFERENCE",
    severity: Severity::Warning,
};
pub(super) const REDUNDANT_PRINCIPAL: Check = Check {
    code: "REDUNDANT_PRINCIPAL",
    severity: Severity::Suggestion,
};

const GITHUB: &str = "token.actions.githubusercontent.com";
/// Web-identity providers AWS names without an ARN.
const BUILTIN_OIDC: [&str; 4] = [
    "accounts.google.com",
    "cognito-identity.amazonaws.com",
    "graph.facebook.com",
    "www.amazon.com",
];

pub(super) fn check(cx: &mut Ctx<'_, '_>) {
    let doc = cx.doc;
    for s in &doc.statements {
        let Some(p) = s.principal.as_ref().filter(|p| !p.negated) else {
            continue;
        };
        check_references(cx, s, p);
        if !is_allow(s) {
            continue;
        }
        match cx.policy_type {
            PolicyType::Trust => {
                check_trust_principals(cx, s, p);
                check_oidc(cx, s, p);
                check_actions_for_principals(cx, s, p);
            }
            PolicyType::Resource => check_resource_principals(cx, s, p),
            _ => {}
        }
    }
}

/// The account a principal entry names, and whether it is the whole account
/// (`123456789012` or `arn:aws:iam::123456789012:root`).
fn account_of(id: &str) -> Option<(&str, bool)> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        return Some((id, true));
    }
    let mut parts = id.splitn(6, ':');
    let (arn, _, _, _, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (arn == "arn" && !account.is_empty()).then_some((account, resource == "root"))
}

fn check_trust_principals(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>, p: &PrincipalView<'_>) {
    let conditioned = s.has_conditions();
    if p.is_public() {
        if !conditioned {
            cx.push(
                TRUST_POLICY_PUBLIC_PRINCIPAL,
                Some(s.index),
                &p.path,
                "The trust policy lets any principal of any account assume this role. Name \
                 the accounts or roles that may assume it, or add conditions such as \
                 aws:PrincipalOrgID or aws:PrincipalArn."
                    .into(),
            );
        }
        return;
    }
    let assumes = granting_item(s, "sts:AssumeRole").is_some();
    for item in p.items_of("AWS") {
        let Some((account, whole)) = account_of(item.text) else {
            continue;
        };
        if whole && !conditioned {
            cx.push(
                TRUST_POLICY_ACCOUNT_WITHOUT_CONDITION,
                Some(s.index),
                &item.path,
                format!(
                    "{:?} trusts the whole account {account} without a condition: every user \
                     and role there whose own policies allow sts:AssumeRole on this role can \
                     assume it. Name the roles or users, or add a condition on \
                     aws:PrincipalArn.",
                    item.text
                ),
            );
        }
        let foreign = cx.options.account_id.as_deref() != Some(account);
        let guarded = ["sts:ExternalId", "aws:PrincipalOrgID"]
            .iter()
            .any(|k| s.has_condition_key(k));
        if assumes && foreign && !guarded {
            let which = if cx.options.account_id.is_some() {
                format!("account {account} is another account")
            } else {
                format!("if account {account} is not this role's account, it is a third party")
            };
            cx.push(
                CROSS_ACCOUNT_TRUST_WITHOUT_EXTERNAL_ID,
                Some(s.index),
                &item.path,
                format!(
                    "{:?}: {which}, and nothing requires sts:ExternalId, which protects \
                     against the confused deputy. Add \"Condition\": {{\"StringEquals\": \
                     {{\"sts:ExternalId\": \"<secret agreed with them>\"}}}} (or \
                     aws:PrincipalOrgID for accounts of your organization).",
                    item.text
                ),
            );
        }
    }
}

/// The provider host of a Federated principal, and whether it is OIDC.
fn oidc_host(federated: &str) -> Option<&str> {
    if let Some((_, host)) = federated.split_once(":oidc-provider/") {
        return Some(host);
    }
    BUILTIN_OIDC.contains(&federated).then_some(federated)
}

fn check_oidc(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>, p: &PrincipalView<'_>) {
    let keys = s.condition_keys();
    for item in p.items_of("Federated") {
        let Some(host) = oidc_host(item.text) else {
            continue;
        };
        let registered = item.text.contains(":oidc-provider/");
        let host_lower = host.to_ascii_lowercase();
        let tests = |suffix: &str| keys.iter().any(|k| *k == format!("{host_lower}:{suffix}"));
        // `:sub` tested only with `*` admits every subject all the same.
        let sub_key = format!("{host_lower}:sub");
        let sub_restricted = s.ops().any(|op| {
            op.entries.iter().any(|e| {
                e.key.eq_ignore_ascii_case(&sub_key) && e.values.iter().any(|v| v.text != "*")
            })
        });
        if host_lower == GITHUB {
            if !sub_restricted {
                cx.push(
                    MISSING_GITHUB_REPO_CONDITION_KEY,
                    Some(s.index),
                    &item.path,
                    format!(
                        "Any GitHub Actions workflow of any repository can assume this role. \
                         Add a condition on {GITHUB}:sub, e.g. \"StringLike\": \
                         {{\"{GITHUB}:sub\": \"repo:my-org/my-repo:ref:refs/heads/main\"}}."
                    ),
                );
            }
        } else if registered && !sub_restricted {
            cx.push(
                OIDC_SUBJECT_UNRESTRICTED,
                Some(s.index),
                &item.path,
                format!(
                    "Every subject {host} issues tokens for (any repository, project or \
                     service account) can assume this role. Add a condition on {host}:sub \
                     naming the one that should."
                ),
            );
        } else if !(registered || tests("aud") || tests("sub") || tests("amr")) {
            cx.push(
                MISSING_OIDC_CONDITION_KEY,
                Some(s.index),
                &item.path,
                format!(
                    "Every identity {host} issues tokens for can assume this role. Add a \
                     condition on {host}:aud (your client or app id) and, where it fits, \
                     {host}:sub."
                ),
            );
        }
        if registered && !tests("aud") {
            cx.push(
                MISSING_OIDC_AUDIENCE_CONDITION,
                Some(s.index),
                &item.path,
                format!(
                    "Tokens {host} issued for any audience the provider lists can assume \
                     this role. Add a condition on {host}:aud naming this role's client id."
                ),
            );
        }
    }
}

/// Trust-policy actions each principal kind can use (§7).
fn kind_actions(kind: &str, id: &str) -> &'static [&'static str] {
    match kind {
        "Federated" if id.contains(":saml-provider/") => &["sts:AssumeRoleWithSAML"],
        "Federated" => &["sts:AssumeRoleWithWebIdentity"],
        _ => &["sts:AssumeRole"],
    }
}

fn check_actions_for_principals(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>, p: &PrincipalView<'_>) {
    let Some(list) = s.action.as_ref().filter(|l| !l.negated) else {
        return;
    };
    for item in list.items.iter().filter(|i| {
        let lower = i.text.to_ascii_lowercase();
        i.text != "*" && !lower.starts_with("sts:")
    }) {
        cx.push(
            TRUST_POLICY_NON_STS_ACTION,
            Some(s.index),
            &item.path,
            format!(
                "{:?} means nothing in a trust policy, which only governs sts: actions on \
                 this role (sts:AssumeRole, sts:TagSession...). Grant it in an identity \
                 policy instead.",
                item.text
            ),
        );
    }
    if p.wildcard {
        return;
    }
    for (kind, items, _) in &p.kinds {
        for principal in items {
            let usable = kind_actions(kind, principal.text);
            let fits = list
                .items
                .iter()
                .any(|i| usable.iter().any(|a| action_matches(i.text, a)));
            if !fits {
                cx.push(
                    MISMATCHED_ACTION_FOR_PRINCIPAL,
                    Some(s.index),
                    &principal.path,
                    format!(
                        "The statement's actions do not include {}, the only way a {kind} \
                         principal like {:?} assumes a role, so this entry can never take \
                         effect. Add {} to Action, or move the principal to a statement \
                         that has it.",
                        usable[0], principal.text, usable[0]
                    ),
                );
            }
        }
    }
}

fn check_resource_principals(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>, p: &PrincipalView<'_>) {
    if p.is_public() && !s.has_conditions() {
        cx.push(
            RESOURCE_POLICY_PUBLIC_ACCESS,
            Some(s.index),
            &p.path,
            "Principal \"*\" without a condition makes this resource public: anyone, \
             anonymous callers included, gets the allowed actions. Name the principals, or \
             add a condition on aws:PrincipalOrgID, aws:PrincipalAccount or aws:SourceVpce."
                .into(),
        );
    }
    let sourced = [
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
    ]
    .iter()
    .any(|k| s.has_condition_key(k));
    if sourced {
        return;
    }
    for item in p.items_of("Service") {
        cx.push(
            SERVICE_PRINCIPAL_WITHOUT_SOURCE_CONDITION,
            Some(s.index),
            &item.path,
            format!(
                "{:?} may act here on behalf of any of its customers (the confused deputy). \
                 Add a condition on aws:SourceArn or aws:SourceAccount naming your resource \
                 or account.",
                item.text
            ),
        );
    }
}

/// Unique ids in place of ARNs, and principals already covered by another
/// entry of the same statement.
fn check_references(cx: &mut Ctx<'_, '_>, s: &Stmt<'_>, p: &PrincipalView<'_>) {
    let aws: Vec<_> = p.items_of("AWS").collect();
    for item in &aws {
        let t = item.text;
        if (t.starts_with("AIDA") || t.starts_with("AROA")) && !t.contains(':') {
            cx.push(
                INVALID_PRINCIPAL_REFERENCE,
                Some(s.index),
                &item.path,
                format!(
                    "{t:?} is a unique id: the user or role it pinned was deleted or \
                     recreated, so this entry matches nobody. Replace it with the ARN of the \
                     principal you mean."
                ),
            );
        }
    }
    for (i, item) in aws.iter().enumerate() {
        let earlier = &aws[..i];
        let duplicate = earlier.iter().any(|e| e.text == item.text);
        let parent_role = session_role(item.text).and_then(|(account, role)| {
            aws.iter().find(|other| {
                account_of(other.text).is_some_and(|(a, _)| a == account)
                    && other
                        .text
                        .rsplit_once(":role/")
                        .is_some_and(|(_, path)| path.rsplit('/').next() == Some(role))
            })
        });
        if duplicate {
            cx.push(
                REDUNDANT_PRINCIPAL,
                Some(s.index),
                &item.path,
                format!("{:?} is listed twice; remove one.", item.text),
            );
        } else if let Some(role) = parent_role {
            cx.push(
                REDUNDANT_PRINCIPAL,
                Some(s.index),
                &item.path,
                format!(
                    "The session {:?} is already covered by its role {:?}; remove the \
                     session ARN.",
                    item.text, role.text
                ),
            );
        }
    }
}

/// `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION` → (ACCT, ROLE).
fn session_role(id: &str) -> Option<(&str, &str)> {
    let (account, _) = account_of(id)?;
    let (_, rest) = id.split_once(":assumed-role/")?;
    let (role, _) = rest.split_once('/')?;
    Some((account, role))
}
