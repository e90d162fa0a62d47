//! Accounts: the management account (made at first start) creates the
//! others. Each new account gets a root access key, shown once.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::access_keys::{generate_key, seal_new_key, NewAccessKey};
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::{now, Account, AccountId};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    /// A display name, 1 to 50 characters.
    #[schema(example = "team-blue")]
    pub name: String,
}

/// Account operations are for the management account's root and its users
/// allowed `latchkey:*Account` actions.
async fn authorize_management(
    state: &OpContext,
    caller: &Caller,
    action: &str,
    resource: &str,
) -> ApiResult<()> {
    if !caller.is_management_account {
        crate::audit::denied(state, caller, action, resource);
        return Err(ApiError::AccessDenied(format!(
            "User: {} is not authorized to perform: {action} on resource: {resource} because only the management account manages accounts",
            caller.arn
        )));
    }
    super::authorize(state, caller, action, resource).await
}

fn account_arn(id: &str) -> String {
    format!("arn:aws:iam::{id}:root")
}

/// Creates an account with its root key (the caller sees the secret once).
pub async fn create_account(
    state: &OpContext,
    caller: &Caller,
    req: CreateAccountRequest,
) -> ApiResult<(Account, NewAccessKey)> {
    let len = req.name.chars().count();
    if !(1..=50).contains(&len) {
        return Err(ApiError::ValidationError(
            "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length between 1 and 50".into(),
        ));
    }
    authorize_management(
        state,
        caller,
        "latchkey:CreateAccount",
        "arn:aws:iam::*:root",
    )
    .await?;
    let account = Account {
        id: AccountId::generate().to_string(),
        name: req.name,
        is_management: false,
        created_at: now(),
    };
    let (key_id, secret) = generate_key();
    let event = AuditEvent::by(caller, "latchkey:CreateAccount", account_arn(&account.id))
        .params(json!({"name": account.name, "account_id": account.id, "root_access_key_id": key_id.as_str()}));
    let key = audited(state, event, async |tx| {
        let key = seal_new_key(state, &account.id, None, Some((key_id, secret)))?;
        tx.insert_account(&account).await?;
        tx.insert_access_key(&key.key).await?;
        Ok::<_, ApiError>(key)
    })
    .await?;
    tracing::info!(account_id = %account.id, access_key_id = %key.key.access_key_id, "account created");
    Ok((account, key))
}

pub async fn list_accounts(state: &OpContext, caller: &Caller) -> ApiResult<Vec<Account>> {
    authorize_management(
        state,
        caller,
        "latchkey:ListAccounts",
        "arn:aws:iam::*:root",
    )
    .await?;
    Ok(state.store.list_accounts().await?)
}

pub async fn get_account(state: &OpContext, caller: &Caller, id: &str) -> ApiResult<Account> {
    authorize_management(state, caller, "latchkey:GetAccount", &account_arn(id)).await?;
    state
        .store
        .get_account(id)
        .await?
        .ok_or_else(|| ApiError::NoSuchEntity(format!("The account {id} cannot be found.")))
}

/// The caller's own account, which every caller may read (GetUser of the
/// root user shows it).
pub async fn own_account(state: &OpContext, caller: &Caller) -> ApiResult<Account> {
    state
        .store
        .get_account(&caller.account_id)
        .await?
        .ok_or_else(|| {
            ApiError::NoSuchEntity(format!(
                "The account {} cannot be found.",
                caller.account_id
            ))
        })
}

pub async fn delete_account(state: &OpContext, caller: &Caller, id: &str) -> ApiResult<()> {
    let account = get_account(state, caller, id).await?;
    authorize_management(state, caller, "latchkey:DeleteAccount", &account_arn(id)).await?;
    if account.is_management {
        return Err(ApiError::DeleteConflict(
            "The management account cannot be deleted.".into(),
        ));
    }
    if state.store.account_entity_count(id).await? > 0 {
        return Err(ApiError::DeleteConflict(
            "Cannot delete entity, must delete the account's users, groups, roles and policies first.".into(),
        ));
    }
    let event = AuditEvent::by(caller, "latchkey:DeleteAccount", account_arn(id))
        .params(json!({"account_id": id}));
    audited(state, event, async |tx| tx.delete_account(id).await).await?;
    Ok(())
}
