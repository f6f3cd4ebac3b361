//! Live jobs: a job's owner can watch it change.
//!
//! A backend that can tell when a job changes implements [`WatchBackend`]:
//! it hands out the stream of a job's states. [`AsyncJobSession::watch`]
//! and [`AsyncJobSession::watch_field`] type them. Two backends can:
//! [`Notifying`], a decorator for a backend shared inside one process
//! (`Mutex<HashMap>`), and the Redis job store, across processes.
//!
//! Every stream starts with the job's current state, so a page that
//! connects late misses nothing; then gives each new state in write order.
//! A consumer slower than the writers skips states in between, never the
//! last one, and never slows a writer down. The stream ends after telling
//! that the job was deleted or expired.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::{Stream, StreamExt, stream};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::async_session::{AsyncJobSession, AsyncSessionBackend};
use crate::backend::FieldWrite;
use crate::error::{Error, Result};
use crate::field::{Field, FieldKeys, FieldOf};
use crate::metadata::JobMetadata;
use crate::{codec, version};

/// The states of one job as a backend streams them: its JSON after each
/// change, `None` once it is deleted or expired (the last item), or an
/// error (the store failed while the stream waited; it goes on).
pub type JobStates = Pin<Box<dyn Stream<Item = Result<Option<Arc<Value>>>> + Send>>;

/// A backend that can stream the changes of a job.
///
/// ```
/// use jobsess::{AsyncJobSession, JobMetadata, watch::{Change, Notifying}};
/// use futures_util::StreamExt;
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata, Debug, PartialEq)]
/// struct Job { progress: u8 }
///
/// # tokio_test::block_on(async {
/// let jobs = AsyncJobSession::<Job, _>::new(Notifying::new(std::sync::Mutex::new(std::collections::HashMap::new())));
/// jobs.store("a", &Job { progress: 0 }).await?;
/// let mut changes = jobs.watch("a").await?;
/// assert_eq!(changes.next().await.unwrap()?, Change::Updated(Job { progress: 0 }));
/// jobs.store_field("a", Job::PROGRESS, &50).await?;
/// assert_eq!(changes.next().await.unwrap()?, Change::Updated(Job { progress: 50 }));
/// jobs.delete("a").await?;
/// assert_eq!(changes.next().await.unwrap()?, Change::Deleted);
/// assert!(changes.next().await.is_none());
/// # Ok::<(), jobsess::Error>(())
/// # }).unwrap();
/// ```
pub trait WatchBackend: AsyncSessionBackend {
    /// The states of the job under `key`, starting with the current one;
    /// `None` if there is no such job.
    ///
    /// # Errors
    /// [`Error::Backend`] if the store fails.
    fn watch(
        &self,
        key: &str,
    ) -> impl std::future::Future<Output = Result<Option<JobStates>>> + Send;
}

/// One change of a watched job. As JSON (in a server-sent event):
/// `{"change":"updated","job":{...}}` or `{"change":"deleted"}`.
///
/// ```
/// use jobsess::watch::Change;
/// let json = serde_json::to_string(&Change::Updated(serde_json::json!({ "progress": 5 })))?;
/// assert_eq!(json, r#"{"change":"updated","job":{"progress":5}}"#);
/// assert_eq!(serde_json::to_string(&Change::<()>::Deleted)?, r#"{"change":"deleted"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<M> {
    /// The job's metadata as it is now.
    Updated(M),
    /// The job was deleted or expired; nothing follows.
    Deleted,
}

/// One server-sent event as a render function makes it from a change of a
/// watched job, for `jobsess::axum::sse_with` and `jobsess::actix::sse_with`:
/// an event name (none: the default, `message`) and any text as data, such
/// as an HTML fragment that htmx's SSE extension swaps in
/// (`sse-swap="progress"`). Line breaks in the data are sent as SSE sends
/// them (one `data:` line each), so the client gets the text back whole.
///
/// ```
/// use jobsess::watch::SseEvent;
/// let event = SseEvent::named("progress", r#"<progress value="40" max="100"></progress>"#);
/// assert_eq!(event.name(), Some("progress"));
/// assert_eq!(SseEvent::message("{}").name(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    name: Option<String>,
    data: String,
}

impl SseEvent {
    /// A `message` event (the default name) with `data`.
    ///
    /// ```
    /// assert_eq!(jobsess::watch::SseEvent::message("40").data(), "40");
    /// ```
    pub fn message(data: impl Into<String>) -> Self {
        SseEvent {
            name: None,
            data: data.into(),
        }
    }

    /// An event named `name` with `data`. A line break can't stand in an
    /// event name: any in `name` are left out.
    ///
    /// ```
    /// assert_eq!(jobsess::watch::SseEvent::named("pro\ngress", "").name(), Some("progress"));
    /// ```
    pub fn named(name: impl Into<String>, data: impl Into<String>) -> Self {
        let mut name = name.into();
        name.retain(|c| c != '\r' && c != '\n');
        SseEvent {
            name: Some(name),
            data: data.into(),
        }
    }

    /// The event's name; `None` for the default, `message`.
    ///
    /// ```
    /// assert_eq!(jobsess::watch::SseEvent::named("done", "").name(), Some("done"));
    /// ```
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The event's data.
    ///
    /// ```
    /// assert_eq!(jobsess::watch::SseEvent::named("p", "<b>1</b>").data(), "<b>1</b>");
    /// ```
    #[must_use]
    pub fn data(&self) -> &str {
        &self.data
    }

    /// The event as a JSON `message`: what `sse` sends for each item.
    #[cfg(any(feature = "axum", feature = "actix"))]
    pub(crate) fn json<T: Serialize>(value: T) -> Self {
        match serde_json::to_string(&value) {
            Ok(json) => SseEvent::message(json),
            Err(err) => {
                tracing::error!(error = %err, "jobsess: an event doesn't encode");
                SseEvent::named("error", "internal server error")
            }
        }
    }

    /// An item of a watch stream through `render`; an error is an `error`
    /// event with the public text a web response would carry.
    #[cfg(any(feature = "axum", feature = "actix"))]
    pub(crate) fn of<T>(item: Result<T>, render: &mut impl FnMut(T) -> SseEvent) -> Self {
        match item {
            Ok(value) => render(value),
            Err(err) => SseEvent::named("error", crate::web::response_parts(&err).1),
        }
    }
}

impl<M: Serialize> Serialize for Change<M> {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        match self {
            Change::Updated(job) => {
                map.serialize_entry("change", "updated")?;
                map.serialize_entry("job", job)?;
            }
            Change::Deleted => map.serialize_entry("change", "deleted")?,
        }
        map.end()
    }
}

impl<M: JobMetadata, S: WatchBackend> AsyncJobSession<M, S> {
    /// The changes of job `id`: its metadata now, then after each change, then
    /// [`Change::Deleted`] when it is deleted or expires. States in between
    /// are skipped for a consumer slower than the writers; the last is
    /// always delivered. A state that doesn't decode is an `Err` item and
    /// the stream goes on.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, watch::Notifying};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct Job { progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(Notifying::new(std::sync::Mutex::new(std::collections::HashMap::new())));
    /// assert!(jobs.watch("nope").await.is_err()); // no such job: JobNotFound
    /// # });
    /// ```
    ///
    /// # Errors
    /// [`Error::JobNotFound`] if there is no such job (of this owner, on
    /// the Redis job store: nobody else's job can be watched), an invalid
    /// id, or a failing backend.
    pub async fn watch(
        &self,
        id: &str,
    ) -> Result<impl Stream<Item = Result<Change<M>>> + Send + 'static + use<M, S>>
    where
        M: Send + 'static,
    {
        let key = self.key(id)?;
        let states = self.session().watch(&key).await?;
        let Some(states) = states else {
            return Err(Error::JobNotFound { key });
        };
        Ok(states.map(move |state| match state? {
            Some(job) => version::decode::<M>(&key, &job).map(Change::Updated),
            None => Ok(Change::Deleted),
        }))
    }

    /// The values of one field of job `id`: now, then each time it changes
    /// (changes of other fields give nothing). The stream ends when the
    /// job is deleted or expires.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, watch::Notifying};
    /// # use futures_util::StreamExt;
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// struct Job { file: String, progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(Notifying::new(std::sync::Mutex::new(std::collections::HashMap::new())));
    /// jobs.store("a", &Job { file: "a.mp3".into(), progress: 0 }).await?;
    /// let mut progress = Box::pin(jobs.watch_field("a", Job::PROGRESS).await?);
    /// assert_eq!(progress.next().await.unwrap()?, 0);
    /// jobs.store_field("a", Job::FILE, &"b.mp3".to_owned()).await?; // not this field
    /// jobs.store_field("a", Job::PROGRESS, &10).await?;
    /// assert_eq!(progress.next().await.unwrap()?, 10);
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`watch`](Self::watch).
    pub async fn watch_field<F>(
        &self,
        id: &str,
        field: F,
    ) -> Result<impl Stream<Item = Result<F::Value>> + Send + 'static + use<M, S, F>>
    where
        F: FieldOf<M> + Send + 'static,
        F::Value: DeserializeOwned + Send,
        M: Send + 'static,
    {
        let key = self.key(id)?;
        let Some(states) = self.session().watch(&key).await? else {
            return Err(Error::JobNotFound { key });
        };
        let field = field.field();
        let mut last = None;
        let values = states
            .take_while(|state| std::future::ready(!matches!(state, Ok(None))))
            .filter_map(move |state| {
                std::future::ready(match state {
                    Ok(Some(job)) => changed_field(&key, &job, &field, &mut last),
                    Ok(None) => None,
                    Err(err) => Some(Err(err)),
                })
            });
        Ok(values)
    }
}

/// The value of `field` in `job`, the job under `key`, if its JSON (under
/// its name or an alias) differs from `last`, the JSON last passed on.
fn changed_field<M: JobMetadata, T>(
    key: &str,
    job: &Value,
    field: &Field<M, T>,
    last: &mut Option<Value>,
) -> Option<Result<T>> {
    let job = match version::current::<M>(key, job) {
        Ok(job) => job,
        Err(err) => return Some(Err(err)),
    };
    let raw = std::iter::once(field.name())
        .chain(field.aliases().iter().copied())
        .find_map(|name| job.get(name))
        .cloned()
        .unwrap_or(Value::Null);
    if last.as_ref() == Some(&raw) {
        return None;
    }
    *last = Some(raw);
    Some(codec::decode_field(key, &job, field))
}

/// A decorator that makes a backend shared inside one process (a
/// `Mutex<HashMap>`, an `Arc` of one) watchable: every write through it
/// tells the job's watchers, over a channel that keeps only the latest
/// news, so a writer never waits for a watcher.
///
/// It is a handle: clones share the backend and its watchers. Writes that
/// bypass it are not seen.
///
/// ```
/// use jobsess::{AsyncJobSession, UntypedJob, watch::Notifying};
/// let shared = Notifying::new(std::sync::Mutex::new(std::collections::HashMap::new()));
/// let jobs = AsyncJobSession::<UntypedJob, _>::new(shared.clone());
/// # let _ = jobs;
/// ```
pub struct Notifying<B> {
    shared: Arc<Shared<B>>,
}

struct Shared<B> {
    inner: B,
    watchers: Mutex<HashMap<String, tokio::sync::watch::Sender<u64>>>,
}

impl<B> Clone for Notifying<B> {
    fn clone(&self) -> Self {
        Notifying {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<B> std::ops::Deref for Shared<B> {
    type Target = B;

    fn deref(&self) -> &B {
        &self.inner
    }
}

impl<B> Notifying<B> {
    /// `inner`, watchable.
    ///
    /// ```
    /// use std::{collections::HashMap, sync::Mutex};
    /// let session = jobsess::watch::Notifying::new(Mutex::new(HashMap::<String, serde_json::Value>::new()));
    /// # let _ = session;
    /// ```
    pub fn new(inner: B) -> Self {
        Notifying {
            shared: Arc::new(Shared {
                inner,
                watchers: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The backend inside.
    ///
    /// ```
    /// # use jobsess::watch::Notifying;
    /// let session = Notifying::new(std::sync::Mutex::new(std::collections::HashMap::<String, serde_json::Value>::new()));
    /// assert!(session.inner().lock().unwrap().is_empty());
    /// ```
    pub fn inner(&self) -> &B {
        &self.shared.inner
    }

    /// Tells the watchers of the keys `changed` picks, and forgets keys
    /// nobody watches any more.
    fn notify(&self, changed: impl Fn(&str) -> bool) {
        let Ok(mut watchers) = self.shared.watchers.lock() else {
            return;
        };
        watchers.retain(|key, sender| {
            if changed(key) {
                sender.send_modify(|n| *n = n.wrapping_add(1));
            }
            sender.receiver_count() > 0
        });
    }

    fn subscribe(&self, key: &str) -> tokio::sync::watch::Receiver<u64> {
        let mut watchers = self
            .shared
            .watchers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        watchers
            .entry(key.to_owned())
            .or_insert_with(|| tokio::sync::watch::channel(0).0)
            .subscribe()
    }
}

impl<B: AsyncSessionBackend> AsyncSessionBackend for Notifying<B> {
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        self.shared.inner.get(key).await
    }

    async fn insert(&self, key: &str, value: Value) -> Result<bool> {
        let replaced = self.shared.inner.insert(key, value).await?;
        self.notify(|k| k == key);
        Ok(replaced)
    }

    async fn remove(&self, key: &str) -> Result<bool> {
        let removed = self.shared.inner.remove(key).await?;
        self.notify(|k| k == key);
        Ok(removed)
    }

    async fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        self.shared.inner.keys_with_prefix(start).await
    }

    async fn get_decoded<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        self.shared.inner.get_decoded(key).await
    }

    async fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Value>> {
        self.shared.inner.get_field(key, keys).await
    }

    async fn set_field(&self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        let found = self.shared.inner.set_field(key, write).await?;
        self.notify(|k| k == key);
        Ok(found)
    }

    async fn update<F>(&self, key: &str, f: F) -> Result<bool>
    where
        F: FnMut(&Value) -> Result<Option<Value>> + Send,
    {
        let found = self.shared.inner.update(key, f).await?;
        self.notify(|k| k == key);
        Ok(found)
    }

    async fn insert_versioned(&self, key: &str, value: Value, version: u32) -> Result<bool> {
        let replaced = self
            .shared
            .inner
            .insert_versioned(key, value, version)
            .await?;
        self.notify(|k| k == key);
        Ok(replaced)
    }

    async fn remove_with_prefix(&self, start: &str) -> Result<usize> {
        let removed = self.shared.inner.remove_with_prefix(start).await?;
        self.notify(|k| k.starts_with(start));
        Ok(removed)
    }
}

impl<B: AsyncSessionBackend + 'static> WatchBackend for Notifying<B> {
    async fn watch(&self, key: &str) -> Result<Option<JobStates>> {
        let mut news = self.subscribe(key);
        news.mark_unchanged();
        let Some(first) = self.get(key).await? else {
            return Ok(None);
        };
        let first = Arc::new(first);
        let (this, key) = (self.clone(), key.to_owned());
        let rest = stream::unfold(
            (this, key, news, Some(first.clone())),
            |(this, key, mut news, mut last)| async move {
                loop {
                    last.as_ref()?;
                    if news.changed().await.is_err() {
                        return None;
                    }
                    let state = this.get(&key).await.map(|state| state.map(Arc::new));
                    match state {
                        Ok(state) if state == last => {}
                        Ok(state) => {
                            last.clone_from(&state);
                            return Some((Ok(state), (this, key, news, last)));
                        }
                        Err(err) => return Some((Err(err), (this, key, news, last))),
                    }
                }
            },
        );
        Ok(Some(Box::pin(
            stream::once(async { Ok(Some(first)) }).chain(rest),
        )))
    }
}
