//! Data gathering for access analysis: the stored documents of users and
//! roles, handed to the pure analysis in src/policy/access.
//!
//! Both analyses read other principals' policies, which `iam:GetRole` /
//! `iam:GetUser` alone do not show, so they also need
//! `latchkey:AnalyzeAccess` on the analysed role's or user's ARN.
//!
//! Trust analysis considers the stored users and roles (as role sessions)
//! of the role's own account. Another account the trust policy names is
//! one `external` entry (its id, the trust statements and the conditions
//! they set), decided from the trust policy alone: trusting an account does
//! not entitle a tenant to read its user lists and policies. A caller of
//! the management account (the platform's operator) also sees inside the
//! named accounts. `"*"` is one public entry: it does not enumerate every
//! tenant.

use super::authorize;
use super::roles::find_role_authorized;
use super::users::find_user_authorized;
use crate::auth::Caller;
use crate::domain::{PolicyHolder, Role, Tag, User};
use crate::error::{ApiError, ApiResult};
use crate::policy::access::effective::{effective_permissions, EffectivePermissions};
use crate::policy::access::trust::{
    analyze_trust_sealed, named_accounts, Candidate, PrincipalType, Sealed, TrustQuestion,
    TrustedPrincipal,
};
use crate::policy::access::{DocumentKind, DocumentSource, NamedDocument};
use crate::policy::{PolicyDocument, Principal, PrincipalKind, RequestContext};
use crate::state::OpContext;
use crate::store::ListParams;

fn parse_stored(text: &str) -> ApiResult<PolicyDocument> {
    PolicyDocument::parse(text).map_err(|e| {
        ApiError::Unexpected(anyhow::anyhow!(
            "stored policy does not parse: {}",
            e.message()
        ))
    })
}

/// The identity documents of a user (with its groups') or a role.
async fn identity_documents(
    state: &OpContext,
    holder: PolicyHolder,
    holder_id: &str,
    label: String,
) -> ApiResult<Vec<NamedDocument>> {
    let store = &state.store;
    let mut holders = vec![(holder, holder_id.to_owned(), label)];
    if holder == PolicyHolder::User {
        for group in store.groups_of_user(holder_id).await? {
            holders.push((
                PolicyHolder::Group,
                group.id,
                format!("group/{}", group.name),
            ));
        }
    }
    let mut out = Vec::new();
    for (kind, id, label) in holders {
        for (name, text) in store.list_inline_policies(kind, &id).await? {
            out.push(NamedDocument {
                source: DocumentSource {
                    policy: name,
                    kind: DocumentKind::Inline,
                    attached_to: Some(label.clone()),
                },
                document: parse_stored(&text)?,
            });
        }
        for policy in store.attached_policies(kind, &id).await? {
            if let Some(text) = store.default_policy_document(&policy.id).await? {
                out.push(NamedDocument {
                    source: DocumentSource {
                        policy: policy.arn,
                        kind: DocumentKind::Managed,
                        attached_to: Some(label.clone()),
                    },
                    document: parse_stored(&text)?,
                });
            }
        }
    }
    Ok(out)
}

/// A boundary's document; a boundary that no longer exists allows nothing.
async fn boundary_document(
    state: &OpContext,
    arn: Option<&str>,
) -> ApiResult<Option<NamedDocument>> {
    let Some(arn) = arn else {
        return Ok(None);
    };
    let text = match state.store.get_policy_by_arn(arn).await? {
        Some(policy) => state.store.default_policy_document(&policy.id).await?,
        None => None,
    };
    let document = match text {
        Some(text) => parse_stored(&text)?,
        None => PolicyDocument {
            version: Some(crate::policy::PolicyVersion::V2012_10_17),
            id: None,
            statements: Vec::new(),
        },
    };
    Ok(Some(NamedDocument {
        source: DocumentSource {
            policy: arn.to_owned(),
            kind: DocumentKind::Boundary,
            attached_to: None,
        },
        document,
    }))
}

fn principal_context(
    arn: &str,
    account: &str,
    principal_type: &str,
    tags: &[Tag],
) -> RequestContext {
    let mut context = RequestContext::new();
    context.insert("aws:PrincipalArn", arn);
    context.insert("aws:PrincipalAccount", account);
    context.insert("aws:PrincipalType", principal_type);
    for tag in tags {
        context.insert(&format!("aws:PrincipalTag/{}", tag.key), tag.value.clone());
    }
    context
}

async fn user_candidate(state: &OpContext, user: &User) -> ApiResult<Candidate> {
    let arn = user.arn().to_string();
    let tags = state.store.list_tags(&user.id).await?;
    let mut context = principal_context(&arn, &user.account_id, "User", &tags);
    context.insert("aws:userid", user.id.clone());
    context.insert("aws:username", user.name.clone());
    Ok(Candidate {
        name: arn.clone(),
        principal: Principal {
            arn,
            account: user.account_id.clone(),
            unique_id: user.id.clone(),
            kind: PrincipalKind::User,
        },
        principal_type: PrincipalType::User,
        identity: identity_documents(
            state,
            PolicyHolder::User,
            &user.id,
            format!("user/{}", user.name),
        )
        .await?,
        boundary: boundary_document(state, user.permissions_boundary.as_deref()).await?,
        context,
    })
}

/// A session of `role` (role chaining). The session name is unknown, so
/// conditions on it or on `aws:userid` make a grant conditional.
async fn role_session_candidate(state: &OpContext, role: &Role) -> ApiResult<Candidate> {
    let role_arn = role.arn().to_string();
    let tags = state.store.list_tags(&role.id).await?;
    Ok(Candidate {
        name: role_arn.clone(),
        principal: Principal {
            arn: format!(
                "arn:aws:sts::{}:assumed-role/{}/session",
                role.account_id, role.name
            ),
            account: role.account_id.clone(),
            unique_id: format!("{}:session", role.id),
            kind: PrincipalKind::AssumedRole {
                role_arn: role_arn.clone(),
                role_unique_id: role.id.clone(),
            },
        },
        principal_type: PrincipalType::RoleSession,
        identity: identity_documents(
            state,
            PolicyHolder::Role,
            &role.id,
            format!("role/{}", role.name),
        )
        .await?,
        boundary: boundary_document(state, role.permissions_boundary.as_deref()).await?,
        context: principal_context(&role_arn, &role.account_id, "AssumedRole", &tags),
    })
}

/// Every page of a list.
async fn all_pages<T, F, Fut>(mut page: F) -> ApiResult<Vec<T>>
where
    F: FnMut(ListParams) -> Fut,
    Fut: std::future::Future<Output = ApiResult<crate::store::Page<T>>>,
{
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let params = ListParams::from_request(None, marker.as_deref(), Some(1000))?;
        let got = page(params).await?;
        out.extend(got.items);
        match (got.is_truncated, got.marker) {
            (true, Some(next)) => marker = Some(next),
            _ => return Ok(out),
        }
    }
}

/// GET /v1/roles/{role}/trust-analysis: who can assume the role.
pub async fn trust_analysis(
    state: &OpContext,
    caller: &Caller,
    role_name: &str,
) -> ApiResult<(Role, Vec<TrustedPrincipal>)> {
    let role = find_role_authorized(state, caller, role_name, "iam:GetRole").await?;
    let role_arn = role.arn().to_string();
    authorize(state, caller, "latchkey:AnalyzeAccess", &role_arn).await?;
    let trust = parse_stored(&role.trust_policy)?;
    let named = named_accounts(&trust);
    // `"*"` is reported as one public entry; it does not enumerate every
    // tenant's principals, which would show one account's owner the user
    // lists of all the others.
    let mut others = named.accounts.clone();
    let mut id_accounts = Vec::new();
    for id in &named.unique_ids {
        let account = match state.store.get_user_by_id(id).await? {
            Some(user) => Some(user.account_id),
            None => state.store.get_role_by_id(id).await?.map(|r| r.account_id),
        };
        if let Some(account) = account {
            others.push(account.clone());
            id_accounts.push((id.clone(), account));
        }
    }
    others.retain(|a| *a != role.account_id);
    others.sort();
    others.dedup();
    let mut accounts = vec![role.account_id.clone()];
    // Whether an account exists is not looked up for a tenant's caller:
    // its sealed entry comes from the trust policy alone either way.
    let sealed_accounts = if caller.is_management_account {
        for id in &others {
            if state.store.get_account(id).await?.is_some() {
                accounts.push(id.clone());
            }
        }
        Vec::new()
    } else {
        others
    };
    let mut candidates = Vec::new();
    for account in &accounts {
        let users =
            all_pages(|p| async move { Ok(state.store.list_users(account, &p).await?) }).await?;
        for user in &users {
            candidates.push(user_candidate(state, user).await?);
        }
        let roles =
            all_pages(|p| async move { Ok(state.store.list_roles(account, &p).await?) }).await?;
        for other in &roles {
            candidates.push(role_session_candidate(state, other).await?);
        }
    }
    let question = TrustQuestion {
        role_arn: &role_arn,
        role_account: &role.account_id,
        trust: &trust,
    };
    let sealed = Sealed {
        accounts: &sealed_accounts,
        id_accounts: &id_accounts,
    };
    let found = analyze_trust_sealed(&question, &candidates, &sealed)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("trust analysis: {}", e.message())))?;
    Ok((role, found))
}

/// GET /v1/users/{user}/effective-permissions.
pub async fn user_effective_permissions(
    state: &OpContext,
    caller: &Caller,
    name: &str,
) -> ApiResult<(String, EffectivePermissions)> {
    let user = find_user_authorized(state, caller, name, "iam:GetUser").await?;
    let arn = user.arn().to_string();
    authorize(state, caller, "latchkey:AnalyzeAccess", &arn).await?;
    let identity = identity_documents(
        state,
        PolicyHolder::User,
        &user.id,
        format!("user/{}", user.name),
    )
    .await?;
    let boundary = boundary_document(state, user.permissions_boundary.as_deref()).await?;
    let catalog = state.catalog.current();
    Ok((
        arn,
        effective_permissions(&catalog, &identity, boundary.as_ref()),
    ))
}

/// GET /v1/roles/{role}/effective-permissions: what the role's sessions may
/// do (before any session policy).
pub async fn role_effective_permissions(
    state: &OpContext,
    caller: &Caller,
    name: &str,
) -> ApiResult<(String, EffectivePermissions)> {
    let role = find_role_authorized(state, caller, name, "iam:GetRole").await?;
    let arn = role.arn().to_string();
    authorize(state, caller, "latchkey:AnalyzeAccess", &arn).await?;
    let identity = identity_documents(
        state,
        PolicyHolder::Role,
        &role.id,
        format!("role/{}", role.name),
    )
    .await?;
    let boundary = boundary_document(state, role.permissions_boundary.as_deref()).await?;
    let catalog = state.catalog.current();
    Ok((
        arn,
        effective_permissions(&catalog, &identity, boundary.as_ref()),
    ))
}
