//! The lists of credential kinds latchkey does not hold (SSH public keys,
//! signing certificates, service-specific credentials): always empty, for
//! a user that exists (see `iam::absent_credentials`).

use super::action::{actions, user_name_or_self, Ctx, Handler, Outcome};
use super::xml::Xml;
use crate::iam::absent_credentials::{self as absent, AbsentCredential};

pub const ACTIONS: &[(&str, Handler)] = actions![
    "ListSSHPublicKeys" => list(AbsentCredential::SshPublicKeys),
    "ListSigningCertificates" => list(AbsentCredential::SigningCertificates),
    "ListServiceSpecificCredentials" => list(AbsentCredential::ServiceSpecificCredentials),
];

/// Without `UserName`, the caller's own; the root has none of these.
async fn list(c: &Ctx<'_>, kind: AbsentCredential) -> Outcome {
    match user_name_or_self(c) {
        Some(name) => absent::list(c.state, c.caller, kind, &name).await?,
        None if c.caller.is_root() => {}
        None => return Err(super::params::missing("UserName")),
    }
    let mut x = Xml::new();
    let empty = std::iter::empty::<()>();
    match kind {
        AbsentCredential::SshPublicKeys => {
            x.members("SSHPublicKeys", empty, |_, ()| {})
                .text("IsTruncated", false);
        }
        AbsentCredential::SigningCertificates => {
            x.members("Certificates", empty, |_, ()| {})
                .text("IsTruncated", false);
        }
        // This list has no pagination in IAM's shape.
        AbsentCredential::ServiceSpecificCredentials => {
            x.members("ServiceSpecificCredentials", empty, |_, ()| {});
        }
    }
    Ok(Some(x))
}
