//! GetCallerIdentity (AWS-IAM-NOTES §7.4): always allowed, even when a
//! policy denies `sts:GetCallerIdentity`.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;

#[derive(Debug, Serialize, ToSchema)]
pub struct CallerIdentity {
    #[schema(example = "123456789012")]
    pub account: String,
    #[schema(example = "arn:aws:sts::123456789012:assumed-role/deployer/ci-build-42")]
    pub arn: String,
    /// `aws:userid`: the account id (root), AIDA… (user) or AROA…:SESSION.
    #[schema(example = "AROAJQABLZS4A3QDU576Q:ci-build-42")]
    pub user_id: String,
}

pub fn caller_identity(caller: &Caller) -> CallerIdentity {
    CallerIdentity {
        account: caller.account_id.clone(),
        arn: caller.arn.clone(),
        user_id: caller.user_id.clone(),
    }
}
