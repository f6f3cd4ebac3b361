//! A watched job's keeper, which reads it again when the feed can't keep
//! its state, and one watcher's view of its states.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::known::{Known, State};
use super::{Membership, News, RENEW_EVERY, WATCHED_FOR, Watched};
use crate::error::{Error, Op, Result};

/// How soon a job whose read failed is read again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// How long after the last message a job's keeper applied it reads the job
/// once, in case the message of a later write was lost on the way (a
/// Redis pub/sub message is sent at most once; fred's own receiver can
/// drop one, <https://github.com/aembke/fred.rs/issues/367>). The mark's
/// renewal (every [`RENEW_EVERY`]) reads the job too, for a burst whose
/// every message was lost.
const SETTLE_AFTER: Duration = Duration::from_secs(1);

/// How many times a keeper reads its job before it leaves the state to
/// the messages that kept changing it.
const READS: usize = 3;

/// Reads one watched job again for all its watchers in this process when
/// the feed can't keep its state (a gap, a note that doesn't say what
/// changed, a lag, a lost connection, a whole TTL with no news, a second of
/// quiet after a message, or a failed read a moment ago), and renews its
/// mark. It ends when the job's last watcher here goes.
pub(super) struct Keeper {
    news: broadcast::Receiver<News>,
    known: Arc<Known>,
    job: Arc<dyn Watched>,
    ttl: Option<Duration>,
}

impl Keeper {
    pub(super) fn new(
        news: broadcast::Receiver<News>,
        known: Arc<Known>,
        job: Arc<dyn Watched>,
        ttl: Option<Duration>,
    ) -> Keeper {
        Keeper {
            news,
            known,
            job,
            // a job that expired is read just after its TTL
            ttl: ttl.map(|ttl| ttl + Duration::from_millis(50)),
        }
    }

    pub(super) async fn run(mut self) {
        let mut retry = None;
        // a message was applied, and the job not read since
        let mut unsettled = false;
        let mut renew_at = Instant::now() + RENEW_EVERY;
        loop {
            let until_renewal = renew_at.saturating_duration_since(Instant::now());
            let wait = [
                retry,
                unsettled.then_some(SETTLE_AFTER),
                self.ttl,
                Some(until_renewal),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(RENEW_EVERY);
            let news = tokio::time::timeout(wait, self.news.recv())
                .await
                .unwrap_or(Ok(News::Reread));
            let mut reread = match news {
                Ok(News::Applied) => {
                    unsettled = true;
                    false
                }
                Ok(News::Reread) | Err(broadcast::error::RecvError::Lagged(_)) => true,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if Instant::now() >= renew_at {
                renew_at = Instant::now() + RENEW_EVERY;
                // a failure is tried again at the next renewal
                let _ = self.job.mark(WATCHED_FOR).await;
                reread = true;
            }
            if reread {
                // one read answers every news that came meanwhile
                loop {
                    match self.news.try_recv() {
                        Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                        Err(broadcast::error::TryRecvError::Closed) => return,
                        Err(broadcast::error::TryRecvError::Empty) => break,
                    }
                }
                retry = self.reread().await;
                unsettled = false;
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
            let (read, retry) = match self.job.read().await {
                Ok(Some((revision, job))) => (
                    State::Job {
                        revision,
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

type Item = Result<Option<crate::watch::JobState>>;

/// One watcher: the job's states as this process knows them ([`Known`]).
pub(super) struct Watcher {
    store: &'static str,
    key: String,
    membership: Membership,
    /// The number of the state last looked at, and the job last given.
    number: u64,
    job: Arc<Value>,
    done: bool,
}

impl Watcher {
    pub(super) fn new(
        store: &'static str,
        key: &str,
        membership: Membership,
        number: u64,
        job: Arc<Value>,
    ) -> Watcher {
        Watcher {
            store,
            key: key.to_owned(),
            membership,
            number,
            job,
            done: false,
        }
    }

    /// The next item: the job's next state this watcher hasn't given.
    pub(super) async fn next(&mut self) -> Option<Item> {
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
                State::Job { job, revision } => {
                    if !Arc::ptr_eq(&job, &self.job) && job != self.job {
                        self.job = Arc::clone(&job);
                        return Some(Ok(Some(crate::watch::JobState::new(revision, job))));
                    }
                }
                State::Failed(err) => {
                    return Some(Err(Error::store_backend(
                        self.store,
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
