//! Effective permissions: over the action catalog, which actions a
//! principal's identity policies allow, on which resource patterns, grouped
//! by access level, with the statements that grant them.
//!
//! How denies and conditions are treated (a static view, no request):
//! - A grant (Allow statement) with a Condition is kept and marked
//!   `conditional`; an action whose every grant is conditional is
//!   `conditional` too: it is allowed only when those conditions hold.
//! - An unconditional Deny whose resources cover a grant's resources
//!   removes that grant (a Deny on `*` removes the action). Any other Deny
//!   that matches the action (conditional, or on some resources only) is
//!   listed under the action's `denies` and does not remove it.
//! - With a permissions boundary, an action no boundary Allow covers is
//!   removed; one the boundary allows only conditionally or on some
//!   resources is kept and marked `limited_by_boundary`. Boundary denies
//!   act as denies.
//! - Action patterns the catalog cannot expand (an unknown prefix, a
//!   wildcard prefix such as `*`, or NotAction) also reach actions outside
//!   the catalog: they are listed as written under `other_grants`.

use serde::Serialize;

use super::{action_glob, statement_covers, NamedDocument, StatementRef};
use crate::policy::document::{ActionElement, ResourceElement, Statement};
use crate::policy::lint::{AccessLevel, Catalog};
use crate::policy::pattern::Glob;
use crate::policy::Effect;

/// One statement's grant (or deny) of an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementGrant {
    pub statement: StatementRef,
    /// The statement's Resource patterns, or with `not_resource` the
    /// NotResource ones (everything except them).
    pub resources: Vec<String>,
    pub not_resource: bool,
    pub conditional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveAction {
    /// `prefix:Name` as the catalog spells it.
    pub action: String,
    pub grants: Vec<StatementGrant>,
    /// Denies that limit the action without removing it.
    pub denies: Vec<StatementGrant>,
    /// Allowed only when the conditions of its grants hold.
    pub conditional: bool,
    /// The boundary allows it only conditionally or on some resources.
    pub limited_by_boundary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessLevelGroup {
    pub access_level: AccessLevel,
    pub actions: Vec<EffectiveAction>,
}

/// A grant the catalog cannot expand, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherGrant {
    pub actions: Vec<String>,
    pub not_action: bool,
    #[serde(flatten)]
    pub grant: StatementGrant,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EffectivePermissions {
    /// List, Read, Write, Permissions management, Tagging; empty levels left out.
    pub access_levels: Vec<AccessLevelGroup>,
    pub other_grants: Vec<OtherGrant>,
    /// Catalog actions some Allow covers that a deny or the boundary removes.
    pub removed: Vec<String>,
}

fn grant_of(doc: &NamedDocument, index: usize, st: &Statement) -> StatementGrant {
    let (resources, not_resource) = match &st.resource {
        Some(ResourceElement::Resource(list)) => (list.clone(), false),
        Some(ResourceElement::NotResource(list)) => (list.clone(), true),
        None => (vec!["*".to_owned()], false),
    };
    StatementGrant {
        statement: StatementRef::new(doc, index, st),
        resources,
        not_resource,
        conditional: !st.condition.is_empty(),
    }
}

impl StatementGrant {
    fn covers_everything(&self) -> bool {
        !self.not_resource && self.resources.iter().any(|r| r == "*")
    }

    /// Whether this unconditional deny covers every resource of `grant`
    /// (pattern text matched as text: `arn:x:*` covers `arn:x:a/*`).
    fn removes(&self, grant: &StatementGrant) -> bool {
        if self.conditional || self.not_resource {
            return false;
        }
        if self.covers_everything() {
            return true;
        }
        if grant.not_resource {
            return false;
        }
        let globs: Vec<Glob> = self.resources.iter().map(|r| Glob::new(r)).collect();
        grant
            .resources
            .iter()
            .all(|r| globs.iter().any(|g| g.matches(r)))
    }
}

/// Statements of `effect` in `docs` covering `action`.
fn matching<'d>(
    docs: &'d [NamedDocument],
    effect: Effect,
    action: &'d str,
) -> impl Iterator<Item = StatementGrant> + 'd {
    docs.iter().flat_map(move |doc| {
        doc.document
            .statements
            .iter()
            .enumerate()
            .filter(move |(_, st)| st.effect == effect && statement_covers(st, action))
            .map(move |(i, st)| grant_of(doc, i, st))
    })
}

/// Whether an Action pattern can reach beyond the catalog: a wildcard in
/// the prefix, or a prefix the catalog does not know.
fn beyond_catalog(catalog: &Catalog, pattern: &str) -> bool {
    match pattern.split_once(':') {
        None => true,
        Some((prefix, _)) => prefix.contains(['*', '?']) || catalog.service(prefix).is_none(),
    }
}

/// Computes the effective permissions of identity documents (a user's with
/// its groups', or a role's) within an optional boundary.
pub fn effective_permissions(
    catalog: &Catalog,
    identity: &[NamedDocument],
    boundary: Option<&NamedDocument>,
) -> EffectivePermissions {
    let boundary_docs: Vec<NamedDocument> = boundary.into_iter().cloned().collect();
    let mut out = EffectivePermissions::default();
    let mut by_level: Vec<(AccessLevel, Vec<EffectiveAction>)> = Vec::new();
    for service in catalog.services() {
        for def in &service.actions {
            let action = format!("{}:{}", service.prefix, def.name);
            let mut grants: Vec<StatementGrant> =
                matching(identity, Effect::Allow, &action).collect();
            if grants.is_empty() {
                continue;
            }
            let denies: Vec<StatementGrant> = matching(identity, Effect::Deny, &action)
                .chain(matching(&boundary_docs, Effect::Deny, &action))
                .collect();
            grants.retain(|g| !denies.iter().any(|d| d.removes(g)));
            let mut limited_by_boundary = false;
            if boundary.is_some() {
                let allows: Vec<StatementGrant> =
                    matching(&boundary_docs, Effect::Allow, &action).collect();
                if allows.is_empty() {
                    grants.clear();
                }
                limited_by_boundary = !allows
                    .iter()
                    .any(|a| !a.conditional && a.covers_everything());
            }
            if grants.is_empty() {
                out.removed.push(action);
                continue;
            }
            let conditional = grants.iter().all(|g| g.conditional);
            let entry = EffectiveAction {
                action,
                grants,
                denies,
                conditional,
                limited_by_boundary,
            };
            match by_level.iter_mut().find(|(l, _)| *l == def.access_level) {
                Some((_, list)) => list.push(entry),
                None => by_level.push((def.access_level, vec![entry])),
            }
        }
    }
    by_level.sort_by_key(|(level, _)| *level);
    out.access_levels = by_level
        .into_iter()
        .map(|(access_level, mut actions)| {
            actions.sort_by(|a, b| a.action.cmp(&b.action));
            AccessLevelGroup {
                access_level,
                actions,
            }
        })
        .collect();
    for doc in identity {
        for (i, st) in doc.document.statements.iter().enumerate() {
            if st.effect != Effect::Allow {
                continue;
            }
            let (actions, not_action) = match &st.action {
                Some(ActionElement::Action(list)) => (
                    list.iter()
                        .filter(|p| beyond_catalog(catalog, p))
                        .cloned()
                        .collect::<Vec<_>>(),
                    false,
                ),
                Some(ActionElement::NotAction(list)) => (list.clone(), true),
                None => continue,
            };
            if actions.is_empty() && !not_action {
                continue;
            }
            out.other_grants.push(OtherGrant {
                actions,
                not_action,
                grant: grant_of(doc, i, st),
            });
        }
    }
    out
}

/// Whether any catalog action matches a pattern (used by tests and
/// callers that want to check a pattern against the catalog).
pub fn catalog_actions_matching(catalog: &Catalog, pattern: &str) -> Vec<String> {
    let glob = action_glob(pattern);
    catalog
        .services()
        .flat_map(|s| {
            s.actions
                .iter()
                .map(move |a| format!("{}:{}", s.prefix, a.name))
        })
        .filter(|full| glob.matches(&full.to_ascii_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::access::{DocumentKind, DocumentSource};
    use crate::policy::document::PolicyDocument;
    use crate::policy::lint::ServiceDefinition;

    fn catalog() -> Catalog {
        let mut catalog = Catalog::builtin();
        let store: ServiceDefinition = serde_json::from_value(serde_json::json!({
            "prefix": "store",
            "actions": [
                {"name": "GetObject", "access_level": "Read"},
                {"name": "PutObject", "access_level": "Write"},
                {"name": "ListBucket", "access_level": "List"},
                {"name": "PutBucketPolicy", "access_level": "Permissions management"},
                {"name": "TagObject", "access_level": "Tagging"}
            ]
        }))
        .unwrap();
        catalog.register(store).unwrap();
        catalog
    }

    fn doc(name: &str, kind: DocumentKind, json: serde_json::Value) -> NamedDocument {
        NamedDocument {
            source: DocumentSource {
                policy: name.into(),
                kind,
                attached_to: Some("user/alice".into()),
            },
            document: PolicyDocument::from_value(&json).unwrap(),
        }
    }

    fn find<'a>(e: &'a EffectivePermissions, action: &str) -> Option<&'a EffectiveAction> {
        e.access_levels
            .iter()
            .flat_map(|g| &g.actions)
            .find(|a| a.action == action)
    }

    #[test]
    fn wildcards_expand_by_level_with_their_statements() {
        let identity = [doc(
            "p",
            DocumentKind::Inline,
            serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "Reads", "Effect": "Allow", "Action": "store:Get*", "Resource": "arn:aws:store:::b/*"},
                {"Effect": "Allow", "Action": ["store:List*", "ec2:*"], "Resource": "*",
                 "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
            ]}),
        )];
        let e = effective_permissions(&catalog(), &identity, None);
        let levels: Vec<AccessLevel> = e.access_levels.iter().map(|g| g.access_level).collect();
        assert_eq!(levels, vec![AccessLevel::List, AccessLevel::Read]);
        let get = find(&e, "store:GetObject").unwrap();
        assert_eq!(get.grants[0].resources, vec!["arn:aws:store:::b/*"]);
        assert_eq!(get.grants[0].statement.sid.as_deref(), Some("Reads"));
        assert!(!get.conditional);
        let list = find(&e, "store:ListBucket").unwrap();
        assert!(list.conditional);
        assert_eq!(list.grants[0].statement.index, 1);
        assert!(find(&e, "store:PutObject").is_none());
        // ec2 is not in the catalog: listed as written.
        assert_eq!(e.other_grants.len(), 1);
        assert_eq!(e.other_grants[0].actions, vec!["ec2:*"]);
    }

    #[test]
    fn denies_remove_or_limit_and_boundary_caps() {
        let identity = [
            doc(
                "arn:aws:iam::111122223333:policy/all",
                DocumentKind::Managed,
                serde_json::json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "store:*", "Resource": "*"}
                ]}),
            ),
            doc(
                "guard",
                DocumentKind::Inline,
                serde_json::json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Deny", "Action": "store:PutBucketPolicy", "Resource": "*"},
                    {"Effect": "Deny", "Action": "store:PutObject", "Resource": "arn:aws:store:::prod/*"},
                    {"Effect": "Deny", "Action": "store:GetObject", "Resource": "*",
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                ]}),
            ),
        ];
        let e = effective_permissions(&catalog(), &identity, None);
        assert!(find(&e, "store:PutBucketPolicy").is_none());
        assert!(e.removed.contains(&"store:PutBucketPolicy".to_string()));
        let put = find(&e, "store:PutObject").unwrap();
        assert_eq!(put.denies.len(), 1);
        assert_eq!(put.denies[0].resources, vec!["arn:aws:store:::prod/*"]);
        let get = find(&e, "store:GetObject").unwrap();
        assert!(get.denies[0].conditional);
        assert!(!get.conditional);

        let boundary = doc(
            "arn:aws:iam::111122223333:policy/edge",
            DocumentKind::Boundary,
            serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "store:Get*", "Resource": "*"},
                {"Effect": "Allow", "Action": "store:List*", "Resource": "arn:aws:store:::b"}
            ]}),
        );
        let e = effective_permissions(&catalog(), &identity, Some(&boundary));
        assert!(find(&e, "store:TagObject").is_none());
        assert!(!find(&e, "store:GetObject").unwrap().limited_by_boundary);
        assert!(find(&e, "store:ListBucket").unwrap().limited_by_boundary);
    }

    #[test]
    fn not_action_is_listed_beyond_the_catalog() {
        let identity = [doc(
            "p",
            DocumentKind::Inline,
            serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
            ]}),
        )];
        let e = effective_permissions(&catalog(), &identity, None);
        assert!(find(&e, "store:GetObject").is_some());
        assert!(find(&e, "iam:GetUser").is_none());
        assert!(e.other_grants[0].not_action);
        assert_eq!(
            catalog_actions_matching(&catalog(), "store:*Object"),
            vec!["store:GetObject", "store:PutObject", "store:TagObject"]
        );
    }
}
