//! axum integration (feature `axum`): the [`Jobs`] extractor and
//! `IntoResponse` for [`Error`].
//!
//! ```no_run
//! use axum::{Router, extract::Path, routing::get};
//! use jobsess::{JobMetadata, axum::Jobs};
//! use serde::{Deserialize, Serialize};
//! use tower_sessions::{MemoryStore, SessionManagerLayer};
//!
//! #[derive(Serialize, Deserialize, JobMetadata)]
//! struct ExportJob { file: String, progress: u8 }
//!
//! async fn progress(jobs: Jobs<ExportJob>, Path(id): Path<String>) -> Result<String, jobsess::Error> {
//!     match jobs.load_field(&id, ExportJob::PROGRESS).await? {
//!         Some(p) => Ok(format!("{p}%")),
//!         None => Err(jobsess::Error::JobNotFound { key: jobs.key(&id)? }),
//!     }
//! }
//!
//! # async fn run() {
//! let app = Router::new()
//!     .route("/jobs/{id}/progress", get(progress))
//!     .layer(SessionManagerLayer::new(MemoryStore::default()));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```

use std::ops::Deref;

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use tower_sessions::Session;

use crate::async_session::AsyncJobSession;
use crate::error::Error;
use crate::metadata::JobMetadata;

/// The jobs of metadata type `M` in the request's tower-sessions session.
///
/// Derefs to [`AsyncJobSession<M, Session>`], so handlers call
/// `jobs.load(id).await?` directly. Needs a `tower_sessions::SessionManagerLayer`
/// on the route; without it the extractor answers 500 and logs why.
///
/// ```
/// use jobsess::{JobMetadata, axum::Jobs};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String }
///
/// async fn list(jobs: Jobs<ExportJob>) -> Result<String, jobsess::Error> {
///     Ok(jobs.ids().await?.join(", "))
/// }
/// let _router: axum::Router = axum::Router::new().route("/jobs", axum::routing::get(list));
/// ```
pub struct Jobs<M>(pub AsyncJobSession<M, Session>);

impl<M> Deref for Jobs<M> {
    type Target = AsyncJobSession<M, Session>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<M, S> FromRequestParts<S> for Jobs<M>
where
    M: JobMetadata,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Session>() {
            Some(session) => Ok(Jobs(AsyncJobSession::new(session.clone()))),
            None => Err(misconfigured(
                "no tower-sessions session on this request; add a `SessionManagerLayer` to the router",
            )),
        }
    }
}

/// A 500 for a router that lacks a layer, with the reason in the log only.
fn misconfigured(reason: &str) -> Response {
    tracing::error!("jobsess: {reason}");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
}

/// The status an error answers with: 400 for a bad id or prefix, 404 for a
/// missing job, 413 for a session over budget, 500 for the rest.
///
/// ```
/// let err = jobsess::Error::JobNotFound { key: "job_a".into() };
/// assert_eq!(jobsess::axum::status_of(&err), http::StatusCode::NOT_FOUND);
/// ```
#[must_use]
pub fn status_of(err: &Error) -> StatusCode {
    StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Client errors answer with their message; server errors (corrupt data, a
/// failing store) answer with a generic text and are logged in full, so no
/// internals reach the client.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = status_of(&self);
        if status.is_server_error() {
            tracing::error!(error = %self, "jobsess: request failed");
            (status, "internal server error").into_response()
        } else {
            (status, self.to_string()).into_response()
        }
    }
}

#[cfg(feature = "redis")]
pub use redis_extract::RedisJobs;

#[cfg(feature = "redis")]
mod redis_extract {
    use std::ops::Deref;

    use axum_core::extract::FromRequestParts;
    use axum_core::response::{IntoResponse, Response};
    use http::request::Parts;
    use tower_sessions::Session;

    use super::misconfigured;
    use crate::async_session::AsyncJobSession;
    use crate::metadata::JobMetadata;
    use crate::redis::{RedisJobStore, RedisSession, owner_token};

    /// The jobs of metadata type `M` of the request's user, in the
    /// [`RedisJobStore`] (features `axum` and `redis`).
    ///
    /// Needs a tower-sessions `SessionManagerLayer` (the session keeps the
    /// user's owner token) and the store as an extension,
    /// `.layer(axum::Extension(store))`; without either the extractor answers
    /// 500 and logs why. Derefs to [`AsyncJobSession<M, RedisSession>`].
    ///
    /// ```
    /// use jobsess::{JobMetadata, axum::RedisJobs};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// struct ExportJob { file: String, progress: u8 }
    ///
    /// async fn progress(jobs: RedisJobs<ExportJob>) -> Result<String, jobsess::Error> {
    ///     Ok(format!("{:?}", jobs.load_field("job-1", ExportJob::PROGRESS).await?))
    /// }
    /// let _router: axum::Router = axum::Router::new().route("/", axum::routing::get(progress));
    /// ```
    pub struct RedisJobs<M>(pub AsyncJobSession<M, RedisSession>);

    impl<M> Deref for RedisJobs<M> {
        type Target = AsyncJobSession<M, RedisSession>;

        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }

    impl<M, S> FromRequestParts<S> for RedisJobs<M>
    where
        M: JobMetadata,
        S: Send + Sync,
    {
        type Rejection = Response;

        async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
            let Some(session) = parts.extensions.get::<Session>().cloned() else {
                return Err(misconfigured(
                    "no tower-sessions session on this request; add a `SessionManagerLayer`",
                ));
            };
            let Some(store) = parts.extensions.get::<RedisJobStore>().cloned() else {
                return Err(misconfigured(
                    "no RedisJobStore on this request; add `.layer(axum::Extension(store))`",
                ));
            };
            let token = owner_token(&session)
                .await
                .map_err(IntoResponse::into_response)?;
            let owner = store.owner(&token).map_err(IntoResponse::into_response)?;
            Ok(RedisJobs(AsyncJobSession::new(owner)))
        }
    }
}
