//! Live jobs: a job's owner can watch it change.
//!
//! A backend that can tell when a job changes implements [`WatchBackend`]:
//! it hands out the stream of a job's states. [`AsyncJobSession::watch`](crate::AsyncJobSession::watch)
//! and [`AsyncJobSession::watch_field`](crate::AsyncJobSession::watch_field) type them. Two backends can:
//! [`Notifying`], a decorator for a backend shared inside one process
//! (`Mutex<HashMap>`), and the Redis job store, across processes.
//!
//! Every stream starts with the job's current state, so a page that
//! connects late misses nothing; then gives each new state in write order.
//! A consumer slower than the writers skips states in between, never the
//! last one, and never slows a writer down. The stream ends after telling
//! that the job was deleted or expired.

pub use crate::backend::notifying::{JobStates, Notifying, WatchBackend};
pub use crate::handle::watch::{Change, SseEvent};
