//! The server-side Redis job store (feature `redis`).
//!
//! Cookie and session-store backends keep a user's whole session in one
//! record that each request loads and saves whole, so two concurrent
//! requests that both write can lose one write. The Redis job store keeps
//! job metadata out of the session instead: the session holds only an opaque
//! owner token, and each job lives in Redis as one hash with one hash field
//! per metadata field (the field's JSON). Every operation of the handle is
//! one round trip, atomic: reads are plain commands, writes one script
//! each, loaded once and run by hash:
//!
//! - `load_field` reads one hash field (`HMGET`), `store_field` writes one
//!   (only if the job exists), so concurrent requests that change different
//!   fields, or different jobs, lose nothing;
//! - `store` replaces the whole hash, `delete` removes it;
//! - each owner has an index of its job keys, a sorted set scored by expiry,
//!   so `ids()` and `clear()` see exactly that owner's live jobs, on any
//!   number of app instances. Listing is one `ZRANGE` while no entry can
//!   have expired; when one may have, a second round trip runs a script
//!   that drops the expired entries and lists the rest on the server's
//!   clock. (With a TTL, the server's clock is read once a minute to know
//!   which entries may have expired.)
//!
//! Redis keys: `namespace:{owner}:job-key` for a job's hash and
//! `namespace:{owner}` for the owner's index (the braces are a Redis Cluster
//! hash tag: all keys of one owner live in one slot, and every script names
//! all the keys it touches). With a TTL, a job expires that long after the
//! last write to it; expired jobs are never listed, loaded or written.
//!
//! ```no_run
//! use jobsess::{AsyncJobSession, JobMetadata};
//! use jobsess::redis::{RedisJobStore, connect_pool};
//!
//! #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
//! struct ExportJob { file: String, progress: u8 }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // reconnects after a Redis restart; the same pool can serve the sessions
//! let pool = connect_pool("redis://127.0.0.1:6379", 2).await?;
//! let store = RedisJobStore::new(pool).with_ttl(std::time::Duration::from_secs(24 * 3600));
//! let owner = RedisJobStore::new_owner_token()?; // kept in the user's session
//! let jobs = AsyncJobSession::<ExportJob, _>::new(store.owner(&owner)?);
//! jobs.store("job-1", &ExportJob { file: "a.csv".into(), progress: 0 }).await?;
//! jobs.store_field("job-1", ExportJob::PROGRESS, &50).await?; // one HSET
//! # Ok(()) }
//! ```

mod connection;
mod deadline;
mod jobs;
mod messages;
mod scripts;
mod watch;

use std::sync::Arc;

use fred::clients::Pool;

use crate::error::{Error, Op, Result};
use crate::store::hex_digest;
use scripts::CLAIM;

pub use connection::connect_pool;
pub use jobs::RedisOwnerJobs;

/// The [`RedisJobStore`]'s extractor for axum and actix-web: the jobs of
/// the request's owner, typed as `M`. See [`ServerJobs`](crate::store::ServerJobs).
///
/// ```
/// use jobsess::{JobMetadata, redis::RedisJobs};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String, progress: u8 }
///
/// async fn progress(jobs: RedisJobs<ExportJob>) -> Result<String, jobsess::Error> {
///     Ok(format!("{:?}", jobs.load_field("job-1", ExportJob::PROGRESS).await?))
/// }
/// # let _ = progress;
/// ```
pub type RedisJobs<M> = crate::store::ServerJobs<M, RedisJobStore>;

/// How close to the server's time (as this process reads it, in ms) an
/// index entry's expiry must be for the listing to be left to the server's
/// own clock. A clock reading can be off: the nodes of a cluster whose
/// clocks differ a little, or a clock that was stepped since the last
/// reading (once a minute). Within this margin that never lists a job
/// that has expired; a clock stepped ahead by more can list one for up to
/// a minute, until the next reading (its hash is gone: it loads as `None`).
const LISTING_MARGIN_MS: i64 = 1000;

/// How errors of this store name it.
pub(crate) const STORE: &str = "the Redis job store";

use crate::store::update::Settings;

/// Job metadata in Redis, for all users; [`owner`](Self::owner) gives the
/// backend of one user.
///
/// ```no_run
/// # use fred::prelude::*;
/// # async fn run(pool: Pool) -> Result<(), jobsess::Error> {
/// let store = jobsess::redis::RedisJobStore::new(pool).with_namespace("myapp-jobs");
/// let alice = store.owner("0123456789abcdef0123456789abcdef")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisJobStore {
    pool: Pool,
    namespace: Arc<str>,
    /// The TTL and the update's tries.
    settings: Settings,
    /// The subscriber connection of the watchers, made by the first one.
    hub: Arc<tokio::sync::OnceCell<Arc<crate::store::watch::Hub>>>,
    /// The server's clock, for the deadlines of writes.
    clock: Arc<deadline::ServerClock>,
}

impl RedisJobStore {
    /// Connects to the Redis at `url` (`redis://host:port/db`) with the
    /// settings a web app wants: a pool of 4 connections that reconnect
    /// forever, 100 ms apart, after an outage or a restart; every command
    /// fails after 1 s instead of waiting for Redis to come back, so a
    /// request answers 503 during an outage (see
    /// [`Error::http_status`](crate::Error::http_status)); and a command
    /// is sent once, never again after a broken connection. (Whatever the
    /// pool, a write answered with an error never lands later: each write
    /// carries the server time after which its client has given up on it,
    /// and is refused past it.) Build the pool yourself for other settings
    /// and use [`new`](Self::new).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), jobsess::Error> {
    /// let store = jobsess::redis::RedisJobStore::connect("redis://127.0.0.1:6379").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Backend`] for a bad URL or a Redis that doesn't answer,
    /// naming the server's host and port, never the URL's credentials.
    pub async fn connect(url: &str) -> Result<Self> {
        Ok(RedisJobStore::new(connect_pool(url, 4).await?))
    }

    /// A store on `pool` under the namespace `jobsess`, with no expiry.
    #[must_use]
    pub fn new(pool: Pool) -> Self {
        RedisJobStore {
            pool,
            namespace: Arc::from("jobsess"),
            settings: Settings::new(),
            hub: Arc::default(),
            clock: Arc::default(),
        }
    }

    /// The first segment of every Redis key this store writes. A `:` in it
    /// is replaced by `-`, so it always ends at the first `:`.
    #[must_use]
    pub fn with_namespace(mut self, namespace: &str) -> Self {
        self.namespace = Arc::from(namespace.replace(':', "-"));
        self
    }

    /// Jobs expire `ttl` after their owner's last write (whole seconds; zero:
    /// never, the default).
    ///
    /// ```no_run
    /// # async fn run(pool: fred::clients::Pool) {
    /// use std::time::Duration;
    /// let store = jobsess::redis::RedisJobStore::new(pool).with_ttl(Duration::from_secs(24 * 3600));
    /// # }
    /// ```
    #[must_use]
    pub fn with_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.settings = self.settings.with_ttl(ttl);
        self
    }

    /// How many times an [`update`](crate::AsyncJobSession::update) reads
    /// and tries to write a job that other writers keep changing before it
    /// gives up with [`Error::Conflict`] (at least 1; 32 by default). Tries
    /// after the first wait a random time that grows with each try.
    ///
    /// ```no_run
    /// # async fn run(pool: fred::clients::Pool) {
    /// let store = jobsess::redis::RedisJobStore::new(pool).with_update_attempts(8);
    /// # }
    /// ```
    #[must_use]
    pub fn with_update_attempts(mut self, attempts: u32) -> Self {
        self.settings = self.settings.with_update_attempts(attempts);
        self
    }

    /// The backend of the user whose session holds `token`.
    ///
    /// # Errors
    /// [`Error::InvalidOwner`] unless the token is 16 to 128 ASCII letters,
    /// digits, `-` or `_`.
    pub fn owner(&self, token: &str) -> Result<RedisOwnerJobs> {
        crate::store::JobStore::owner(self, token)
    }

    /// A new random owner token: 128 bits from the operating system, as hex.
    ///
    /// ```
    /// let token = jobsess::redis::RedisJobStore::new_owner_token()?;
    /// assert_eq!(token.len(), 32);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Backend`] if the operating system has no randomness to give.
    pub fn new_owner_token() -> Result<String> {
        crate::store::new_owner_token()
    }
}

/// The Redis engine: one hash per job, one script per write.
impl crate::store::JobStore for RedisJobStore {
    type Owner = RedisOwnerJobs;

    const NAME: &'static str = "RedisJobStore";

    fn __owner(&self, token: &str) -> RedisOwnerJobs {
        RedisOwnerJobs {
            store: self.clone(),
            set_key: format!("{}:{{{token}}}", self.namespace),
            token: Arc::from(token),
        }
    }

    /// One script: the claim is kept for a day, or for the jobs' TTL if
    /// that is longer.
    async fn claim(&self, claim: &str, fresh: &str) -> Result<String> {
        let key = format!("{}:claim:{}", self.namespace, hex_digest(claim));
        let ttl = self.settings.ttl_whole_seconds().max(24 * 3600);
        let args = vec![fresh.to_owned(), ttl.to_string()];
        CLAIM
            .evalsha_with_reload(self.pool.next(), vec![key.clone()], args)
            .await
            .map_err(|err| Error::store_backend(crate::redis::STORE, Op::Write, &key, err))
    }
}
