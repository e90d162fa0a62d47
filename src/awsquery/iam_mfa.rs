//! Virtual MFA devices over the query protocol, with IAM's shapes: the
//! seed comes back once, from CreateVirtualMFADevice, base64-encoded as
//! AWS sends blobs (the SDKs decode it to the base32 text), with the same
//! seed as a QR code in a PNG (`QRCodePNG`).

use base64::Engine as _;

use super::action::{actions, user_name_or_self, user_name_required, Ctx, Handler, Outcome};
use super::render;
use super::xml::Xml;
use crate::iam::mfa_devices::{self as mfa, Assignment, CodePair};
use crate::store::ListParams;

pub const ACTIONS: &[(&str, Handler)] = actions![
    "CreateVirtualMFADevice" => create,
    "EnableMFADevice" => enable,
    "DeactivateMFADevice" => deactivate,
    "ResyncMFADevice" => resync,
    "DeleteVirtualMFADevice" => delete,
    "ListMFADevices" => list_for_user,
    "ListVirtualMFADevices" => list_virtual,
    "TagMFADevice" => tag,
    "UntagMFADevice" => untag,
    "ListMFADeviceTags" => list_tags,
];

const SERIAL: &str = "SerialNumber";

/// `Marker` and `MaxItems` (these lists have no path filter).
fn paging(c: &Ctx<'_>) -> Result<ListParams, crate::error::ApiError> {
    let p = c.params;
    Ok(ListParams::from_request(
        None,
        p.get("Marker"),
        p.int("MaxItems")?,
    )?)
}

async fn create(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let (device, seed, tags) = mfa::create(
        c.state,
        c.caller,
        p.required("VirtualMFADeviceName")?,
        p.get("Path"),
        p.tags("Tags")?,
    )
    .await?;
    let base64 = &base64::engine::general_purpose::STANDARD;
    let encoded = base64.encode(seed.expose());
    let qr_code = base64.encode(seed.qr_code_png(&device.account_id, &device.name)?);
    let mut x = Xml::new();
    x.node("VirtualMFADevice", |d| {
        d.text("SerialNumber", &device.serial)
            .text("Base32StringSeed", &encoded)
            .text("QRCodePNG", &qr_code);
        if !tags.is_empty() {
            render::tags(d, &tags);
        }
    });
    Ok(Some(x))
}

async fn enable(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let user = p.required("UserName")?;
    let codes = CodePair {
        first: p.required("AuthenticationCode1")?,
        second: p.required("AuthenticationCode2")?,
    };
    mfa::enable(c.state, c.caller, user, p.required(SERIAL)?, codes).await?;
    Ok(None)
}

async fn resync(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let user = p.required("UserName")?;
    let codes = CodePair {
        first: p.required("AuthenticationCode1")?,
        second: p.required("AuthenticationCode2")?,
    };
    mfa::resync(c.state, c.caller, user, p.required(SERIAL)?, codes).await?;
    Ok(None)
}

async fn deactivate(c: &Ctx<'_>) -> Outcome {
    let user = user_name_required(c)?;
    mfa::deactivate(c.state, c.caller, &user, c.params.required(SERIAL)?).await?;
    Ok(None)
}

async fn delete(c: &Ctx<'_>) -> Outcome {
    mfa::delete(c.state, c.caller, c.params.required(SERIAL)?).await?;
    Ok(None)
}

async fn list_for_user(c: &Ctx<'_>) -> Outcome {
    let params = paging(c)?;
    let name = user_name_or_self(c);
    let (user, page) = mfa::list_for_user(c.state, c.caller, name.as_deref(), &params).await?;
    let user_name = mfa::user_name_of(user.as_ref());
    let mut x = Xml::new();
    x.members("MFADevices", &page.items, |m, d| {
        m.text("UserName", user_name)
            .text(SERIAL, &d.serial)
            .opt("EnableDate", d.enabled_at.as_deref());
    });
    render::page_end(&mut x, &page);
    Ok(Some(x))
}

async fn list_virtual(c: &Ctx<'_>) -> Outcome {
    let params = paging(c)?;
    let status = Assignment::parse(c.params.get("AssignmentStatus"))?;
    let page = mfa::list_virtual(c.state, c.caller, status, &params).await?;
    let mut x = Xml::new();
    x.members("VirtualMFADevices", &page.items, |m, row| {
        m.text(SERIAL, &row.device.serial);
        if let (Some(uid), Some(name), Some(path), Some(created)) = (
            &row.device.user_id,
            &row.user_name,
            &row.user_path,
            &row.user_created_at,
        ) {
            let arn = crate::domain::Arn::iam(&row.device.account_id, "user", path, name);
            m.node("User", |u| {
                u.text("Path", path)
                    .text("UserName", name)
                    .text("UserId", uid)
                    .text("Arn", arn)
                    .text("CreateDate", created);
            });
        }
        m.opt("EnableDate", row.device.enabled_at.as_deref());
    });
    render::page_end(&mut x, &page);
    Ok(Some(x))
}

async fn tag(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    mfa::tag(c.state, c.caller, p.required(SERIAL)?, &p.tags("Tags")?).await?;
    Ok(None)
}

async fn untag(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    mfa::untag(c.state, c.caller, p.required(SERIAL)?, &p.list("TagKeys")).await?;
    Ok(None)
}

async fn list_tags(c: &Ctx<'_>) -> Outcome {
    let tags = mfa::list_tags(c.state, c.caller, c.params.required(SERIAL)?).await?;
    let mut x = Xml::new();
    render::tags(&mut x, &tags);
    x.text("IsTruncated", false);
    Ok(Some(x))
}
