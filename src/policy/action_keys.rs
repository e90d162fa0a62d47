//! The request keys latchkey supplies when it decides one of its own
//! actions (AWS-IAM-NOTES §5.1): those AWS lists for the action in the
//! Service Authorization Reference, which the built-in catalog
//! (`lint::catalog_builtin`) copies. The server inserts a key only when the
//! action lists it ([`action_keys`]), and lint warns on a condition over a
//! key none of a statement's actions lists ([`supplies`]); one table drives
//! both, so they cannot disagree.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::lint::{ActionRef, Catalog};

/// A per-action key an IAM operation knows the value of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKey {
    /// The managed policy being attached or detached.
    PolicyArn,
    /// The boundary being set, or the target's current one.
    PermissionsBoundary,
    /// `aws:RequestTag/K`, one per tag the request passes.
    RequestTag,
    /// `aws:TagKeys`: the keys the request passes or removes.
    TagKeys,
    /// `aws:ResourceTag/K`: the target's stored tags.
    ResourceTag,
    /// `iam:ResourceTag/K`: the same tags, under IAM's own prefix.
    IamResourceTag,
    PassedToService,
    AssociatedResourceArn,
}

impl ActionKey {
    const ALL: [ActionKey; 8] = [
        ActionKey::PolicyArn,
        ActionKey::PermissionsBoundary,
        ActionKey::RequestTag,
        ActionKey::TagKeys,
        ActionKey::ResourceTag,
        ActionKey::IamResourceTag,
        ActionKey::PassedToService,
        ActionKey::AssociatedResourceArn,
    ];

    /// The key as the catalog writes it.
    pub fn template(self) -> &'static str {
        match self {
            ActionKey::PolicyArn => "iam:PolicyARN",
            ActionKey::PermissionsBoundary => "iam:PermissionsBoundary",
            ActionKey::RequestTag => "aws:RequestTag/${TagKey}",
            ActionKey::TagKeys => "aws:TagKeys",
            ActionKey::ResourceTag => "aws:ResourceTag/${TagKey}",
            ActionKey::IamResourceTag => "iam:ResourceTag/${TagKey}",
            ActionKey::PassedToService => "iam:PassedToService",
            ActionKey::AssociatedResourceArn => "iam:AssociatedResourceArn",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of [`ActionKey`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionKeys(u8);

impl ActionKeys {
    pub fn contains(self, key: ActionKey) -> bool {
        self.0 & key.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The keys the server supplies for `action`: those the built-in catalog
/// lists for it. None for an action it does not list.
pub fn action_keys(action: &str) -> ActionKeys {
    static TABLE: LazyLock<HashMap<String, ActionKeys>> = LazyLock::new(|| {
        let catalog = Catalog::builtin();
        let mut table = HashMap::new();
        for service in catalog.services() {
            for action in &service.actions {
                let action = ActionRef { service, action };
                let keys = action.all_condition_keys().fold(0, |bits, listed| {
                    ActionKey::ALL
                        .into_iter()
                        .filter(|k| k.template().eq_ignore_ascii_case(listed))
                        .fold(bits, |bits, k| bits | k.bit())
                });
                table.insert(action.full_name(), ActionKeys(keys));
            }
        }
        table
    });
    // The server spells its actions as the catalog does; any other case
    // costs a lower-cased second look.
    if let Some(keys) = TABLE.get(action) {
        return *keys;
    }
    let Some((prefix, name)) = action.split_once(':') else {
        return ActionKeys::default();
    };
    TABLE
        .iter()
        .find(|(k, _)| {
            k.split_once(':').is_some_and(|(p, n)| {
                p.eq_ignore_ascii_case(prefix) && n.eq_ignore_ascii_case(name)
            })
        })
        .map_or_else(ActionKeys::default, |(_, keys)| *keys)
}

/// The services latchkey implements, whose request context only the server
/// builds. Actions of other services are decided over the context their
/// caller passes to `/v1/authorize`, so nothing is known of their keys.
pub const OWN_SERVICES: [&str; 3] = ["iam", "sts", "latchkey"];

/// Whether the presence of `key` depends on the action and is the server's
/// doing: keys of latchkey's own services, and the tag keys of `aws:`.
/// Other global keys hang on the caller (a role has no `aws:username`),
/// not on the action.
pub fn is_per_action(key: &str) -> bool {
    let Some((prefix, _)) = key.split_once(':') else {
        return false;
    };
    if OWN_SERVICES.iter().any(|s| s.eq_ignore_ascii_case(prefix)) {
        return true;
    }
    let lower = key.to_ascii_lowercase();
    lower == "aws:tagkeys"
        || ["aws:requesttag/", "aws:resourcetag/"]
            .iter()
            .any(|p| lower.starts_with(p) && lower.len() > p.len())
}

/// Whether `key` is among the keys AWS lists for `action` (templates such
/// as `aws:ResourceTag/${TagKey}` match any tag key). Case-insensitive.
pub fn supplies(action: ActionRef<'_>, key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    action.all_condition_keys().any(|listed| {
        let listed = listed.to_ascii_lowercase();
        match listed.split_once("${") {
            Some((fixed, _)) => key.starts_with(fixed) && key.len() > fixed.len(),
            None => listed == key,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(action: &str) -> Vec<ActionKey> {
        let set = action_keys(action);
        ActionKey::ALL
            .into_iter()
            .filter(|k| set.contains(*k))
            .collect()
    }

    #[test]
    fn the_catalog_decides_which_keys_an_action_carries() {
        use ActionKey as K;
        assert_eq!(
            keys("iam:AttachUserPolicy"),
            [
                K::PolicyArn,
                K::PermissionsBoundary,
                K::ResourceTag,
                K::IamResourceTag
            ]
        );
        assert_eq!(keys("iam:AttachGroupPolicy"), [K::PolicyArn]);
        assert_eq!(
            keys("iam:CreateUser"),
            [
                K::PermissionsBoundary,
                K::RequestTag,
                K::TagKeys,
                K::ResourceTag,
                K::IamResourceTag
            ]
        );
        assert_eq!(
            keys("iam:UntagRole"),
            [K::TagKeys, K::ResourceTag, K::IamResourceTag]
        );
        assert_eq!(
            keys("iam:PassRole"),
            [
                K::ResourceTag,
                K::IamResourceTag,
                K::PassedToService,
                K::AssociatedResourceArn
            ]
        );
        assert_eq!(
            keys("iam:CreatePolicy"),
            [K::RequestTag, K::TagKeys, K::ResourceTag]
        );
        assert_eq!(keys("IAM:getuser"), keys("iam:GetUser"));
        assert!(action_keys("iam:ListUsers").contains(K::ResourceTag));
        assert!(action_keys("iam:GetGroup").is_empty());
        assert!(action_keys("latchkey:ReadAudit").is_empty());
        assert!(action_keys("s3:GetObject").is_empty());
        assert!(action_keys("nonsense").is_empty());
    }

    #[test]
    fn per_action_keys_and_what_an_action_supplies() {
        for key in [
            "iam:PolicyARN",
            "sts:ExternalId",
            "latchkey:Anything",
            "aws:TagKeys",
            "AWS:RequestTag/team",
            "aws:resourcetag/team",
        ] {
            assert!(is_per_action(key), "{key}");
        }
        for key in [
            "aws:username",
            "aws:SourceIp",
            "aws:ResourceTag/",
            "s3:prefix",
            "x",
        ] {
            assert!(!is_per_action(key), "{key}");
        }
        let catalog = Catalog::builtin();
        let attach = catalog.action("iam:AttachUserPolicy").unwrap();
        assert!(supplies(attach, "IAM:policyarn"));
        assert!(supplies(attach, "aws:ResourceTag/team"));
        assert!(!supplies(attach, "aws:RequestTag/team"));
        let create = catalog.action("iam:CreateUser").unwrap();
        assert!(!supplies(create, "iam:PolicyARN"));
        assert!(supplies(create, "aws:TagKeys"));
        let group = catalog.action("iam:GetGroup").unwrap();
        assert!(!supplies(group, "aws:ResourceTag/team"));
    }
}
