//! What one process knows of a watched job: its state now and each new
//! one, numbered, shared by all its watchers here.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::broadcast;

use crate::error::Error;

/// One write, as an engine's change feed tells of it.
#[derive(Debug)]
#[cfg_attr(
    not(feature = "redis"),
    allow(dead_code, reason = "PostgreSQL's notifications say only `Changed`")
)]
pub(crate) enum Note {
    /// The whole job after the write.
    Whole { revision: u64, job: Arc<Value> },
    /// The job changed at `revision`, with no more said: read it (unless
    /// the watchers here know that revision already).
    Changed { revision: u64 },
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

/// How many messages a job's keeper, or states a watcher, may fall behind
/// before it skips to the latest: a slow one never holds a writer up.
pub(super) const BACKLOG: usize = 64;

/// What this process knows of a watched job, numbered: its state now, and
/// each new one sent to its watchers in order.
pub(super) struct Known {
    pub(super) now: Mutex<Numbered>,
    pub(super) states: broadcast::Sender<Numbered>,
}

/// A state of a job, with its place in the order this process knew them.
#[derive(Clone, Debug)]
pub(super) struct Numbered {
    pub(super) number: u64,
    pub(super) state: State,
}

impl Known {
    pub(super) fn new() -> Known {
        Known {
            now: Mutex::new(Numbered {
                number: 0,
                state: State::Unknown,
            }),
            states: broadcast::channel(BACKLOG).0,
        }
    }

    /// Lets `change` change the state; if it did (returned `true`), sends
    /// the new state to the watchers. The state after.
    pub(super) fn change(&self, change: impl FnOnce(&mut State) -> bool) -> Numbered {
        self.change_since(None, change)
    }

    /// As [`change`](Self::change), but only if the state is still the one
    /// numbered `since` (if given); else leaves it and doesn't call
    /// `change`.
    pub(super) fn change_since(
        &self,
        since: Option<u64>,
        change: impl FnOnce(&mut State) -> bool,
    ) -> Numbered {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if since.is_none_or(|since| since == now.number) && change(&mut now.state) {
            now.number += 1;
            // sent under the lock: watchers get the states in their order
            let _no_watcher_left = self.states.send(now.clone());
        }
        now.clone()
    }

    pub(super) fn now(&self) -> Numbered {
        self.change(|_| false)
    }

    /// Applies one write to the state; `false` if it can't, and the job
    /// must be read again.
    pub(super) fn apply(&self, note: &Note) -> bool {
        let mut applied = true;
        self.change(|state| {
            let known = match state {
                State::Job { revision, .. } => Some(*revision),
                _ => None,
            };
            match note {
                Note::Deleted => {
                    *state = State::Deleted;
                    true
                }
                Note::Whole { revision, .. }
                | Note::Changed { revision }
                | Note::Field { revision, .. }
                    if known.is_some_and(|known| *revision <= known) =>
                {
                    false
                }
                Note::Whole { revision, job } => {
                    *state = State::Job {
                        revision: *revision,
                        job: Arc::clone(job),
                    };
                    true
                }
                Note::Field {
                    revision,
                    name,
                    value,
                    aliases,
                } if known.is_some_and(|known| Some(known) == revision.checked_sub(1)) => {
                    let State::Job { revision: at, job } = state else {
                        unreachable!("a known revision is a job's")
                    };
                    let Value::Object(fields) = Arc::make_mut(job) else {
                        applied = false;
                        return false;
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
                    *at = *revision;
                    true
                }
                // a gap, or a change that didn't say what it wrote
                _ => {
                    applied = false;
                    false
                }
            }
        });
        applied
    }
}

/// What the watchers of one job in this process know of it.
#[derive(Clone, Debug)]
pub(super) enum State {
    /// Not read yet.
    Unknown,
    /// The job at a revision.
    Job { revision: u64, job: Arc<Value> },
    /// Reading it again failed (it will be tried again).
    Failed(Arc<Error>),
    /// It was deleted or expired.
    Deleted,
}
