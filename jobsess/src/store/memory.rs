//! [`MemoryJobStore`]: a server-side job store in this process's memory.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::JobStore;
use crate::backend::{AsyncSessionBackend, FieldWrite, Incremented};
use crate::error::{Error, Result};
use crate::model::field::FieldKeys;
use crate::watch::{JobStates, Notifying, WatchBackend};

/// The jobs of every owner, by `{token}/{job key}`.
type Jobs = Notifying<Mutex<BTreeMap<String, Value>>>;

/// Job metadata in this process's memory, for all users: the server-side
/// store of a single-instance app, of tests and of examples, with no
/// service to run. As with the Redis and PostgreSQL stores, the user's
/// session keeps only an owner token ([`MemoryJobs`] is the extractor),
/// each job is its own entry, a field read or write touches that field
/// alone whatever else the user has, `update` and `increment_field` are
/// atomic, jobs can be watched, and job references open one job for a
/// worker task. It is a handle: clones share the jobs.
///
/// What it doesn't do: keep anything past the process, share jobs between
/// instances, or expire them. Use the Redis or PostgreSQL store for those.
///
/// ```
/// # tokio_test::block_on(async {
/// use jobsess::{AsyncJobSession, JobMetadata, store::{JobStore, MemoryJobStore}};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String, progress: u8 }
///
/// let store = MemoryJobStore::new();
/// let token = MemoryJobStore::new_owner_token()?; // kept in the user's session
/// let jobs = AsyncJobSession::<ExportJob, _>::new(store.owner(&token)?);
/// jobs.store("job-1", &ExportJob { file: "a.csv".into(), progress: 0 }).await?;
/// assert_eq!(jobs.increment_field("job-1", ExportJob::PROGRESS, 10).await?, 10);
/// # Ok::<(), jobsess::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct MemoryJobStore {
    jobs: Jobs,
    claims: Arc<Mutex<HashMap<String, String>>>,
}

impl MemoryJobStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        MemoryJobStore {
            jobs: Notifying::new(Mutex::new(BTreeMap::new())),
            claims: Arc::default(),
        }
    }

    /// A new random owner token: 128 bits from the operating system, as hex.
    ///
    /// ```
    /// assert_eq!(jobsess::store::MemoryJobStore::new_owner_token()?.len(), 32);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Backend`] if the operating system has no randomness to give.
    pub fn new_owner_token() -> Result<String> {
        super::new_owner_token()
    }
}

impl Default for MemoryJobStore {
    fn default() -> Self {
        MemoryJobStore::new()
    }
}

impl std::fmt::Debug for MemoryJobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryJobStore").finish_non_exhaustive()
    }
}

/// [`MemoryJobStore`]'s extractor for axum and actix-web: the jobs of the
/// request's owner, typed as `M`. See [`ServerJobs`](super::ServerJobs).
pub type MemoryJobs<M> = super::ServerJobs<M, MemoryJobStore>;

/// The jobs of one owner in a [`MemoryJobStore`].
#[derive(Clone)]
pub struct MemoryOwnerJobs {
    store: MemoryJobStore,
    token: Arc<str>,
}

impl std::fmt::Debug for MemoryOwnerJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryOwnerJobs").finish_non_exhaustive()
    }
}

impl MemoryOwnerJobs {
    /// The key of the owner's job `key` in the shared map.
    fn at(&self, key: &str) -> String {
        format!("{}/{key}", self.token)
    }

    /// `result` with the owner's part taken off every key its error
    /// names: no error carries the token.
    fn own<T>(&self, result: Result<T>) -> Result<T> {
        result.map_err(|err| err.without_key_prefix(&self.at("")))
    }
}

impl JobStore for MemoryJobStore {
    type Owner = MemoryOwnerJobs;

    const NAME: &'static str = "MemoryJobStore";

    fn __owner(&self, token: &str) -> MemoryOwnerJobs {
        MemoryOwnerJobs {
            store: self.clone(),
            token: Arc::from(token),
        }
    }

    async fn claim(&self, claim: &str, fresh: &str) -> Result<String> {
        let mut claims = self.claims.lock().map_err(|_| {
            Error::store_backend(STORE, crate::Op::Write, "claim", "a lock was poisoned")
        })?;
        Ok(claims
            .entry(claim.to_owned())
            .or_insert_with(|| fresh.to_owned())
            .clone())
    }
}

/// How errors of this store name it.
const STORE: &str = "the in-memory job store";

super::store_owner!(MemoryOwnerJobs, MemoryJobStore, token);

/// Every operation on the owner's keys, each one call on the shared map
/// (so `update` is one read-modify-write under its lock).
impl AsyncSessionBackend for MemoryOwnerJobs {
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        self.own(self.store.jobs.get(&self.at(key)).await)
    }

    async fn insert(&self, key: &str, value: Value) -> Result<bool> {
        self.own(self.store.jobs.insert(&self.at(key), value).await)
    }

    async fn remove(&self, key: &str) -> Result<bool> {
        self.own(self.store.jobs.remove(&self.at(key)).await)
    }

    async fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        let mine = self.at("");
        let keys = self.own(self.store.jobs.keys_with_prefix(&self.at(start)).await)?;
        Ok(keys
            .into_iter()
            .filter_map(|key| key.strip_prefix(&mine).map(str::to_owned))
            .collect())
    }

    /// Under one lock of the map.
    async fn entries_with_prefix(&self, start: &str) -> Result<Vec<(String, Result<Value>)>> {
        let mine = self.at("");
        let entries = self.own(self.store.jobs.entries_with_prefix(&self.at(start)).await)?;
        Ok(entries
            .into_iter()
            .filter_map(|(key, value)| {
                let key = key.strip_prefix(&mine)?.to_owned();
                Some((key, value.map_err(|err| err.without_key_prefix(&mine))))
            })
            .collect())
    }

    async fn insert_versioned(&self, key: &str, value: Value, version: u32) -> Result<bool> {
        self.own(
            self.store
                .jobs
                .insert_versioned(&self.at(key), value, version)
                .await,
        )
    }

    async fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Value>> {
        self.own(self.store.jobs.get_field(&self.at(key), keys).await)
    }

    async fn set_field(&self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        self.own(self.store.jobs.set_field(&self.at(key), write).await)
    }

    async fn update<F>(&self, key: &str, f: F) -> Result<bool>
    where
        F: FnMut(&Value) -> Result<Option<Value>> + Send,
    {
        self.own(self.store.jobs.update(&self.at(key), f).await)
    }

    /// One read-modify-write under the map's lock, on the field's JSON:
    /// whatever it doesn't take (an alias in use, no whole number, a sum
    /// out of range) it leaves to the handle, as the other stores do.
    async fn increment_field(
        &self,
        key: &str,
        increment: crate::backend::Increment<'_>,
    ) -> Result<Incremented> {
        let mut done = Incremented::NotHere;
        let add = |job: &Value| {
            done = Incremented::NotHere;
            let Value::Object(fields) = job else {
                return Ok(None);
            };
            if increment
                .aliases()
                .iter()
                .any(|alias| fields.contains_key(*alias))
            {
                return Ok(None);
            }
            let current = match fields.get(increment.name()) {
                Some(value) => value.as_i64(),
                None => increment.absent(),
            };
            let range = increment.min()..=increment.max();
            let sum = current
                .filter(|current| range.contains(current))
                .and_then(|current| current.checked_add(increment.by()))
                .filter(|sum| range.contains(sum));
            let Some(sum) = sum else {
                return Ok(None);
            };
            let mut job = job.clone();
            job[increment.name()] = Value::from(sum);
            done = Incremented::To(sum);
            Ok(Some(job))
        };
        let found = self.own(self.store.jobs.update(&self.at(key), add).await)?;
        Ok(if found { done } else { Incremented::NoJob })
    }

    async fn remove_with_prefix(&self, start: &str) -> Result<usize> {
        self.own(self.store.jobs.remove_with_prefix(&self.at(start)).await)
    }
}

impl WatchBackend for MemoryOwnerJobs {
    async fn watch(&self, key: &str) -> Result<Option<JobStates>> {
        self.own(self.store.jobs.watch(&self.at(key)).await)
    }
}
