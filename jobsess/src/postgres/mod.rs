//! The server-side PostgreSQL job store (feature `postgres`): job metadata
//! in the database the app already has, on its own sqlx 0.8 pool.
//!
//! The user's session keeps only an opaque owner token, as with the Redis
//! store; each job is one row of a table, `(owner, prefix, id)` its key,
//! its fields the members of one `jsonb` object (the version member
//! included), with a revision and an expiry. Every operation of the handle
//! is one statement, one round trip, with bind parameters only (the SQL is
//! in `postgres/sql/`, one file per statement):
//!
//! - `load` is one `SELECT`; `load_field` reads the field's members, not
//!   the whole row;
//! - `store_field` is one `UPDATE ... SET data = data || jsonb_build_object(...)`
//!   that never recreates a job that expired or was deleted, so concurrent
//!   requests that change different fields, or different jobs, lose
//!   nothing;
//! - `store`, `delete`, `clear` and `ids` are one statement each; `update`
//!   reads the job and its revision, then writes only if the revision is
//!   unchanged (else it tries again), so concurrent updates lose nothing;
//! - with a TTL, a job expires that long after its last write: reads skip
//!   it at once, and [`sweep`](PostgresJobStore::sweep) (or the task
//!   [`spawn_sweeper`](PostgresJobStore::spawn_sweeper) starts) deletes
//!   expired rows in batches;
//! - `watch` works across instances over `LISTEN/NOTIFY`: a write NOTIFYs
//!   in its own statement, and only for a job someone watches, so that
//!   unwatched writes don't pay for it;
//! - [`in_transaction`](PostgresOwnerJobs::in_transaction) runs the same
//!   operations in the app's own transaction: a job's metadata commits or
//!   rolls back with the app's rows.
//!
//! A request that PostgreSQL doesn't answer within the store's timeout
//! (2 s by default) fails with [`Error::Backend`] (503 as an HTTP
//! response). A write that timed out on the client does not land later:
//! it carries the time left to it, less 50 ms for the trip, and the
//! database refuses it after that (on its own clock, counted from when it
//! got the statement), for example while it waited on a lock.
//!
//! ```no_run
//! use jobsess::{AsyncJobSession, JobMetadata};
//! use jobsess::postgres::PostgresJobStore;
//!
//! #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
//! struct ExportJob { file: String, progress: u8 }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/test").await?;
//! let store = PostgresJobStore::new(pool).with_ttl(std::time::Duration::from_secs(24 * 3600));
//! store.migrate().await?; // creates the table once; safe on every start
//! let owner = PostgresJobStore::new_owner_token()?; // kept in the user's session
//! let jobs = AsyncJobSession::<ExportJob, _>::new(store.owner(&owner)?);
//! jobs.store("job-1", &ExportJob { file: "a.csv".into(), progress: 0 }).await?;
//! jobs.store_field("job-1", ExportJob::PROGRESS, &50).await?; // one UPDATE
//! # Ok(()) }
//! ```

use super::sqlx_version::{sqlx, text};

mod connection;
mod jobs;
mod sql;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use self::sqlx::PgPool;

use crate::error::{Error, Op, Result};
use crate::store::hex_digest;

/// How errors of this store name it.
const STORE: &str = "the PostgreSQL job store";

pub use jobs::{Connection, InTransaction, PostgresOwnerJobs};

/// The [`PostgresJobStore`]'s extractor for axum and actix-web: the jobs of
/// the request's owner, typed as `M`. See [`ServerJobs`](crate::store::ServerJobs).
///
/// ```
/// use jobsess::{JobMetadata, postgres::PostgresJobs};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String, progress: u8 }
///
/// async fn progress(jobs: PostgresJobs<ExportJob>) -> Result<String, jobsess::Error> {
///     Ok(format!("{:?}", jobs.load_field("job-1", ExportJob::PROGRESS).await?))
/// }
/// # let _ = progress;
/// ```
pub type PostgresJobs<M> = crate::store::ServerJobs<M, PostgresJobStore>;

/// [`PostgresJobStore::with_timeout`]'s default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

use crate::store::update::Settings;

/// How many expired rows one statement of a sweep deletes.
const SWEEP_BATCH: i64 = 1000;

/// Job metadata in PostgreSQL, for all users; [`owner`](Self::owner) gives
/// the backend of one user. Clones share the pool and the watchers.
///
/// ```no_run
/// # async fn run(pool: sqlx::PgPool) -> Result<(), jobsess::Error> {
/// use jobsess::postgres::PostgresJobStore;
/// let store = PostgresJobStore::new(pool).with_schema("myapp").with_table("jobs");
/// store.migrate().await?;
/// let alice = store.owner("0123456789abcdef0123456789abcdef")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresJobStore {
    pool: PgPool,
    schema: Arc<str>,
    table: Arc<str>,
    sql: Arc<sql::Statements>,
    /// The TTL and the update's tries.
    settings: Settings,
    timeout: Duration,
    /// The listener of the watchers, made by the first one.
    hub: Arc<tokio::sync::OnceCell<Arc<crate::store::watch::Hub>>>,
    /// The deadlines of the operations in flight.
    deadlines: Arc<crate::store::deadline::Deadlines>,
}

impl std::fmt::Debug for PostgresJobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresJobStore")
            .field("table", &self.sql.table)
            .field("settings", &self.settings)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresJobStore {
    /// Connects to the PostgreSQL at `url` (`postgres://user@host:port/db`)
    /// with a pool of 8 connections that waits at most the store's timeout
    /// for one. Most apps have a pool already: give it to
    /// [`new`](Self::new), so that one pool serves the sessions, the app's
    /// queries and the jobs.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), jobsess::Error> {
    /// let store = jobsess::postgres::PostgresJobStore::connect("postgres://postgres@127.0.0.1/test").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Backend`] for a bad URL or a database that doesn't answer,
    /// naming the server's host and port, never the URL's password.
    pub async fn connect(url: &str) -> Result<Self> {
        let address = crate::store::server_address(url, "postgres");
        let failed = |err: sqlx::Error| {
            Error::store_backend(
                STORE,
                Op::Read,
                &address,
                format!(
                    "can't connect to PostgreSQL: {}",
                    redact(&err.to_string(), url)
                ),
            )
        };
        let options: sqlx::postgres::PgConnectOptions = url.parse().map_err(failed)?;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(DEFAULT_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(failed)?;
        Ok(PostgresJobStore::new(pool))
    }

    /// A store on `pool`, in the table `jobsess.jobs`, with no expiry. Call
    /// [`migrate`](Self::migrate) once before the first use.
    ///
    /// What this means for the app's pool:
    /// - once a job is watched, the store's listener (`LISTEN`) keeps one
    ///   of the pool's connections for as long as the store lives: size
    ///   the pool one larger;
    /// - each operation waits at most the store's timeout (2 s,
    ///   [`with_timeout`](Self::with_timeout)) for the database, but a
    ///   request first waits for a connection as long as the pool's
    ///   `acquire_timeout` says, 30 s by sqlx's default: during an outage
    ///   the app's own session store (tower-sessions' on the same pool) and
    ///   this store's requests then hang 30 s before they answer 503. Set
    ///   it to about the store's timeout, as [`connect`](Self::connect) does:
    ///
    /// ```no_run
    /// # async fn run(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = sqlx::postgres::PgPoolOptions::new()
    ///     .max_connections(9) // 8 for requests, 1 for the watchers' listener
    ///     .acquire_timeout(std::time::Duration::from_secs(2))
    ///     .connect(url)
    ///     .await?;
    /// let store = jobsess::postgres::PostgresJobStore::new(pool);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        let (schema, table) = ("jobsess", "jobs");
        PostgresJobStore {
            pool,
            schema: Arc::from(schema),
            table: Arc::from(table),
            sql: Arc::new(sql::Statements::new(schema, table)),
            settings: Settings::new(),
            timeout: DEFAULT_TIMEOUT,
            hub: Arc::default(),
            deadlines: Arc::new(crate::store::deadline::Deadlines::new(DEFAULT_TIMEOUT)),
        }
    }

    /// The schema of the store's tables (`jobsess` by default); quoted, so
    /// any name is one.
    ///
    /// ```no_run
    /// # fn run(pool: sqlx::PgPool) {
    /// let store = jobsess::postgres::PostgresJobStore::new(pool).with_schema("myapp");
    /// # }
    /// ```
    #[must_use]
    pub fn with_schema(mut self, schema: &str) -> Self {
        self.schema = Arc::from(schema);
        self.renamed()
    }

    /// The name of the jobs table (`jobs` by default); the claims table
    /// is named after it, with `_claims`.
    ///
    /// ```no_run
    /// # fn run(pool: sqlx::PgPool) {
    /// let store = jobsess::postgres::PostgresJobStore::new(pool).with_table("export_jobs");
    /// # }
    /// ```
    #[must_use]
    pub fn with_table(mut self, table: &str) -> Self {
        self.table = Arc::from(table);
        self.renamed()
    }

    fn renamed(mut self) -> Self {
        self.sql = Arc::new(sql::Statements::new(&self.schema, &self.table));
        self.hub = Arc::default();
        self
    }

    /// Jobs expire `ttl` after their owner's last write (zero: never, the
    /// default).
    ///
    /// ```no_run
    /// # fn run(pool: sqlx::PgPool) {
    /// use std::time::Duration;
    /// let store = jobsess::postgres::PostgresJobStore::new(pool).with_ttl(Duration::from_secs(24 * 3600));
    /// # }
    /// ```
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.settings = self.settings.with_ttl(ttl);
        self
    }

    /// How long one operation may take, waiting for a connection included,
    /// before it fails with [`Error::Backend`] (2 s by default; it fails
    /// at most a tenth of that, or 100 ms, later).
    ///
    /// ```no_run
    /// # fn run(pool: sqlx::PgPool) {
    /// let store = jobsess::postgres::PostgresJobStore::new(pool)
    ///     .with_timeout(std::time::Duration::from_millis(500));
    /// # }
    /// ```
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self.deadlines = Arc::new(crate::store::deadline::Deadlines::new(self.timeout));
        self
    }

    /// How many times an [`update`](crate::AsyncJobSession::update) reads
    /// and tries to write a job that other writers keep changing before it
    /// gives up with [`Error::Conflict`] (at least 1; 32 by default).
    ///
    /// ```no_run
    /// # fn run(pool: sqlx::PgPool) {
    /// let store = jobsess::postgres::PostgresJobStore::new(pool).with_update_attempts(8);
    /// # }
    /// ```
    #[must_use]
    pub fn with_update_attempts(mut self, attempts: u32) -> Self {
        self.settings = self.settings.with_update_attempts(attempts);
        self
    }

    /// The pool the store runs on.
    ///
    /// ```no_run
    /// # fn run(store: jobsess::postgres::PostgresJobStore) {
    /// let pool: &sqlx::PgPool = store.pool();
    /// # }
    /// ```
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates the store's schema, tables, sequence and indexes if they are
    /// not there, and adds the columns a table of an earlier version
    /// lacks: run it at every start-up (several instances at once take
    /// turns). It never drops or rewrites anything.
    ///
    /// ```no_run
    /// # async fn run(store: jobsess::postgres::PostgresJobStore) -> Result<(), jobsess::Error> {
    /// store.migrate().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Backend`] if the database fails or refuses (a role that
    /// may not create the schema, say).
    pub async fn migrate(&self) -> Result<()> {
        sqlx::raw_sql(text(&self.sql.migrate))
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(|err| Error::store_backend(STORE, Op::Write, &self.sql.table, err))
    }

    /// Deletes every expired job and claim, in batches of 1,000 rows;
    /// how many jobs it deleted. Reads never see an expired job, swept or
    /// not: sweeping only gives the space back.
    ///
    /// ```no_run
    /// # async fn run(store: jobsess::postgres::PostgresJobStore) -> Result<(), jobsess::Error> {
    /// let deleted = store.sweep().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Backend`] if the database fails.
    pub async fn sweep(&self) -> Result<u64> {
        let mut deleted = 0u64;
        loop {
            let (jobs, claims): (i64, i64) = sqlx::query_as(text(&self.sql.sweep))
                .bind(SWEEP_BATCH)
                .fetch_one(&self.pool)
                .await
                .map_err(|err| Error::store_backend(STORE, Op::Remove, &self.sql.table, err))?;
            deleted += u64::try_from(jobs).unwrap_or(0);
            if jobs < SWEEP_BATCH && claims < SWEEP_BATCH {
                return Ok(deleted);
            }
        }
    }

    /// Starts the store's sweeper: a task that runs [`sweep`](Self::sweep)
    /// every `period` (a failed round is logged and tried again at the
    /// next). Abort the handle, or drop the runtime, to stop it.
    ///
    /// ```no_run
    /// # fn run(store: jobsess::postgres::PostgresJobStore) {
    /// let sweeper = store.spawn_sweeper(std::time::Duration::from_secs(60));
    /// # drop(sweeper);
    /// # }
    /// ```
    #[must_use = "the sweeper stops when its handle is aborted"]
    pub fn spawn_sweeper(&self, period: Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        crate::store::rows::spawn_sweeper(period, move || {
            let store = store.clone();
            async move { store.sweep().await }
        })
    }

    /// The backend of the user whose session holds `token`.
    ///
    /// ```no_run
    /// # fn run(store: jobsess::postgres::PostgresJobStore) -> Result<(), jobsess::Error> {
    /// let alice = store.owner("0123456789abcdef0123456789abcdef")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidOwner`] unless the token is 16 to 128 ASCII letters,
    /// digits, `-` or `_`.
    pub fn owner(&self, token: &str) -> Result<PostgresOwnerJobs> {
        crate::store::JobStore::owner(self, token)
    }

    /// A new random owner token: 128 bits from the operating system, as hex.
    ///
    /// ```
    /// let token = jobsess::postgres::PostgresJobStore::new_owner_token()?;
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

/// `text` with the password of `url`, if it has one, blanked out.
fn redact(text: &str, url: &str) -> String {
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?']).next())
        .and_then(|authority| authority.rsplit_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, password)| password)
        .filter(|password| !password.is_empty());
    match password {
        Some(password) => text.replace(password, "***"),
        None => text.to_owned(),
    }
}

/// The PostgreSQL engine: one row per job, one statement per operation.
impl crate::store::JobStore for PostgresJobStore {
    type Owner = PostgresOwnerJobs;

    const NAME: &'static str = "PostgresJobStore";

    fn __owner(&self, token: &str) -> PostgresOwnerJobs {
        PostgresOwnerJobs::new(self.clone(), token)
    }

    /// One statement: the claim is kept for a day, or for the jobs' TTL if
    /// that is longer.
    async fn claim(&self, claim: &str, fresh: &str) -> Result<String> {
        let digest = hex_digest(claim);
        let lasts = self.settings.ttl_seconds().max(24.0 * 3600.0);
        let claimed = sqlx::query_scalar(text(&self.sql.claim))
            .bind(&digest)
            .bind(fresh)
            .bind(lasts)
            .fetch_one(&self.pool);
        let deadline = std::time::Instant::now() + self.timeout;
        match self.deadlines.run(deadline, claimed).await {
            Ok(Ok(token)) => Ok(token),
            Ok(Err(err)) => Err(Error::store_backend(STORE, Op::Write, "claim", err)),
            Err(_) => Err(Error::store_backend(
                STORE,
                Op::Write,
                "claim",
                jobs::timed_out(self.timeout),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_password_is_blanked_out() {
        let url = "postgres://app:s3cret@db.internal:5432/test";
        assert_eq!(
            super::redact("password authentication failed: s3cret", url),
            "password authentication failed: ***"
        );
        assert_eq!(
            super::redact("refused", "postgres://app@db/test"),
            "refused"
        );
    }
}
