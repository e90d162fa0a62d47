//! The authenticated caller, as every operation receives it.

use std::net::IpAddr;

/// What kind of identity signed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerKind {
    /// The account's root: its long-term root key.
    Root,
    /// An IAM user, with its long-term key.
    User { user_id: String, name: String },
}

/// An authenticated principal. Holds no secret.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    /// `arn:aws:iam::ACCT:root` or the user's ARN.
    pub arn: String,
    /// `aws:userid`: the account id for root, the AIDA id for a user.
    pub user_id: String,
    pub kind: CallerKind,
    pub access_key_id: String,
    /// Whether the caller's account is the management account.
    pub is_management_account: bool,
    /// The peer address (or the first X-Forwarded-For hop from a trusted proxy).
    pub source_ip: Option<IpAddr>,
    /// Whether the request came over TLS.
    pub secure_transport: bool,
}

impl Caller {
    pub fn is_root(&self) -> bool {
        matches!(self.kind, CallerKind::Root)
    }

    /// `aws:PrincipalType`.
    pub fn principal_type(&self) -> &'static str {
        match self.kind {
            CallerKind::Root => "Account",
            CallerKind::User { .. } => "User",
        }
    }
}
