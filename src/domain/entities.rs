//! The entities as the store keeps them. Wire shapes live in api/.

use super::Arn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub is_management: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub permissions_boundary: Option<String>,
    pub created_at: String,
}

impl User {
    pub fn arn(&self) -> Arn {
        Arn::iam(&self.account_id, "user", &self.path, &self.name)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Group {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub created_at: String,
}

impl Group {
    pub fn arn(&self) -> Arn {
        Arn::iam(&self.account_id, "group", &self.path, &self.name)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Role {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    /// As stored: user and role principals pinned to their unique ids.
    pub trust_policy: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub permissions_boundary: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub last_used_region: Option<String>,
}

impl Role {
    pub fn arn(&self) -> Arn {
        Arn::iam(&self.account_id, "role", &self.path, &self.name)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ManagedPolicy {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub arn: String,
    pub description: Option<String>,
    pub default_version_id: String,
    pub next_version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl ManagedPolicy {
    pub fn is_aws_managed(&self) -> bool {
        self.account_id == "aws"
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicyVersion {
    pub policy_id: String,
    pub version_id: String,
    pub document: String,
    pub created_at: String,
}

/// A long-term access key. The secret stays encrypted here; it is only
/// decrypted to check a signature and never serialized.
#[derive(Clone, sqlx::FromRow)]
pub struct AccessKey {
    pub access_key_id: String,
    pub account_id: String,
    pub user_id: Option<String>,
    pub secret_ciphertext: Vec<u8>,
    pub status: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub last_used_service: Option<String>,
    pub last_used_region: Option<String>,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("user_id", &self.user_id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, sqlx::FromRow)]
pub struct LoginProfile {
    pub user_id: String,
    pub password_hash: String,
    pub password_reset_required: bool,
    pub created_at: String,
}

/// The three kinds of principal that hold inline policies and attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyHolder {
    User,
    Group,
    Role,
}

impl PolicyHolder {
    pub fn noun(self) -> &'static str {
        match self {
            PolicyHolder::User => "user",
            PolicyHolder::Group => "group",
            PolicyHolder::Role => "role",
        }
    }
}
