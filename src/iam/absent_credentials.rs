//! The kinds of user credential latchkey does not have: SSH public keys
//! (CodeCommit), X.509 signing certificates and service-specific
//! credentials. Tools list them before deleting a user (Terraform's
//! `force_destroy`, scanners), so each list answers as IAM does for a user
//! who has none: an empty list for an existing user, NoSuchEntity for a
//! missing one, after the same authorization as a real list.

use super::users::find_user_authorized;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::OpContext;

/// A list action of a credential kind latchkey never holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbsentCredential {
    SshPublicKeys,
    SigningCertificates,
    ServiceSpecificCredentials,
}

impl AbsentCredential {
    pub fn action(self) -> &'static str {
        match self {
            AbsentCredential::SshPublicKeys => "iam:ListSSHPublicKeys",
            AbsentCredential::SigningCertificates => "iam:ListSigningCertificates",
            AbsentCredential::ServiceSpecificCredentials => "iam:ListServiceSpecificCredentials",
        }
    }
}

/// Authorizes the list on the user and confirms the user exists; the list
/// itself is always empty.
pub async fn list(
    state: &OpContext,
    caller: &Caller,
    kind: AbsentCredential,
    user_name: &str,
) -> ApiResult<()> {
    find_user_authorized(state, caller, user_name, kind.action()).await?;
    Ok(())
}
