//! The sign-in throttle: failed logins per account and user name, kept in
//! the database so that every node sees them. `sts::login` consults it,
//! the purge task empties it.

use std::time::Duration;

use crate::error::ApiResult;
use crate::store::Store;

/// Failures within the lockout window that lock a name.
pub const MAX_FAILURES: u32 = 5;
/// How long a name stays locked after its last failure.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// Failed logins per account and user name, counted in the database
/// (`Store::record_login_failure`), so that every node locks a name
/// hammered on any of them. Each failure restarts the window, so a locked
/// name stays locked while it is being hammered; counts whose window ended
/// are deleted by the purge task.
#[derive(Clone)]
pub struct LoginThrottle {
    max_failures: u32,
    lockout: Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(MAX_FAILURES, LOCKOUT)
    }
}

fn unix_ms(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl LoginThrottle {
    pub fn new(max_failures: u32, lockout: Duration) -> Self {
        LoginThrottle {
            max_failures,
            lockout,
        }
    }

    fn key(account_id: &str, user_name: &str) -> String {
        // User names are unique ignoring case, so count them that way.
        format!("{account_id}/{}", user_name.to_lowercase())
    }

    /// The instant before which a failure no longer counts, for `now`.
    fn window_start_ms(&self, now: time::OffsetDateTime) -> i64 {
        unix_ms(now).saturating_sub(i64::try_from(self.lockout.as_millis()).unwrap_or(i64::MAX))
    }

    /// Failures of the name within the window (0: sign-in may go on
    /// without a reset afterwards).
    pub async fn failures(
        &self,
        store: &Store,
        account_id: &str,
        user_name: &str,
    ) -> ApiResult<i64> {
        let now = time::OffsetDateTime::now_utc();
        store
            .login_failures(&Self::key(account_id, user_name), self.window_start_ms(now))
            .await
            .map_err(Into::into)
    }

    pub fn locks(&self, failures: i64) -> bool {
        failures >= i64::from(self.max_failures)
    }

    pub async fn record_failure(
        &self,
        store: &Store,
        account_id: &str,
        user_name: &str,
    ) -> ApiResult<i64> {
        let now = time::OffsetDateTime::now_utc();
        store
            .record_login_failure(
                &Self::key(account_id, user_name),
                unix_ms(now),
                self.window_start_ms(now),
            )
            .await
            .map_err(Into::into)
    }

    pub async fn reset(&self, store: &Store, account_id: &str, user_name: &str) -> ApiResult<()> {
        store
            .clear_login_failures(&Self::key(account_id, user_name))
            .await
            .map_err(Into::into)
    }

    /// Deletes the counts whose window ended; the purge task calls it.
    pub async fn purge(&self, store: &Store) -> ApiResult<u64> {
        let now = time::OffsetDateTime::now_utc();
        store
            .purge_login_failures(self.window_start_ms(now))
            .await
            .map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttle_locks_after_max_failures_ignoring_case() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let failures =
            async |account: &str, name: &str| t.failures(&store, account, name).await.unwrap();
        for _ in 0..2 {
            t.record_failure(&store, "111122223333", "Alice")
                .await
                .unwrap();
        }
        assert!(!t.locks(failures("111122223333", "alice").await));
        t.record_failure(&store, "111122223333", "ALICE")
            .await
            .unwrap();
        assert!(t.locks(failures("111122223333", "alice").await));
        assert_eq!(failures("111122223333", "bob").await, 0);
        assert_eq!(failures("999999999999", "alice").await, 0);
        t.reset(&store, "111122223333", "alice").await.unwrap();
        assert!(!t.locks(failures("111122223333", "Alice").await));
    }

    #[tokio::test]
    async fn a_count_past_its_window_starts_over_and_is_purged() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        let old = unix_ms(time::OffsetDateTime::now_utc()) - 120_000;
        for _ in 0..3 {
            store
                .record_login_failure("111122223333/alice", old, old - 60_000)
                .await
                .unwrap();
        }
        // Three failures, all before the window: they do not count.
        assert_eq!(
            t.failures(&store, "111122223333", "alice").await.unwrap(),
            0
        );
        assert_eq!(t.purge(&store).await.unwrap(), 1);
        assert_eq!(
            t.record_failure(&store, "111122223333", "alice")
                .await
                .unwrap(),
            1
        );
        assert_eq!(t.purge(&store).await.unwrap(), 0);
    }
}
