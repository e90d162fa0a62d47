//! First start: on an empty database, create the management account and
//! its root access key and write them to a 0600 file in the data directory.
//! The log names the file, never the secret.
//!
//! Nodes that start at the same moment on one empty database create exactly
//! one account: the transaction that creates it first claims the one row of
//! the `bootstrap` table, which only one transaction can insert. The others
//! roll back, use the winner's account, and leave no credentials file of
//! their own (only the winner's names a key that exists).

use anyhow::Context as _;
use serde_json::json;

use crate::audit::AuditEvent;
use crate::config::Config;
use crate::domain::{now, AccessKeyId, Account, AccountId, SecretAccessKey};
use crate::error::ApiError;
use crate::iam::access_keys::seal_new_key;
use crate::state::AppState;

pub const CREDENTIALS_FILE: &str = "root-credentials.json";

pub async fn bootstrap(state: &AppState, config: &Config) -> anyhow::Result<()> {
    crate::iam::builtin::ensure_builtin_policies(&state.store)
        .await
        .map_err(|e| anyhow::anyhow!("seeding built-in policies: {e}"))?;
    if let Some(account) = state
        .store
        .management_account()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        tracing::info!(account_id = %account.id, "management account present");
        return Ok(());
    }
    let preset = match (&config.root_access_key_id, &config.root_secret_access_key) {
        (Some(id), Some(secret)) => Some((
            AccessKeyId::parse(id)
                .ok()
                .filter(|k| k.as_str().starts_with("AKIA"))
                .context("LATCHKEY_ROOT_ACCESS_KEY_ID must be AKIA followed by 16 upper-case letters or digits")?,
            SecretAccessKey::parse(secret.expose()).map_err(anyhow::Error::msg)?,
        )),
        (None, None) => None,
        _ => anyhow::bail!("set both LATCHKEY_ROOT_ACCESS_KEY_ID and LATCHKEY_ROOT_SECRET_ACCESS_KEY, or neither"),
    };
    let account = Account {
        id: AccountId::generate().to_string(),
        name: "management".into(),
        is_management: true,
        created_at: now(),
    };
    let key = seal_new_key(state, &account.id, None, preset).map_err(|e| anyhow::anyhow!("{e}"))?;
    let path = config.data_dir.join(CREDENTIALS_FILE);
    let contents = serde_json::json!({
        "account_id": account.id,
        "access_key_id": key.key.access_key_id,
        "secret_access_key": key.secret.expose(),
    });
    let text = serde_json::to_string_pretty(&contents)?;
    // Written before the commit, under a name of its own, and renamed once
    // the account exists: a crash after the commit still leaves the
    // credentials on disk, and a node that loses the claim removes its file
    // before anyone could take it for the real one.
    let pending = config
        .data_dir
        .join(format!("{CREDENTIALS_FILE}.{}.pending", account.id));
    crate::auth::crypto::write_private_file(&pending, text.as_bytes())?;
    let event = AuditEvent::system(
        "latchkey:Bootstrap",
        &format!("arn:aws:iam::{}:root", account.id),
    )
    .params(json!({"account_id": account.id, "root_access_key_id": key.key.access_key_id}));
    let event = AuditEvent {
        account_id: Some(account.id.clone()),
        ..event
    };
    let mut lost = false;
    let created = crate::audit::audited_unrecorded(state, event, async |tx| {
        if !tx.claim_bootstrap(&account.id).await? {
            lost = true;
            return Err(ApiError::EntityAlreadyExists(
                "another node created the management account".into(),
            ));
        }
        tx.insert_account(&account).await?;
        tx.insert_access_key(&key.key).await?;
        Ok::<_, ApiError>(())
    })
    .await;
    if let Err(e) = created {
        let _ = std::fs::remove_file(&pending);
        if !lost {
            anyhow::bail!("{e}");
        }
        let account = state
            .store
            .management_account()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .context("the bootstrap was claimed, but no management account is visible")?;
        tracing::info!(account_id = %account.id, "another node created the management account");
        return Ok(());
    }
    // Replaces a stale file of an earlier database in one step.
    std::fs::rename(&pending, &path)
        .with_context(|| format!("moving the root credentials to {}", path.display()))?;
    tracing::info!(
        account_id = %account.id,
        access_key_id = %key.key.access_key_id,
        credentials_file = %path.display(),
        "created the management account; its root credentials are in the credentials file"
    );
    Ok(())
}
