//! The built-in services of the catalog: IAM and STS as AWS lists them in
//! the Service Authorization Reference (the actions latchkey implements and
//! the rest of AWS's list, so that policies written for AWS lint clean),
//! and latchkey's own actions.
//!
//! One action per line: `level Name resource_types [condition_keys]`, with
//! levels L(ist), R(ead), W(rite), P(ermissions management), T(agging) and
//! `-` for none. A table keeps the list reviewable against AWS's page.
//!
//! The table is also what the server supplies: an IAM operation puts a key
//! into its request context only when its action lists the key here (or its
//! resource type does, in [`RESOURCE_TYPE_KEYS`]), and lint warns on a
//! condition over a key none of a statement's actions lists
//! (`crate::policy::action_keys`). So the two cannot disagree.

use super::catalog::{
    AccessLevel, ActionDefinition, ConditionKeyDefinition, KeyType, ServiceDefinition,
};

const TAGS: &str = "aws:RequestTag/${TagKey},aws:TagKeys";

const IAM: &str = "
W AddClientIDToOpenIDConnectProvider oidc-provider
W AddRoleToInstanceProfile instance-profile
W AddUserToGroup group
P AttachGroupPolicy group iam:PolicyARN
P AttachRolePolicy role iam:PolicyARN,iam:PermissionsBoundary
P AttachUserPolicy user iam:PolicyARN,iam:PermissionsBoundary
W ChangePassword user
W CreateAccessKey user
W CreateAccountAlias -
W CreateGroup group
W CreateInstanceProfile instance-profile TAGS
W CreateLoginProfile user
W CreateOpenIDConnectProvider oidc-provider TAGS
P CreatePolicy policy TAGS
P CreatePolicyVersion policy
W CreateRole role iam:PermissionsBoundary,TAGS
W CreateSAMLProvider saml-provider TAGS
W CreateServiceLinkedRole role iam:AWSServiceName
W CreateServiceSpecificCredential user
W CreateUser user iam:PermissionsBoundary,TAGS
W CreateVirtualMFADevice mfa TAGS
W DeactivateMFADevice user
W DeleteAccessKey user
W DeleteAccountAlias -
P DeleteAccountPasswordPolicy -
W DeleteCloudFrontPublicKey -
W DeleteGroup group
P DeleteGroupPolicy group
W DeleteInstanceProfile instance-profile
W DeleteLoginProfile user
W DeleteOpenIDConnectProvider oidc-provider
P DeletePolicy policy
P DeletePolicyVersion policy
W DeleteRole role
P DeleteRolePermissionsBoundary role iam:PermissionsBoundary
P DeleteRolePolicy role iam:PermissionsBoundary
W DeleteSAMLProvider saml-provider
W DeleteSSHPublicKey user
W DeleteServerCertificate server-certificate
W DeleteServiceLinkedRole role
W DeleteServiceSpecificCredential user
W DeleteSigningCertificate user
W DeleteUser user
P DeleteUserPermissionsBoundary user iam:PermissionsBoundary
P DeleteUserPolicy user iam:PermissionsBoundary
W DeleteVirtualMFADevice mfa
P DetachGroupPolicy group iam:PolicyARN
P DetachRolePolicy role iam:PolicyARN,iam:PermissionsBoundary
P DetachUserPolicy user iam:PolicyARN,iam:PermissionsBoundary
W EnableMFADevice user
R GenerateCredentialReport -
R GenerateOrganizationsAccessReport -
R GenerateServiceLastAccessedDetails group,policy,role,user
R GetAccessKeyLastUsed user
R GetAccountAuthorizationDetails -
R GetAccountEmailAddress -
R GetAccountName -
R GetAccountPasswordPolicy -
L GetAccountSummary -
R GetCloudFrontPublicKey -
R GetContextKeysForCustomPolicy -
R GetContextKeysForPrincipalPolicy group,role,user
R GetCredentialReport -
R GetGroup group
R GetGroupPolicy group
R GetInstanceProfile instance-profile
R GetLoginProfile user
R GetMFADevice user
R GetOpenIDConnectProvider oidc-provider
R GetOrganizationsAccessReport -
R GetPolicy policy
R GetPolicyVersion policy
R GetRole role
R GetRolePolicy role
R GetSAMLProvider saml-provider
R GetSSHPublicKey user
R GetServerCertificate server-certificate
R GetServiceLastAccessedDetails -
R GetServiceLastAccessedDetailsWithEntities -
R GetServiceLinkedRoleDeletionStatus role
R GetUser user
R GetUserPolicy user
L ListAccessKeys user
L ListAccountAliases -
L ListAttachedGroupPolicies group
L ListAttachedRolePolicies role
L ListAttachedUserPolicies user
L ListCloudFrontPublicKeys -
L ListEntitiesForPolicy policy
L ListGroupPolicies group
L ListGroups group
L ListGroupsForUser user
L ListInstanceProfileTags instance-profile
L ListInstanceProfiles instance-profile
L ListInstanceProfilesForRole role
L ListMFADeviceTags mfa
L ListMFADevices user
L ListOpenIDConnectProviderTags oidc-provider
L ListOpenIDConnectProviders -
L ListPolicies policy
L ListPoliciesGrantingServiceAccess group,role,user
L ListPolicyTags policy
L ListPolicyVersions policy
L ListRolePolicies role
L ListRoleTags role
L ListRoles role
L ListSAMLProviderTags saml-provider
L ListSAMLProviders -
L ListSSHPublicKeys user
L ListSTSRegionalEndpointsStatus -
L ListServerCertificateTags server-certificate
L ListServerCertificates -
L ListServiceSpecificCredentials user
L ListSigningCertificates user
L ListUserPolicies user
L ListUserTags user
L ListUsers user
L ListVirtualMFADevices -
W PassRole role iam:PassedToService,iam:AssociatedResourceArn
P PutGroupPolicy group
P PutRolePermissionsBoundary role iam:PermissionsBoundary
P PutRolePolicy role iam:PermissionsBoundary
P PutUserPermissionsBoundary user iam:PermissionsBoundary
P PutUserPolicy user iam:PermissionsBoundary
W RemoveClientIDFromOpenIDConnectProvider oidc-provider
W RemoveRoleFromInstanceProfile instance-profile
W RemoveUserFromGroup group
W ResetServiceSpecificCredential user
W ResyncMFADevice user
P SetDefaultPolicyVersion policy
W SetSecurityTokenServicePreferences -
R SimulateCustomPolicy -
R SimulatePrincipalPolicy group,role,user
T TagInstanceProfile instance-profile TAGS
T TagMFADevice mfa TAGS
T TagOpenIDConnectProvider oidc-provider TAGS
T TagPolicy policy TAGS
T TagRole role TAGS
T TagSAMLProvider saml-provider TAGS
T TagServerCertificate server-certificate TAGS
T TagUser user TAGS
T UntagInstanceProfile instance-profile aws:TagKeys
T UntagMFADevice mfa aws:TagKeys
T UntagOpenIDConnectProvider oidc-provider aws:TagKeys
T UntagPolicy policy aws:TagKeys
T UntagRole role aws:TagKeys
T UntagSAMLProvider saml-provider aws:TagKeys
T UntagServerCertificate server-certificate aws:TagKeys
T UntagUser user aws:TagKeys
W UpdateAccessKey user
W UpdateAccountEmailAddress -
W UpdateAccountName -
P UpdateAccountPasswordPolicy -
P UpdateAssumeRolePolicy role
W UpdateCloudFrontPublicKey -
W UpdateGroup group
W UpdateLoginProfile user
W UpdateOpenIDConnectProviderThumbprint oidc-provider
W UpdateRole role
W UpdateRoleDescription role
W UpdateSAMLProvider saml-provider
W UpdateSSHPublicKey user
W UpdateServerCertificate server-certificate
W UpdateServiceSpecificCredential user
W UpdateSigningCertificate user
W UpdateUser user
W UploadCloudFrontPublicKey -
W UploadSSHPublicKey user
W UploadServerCertificate server-certificate TAGS
W UploadSigningCertificate user
";

const STS: &str = "
W AssumeRole role sts:ExternalId,sts:RoleSessionName,sts:SourceIdentity,sts:TransitiveTagKeys,TAGS
W AssumeRoleWithSAML role sts:RoleSessionName,sts:SourceIdentity,sts:TransitiveTagKeys,TAGS
W AssumeRoleWithWebIdentity role sts:RoleSessionName,sts:SourceIdentity,sts:TransitiveTagKeys,TAGS
W AssumeRoot -
W DecodeAuthorizationMessage -
R GetAccessKeyInfo -
R GetCallerIdentity -
R GetFederationToken user TAGS
R GetServiceBearerToken - sts:AWSServiceName
R GetSessionToken -
W SetContext role
W SetSourceIdentity role,user sts:SourceIdentity
T TagSession role,user sts:TransitiveTagKeys,TAGS
";

const LATCHKEY: &str = "
R AnalyzeAccess role,user
R Authorize -
W CreateAccount account
W CreateServicePrincipal service-principal
W CreateWorkload workload
W DeleteAccount account
W DeleteServicePrincipal service-principal
W DeleteWorkload workload
W ForgetPreviousMasterKey -
R GetAccount account
R GetMasterKeyStatus -
R GetServicePrincipal service-principal
R GetWorkload workload
L ListAccounts -
L ListServicePrincipals -
L ListServices service
L ListWorkloads -
W PutService service
R ReadAudit -
R ReadMetrics -
W RotateMasterKey -
W RotateWorkloadToken workload
R ValidatePolicy -
";

/// Keys AWS lists on a resource type rather than on its actions: every
/// action on a resource of that type carries them (the target's tags).
pub(super) const RESOURCE_TYPE_KEYS: &[(&str, &str, &str)] = &[
    ("iam", "instance-profile", "aws:ResourceTag/${TagKey}"),
    ("iam", "mfa", "aws:ResourceTag/${TagKey}"),
    ("iam", "oidc-provider", "aws:ResourceTag/${TagKey}"),
    ("iam", "policy", "aws:ResourceTag/${TagKey}"),
    (
        "iam",
        "role",
        "aws:ResourceTag/${TagKey},iam:ResourceTag/${TagKey}",
    ),
    ("iam", "saml-provider", "aws:ResourceTag/${TagKey}"),
    ("iam", "server-certificate", "aws:ResourceTag/${TagKey}"),
    (
        "iam",
        "user",
        "aws:ResourceTag/${TagKey},iam:ResourceTag/${TagKey}",
    ),
];

const IAM_KEYS: [(&str, KeyType); 7] = [
    ("iam:AWSServiceName", KeyType::String),
    ("iam:AssociatedResourceArn", KeyType::Arn),
    ("iam:OrganizationsPolicyId", KeyType::String),
    ("iam:PassedToService", KeyType::String),
    ("iam:PermissionsBoundary", KeyType::String),
    ("iam:PolicyARN", KeyType::Arn),
    ("iam:ResourceTag/${TagKey}", KeyType::String),
];

const STS_KEYS: [(&str, KeyType); 6] = [
    ("sts:AWSServiceName", KeyType::String),
    ("sts:DurationSeconds", KeyType::Numeric),
    ("sts:ExternalId", KeyType::String),
    ("sts:RoleSessionName", KeyType::String),
    ("sts:SourceIdentity", KeyType::String),
    ("sts:TransitiveTagKeys", KeyType::ArrayOfString),
];

pub(super) fn services() -> Vec<ServiceDefinition> {
    vec![
        service("iam", IAM, &IAM_KEYS),
        service("sts", STS, &STS_KEYS),
        service("latchkey", LATCHKEY, &[]),
    ]
}

fn service(prefix: &str, table: &str, keys: &[(&str, KeyType)]) -> ServiceDefinition {
    ServiceDefinition {
        prefix: prefix.to_owned(),
        actions: table.lines().filter_map(action).collect(),
        condition_keys: keys
            .iter()
            .map(|&(name, key_type)| ConditionKeyDefinition {
                name: name.to_owned(),
                key_type,
            })
            .collect(),
    }
}

fn action(line: &str) -> Option<ActionDefinition> {
    let mut fields = line.split_whitespace();
    let access_level = match fields.next()? {
        "L" => AccessLevel::List,
        "R" => AccessLevel::Read,
        "W" => AccessLevel::Write,
        "P" => AccessLevel::PermissionsManagement,
        "T" => AccessLevel::Tagging,
        other => unreachable!("unknown access level {other} in the built-in catalog"),
    };
    let name = fields.next()?.to_owned();
    let list = |field: Option<&str>| -> Vec<String> {
        match field {
            None | Some("-") => Vec::new(),
            Some(text) => text
                .replace("TAGS", TAGS)
                .split(',')
                .map(str::to_owned)
                .collect(),
        }
    };
    Some(ActionDefinition {
        name,
        access_level,
        resource_types: list(fields.next()),
        condition_keys: list(fields.next()),
    })
}
