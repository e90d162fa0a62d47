//! IAM instance profiles over the query protocol: the InstanceProfile
//! shape with its `Roles` list, as IAM returns it.

use super::action::{actions, Ctx, Handler, Outcome};
use super::iam_principals::{list_tags, tag, untag};
use super::render::{self, page_end};
use super::xml::Xml;
use crate::error::ApiResult;
use crate::iam::instance_profiles::{self as profiles, ProfileView};
use crate::iam::tags::Taggable;
use crate::state::AppState;
use crate::store::Page;

pub const ACTIONS: &[(&str, Handler)] = actions![
    "CreateInstanceProfile" => create_instance_profile,
    "GetInstanceProfile" => get_instance_profile,
    "ListInstanceProfiles" => list_instance_profiles,
    "DeleteInstanceProfile" => delete_instance_profile,
    "AddRoleToInstanceProfile" => add_role,
    "RemoveRoleFromInstanceProfile" => remove_role,
    "ListInstanceProfilesForRole" => list_for_role,
    "TagInstanceProfile" => tag(Taggable::InstanceProfile, "InstanceProfileName"),
    "UntagInstanceProfile" => untag(Taggable::InstanceProfile, "InstanceProfileName"),
    "ListInstanceProfileTags" => list_tags(Taggable::InstanceProfile, "InstanceProfileName"),
];

/// The trust policies of the profiles' roles, as shown (unpinned).
async fn trusts(state: &AppState, views: &[ProfileView]) -> ApiResult<Vec<Option<String>>> {
    let mut out = Vec::with_capacity(views.len());
    for v in views {
        out.push(match &v.role {
            Some(role) => Some(
                crate::iam::trust::unpin(state, &role.trust_policy)
                    .await?
                    .to_string(),
            ),
            None => None,
        });
    }
    Ok(out)
}

/// An InstanceProfile: its fields and `Roles` (members are Role shapes).
fn profile(x: &mut Xml, view: &ProfileView, trust: Option<&str>) {
    let p = &view.profile;
    x.text("Path", &p.path)
        .text("InstanceProfileName", &p.name)
        .text("InstanceProfileId", &p.id)
        .text("Arn", p.arn())
        .text("CreateDate", &p.created_at);
    x.members("Roles", view.role.iter(), |m, role| {
        render::role(m, role, trust.unwrap_or_default(), None)
    });
    if !view.tags.is_empty() {
        render::tags(x, &view.tags);
    }
}

async fn one(c: &Ctx<'_>, view: ProfileView) -> Outcome {
    let trust = trusts(c.state, std::slice::from_ref(&view)).await?;
    let mut x = Xml::new();
    x.node("InstanceProfile", |p| {
        profile(p, &view, trust[0].as_deref())
    });
    Ok(Some(x))
}

async fn list(c: &Ctx<'_>, page: Page<ProfileView>) -> Outcome {
    let trust = trusts(c.state, &page.items).await?;
    let mut x = Xml::new();
    x.members(
        "InstanceProfiles",
        page.items.iter().zip(&trust),
        |m, (view, t)| profile(m, view, t.as_deref()),
    );
    page_end(&mut x, &page);
    Ok(Some(x))
}

async fn create_instance_profile(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let view = profiles::create_instance_profile(
        c.state,
        c.caller,
        p.required("InstanceProfileName")?,
        p.get("Path"),
        &p.tags("Tags")?,
    )
    .await?;
    one(c, view).await
}

async fn get_instance_profile(c: &Ctx<'_>) -> Outcome {
    let name = c.params.required("InstanceProfileName")?;
    let view = profiles::get_instance_profile(c.state, c.caller, name).await?;
    one(c, view).await
}

async fn list_instance_profiles(c: &Ctx<'_>) -> Outcome {
    let page =
        profiles::list_instance_profiles(c.state, c.caller, &c.params.list_params()?).await?;
    list(c, page).await
}

async fn list_for_role(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let page = profiles::list_instance_profiles_for_role(
        c.state,
        c.caller,
        p.required("RoleName")?,
        &p.list_params()?,
    )
    .await?;
    list(c, page).await
}

async fn delete_instance_profile(c: &Ctx<'_>) -> Outcome {
    let name = c.params.required("InstanceProfileName")?;
    profiles::delete_instance_profile(c.state, c.caller, name).await?;
    Ok(None)
}

async fn add_role(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (profile, role) = (p.required("InstanceProfileName")?, p.required("RoleName")?);
    profiles::add_role(c.state, c.caller, profile, role).await?;
    Ok(None)
}

async fn remove_role(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (profile, role) = (p.required("InstanceProfileName")?, p.required("RoleName")?);
    profiles::remove_role(c.state, c.caller, profile, role).await?;
    Ok(None)
}
