//! tower-sessions' `Session` as an [`AsyncSessionBackend`](crate::AsyncSessionBackend): version 0.15
//! with the feature `tower-sessions`, version 0.14 with `tower-sessions-014`.
//! Both can be on at once; each version's `Session` is a backend.
//!
//! tower-sessions can't list a session's keys, so a `Session` is an
//! [`AsyncKeyValue`] and its backend methods are those of [`Indexed`]: the
//! ids of each prefix live in the session under `__jobsess_index.{prefix}`
//! ([`key::index_key`](crate::key::index_key)).
//!
//! What is atomic: tower-sessions keeps a request's session in memory and
//! saves it whole when the response goes out. Two concurrent requests of
//! one user each save their own copy, and the last save wins: a job (or a
//! field write) made by the other request is lost. Keep per-job state that
//! concurrent requests write in the Redis job store (`redis` feature).
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

use crate::backend::{AsyncKeyValue, Indexed, indexed_backend};
use crate::error::{Error, Op, Result};

/// Implements the traits for one version's `Session`.
macro_rules! session_backend {
    ($session:ty) => {
        impl AsyncKeyValue for $session {
            async fn get(&self, key: &str) -> Result<Option<Value>> {
                self.get_value(key)
                    .await
                    .map_err(|err| Error::backend(Op::Read, key, err))
            }

            async fn insert(&self, key: &str, value: Value) -> Result<bool> {
                let old = self.insert_value(key, value).await;
                Ok(old
                    .map_err(|err| Error::backend(Op::Write, key, err))?
                    .is_some())
            }

            async fn remove(&self, key: &str) -> Result<bool> {
                let old = self.remove_value(key).await;
                Ok(old
                    .map_err(|err| Error::backend(Op::Remove, key, err))?
                    .is_some())
            }
        }

        indexed_backend!($session);
    };
}

#[cfg(feature = "tower-sessions")]
session_backend!(::tower_sessions::Session);

#[cfg(feature = "tower-sessions-014")]
session_backend!(::tower_sessions_014::Session);

/// A tower-sessions `Session` of either supported version: what the axum
/// extractors hold, so one `Jobs<M>` type serves an app on either version.
///
/// ```
/// use jobsess::{AsyncJobSession, UntypedJob, tower_sessions::AnySession};
/// use std::sync::Arc;
/// use tower_sessions::{MemoryStore, Session};
///
/// # tokio_test::block_on(async {
/// let session = Session::new(None, Arc::new(MemoryStore::default()), None);
/// let jobs = AsyncJobSession::<UntypedJob, _>::new(AnySession::from(session));
/// jobs.store("a", &UntypedJob::new()).await?;
/// assert_eq!(jobs.ids().await?, ["a"]);
/// # Ok::<(), jobsess::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AnySession {
    /// tower-sessions 0.15 (feature `tower-sessions`).
    #[cfg(feature = "tower-sessions")]
    V015(::tower_sessions::Session),
    /// tower-sessions 0.14 (feature `tower-sessions-014`).
    #[cfg(feature = "tower-sessions-014")]
    V014(::tower_sessions_014::Session),
}

#[cfg(feature = "tower-sessions")]
impl From<::tower_sessions::Session> for AnySession {
    fn from(session: ::tower_sessions::Session) -> Self {
        AnySession::V015(session)
    }
}

#[cfg(feature = "tower-sessions-014")]
impl From<::tower_sessions_014::Session> for AnySession {
    fn from(session: ::tower_sessions_014::Session) -> Self {
        AnySession::V014(session)
    }
}

/// Calls `$call` on the session inside, whichever version it is.
macro_rules! each {
    ($any:expr, |$session:ident| $call:expr) => {
        match $any {
            #[cfg(feature = "tower-sessions")]
            AnySession::V015($session) => $call,
            #[cfg(feature = "tower-sessions-014")]
            AnySession::V014($session) => $call,
        }
    };
}

/// Straight to the session of either version: one layer, not two.
impl AsyncKeyValue for AnySession {
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        each!(self, |s| s
            .get_value(key)
            .await
            .map_err(|err| Error::backend(Op::Read, key, err)))
    }

    async fn insert(&self, key: &str, value: Value) -> Result<bool> {
        let old = each!(self, |s| s
            .insert_value(key, value)
            .await
            .map_err(|err| Error::backend(Op::Write, key, err)));
        Ok(old?.is_some())
    }

    async fn remove(&self, key: &str) -> Result<bool> {
        let old = each!(self, |s| s
            .remove_value(key)
            .await
            .map_err(|err| Error::backend(Op::Remove, key, err)));
        Ok(old?.is_some())
    }
}

indexed_backend!(AnySession);

impl AnySession {
    /// The session tower-sessions' layer put in a request's extensions:
    /// 0.15's if that feature is on and it is there, else 0.14's.
    #[cfg(feature = "axum")]
    pub(crate) fn from_extensions(extensions: &http::Extensions) -> Option<Self> {
        #[cfg(feature = "tower-sessions")]
        if let Some(session) = extensions.get::<::tower_sessions::Session>() {
            return Some(AnySession::V015(session.clone()));
        }
        #[cfg(feature = "tower-sessions-014")]
        if let Some(session) = extensions.get::<::tower_sessions_014::Session>() {
            return Some(AnySession::V014(session.clone()));
        }
        None
    }

    /// The session's id, if it has one (a session loaded from a cookie).
    #[cfg(all(
        feature = "axum",
        any(
            feature = "redis",
            feature = "postgres",
            feature = "postgres-sqlx-09",
            feature = "sqlite",
            feature = "sqlite-sqlx-09",
            feature = "memory-store"
        )
    ))]
    pub(crate) fn id(&self) -> Option<String> {
        each!(self, |s| s.id().map(|id| id.to_string()))
    }

    /// What the extractors log when a request has no session: the versions
    /// they looked for, and the feature for the other one.
    #[cfg(feature = "axum")]
    pub(crate) const MISSING: &'static str = if cfg!(all(
        feature = "tower-sessions",
        feature = "tower-sessions-014"
    )) {
        "no tower-sessions session (0.15 or 0.14) on this request; add a `SessionManagerLayer` to the router"
    } else if cfg!(feature = "tower-sessions-014") {
        "no tower-sessions 0.14 session on this request; add a `SessionManagerLayer` to the router \
         (for tower-sessions 0.15, enable jobsess's feature `tower-sessions`)"
    } else {
        "no tower-sessions 0.15 session on this request; add a `SessionManagerLayer` to the router \
         (for tower-sessions 0.14, enable jobsess's feature `tower-sessions-014`)"
    };
}
