//! [`Notifying`]: a decorator that makes an in-process backend watchable,
//! and [`WatchBackend`], what a backend that can stream a job's changes
//! implements.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::{Stream, StreamExt, stream};
use serde_json::Value;

use super::{AsyncForward, AsyncSessionBackend, Written};
#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;

/// The states of one job as a backend streams them: its JSON after each
/// change, with its revision; `None` once it is deleted or expired (the
/// last item); or an error (the store failed while the stream waited; it
/// goes on).
pub type JobStates = Pin<Box<dyn Stream<Item = Result<Option<JobState>>> + Send>>;

/// One state of a watched job: its JSON, and its revision, a number that
/// grows with every write to the job (the store's own revision on the
/// Redis and PostgreSQL stores; in one process, [`Notifying`]'s count of
/// writes). A client that reconnects says which state it has by its
/// revision, the `id:` of its last server-sent event.
///
/// ```
/// let state = jobsess::watch::JobState::new(7, std::sync::Arc::new(serde_json::json!({ "p": 1 })));
/// assert_eq!(state.revision, 7);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobState {
    /// The job's revision.
    pub revision: u64,
    /// The job's JSON.
    pub job: Arc<Value>,
}

impl JobState {
    /// The job `job` at `revision`.
    #[must_use]
    pub fn new(revision: u64, job: Arc<Value>) -> Self {
        JobState { revision, job }
    }
}

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
    /// The revision of each key written through this handle since it was
    /// made: a count of writes, one for all keys, so it never goes back.
    revisions: Mutex<Revisions>,
}

/// The count of writes, and the count at each key's last write.
#[derive(Default)]
struct Revisions {
    writes: u64,
    at: HashMap<String, u64>,
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
                revisions: Mutex::new(Revisions::default()),
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

    /// Counts a write of what `change` covers: a key's new revision.
    fn revise(&self, change: Written<'_>) {
        let mut revisions = self
            .shared
            .revisions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        revisions.writes += 1;
        let writes = revisions.writes;
        match change {
            Written::Key(key) => {
                revisions.at.insert(key.to_owned(), writes);
            }
            _ => revisions.at.retain(|key, _| !change.covers(key)),
        }
    }

    /// The revision of `key`: that of its last write through this handle
    /// (0 for a key written only before it, or not through it).
    fn revision(&self, key: &str) -> u64 {
        let revisions = self
            .shared
            .revisions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        revisions.at.get(key).copied().unwrap_or(0)
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

/// Every write goes to the backend inside; once it succeeded, the watchers
/// of what it changed are told.
impl<B: AsyncSessionBackend> AsyncForward for Notifying<B> {
    type Inner = B;

    fn inner(&self) -> &B {
        Notifying::inner(self)
    }

    fn written(&self, change: Written<'_>) {
        self.revise(change);
        self.notify(|key| change.covers(key));
    }
}

impl<B: AsyncSessionBackend + 'static> WatchBackend for Notifying<B> {
    /// Each state's revision is read before the state: a write in between
    /// makes a state look older than it is (a client may get it twice),
    /// never newer.
    async fn watch(&self, key: &str) -> Result<Option<JobStates>> {
        let mut news = self.subscribe(key);
        news.mark_unchanged();
        let revision = self.revision(key);
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
                    let revision = this.revision(&key);
                    let state = this.get(&key).await.map(|state| state.map(Arc::new));
                    match state {
                        Ok(state) if state == last => {}
                        Ok(state) => {
                            last.clone_from(&state);
                            let state = state.map(|job| JobState::new(revision, job));
                            return Some((Ok(state), (this, key, news, last)));
                        }
                        Err(err) => return Some((Err(err), (this, key, news, last))),
                    }
                }
            },
        );
        let first = JobState::new(revision, first);
        Ok(Some(Box::pin(
            stream::once(async { Ok(Some(first)) }).chain(rest),
        )))
    }
}
