//! Stage 8: the element rules of each policy type (§3.2) and the forms a
//! principal may take (§3.3).
//!
//! Whether a named user or role *exists* is not known here; the server checks
//! that against its store and reports a missing one with
//! [`invalid_principal_message`], the same text AWS uses.

use super::syntax::{PrincipalElement, PrincipalValue, Statement};
use crate::policy::PolicyType;

const NO_PRINCIPAL_ALLOWED: &str = "Policy document should not specify a principal.";
const RESOURCES_REQUIRED: &str = "Policy statement must contain resources.";
const PRINCIPAL_REQUIRED: &str = "Missing required field Principal";

/// AWS's message for a principal it will not accept, e.g.
/// `Invalid principal in policy: "AWS":"arn:aws:iam::111111111111:role/NonExistent"`.
pub fn invalid_principal_message(kind: &str, id: &str) -> String {
    format!(r#"Invalid principal in policy: "{kind}":"{id}""#)
}

/// Runs the rules of `policy_type` over every statement, one rule at a time
/// so that the first rule broken anywhere in the document is reported.
pub(super) fn check_type_rules(
    statements: &[Statement<'_>],
    policy_type: PolicyType,
) -> Result<(), String> {
    let fail_if = |broken: &dyn Fn(&Statement<'_>) -> bool, message: &str| {
        if statements.iter().any(broken) {
            Err(message.to_owned())
        } else {
            Ok(())
        }
    };
    match policy_type {
        PolicyType::Identity | PolicyType::Boundary | PolicyType::Session => {
            fail_if(&|s| s.principal.is_some(), NO_PRINCIPAL_ALLOWED)?;
            fail_if(&lacks_resources, RESOURCES_REQUIRED)
        }
        PolicyType::Trust => {
            for statement in statements {
                if let Some(p) = statement
                    .principal
                    .as_ref()
                    .filter(|p| p.element != "Principal")
                {
                    return Err(format!("Has prohibited field {}.", p.element));
                }
            }
            for statement in statements {
                if let Some(resource) = &statement.resource {
                    return Err(format!("Has prohibited field {}.", resource.element));
                }
            }
            fail_if(&lacks_principal, PRINCIPAL_REQUIRED)?;
            check_principal_forms(statements, policy_type)
        }
        PolicyType::Resource => {
            fail_if(&lacks_principal, PRINCIPAL_REQUIRED)?;
            fail_if(&lacks_resources, RESOURCES_REQUIRED)?;
            check_principal_forms(statements, policy_type)
        }
    }
}

fn lacks_resources(statement: &Statement<'_>) -> bool {
    statement
        .resource
        .as_ref()
        .is_none_or(|r| r.items.is_empty())
}

/// A principal map whose every list is empty names nobody.
fn lacks_principal(statement: &Statement<'_>) -> bool {
    match &statement.principal {
        None => true,
        Some(PrincipalElement {
            value: PrincipalValue::Map(kinds),
            ..
        }) => kinds.iter().all(|(_, ids)| ids.is_empty()),
        Some(_) => false,
    }
}

fn check_principal_forms(
    statements: &[Statement<'_>],
    policy_type: PolicyType,
) -> Result<(), String> {
    for principal in statements.iter().filter_map(|s| s.principal.as_ref()) {
        match &principal.value {
            PrincipalValue::Text("*") => {}
            PrincipalValue::Text(other) => {
                return Err(format!(r#"Invalid principal in policy: "{other}""#));
            }
            PrincipalValue::Map(kinds) => {
                for (kind, ids) in kinds {
                    if let Some(bad) = ids
                        .iter()
                        .find(|id| !principal_id_ok(kind, id, policy_type))
                    {
                        return Err(invalid_principal_message(kind, bad));
                    }
                }
            }
        }
    }
    Ok(())
}

fn principal_id_ok(kind: &str, id: &str, policy_type: PolicyType) -> bool {
    match kind {
        "AWS" => aws_principal_ok(id),
        "Service" => is_host_name(id),
        "Federated" => federated_principal_ok(id),
        // Canonical user IDs only mean something to S3 bucket policies.
        "CanonicalUser" => {
            policy_type == PolicyType::Resource
                && id.len() == 64
                && id.bytes().all(|b| b.is_ascii_hexdigit())
        }
        _ => false,
    }
}

/// `*`, an account ID, a user/role unique ID, or the ARN of an account,
/// user, role, role session or federated user. Wildcards only ever stand
/// for "everyone", never inside an ARN.
fn aws_principal_ok(id: &str) -> bool {
    if id == "*" || is_account_id(id) || is_unique_id(id) {
        return true;
    }
    if id.contains(['*', '?']) {
        return false;
    }
    let Some((service, resource)) = principal_arn(id) else {
        return false;
    };
    match service {
        "iam" => {
            resource == "root"
                || ["user/", "role/", "federated-user/"]
                    .iter()
                    .any(|prefix| resource.strip_prefix(prefix).is_some_and(is_path_and_name))
        }
        "sts" => {
            if let Some(session) = resource.strip_prefix("assumed-role/") {
                matches!(session.split('/').collect::<Vec<_>>().as_slice(),
                    [role, name] if is_name(role) && is_name(name))
            } else {
                resource
                    .strip_prefix("federated-user/")
                    .is_some_and(is_name)
            }
        }
        _ => false,
    }
}

/// A SAML or OIDC provider ARN, or the host of a well-known identity
/// provider such as `accounts.google.com`.
fn federated_principal_ok(id: &str) -> bool {
    if id.contains(['*', '?']) {
        return false;
    }
    match principal_arn(id) {
        Some(("iam", resource)) => ["saml-provider/", "oidc-provider/"].iter().any(|prefix| {
            resource
                .strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty())
        }),
        Some(_) => false,
        None => is_host_name(id),
    }
}

/// Splits `arn:aws:SERVICE::ACCOUNT:RESOURCE` (empty region, 12-digit
/// account) into service and resource.
fn principal_arn(id: &str) -> Option<(&str, &str)> {
    let mut fields = id.splitn(6, ':');
    let (Some("arn"), Some("aws"), Some(service), Some(""), Some(account), Some(resource)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return None;
    };
    is_account_id(account).then_some((service, resource))
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// `AIDA…` (user) or `AROA…` (role): the forms IAM pins trust principals to.
fn is_unique_id(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("AIDA")
        .or_else(|| text.strip_prefix("AROA"))
    else {
        return false;
    };
    (12..=124).contains(&rest.len())
        && rest
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// IAM names: `[\w+=,.@-]+`.
fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// `path/segments/name` where the path is printable ASCII without spaces.
fn is_path_and_name(text: &str) -> bool {
    let (path, name) = text.rsplit_once('/').unwrap_or(("", text));
    is_name(name) && path.bytes().all(|b| b.is_ascii_graphic())
}

/// `ec2.amazonaws.com`, `accounts.google.com`: DNS labels with at least one dot.
fn is_host_name(text: &str) -> bool {
    text.contains('.')
        && text.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_principals() {
        for ok in [
            "*",
            "123456789012",
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/JaneDoe",
            "arn:aws:iam::123456789012:role/service-role/R",
            "arn:aws:sts::123456789012:assumed-role/R/session@x",
            "arn:aws:sts::123456789012:federated-user/bob",
            "AIDACKCEVSQ6C2EXAMPLE",
            "AROAJQABLZS4A3QDU576Q",
        ] {
            assert!(aws_principal_ok(ok), "{ok}");
        }
        for bad in [
            "foo",
            "",
            "12345678901",
            "arn:aws:iam::123456789012:user/*",
            "arn:aws:iam::*:root",
            "arn:aws:iam::123456789012:group/devs",
            "arn:aws:iam:us-east-1:123456789012:root",
            "arn:aws-cn:iam::123456789012:root",
            "arn:aws:sts::123456789012:assumed-role/R",
            "arn:aws:sts::123456789012:assumed-role/R/*",
            "arn:aws:s3:::bucket",
            "AKIAIOSFODNN7EXAMPLE",
            "aidacKCEVSQ6C2EXAMPLE",
        ] {
            assert!(!aws_principal_ok(bad), "{bad}");
        }
    }

    #[test]
    fn service_and_federated_principals() {
        assert!(principal_id_ok(
            "Service",
            "ec2.amazonaws.com",
            PolicyType::Trust
        ));
        assert!(!principal_id_ok("Service", "ec2", PolicyType::Trust));
        assert!(!principal_id_ok(
            "Service",
            "*.amazonaws.com",
            PolicyType::Trust
        ));
        assert!(principal_id_ok(
            "Federated",
            "arn:aws:iam::123456789012:saml-provider/Okta",
            PolicyType::Trust
        ));
        assert!(principal_id_ok(
            "Federated",
            "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
            PolicyType::Trust
        ));
        assert!(principal_id_ok(
            "Federated",
            "accounts.google.com",
            PolicyType::Trust
        ));
        assert!(!principal_id_ok(
            "Federated",
            "arn:aws:iam::123456789012:role/R",
            PolicyType::Trust
        ));
    }

    #[test]
    fn canonical_user_only_in_resource_policies() {
        let id = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
        assert!(principal_id_ok("CanonicalUser", id, PolicyType::Resource));
        assert!(!principal_id_ok("CanonicalUser", id, PolicyType::Trust));
        assert!(!principal_id_ok(
            "CanonicalUser",
            "abc",
            PolicyType::Resource
        ));
        assert!(!principal_id_ok(
            "User",
            "123456789012",
            PolicyType::Resource
        ));
    }

    #[test]
    fn message_shape() {
        assert_eq!(
            invalid_principal_message("AWS", "foo"),
            r#"Invalid principal in policy: "AWS":"foo""#
        );
    }
}
