//! IAM's XML shapes of the entities (User, Group, Role, Policy, …), written
//! from the store's types. Which fields a reply carries follows IAM: lists
//! leave out tags and boundaries, single reads include them.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::xml::Xml;
use crate::domain::{AccessKey, Group, ManagedPolicy, PolicyVersion, Role, Tag, User};
use crate::store::Page;

/// RFC 3986 unreserved characters stay; everything else is %-encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// IAM returns policy documents URL-encoded (AWS-IAM-NOTES §9.4).
pub fn encoded_document(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

pub fn tags(x: &mut Xml, tags: &[Tag]) {
    x.members("Tags", tags, |m, t| {
        m.text("Key", &t.key).text("Value", &t.value);
    });
}

fn boundary(x: &mut Xml, arn: Option<&str>) {
    if let Some(arn) = arn {
        x.node("PermissionsBoundary", |b| {
            b.text("PermissionsBoundaryType", "PermissionsBoundaryPolicy")
                .text("PermissionsBoundaryArn", arn);
        });
    }
}

/// `IsTruncated` and, when more follow, the store's opaque `Marker`.
pub fn page_end<T>(x: &mut Xml, page: &Page<T>) {
    x.text("IsTruncated", page.is_truncated)
        .opt("Marker", page.marker.as_deref());
}

/// The fields of a User; `detail` (GetUser, CreateUser) adds the boundary
/// and tags, which ListUsers leaves out.
pub fn user(x: &mut Xml, user: &User, detail: Option<&[Tag]>) {
    x.text("Path", &user.path)
        .text("UserName", &user.name)
        .text("UserId", &user.id)
        .text("Arn", user.arn())
        .text("CreateDate", &user.created_at);
    if let Some(list) = detail {
        boundary(x, user.permissions_boundary.as_deref());
        if !list.is_empty() {
            tags(x, list);
        }
    }
}

pub fn group(x: &mut Xml, group: &Group) {
    x.text("Path", &group.path)
        .text("GroupName", &group.name)
        .text("GroupId", &group.id)
        .text("Arn", group.arn())
        .text("CreateDate", &group.created_at);
}

/// The fields of a Role. `trust` is the trust policy as shown (principals
/// unpinned back to ARNs); `detail` adds boundary, tags and last use.
pub fn role(x: &mut Xml, role: &Role, trust: &str, detail: Option<&[Tag]>) {
    x.text("Path", &role.path)
        .text("RoleName", &role.name)
        .text("RoleId", &role.id)
        .text("Arn", role.arn())
        .text("CreateDate", &role.created_at)
        .text("AssumeRolePolicyDocument", encoded_document(trust))
        .opt("Description", role.description.as_deref())
        .text("MaxSessionDuration", role.max_session_duration);
    if let Some(list) = detail {
        boundary(x, role.permissions_boundary.as_deref());
        if !list.is_empty() {
            tags(x, list);
        }
        x.node("RoleLastUsed", |u| {
            u.opt("LastUsedDate", role.last_used_at.as_deref())
                .opt("Region", role.last_used_region.as_deref());
        });
    }
}

/// The fields of a managed Policy; the counts are known on single reads.
pub fn policy(x: &mut Xml, policy: &ManagedPolicy, attachments: Option<i64>, list: &[Tag]) {
    x.text("PolicyName", &policy.name)
        .text("PolicyId", &policy.id)
        .text("Arn", &policy.arn)
        .text("Path", &policy.path)
        .text("DefaultVersionId", &policy.default_version_id)
        .opt("AttachmentCount", attachments)
        .text("IsAttachable", true)
        .opt("Description", policy.description.as_deref())
        .text("CreateDate", &policy.created_at)
        .text("UpdateDate", &policy.updated_at);
    if !list.is_empty() {
        tags(x, list);
    }
}

/// A PolicyVersion; the document only where IAM returns it (GetPolicyVersion).
pub fn policy_version(x: &mut Xml, version: &PolicyVersion, default_id: &str, document: bool) {
    if document {
        x.text("Document", encoded_document(&version.document));
    }
    x.text("VersionId", &version.version_id)
        .text("IsDefaultVersion", version.version_id == default_id)
        .text("CreateDate", &version.created_at);
}

/// AccessKeyMetadata (ListAccessKeys): never the secret.
pub fn access_key_metadata(x: &mut Xml, user_name: &str, key: &AccessKey) {
    x.text("UserName", user_name)
        .text("AccessKeyId", &key.access_key_id)
        .text("Status", &key.status)
        .text("CreateDate", &key.created_at);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_rfc3986_encoded() {
        assert_eq!(
            encoded_document(r#"{"A": "b/c~d-e_f.g*"}"#),
            "%7B%22A%22%3A%20%22b%2Fc~d-e_f.g%2A%22%7D"
        );
    }
}
