//! actix-web integration: `actix_session::Session` as a
//! [`SessionBackend`] (feature `actix-session`), and
//! the [`Jobs`] extractor with `ResponseError` for [`Error`] (feature `actix`).
//!
//! actix-session can list its keys, so `ids()` and `clear()` see every
//! `{prefix}_` key, as the notebook's scan did; no index is kept.
//!
//! With `CookieSessionStore` the whole session rides in one cookie, which
//! browsers drop past about 4 KB. Give the handles a budget with
//! [`JobsConfig`] (or [`JobSession::with_budget`](crate::JobSession::with_budget)),
//! and a write that would outgrow the cookie fails before anything changes.

use std::borrow::Cow;

use actix_session::Session;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::backend::SessionBackend;
use crate::error::{Error, Op, Result};
use crate::model::codec;
use crate::model::field::{Field, FieldKeys};
use crate::model::finite::Checked;
use crate::model::metadata::JobMetadata;

mod cookie;

pub use cookie::{COOKIE_BUDGET, CookieSecurity, CookieSession};

/// actix-session keeps each value as JSON text: jobs are decoded from the
/// text and encoded to it, with no `serde_json::Value` between.
impl SessionBackend for Session {
    fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>> {
        match self.entries().get(key) {
            Some(json) => match serde_json::from_str(json) {
                Ok(value) => Ok(Some(Cow::Owned(value))),
                Err(err) => Err(Error::backend(Op::Read, key, err)),
            },
            None => Ok(None),
        }
    }

    fn get_decoded<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.entries().get(key) {
            Some(json) => codec::decode_job_str(key, json).map(Some),
            None => Ok(None),
        }
    }

    /// One pass: the value is written as JSON text through the check for
    /// values that would not read back as themselves.
    fn insert_encoded<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<bool> {
        let replaced = self.contains_key(key);
        if Session::insert(self, key, Checked(value)).is_err() {
            // again, only to name what failed and where
            codec::encode(key, value)?;
            return Err(Error::backend(
                Op::Write,
                key,
                "actix-session refused the value",
            ));
        }
        Ok(replaced)
    }

    /// Only the field's entries are parsed; the rest of the job's text is
    /// scanned, not decoded.
    fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Cow<'_, Value>>> {
        let entries = self.entries();
        let Some(json) = entries.get(key) else {
            return Ok(None);
        };
        let Some(found) = FieldFinder::find(json, keys) else {
            // not an object of fields: the handle names what it is
            return SessionBackend::get(self, key);
        };
        let mut job = serde_json::Map::new();
        for (field, raw) in found {
            let value = serde_json::from_str(raw.get())
                .map_err(|err| Error::backend(Op::Read, key, err))?;
            job.insert(field.to_owned(), value);
        }
        Ok(Some(Cow::Owned(Value::Object(job))))
    }

    /// Straight from the job's text: the rest of it is scanned, not
    /// decoded, and the field is parsed into its type with no
    /// `serde_json::Value` between, where its codec allows (no
    /// `deserialize_with`). A versioned type, or a job that is no object of
    /// fields, takes the fallback.
    fn get_field_decoded<M: JobMetadata, T>(
        &self,
        key: &str,
        field: &Field<M, T>,
    ) -> Result<Option<T>> {
        if M::schema().version.is_some() {
            return crate::backend::fallback::get_field_decoded(self, key, field);
        }
        let entries = self.entries();
        let Some(json) = entries.get(key) else {
            return Ok(None);
        };
        let Some(found) = FieldFinder::find(json, field.keys()) else {
            return crate::backend::fallback::get_field_decoded(self, key, field);
        };
        // the finder also keeps the version member, for `get_field`
        let entries = found
            .iter()
            .filter(|(name, _)| *name == field.name() || field.aliases().contains(name))
            .map(|(_, raw)| raw.get());
        codec::decode_field_text(key, field, entries).map(Some)
    }

    fn insert(&mut self, key: &str, value: Value) -> Result<bool> {
        let replaced = self.contains_key(key);
        Session::insert(self, key, value).map_err(|err| Error::backend(Op::Write, key, err))?;
        Ok(replaced)
    }

    fn remove(&mut self, key: &str) -> Result<bool> {
        Ok(Session::remove(self, key).is_some())
    }

    fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        Ok(self
            .entries()
            .keys()
            .filter(|k| k.starts_with(start))
            .cloned()
            .collect())
    }
}

/// Finds the raw JSON of a field's entries (its key and aliases) and of the
/// version member in a job's text, skipping the others without decoding them.
struct FieldFinder<'n, 'j> {
    keys: FieldKeys<'n>,
    found: Vec<(&'j str, &'j RawValue)>,
}

impl<'n, 'j> FieldFinder<'n, 'j> {
    /// The entries of the members of `keys` (the field, its aliases and the
    /// version member) in `json`, in the order they stand; `None` if `json`
    /// is no object.
    fn find(json: &'j str, keys: FieldKeys<'n>) -> Option<Vec<(&'j str, &'j RawValue)>> {
        let finder = FieldFinder {
            keys,
            found: Vec::new(),
        };
        let mut deserializer = serde_json::Deserializer::from_str(json);
        serde::de::DeserializeSeed::deserialize(finder, &mut deserializer).ok()
    }
}

impl<'de: 'j, 'j> serde::de::DeserializeSeed<'de> for FieldFinder<'_, 'j> {
    type Value = Vec<(&'j str, &'j RawValue)>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'j, 'j> serde::de::Visitor<'de> for FieldFinder<'_, 'j> {
    type Value = Vec<(&'j str, &'j RawValue)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object of job metadata")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        mut self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        while let Some(field) = map.next_key::<&'de str>()? {
            if self.keys.contains(field) {
                self.found.push((field, map.next_value::<&'de RawValue>()?));
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(self.found)
    }
}

#[cfg(feature = "actix")]
pub use extract::{Jobs, JobsConfig};

#[cfg(all(
    feature = "actix",
    any(
        feature = "redis",
        feature = "postgres",
        feature = "postgres-sqlx-09",
        feature = "sqlite",
        feature = "sqlite-sqlx-09",
        feature = "memory-store"
    )
))]
pub use server_extract::ServerJobsConfig;

#[cfg(all(
    feature = "actix",
    any(
        feature = "redis",
        feature = "postgres",
        feature = "postgres-sqlx-09",
        feature = "sqlite",
        feature = "sqlite-sqlx-09",
        feature = "memory-store"
    )
))]
mod server_extract {
    use std::future::Future;
    use std::pin::Pin;

    use actix_session::SessionExt;
    use actix_web::dev::Payload;
    use actix_web::{FromRequest, HttpMessage, HttpRequest};
    use serde_json::Value;

    use crate::AsyncJobSession;
    use crate::backend::SessionBackend;
    use crate::model::metadata::JobMetadata;
    use crate::store::{JobStore, OWNER_KEY, OwnerId, ServerJobs, owner_of};
    use crate::web;

    /// Settings of the [`ServerJobs`] extractor (`RedisJobs`,
    /// `PostgresJobs`) on actix-web, as app data.
    ///
    /// ```
    /// use jobsess::actix::ServerJobsConfig;
    /// assert_eq!(ServerJobsConfig::default().session_cookie, "id");
    /// ```
    #[derive(Debug, Clone)]
    pub struct ServerJobsConfig {
        /// The name of actix-session's cookie (`SessionMiddleware`'s
        /// `cookie_name`, `id` by default). Concurrent first requests of a
        /// session claim their owner token in the store by a digest of
        /// this cookie, so they agree on one owner.
        pub session_cookie: String,
    }

    impl Default for ServerJobsConfig {
        fn default() -> Self {
            ServerJobsConfig {
                session_cookie: "id".to_owned(),
            }
        }
    }

    /// Needs the store as app data: `App::new().app_data(store.clone())`.
    /// The owner is the request's [`OwnerId`] if an auth middleware put one
    /// in its extensions; else the token in the session.
    impl<M: JobMetadata, E: JobStore> FromRequest for ServerJobs<M, E> {
        type Error = actix_web::Error;
        type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

        fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
            let Some(store) = req.app_data::<E>().cloned() else {
                web::misconfigured(&format!(
                    "no {} in the app data; add `.app_data(store)` to the App",
                    E::NAME
                ));
                return Box::pin(async {
                    Err(actix_web::error::ErrorInternalServerError(
                        "internal server error",
                    ))
                });
            };
            let user = req.extensions().get::<OwnerId>().cloned();
            let cookie = req
                .app_data::<ServerJobsConfig>()
                .map_or_else(|| "id".to_owned(), |c| c.session_cookie.clone());
            let claim = req.cookie(&cookie).map(|c| c.value().to_owned());
            let mut session = req.get_session();
            Box::pin(async move {
                let resolve = async {
                    let token = match user {
                        Some(user) => user.token(),
                        None => {
                            let stored = SessionBackend::get(&session, OWNER_KEY)?
                                .map(std::borrow::Cow::into_owned);
                            let (token, new) = owner_of(&store, stored, claim.as_deref()).await?;
                            if new {
                                SessionBackend::insert(
                                    &mut session,
                                    OWNER_KEY,
                                    Value::String(token.clone()),
                                )?;
                            }
                            token
                        }
                    };
                    Ok::<_, crate::Error>(ServerJobs(AsyncJobSession::new(store.owner(&token)?)))
                };
                resolve.await.map_err(actix_web::Error::from)
            })
        }
    }
}

#[cfg(feature = "actix")]
mod extract {
    use std::future::{Ready, ready};
    use std::ops::{Deref, DerefMut};

    use actix_session::SessionExt;
    use actix_web::dev::Payload;
    use actix_web::http::StatusCode;
    use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};

    use super::{CookieSecurity, CookieSession};
    use crate::JobSession;
    use crate::backend::Budget;
    use crate::error::Error;
    use crate::model::metadata::JobMetadata;
    use crate::web;

    /// Settings for the [`Jobs`] extractor, given as app data:
    /// `App::new().app_data(JobsConfig::cookie(CookieSecurity::Private))`.
    ///
    /// ```
    /// use jobsess::actix::{COOKIE_BUDGET, CookieSecurity, JobsConfig};
    /// let config = JobsConfig::cookie(CookieSecurity::Signed);
    /// assert_eq!(config.budget, Some(COOKIE_BUDGET));
    /// assert_eq!(JobsConfig::default().budget, None);
    /// ```
    #[derive(Debug, Clone, Copy, Default)]
    pub struct JobsConfig {
        /// The size limit of the session, in bytes of cookie value; `None`
        /// for no limit (a server-side session store).
        pub budget: Option<usize>,
        /// How the cookie is protected, which decides its size.
        pub security: CookieSecurity,
    }

    impl JobsConfig {
        /// The settings for a `CookieSessionStore` protected as `security`
        /// says: a budget of [`COOKIE_BUDGET`](super::COOKIE_BUDGET).
        ///
        /// ```
        /// # use jobsess::actix::{CookieSecurity, JobsConfig};
        /// assert_eq!(JobsConfig::cookie(CookieSecurity::Private).security, CookieSecurity::Private);
        /// ```
        #[must_use]
        pub fn cookie(security: CookieSecurity) -> Self {
            JobsConfig {
                budget: Some(super::COOKIE_BUDGET),
                security,
            }
        }
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
    pub struct Jobs<M>(pub JobSession<M, Budget<CookieSession>>);

    impl<M> Deref for Jobs<M> {
        type Target = JobSession<M, Budget<CookieSession>>;

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
            let config = req.app_data::<JobsConfig>().copied().unwrap_or_default();
            let session = CookieSession::new(req.get_session(), config.security);
            let budget = config.budget.unwrap_or(usize::MAX);
            ready(Ok(Jobs(JobSession::new(Budget::new(session, budget)))))
        }
    }

    /// Client errors answer with their message; server errors (corrupt data,
    /// a failing store) answer with a generic text and are logged in full.
    impl ResponseError for Error {
        fn status_code(&self) -> StatusCode {
            StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }

        fn error_response(&self) -> HttpResponse {
            let (_, body) = web::response_parts(self);
            let mut response = HttpResponse::build(self.status_code());
            response.content_type("text/plain; charset=utf-8");
            if self.status_code() == StatusCode::SERVICE_UNAVAILABLE {
                response.insert_header(("Retry-After", web::RETRY_AFTER));
            }
            response.body(body)
        }
    }
}

/// A server-sent events response from a watch stream
/// ([`AsyncJobSession::watch`](crate::AsyncJobSession::watch),
/// [`watch_field`](crate::AsyncJobSession::watch_field)), as
/// `jobsess::axum::sse` makes it for axum: each item as a `message` event
/// of JSON, an error as an `error` event with its public text, a
/// keep-alive comment every 15 s of silence, and after the last state of
/// a job that ended, one event named [`done`](crate::watch::DONE_EVENT)
/// with the same data, then the end of the response. A client that
/// disconnects drops the stream, and with it the subscription. Events
/// carry the state's revision as `id:` (and the first a `retry:`): with
/// the [`LastEventId`](crate::watch::LastEventId) extractor and
/// [`Watch::since`](crate::watch::Watch::since), a browser that reconnects
/// gets no state it has.
///
/// ```no_run
/// use actix_web::{Responder, get, web::Path};
/// use jobsess::watch::LastEventId;
/// use jobsess::{JobMetadata, redis::RedisJobs};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String, progress: u8 }
///
/// #[get("/jobs/{id}/events")]
/// async fn events(jobs: RedisJobs<ExportJob>, id: Path<String>, last: LastEventId) -> Result<impl Responder, jobsess::Error> {
///     Ok(jobsess::actix::sse(jobs.watch(&id).await?.since(last)))
/// }
/// ```
#[cfg(all(feature = "actix", feature = "watch"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "actix", feature = "watch"))))]
pub fn sse<T>(
    events: crate::watch::Watch<T>,
) -> actix_web_lab::sse::Sse<
    impl futures_util::Stream<Item = Result<actix_web_lab::sse::Event, std::convert::Infallible>>
    + use<T>,
>
where
    T: serde::Serialize + 'static,
{
    sse_with(events, crate::watch::SseEvent::json::<T>)
}

/// The header of a browser that reconnects to an event stream.
#[cfg(all(feature = "actix", feature = "watch"))]
impl actix_web::FromRequest for crate::watch::LastEventId {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<std::result::Result<Self, Self::Error>>;

    fn from_request(
        req: &actix_web::HttpRequest,
        _payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        let value = req.headers().get(Self::HEADER);
        std::future::ready(Ok(value
            .and_then(|value| value.to_str().ok())
            .map_or_else(Self::default, Self::parse)))
    }
}

/// A server-sent events response from a watch stream, each item turned
/// into an event by `render` (any name, any text as data: an HTML fragment
/// for htmx's `sse-swap`), as `jobsess::axum::sse_with` makes it for axum.
/// Errors, keep-alive and the end of the stream are as for [`sse`].
///
/// ```no_run
/// use actix_web::{Responder, get, web::Path};
/// use jobsess::watch::SseEvent;
/// use jobsess::{JobMetadata, redis::RedisJobs};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String, progress: u8 }
///
/// #[get("/jobs/{id}/events")]
/// async fn events(jobs: RedisJobs<ExportJob>, id: Path<String>) -> Result<impl Responder, jobsess::Error> {
///     let progress = jobs.watch_field(&id, ExportJob::PROGRESS).await?;
///     Ok(jobsess::actix::sse_with(progress, |p| SseEvent::named("progress", format!("{p} %"))))
/// }
/// ```
#[cfg(all(feature = "actix", feature = "watch"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "actix", feature = "watch"))))]
pub fn sse_with<T, R>(
    events: crate::watch::Watch<T>,
    render: R,
) -> actix_web_lab::sse::Sse<
    impl futures_util::Stream<Item = Result<actix_web_lab::sse::Event, std::convert::Infallible>>
    + use<T, R>,
>
where
    T: 'static,
    R: FnMut(T) -> crate::watch::SseEvent + 'static,
{
    use actix_web_lab::sse::{Data, Event, Sse};
    use futures_util::StreamExt;

    let events = crate::web::sse_events(events, render).map(|(rendered, id)| {
        let mut data = Data::new(rendered.data().to_owned());
        if let Some(name) = rendered.name() {
            data = data.event(name.to_owned());
        }
        if let Some(id) = id {
            data = data.id(id.to_string());
        }
        Ok::<Event, std::convert::Infallible>(Event::from(data))
    });
    Sse::from_stream(events)
        .with_keep_alive(crate::web::KEEP_ALIVE)
        .with_retry_duration(crate::web::RECONNECT_AFTER)
}
