//! "Who can assume this role?": every given principal for which the engine
//! allows `sts:AssumeRole` on the role, from the role's trust policy and
//! the principal's own identity policies and boundary (§6.4, §6.5), plus
//! the services, identity providers, accounts and `"*"` the trust policy
//! itself names.
//!
//! Conditions: the analysis knows the principal (its ARN, account, type,
//! tags: the caller passes them as context) but not the request (an
//! external id, a source IP, MFA). A principal allowed with what is known
//! is listed as is. One allowed only if unknown request keys hold the right
//! values is listed with `conditional: true` and those keys: it is decided
//! again with every Allow's conditions assumed to hold and every
//! conditional Deny assumed not to fire. A principal refused even then
//! (no Allow, an unconditional Deny, no identity-policy allow where one is
//! needed) is not listed.

use serde::Serialize;

#[path = "trust_sealed.rs"]
mod sealed;
pub use sealed::Sealed;

use super::{DocumentSource, NamedDocument, StatementRef};
use crate::policy::compile::{CompiledPolicy, PolicySource, SourceKind};
use crate::policy::context::RequestContext;
use crate::policy::document::{PolicyDocument, PrincipalElement, Principals};
use crate::policy::evaluate::{evaluate, EvaluationRequest, ResourcePolicy};
use crate::policy::principal::{Principal, PrincipalKind};
use crate::policy::{Effect, PolicyError};

/// What kind of principal can assume the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalType {
    User,
    /// Sessions of a role (role chaining): the role's policies apply.
    RoleSession,
    Service,
    Federated,
    /// The trust policy names a whole account: its principals whose own
    /// identity policies allow `sts:AssumeRole` on the role.
    Account,
    /// `"*"`: anyone, authenticated or not.
    Public,
}

/// A stored principal to decide for.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// How the result names it: the user's ARN, or the role's ARN for its
    /// sessions.
    pub name: String,
    pub principal: Principal,
    pub principal_type: PrincipalType,
    pub identity: Vec<NamedDocument>,
    pub boundary: Option<NamedDocument>,
    /// What is known of the principal: `aws:PrincipalArn`,
    /// `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:userid`, tags.
    pub context: RequestContext,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedPrincipal {
    pub principal_type: PrincipalType,
    /// An ARN, a service or provider name, an account id, or `*`.
    pub principal: String,
    /// Absent for services, identity providers and `*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Another account, an identity provider, or anyone (`*`).
    pub external: bool,
    /// Allowed only when request condition keys hold the right values.
    pub conditional: bool,
    /// The request keys a conditional grant depends on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub condition_keys: Vec<String>,
    /// Why, in words.
    pub reason: String,
    /// The Allow statements that grant it: the trust policy's and, where
    /// needed, the principal's own identity policy's.
    pub statements: Vec<StatementRef>,
}

/// The role and its trust policy (as stored: user and role principals may
/// be pinned unique ids, which the candidates carry).
pub struct TrustQuestion<'a> {
    pub role_arn: &'a str,
    pub role_account: &'a str,
    pub trust: &'a PolicyDocument,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Exact,
    /// Allows' conditions assumed to hold, conditional Denies assumed not to fire.
    Optimistic,
}

fn variant(doc: &PolicyDocument, v: Variant) -> PolicyDocument {
    let mut doc = doc.clone();
    if v == Variant::Optimistic {
        for st in &mut doc.statements {
            if st.condition.is_empty() {
                continue;
            }
            match st.effect {
                Effect::Allow => st.condition.clear(),
                // A statement without Action matches nothing; its index stays.
                Effect::Deny => st.action = None,
            }
        }
    }
    doc
}

/// The trust policy compiled once per variant.
struct Trusts {
    exact: CompiledPolicy,
    optimistic: CompiledPolicy,
}

impl Trusts {
    fn new(trust: &PolicyDocument) -> Result<Self, PolicyError> {
        let one = |v| {
            CompiledPolicy::compile(
                &variant(trust, v),
                PolicySource::new(SourceKind::Trust, "trust"),
            )
        };
        Ok(Trusts {
            exact: one(Variant::Exact)?,
            optimistic: one(Variant::Optimistic)?,
        })
    }

    fn get(&self, v: Variant) -> &CompiledPolicy {
        match v {
            Variant::Exact => &self.exact,
            Variant::Optimistic => &self.optimistic,
        }
    }
}

/// A principal's documents compiled under names that map back to their
/// sources (the identity documents by position).
struct Side {
    identity: Vec<CompiledPolicy>,
    boundary: Option<CompiledPolicy>,
}

fn compile_side(
    identity: &[NamedDocument],
    boundary: Option<&NamedDocument>,
    v: Variant,
) -> Result<Side, PolicyError> {
    Ok(Side {
        identity: identity
            .iter()
            .enumerate()
            .map(|(i, d)| {
                CompiledPolicy::compile(
                    &variant(&d.document, v),
                    PolicySource::new(SourceKind::Identity, i.to_string()),
                )
            })
            .collect::<Result<_, _>>()?,
        boundary: boundary
            .map(|d| {
                CompiledPolicy::compile(
                    &variant(&d.document, v),
                    PolicySource::new(SourceKind::Boundary, "boundary"),
                )
            })
            .transpose()?,
    })
}

struct Verdict {
    allowed: bool,
    missing: Vec<String>,
    /// (source kind, compiled name, sid, index) of matching Allows.
    allows: Vec<(SourceKind, String, Option<String>, usize)>,
}

fn decide(
    q: &TrustQuestion,
    trust: &CompiledPolicy,
    c: &Side,
    principal: &Principal,
    context: &RequestContext,
    action: &str,
    with_identity: bool,
) -> Verdict {
    let identity: Vec<&CompiledPolicy> = if with_identity {
        c.identity.iter().collect()
    } else {
        Vec::new()
    };
    let e = evaluate(&EvaluationRequest {
        principal,
        action,
        resource: q.role_arn,
        context,
        identity: &identity,
        boundary: c.boundary.as_ref(),
        session: None,
        resource_policy: Some(ResourcePolicy {
            policy: trust,
            owner_account: q.role_account,
        }),
    });
    Verdict {
        allowed: e.is_allowed(),
        missing: e.missing_context_keys,
        allows: e
            .matched_statements
            .into_iter()
            .filter(|m| m.effect == Effect::Allow)
            .map(|m| (m.source, m.policy, m.sid, m.index))
            .collect(),
    }
}

fn trust_source() -> DocumentSource {
    DocumentSource {
        policy: "trust policy".into(),
        kind: super::DocumentKind::Trust,
        attached_to: None,
    }
}

/// Maps the engine's matched statements back to their documents.
fn refs(
    allows: &[(SourceKind, String, Option<String>, usize)],
    identity: &[NamedDocument],
    boundary: Option<&NamedDocument>,
) -> Vec<StatementRef> {
    let mut out: Vec<StatementRef> = allows
        .iter()
        .filter_map(|(kind, name, sid, index)| {
            let source = match kind {
                SourceKind::Trust => trust_source(),
                SourceKind::Identity => identity.get(name.parse::<usize>().ok()?)?.source.clone(),
                SourceKind::Boundary => boundary?.source.clone(),
                _ => return None,
            };
            Some(StatementRef {
                source,
                sid: sid.clone(),
                index: *index,
            })
        })
        .collect();
    // The trust policy's statements first: they are why anyone is listed.
    out.sort_by_key(|r| r.source.kind != super::DocumentKind::Trust);
    out
}

fn describe(refs: &[StatementRef], kind: super::DocumentKind) -> String {
    refs.iter()
        .filter(|r| r.source.kind == kind)
        .map(|r| {
            let sid = r
                .sid
                .as_deref()
                .map(|s| format!(" \"{s}\""))
                .unwrap_or_default();
            let holder = r
                .source
                .attached_to
                .as_deref()
                .map(|h| format!(" of {h}"))
                .unwrap_or_default();
            match kind {
                super::DocumentKind::Trust => format!("statement {}{sid}", r.index),
                super::DocumentKind::Inline => format!(
                    "inline policy {}{holder}, statement {}{sid}",
                    r.source.policy, r.index
                ),
                _ => format!(
                    "managed policy {}{holder}, statement {}{sid}",
                    r.source.policy, r.index
                ),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A principal found allowed.
struct Judged {
    conditional: bool,
    /// The request keys a conditional grant depends on.
    keys: Vec<String>,
    verdict: Verdict,
    variant: Variant,
    side: Side,
}

/// Decides a principal exactly, then (when request keys were missing)
/// optimistically.
fn judge(
    q: &TrustQuestion,
    trusts: &Trusts,
    identity: &[NamedDocument],
    boundary: Option<&NamedDocument>,
    principal: &Principal,
    context: &RequestContext,
    action: &str,
) -> Result<Option<Judged>, PolicyError> {
    let exact = compile_side(identity, boundary, Variant::Exact)?;
    let verdict = decide(q, &trusts.exact, &exact, principal, context, action, true);
    if verdict.allowed {
        return Ok(Some(Judged {
            conditional: false,
            keys: Vec::new(),
            verdict,
            variant: Variant::Exact,
            side: exact,
        }));
    }
    if verdict.missing.is_empty() {
        return Ok(None);
    }
    let optimistic = compile_side(identity, boundary, Variant::Optimistic)?;
    let again = decide(
        q,
        &trusts.optimistic,
        &optimistic,
        principal,
        context,
        action,
        true,
    );
    Ok(again.allowed.then_some(Judged {
        conditional: true,
        keys: verdict.missing,
        verdict: again,
        variant: Variant::Optimistic,
        side: optimistic,
    }))
}

/// For an OIDC provider (`...:oidc-provider/HOST/PATH`): the token claims
/// the grant depends on, from its `HOST/PATH:CLAIM` condition keys; or a
/// warning that it depends on none.
fn required_claims(provider: &str, keys: &[String]) -> String {
    let Some((_, host)) = provider.split_once(":oidc-provider/") else {
        return String::new();
    };
    let prefix = format!("{}:", host.to_ascii_lowercase());
    let claims: Vec<&str> = keys
        .iter()
        .filter(|k| k.to_ascii_lowercase().starts_with(&prefix))
        .map(|k| &k[prefix.len()..])
        .collect();
    if claims.is_empty() {
        " Any token of this provider for any of its client ids will do: no claim is required."
            .into()
    } else {
        format!(" The token must carry the claims: {}.", claims.join(", "))
    }
}

fn condition_note(conditional: bool, keys: &[String]) -> String {
    if conditional {
        format!(
            " Only when the request's condition keys hold the right values ({}).",
            keys.join(", ")
        )
    } else {
        String::new()
    }
}

/// Decides every candidate and every principal the trust policy names
/// itself (services, identity providers, accounts, `*`).
pub fn analyze_trust(
    q: &TrustQuestion,
    candidates: &[Candidate],
) -> Result<Vec<TrustedPrincipal>, PolicyError> {
    analyze_trust_sealed(q, candidates, &Sealed::default())
}

/// [`analyze_trust`], with the `sealed` accounts reported as one entry
/// each, from the trust policy alone (the candidates hold none of their
/// principals).
pub fn analyze_trust_sealed(
    q: &TrustQuestion,
    candidates: &[Candidate],
    sealed: &Sealed,
) -> Result<Vec<TrustedPrincipal>, PolicyError> {
    let trusts = Trusts::new(q.trust)?;
    let mut out = Vec::new();
    for c in candidates {
        let Some(Judged {
            conditional,
            keys,
            verdict,
            variant: v,
            side,
        }) = judge(
            q,
            &trusts,
            &c.identity,
            c.boundary.as_ref(),
            &c.principal,
            &c.context,
            "sts:AssumeRole",
        )?
        else {
            continue;
        };
        let statements = refs(&verdict.allows, &c.identity, c.boundary.as_ref());
        let external = c.principal.account != q.role_account;
        let by_name_alone = !external
            && decide(
                q,
                trusts.get(v),
                &side,
                &c.principal,
                &c.context,
                "sts:AssumeRole",
                false,
            )
            .allowed;
        let trust_part = describe(&statements, super::DocumentKind::Trust);
        let mut reason = if by_name_alone {
            format!("The trust policy allows this principal by name ({trust_part}).")
        } else {
            let (named, why) = if external {
                (
                    "allows it",
                    "as a principal of another account it also needs",
                )
            } else {
                ("trusts its whole account", "so it also needs")
            };
            let identity_part = [super::DocumentKind::Inline, super::DocumentKind::Managed]
                .into_iter()
                .map(|k| describe(&statements, k))
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "The trust policy {named} ({trust_part}); {why} its own identity policy to allow sts:AssumeRole on the role, which it does ({identity_part})."
            )
        };
        reason.push_str(&condition_note(conditional, &keys));
        out.push(TrustedPrincipal {
            principal_type: c.principal_type,
            principal: c.name.clone(),
            account_id: Some(c.principal.account.clone()),
            external,
            conditional,
            condition_keys: keys,
            reason,
            statements,
        });
    }
    out.extend(sealed::sealed_accounts(q, &trusts, sealed)?);
    out.extend(named_principals(q, &trusts)?.into_iter().filter(|p| {
        !(p.principal_type == PrincipalType::Account && sealed.contains(&p.principal))
    }));
    Ok(out)
}

/// What the trust policy's Allow statements name, deduplicated.
fn named_entries(trust: &PolicyDocument) -> Vec<(PrincipalType, String)> {
    let mut out: Vec<(PrincipalType, String)> = Vec::new();
    let mut push = |entry: (PrincipalType, String)| {
        if !out.contains(&entry) {
            out.push(entry);
        }
    };
    for st in &trust.statements {
        if st.effect != Effect::Allow {
            continue;
        }
        let Some(PrincipalElement::Principal(p)) = &st.principal else {
            continue;
        };
        match p {
            Principals::Wildcard => push((PrincipalType::Public, "*".into())),
            Principals::Map {
                aws,
                service,
                federated,
                ..
            } => {
                for a in aws.iter().flatten() {
                    if a == "*" {
                        push((PrincipalType::Public, "*".into()));
                    } else if let Some(account) = account_of(a) {
                        push((PrincipalType::Account, account.to_owned()));
                    }
                }
                for s in service.iter().flatten() {
                    push((PrincipalType::Service, s.clone()));
                }
                for f in federated.iter().flatten() {
                    push((PrincipalType::Federated, f.clone()));
                }
            }
        }
    }
    out
}

/// The account of a 12-digit id or an `arn:PARTITION:iam::ACCOUNT:root`.
pub fn account_of(entry: &str) -> Option<&str> {
    if entry.len() == 12 && entry.bytes().all(|b| b.is_ascii_digit()) {
        return Some(entry);
    }
    let rest = entry.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    rest.strip_prefix("iam::")?.strip_suffix(":root")
}

/// Whose stored principals the trust policy may reach.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NamedAccounts {
    /// `"*"` is named: every account.
    pub everyone: bool,
    /// Account ids, root ARNs, and the accounts of user and role ARNs.
    pub accounts: Vec<String>,
    /// Pinned unique ids (AIDA…, AROA…) whose accounts the caller resolves.
    pub unique_ids: Vec<String>,
}

/// The accounts and pinned ids the trust policy's principals name.
pub fn named_accounts(trust: &PolicyDocument) -> NamedAccounts {
    let mut named = NamedAccounts::default();
    for st in &trust.statements {
        let Some(PrincipalElement::Principal(p)) = &st.principal else {
            continue;
        };
        match p {
            Principals::Wildcard => named.everyone = true,
            Principals::Map { aws, .. } => {
                for a in aws.iter().flatten() {
                    let account = if a == "*" {
                        named.everyone = true;
                        None
                    } else if let Some(account) = account_of(a) {
                        Some(account.to_owned())
                    } else if let Some(rest) = a.strip_prefix("arn:") {
                        rest.split(':').nth(3).map(str::to_owned)
                    } else {
                        if !named.unique_ids.contains(a) {
                            named.unique_ids.push(a.clone());
                        }
                        None
                    };
                    if let Some(account) = account.filter(|a| !named.accounts.contains(a)) {
                        named.accounts.push(account);
                    }
                }
            }
        }
    }
    named
}

fn named_principals(
    q: &TrustQuestion,
    trusts: &Trusts,
) -> Result<Vec<TrustedPrincipal>, PolicyError> {
    let mut out = Vec::new();
    for (principal_type, name) in named_entries(q.trust) {
        let (principal, actions, identity): (Principal, &[&str], Vec<NamedDocument>) =
            match principal_type {
                PrincipalType::Service => (
                    outside(&name, PrincipalKind::Service),
                    &["sts:AssumeRole"],
                    Vec::new(),
                ),
                PrincipalType::Federated => (
                    outside(&name, PrincipalKind::Federated),
                    &["sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"],
                    Vec::new(),
                ),
                PrincipalType::Public => (
                    outside("*", PrincipalKind::Anonymous),
                    &["sts:AssumeRole"],
                    Vec::new(),
                ),
                // A stand-in principal of the account whose identity policy
                // allows everything: what the account's admin could grant.
                _ => (
                    Principal {
                        arn: format!("arn:aws:iam::{name}:user/any-principal"),
                        account: name.clone(),
                        unique_id: String::new(),
                        kind: PrincipalKind::User,
                    },
                    &["sts:AssumeRole"],
                    vec![allow_all()],
                ),
            };
        let mut context = RequestContext::new();
        if principal_type == PrincipalType::Account {
            context.insert("aws:PrincipalAccount", name.clone());
        }
        for action in actions {
            let Some(Judged {
                conditional,
                keys,
                verdict,
                ..
            }) = judge(q, trusts, &identity, None, &principal, &context, action)?
            else {
                continue;
            };
            let statements: Vec<StatementRef> = refs(&verdict.allows, &[], None);
            let trust_part = describe(&statements, super::DocumentKind::Trust);
            let (external, account_id, mut reason) = match principal_type {
                PrincipalType::Account => (
                    name != q.role_account,
                    Some(name.clone()),
                    format!("The trust policy allows account {name} ({trust_part}): any principal of it whose own identity policy allows {action} on the role can assume it."),
                ),
                PrincipalType::Service => (
                    false,
                    None,
                    format!("The trust policy allows the service {name} ({trust_part})."),
                ),
                PrincipalType::Federated => (
                    true,
                    None,
                    format!(
                        "The trust policy allows identities of {name} with {action} ({trust_part}).{}",
                        required_claims(&name, &keys)
                    ),
                ),
                _ => (
                    true,
                    None,
                    format!("The trust policy allows anyone (\"*\") ({trust_part})."),
                ),
            };
            reason.push_str(&condition_note(conditional, &keys));
            out.push(TrustedPrincipal {
                principal_type,
                principal: name.clone(),
                account_id,
                external,
                conditional,
                condition_keys: keys,
                reason,
                statements,
            });
            break;
        }
    }
    Ok(out)
}

fn outside(name: &str, kind: PrincipalKind) -> Principal {
    Principal {
        arn: name.to_owned(),
        account: String::new(),
        unique_id: String::new(),
        kind,
    }
}

fn allow_all() -> NamedDocument {
    let document = PolicyDocument {
        version: Some(crate::policy::PolicyVersion::V2012_10_17),
        id: None,
        statements: vec![crate::policy::document::Statement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            action: Some(crate::policy::document::ActionElement::Action(vec![
                "*".into()
            ])),
            resource: Some(crate::policy::document::ResourceElement::Resource(vec![
                "*".into(),
            ])),
            condition: Vec::new(),
        }],
    };
    NamedDocument {
        source: DocumentSource {
            policy: "any identity policy".into(),
            kind: super::DocumentKind::Inline,
            attached_to: None,
        },
        document,
    }
}

#[cfg(test)]
#[path = "trust_tests.rs"]
mod tests;
