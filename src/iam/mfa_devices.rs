//! Virtual MFA devices (RFC 6238 TOTP): create one (its seed returned
//! once), enable it for a user with two consecutive codes, resync,
//! deactivate, delete, list and tag them, with IAM's shapes, errors and
//! limits (8 devices in use per user). Enable, deactivate, resync and
//! ListMFADevices act on the user, as IAM authorizes them; create, delete
//! and the tag calls on the device's ARN; ListVirtualMFADevices on `*`.
//!
//! A code is accepted once: verifying finds its time step, and the write
//! that uses it moves the device's last accepted step forward only if the
//! step is later (`AuditTx::accept_mfa_step`), in the transaction of what
//! the code was for. Seeds and codes never reach an audit record or a log.

use serde_json::json;
use time::OffsetDateTime;

use super::users::find_user_authorized;
use super::{authorize_found, authorize_with, parse_name, parse_path, ActionContext};
use crate::audit::{audited, AuditEvent};
use crate::auth::totp;
use crate::auth::{Caller, CallerKind};
use crate::domain::mfa::serial_is_valid;
use crate::domain::tags::{validate_tags, MAX_TAGS};
use crate::domain::{now, Arn, EntityKind, MfaDevice, MfaDeviceRow, Tag, User};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;
use crate::store::{paginate, ListParams, Page};

/// IAM's quota: MFA devices in use per user.
pub const MAX_IN_USE_PER_USER: i64 = 8;

/// A seed as handed out once by CreateVirtualMFADevice: base32 text.
pub struct Seed(String);

impl Seed {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The `otpauth://` URI authenticator apps read from a QR code.
    pub fn otpauth_uri(&self, account_alias: &str, name: &str) -> String {
        let label = format!("{account_alias}:{name}");
        let label =
            percent_encoding::utf8_percent_encode(&label, percent_encoding::NON_ALPHANUMERIC);
        format!(
            "otpauth://totp/{label}?secret={}&issuer=latchkey&algorithm=SHA1&digits=6&period=30",
            self.0
        )
    }

    /// [`Self::otpauth_uri`] as a QR code in a PNG (`QRCodePNG`).
    pub fn qr_code_png(&self, account_alias: &str, name: &str) -> ApiResult<Vec<u8>> {
        super::mfa_qr::qr_code_png(&self.otpauth_uri(account_alias, name))
            .map_err(ApiError::Unexpected)
    }
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(***)")
    }
}

/// `ListVirtualMFADevices`' AssignmentStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment {
    Assigned,
    Unassigned,
    Any,
}

impl Assignment {
    pub fn parse(s: Option<&str>) -> ApiResult<Self> {
        match s {
            None | Some("Any") => Ok(Assignment::Any),
            Some("Assigned") => Ok(Assignment::Assigned),
            Some("Unassigned") => Ok(Assignment::Unassigned),
            Some(other) => Err(crate::sts::model_error(
                other,
                "assignmentStatus",
                "Member must satisfy enum value set: [Assigned, Unassigned, Any]",
            )),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Assignment::Assigned => "Assigned",
            Assignment::Unassigned => "Unassigned",
            Assignment::Any => "Any",
        }
    }
}

fn no_such(serial: &str) -> ApiError {
    ApiError::NoSuchEntity(format!(
        "MFA device with serial number {serial} does not exist."
    ))
}

fn check_serial(serial: &str) -> ApiResult<()> {
    if serial_is_valid(serial) {
        return Ok(());
    }
    Err(crate::sts::model_error(
        serial,
        "serialNumber",
        "Member must have length between 9 and 256 and satisfy regular expression pattern: [\\w+=/:,.@-]+",
    ))
}

fn check_code(code: &str, field: &str) -> ApiResult<()> {
    if totp::is_code_shaped(code) {
        return Ok(());
    }
    // The value is a secret: the message does not echo it.
    Err(ApiError::ValidationError(format!(
        "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length 6 and satisfy regular expression pattern: [\\d]+"
    )))
}

fn invalid_codes() -> ApiError {
    ApiError::InvalidAuthenticationCode("Authentication code for device is not valid.".into())
}

/// The device a serial names in the caller's account, or NoSuchEntity.
async fn find_device(state: &OpContext, account_id: &str, serial: &str) -> ApiResult<MfaDevice> {
    check_serial(serial)?;
    state
        .store
        .get_mfa_device(serial)
        .await?
        .filter(|d| d.account_id == account_id)
        .ok_or_else(|| no_such(serial))
}

/// Finds a device and authorizes `cx.action` on its ARN with its tags (403
/// before 404, as elsewhere).
async fn find_device_authorized(
    state: &OpContext,
    caller: &Caller,
    serial: &str,
    cx: ActionContext<'_>,
) -> ApiResult<MfaDevice> {
    let found = find_device(state, &caller.account_id, serial).await;
    if let Err(e @ ApiError::ValidationError(_)) = found {
        return Err(e);
    }
    authorize_found(
        state,
        caller,
        cx,
        found,
        |d, cx| {
            cx.target(&d.serial, None);
            d.serial.clone()
        },
        || serial.to_string(),
    )
    .await
}

fn open_seed(state: &OpContext, device: &MfaDevice) -> ApiResult<Vec<u8>> {
    let text = state
        .master_key
        .open(&device.serial, &device.seed_ciphertext)
        .map_err(ApiError::Unexpected)?;
    totp::base32_decode(&text)
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("a stored MFA seed is not base32")))
}

fn server_step() -> i64 {
    totp::step_at(OffsetDateTime::now_utc().unix_timestamp())
}

pub async fn create(
    state: &OpContext,
    caller: &Caller,
    name: &str,
    path: Option<&str>,
    tags: Vec<Tag>,
) -> ApiResult<(MfaDevice, Seed, Vec<Tag>)> {
    let name = parse_name(EntityKind::MfaDevice, name)?;
    let path = parse_path(path)?;
    validate_tags(&tags).map_err(ApiError::ValidationError)?;
    let serial = Arn::iam(&caller.account_id, "mfa", path.as_str(), name.as_str()).to_string();
    let cx = ActionContext::new("iam:CreateVirtualMFADevice").request_tags(&tags);
    authorize_with(state, caller, &serial, cx).await?;
    let seed = Seed(totp::generate_seed());
    let device = MfaDevice {
        seed_ciphertext: state
            .master_key
            .seal(&serial, seed.expose())
            .map_err(ApiError::Unexpected)?,
        serial: serial.clone(),
        account_id: caller.account_id.clone(),
        name: name.as_str().to_string(),
        path: path.as_str().to_string(),
        user_id: None,
        enabled_at: None,
        last_step: None,
        step_offset: 0,
        created_at: now(),
    };
    let event = AuditEvent::by(caller, "iam:CreateVirtualMFADevice", serial).params(json!({
        "virtual_mfa_device_name": device.name,
        "path": device.path,
        "tags": tags,
    }));
    audited(state, event, async |tx| {
        tx.insert_mfa_device(&device, &tags).await
    })
    .await?;
    tracing::info!(serial = %device.serial, by = %caller.arn, "virtual MFA device created");
    Ok((device, seed, tags))
}

/// The two consecutive codes of an enable or a resync, shape-checked.
pub struct CodePair<'a> {
    pub first: &'a str,
    pub second: &'a str,
}

impl CodePair<'_> {
    fn check(&self) -> ApiResult<()> {
        check_code(self.first, "authenticationCode1")?;
        check_code(self.second, "authenticationCode2")
    }
}

pub async fn enable(
    state: &OpContext,
    caller: &Caller,
    user_name: &str,
    serial: &str,
    codes: CodePair<'_>,
) -> ApiResult<()> {
    check_serial(serial)?;
    codes.check()?;
    let user = find_user_authorized(state, caller, user_name, "iam:EnableMFADevice").await?;
    let device = find_device(state, &caller.account_id, serial).await?;
    if device.user_id.is_some() {
        return Err(ApiError::EntityAlreadyExists(
            "MFA device is already in use.".into(),
        ));
    }
    let event = AuditEvent::by(caller, "iam:EnableMFADevice", user.arn().to_string())
        .params(json!({ "serial_number": serial }));
    let seed = open_seed(state, &device)?;
    // A generous window: the codes were typed by hand, one after the other.
    let step = totp::find_consecutive(&seed, server_step(), 2, codes.first, codes.second);
    let Some(step) = step else {
        let e = invalid_codes();
        state.audit.record(event.failed_with(&e));
        return Err(e);
    };
    audited(state, event, async |tx| {
        if tx.lock_user_mfa_devices(&user.id).await? >= MAX_IN_USE_PER_USER {
            return Err(ApiError::LimitExceeded(format!(
                "Cannot exceed quota for MFADevicesInUsePerUser: {MAX_IN_USE_PER_USER}"
            )));
        }
        match tx
            .enable_mfa_device(serial, &user.id, &now(), step, 0)
            .await?
        {
            true => Ok(()),
            // Assigned meanwhile, or these codes were used already.
            false => Err(invalid_codes()),
        }
    })
    .await?;
    tracing::info!(serial = %serial, user = %user.arn(), "MFA device enabled");
    Ok(())
}

/// The device `serial` enabled for `user`, or NoSuchEntity.
async fn device_of_user(state: &OpContext, user: &User, serial: &str) -> ApiResult<MfaDevice> {
    let device = find_device(state, &user.account_id, serial).await?;
    match device.user_id.as_deref() == Some(user.id.as_str()) {
        true => Ok(device),
        false => Err(no_such(serial)),
    }
}

pub async fn deactivate(
    state: &OpContext,
    caller: &Caller,
    user_name: &str,
    serial: &str,
) -> ApiResult<()> {
    check_serial(serial)?;
    let user = find_user_authorized(state, caller, user_name, "iam:DeactivateMFADevice").await?;
    device_of_user(state, &user, serial).await?;
    let event = AuditEvent::by(caller, "iam:DeactivateMFADevice", user.arn().to_string())
        .params(json!({ "serial_number": serial }));
    audited(state, event, async |tx| {
        match tx.deactivate_mfa_device(serial, &user.id).await? {
            true => Ok(()),
            false => Err(no_such(serial)),
        }
    })
    .await?;
    tracing::info!(serial = %serial, user = %user.arn(), "MFA device deactivated");
    Ok(())
}

pub async fn resync(
    state: &OpContext,
    caller: &Caller,
    user_name: &str,
    serial: &str,
    codes: CodePair<'_>,
) -> ApiResult<()> {
    check_serial(serial)?;
    codes.check()?;
    let user = find_user_authorized(state, caller, user_name, "iam:ResyncMFADevice").await?;
    let device = device_of_user(state, &user, serial).await?;
    let event = AuditEvent::by(caller, "iam:ResyncMFADevice", user.arn().to_string())
        .params(json!({ "serial_number": serial }));
    let seed = open_seed(state, &device)?;
    let server = server_step();
    let found = totp::find_consecutive(
        &seed,
        server,
        totp::RESYNC_WINDOW,
        codes.first,
        codes.second,
    );
    let Some(step) = found else {
        let e = invalid_codes();
        state.audit.record(event.failed_with(&e));
        return Err(e);
    };
    // The newer code is the device's current one: its clock is this many
    // steps from the server's.
    let offset = step - server;
    audited(state, event, async |tx| {
        match tx.resync_mfa_device(serial, &user.id, step, offset).await? {
            true => Ok(()),
            false => Err(invalid_codes()),
        }
    })
    .await
}

pub async fn delete(state: &OpContext, caller: &Caller, serial: &str) -> ApiResult<()> {
    let cx = ActionContext::new("iam:DeleteVirtualMFADevice");
    let device = find_device_authorized(state, caller, serial, cx).await?;
    if device.user_id.is_some() {
        return Err(ApiError::DeleteConflict(
            "MFA VirtualDevice in use. Must deactivate first.".into(),
        ));
    }
    let event = AuditEvent::by(caller, "iam:DeleteVirtualMFADevice", serial.to_string());
    audited(state, event, async |tx| {
        match tx.delete_mfa_device(serial).await? {
            true => Ok(()),
            false => Err(ApiError::DeleteConflict(
                "MFA VirtualDevice in use. Must deactivate first.".into(),
            )),
        }
    })
    .await?;
    tracing::info!(serial = %serial, by = %caller.arn, "virtual MFA device deleted");
    Ok(())
}

/// ListMFADevices: the devices enabled for a user (None: the caller's own;
/// the root has none here).
pub async fn list_for_user(
    state: &OpContext,
    caller: &Caller,
    user_name: Option<&str>,
    params: &ListParams,
) -> ApiResult<(Option<User>, Page<MfaDevice>)> {
    let own = match &caller.kind {
        CallerKind::User { name, .. } | CallerKind::UserSession { name, .. } => Some(name.as_str()),
        _ => None,
    };
    let Some(name) = user_name.or(own) else {
        if caller.is_root() {
            let empty = paginate(Vec::new(), params, |d: &MfaDevice| d.serial.clone());
            return Ok((None, empty));
        }
        return Err(ApiError::ValidationError(
            "Must specify userName when calling with non-User credentials".into(),
        ));
    };
    let user = find_user_authorized(state, caller, name, "iam:ListMFADevices").await?;
    let rows = state
        .store
        .list_user_mfa_devices(&user.id, &params.after, params.fetch_limit())
        .await?;
    let page = paginate(rows, params, |d| d.serial.clone());
    Ok((Some(user), page))
}

pub async fn list_virtual(
    state: &OpContext,
    caller: &Caller,
    status: Assignment,
    params: &ListParams,
) -> ApiResult<Page<MfaDeviceRow>> {
    super::authorize(state, caller, "iam:ListVirtualMFADevices", "*").await?;
    let rows = state
        .store
        .list_virtual_mfa_devices(
            &caller.account_id,
            status.as_str(),
            &params.after,
            params.fetch_limit(),
        )
        .await?;
    Ok(paginate(rows, params, |d| d.device.serial.clone()))
}

pub async fn tag(state: &OpContext, caller: &Caller, serial: &str, tags: &[Tag]) -> ApiResult<()> {
    let action = "iam:TagMFADevice";
    let cx = ActionContext::new(action).request_tags(tags);
    let d = find_device_authorized(state, caller, serial, cx).await?;
    validate_tags(tags).map_err(ApiError::ValidationError)?;
    let event = AuditEvent::by(caller, action, d.serial.clone()).params(json!({ "tags": tags }));
    audited(state, event, async |tx| {
        if tx.tag_entity(&d.serial, tags, MAX_TAGS).await? {
            Ok(())
        } else {
            Err(ApiError::LimitExceeded(format!(
                "The number of tags has reached the maximum limit of {MAX_TAGS}."
            )))
        }
    })
    .await
}

pub async fn untag(
    state: &OpContext,
    caller: &Caller,
    serial: &str,
    keys: &[String],
) -> ApiResult<()> {
    let action = "iam:UntagMFADevice";
    let cx = ActionContext::new(action).removed_tag_keys(keys);
    let d = find_device_authorized(state, caller, serial, cx).await?;
    let event =
        AuditEvent::by(caller, action, d.serial.clone()).params(json!({ "tag_keys": keys }));
    audited(state, event, async |tx| {
        tx.untag_entity(&d.serial, keys).await
    })
    .await
}

pub async fn list_tags(state: &OpContext, caller: &Caller, serial: &str) -> ApiResult<Vec<Tag>> {
    let cx = ActionContext::new("iam:ListMFADeviceTags");
    let d = find_device_authorized(state, caller, serial, cx).await?;
    Ok(state.store.list_tags(&d.serial).await?)
}

/// A code that matched a device enabled for a user, not yet accepted:
/// `accept` (in the transaction of what the code is for) uses it up.
#[derive(Debug, Clone)]
pub struct MatchedCode {
    pub serial: String,
    pub user_id: String,
    pub step: i64,
}

impl MatchedCode {
    /// Moves the device's replay guard to this code's step; false when
    /// the code (or a later one) was accepted already.
    pub async fn accept(&self, tx: &mut crate::store::audit::AuditTx) -> ApiResult<bool> {
        Ok(tx
            .accept_mfa_step(&self.serial, &self.user_id, self.step)
            .await?)
    }
}

/// Checks a sign-in code (GetSessionToken, AssumeRole, login) against the
/// user's device `serial`, or, without one, each device enabled for the
/// user. None when no enabled device of the user has that code now (within
/// a step either side of the device's clock).
pub async fn match_code(
    state: &OpContext,
    user_id: &str,
    serial: Option<&str>,
    code: &str,
) -> ApiResult<Option<MatchedCode>> {
    if !totp::is_code_shaped(code) {
        return Ok(None);
    }
    let devices = match serial {
        Some(s) => state
            .store
            .get_mfa_device(s)
            .await?
            .filter(|d| d.user_id.as_deref() == Some(user_id))
            .into_iter()
            .collect(),
        None => {
            state
                .store
                .list_user_mfa_devices(user_id, "", MAX_IN_USE_PER_USER)
                .await?
        }
    };
    let server = server_step();
    for device in devices {
        let seed = open_seed(state, &device)?;
        let now = server + device.step_offset;
        if let Some(step) = totp::find_step(&seed, now, totp::SIGN_IN_WINDOW, code) {
            return Ok(Some(MatchedCode {
                serial: device.serial,
                user_id: user_id.to_string(),
                step,
            }));
        }
    }
    Ok(None)
}

/// Whether the user has a device enabled (login then asks for a code).
pub async fn user_has_device(state: &OpContext, user_id: &str) -> ApiResult<bool> {
    Ok(state.store.count_user_mfa_devices(user_id).await? > 0)
}

/// The user a ListMFADevices reply names (for the XML's UserName).
pub fn user_name_of(user: Option<&User>) -> &str {
    user.map_or("", |u| u.name.as_str())
}
