//! Last accessed, from the audit trail: which services and actions a
//! user, group, role or managed policy grants, and when each was last
//! used (GenerateServiceLastAccessedDetails / GetServiceLastAccessedDetails,
//! the /v1 unused-access views), and the condition keys policies use
//! (GetContextKeysFor*Policy).
//!
//! What is granted comes from the effective-permissions analysis over the
//! action catalog; what was used comes from `last_accessed`, the newest
//! allowed audit event per principal and action (migration 0012). The
//! trail records every allowed mutation, STS call and sign-in, and
//! `/v1/authorize` decisions when `audit_authorize = "all"`; reads of
//! latchkey's own API are not recorded, so a read action shows no use.
//! A job is computed when generated (one primary-key read per principal)
//! and kept in the database (`last_accessed_jobs`).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::access_analysis::{boundary_document, identity_documents, parse_stored};
use super::authorize;
use super::last_accessed_jobs::{ActionLastAccessed, EntityInfo, JobResult, ServiceLastAccessed};
use crate::auth::Caller;
use crate::domain::{format_time, Group, ManagedPolicy, PolicyHolder, Role, User};
use crate::error::{ApiError, ApiResult};
use crate::policy::access::effective::effective_permissions;
use crate::policy::access::{DocumentKind, DocumentSource, NamedDocument};
use crate::policy::PolicyDocument;
use crate::state::OpContext;
use crate::store::last_accessed::role_principal;

pub enum Entity {
    User(User),
    Group(Group),
    Role(Role),
    Policy(ManagedPolicy),
}

/// A principal whose uses count for an entity: its key in
/// `last_accessed` and the entity a report names (a role, not a session).
struct Principal {
    key: String,
    info: EntityInfo,
}

fn no_such(arn: &str) -> ApiError {
    ApiError::NoSuchEntity(format!("The entity {arn} cannot be found."))
}

fn invalid_arn(arn: &str) -> ApiError {
    ApiError::InvalidInput(format!("ARN {arn} is not valid."))
}

/// Finds the user, group, role or policy an IAM ARN names in the caller's
/// account (or an AWS-managed policy).
pub(super) async fn find_entity(
    state: &OpContext,
    caller: &Caller,
    arn: &str,
) -> ApiResult<Entity> {
    let rest = arn
        .strip_prefix("arn:aws:iam::")
        .ok_or_else(|| invalid_arn(arn))?;
    let (account, resource) = rest.split_once(':').ok_or_else(|| invalid_arn(arn))?;
    let (kind, _) = resource.split_once('/').ok_or_else(|| invalid_arn(arn))?;
    let name = resource.rsplit('/').next().unwrap_or_default();
    let store = &state.store;
    if kind == "policy" {
        if account != caller.account_id && account != "aws" {
            return Err(no_such(arn));
        }
        return match store.get_policy_by_arn(arn).await? {
            Some(p) => Ok(Entity::Policy(p)),
            None => Err(no_such(arn)),
        };
    }
    if account != caller.account_id {
        return Err(no_such(arn));
    }
    let found = match kind {
        "user" => store.get_user(account, name).await?.map(Entity::User),
        "group" => store.get_group(account, name).await?.map(Entity::Group),
        "role" => store.get_role(account, name).await?.map(Entity::Role),
        _ => return Err(invalid_arn(arn)),
    };
    // A name under another path is another entity.
    match found {
        Some(e) if entity_arn(&e).eq_ignore_ascii_case(arn) => Ok(e),
        _ => Err(no_such(arn)),
    }
}

pub(super) fn entity_arn(e: &Entity) -> String {
    match e {
        Entity::User(u) => u.arn().to_string(),
        Entity::Group(g) => g.arn().to_string(),
        Entity::Role(r) => r.arn().to_string(),
        Entity::Policy(p) => p.arn.clone(),
    }
}

/// The documents an entity's grants come from, and its boundary.
async fn documents(
    state: &OpContext,
    e: &Entity,
) -> ApiResult<(Vec<NamedDocument>, Option<NamedDocument>)> {
    Ok(match e {
        Entity::User(u) => (
            identity_documents(state, PolicyHolder::User, &u.id, format!("user/{}", u.name))
                .await?,
            boundary_document(state, u.permissions_boundary.as_deref()).await?,
        ),
        Entity::Role(r) => (
            identity_documents(state, PolicyHolder::Role, &r.id, format!("role/{}", r.name))
                .await?,
            boundary_document(state, r.permissions_boundary.as_deref()).await?,
        ),
        Entity::Group(g) => (
            identity_documents(
                state,
                PolicyHolder::Group,
                &g.id,
                format!("group/{}", g.name),
            )
            .await?,
            None,
        ),
        Entity::Policy(p) => {
            let text = state.store.default_policy_document(&p.id).await?;
            let docs = match text {
                Some(text) => vec![NamedDocument {
                    source: DocumentSource {
                        policy: p.arn.clone(),
                        kind: DocumentKind::Managed,
                        attached_to: None,
                    },
                    document: parse_stored(&text)?,
                }],
                None => Vec::new(),
            };
            (docs, None)
        }
    })
}

/// The catalog actions (`prefix:Name`) an entity's policies grant.
async fn granted_actions(state: &OpContext, e: &Entity) -> ApiResult<Vec<String>> {
    let (identity, boundary) = documents(state, e).await?;
    let catalog = state.catalog.current();
    let effective = effective_permissions(&catalog, &identity, boundary.as_ref());
    Ok(effective
        .access_levels
        .into_iter()
        .flat_map(|level| level.actions.into_iter().map(|a| a.action))
        .collect())
}

fn user_principal(u: &User) -> Principal {
    let arn = u.arn().to_string();
    Principal {
        key: arn.clone(),
        info: EntityInfo {
            arn,
            name: u.name.clone(),
            kind: "USER".into(),
            id: u.id.clone(),
            path: u.path.clone(),
        },
    }
}

fn role_principal_of(r: &Role) -> Principal {
    Principal {
        key: role_principal(&r.account_id, &r.name),
        info: EntityInfo {
            arn: r.arn().to_string(),
            name: r.name.clone(),
            kind: "ROLE".into(),
            id: r.id.clone(),
            path: r.path.clone(),
        },
    }
}

/// The users and roles whose uses count: the entity itself, a group's
/// members, a policy's holders (and its groups' members).
async fn principals(state: &OpContext, e: &Entity, account: &str) -> ApiResult<Vec<Principal>> {
    let store = &state.store;
    Ok(match e {
        Entity::User(u) => vec![user_principal(u)],
        Entity::Role(r) => vec![role_principal_of(r)],
        Entity::Group(g) => store
            .members_of_group(&g.id)
            .await?
            .iter()
            .map(user_principal)
            .collect(),
        Entity::Policy(p) => {
            let mut out = Vec::new();
            for name in store
                .policy_holders_in(PolicyHolder::User, &p.id, account)
                .await?
            {
                if let Some(u) = store.get_user(account, &name).await? {
                    out.push(user_principal(&u));
                }
            }
            for name in store
                .policy_holders_in(PolicyHolder::Role, &p.id, account)
                .await?
            {
                if let Some(r) = store.get_role(account, &name).await? {
                    out.push(role_principal_of(&r));
                }
            }
            for name in store
                .policy_holders_in(PolicyHolder::Group, &p.id, account)
                .await?
            {
                if let Some(g) = store.get_group(account, &name).await? {
                    out.extend(
                        store
                            .members_of_group(&g.id)
                            .await?
                            .iter()
                            .map(user_principal),
                    );
                }
            }
            let mut seen = HashSet::new();
            out.retain(|p| seen.insert(p.key.clone()));
            out
        }
    })
}

/// Per lower-cased action, every principal's newest use: (time, the
/// principal's index in `principals`).
async fn uses(
    state: &OpContext,
    principals: &[Principal],
) -> ApiResult<HashMap<String, Vec<(String, usize)>>> {
    let mut out: HashMap<String, Vec<(String, usize)>> = HashMap::new();
    for (i, p) in principals.iter().enumerate() {
        for row in state.store.last_accessed(&p.key).await? {
            out.entry(row.action).or_default().push((row.event_time, i));
        }
    }
    Ok(out)
}

fn service_name(prefix: &str) -> String {
    match prefix {
        "iam" => "AWS Identity and Access Management".into(),
        "sts" => "AWS Security Token Service".into(),
        "latchkey" => "Latchkey".into(),
        other => other.into(),
    }
}

/// The report of an entity: every service its policies grant, in prefix
/// order, with the newest use of any of its actions and each principal's
/// newest use of the service; and the principals whose uses count.
pub(super) async fn report(
    state: &OpContext,
    e: &Entity,
    account: &str,
    action_level: bool,
) -> ApiResult<JobResult> {
    let granted = granted_actions(state, e).await?;
    let principals = principals(state, e, account).await?;
    let used = uses(state, &principals).await?;
    let arn_of = |i: usize| principals[i].info.arn.clone();
    let mut by_service: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for action in granted {
        if let Some((prefix, name)) = action.split_once(':') {
            by_service
                .entry(prefix.to_string())
                .or_default()
                .push(name.to_string());
        }
    }
    let mut services = Vec::new();
    for (prefix, names) in by_service {
        let mut actions = Vec::new();
        let mut by_entity: BTreeMap<usize, String> = BTreeMap::new();
        let mut newest: Option<(String, String)> = None;
        for name in names {
            let key = format!("{prefix}:{name}").to_ascii_lowercase();
            let last = used.get(&key).and_then(|list| {
                for (t, i) in list {
                    by_entity
                        .entry(*i)
                        .and_modify(|known| {
                            if t > known {
                                known.clone_from(t);
                            }
                        })
                        .or_insert_with(|| t.clone());
                }
                list.iter().map(|(t, i)| (t.clone(), arn_of(*i))).max()
            });
            if let Some(l) = &last {
                if newest.as_ref().is_none_or(|n| l > n) {
                    newest = Some(l.clone());
                }
            }
            actions.push(ActionLastAccessed {
                action_name: name,
                last_accessed: last.as_ref().map(|(t, _)| t.clone()),
                last_entity: last.map(|(_, a)| a),
            });
        }
        services.push(ServiceLastAccessed {
            service_name: service_name(&prefix),
            namespace: prefix,
            last_authenticated: newest.as_ref().map(|(t, _)| t.clone()),
            last_entity: newest.map(|(_, a)| a),
            total_entities: i64::try_from(by_entity.len()).unwrap_or(i64::MAX),
            actions: if action_level { actions } else { Vec::new() },
            entity_uses: by_entity.into_iter().collect(),
        });
    }
    Ok(JobResult {
        services,
        entities: principals.into_iter().map(|p| p.info).collect(),
    })
}

/// The condition keys documents use, each once (first spelling kept), in
/// the order they appear.
fn condition_keys<'a>(docs: impl IntoIterator<Item = &'a PolicyDocument>) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for doc in docs {
        for st in &doc.statements {
            for (_, keys) in &st.condition {
                for (key, _) in keys {
                    if seen.insert(key.to_ascii_lowercase()) {
                        out.push(key.clone());
                    }
                }
            }
        }
    }
    out
}

fn parse_input(text: &str) -> ApiResult<PolicyDocument> {
    PolicyDocument::parse(text).map_err(|e| ApiError::InvalidInput(e.message().to_string()))
}

pub async fn get_context_keys_for_custom_policy(
    state: &OpContext,
    caller: &Caller,
    inputs: &[String],
) -> ApiResult<Vec<String>> {
    authorize(state, caller, "iam:GetContextKeysForCustomPolicy", "*").await?;
    let docs = inputs
        .iter()
        .map(|t| parse_input(t))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(condition_keys(&docs))
}

/// The keys of a user's (with its groups'), group's or role's identity
/// policies, and of the extra documents given.
pub async fn get_context_keys_for_principal_policy(
    state: &OpContext,
    caller: &Caller,
    arn: &str,
    inputs: &[String],
) -> ApiResult<Vec<String>> {
    authorize(state, caller, "iam:GetContextKeysForPrincipalPolicy", arn).await?;
    let entity = find_entity(state, caller, arn).await?;
    if matches!(entity, Entity::Policy(_)) {
        return Err(invalid_arn(arn));
    }
    let (identity, _) = documents(state, &entity).await?;
    let extra = inputs
        .iter()
        .map(|t| parse_input(t))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(condition_keys(
        identity.iter().map(|d| &d.document).chain(extra.iter()),
    ))
}

/// The unused-access view of a user or a role.
pub struct UnusedAccess {
    pub principal_arn: String,
    pub days: u32,
    /// Uses before this time count as unused.
    pub since: String,
    /// Granted actions not used since then, never used ones included.
    pub unused_actions: Vec<String>,
    /// Granted actions used since then, with the newest use.
    pub used_actions: Vec<(String, String)>,
    /// A user's access keys: id, last use (None: never), unused.
    pub access_keys: Vec<(String, Option<String>, bool)>,
    /// A role's last assumption, and whether that is before `since`.
    pub last_assumed: Option<(Option<String>, bool)>,
}

pub async fn unused_access(
    state: &OpContext,
    caller: &Caller,
    holder: PolicyHolder,
    name: &str,
    days: u32,
) -> ApiResult<UnusedAccess> {
    if !(1..=3650).contains(&days) {
        return Err(ApiError::ValidationError(
            "days must be between 1 and 3650.".into(),
        ));
    }
    let entity = match holder {
        PolicyHolder::User => Entity::User(
            super::users::find_user_authorized(
                state,
                caller,
                name,
                "iam:GenerateServiceLastAccessedDetails",
            )
            .await?,
        ),
        _ => Entity::Role(
            super::roles::find_role_authorized(
                state,
                caller,
                name,
                "iam:GenerateServiceLastAccessedDetails",
            )
            .await?,
        ),
    };
    let since =
        format_time(time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days)));
    let is_old = |t: Option<&str>| t.is_none_or(|t| t < since.as_str());
    let services = report(state, &entity, &caller.account_id, true)
        .await?
        .services;
    let mut unused_actions = Vec::new();
    let mut used_actions = Vec::new();
    for s in &services {
        for a in &s.actions {
            let full = format!("{}:{}", s.namespace, a.action_name);
            match &a.last_accessed {
                Some(t) if !is_old(Some(t)) => used_actions.push((full, t.clone())),
                _ => unused_actions.push(full),
            }
        }
    }
    let (access_keys, last_assumed) = match &entity {
        Entity::User(u) => (
            state
                .store
                .list_user_access_keys(&u.id)
                .await?
                .into_iter()
                .map(|k| {
                    let unused = is_old(k.last_used_at.as_deref());
                    (k.access_key_id, k.last_used_at, unused)
                })
                .collect(),
            None,
        ),
        Entity::Role(r) => (
            Vec::new(),
            Some((r.last_used_at.clone(), is_old(r.last_used_at.as_deref()))),
        ),
        _ => (Vec::new(), None),
    };
    Ok(UnusedAccess {
        principal_arn: entity_arn(&entity),
        days,
        since,
        unused_actions,
        used_actions,
        access_keys,
        last_assumed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_keys_once_in_order() {
        let doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
                 "Condition":{"StringEquals":{"aws:PrincipalTag/team":"x","s3:prefix":"a"},
                              "Bool":{"aws:SecureTransport":"true"}}},
                {"Effect":"Deny","Action":"*","Resource":"*",
                 "Condition":{"IpAddress":{"AWS:SourceIp":"10.0.0.0/8","aws:principaltag/team":"y"}}}]}"#,
        )
        .unwrap();
        assert_eq!(
            condition_keys([&doc]),
            [
                "aws:PrincipalTag/team",
                "s3:prefix",
                "aws:SecureTransport",
                "AWS:SourceIp"
            ]
        );
    }
}
