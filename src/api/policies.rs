//! /v1/policies: managed policies, versions, entities and tags. `{policy}`
//! is the policy's name in the caller's account (then a built-in one of
//! that name), or its ARN with `/` escaped as `%2F`.

use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::{list_response, ListQuery};
use crate::auth::Caller;
use crate::domain::{ManagedPolicy, PolicyVersion, Tag};
use crate::error::{ApiResult, ErrorResponse};
use crate::iam;
use crate::iam::documents::stored_value;
use crate::iam::policies::{
    CreatePolicyRequest, CreatePolicyVersionRequest, SetDefaultVersionRequest,
};
use crate::policy::lint::{Finding, Severity};
use crate::state::AppState;
use crate::store::policies::PolicyScope;

pub fn configure(cfg: &mut ServiceConfig) {
    // `validate` first: it must never be read as a policy named "validate".
    cfg.service(validate_policy)
        .service(create_policy)
        .service(list_policies)
        .service(get_policy)
        .service(delete_policy)
        .service(create_version)
        .service(list_versions)
        .service(get_version)
        .service(delete_version)
        .service(set_default_version)
        .service(list_entities);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyResponse {
    /// The ANPA unique id.
    pub id: String,
    pub name: String,
    pub arn: String,
    pub path: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub default_version_id: String,
    /// True for the built-in `arn:aws:iam::aws:policy/...` policies.
    pub aws_managed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// Lint findings of the document just written (create replies only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<FindingResponse>>,
}

impl PolicyResponse {
    fn new(policy: ManagedPolicy, attachment_count: Option<i64>, tags: Option<Vec<Tag>>) -> Self {
        PolicyResponse {
            aws_managed: policy.is_aws_managed(),
            id: policy.id,
            name: policy.name,
            arn: policy.arn,
            path: policy.path,
            created_at: policy.created_at,
            updated_at: policy.updated_at,
            description: policy.description,
            default_version_id: policy.default_version_id,
            attachment_count,
            tags,
            findings: None,
        }
    }
}

list_response!(PolicyList, PolicyResponse);

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyVersionResponse {
    #[schema(example = "v2")]
    pub version_id: String,
    pub is_default_version: bool,
    pub created_at: String,
    #[schema(value_type = Object)]
    pub document: Value,
    /// Lint findings of the document just written (create replies only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<FindingResponse>>,
}

impl PolicyVersionResponse {
    fn new(version: PolicyVersion, default_version_id: &str) -> ApiResult<Self> {
        Ok(PolicyVersionResponse {
            is_default_version: version.version_id == default_version_id,
            document: stored_value(&version.document)?,
            version_id: version.version_id,
            created_at: version.created_at,
            findings: None,
        })
    }
}

list_response!(PolicyVersionList, PolicyVersionResponse);

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyEntitiesResponse {
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyListQuery {
    /// `All` (default), `AWS` (built-in) or `Local` (this account's).
    pub scope: Option<String>,
    pub path_prefix: Option<String>,
    pub marker: Option<String>,
    pub max_items: Option<i64>,
}

fn parse_scope(scope: Option<&str>) -> ApiResult<PolicyScope> {
    match scope.unwrap_or("All") {
        "All" => Ok(PolicyScope::All),
        "AWS" => Ok(PolicyScope::Aws),
        "Local" => Ok(PolicyScope::Local),
        other => Err(crate::error::ApiError::ValidationError(format!(
            "1 validation error detected: Value '{other}' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]"
        ))),
    }
}

/// `?strict=true` on a policy write.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StrictQuery {
    /// Refuse the write (400 `PolicyLintFailed`, nothing stored) when the
    /// document has an ERROR or SECURITY_WARNING finding. The server setting
    /// `LATCHKEY_STRICT_POLICY_LINT` does this for every write.
    pub strict: Option<bool>,
}

impl StrictQuery {
    pub fn strict(&self) -> bool {
        self.strict.unwrap_or(false)
    }
}

/// Findings as the wire shows them.
pub fn finding_list(findings: Vec<Finding>) -> Vec<FindingResponse> {
    findings.into_iter().map(FindingResponse::from).collect()
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ValidatePolicyRequest {
    /// The policy document: a JSON object, or a string holding one.
    #[schema(value_type = Object)]
    #[serde(deserialize_with = "crate::policy::validate::strict_document")]
    pub document: Value,
    /// `identity` (default), `resource`, `trust`, `boundary` or `session`.
    #[schema(example = "identity")]
    pub policy_type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValidatePolicyResponse {
    /// Sorted by statement; document-wide findings first.
    pub findings: Vec<FindingResponse>,
}

/// One lint finding.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingResponse {
    pub severity: FindingSeverity,
    /// Stable code, e.g. `PASS_ROLE_WITH_STAR_IN_RESOURCE`.
    pub code: String,
    /// What is wrong and what to write instead.
    pub message: String,
    pub location: FindingLocation,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingSeverity {
    Error,
    SecurityWarning,
    Warning,
    Suggestion,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingLocation {
    /// Absent for findings about the whole document.
    pub statement_index: Option<usize>,
    /// JSON path such as `Statement[0].Action[1]`; empty for the document.
    pub path: String,
}

impl From<Finding> for FindingResponse {
    fn from(f: Finding) -> Self {
        FindingResponse {
            severity: match f.severity {
                Severity::Error => FindingSeverity::Error,
                Severity::SecurityWarning => FindingSeverity::SecurityWarning,
                Severity::Warning => FindingSeverity::Warning,
                Severity::Suggestion => FindingSeverity::Suggestion,
            },
            code: f.code.to_owned(),
            message: f.message,
            location: FindingLocation {
                statement_index: f.location.statement_index,
                path: f.location.path,
            },
        }
    }
}

/// Lint a policy document without storing it: Access-Analyzer-style
/// findings (ERROR, SECURITY_WARNING, WARNING, SUGGESTION) with a stable
/// code, a message saying what to write instead, and a location. A document
/// IAM would refuse gives one ERROR finding with IAM's message; the reply
/// is still 200.
///
/// Permissions: `latchkey:ValidatePolicy` on `*`.
#[utoipa::path(tag = "policies", request_body = ValidatePolicyRequest, responses(
    (status = 200, body = ValidatePolicyResponse), (status = 400, description = "unknown policy_type", body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[post("/policies/validate")]
async fn validate_policy(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ValidatePolicyRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let findings = iam::documents::validate_policy(
        &state,
        &caller,
        &body.document,
        body.policy_type.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(ValidatePolicyResponse {
        findings: finding_list(findings),
    }))
}

/// Create a managed policy; its document becomes v1, the default version.
/// The reply carries the document's lint `findings`; in strict mode a
/// document with an ERROR or SECURITY_WARNING finding is refused.
///
/// Permissions: `iam:CreatePolicy` on the new policy's ARN.
#[utoipa::path(tag = "policies", params(StrictQuery), request_body = CreatePolicyRequest, responses(
    (status = 201, body = PolicyResponse), (status = 400, description = "MalformedPolicyDocument, ValidationError or PolicyLintFailed", body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 409, description = "EntityAlreadyExists or LimitExceeded", body = ErrorResponse)))]
#[post("/policies")]
async fn create_policy(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<StrictQuery>,
    body: web::Json<CreatePolicyRequest>,
) -> ApiResult<HttpResponse> {
    let (policy, tags, findings) =
        iam::policies::create_policy(&state, &caller, body.into_inner(), query.strict()).await?;
    Ok(HttpResponse::Created().json(PolicyResponse {
        findings: Some(finding_list(findings)),
        ..PolicyResponse::new(policy, Some(0), Some(tags))
    }))
}

/// List managed policies (the account's and the built-in ones), by ARN.
///
/// Permissions: `iam:ListPolicies`.
#[utoipa::path(tag = "policies", params(PolicyListQuery), responses(
    (status = 200, body = PolicyList), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/policies")]
async fn list_policies(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PolicyListQuery>,
) -> ApiResult<HttpResponse> {
    let scope = parse_scope(query.scope.as_deref())?;
    let params = ListQuery {
        path_prefix: query.path_prefix.clone(),
        marker: query.marker.clone(),
        max_items: query.max_items,
    }
    .params()?;
    let page = iam::policies::list_policies(&state, &caller, scope, &params).await?;
    Ok(HttpResponse::Ok().json(PolicyList::from_page(page, |p| {
        PolicyResponse::new(p, None, None)
    })))
}

/// Get a managed policy.
///
/// Permissions: `iam:GetPolicy` on the policy's ARN.
#[utoipa::path(tag = "policies", params(("policy" = String, Path, description = "name or URL-encoded ARN")), responses(
    (status = 200, body = PolicyResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/policies/{policy}")]
async fn get_policy(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (policy, attachments, tags) = iam::policies::get_policy(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(PolicyResponse::new(policy, Some(attachments), Some(tags))))
}

/// Delete a managed policy. It must be detached everywhere, unused as a
/// boundary, and have only its default version left.
///
/// Permissions: `iam:DeletePolicy` on the policy's ARN.
#[utoipa::path(tag = "policies", params(("policy" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[delete("/policies/{policy}")]
async fn delete_policy(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    iam::policies::delete_policy(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Create a new version (at most 5 are kept). The reply carries the
/// document's lint `findings`; in strict mode a document with an ERROR or
/// SECURITY_WARNING finding is refused.
///
/// Permissions: `iam:CreatePolicyVersion` on the policy's ARN.
#[utoipa::path(tag = "policies", params(("policy" = String, Path), StrictQuery), request_body = CreatePolicyVersionRequest, responses(
    (status = 201, body = PolicyVersionResponse), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, description = "LimitExceeded", body = ErrorResponse)))]
#[post("/policies/{policy}/versions")]
async fn create_version(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<StrictQuery>,
    body: web::Json<CreatePolicyVersionRequest>,
) -> ApiResult<HttpResponse> {
    let (version, is_default, findings) = iam::policies::create_policy_version(
        &state,
        &caller,
        &path,
        body.into_inner(),
        query.strict(),
    )
    .await?;
    let default_id = if is_default {
        version.version_id.clone()
    } else {
        String::new()
    };
    Ok(HttpResponse::Created().json(PolicyVersionResponse {
        findings: Some(finding_list(findings)),
        ..PolicyVersionResponse::new(version, &default_id)?
    }))
}

/// List a policy's versions, newest first.
///
/// Permissions: `iam:ListPolicyVersions` on the policy's ARN.
#[utoipa::path(tag = "policies", params(("policy" = String, Path)), responses(
    (status = 200, body = PolicyVersionList), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/policies/{policy}/versions")]
async fn list_versions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (policy, versions) = iam::policies::list_policy_versions(&state, &caller, &path).await?;
    let items = versions
        .into_iter()
        .map(|v| PolicyVersionResponse::new(v, &policy.default_version_id))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(PolicyVersionList::complete(items)))
}

/// Get one version with its document.
///
/// Permissions: `iam:GetPolicyVersion` on the policy's ARN.
#[utoipa::path(tag = "policies", params(("policy" = String, Path), ("version" = String, Path, example = "v1")), responses(
    (status = 200, body = PolicyVersionResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/policies/{policy}/versions/{version}")]
async fn get_version(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (policy_ref, version_id) = path.into_inner();
    let (policy, version) =
        iam::policies::get_policy_version(&state, &caller, &policy_ref, &version_id).await?;
    Ok(HttpResponse::Ok().json(PolicyVersionResponse::new(
        version,
        &policy.default_version_id,
    )?))
}

/// Delete a version that is not the default.
///
/// Permissions: `iam:DeletePolicyVersion` on the policy's ARN.
#[utoipa::path(tag = "policies", params(("policy" = String, Path), ("version" = String, Path)), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse), (status = 409, description = "DeleteConflict: the default version", body = ErrorResponse)))]
#[delete("/policies/{policy}/versions/{version}")]
async fn delete_version(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (policy_ref, version_id) = path.into_inner();
    iam::policies::delete_policy_version(&state, &caller, &policy_ref, &version_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Make a version the default.
///
/// Permissions: `iam:SetDefaultPolicyVersion` on the policy's ARN.
#[utoipa::path(tag = "policies", params(("policy" = String, Path)), request_body = SetDefaultVersionRequest, responses(
    (status = 200, body = PolicyResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[put("/policies/{policy}/default-version")]
async fn set_default_version(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<SetDefaultVersionRequest>,
) -> ApiResult<HttpResponse> {
    let policy =
        iam::policies::set_default_policy_version(&state, &caller, &path, &body.version_id).await?;
    Ok(HttpResponse::Ok().json(PolicyResponse::new(policy, None, None)))
}

/// The users, groups and roles of this account that have the policy attached.
///
/// Permissions: `iam:ListEntitiesForPolicy` on the policy's ARN.
#[utoipa::path(tag = "policies", params(("policy" = String, Path)), responses(
    (status = 200, body = PolicyEntitiesResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/policies/{policy}/entities")]
async fn list_entities(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let e = iam::policies::list_entities_for_policy(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(PolicyEntitiesResponse {
        users: e.users,
        groups: e.groups,
        roles: e.roles,
    }))
}
