//! Watching jobs of the Redis job store, across processes.
//!
//! A watcher marks its job's hash as watched (a time, renewed every 20 s,
//! that lapses 60 s after the last renewal), and from then on every write
//! script publishes what it wrote on a channel named as the job's hash (see
//! the scripts in `mod.rs`); a job nobody watches publishes nothing. One
//! subscriber connection per [`RedisJobStore`] (shared by its clones)
//! listens to the channels of the jobs being watched, subscribing when a
//! job gets its first watcher and unsubscribing when its last one goes.
//!
//! Each watched job has one state per process, not one per watcher: the
//! subscriber's task applies each message to it once, and its watchers
//! share the result through a channel that keeps the last 64 states, so a
//! slow watcher skips states, never the last. A keeper task per job reads
//! the job again when a message can't be applied (after a gap in
//! revisions, a message too large to carry the job, a lag, or a reconnect:
//! Redis restarted and messages in between were lost). A job that expires
//! sends nothing, so the keeper of a store with a TTL checks the job once
//! the TTL has passed since its last change. A pub/sub message is sent at
//! most once, so a keeper also reads its job a second after the last
//! message it got, and at each renewal of the mark: a write whose message
//! was lost still reaches the watchers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fred::clients::SubscriberClient;
use fred::interfaces::{ClientLike, EventInterface, PubsubInterface};
use fred::types::config::ReconnectPolicy;
use futures_util::stream;
use serde_json::Value;
use tokio::sync::broadcast;

mod known;

use known::{BACKLOG, Known, Numbered, State};

use super::messages::Note;
use super::{OwnerJobs, RedisJobStore};
use crate::error::{Error, Op, Result};
use crate::watch::{JobStates, WatchBackend};

/// What the hub tells a job's keeper: a message was applied to the job's
/// state (its watchers have it already), or "read the job again".
#[derive(Clone, Copy, Debug)]
enum News {
    Applied,
    Reread,
}

/// The subscriber connection of a store and the watchers of each channel.
pub(super) struct Hub {
    client: SubscriberClient,
    /// The store's pool, to renew the marks of the watched jobs.
    pool: fred::clients::Pool,
    channels: Mutex<HashMap<String, Channel>>,
}

/// A watched job's channel in this process: its messages are applied to
/// what its watchers share (`known`), and its news goes to its [`Keeper`].
struct Channel {
    news: broadcast::Sender<News>,
    known: Arc<Known>,
}

impl Hub {
    async fn start(store: &RedisJobStore) -> Result<Arc<Hub>> {
        let failed = |err: fred::error::Error| {
            Error::store_backend(crate::redis::STORE, Op::Read, "watch", err)
        };
        let pooled = store.pool.next();
        let client = SubscriberClient::new(
            pooled.client_config(),
            Some(pooled.perf_config()),
            Some(pooled.connection_config().clone()),
            Some(
                pooled
                    .client_reconnect_policy()
                    .unwrap_or_else(|| ReconnectPolicy::new_constant(0, 100)),
            ),
        );
        let _connection = client.init().await.map_err(failed)?;
        let _resubscribe = client.manage_subscriptions();
        let hub = Arc::new(Hub {
            client,
            pool: store.pool.clone(),
            channels: Mutex::new(HashMap::new()),
        });

        let mut messages = hub.client.message_rx();
        let weak = Arc::downgrade(&hub);
        tokio::spawn(async move {
            loop {
                let received = messages.recv().await;
                let Some(hub) = weak.upgrade() else { return };
                match received {
                    Ok(message) => {
                        let channel: &str = &message.channel;
                        let note = message
                            .value
                            .as_str()
                            .and_then(|text| Note::parse(channel, &text));
                        hub.apply(channel, note);
                    }
                    // fell behind: every watcher reads its job again
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        hub.send_all(News::Reread);
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        // every job watched here stays marked as watched
        let weak = Arc::downgrade(&hub);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                let Some(hub) = weak.upgrade() else { return };
                let channels: Vec<String> = hub
                    .channels
                    .lock()
                    .map(|channels| channels.keys().cloned().collect())
                    .unwrap_or_default();
                for channel in channels {
                    // a failure is retried at the next round
                    let _ = hub.mark(&channel).await;
                    // and what a lost message left out is read
                    hub.send(&channel, News::Reread);
                }
            }
        });
        let mut reconnects = hub.client.reconnect_rx();
        let weak = Arc::downgrade(&hub);
        tokio::spawn(async move {
            while reconnects.recv().await.is_ok() {
                // after the channels are subscribed again, what changed
                // while Redis was away is read again
                tokio::time::sleep(Duration::from_millis(100)).await;
                let Some(hub) = weak.upgrade() else { return };
                hub.send_all(News::Reread);
            }
        });
        Ok(hub)
    }

    /// Marks the job of `channel` (its hash) as watched for
    /// [`WATCHED_FOR`], so that its writes publish; whether it exists.
    async fn mark(&self, channel: &str) -> Result<bool> {
        let millis = WATCHED_FOR.as_millis().to_string();
        let exists: i64 = super::scripts::WATCH
            .evalsha_with_reload(self.pool.next(), vec![channel.to_owned()], vec![millis])
            .await
            .map_err(|err| Error::store_backend(crate::redis::STORE, Op::Write, channel, err))?;
        Ok(exists == 1)
    }

    /// Hands `news` to the keeper of `channel`, if it is watched here.
    fn send(&self, channel: &str, news: News) {
        if let Ok(channels) = self.channels.lock()
            && let Some(channel) = channels.get(channel)
        {
            let _no_keeper_left = channel.news.send(news);
        }
    }

    /// Hands `news` to the keeper of every channel watched here.
    fn send_all(&self, news: News) {
        if let Ok(channels) = self.channels.lock() {
            for channel in channels.values() {
                let _no_keeper_left = channel.news.send(news);
            }
        }
    }

    /// Applies a message of `channel` (`None`: one that can't be read) to
    /// its job's state here, if it is watched here: its watchers get the
    /// new state straight away, with no task in between. What can't be
    /// applied (a gap, a job too large for its message) makes the keeper
    /// read the job.
    fn apply(&self, channel: &str, note: Option<Note>) {
        if let Ok(channels) = self.channels.lock()
            && let Some(channel) = channels.get(channel)
        {
            let applied = note.is_some_and(|note| channel.known.apply(&note));
            let news = if applied { News::Applied } else { News::Reread };
            let _no_keeper_left = channel.news.send(news);
        }
    }

    /// A place among the watchers of the job under `key` of `jobs`; starts
    /// its keeper and subscribes to its channel in Redis if it has no
    /// watcher here yet.
    async fn join(self: &Arc<Self>, jobs: &OwnerJobs, key: &str) -> Result<Membership> {
        let channel = jobs.hash_key(key);
        let (known, states, first) = {
            let mut channels = self
                .channels
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match channels.get(&channel) {
                Some(known) => (
                    Arc::clone(&known.known),
                    known.known.states.subscribe(),
                    false,
                ),
                None => {
                    let (news, news_rx) = broadcast::channel(BACKLOG);
                    let known = Arc::new(Known::new());
                    let states = known.states.subscribe();
                    let ttl = u64::try_from(jobs.store.ttl_seconds)
                        .ok()
                        .filter(|s| *s > 0)
                        .map(|s| Duration::from_secs(s) + Duration::from_millis(50));
                    let keeper = Keeper {
                        news: news_rx,
                        known: Arc::clone(&known),
                        jobs: jobs.clone(),
                        key: key.to_owned(),
                        ttl,
                    };
                    tokio::spawn(keeper.run());
                    channels.insert(
                        channel.clone(),
                        Channel {
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
            channel,
            known,
            states,
        };
        if first {
            self.client
                .subscribe(&membership.channel)
                .await
                .map_err(|err| {
                    Error::store_backend(crate::redis::STORE, Op::Read, &membership.channel, err)
                })?;
        }
        Ok(membership)
    }
}

/// One watcher's place on a channel; the last one to go unsubscribes.
struct Membership {
    hub: Arc<Hub>,
    channel: String,
    known: Arc<Known>,
    states: broadcast::Receiver<Numbered>,
}

impl Membership {
    /// Gives the job as this watcher read it to the watchers of its channel
    /// if it is newer than what they know. The state after, which the
    /// watcher starts from.
    fn offer(&self, revision: u64, job: Arc<Value>) -> Numbered {
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
        let Ok(mut channels) = self.hub.channels.lock() else {
            return;
        };
        // this watcher's receiver is still alive here: 1 means the last one
        let last = channels
            .get(&self.channel)
            .is_some_and(|channel| channel.known.states.receiver_count() <= 1);
        if last {
            channels.remove(&self.channel);
            drop(channels);
            let (hub, channel) = (Arc::clone(&self.hub), self.channel.clone());
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let still_gone = hub
                        .channels
                        .lock()
                        .is_ok_and(|channels| !channels.contains_key(&channel));
                    if still_gone {
                        let _ = hub.client.unsubscribe(channel).await;
                    }
                });
            }
        }
    }
}

/// How long a job stays marked as watched without a renewal, and how often
/// the process that watches it renews the mark.
const WATCHED_FOR: Duration = Duration::from_secs(60);
const RENEW_EVERY: Duration = Duration::from_secs(20);

/// How soon a job whose read failed is read again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// How long after the last message a job's keeper got it reads the job
/// once, in case the message of a later write was lost on the way (a
/// pub/sub message is sent at most once; fred's own receiver can drop
/// one, <https://github.com/aembke/fred.rs/issues/367>). The mark's renewal
/// (every [`RENEW_EVERY`]) reads every watched job too, for a burst whose
/// every message was lost.
const SETTLE_AFTER: Duration = Duration::from_secs(1);

fn revision_of(text: &str) -> u64 {
    text.parse().unwrap_or(0)
}

/// Reads one watched job again for all its watchers in this process when
/// its messages can't keep its state (a gap, a message too large to carry
/// the job, a lag, a reconnect, a whole TTL with no news, a second of quiet
/// after a message, or a failed read a moment ago). It ends when the job's
/// last watcher here goes.
struct Keeper {
    news: broadcast::Receiver<News>,
    known: Arc<Known>,
    jobs: OwnerJobs,
    key: String,
    ttl: Option<Duration>,
}

impl Keeper {
    async fn run(mut self) {
        let mut retry = None;
        // a message was applied, and the job not read since
        let mut unsettled = false;
        loop {
            // no timer per wait where jobs don't expire, reads succeed and
            // the job is quiet
            let wait = [retry, unsettled.then_some(SETTLE_AFTER), self.ttl]
                .into_iter()
                .flatten()
                .min();
            let news = match wait {
                Some(wait) => tokio::time::timeout(wait, self.news.recv())
                    .await
                    .unwrap_or(Ok(News::Reread)),
                None => self.news.recv().await,
            };
            match news {
                Ok(News::Applied) => unsettled = true,
                Ok(News::Reread) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    retry = self.reread().await;
                    unsettled = false;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// Reads the job again and tells its watchers if it changed; when to
    /// try again if the read failed. Messages are applied while the read is
    /// on its way, so a read is taken only if nothing changed the state in
    /// the meantime: else it may be older than the state, and is made again
    /// (at most [`READS`] times; after that the messages keep the state
    /// current).
    async fn reread(&self) -> Option<Duration> {
        for _ in 0..READS {
            let since = self.known.now().number;
            let (read, retry) = match self.jobs.read(&self.key).await {
                Ok(Some((revision, job))) => (
                    State::Job {
                        revision: revision_of(&revision),
                        job: Arc::new(job),
                    },
                    None,
                ),
                Ok(None) => (State::Deleted, None),
                Err(err) => (State::Failed(Arc::new(err)), Some(RETRY_AFTER)),
            };
            let mut taken = false;
            self.known.change_since(Some(since), |state| {
                taken = true;
                let same = match (&*state, &read) {
                    (
                        State::Job { revision, job },
                        State::Job {
                            revision: r,
                            job: j,
                        },
                    ) => revision == r && job == j,
                    (State::Deleted, State::Deleted) => true,
                    _ => false,
                };
                if !same {
                    *state = read;
                }
                !same
            });
            if taken {
                return retry;
            }
        }
        None
    }
}

/// How many times a keeper reads its job before it leaves the state to
/// the messages that kept changing it.
const READS: usize = 3;

type Item = Result<Option<Arc<Value>>>;

/// One watcher: the job's states as this process knows them ([`Known`]).
struct Watcher {
    key: String,
    membership: Membership,
    /// The number of the state last looked at, and the job last given.
    number: u64,
    job: Arc<Value>,
    done: bool,
}

impl Watcher {
    /// The next item: the job's next state this watcher hasn't given.
    async fn next(&mut self) -> Option<Item> {
        loop {
            if self.done {
                return None;
            }
            let numbered = match self.membership.states.recv().await {
                Ok(numbered) => numbered,
                // fell behind: on to the latest (older ones are skipped)
                Err(broadcast::error::RecvError::Lagged(_)) => self.membership.known.now(),
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            if numbered.number <= self.number {
                continue;
            }
            self.number = numbered.number;
            match numbered.state {
                State::Unknown => {}
                State::Job { job, .. } => {
                    if !Arc::ptr_eq(&job, &self.job) && job != self.job {
                        self.job = Arc::clone(&job);
                        return Some(Ok(Some(job)));
                    }
                }
                State::Failed(err) => {
                    return Some(Err(Error::store_backend(
                        crate::redis::STORE,
                        Op::Read,
                        &self.key,
                        crate::store::ReadFailed(err),
                    )));
                }
                State::Deleted => {
                    self.done = true;
                    return Some(Ok(None));
                }
            }
        }
    }
}

impl WatchBackend for OwnerJobs {
    /// Subscribes (once per job and process) before it reads the job, so no
    /// write after the read is missed.
    async fn watch(&self, key: &str) -> Result<Option<JobStates>> {
        let hub = self.store.hub().await?;
        let membership = hub.join(self, key).await?;
        // marked before the read: any write after the read publishes
        if !hub.mark(&membership.channel).await? {
            return Ok(None);
        }
        let Some((revision, job)) = self.read(key).await? else {
            return Ok(None);
        };
        let read = Arc::new(job);
        let now = membership.offer(revision_of(&revision), Arc::clone(&read));
        // the newer of what it read and what its channel knew
        let job = match now.state {
            State::Job { job, .. } => job,
            _ => read,
        };
        let watcher = Watcher {
            key: key.to_owned(),
            membership,
            number: now.number,
            job: Arc::clone(&job),
            done: false,
        };
        let rest = stream::unfold(watcher, |mut watcher| async move {
            let item = watcher.next().await?;
            Some((item, watcher))
        });
        let first = stream::once(async move { Ok(Some(job)) });
        Ok(Some(Box::pin(futures_util::StreamExt::chain(first, rest))))
    }
}

impl RedisJobStore {
    /// The store's subscriber connection, made by its first watcher.
    async fn hub(&self) -> Result<Arc<Hub>> {
        self.hub
            .get_or_try_init(|| Hub::start(self))
            .await
            .map(Arc::clone)
    }
}

#[cfg(test)]
mod tests;
