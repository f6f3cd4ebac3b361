//! Job references for workers: a route makes a [`JobRef`] to one job,
//! puts it in a job queue's payload, and a worker in any process opens it
//! against the same store as a [`WorkerJob`], a handle on that job alone.
//!
//! A reference holds the job's key and a grant: a SHA-256 digest of the
//! owner token and the key, so the token can't be read back from it. The
//! store keeps, under a reserved owner no session token can name, one
//! record per referenced job, found by a digest of the grant: the owner's
//! token and the job's key. Opening a reference reads that record (and
//! renews its expiry), checks it against the reference, and gives a handle
//! whose every method is about that one job.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{JobStore, hex_digest, is_token};
use crate::AsyncJobSession;
use crate::backend::AsyncSessionBackend;
use crate::error::{Error, Result};
use crate::handle::update::Updated;
use crate::model::field::FieldOf;
use crate::model::metadata::JobMetadata;
use crate::model::status::HasStatus;
use crate::watch::{Change, Watch, WatchBackend};

/// The name of the owner whose "jobs" are the stores' reference records.
/// It has a `:`, which no owner token can have, so no session's owner is
/// this one.
pub(crate) const REFERENCES_OWNER: &str = "jobsess:references";

/// The prefix of a reference record's key under [`REFERENCES_OWNER`].
const RECORD_PREFIX: &str = "ref";

/// The jobs of one owner in a server-side store, as an engine gives them
/// out ([`JobStore::owner`]): what a route's handle holds, and what a
/// [`JobRef`] is made from. Each engine's owner type implements it.
///
/// ```
/// fn store_of<O: jobsess::store::StoreOwner>(owner: &O) -> &O::Store {
///     owner.store()
/// }
/// # let _ = store_of::<jobsess::redis::RedisOwnerJobs>;
/// ```
pub trait StoreOwner: WatchBackend + Clone + Send + Sync + 'static {
    /// The store these jobs are in.
    type Store: JobStore<Owner = Self>;

    /// The store these jobs are in.
    fn store(&self) -> &Self::Store;

    /// The owner's token. Not for the app: it opens every job of the owner,
    /// so it stays inside jobsess.
    #[doc(hidden)]
    fn __token(&self) -> &str;
}

/// A reference to one job, for the worker that runs it: serializable, to
/// go in any job queue's payload. A route makes it with
/// [`AsyncJobSession::reference`]; a worker opens it with
/// [`JobStore::open`] against the same store, and gets a [`WorkerJob`],
/// a handle on that job and no other.
///
/// It holds the job's key and a grant, a digest from which the owner token
/// can't be read back, so a payload shown in a queue's dashboard or
/// written to a log lets no one act as the user in the web app, nor reach
/// the user's other jobs. Its `Debug` leaves the grant out. As JSON:
/// `{"job":"export_job-1","grant":"<64 hex digits>"}`.
///
/// ```
/// let reference: jobsess::store::JobRef =
///     serde_json::from_str(&format!(r#"{{"job":"export_job-1","grant":"{}"}}"#, "0".repeat(64)))?;
/// assert_eq!(reference.key(), "export_job-1");
/// assert_eq!(reference.id(), "job-1");
/// assert!(!format!("{reference:?}").contains("000000"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JobRef {
    job: String,
    grant: String,
}

impl JobRef {
    /// The job's key: `{prefix}_{id}`.
    ///
    /// ```
    /// # let reference: jobsess::store::JobRef = serde_json::from_str(&format!(r#"{{"job":"export_a","grant":"{}"}}"#, "0".repeat(64))).unwrap();
    /// assert_eq!(reference.key(), "export_a");
    /// ```
    #[must_use]
    pub fn key(&self) -> &str {
        &self.job
    }

    /// The job's id: the key after its prefix.
    ///
    /// ```
    /// # let reference: jobsess::store::JobRef = serde_json::from_str(&format!(r#"{{"job":"export_a","grant":"{}"}}"#, "0".repeat(64))).unwrap();
    /// assert_eq!(reference.id(), "a");
    /// ```
    #[must_use]
    pub fn id(&self) -> &str {
        self.job.split_once('_').map_or("", |(_, id)| id)
    }

    fn invalid(&self, reason: &'static str) -> Error {
        Error::InvalidReference {
            job: self.job.clone(),
            reason,
        }
    }
}

impl std::fmt::Debug for JobRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRef")
            .field("job", &self.job)
            .finish_non_exhaustive()
    }
}

/// The grant of the job under `key` of the owner `token`.
fn grant_of(token: &str, key: &str) -> String {
    hex_digest(&format!("jobsess job reference\n{token}\n{key}"))
}

/// The key of the record of `grant` under [`REFERENCES_OWNER`]: a digest
/// of the grant, so the store holds no grant that would open a job.
fn record_key(grant: &str) -> String {
    format!("{RECORD_PREFIX}_{}", hex_digest(grant))
}

impl<M: JobMetadata, O: StoreOwner> AsyncJobSession<M, O> {
    /// A reference to job `id` for the worker that will run it, in this
    /// process or another: put it in the job queue's payload, and the
    /// worker opens it with [`JobStore::open`]. One write to the store;
    /// the same job gives the same reference each time.
    ///
    /// The reference lasts as long as a job would: the store's TTL from
    /// when it was made or last opened, or for good if the store has none.
    ///
    /// ```no_run
    /// # use jobsess::{JobMetadata, redis::RedisJobs};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct ExportJob { file: String, progress: u8 }
    /// async fn start(jobs: RedisJobs<ExportJob>) -> Result<String, jobsess::Error> {
    ///     jobs.store("job-1", &ExportJob { file: "a.csv".into(), progress: 0 }).await?;
    ///     let reference = jobs.reference("job-1").await?;
    ///     // enqueue it: the payload holds no owner token
    ///     Ok(serde_json::to_string(&reference).unwrap())
    /// }
    /// ```
    ///
    /// # Errors
    /// [`Error::JobNotFound`] if there is no such job of this owner; an
    /// invalid id; a failing store.
    pub async fn reference(&self, id: &str) -> Result<JobRef> {
        let key = self.key(id)?;
        if !self.contains(id).await? {
            return Err(Error::JobNotFound { key });
        }
        let owner = self.session();
        make(&owner.store().__references(), owner.__token(), key).await
    }
}

/// The reference to the job under `key` of the owner `token`, its record
/// written through `references`, the reserved owner's jobs (on the store's
/// pool, or in the app's transaction).
pub(crate) async fn make<B: AsyncSessionBackend>(
    references: &B,
    token: &str,
    key: String,
) -> Result<JobRef> {
    let grant = grant_of(token, &key);
    let record = json!({ "owner": token, "job": key });
    references.insert(&record_key(&grant), record).await?;
    Ok(JobRef { job: key, grant })
}

/// Opens `reference` in `store`: what [`JobStore::open`] does.
pub(crate) async fn open<M: JobMetadata, E: JobStore>(
    store: &E,
    reference: &JobRef,
) -> Result<WorkerJob<M, E::Owner>> {
    let Some((prefix, id)) = reference.job.split_once('_') else {
        return Err(reference.invalid("its job key has no prefix"));
    };
    let hex = |text: &str| text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex(&reference.grant) {
        return Err(reference.invalid("its grant is not 64 hex digits"));
    }
    let references = store.__references();
    let record_at = record_key(&reference.grant);
    let Some(record) = references.get(&record_at).await? else {
        return Err(reference.invalid("this store made no such reference, or it expired"));
    };
    let token = match (record.get("owner"), record.get("job")) {
        (Some(Value::String(token)), Some(Value::String(job)))
            if is_token(token)
                && *job == reference.job
                && grant_of(token, job) == reference.grant =>
        {
            token.clone()
        }
        _ => return Err(reference.invalid("it doesn't match the store's record of it")),
    };
    // opened: the record lasts the store's TTL from now
    references.insert(&record_at, record).await?;
    let jobs =
        AsyncJobSession::<M, E::Owner>::with_prefix(store.owner(&token)?, prefix.to_owned())?;
    jobs.key(id)?;
    Ok(WorkerJob {
        jobs,
        id: id.to_owned(),
    })
}

/// A worker's handle on one job, opened from a [`JobRef`]
/// ([`JobStore::open`]). Every method is about that job: it can't list,
/// read or change the owner's other jobs. The methods are those of
/// [`AsyncJobSession`] without the id.
///
/// ```no_run
/// use jobsess::store::{JobRef, JobStore};
/// use jobsess::{JobMetadata, redis::RedisJobStore};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String, progress: u8 }
///
/// async fn work(store: RedisJobStore, reference: JobRef) -> Result<(), jobsess::Error> {
///     let job = store.open::<ExportJob>(&reference).await?;
///     for progress in [25, 50, 75, 100] {
///         job.store_field(ExportJob::PROGRESS, &progress).await?;
///     }
///     Ok(())
/// }
/// ```
pub struct WorkerJob<M, O> {
    jobs: AsyncJobSession<M, O>,
    id: String,
}

impl<M, O: Clone> Clone for WorkerJob<M, O> {
    fn clone(&self) -> Self {
        WorkerJob {
            jobs: self.jobs.clone(),
            id: self.id.clone(),
        }
    }
}

impl<M, O> std::fmt::Debug for WorkerJob<M, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerJob")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<M: JobMetadata, O: StoreOwner> WorkerJob<M, O> {
    /// The job's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The job's metadata; `None` if it was deleted or expired.
    ///
    /// # Errors
    /// As [`AsyncJobSession::load`].
    pub async fn load(&self) -> Result<Option<M>> {
        self.jobs.load(&self.id).await
    }

    /// One field of the job.
    ///
    /// # Errors
    /// As [`AsyncJobSession::load_field`].
    pub async fn load_field<F: FieldOf<M>>(&self, field: F) -> Result<Option<F::Value>> {
        self.jobs.load_field(&self.id, field).await
    }

    /// Replaces one field of the job.
    ///
    /// # Errors
    /// As [`AsyncJobSession::store_field`]: [`Error::JobNotFound`] if the
    /// job is gone.
    pub async fn store_field<F: FieldOf<M>>(&self, field: F, value: &F::Value) -> Result<()> {
        self.jobs.store_field(&self.id, field, value).await
    }

    /// Replaces the whole job.
    ///
    /// # Errors
    /// As [`AsyncJobSession::store`].
    pub async fn store(&self, metadata: &M) -> Result<()> {
        self.jobs.store(&self.id, metadata).await
    }

    /// Reads, changes and writes the job with no lost update.
    ///
    /// # Errors
    /// As [`AsyncJobSession::update`].
    pub async fn update(&self, f: impl FnMut(&mut M) + Send) -> Result<M>
    where
        M: Send,
    {
        self.jobs.update(&self.id, f).await
    }

    /// [`update`](Self::update), written only if `f` says so.
    ///
    /// # Errors
    /// As [`AsyncJobSession::update_if`].
    pub async fn update_if(&self, f: impl FnMut(&mut M) -> bool + Send) -> Result<Updated<M>>
    where
        M: Send,
    {
        self.jobs.update_if(&self.id, f).await
    }

    /// Reads, changes and writes one field with no lost update.
    ///
    /// # Errors
    /// As [`AsyncJobSession::update_field`].
    pub async fn update_field<F: FieldOf<M>>(
        &self,
        field: F,
        f: impl FnMut(&mut F::Value) + Send,
    ) -> Result<F::Value>
    where
        F::Value: Send,
    {
        self.jobs.update_field(&self.id, field, f).await
    }

    /// Adds `by` to a whole-number field, as
    /// [`AsyncJobSession::increment_field`] does: one atomic step on the
    /// Redis and PostgreSQL stores, so any number of workers can count
    /// into one job.
    ///
    /// # Errors
    /// As [`AsyncJobSession::increment_field`].
    pub async fn increment_field<F>(&self, field: F, by: i64) -> Result<F::Value>
    where
        F: FieldOf<M>,
        F::Value: crate::Counter,
    {
        self.jobs.increment_field(&self.id, field, by).await
    }

    /// The job's changes, as [`AsyncJobSession::watch`] gives them: a
    /// worker can follow its own job, to stop when a route cancels it.
    ///
    /// # Errors
    /// As [`AsyncJobSession::watch`].
    pub async fn watch(&self) -> Result<Watch<Change<M>>>
    where
        M: Send + 'static,
    {
        self.jobs.watch(&self.id).await
    }

    /// One field's values, as [`AsyncJobSession::watch_field`] gives them.
    ///
    /// # Errors
    /// As [`AsyncJobSession::watch_field`].
    pub async fn watch_field<F>(&self, field: F) -> Result<Watch<F::Value>>
    where
        F: FieldOf<M> + Send + 'static,
        F::Value: DeserializeOwned + Send,
        M: Send + 'static,
    {
        self.jobs.watch_field(&self.id, field).await
    }
}

impl<M: HasStatus, O: StoreOwner> WorkerJob<M, O> {
    /// Marks the job finished, as [`AsyncJobSession::finish`] does.
    ///
    /// # Errors
    /// As [`AsyncJobSession::finish`].
    pub async fn finish(&self) -> Result<()> {
        self.jobs.finish(&self.id).await
    }

    /// Marks the job failed for `reason`, as [`AsyncJobSession::fail`] does.
    ///
    /// # Errors
    /// As [`AsyncJobSession::fail`].
    pub async fn fail(&self, reason: impl Into<String>) -> Result<()> {
        self.jobs.fail(&self.id, reason).await
    }

    /// Ends the job as the work's `outcome` says: finished for `Ok`,
    /// failed for `Err` with the error's text. What a queue's task handler
    /// does last, so a page watching the job gets its `done` either way.
    ///
    /// ```no_run
    /// # use jobsess::{JobMetadata, Status, store::WorkerJob, redis::RedisOwnerJobs};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # #[job_metadata(status = status)]
    /// # struct ExportJob { progress: u8, status: Status }
    /// async fn export(job: &WorkerJob<ExportJob, RedisOwnerJobs>) -> Result<(), std::io::Error> {
    ///     Ok(())
    /// }
    /// # async fn handler(job: WorkerJob<ExportJob, RedisOwnerJobs>) -> Result<(), Box<dyn std::error::Error>> {
    /// let outcome = export(&job).await;
    /// job.end(&outcome).await?; // finished, or failed with the error's text
    /// outcome?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`AsyncJobSession::finish`].
    pub async fn end<T, E: std::fmt::Display>(
        &self,
        outcome: &std::result::Result<T, E>,
    ) -> Result<()> {
        match outcome {
            Ok(_) => self.finish().await,
            Err(err) => self.fail(err.to_string()).await,
        }
    }
}
