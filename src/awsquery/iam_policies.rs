//! Policies: inline policies and managed-policy attachments of users,
//! groups and roles (one function each, for the three kinds of holder),
//! managed policies and their versions, and ListEntitiesForPolicy.

use super::action::{actions, Ctx, Handler, Outcome};
use super::iam_principals::{list_tags, tag, untag};
use super::render::{self, encoded_document, page_end};
use super::xml::Xml;
use crate::domain::PolicyHolder::{self, Group, Role, User};
use crate::error::{ApiError, ApiResult};
use crate::iam;
use crate::iam::policies::{CreatePolicyRequest, CreatePolicyVersionRequest};
use crate::iam::tags::Taggable;
use crate::store::policies::PolicyScope;

pub const ACTIONS: &[(&str, Handler)] = actions![
    "PutUserPolicy" => put_inline(User),
    "PutGroupPolicy" => put_inline(Group),
    "PutRolePolicy" => put_inline(Role),
    "GetUserPolicy" => get_inline(User),
    "GetGroupPolicy" => get_inline(Group),
    "GetRolePolicy" => get_inline(Role),
    "DeleteUserPolicy" => delete_inline(User),
    "DeleteGroupPolicy" => delete_inline(Group),
    "DeleteRolePolicy" => delete_inline(Role),
    "ListUserPolicies" => list_inline(User),
    "ListGroupPolicies" => list_inline(Group),
    "ListRolePolicies" => list_inline(Role),
    "AttachUserPolicy" => attach(User),
    "AttachGroupPolicy" => attach(Group),
    "AttachRolePolicy" => attach(Role),
    "DetachUserPolicy" => detach(User),
    "DetachGroupPolicy" => detach(Group),
    "DetachRolePolicy" => detach(Role),
    "ListAttachedUserPolicies" => list_attached(User),
    "ListAttachedGroupPolicies" => list_attached(Group),
    "ListAttachedRolePolicies" => list_attached(Role),
    "CreatePolicy" => create_policy,
    "GetPolicy" => get_policy,
    "ListPolicies" => list_policies,
    "DeletePolicy" => delete_policy,
    "CreatePolicyVersion" => create_policy_version,
    "GetPolicyVersion" => get_policy_version,
    "ListPolicyVersions" => list_policy_versions,
    "SetDefaultPolicyVersion" => set_default_policy_version,
    "DeletePolicyVersion" => delete_policy_version,
    "ListEntitiesForPolicy" => list_entities_for_policy,
    "TagPolicy" => tag(Taggable::Policy, "PolicyArn"),
    "UntagPolicy" => untag(Taggable::Policy, "PolicyArn"),
    "ListPolicyTags" => list_tags(Taggable::Policy, "PolicyArn"),
];

/// The parameter that names the holder: `UserName`, `GroupName`, `RoleName`.
fn holder_param(kind: PolicyHolder) -> &'static str {
    match kind {
        User => "UserName",
        Group => "GroupName",
        Role => "RoleName",
    }
}

async fn put_inline(c: &Ctx<'_>, kind: PolicyHolder) -> Outcome {
    let p = c.params;
    let holder = p.required(holder_param(kind))?;
    let (name, document) = (p.required("PolicyName")?, p.document("PolicyDocument")?);
    iam::inline_policies::put_inline_policy(
        c.state, c.caller, kind, holder, name, &document, false,
    )
    .await?;
    Ok(None)
}

async fn get_inline(c: &Ctx<'_>, kind: PolicyHolder) -> Outcome {
    let p = c.params;
    let (holder, name) = (p.required(holder_param(kind))?, p.required("PolicyName")?);
    let document =
        iam::inline_policies::get_inline_policy(c.state, c.caller, kind, holder, name).await?;
    let mut x = Xml::new();
    x.text(holder_param(kind), holder)
        .text("PolicyName", name)
        .text("PolicyDocument", encoded_document(&document.to_string()));
    Ok(Some(x))
}

async fn delete_inline(c: &Ctx<'_>, kind: PolicyHolder) -> Outcome {
    let p = c.params;
    let (holder, name) = (p.required(holder_param(kind))?, p.required("PolicyName")?);
    iam::inline_policies::delete_inline_policy(c.state, c.caller, kind, holder, name).await?;
    Ok(None)
}

async fn list_inline(c: &Ctx<'_>, kind: PolicyHolder) -> Outcome {
    let holder = c.params.required(holder_param(kind))?;
    let names = iam::inline_policies::list_inline_policies(c.state, c.caller, kind, holder).await?;
    let mut x = Xml::new();
    x.strings("PolicyNames", &names).text("IsTruncated", false);
    Ok(Some(x))
}

async fn attach(c: &Ctx<'_>, kind: PolicyHolder) -> Outcome {
    let p = c.params;
    let (holder, arn) = (p.required(holder_param(kind))?, p.required("PolicyArn")?);
    iam::attachments::attach_policy(c.state, c.caller, kind, holder, arn).await?;
    Ok(None)
}

async fn detach(c: &Ctx<'_>, kind: PolicyHolder) -> Outcome {
    let p = c.params;
    let (holder, arn) = (p.required(holder_param(kind))?, p.required("PolicyArn")?);
    iam::attachments::detach_policy(c.state, c.caller, kind, holder, arn).await?;
    Ok(None)
}

async fn list_attached(c: &Ctx<'_>, kind: PolicyHolder) -> Outcome {
    let holder = c.params.required(holder_param(kind))?;
    let policies =
        iam::attachments::list_attached_policies(c.state, c.caller, kind, holder).await?;
    let mut x = Xml::new();
    x.members("AttachedPolicies", &policies, |m, p| {
        m.text("PolicyName", &p.name).text("PolicyArn", &p.arn);
    })
    .text("IsTruncated", false);
    Ok(Some(x))
}

async fn create_policy(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let req = CreatePolicyRequest {
        name: p.required("PolicyName")?.to_string(),
        path: p.get("Path").map(String::from),
        description: p.get("Description").map(String::from),
        document: p.document("PolicyDocument")?,
        tags: p.tags("Tags")?,
    };
    // AWS's reply has no place for findings; the server's strict setting
    // still applies inside the operation.
    let (policy, tags, _findings) =
        iam::policies::create_policy(c.state, c.caller, req, false).await?;
    let mut x = Xml::new();
    x.node("Policy", |m| render::policy(m, &policy, Some(0), &tags));
    Ok(Some(x))
}

async fn get_policy(c: &Ctx<'_>) -> Outcome {
    let arn = c.params.required("PolicyArn")?;
    let (policy, attachments, tags) = iam::policies::get_policy(c.state, c.caller, arn).await?;
    let mut x = Xml::new();
    x.node("Policy", |m| {
        render::policy(m, &policy, Some(attachments), &tags)
    });
    Ok(Some(x))
}

fn scope(value: Option<&str>) -> ApiResult<PolicyScope> {
    match value.unwrap_or("All") {
        "All" => Ok(PolicyScope::All),
        "AWS" => Ok(PolicyScope::Aws),
        "Local" => Ok(PolicyScope::Local),
        other => Err(ApiError::ValidationError(format!(
            "1 validation error detected: Value '{other}' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]"
        ))),
    }
}

async fn list_policies(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (scope, params) = (scope(p.get("Scope"))?, p.list_params()?);
    let page = iam::policies::list_policies(c.state, c.caller, scope, &params).await?;
    let mut x = Xml::new();
    x.members("Policies", &page.items, |m, policy| {
        render::policy(m, policy, None, &[])
    });
    page_end(&mut x, &page);
    Ok(Some(x))
}

async fn delete_policy(c: &Ctx<'_>) -> Outcome {
    iam::policies::delete_policy(c.state, c.caller, c.params.required("PolicyArn")?).await?;
    Ok(None)
}

async fn create_policy_version(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let arn = p.required("PolicyArn")?;
    let req = CreatePolicyVersionRequest {
        document: p.document("PolicyDocument")?,
        set_as_default: p.bool("SetAsDefault")?.unwrap_or(false),
    };
    let (version, is_default, _findings) =
        iam::policies::create_policy_version(c.state, c.caller, arn, req, false).await?;
    let mut x = Xml::new();
    x.node("PolicyVersion", |v| {
        v.text("VersionId", &version.version_id)
            .text("IsDefaultVersion", is_default)
            .text("CreateDate", &version.created_at);
    });
    Ok(Some(x))
}

async fn get_policy_version(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (arn, id) = (p.required("PolicyArn")?, p.required("VersionId")?);
    let (policy, version) = iam::policies::get_policy_version(c.state, c.caller, arn, id).await?;
    let mut x = Xml::new();
    x.node("PolicyVersion", |v| {
        render::policy_version(v, &version, &policy.default_version_id, true)
    });
    Ok(Some(x))
}

async fn list_policy_versions(c: &Ctx<'_>) -> Outcome {
    let arn = c.params.required("PolicyArn")?;
    let (policy, versions) = iam::policies::list_policy_versions(c.state, c.caller, arn).await?;
    let mut x = Xml::new();
    x.members("Versions", &versions, |m, v| {
        render::policy_version(m, v, &policy.default_version_id, false)
    })
    .text("IsTruncated", false);
    Ok(Some(x))
}

async fn set_default_policy_version(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (arn, id) = (p.required("PolicyArn")?, p.required("VersionId")?);
    iam::policies::set_default_policy_version(c.state, c.caller, arn, id).await?;
    Ok(None)
}

async fn delete_policy_version(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (arn, id) = (p.required("PolicyArn")?, p.required("VersionId")?);
    iam::policies::delete_policy_version(c.state, c.caller, arn, id).await?;
    Ok(None)
}

/// The holders by name; `EntityFilter` narrows to one kind, as in IAM.
async fn list_entities_for_policy(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let arn = p.required("PolicyArn")?;
    let filter = p.get("EntityFilter");
    let entities = iam::policies::list_entities_for_policy(c.state, c.caller, arn).await?;
    let wanted = |kind: &str| filter.is_none_or(|f| f == kind);
    let mut x = Xml::new();
    for (kind, list, field) in [
        ("Group", &entities.groups, "GroupName"),
        ("User", &entities.users, "UserName"),
        ("Role", &entities.roles, "RoleName"),
    ] {
        let items: &[String] = if wanted(kind) { list } else { &[] };
        x.members(&format!("Policy{kind}s"), items, |m, name| {
            m.text(field, name);
        });
    }
    x.text("IsTruncated", false);
    Ok(Some(x))
}
