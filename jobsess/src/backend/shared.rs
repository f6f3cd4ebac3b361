//! The async adapter of any sync backend: `Mutex<B>`, each method under
//! one lock. (`Arc<B>` and `&B` forward through
//! [`AsyncForward`](super::AsyncForward).)

use std::borrow::Cow;
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{AsyncSessionBackend, FieldWrite, SessionBackend};
use crate::error::{Error, Op, Result};
use crate::model::field::{Field, FieldKeys};
use crate::model::metadata::JobMetadata;

/// Any synchronous backend behind a `Mutex` is an asynchronous one: an
/// in-memory session that tasks can share, and what the examples use. Field
/// reads and writes and prefix removal each run under one lock, so they are
/// atomic between tasks.
///
/// ```
/// use jobsess::{AsyncJobSession, UntypedJob};
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
///
/// # tokio_test::block_on(async {
/// let session = Arc::new(Mutex::new(HashMap::new()));
/// let jobs = AsyncJobSession::<UntypedJob, _>::new(Arc::clone(&session));
/// jobs.store("a", &UntypedJob::new()).await?;
/// assert!(session.lock().unwrap().contains_key("job_a"));
/// # Ok::<(), jobsess::Error>(())
/// # }).unwrap();
/// ```
impl<B: SessionBackend + Send> AsyncSessionBackend for Mutex<B> {
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        Ok(lock(self, Op::Read, key)?.get(key)?.map(Cow::into_owned))
    }

    async fn insert(&self, key: &str, value: Value) -> Result<bool> {
        lock(self, Op::Write, key)?.insert(key, value)
    }

    async fn remove(&self, key: &str) -> Result<bool> {
        lock(self, Op::Remove, key)?.remove(key)
    }

    async fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        lock(self, Op::List, start)?.keys_with_prefix(start)
    }

    /// Under one lock.
    async fn entries_with_prefix(&self, start: &str) -> Result<Vec<(String, Result<Value>)>> {
        let session = lock(self, Op::List, start)?;
        let mut entries = Vec::new();
        for key in session.keys_with_prefix(start)? {
            match session.get(&key) {
                Ok(None) => {}
                Ok(Some(value)) => {
                    let value = value.into_owned();
                    entries.push((key, Ok(value)));
                }
                Err(err) => entries.push((key, Err(err))),
            }
        }
        Ok(entries)
    }

    /// Decoded under the lock, with no copy of the job.
    async fn get_decoded<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        lock(self, Op::Read, key)?.get_decoded(key)
    }

    /// Under one lock.
    async fn insert_versioned(&self, key: &str, value: Value, version: u32) -> Result<bool> {
        lock(self, Op::Write, key)?.insert_versioned(key, value, version)
    }

    /// Copies out only the members the read needs, not the whole job.
    async fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Value>> {
        let session = lock(self, Op::Read, key)?;
        Ok(session.get_field(key, keys)?.map(|job| keys.pick(&job)))
    }

    /// Decoded under the lock, as the sync backend decodes it.
    async fn get_field_decoded<M: JobMetadata, T>(
        &self,
        key: &str,
        field: &Field<M, T>,
    ) -> Result<Option<T>> {
        lock(self, Op::Read, key)?.get_field_decoded(key, field)
    }

    async fn set_field(&self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        lock(self, Op::Write, key)?.set_field(key, write)
    }

    /// Under one lock: no other task's write comes between the read and the write.
    async fn update<F>(&self, key: &str, f: F) -> Result<bool>
    where
        F: FnMut(&Value) -> Result<Option<Value>> + Send,
    {
        lock(self, Op::Write, key)?.update(key, f)
    }

    async fn remove_with_prefix(&self, start: &str) -> Result<usize> {
        lock(self, Op::Remove, start)?.remove_with_prefix(start)
    }
}

/// The lock, or the error of a poisoned one.
fn lock<'m, B>(mutex: &'m Mutex<B>, op: Op, key: &str) -> Result<std::sync::MutexGuard<'m, B>> {
    mutex.lock().map_err(|_| {
        Error::backend(
            op,
            key,
            "the session's lock is poisoned: a task panicked while holding it",
        )
    })
}
