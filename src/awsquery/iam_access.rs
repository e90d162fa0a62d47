//! Credentials of IAM users: access keys and login profiles (passwords),
//! plus GetAccountSummary. Where `UserName` is optional, as in IAM, the
//! calling user is meant.

use super::action::{actions, user_name_required, Ctx, Handler, Outcome};
use super::render;
use super::xml::Xml;
use crate::domain::LoginProfile;
use crate::error::ApiError;
use crate::iam;
use crate::iam::access_keys::KeyStatus;
use crate::iam::login_profiles::{LoginProfileRequest, ProfileChange};

pub const ACTIONS: &[(&str, Handler)] = actions![
    "CreateAccessKey" => create_access_key,
    "ListAccessKeys" => list_access_keys,
    "UpdateAccessKey" => update_access_key,
    "DeleteAccessKey" => delete_access_key,
    "GetAccessKeyLastUsed" => get_access_key_last_used,
    "CreateLoginProfile" => create_login_profile,
    "GetLoginProfile" => get_login_profile,
    "UpdateLoginProfile" => update_login_profile,
    "DeleteLoginProfile" => delete_login_profile,
    "GetAccountSummary" => get_account_summary,
];

async fn create_access_key(c: &Ctx<'_>) -> Outcome {
    let name = user_name_required(c)?;
    let (user, new_key) = iam::access_keys::create_access_key(c.state, c.caller, &name).await?;
    let mut x = Xml::new();
    x.node("AccessKey", |k| {
        k.text("UserName", &user.name)
            .text("AccessKeyId", &new_key.key.access_key_id)
            .text("Status", &new_key.key.status)
            .text("SecretAccessKey", new_key.secret.expose())
            .text("CreateDate", &new_key.key.created_at);
    });
    Ok(Some(x))
}

async fn list_access_keys(c: &Ctx<'_>) -> Outcome {
    let name = user_name_required(c)?;
    let (user, keys) = iam::access_keys::list_access_keys(c.state, c.caller, &name).await?;
    let mut x = Xml::new();
    x.members("AccessKeyMetadata", &keys, |m, k| {
        render::access_key_metadata(m, &user.name, k)
    })
    .text("IsTruncated", false);
    Ok(Some(x))
}

fn status(value: &str) -> Result<KeyStatus, ApiError> {
    match value {
        "Active" => Ok(KeyStatus::Active),
        "Inactive" => Ok(KeyStatus::Inactive),
        other => Err(ApiError::ValidationError(format!(
            "1 validation error detected: Value '{other}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"
        ))),
    }
}

async fn update_access_key(c: &Ctx<'_>) -> Outcome {
    let name = user_name_required(c)?;
    let p = c.params;
    let (key_id, status) = (p.required("AccessKeyId")?, status(p.required("Status")?)?);
    iam::access_keys::update_access_key(c.state, c.caller, &name, key_id, status).await?;
    Ok(None)
}

async fn delete_access_key(c: &Ctx<'_>) -> Outcome {
    let name = user_name_required(c)?;
    let key_id = c.params.required("AccessKeyId")?;
    iam::access_keys::delete_access_key(c.state, c.caller, &name, key_id).await?;
    Ok(None)
}

/// A key never used has no date, and `N/A` for service and region (§9.3).
async fn get_access_key_last_used(c: &Ctx<'_>) -> Outcome {
    let key_id = c.params.required("AccessKeyId")?;
    let (owner, key) =
        iam::access_keys::get_access_key_last_used(c.state, c.caller, key_id).await?;
    let mut x = Xml::new();
    x.opt("UserName", owner.as_ref().map(|u| &u.name))
        .node("AccessKeyLastUsed", |u| {
            u.opt("LastUsedDate", key.last_used_at.as_deref())
                .text(
                    "ServiceName",
                    key.last_used_service.as_deref().unwrap_or("N/A"),
                )
                .text("Region", key.last_used_region.as_deref().unwrap_or("N/A"));
        });
    Ok(Some(x))
}

fn login_profile(user_name: &str, profile: &LoginProfile) -> Xml {
    let mut x = Xml::new();
    x.node("LoginProfile", |l| {
        l.text("UserName", user_name)
            .text("CreateDate", &profile.created_at)
            .text("PasswordResetRequired", profile.password_reset_required);
    });
    x
}

async fn create_login_profile(c: &Ctx<'_>) -> Outcome {
    let name = user_name_required(c)?;
    let p = c.params;
    let req = LoginProfileRequest {
        password: p.required("Password")?.to_string(),
        password_reset_required: p.bool("PasswordResetRequired")?.unwrap_or(false),
    };
    let profile = iam::login_profiles::create_login_profile(c.state, c.caller, &name, req).await?;
    Ok(Some(login_profile(&name, &profile)))
}

async fn get_login_profile(c: &Ctx<'_>) -> Outcome {
    let name = user_name_required(c)?;
    let profile = iam::login_profiles::get_login_profile(c.state, c.caller, &name).await?;
    Ok(Some(login_profile(&name, &profile)))
}

async fn update_login_profile(c: &Ctx<'_>) -> Outcome {
    let name = user_name_required(c)?;
    let change = ProfileChange {
        password: c.params.get("Password").map(String::from),
        password_reset_required: c.params.bool("PasswordResetRequired")?,
    };
    iam::login_profiles::update_login_profile(c.state, c.caller, &name, change).await?;
    Ok(None)
}

async fn delete_login_profile(c: &Ctx<'_>) -> Outcome {
    let name = user_name_required(c)?;
    iam::login_profiles::delete_login_profile(c.state, c.caller, &name).await?;
    Ok(None)
}

async fn get_account_summary(c: &Ctx<'_>) -> Outcome {
    let summary = iam::summary::account_summary(c.state, c.caller).await?;
    let mut x = Xml::new();
    x.map("SummaryMap", summary);
    Ok(Some(x))
}
