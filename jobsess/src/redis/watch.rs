//! The Redis job store's change feed, for the watch hub of
//! [`crate::store::watch`].
//!
//! A watched job's hash holds `\0watched`, the time until which some
//! process watches it; from then on every write script publishes what it
//! wrote on a channel named as the job's hash (see `messages.rs`), and a
//! job nobody watches publishes nothing. One subscriber connection per
//! [`RedisJobStore`] (shared by its clones, made by its first watcher)
//! listens to the channels of the jobs watched in this process: the hub's
//! topics are the channels. After a reconnect (Redis restarted, and
//! messages in between were lost) or a lag, every watched job is read
//! again.

use std::sync::Arc;
use std::time::Duration;

use fred::clients::SubscriberClient;
use fred::interfaces::{ClientLike, EventInterface, PubsubInterface};
use fred::types::config::ReconnectPolicy;
use futures_util::future::BoxFuture;
use serde_json::Value;
use tokio::sync::broadcast;

use super::messages;
use super::{RedisJobStore, RedisOwnerJobs, STORE};
use crate::error::{Error, Op, Result};
use crate::store::watch::{Feed, Hub, Storage};
use crate::watch::{JobStates, WatchBackend};

/// The subscriber connection, as the hub's feed: a job's channel is
/// subscribed while it has a watcher here.
struct Channels(SubscriberClient);

impl Feed for Channels {
    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.0
                .subscribe(topic)
                .await
                .map_err(|err| Error::store_backend(STORE, Op::Read, topic, err))
        })
    }

    fn unsubscribe(&self, topic: String) -> BoxFuture<'static, ()> {
        let client = self.0.clone();
        Box::pin(async move {
            let _ = client.unsubscribe(topic).await;
        })
    }
}

/// Starts the store's subscriber connection and the task that hands its
/// messages to the hub.
async fn start(store: &RedisJobStore) -> Result<Arc<Hub>> {
    let failed = |err: fred::error::Error| Error::store_backend(STORE, Op::Read, "watch", err);
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
    let mut messages = client.message_rx();
    let mut reconnects = client.reconnect_rx();
    let hub = Hub::new(STORE, Channels(client));

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
                        .and_then(|text| messages::parse(channel, &text));
                    hub.note(channel, note.as_ref());
                }
                // fell behind: every watcher reads its job again
                Err(broadcast::error::RecvError::Lagged(_)) => hub.reread_all(),
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    let weak = Arc::downgrade(&hub);
    tokio::spawn(async move {
        while reconnects.recv().await.is_ok() {
            // after the channels are subscribed again, what changed while
            // Redis was away is read again
            tokio::time::sleep(Duration::from_millis(100)).await;
            let Some(hub) = weak.upgrade() else { return };
            hub.reread_all();
        }
    });
    Ok(hub)
}

impl Storage for RedisOwnerJobs {
    async fn hub(&self) -> Result<Arc<Hub>> {
        let hub = self.store.hub.get_or_try_init(|| start(&self.store));
        hub.await.map(Arc::clone)
    }

    /// The job's hash: its channel.
    fn topic(&self, key: &str) -> String {
        self.hash_key(key)
    }

    fn ttl(&self) -> Option<Duration> {
        u64::try_from(self.store.settings.ttl_whole_seconds())
            .ok()
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
    }

    async fn read_revision(&self, key: &str) -> Result<Option<(u64, Value)>> {
        let read = self.read(key).await?;
        Ok(read.map(|(revision, job)| (revision.parse().unwrap_or(0), job)))
    }

    async fn mark(&self, key: &str, time: Duration) -> Result<bool> {
        let millis = time.as_millis().to_string();
        let exists: i64 = super::scripts::WATCH
            .evalsha_with_reload(
                self.store.pool.next(),
                vec![self.hash_key(key)],
                vec![millis],
            )
            .await
            .map_err(|err| Error::store_backend(STORE, Op::Write, key, err))?;
        Ok(exists == 1)
    }
}

impl WatchBackend for RedisOwnerJobs {
    async fn watch(&self, key: &str) -> Result<Option<JobStates>> {
        crate::store::watch::watch(self, key).await
    }
}
