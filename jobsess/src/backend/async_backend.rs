//! The async contract: [`AsyncSessionBackend`], the same methods as the
//! sync [`SessionBackend`](super::SessionBackend), each returning a future;
//! and [`AsyncKeyValue`], a store that can't list its keys, which
//! [`Indexed`](super::Indexed) makes a backend.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{FieldWrite, Increment, Incremented};
use crate::error::Result;
#[cfg(doc)]
use crate::error::{Error, Op};
use crate::model::codec;
use crate::model::field::{Field, FieldKeys};
use crate::model::metadata::JobMetadata;
use crate::model::version::{self, FieldRead};

/// An asynchronous session: string keys, JSON values, `&self` access.
///
/// Four methods are required; the provided ones are fallbacks built on
/// them, which a backend overrides when it can do better (`Mutex<B>` works
/// under one lock, the Redis job store runs one atomic script). A store that
/// can't list its keys implements [`AsyncKeyValue`] instead and is wrapped
/// in [`Indexed`](super::Indexed), which keeps an id index for it.
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
    /// Whether the backend keeps a job's fields as JSON text (the Redis and
    /// PostgreSQL job stores do): then the handles encode a field write
    /// straight to text ([`FieldJson::Text`](crate::backend::FieldJson::Text)),
    /// once, instead of to a `Value` first. A backend takes either form; this
    /// only says which one costs it less. `false` by default.
    const FIELD_TEXT: bool = false;

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
                crate::model::version::check_not_newer(key, &old, version)?;
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

    /// Field `field` of the job under `key`, as the handles' `load_field`
    /// returns it: decoded through the field's codec, or its default (or
    /// serde's error) where the job lacks it; an older job migrated first, a
    /// newer one refused; `None` if there is no such job. The fallback reads
    /// the field with [`get_field`](Self::get_field), and an older job
    /// whole, as the sync contract's does.
    ///
    /// # Errors
    /// A job that is not an object or whose field doesn't decode
    /// ([`Error::Decode`] naming the path), a newer or unmigratable job, or
    /// as [`get`](Self::get).
    fn get_field_decoded<M: JobMetadata, T>(
        &self,
        key: &str,
        field: &Field<M, T>,
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        async move {
            let job = self.get_field(key, field.keys()).await?;
            if let FieldRead::Done(value) = version::read_field(key, job.as_ref(), field)? {
                return Ok(value);
            }
            let whole = self.get(key).await?;
            version::migrated_field(key, whole.as_ref(), field)
        }
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

    /// Changes one field of the job under `key` in one read-modify-write:
    /// `f` gets the job's members of `keys` (at least those; the fallback
    /// gives it the whole job) and returns the write to make, or `None`
    /// when the field alone won't do (a job of another version, to migrate
    /// whole). `Some(true)`: written; `Some(false)`: no such job; `None`:
    /// `f` declined and nothing was written, and the handles then make the
    /// change with [`update`](Self::update) of the whole job.
    ///
    /// The fallback is an [`update`](Self::update) of the whole job that
    /// applies `f`'s write to it, as atomic as the backend's `update`. The
    /// Redis job store overrides it: it reads the field's members and the
    /// revision with one `HMGET` and writes the field only if the revision
    /// is unchanged, else runs `f` again.
    ///
    /// # Errors
    /// What `f` returns (nothing is written), or as [`update`](Self::update).
    fn update_field<F>(
        &self,
        key: &str,
        keys: FieldKeys<'_>,
        mut f: F,
    ) -> impl Future<Output = Result<Option<bool>>> + Send
    where
        F: FnMut(&Value) -> Result<Option<FieldWrite<'static>>> + Send,
    {
        let _ = keys;
        async move {
            let mut declined = false;
            let found = self
                .update(key, |job| {
                    declined = false;
                    let Some(write) = f(job)? else {
                        declined = true;
                        return Ok(None);
                    };
                    let mut job = job.clone();
                    write.apply(key, &mut job)?;
                    Ok(Some(job))
                })
                .await?;
            Ok((!declined).then_some(found))
        }
    }

    /// Adds to a whole-number field of the job under `key` in one atomic
    /// step, if this backend has one (the Redis and PostgreSQL job stores
    /// do): the field's new value, or [`Incremented::NoJob`]. The fallback
    /// answers [`Incremented::NotHere`], and the handle then reads, adds
    /// and writes the field as `update_field` does, so every backend gives
    /// the same result.
    ///
    /// ```
    /// # tokio_test::block_on(async {
    /// use jobsess::AsyncSessionBackend;
    /// use jobsess::backend::{Increment, Incremented};
    /// let session = std::sync::Mutex::new(std::collections::HashMap::new());
    /// let done = session.increment_field("job_a", Increment::new("n", 1)).await?;
    /// assert_eq!(done, Incremented::NotHere); // a map: the handle's read-add-write
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    fn increment_field(
        &self,
        key: &str,
        increment: Increment<'_>,
    ) -> impl Future<Output = Result<Incremented>> + Send {
        let _ = (key, increment);
        std::future::ready(Ok(Incremented::NotHere))
    }

    /// Every key that starts with `start` with its value, in any order: the
    /// listing [`AsyncJobSession::entries`](crate::AsyncJobSession::entries)
    /// reads. A value that can't be read comes with its error, and every
    /// other key is still there. The fallback lists the keys and reads them
    /// one by one, a round trip each on a server; the job stores read them
    /// all in one step.
    ///
    /// # Errors
    /// As [`keys_with_prefix`](Self::keys_with_prefix); a read of one key
    /// that fails is that key's error, not the listing's.
    fn entries_with_prefix(
        &self,
        start: &str,
    ) -> impl Future<Output = Result<Vec<(String, Result<Value>)>>> + Send {
        async move {
            let mut entries = Vec::new();
            for key in self.keys_with_prefix(start).await? {
                match self.get(&key).await {
                    Ok(None) => {}
                    Ok(Some(value)) => entries.push((key, Ok(value))),
                    Err(err) => entries.push((key, Err(err))),
                }
            }
            Ok(entries)
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
/// its keys, such as a tower-sessions `Session`. [`Indexed`](super::Indexed) makes it an
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
