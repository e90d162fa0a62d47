//! Login-profile passwords: argon2id, hashed and verified off the async
//! threads, a bounded number at a time ([`HashingBound`]). An unknown user
//! is verified against a dummy hash so the timing does not reveal whether
//! the user exists.

use std::num::NonZeroUsize;
use std::sync::Arc;

use anyhow::{anyhow, Context as _};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::Argon2;
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

/// A PHC string of a throw-away password, for the unknown-user path.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$gZiV/M1gPc22ElAH/Jh1Hw$CWOrkoo7oJBQ/iyh7uJ0LO2aLEfrHwTWllSAxT0zRno";

/// Requests that may wait for a hashing turn, per concurrent turn.
pub const QUEUE_PER_TURN: usize = 4;

/// How many argon2 computations run at once, and how many more may wait.
///
/// Each computation holds argon2id's 19 MiB for its whole run, and anyone
/// can start one (a login with a made-up name is verified against the
/// dummy hash): unbounded, 200 concurrent logins took the server from 91 MB
/// to 735 MB. Running more at once than there are cores makes none of them
/// finish sooner, so one runs per core; beyond a short queue a request is
/// refused at once (503 `ServiceUnavailable`, which AWS SDKs retry) rather
/// than waiting behind work it cannot overtake.
#[derive(Clone)]
pub struct HashingBound {
    running: Arc<Semaphore>,
    /// Running plus waiting.
    admitted: Arc<Semaphore>,
}

impl HashingBound {
    pub fn new(concurrency: usize, queue: usize) -> Self {
        let concurrency = concurrency.max(1);
        HashingBound {
            running: Arc::new(Semaphore::new(concurrency)),
            admitted: Arc::new(Semaphore::new(concurrency.saturating_add(queue))),
        }
    }

    /// The configured sizes, or one turn per core and [`QUEUE_PER_TURN`]
    /// waiting per turn.
    pub fn from_settings(concurrency: Option<usize>, queue: Option<usize>) -> Self {
        let concurrency = concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
            .max(1);
        Self::new(
            concurrency,
            queue.unwrap_or(concurrency.saturating_mul(QUEUE_PER_TURN)),
        )
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> ApiResult<T> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| busy())?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .context("hashing bound closed")?;
        // The turn goes with the work, not with the request: argon2 runs
        // on after a caller hangs up, so the turn ends when the hash does.
        let out = tokio::task::spawn_blocking(move || {
            let out = work();
            drop((running, admitted));
            out
        })
        .await
        .context("hashing task failed")?;
        Ok(out)
    }
}

fn busy() -> ApiError {
    ApiError::ServiceUnavailable(
        "The server is busy checking other passwords; retry shortly.".into(),
    )
}

pub async fn hash_password(bound: &HashingBound, password: String) -> ApiResult<String> {
    let hashed = bound
        .run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| anyhow!("hashing failed: {e}"))
        })
        .await?;
    Ok(hashed?)
}

/// True when `password` matches `stored`; with `stored` = None the work is
/// still done (against the dummy hash) and the answer is false.
pub async fn verify_password(
    bound: &HashingBound,
    password: String,
    stored: Option<String>,
) -> ApiResult<bool> {
    let verified = bound
        .run(move || {
            let known = stored.is_some();
            let phc = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
            let parsed =
                PasswordHash::new(&phc).map_err(|e| anyhow!("stored hash is invalid: {e}"))?;
            let ok = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            anyhow::Ok(known && ok)
        })
        .await?;
    Ok(verified?)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_dummy_never_matches() {
        let bound = HashingBound::new(1, 0);
        let hash = hash_password(&bound, "correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password(&bound, "correct horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!verify_password(&bound, "wrong".into(), Some(hash))
            .await
            .unwrap());
        assert!(!verify_password(&bound, "anything".into(), None)
            .await
            .unwrap());
    }

    /// Starts work on `bound` that runs until the returned sender is used
    /// (or dropped), and waits until it holds its turn.
    async fn occupy(
        bound: &HashingBound,
    ) -> (mpsc::Sender<()>, tokio::task::JoinHandle<ApiResult<()>>) {
        let (release, released) = mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let bound = bound.clone();
        let task = tokio::spawn(async move {
            bound
                .run(move || {
                    let _ = started.send(());
                    let _ = released.recv();
                })
                .await
        });
        running.await.unwrap();
        (release, task)
    }

    fn refused<T: std::fmt::Debug>(r: ApiResult<T>) -> bool {
        matches!(r, Err(ApiError::ServiceUnavailable(_)))
    }

    #[tokio::test]
    async fn runs_one_per_turn_queues_a_few_and_refuses_the_rest() {
        let bound = HashingBound::new(1, 1);
        let (release, first) = occupy(&bound).await;
        let queued = tokio::spawn({
            let bound = bound.clone();
            async move { bound.run(|| 2).await }
        });
        while bound.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(!queued.is_finished());
        assert!(refused(bound.run(|| 3).await));

        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(queued.await.unwrap().unwrap(), 2);
        // Every turn was given back.
        assert_eq!(bound.running.available_permits(), 1);
        assert_eq!(bound.admitted.available_permits(), 2);
        assert_eq!(bound.run(|| 4).await.unwrap(), 4);
    }

    #[tokio::test]
    async fn a_caller_that_hangs_up_keeps_its_turn_until_its_hash_ends() {
        let bound = HashingBound::new(1, 0);
        let (release, caller) = occupy(&bound).await;
        caller.abort();
        assert!(caller.await.unwrap_err().is_cancelled());
        assert!(refused(bound.run(|| ()).await));

        drop(release);
        let mut waited = 0;
        while bound.admitted.available_permits() == 0 {
            assert!(waited < 1000, "the turn was never given back");
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += 1;
        }
        bound.run(|| ()).await.unwrap();
    }

    #[test]
    fn defaults_to_one_turn_per_core_and_a_short_queue() {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        let bound = HashingBound::from_settings(None, None);
        assert_eq!(bound.running.available_permits(), cores);
        assert_eq!(
            bound.admitted.available_permits(),
            cores * (1 + QUEUE_PER_TURN)
        );
        let bound = HashingBound::from_settings(Some(0), Some(0));
        assert_eq!(bound.running.available_permits(), 1);
        assert_eq!(bound.admitted.available_permits(), 1);
    }
}
