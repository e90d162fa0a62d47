//! Stage 7: the `service:ActionName` shape of actions (§3.4). Action names
//! themselves are not checked: IAM saves unknown actions and leaves them to
//! Access Analyzer.

/// Returns AWS's message for the first thing wrong with `action`, if any.
pub(super) fn action_error(action: &str) -> Option<String> {
    if action == "*" {
        return None;
    }
    let mut parts = action.split(':');
    let vendor = parts.next().unwrap_or_default();
    match parts.count() {
        0 => {
            return Some(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
                    .to_owned(),
            )
        }
        1 => {}
        _ => return Some("Actions/Condition can contain only one colon.".to_owned()),
    }
    // Wildcards in the vendor are accepted: Access Analyzer's "Wildcard in
    // service name" suggestion exists because IAM saves `s*:GetObject`.
    // An empty vendor is refused: nothing can ever match it.
    let vendor_ok = !vendor.is_empty()
        && vendor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'*' | b'?'));
    if !vendor_ok {
        return Some(format!("Vendor {vendor} is not valid"));
    }
    // IAM saves odd names (spaces, unknown actions) and leaves them to
    // Access Analyzer, but a control character (a JSON `\u0000` escape
    // passes the transport's character check) can never name an action and
    // would reach logs and terminals as it is: refused, and echoed escaped.
    action.chars().any(char::is_control).then(|| {
        format!(
            "Action {} is not valid: an action name cannot contain control characters.",
            action.escape_debug()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::action_error;

    #[test]
    fn valid_actions() {
        for ok in [
            "*",
            "s3:GetObject",
            "iam:*",
            "IAM:listaccesskeys",
            "s3-s:ListBucket",
            "s3.s:ListBucket",
            "iam: asdf safdsf af ",
            "s*:GetObject",
            "*:*",
        ] {
            assert_eq!(action_error(ok), None, "{ok}");
        }
    }

    #[test]
    fn missing_vendor() {
        for bad in ["invalid", "", "s3*"] {
            assert_eq!(
                action_error(bad).as_deref(),
                Some("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
                "{bad}"
            );
        }
    }

    #[test]
    fn two_colons() {
        assert_eq!(
            action_error("s3:List:Bucket").as_deref(),
            Some("Actions/Condition can contain only one colon.")
        );
        assert_eq!(
            action_error("a a:b:c").as_deref(),
            Some("Actions/Condition can contain only one colon.")
        );
    }

    #[test]
    fn control_characters_in_the_name() {
        for bad in [
            "iam:Get\0User",
            "iam:GetUser\u{1}",
            "s3:Get\u{7f}",
            "s3:Get\u{85}x",
        ] {
            let message = action_error(bad).expect(bad);
            assert!(message.starts_with("Action iam:Get") || message.starts_with("Action s3:Get"));
            assert!(!message.chars().any(char::is_control), "{message:?}");
        }
        // In the vendor, the vendor rule speaks first.
        assert_eq!(
            action_error("i\0am:GetUser").as_deref(),
            Some("Vendor i\0am is not valid")
        );
    }

    #[test]
    fn bad_vendor_characters() {
        assert_eq!(
            action_error("a a:ListBucket").as_deref(),
            Some("Vendor a a is not valid")
        );
        assert_eq!(
            action_error("s_3:Get").as_deref(),
            Some("Vendor s_3 is not valid")
        );
        assert_eq!(
            action_error(":Get").as_deref(),
            Some("Vendor  is not valid")
        );
    }
}
