//! `tower_sessions::Session` as an [`AsyncSessionBackend`]
//! (feature `tower-sessions`).
//!
//! tower-sessions can't list a session's keys, so the handle keeps the ids
//! of each prefix in an index under `__jobsess_index.{prefix}`
//! ([`key::index_key`](crate::key::index_key)).
//!
//! ```
//! use jobsess::{AsyncJobSession, JobMetadata};
//! use std::sync::Arc;
//! use tower_sessions::{MemoryStore, Session};
//!
//! #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
//! struct ExportJob { file: String }
//!
//! # tokio_test::block_on(async {
//! let session = Session::new(None, Arc::new(MemoryStore::default()), None);
//! let jobs = AsyncJobSession::<ExportJob, _>::new(session.clone());
//! jobs.store("job-1", &ExportJob { file: "a.csv".into() }).await?;
//! assert_eq!(jobs.ids().await?, ["job-1"]);
//! assert_eq!(jobs.load_field("job-1", ExportJob::FILE).await?.as_deref(), Some("a.csv"));
//! # Ok::<(), jobsess::Error>(())
//! # }).unwrap();
//! ```

use serde_json::Value;
use tower_sessions::Session;

use crate::async_session::AsyncSessionBackend;
use crate::error::BoxError;

impl AsyncSessionBackend for Session {
    const LISTS_KEYS: bool = false;

    async fn get(&self, key: &str) -> Result<Option<Value>, BoxError> {
        Ok(self.get_value(key).await?)
    }

    async fn insert(&self, key: &str, value: Value) -> Result<bool, BoxError> {
        Ok(self.insert_value(key, value).await?.is_some())
    }

    async fn remove(&self, key: &str) -> Result<bool, BoxError> {
        Ok(self.remove_value(key).await?.is_some())
    }

    async fn keys_with_prefix(&self, _start: &str) -> Result<Vec<String>, BoxError> {
        Err("tower-sessions can't list a session's keys".into())
    }
}
