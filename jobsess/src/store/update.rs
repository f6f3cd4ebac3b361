//! The optimistic update, written once for every engine: read the job and
//! its revision, run the caller's change, and write only if the revision
//! is unchanged; when another writer got in between, wait a little and
//! start again, up to the store's number of tries.

use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};

/// How many times an update tries by default
/// (`with_update_attempts`'s default on every store).
const DEFAULT_UPDATE_ATTEMPTS: u32 = 32;

/// What every server-side store is configured with, whatever its engine:
/// how long a job lives after its owner's last write to it, and how many
/// tries an update makes. The stores' `with_ttl` and
/// `with_update_attempts` set it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    ttl: Duration,
    update_attempts: u32,
}

impl Settings {
    /// No expiry, and [`DEFAULT_UPDATE_ATTEMPTS`] tries.
    pub(crate) const fn new() -> Settings {
        Settings {
            ttl: Duration::ZERO,
            update_attempts: DEFAULT_UPDATE_ATTEMPTS,
        }
    }

    /// Jobs expire `ttl` after the last write (zero: never).
    pub(crate) const fn with_ttl(mut self, ttl: Duration) -> Settings {
        self.ttl = ttl;
        self
    }

    /// At least one try.
    pub(crate) fn with_update_attempts(mut self, attempts: u32) -> Settings {
        self.update_attempts = attempts.max(1);
        self
    }

    pub(crate) const fn update_attempts(&self) -> u32 {
        self.update_attempts
    }

    /// The TTL in seconds, fractions kept; 0: none.
    #[cfg(any(
        feature = "postgres",
        feature = "postgres-sqlx-09",
        feature = "sqlite",
        feature = "sqlite-sqlx-09"
    ))]
    pub(crate) fn ttl_seconds(&self) -> f64 {
        self.ttl.as_secs_f64()
    }

    /// The TTL, if jobs expire.
    #[cfg(any(
        feature = "postgres",
        feature = "postgres-sqlx-09",
        feature = "sqlite",
        feature = "sqlite-sqlx-09"
    ))]
    pub(crate) fn ttl(&self) -> Option<Duration> {
        Some(self.ttl).filter(|ttl| !ttl.is_zero())
    }

    /// The TTL in whole seconds, as `EXPIRE` takes it; 0: none (a TTL
    /// under a second too).
    #[cfg(feature = "redis")]
    pub(crate) fn ttl_whole_seconds(&self) -> i64 {
        i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX)
    }
}

/// The storage calls of a whole job, the engine's: what the methods of
/// [`engine_methods!`] and [`optimistic`] are made of.
pub(crate) trait Revised: Sync {
    /// What a write checks is unchanged.
    type Revision: Send;

    /// How many tries an update makes (the store's `with_update_attempts`).
    fn update_attempts(&self) -> u32;

    /// Replaces (or creates) the job under `key` with `value`; with
    /// `version`, unless the live job there is of a newer version. Whether
    /// a live job was there.
    fn write_job(
        &self,
        key: &str,
        value: Value,
        version: Option<u32>,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// The job under `key` and its revision; `None` if there is no live
    /// job.
    fn read_revised(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<(Self::Revision, Value)>>> + Send;

    /// Writes `new` under `key` if the job is still at `revision`; whether
    /// it was.
    fn write_if_unchanged(
        &self,
        key: &str,
        revision: Self::Revision,
        new: Value,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// Updates the job under `key` of `jobs` with `f` (see
/// [`AsyncSessionBackend::update`](crate::AsyncSessionBackend::update)), in
/// at most the store's number of tries.
pub(crate) async fn optimistic<S, F>(jobs: &S, key: &str, mut f: F) -> Result<bool>
where
    S: Revised,
    F: FnMut(&Value) -> Result<Option<Value>> + Send,
{
    let mut tries = Tries::new(key, jobs.update_attempts());
    while tries.next().await {
        let Some((revision, job)) = jobs.read_revised(key).await? else {
            return Ok(false);
        };
        let Some(new) = f(&job)? else {
            return Ok(true);
        };
        if jobs.write_if_unchanged(key, revision, new).await? {
            return Ok(true);
        }
    }
    Err(tries.conflict())
}

/// The tries of one optimistic write to `key`: each after the first waits
/// a random time that grows with each try ([`backoff`]).
pub(crate) struct Tries<'k> {
    key: &'k str,
    attempts: u32,
    made: u32,
}

impl<'k> Tries<'k> {
    pub(crate) fn new(key: &'k str, attempts: u32) -> Tries<'k> {
        Tries {
            key,
            attempts: attempts.max(1),
            made: 0,
        }
    }

    /// Waits before a try after the first; whether there is a try left.
    pub(crate) async fn next(&mut self) -> bool {
        if self.made >= self.attempts {
            return false;
        }
        if self.made > 0 {
            tokio::time::sleep(backoff(self.made)).await;
        }
        self.made += 1;
        true
    }

    /// The error once every try met another writer.
    pub(crate) fn conflict(self) -> Error {
        Error::Conflict {
            key: self.key.to_owned(),
            attempts: self.attempts,
        }
    }
}

/// How long an optimistic update waits before its try number `attempt`
/// (from 1): a random time up to 1 ms, doubled with each try up to 64 ms,
/// so writers that collided don't collide again in step.
fn backoff(attempt: u32) -> Duration {
    use std::hash::BuildHasher;
    let ceiling_us = 1000u64 << attempt.saturating_sub(1).min(6);
    let random = std::collections::hash_map::RandomState::new().hash_one(attempt);
    Duration::from_micros(random % ceiling_us)
}

/// The methods of [`AsyncSessionBackend`](crate::AsyncSessionBackend) that
/// every server-side engine makes the same way from its storage calls
/// ([`Revised`]), written once: put in an engine's impl of the contract.
/// `get` is the read without the revision, `insert` and `insert_versioned`
/// the engine's whole-job write (the version check in the same statement
/// or script), and `update` the [`optimistic`] loop.
macro_rules! engine_methods {
    () => {
        async fn get(&self, key: &str) -> Result<Option<Value>> {
            let read = $crate::store::update::Revised::read_revised(self, key).await?;
            Ok(read.map(|(_, job)| job))
        }

        async fn insert(&self, key: &str, value: Value) -> Result<bool> {
            $crate::store::update::Revised::write_job(self, key, value, None).await
        }

        async fn insert_versioned(&self, key: &str, value: Value, version: u32) -> Result<bool> {
            $crate::store::update::Revised::write_job(self, key, value, Some(version)).await
        }

        async fn update<F>(&self, key: &str, f: F) -> Result<bool>
        where
            F: FnMut(&Value) -> Result<Option<Value>> + Send,
        {
            $crate::store::update::optimistic(self, key, f).await
        }
    };
}
pub(crate) use engine_methods;
