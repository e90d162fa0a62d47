//! CONDITION_KEY_NEVER_SUPPLIED: a guardrail on a key latchkey never puts
//! into the context of the statement's actions, judged only where the
//! server builds the whole context (iam, sts, latchkey actions).

use super::{codes, run};
use crate::policy::PolicyType::{Identity as I, Trust as T};

const CODE: &str = "CONDITION_KEY_NEVER_SUPPLIED";

fn statement(effect: &str, action: &str, condition: &str) -> String {
    format!(r#"{{"Effect":"{effect}","Action":{action},"Resource":"*","Condition":{condition}}}"#)
}

fn fires(action: &str, condition: &str) -> bool {
    codes(&run(&statement("Deny", action, condition), I)).contains(&CODE)
}

#[test]
fn the_measured_guardrails_lint_clean_on_the_actions_that_carry_their_keys() {
    for (action, condition) in [
        (
            r#""iam:AttachUserPolicy""#,
            r#"{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/AdministratorAccess"}}"#,
        ),
        (
            r#""iam:*""#,
            r#"{"StringEquals":{"aws:ResourceTag/protected":"true"}}"#,
        ),
        (
            r#"["iam:CreateUser","iam:TagUser"]"#,
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["admin"]}}"#,
        ),
        (
            r#""iam:CreateUser""#,
            r#"{"StringEquals":{"iam:PermissionsBoundary":"arn:aws:iam::123456789012:policy/b"}}"#,
        ),
        (
            r#""iam:PutUserPolicy""#,
            r#"{"StringEquals":{"iam:PermissionsBoundary":"arn:aws:iam::123456789012:policy/b"}}"#,
        ),
        (
            r#""iam:GetUser""#,
            r#"{"StringEquals":{"iam:ResourceTag/team":"x"}}"#,
        ),
        (
            r#""iam:PassRole""#,
            r#"{"StringEquals":{"iam:PassedToService":"compute.internal"}}"#,
        ),
        // One action of the list carrying the key is enough.
        (
            r#"["iam:CreateUser","iam:AttachUserPolicy"]"#,
            r#"{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/AdministratorAccess"}}"#,
        ),
    ] {
        assert!(!fires(action, condition), "{action} {condition}");
    }
}

#[test]
fn keys_the_actions_never_carry_are_warned_about_by_name() {
    let findings = run(
        &statement(
            "Deny",
            r#"["iam:CreateUser","iam:TagUser"]"#,
            r#"{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/AdministratorAccess"}}"#,
        ),
        I,
    );
    let f = findings
        .iter()
        .find(|f| f.code == CODE)
        .expect("the finding");
    assert_eq!(f.severity, crate::policy::lint::Severity::Warning);
    assert_eq!(
        f.location.path,
        "Statement[0].Condition.ArnEquals.iam:PolicyARN"
    );
    assert!(f.message.contains("can never match"), "{}", f.message);
    assert!(f.message.contains("iam:PolicyARN"), "{}", f.message);
    assert!(
        f.message.contains("iam:CreateUser, iam:TagUser"),
        "{}",
        f.message
    );
    for (action, condition) in [
        // Groups carry no tags.
        (
            r#""iam:GetGroup""#,
            r#"{"StringEquals":{"aws:ResourceTag/team":"x"}}"#,
        ),
        // Policies carry aws:ResourceTag only.
        (
            r#""iam:GetPolicy""#,
            r#"{"StringEquals":{"iam:ResourceTag/team":"x"}}"#,
        ),
        // No tags are passed on a read.
        (
            r#""iam:GetUser""#,
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["admin"]}}"#,
        ),
        (
            r#""iam:DeleteUser""#,
            r#"{"StringEquals":{"iam:PermissionsBoundary":"arn:aws:iam::123456789012:policy/b"}}"#,
        ),
        (
            r#""latchkey:CreateWorkload""#,
            r#"{"StringEquals":{"latchkey:Service":"x"}}"#,
        ),
        // Negated operators are judged too: they hold for every request.
        (
            r#""iam:CreateGroup""#,
            r#"{"StringNotEquals":{"aws:RequestTag/team":"x"}}"#,
        ),
    ] {
        assert!(fires(action, condition), "{action} {condition}");
    }
}

#[test]
fn only_latchkey_s_own_services_are_judged() {
    for (action, condition) in [
        // The caller of /v1/authorize supplies these actions' context.
        (
            r#""s3:GetObject""#,
            r#"{"StringEquals":{"iam:PolicyARN":"x"}}"#,
        ),
        (
            r#"["iam:CreateUser","s3:PutObject"]"#,
            r#"{"StringEquals":{"iam:PolicyARN":"x"}}"#,
        ),
        (r#""*""#, r#"{"StringEquals":{"iam:PolicyARN":"x"}}"#),
        // An action the catalog does not know is another check's business.
        (
            r#""iam:RevokeRoleSessions""#,
            r#"{"StringEquals":{"aws:ResourceTag/team":"x"}}"#,
        ),
        // Global keys hang on the caller, not on the action.
        (
            r#""iam:CreateUser""#,
            r#"{"StringEquals":{"aws:username":"x","aws:PrincipalTag/team":"x"}}"#,
        ),
        // Keys of other services (an identity provider's) are not judged.
        (
            r#""iam:CreateUser""#,
            r#"{"StringEquals":{"accounts.google.com:aud":"x"}}"#,
        ),
    ] {
        assert!(!fires(action, condition), "{action} {condition}");
    }
    let not_action = r#"{"Effect":"Deny","NotAction":"iam:CreateUser","Resource":"*","Condition":{"StringEquals":{"iam:PolicyARN":"x"}}}"#;
    assert!(!codes(&run(not_action, I)).contains(&CODE));
}

#[test]
fn trust_policies_are_judged_against_the_sts_actions() {
    let trust = |condition: &str| {
        format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::123456789012:root"}},"Action":"sts:AssumeRole","Condition":{condition}}}"#
        )
    };
    let quiet = trust(r#"{"StringEquals":{"sts:ExternalId":"x","aws:RequestTag/team":"x"}}"#);
    assert!(!codes(&run(&quiet, T)).contains(&CODE));
    let loud = trust(r#"{"StringEquals":{"iam:PolicyARN":"x"}}"#);
    assert!(codes(&run(&loud, T)).contains(&CODE));
}
