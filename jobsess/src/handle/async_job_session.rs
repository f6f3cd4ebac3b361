//! [`AsyncJobSession`], the typed handle over an async backend
//! (tower-sessions, `Mutex<HashMap>`, the Redis job store): the same
//! methods and steps as [`JobSession`](crate::JobSession), with `.await`.

use std::fmt;
use std::marker::PhantomData;

use crate::backend::AsyncSessionBackend;
use crate::backend::Incremented;
use crate::error::{Error, Result};
use crate::handle::update::{self, Updated};
use crate::key::KeySpace;
use crate::model::counter::Counter;
use crate::model::field::FieldOf;
use crate::model::metadata::JobMetadata;
use crate::model::{codec, version};

/// The metadata of the jobs of one prefix in one asynchronous session, typed
/// as `M`. See [`JobSession`](crate::JobSession) for the semantics of each
/// method; they are the same here, and `async`.
///
/// With the `axum` feature, handlers get one through
/// [`axum::Jobs`](crate::axum::Jobs), which derefs to this handle.
pub struct AsyncJobSession<M, S> {
    session: S,
    keys: KeySpace,
    marker: PhantomData<fn() -> M>,
}

impl<M, S: Clone> Clone for AsyncJobSession<M, S> {
    fn clone(&self) -> Self {
        AsyncJobSession {
            session: self.session.clone(),
            keys: self.keys.clone(),
            marker: PhantomData,
        }
    }
}

impl<M, S> AsyncJobSession<M, S> {
    /// The same handle (its prefix kept) over another backend.
    #[cfg(any(feature = "postgres", feature = "postgres-sqlx-09"))]
    pub(crate) fn with_session<T>(&self, session: T) -> AsyncJobSession<M, T> {
        AsyncJobSession {
            session,
            keys: self.keys.clone(),
            marker: PhantomData,
        }
    }
}

super::handle_accessors!(
    AsyncJobSession,
    AsyncSessionBackend,
    "std::sync::Mutex::new(std::collections::HashMap::new())",
    "jobs.session().lock().unwrap().is_empty()"
);

impl<M: JobMetadata, S: AsyncSessionBackend> AsyncJobSession<M, S> {
    /// Stores the metadata of job `id`, replacing any earlier metadata.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job { plugin: "whisper".into(), progress: 0 }).await?;
    /// assert!(jobs.contains("a").await?);
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// An invalid id, a value serde can't encode, or a failing backend.
    pub async fn store(&self, id: &str, metadata: &M) -> Result<()> {
        let key = self.key(id)?;
        let value = version::encode(&key, metadata)?;
        match M::schema().version {
            None => self.session.insert(&key, value).await.map(drop),
            Some(known) => self
                .session
                .insert_versioned(&key, value, known)
                .await
                .map(drop),
        }
    }

    /// Stores the metadata of job `id` as [`store`](Self::store) does, also
    /// over a job of a newer version, whose fields this release doesn't
    /// know are then lost.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, VERSION_KEY};
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// #[job_metadata(version = 2)]
    /// struct Job { file: String }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store_forced("a", &Job { file: "b".into() }).await?;
    /// assert_eq!(jobs.load("a").await?.unwrap().file, "b");
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// An invalid id, a value serde can't encode, or a failing backend.
    pub async fn store_forced(&self, id: &str, metadata: &M) -> Result<()> {
        let key = self.key(id)?;
        let value = version::encode(&key, metadata)?;
        self.session.insert(&key, value).await.map(drop)
    }

    /// Loads the metadata of job `id`; `None` if the session has none.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job::default()).await?;
    /// assert_eq!(jobs.load("a").await?, Some(Job::default()));
    /// assert_eq!(jobs.load("b").await?, None);
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// An invalid id, stored data that doesn't decode as `M`, or a failing backend.
    pub async fn load(&self, id: &str) -> Result<Option<M>> {
        let key = self.key(id)?;
        if M::schema().version.is_none() {
            return self.session.get_decoded(&key).await;
        }
        match self.session.get(&key).await? {
            Some(job) => version::decode(&key, &job).map(Some),
            None => Ok(None),
        }
    }

    /// Loads the metadata of job `id`, or `default` if the session has none.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// let job = jobs.load_or("missing", Job { plugin: "none".into(), progress: 0 }).await?;
    /// assert_eq!(job.plugin, "none");
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub async fn load_or(&self, id: &str, default: M) -> Result<M> {
        Ok(self.load(id).await?.unwrap_or(default))
    }

    /// Loads the metadata of job `id`, or `M::default()` if the session has none.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, UntypedJob};
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<UntypedJob, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// assert!(jobs.load_or_default("job-999").await?.is_empty());
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub async fn load_or_default(&self, id: &str) -> Result<M>
    where
        M: Default,
    {
        Ok(self.load(id).await?.unwrap_or_default())
    }

    /// Loads one field of job `id`; `None` if the session has no such job.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job { plugin: "whisper".into(), progress: 40 }).await?;
    /// assert_eq!(jobs.load_field("a", Job::PROGRESS).await?, Some(40));
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// An invalid id, a stored job that is not an object, a field that
    /// doesn't decode, or a failing backend.
    pub async fn load_field<F: FieldOf<M>>(&self, id: &str, field: F) -> Result<Option<F::Value>> {
        let key = self.key(id)?;
        self.session.get_field_decoded(&key, &field.field()).await
    }

    /// Replaces one field of job `id`; every other field keeps its stored JSON.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job::default()).await?;
    /// jobs.store_field("a", Job::PROGRESS, &90).await?;
    /// assert_eq!(jobs.load("a").await?.unwrap().progress, 90);
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::JobNotFound`] if the job is not in the session, an invalid
    /// id, a value that can't be encoded, a stored job that is not an
    /// object, or a failing backend.
    pub async fn store_field<F: FieldOf<M>>(
        &self,
        id: &str,
        field: F,
        value: &F::Value,
    ) -> Result<()> {
        let key = self.key(id)?;
        // a versioned job's write is applied to its value: no text for it
        let unversioned = M::schema().version.is_none();
        let text = S::FIELD_TEXT && unversioned;
        let write = codec::encode_field(&key, &field.field(), value, text)?;
        let found = if unversioned {
            self.session.set_field(&key, write).await?
        } else {
            // the job's version decides: an older job is migrated first
            let step = update::write::<M>(&key, write);
            self.session.update(&key, step).await?
        };
        if found {
            Ok(())
        } else {
            Err(Error::JobNotFound { key })
        }
    }

    /// Changes the metadata of job `id` with `f` and stores the result in
    /// one read-modify-write; the new value. See [`update_if`](Self::update_if)
    /// for what is atomic on which backend.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job::default()).await?;
    /// let job = jobs.update("a", |job| job.progress += 10).await?;
    /// assert_eq!(job.progress, 10);
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::JobNotFound`] if there is no such job, [`Error::Conflict`]
    /// if an optimistic backend ran out of attempts, or as
    /// [`load`](Self::load) and [`store`](Self::store); on any error nothing
    /// is written.
    pub async fn update(&self, id: &str, mut f: impl FnMut(&mut M) + Send) -> Result<M>
    where
        M: Send,
    {
        let outcome = self.update_if(id, |job| {
            f(job);
            true
        });
        outcome.await.map(Updated::into_inner)
    }

    /// The conditional form of [`update`](Self::update), for state machines:
    /// `f` changes the job and returns `true` to store it, or `false` to
    /// leave the job as it was.
    ///
    /// What is atomic:
    /// - `Mutex<B>`: the read and the write happen under one lock.
    /// - The Redis job store: the write happens only if the job is unchanged
    ///   since the read (a revision the write script checks); otherwise `f`
    ///   runs again on the newer job, a bounded number of times, then
    ///   [`Error::Conflict`]. `f` may therefore run more than once.
    /// - A whole-session backend (a tower-sessions `Session`, an actix-web
    ///   `Session`) is the one request's copy of the session: the update is
    ///   atomic within the request, but two concurrent requests of one user
    ///   each save their own copy, and the last save wins, as for any
    ///   session data. Keep metadata that concurrent requests change in the
    ///   Redis job store.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, Updated};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { status: String }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job { status: "running".into() }).await?;
    /// let outcome = jobs
    ///     .update_if("a", |job| {
    ///         let running = job.status == "running";
    ///         if running {
    ///             job.status = "done".into();
    ///         }
    ///         running
    ///     })
    ///     .await?;
    /// assert!(outcome.is_written());
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub async fn update_if(
        &self,
        id: &str,
        f: impl FnMut(&mut M) -> bool + Send,
    ) -> Result<Updated<M>>
    where
        M: Send,
    {
        let key = self.key(id)?;
        let mut out = None;
        let found = self
            .session
            .update(&key, update::whole(&key, f, &mut out))
            .await?;
        match out {
            Some(outcome) if found => Ok(outcome),
            _ => Err(Error::JobNotFound { key }),
        }
    }

    /// Changes one field of job `id` with `f` in one read-modify-write, as
    /// [`update`](Self::update) does the whole job; the field's new value.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job::default()).await?;
    /// assert_eq!(jobs.update_field("a", Job::PROGRESS, |p| *p += 5).await?, 5);
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub async fn update_field<F: FieldOf<M>>(
        &self,
        id: &str,
        field: F,
        mut f: impl FnMut(&mut F::Value) + Send,
    ) -> Result<F::Value>
    where
        F::Value: Send,
    {
        let (key, field) = (self.key(id)?, field.field());
        let mut f = move |value: &mut F::Value| {
            f(value);
            Ok(())
        };
        self.update_field_with(key, &field, &mut f).await
    }

    /// [`update_field`](Self::update_field) with a change that can fail.
    async fn update_field_with<T: Send>(
        &self,
        key: String,
        field: &crate::model::field::Field<M, T>,
        mut f: impl FnMut(&mut T) -> Result<()> + Send,
    ) -> Result<T> {
        let mut out = None;
        // the field alone where the backend can, else the whole job
        let found = match self
            .session
            .update_field(
                &key,
                field.keys(),
                update::field_only(&key, field, &mut f, &mut out, S::FIELD_TEXT),
            )
            .await?
        {
            Some(found) => found,
            None => {
                self.session
                    .update(&key, update::field(&key, field, &mut f, &mut out))
                    .await?
            }
        };
        match out {
            Some(value) if found => Ok(value),
            _ => Err(Error::JobNotFound { key }),
        }
    }

    /// Adds `by` to a whole-number field of job `id` (see [`Counter`]),
    /// with no lost increment however many writers add at once, and gives
    /// its new value. On the Redis and PostgreSQL job stores it is one
    /// atomic step (Lua's `HINCRBY` on the field's member, jsonb arithmetic
    /// in one `UPDATE`); elsewhere, and for a field with a
    /// `#[serde(with)]`, `skip_serializing_if` or an alias in use, it is
    /// [`update_field`](Self::update_field) with `+ by`. Either way the
    /// job reads as if `update_field` had run. An absent field counts as
    /// its default.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata};
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// struct Job { file: String, #[serde(default)] done: u32 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job { file: "a.csv".into(), done: 0 }).await?;
    /// assert_eq!(jobs.increment_field("a", Job::DONE, 3).await?, 3);
    /// assert_eq!(jobs.increment_field("a", Job::DONE, -1).await?, 2);
    /// assert!(jobs.increment_field("a", Job::DONE, -5).await.is_err()); // below u32::MIN
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::JobNotFound`] if there is no such job;
    /// [`Error::Overflow`] if the sum is past the field type's range
    /// (nothing is written); as [`update_field`](Self::update_field)
    /// otherwise.
    pub async fn increment_field<F>(&self, id: &str, field: F, by: i64) -> Result<F::Value>
    where
        F: FieldOf<M>,
        F::Value: Counter,
    {
        let (key, field) = (self.key(id)?, field.field());
        if let Some(increment) = update::atomic_increment::<M, F::Value>(&field, by) {
            match self.session.increment_field(&key, increment).await? {
                Incremented::To(value) => {
                    if let Some(value) = F::Value::from_i64(value) {
                        return Ok(value);
                    }
                }
                Incremented::NoJob => return Err(Error::JobNotFound { key }),
                _ => {}
            }
        }
        let name = field.name();
        let add = update::add::<F::Value>(&key, name, by);
        self.update_field_with(key.clone(), &field, add).await
    }

    /// Whether the session holds job `id`.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// assert!(!jobs.contains("a").await?);
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// An invalid id or a failing backend.
    pub async fn contains(&self, id: &str) -> Result<bool> {
        let key = self.key(id)?;
        Ok(self.session.get(&key).await?.is_some())
    }

    /// Removes job `id`; whether it was there.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job::default()).await?;
    /// assert!(jobs.delete("a").await?);
    /// assert!(!jobs.delete("a").await?);
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// An invalid id or a failing backend.
    pub async fn delete(&self, id: &str) -> Result<bool> {
        let key = self.key(id)?;
        self.session.remove(&key).await
    }

    /// The ids of this prefix's jobs, sorted.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("b", &Job::default()).await?;
    /// jobs.store("a", &Job::default()).await?;
    /// assert_eq!(jobs.ids().await?, ["a", "b"]);
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// A failing backend.
    pub async fn ids(&self) -> Result<Vec<String>> {
        let start = self.keys.start();
        let keys = self.session.keys_with_prefix(&start).await?;
        Ok(codec::ids_of_keys(&start, keys))
    }

    /// Every job of this prefix with its decoded metadata, sorted by id; a
    /// job that doesn't decode comes with its error.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job::default()).await?;
    /// let entries = jobs.entries().await?;
    /// assert_eq!(entries[0].0, "a");
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`ids`](Self::ids).
    pub async fn entries(&self) -> Result<Vec<(String, Result<M>)>> {
        let start = self.keys.start();
        let listed = self.session.entries_with_prefix(&start).await?;
        Ok(codec::entries_of(&start, listed))
    }

    /// Removes every job of this prefix and nothing else; how many there were.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job::default()).await?;
    /// assert_eq!(jobs.clear().await?, 1);
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// A failing backend; jobs removed before the failure stay removed.
    pub async fn clear(&self) -> Result<usize> {
        self.session.remove_with_prefix(&self.keys.start()).await
    }
}

impl<M, S> fmt::Debug for AsyncJobSession<M, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncJobSession")
            .field("metadata", &crate::error::short_type_name::<M>())
            .field("prefix", &self.keys.prefix())
            .finish_non_exhaustive()
    }
}
