//! The action catalog: which actions a service has, their access level,
//! resource types and condition keys (the shape of AWS's Service
//! Authorization Reference).
//!
//! `iam`, `sts` and `latchkey` are built in ([`Catalog::builtin`]); a
//! platform adds its own services with [`Catalog::register`] (the server's
//! `POST /v1/services` feeds it). Only *known* services are
//! judged: an action of an unknown prefix stays valid, because AWS accepts
//! any vendor.
//!
//! Besides lint, the catalog is what effective-permissions and trust
//! analysis need: [`Catalog::expand`] turns `iam:Get*` into the concrete
//! actions with their access levels, and [`Catalog::condition_key`] tells
//! whether a key is single- or multivalued.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::policy::pattern::Glob;

/// AWS's access-level classification of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AccessLevel {
    List,
    Read,
    Write,
    #[serde(rename = "Permissions management", alias = "PermissionsManagement")]
    PermissionsManagement,
    Tagging,
}

impl AccessLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Tagging => "Tagging",
        }
    }
}

/// The value type of a condition key, as the Service Authorization Reference
/// names it (`ArrayOf...` means multivalued).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyType {
    String,
    ArrayOfString,
    #[serde(rename = "ARN")]
    Arn,
    #[serde(rename = "ArrayOfARN")]
    ArrayOfArn,
    Numeric,
    ArrayOfNumeric,
    Date,
    #[serde(alias = "Boolean")]
    Bool,
    #[serde(rename = "IPAddress")]
    IpAddress,
    Binary,
}

impl KeyType {
    pub fn is_multivalued(self) -> bool {
        matches!(
            self,
            KeyType::ArrayOfString | KeyType::ArrayOfArn | KeyType::ArrayOfNumeric
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionKeyDefinition {
    /// `iam:PassedToService`, or a template `iam:ResourceTag/${TagKey}`.
    pub name: String,
    #[serde(rename = "type")]
    pub key_type: KeyType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDefinition {
    /// The action name without prefix: `GetUser`.
    pub name: String,
    pub access_level: AccessLevel,
    #[serde(default)]
    pub resource_types: Vec<String>,
    #[serde(default)]
    pub condition_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDefinition {
    /// The action prefix: `iam`, `s3`, `myplatform`.
    pub prefix: String,
    pub actions: Vec<ActionDefinition>,
    /// Keys the service's actions may use, with their types.
    #[serde(default)]
    pub condition_keys: Vec<ConditionKeyDefinition>,
}

/// Why a service definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("service prefix {0:?} is not valid: use letters, digits, '-' and '.'")]
    InvalidPrefix(String),
    #[error("action name {0:?} is not valid: use letters and digits")]
    InvalidAction(String),
    #[error("action {0:?} is listed twice")]
    DuplicateAction(String),
    #[error("condition key {0:?} is not valid: write it as prefix:Name")]
    InvalidConditionKey(String),
}

/// One catalog action with its service.
#[derive(Debug, Clone, Copy)]
pub struct ActionRef<'a> {
    pub service: &'a ServiceDefinition,
    pub action: &'a ActionDefinition,
}

impl<'a> ActionRef<'a> {
    /// `iam:GetUser`.
    pub fn full_name(&self) -> String {
        format!("{}:{}", self.service.prefix, self.action.name)
    }

    /// Every condition key AWS lists for the action: its own, and those of
    /// its resource types (`aws:ResourceTag/${TagKey}` on `user`...).
    /// Resource-type keys are known for the built-in services only.
    pub fn all_condition_keys(self) -> impl Iterator<Item = &'a str> + 'a {
        let prefix = self.service.prefix.as_str();
        let of_types = self.action.resource_types.iter().flat_map(move |rtype| {
            super::catalog_builtin::RESOURCE_TYPE_KEYS
                .iter()
                .filter(move |(p, t, _)| p.eq_ignore_ascii_case(prefix) && t == rtype)
                .flat_map(|(_, _, keys)| keys.split(','))
        });
        self.action
            .condition_keys
            .iter()
            .map(String::as_str)
            .chain(of_types)
    }
}

/// What an action pattern means against the catalog.
#[derive(Debug)]
pub enum Expansion<'a> {
    /// The prefix is not in the catalog (or is a wildcard): nothing to judge.
    UnknownService,
    /// The catalog actions it matches (possibly none).
    Actions(Vec<ActionRef<'a>>),
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Keyed by the lower-cased prefix: action prefixes are case-insensitive.
    services: BTreeMap<String, ServiceDefinition>,
}

impl Catalog {
    pub fn empty() -> Self {
        Catalog::default()
    }

    /// `iam`, `sts` and `latchkey`.
    pub fn builtin() -> Self {
        // Inserted without `register`'s checks, which a unit test runs
        // over these definitions instead of panicking at run time.
        let mut catalog = Catalog::empty();
        for service in super::catalog_builtin::services() {
            catalog
                .services
                .insert(service.prefix.to_ascii_lowercase(), service);
        }
        catalog
    }

    /// Adds or replaces a service. Replacing lets a platform update its own
    /// definition; it may also override a built-in one, on purpose.
    pub fn register(&mut self, service: ServiceDefinition) -> Result<(), CatalogError> {
        let prefix_ok = !service.prefix.is_empty()
            && service
                .prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !prefix_ok {
            return Err(CatalogError::InvalidPrefix(service.prefix));
        }
        let mut seen = std::collections::HashSet::new();
        for action in &service.actions {
            if action.name.is_empty() || !action.name.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(CatalogError::InvalidAction(action.name.clone()));
            }
            if !seen.insert(action.name.to_ascii_lowercase()) {
                return Err(CatalogError::DuplicateAction(action.name.clone()));
            }
        }
        if let Some(bad) = service.condition_keys.iter().find(|k| {
            !k.name
                .split_once(':')
                .is_some_and(|(p, n)| !p.is_empty() && !n.is_empty())
        }) {
            return Err(CatalogError::InvalidConditionKey(bad.name.clone()));
        }
        self.services
            .insert(service.prefix.to_ascii_lowercase(), service);
        Ok(())
    }

    pub fn services(&self) -> impl Iterator<Item = &ServiceDefinition> {
        self.services.values()
    }

    pub fn service(&self, prefix: &str) -> Option<&ServiceDefinition> {
        self.services.get(&prefix.to_ascii_lowercase())
    }

    /// The catalog entry of a concrete action such as `IAM:getuser`.
    pub fn action(&self, action: &str) -> Option<ActionRef<'_>> {
        let (prefix, name) = action.split_once(':')?;
        let service = self.service(prefix)?;
        service
            .actions
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
            .map(|action| ActionRef { service, action })
    }

    /// Expands an action pattern (`iam:Get*`, `sts:AssumeRole`) to the
    /// catalog actions it matches, case-insensitively as IAM does.
    pub fn expand(&self, pattern: &str) -> Expansion<'_> {
        let Some((prefix, name)) = pattern.split_once(':') else {
            return Expansion::UnknownService;
        };
        let Some(service) = self.service(prefix) else {
            return Expansion::UnknownService;
        };
        let glob = Glob::new(&name.to_ascii_lowercase());
        Expansion::Actions(
            service
                .actions
                .iter()
                .filter(|a| glob.matches(&a.name.to_ascii_lowercase()))
                .map(|action| ActionRef { service, action })
                .collect(),
        )
    }

    /// A condition key of a catalog service, matching templates such as
    /// `iam:ResourceTag/${TagKey}` by their fixed part. Case-insensitive.
    pub fn condition_key(&self, key: &str) -> Option<&ConditionKeyDefinition> {
        let (prefix, _) = key.split_once(':')?;
        let service = self.service(prefix)?;
        let key = key.to_ascii_lowercase();
        service.condition_keys.iter().find(|k| {
            let name = k.name.to_ascii_lowercase();
            match name.split_once("${") {
                Some((fixed, _)) => key.starts_with(fixed) && key.len() > fixed.len(),
                None => name == key,
            }
        })
    }

    /// The closest action name of the service, for "did you mean" messages.
    pub fn closest_action(&self, action: &str) -> Option<String> {
        let (prefix, name) = action.split_once(':')?;
        let service = self.service(prefix)?;
        let name = name.to_ascii_lowercase();
        service
            .actions
            .iter()
            .map(|a| (edit_distance(&name, &a.name.to_ascii_lowercase()), a))
            .filter(|(d, _)| *d <= 2)
            .min_by_key(|(d, _)| *d)
            .map(|(_, a)| format!("{}:{}", service.prefix, a.name))
    }
}

/// Levenshtein distance on bytes; action names are ASCII.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_services_and_levels() {
        let catalog = Catalog::builtin();
        for prefix in ["iam", "sts", "latchkey"] {
            assert!(catalog.service(prefix).is_some(), "{prefix}");
        }
        let pass = catalog.action("IAM:passrole").unwrap();
        assert_eq!(pass.full_name(), "iam:PassRole");
        assert_eq!(pass.action.access_level, AccessLevel::Write);
        let attach = catalog.action("iam:AttachRolePolicy").unwrap();
        assert_eq!(
            attach.action.access_level,
            AccessLevel::PermissionsManagement
        );
        for name in [
            "latchkey:Authorize",
            "latchkey:ReadAudit",
            "latchkey:ReadMetrics",
            "latchkey:CreateAccount",
            "latchkey:ListAccounts",
            "latchkey:GetAccount",
            "latchkey:DeleteAccount",
            "latchkey:ValidatePolicy",
            "latchkey:PutService",
            "latchkey:ListServices",
            "latchkey:AnalyzeAccess",
            "sts:AssumeRole",
            "sts:GetCallerIdentity",
            "sts:TagSession",
        ] {
            assert!(catalog.action(name).is_some(), "{name}");
        }
    }

    #[test]
    fn builtin_definitions_pass_register_checks() {
        let mut catalog = Catalog::empty();
        for service in crate::policy::lint::catalog_builtin::services() {
            catalog.register(service).unwrap();
        }
        assert!(catalog.service("iam").unwrap().actions.len() > 150);
    }

    #[test]
    fn expand_patterns() {
        let catalog = Catalog::builtin();
        let Expansion::Actions(gets) = catalog.expand("iam:Get*") else {
            panic!("iam is known");
        };
        assert!(gets.len() > 20);
        assert!(gets
            .iter()
            .all(|a| a.action.name.starts_with("Get") && a.service.prefix == "iam"));
        let Expansion::Actions(none) = catalog.expand("iam:Frobnicate*") else {
            panic!("iam is known");
        };
        assert!(none.is_empty());
        assert!(matches!(
            catalog.expand("s3:Get*"),
            Expansion::UnknownService
        ));
        assert!(matches!(catalog.expand("*"), Expansion::UnknownService));
    }

    #[test]
    fn register_a_platform_service() {
        let mut catalog = Catalog::builtin();
        let definition: ServiceDefinition = serde_json::from_value(serde_json::json!({
            "prefix": "s3",
            "actions": [
                {"name": "GetObject", "access_level": "Read", "resource_types": ["object"]},
                {"name": "GetBucketPolicy", "access_level": "Read"},
                {"name": "PutBucketPolicy", "access_level": "Permissions management",
                 "condition_keys": ["s3:x-amz-acl"]},
                {"name": "ListBucket", "access_level": "List"}
            ],
            "condition_keys": [{"name": "s3:prefix", "type": "String"},
                               {"name": "s3:x-amz-acl", "type": "String"}]
        }))
        .unwrap();
        catalog.register(definition).unwrap();
        let Expansion::Actions(gets) = catalog.expand("s3:Get*") else {
            panic!("s3 is registered");
        };
        assert_eq!(gets.len(), 2);
        assert_eq!(
            catalog.condition_key("S3:Prefix").unwrap().key_type,
            KeyType::String
        );
        assert_eq!(
            catalog.closest_action("s3:GetObjekt").as_deref(),
            Some("s3:GetObject")
        );
    }

    #[test]
    fn register_refuses_bad_definitions() {
        let mut catalog = Catalog::empty();
        let action = |name: &str| ActionDefinition {
            name: name.into(),
            access_level: AccessLevel::Read,
            resource_types: vec![],
            condition_keys: vec![],
        };
        let service = |prefix: &str, actions| ServiceDefinition {
            prefix: prefix.into(),
            actions,
            condition_keys: vec![],
        };
        assert!(matches!(
            catalog.register(service("s 3", vec![])),
            Err(CatalogError::InvalidPrefix(_))
        ));
        assert!(matches!(
            catalog.register(service("x", vec![action("Get*")])),
            Err(CatalogError::InvalidAction(_))
        ));
        assert!(matches!(
            catalog.register(service("x", vec![action("Get"), action("get")])),
            Err(CatalogError::DuplicateAction(_))
        ));
        let mut bad_key = service("x", vec![]);
        bad_key.condition_keys.push(ConditionKeyDefinition {
            name: "nokey".into(),
            key_type: KeyType::String,
        });
        assert!(matches!(
            catalog.register(bad_key),
            Err(CatalogError::InvalidConditionKey(_))
        ));
    }

    #[test]
    fn template_keys_and_multivalued_types() {
        let catalog = Catalog::builtin();
        assert!(catalog.condition_key("iam:ResourceTag/team").is_some());
        assert!(catalog.condition_key("iam:ResourceTag/").is_none());
        assert!(catalog
            .condition_key("sts:TransitiveTagKeys")
            .unwrap()
            .key_type
            .is_multivalued());
        assert!(!catalog
            .condition_key("sts:ExternalId")
            .unwrap()
            .key_type
            .is_multivalued());
    }

    #[test]
    fn access_level_wire_names() {
        assert_eq!(
            serde_json::to_value(AccessLevel::PermissionsManagement).unwrap(),
            "Permissions management"
        );
        assert_eq!(edit_distance("getuser", "getusers"), 1);
    }
}
