//! The store's own error: what a query can tell its caller (a name taken, a
//! quota reached, a list parameter refused, a disk that refuses writes), and
//! every other database error kept opaque. sqlx errors become `StoreError`
//! here and nowhere else; the operations map it to AWS's codes
//! (`impl From<StoreError> for ApiError` in `src/error.rs`). A storage
//! failure also outlasts its request: [`WriteHealth`] remembers it until a
//! write commits again (`health.rs` turns that into /readyz).

use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name is taken; the message is AWS's for the entity.
    #[error("{0}")]
    AlreadyExists(String),
    /// A quota the store checks inside its transaction (policy versions).
    #[error("{0}")]
    LimitExceeded(String),
    /// A list parameter out of IAM's bounds (`MaxItems`, `PathPrefix`).
    #[error("{0}")]
    InvalidListParameter(String),
    /// A marker this store did not hand out.
    #[error("Invalid Marker.")]
    InvalidMarker,
    /// The database cannot take writes now (its disk is full, or failing):
    /// temporary, and reads keep working.
    #[error("The service cannot store changes right now; try again later.")]
    StorageUnavailable,
    /// Anything else the database said: not the client's fault.
    #[error("{context}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// SQLite's primary result codes for a disk that cannot take the write:
/// SQLITE_IOERR (10), SQLITE_FULL (13), SQLITE_CANTOPEN (14).
const STORAGE_FAILURES: [i64; 3] = [10, 13, 14];

/// PostgreSQL's SQLSTATE classes for the same: 53 (insufficient
/// resources: disk full, out of memory, too many connections) and 58
/// (system error: I/O error, undefined file).
const PG_STORAGE_CLASSES: [&str; 2] = ["53", "58"];

/// True for an error that says the storage, not the statement, failed.
pub fn is_storage_failure(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db)
            if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some() =>
        {
            db.code()
                .is_some_and(|code| PG_STORAGE_CLASSES.iter().any(|c| code.starts_with(c)))
        }
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            // Extended codes carry the primary code in their low byte.
            .is_some_and(|code| STORAGE_FAILURES.contains(&(code & 0xff))),
        sqlx::Error::Io(_) => true,
        _ => false,
    }
}

impl StoreError {
    /// A database error with what the store was doing: a full or failing
    /// disk is the server's temporary state, anything else is opaque.
    pub(crate) fn database(e: sqlx::Error, context: &'static str) -> Self {
        if is_storage_failure(&e) {
            tracing::warn!(error = %e, context, "the database cannot take writes");
            return StoreError::StorageUnavailable;
        }
        StoreError::Database { context, source: e }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::database(e, "database error")
    }
}

/// The error of a caller that runs its own code inside a store transaction
/// ([`super::Store::audited`]): it carries store errors, and the store must
/// still see a storage failure among them to keep its write health true.
pub trait CarriesStoreError: From<StoreError> {
    fn is_storage_unavailable(&self) -> bool;
}

impl CarriesStoreError for StoreError {
    fn is_storage_unavailable(&self) -> bool {
        matches!(self, StoreError::StorageUnavailable)
    }
}

/// Set by a write that failed for the storage's sake, cleared by the next
/// write that commits.
#[derive(Debug, Default)]
pub struct WriteHealth {
    failing: AtomicBool,
}

impl WriteHealth {
    pub fn observe<T, E: CarriesStoreError>(&self, result: &Result<T, E>) {
        match result {
            Ok(_) => self.failing.store(false, Ordering::Relaxed),
            Err(e) if e.is_storage_unavailable() => self.failing.store(true, Ordering::Relaxed),
            Err(_) => {}
        }
    }

    pub fn failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }
}
