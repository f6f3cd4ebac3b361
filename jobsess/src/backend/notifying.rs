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

/// Every write goes to the backend inside; once it succeeded, the watchers
/// of what it changed are told.
impl<B: AsyncSessionBackend> AsyncForward for Notifying<B> {
    type Inner = B;

    fn inner(&self) -> &B {
        Notifying::inner(self)
    }

    fn written(&self, change: Written<'_>) {
        self.notify(|key| change.covers(key));
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
