//! IAM roles: the role calls, the trust policy, role tags and the role's
//! permissions boundary.

use super::action::{actions, Ctx, Handler, Outcome};
use super::iam_principals::{list_tags, tag, untag};
use super::render::{self, page_end};
use super::xml::Xml;
use crate::domain::{Role, Tag};
use crate::error::ApiResult;
use crate::iam;
use crate::iam::roles::{CreateRoleRequest, UpdateRoleRequest};
use crate::iam::tags::Taggable;
use crate::state::AppState;

pub const ACTIONS: &[(&str, Handler)] = actions![
    "CreateRole" => create_role,
    "GetRole" => get_role,
    "ListRoles" => list_roles,
    "UpdateRole" => update_role,
    "UpdateRoleDescription" => update_role_description,
    "DeleteRole" => delete_role,
    "UpdateAssumeRolePolicy" => update_assume_role_policy,
    "PutRolePermissionsBoundary" => put_role_boundary,
    "DeleteRolePermissionsBoundary" => delete_role_boundary,
    "TagRole" => tag(Taggable::Role, "RoleName"),
    "UntagRole" => untag(Taggable::Role, "RoleName"),
    "ListRoleTags" => list_tags(Taggable::Role, "RoleName"),
];

/// The trust policy as shown: principals pinned to unique ids turn back
/// into ARNs.
async fn shown_trust(state: &AppState, role: &Role) -> ApiResult<String> {
    Ok(iam::trust::unpin(state, &role.trust_policy)
        .await?
        .to_string())
}

async fn role_reply(state: &AppState, role: &Role, tags: &[Tag]) -> Outcome {
    let trust = shown_trust(state, role).await?;
    let mut x = Xml::new();
    x.node("Role", |r| render::role(r, role, &trust, Some(tags)));
    Ok(Some(x))
}

async fn create_role(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let req = CreateRoleRequest {
        name: p.required("RoleName")?.to_string(),
        path: p.get("Path").map(String::from),
        trust_policy: p.document("AssumeRolePolicyDocument")?,
        description: p.get("Description").map(String::from),
        max_session_duration: p.int("MaxSessionDuration")?,
        permissions_boundary: p.get("PermissionsBoundary").map(String::from),
        tags: p.tags("Tags")?,
    };
    // AWS's reply has no place for findings; the server's strict setting
    // still applies inside the operation.
    let (role, tags, _findings) = iam::roles::create_role(c.state, c.caller, req, false).await?;
    role_reply(c.state, &role, &tags).await
}

async fn get_role(c: &Ctx<'_>) -> Outcome {
    let (role, tags) =
        iam::roles::get_role(c.state, c.caller, c.params.required("RoleName")?).await?;
    role_reply(c.state, &role, &tags).await
}

async fn list_roles(c: &Ctx<'_>) -> Outcome {
    let page = iam::roles::list_roles(c.state, c.caller, &c.params.list_params()?).await?;
    let mut trusts = Vec::with_capacity(page.items.len());
    for role in &page.items {
        trusts.push(shown_trust(c.state, role).await?);
    }
    let mut x = Xml::new();
    x.members(
        "Roles",
        page.items.iter().zip(&trusts),
        |m, (role, trust)| render::role(m, role, trust, None),
    );
    page_end(&mut x, &page);
    Ok(Some(x))
}

async fn update_role(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let req = UpdateRoleRequest {
        description: p.get("Description").map(String::from),
        max_session_duration: p.int("MaxSessionDuration")?,
    };
    iam::roles::update_role(c.state, c.caller, p.required("RoleName")?, req).await?;
    // UpdateRole has an output shape, empty.
    Ok(Some(Xml::new()))
}

async fn update_role_description(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (name, description) = (p.required("RoleName")?, p.required("Description")?);
    let (role, tags) =
        iam::roles::update_role_description(c.state, c.caller, name, description).await?;
    role_reply(c.state, &role, &tags).await
}

async fn delete_role(c: &Ctx<'_>) -> Outcome {
    iam::roles::delete_role(c.state, c.caller, c.params.required("RoleName")?).await?;
    Ok(None)
}

async fn update_assume_role_policy(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (name, document) = (p.required("RoleName")?, p.document("PolicyDocument")?);
    iam::roles::update_trust_policy(c.state, c.caller, name, &document, false).await?;
    Ok(None)
}

async fn put_role_boundary(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (role, arn) = (p.required("RoleName")?, p.required("PermissionsBoundary")?);
    iam::roles::put_role_boundary(c.state, c.caller, role, arn).await?;
    Ok(None)
}

async fn delete_role_boundary(c: &Ctx<'_>) -> Outcome {
    iam::roles::delete_role_boundary(c.state, c.caller, c.params.required("RoleName")?).await?;
    Ok(None)
}
