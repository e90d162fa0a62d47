//! The AWS managed policies latchkey ships at `arn:aws:iam::aws:policy/...`.

use crate::domain::{now, ManagedPolicy};
use crate::error::ApiResult;
use crate::store::Store;

struct Builtin {
    name: &'static str,
    /// Fixed ids so that every installation agrees.
    id: &'static str,
    description: &'static str,
    document: &'static str,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "AdministratorAccess",
        id: "ANPAIWMBCKSKIEE64ZLYK",
        description: "Provides full access to AWS services and resources.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    },
    Builtin {
        name: "IAMFullAccess",
        id: "ANPAI7XKCFMBPM3QQRRVQ",
        description: "Provides full access to IAM.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#,
    },
    Builtin {
        name: "IAMReadOnlyAccess",
        id: "ANPAJKSO7NDY4T57MWDSQ",
        description: "Provides read only access to IAM.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}"#,
    },
    Builtin {
        name: "ReadOnlyAccess",
        id: "ANPAILL3HVNFSB6DCOWYQ",
        description: "Provides read-only access to AWS services and resources.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","iam:Simulate*","sts:GetCallerIdentity","latchkey:Get*","latchkey:List*","latchkey:Read*"],"Resource":"*"}]}"#,
    },
];

/// Inserts any built-in policy that is missing; run at every start.
pub async fn ensure_builtin_policies(store: &Store) -> ApiResult<()> {
    let created = now();
    for b in BUILTINS {
        let policy = ManagedPolicy {
            id: b.id.to_string(),
            account_id: "aws".to_string(),
            name: b.name.to_string(),
            path: "/".to_string(),
            arn: format!("arn:aws:iam::aws:policy/{}", b.name),
            description: Some(b.description.to_string()),
            default_version_id: "v1".to_string(),
            next_version: 2,
            created_at: created.clone(),
            updated_at: created.clone(),
        };
        store.ensure_builtin_policy(&policy, b.document).await?;
    }
    Ok(())
}
