//! Account settings over the query protocol: the account password policy,
//! the user's own ChangePassword, and account aliases.

use super::action::{actions, Ctx, Handler, Outcome};
use super::xml::Xml;
use crate::domain::account_settings::PasswordPolicy;
use crate::iam::{account_aliases, change_password, password_policy};

pub const ACTIONS: &[(&str, Handler)] = actions![
    "GetAccountPasswordPolicy" => get_password_policy,
    "UpdateAccountPasswordPolicy" => update_password_policy,
    "DeleteAccountPasswordPolicy" => delete_password_policy,
    "ChangePassword" => change_password,
    "CreateAccountAlias" => create_alias,
    "DeleteAccountAlias" => delete_alias,
    "ListAccountAliases" => list_aliases,
];

async fn get_password_policy(c: &Ctx<'_>) -> Outcome {
    let p = password_policy::get_password_policy(c.state, c.caller).await?;
    let mut x = Xml::new();
    x.node("PasswordPolicy", |x| {
        x.text("MinimumPasswordLength", p.minimum_password_length)
            .text("RequireSymbols", p.require_symbols)
            .text("RequireNumbers", p.require_numbers)
            .text("RequireUppercaseCharacters", p.require_uppercase_characters)
            .text("RequireLowercaseCharacters", p.require_lowercase_characters)
            .text(
                "AllowUsersToChangePassword",
                p.allow_users_to_change_password,
            )
            .text("ExpirePasswords", p.max_password_age.is_some())
            .opt("MaxPasswordAge", p.max_password_age)
            .opt("PasswordReusePrevention", p.password_reuse_prevention)
            .text("HardExpiry", p.hard_expiry);
    });
    Ok(Some(x))
}

/// Every field left out takes IAM's default, as in AWS.
async fn update_password_policy(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let flag = |name: &str| p.bool(name).map(|v| v.unwrap_or(false));
    let defaults = PasswordPolicy::default();
    let policy = PasswordPolicy {
        minimum_password_length: p
            .int("MinimumPasswordLength")?
            .unwrap_or(defaults.minimum_password_length),
        require_symbols: flag("RequireSymbols")?,
        require_numbers: flag("RequireNumbers")?,
        require_uppercase_characters: flag("RequireUppercaseCharacters")?,
        require_lowercase_characters: flag("RequireLowercaseCharacters")?,
        allow_users_to_change_password: flag("AllowUsersToChangePassword")?,
        max_password_age: p.int("MaxPasswordAge")?,
        password_reuse_prevention: p.int("PasswordReusePrevention")?,
        hard_expiry: flag("HardExpiry")?,
    };
    password_policy::update_password_policy(c.state, c.caller, policy).await?;
    Ok(None)
}

async fn delete_password_policy(c: &Ctx<'_>) -> Outcome {
    password_policy::delete_password_policy(c.state, c.caller).await?;
    Ok(None)
}

async fn change_password(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (old, new) = (p.required("OldPassword")?, p.required("NewPassword")?);
    change_password::change_password(c.state, c.caller, old.to_string(), new.to_string()).await?;
    Ok(None)
}

async fn create_alias(c: &Ctx<'_>) -> Outcome {
    let alias = c.params.required("AccountAlias")?;
    account_aliases::create_account_alias(c.state, c.caller, alias).await?;
    Ok(None)
}

async fn delete_alias(c: &Ctx<'_>) -> Outcome {
    let alias = c.params.required("AccountAlias")?;
    account_aliases::delete_account_alias(c.state, c.caller, alias).await?;
    Ok(None)
}

async fn list_aliases(c: &Ctx<'_>) -> Outcome {
    let aliases = account_aliases::list_account_aliases(c.state, c.caller).await?;
    let mut x = Xml::new();
    x.strings("AccountAliases", &aliases)
        .text("IsTruncated", false);
    Ok(Some(x))
}
