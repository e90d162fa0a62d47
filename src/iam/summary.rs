//! GetAccountSummary: the account's entity counts beside its quotas, under
//! IAM's `SummaryMap` key names (AWS-IAM-NOTES §2.6).

use super::access_keys::MAX_KEYS_PER_USER;
use super::attachments::MAX_ATTACHED_POLICIES;
use super::authorize;
use super::groups::MAX_GROUPS_PER_USER;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::policy::validate::{
    GROUP_INLINE_MAX, MANAGED_POLICY_MAX_SIZE, ROLE_INLINE_MAX, TRUST_POLICY_MAX, USER_INLINE_MAX,
};
use crate::state::OpContext;
use crate::store::policies::MAX_POLICY_VERSIONS;

/// Quotas latchkey does not enforce are reported at AWS's defaults, so
/// tools that read the map find every key they expect.
const USERS_QUOTA: i64 = 5000;
const GROUPS_QUOTA: i64 = 300;
const ROLES_QUOTA: i64 = 1000;
const POLICIES_QUOTA: i64 = 1500;
const POLICY_VERSIONS_IN_USE_QUOTA: i64 = 10000;

pub async fn account_summary(
    state: &OpContext,
    caller: &Caller,
) -> ApiResult<Vec<(&'static str, i64)>> {
    authorize(state, caller, "iam:GetAccountSummary", "*").await?;
    let counts = state.store.account_counts(&caller.account_id).await?;
    let mfa = state.store.mfa_counts(&caller.account_id).await?;
    let size = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    Ok(vec![
        ("Users", counts.users),
        ("UsersQuota", USERS_QUOTA),
        ("Groups", counts.groups),
        ("GroupsQuota", GROUPS_QUOTA),
        ("Roles", counts.roles),
        ("RolesQuota", ROLES_QUOTA),
        ("Policies", counts.policies),
        ("PoliciesQuota", POLICIES_QUOTA),
        ("PolicyVersionsInUse", counts.policy_versions),
        ("PolicyVersionsInUseQuota", POLICY_VERSIONS_IN_USE_QUOTA),
        ("VersionsPerPolicyQuota", MAX_POLICY_VERSIONS),
        ("PolicySizeQuota", size(MANAGED_POLICY_MAX_SIZE)),
        ("UserPolicySizeQuota", size(USER_INLINE_MAX)),
        ("GroupPolicySizeQuota", size(GROUP_INLINE_MAX)),
        ("RolePolicySizeQuota", size(ROLE_INLINE_MAX)),
        ("AssumeRolePolicySizeQuota", size(TRUST_POLICY_MAX)),
        ("AccessKeysPerUserQuota", MAX_KEYS_PER_USER),
        ("GroupsPerUserQuota", MAX_GROUPS_PER_USER),
        ("AttachedPoliciesPerUserQuota", MAX_ATTACHED_POLICIES),
        ("AttachedPoliciesPerGroupQuota", MAX_ATTACHED_POLICIES),
        ("AttachedPoliciesPerRoleQuota", MAX_ATTACHED_POLICIES),
        ("AccountAccessKeysPresent", i64::from(counts.root_keys > 0)),
        ("AccountMFAEnabled", 0),
        ("MFADevices", mfa.devices),
        ("MFADevicesInUse", mfa.in_use),
        ("InstanceProfiles", 0),
        ("ServerCertificates", 0),
        ("Providers", 0),
    ])
}
