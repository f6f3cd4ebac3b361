//! The timeouts of an engine's operations (PostgreSQL's, SQLite's),
//! without a timer per operation.
//!
//! A tokio timer registered from one thread while the runtime's driver
//! sleeps on another wakes that thread to move its alarm: a cross-thread
//! wake-up per statement, measured at 6 to 8 % of a field write on the
//! PostgreSQL store (BENCHMARKS.md). Instead, each operation notes its deadline here,
//! and one ticker task per store, running only while operations are in
//! flight, fails those whose deadline has passed. An operation fails at
//! most one tick (a tenth of the timeout, 10 to 100 ms) after its deadline.

use std::collections::HashMap;
use std::pin::pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures_util::future::{Either, select};
use tokio::sync::{Notify, oneshot};

/// The operations of one store in flight, by number, with their deadlines.
pub(crate) struct Deadlines {
    state: Mutex<State>,
    /// Rung when the first operation after a quiet spell starts, and when
    /// the store goes (the ticker then ends).
    wake: Arc<Notify>,
    tick: Duration,
}

#[derive(Default)]
struct State {
    next: u64,
    pending: HashMap<u64, (Instant, oneshot::Sender<()>)>,
    /// Whether the ticker is ticking (else it waits for `wake`).
    ticking: bool,
    /// Whether the ticker task was started.
    started: bool,
}

/// An operation ran past its deadline.
#[derive(Debug)]
pub(crate) struct Elapsed;

impl Deadlines {
    pub(crate) fn new(timeout: Duration) -> Deadlines {
        Deadlines {
            state: Mutex::new(State::default()),
            wake: Arc::new(Notify::new()),
            tick: (timeout / 10).clamp(Duration::from_millis(10), Duration::from_millis(100)),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `work`, or fails with [`Elapsed`] once `deadline` has passed.
    pub(crate) async fn run<T>(
        self: &Arc<Self>,
        deadline: Instant,
        work: impl Future<Output = T>,
    ) -> Result<T, Elapsed> {
        let (expire, expired) = oneshot::channel();
        let (id, start, ring) = {
            let mut state = self.state();
            let id = state.next;
            state.next += 1;
            state.pending.insert(id, (deadline, expire));
            let ring = !state.ticking;
            state.ticking = true;
            let start = !state.started;
            state.started = true;
            (id, start, ring)
        };
        if start {
            tokio::spawn(ticker(Arc::downgrade(self), Arc::clone(&self.wake)));
        }
        if ring {
            self.wake.notify_one();
        }
        let _done = Done {
            deadlines: self,
            id,
        };
        match select(pin!(work), expired).await {
            Either::Left((done, _)) => Ok(done),
            Either::Right(_) => Err(Elapsed),
        }
    }
}

impl Drop for Deadlines {
    fn drop(&mut self) {
        self.wake.notify_one();
    }
}

/// Forgets an operation once it is over (done, failed or dropped).
struct Done<'a> {
    deadlines: &'a Deadlines,
    id: u64,
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.deadlines.state().pending.remove(&self.id);
    }
}

/// Every tick while operations are in flight, fails those past their
/// deadline; sleeps on `wake` when none is. Ends with its store.
async fn ticker(deadlines: Weak<Deadlines>, wake: Arc<Notify>) {
    loop {
        let Some(strong) = deadlines.upgrade() else {
            return;
        };
        let (tick, ticking) = (strong.tick, strong.state().ticking);
        drop(strong);
        if ticking {
            tokio::time::sleep(tick).await;
        } else {
            // a notification given before this wait is kept for it
            wake.notified().await;
            continue;
        }
        let Some(strong) = deadlines.upgrade() else {
            return;
        };
        let now = Instant::now();
        let mut state = strong.state();
        let overdue: Vec<u64> = state
            .pending
            .iter()
            .filter(|(_, (deadline, _))| *deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in overdue {
            if let Some((_, expire)) = state.pending.remove(&id) {
                let _gone = expire.send(());
            }
        }
        if state.pending.is_empty() {
            state.ticking = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_in_time_finishes_and_late_work_fails_within_a_tick() {
        let deadlines = Arc::new(Deadlines::new(Duration::from_millis(200)));
        let soon = Instant::now() + Duration::from_millis(200);
        assert_eq!(deadlines.run(soon, async { 7 }).await.unwrap(), 7);
        let started = Instant::now();
        let late = deadlines
            .run(
                started + Duration::from_millis(200),
                std::future::pending::<()>(),
            )
            .await;
        assert!(late.is_err());
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(200) && took < Duration::from_millis(200 + 20 + 50),
            "{took:?}"
        );
        // after a quiet spell, the ticker wakes again for the next one
        tokio::time::sleep(Duration::from_millis(100)).await;
        let again = deadlines
            .run(
                Instant::now() + Duration::from_millis(50),
                std::future::pending::<()>(),
            )
            .await;
        assert!(again.is_err());
        assert!(deadlines.state().pending.is_empty());
    }
}
