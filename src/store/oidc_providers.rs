//! OpenID Connect providers: one row per account and issuer URL; their
//! tags are in `tags` under the provider's id.

use super::audit::AuditTx;
use super::error::{StoreError, StoreResult};
use super::{is_unique_violation, Store};
use crate::domain::oidc::OidcProvider;

/// An account's providers in URL order (AWS lists them all, at most 100:
/// no pages). Reads the (account_id, url) unique index in its order.
pub(crate) const LIST_OIDC_PROVIDERS_SQL: &str =
    "SELECT id, account_id, url, client_ids, thumbprints, key_source, jwks_uri,
     jwks_json, ca_bundle_pem, extra_claims, created_at
     FROM oidc_providers WHERE account_id = $1 ORDER BY url";

impl Store {
    pub async fn count_oidc_providers(&self, account_id: &str) -> StoreResult<i64> {
        let (n,): (i64,) = on_db!(self.db(), c => sqlx::query_as("SELECT COUNT(*) FROM oidc_providers WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(c)
            .await)?;
        Ok(n)
    }

    /// The provider of `account_id` whose URL (host/path, no scheme, no
    /// trailing slash) is `url`.
    pub async fn get_oidc_provider(
        &self,
        account_id: &str,
        url: &str,
    ) -> StoreResult<Option<OidcProvider>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT id, account_id, url, client_ids, thumbprints, key_source, jwks_uri,
             jwks_json, ca_bundle_pem, extra_claims, created_at
             FROM oidc_providers WHERE account_id = $1 AND url = $2",
        )
        .bind(account_id)
        .bind(url)
        .fetch_optional(c)
        .await)?)
    }

    pub async fn list_oidc_providers(&self, account_id: &str) -> StoreResult<Vec<OidcProvider>> {
        Ok(
            on_db!(self.db(), c => sqlx::query_as(LIST_OIDC_PROVIDERS_SQL)
            .bind(account_id)
            .fetch_all(c)
            .await)?,
        )
    }
}

impl AuditTx {
    pub async fn insert_oidc_provider(&mut self, p: &OidcProvider) -> StoreResult<()> {
        let inserted = on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO oidc_providers (id, account_id, url, client_ids, thumbprints, key_source,
             jwks_uri, jwks_json, ca_bundle_pem, extra_claims, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&p.id)
        .bind(&p.account_id)
        .bind(&p.url)
        .bind(&p.client_ids)
        .bind(&p.thumbprints)
        .bind(&p.key_source)
        .bind(&p.jwks_uri)
        .bind(&p.jwks_json)
        .bind(&p.ca_bundle_pem)
        .bind(&p.extra_claims)
        .bind(&p.created_at)
        .execute(c)
        .await.map(|r| r.rows_affected()));
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(format!(
                "Provider with url https://{} already exists.",
                p.url
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces the client ids or thumbprints (JSON arrays) only if they
    /// are still `old_*`: a read-modify-write that lost a race changes
    /// nothing and returns false.
    pub async fn update_oidc_provider_lists(
        &mut self,
        id: &str,
        old_client_ids: &str,
        client_ids: &str,
        old_thumbprints: &str,
        thumbprints: &str,
    ) -> StoreResult<bool> {
        let n = on_db!(self.conn(), c => sqlx::query(
            "UPDATE oidc_providers SET client_ids = $1, thumbprints = $2
             WHERE id = $3 AND client_ids = $4 AND thumbprints = $5",
        )
        .bind(client_ids)
        .bind(thumbprints)
        .bind(id)
        .bind(old_client_ids)
        .bind(old_thumbprints)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Deletes the provider and its tags; false when it was gone.
    pub async fn delete_oidc_provider(&mut self, id: &str) -> StoreResult<bool> {
        on_db!(self.conn(), c => sqlx::query("DELETE FROM tags WHERE entity_id = $1")
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        let n = on_db!(self.conn(), c => sqlx::query("DELETE FROM oidc_providers WHERE id = $1")
            .bind(id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
