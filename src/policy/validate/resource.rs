//! Resource ARNs: the structure the legacy parser insists on (stage 3) and
//! the format messages of stage 6 (§3.5).

/// What is wrong with one `Resource`/`NotResource` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ResourceIssue {
    /// Reported as "The policy failed legacy parsing".
    Legacy,
    /// Reported later with this AWS message.
    Format(String),
}

/// The paths an IAM resource may start with, in the order AWS lists them in
/// its message.
const IAM_RESOURCE_TYPES: [&str; 13] = [
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

/// Checks one resource. A value with a format problem is never also
/// reported as a legacy failure: AWS reports the format message for it.
pub(super) fn check_resource(resource: &str) -> Option<ResourceIssue> {
    if resource == "*" {
        return None;
    }
    if let Some(message) = format_error(resource) {
        return Some(ResourceIssue::Format(message));
    }
    if legacy_structure_ok(resource) {
        None
    } else {
        Some(ResourceIssue::Legacy)
    }
}

/// The legacy parser wants either all six ARN fields or no empty field
/// before the resource part, and always a service.
fn legacy_structure_ok(resource: &str) -> bool {
    let colons = resource.matches(':').count();
    if colons < 5 && resource.contains("::") {
        return false;
    }
    resource.split(':').nth(2).is_some_and(|s| !s.is_empty())
}

fn format_error(resource: &str) -> Option<String> {
    // AWS does not look at the text before the first colon: "a:b:c" is
    // reported as the ARN "arn:b:c:*:*:*" (moto invalid-021..023).
    let Some((_, after_prefix)) = resource.split_once(':') else {
        return Some(format!(
            r#"Resource {resource} must be in ARN format or "*"."#
        ));
    };
    let (partition, after_partition) = split_field(after_prefix);
    // A single-partition server: only "aws" (or a wildcard) can match.
    if partition != "aws" && partition != "*" {
        return Some(partition_error(partition, after_partition.unwrap_or("")));
    }
    let Some(after_partition) = after_partition else {
        return Some(VENDOR_ERROR.to_owned());
    };
    let (service, after_service) = split_field(after_partition);
    if service.contains(['*', '?']) {
        return Some(VENDOR_ERROR.to_owned());
    }
    let mut fields = after_service.map(|rest| rest.splitn(3, ':'));
    let mut next_field = || fields.as_mut().and_then(Iterator::next);
    let (region, account, resource_part) = (next_field(), next_field(), next_field());
    match service {
        "iam" if region != Some("") => Some(format!(
            "IAM resource {resource} cannot contain region information."
        )),
        // Buckets and objects have neither region nor account; S3 ARNs that
        // name an account (access points, jobs) do carry a region.
        "s3" if region.is_some_and(|r| !r.is_empty()) && account.unwrap_or("").is_empty() => Some(
            format!("Resource {resource} can not contain region information."),
        ),
        "iam" => {
            let resource_part = resource_part.unwrap_or("");
            let known = resource_part == "*"
                || IAM_RESOURCE_TYPES
                    .iter()
                    .any(|prefix| resource_part.starts_with(prefix));
            (!known).then(|| {
                format!(
                    r#"IAM resource path must either be "*" or start with {}."#,
                    IAM_RESOURCE_TYPES.join(", ")
                )
            })
        }
        _ => None,
    }
}

const VENDOR_ERROR: &str = "Resource vendor must be fully qualified and cannot contain regexes.";

/// Splits at the first colon; `None` when there is no colon at all.
fn split_field(text: &str) -> (&str, Option<&str>) {
    match text.split_once(':') {
        Some((field, rest)) => (field, Some(rest)),
        None => (text, None),
    }
}

/// AWS rebuilds a six-field ARN for this message, filling missing fields
/// with `*` and keeping extra colons in the last one.
fn partition_error(partition: &str, after_partition: &str) -> String {
    let fields: Vec<&str> = after_partition.split(':').collect();
    let service = match fields.as_slice() {
        [""] => "*",
        [first, ..] => first,
        [] => "*",
    };
    let region = fields.get(1).copied().unwrap_or("*");
    let account = fields.get(2).copied().unwrap_or("*");
    let rest = if fields.len() > 3 {
        fields[3..].join(":")
    } else {
        "*".to_owned()
    };
    format!(
        r#"Partition "{partition}" is not valid for resource "arn:{partition}:{service}:{region}:{account}:{rest}"."#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(resource: &str) -> String {
        match check_resource(resource) {
            Some(ResourceIssue::Format(m)) => m,
            other => panic!("{resource}: expected a format error, got {other:?}"),
        }
    }

    #[test]
    fn well_formed_resources_pass() {
        for ok in [
            "*",
            "arn:aws:s3:::bucket/*",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::123456789012:*",
            "arn:aws:ec2:us-east-1:123456789012:instance/*",
            "arn:aws:kms:*:123456789012:key/*",
            "arn:aws:fdsasf",
            "arn:*:s3:::bucket",
            "arn:aws:s3:us-west-2:123456789012:accesspoint/ap/object/*",
        ] {
            assert_eq!(check_resource(ok), None, "{ok}");
        }
    }

    #[test]
    fn not_an_arn() {
        assert_eq!(
            format("bucket"),
            r#"Resource bucket must be in ARN format or "*"."#
        );
        assert_eq!(format(""), r#"Resource  must be in ARN format or "*"."#);
    }

    #[test]
    fn unknown_partition_rebuilds_six_fields() {
        assert_eq!(
            format("a:bsdfdsafsad"),
            r#"Partition "bsdfdsafsad" is not valid for resource "arn:bsdfdsafsad:*:*:*:*"."#
        );
        assert_eq!(
            format("a:b:c:d:e:f:g:h"),
            r#"Partition "b" is not valid for resource "arn:b:c:d:e:f:g:h"."#
        );
        assert_eq!(
            format("arn:aws-cn:s3:::b"),
            r#"Partition "aws-cn" is not valid for resource "arn:aws-cn:s3:::b"."#
        );
    }

    #[test]
    fn vendor_must_be_present_and_literal() {
        assert_eq!(format("arn:aws"), VENDOR_ERROR);
        assert_eq!(format("arn:aws:s*:::bucket"), VENDOR_ERROR);
        assert_eq!(format("arn:aws:?3:::bucket"), VENDOR_ERROR);
    }

    #[test]
    fn iam_and_s3_refuse_regions() {
        assert_eq!(
            format("arn:aws:iam:us-east-1::user/a"),
            "IAM resource arn:aws:iam:us-east-1::user/a cannot contain region information."
        );
        assert_eq!(
            format("arn:aws:s3:eu-west-1::b"),
            "Resource arn:aws:s3:eu-west-1::b can not contain region information."
        );
    }

    #[test]
    fn iam_resource_type_must_be_known() {
        let message = format("arn:aws:iam::123456789012:u*");
        assert!(
            message.starts_with(r#"IAM resource path must either be "*" or start with user/, "#)
        );
        assert!(message.ends_with("report/, access-report/."));
    }

    #[test]
    fn legacy_structure() {
        for bad in ["arn:aws:s3::bucket", "arn:aws::fdsasf", "arn:aws::::bucket"] {
            assert_eq!(check_resource(bad), Some(ResourceIssue::Legacy), "{bad}");
        }
    }
}
