//! Watching the jobs of a server-side store, across processes: the hub,
//! written once for every engine.
//!
//! An engine gives two things: a change feed (Redis pub/sub, PostgreSQL
//! `LISTEN/NOTIFY`) that hands each write's [`Note`] to the store's
//! [`Hub`] under the job's topic, and, per watched job, the storage calls
//! of [`Watched`]: read the job with its revision, and mark it as watched
//! (a time, renewed every 20 s, that lapses 60 s after the last renewal)
//! so that its writes reach the feed; a job nobody watches sends nothing.
//! The engine's feed calls [`Hub::note`] for a message and
//! [`Hub::reread_all`] when messages may have been lost (a lost
//! connection, a lag).
//!
//! Written here: each watched job has one state per process, not one per
//! watcher ([`Known`]). The feed's messages are applied to it as they
//! come, and its watchers share the result through a channel that keeps
//! the last 64 states, so a slow watcher skips states, never the last. A
//! keeper task per job reads the job again when a message can't be
//! applied (a gap in revisions, a note that doesn't say what changed, a
//! lag, or a lost connection), once the TTL has passed since its last
//! change (a job that expires sends nothing), a second after the last
//! message it applied (a message may be lost on its way), and at each
//! renewal of the mark. The engine's feed listens to a job's topic from
//! its first watcher here to its last ([`Feed`]).

mod keeper;
mod known;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream;
use serde_json::Value;
use tokio::sync::broadcast;

use keeper::{Keeper, Watcher};
pub(crate) use known::Note;
use known::{BACKLOG, Known, State};

use crate::error::Result;
use crate::watch::{JobState, JobStates};

/// How long a job stays marked as watched without a renewal, and how often
/// the process that watches it renews the mark.
pub(crate) const WATCHED_FOR: Duration = Duration::from_secs(60);
const RENEW_EVERY: Duration = Duration::from_secs(20);

/// An engine's change feed, seen from the hub: it listens to a job's topic
/// while the job has a watcher in this process.
pub(crate) trait Feed: Send + Sync + 'static {
    /// Starts listening to `topic`: the job has its first watcher here.
    /// An engine whose feed carries every topic already does nothing.
    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Stops listening to `topic`: its last watcher here went.
    fn unsubscribe(&self, topic: String) -> BoxFuture<'static, ()>;
}

/// The storage calls of watching, the engine's, on the jobs of one owner.
pub(crate) trait Storage: Clone + Send + Sync + 'static {
    /// The store's hub, made (its feed started) by the first watcher.
    fn hub(&self) -> impl Future<Output = Result<Arc<Hub>>> + Send;

    /// The topic of the job under `key` in the feed.
    fn topic(&self, key: &str) -> String;

    /// The store's TTL, if its jobs expire: a job with no news is read once
    /// it has passed.
    fn ttl(&self) -> Option<Duration>;

    /// The revision and value of the job under `key`; `None` if there is
    /// no live job.
    fn read_revision(&self, key: &str)
    -> impl Future<Output = Result<Option<(u64, Value)>>> + Send;

    /// Marks the job under `key` as watched for `time`, so that its writes
    /// reach the feed; whether there is a live job to mark.
    fn mark(&self, key: &str, time: Duration) -> impl Future<Output = Result<bool>> + Send;
}

/// One watched job, as its keeper reads and marks it.
trait Watched: Send + Sync + 'static {
    fn read(&self) -> BoxFuture<'_, Result<Option<(u64, Value)>>>;
    fn mark(&self, time: Duration) -> BoxFuture<'_, Result<bool>>;
}

/// The job under `key` of an owner's `jobs`.
struct Job<S> {
    jobs: S,
    key: String,
}

impl<S: Storage> Watched for Job<S> {
    fn read(&self) -> BoxFuture<'_, Result<Option<(u64, Value)>>> {
        Box::pin(self.jobs.read_revision(&self.key))
    }

    fn mark(&self, time: Duration) -> BoxFuture<'_, Result<bool>> {
        Box::pin(self.jobs.mark(&self.key, time))
    }
}

/// The stream of the job under `key` of an owner's `jobs` (see
/// [`WatchBackend`](crate::watch::WatchBackend)), for every engine.
pub(crate) async fn watch<S: Storage>(jobs: &S, key: &str) -> Result<Option<JobStates>> {
    jobs.hub().await?.watch(jobs, key).await
}

/// What the hub tells a job's keeper: a message was applied to the job's
/// state (its watchers have it already), or "read the job again".
#[derive(Clone, Copy, Debug)]
enum News {
    Applied,
    Reread,
}

/// The feed of one store and the jobs watched in this process, by topic.
pub(crate) struct Hub {
    /// The store's name, as errors give it.
    store: &'static str,
    feed: Box<dyn Feed>,
    topics: Mutex<HashMap<String, Topic>>,
}

/// A job watched in this process: its messages are applied to what its
/// watchers share (`known`), and its news goes to its keeper.
struct Topic {
    news: broadcast::Sender<News>,
    known: Arc<Known>,
}

impl Hub {
    /// A hub over `feed`, for the store named `store`; the engine's task
    /// that reads the feed holds it weakly, and ends when it is gone.
    pub(crate) fn new(store: &'static str, feed: impl Feed) -> Arc<Hub> {
        Arc::new(Hub {
            store,
            feed: Box::new(feed),
            topics: Mutex::new(HashMap::new()),
        })
    }

    fn topics(&self) -> std::sync::MutexGuard<'_, HashMap<String, Topic>> {
        self.topics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A message of `topic` (`None`: one that can't be read), applied to
    /// its job's state here if it is watched here: its watchers get the
    /// new state straight away, with no task in between. What can't be
    /// applied makes the keeper read the job.
    pub(crate) fn note(&self, topic: &str, note: Option<&Note>) {
        if let Some(topic) = self.topics().get(topic) {
            let applied = note.is_some_and(|note| topic.known.apply(note));
            let news = if applied { News::Applied } else { News::Reread };
            let _no_keeper_left = topic.news.send(news);
        }
    }

    /// Messages may have been lost (the feed's connection was lost, or it
    /// fell behind): every job watched here is read again.
    pub(crate) fn reread_all(&self) {
        for topic in self.topics().values() {
            let _no_keeper_left = topic.news.send(News::Reread);
        }
    }

    /// The stream of the job under `key` of an owner's `jobs`, `None` if
    /// there is none. Joins the job's watchers here (listening to its topic
    /// if it is the first), marks the job, then reads it: no write after the
    /// read is missed.
    async fn watch<S: Storage>(self: &Arc<Self>, jobs: &S, key: &str) -> Result<Option<JobStates>> {
        let (topic, ttl) = (jobs.topic(key), jobs.ttl());
        let job: Arc<dyn Watched> = Arc::new(Job {
            jobs: jobs.clone(),
            key: key.to_owned(),
        });
        let membership = self.join(topic, job.clone(), ttl).await?;
        if !job.mark(WATCHED_FOR).await? {
            return Ok(None);
        }
        let Some((revision, read)) = job.read().await? else {
            return Ok(None);
        };
        let read = Arc::new(read);
        let now = membership.offer(revision, Arc::clone(&read));
        // the newer of what it read and what the job's watchers here know
        let (revision, job) = match now.state {
            State::Job { job, revision } => (revision, job),
            _ => (revision, read),
        };
        let watcher = Watcher::new(self.store, key, membership, now.number, Arc::clone(&job));
        let rest = stream::unfold(watcher, |mut watcher| async move {
            let item = watcher.next().await?;
            Some((item, watcher))
        });
        let first = stream::once(async move { Ok(Some(JobState::new(revision, job))) });
        Ok(Some(Box::pin(futures_util::StreamExt::chain(first, rest))))
    }

    /// A place among the watchers of `topic`; starts its keeper and
    /// listens to it if it has no watcher here yet.
    async fn join(
        self: &Arc<Self>,
        topic: String,
        job: Arc<dyn Watched>,
        ttl: Option<Duration>,
    ) -> Result<Membership> {
        let (known, states, first) = {
            let mut topics = self.topics();
            match topics.get(&topic) {
                Some(known) => (
                    Arc::clone(&known.known),
                    known.known.states.subscribe(),
                    false,
                ),
                None => {
                    let (news, news_rx) = broadcast::channel(BACKLOG);
                    let known = Arc::new(Known::new());
                    let states = known.states.subscribe();
                    let keeper = Keeper::new(news_rx, Arc::clone(&known), job, ttl);
                    tokio::spawn(keeper.run());
                    topics.insert(
                        topic.clone(),
                        Topic {
                            news,
                            known: Arc::clone(&known),
                        },
                    );
                    (known, states, true)
                }
            }
        };
        let membership = Membership {
            hub: Arc::clone(self),
            topic,
            known,
            states,
        };
        if first {
            self.feed.subscribe(&membership.topic).await?;
        }
        Ok(membership)
    }
}

/// One watcher's place among a job's watchers here; the last one to go
/// stops the job's keeper and its topic.
struct Membership {
    hub: Arc<Hub>,
    topic: String,
    known: Arc<Known>,
    states: broadcast::Receiver<known::Numbered>,
}

impl Membership {
    /// Gives the job as this watcher read it to the job's watchers here if
    /// it is newer than what they know. The state after, which the watcher
    /// starts from.
    fn offer(&self, revision: u64, job: Arc<Value>) -> known::Numbered {
        self.known.change(|state| match state {
            State::Job {
                revision: known, ..
            } if *known >= revision => false,
            _ => {
                *state = State::Job { revision, job };
                true
            }
        })
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        let mut topics = self.hub.topics();
        // this watcher's receiver is still alive here: 1 means the last one
        let last = topics
            .get(&self.topic)
            .is_some_and(|topic| topic.known.states.receiver_count() <= 1);
        if last {
            // its news sender goes: the keeper ends
            topics.remove(&self.topic);
            drop(topics);
            let (hub, topic) = (Arc::clone(&self.hub), self.topic.clone());
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let still_gone = !hub.topics().contains_key(&topic);
                    if still_gone {
                        hub.feed.unsubscribe(topic).await;
                    }
                });
            }
        }
    }
}
