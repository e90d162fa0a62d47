//! /v1/oidc-providers: OpenID Connect identity providers (the IAM
//! entities AssumeRoleWithWebIdentity trusts), the unsigned
//! `/v1/sts/assume-role-with-web-identity`, and a role's trust test.
//! `{provider}` is the provider's ARN or its URL (`https://` optional),
//! with `/` escaped as `%2F`.

use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::list_response;
use super::tags::{TagList, TagRequest, UntagQuery};
use crate::auth::Caller;
use crate::domain::oidc::OidcProvider;
use crate::domain::Tag;
use crate::error::{ApiResult, ErrorResponse};
use crate::iam::oidc_providers::{self as oidc, CreateProvider};
use crate::state::AppState;
use crate::sts::web_identity::{
    self, TrustTestRequest, TrustTestResponse, WebIdentityRequest, WebIdentityResponse,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(delete_one)
        .service(add_client_id)
        .service(remove_client_id)
        .service(update_thumbprints)
        .service(list_tags)
        .service(tag)
        .service(untag)
        .service(assume_role_with_web_identity)
        .service(trust_test);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderResponse {
    #[schema(
        example = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    )]
    pub arn: String,
    /// Host and path, no scheme: the prefix of the condition keys.
    #[schema(example = "token.actions.githubusercontent.com")]
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    /// `discovery`, `jwks_uri` or `static`.
    pub key_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Whether a static JWKS is stored (its keys are public; shown by
    /// presence only to keep replies small).
    pub has_static_jwks: bool,
    pub has_ca_bundle: bool,
    pub extra_claims: Vec<String>,
    pub created_at: String,
    /// On single-provider replies only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

impl ProviderResponse {
    fn of(p: &OidcProvider, tags: Option<Vec<Tag>>) -> Self {
        ProviderResponse {
            arn: p.arn(),
            url: p.url.clone(),
            client_ids: p.client_id_list(),
            thumbprints: p.thumbprint_list(),
            key_source: p.key_source.clone(),
            jwks_uri: p.jwks_uri.clone(),
            has_static_jwks: p.jwks_json.is_some(),
            has_ca_bundle: p.ca_bundle_pem.is_some(),
            extra_claims: p.extra_claim_list(),
            created_at: p.created_at.clone(),
            tags,
        }
    }
}

list_response!(ProviderList, ProviderResponse);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientIdBody {
    #[schema(example = "sts.amazonaws.com")]
    pub client_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThumbprintsBody {
    /// Replaces the list: up to 5 SHA-1 thumbprints, 40 hex digits each.
    pub thumbprints: Vec<String>,
}

/// Create an OpenID Connect provider.
///
/// Permissions: `iam:CreateOpenIDConnectProvider` (with `aws:RequestTag`
/// keys when tagging). At most 100 per account. Keys come from the
/// issuer's discovery document by default; `jwks_uri` names the JWKS
/// directly; `static` stores an uploaded JWKS and never fetches (for
/// issuers the server cannot reach). `ca_bundle_pem` adds roots for a
/// private issuer's TLS; `extra_claims` exposes claims as condition keys.
#[utoipa::path(tag = "oidc-providers", request_body = CreateProvider, responses(
    (status = 201, body = ProviderResponse),
    (status = 400, description = "InvalidInput, ValidationError", body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 409, description = "EntityAlreadyExists, LimitExceeded", body = ErrorResponse)))]
#[post("/oidc-providers")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateProvider>,
) -> ApiResult<HttpResponse> {
    let (p, tags) = oidc::create(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(ProviderResponse::of(&p, Some(tags))))
}

/// List the account's OpenID Connect providers (at most 100: one page).
///
/// Permissions: `iam:ListOpenIDConnectProviders`.
#[utoipa::path(tag = "oidc-providers", responses(
    (status = 200, body = ProviderList), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse)))]
#[get("/oidc-providers")]
async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let providers = oidc::list(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(ProviderList::complete(
        providers
            .iter()
            .map(|p| ProviderResponse::of(p, None))
            .collect(),
    )))
}

/// Get a provider with its tags.
///
/// Permissions: `iam:GetOpenIDConnectProvider`.
#[utoipa::path(tag = "oidc-providers", params(("provider" = String, Path, description = "ARN or URL, `/` as %2F")), responses(
    (status = 200, body = ProviderResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/oidc-providers/{provider}")]
async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (p, tags) = oidc::get(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(ProviderResponse::of(&p, Some(tags))))
}

/// Delete a provider. Sessions it issued stay valid until they expire
/// or are revoked.
///
/// Permissions: `iam:DeleteOpenIDConnectProvider`.
#[utoipa::path(tag = "oidc-providers", params(("provider" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[delete("/oidc-providers/{provider}")]
async fn delete_one(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    oidc::delete(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Add a client id (an accepted audience). Adding a listed one is a no-op.
///
/// Permissions: `iam:AddClientIDToOpenIDConnectProvider`.
#[utoipa::path(tag = "oidc-providers", params(("provider" = String, Path)), request_body = ClientIdBody, responses(
    (status = 204), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    (status = 409, description = "LimitExceeded", body = ErrorResponse)))]
#[post("/oidc-providers/{provider}/client-ids")]
async fn add_client_id(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<ClientIdBody>,
) -> ApiResult<HttpResponse> {
    oidc::add_client_id(&state, &caller, &path, &body.client_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove a client id. Removing one that is not listed is a no-op.
///
/// Permissions: `iam:RemoveClientIDFromOpenIDConnectProvider`.
#[utoipa::path(tag = "oidc-providers", params(("provider" = String, Path), ("client_id" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[delete("/oidc-providers/{provider}/client-ids/{client_id}")]
async fn remove_client_id(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (provider, client_id) = path.into_inner();
    oidc::remove_client_id(&state, &caller, &provider, &client_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replace the thumbprints.
///
/// Permissions: `iam:UpdateOpenIDConnectProviderThumbprint`.
#[utoipa::path(tag = "oidc-providers", params(("provider" = String, Path)), request_body = ThumbprintsBody, responses(
    (status = 204), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    (status = 409, description = "LimitExceeded", body = ErrorResponse)))]
#[put("/oidc-providers/{provider}/thumbprints")]
async fn update_thumbprints(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<ThumbprintsBody>,
) -> ApiResult<HttpResponse> {
    oidc::update_thumbprints(&state, &caller, &path, &body.thumbprints).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a provider's tags.
///
/// Permissions: `iam:ListOpenIDConnectProviderTags`.
#[utoipa::path(tag = "oidc-providers", params(("provider" = String, Path)), responses(
    (status = 200, body = TagList), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/oidc-providers/{provider}/tags")]
async fn list_tags(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let tags = oidc::list_tags(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(TagList { tags }))
}

/// Add or replace tags (at most 50 in all).
///
/// Permissions: `iam:TagOpenIDConnectProvider`.
#[utoipa::path(tag = "oidc-providers", params(("provider" = String, Path)), request_body = TagRequest, responses(
    (status = 204), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    (status = 409, description = "LimitExceeded", body = ErrorResponse)))]
#[post("/oidc-providers/{provider}/tags")]
async fn tag(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<TagRequest>,
) -> ApiResult<HttpResponse> {
    oidc::tag(&state, &caller, &path, &body.tags).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove tags by key.
///
/// Permissions: `iam:UntagOpenIDConnectProvider`.
#[utoipa::path(tag = "oidc-providers", params(("provider" = String, Path), UntagQuery), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[delete("/oidc-providers/{provider}/tags")]
async fn untag(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<UntagQuery>,
) -> ApiResult<HttpResponse> {
    let keys: Vec<String> = query
        .keys
        .split(',')
        .filter(|k| !k.is_empty())
        .map(String::from)
        .collect();
    oidc::untag(&state, &caller, &path, &keys).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Assume a role with an OIDC token (AssumeRoleWithWebIdentity).
///
/// No credentials: the token is the credential. It must be signed
/// (RS/PS 256-512, ES256/384) by a key of the provider of the role's
/// account whose URL is the token's `iss`, be within its `exp`/`nbf`/`iat`
/// (60 s leeway), be for one of the provider's client ids (`aud` or
/// `azp`), and satisfy the role's trust policy for
/// `sts:AssumeRoleWithWebIdentity` (and `sts:TagSession` when it carries
/// session tags). Refusals name the failing step and are audited with it.
#[utoipa::path(tag = "sts", request_body = WebIdentityRequest, security(()), responses(
    (status = 200, body = WebIdentityResponse),
    (status = 400, description = "InvalidIdentityToken, ExpiredTokenException, IDPCommunicationError, ValidationError", body = ErrorResponse),
    (status = 403, description = "AccessDenied (trust policy), IDPRejectedClaim", body = ErrorResponse)))]
#[post("/sts/assume-role-with-web-identity")]
async fn assume_role_with_web_identity(
    state: web::Data<AppState>,
    body: web::Json<WebIdentityRequest>,
) -> ApiResult<HttpResponse> {
    let reply = web_identity::assume_role_with_web_identity(&state, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(reply))
}

/// Test a token against the role's trust: the decoded claims, the
/// provider matched, the condition keys and the engine's explanation.
/// Issues nothing.
///
/// Permissions: `iam:GetRole` on the role.
#[utoipa::path(tag = "roles", params(("role" = String, Path)), request_body = TrustTestRequest, responses(
    (status = 200, body = TrustTestResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[post("/roles/{role}/trust-test")]
async fn trust_test(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<TrustTestRequest>,
) -> ApiResult<HttpResponse> {
    let reply = web_identity::trust_test(&state, &caller, &path, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(reply))
}
