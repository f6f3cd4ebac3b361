//! [`JobSession`], the typed handle over a synchronous session.

use std::fmt;
use std::marker::PhantomData;

use crate::backend::{Budget, Measure, SessionBackend};
use crate::error::{Error, Result};
use crate::handle::update::{self, Updated};
use crate::key::KeySpace;
use crate::model::codec;
use crate::model::field::FieldOf;
use crate::model::metadata::JobMetadata;
use crate::model::version;

/// The metadata of the jobs of one prefix in one session, typed as `M`.
///
/// This is the typed successor of the Python `JobSessionManager`: each job's
/// metadata lives in the session under `{prefix}_{job_id}` as the JSON
/// serde_json writes for `M`.
///
/// ```
/// use jobsess::{JobMetadata, JobSession};
/// use serde::{Deserialize, Serialize};
/// use std::collections::HashMap;
///
/// #[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq)]
/// struct ExportJob {
///     file: String,
///     format: String,
/// }
///
/// let mut session = HashMap::new();
/// let mut jobs = JobSession::<ExportJob, _>::new(&mut session);
/// jobs.store("job-1", &ExportJob { file: "a.csv".into(), format: "xlsx".into() })?;
/// jobs.store_field("job-1", ExportJob::FORMAT, &"pdf".to_owned())?;
/// assert_eq!(jobs.load_field("job-1", ExportJob::FORMAT)?.as_deref(), Some("pdf"));
/// assert_eq!(jobs.ids()?, ["job-1"]);
/// assert_eq!(jobs.clear()?, 1);
/// assert!(session.is_empty());
/// # Ok::<(), jobsess::Error>(())
/// ```
pub struct JobSession<M, S> {
    session: S,
    keys: KeySpace,
    marker: PhantomData<fn() -> M>,
}

super::handle_accessors!(
    JobSession,
    SessionBackend,
    "std::collections::HashMap::new()",
    "jobs.session().is_empty()"
);

impl<M: JobMetadata, S: SessionBackend> JobSession<M, S> {
    /// The same handle over the session in a [`Budget`] of `bytes`: a
    /// [`store`](Self::store) or [`store_field`](Self::store_field) that
    /// would make the session's JSON larger fails with
    /// [`Error::OverBudget`] before anything is written. For sessions that
    /// ride in a cookie (actix-session's `CookieSessionStore`), see
    /// `jobsess::actix::COOKIE_BUDGET`.
    ///
    /// ```
    /// # use jobsess::{JobSession, UntypedJob};
    /// let mut session = std::collections::HashMap::new();
    /// let mut jobs = JobSession::<UntypedJob, _>::new(&mut session).with_budget(64);
    /// let big = serde_json::json!({ "notes": "x".repeat(100) });
    /// let err = jobs.store("a", big.as_object().unwrap()).unwrap_err();
    /// assert!(err.to_string().contains("over its budget of 64 bytes"));
    /// assert!(session.is_empty());
    /// ```
    #[must_use]
    pub fn with_budget(self, bytes: usize) -> JobSession<M, Budget<S>>
    where
        S: Measure,
    {
        JobSession {
            session: Budget::new(self.session, bytes),
            keys: self.keys,
            marker: PhantomData,
        }
    }

    /// Stores the metadata of job `id`, replacing any earlier metadata.
    ///
    /// ```
    /// # use jobsess::{JobSession, UntypedJob};
    /// let mut session = std::collections::HashMap::new();
    /// let mut jobs = JobSession::<UntypedJob, _>::new(&mut session);
    /// let meta = serde_json::json!({ "status": "running" });
    /// jobs.store("task-1", meta.as_object().unwrap())?;
    /// assert_eq!(session["job_task-1"], meta);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// An invalid id, a value serde can't encode, or a failing backend;
    /// for a [versioned](crate::JobMetadata#versions) type,
    /// [`Error::NewerVersion`] over a job a newer release wrote (see
    /// [`store_forced`](Self::store_forced)).
    pub fn store(&mut self, id: &str, metadata: &M) -> Result<()> {
        let key = self.key(id)?;
        match M::schema().version {
            None => self.session.insert_encoded(&key, metadata).map(drop),
            Some(known) => {
                let value = version::encode(&key, metadata)?;
                self.session.insert_versioned(&key, value, known).map(drop)
            }
        }
    }

    /// Stores the metadata of job `id` as [`store`](Self::store) does, also
    /// over a job of a newer version, whose fields this release doesn't
    /// know are then lost.
    ///
    /// ```
    /// # use jobsess::{JobMetadata, JobSession, VERSION_KEY};
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// #[job_metadata(version = 2)]
    /// struct Job { file: String }
    ///
    /// let mut session = std::collections::HashMap::new();
    /// session.insert("job_a".to_owned(), serde_json::json!({ "file": "a", VERSION_KEY: 3 }));
    /// let mut jobs = JobSession::<Job, _>::new(&mut session);
    /// assert!(jobs.store("a", &Job { file: "b".into() }).is_err());
    /// jobs.store_forced("a", &Job { file: "b".into() })?;
    /// assert_eq!(session["job_a"], serde_json::json!({ "file": "b", VERSION_KEY: 2 }));
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// An invalid id, a value serde can't encode, or a failing backend.
    pub fn store_forced(&mut self, id: &str, metadata: &M) -> Result<()> {
        let key = self.key(id)?;
        let value = version::encode(&key, metadata)?;
        self.session.insert(&key, value).map(drop)
    }

    /// Loads the metadata of job `id`; `None` if the session has none.
    ///
    /// ```
    /// # use jobsess::{JobSession, UntypedJob};
    /// let jobs = JobSession::<UntypedJob, _>::new(std::collections::HashMap::new());
    /// assert_eq!(jobs.load("job-999")?, None);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// An invalid id, stored data that doesn't decode as `M` (the error
    /// names the key, the type and the path), or a failing backend.
    pub fn load(&self, id: &str) -> Result<Option<M>> {
        let key = self.key(id)?;
        if M::schema().version.is_none() {
            return self.session.get_decoded(&key);
        }
        match self.session.get(&key)? {
            Some(job) => version::decode(&key, &job).map(Some),
            None => Ok(None),
        }
    }

    /// Loads the metadata of job `id`, or `default` if the session has none:
    /// the notebook's `get_job_metadata(job_id, default=...)`.
    ///
    /// ```
    /// # use jobsess::{JobSession, UntypedJob};
    /// let jobs = JobSession::<UntypedJob, _>::new(std::collections::HashMap::new());
    /// let fallback = serde_json::json!({ "error": "Not found" });
    /// let meta = jobs.load_or("job-999", fallback.as_object().unwrap().clone())?;
    /// assert_eq!(meta["error"], "Not found");
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn load_or(&self, id: &str, default: M) -> Result<M> {
        Ok(self.load(id)?.unwrap_or(default))
    }

    /// Loads the metadata of job `id`, or `M::default()` if the session has
    /// none: the notebook's `get_job_metadata(job_id)`, which returns `{}`.
    ///
    /// ```
    /// # use jobsess::{JobSession, UntypedJob};
    /// let jobs = JobSession::<UntypedJob, _>::new(std::collections::HashMap::new());
    /// assert!(jobs.load_or_default("job-999")?.is_empty());
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn load_or_default(&self, id: &str) -> Result<M>
    where
        M: Default,
    {
        Ok(self.load(id)?.unwrap_or_default())
    }

    /// Loads one field of job `id`, decoding only that field; `None` if the
    /// session has no such job. An absent field is decoded as serde would
    /// decode it inside the struct: its default, `None`, or an error.
    ///
    /// ```
    /// # use jobsess::{JobMetadata, JobSession};
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// struct Job { plugin: String, size: u64 }
    ///
    /// let mut session = std::collections::HashMap::new();
    /// let mut jobs = JobSession::<Job, _>::new(&mut session);
    /// jobs.store("a", &Job { plugin: "whisper".into(), size: 3 })?;
    /// let size: Option<u64> = jobs.load_field("a", Job::SIZE)?;
    /// assert_eq!(size, Some(3));
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// An invalid id, a stored job that is not an object, a field that
    /// doesn't decode (named with its path), or a failing backend.
    pub fn load_field<F: FieldOf<M>>(&self, id: &str, field: F) -> Result<Option<F::Value>> {
        let key = self.key(id)?;
        self.session.get_field_decoded(&key, &field.field())
    }

    /// Replaces one field of job `id`; every other field keeps its stored
    /// JSON exactly.
    ///
    /// ```
    /// # use jobsess::{JobMetadata, JobSession};
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// struct Job { plugin: String, progress: u8 }
    ///
    /// let mut session = std::collections::HashMap::new();
    /// let mut jobs = JobSession::<Job, _>::new(&mut session);
    /// jobs.store("a", &Job { plugin: "whisper".into(), progress: 0 })?;
    /// jobs.store_field("a", Job::PROGRESS, &40)?;
    /// assert_eq!(session["job_a"], serde_json::json!({ "plugin": "whisper", "progress": 40 }));
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::JobNotFound`] if the job is not in the session, an invalid
    /// id, a stored job that is not an object, or a failing backend. On any
    /// error the session is left as it was.
    pub fn store_field<F: FieldOf<M>>(
        &mut self,
        id: &str,
        field: F,
        value: &F::Value,
    ) -> Result<()> {
        let key = self.key(id)?;
        let write = codec::encode_field(&key, &field.field(), value, false)?;
        let found = if M::schema().version.is_none() {
            self.session.set_field(&key, write)?
        } else {
            // the job's version decides: an older job is migrated first
            self.session.update(&key, update::write::<M>(&key, write))?
        };
        if found {
            Ok(())
        } else {
            Err(Error::JobNotFound { key })
        }
    }

    /// Changes the metadata of job `id` with `f` and stores the result in
    /// one read-modify-write; the new value. No other writer's change can
    /// come between the read and the write: see [`update_if`](Self::update_if).
    ///
    /// ```
    /// # use jobsess::{JobMetadata, JobSession};
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// struct Job { progress: u32, log: Vec<String> }
    ///
    /// let mut session = std::collections::HashMap::new();
    /// let mut jobs = JobSession::<Job, _>::new(&mut session);
    /// jobs.store("a", &Job { progress: 0, log: vec![] })?;
    /// let job = jobs.update("a", |job| {
    ///     job.progress += 10;
    ///     job.log.push("chunk 1 done".into());
    /// })?;
    /// assert_eq!(job.progress, 10);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::JobNotFound`] if there is no such job, or as
    /// [`load`](Self::load) and [`store`](Self::store); on any error nothing
    /// is written.
    pub fn update(&mut self, id: &str, mut f: impl FnMut(&mut M)) -> Result<M> {
        self.update_if(id, |job| {
            f(job);
            true
        })
        .map(Updated::into_inner)
    }

    /// The conditional form of [`update`](Self::update), for state machines:
    /// `f` changes the job and returns `true` to store it, or returns `false`
    /// to leave the job as it was (its changes are dropped).
    ///
    /// The read and the write are one step of the backend: atomic on the
    /// maps, which are borrowed mutably, and on the async handle's
    /// `Mutex<B>` and Redis job store (see
    /// [`AsyncJobSession::update_if`](crate::AsyncJobSession::update_if)).
    ///
    /// ```
    /// # use jobsess::{JobMetadata, JobSession, Updated};
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq)]
    /// struct Job { status: String }
    ///
    /// let mut session = std::collections::HashMap::new();
    /// let mut jobs = JobSession::<Job, _>::new(&mut session);
    /// jobs.store("a", &Job { status: "cancelled".into() })?;
    /// // "done" only if it is still running
    /// let outcome = jobs.update_if("a", |job| {
    ///     if job.status != "running" {
    ///         return false;
    ///     }
    ///     job.status = "done".into();
    ///     true
    /// })?;
    /// assert_eq!(outcome, Updated::Declined(Job { status: "cancelled".into() }));
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub fn update_if(&mut self, id: &str, f: impl FnMut(&mut M) -> bool) -> Result<Updated<M>> {
        let key = self.key(id)?;
        let mut out = None;
        let found = self
            .session
            .update(&key, update::whole(&key, f, &mut out))?;
        match out {
            Some(outcome) if found => Ok(outcome),
            _ => Err(Error::JobNotFound { key }),
        }
    }

    /// Changes one field of job `id` with `f` in one read-modify-write, as
    /// [`update`](Self::update) does the whole job; the field's new value.
    /// Only that field is decoded and written.
    ///
    /// ```
    /// # use jobsess::{JobMetadata, JobSession};
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// struct Job { plugin: String, progress: u32 }
    ///
    /// let mut session = std::collections::HashMap::new();
    /// let mut jobs = JobSession::<Job, _>::new(&mut session);
    /// jobs.store("a", &Job { plugin: "whisper".into(), progress: 30 })?;
    /// assert_eq!(jobs.update_field("a", Job::PROGRESS, |p| *p += 10)?, 40);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub fn update_field<F: FieldOf<M>>(
        &mut self,
        id: &str,
        field: F,
        mut f: impl FnMut(&mut F::Value),
    ) -> Result<F::Value> {
        let (key, field) = (self.key(id)?, field.field());
        let f = move |value: &mut F::Value| {
            f(value);
            Ok(())
        };
        self.update_field_with(key, &field, f)
    }

    /// [`update_field`](Self::update_field) with a change that can fail.
    fn update_field_with<T>(
        &mut self,
        key: String,
        field: &crate::model::field::Field<M, T>,
        f: impl FnMut(&mut T) -> Result<()>,
    ) -> Result<T> {
        let mut out = None;
        let found = self
            .session
            .update(&key, update::field(&key, field, f, &mut out))?;
        match out {
            Some(value) if found => Ok(value),
            _ => Err(Error::JobNotFound { key }),
        }
    }

    /// Adds `by` to a whole-number field of job `id` (see
    /// [`Counter`](crate::Counter)) in one read-modify-write, and gives its
    /// new value: [`update_field`](Self::update_field) with `+ by`, or
    /// [`Error::Overflow`] past the type's range, with nothing written. An
    /// absent field counts as its default.
    ///
    /// ```
    /// # use jobsess::{JobMetadata, JobSession};
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// struct Job { plugin: String, #[serde(default)] files_done: u16 }
    ///
    /// let mut jobs = JobSession::<Job, _>::new(std::collections::HashMap::new());
    /// jobs.store("a", &Job { plugin: "whisper".into(), files_done: 0 })?;
    /// assert_eq!(jobs.increment_field("a", Job::FILES_DONE, 2)?, 2);
    /// assert!(matches!(
    ///     jobs.increment_field("a", Job::FILES_DONE, -3),
    ///     Err(jobsess::Error::Overflow { .. })
    /// ));
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`update_field`](Self::update_field), and [`Error::Overflow`].
    pub fn increment_field<F>(&mut self, id: &str, field: F, by: i64) -> Result<F::Value>
    where
        F: FieldOf<M>,
        F::Value: crate::model::counter::Counter,
    {
        let (key, field) = (self.key(id)?, field.field());
        let add = update::add::<F::Value>(&key, field.name(), by);
        self.update_field_with(key.clone(), &field, add)
    }

    /// Whether the session holds job `id` (decodable or not).
    ///
    /// ```
    /// # use jobsess::{JobSession, UntypedJob};
    /// let jobs = JobSession::<UntypedJob, _>::new(std::collections::HashMap::new());
    /// assert!(!jobs.contains("job-1")?);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// An invalid id or a failing backend.
    pub fn contains(&self, id: &str) -> Result<bool> {
        let key = self.key(id)?;
        Ok(self.session.get(&key)?.is_some())
    }

    /// Removes job `id`; whether it was there.
    ///
    /// ```
    /// # use jobsess::{JobSession, UntypedJob};
    /// let mut jobs = JobSession::<UntypedJob, _>::new(std::collections::HashMap::new());
    /// jobs.store("a", &Default::default())?;
    /// assert!(jobs.delete("a")?);
    /// assert!(!jobs.delete("a")?);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// An invalid id or a failing backend.
    pub fn delete(&mut self, id: &str) -> Result<bool> {
        let key = self.key(id)?;
        self.session.remove(&key)
    }

    /// The ids of this prefix's jobs, sorted, each once: every `{prefix}_…`
    /// key the backend lists, including jobs written there by other code.
    /// A key whose id [`load`](Self::load) and [`delete`](Self::delete) would
    /// reject (empty, too long, control characters) is left out and logged;
    /// [`clear`](Self::clear) still removes it.
    ///
    /// ```
    /// # use jobsess::{JobSession, UntypedJob};
    /// let mut session = std::collections::HashMap::new();
    /// session.insert("job_b".to_owned(), serde_json::json!({}));
    /// session.insert("job_a".to_owned(), serde_json::json!("corrupt"));
    /// session.insert("user".to_owned(), serde_json::json!("ann"));
    /// session.insert("job_\u{7}".to_owned(), serde_json::json!({}));
    /// let jobs = JobSession::<UntypedJob, _>::new(&mut session);
    /// assert_eq!(jobs.ids()?, ["a", "b"]);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// A failing backend.
    pub fn ids(&self) -> Result<Vec<String>> {
        let start = self.keys.start();
        Ok(codec::ids_of_keys(
            &start,
            self.session.keys_with_prefix(&start)?,
        ))
    }

    /// Every job of this prefix with its decoded metadata, sorted by id. A job
    /// that doesn't decode comes with its error and doesn't stop the others.
    ///
    /// ```
    /// # use jobsess::{JobSession, UntypedJob};
    /// let mut session = std::collections::HashMap::new();
    /// session.insert("job_a".to_owned(), serde_json::json!("corrupt"));
    /// session.insert("job_b".to_owned(), serde_json::json!({ "ok": true }));
    /// let jobs = JobSession::<UntypedJob, _>::new(&mut session);
    /// let entries = jobs.entries()?;
    /// assert!(entries[0].1.is_err());
    /// assert_eq!(entries[1].1.as_ref().unwrap()["ok"], true);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`ids`](Self::ids); errors of single jobs are in the list.
    pub fn entries(&self) -> Result<Vec<(String, Result<M>)>> {
        let ids = self.ids()?;
        Ok(ids
            .into_iter()
            .filter_map(|id| match self.load(&id) {
                Ok(None) => None,
                Ok(Some(meta)) => Some((id, Ok(meta))),
                Err(err) => Some((id, Err(err))),
            })
            .collect())
    }

    /// Removes every job of this prefix and nothing else; how many there were.
    ///
    /// ```
    /// # use jobsess::{JobSession, UntypedJob};
    /// let mut session = std::collections::HashMap::new();
    /// session.insert("job_a".to_owned(), serde_json::json!({}));
    /// session.insert("jobs".to_owned(), serde_json::json!({}));
    /// session.insert("other_a".to_owned(), serde_json::json!({}));
    /// assert_eq!(JobSession::<UntypedJob, _>::new(&mut session).clear()?, 1);
    /// assert_eq!(session.len(), 2);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// A failing backend; jobs removed before the failure stay removed.
    pub fn clear(&mut self) -> Result<usize> {
        self.session.remove_with_prefix(&self.keys.start())
    }
}

impl<M, S> fmt::Debug for JobSession<M, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobSession")
            .field("metadata", &crate::error::short_type_name::<M>())
            .field("prefix", &self.keys.prefix())
            .finish_non_exhaustive()
    }
}
