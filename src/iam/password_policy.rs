//! The account password policy (Get/Update/DeleteAccountPasswordPolicy)
//! and its enforcement wherever a password is set: CreateLoginProfile,
//! UpdateLoginProfile, ChangePassword. Reuse prevention compares the new
//! password with the user's last N argon2 hashes (never plaintext); the
//! maximum age turns a sign-in into `password_reset_required`
//! (`Store::password_expiry`, which login reads).

use serde_json::json;

use super::authorize;
use crate::audit::{audited, AuditEvent};
use crate::auth::password::verify_password;
use crate::auth::Caller;
use crate::domain::account_settings::{PasswordPolicy, PASSWORD_SYMBOLS};
use crate::domain::{now, User};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, OpContext};

/// IAM's bound on any password.
pub const MAX_PASSWORD_LENGTH: usize = 128;
/// Without a policy, latchkey keeps its own floor.
const DEFAULT_MINIMUM_LENGTH: usize = 8;

fn no_policy(account_id: &str) -> ApiError {
    ApiError::NoSuchEntity(format!(
        "The Password Policy with domain name {account_id} cannot be found."
    ))
}

fn out_of_range(field: &str, value: i64, min: i64, max: i64) -> ApiError {
    ApiError::ValidationError(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must have value greater than or equal to {min} and less than or equal to {max}"
    ))
}

/// IAM's ranges: length 6 to 128, age 1 to 1095 days, reuse 1 to 24.
pub fn validate(p: &PasswordPolicy) -> ApiResult<()> {
    if !(6..=128).contains(&p.minimum_password_length) {
        return Err(out_of_range(
            "minimumPasswordLength",
            p.minimum_password_length,
            6,
            128,
        ));
    }
    if let Some(age) = p.max_password_age {
        if !(1..=1095).contains(&age) {
            return Err(out_of_range("maxPasswordAge", age, 1, 1095));
        }
    }
    if let Some(n) = p.password_reuse_prevention {
        if !(1..=24).contains(&n) {
            return Err(out_of_range("passwordReusePrevention", n, 1, 24));
        }
    }
    Ok(())
}

pub async fn get_password_policy(state: &OpContext, caller: &Caller) -> ApiResult<PasswordPolicy> {
    authorize(state, caller, "iam:GetAccountPasswordPolicy", "*").await?;
    state
        .store
        .get_password_policy(&caller.account_id)
        .await?
        .ok_or_else(|| no_policy(&caller.account_id))
}

/// Sets the whole policy: a field left out takes IAM's default, as in
/// UpdateAccountPasswordPolicy.
pub async fn update_password_policy(
    state: &OpContext,
    caller: &Caller,
    policy: PasswordPolicy,
) -> ApiResult<PasswordPolicy> {
    authorize(state, caller, "iam:UpdateAccountPasswordPolicy", "*").await?;
    validate(&policy)?;
    let event = AuditEvent::by(
        caller,
        "iam:UpdateAccountPasswordPolicy",
        format!("arn:aws:iam::{}:root", caller.account_id),
    )
    .params(json!(policy));
    audited(state, event, async |tx| {
        tx.put_password_policy(&caller.account_id, &policy, &now())
            .await
    })
    .await?;
    Ok(policy)
}

pub async fn delete_password_policy(state: &OpContext, caller: &Caller) -> ApiResult<()> {
    authorize(state, caller, "iam:DeleteAccountPasswordPolicy", "*").await?;
    let event = AuditEvent::by(
        caller,
        "iam:DeleteAccountPasswordPolicy",
        format!("arn:aws:iam::{}:root", caller.account_id),
    );
    audited(state, event, async |tx| {
        if tx.delete_password_policy(&caller.account_id).await? {
            Ok(())
        } else {
            Err(no_policy(&caller.account_id))
        }
    })
    .await?;
    Ok(())
}

fn violation(message: String) -> ApiError {
    ApiError::BadRequest {
        code: "PasswordPolicyViolation",
        message,
    }
}

/// A character class the policy may require: whether it does, the class,
/// and IAM's message when the password has none of it.
type CharacterRule = (bool, fn(char) -> bool, &'static str);

/// What the policy finds wrong with `password`, in IAM's words; empty when
/// it complies. Reuse is checked apart (it needs the stored hashes).
pub fn composition_failures(policy: Option<&PasswordPolicy>, password: &str) -> Vec<String> {
    let len = password.chars().count();
    let min = policy.map_or(DEFAULT_MINIMUM_LENGTH, |p| {
        usize::try_from(p.minimum_password_length).unwrap_or(DEFAULT_MINIMUM_LENGTH)
    });
    let mut out = Vec::new();
    if len < min {
        out.push(format!("Password should have a minimum length of {min}"));
    }
    if len > MAX_PASSWORD_LENGTH {
        out.push(format!(
            "Password should have a maximum length of {MAX_PASSWORD_LENGTH}"
        ));
    }
    let Some(p) = policy else {
        return out;
    };
    let rules: [CharacterRule; 4] = [
        (
            p.require_uppercase_characters,
            |c| c.is_ascii_uppercase(),
            "Password should have at least one uppercase letter",
        ),
        (
            p.require_lowercase_characters,
            |c| c.is_ascii_lowercase(),
            "Password should have at least one lowercase letter",
        ),
        (
            p.require_numbers,
            |c| c.is_ascii_digit(),
            "Password should have at least one number",
        ),
        (
            p.require_symbols,
            |c| PASSWORD_SYMBOLS.contains(c),
            "Password should have at least one symbol",
        ),
    ];
    for (required, class, message) in rules {
        if required && !password.chars().any(class) {
            out.push(message.to_string());
        }
    }
    out
}

/// Refuses a new password of `user` that breaks the account's policy:
/// composition first, then reuse of one of the last N passwords.
pub async fn check_new_password(state: &AppState, user: &User, password: &str) -> ApiResult<()> {
    let policy = state.store.get_password_policy(&user.account_id).await?;
    let failures = composition_failures(policy.as_ref(), password);
    if !failures.is_empty() {
        return Err(violation(failures.join("; ")));
    }
    let Some(n) = policy.and_then(|p| p.password_reuse_prevention) else {
        return Ok(());
    };
    for hash in state.store.recent_password_hashes(&user.id, n).await? {
        if verify_password(&state.password_hashing, password.to_string(), Some(hash)).await? {
            return Err(violation(format!(
                "Password should not be one of your last {n} passwords"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composition_names_every_missing_class() {
        let policy = PasswordPolicy {
            minimum_password_length: 10,
            require_symbols: true,
            require_numbers: true,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            ..PasswordPolicy::default()
        };
        assert_eq!(
            composition_failures(Some(&policy), "abc"),
            [
                "Password should have a minimum length of 10",
                "Password should have at least one uppercase letter",
                "Password should have at least one number",
                "Password should have at least one symbol",
            ]
        );
        assert!(composition_failures(Some(&policy), "Abcdefgh1!").is_empty());
        assert!(composition_failures(None, "abcdefgh").is_empty());
        assert_eq!(composition_failures(None, "short").len(), 1);
    }

    #[test]
    fn ranges_are_iams() {
        let ok = PasswordPolicy::default();
        assert!(validate(&ok).is_ok());
        for bad in [
            PasswordPolicy {
                minimum_password_length: 5,
                ..ok.clone()
            },
            PasswordPolicy {
                max_password_age: Some(1096),
                ..ok.clone()
            },
            PasswordPolicy {
                password_reuse_prevention: Some(25),
                ..ok.clone()
            },
        ] {
            assert!(validate(&bad).is_err(), "{bad:?}");
        }
    }
}
