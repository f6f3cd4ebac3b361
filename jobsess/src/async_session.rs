//! [`AsyncJobSession`], the typed handle over an asynchronous session such
//! as tower-sessions'. Same methods and semantics as
//! [`JobSession`](crate::JobSession); keys, validation, encoding, field
//! access and index upkeep are the same functions.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::backend::{self, SessionBackend};
use crate::codec;
use crate::error::{BoxError, Error, Result};
use crate::field::FieldOf;
use crate::key::KeySpace;
use crate::metadata::JobMetadata;
use crate::session::backend_error;

/// An asynchronous session: string keys, JSON values, `&self` access.
///
/// Implemented for `tower_sessions::Session` (feature `tower-sessions`).
///
/// ```
/// use jobsess::{AsyncSessionBackend, BoxError};
/// use serde_json::Value;
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// /// A shared in-memory session that can't list its keys.
/// #[derive(Default)]
/// struct Shared(Mutex<HashMap<String, Value>>);
///
/// impl AsyncSessionBackend for Shared {
///     const LISTS_KEYS: bool = false;
///     async fn get(&self, key: &str) -> Result<Option<Value>, BoxError> {
///         Ok(self.0.lock().map_err(|e| e.to_string())?.get(key).cloned())
///     }
///     async fn insert(&self, key: &str, value: Value) -> Result<bool, BoxError> {
///         let mut map = self.0.lock().map_err(|e| e.to_string())?;
///         Ok(map.insert(key.to_owned(), value).is_some())
///     }
///     async fn remove(&self, key: &str) -> Result<bool, BoxError> {
///         Ok(self.0.lock().map_err(|e| e.to_string())?.remove(key).is_some())
///     }
///     async fn keys_with_prefix(&self, _: &str) -> Result<Vec<String>, BoxError> {
///         Err("not supported".into())
///     }
/// }
/// ```
pub trait AsyncSessionBackend: Send + Sync {
    /// Whether [`keys_with_prefix`](Self::keys_with_prefix) can see every key.
    /// When it can't, the handle keeps a per-prefix index of job ids in the
    /// session, under [`key::index_key`](crate::key::index_key).
    const LISTS_KEYS: bool;

    /// The value under `key`.
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Value>, BoxError>> + Send;

    /// Puts `value` under `key`; whether it replaced a value.
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn insert(
        &self,
        key: &str,
        value: Value,
    ) -> impl Future<Output = Result<bool, BoxError>> + Send;

    /// Removes `key`; whether it was there.
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn remove(&self, key: &str) -> impl Future<Output = Result<bool, BoxError>> + Send;

    /// Every key that starts with `start`. Only called when
    /// [`LISTS_KEYS`](Self::LISTS_KEYS) is true.
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn keys_with_prefix(
        &self,
        start: &str,
    ) -> impl Future<Output = Result<Vec<String>, BoxError>> + Send;

    /// Removes every key that starts with `start` in one operation; how many
    /// there were, or `None` if this backend can't (then the handle lists the
    /// keys and removes them one by one). Only called when
    /// [`LISTS_KEYS`](Self::LISTS_KEYS) is true.
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn remove_with_prefix(
        &self,
        start: &str,
    ) -> impl Future<Output = Result<Option<usize>, BoxError>> + Send {
        let _ = start;
        async { Ok(None) }
    }

    /// Whether this backend reads and writes single fields of a stored job
    /// itself ([`get_field`](Self::get_field), [`set_field`](Self::set_field)),
    /// each as one atomic operation. When it doesn't, the handle reads the
    /// whole job and, for a write, patches it and writes it back.
    const FIELD_ACCESS: bool = false;

    /// The job under `key` with only those of `fields` in it that it has
    /// (the field's key, then its aliases); `None` if there is no such job.
    /// Only called when [`FIELD_ACCESS`](Self::FIELD_ACCESS) is true.
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn get_field(
        &self,
        key: &str,
        fields: &[&str],
    ) -> impl Future<Output = Result<Option<Value>, BoxError>> + Send {
        let _ = (key, fields);
        async { Err("this backend has no field access".into()) }
    }

    /// Sets `field` of the job under `key` to `value`, or removes it when
    /// `value` is `None`, and removes the keys in `remove` (the field's
    /// aliases), atomically; `false` (and nothing written) if there is no
    /// such job. Only called when [`FIELD_ACCESS`](Self::FIELD_ACCESS) is true.
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn set_field(
        &self,
        key: &str,
        field: &str,
        value: Option<Value>,
        remove: &[&str],
    ) -> impl Future<Output = Result<bool, BoxError>> + Send {
        let _ = (key, field, value, remove);
        async { Err("this backend has no field access".into()) }
    }
}

/// Any synchronous backend behind a `Mutex` is an asynchronous one: an
/// in-memory session that tasks can share, and what the examples below use.
///
/// ```
/// use jobsess::{AsyncJobSession, UntypedJob};
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
///
/// # tokio_test::block_on(async {
/// let session = Arc::new(Mutex::new(HashMap::new()));
/// let jobs = AsyncJobSession::<UntypedJob, _>::new(Arc::clone(&session));
/// jobs.store("a", &UntypedJob::new()).await?;
/// assert!(session.lock().unwrap().contains_key("job_a"));
/// # Ok::<(), jobsess::Error>(())
/// # }).unwrap();
/// ```
impl<B: SessionBackend + Send> AsyncSessionBackend for Mutex<B> {
    const LISTS_KEYS: bool = B::LISTS_KEYS;

    async fn get(&self, key: &str) -> Result<Option<Value>, BoxError> {
        let session = self.lock().map_err(|_| POISONED)?;
        Ok(session.get(key)?.map(Cow::into_owned))
    }

    async fn insert(&self, key: &str, value: Value) -> Result<bool, BoxError> {
        self.lock().map_err(|_| POISONED)?.insert(key, value)
    }

    async fn remove(&self, key: &str) -> Result<bool, BoxError> {
        self.lock().map_err(|_| POISONED)?.remove(key)
    }

    async fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>, BoxError> {
        self.lock().map_err(|_| POISONED)?.keys_with_prefix(start)
    }

    async fn remove_with_prefix(&self, start: &str) -> Result<Option<usize>, BoxError> {
        self.lock().map_err(|_| POISONED)?.remove_with_prefix(start)
    }

    /// Field reads and writes run under one lock, so concurrent tasks that
    /// patch different fields of one job lose nothing.
    const FIELD_ACCESS: bool = true;

    async fn get_field(&self, key: &str, fields: &[&str]) -> Result<Option<Value>, BoxError> {
        let session = self.lock().map_err(|_| POISONED)?;
        Ok(session.get(key)?.map(|job| match job.as_object() {
            Some(stored) => Value::Object(
                fields
                    .iter()
                    .filter_map(|field| stored.get_key_value(*field))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            // not an object: the handle reports it as such
            None => job.into_owned(),
        }))
    }

    async fn set_field(
        &self,
        key: &str,
        field: &str,
        value: Option<Value>,
        remove: &[&str],
    ) -> Result<bool, BoxError> {
        let mut session = self.lock().map_err(|_| POISONED)?;
        let write = codec::FieldWrite {
            name: field,
            value,
            aliases: remove,
        };
        Ok(backend::patch_stored(&mut *session, key, write, None)?)
    }
}

const POISONED: &str = "the session's lock is poisoned: a task panicked while holding it";

impl<B: AsyncSessionBackend> AsyncSessionBackend for Arc<B> {
    const LISTS_KEYS: bool = B::LISTS_KEYS;

    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Value>, BoxError>> + Send {
        (**self).get(key)
    }

    fn insert(
        &self,
        key: &str,
        value: Value,
    ) -> impl Future<Output = Result<bool, BoxError>> + Send {
        (**self).insert(key, value)
    }

    fn remove(&self, key: &str) -> impl Future<Output = Result<bool, BoxError>> + Send {
        (**self).remove(key)
    }

    fn keys_with_prefix(
        &self,
        start: &str,
    ) -> impl Future<Output = Result<Vec<String>, BoxError>> + Send {
        (**self).keys_with_prefix(start)
    }

    fn remove_with_prefix(
        &self,
        start: &str,
    ) -> impl Future<Output = Result<Option<usize>, BoxError>> + Send {
        (**self).remove_with_prefix(start)
    }

    const FIELD_ACCESS: bool = B::FIELD_ACCESS;

    fn get_field(
        &self,
        key: &str,
        fields: &[&str],
    ) -> impl Future<Output = Result<Option<Value>, BoxError>> + Send {
        (**self).get_field(key, fields)
    }

    fn set_field(
        &self,
        key: &str,
        field: &str,
        value: Option<Value>,
        remove: &[&str],
    ) -> impl Future<Output = Result<bool, BoxError>> + Send {
        (**self).set_field(key, field, value, remove)
    }
}

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

impl<M: JobMetadata, S: AsyncSessionBackend> AsyncJobSession<M, S> {
    /// A handle on `session` for the prefix `M` was derived with.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// assert_eq!(jobs.prefix(), "job");
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn new(session: S) -> Self {
        AsyncJobSession {
            session,
            keys: KeySpace::of(M::key_prefix()),
            marker: PhantomData,
        }
    }

    /// A handle on `session` that uses `prefix` instead of `M`'s.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// let jobs = AsyncJobSession::<Job, _>::with_prefix(jobs.into_inner(), "render")?;
    /// assert_eq!(jobs.key("a")?, "render_a");
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidPrefix`] if `prefix` breaks the [key rules](crate::key).
    pub fn with_prefix(session: S, prefix: impl Into<Cow<'static, str>>) -> Result<Self> {
        Ok(AsyncJobSession {
            session,
            keys: KeySpace::checked(prefix)?,
            marker: PhantomData,
        })
    }

    /// The prefix of this handle's keys.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// assert_eq!(jobs.prefix(), "job");
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn prefix(&self) -> &str {
        self.keys.prefix()
    }

    /// The session key of job `id`: `{prefix}_{id}`.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// assert_eq!(jobs.key("job-123")?, "job_job-123");
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidJobId`] for an id that breaks the [key rules](crate::key).
    pub fn key(&self, id: &str) -> Result<String> {
        self.keys.job(id)
    }

    /// The session this handle works on.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, UntypedJob};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq, Default)]
    /// # struct Job { plugin: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// assert!(jobs.session().lock().unwrap().is_empty());
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn session(&self) -> &S {
        &self.session
    }

    /// Gives the session back.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, UntypedJob};
    /// let jobs = AsyncJobSession::<UntypedJob, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// assert!(jobs.into_inner().into_inner().unwrap().is_empty());
    /// ```
    pub fn into_inner(self) -> S {
        self.session
    }

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
        let value = codec::encode(&key, metadata)?;
        let replaced = self.write(&key, value).await?;
        if !S::LISTS_KEYS
            && !replaced
            && let Some(ids) = codec::index_with(self.index_read().await?, id)
        {
            self.index_write(&ids).await?;
        }
        Ok(())
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
        match self.read(&key).await? {
            Some(value) => codec::decode_job(&key, &value).map(Some),
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
        let field = field.field();
        let job = if S::FIELD_ACCESS {
            let mut names = Vec::with_capacity(1 + field.aliases().len());
            names.push(field.name());
            names.extend_from_slice(field.aliases());
            self.session
                .get_field(&key, &names)
                .await
                .map_err(|source| own_or_backend_error("read", &key, source))?
        } else {
            self.read(&key).await?
        };
        match job {
            Some(job) => codec::decode_field(&key, &job, &field).map(Some),
            None => Ok(None),
        }
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
        let write = codec::encode_field(&key, &field.field(), value)?;
        if S::FIELD_ACCESS {
            let found = self
                .session
                .set_field(&key, write.name, write.value, write.aliases)
                .await
                .map_err(|source| own_or_backend_error("write", &key, source))?;
            return if found {
                Ok(())
            } else {
                Err(Error::JobNotFound { key })
            };
        }
        let Some(mut job) = self.read(&key).await? else {
            return Err(Error::JobNotFound { key });
        };
        codec::patch_field(&key, &mut job, write)?;
        self.write(&key, job).await.map(drop)
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
        Ok(self.read(&key).await?.is_some())
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
        // The index keeps the id until `ids()` finds its job gone.
        self.remove_key(&self.key(id)?).await
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
    /// A failing backend, or an index that is not a list.
    pub async fn ids(&self) -> Result<Vec<String>> {
        if S::LISTS_KEYS {
            let start = self.keys.start();
            let keys = self
                .session
                .keys_with_prefix(&start)
                .await
                .map_err(|source| backend_error("list", &start, source))?;
            return Ok(codec::ids_of_keys(&start, keys));
        }
        let indexed = self.index_read().await?;
        let mut live = Vec::with_capacity(indexed.len());
        for id in &indexed {
            if self.read(&self.keys.listed(id)).await?.is_some() {
                live.push(id.clone());
            }
        }
        if live.len() != indexed.len() {
            self.index_write(&live).await?;
        }
        live.sort_unstable();
        Ok(live)
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
        let mut entries = Vec::new();
        for id in self.ids().await? {
            match self.load(&id).await {
                Ok(None) => {}
                Ok(Some(meta)) => entries.push((id, Ok(meta))),
                Err(err) => entries.push((id, Err(err))),
            }
        }
        Ok(entries)
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
        if S::LISTS_KEYS {
            let start = self.keys.start();
            let removed = self
                .session
                .remove_with_prefix(&start)
                .await
                .map_err(|source| backend_error("remove", &start, source))?;
            if let Some(removed) = removed {
                return Ok(removed);
            }
        }
        let mut removed = 0;
        for id in self.ids().await? {
            if self.remove_key(&self.keys.listed(&id)).await? {
                removed += 1;
            }
        }
        if !S::LISTS_KEYS {
            self.remove_key(&self.keys.index()).await?;
        }
        Ok(removed)
    }

    async fn read(&self, key: &str) -> Result<Option<Value>> {
        self.session
            .get(key)
            .await
            .map_err(|source| backend_error("read", key, source))
    }

    /// Writes `value` under `key`; whether it replaced a value.
    async fn write(&self, key: &str, value: Value) -> Result<bool> {
        self.session
            .insert(key, value)
            .await
            .map_err(|source| backend_error("write", key, source))
    }

    async fn remove_key(&self, key: &str) -> Result<bool> {
        self.session
            .remove(key)
            .await
            .map_err(|source: BoxError| backend_error("remove", key, source))
    }

    async fn index_read(&self) -> Result<Vec<String>> {
        let index = self.keys.index();
        let value = self.read(&index).await?;
        codec::index_ids(&index, value.as_ref())
    }

    async fn index_write(&self, ids: &[String]) -> Result<()> {
        self.write(&self.keys.index(), codec::index_value(ids))
            .await
            .map(drop)
    }
}

/// A backend error, or, when the backend passed one of ours through (a job
/// that is not an object...), that error itself.
fn own_or_backend_error(op: &'static str, key: &str, source: BoxError) -> Error {
    match source.downcast::<Error>() {
        Ok(own) => *own,
        Err(source) => backend_error(op, key, source),
    }
}

impl<M, S> fmt::Debug for AsyncJobSession<M, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncJobSession")
            .field("metadata", &codec::short_type_name::<M>())
            .field("prefix", &self.keys.prefix())
            .finish_non_exhaustive()
    }
}
