//! The PostgreSQL job store's change feed, over `LISTEN/NOTIFY`, for the
//! watch hub of [`crate::store::watch`].
//!
//! A watched job's row holds `watched_until`, the time until which some
//! process watches it; from then on each write to the job NOTIFYs in its
//! own statement, on the store's channel, with the job's digest (of owner
//! and key: never the token itself), its new revision and the field, never
//! the value. A job nobody watches NOTIFYs nothing: commits that NOTIFY
//! take a database-wide lock.
//!
//! One `PgListener` per store (shared by its clones, made by the first
//! watcher) hands each notification to the hub, whose topics are the
//! digests; a notification says only that the job changed, so the job's
//! keeper reads it (once per burst). When the listener's connection is
//! lost, notifications in between are lost: the listener is made again,
//! with back-off, then every watched job is read.

use super::{sqlx, text};

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use self::sqlx::postgres::PgListener;
use futures_util::future::{BoxFuture, Either, select};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{PostgresJobStore, PostgresOwnerJobs};
use crate::error::{Error, Op, Result};
use crate::store::hex_digest;
use crate::store::watch::{Feed, Hub, Note, Storage};
use crate::watch::{JobStates, WatchBackend};

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

/// The store-wide `LISTEN`, as the hub's feed: it carries every job from
/// the start. Its sender is dropped with the hub, and the listener's task
/// ends.
struct Listening {
    _stop: oneshot::Sender<()>,
}

impl Feed for Listening {
    fn subscribe<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn unsubscribe(&self, _: String) -> BoxFuture<'static, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// A listener on the store's channel, its `LISTEN` done.
async fn listen(pool: &sqlx::PgPool, channel: &str) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

/// Starts the store's listener and the task that hands its notifications
/// to the hub; the task ends with the hub.
async fn start(store: &PostgresJobStore) -> Result<Arc<Hub>> {
    let mut listener = listen(&store.pool, &store.sql.channel)
        .await
        .map_err(|err| Error::store_backend(super::STORE, Op::Read, "watch", err))?;
    let (stop, mut stopped) = oneshot::channel::<()>();
    // dropped with the hub: the listener's task ends
    let hub = Hub::new(super::STORE, Listening { _stop: stop });
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
                Ok(Some(notification)) => notified(&hub, notification.payload()),
                // the connection was lost and made again: what was sent in
                // between is lost, so every job is read; a wait first, so
                // that a connection killed as soon as it is made doesn't
                // make the jobs read in a loop
                Ok(None) => {
                    drop(hub);
                    reconnects.wait().await;
                    match weak.upgrade() {
                        Some(hub) => hub.reread_all(),
                        None => return,
                    }
                }
                Err(_) => {
                    drop(hub);
                    // a listener made again, its LISTEN done, before the
                    // jobs are read: no write after the read is missed
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
                        hub.reread_all();
                    }
                }
            }
        }
    });
    Ok(hub)
}

/// A notification, `digest revision field` (field `-`: the job was
/// removed), to the hub: the job changed at that revision.
fn notified(hub: &Hub, payload: &str) {
    let mut parts = payload.splitn(3, ' ');
    let (Some(digest), Some(revision)) = (parts.next(), parts.next()) else {
        return;
    };
    let note = match (parts.next(), revision.parse()) {
        (Some("-"), _) | (_, Err(_)) => None,
        (_, Ok(revision)) => Some(Note::Changed { revision }),
    };
    hub.note(digest, note.as_ref());
}

impl Storage for PostgresOwnerJobs {
    async fn hub(&self) -> Result<Arc<Hub>> {
        let hub = self.store.hub.get_or_try_init(|| start(&self.store));
        hub.await.map(Arc::clone)
    }

    /// A digest of owner and key, as the statements NOTIFY it.
    fn topic(&self, key: &str) -> String {
        hex_digest(&format!("{}/{key}", self.owner))
    }

    fn ttl(&self) -> Option<Duration> {
        self.store.settings.ttl()
    }

    async fn read_revision(&self, key: &str) -> Result<Option<(u64, Value)>> {
        let read = self.read(key).await?;
        Ok(read.map(|(revision, job)| (u64::try_from(revision).unwrap_or(0), job)))
    }

    /// Marks the job under `key` as watched for `time`, so that its writes
    /// NOTIFY; whether it exists.
    async fn mark(&self, key: &str, time: Duration) -> Result<bool> {
        let Some((prefix, id)) = key.split_once('_') else {
            return Ok(false);
        };
        let marked = sqlx::query(text(&self.store.sql.mark))
            .bind(&*self.owner)
            .bind(prefix)
            .bind(id)
            .bind(time.as_secs_f64())
            .fetch_optional(&self.store.pool);
        let deadline = std::time::Instant::now() + self.store.timeout;
        match self.store.deadlines.run(deadline, marked).await {
            Ok(Ok(row)) => Ok(row.is_some()),
            Ok(Err(err)) => Err(Error::store_backend(super::STORE, Op::Write, key, err)),
            Err(_) => Err(Error::store_backend(
                super::STORE,
                Op::Write,
                key,
                super::jobs::timed_out(self.store.timeout),
            )),
        }
    }
}

impl WatchBackend for PostgresOwnerJobs {
    async fn watch(&self, key: &str) -> Result<Option<JobStates>> {
        crate::store::watch::watch(self, key).await
    }
}
