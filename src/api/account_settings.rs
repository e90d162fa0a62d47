//! /v1/account: the caller's own account settings: its password policy,
//! its alias, and a user's own password change.

use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::domain::account_settings::PasswordPolicy;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam::{account_aliases, change_password, password_policy};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_password_policy)
        .service(put_password_policy)
        .service(delete_password_policy)
        .service(change_own_password)
        .service(list_aliases)
        .service(create_alias)
        .service(delete_alias);
}

/// The policy as `GET` shows it: its fields, plus whether passwords
/// expire. Spelled out rather than `#[serde(flatten)]`: the schema of the
/// flattened `PasswordPolicy` refuses additional properties (it is also the
/// PUT body, which refuses unknown fields), so a flattened reply would not
/// match its own published schema.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordPolicyResponse {
    pub minimum_password_length: i64,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    /// Days a password stays valid; absent: passwords never expire.
    pub max_password_age: Option<i64>,
    pub password_reuse_prevention: Option<i64>,
    pub hard_expiry: bool,
    /// Whether passwords expire (a maximum age is set).
    pub expire_passwords: bool,
}

impl From<PasswordPolicy> for PasswordPolicyResponse {
    fn from(p: PasswordPolicy) -> Self {
        PasswordPolicyResponse {
            expire_passwords: p.max_password_age.is_some(),
            minimum_password_length: p.minimum_password_length,
            require_symbols: p.require_symbols,
            require_numbers: p.require_numbers,
            require_uppercase_characters: p.require_uppercase_characters,
            require_lowercase_characters: p.require_lowercase_characters,
            allow_users_to_change_password: p.allow_users_to_change_password,
            max_password_age: p.max_password_age,
            password_reuse_prevention: p.password_reuse_prevention,
            hard_expiry: p.hard_expiry,
        }
    }
}

/// The account's password policy (404 NoSuchEntity when none is set).
///
/// Permissions: `iam:GetAccountPasswordPolicy`.
#[utoipa::path(tag = "account", responses(
    (status = 200, body = PasswordPolicyResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/account/password-policy")]
async fn get_password_policy(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let policy = password_policy::get_password_policy(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(PasswordPolicyResponse::from(policy)))
}

/// Set the account's password policy, whole: a field left out takes IAM's
/// default. Enforced on every password set or changed from then on.
///
/// Permissions: `iam:UpdateAccountPasswordPolicy`.
#[utoipa::path(tag = "account", request_body = PasswordPolicy, responses(
    (status = 200, body = PasswordPolicyResponse), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[put("/account/password-policy")]
async fn put_password_policy(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<PasswordPolicy>,
) -> ApiResult<HttpResponse> {
    let policy =
        password_policy::update_password_policy(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(PasswordPolicyResponse::from(policy)))
}

/// Remove the account's password policy.
///
/// Permissions: `iam:DeleteAccountPasswordPolicy`.
#[utoipa::path(tag = "account", responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[delete("/account/password-policy")]
async fn delete_password_policy(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    password_policy::delete_password_policy(&state, &caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// Never logged or returned.
    #[schema(format = Password)]
    pub old_password: String,
    /// Must satisfy the account's password policy. Never logged or returned.
    #[schema(format = Password)]
    pub new_password: String,
}

/// Change the calling IAM user's own password (ChangePassword). 400
/// `PasswordPolicyViolation` names what the policy misses; 403 when the
/// old password is wrong.
///
/// Permissions: the account policy's `allow_users_to_change_password`, or
/// `iam:ChangePassword` on the user's own ARN.
#[utoipa::path(tag = "account", request_body = ChangePasswordRequest, responses(
    (status = 204), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    (status = 409, description = "LimitExceeded: too many wrong old passwords", body = ErrorResponse)))]
#[post("/account/change-password")]
async fn change_own_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    change_password::change_password(&state, &caller, body.old_password, body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AliasList {
    /// None or one.
    pub aliases: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasRequest {
    /// 3 to 63 of `[a-z0-9-]`, no leading, trailing or double hyphen.
    #[schema(example = "example-corp")]
    pub alias: String,
}

/// The account's alias (a list of none or one, as IAM's).
///
/// Permissions: `iam:ListAccountAliases`.
#[utoipa::path(tag = "account", responses(
    (status = 200, body = AliasList), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/account/aliases")]
async fn list_aliases(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let aliases = account_aliases::list_account_aliases(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(AliasList { aliases }))
}

/// Give the account its alias: one per account (409 LimitExceeded for a
/// second), unique on the server (409 EntityAlreadyExists). Login accepts
/// it in place of the account id.
///
/// Permissions: `iam:CreateAccountAlias`.
#[utoipa::path(tag = "account", request_body = AliasRequest, responses(
    (status = 201, body = AliasList), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[post("/account/aliases")]
async fn create_alias(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<AliasRequest>,
) -> ApiResult<HttpResponse> {
    account_aliases::create_account_alias(&state, &caller, &body.alias).await?;
    Ok(HttpResponse::Created().json(AliasList {
        aliases: vec![body.into_inner().alias],
    }))
}

/// Remove the account's alias.
///
/// Permissions: `iam:DeleteAccountAlias`.
#[utoipa::path(tag = "account", params(("alias" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[delete("/account/aliases/{alias}")]
async fn delete_alias(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    account_aliases::delete_account_alias(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}
