//! /v1/mfa-devices and /v1/users/{name}/mfa-devices: virtual TOTP devices.
//! `{serial}` is the device's ARN with `/` escaped as `%2F`. The seed is
//! in the creation reply only: as base32, as an `otpauth://` URI, and as
//! that URI's QR code in a PNG for an authenticator app to scan.

use actix_web::{delete, get, post, web, HttpResponse};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::listing::list_response;
use super::tags::{TagList, TagRequest, UntagQuery};
use crate::auth::Caller;
use crate::domain::{Arn, MfaDevice, MfaDeviceRow, Tag};
use crate::error::{ApiResult, ErrorResponse};
use crate::iam::mfa_devices::{self as mfa, Assignment, CodePair};
use crate::state::AppState;
use crate::store::ListParams;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list_virtual)
        .service(delete_one)
        .service(list_tags)
        .service(tag)
        .service(untag)
        .service(list_for_user)
        .service(enable)
        .service(deactivate)
        .service(resync);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDeviceRequest {
    /// 1 to 226 characters of `[\w+=,.@-]`, unique in the account.
    #[schema(example = "alice-phone")]
    pub name: String,
    /// `/` (default) or `/a/b/`.
    pub path: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// The new device and its seed: shown in this reply only.
#[derive(Serialize, ToSchema)]
pub struct CreatedDevice {
    #[schema(example = "arn:aws:iam::123456789012:mfa/alice-phone")]
    pub serial_number: String,
    /// The TOTP seed, base32 (RFC 4648, no padding).
    pub base32_seed: String,
    /// `otpauth://totp/...`, what an authenticator app reads.
    pub otpauth_uri: String,
    /// The same URI as a QR code: a PNG, base64 (IAM's `QRCodePNG`).
    pub qr_code_png: String,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceUser {
    pub user_name: String,
    pub user_id: String,
    pub arn: String,
}

/// A device as lists show it (never its seed).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceResponse {
    pub serial_number: String,
    pub name: String,
    pub path: String,
    pub created_at: String,
    /// The user it is enabled for; absent while unassigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<DeviceUser>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_at: Option<String>,
}

impl DeviceResponse {
    fn of(d: MfaDevice, user: Option<DeviceUser>) -> Self {
        DeviceResponse {
            serial_number: d.serial,
            name: d.name,
            path: d.path,
            created_at: d.created_at,
            user,
            enabled_at: d.enabled_at,
        }
    }

    fn of_row(row: MfaDeviceRow) -> Self {
        let user = match (&row.device.user_id, row.user_name, row.user_path) {
            (Some(id), Some(name), Some(path)) => Some(DeviceUser {
                arn: Arn::iam(&row.device.account_id, "user", &path, &name).to_string(),
                user_name: name,
                user_id: id.clone(),
            }),
            _ => None,
        };
        DeviceResponse::of(row.device, user)
    }
}

list_response!(DeviceList, DeviceResponse);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeviceListQuery {
    /// `Assigned`, `Unassigned` or `Any` (default).
    pub assignment_status: Option<String>,
    /// The `marker` of the previous page.
    pub marker: Option<String>,
    /// 1 to 1000, default 100.
    pub max_items: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `marker` of the previous page.
    pub marker: Option<String>,
    /// 1 to 1000, default 100.
    pub max_items: Option<i64>,
}

/// Two consecutive codes of the device.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodesBody {
    #[schema(example = "123456")]
    pub authentication_code_1: String,
    /// The code that follows `authentication_code_1`.
    #[schema(example = "654321")]
    pub authentication_code_2: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableBody {
    #[schema(example = "arn:aws:iam::123456789012:mfa/alice-phone")]
    pub serial_number: String,
    #[schema(example = "123456")]
    pub authentication_code_1: String,
    #[schema(example = "654321")]
    pub authentication_code_2: String,
}

/// Create a virtual MFA device.
///
/// Permissions: `iam:CreateVirtualMFADevice` on the device's ARN (with
/// `aws:RequestTag` keys when tagging). The seed is returned in this reply
/// only; it is stored sealed under the master key.
#[utoipa::path(tag = "mfa", request_body = CreateDeviceRequest, responses(
    (status = 201, body = CreatedDevice),
    (status = 400, description = "ValidationError", body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 409, description = "EntityAlreadyExists", body = ErrorResponse)))]
#[post("/mfa-devices")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateDeviceRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let (device, seed, tags) =
        mfa::create(&state, &caller, &body.name, body.path.as_deref(), body.tags).await?;
    let qr_code = seed.qr_code_png(&device.account_id, &device.name)?;
    Ok(HttpResponse::Created().json(CreatedDevice {
        otpauth_uri: seed.otpauth_uri(&device.account_id, &device.name),
        qr_code_png: base64::engine::general_purpose::STANDARD.encode(qr_code),
        base32_seed: seed.expose().to_string(),
        serial_number: device.serial,
        tags,
    }))
}

/// List the account's virtual MFA devices (ListVirtualMFADevices).
///
/// Permissions: `iam:ListVirtualMFADevices`.
#[utoipa::path(tag = "mfa", params(DeviceListQuery), responses(
    (status = 200, body = DeviceList), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
#[get("/mfa-devices")]
async fn list_virtual(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<DeviceListQuery>,
) -> ApiResult<HttpResponse> {
    let params = ListParams::from_request(None, query.marker.as_deref(), query.max_items)?;
    let status = Assignment::parse(query.assignment_status.as_deref())?;
    let page = mfa::list_virtual(&state, &caller, status, &params).await?;
    Ok(HttpResponse::Ok().json(DeviceList::from_page(page, DeviceResponse::of_row)))
}

/// Delete an unassigned virtual MFA device (DeleteConflict while enabled).
///
/// Permissions: `iam:DeleteVirtualMFADevice` on the device.
#[utoipa::path(tag = "mfa", params(("serial" = String, Path, description = "The device ARN, `/` as %2F")), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse),
    (status = 409, description = "DeleteConflict", body = ErrorResponse)))]
#[delete("/mfa-devices/{serial}")]
async fn delete_one(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    mfa::delete(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a device's tags.
///
/// Permissions: `iam:ListMFADeviceTags`.
#[utoipa::path(tag = "mfa", params(("serial" = String, Path)), responses(
    (status = 200, body = TagList), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[get("/mfa-devices/{serial}/tags")]
async fn list_tags(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let tags = mfa::list_tags(&state, &caller, &path).await?;
    Ok(HttpResponse::Ok().json(TagList { tags }))
}

/// Add or replace tags (at most 50 in all).
///
/// Permissions: `iam:TagMFADevice`.
#[utoipa::path(tag = "mfa", params(("serial" = String, Path)), request_body = TagRequest, responses(
    (status = 204), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    (status = 409, description = "LimitExceeded", body = ErrorResponse)))]
#[post("/mfa-devices/{serial}/tags")]
async fn tag(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<TagRequest>,
) -> ApiResult<HttpResponse> {
    mfa::tag(&state, &caller, &path, &body.tags).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove tags by key.
///
/// Permissions: `iam:UntagMFADevice`.
#[utoipa::path(tag = "mfa", params(("serial" = String, Path), UntagQuery), responses(
    (status = 204), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[delete("/mfa-devices/{serial}/tags")]
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
    mfa::untag(&state, &caller, &path, &keys).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List the MFA devices enabled for a user (ListMFADevices).
///
/// Permissions: `iam:ListMFADevices` on the user.
#[utoipa::path(tag = "mfa", params(("name" = String, Path), PageQuery), responses(
    (status = 200, body = DeviceList), (status = 400, body = ErrorResponse),
    (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[get("/users/{name}/mfa-devices")]
async fn list_for_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let params = ListParams::from_request(None, query.marker.as_deref(), query.max_items)?;
    let (user, page) = mfa::list_for_user(&state, &caller, Some(&path), &params).await?;
    let owner = user.map(|u| DeviceUser {
        arn: u.arn().to_string(),
        user_name: u.name,
        user_id: u.id,
    });
    Ok(HttpResponse::Ok().json(DeviceList::from_page(page, |d| {
        let user = owner.as_ref().map(|o| DeviceUser {
            user_name: o.user_name.clone(),
            user_id: o.user_id.clone(),
            arn: o.arn.clone(),
        });
        DeviceResponse::of(d, user)
    })))
}

/// Enable a virtual MFA device for a user with two consecutive codes
/// (EnableMFADevice). At most 8 devices per user.
///
/// Permissions: `iam:EnableMFADevice` on the user.
#[utoipa::path(tag = "mfa", params(("name" = String, Path)), request_body = EnableBody, responses(
    (status = 204), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, description = "AccessDenied, InvalidAuthenticationCode", body = ErrorResponse),
    (status = 404, body = ErrorResponse),
    (status = 409, description = "EntityAlreadyExists, LimitExceeded", body = ErrorResponse)))]
#[post("/users/{name}/mfa-devices")]
async fn enable(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<EnableBody>,
) -> ApiResult<HttpResponse> {
    let codes = CodePair {
        first: &body.authentication_code_1,
        second: &body.authentication_code_2,
    };
    mfa::enable(&state, &caller, &path, &body.serial_number, codes).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deactivate a user's MFA device (DeactivateMFADevice); the device stays
/// and can be enabled again or deleted.
///
/// Permissions: `iam:DeactivateMFADevice` on the user.
#[utoipa::path(tag = "mfa", params(("name" = String, Path), ("serial" = String, Path)), responses(
    (status = 204), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[delete("/users/{name}/mfa-devices/{serial}")]
async fn deactivate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (name, serial) = path.into_inner();
    mfa::deactivate(&state, &caller, &name, &serial).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Resynchronize a user's device with two consecutive codes, up to ten
/// minutes off the server's clock (ResyncMFADevice).
///
/// Permissions: `iam:ResyncMFADevice` on the user.
#[utoipa::path(tag = "mfa", params(("name" = String, Path), ("serial" = String, Path)), request_body = CodesBody, responses(
    (status = 204), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
    (status = 403, description = "AccessDenied, InvalidAuthenticationCode", body = ErrorResponse),
    (status = 404, body = ErrorResponse)))]
#[post("/users/{name}/mfa-devices/{serial}/resync")]
async fn resync(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<CodesBody>,
) -> ApiResult<HttpResponse> {
    let (name, serial) = path.into_inner();
    let codes = CodePair {
        first: &body.authentication_code_1,
        second: &body.authentication_code_2,
    };
    mfa::resync(&state, &caller, &name, &serial, codes).await?;
    Ok(HttpResponse::NoContent().finish())
}
