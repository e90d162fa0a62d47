//! Virtual MFA devices (`mfa_devices`, migration 0013): one row per device,
//! its seed sealed, the user it is enabled for, and the newest accepted
//! time step. Accepting a code is one conditional UPDATE that moves that
//! step forward, so two requests (or two nodes on one PostgreSQL) cannot
//! both accept the same code.

use super::audit::AuditTx;
use super::error::{StoreError, StoreResult};
use super::{is_unique_violation, Store};
use crate::domain::{MfaDevice, MfaDeviceRow, Tag};

macro_rules! device_columns {
    () => {
        "d.serial, d.account_id, d.name, d.path, d.seed_ciphertext, d.user_id, d.enabled_at,
         d.last_step, d.step_offset, d.created_at"
    };
}

/// An account's devices after a serial, in serial order, with the user
/// each is enabled for: `$1` account, `$2` `Assigned`, `Unassigned` or
/// `Any`, `$3` the serial after which the page starts, `$4` the limit.
/// Reads `mfa_devices_by_account` in its order.
pub(crate) const LIST_VIRTUAL_MFA_DEVICES_SQL: &str = concat!(
    "SELECT ",
    device_columns!(),
    ", u.name AS user_name, u.path AS user_path, u.created_at AS user_created_at
     FROM mfa_devices d LEFT JOIN users u ON u.id = d.user_id
     WHERE d.account_id = $1 AND d.serial > $3
       AND ($2 = 'Any' OR (d.user_id IS NOT NULL) = ($2 = 'Assigned'))
     ORDER BY d.serial LIMIT $4"
);

/// A user's enabled devices after a serial: `$1` user id, `$2` the serial
/// after which the page starts, `$3` the limit. Reads `mfa_devices_by_user`.
pub(crate) const LIST_USER_MFA_DEVICES_SQL: &str = concat!(
    "SELECT ",
    device_columns!(),
    " FROM mfa_devices d WHERE d.user_id = $1 AND d.serial > $2 ORDER BY d.serial LIMIT $3"
);

/// Device counts of an account (GetAccountSummary).
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct MfaCounts {
    pub devices: i64,
    pub in_use: i64,
}

impl Store {
    pub async fn get_mfa_device(&self, serial: &str) -> StoreResult<Option<MfaDevice>> {
        Ok(on_db!(self.db(), c => sqlx::query_as(concat!(
            "SELECT ",
            device_columns!(),
            " FROM mfa_devices d WHERE d.serial = $1"
        ))
        .bind(serial)
        .fetch_optional(c)
        .await)?)
    }

    pub async fn list_virtual_mfa_devices(
        &self,
        account_id: &str,
        status: &str,
        after: &str,
        limit: i64,
    ) -> StoreResult<Vec<MfaDeviceRow>> {
        Ok(
            on_db!(self.db(), c => sqlx::query_as(LIST_VIRTUAL_MFA_DEVICES_SQL)
            .bind(account_id)
            .bind(status)
            .bind(after)
            .bind(limit)
            .fetch_all(c)
            .await)?,
        )
    }

    pub async fn list_user_mfa_devices(
        &self,
        user_id: &str,
        after: &str,
        limit: i64,
    ) -> StoreResult<Vec<MfaDevice>> {
        Ok(
            on_db!(self.db(), c => sqlx::query_as(LIST_USER_MFA_DEVICES_SQL)
            .bind(user_id)
            .bind(after)
            .bind(limit)
            .fetch_all(c)
            .await)?,
        )
    }

    /// How many devices are enabled for the user.
    pub async fn count_user_mfa_devices(&self, user_id: &str) -> StoreResult<i64> {
        let (n,): (i64,) = on_db!(self.db(), c => sqlx::query_as(
            "SELECT COUNT(*) FROM mfa_devices WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_one(c)
        .await)?;
        Ok(n)
    }

    /// The account's users that have a device enabled (the credential report).
    pub async fn users_with_mfa(&self, account_id: &str) -> StoreResult<Vec<String>> {
        Ok(on_db!(self.db(), c => sqlx::query_scalar(
            "SELECT DISTINCT user_id FROM mfa_devices WHERE account_id = $1 AND user_id IS NOT NULL"
        )
        .bind(account_id)
        .fetch_all(c)
        .await)?)
    }

    pub async fn mfa_counts(&self, account_id: &str) -> StoreResult<MfaCounts> {
        Ok(on_db!(self.db(), c => sqlx::query_as(
            "SELECT COUNT(*) AS devices, COUNT(user_id) AS in_use
             FROM mfa_devices WHERE account_id = $1"
        )
        .bind(account_id)
        .fetch_one(c)
        .await)?)
    }
}

impl AuditTx {
    /// Takes the user's MFA lock (so that two enables cannot both pass the
    /// quota) and counts the devices enabled for the user, in the
    /// transaction.
    pub async fn lock_user_mfa_devices(&mut self, user_id: &str) -> StoreResult<i64> {
        self.lock(&format!("mfa-user:{user_id}")).await?;
        let (n,): (i64,) = on_db!(self.conn(), c => sqlx::query_as(
            "SELECT COUNT(*) FROM mfa_devices WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_one(c)
        .await)?;
        Ok(n)
    }

    /// Inserts a new, unassigned device with its tags.
    pub async fn insert_mfa_device(&mut self, d: &MfaDevice, tags: &[Tag]) -> StoreResult<()> {
        let inserted = on_db!(self.conn(), c => sqlx::query(
            "INSERT INTO mfa_devices (serial, account_id, name, path, seed_ciphertext, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&d.serial)
        .bind(&d.account_id)
        .bind(&d.name)
        .bind(&d.path)
        .bind(&d.seed_ciphertext)
        .bind(&d.created_at)
        .execute(c)
        .await.map(|r| r.rows_affected()));
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists(
                    "MFADevice entity at the same path and name already exists.".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        }
        self.replace_tags_in(&d.serial, tags).await
    }

    /// Enables an unassigned device for a user at `step` (the newer of the
    /// two codes). False when the device is assigned by now, or `step` is
    /// not after its last accepted one.
    pub async fn enable_mfa_device(
        &mut self,
        serial: &str,
        user_id: &str,
        at: &str,
        step: i64,
        step_offset: i64,
    ) -> StoreResult<bool> {
        let n = on_db!(self.conn(), c => sqlx::query(
            "UPDATE mfa_devices SET user_id = $1, enabled_at = $2, last_step = $3, step_offset = $4
             WHERE serial = $5 AND user_id IS NULL AND (last_step IS NULL OR last_step < $3)",
        )
        .bind(user_id)
        .bind(at)
        .bind(step)
        .bind(step_offset)
        .bind(serial)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Accepts a code of the device's `step`: moves the replay guard
    /// forward, only if the device is still enabled for `user_id` and the
    /// step is later than every step accepted before. False otherwise (a
    /// replay, or a code raced by another request).
    pub async fn accept_mfa_step(
        &mut self,
        serial: &str,
        user_id: &str,
        step: i64,
    ) -> StoreResult<bool> {
        let n = on_db!(self.conn_keeping_caches(), c => sqlx::query(
            "UPDATE mfa_devices SET last_step = $1
             WHERE serial = $2 AND user_id = $3 AND (last_step IS NULL OR last_step < $1)",
        )
        .bind(step)
        .bind(serial)
        .bind(user_id)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Resynchronizes an enabled device: its new clock offset and the step
    /// of the newer code, under the same replay guard.
    pub async fn resync_mfa_device(
        &mut self,
        serial: &str,
        user_id: &str,
        step: i64,
        step_offset: i64,
    ) -> StoreResult<bool> {
        let n = on_db!(self.conn(), c => sqlx::query(
            "UPDATE mfa_devices SET last_step = $1, step_offset = $2
             WHERE serial = $3 AND user_id = $4 AND (last_step IS NULL OR last_step < $1)",
        )
        .bind(step)
        .bind(step_offset)
        .bind(serial)
        .bind(user_id)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Unassigns a device from its user; false when it is not enabled for
    /// that user. The replay guard stays: a code used before cannot be
    /// used again after a re-enable.
    pub async fn deactivate_mfa_device(
        &mut self,
        serial: &str,
        user_id: &str,
    ) -> StoreResult<bool> {
        let n = on_db!(self.conn(), c => sqlx::query(
            "UPDATE mfa_devices SET user_id = NULL, enabled_at = NULL
             WHERE serial = $1 AND user_id = $2",
        )
        .bind(serial)
        .bind(user_id)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Deletes an unassigned device and its tags; false when it is gone or
    /// enabled for someone.
    pub async fn delete_mfa_device(&mut self, serial: &str) -> StoreResult<bool> {
        let n = on_db!(self.conn(), c => sqlx::query(
            "DELETE FROM mfa_devices WHERE serial = $1 AND user_id IS NULL"
        )
        .bind(serial)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        if n == 1 {
            self.delete_all_tags(serial).await?;
        }
        Ok(n == 1)
    }

    /// Deletes an account's devices (none can be enabled: its users are
    /// gone) and their tags, with the account.
    pub(crate) async fn delete_account_mfa_devices(&mut self, account_id: &str) -> StoreResult<()> {
        on_db!(self.conn(), c => sqlx::query(
            "DELETE FROM tags WHERE entity_id IN (SELECT serial FROM mfa_devices WHERE account_id = $1)"
        )
        .bind(account_id)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        on_db!(self.conn(), c => sqlx::query("DELETE FROM mfa_devices WHERE account_id = $1")
            .bind(account_id)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
