//! Account aliases: at most one per account, unique across the server,
//! usable at login in place of the account id.

use serde_json::json;

use super::authorize;
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::now;
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;

/// IAM's grammar: 3 to 63 of `[a-z0-9-]`, starting and ending with a
/// letter or digit, no two hyphens in a row; and not an account id, which
/// login could not tell from one.
pub fn validate_alias(alias: &str) -> ApiResult<()> {
    let b = alias.as_bytes();
    let ok = (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !alias.contains("--")
        && !(b.len() == 12 && b.iter().all(u8::is_ascii_digit));
    if ok {
        Ok(())
    } else {
        Err(ApiError::ValidationError(format!(
            "1 validation error detected: Value '{alias}' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){{1,61}}[a-z0-9]$"
        )))
    }
}

fn root_arn(caller: &Caller) -> String {
    format!("arn:aws:iam::{}:root", caller.account_id)
}

pub async fn create_account_alias(
    state: &OpContext,
    caller: &Caller,
    alias: &str,
) -> ApiResult<()> {
    authorize(state, caller, "iam:CreateAccountAlias", "*").await?;
    validate_alias(alias)?;
    if let Some(current) = state.store.account_alias(&caller.account_id).await? {
        return Err(if current == alias {
            ApiError::EntityAlreadyExists(format!("The account alias {alias} already exists."))
        } else {
            ApiError::LimitExceeded("Cannot exceed quota for AccountAliasesPerAccount: 1".into())
        });
    }
    let event = AuditEvent::by(caller, "iam:CreateAccountAlias", root_arn(caller))
        .params(json!({ "alias": alias }));
    // The primary key on the account settles a concurrent second alias;
    // the unique alias one taken by another account.
    audited(state, event, async |tx| {
        tx.insert_account_alias(&caller.account_id, alias, &now())
            .await
    })
    .await?;
    Ok(())
}

pub async fn delete_account_alias(
    state: &OpContext,
    caller: &Caller,
    alias: &str,
) -> ApiResult<()> {
    authorize(state, caller, "iam:DeleteAccountAlias", "*").await?;
    let event = AuditEvent::by(caller, "iam:DeleteAccountAlias", root_arn(caller))
        .params(json!({ "alias": alias }));
    audited(state, event, async |tx| {
        if tx.delete_account_alias(&caller.account_id, alias).await? {
            Ok(())
        } else {
            Err(ApiError::NoSuchEntity(format!(
                "The account alias {alias} cannot be found."
            )))
        }
    })
    .await?;
    Ok(())
}

/// The account's aliases: none or one.
pub async fn list_account_aliases(state: &OpContext, caller: &Caller) -> ApiResult<Vec<String>> {
    authorize(state, caller, "iam:ListAccountAliases", "*").await?;
    Ok(state
        .store
        .account_alias(&caller.account_id)
        .await?
        .into_iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::validate_alias;

    #[test]
    fn alias_grammar_is_iams() {
        for ok in ["abc", "my-company-1", "a1b", &"a".repeat(63)] {
            assert!(validate_alias(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "-abc",
            "abc-",
            "a--b",
            "ABC",
            "a_b",
            "123456789012",
            &"a".repeat(64),
        ] {
            assert!(validate_alias(bad).is_err(), "{bad}");
        }
    }
}
