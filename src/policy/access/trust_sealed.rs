//! Accounts the analysis does not look into: another tenant's, for a
//! tenant's caller. Such an account is one `external` entry, decided from
//! the trust policy alone (what it requires of that account's principals:
//! its statements and conditions), so the entry is the same whoever and
//! whatever the account holds.

use super::{
    allow_all, condition_note, describe, judge, refs, PrincipalType, TrustQuestion,
    TrustedPrincipal, Trusts,
};
use crate::policy::access::{DocumentKind, StatementRef};
use crate::policy::context::RequestContext;
use crate::policy::document::{PrincipalElement, Principals};
use crate::policy::principal::{Principal, PrincipalKind};
use crate::policy::{Effect, PolicyError};

/// Whose principals are not listed one by one.
#[derive(Debug, Default)]
pub struct Sealed<'a> {
    /// Account ids (not the role's own) reported as one entry each.
    pub accounts: &'a [String],
    /// The account of each pinned unique id (`AIDA…`, `AROA…`) the trust
    /// policy names, as the caller resolved it.
    pub id_accounts: &'a [(String, String)],
}

impl Sealed<'_> {
    pub(super) fn contains(&self, account: &str) -> bool {
        self.accounts.iter().any(|a| a == account)
    }
}

/// Stand-ins for what the trust policy names in `account`: the account
/// itself, or the user, role (one of its sessions) or pinned id, each with
/// an identity policy that allows everything (what the account's admin
/// could grant). Nothing stored in the account is read.
fn stand_ins(trust_names: &[String], account: &str, sealed: &Sealed) -> Vec<Principal> {
    let anyone = || Principal {
        arn: format!("arn:aws:iam::{account}:user/any-principal"),
        account: account.to_owned(),
        unique_id: String::new(),
        kind: PrincipalKind::User,
    };
    let mut out = Vec::new();
    for name in trust_names {
        let principal = if super::account_of(name) == Some(account) {
            anyone()
        } else if let Some(rest) = name.strip_prefix("arn:") {
            if rest.split(':').nth(3) != Some(account) {
                continue;
            }
            let resource = rest.splitn(5, ':').nth(4).unwrap_or_default();
            match resource.strip_prefix("role/") {
                Some(path_and_name) => Principal {
                    arn: format!(
                        "arn:aws:sts::{account}:assumed-role/{}/session",
                        path_and_name.rsplit('/').next().unwrap_or_default()
                    ),
                    account: account.to_owned(),
                    unique_id: String::new(),
                    kind: PrincipalKind::AssumedRole {
                        role_arn: name.clone(),
                        role_unique_id: String::new(),
                    },
                },
                None => match Principal::from_arn(name) {
                    Some(p) => p,
                    None => continue,
                },
            }
        } else if sealed
            .id_accounts
            .iter()
            .any(|(id, a)| id == name && a == account)
        {
            if name.starts_with("AROA") {
                Principal {
                    arn: format!("arn:aws:sts::{account}:assumed-role/any-role/session"),
                    account: account.to_owned(),
                    unique_id: String::new(),
                    kind: PrincipalKind::AssumedRole {
                        role_arn: String::new(),
                        role_unique_id: name.clone(),
                    },
                }
            } else {
                Principal {
                    unique_id: name.clone(),
                    ..anyone()
                }
            }
        } else {
            continue;
        };
        out.push(principal);
    }
    out
}

/// Every `Principal.AWS` value of the trust policy's Allow statements.
fn aws_names(q: &TrustQuestion) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for st in &q.trust.statements {
        if st.effect != Effect::Allow {
            continue;
        }
        if let Some(PrincipalElement::Principal(Principals::Map { aws, .. })) = &st.principal {
            for a in aws.iter().flatten() {
                if !out.contains(a) {
                    out.push(a.clone());
                }
            }
        }
    }
    out
}

/// One entry per sealed account that the trust policy lets in.
pub(super) fn sealed_accounts(
    q: &TrustQuestion,
    trusts: &Trusts,
    sealed: &Sealed,
) -> Result<Vec<TrustedPrincipal>, PolicyError> {
    let names = aws_names(q);
    let identity = [allow_all()];
    let mut out = Vec::new();
    for account in sealed.accounts {
        if account == q.role_account {
            continue;
        }
        let mut context = RequestContext::new();
        context.insert("aws:PrincipalAccount", account.clone());
        let mut allowed = false;
        let mut unconditional = false;
        let mut keys: Vec<String> = Vec::new();
        let mut statements: Vec<StatementRef> = Vec::new();
        for principal in stand_ins(&names, account, sealed) {
            let Some(judged) = judge(
                q,
                trusts,
                &identity,
                None,
                &principal,
                &context,
                "sts:AssumeRole",
            )?
            else {
                continue;
            };
            allowed = true;
            unconditional |= !judged.conditional;
            keys.extend(judged.keys);
            for r in refs(&judged.verdict.allows, &[], None) {
                if !statements.contains(&r) {
                    statements.push(r);
                }
            }
        }
        if !allowed {
            continue;
        }
        let conditional = !unconditional;
        if unconditional {
            keys.clear();
        }
        keys.sort();
        keys.dedup();
        statements.sort_by_key(|r| r.index);
        let trust_part = describe(&statements, DocumentKind::Trust);
        let mut reason = format!(
            "The trust policy allows principals of account {account} ({trust_part}). That account is not yours, so its principals are not listed: those the trust policy names whose own identity policy allows sts:AssumeRole on the role can assume it."
        );
        reason.push_str(&condition_note(conditional, &keys));
        out.push(TrustedPrincipal {
            principal_type: PrincipalType::Account,
            principal: account.clone(),
            account_id: Some(account.clone()),
            external: true,
            conditional,
            condition_keys: keys,
            reason,
            statements,
        });
    }
    Ok(out)
}
