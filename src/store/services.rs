//! The registered services of the action catalog. The store keeps each
//! definition as JSON text; parsing and checking it is the catalog's job.

use super::audit::AuditTx;
use super::error::StoreResult;
use super::Store;

impl AuditTx {
    /// Inserts or replaces the definition of `prefix` (lower-cased by the
    /// caller). Returns true when the prefix was new.
    pub async fn put_service(
        &mut self,
        prefix: &str,
        definition: &str,
        now: &str,
    ) -> StoreResult<bool> {
        self.touch_catalog();
        self.lock(prefix).await?;
        let existed: Option<(String,)> = on_db!(self.conn(), c => sqlx::query_as("SELECT prefix FROM services WHERE prefix = $1")
            .bind(prefix)
            .fetch_optional(c)
            .await)?;
        on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO services (prefix, definition, created_at, updated_at) VALUES ($1, $2, $3, $3)
             ON CONFLICT (prefix) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at",
        )
        .bind(prefix)
        .bind(definition)
        .bind(now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(existed.is_none())
    }
}

impl Store {
    /// Every registered definition, by prefix.
    pub async fn list_services(&self) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = on_db!(self.db(), c => sqlx::query_as("SELECT definition FROM services ORDER BY prefix")
                .fetch_all(c)
                .await)?;
        Ok(rows.into_iter().map(|(d,)| d).collect())
    }
}
