//! actix-web integration: `actix_session::Session` as a
//! [`SessionBackend`] (feature `actix-session`), and
//! the [`Jobs`] extractor with `ResponseError` for [`Error`](crate::Error) (feature `actix`).
//!
//! actix-session can list its keys, so `ids()` and `clear()` see every
//! `{prefix}_` key, as the notebook's scan did; no index is kept.
//!
//! With `CookieSessionStore` the whole session rides in one cookie, which
//! browsers drop past about 4 KB. Give the handles a budget with
//! [`JobsConfig`] (or [`JobSession::with_budget`](crate::JobSession::with_budget)),
//! and a write that would outgrow the cookie fails before anything changes.

use std::borrow::Cow;
use std::collections::HashMap;

use actix_session::Session;
use serde_json::Value;

use crate::backend::SessionBackend;
use crate::error::BoxError;

/// A session budget, in bytes of session JSON, that keeps a private or
/// signed `CookieSessionStore` cookie under browsers' 4096-byte limit.
///
/// The cookie holds the session's JSON encrypted (or signed) and base64
/// encoded, about 4/3 of the JSON plus 40 bytes, with the cookie's name and
/// attributes beside it; 2900 bytes of JSON leaves room for all of that.
///
/// ```
/// assert!(jobsess::actix::COOKIE_BUDGET * 4 / 3 + 40 < 4096);
/// ```
pub const COOKIE_BUDGET: usize = 2900;

impl SessionBackend for Session {
    const LISTS_KEYS: bool = true;

    fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>, BoxError> {
        match self.entries().get(key) {
            Some(json) => Ok(Some(Cow::Owned(serde_json::from_str(json)?))),
            None => Ok(None),
        }
    }

    fn insert(&mut self, key: &str, value: Value) -> Result<bool, BoxError> {
        let replaced = self.contains_key(key);
        Session::insert(self, key, value)?;
        Ok(replaced)
    }

    fn remove(&mut self, key: &str) -> Result<bool, BoxError> {
        Ok(Session::remove(self, key).is_some())
    }

    fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>, BoxError> {
        Ok(self
            .entries()
            .keys()
            .filter(|k| k.starts_with(start))
            .cloned()
            .collect())
    }

    /// The JSON actix-session's stores write: an object of JSON strings.
    fn size_with(&self, key: &str, value: &Value) -> Result<Option<usize>, BoxError> {
        let mut state: HashMap<String, String> = self.entries().clone();
        state.insert(key.to_owned(), serde_json::to_string(value)?);
        Ok(Some(serde_json::to_vec(&state)?.len()))
    }
}

#[cfg(feature = "actix")]
pub use extract::{Jobs, JobsConfig};

#[cfg(all(feature = "actix", feature = "redis"))]
pub use redis_extract::RedisJobs;

#[cfg(all(feature = "actix", feature = "redis"))]
mod redis_extract {
    use std::future::{Ready, ready};
    use std::ops::Deref;

    use actix_session::SessionExt;
    use actix_web::dev::Payload;
    use actix_web::{FromRequest, HttpRequest};

    use crate::async_session::AsyncJobSession;
    use crate::metadata::JobMetadata;
    use crate::redis::{RedisJobStore, RedisSession, owner_token_sync};

    /// The jobs of metadata type `M` of the request's user, in the
    /// [`RedisJobStore`] (features `actix` and `redis`).
    ///
    /// The actix-session session keeps only the user's owner token, so a
    /// cookie session stays small however many jobs there are. Give the store
    /// as app data: `App::new().app_data(store.clone())`; without it the
    /// extractor answers 500 and logs why. Derefs to
    /// [`AsyncJobSession<M, RedisSession>`].
    ///
    /// ```
    /// use actix_web::HttpResponse;
    /// use jobsess::{JobMetadata, actix::RedisJobs};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// struct ExportJob { file: String, progress: u8 }
    ///
    /// async fn ids(jobs: RedisJobs<ExportJob>) -> Result<HttpResponse, jobsess::Error> {
    ///     Ok(HttpResponse::Ok().json(jobs.ids().await?))
    /// }
    /// let _app = actix_web::App::new().route("/jobs", actix_web::web::get().to(ids));
    /// ```
    pub struct RedisJobs<M>(pub AsyncJobSession<M, RedisSession>);

    impl<M> Deref for RedisJobs<M> {
        type Target = AsyncJobSession<M, RedisSession>;

        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }

    impl<M: JobMetadata> FromRequest for RedisJobs<M> {
        type Error = actix_web::Error;
        type Future = Ready<Result<Self, Self::Error>>;

        fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
            let Some(store) = req.app_data::<RedisJobStore>() else {
                tracing::error!(
                    "jobsess: no RedisJobStore in the app data; add `.app_data(store)` to the App"
                );
                return ready(Err(actix_web::error::ErrorInternalServerError(
                    "internal server error",
                )));
            };
            let result = owner_token_sync(&mut req.get_session())
                .and_then(|token| store.owner(&token))
                .map(|owner| RedisJobs(AsyncJobSession::new(owner)));
            ready(result.map_err(actix_web::Error::from))
        }
    }
}

#[cfg(feature = "actix")]
mod extract {
    use std::future::{Ready, ready};
    use std::ops::{Deref, DerefMut};

    use actix_session::{Session, SessionExt};
    use actix_web::dev::Payload;
    use actix_web::http::StatusCode;
    use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};

    use crate::error::Error;
    use crate::metadata::JobMetadata;
    use crate::session::JobSession;

    /// Settings for the [`Jobs`] extractor, given as app data:
    /// `App::new().app_data(JobsConfig { budget: Some(COOKIE_BUDGET) })`.
    ///
    /// ```
    /// use jobsess::actix::{COOKIE_BUDGET, JobsConfig};
    /// let config = JobsConfig { budget: Some(COOKIE_BUDGET) };
    /// assert_eq!(JobsConfig::default().budget, None);
    /// # let _ = config;
    /// ```
    #[derive(Debug, Clone, Copy, Default)]
    pub struct JobsConfig {
        /// The session budget each handle gets (see
        /// [`JobSession::with_budget`](crate::JobSession::with_budget)).
        pub budget: Option<usize>,
    }

    /// The jobs of metadata type `M` in the request's actix-session session.
    ///
    /// Derefs to [`JobSession<M, Session>`](crate::JobSession); declare it
    /// `mut jobs: Jobs<M>` to store.
    ///
    /// ```no_run
    /// use actix_web::{HttpResponse, web};
    /// use jobsess::{JobMetadata, actix::Jobs};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// struct ExportJob { file: String, progress: u8 }
    ///
    /// async fn progress(jobs: Jobs<ExportJob>, id: web::Path<String>) -> Result<HttpResponse, jobsess::Error> {
    ///     let progress = jobs.load_field(&id, ExportJob::PROGRESS)?
    ///         .ok_or_else(|| jobsess::Error::JobNotFound { key: id.to_string() })?;
    ///     Ok(HttpResponse::Ok().body(format!("{progress}%")))
    /// }
    /// ```
    pub struct Jobs<M>(pub JobSession<M, Session>);

    impl<M> Deref for Jobs<M> {
        type Target = JobSession<M, Session>;

        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }

    impl<M> DerefMut for Jobs<M> {
        fn deref_mut(&mut self) -> &mut Self::Target {
            &mut self.0
        }
    }

    impl<M: JobMetadata> FromRequest for Jobs<M> {
        type Error = actix_web::Error;
        type Future = Ready<Result<Self, Self::Error>>;

        fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
            let mut jobs = JobSession::new(req.get_session());
            if let Some(budget) = req.app_data::<JobsConfig>().and_then(|c| c.budget) {
                jobs = jobs.with_budget(budget);
            }
            ready(Ok(Jobs(jobs)))
        }
    }

    /// Client errors answer with their message; server errors (corrupt data,
    /// a failing store) answer with a generic text and are logged in full.
    impl ResponseError for Error {
        fn status_code(&self) -> StatusCode {
            StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }

        fn error_response(&self) -> HttpResponse {
            let status = self.status_code();
            if status.is_server_error() {
                tracing::error!(error = %self, "jobsess: request failed");
                HttpResponse::build(status).body("internal server error")
            } else {
                HttpResponse::build(status).body(self.to_string())
            }
        }
    }
}
