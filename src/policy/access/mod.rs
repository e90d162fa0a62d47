//! Access analysis over given documents: who can assume a role
//! ([`trust`]) and what a principal may do ([`effective`]). Pure: the server
//! gathers the stored documents (src/iam/access_analysis.rs) and hands them
//! in; the CLI or a test can do the same.

pub mod effective;
pub mod trust;

use serde::Serialize;

use super::document::{ActionElement, PolicyDocument, Statement};
use super::pattern::Glob;

/// Where a document comes from, as analysis results name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentSource {
    /// The managed policy's ARN, or the inline policy's name.
    pub policy: String,
    pub kind: DocumentKind,
    /// The user, group or role the policy is attached to or embedded in
    /// (`user/alice`, `group/devs`); absent for a boundary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Inline,
    Managed,
    Boundary,
    Trust,
}

/// A parsed document with its source.
#[derive(Debug, Clone)]
pub struct NamedDocument {
    pub source: DocumentSource,
    pub document: PolicyDocument,
}

/// One statement of a named document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementRef {
    #[serde(flatten)]
    pub source: DocumentSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Position in the document's Statement list.
    pub index: usize,
}

impl StatementRef {
    fn new(doc: &NamedDocument, index: usize, st: &Statement) -> Self {
        StatementRef {
            source: doc.source.clone(),
            sid: st.sid.clone(),
            index,
        }
    }
}

/// Case-insensitive action glob (§3.4).
fn action_glob(pattern: &str) -> Glob {
    Glob::new(&pattern.to_ascii_lowercase())
}

/// Whether a statement's Action (or NotAction) covers `action`.
fn statement_covers(st: &Statement, action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    match &st.action {
        None => false,
        Some(ActionElement::Action(list)) => list.iter().any(|p| action_glob(p).matches(&action)),
        Some(ActionElement::NotAction(list)) => {
            !list.iter().any(|p| action_glob(p).matches(&action))
        }
    }
}
