//! The authenticated caller, as every operation receives it.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use crate::domain::Tag;
use crate::policy::{Principal, PrincipalKind};
use crate::runtime::policy_cache::PrincipalPolicies;

/// What a request made with temporary credentials carries besides the
/// identity: the session's own facts, frozen when it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// `aws:TokenIssueTime`.
    pub issued_at: String,
    pub expires_at: String,
    /// Session tags, inherited transitive ones included; they override the
    /// role's tags of the same key in `aws:PrincipalTag`.
    pub tags: Vec<Tag>,
    pub transitive_tag_keys: Vec<String>,
    /// `aws:SourceIdentity`; fixed for the whole chain.
    pub source_identity: Option<String>,
    /// The session policies as stored (JSON `[{"name","document"}]`), or
    /// None when none were passed.
    pub session_policies: Option<Arc<str>>,
    /// `aws:FederatedProvider`: the OIDC provider's ARN for a session from
    /// AssumeRoleWithWebIdentity.
    pub federated_provider: Option<String>,
    /// When MFA was authenticated for the session (ISO-8601 with
    /// milliseconds); None when it was issued without MFA.
    pub mfa_authenticated_at: Option<String>,
    /// Issued by GetSessionToken (not by a password sign-in, which makes
    /// the same kind of user session).
    pub from_get_session_token: bool,
}

impl SessionInfo {
    /// Credentials from GetSessionToken call IAM only when MFA was given
    /// (AWS-IAM-NOTES §7.5); every other session is held to its policies
    /// alone.
    pub fn may_call_iam(&self) -> bool {
        !self.from_get_session_token || self.mfa_authenticated_at.is_some()
    }
}

/// What kind of identity signed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerKind {
    /// The account's root: its long-term root key.
    Root,
    /// An IAM user, with its long-term key.
    User { user_id: String, name: String },
    /// A role session from AssumeRole (`arn:aws:sts::ACCT:assumed-role/R/S`).
    AssumedRole {
        role_id: String,
        role_name: String,
        /// The role's IAM ARN, with its path: `aws:PrincipalArn`.
        role_arn: String,
        session_name: String,
        /// The caller was itself a role session (role chaining).
        chained: bool,
        session: Arc<SessionInfo>,
    },
    /// A user's own temporary credentials (GetSessionToken or login): the
    /// user's identity and permissions, with a token issue time.
    UserSession {
        user_id: String,
        name: String,
        session: Arc<SessionInfo>,
    },
    /// An account root's GetSessionToken credentials.
    RootSession { session: Arc<SessionInfo> },
}

/// Who holds a key or session: fixed for its life, so one copy is shared
/// by every request made with it. Holds no secret.
#[derive(Debug)]
pub struct CallerIdentity {
    pub account_id: String,
    /// `arn:aws:iam::ACCT:root`, the user's ARN, or the assumed-role ARN.
    pub arn: String,
    /// `aws:userid`: the account id for root, the AIDA id for a user,
    /// `AROA…:SESSION` for a role session.
    pub user_id: String,
    pub kind: CallerKind,
    pub access_key_id: String,
    /// Whether the caller's account is the management account.
    pub is_management_account: bool,
    /// The policy engine's view of this identity, built on first use and
    /// then shared by every decision about it.
    engine_principal: OnceLock<Principal>,
    /// Its compiled policies, kept by the authorizer on first use: an
    /// identity from the credential cache is dropped with the compiled
    /// policies on every IAM write, so it never outlives what it holds.
    pub(crate) policies: OnceLock<Arc<PrincipalPolicies>>,
}

impl CallerIdentity {
    pub fn new(
        account_id: String,
        arn: String,
        user_id: String,
        kind: CallerKind,
        access_key_id: String,
        is_management_account: bool,
    ) -> Self {
        CallerIdentity {
            account_id,
            arn,
            user_id,
            kind,
            access_key_id,
            is_management_account,
            engine_principal: OnceLock::new(),
            policies: OnceLock::new(),
        }
    }

    /// The principal the policy engine matches Principal elements against.
    pub fn engine_principal(&self) -> &Principal {
        self.engine_principal.get_or_init(|| Principal {
            arn: self.arn.clone(),
            account: self.account_id.clone(),
            unique_id: self.user_id.clone(),
            kind: match &self.kind {
                CallerKind::Root | CallerKind::RootSession { .. } => PrincipalKind::Root,
                CallerKind::User { .. } | CallerKind::UserSession { .. } => PrincipalKind::User,
                CallerKind::AssumedRole {
                    role_arn, role_id, ..
                } => PrincipalKind::AssumedRole {
                    role_arn: role_arn.clone(),
                    role_unique_id: role_id.clone(),
                },
            },
        })
    }
}

/// An authenticated principal, as one request saw it: the identity of its
/// credentials (read through `Deref`) and where the request came from.
/// Cloning it is one reference count, not a dozen strings.
#[derive(Debug, Clone)]
pub struct Caller {
    identity: Arc<CallerIdentity>,
    /// The peer address (or the first X-Forwarded-For hop from a trusted proxy).
    pub source_ip: Option<IpAddr>,
    /// Whether the request came over TLS.
    pub secure_transport: bool,
}

impl std::ops::Deref for Caller {
    type Target = CallerIdentity;

    fn deref(&self) -> &CallerIdentity {
        &self.identity
    }
}

impl Caller {
    pub fn new(
        identity: CallerIdentity,
        source_ip: Option<IpAddr>,
        secure_transport: bool,
    ) -> Self {
        Caller {
            identity: Arc::new(identity),
            source_ip,
            secure_transport,
        }
    }

    /// The same identity, seen from another request's origin.
    pub fn from_origin(&self, source_ip: Option<IpAddr>, secure_transport: bool) -> Self {
        Caller {
            identity: self.identity.clone(),
            source_ip,
            secure_transport,
        }
    }

    /// The account root, with its long-term key or its own session.
    pub fn is_root(&self) -> bool {
        matches!(self.kind, CallerKind::Root | CallerKind::RootSession { .. })
    }

    /// The session facts when the caller uses temporary credentials.
    pub fn session(&self) -> Option<&SessionInfo> {
        match &self.kind {
            CallerKind::Root | CallerKind::User { .. } => None,
            CallerKind::AssumedRole { session, .. }
            | CallerKind::UserSession { session, .. }
            | CallerKind::RootSession { session } => Some(session),
        }
    }

    /// `aws:PrincipalType`.
    pub fn principal_type(&self) -> &'static str {
        match self.kind {
            CallerKind::Root | CallerKind::RootSession { .. } => "Account",
            CallerKind::User { .. } | CallerKind::UserSession { .. } => "User",
            CallerKind::AssumedRole { .. } => "AssumedRole",
        }
    }

    /// `aws:PrincipalArn`: the role's ARN (not the session's) for a role
    /// session, the caller's ARN otherwise.
    pub fn principal_arn(&self) -> &str {
        match &self.kind {
            CallerKind::AssumedRole { role_arn, .. } => role_arn,
            _ => &self.arn,
        }
    }

    /// `aws:username`: present for IAM users only, with or without a session.
    pub fn user_name(&self) -> Option<&str> {
        match &self.kind {
            CallerKind::User { name, .. } | CallerKind::UserSession { name, .. } => Some(name),
            _ => None,
        }
    }
}
