//! The change counter that keeps the caches of several nodes on one
//! database coherent (`src/coherence.rs` polls it). One row: `generation`
//! advances in the transaction of every write that changes cached state,
//! `catalog` in that of every write to the service definitions. Advancing
//! it in the writing transaction means a node that reads the new value
//! reads after the write committed, so what it loads after dropping its
//! caches is the new state.

use sqlx::SqliteConnection;

use super::Store;
use crate::error::ApiResult;

/// The counter after a write advanced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advance {
    pub generation: i64,
    /// The catalog's value, when this write advanced it.
    pub catalog: Option<i64>,
}

/// The counter's values as a node reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Counter {
    pub generation: i64,
    pub catalog: i64,
}

/// Advances the counter inside a write transaction (`Store::audited`). Only
/// called there, so that no write commits without it.
pub(super) async fn advance(conn: &mut SqliteConnection, catalog: bool) -> ApiResult<Advance> {
    let counter: Counter = sqlx::query_as(
        "UPDATE coherence SET generation = generation + 1, catalog = catalog + $1
         WHERE id = 1 RETURNING generation, catalog",
    )
    .bind(i64::from(catalog))
    .fetch_one(conn)
    .await?;
    Ok(Advance {
        generation: counter.generation,
        catalog: catalog.then_some(counter.catalog),
    })
}

impl Store {
    /// The counter now: one primary-key read, what every node runs every
    /// poll.
    pub async fn coherence_counter(&self) -> ApiResult<Counter> {
        Ok(
            sqlx::query_as("SELECT generation, catalog FROM coherence WHERE id = 1")
                .fetch_one(self.pool())
                .await?,
        )
    }
}
