//! GetAccountAuthorizationDetails: every user, group, role and managed
//! policy of the account with what governs its access, in one paged
//! answer (what posture scanners read first).
//!
//! The kinds are listed in AWS's order (users, groups, roles, policies),
//! each from its own name- or ARN-ordered index, and `MaxItems` counts
//! entities across kinds: a page may end inside one kind and the next
//! page resumes there, so a page costs the same at any depth. The marker
//! names the kind and the sort key of the last entity sent.

use super::authorize;
use crate::auth::Caller;
use crate::domain::{
    Group, InstanceProfile, ManagedPolicy, PolicyHolder, PolicyVersion, Role, Tag, User,
};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;
use crate::store::policies::PolicyScope;
use crate::store::{decode_marker, encode_marker, ListParams, DEFAULT_MAX_ITEMS};

/// The `Filter` values, in the order their entities are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DetailKind {
    User,
    Group,
    Role,
    LocalManagedPolicy,
    AwsManagedPolicy,
}

impl DetailKind {
    pub const ALL: [DetailKind; 5] = [
        DetailKind::User,
        DetailKind::Group,
        DetailKind::Role,
        DetailKind::LocalManagedPolicy,
        DetailKind::AwsManagedPolicy,
    ];

    pub fn wire_name(self) -> &'static str {
        match self {
            DetailKind::User => "User",
            DetailKind::Group => "Group",
            DetailKind::Role => "Role",
            DetailKind::LocalManagedPolicy => "LocalManagedPolicy",
            DetailKind::AwsManagedPolicy => "AWSManagedPolicy",
        }
    }

    pub fn parse(value: &str) -> ApiResult<Self> {
        DetailKind::ALL
            .into_iter()
            .find(|k| k.wire_name() == value)
            .ok_or_else(|| {
                ApiError::ValidationError(format!(
                    "1 validation error detected: Value '[{value}]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, LocalManagedPolicy, Group, AWSManagedPolicy]]"
                ))
            })
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// An inline policy: its name and its document as stored.
pub type InlinePolicy = (String, String);

pub struct UserDetail {
    pub user: User,
    pub groups: Vec<String>,
    pub inline: Vec<InlinePolicy>,
    pub attached: Vec<ManagedPolicy>,
    pub tags: Vec<Tag>,
}

pub struct GroupDetail {
    pub group: Group,
    pub inline: Vec<InlinePolicy>,
    pub attached: Vec<ManagedPolicy>,
}

pub struct RoleDetail {
    pub role: Role,
    /// The trust policy as shown (principals unpinned back to ARNs).
    pub trust: String,
    pub inline: Vec<InlinePolicy>,
    pub attached: Vec<ManagedPolicy>,
    pub instance_profiles: Vec<InstanceProfile>,
    pub tags: Vec<Tag>,
}

pub struct PolicyDetail {
    pub policy: ManagedPolicy,
    pub attachment_count: i64,
    pub boundary_usage_count: i64,
    /// Every version, newest first.
    pub versions: Vec<PolicyVersion>,
}

#[derive(Default)]
pub struct AccountDetails {
    pub users: Vec<UserDetail>,
    pub groups: Vec<GroupDetail>,
    pub roles: Vec<RoleDetail>,
    pub policies: Vec<PolicyDetail>,
    pub is_truncated: bool,
    pub marker: Option<String>,
}

/// Instance profiles listed per role: more than this many is not a real
/// account (AWS allows one role per profile, profiles per role unbounded),
/// and the page stays bounded.
const MAX_PROFILES_PER_ROLE: i64 = 1000;

fn bad_marker() -> ApiError {
    crate::store::StoreError::InvalidMarker.into()
}

/// `kind-index:sort-key`, opaque on the wire.
fn marker_of(kind: DetailKind, key: &str) -> String {
    encode_marker(&format!("{}:{key}", kind.index()))
}

fn parse_marker(marker: &str) -> ApiResult<(DetailKind, String)> {
    let text = decode_marker(marker).map_err(|_| bad_marker())?;
    let (kind, key) = text.split_once(':').ok_or_else(bad_marker)?;
    let kind = kind
        .parse::<usize>()
        .ok()
        .and_then(|i| DetailKind::ALL.get(i).copied())
        .ok_or_else(bad_marker)?;
    Ok((kind, key.to_string()))
}

pub async fn get_account_authorization_details(
    state: &OpContext,
    caller: &Caller,
    filter: &[DetailKind],
    marker: Option<&str>,
    max_items: Option<i64>,
) -> ApiResult<AccountDetails> {
    authorize(state, caller, "iam:GetAccountAuthorizationDetails", "*").await?;
    let max_items = max_items.unwrap_or(DEFAULT_MAX_ITEMS);
    if !(1..=1000).contains(&max_items) {
        return Err(ApiError::ValidationError(format!(
            "1 validation error detected: Value '{max_items}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"
        )));
    }
    let mut kinds: Vec<DetailKind> = if filter.is_empty() {
        DetailKind::ALL.to_vec()
    } else {
        filter.to_vec()
    };
    kinds.sort_unstable();
    kinds.dedup();
    let start = match marker {
        None | Some("") => None,
        Some(m) => Some(parse_marker(m)?),
    };
    let mut out = AccountDetails::default();
    let mut left = max_items;
    for (i, &kind) in kinds.iter().enumerate() {
        let after = match &start {
            Some((k, _)) if kind < *k => continue,
            Some((k, key)) if kind == *k => key.clone(),
            _ => String::new(),
        };
        if left == 0 {
            // The page is full exactly at a kind's end: it is truncated
            // only if some later kind has an entity.
            if has_any(state, caller, &kinds[i..]).await? {
                out.is_truncated = true;
                out.marker = Some(marker_of(kind, ""));
            }
            break;
        }
        let params = ListParams {
            path_prefix: "/".into(),
            after,
            max_items: left,
        };
        let (sent, last_key, truncated) = read_kind(state, caller, kind, &params, &mut out).await?;
        left -= sent;
        if truncated {
            out.is_truncated = true;
            out.marker = last_key.map(|key| marker_of(kind, &key));
            break;
        }
    }
    Ok(out)
}

async fn has_any(state: &OpContext, caller: &Caller, kinds: &[DetailKind]) -> ApiResult<bool> {
    let one = ListParams {
        path_prefix: "/".into(),
        after: String::new(),
        max_items: 1,
    };
    let account = caller.account_id.as_str();
    for kind in kinds {
        let found = match kind {
            DetailKind::User => !state
                .store
                .list_users(account, &one)
                .await?
                .items
                .is_empty(),
            DetailKind::Group => !state
                .store
                .list_groups(account, &one)
                .await?
                .items
                .is_empty(),
            DetailKind::Role => !state
                .store
                .list_roles(account, &one)
                .await?
                .items
                .is_empty(),
            DetailKind::LocalManagedPolicy | DetailKind::AwsManagedPolicy => !state
                .store
                .list_policies(account, policy_scope(*kind), &one)
                .await?
                .items
                .is_empty(),
        };
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

fn policy_scope(kind: DetailKind) -> PolicyScope {
    if kind == DetailKind::AwsManagedPolicy {
        PolicyScope::Aws
    } else {
        PolicyScope::Local
    }
}

/// Reads one page of a kind into `out`: how many entities were added, the
/// sort key of the last one, and whether the kind goes on.
async fn read_kind(
    state: &OpContext,
    caller: &Caller,
    kind: DetailKind,
    params: &ListParams,
    out: &mut AccountDetails,
) -> ApiResult<(i64, Option<String>, bool)> {
    let store = &state.store;
    let account = caller.account_id.as_str();
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    match kind {
        DetailKind::User => {
            let page = store.list_users(account, params).await?;
            let last = page.items.last().map(|u| u.name.to_ascii_lowercase());
            for user in page.items.iter().cloned() {
                out.users.push(user_detail(state, user).await?);
            }
            Ok((count(page.items.len()), last, page.is_truncated))
        }
        DetailKind::Group => {
            let page = store.list_groups(account, params).await?;
            let last = page.items.last().map(|g| g.name.to_ascii_lowercase());
            for group in page.items.iter().cloned() {
                out.groups.push(GroupDetail {
                    inline: store
                        .list_inline_policies(PolicyHolder::Group, &group.id)
                        .await?,
                    attached: store
                        .attached_policies(PolicyHolder::Group, &group.id)
                        .await?,
                    group,
                });
            }
            Ok((count(page.items.len()), last, page.is_truncated))
        }
        DetailKind::Role => {
            let page = store.list_roles(account, params).await?;
            let last = page.items.last().map(|r| r.name.to_ascii_lowercase());
            for role in page.items.iter().cloned() {
                out.roles.push(role_detail(state, role).await?);
            }
            Ok((count(page.items.len()), last, page.is_truncated))
        }
        DetailKind::LocalManagedPolicy | DetailKind::AwsManagedPolicy => {
            let page = store
                .list_policies(account, policy_scope(kind), params)
                .await?;
            let last = page.items.last().map(|p| p.arn.clone());
            for policy in page.items.iter().cloned() {
                let (attachment_count, boundary_usage_count) = store.policy_usage(&policy).await?;
                out.policies.push(PolicyDetail {
                    versions: store.list_policy_versions(&policy.id).await?,
                    policy,
                    attachment_count,
                    boundary_usage_count,
                });
            }
            Ok((count(page.items.len()), last, page.is_truncated))
        }
    }
}

async fn user_detail(state: &OpContext, user: User) -> ApiResult<UserDetail> {
    let store = &state.store;
    Ok(UserDetail {
        groups: store
            .groups_of_user(&user.id)
            .await?
            .into_iter()
            .map(|g| g.name)
            .collect(),
        inline: store
            .list_inline_policies(PolicyHolder::User, &user.id)
            .await?,
        attached: store
            .attached_policies(PolicyHolder::User, &user.id)
            .await?,
        tags: store.list_tags(&user.id).await?,
        user,
    })
}

async fn role_detail(state: &OpContext, role: Role) -> ApiResult<RoleDetail> {
    let store = &state.store;
    let profiles = ListParams {
        path_prefix: "/".into(),
        after: String::new(),
        max_items: MAX_PROFILES_PER_ROLE,
    };
    Ok(RoleDetail {
        trust: super::trust::unpin(state, &role.trust_policy)
            .await?
            .to_string(),
        inline: store
            .list_inline_policies(PolicyHolder::Role, &role.id)
            .await?,
        attached: store
            .attached_policies(PolicyHolder::Role, &role.id)
            .await?,
        instance_profiles: store
            .list_instance_profiles_for_role(&role.id, &profiles)
            .await?
            .items,
        tags: store.list_tags(&role.id).await?,
        role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_refuse_garbage() {
        let m = marker_of(DetailKind::Role, "ops:admin");
        let (kind, key) = parse_marker(&m).unwrap();
        assert_eq!((kind, key.as_str()), (DetailKind::Role, "ops:admin"));
        assert_eq!(parse_marker("!!").unwrap_err().code(), "InvalidInput");
        assert_eq!(
            parse_marker(&encode_marker("9:x")).unwrap_err().code(),
            "InvalidInput"
        );
        assert_eq!(
            DetailKind::parse("AWSManagedPolicy").unwrap(),
            DetailKind::AwsManagedPolicy
        );
        assert!(DetailKind::parse("Policy").is_err());
    }
}
