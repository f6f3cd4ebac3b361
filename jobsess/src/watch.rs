//! Live jobs: a job's owner can watch it change.
//!
//! A backend that can tell when a job changes implements [`WatchBackend`]:
//! it hands out the stream of a job's states. [`AsyncJobSession::watch`](crate::AsyncJobSession::watch)
//! and [`AsyncJobSession::watch_field`](crate::AsyncJobSession::watch_field) type them. These can:
//! [`Notifying`], a decorator for a backend shared inside one process
//! (`Mutex<HashMap>`); the in-memory job store (feature `memory-store`);
//! and the Redis and PostgreSQL job stores, across processes, through one
//! watch hub per store (`store/watch/`: engine-neutral, fed by Redis
//! pub/sub or PostgreSQL `LISTEN/NOTIFY`).
//!
//! Every stream starts with the job's current state, so a page that
//! connects late misses nothing; then gives each new state in write order.
//! A consumer slower than the writers skips states in between, never the
//! last one, and never slows a writer down. The stream ([`Watch`]) ends
//! after the job's last state: the one whose status says the job ended
//! (finished, failed or cancelled: see [`HasStatus`](crate::HasStatus)),
//! or its deletion or expiry. A stream opened on a job that has already
//! ended gives that final state and ends.

pub use crate::backend::notifying::{JobState, JobStates, Notifying, WatchBackend};
pub use crate::handle::watch::{Change, Watch};
pub use crate::web::{DONE_EVENT, LastEventId, SseEvent};
