//! Watching jobs of the PostgreSQL job store across instances, over
//! `LISTEN/NOTIFY`.
//!
//! A watcher marks its job's row as watched (`watched_until`, renewed
//! every 20 s, lapsing 60 s after the last renewal); from then on each
//! write to the job NOTIFYs in its own statement, on the store's channel,
//! with the job's digest (of owner and key: never the token itself), its
//! new revision and the field, never the value. A job nobody watches
//! NOTIFYs nothing: commits that NOTIFY take a database-wide lock.
//!
//! One `PgListener` per store (shared by its clones, made by the first
//! watcher) hands each notification to the job's state in this process.
//! Each watched job has one state here and one keeper task, which reads
//! the job once per burst of notifications and gives the result to all its
//! watchers over a channel that keeps the latest state (a slow watcher
//! skips states, never the last). The keeper also reads its job when the
//! listener's connection was lost (notifications in between are lost: the
//! listener is made again, then every watched job is read), when the TTL
//! has passed since its last change (a job that expires sends nothing),
//! and at each renewal of the mark.

use super::{sqlx, text};

use std::collections::HashMap;
use std::pin::pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use self::sqlx::postgres::PgListener;
use futures_util::future::{Either, select};
use futures_util::stream;
use serde_json::Value;
use tokio::sync::{Notify, oneshot, watch};
use tokio::time::Instant;

use super::{OwnerJobs, PostgresJobStore};
use crate::error::{Error, Op, Result};
use crate::store::hex_digest;
use crate::watch::{JobStates, WatchBackend};

/// How long a job stays marked as watched without a renewal, and how often
/// the process that watches it renews the mark.
const WATCHED_FOR: Duration = Duration::from_secs(60);
const RENEW_EVERY: Duration = Duration::from_secs(20);

/// How soon a failed read tries again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The listener's waits before it listens again after losing its
/// connection: from the first, doubled at each loss in a row up to the
/// last, each a random time between half of it and all of it, so a
/// connection killed as soon as it appears (or many instances that lost
/// the database at once) don't come back in step; a connection that
/// stayed up [`STABLE_AFTER`] starts over from the first.
const RECONNECT_FIRST: Duration = Duration::from_millis(100);
const RECONNECT_LAST: Duration = Duration::from_secs(5);
const STABLE_AFTER: Duration = Duration::from_secs(30);

/// The listener's back-off between connections (see [`RECONNECT_FIRST`]).
struct Reconnects {
    next: Duration,
    since: Instant,
}

impl Reconnects {
    fn new() -> Self {
        Reconnects {
            next: RECONNECT_FIRST,
            since: Instant::now(),
        }
    }

    /// Waits before the next connection, after a loss now.
    async fn wait(&mut self) {
        if self.since.elapsed() >= STABLE_AFTER {
            self.next = RECONNECT_FIRST;
        }
        let wait = jittered(self.next);
        self.next = (self.next * 2).min(RECONNECT_LAST);
        tokio::time::sleep(wait).await;
        self.since = Instant::now();
    }
}

/// A random time between half of `wait` and all of it.
fn jittered(wait: Duration) -> Duration {
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    let half = wait / 2;
    let micros = u64::try_from(half.as_micros()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_micros(random % micros)
}

/// What this process knows of a watched job.
#[derive(Clone, Debug)]
enum Snapshot {
    Unknown,
    Job { revision: i64, job: Arc<Value> },
    Deleted,
    Failed(Arc<Error>),
}

/// A job watched in this process: its state, and the keeper's doorbell.
struct Watched {
    state: watch::Sender<Snapshot>,
    poke: Notify,
}

/// The listener of a store and the jobs watched in this process, by digest.
pub(super) struct Hub {
    jobs: Mutex<HashMap<String, Arc<Watched>>>,
    /// Dropped with the hub: the listener's task ends.
    _stop: oneshot::Sender<()>,
}

/// A listener on the store's channel, its `LISTEN` done.
async fn listen(pool: &sqlx::PgPool, channel: &str) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

impl Hub {
    async fn start(store: &PostgresJobStore) -> Result<Arc<Hub>> {
        let mut listener = listen(&store.pool, &store.sql.channel)
            .await
            .map_err(|err| Error::store_backend(super::STORE, Op::Read, "watch", err))?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        let hub = Arc::new(Hub {
            jobs: Mutex::new(HashMap::new()),
            _stop: stop,
        });
        let weak = Arc::downgrade(&hub);
        let (pool, channel) = (store.pool.clone(), store.sql.channel.clone());
        tokio::spawn(async move {
            let mut reconnects = Reconnects::new();
            loop {
                let received = match select(pin!(listener.try_recv()), &mut stopped).await {
                    Either::Left((received, _)) => received,
                    Either::Right(_) => return,
                };
                let Some(hub) = weak.upgrade() else { return };
                match received {
                    Ok(Some(notification)) => hub.notified(notification.payload()),
                    // the connection was lost and made again: what was
                    // sent in between is lost, so every job is read; a
                    // wait first, so that a connection killed as soon as
                    // it is made doesn't make the jobs read in a loop
                    Ok(None) => {
                        drop(hub);
                        reconnects.wait().await;
                        match weak.upgrade() {
                            Some(hub) => hub.poke_all(),
                            None => return,
                        }
                    }
                    Err(_) => {
                        drop(hub);
                        // a listener made again, its LISTEN done, before
                        // the jobs are read: no write after the read is missed
                        loop {
                            reconnects.wait().await;
                            if weak.strong_count() == 0 {
                                return;
                            }
                            if let Ok(fresh) = listen(&pool, &channel).await {
                                listener = fresh;
                                break;
                            }
                        }
                        if let Some(hub) = weak.upgrade() {
                            hub.poke_all();
                        }
                    }
                }
            }
        });
        Ok(hub)
    }

    /// A notification: `digest revision field` (field `-`: removed).
    fn notified(&self, payload: &str) {
        let mut parts = payload.splitn(3, ' ');
        let (Some(digest), Some(revision)) = (parts.next(), parts.next()) else {
            return;
        };
        let removed = parts.next() == Some("-");
        let revision: i64 = revision.parse().unwrap_or(i64::MAX);
        let Ok(jobs) = self.jobs.lock() else { return };
        if let Some(watched) = jobs.get(digest) {
            let known = match &*watched.state.borrow() {
                Snapshot::Job { revision, .. } => Some(*revision),
                _ => None,
            };
            if removed || known.is_none_or(|known| revision > known) {
                watched.poke.notify_one();
            }
        }
    }

    fn poke_all(&self) {
        if let Ok(jobs) = self.jobs.lock() {
            for watched in jobs.values() {
                watched.poke.notify_one();
            }
        }
    }

    /// The job `key` of `jobs` among the jobs watched here; starts its
    /// keeper if it has no watcher here yet.
    fn join(
        self: &Arc<Self>,
        jobs: &OwnerJobs,
        key: &str,
    ) -> (Arc<Watched>, watch::Receiver<Snapshot>) {
        let digest = hex_digest(&format!("{}/{key}", jobs.owner));
        let mut map = self
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(watched) = map.get(&digest) {
            return (Arc::clone(watched), watched.state.subscribe());
        }
        let (state, receiver) = watch::channel(Snapshot::Unknown);
        let watched = Arc::new(Watched {
            state,
            poke: Notify::new(),
        });
        map.insert(digest.clone(), Arc::clone(&watched));
        let ttl = Some(jobs.store.ttl_seconds)
            .filter(|ttl| *ttl > 0.0)
            .map(|ttl| Duration::from_secs_f64(ttl) + Duration::from_millis(50));
        let keeper = Keeper {
            hub: Arc::downgrade(self),
            digest,
            watched: Arc::clone(&watched),
            jobs: jobs.clone(),
            key: key.to_owned(),
            ttl,
        };
        tokio::spawn(keeper.run());
        (watched, receiver)
    }

    /// Forgets the job of `digest` if it has no watcher left; whether it did.
    fn leave(&self, digest: &str) -> bool {
        let mut map = self
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let unwatched = map
            .get(digest)
            .is_none_or(|watched| watched.state.receiver_count() == 0);
        if unwatched {
            map.remove(digest);
        }
        unwatched
    }
}

impl Watched {
    /// Takes `read` if it is newer than the state (a job of a later
    /// revision, or the job's end); whether it did.
    fn offer(&self, read: Snapshot) -> bool {
        self.state.send_if_modified(|state| {
            let take = match (&*state, &read) {
                (
                    Snapshot::Job {
                        revision: known, ..
                    },
                    Snapshot::Job { revision, .. },
                ) => revision > known,
                (Snapshot::Deleted, Snapshot::Deleted) => false,
                (Snapshot::Failed(_), Snapshot::Failed(_)) => false,
                // a failure doesn't hide a job the watchers have
                (Snapshot::Job { .. }, Snapshot::Failed(_)) => true,
                _ => true,
            };
            if take {
                *state = read;
            }
            take
        })
    }
}

/// Reads one watched job for all its watchers in this process; it ends
/// when the job's last watcher here goes.
struct Keeper {
    hub: Weak<Hub>,
    digest: String,
    watched: Arc<Watched>,
    jobs: OwnerJobs,
    key: String,
    ttl: Option<Duration>,
}

impl Keeper {
    async fn run(self) {
        let mut retry: Option<Duration> = None;
        let mut renew_at = Instant::now() + RENEW_EVERY;
        loop {
            let until_renewal = renew_at.saturating_duration_since(Instant::now());
            let wait = [retry, self.ttl, Some(until_renewal)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(RENEW_EVERY);
            let rang = pin!(tokio::time::timeout(wait, self.watched.poke.notified()));
            match select(pin!(self.watched.state.closed()), rang).await {
                Either::Left(_) => {
                    let gone = self.hub.upgrade().is_none_or(|hub| hub.leave(&self.digest));
                    if gone {
                        return;
                    }
                    continue;
                }
                Either::Right(_) => {}
            }
            if Instant::now() >= renew_at {
                renew_at = Instant::now() + RENEW_EVERY;
                // a failure is tried again at the next renewal
                let _ = mark(&self.jobs, &self.key).await;
            }
            retry = self.reread().await;
        }
    }

    /// Reads the job and gives it to its watchers if it is newer; when to
    /// try again if the read failed.
    async fn reread(&self) -> Option<Duration> {
        let (read, retry) = match self.jobs.read(&self.key).await {
            Ok(Some((revision, job))) => (
                Snapshot::Job {
                    revision,
                    job: Arc::new(job),
                },
                None,
            ),
            Ok(None) => (Snapshot::Deleted, None),
            Err(err) => (Snapshot::Failed(Arc::new(err)), Some(RETRY_AFTER)),
        };
        self.watched.offer(read);
        retry
    }
}

/// Marks the job under `key` as watched for [`WATCHED_FOR`], so that its
/// writes NOTIFY; whether it exists.
async fn mark(jobs: &OwnerJobs, key: &str) -> Result<bool> {
    let Some((prefix, id)) = key.split_once('_') else {
        return Ok(false);
    };
    let marked = sqlx::query(text(&jobs.store.sql.mark))
        .bind(&*jobs.owner)
        .bind(prefix)
        .bind(id)
        .bind(WATCHED_FOR.as_secs_f64())
        .fetch_optional(&jobs.store.pool);
    let deadline = std::time::Instant::now() + jobs.store.timeout;
    match jobs.store.deadlines.run(deadline, marked).await {
        Ok(Ok(row)) => Ok(row.is_some()),
        Ok(Err(err)) => Err(Error::store_backend(super::STORE, Op::Write, key, err)),
        Err(_) => Err(Error::store_backend(
            super::STORE,
            Op::Write,
            key,
            super::jobs::timed_out(jobs.store.timeout),
        )),
    }
}

/// One watcher: the job's states as this process knows them.
struct Follower {
    key: String,
    /// Held so the job stays watched here while this watcher lives.
    _watched: Arc<Watched>,
    states: watch::Receiver<Snapshot>,
    last: Arc<Value>,
    done: bool,
}

impl Follower {
    async fn next(&mut self) -> Option<Result<Option<Arc<Value>>>> {
        loop {
            if self.done || self.states.changed().await.is_err() {
                return None;
            }
            let now = self.states.borrow_and_update().clone();
            match now {
                Snapshot::Unknown => {}
                Snapshot::Job { job, .. } => {
                    if job != self.last {
                        self.last = Arc::clone(&job);
                        return Some(Ok(Some(job)));
                    }
                }
                Snapshot::Deleted => {
                    self.done = true;
                    return Some(Ok(None));
                }
                Snapshot::Failed(err) => {
                    return Some(Err(Error::store_backend(
                        super::STORE,
                        Op::Read,
                        &self.key,
                        crate::store::ReadFailed(err),
                    )));
                }
            }
        }
    }
}

impl WatchBackend for OwnerJobs {
    /// Joins the job's watchers here (the listener already listens), marks
    /// the job as watched, then reads it: any write after the read
    /// NOTIFYs.
    async fn watch(&self, key: &str) -> Result<Option<JobStates>> {
        let hub = self.store.hub().await?;
        let (watched, mut states) = hub.join(self, key);
        if !mark(self, key).await? {
            return Ok(None);
        }
        let Some((revision, job)) = self.read(key).await? else {
            return Ok(None);
        };
        let read = Arc::new(job);
        watched.offer(Snapshot::Job {
            revision,
            job: Arc::clone(&read),
        });
        // the newer of what it read and what the job's watchers here know
        let job = match &*states.borrow_and_update() {
            Snapshot::Job { job, .. } => Arc::clone(job),
            _ => read,
        };
        let follower = Follower {
            key: key.to_owned(),
            _watched: watched,
            states,
            last: Arc::clone(&job),
            done: false,
        };
        let rest = stream::unfold(follower, |mut follower| async move {
            let item = follower.next().await?;
            Some((item, follower))
        });
        let first = stream::once(async move { Ok(Some(job)) });
        Ok(Some(Box::pin(futures_util::StreamExt::chain(first, rest))))
    }
}

impl PostgresJobStore {
    /// The store's listener, made by its first watcher.
    async fn hub(&self) -> Result<Arc<Hub>> {
        self.hub
            .get_or_try_init(|| Hub::start(self))
            .await
            .map(Arc::clone)
    }
}
