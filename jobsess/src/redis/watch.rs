//! Watching jobs of the Redis job store, across processes.
//!
//! A watcher marks its job's hash as watched (a time, renewed every 20 s,
//! that lapses 60 s after the last renewal), and from then on every write
//! script publishes what it wrote on a channel named as the job's hash (see
//! the scripts in `mod.rs`); a job nobody watches publishes nothing. One subscriber connection per
//! [`RedisJobStore`] (shared by its clones) listens to the channels of the
//! jobs being watched, subscribing when a job gets its first watcher and
//! unsubscribing when its last one goes. A watcher applies the messages to
//! the state it read, and reads the job again when it can't: after a gap in
//! revisions, a message too large to carry the job, a lag, or a reconnect
//! (Redis restarted: messages in between were lost). A job that expires
//! sends nothing, so a watcher of a store with a TTL checks the job once
//! the TTL has passed since its last change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fred::clients::SubscriberClient;
use fred::interfaces::{ClientLike, EventInterface, PubsubInterface};
use fred::types::config::ReconnectPolicy;
use futures_util::stream;
use serde_json::Value;
use tokio::sync::broadcast;

use super::{OwnerJobs, RedisJobStore, object_of};
use crate::error::{Error, Op, Result};
use crate::watch::{JobStates, WatchBackend};

/// What the hub hands a watcher: a message of its job's channel, parsed
/// once for all its watchers, or "read the job again".
#[derive(Clone, Debug)]
enum News {
    Note(Arc<Note>),
    Reread,
}

/// One write, as its script published it.
#[derive(Debug)]
enum Note {
    /// The whole job after the write.
    Whole { revision: u64, job: Arc<Value> },
    /// A whole job too large for its message: read it.
    Large { revision: u64 },
    /// One field set (or removed), its aliases removed.
    Field {
        revision: u64,
        name: String,
        value: Option<Value>,
        aliases: Vec<String>,
    },
    /// The job was removed.
    Deleted,
}

impl Note {
    /// Parses a message (see the scripts in `mod.rs`); `None` for one that
    /// can't be read, on which watchers read the job again.
    fn parse(channel: &str, text: &str) -> Option<Note> {
        let parts: Vec<Value> = serde_json::from_str(text).ok()?;
        let kind = parts.first()?.as_str()?;
        if kind == "d" {
            return Some(Note::Deleted);
        }
        let revision = parts.get(1).and_then(|r| {
            r.as_str()
                .and_then(|r| r.parse().ok())
                .or_else(|| r.as_u64())
        })?;
        let texts: Vec<&str> = parts[2..].iter().filter_map(Value::as_str).collect();
        match kind {
            "w" => {
                let pairs = texts
                    .chunks_exact(2)
                    .map(|p| (p[0].to_owned(), p[1].to_owned()));
                let job = object_of(channel, pairs).ok()?;
                Some(Note::Whole {
                    revision,
                    job: Arc::new(job),
                })
            }
            "r" => Some(Note::Large { revision }),
            "f" if texts.len() >= 3 => Some(Note::Field {
                revision,
                name: texts[0].to_owned(),
                value: if texts[1] == "1" {
                    Some(serde_json::from_str(texts[2]).ok()?)
                } else {
                    None
                },
                aliases: texts[3..].iter().map(|a| (*a).to_owned()).collect(),
            }),
            _ => None,
        }
    }
}

/// The subscriber connection of a store and the watchers of each channel.
pub(super) struct Hub {
    client: SubscriberClient,
    /// The store's pool, to renew the marks of the watched jobs.
    pool: fred::clients::Pool,
    channels: Mutex<HashMap<String, broadcast::Sender<News>>>,
}

/// How many messages a watcher may fall behind before it skips to a fresh
/// read: a slow watcher never holds a writer up.
const BACKLOG: usize = 64;

impl Hub {
    async fn start(store: &RedisJobStore) -> Result<Arc<Hub>> {
        let failed = |err: fred::error::Error| Error::backend(Op::Read, "watch", err);
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
                        let news = note.map_or(News::Reread, |note| News::Note(Arc::new(note)));
                        hub.send(|c| c == channel, &news);
                    }
                    // fell behind: every watcher reads its job again
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        hub.send(|_| true, &News::Reread);
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
                hub.send(|_| true, &News::Reread);
            }
        });
        Ok(hub)
    }

    /// Marks the job of `channel` (its hash) as watched for
    /// [`WATCHED_FOR`], so that its writes publish; whether it exists.
    async fn mark(&self, channel: &str) -> Result<bool> {
        let millis = WATCHED_FOR.as_millis().to_string();
        let exists: i64 = super::WATCH
            .evalsha_with_reload(self.pool.next(), vec![channel.to_owned()], vec![millis])
            .await
            .map_err(|err| Error::backend(Op::Write, channel, err))?;
        Ok(exists == 1)
    }

    fn send(&self, to: impl Fn(&str) -> bool, news: &News) {
        if let Ok(channels) = self.channels.lock() {
            for (channel, sender) in channels.iter() {
                if to(channel) {
                    let _no_watcher_left = sender.send(news.clone());
                }
            }
        }
    }

    /// A receiver of the news of `channel`; subscribes to it in Redis if it
    /// has no watcher yet.
    async fn join(self: &Arc<Self>, channel: &str) -> Result<Membership> {
        let (receiver, first) = {
            let mut channels = self
                .channels
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match channels.get(channel) {
                Some(sender) => (sender.subscribe(), false),
                None => {
                    let (sender, receiver) = broadcast::channel(BACKLOG);
                    channels.insert(channel.to_owned(), sender);
                    (receiver, true)
                }
            }
        };
        let membership = Membership {
            hub: Arc::clone(self),
            channel: channel.to_owned(),
            receiver,
        };
        if first {
            self.client
                .subscribe(channel)
                .await
                .map_err(|err| Error::backend(Op::Read, channel, err))?;
        }
        Ok(membership)
    }
}

/// One watcher's place on a channel; the last one to go unsubscribes.
struct Membership {
    hub: Arc<Hub>,
    channel: String,
    receiver: broadcast::Receiver<News>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        let Ok(mut channels) = self.hub.channels.lock() else {
            return;
        };
        // this watcher's receiver is still alive here: 1 means the last one
        let last = channels
            .get(&self.channel)
            .is_some_and(|sender| sender.receiver_count() <= 1);
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

/// What a watcher knows of its job.
struct Watcher {
    jobs: OwnerJobs,
    key: String,
    membership: Membership,
    /// The job as last given, and its revision.
    job: Arc<Value>,
    revision: u64,
    ttl: Option<Duration>,
    done: bool,
}

/// How long a job stays marked as watched without a renewal, and how often
/// the process that watches it renews the mark.
const WATCHED_FOR: Duration = Duration::from_secs(60);
const RENEW_EVERY: Duration = Duration::from_secs(20);

fn revision_of(text: &str) -> u64 {
    text.parse().unwrap_or(0)
}

type Item = Result<Option<Arc<Value>>>;

impl Watcher {
    /// Reads the job again: the next item, unless nothing changed.
    async fn reread(&mut self) -> Option<Item> {
        match self.jobs.read(&self.key).await {
            Ok(None) => {
                self.done = true;
                Some(Ok(None))
            }
            Ok(Some((revision, job))) => {
                let revision = revision_of(&revision);
                if revision == self.revision && job == *self.job {
                    return None;
                }
                self.revision = revision;
                self.job = Arc::new(job);
                Some(Ok(Some(Arc::clone(&self.job))))
            }
            Err(err) => Some(Err(err)),
        }
    }

    /// Applies one write: the next item, `None` for a write this watcher
    /// has already read.
    async fn apply(&mut self, note: &Note) -> Option<Item> {
        let revision = match note {
            Note::Deleted => {
                self.done = true;
                return Some(Ok(None));
            }
            Note::Whole { revision, .. }
            | Note::Large { revision }
            | Note::Field { revision, .. } => *revision,
        };
        if revision <= self.revision {
            return None;
        }
        match note {
            Note::Whole { job, .. } => {
                self.revision = revision;
                self.job = Arc::clone(job);
                Some(Ok(Some(Arc::clone(job))))
            }
            Note::Field {
                name,
                value,
                aliases,
                ..
            } if revision == self.revision + 1 => {
                let Value::Object(fields) = Arc::make_mut(&mut self.job) else {
                    return self.reread().await;
                };
                for alias in aliases {
                    fields.remove(alias);
                }
                match value {
                    Some(value) => {
                        fields.insert(name.clone(), value.clone());
                    }
                    None => {
                        fields.remove(name);
                    }
                }
                self.revision = revision;
                Some(Ok(Some(Arc::clone(&self.job))))
            }
            // a gap, or a job too large for its message
            _ => self.reread().await,
        }
    }

    /// The next item: waits for news, or for the job's expiry.
    async fn next(&mut self) -> Option<Item> {
        loop {
            if self.done {
                return None;
            }
            // no timer per wait where jobs don't expire: with many
            // watchers, one per event would cost more than the event
            let news = match self.ttl {
                Some(ttl) => {
                    match tokio::time::timeout(ttl, self.membership.receiver.recv()).await {
                        Ok(news) => news,
                        // nothing for a whole TTL: is the job still there?
                        Err(_) => Ok(News::Reread),
                    }
                }
                None => self.membership.receiver.recv().await,
            };
            let item = match news {
                Ok(News::Note(note)) => self.apply(&note).await,
                Ok(News::Reread) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    self.reread().await
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            if item.is_some() {
                return item;
            }
        }
    }
}

impl WatchBackend for OwnerJobs {
    /// Subscribes (once per job and process) before it reads the job, so no
    /// write after the read is missed.
    async fn watch(&self, key: &str) -> Result<Option<JobStates>> {
        let hub = self.store.hub().await?;
        let membership = hub.join(&self.hash_key(key)).await?;
        // marked before the read: any write after the read publishes
        if !hub.mark(&self.hash_key(key)).await? {
            return Ok(None);
        }
        let Some((revision, job)) = self.read(key).await? else {
            return Ok(None);
        };
        let ttl = u64::try_from(self.store.ttl_seconds)
            .ok()
            .filter(|s| *s > 0)
            .map(|s| Duration::from_secs(s) + Duration::from_millis(50));
        let job = Arc::new(job);
        let watcher = Watcher {
            jobs: self.clone(),
            key: key.to_owned(),
            membership,
            job: Arc::clone(&job),
            revision: revision_of(&revision),
            ttl,
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
