//! The one way a wrapper forwards to the backend inside it: [`Forward`] for
//! sync backends, [`AsyncForward`] for async ones. A wrapper implements the
//! few methods of one of these traits, and the blanket implementations
//! below forward every backend method, so no wrapper can leave one out:
//! a method added to a backend trait is forwarded by every wrapper at once.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{AsyncSessionBackend, FieldWrite, Increment, Incremented, SessionBackend, fallback};
use crate::error::Result;
use crate::model::field::{Field, FieldKeys};
use crate::model::metadata::JobMetadata;

/// A sync backend that wraps another: every [`SessionBackend`] method goes
/// to [`inner`](Self::inner), and a wrapper that must see every write (a
/// size limit) says so with [`checks_writes`](Self::checks_writes): then
/// each write is made as a read, a change and one
/// [`insert`](SessionBackend::insert) that first passes
/// [`check_write`](Self::check_write) with the whole new value.
///
/// ```
/// use jobsess::backend::Forward;
/// use jobsess::{Error, JobSession, Result, UntypedJob};
/// use serde_json::Value;
/// use std::collections::HashMap;
///
/// /// Refuses jobs with more than `max` fields.
/// struct FewFields { inner: HashMap<String, Value>, max: usize }
///
/// impl Forward for FewFields {
///     type Inner = HashMap<String, Value>;
///     fn inner(&self) -> &Self::Inner { &self.inner }
///     fn inner_mut(&mut self) -> &mut Self::Inner { &mut self.inner }
///     fn checks_writes(&self) -> bool { true }
///     fn check_write(&self, key: &str, value: &Value) -> Result<()> {
///         match value.as_object() {
///             Some(job) if job.len() > self.max => Err(Error::backend(jobsess::Op::Write, key, "too many fields")),
///             _ => Ok(()),
///         }
///     }
/// }
///
/// let mut jobs = JobSession::<UntypedJob, _>::new(FewFields { inner: HashMap::new(), max: 1 });
/// let job: UntypedJob = serde_json::from_str(r#"{"a": 1, "b": 2}"#).unwrap();
/// assert!(jobs.store("x", &job).is_err());
/// ```
pub trait Forward {
    /// The backend inside.
    type Inner: SessionBackend + ?Sized;

    /// The backend inside, to read.
    fn inner(&self) -> &Self::Inner;

    /// The backend inside, to write.
    fn inner_mut(&mut self) -> &mut Self::Inner;

    /// Whether writes must pass [`check_write`](Self::check_write). The
    /// default, `false`, sends each write straight to the inner backend
    /// (which may patch in place, or run it atomically in one step).
    fn checks_writes(&self) -> bool {
        false
    }

    /// The check each write passes, with `value`, everything `key` will
    /// hold after it, when [`checks_writes`](Self::checks_writes) is on.
    ///
    /// # Errors
    /// Why the write must not be made; nothing is written.
    fn check_write(&self, key: &str, value: &Value) -> Result<()> {
        let _ = (key, value);
        Ok(())
    }
}

// Every call names `<W as Forward>`: inside a `&mut self` method,
// `self.checks_writes()` would find `&mut W`'s own `Forward` impl first
// (the one for `&mut B`, which checks nothing).
impl<W: Forward + ?Sized> SessionBackend for W {
    fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>> {
        <W as Forward>::inner(self).get(key)
    }

    fn insert(&mut self, key: &str, value: Value) -> Result<bool> {
        if <W as Forward>::checks_writes(self) {
            <W as Forward>::check_write(self, key, &value)?;
        }
        <W as Forward>::inner_mut(self).insert(key, value)
    }

    fn remove(&mut self, key: &str) -> Result<bool> {
        <W as Forward>::inner_mut(self).remove(key)
    }

    fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        <W as Forward>::inner(self).keys_with_prefix(start)
    }

    fn get_decoded<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        <W as Forward>::inner(self).get_decoded(key)
    }

    fn insert_encoded<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<bool> {
        if <W as Forward>::checks_writes(self) {
            return fallback::insert_encoded(self, key, value);
        }
        <W as Forward>::inner_mut(self).insert_encoded(key, value)
    }

    fn insert_versioned(&mut self, key: &str, value: Value, version: u32) -> Result<bool> {
        if <W as Forward>::checks_writes(self) {
            return fallback::insert_versioned(self, key, value, version);
        }
        <W as Forward>::inner_mut(self).insert_versioned(key, value, version)
    }

    fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Cow<'_, Value>>> {
        <W as Forward>::inner(self).get_field(key, keys)
    }

    fn get_field_decoded<M: JobMetadata, T>(
        &self,
        key: &str,
        field: &Field<M, T>,
    ) -> Result<Option<T>> {
        <W as Forward>::inner(self).get_field_decoded(key, field)
    }

    fn set_field(&mut self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        if <W as Forward>::checks_writes(self) {
            return fallback::set_field(self, key, write);
        }
        <W as Forward>::inner_mut(self).set_field(key, write)
    }

    fn update<F>(&mut self, key: &str, f: F) -> Result<bool>
    where
        F: FnMut(&Value) -> Result<Option<Value>>,
    {
        if <W as Forward>::checks_writes(self) {
            return fallback::update(self, key, f);
        }
        <W as Forward>::inner_mut(self).update(key, f)
    }

    fn remove_with_prefix(&mut self, start: &str) -> Result<usize> {
        <W as Forward>::inner_mut(self).remove_with_prefix(start)
    }
}

/// A handle borrowed mutably is the backend itself.
impl<B: SessionBackend + ?Sized> Forward for &mut B {
    type Inner = B;

    fn inner(&self) -> &B {
        self
    }

    fn inner_mut(&mut self) -> &mut B {
        self
    }
}

/// What a write through an [`AsyncForward`] wrapper changed, as its
/// [`written`](AsyncForward::written) hears of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Written<'a> {
    /// The value under this key (written, patched or removed).
    Key(&'a str),
    /// Every key that starts with this (a removal by prefix).
    Prefix(&'a str),
}

impl Written<'_> {
    /// Whether the write changed `key`.
    ///
    /// ```
    /// use jobsess::backend::Written;
    /// assert!(Written::Prefix("job_").covers("job_a"));
    /// assert!(!Written::Key("job_a").covers("job_b"));
    /// ```
    #[must_use]
    pub fn covers(&self, key: &str) -> bool {
        match self {
            Written::Key(written) => *written == key,
            Written::Prefix(start) => key.starts_with(start),
        }
    }
}

/// An async backend that wraps another: every [`AsyncSessionBackend`]
/// method goes to [`inner`](Self::inner), and after each write that
/// succeeded the wrapper hears what it changed
/// ([`written`](Self::written)): how `jobsess::watch::Notifying` tells a
/// job's watchers. `Arc<B>` and `&B` forward this way.
///
/// ```
/// use jobsess::backend::{AsyncForward, Written};
/// use jobsess::{AsyncJobSession, AsyncSessionBackend, UntypedJob};
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// /// Counts the writes.
/// #[derive(Default)]
/// struct Counted { inner: Mutex<HashMap<String, serde_json::Value>>, writes: AtomicUsize }
///
/// impl AsyncForward for Counted {
///     type Inner = Mutex<HashMap<String, serde_json::Value>>;
///     fn inner(&self) -> &Self::Inner { &self.inner }
///     fn written(&self, _: Written<'_>) { self.writes.fetch_add(1, Ordering::Relaxed); }
/// }
///
/// # tokio_test::block_on(async {
/// let counted = Counted::default();
/// let jobs = AsyncJobSession::<UntypedJob, _>::new(&counted);
/// jobs.store("a", &UntypedJob::new()).await?;
/// jobs.delete("a").await?;
/// assert_eq!(counted.writes.load(Ordering::Relaxed), 2);
/// # Ok::<(), jobsess::Error>(())
/// # }).unwrap();
/// ```
pub trait AsyncForward: Send + Sync {
    /// The backend inside.
    type Inner: AsyncSessionBackend + ?Sized;

    /// The backend inside.
    fn inner(&self) -> &Self::Inner;

    /// Hears what a write that succeeded changed. The default does nothing.
    fn written(&self, change: Written<'_>) {
        let _ = change;
    }
}

impl<W: AsyncForward + ?Sized> AsyncSessionBackend for W {
    const FIELD_TEXT: bool = <W::Inner as AsyncSessionBackend>::FIELD_TEXT;

    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Value>>> + Send {
        <W as AsyncForward>::inner(self).get(key)
    }

    async fn insert(&self, key: &str, value: Value) -> Result<bool> {
        let replaced = <W as AsyncForward>::inner(self).insert(key, value).await?;
        <W as AsyncForward>::written(self, Written::Key(key));
        Ok(replaced)
    }

    async fn remove(&self, key: &str) -> Result<bool> {
        let removed = <W as AsyncForward>::inner(self).remove(key).await?;
        <W as AsyncForward>::written(self, Written::Key(key));
        Ok(removed)
    }

    fn keys_with_prefix(&self, start: &str) -> impl Future<Output = Result<Vec<String>>> + Send {
        <W as AsyncForward>::inner(self).keys_with_prefix(start)
    }

    fn entries_with_prefix(
        &self,
        start: &str,
    ) -> impl Future<Output = Result<Vec<(String, Result<Value>)>>> + Send {
        <W as AsyncForward>::inner(self).entries_with_prefix(start)
    }

    fn get_decoded<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        <W as AsyncForward>::inner(self).get_decoded(key)
    }

    async fn insert_versioned(&self, key: &str, value: Value, version: u32) -> Result<bool> {
        let replaced = <W as AsyncForward>::inner(self)
            .insert_versioned(key, value, version)
            .await?;
        <W as AsyncForward>::written(self, Written::Key(key));
        Ok(replaced)
    }

    fn get_field(
        &self,
        key: &str,
        keys: FieldKeys<'_>,
    ) -> impl Future<Output = Result<Option<Value>>> + Send {
        <W as AsyncForward>::inner(self).get_field(key, keys)
    }

    fn get_field_decoded<M: JobMetadata, T>(
        &self,
        key: &str,
        field: &Field<M, T>,
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        <W as AsyncForward>::inner(self).get_field_decoded(key, field)
    }

    async fn set_field(&self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        let found = <W as AsyncForward>::inner(self)
            .set_field(key, write)
            .await?;
        <W as AsyncForward>::written(self, Written::Key(key));
        Ok(found)
    }

    async fn update<F>(&self, key: &str, f: F) -> Result<bool>
    where
        F: FnMut(&Value) -> Result<Option<Value>> + Send,
    {
        let found = <W as AsyncForward>::inner(self).update(key, f).await?;
        <W as AsyncForward>::written(self, Written::Key(key));
        Ok(found)
    }

    async fn update_field<F>(&self, key: &str, keys: FieldKeys<'_>, f: F) -> Result<Option<bool>>
    where
        F: FnMut(&Value) -> Result<Option<FieldWrite<'static>>> + Send,
    {
        let found = <W as AsyncForward>::inner(self)
            .update_field(key, keys, f)
            .await?;
        // `None`: nothing written here, the whole-job update follows
        if found.is_some() {
            <W as AsyncForward>::written(self, Written::Key(key));
        }
        Ok(found)
    }

    async fn increment_field(&self, key: &str, increment: Increment<'_>) -> Result<Incremented> {
        let done = <W as AsyncForward>::inner(self)
            .increment_field(key, increment)
            .await?;
        // `NotHere`: nothing written here, the field's update follows
        if let Incremented::To(_) = done {
            <W as AsyncForward>::written(self, Written::Key(key));
        }
        Ok(done)
    }

    async fn remove_with_prefix(&self, start: &str) -> Result<usize> {
        let removed = <W as AsyncForward>::inner(self)
            .remove_with_prefix(start)
            .await?;
        <W as AsyncForward>::written(self, Written::Prefix(start));
        Ok(removed)
    }
}

/// A shared backend is the backend itself.
impl<B: AsyncSessionBackend + ?Sized> AsyncForward for Arc<B> {
    type Inner = B;

    fn inner(&self) -> &B {
        self
    }
}

/// A borrowed backend is the backend itself.
impl<B: AsyncSessionBackend + ?Sized> AsyncForward for &B {
    type Inner = B;

    fn inner(&self) -> &B {
        self
    }
}
