//! The server-side SQLite job store (feature `sqlite`): job metadata in a
//! database file, with no server to run, on the app's own sqlx 0.8 pool.
//!
//! The user's session keeps only an opaque owner token, as with the Redis
//! and PostgreSQL stores; each job is one row of a table, `(owner, prefix,
//! id)` its key, its fields the members of one JSON object (the version
//! member included), with a revision and an expiry. Every operation of the
//! handle is one statement, with bind parameters only (the SQL is in
//! `sqlite/sql/`, one file per statement):
//!
//! - `load` is one `SELECT`; `load_field` reads the field's member with
//!   `->`, not the whole job;
//! - `store_field` is one `UPDATE ... SET data = json_set(data, ...)` of a
//!   live job: it never recreates a job that expired or was deleted, so
//!   concurrent requests that change different fields, or different jobs,
//!   lose nothing; `increment_field` adds in the same statement;
//! - `store`, `delete`, `clear` and `ids` are one statement each; `update`
//!   reads the job and its revision, then writes only if the revision is
//!   unchanged (else it tries again);
//! - with a TTL, a job expires that long after its last write: reads skip
//!   it at once, and [`sweep`](SqliteJobStore::sweep) (or the task
//!   [`spawn_sweeper`](SqliteJobStore::spawn_sweeper) starts) deletes
//!   expired rows in batches;
//! - `watch` works across the processes that share the database file: a
//!   write to a watched job logs a change in the same statement (a
//!   trigger), and each process that watches polls `PRAGMA data_version`
//!   every 10 ms, reading the log only when the file changed. A job nobody
//!   watches logs nothing.
//!
//! Writes never fail with "database is locked": each is one statement,
//! which waits its turn for SQLite's write lock (the connection's busy
//! timeout, far longer than the store's), and the database is in WAL mode, so
//! reads never wait for writes. A request that SQLite doesn't answer within
//! the store's timeout (2 s by default: another process that holds the
//! lock, a stalled disk) fails with [`Error::Backend`] (503 as an HTTP
//! response), and a write that timed out does not land later: it carries
//! its deadline, and SQLite refuses it once it gets the lock after that.
//!
//! ```no_run
//! use jobsess::{AsyncJobSession, JobMetadata};
//! use jobsess::sqlite::SqliteJobStore;
//!
//! #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
//! struct ExportJob { file: String, progress: u8 }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SqliteJobStore::open("jobs.db").await?; // made if missing, migrated
//! let owner = SqliteJobStore::new_owner_token()?; // kept in the user's session
//! let jobs = AsyncJobSession::<ExportJob, _>::new(store.owner(&owner)?);
//! jobs.store("job-1", &ExportJob { file: "a.csv".into(), progress: 0 }).await?;
//! jobs.store_field("job-1", ExportJob::PROGRESS, &50).await?; // one UPDATE
//! # Ok(()) }
//! ```

use super::sqlx_version::{sqlx, text};

mod jobs;
mod sql;
mod watch;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use self::sqlx::SqlitePool;
use self::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::{Error, Op, Result};
use crate::store::deadline::Deadlines;
use crate::store::hex_digest;
use crate::store::update::Settings;

/// How errors of this store name it.
const STORE: &str = "the SQLite job store";

pub use jobs::SqliteOwnerJobs;

/// The [`SqliteJobStore`]'s extractor for axum and actix-web: the jobs of
/// the request's owner, typed as `M`. See [`ServerJobs`](crate::store::ServerJobs).
///
/// ```
/// use jobsess::{JobMetadata, sqlite::SqliteJobs};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String, progress: u8 }
///
/// async fn progress(jobs: SqliteJobs<ExportJob>) -> Result<String, jobsess::Error> {
///     Ok(format!("{:?}", jobs.load_field("job-1", ExportJob::PROGRESS).await?))
/// }
/// # let _ = progress;
/// ```
pub type SqliteJobs<M> = crate::store::ServerJobs<M, SqliteJobStore>;

/// [`SqliteJobStore::with_timeout`]'s default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a connection of [`SqliteJobStore::connect_options`] waits for
/// SQLite's lock: far longer than any store's timeout, so that a statement
/// waits its turn instead of failing with "database is locked". Its client
/// gives up at the store's timeout, and a write that gets the lock after
/// that writes nothing (its deadline is in the statement).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How many expired rows one statement of a sweep deletes.
const SWEEP_BATCH: i64 = 1000;

/// Job metadata in SQLite, for all users; [`owner`](Self::owner) gives the
/// backend of one user. Clones share the pool and the watchers.
///
/// ```no_run
/// # async fn run() -> Result<(), jobsess::Error> {
/// use jobsess::sqlite::SqliteJobStore;
/// let store = SqliteJobStore::open("app.db").await?.with_table("export_jobs");
/// store.migrate().await?;
/// let alice = store.owner("0123456789abcdef0123456789abcdef")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteJobStore {
    pool: SqlitePool,
    sql: Arc<sql::Statements>,
    /// The TTL and the update's tries.
    settings: Settings,
    timeout: Duration,
    /// The change log's poller, made by the first watcher.
    hub: Arc<tokio::sync::OnceCell<Arc<crate::store::watch::Hub>>>,
    /// The deadlines of the operations in flight.
    deadlines: Arc<Deadlines>,
}

impl std::fmt::Debug for SqliteJobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteJobStore")
            .field("table", &self.sql.table)
            .field("settings", &self.settings)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SqliteJobStore {
    /// The connection options a pool for the store needs, for the database
    /// file at `path` (made if missing): WAL mode, so reads never wait for
    /// writes; `synchronous = NORMAL`, durable at each checkpoint as WAL
    /// makes it; and a busy timeout (30 s) longer than the store's, so a
    /// write waits its turn for SQLite's lock instead of failing with "database
    /// is locked". An app that makes its own pool starts from these.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use jobsess::sqlite::SqliteJobStore;
    /// let pool = sqlx::sqlite::SqlitePoolOptions::new()
    ///     .max_connections(8)
    ///     .connect_with(SqliteJobStore::connect_options("app.db"))
    ///     .await?;
    /// let store = SqliteJobStore::new(pool);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn connect_options(path: impl AsRef<Path>) -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
    }

    /// Opens (or makes) the database file at `path` with
    /// [`connect_options`](Self::connect_options), on a pool of 8
    /// connections, and runs [`migrate`](Self::migrate): the embedded
    /// default, with nothing else to set up.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), jobsess::Error> {
    /// let store = jobsess::sqlite::SqliteJobStore::open("jobs.db").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Backend`] for a file that can't be opened or made, naming
    /// it.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(DEFAULT_TIMEOUT)
            .connect_with(Self::connect_options(path))
            .await
            .map_err(|err| {
                Error::store_backend(STORE, Op::Read, &name, format!("can't open {name}: {err}"))
            })?;
        let store = SqliteJobStore::new(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// A store on `pool`, in the table `jobsess_jobs`, with no expiry. Call
    /// [`migrate`](Self::migrate) once before the first use. Make the pool
    /// with [`connect_options`](Self::connect_options) (WAL, a busy
    /// timeout); once a job is watched, the store's poller keeps one
    /// connection of its own, opened with the pool's options.
    ///
    /// ```no_run
    /// # fn run(pool: sqlx::SqlitePool) {
    /// let store = jobsess::sqlite::SqliteJobStore::new(pool);
    /// # }
    /// ```
    #[must_use]
    pub fn new(pool: SqlitePool) -> Self {
        SqliteJobStore {
            pool,
            sql: Arc::new(sql::Statements::new("jobsess_jobs")),
            settings: Settings::new(),
            timeout: DEFAULT_TIMEOUT,
            hub: Arc::default(),
            deadlines: Arc::new(Deadlines::new(DEFAULT_TIMEOUT)),
        }
    }

    /// The name of the jobs table (`jobsess_jobs` by default); the store's
    /// other tables are named after it (`_claims`, `_changes`,
    /// `_revision`). Quoted, so any name is one.
    ///
    /// ```no_run
    /// # fn run(pool: sqlx::SqlitePool) {
    /// let store = jobsess::sqlite::SqliteJobStore::new(pool).with_table("export_jobs");
    /// # }
    /// ```
    #[must_use]
    pub fn with_table(mut self, table: &str) -> Self {
        self.sql = Arc::new(sql::Statements::new(table));
        self.hub = Arc::default();
        self
    }

    /// Jobs expire `ttl` after their owner's last write (zero: never, the
    /// default).
    ///
    /// ```no_run
    /// # fn run(pool: sqlx::SqlitePool) {
    /// use std::time::Duration;
    /// let store = jobsess::sqlite::SqliteJobStore::new(pool).with_ttl(Duration::from_secs(24 * 3600));
    /// # }
    /// ```
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.settings = self.settings.with_ttl(ttl);
        self
    }

    /// How long one operation may take, waiting for a connection and for
    /// SQLite's lock included, before it fails with [`Error::Backend`] (2 s
    /// by default; it fails at most a tenth of that, or 100 ms, later).
    /// Keep the pool's busy timeout longer than this, as
    /// [`connect_options`](Self::connect_options) does.
    ///
    /// ```no_run
    /// # fn run(pool: sqlx::SqlitePool) {
    /// let store = jobsess::sqlite::SqliteJobStore::new(pool)
    ///     .with_timeout(std::time::Duration::from_millis(500));
    /// # }
    /// ```
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self.deadlines = Arc::new(Deadlines::new(self.timeout));
        self
    }

    /// How many times an [`update`](crate::AsyncJobSession::update) reads
    /// and tries to write a job that other writers keep changing before it
    /// gives up with [`Error::Conflict`] (at least 1; 32 by default).
    ///
    /// ```no_run
    /// # fn run(pool: sqlx::SqlitePool) {
    /// let store = jobsess::sqlite::SqliteJobStore::new(pool).with_update_attempts(8);
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
    /// # fn run(store: jobsess::sqlite::SqliteJobStore) {
    /// let pool: &sqlx::SqlitePool = store.pool();
    /// # }
    /// ```
    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Puts the database in WAL mode and creates the store's tables,
    /// indexes and triggers if they are not there: run it at every start-up
    /// (several processes at once take turns). It never drops or rewrites
    /// anything.
    ///
    /// ```no_run
    /// # async fn run(store: jobsess::sqlite::SqliteJobStore) -> Result<(), jobsess::Error> {
    /// store.migrate().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Backend`] if the database fails (a read-only file, say).
    pub async fn migrate(&self) -> Result<()> {
        let failed =
            |err: sqlx::Error| Error::store_backend(STORE, Op::Write, &self.sql.table, err);
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        sqlx::raw_sql(text(&self.sql.migrate))
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(failed)
    }

    /// Deletes every expired job and claim, in batches of 1,000 rows;
    /// how many jobs it deleted. Reads never see an expired job, swept or
    /// not: sweeping only gives the space back.
    ///
    /// ```no_run
    /// # async fn run(store: jobsess::sqlite::SqliteJobStore) -> Result<(), jobsess::Error> {
    /// let deleted = store.sweep().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Backend`] if the database fails.
    pub async fn sweep(&self) -> Result<u64> {
        let failed =
            |err: sqlx::Error| Error::store_backend(STORE, Op::Remove, &self.sql.table, err);
        let mut deleted = 0u64;
        for (statement, counted) in [
            (&self.sql.sweep_jobs, true),
            (&self.sql.sweep_claims, false),
        ] {
            loop {
                let rows = sqlx::query(text(statement))
                    .bind(SWEEP_BATCH)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed)?;
                let batch = rows.len() as u64;
                if counted {
                    deleted += batch;
                }
                if batch < SWEEP_BATCH as u64 {
                    break;
                }
            }
        }
        Ok(deleted)
    }

    /// Starts the store's sweeper: a task that runs [`sweep`](Self::sweep)
    /// every `period` (a failed round is logged and tried again at the
    /// next). Abort the handle, or drop the runtime, to stop it.
    ///
    /// ```no_run
    /// # fn run(store: jobsess::sqlite::SqliteJobStore) {
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
    /// # fn run(store: jobsess::sqlite::SqliteJobStore) -> Result<(), jobsess::Error> {
    /// let alice = store.owner("0123456789abcdef0123456789abcdef")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidOwner`] unless the token is 16 to 128 ASCII letters,
    /// digits, `-` or `_`.
    pub fn owner(&self, token: &str) -> Result<SqliteOwnerJobs> {
        crate::store::JobStore::owner(self, token)
    }

    /// A new random owner token: 128 bits from the operating system, as hex.
    ///
    /// ```
    /// let token = jobsess::sqlite::SqliteJobStore::new_owner_token()?;
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

/// The SQLite engine: one row per job, one statement per operation.
impl crate::store::JobStore for SqliteJobStore {
    type Owner = SqliteOwnerJobs;

    const NAME: &'static str = "SqliteJobStore";

    fn __owner(&self, token: &str) -> SqliteOwnerJobs {
        SqliteOwnerJobs::new(self.clone(), token)
    }

    /// One statement: the claim is kept for a day, or for the jobs' TTL if
    /// that is longer.
    async fn claim(&self, claim: &str, fresh: &str) -> Result<String> {
        let digest = hex_digest(claim);
        let lasts = self.settings.ttl_seconds().max(24.0 * 3600.0);
        let claimed = sqlx::query_scalar(text(&self.sql.claim))
            .bind(digest)
            .bind(fresh.to_owned())
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
