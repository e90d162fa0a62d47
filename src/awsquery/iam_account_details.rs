//! GetAccountAuthorizationDetails over the query protocol: the
//! UserDetailList, GroupDetailList, RoleDetailList and Policies shapes,
//! documents URL-encoded as everywhere else in IAM's XML.

use super::action::{actions, Ctx, Handler, Outcome};
use super::render::{self, encoded_document};
use super::xml::Xml;
use crate::domain::ManagedPolicy;
use crate::error::ApiResult;
use crate::iam;
use crate::iam::account_details::{
    DetailKind, GroupDetail, InlinePolicy, PolicyDetail, RoleDetail, UserDetail,
};
use crate::iam::documents::stored_value;

pub const ACTIONS: &[(&str, Handler)] = actions![
    "GetAccountAuthorizationDetails" => get_account_authorization_details,
];

async fn get_account_authorization_details(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let filter = p
        .list("Filter")
        .iter()
        .map(|v| DetailKind::parse(v))
        .collect::<ApiResult<Vec<_>>>()?;
    let details = iam::account_details::get_account_authorization_details(
        c.state,
        c.caller,
        &filter,
        p.get("Marker"),
        p.int("MaxItems")?,
    )
    .await?;
    // Inline documents are shown as GetUserPolicy shows them (parsed and
    // written back); a stored document that is not JSON is a fault.
    let shown = |list: &[InlinePolicy]| -> ApiResult<Vec<(String, String)>> {
        list.iter()
            .map(|(name, doc)| Ok((name.clone(), stored_value(doc)?.to_string())))
            .collect()
    };
    let user_inline = details
        .users
        .iter()
        .map(|u| shown(&u.inline))
        .collect::<ApiResult<Vec<_>>>()?;
    let group_inline = details
        .groups
        .iter()
        .map(|g| shown(&g.inline))
        .collect::<ApiResult<Vec<_>>>()?;
    let role_inline = details
        .roles
        .iter()
        .map(|r| shown(&r.inline))
        .collect::<ApiResult<Vec<_>>>()?;
    let mut x = Xml::new();
    x.members(
        "UserDetailList",
        details.users.iter().zip(&user_inline),
        |m, (u, inline)| user(m, u, inline),
    )
    .members(
        "GroupDetailList",
        details.groups.iter().zip(&group_inline),
        |m, (g, inline)| group(m, g, inline),
    )
    .members(
        "RoleDetailList",
        details.roles.iter().zip(&role_inline),
        |m, (r, inline)| role(m, r, inline),
    )
    .members("Policies", &details.policies, policy)
    .text("IsTruncated", details.is_truncated)
    .opt("Marker", details.marker.as_deref());
    Ok(Some(x))
}

fn inline_list(x: &mut Xml, name: &str, list: &[(String, String)]) {
    x.members(name, list, |m, (policy, document)| {
        m.text("PolicyName", policy)
            .text("PolicyDocument", encoded_document(document));
    });
}

fn attached(x: &mut Xml, list: &[ManagedPolicy]) {
    x.members("AttachedManagedPolicies", list, |m, p| {
        m.text("PolicyName", &p.name).text("PolicyArn", &p.arn);
    });
}

fn boundary(x: &mut Xml, arn: Option<&str>) {
    if let Some(arn) = arn {
        x.node("PermissionsBoundary", |b| {
            b.text("PermissionsBoundaryType", "PermissionsBoundaryPolicy")
                .text("PermissionsBoundaryArn", arn);
        });
    }
}

fn user(x: &mut Xml, d: &UserDetail, inline: &[(String, String)]) {
    let u = &d.user;
    x.text("Path", &u.path)
        .text("UserName", &u.name)
        .text("UserId", &u.id)
        .text("Arn", u.arn())
        .text("CreateDate", &u.created_at);
    inline_list(x, "UserPolicyList", inline);
    x.strings("GroupList", &d.groups);
    attached(x, &d.attached);
    boundary(x, u.permissions_boundary.as_deref());
    render::tags(x, &d.tags);
}

fn group(x: &mut Xml, d: &GroupDetail, inline: &[(String, String)]) {
    let g = &d.group;
    x.text("Path", &g.path)
        .text("GroupName", &g.name)
        .text("GroupId", &g.id)
        .text("Arn", g.arn())
        .text("CreateDate", &g.created_at);
    inline_list(x, "GroupPolicyList", inline);
    attached(x, &d.attached);
}

fn role(x: &mut Xml, d: &RoleDetail, inline: &[(String, String)]) {
    let r = &d.role;
    x.text("Path", &r.path)
        .text("RoleName", &r.name)
        .text("RoleId", &r.id)
        .text("Arn", r.arn())
        .text("CreateDate", &r.created_at)
        .text("AssumeRolePolicyDocument", encoded_document(&d.trust));
    x.members("InstanceProfileList", &d.instance_profiles, |m, p| {
        m.text("Path", &p.path)
            .text("InstanceProfileName", &p.name)
            .text("InstanceProfileId", &p.id)
            .text("Arn", p.arn())
            .text("CreateDate", &p.created_at)
            .members("Roles", [r], |m, r| render::role(m, r, &d.trust, None));
    });
    inline_list(x, "RolePolicyList", inline);
    attached(x, &d.attached);
    boundary(x, r.permissions_boundary.as_deref());
    render::tags(x, &d.tags);
    x.node("RoleLastUsed", |u| {
        u.opt("LastUsedDate", r.last_used_at.as_deref())
            .opt("Region", r.last_used_region.as_deref());
    });
}

fn policy(x: &mut Xml, d: &PolicyDetail) {
    let p = &d.policy;
    x.text("PolicyName", &p.name)
        .text("PolicyId", &p.id)
        .text("Arn", &p.arn)
        .text("Path", &p.path)
        .text("DefaultVersionId", &p.default_version_id)
        .text("AttachmentCount", d.attachment_count)
        .text("PermissionsBoundaryUsageCount", d.boundary_usage_count)
        .text("IsAttachable", true)
        .opt("Description", p.description.as_deref())
        .text("CreateDate", &p.created_at)
        .text("UpdateDate", &p.updated_at)
        .members("PolicyVersionList", &d.versions, |m, v| {
            render::policy_version(m, v, &p.default_version_id, true)
        });
}
