//! The SQLite job store's change feed, for the watch hub of
//! [`crate::store::watch`]: a change log table, read when
//! `PRAGMA data_version` says the database file changed.
//!
//! A watched job's row holds `watched_until`, the time until which some
//! process watches it; from then on a trigger logs each write to it (its
//! topic `owner/prefix_id` and new revision, never the value) in the same
//! transaction as the write, and each removal. A job nobody watches logs
//! nothing.
//!
//! One poller per store (shared by its clones, made by the first watcher)
//! keeps a connection of its own and asks it for `PRAGMA data_version`
//! every [`POLL_EVERY`]: a number that changes when another connection,
//! of this process or any other, commits to the file. Only then does it
//! read the log's new rows and hand each to the hub. It deletes rows older
//! than [`KEPT_FOR`] now and then; a process that fell further behind
//! than that (a gap in the log's numbers) reads every watched job again,
//! as it does after a failed poll.

use super::{sqlx, text};

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use self::sqlx::SqliteConnection;
use futures_util::future::{BoxFuture, Either, select};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::time::{Instant, MissedTickBehavior};

use super::{SqliteJobStore, SqliteOwnerJobs};
use crate::error::{Error, Op, Result};
use crate::store::watch::{Feed, Hub, Note, Storage};
use crate::watch::{JobStates, WatchBackend};

/// How often the poller asks whether the file changed.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// How long the change log keeps a row, and how often a poller prunes it.
const KEPT_FOR: Duration = Duration::from_secs(60);
const PRUNE_EVERY: Duration = Duration::from_secs(15);

/// How many rows of the log one read takes.
const BATCH: i64 = 500;

/// How long the poller waits after a failed poll before the next.
const AFTER_FAILURE: Duration = Duration::from_millis(500);

/// The store-wide poll of the change log, as the hub's feed: it carries
/// every job from the start. Its sender is dropped with the hub, and the
/// poller's task ends.
struct Polling {
    _stop: oneshot::Sender<()>,
}

impl Feed for Polling {
    fn subscribe<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn unsubscribe(&self, _: String) -> BoxFuture<'static, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// Where the poller is in the file's history.
struct Position {
    /// The file's `data_version` at the last poll.
    version: i64,
    /// The last row of the log read.
    seq: i64,
}

/// A connection of the poller's own, and where the log ends now.
async fn connect(store: &SqliteJobStore) -> sqlx::Result<(SqliteConnection, Position)> {
    let mut conn = store.pool.acquire().await?.detach();
    let version = data_version(&mut conn).await?;
    let seq = sqlx::query_scalar(text(&store.sql.last_change))
        .fetch_one(&mut conn)
        .await?;
    Ok((conn, Position { version, seq }))
}

async fn data_version(conn: &mut SqliteConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(conn)
        .await
}

/// One poll: if the file changed, the log's new rows to the hub.
async fn poll(
    store: &SqliteJobStore,
    conn: &mut SqliteConnection,
    at: &mut Position,
    hub: &Hub,
) -> sqlx::Result<()> {
    let version = data_version(conn).await?;
    if version == at.version {
        return Ok(());
    }
    at.version = version;
    loop {
        let rows: Vec<(i64, String, Option<i64>)> = sqlx::query_as(text(&store.sql.changes))
            .bind(at.seq)
            .bind(BATCH)
            .fetch_all(&mut *conn)
            .await?;
        for (seq, topic, revision) in &rows {
            if *seq != at.seq + 1 {
                // rows this process never read were pruned
                hub.reread_all();
            }
            at.seq = *seq;
            let note = revision
                .and_then(|revision| u64::try_from(revision).ok())
                .map(|revision| Note::Changed { revision });
            hub.note(topic, note.as_ref());
        }
        if rows.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(());
        }
    }
}

/// Starts the store's poller and the task that hands the log's rows to
/// the hub; the task ends with the hub.
async fn start(store: &SqliteJobStore) -> Result<Arc<Hub>> {
    let (mut conn, mut at) = connect(store)
        .await
        .map_err(|err| Error::store_backend(super::STORE, Op::Read, "watch", err))?;
    let (stop, mut stopped) = oneshot::channel::<()>();
    // dropped with the hub: the poller's task ends
    let hub = Hub::new(super::STORE, Polling { _stop: stop });
    let weak = Arc::downgrade(&hub);
    let store = store.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(POLL_EVERY);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut pruned = Instant::now();
        loop {
            if let Either::Right(_) = select(pin!(ticks.tick()), &mut stopped).await {
                return;
            }
            let Some(hub) = weak.upgrade() else { return };
            let mut polled = poll(&store, &mut conn, &mut at, &hub).await;
            if polled.is_ok() && pruned.elapsed() >= PRUNE_EVERY {
                pruned = Instant::now();
                polled = sqlx::query(text(&store.sql.prune_changes))
                    .bind(KEPT_FOR.as_secs_f64())
                    .execute(&mut conn)
                    .await
                    .map(drop);
            }
            let Err(err) = polled else { continue };
            tracing::warn!("jobsess: polling the SQLite job store's changes failed: {err}");
            drop(hub);
            // a fresh connection, then every watched job is read: no write
            // after the read is missed
            loop {
                tokio::time::sleep(AFTER_FAILURE).await;
                if weak.strong_count() == 0 {
                    return;
                }
                if let Ok((fresh, position)) = connect(&store).await {
                    (conn, at) = (fresh, position);
                    break;
                }
            }
            if let Some(hub) = weak.upgrade() {
                hub.reread_all();
            }
        }
    });
    Ok(hub)
}

impl Storage for SqliteOwnerJobs {
    async fn hub(&self) -> Result<Arc<Hub>> {
        let hub = self.store.hub.get_or_try_init(|| start(&self.store));
        hub.await.map(Arc::clone)
    }

    /// `owner/prefix_id`, as the triggers log it.
    fn topic(&self, key: &str) -> String {
        format!("{}/{key}", self.owner)
    }

    fn ttl(&self) -> Option<Duration> {
        self.store.settings.ttl()
    }

    async fn read_revision(&self, key: &str) -> Result<Option<(u64, Value)>> {
        let read = self.read(key).await?;
        Ok(read.map(|(revision, job)| (u64::try_from(revision).unwrap_or(0), job)))
    }

    /// Marks the job under `key` as watched for `time`, so that its writes
    /// log a change; whether it exists.
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

impl WatchBackend for SqliteOwnerJobs {
    async fn watch(&self, key: &str) -> Result<Option<JobStates>> {
        crate::store::watch::watch(self, key).await
    }
}
