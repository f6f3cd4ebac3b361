//! Watching a job through the typed handle: [`Change`], and the typed
//! streams of [`AsyncJobSession::watch`] and `watch_field`.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::{Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::AsyncJobSession;
use crate::backend::notifying::WatchBackend;
use crate::error::{Error, Result};
use crate::model::field::{Field, FieldOf};
use crate::model::metadata::End;
use crate::model::metadata::JobMetadata;
use crate::model::status::end_of;
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
    pub async fn watch(&self, id: &str) -> Result<Watch<Change<M>>>
    where
        M: Send + 'static,
    {
        let key = self.key(id)?;
        let states = self.session().watch(&key).await?;
        let Some(states) = states else {
            return Err(Error::JobNotFound { key });
        };
        let steps = states.map(move |state| match state {
            Err(err) => (None, Step::Next(Err(err))),
            Ok(None) => (None, Step::Last(Ok(Change::Deleted), None)),
            Ok(Some(state)) => {
                let job = &state.job;
                let change = version::decode::<M>(&key, job).map(Change::Updated);
                let step = match end_of::<M>(&key, job) {
                    Some(end) => Step::Last(change, Some(end)),
                    None => Step::Next(change),
                };
                (Some(state.revision), step)
            }
        });
        Ok(Watch::new(steps))
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
    pub async fn watch_field<F>(&self, id: &str, field: F) -> Result<Watch<F::Value>>
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
        let values = states.filter_map(move |state| {
            std::future::ready(match state {
                Ok(Some(state)) => {
                    let (job, id) = (&state.job, Some(state.revision));
                    match end_of::<M>(&key, job) {
                        // the ending state: its value if it changed, then the end
                        Some(end) => Some(match changed_field(&key, job, &field, &mut last) {
                            Some(value) => (id, Step::Last(value, Some(end))),
                            None => (id, Step::End(Some(end))),
                        }),
                        None => changed_field(&key, job, &field, &mut last)
                            .map(|value| (id, Step::Next(value))),
                    }
                }
                // deleted or expired: no value to give, the stream ends
                Ok(None) => Some((None, Step::End(None))),
                Err(err) => Some((None, Step::Next(Err(err)))),
            })
        });
        Ok(Watch::new(values))
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

/// One item of a watch stream as it is made: an item with more to come,
/// the last one, or the end with no item to give (a field that the ending
/// write left as it was, a job that went); with how the job ended, if it
/// ended rather than went.
enum Step<T> {
    Next(Result<T>),
    Last(Result<T>, Option<End>),
    End(Option<End>),
}

/// The steps behind a [`Watch`], each with the revision of the state it
/// came from (`None` for an error, or the end of a job that went).
type Steps<T> = Pin<Box<dyn Stream<Item = (Option<u64>, Step<T>)> + Send>>;

/// The stream of a watched job's states ([`AsyncJobSession::watch`]) or of
/// one field's values ([`AsyncJobSession::watch_field`]). It ends after the
/// job's last state: the one whose status says it ended (see
/// [`HasStatus`](crate::HasStatus)), after which [`end`](Self::end) says
/// how, or its deletion or expiry. A field stream gives the ending state's
/// value only if it changed. The server-sent events helpers of
/// axum and actix-web send one more event, `done`, after an ended job's
/// last state.
///
/// ```
/// # use jobsess::{AsyncJobSession, End, JobMetadata, Status, watch::{Change, Notifying}};
/// # use futures_util::StreamExt;
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// #[job_metadata(status = status)]
/// struct Job { progress: u8, #[serde(default)] status: Status }
/// # tokio_test::block_on(async {
/// let jobs = AsyncJobSession::<Job, _>::new(Notifying::new(std::sync::Mutex::new(std::collections::HashMap::new())));
/// jobs.store("a", &Job { progress: 100, status: Status::Running }).await?;
/// let mut progress = jobs.watch_field("a", Job::PROGRESS).await?;
/// assert_eq!(progress.next().await.unwrap()?, 100);
/// jobs.finish("a").await?; // the progress stays 100: no new value, the end
/// assert!(progress.next().await.is_none());
/// assert_eq!(progress.end(), Some(&End::Finished));
/// # Ok::<(), jobsess::Error>(())
/// # }).unwrap();
/// ```
#[must_use = "a watch stream does nothing unless polled"]
pub struct Watch<T> {
    steps: Steps<T>,
    end: Option<End>,
    over: bool,
    /// The revision of the state the last item came from.
    id: Option<u64>,
    /// The revision the consumer has already: states up to it are skipped.
    since: Option<u64>,
}

impl<T> Watch<T> {
    fn new(steps: impl Stream<Item = (Option<u64>, Step<T>)> + Send + 'static) -> Self {
        Watch {
            steps: Box::pin(steps),
            end: None,
            over: false,
            id: None,
            since: None,
        }
    }

    /// The stream for a consumer that already has the job's state at
    /// `revision` (a browser that reconnects sends it as `Last-Event-ID`):
    /// states up to that revision are not given again. The current state
    /// comes only if it is newer, then each change after it; a job that
    /// ended meanwhile gives its final state, and one whose final state the
    /// consumer has gives nothing more ([`end`](Self::end) says how it
    /// ended). `None` changes nothing.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, watch::Notifying};
    /// # use futures_util::StreamExt;
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct Job { progress: u8 }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(Notifying::new(std::sync::Mutex::new(std::collections::HashMap::new())));
    /// jobs.store("a", &Job { progress: 1 }).await?;
    /// let mut first = jobs.watch_field("a", Job::PROGRESS).await?;
    /// assert_eq!(first.next().await.unwrap()?, 1);
    /// let seen = first.id();
    /// // the same client comes back: it has that state already
    /// let mut again = jobs.watch_field("a", Job::PROGRESS).await?.since(seen);
    /// jobs.store_field("a", Job::PROGRESS, &2).await?;
    /// assert_eq!(again.next().await.unwrap()?, 2);
    /// assert!(again.id() > seen);
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn since(mut self, revision: impl Into<Option<u64>>) -> Self {
        self.since = revision.into();
        self
    }

    /// The revision of the state the last item came from (`None` before
    /// the first, and for an error): what a server-sent event carries as
    /// its `id:`, and what [`since`](Self::since) takes back.
    #[must_use]
    pub fn id(&self) -> Option<u64> {
        self.id
    }

    /// How the job ended, once the stream has given its last item; `None`
    /// before, and after a job that was deleted or expired.
    #[must_use]
    pub fn end(&self) -> Option<&End> {
        self.end.as_ref()
    }

    /// Whether the stream has given its last item.
    #[must_use]
    pub fn is_over(&self) -> bool {
        self.over
    }
}

impl<T> std::fmt::Debug for Watch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("end", &self.end)
            .field("over", &self.over)
            .finish_non_exhaustive()
    }
}

impl<T> Stream for Watch<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        if self.over {
            return Poll::Ready(None);
        }
        loop {
            let (id, step) = match self.steps.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.over = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(next)) => next,
            };
            // a state the consumer has already is not given again
            let seen = id.is_some_and(|id| self.since.is_some_and(|since| id <= since));
            if id.is_some() {
                self.id = id;
            }
            return match step {
                Step::Next(_) if seen => continue,
                Step::Next(item) => Poll::Ready(Some(item)),
                Step::Last(item, end) => {
                    self.end = end;
                    self.over = true;
                    Poll::Ready((!seen).then_some(item))
                }
                Step::End(end) => {
                    self.end = end;
                    self.over = true;
                    Poll::Ready(None)
                }
            };
        }
    }
}
