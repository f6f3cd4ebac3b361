//! Watching a job through the typed handle: [`Change`], the typed
//! streams of [`AsyncJobSession::watch`] and `watch_field`, and
//! [`SseEvent`], what a render function makes of a change for a
//! server-sent event.

use futures_util::{Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::AsyncJobSession;
use crate::backend::notifying::WatchBackend;
use crate::error::{Error, Result};
use crate::model::field::{Field, FieldOf};
use crate::model::metadata::JobMetadata;
use crate::model::{codec, version};

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
