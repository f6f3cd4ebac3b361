//! The rules of a server-side job store, engine-neutral: what any engine
//! (the Redis job store today) provides, and what is written once for all
//! of them.
//!
//! An engine implements [`JobStore`]: the jobs of one owner as an
//! [`AsyncSessionBackend`](crate::AsyncSessionBackend) that can be watched, and the claim of an owner
//! token by a session. Written once here, for every engine:
//! - owners: the token a session keeps under [`OWNER_KEY`] (made on first
//!   use, never replaced by a failed read), the app's own user id
//!   ([`OwnerId`]) in its place, and the claim that makes concurrent first
//!   requests of a session agree on one token;
//! - [`ServerJobs`], the extractor for axum and actix-web, and with it the
//!   server-sent events helpers, for any engine.
//!
//! What an engine keeps to itself, in its own storage calls, is what must
//! be atomic there: per-job expiry, revisions for `update`, the owner's
//! index of jobs and its listing, and the change messages `watch` reads.
//! The conformance suite (`tests/it/store_conformance.rs`) holds every
//! engine to the same answers.
//!
//! It uses the model, backend and handle layers.

#[cfg(any(
    feature = "postgres",
    feature = "postgres-sqlx-09",
    feature = "sqlite",
    feature = "sqlite-sqlx-09"
))]
pub(crate) mod deadline;
#[cfg(feature = "memory-store")]
mod memory;
mod owner;
mod reference;
#[cfg(any(
    feature = "postgres",
    feature = "postgres-sqlx-09",
    feature = "sqlite",
    feature = "sqlite-sqlx-09"
))]
pub(crate) mod rows;
#[cfg(any(
    feature = "redis",
    feature = "postgres",
    feature = "postgres-sqlx-09",
    feature = "sqlite",
    feature = "sqlite-sqlx-09"
))]
pub(crate) mod update;
#[cfg(any(
    feature = "redis",
    feature = "postgres",
    feature = "postgres-sqlx-09",
    feature = "sqlite",
    feature = "sqlite-sqlx-09"
))]
pub(crate) mod watch;

use std::ops::Deref;

#[cfg(feature = "memory-store")]
pub use memory::{MemoryJobStore, MemoryJobs, MemoryOwnerJobs};
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) use owner::owner_of;
pub use owner::{OWNER_KEY, OwnerId, claimed_owner_token, owner_token, owner_token_sync};
pub(crate) use owner::{hex_digest, is_token, new_owner_token};
pub(crate) use reference::REFERENCES_OWNER;
#[cfg(any(feature = "postgres", feature = "postgres-sqlx-09"))]
pub(crate) use reference::make as make_reference;
pub use reference::{JobRef, StoreOwner, WorkerJob};

use crate::error::Result;
use crate::{AsyncJobSession, JobMetadata};

#[cfg(any(feature = "redis", feature = "postgres", feature = "postgres-sqlx-09"))]
/// The `scheme://host:port` of a store's URL (`default_scheme` if it
/// has none), without its credentials, path or query: what errors name.
pub(crate) fn server_address(url: &str, default_scheme: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or((default_scheme, url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}")
}

#[cfg(any(
    feature = "redis",
    feature = "postgres",
    feature = "postgres-sqlx-09",
    feature = "sqlite",
    feature = "sqlite-sqlx-09"
))]
/// A failed read of a watched job, as each of its watchers is told of it.
#[derive(Debug)]
pub(crate) struct ReadFailed(pub(crate) std::sync::Arc<crate::Error>);

#[cfg(any(
    feature = "redis",
    feature = "postgres",
    feature = "postgres-sqlx-09",
    feature = "sqlite",
    feature = "sqlite-sqlx-09"
))]
impl std::fmt::Display for ReadFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(any(
    feature = "redis",
    feature = "postgres",
    feature = "postgres-sqlx-09",
    feature = "sqlite",
    feature = "sqlite-sqlx-09"
))]
impl std::error::Error for ReadFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

/// A server-side job store engine: jobs kept outside the session, per
/// owner, the session keeping only an owner token.
///
/// ```
/// use jobsess::store::JobStore;
/// fn owners<E: JobStore>(store: &E) -> jobsess::Result<E::Owner> {
///     store.owner("0123456789abcdef0123456789abcdef")
/// }
/// # let _ = owners::<jobsess::redis::RedisJobStore>;
/// ```
pub trait JobStore: Clone + Send + Sync + 'static {
    /// The jobs of one owner: a backend whose every operation is atomic in
    /// the store, and that can be watched.
    type Owner: StoreOwner<Store = Self>;

    /// The store's type, as errors about a missing store name it.
    const NAME: &'static str;

    /// The jobs of the owner whose token is `token`.
    ///
    /// # Errors
    /// [`Error::InvalidOwner`](crate::Error::InvalidOwner) for a token that
    /// is not one (16 to 128 letters, digits, `-` or `_`).
    fn owner(&self, token: &str) -> Result<Self::Owner> {
        if !is_token(token) {
            return Err(crate::error::Error::InvalidOwner);
        }
        Ok(self.__owner(token))
    }

    /// The jobs of the owner `token`, which is not checked: the engine's
    /// one storage call behind [`owner`](Self::owner).
    #[doc(hidden)]
    fn __owner(&self, token: &str) -> Self::Owner;

    /// The owner token claimed for the session that `claim` identifies (its
    /// id, or a digest of its cookie): the first of concurrent requests of
    /// a session with no token yet sets `fresh`, and every other one gets
    /// the same token back.
    ///
    /// # Errors
    /// [`Error::Backend`](crate::Error::Backend) if the store fails.
    fn claim(&self, claim: &str, fresh: &str) -> impl Future<Output = Result<String>> + Send;

    /// The jobs of the reserved owner whose "jobs" are the records of job
    /// references: named by a text no owner token can be.
    #[doc(hidden)]
    fn __references(&self) -> Self::Owner {
        self.__owner(REFERENCES_OWNER)
    }

    /// Opens a job reference that a route made
    /// ([`AsyncJobSession::reference`]) and a queue carried: a handle on
    /// that job and no other, for its worker, in any process that reaches
    /// the same store. One read of the store, and one write that renews
    /// the reference's expiry.
    ///
    /// ```no_run
    /// use jobsess::store::{JobRef, JobStore};
    /// use jobsess::{JobMetadata, redis::RedisJobStore};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// struct ExportJob { file: String, progress: u8 }
    ///
    /// async fn worker(payload: &str) -> Result<(), Box<dyn std::error::Error>> {
    ///     let store = RedisJobStore::connect("redis://127.0.0.1:6379").await?;
    ///     let reference: JobRef = serde_json::from_str(payload)?;
    ///     let job = store.open::<ExportJob>(&reference).await?;
    ///     job.store_field(ExportJob::PROGRESS, &100).await?;
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidReference`](crate::Error::InvalidReference) for a
    /// reference that is malformed, altered, expired or of another store;
    /// [`Error::Backend`](crate::Error::Backend) if the store fails.
    fn open<M: JobMetadata>(
        &self,
        reference: &JobRef,
    ) -> impl Future<Output = Result<WorkerJob<M, Self::Owner>>> + Send {
        reference::open::<M, Self>(self, reference)
    }
}

/// The [`StoreOwner`] impl of an engine's type of one owner's jobs: its
/// `store` field, and its token in the field named `$token`.
macro_rules! store_owner {
    ($owner:ty, $store:ty, $token:ident) => {
        impl $crate::store::StoreOwner for $owner {
            type Store = $store;

            fn store(&self) -> &$store {
                &self.store
            }

            fn __token(&self) -> &str {
                &self.$token
            }
        }
    };
}
pub(crate) use store_owner;

/// The jobs of metadata type `M` of the request's user, in the store `E`:
/// an extractor for axum (feature `axum`) and for actix-web (feature
/// `actix`). `jobsess::redis::RedisJobs<M>` is this for the Redis store.
///
/// The user's session keeps only the owner token, so a cookie session
/// stays small however many jobs there are. The store comes from the app:
/// `.layer(axum::Extension(store))` in axum, `.app_data(store)` in
/// actix-web; without it the extractor answers 500 and logs why. The owner
/// is the request's [`OwnerId`] if an auth layer put one in its
/// extensions; else the token in the session. Derefs to
/// [`AsyncJobSession<M, E::Owner>`](AsyncJobSession).
///
/// ```
/// use jobsess::{JobMetadata, redis::RedisJobs};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String, progress: u8 }
///
/// async fn progress(jobs: RedisJobs<ExportJob>) -> Result<String, jobsess::Error> {
///     Ok(format!("{:?}", jobs.load_field("job-1", ExportJob::PROGRESS).await?))
/// }
/// # let _ = progress;
/// ```
pub struct ServerJobs<M, E: JobStore>(pub AsyncJobSession<M, E::Owner>);

impl<M, E: JobStore> Deref for ServerJobs<M, E> {
    type Target = AsyncJobSession<M, E::Owner>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
