//! The /v1 REST front end: thin actix handlers that parse, call one
//! operation in iam/ (or sts/) and map the result. The handlers' utoipa
//! annotations and doc comments are the API's documentation.

pub mod access_analysis;
pub mod access_keys;
pub mod account_settings;
pub mod accounts;
pub mod audit;
pub mod body_deadline;
pub mod error_response;
pub mod evaluate;
pub mod extract;
pub mod groups;
pub mod health;
pub mod instance_profiles;
pub mod listing;
pub mod master_key;
pub mod metrics;
pub mod mfa_devices;
pub mod oidc_providers;
mod openapi_doc;
pub mod policies;
pub mod principal_policies;
pub mod reports;
pub mod roles;
pub mod service_principals;
pub mod services;
pub mod sts;
pub mod tags;
pub mod users;
pub mod workloads;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt as _;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "latchkey",
        description = "AWS-style IAM and STS: users, groups, roles, managed and inline policies, access keys and temporary credentials. Authenticate with HTTP Basic (access key id and secret) or AWS SigV4.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecuritySchemes),
    security(("basic" = []), ("sigv4" = [])),
    // The path-parameter enums are referenced by `params(...)`, which
    // utoipa-actix-web does not collect as schemas.
    components(schemas(
        crate::error::ErrorResponse,
        crate::error::ErrorBody,
        principal_policies::HolderKind,
        tags::TaggableKind,
        tags::BoundedKind
    )),
    tags(
        (name = "accounts", description = "Accounts (management account only)"),
        (name = "account", description = "The caller's own account: password policy, alias, changing one's own password"),
        (name = "users", description = "IAM users, their access keys and passwords"),
        (name = "groups", description = "Groups and membership"),
        (name = "roles", description = "Roles and trust policies"),
        (name = "policies", description = "Managed policies and versions"),
        (name = "principal-policies", description = "Inline policies and attachments of users, groups and roles"),
        (name = "tags", description = "Tags and permissions boundaries of users, roles and policies"),
        (name = "decisions", description = "Simulation and authorization decisions"),
        (name = "services", description = "The action catalog: built-in and registered services"),
        (name = "access-analysis", description = "Who can assume a role; what a principal may do"),
        (name = "sts", description = "Temporary credentials: assume-role, session tokens, login, caller identity, and a role's sessions"),
        (name = "audit", description = "The audit trail"),
        (name = "master-key", description = "The master key that seals secrets at rest: status, online rotation (management account only)"),
        (name = "instance-profiles", description = "Instance profiles: the one role a workload gets"),
        (name = "mfa", description = "Virtual MFA devices (TOTP): create, enable for a user, resync, deactivate, delete, tags"),
        (name = "oidc-providers", description = "OpenID Connect identity providers trusted by AssumeRoleWithWebIdentity"),
        (name = "workloads", description = "Service principals, workloads and their credentials endpoint, identity proofs"),
        (name = "health", description = "Probes and metrics")
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        components.add_security_scheme(
            "sigv4",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=... (as curl --aws-sigv4 and the AWS SDKs send it)",
            ))),
        );
        components.add_security_scheme(
            "workload_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "A workload token (lkwt_...), alone: GET /v1/workload-credentials only",
            ))),
        );
    }
}

/// Registers every /v1 handler.
pub fn configure(cfg: &mut ServiceConfig) {
    // The decision endpoints are the hot path for platform services: they
    // come first, so routing does not try every other pattern before them.
    evaluate::configure(cfg);
    accounts::configure(cfg);
    // Before the `/{kind}/{name}/...` patterns, which would also match
    // `/account/aliases/tags`.
    account_settings::configure(cfg);
    // Before users and tags, whose patterns would take
    // `/users/{name}/mfa-devices` and `/mfa-devices/{serial}/tags`.
    mfa_devices::configure(cfg);
    users::configure(cfg);
    access_keys::configure(cfg);
    groups::configure(cfg);
    roles::configure(cfg);
    policies::configure(cfg);
    principal_policies::configure(cfg);
    // Before tags: its `/{kind}/{name}/tags` would take the providers' tags.
    oidc_providers::configure(cfg);
    tags::configure(cfg);
    sts::configure(cfg);
    services::configure(cfg);
    access_analysis::configure(cfg);
    reports::configure(cfg);
    audit::configure(cfg);
    master_key::configure(cfg);
    instance_profiles::configure(cfg);
    service_principals::configure(cfg);
    workloads::configure(cfg);
}

/// The OpenAPI document, collected from the registered handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/v1").configure(configure))
        .service(health::healthz)
        .service(health::readyz)
        .service(metrics::metrics)
        .split_for_parts();
    let mut api = api;
    openapi_doc::document_transport_errors(&mut api);
    api
}
