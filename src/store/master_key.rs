//! The master key's check value, and the sealed secrets a rotation finds
//! and re-seals. A sealed value starts with the check of the key that
//! sealed it (see `auth::crypto`), so the values still under another key
//! are those whose first bytes differ from the current key's header.

use super::audit::AuditTx;
use super::error::StoreResult;
use super::Store;
use crate::domain::now;

/// The tables that hold secrets sealed under the master key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedTable {
    AccessKeys,
    Sessions,
    /// TOTP seeds, sealed under the device's serial.
    MfaDevices,
}

impl SealedTable {
    pub const ALL: [SealedTable; 3] = [
        SealedTable::AccessKeys,
        SealedTable::Sessions,
        SealedTable::MfaDevices,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SealedTable::AccessKeys => "access_keys",
            SealedTable::Sessions => "role_sessions",
            SealedTable::MfaDevices => "mfa_devices",
        }
    }
}

// The statements per table, outside any impl: they run only from the
// methods below. substr() on a blob counts bytes, in SQLite as in
// PostgreSQL (bytea).
fn count_elsewhere_sql(table: SealedTable) -> &'static str {
    match table {
        SealedTable::AccessKeys => {
            "SELECT COUNT(*) FROM access_keys WHERE substr(secret_ciphertext, 1, $1) <> $2"
        }
        SealedTable::Sessions => {
            "SELECT COUNT(*) FROM role_sessions WHERE substr(secret_ciphertext, 1, $1) <> $2"
        }
        SealedTable::MfaDevices => {
            "SELECT COUNT(*) FROM mfa_devices WHERE substr(seed_ciphertext, 1, $1) <> $2"
        }
    }
}

fn select_elsewhere_sql(table: SealedTable) -> &'static str {
    match table {
        SealedTable::AccessKeys => {
            "SELECT access_key_id, secret_ciphertext FROM access_keys
             WHERE substr(secret_ciphertext, 1, $1) <> $2 ORDER BY access_key_id LIMIT $3"
        }
        SealedTable::Sessions => {
            "SELECT access_key_id, secret_ciphertext FROM role_sessions
             WHERE substr(secret_ciphertext, 1, $1) <> $2 ORDER BY access_key_id LIMIT $3"
        }
        // The serial is the seed's sealing context, as a key id is a secret's.
        SealedTable::MfaDevices => {
            "SELECT serial AS access_key_id, seed_ciphertext AS secret_ciphertext FROM mfa_devices
             WHERE substr(seed_ciphertext, 1, $1) <> $2 ORDER BY serial LIMIT $3"
        }
    }
}

fn replace_sql(table: SealedTable) -> &'static str {
    match table {
        SealedTable::AccessKeys => {
            "UPDATE access_keys SET secret_ciphertext = $1
             WHERE access_key_id = $2 AND secret_ciphertext = $3"
        }
        SealedTable::Sessions => {
            "UPDATE role_sessions SET secret_ciphertext = $1
             WHERE access_key_id = $2 AND secret_ciphertext = $3"
        }
        SealedTable::MfaDevices => {
            "UPDATE mfa_devices SET seed_ciphertext = $1
             WHERE serial = $2 AND seed_ciphertext = $3"
        }
    }
}

/// A sealed secret: the row's key id (the sealing context) and the value.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SealedSecret {
    pub access_key_id: String,
    pub secret_ciphertext: Vec<u8>,
}

impl Store {
    /// The check value of the key the database is sealed under; None on a
    /// database that no server with checks has started yet.
    pub async fn master_key_check(&self) -> StoreResult<Option<String>> {
        Ok(
            on_db!(self.db(), c => sqlx::query_scalar("SELECT key_check FROM master_key WHERE id = 1")
                .fetch_optional(c)
                .await)?,
        )
    }

    /// Some stored secret, to try the key on a database that has no check
    /// value yet.
    pub async fn any_sealed_secret(&self) -> StoreResult<Option<SealedSecret>> {
        let key = on_db!(self.db(), c => sqlx::query_as(
            "SELECT access_key_id, secret_ciphertext FROM access_keys ORDER BY access_key_id LIMIT 1",
        )
        .fetch_optional(c)
        .await)?;
        if key.is_some() {
            return Ok(key);
        }
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT access_key_id, secret_ciphertext FROM role_sessions ORDER BY access_key_id LIMIT 1",
        )
        .fetch_optional(c)
        .await)?)
    }

    /// How many secrets of `table` do not start with `header` (are not
    /// sealed under the current key).
    pub async fn count_sealed_elsewhere(
        &self,
        table: SealedTable,
        header: &[u8],
    ) -> StoreResult<i64> {
        Ok(
            on_db!(self.db(), c => sqlx::query_scalar(count_elsewhere_sql(table))
            .bind(header.len() as i32)
            .bind(header)
            .fetch_one(c)
            .await)?,
        )
    }
}

impl AuditTx {
    /// Records the check value of the key every secret is now sealed under.
    pub async fn set_master_key_check(&mut self, check: &str) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO master_key (id, key_check, updated_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET key_check = excluded.key_check,
                                            updated_at = excluded.updated_at",
        )
        .bind(check)
        .bind(now())
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Up to `limit` secrets of `table` not sealed under the key whose
    /// header is `header`, read inside the transaction that re-seals them.
    pub async fn sealed_elsewhere(
        &mut self,
        table: SealedTable,
        header: &[u8],
        limit: i64,
    ) -> StoreResult<Vec<SealedSecret>> {
        Ok(
            on_db!(self.conn(), c => sqlx::query_as(select_elsewhere_sql(table))
            .bind(header.len() as i32)
            .bind(header)
            .bind(limit)
            .fetch_all(c)
            .await)?,
        )
    }

    /// Replaces one sealed secret, unless it changed since it was read.
    pub async fn replace_sealed(
        &mut self,
        table: SealedTable,
        old: &SealedSecret,
        new: &[u8],
    ) -> StoreResult<bool> {
        let result = on_db!(self.conn(), c => sqlx::query(replace_sql(table))
            .bind(new)
            .bind(&old.access_key_id)
            .bind(&old.secret_ciphertext)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }
}
