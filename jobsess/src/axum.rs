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

use crate::AsyncJobSession;
use crate::error::Error;
use crate::model::metadata::JobMetadata;
use crate::tower_sessions::AnySession;
#[cfg(feature = "watch")]
use crate::watch::SseEvent;
use crate::web;

/// The jobs of metadata type `M` in the request's tower-sessions session,
/// 0.15 or 0.14, whichever the app's `SessionManagerLayer` is from (see the
/// crate's feature flags).
///
/// Derefs to [`AsyncJobSession<M, AnySession>`], so handlers call
/// `jobs.load(id).await?` directly. Needs a `SessionManagerLayer` on the
/// route; without it the extractor answers 500 and logs which tower-sessions
/// version it looked for.
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
pub struct Jobs<M>(pub AsyncJobSession<M, AnySession>);

impl<M> Deref for Jobs<M> {
    type Target = AsyncJobSession<M, AnySession>;

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
        let session = session_of(parts)?;
        Ok(Jobs(AsyncJobSession::new(session)))
    }
}

/// The header of a browser that reconnects to an event stream.
#[cfg(feature = "watch")]
impl<S: Send + Sync> FromRequestParts<S> for crate::watch::LastEventId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(Self::HEADER);
        Ok(value
            .and_then(|value| value.to_str().ok())
            .map_or_else(Self::default, Self::parse))
    }
}

/// The request's tower-sessions session, or the 500 of a router without one.
#[allow(clippy::result_large_err)] // the rejection is axum's `Response`
pub(crate) fn session_of(parts: &Parts) -> Result<AnySession, Response> {
    AnySession::from_extensions(&parts.extensions).ok_or_else(|| misconfigured(AnySession::MISSING))
}

/// A 500 for a router that lacks a layer, with the reason in the log only.
pub(crate) fn misconfigured(reason: &str) -> Response {
    web::misconfigured(reason);
    (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
}

/// The status an error answers with: [`Error::http_status`] (400 for a bad
/// id, prefix or reference, 404 for a missing job, 409 for a conflict or an
/// overflow, 413 for a session over budget, 422 for a value the store can't
/// keep, 503 for a failing store, 500 for the rest).
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
        let (status, body) = web::response_parts(&self);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, body).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static(web::RETRY_AFTER),
            );
        }
        response
    }
}

#[cfg(any(
    feature = "redis",
    feature = "postgres",
    feature = "postgres-sqlx-09",
    feature = "sqlite",
    feature = "sqlite-sqlx-09",
    feature = "memory-store"
))]
mod redis_extract {
    use axum_core::extract::FromRequestParts;
    use axum_core::response::{IntoResponse, Response};
    use http::request::Parts;

    use super::{misconfigured, session_of};
    use crate::model::metadata::JobMetadata;
    use crate::store::{JobStore, OWNER_KEY, OwnerId, ServerJobs, owner_of};
    use crate::{AsyncJobSession, AsyncSessionBackend};

    /// Needs a tower-sessions `SessionManagerLayer` (the session keeps the
    /// user's owner token) and the store as an extension,
    /// `.layer(axum::Extension(store))`. The owner is the request's
    /// [`OwnerId`] if an auth layer put one in its extensions; else the
    /// token in the session, which concurrent first requests of the session
    /// claim in the store by the session's id, so they agree on one.
    impl<M, E, S> FromRequestParts<S> for ServerJobs<M, E>
    where
        M: JobMetadata,
        E: JobStore,
        S: Send + Sync,
    {
        type Rejection = Response;

        async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
            let Some(store) = parts.extensions.get::<E>().cloned() else {
                return Err(misconfigured(&format!(
                    "no {} on this request; add `.layer(axum::Extension(store))`",
                    E::NAME
                )));
            };
            let token = match parts.extensions.get::<OwnerId>() {
                Some(user) => user.token(),
                None => {
                    let session = session_of(parts)?;
                    let resolve = async {
                        let stored = session.get(OWNER_KEY).await?;
                        let (token, new) =
                            owner_of(&store, stored, session.id().as_deref()).await?;
                        if new {
                            session
                                .insert(OWNER_KEY, serde_json::Value::String(token.clone()))
                                .await?;
                        }
                        Ok::<_, crate::Error>(token)
                    };
                    resolve.await.map_err(IntoResponse::into_response)?
                }
            };
            let owner = store.owner(&token).map_err(IntoResponse::into_response)?;
            Ok(ServerJobs(AsyncJobSession::new(owner)))
        }
    }
}

/// A server-sent events response from a watch stream
/// ([`AsyncJobSession::watch`], [`watch_field`](AsyncJobSession::watch_field)):
/// each item as a `message` event of JSON (a [`Change`](crate::watch::Change)
/// is `{"change":"updated","job":{...}}` or `{"change":"deleted"}`), an error
/// as an `error` event with its public text, and a keep-alive comment
/// every 15 s of silence. The response ends with the stream: after a job
/// that ended (its status says finished, failed or cancelled), the event
/// of its last state is followed by one named
/// [`done`](crate::watch::DONE_EVENT) with the same data, then the
/// response ends; after a deletion or expiry, it ends with that change. A
/// client that connects after the job ended gets its final state, `done`,
/// and the end at once. A client that disconnects drops the stream, and
/// with it the subscription.
///
/// Each event of a state carries the state's revision as its `id:`, and
/// the first one a `retry:` of 2 s. A browser that reconnects (an
/// `EventSource` or htmx does so by itself) sends the last id back as
/// `Last-Event-ID`: take it with the [`LastEventId`](crate::watch::LastEventId)
/// extractor and [`Watch::since`](crate::watch::Watch::since), and the
/// stream sends no state the browser has.
///
/// ```no_run
/// use axum::extract::Path;
/// use axum::response::IntoResponse;
/// use jobsess::watch::LastEventId;
/// use jobsess::{JobMetadata, redis::RedisJobs};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String, progress: u8 }
///
/// async fn events(
///     jobs: RedisJobs<ExportJob>,
///     Path(id): Path<String>,
///     last: LastEventId,
/// ) -> Result<impl IntoResponse, jobsess::Error> {
///     Ok(jobsess::axum::sse(jobs.watch(&id).await?.since(last)))
/// }
/// ```
#[cfg(feature = "watch")]
#[cfg_attr(docsrs, doc(cfg(feature = "watch")))]
pub fn sse<T>(
    events: crate::watch::Watch<T>,
) -> axum::response::Sse<
    impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>
    + Send
    + use<T>,
>
where
    T: serde::Serialize + Send + 'static,
{
    sse_with(events, SseEvent::json::<T>)
}

/// A server-sent events response from a watch stream, each item turned
/// into an event by `render`: any name, any text as data. This is how an
/// htmx page follows a job with no JavaScript of its own: `render` returns
/// an HTML fragment named after the `sse-swap` target. Errors, keep-alive
/// and the end of the stream are as for [`sse`].
///
/// ```no_run
/// use axum::extract::Path;
/// use axum::response::IntoResponse;
/// use jobsess::watch::SseEvent;
/// use jobsess::{JobMetadata, redis::RedisJobs};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String, progress: u8 }
///
/// // <div hx-ext="sse" sse-connect="/jobs/a/events" sse-swap="progress">
/// async fn events(jobs: RedisJobs<ExportJob>, Path(id): Path<String>) -> Result<impl IntoResponse, jobsess::Error> {
///     let progress = jobs.watch_field(&id, ExportJob::PROGRESS).await?;
///     Ok(jobsess::axum::sse_with(progress, |p| {
///         SseEvent::named("progress", format!(r#"<progress value="{p}" max="100"></progress>"#))
///     }))
/// }
/// ```
#[cfg(feature = "watch")]
#[cfg_attr(docsrs, doc(cfg(feature = "watch")))]
pub fn sse_with<T, R>(
    events: crate::watch::Watch<T>,
    render: R,
) -> axum::response::Sse<
    impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>
    + Send
    + use<T, R>,
>
where
    T: Send + 'static,
    R: FnMut(T) -> SseEvent + Send + 'static,
{
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures_util::StreamExt;

    let mut first = true;
    let events = web::sse_events(events, render).map(move |(rendered, id)| {
        let mut event = Event::default().data(rendered.data());
        if let Some(name) = rendered.name() {
            event = event.event(name);
        }
        if let Some(id) = id {
            event = event.id(id.to_string());
        }
        if std::mem::take(&mut first) {
            event = event.retry(web::RECONNECT_AFTER);
        }
        Ok(event)
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(web::KEEP_ALIVE))
}
