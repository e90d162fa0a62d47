//! STS actions. Each is one line in the table and one small function that
//! parses, calls the sts/ operation and renders STS's XML.

use super::xml::Xml;
use super::{actions, Ctx, Handler, Outcome};

pub const ACTIONS: &[(&str, Handler)] = actions![
    "GetCallerIdentity" => get_caller_identity,
];

/// Needs no permission, as in AWS: every caller may learn who it is.
async fn get_caller_identity(c: &Ctx<'_>) -> Outcome {
    let mut x = Xml::new();
    x.text("UserId", &c.caller.user_id)
        .text("Account", &c.caller.account_id)
        .text("Arn", &c.caller.arn);
    Ok(Some(x))
}
