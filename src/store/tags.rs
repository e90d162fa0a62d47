//! Tags of users, roles, managed policies and instance profiles, keyed by the entity's unique
//! id. Keys are unique ignoring case: a new `Dept` replaces `dept`.

use super::audit::AuditTx;
use super::error::StoreResult;
use super::Store;
use crate::domain::Tag;

impl Store {
    pub async fn list_tags(&self, entity_id: &str) -> StoreResult<Vec<Tag>> {
        let rows: Vec<(String, String)> = on_db!(self.db(), c => sqlx::query_as("SELECT key, value FROM tags WHERE entity_id = $1 ORDER BY key_lower")
                .bind(entity_id)
                .fetch_all(c)
                .await)?;
        Ok(rows
            .into_iter()
            .map(|(key, value)| Tag { key, value })
            .collect())
    }
}

impl AuditTx {
    pub(crate) async fn replace_tags_in(
        &mut self,
        entity_id: &str,
        tags: &[Tag],
    ) -> StoreResult<()> {
        for tag in tags {
            on_db!(self.conn(), c => sqlx::query(
                "INSERT INTO tags (entity_id, key, key_lower, value) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (entity_id, key_lower) DO UPDATE SET key = excluded.key, value = excluded.value",
            )
            .bind(entity_id)
            .bind(&tag.key)
            .bind(tag.key.to_lowercase())
            .bind(&tag.value)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Adds or replaces tags, refusing to go over `max` tags in all.
    /// Returns false when the total would exceed it; the caller must then
    /// fail the audited write so that the transaction rolls back.
    pub async fn tag_entity(
        &mut self,
        entity_id: &str,
        tags: &[Tag],
        max: usize,
    ) -> StoreResult<bool> {
        self.lock(entity_id).await?;
        self.replace_tags_in(entity_id, tags).await?;
        let (count,): (i64,) = on_db!(self.conn(), c => sqlx::query_as("SELECT COUNT(*) FROM tags WHERE entity_id = $1")
            .bind(entity_id)
            .fetch_one(c)
            .await)?;
        if count as usize > max {
            return Ok(false);
        }
        Ok(true)
    }

    pub async fn untag_entity(&mut self, entity_id: &str, keys: &[String]) -> StoreResult<()> {
        for key in keys {
            on_db!(self.conn(), c => sqlx::query("DELETE FROM tags WHERE entity_id = $1 AND key_lower = $2")
                .bind(entity_id)
                .bind(key.to_lowercase())
                .execute(c)
                .await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Drops every tag of an entity being deleted.
    pub async fn delete_all_tags(&mut self, entity_id: &str) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query("DELETE FROM tags WHERE entity_id = $1")
            .bind(entity_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
