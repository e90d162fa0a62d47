//! STS actions. Each is one line in the table and one small function that
//! parses, calls the sts/ operation and renders STS's XML.

use super::action::{actions, Ctx, Handler, Outcome};
use super::xml::Xml;
use crate::sts;
use crate::sts::assume_role::{AssumeRoleRequest, PolicyArn};
use crate::sts::session_token::SessionTokenRequest;
use crate::sts::web_identity::WebIdentityRequest;
use crate::sts::Credentials;

pub const ACTIONS: &[(&str, Handler)] = actions![
    "GetCallerIdentity" => get_caller_identity,
    "AssumeRole" => assume_role,
    "GetSessionToken" => get_session_token,
    // Served before authentication (see `serve`); a signed request
    // reaching the table is served the same way, its signature unused.
    "AssumeRoleWithWebIdentity" => web_identity_signed,
];

/// The action accepted without a signature.
pub const WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";

/// Needs no permission, as in AWS: every caller may learn who it is.
async fn get_caller_identity(c: &Ctx<'_>) -> Outcome {
    let mut x = Xml::new();
    x.text("UserId", &c.caller.user_id)
        .text("Account", &c.caller.account_id)
        .text("Arn", &c.caller.arn);
    Ok(Some(x))
}

fn credentials(x: &mut Xml, creds: &Credentials) {
    x.node("Credentials", |x| {
        x.text("AccessKeyId", &creds.access_key_id)
            .text("SecretAccessKey", &creds.secret_access_key)
            .text("SessionToken", &creds.session_token)
            .text("Expiration", &creds.expiration);
    });
}

async fn assume_role(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let req = AssumeRoleRequest {
        role_arn: p.required("RoleArn")?.to_string(),
        role_session_name: p.required("RoleSessionName")?.to_string(),
        duration_seconds: p.int("DurationSeconds")?,
        external_id: p.get("ExternalId").map(String::from),
        policy: p.get("Policy").map(|_| p.document("Policy")).transpose()?,
        policy_arns: p
            .structs("PolicyArns")
            .iter()
            .map(|m| m.required("arn").map(|a| PolicyArn::Arn(a.to_string())))
            .collect::<Result<_, _>>()?,
        tags: p.tags("Tags")?,
        transitive_tag_keys: p.list("TransitiveTagKeys"),
        source_identity: p.get("SourceIdentity").map(String::from),
        serial_number: p.get("SerialNumber").map(String::from),
        token_code: p.get("TokenCode").map(String::from),
    };
    let reply = sts::assume_role::assume_role(c.state, c.caller, req).await?;
    let mut x = Xml::new();
    credentials(&mut x, &reply.credentials);
    x.node("AssumedRoleUser", |x| {
        x.text("AssumedRoleId", &reply.assumed_role_user.assumed_role_id)
            .text("Arn", &reply.assumed_role_user.arn);
    })
    .opt("PackedPolicySize", reply.packed_policy_size)
    .opt("SourceIdentity", reply.source_identity.as_ref());
    Ok(Some(x))
}

async fn get_session_token(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let req = SessionTokenRequest {
        duration_seconds: p.int("DurationSeconds")?,
        serial_number: p.get("SerialNumber").map(String::from),
        token_code: p.get("TokenCode").map(String::from),
    };
    let creds = sts::session_token::get_session_token(c.state, c.caller, req).await?;
    let mut x = Xml::new();
    credentials(&mut x, &creds);
    Ok(Some(x))
}

async fn web_identity_signed(c: &Ctx<'_>) -> Outcome {
    assume_role_with_web_identity(c.state, c.params).await
}

/// AssumeRoleWithWebIdentity: no caller; the token is the credential.
pub async fn assume_role_with_web_identity(
    state: &crate::state::AppState,
    p: &super::params::Params,
) -> Outcome {
    let req = WebIdentityRequest {
        role_arn: p.required("RoleArn")?.to_string(),
        role_session_name: p.required("RoleSessionName")?.to_string(),
        web_identity_token: p.required("WebIdentityToken")?.to_string(),
        duration_seconds: p.int("DurationSeconds")?,
        policy: p.get("Policy").map(|_| p.document("Policy")).transpose()?,
        policy_arns: p
            .structs("PolicyArns")
            .iter()
            .map(|m| m.required("arn").map(|a| PolicyArn::Arn(a.to_string())))
            .collect::<Result<_, _>>()?,
    };
    let reply = sts::web_identity::assume_role_with_web_identity(state, req).await?;
    let mut x = Xml::new();
    credentials(&mut x, &reply.credentials);
    x.text(
        "SubjectFromWebIdentityToken",
        &reply.subject_from_web_identity_token,
    )
    .node("AssumedRoleUser", |x| {
        x.text("AssumedRoleId", &reply.assumed_role_user.assumed_role_id)
            .text("Arn", &reply.assumed_role_user.arn);
    })
    .opt("PackedPolicySize", reply.packed_policy_size)
    .text("Provider", &reply.provider)
    .text("Audience", &reply.audience);
    Ok(Some(x))
}
