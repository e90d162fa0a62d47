//! First start: on an empty database, create the management account and
//! its root access key and write them to a 0600 file in the data directory.
//! The log names the file, never the secret.

use anyhow::Context as _;
use serde_json::json;

use crate::audit::AuditEvent;
use crate::config::Config;
use crate::domain::{now, AccessKeyId, Account, AccountId, SecretAccessKey};
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
    if path.exists() {
        std::fs::remove_file(&path)
            .with_context(|| format!("replacing stale {}", path.display()))?;
    }
    crate::auth::crypto::write_private_file(&path, text.as_bytes())?;
    let event = AuditEvent::system(
        "latchkey:Bootstrap",
        &format!("arn:aws:iam::{}:root", account.id),
    )
    .params(json!({"account_id": account.id, "root_access_key_id": key.key.access_key_id}));
    let event = AuditEvent {
        account_id: Some(account.id.clone()),
        ..event
    };
    state
        .store
        .audited(event, async |tx| {
            tx.insert_account(&account).await?;
            tx.insert_access_key(&key.key).await
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(
        account_id = %account.id,
        access_key_id = %key.key.access_key_id,
        credentials_file = %path.display(),
        "created the management account; its root credentials are in the credentials file"
    );
    Ok(())
}
