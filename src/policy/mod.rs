//! The policy engine: parse -> validate -> compile -> evaluate (+ explain).
//!
//! Pure: no actix, no sqlx, no I/O. The server, the CLI and the tests all
//! drive the same functions. The facts it matches are in AWS-IAM-NOTES.md
//! §3 to §6 and §12.

pub mod access;
pub mod action_keys;
pub mod budget;
pub mod compile;
mod condition;
pub mod context;
pub mod document;
pub mod error;
pub mod evaluate;
mod fasthash;
mod global_keys;
mod index;
pub mod limits;
pub mod lint;
mod pattern;
mod principal;
pub mod simulate;
pub mod validate;
mod variables;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod proptests;

pub use compile::{CompiledPolicy, PolicySource, SourceKind};
pub use context::RequestContext;
pub use document::PolicyDocument;
pub use error::PolicyError;
pub use evaluate::{
    evaluate, is_allowed, Decision, Evaluation, EvaluationRequest, Layer, MatchedStatement,
    Principal, PrincipalKind, ResourcePolicy,
};
pub use global_keys::{GlobalKey, GlobalKeys};

use serde::{Deserialize, Serialize};

/// What a document is used as. Each type has its own element rules (§3.2)
/// and its own size quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyType {
    /// Inline or managed identity policy of a user, group or role.
    Identity,
    /// A resource-based policy (names a Principal, has Resource).
    Resource,
    /// A role's trust policy (Principal required, no Resource).
    Trust,
    /// A permissions boundary (same grammar as identity).
    Boundary,
    /// An STS session policy (same grammar as identity).
    Session,
}

impl PolicyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity",
            PolicyType::Resource => "resource",
            PolicyType::Trust => "trust",
            PolicyType::Boundary => "boundary",
            PolicyType::Session => "session",
        }
    }
}

impl std::str::FromStr for PolicyType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "identity" => Ok(PolicyType::Identity),
            "resource" => Ok(PolicyType::Resource),
            "trust" => Ok(PolicyType::Trust),
            "boundary" | "permissions_boundary" => Ok(PolicyType::Boundary),
            "session" => Ok(PolicyType::Session),
            other => Err(format!(
                "unknown policy type {other:?}: expected identity, resource, trust, boundary or session"
            )),
        }
    }
}

/// The `Effect` of a statement. Case-sensitive on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// The `Version` element. A missing Version means 2008-10-17 semantics
/// (no policy-variable expansion).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum PolicyVersion {
    #[serde(rename = "2008-10-17")]
    #[default]
    V2008_10_17,
    #[serde(rename = "2012-10-17")]
    V2012_10_17,
}

impl PolicyVersion {
    /// Only 2012-10-17 expands `${...}` policy variables.
    pub fn expands_variables(self) -> bool {
        matches!(self, PolicyVersion::V2012_10_17)
    }
}
