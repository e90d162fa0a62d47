//! IAM users and groups: the user and group calls, group membership, user
//! tags and the user's permissions boundary.

use super::action::{actions, user_name_or_self, Ctx, Handler, Outcome};
use super::render::{self, page_end};
use super::xml::Xml;
use crate::domain::Arn;
use crate::iam;
use crate::iam::groups::CreateGroupRequest;
use crate::iam::tags::Taggable;
use crate::iam::users::{CreateUserRequest, UpdateUserRequest};

pub const ACTIONS: &[(&str, Handler)] = actions![
    "CreateUser" => create_user,
    "GetUser" => get_user,
    "ListUsers" => list_users,
    "UpdateUser" => update_user,
    "DeleteUser" => delete_user,
    "PutUserPermissionsBoundary" => put_user_boundary,
    "DeleteUserPermissionsBoundary" => delete_user_boundary,
    "TagUser" => tag(Taggable::User, "UserName"),
    "UntagUser" => untag(Taggable::User, "UserName"),
    "ListUserTags" => list_tags(Taggable::User, "UserName"),
    "CreateGroup" => create_group,
    "GetGroup" => get_group,
    "ListGroups" => list_groups,
    "UpdateGroup" => update_group,
    "DeleteGroup" => delete_group,
    "AddUserToGroup" => add_user_to_group,
    "RemoveUserFromGroup" => remove_user_from_group,
    "ListGroupsForUser" => list_groups_for_user,
];

fn done() -> Outcome {
    Ok(None)
}

async fn create_user(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let req = CreateUserRequest {
        name: p.required("UserName")?.to_string(),
        path: p.get("Path").map(String::from),
        permissions_boundary: p.get("PermissionsBoundary").map(String::from),
        tags: p.tags("Tags")?,
    };
    let (user, tags) = iam::users::create_user(c.state, c.caller, req).await?;
    let mut x = Xml::new();
    x.node("User", |u| render::user(u, &user, Some(&tags)));
    Ok(Some(x))
}

/// Without `UserName`, the caller itself; for the root that is the
/// account's root user, which IAM shows with its ARN and the account id.
async fn get_user(c: &Ctx<'_>) -> Outcome {
    let mut x = Xml::new();
    match user_name_or_self(c) {
        Some(name) => {
            let (user, tags) = iam::users::get_user(c.state, c.caller, &name).await?;
            x.node("User", |u| render::user(u, &user, Some(&tags)));
        }
        None if c.caller.is_root() => {
            let account = iam::accounts::own_account(c.state, c.caller).await?;
            x.node("User", |u| {
                u.text("UserId", &account.id)
                    .text("Arn", Arn::root(&account.id))
                    .text("CreateDate", &account.created_at);
            });
        }
        None => return Err(super::params::missing("UserName")),
    }
    Ok(Some(x))
}

async fn list_users(c: &Ctx<'_>) -> Outcome {
    let page = iam::users::list_users(c.state, c.caller, &c.params.list_params()?).await?;
    let mut x = Xml::new();
    x.members("Users", &page.items, |m, u| render::user(m, u, None));
    page_end(&mut x, &page);
    Ok(Some(x))
}

async fn update_user(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let req = UpdateUserRequest {
        new_name: p.get("NewUserName").map(String::from),
        new_path: p.get("NewPath").map(String::from),
    };
    iam::users::update_user(c.state, c.caller, p.required("UserName")?, req).await?;
    done()
}

async fn delete_user(c: &Ctx<'_>) -> Outcome {
    iam::users::delete_user(c.state, c.caller, c.params.required("UserName")?).await?;
    done()
}

async fn put_user_boundary(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (user, arn) = (p.required("UserName")?, p.required("PermissionsBoundary")?);
    iam::users::put_user_boundary(c.state, c.caller, user, arn).await?;
    done()
}

async fn delete_user_boundary(c: &Ctx<'_>) -> Outcome {
    iam::users::delete_user_boundary(c.state, c.caller, c.params.required("UserName")?).await?;
    done()
}

/// TagUser and TagRole: `Tags.member.N.Key/Value` on the entity `name_param` names.
pub(super) async fn tag(c: &Ctx<'_>, kind: Taggable, name_param: &str) -> Outcome {
    let p = c.params;
    let tags = p.tags("Tags")?;
    if tags.is_empty() {
        return Err(super::params::missing("Tags"));
    }
    iam::tags::tag(c.state, c.caller, kind, p.required(name_param)?, &tags).await?;
    done()
}

/// UntagUser and UntagRole: `TagKeys.member.N`.
pub(super) async fn untag(c: &Ctx<'_>, kind: Taggable, name_param: &str) -> Outcome {
    let p = c.params;
    let keys = p.list("TagKeys");
    if keys.is_empty() {
        return Err(super::params::missing("TagKeys"));
    }
    iam::tags::untag(c.state, c.caller, kind, p.required(name_param)?, &keys).await?;
    done()
}

/// ListUserTags and ListRoleTags: every tag in one page (50 at most).
pub(super) async fn list_tags(c: &Ctx<'_>, kind: Taggable, name_param: &str) -> Outcome {
    let name = c.params.required(name_param)?;
    let tags = iam::tags::list(c.state, c.caller, kind, name).await?;
    let mut x = Xml::new();
    render::tags(&mut x, &tags);
    x.text("IsTruncated", false);
    Ok(Some(x))
}

async fn create_group(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let req = CreateGroupRequest {
        name: p.required("GroupName")?.to_string(),
        path: p.get("Path").map(String::from),
    };
    let group = iam::groups::create_group(c.state, c.caller, req).await?;
    let mut x = Xml::new();
    x.node("Group", |g| render::group(g, &group));
    Ok(Some(x))
}

async fn get_group(c: &Ctx<'_>) -> Outcome {
    let name = c.params.required("GroupName")?;
    let (group, members) = iam::groups::get_group(c.state, c.caller, name).await?;
    let mut x = Xml::new();
    x.node("Group", |g| render::group(g, &group))
        .members("Users", &members, |m, u| render::user(m, u, None))
        .text("IsTruncated", false);
    Ok(Some(x))
}

async fn list_groups(c: &Ctx<'_>) -> Outcome {
    let page = iam::groups::list_groups(c.state, c.caller, &c.params.list_params()?).await?;
    let mut x = Xml::new();
    x.members("Groups", &page.items, render::group);
    page_end(&mut x, &page);
    Ok(Some(x))
}

async fn update_group(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    iam::groups::update_group(
        c.state,
        c.caller,
        p.required("GroupName")?,
        p.get("NewGroupName"),
        p.get("NewPath"),
    )
    .await?;
    done()
}

async fn delete_group(c: &Ctx<'_>) -> Outcome {
    iam::groups::delete_group(c.state, c.caller, c.params.required("GroupName")?).await?;
    done()
}

async fn add_user_to_group(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (group, user) = (p.required("GroupName")?, p.required("UserName")?);
    iam::groups::add_user_to_group(c.state, c.caller, group, user).await?;
    done()
}

async fn remove_user_from_group(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (group, user) = (p.required("GroupName")?, p.required("UserName")?);
    iam::groups::remove_user_from_group(c.state, c.caller, group, user).await?;
    done()
}

async fn list_groups_for_user(c: &Ctx<'_>) -> Outcome {
    let user = c.params.required("UserName")?;
    let groups = iam::groups::list_groups_for_user(c.state, c.caller, user).await?;
    let mut x = Xml::new();
    x.members("Groups", &groups, render::group)
        .text("IsTruncated", false);
    Ok(Some(x))
}
