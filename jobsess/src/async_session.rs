//! [`AsyncJobSession`], the typed handle over an asynchronous session such
//! as tower-sessions', and the async backend traits. Same methods and
//! semantics as [`JobSession`](crate::JobSession); keys, validation,
//! encoding and field access are the same functions.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::backend::{FieldWrite, SessionBackend};
use crate::codec;
use crate::error::{Error, Op, Result};
use crate::field::{FieldKeys, FieldOf};
use crate::key::{self, KeySpace};
use crate::metadata::JobMetadata;
use crate::update::{self, Updated};
use crate::version::{self, FieldRead};

/// An asynchronous session: string keys, JSON values, `&self` access.
///
/// Four methods are required; the provided ones are fallbacks built on
/// them, which a backend overrides when it can do better (`Mutex<B>` works
/// under one lock, the Redis job store runs one atomic script). A store that
/// can't list its keys implements [`AsyncKeyValue`] instead and is wrapped
/// in [`Indexed`], which keeps an id index for it.
///
/// ```
/// use jobsess::{AsyncJobSession, AsyncSessionBackend, Error, Op, Result, UntypedJob};
/// use serde_json::Value;
/// use std::collections::HashMap;
/// use std::sync::RwLock;
///
/// /// A shared in-memory session.
/// #[derive(Default)]
/// struct Shared(RwLock<HashMap<String, Value>>);
///
/// impl AsyncSessionBackend for Shared {
///     async fn get(&self, key: &str) -> Result<Option<Value>> {
///         let map = self.0.read().map_err(|e| Error::backend(Op::Read, key, e.to_string()))?;
///         Ok(map.get(key).cloned())
///     }
///     async fn insert(&self, key: &str, value: Value) -> Result<bool> {
///         let mut map = self.0.write().map_err(|e| Error::backend(Op::Write, key, e.to_string()))?;
///         Ok(map.insert(key.to_owned(), value).is_some())
///     }
///     async fn remove(&self, key: &str) -> Result<bool> {
///         let mut map = self.0.write().map_err(|e| Error::backend(Op::Remove, key, e.to_string()))?;
///         Ok(map.remove(key).is_some())
///     }
///     async fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
///         let map = self.0.read().map_err(|e| Error::backend(Op::List, start, e.to_string()))?;
///         Ok(map.keys().filter(|k| k.starts_with(start)).cloned().collect())
///     }
/// }
///
/// # tokio_test::block_on(async {
/// let jobs = AsyncJobSession::<UntypedJob, _>::new(Shared::default());
/// jobs.store("a", &UntypedJob::new()).await?;
/// assert_eq!(jobs.ids().await?, ["a"]);
/// # Ok::<(), jobsess::Error>(())
/// # }).unwrap();
/// ```
pub trait AsyncSessionBackend: Send + Sync {
    /// The value under `key`.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::Read`] if the backend fails.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Value>>> + Send;

    /// Puts `value` under `key`; whether it replaced a value.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::Write`] if the backend fails.
    fn insert(&self, key: &str, value: Value) -> impl Future<Output = Result<bool>> + Send;

    /// Removes `key`; whether it was there.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::Remove`] if the backend fails.
    fn remove(&self, key: &str) -> impl Future<Output = Result<bool>> + Send;

    /// Every key that starts with `start`, in any order.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::List`] if the backend fails.
    fn keys_with_prefix(&self, start: &str) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// The job under `key` decoded as a `T`; `None` if there is none. The
    /// fallback decodes the value [`get`](Self::get) hands over, moving its
    /// strings rather than copying them; only a failure reads the job again,
    /// to name where it failed.
    ///
    /// # Errors
    /// As [`get`](Self::get); a job that is not an object or doesn't decode
    /// ([`Error::NotAnObject`], [`Error::Decode`] naming the path).
    fn get_decoded<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        async move {
            let Some(value) = self.get(key).await? else {
                return Ok(None);
            };
            match codec::decode_job_owned(key, value) {
                Ok(job) => return Ok(Some(job)),
                Err(Some(err)) => return Err(err),
                Err(None) => {}
            }
            match self.get(key).await? {
                Some(value) => codec::decode_job(key, &value).map(Some),
                None => Ok(None),
            }
        }
    }

    /// Puts `value`, a job at `version` of its metadata type, under `key`,
    /// unless the job there is of a newer version: then
    /// [`Error::NewerVersion`] and nothing is written. The fallback reads
    /// the job first; a backend shared between requests does both in one
    /// step (`Mutex<B>` under one lock, the Redis job store in its script).
    ///
    /// # Errors
    /// [`Error::NewerVersion`], or as [`get`](Self::get) and [`insert`](Self::insert).
    fn insert_versioned(
        &self,
        key: &str,
        value: Value,
        version: u32,
    ) -> impl Future<Output = Result<bool>> + Send {
        async move {
            if let Some(old) = self.get(key).await? {
                crate::version::check_not_newer(key, &old, version)?;
            }
            self.insert(key, value).await
        }
    }

    /// The job under `key`, holding at least those of the
    /// [`members`](FieldKeys::members) of `keys` that it has (the field, its
    /// aliases and the version member); `None` if there is no such job. The fallback
    /// reads the whole job.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    fn get_field(
        &self,
        key: &str,
        keys: FieldKeys<'_>,
    ) -> impl Future<Output = Result<Option<Value>>> + Send {
        let _ = keys;
        self.get(key)
    }

    /// Applies `write` to the job under `key`; `false`, and nothing
    /// written, if there is no such job. The fallback reads the job, patches
    /// it and writes it back, which is not atomic: a backend shared between
    /// requests overrides it.
    ///
    /// # Errors
    /// A stored job that is not an object, or as [`insert`](Self::insert).
    fn set_field(
        &self,
        key: &str,
        write: FieldWrite<'_>,
    ) -> impl Future<Output = Result<bool>> + Send {
        async move {
            let Some(mut job) = self.get(key).await? else {
                return Ok(false);
            };
            write.apply(key, &mut job)?;
            self.insert(key, job).await?;
            Ok(true)
        }
    }

    /// Reads the job under `key`, hands it to `f`, and writes what `f`
    /// returns in its place (`None`: nothing is written); `false`, with `f`
    /// never called, if there is no such job.
    ///
    /// The fallback is a [`get`](Self::get) and an [`insert`](Self::insert),
    /// which is atomic only where nothing else writes the backend between
    /// the two (a tower-sessions `Session` is one request's copy of the
    /// session). A backend shared between requests overrides it: `Mutex<B>`
    /// runs both under one lock; the Redis job store writes only if the job
    /// is unchanged since the read, and else runs `f` again on the newer job.
    ///
    /// # Errors
    /// What `f` returns (nothing is written), or as [`get`](Self::get) and
    /// [`insert`](Self::insert).
    fn update<F>(&self, key: &str, mut f: F) -> impl Future<Output = Result<bool>> + Send
    where
        F: FnMut(&Value) -> Result<Option<Value>> + Send,
    {
        async move {
            let Some(job) = self.get(key).await? else {
                return Ok(false);
            };
            if let Some(new) = f(&job)? {
                self.insert(key, new).await?;
            }
            Ok(true)
        }
    }

    /// Removes every key that starts with `start`; how many there were. The
    /// fallback lists the keys and removes them one by one.
    ///
    /// # Errors
    /// As [`keys_with_prefix`](Self::keys_with_prefix) and
    /// [`remove`](Self::remove); keys removed before a failure stay removed.
    fn remove_with_prefix(&self, start: &str) -> impl Future<Output = Result<usize>> + Send {
        async move {
            let mut removed = 0;
            for key in self.keys_with_prefix(start).await? {
                removed += usize::from(self.remove(&key).await?);
            }
            Ok(removed)
        }
    }
}

/// An asynchronous store of JSON values under string keys that can't list
/// its keys, such as a tower-sessions `Session`. [`Indexed`] makes it an
/// [`AsyncSessionBackend`].
///
/// ```
/// use jobsess::{AsyncJobSession, AsyncKeyValue, Indexed, Result, UntypedJob};
/// use serde_json::Value;
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// #[derive(Default)]
/// struct Opaque(Mutex<HashMap<String, Value>>);
///
/// impl AsyncKeyValue for Opaque {
///     async fn get(&self, key: &str) -> Result<Option<Value>> {
///         Ok(self.0.lock().unwrap().get(key).cloned())
///     }
///     async fn insert(&self, key: &str, value: Value) -> Result<bool> {
///         Ok(self.0.lock().unwrap().insert(key.to_owned(), value).is_some())
///     }
///     async fn remove(&self, key: &str) -> Result<bool> {
///         Ok(self.0.lock().unwrap().remove(key).is_some())
///     }
/// }
///
/// # tokio_test::block_on(async {
/// let jobs = AsyncJobSession::<UntypedJob, _>::new(Indexed::new(Opaque::default()));
/// jobs.store("b", &UntypedJob::new()).await?;
/// jobs.store("a", &UntypedJob::new()).await?;
/// assert_eq!(jobs.ids().await?, ["a", "b"]);
/// # Ok::<(), jobsess::Error>(())
/// # }).unwrap();
/// ```
pub trait AsyncKeyValue: Send + Sync {
    /// The value under `key`.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::Read`] if the store fails.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Value>>> + Send;

    /// Puts `value` under `key`; whether it replaced a value.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::Write`] if the store fails.
    fn insert(&self, key: &str, value: Value) -> impl Future<Output = Result<bool>> + Send;

    /// Removes `key`; whether it was there.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::Remove`] if the store fails.
    fn remove(&self, key: &str) -> impl Future<Output = Result<bool>> + Send;
}

impl<S: AsyncKeyValue + ?Sized> AsyncKeyValue for &S {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Value>>> + Send {
        (**self).get(key)
    }

    fn insert(&self, key: &str, value: Value) -> impl Future<Output = Result<bool>> + Send {
        (**self).insert(key, value)
    }

    fn remove(&self, key: &str) -> impl Future<Output = Result<bool>> + Send {
        (**self).remove(key)
    }
}

/// Makes a store that can't list its keys ([`AsyncKeyValue`]) a backend:
/// the ids of each prefix are kept in the store, in an index under
/// [`key::index_key`] (`__jobsess_index.{prefix}`), which no job key can equal.
///
/// The index can't lose a job and never stops the others:
/// - every `store` of a job that the index doesn't list adds it, so a job
///   the index lost (to a concurrent request's save, or to other code) is
///   listed again when it is next stored;
/// - an index that is not a list of ids is ignored with a logged warning and
///   rebuilt by the next stores; entries that are not strings are dropped;
/// - if the index can't be written after the job was, the error says the
///   job *is* stored ([`Op::UpdateIndex`]);
/// - listing checks each id's job, drops ids whose job is gone, never
///   repeats an id, and leaves out (with a warning) ids the handles would
///   reject; `clear()` removes those too.
///
/// `delete` leaves the id in the index; the next listing drops it.
#[derive(Debug, Clone, Default)]
pub struct Indexed<S>(S);

impl<S> Indexed<S> {
    /// Keeps an id index in `store`.
    ///
    /// ```
    /// # use jobsess::Indexed;
    /// let indexed = Indexed::new(());
    /// # let () = indexed.into_inner();
    /// ```
    pub fn new(store: S) -> Self {
        Indexed(store)
    }

    /// The store inside.
    ///
    /// ```
    /// # use jobsess::Indexed;
    /// assert_eq!(Indexed::new(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> S {
        self.0
    }
}

impl<S: AsyncKeyValue> Indexed<S> {
    /// The ids the index of `prefix` holds, each once, in index order.
    async fn indexed(&self, prefix: &str) -> Result<Vec<String>> {
        let index = key::index_key(prefix);
        Ok(codec::index_ids(&index, self.0.get(&index).await?.as_ref()))
    }
}

impl<S: AsyncKeyValue> AsyncSessionBackend for Indexed<S> {
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        self.0.get(key).await
    }

    /// Writes the job, then adds its id to the index if the index doesn't
    /// list it.
    async fn insert(&self, key: &str, value: Value) -> Result<bool> {
        let replaced = self.0.insert(key, value).await?;
        let Some((prefix, id)) = key::split_job_key(key) else {
            return Ok(replaced);
        };
        let add = async {
            let index_key = key::index_key(prefix);
            let index = self.0.get(&index_key).await?;
            if !codec::index_lists(index.as_ref(), id) {
                let mut ids = codec::index_ids(&index_key, index.as_ref());
                ids.push(id.to_owned());
                self.0.insert(&index_key, codec::index_value(&ids)).await?;
            }
            Ok::<_, Error>(())
        };
        add.await
            .map_err(|err| Error::backend(Op::UpdateIndex, key, err))?;
        Ok(replaced)
    }

    async fn remove(&self, key: &str) -> Result<bool> {
        self.0.remove(key).await
    }

    async fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        let Some(prefix) = start.strip_suffix(key::SEPARATOR) else {
            return Ok(Vec::new());
        };
        let indexed = self.indexed(prefix).await?;
        let mut live = Vec::with_capacity(indexed.len());
        for id in &indexed {
            let key = format!("{start}{id}");
            if self.0.get(&key).await?.is_some() {
                live.push(key);
            }
        }
        if live.len() < indexed.len() {
            // Pruning is upkeep: the listing is right without it.
            let ids: Vec<String> = live.iter().map(|k| k[start.len()..].to_owned()).collect();
            let index = key::index_key(prefix);
            if let Err(err) = self.0.insert(&index, codec::index_value(&ids)).await {
                tracing::warn!(error = %err, "jobsess: could not prune the id index {index}");
            }
        }
        Ok(live)
    }

    /// Field writes patch an existing job, which the index lists already.
    async fn set_field(&self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        let Some(mut job) = self.0.get(key).await? else {
            return Ok(false);
        };
        write.apply(key, &mut job)?;
        self.0.insert(key, job).await?;
        Ok(true)
    }

    /// Removes every indexed job, valid id or not, then the index.
    async fn remove_with_prefix(&self, start: &str) -> Result<usize> {
        let Some(prefix) = start.strip_suffix(key::SEPARATOR) else {
            return Ok(0);
        };
        let mut removed = 0;
        for id in self.indexed(prefix).await? {
            removed += usize::from(self.0.remove(&format!("{start}{id}")).await?);
        }
        self.0.remove(&key::index_key(prefix)).await?;
        Ok(removed)
    }
}

/// Any synchronous backend behind a `Mutex` is an asynchronous one: an
/// in-memory session that tasks can share, and what the examples use. Field
/// reads and writes and prefix removal each run under one lock, so they are
/// atomic between tasks.
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
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        Ok(lock(self, Op::Read, key)?.get(key)?.map(Cow::into_owned))
    }

    async fn insert(&self, key: &str, value: Value) -> Result<bool> {
        lock(self, Op::Write, key)?.insert(key, value)
    }

    async fn remove(&self, key: &str) -> Result<bool> {
        lock(self, Op::Remove, key)?.remove(key)
    }

    async fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        lock(self, Op::List, start)?.keys_with_prefix(start)
    }

    /// Copies out only the members the read needs, not the whole job.
    async fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Value>> {
        let session = lock(self, Op::Read, key)?;
        Ok(session.get_field(key, keys)?.map(|job| keys.pick(&job)))
    }

    async fn set_field(&self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        lock(self, Op::Write, key)?.set_field(key, write)
    }

    async fn remove_with_prefix(&self, start: &str) -> Result<usize> {
        lock(self, Op::Remove, start)?.remove_with_prefix(start)
    }

    /// Under one lock.
    async fn insert_versioned(&self, key: &str, value: Value, version: u32) -> Result<bool> {
        lock(self, Op::Write, key)?.insert_versioned(key, value, version)
    }

    /// Under one lock: no other task's write comes between the read and the write.
    async fn update<F>(&self, key: &str, f: F) -> Result<bool>
    where
        F: FnMut(&Value) -> Result<Option<Value>> + Send,
    {
        lock(self, Op::Write, key)?.update(key, f)
    }
}

/// The lock, or the error of a poisoned one.
fn lock<'m, B>(mutex: &'m Mutex<B>, op: Op, key: &str) -> Result<std::sync::MutexGuard<'m, B>> {
    mutex.lock().map_err(|_| {
        Error::backend(
            op,
            key,
            "the session's lock is poisoned: a task panicked while holding it",
        )
    })
}

impl<B: AsyncSessionBackend + ?Sized> AsyncSessionBackend for Arc<B> {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Value>>> + Send {
        (**self).get(key)
    }

    fn insert(&self, key: &str, value: Value) -> impl Future<Output = Result<bool>> + Send {
        (**self).insert(key, value)
    }

    fn remove(&self, key: &str) -> impl Future<Output = Result<bool>> + Send {
        (**self).remove(key)
    }

    fn keys_with_prefix(&self, start: &str) -> impl Future<Output = Result<Vec<String>>> + Send {
        (**self).keys_with_prefix(start)
    }

    fn get_field(
        &self,
        key: &str,
        keys: FieldKeys<'_>,
    ) -> impl Future<Output = Result<Option<Value>>> + Send {
        (**self).get_field(key, keys)
    }

    fn set_field(
        &self,
        key: &str,
        write: FieldWrite<'_>,
    ) -> impl Future<Output = Result<bool>> + Send {
        (**self).set_field(key, write)
    }

    fn update<F>(&self, key: &str, f: F) -> impl Future<Output = Result<bool>> + Send
    where
        F: FnMut(&Value) -> Result<Option<Value>> + Send,
    {
        (**self).update(key, f)
    }

    fn insert_versioned(
        &self,
        key: &str,
        value: Value,
        version: u32,
    ) -> impl Future<Output = Result<bool>> + Send {
        (**self).insert_versioned(key, value, version)
    }

    fn remove_with_prefix(&self, start: &str) -> impl Future<Output = Result<usize>> + Send {
        (**self).remove_with_prefix(start)
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

crate::key::handle_accessors!(
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
        let (key, field) = (self.key(id)?, field.field());
        let job = self.session.get_field(&key, field.keys()).await?;
        match version::read_field(&key, job.as_ref(), &field)? {
            FieldRead::Done(value) => Ok(value),
            FieldRead::Older => {
                let whole = self.session.get(&key).await?;
                version::migrated_field(&key, whole.as_ref(), &field)
            }
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
        let found = if M::schema().version.is_none() {
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
        f: impl FnMut(&mut F::Value) + Send,
    ) -> Result<F::Value>
    where
        F::Value: Send,
    {
        let (key, field) = (self.key(id)?, field.field());
        let mut out = None;
        let found = self
            .session
            .update(&key, update::field(&key, &field, f, &mut out))
            .await?;
        match out {
            Some(value) if found => Ok(value),
            _ => Err(Error::JobNotFound { key }),
        }
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
        self.session.remove_with_prefix(&self.keys.start()).await
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
