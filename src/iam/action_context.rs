//! The request keys an IAM operation supplies for its action
//! (AWS-IAM-NOTES §5.1): `iam:PolicyARN`, `iam:PermissionsBoundary`,
//! `aws:RequestTag/K`, `aws:TagKeys`, the target's `aws:ResourceTag/K` and
//! `iam:ResourceTag/K`, `iam:PassedToService`, `iam:AssociatedResourceArn`.
//!
//! An operation states what it knows; only the keys the catalog lists for
//! its action are kept ([`crate::policy::action_keys`]), so a key reaches a
//! decision exactly when AWS would supply it. The target's tags cost a
//! store read: the operation names the target, and the decision loads its
//! tags only when some policy reads a resource tag.

use crate::domain::Tag;
use crate::policy::action_keys::{action_keys, ActionKey, ActionKeys};
use crate::policy::RequestContext;

/// The entity whose stored tags are the resource tags, and under which
/// prefixes they are supplied.
pub struct TargetTags {
    pub entity_id: String,
    pub aws: bool,
    pub iam: bool,
}

/// What an operation knows about its request, for its action's keys.
pub struct ActionContext<'a> {
    pub(super) action: &'a str,
    keys: ActionKeys,
    pub(super) context: RequestContext,
    pub(super) target_tags: Option<TargetTags>,
    boundary_set: bool,
}

impl<'a> ActionContext<'a> {
    pub fn new(action: &'a str) -> Self {
        ActionContext {
            action,
            keys: action_keys(action),
            context: RequestContext::new(),
            target_tags: None,
            boundary_set: false,
        }
    }

    fn has(&self, key: ActionKey) -> bool {
        self.keys.contains(key)
    }

    /// `iam:PolicyARN`: the managed policy being attached or detached.
    pub fn policy_arn(mut self, arn: &str) -> Self {
        if self.has(ActionKey::PolicyArn) {
            self.context.insert(ActionKey::PolicyArn.template(), arn);
        }
        self
    }

    /// `iam:PermissionsBoundary`: the boundary the request sets (absent
    /// when it sets none). Wins over the target's current boundary.
    pub fn boundary(mut self, arn: Option<&str>) -> Self {
        self.set_boundary(arn);
        self
    }

    fn set_boundary(&mut self, arn: Option<&str>) {
        self.boundary_set = true;
        if let (true, Some(arn)) = (self.has(ActionKey::PermissionsBoundary), arn) {
            self.context
                .insert(ActionKey::PermissionsBoundary.template(), arn);
        }
    }

    /// `aws:RequestTag/K` for each tag and `aws:TagKeys`, when the request
    /// passes tags.
    pub fn request_tags(mut self, tags: &[Tag]) -> Self {
        if tags.is_empty() {
            return self;
        }
        if self.has(ActionKey::RequestTag) {
            for tag in tags {
                self.context
                    .insert(&format!("aws:RequestTag/{}", tag.key), tag.value.as_str());
            }
        }
        if self.has(ActionKey::TagKeys) {
            self.context
                .insert_many("aws:TagKeys", tags.iter().map(|t| t.key.as_str()));
        }
        self
    }

    /// `aws:TagKeys` of an untag call: the keys it removes.
    pub fn removed_tag_keys(mut self, keys: &[String]) -> Self {
        if !keys.is_empty() && self.has(ActionKey::TagKeys) {
            self.context
                .insert_many("aws:TagKeys", keys.iter().map(String::as_str));
        }
        self
    }

    /// `iam:PassedToService`: the service a role is passed to.
    pub fn passed_to_service(mut self, service: &str) -> Self {
        if self.has(ActionKey::PassedToService) {
            self.context
                .insert(ActionKey::PassedToService.template(), service);
        }
        self
    }

    /// `iam:AssociatedResourceArn`: what a passed role becomes associated
    /// with.
    pub fn associated_resource(mut self, arn: &str) -> Self {
        if self.has(ActionKey::AssociatedResourceArn) {
            self.context
                .insert(ActionKey::AssociatedResourceArn.template(), arn);
        }
        self
    }

    /// The existing target: its stored tags (loaded only if a policy reads
    /// them) and, for a user or role, its current boundary, unless the
    /// request sets one.
    pub fn target(&mut self, entity_id: &str, boundary: Option<&str>) {
        let (aws, iam) = (
            self.has(ActionKey::ResourceTag),
            self.has(ActionKey::IamResourceTag),
        );
        if aws || iam {
            self.target_tags = Some(TargetTags {
                entity_id: entity_id.to_owned(),
                aws,
                iam,
            });
        }
        if !self.boundary_set {
            self.set_boundary(boundary);
        }
    }
}
