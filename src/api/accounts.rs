//! /v1/accounts: for the management account.

use actix_web::{delete, get, post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::list_response;
use crate::auth::Caller;
use crate::domain::Account;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam;
use crate::iam::accounts::CreateAccountRequest;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_account)
        .service(list_accounts)
        .service(get_account)
        .service(delete_account);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountResponse {
    #[schema(example = "123456789012")]
    pub account_id: String,
    pub name: String,
    pub is_management: bool,
    pub created_at: String,
}

impl From<Account> for AccountResponse {
    fn from(a: Account) -> Self {
        AccountResponse {
            account_id: a.id,
            name: a.name,
            is_management: a.is_management,
            created_at: a.created_at,
        }
    }
}

list_response!(AccountList, AccountResponse);

#[derive(Serialize, ToSchema)]
pub struct RootCredentials {
    pub access_key_id: String,
    /// Shown once.
    pub secret_access_key: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedAccount {
    pub account_id: String,
    pub name: String,
    pub root_credentials: RootCredentials,
}

/// Create an account; the reply holds its root key, once.
///
/// Permissions: the management account, `latchkey:CreateAccount`.
#[utoipa::path(tag = "accounts", request_body = CreateAccountRequest, responses(
    (status = 201, body = CreatedAccount), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[post("/accounts")]
async fn create_account(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateAccountRequest>,
) -> ApiResult<HttpResponse> {
    let (account, key) = iam::accounts::create_account(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(CreatedAccount {
        account_id: account.id,
        name: account.name,
        root_credentials: RootCredentials {
            access_key_id: key.key.access_key_id.clone(),
            secret_access_key: key.secret.expose().to_string(),
        },
    }))
}

/// List accounts.
///
/// Permissions: the management account, `latchkey:ListAccounts`.
#[utoipa::path(tag = "accounts", responses(
    (status = 200, body = AccountList), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/accounts")]
async fn list_accounts(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let accounts = iam::accounts::list_accounts(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(AccountList::complete(
        accounts.into_iter().map(Into::into).collect(),
    )))
}

/// Get an account.
///
/// Permissions: the management account, `latchkey:GetAccount`.
#[utoipa::path(tag = "accounts", params(("id" = String, Path)), responses(
    (status = 200, body = AccountResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/accounts/{id}")]
async fn get_account(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let account = iam::accounts::get_account(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(AccountResponse::from(account)))
}

/// Delete an empty account (no users, groups, roles or policies).
///
/// Permissions: the management account, `latchkey:DeleteAccount`.
#[utoipa::path(tag = "accounts", params(("id" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[delete("/accounts/{id}")]
async fn delete_account(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    iam::accounts::delete_account(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}
