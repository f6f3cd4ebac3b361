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

use crate::backend::{self, FieldWrite, Measure, SessionBackend};
use crate::codec;
use crate::error::{Error, Op, Result};
use crate::field::{Field, FieldKeys};
use crate::finite::Checked;
use crate::metadata::JobMetadata;

/// A budget, in bytes of cookie value, that keeps a `CookieSessionStore`
/// cookie under browsers' 4096-byte limit for a cookie's name and value
/// together, with room for a name of up to 95 bytes. Use it with a
/// [`CookieSession`] (the [`Jobs`] extractor does, given
/// [`JobsConfig::cookie`]).
///
/// ```
/// assert!(jobsess::actix::COOKIE_BUDGET + "id=".len() < 4096);
/// ```
pub const COOKIE_BUDGET: usize = 4000;

/// How actix-session's `CookieSessionStore` protects its cookie
/// (`CookieContentSecurity`), which decides how large the cookie is for a
/// given session.
///
/// ```
/// use jobsess::actix::CookieSecurity;
/// let json = r#"{"job_a":"{\"file\":\"a.mp3\"}"}"#;
/// // a signed cookie percent-encodes the JSON; a private one base64-encodes it, encrypted
/// assert!(CookieSecurity::Signed.value_len(json) > json.len() + 44);
/// assert!(CookieSecurity::Private.value_len(json) >= (json.len() + 28) * 4 / 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CookieSecurity {
    /// Encrypted (the default of actix-session): the value is the base64 of
    /// a nonce, the encrypted JSON and a tag.
    #[default]
    Private,
    /// Signed: the value is a base64 HMAC before the JSON itself, and the
    /// JSON is percent-encoded in the `Set-Cookie` header (`{`, `"`, `:`...
    /// each take three bytes).
    Signed,
}

impl CookieSecurity {
    /// An upper bound of the length of the cookie value that holds the
    /// session JSON `json`, as it goes out in the `Set-Cookie` header.
    ///
    /// The encoding is exact; what can't be known before the cookie is made
    /// is how many of the random base64 characters are `/` (percent-encoded
    /// as three bytes), for which it allows twice the expected number, plus
    /// the padding.
    ///
    /// ```
    /// # use jobsess::actix::CookieSecurity;
    /// assert_eq!(CookieSecurity::Signed.value_len("ab"), 44 + 44 / 16 + 8 + 2);
    /// ```
    #[must_use]
    pub fn value_len(self, json: &str) -> usize {
        fn base64_sent(bytes: usize) -> usize {
            let chars = bytes.div_ceil(3) * 4;
            chars + chars / 16 + 8
        }
        match self {
            CookieSecurity::Private => base64_sent(12 + json.len() + 16),
            CookieSecurity::Signed => {
                let digest = 44 + 44 / 16 + 8;
                digest + json.bytes().map(percent_encoded_len).sum::<usize>()
            }
        }
    }
}

/// The bytes `byte` takes in a percent-encoded cookie value (the `cookie`
/// crate's encoding set: controls, non-ASCII, and ` "#%(),/:;<=>?@[\]^`{|}`).
fn percent_encoded_len(byte: u8) -> usize {
    let escaped =
        byte.is_ascii_control() || !byte.is_ascii() || b" \"#%(),/:;<=>?@[\\]^`{|}".contains(&byte);
    if escaped { 3 } else { 1 }
}

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
            return backend::read_field(self, key, field);
        }
        let entries = self.entries();
        let Some(json) = entries.get(key) else {
            return Ok(None);
        };
        let Some(found) = FieldFinder::find(json, field.keys()) else {
            return backend::read_field(self, key, field);
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

/// An actix-session `Session` whose store keeps it in a cookie: a
/// [`Measure`] of the cookie value it makes, for a
/// [`Budget`](crate::backend::Budget) of [`COOKIE_BUDGET`].
///
/// ```
/// use actix_session::SessionExt;
/// use jobsess::actix::{COOKIE_BUDGET, CookieSecurity, CookieSession};
/// use jobsess::backend::Budget;
/// use jobsess::{JobSession, UntypedJob};
///
/// let req = actix_web::test::TestRequest::default().to_http_request();
/// let session = CookieSession::new(req.get_session(), CookieSecurity::Signed);
/// let jobs = JobSession::<UntypedJob, _>::new(Budget::new(session, COOKIE_BUDGET));
/// # let _ = jobs;
/// ```
#[derive(Clone)]
pub struct CookieSession {
    session: Session,
    security: CookieSecurity,
}

impl CookieSession {
    /// `session`, kept in a cookie protected as `security` says.
    ///
    /// ```
    /// # use actix_session::SessionExt;
    /// # use jobsess::actix::{CookieSecurity, CookieSession};
    /// # let req = actix_web::test::TestRequest::default().to_http_request();
    /// let session = CookieSession::new(req.get_session(), CookieSecurity::Private);
    /// # let _ = session;
    /// ```
    #[must_use]
    pub fn new(session: Session, security: CookieSecurity) -> Self {
        CookieSession { session, security }
    }
}

impl SessionBackend for CookieSession {
    fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>> {
        SessionBackend::get(&self.session, key)
    }

    fn get_decoded<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        self.session.get_decoded(key)
    }

    fn insert_encoded<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<bool> {
        self.session.insert_encoded(key, value)
    }

    fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Cow<'_, Value>>> {
        self.session.get_field(key, keys)
    }

    fn get_field_decoded<M: JobMetadata, T>(
        &self,
        key: &str,
        field: &Field<M, T>,
    ) -> Result<Option<T>> {
        self.session.get_field_decoded(key, field)
    }

    fn insert(&mut self, key: &str, value: Value) -> Result<bool> {
        SessionBackend::insert(&mut self.session, key, value)
    }

    fn remove(&mut self, key: &str) -> Result<bool> {
        SessionBackend::remove(&mut self.session, key)
    }

    fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        self.session.keys_with_prefix(start)
    }

    fn set_field(&mut self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        self.session.set_field(key, write)
    }
}

/// The cookie value the store would make of the session's state: the JSON
/// object of the entries' JSON texts, protected as configured.
impl Measure for CookieSession {
    fn size_with(&self, key: &str, value: Option<&Value>) -> Result<usize> {
        let mut state = self.session.entries().clone();
        match value {
            Some(value) => state.insert(key.to_owned(), value.to_string()),
            None => state.remove(key),
        };
        let json =
            serde_json::to_string(&state).map_err(|err| Error::backend(Op::Measure, key, err))?;
        Ok(self.security.value_len(&json))
    }
}

#[cfg(feature = "actix")]
pub use extract::{Jobs, JobsConfig};

#[cfg(all(feature = "actix", feature = "redis"))]
pub use redis_extract::RedisJobsConfig;

#[cfg(all(feature = "actix", feature = "redis"))]
mod redis_extract {
    use std::future::Future;
    use std::pin::Pin;

    use actix_session::SessionExt;
    use actix_web::dev::Payload;
    use actix_web::{FromRequest, HttpMessage, HttpRequest};
    use serde_json::Value;

    use crate::async_session::AsyncJobSession;
    use crate::backend::SessionBackend;
    use crate::metadata::JobMetadata;
    use crate::redis::{OWNER_KEY, OwnerId, RedisJobStore, RedisJobs, owner_of};
    use crate::web;

    /// Settings of the [`RedisJobs`] extractor on actix-web, as app data.
    ///
    /// ```
    /// use jobsess::actix::RedisJobsConfig;
    /// assert_eq!(RedisJobsConfig::default().session_cookie, "id");
    /// ```
    #[derive(Debug, Clone)]
    pub struct RedisJobsConfig {
        /// The name of actix-session's cookie (`SessionMiddleware`'s
        /// `cookie_name`, `id` by default). Concurrent first requests of a
        /// session claim its owner token in Redis by a digest of this
        /// cookie, so they agree on one owner.
        pub session_cookie: String,
    }

    impl Default for RedisJobsConfig {
        fn default() -> Self {
            RedisJobsConfig {
                session_cookie: "id".to_owned(),
            }
        }
    }

    /// Needs the store as app data: `App::new().app_data(store.clone())`.
    /// The owner is the request's [`OwnerId`] if an auth middleware put one
    /// in its extensions; else the token in the session.
    impl<M: JobMetadata> FromRequest for RedisJobs<M> {
        type Error = actix_web::Error;
        type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

        fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
            let Some(store) = req.app_data::<RedisJobStore>().cloned() else {
                web::misconfigured(
                    "no RedisJobStore in the app data; add `.app_data(store)` to the App",
                );
                return Box::pin(async {
                    Err(actix_web::error::ErrorInternalServerError(
                        "internal server error",
                    ))
                });
            };
            let user = req.extensions().get::<OwnerId>().cloned();
            let cookie = req
                .app_data::<RedisJobsConfig>()
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
                    Ok::<_, crate::Error>(RedisJobs(AsyncJobSession::new(store.owner(&token)?)))
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
    use crate::backend::Budget;
    use crate::error::Error;
    use crate::metadata::JobMetadata;
    use crate::session::JobSession;
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
/// of JSON, an error as an `error` event with its public text, and a
/// keep-alive comment every 15 s of silence. A client that disconnects
/// drops the stream, and with it the subscription.
///
/// ```no_run
/// use actix_web::{Responder, get, web::Path};
/// use jobsess::{JobMetadata, redis::RedisJobs};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String, progress: u8 }
///
/// #[get("/jobs/{id}/events")]
/// async fn events(jobs: RedisJobs<ExportJob>, id: Path<String>) -> Result<impl Responder, jobsess::Error> {
///     Ok(jobsess::actix::sse(jobs.watch(&id).await?))
/// }
/// ```
#[cfg(all(feature = "actix", feature = "watch"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "actix", feature = "watch"))))]
pub fn sse<T, S>(
    events: S,
) -> actix_web_lab::sse::Sse<
    impl futures_util::Stream<Item = Result<actix_web_lab::sse::Event, std::convert::Infallible>>
    + use<T, S>,
>
where
    T: serde::Serialize + 'static,
    S: futures_util::Stream<Item = crate::Result<T>> + 'static,
{
    sse_with(events, crate::watch::SseEvent::json::<T>)
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
pub fn sse_with<T, S, R>(
    events: S,
    mut render: R,
) -> actix_web_lab::sse::Sse<
    impl futures_util::Stream<Item = Result<actix_web_lab::sse::Event, std::convert::Infallible>>
    + use<T, S, R>,
>
where
    S: futures_util::Stream<Item = crate::Result<T>> + 'static,
    R: FnMut(T) -> crate::watch::SseEvent + 'static,
{
    use actix_web_lab::sse::{Data, Event, Sse};
    use futures_util::StreamExt;

    let events = events.map(move |item| {
        let rendered = crate::watch::SseEvent::of(item, &mut render);
        let data = Data::new(rendered.data().to_owned());
        Ok::<Event, std::convert::Infallible>(Event::from(match rendered.name() {
            Some(name) => data.event(name.to_owned()),
            None => data,
        }))
    });
    Sse::from_stream(events).with_keep_alive(crate::web::KEEP_ALIVE)
}
