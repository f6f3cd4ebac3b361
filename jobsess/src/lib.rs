//! Typed, compile-time checked per-job metadata in web sessions.
//!
//! A web app that runs background jobs (transcriptions, exports, renders)
//! must remember, per user, what to show about each job across requests:
//! which file, which plugin, which options. `jobsess` keeps that metadata in
//! the user's session as one JSON object per job, under the key
//! `{prefix}_{job_id}`, and gives route code a typed handle on it:
//!
//! ```
//! use jobsess::{JobMetadata, JobSession};
//! use serde::{Deserialize, Serialize};
//! use std::collections::HashMap;
//!
//! #[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq)]
//! #[job_metadata(prefix = "transcription")]
//! struct TranscriptionJob {
//!     file_name: String,
//!     plugin: String,
//!     #[serde(default)]
//!     language: Option<String>,
//! }
//!
//! let mut session = HashMap::new();
//! let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
//! let meta = TranscriptionJob {
//!     file_name: "interview.mp3".into(),
//!     plugin: "whisper_large".into(),
//!     language: None,
//! };
//! jobs.store("job-123", &meta)?;
//! jobs.store_field("job-123", TranscriptionJob::LANGUAGE, &Some("en".into()))?;
//! let plugin: Option<String> = jobs.load_field("job-123", TranscriptionJob::PLUGIN)?;
//! assert_eq!(plugin.as_deref(), Some("whisper_large"));
//! assert_eq!(jobs.ids()?, ["job-123"]);
//! assert!(jobs.delete("job-123")?);
//! # Ok::<(), jobsess::Error>(())
//! ```
//!
//! The pieces:
//! - [`JobMetadata`], the trait, and `#[derive(JobMetadata)]`, which makes a
//!   typed [`Field`] key per stored field (`TranscriptionJob::PLUGIN`); its
//!   docs list what jobsess does with every serde attribute;
//! - [`JobSession`], the handle over any synchronous [`SessionBackend`]
//!   (maps, actix-session), and [`AsyncJobSession`], the same handle over any
//!   [`AsyncSessionBackend`] (tower-sessions, the Redis job store);
//! - the [`backend`] traits, and the decorators that carry policy across
//!   backends: [`backend::Budget`] (a size limit) and [`Indexed`] (an id
//!   index for stores that can't list their keys);
//! - [`key`], the key scheme and its rules;
//! - [`Error`], which names the key, the type and the path of every failure;
//! - read-modify-write with no lost update: [`JobSession::update`],
//!   [`update_if`](JobSession::update_if) (returns [`Updated`]) and
//!   [`update_field`](JobSession::update_field), on both handles;
//! - [versioned metadata](trait@JobMetadata#versions): older jobs migrate
//!   on read, newer ones are refused by name ([`VERSION_KEY`]);
//! - with the `watch` feature, live jobs: `watch` and `watch_field`
//!   streams, served as server-sent events in axum and actix-web, that end
//!   with the job ([`HasStatus`]: `#[job_metadata(status = field)]`);
//! - atomic counters: [`AsyncJobSession::increment_field`];
//! - with a server-side store, jobs that run elsewhere: a route hands a
//!   worker a `store::JobRef`, which opens that one job in any process.
//!
//! # Layers
//!
//! Each layer is a folder of `jobsess/src/` and uses only the layers above
//! it in this table; each folder's `mod.rs` says what it owns.
//!
//! | layer | folder | what it owns |
//! |---|---|---|
//! | what a job is | `model/` | [`JobMetadata`], [`Field`], [`FieldKeys`], the JSON codec (serde-faithful), versions and migrations; no backend |
//! | where pairs live | `backend/` | the contracts [`SessionBackend`] and [`AsyncSessionBackend`] (4 required methods each, and fallbacks for the rest: 8 on the sync one, among them `insert_encoded` for sessions that keep text; 9 on the async one, which has `update_field` and `increment_field` instead, one atomic step in a server-side store), the maps, and the wrappers, which forward through [`backend::Forward`] or [`backend::AsyncForward`]: [`backend::Budget`], [`Indexed`], `watch::Notifying`, `Mutex`, `Arc` |
//! | the typed handles | `handle/` | [`JobSession`] and [`AsyncJobSession`]: build the key, encode or decode, one backend call (the same steps, with or without `.await`); `update`, `watch` |
//! | server-side stores | `store/`, `redis/`, `postgres/`, `sqlite/` | `store`: the rules every engine shares ([`store::JobStore`], owners and claims, the [`store::ServerJobs`] extractor); `redis`: the Redis engine's storage calls, its scripts in `redis/lua/` (expiry, revisions, listing, change messages); `postgres`: the PostgreSQL engine's statements in `postgres/sql/`, its LISTEN/NOTIFY watchers, the app's transaction; `sqlite`: the SQLite engine's statements in `sqlite/sql/`, its change log and the poll that reads it |
//! | web integrations | `tower_sessions.rs`, `axum.rs`, `actix/` | tower-sessions and actix-session sessions as backends, the `Jobs<M>` extractors, errors as HTTP responses, server-sent events |
//!
//! The [`guide`] has a page per topic: the handle, backends, axum, actix-web,
//! concurrency, atomic update, versions, the Redis, PostgreSQL and SQLite
//! job stores, live jobs, workers and queues. The README has the quick starts.
//!
//! # Feature flags
//!
//! Every integration is behind a cargo feature; with none, jobsess depends
//! on serde, serde_json, serde_path_to_error, thiserror and tracing only.
//!
//! | feature | what it adds |
//! |---|---|
//! | `tower-sessions` | tower-sessions **0.15** `Session` as an async backend ([`tower_sessions`] module) |
//! | `tower-sessions-014` | the same for tower-sessions **0.14**, whose Redis and SQL stores (`tower-sessions-redis-store` 0.16...) are still on it |
//! | `axum` | the `axum::Jobs<M>` extractor (for either tower-sessions version) and `IntoResponse` for [`Error`]; implies `tower-sessions` |
//! | `actix-session` | actix-session's `Session` as a sync backend, with a cookie-size [`Measure`](backend::Measure) |
//! | `actix` | the `actix::Jobs<M>` extractor and `ResponseError` for [`Error`]; implies `actix-session` |
//! | `redis` | the server-side Redis job store: one hash per job, one atomic script per operation; the session keeps an owner token only; implies `watch` |
//! | `postgres` | the server-side PostgreSQL job store on the app's sqlx 0.8 pool: one row per job, one statement per operation, live jobs over LISTEN/NOTIFY, the app's own transaction; implies `watch` |
//! | `postgres-sqlx-09` | the same store on the app's sqlx **0.9** pool, as `postgres_sqlx09` |
//! | `sqlite` | the server-side SQLite job store on the app's sqlx 0.8 pool (SQLite built in): one row per job in a file, one statement per operation, live jobs across the processes on the file; implies `watch` |
//! | `sqlite-sqlx-09` | the same store on the app's sqlx **0.9** pool, as `sqlite_sqlx09` |
//! | `memory-store` | `store::MemoryJobStore`: the server-side job store in this process's memory (single-instance apps, tests, examples); implies `watch` |
//! | `watch` | live jobs: `watch` and `watch_field` streams, the `Notifying` decorator for in-process backends; with `axum` or `actix`, a server-sent events response from a stream |
//!
//! With `axum` or `actix` and `redis`, `redis::RedisJobs<M>` is an extractor for that framework; with `postgres`, `postgres::PostgresJobs<M>`; with `sqlite`, `sqlite::SqliteJobs<M>`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backend;
mod error;
pub mod guide;
mod handle;
pub mod key;
mod model;
#[cfg(feature = "watch")]
#[cfg_attr(docsrs, doc(cfg(feature = "watch")))]
pub mod watch;

#[cfg(any(feature = "tower-sessions", feature = "tower-sessions-014"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "tower-sessions", feature = "tower-sessions-014")))
)]
pub mod tower_sessions;

#[cfg(any(feature = "axum", feature = "actix", feature = "watch"))]
mod web;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

#[cfg(feature = "actix-session")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-session")))]
pub mod actix;

#[cfg(any(
    feature = "redis",
    feature = "postgres",
    feature = "postgres-sqlx-09",
    feature = "sqlite",
    feature = "sqlite-sqlx-09",
    feature = "memory-store"
))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(
        feature = "redis",
        feature = "postgres",
        feature = "postgres-sqlx-09",
        feature = "sqlite",
        feature = "sqlite-sqlx-09",
        feature = "memory-store"
    )))
)]
pub mod store;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;

/// The sqlx that `postgres` and `sqlite` are built on (0.8), as they name
/// it (`super::sqlx_version`); `postgres_sqlx09` and `sqlite_sqlx09` have
/// their own (0.9).
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod sqlx_version {
    pub(crate) use ::sqlx;

    /// A statement's text, as sqlx 0.8 takes it.
    pub(crate) fn text(sql: &std::sync::Arc<str>) -> &str {
        sql
    }
}

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
#[allow(clippy::duplicate_mod)] // built again on sqlx 0.9 in `postgres_sqlx09`
pub mod postgres;

#[cfg(feature = "postgres-sqlx-09")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres-sqlx-09")))]
pub mod postgres_sqlx09;

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
#[allow(clippy::duplicate_mod)] // built again on sqlx 0.9 in `sqlite_sqlx09`
pub mod sqlite;

#[cfg(feature = "sqlite-sqlx-09")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite-sqlx-09")))]
pub mod sqlite_sqlx09;

pub use backend::{AsyncKeyValue, AsyncSessionBackend, Indexed, SessionBackend};
pub use error::{BoxError, Error, Op, Result};
pub use handle::update::Updated;
pub use handle::{AsyncJobSession, JobSession};
pub use model::counter::Counter;
pub use model::field::VERSION_KEY;
pub use model::field::{Field, FieldKeys, FieldOf};
pub use model::metadata::End;
pub use model::metadata::{JobMetadata, Schema, UntypedJob};
pub use model::status::{HasStatus, JobStatus, Status};

/// Derives [`JobMetadata`](trait@JobMetadata) for a struct with named fields
/// that also derives serde's `Serialize` and `Deserialize`.
///
/// It implements the trait and adds one associated const per stored field,
/// named after the field in upper case, of type [`Field<Self, FieldType>`]
/// and with the field's visibility. Stored keys follow the struct's
/// `#[serde(...)]` attributes; fields serde skips get no const.
///
/// Container attribute: `#[job_metadata(prefix = "...")]`, the prefix of the
/// session keys (default `job`; ASCII letters, digits and `-`); and
/// `#[job_metadata(crate = "path")]`, the path of this crate if it is
/// re-exported under another name; `#[job_metadata(version = N)]` and
/// `#[job_metadata(version = N, migrate_from = PreviousType)]`, for
/// metadata that changes between releases (see
/// [the trait's docs](trait@JobMetadata#versions)).
///
/// ```
/// use jobsess::{Field, JobMetadata};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, JobMetadata)]
/// #[job_metadata(prefix = "export")]
/// pub struct ExportJob {
///     pub file: String,
///     #[serde(rename = "fmt", default)]
///     pub format: String,
/// }
///
/// let format: Field<ExportJob, String> = ExportJob::FORMAT;
/// assert_eq!(format.name(), "fmt");
/// assert_eq!(ExportJob::key_prefix(), "export");
/// ```
///
/// # serde attributes
///
/// Per-field access is exactly whole-struct serde: `load_field(id, M::F)`
/// returns what `load(id)?.f` returns, and `store_field(id, M::F, &v)`
/// leaves the session as `store` of the job with `f` set to `v` would.
/// Every serde attribute is either honoured to that end or refused by the
/// derive with an error at the attribute that says why; none is ignored.
///
/// On the struct:
///
/// | attribute | what jobsess does |
/// |---|---|
/// | `rename_all`, `rename_all(serialize, deserialize)` | honoured: the keys follow it; both sides may come in separate attributes. Sides that give a field two different keys are refused: a field has one key |
/// | `default`, `default = "path"` | honoured: an absent field reads as the container default's field |
/// | `tag = "..."` | honoured: serde's tag entry stays through field writes; a field stored under the tag's key is refused |
/// | `bound`, `rename`, `crate`, `expecting` | honoured: they don't change the stored fields. The field consts are bounded only on field types that mention a type parameter |
/// | `deny_unknown_fields` | honoured by `load`; `load_field` reads its own field and, as for an error in any other field, does not look at the rest |
/// | `transparent`, `into`, `from`, `try_from`, `remote` | refused: the stored JSON would no longer be an object of the fields |
/// | `untagged`, `content`, `rename_all_fields`, `variant_identifier`, `field_identifier` | for enums: serde refuses them on a struct |
///
/// On a field:
///
/// | attribute | what jobsess does |
/// |---|---|
/// | `rename`, `rename(serialize, deserialize)` | honoured, merged across attributes; different keys for the two sides are refused |
/// | `alias` | honoured: `load_field` reads the key or any alias, and the field present twice is serde's `duplicate field` error; `store_field` writes the key and removes the aliases. An alias that is another field's key is refused |
/// | `default`, `default = "path"` | honoured: an absent field reads as its default |
/// | `skip_serializing_if` | honoured: `store_field` removes the key when the predicate says so |
/// | `with`, `serialize_with`, `deserialize_with` | honoured: the key const encodes and decodes through the same functions as the struct's impls. Absent and without a default, a field read through `deserialize_with` is an error, as serde makes it |
/// | `skip`, `skip_serializing`, `skip_deserializing` | the field gets no key const: it is never both written and read |
/// | `bound`, `borrow` | honoured: no effect on the stored field (metadata is `DeserializeOwned`) |
/// | `flatten` | refused: the flattened fields would have no typed keys; nest the struct as a field instead |
/// | `getter` | only with `remote`, which is refused |
///
/// Two more rules keep both ways in agreement. A job is a JSON object: one
/// stored as a JSON array, which serde's derived `Deserialize` would read,
/// is refused by `load` as by `load_field` and `store_field`
/// ([`Error::NotAnObject`]). And `store` and `store_field` refuse a value
/// that would not read back as itself, such as a NaN or infinite float,
/// which JSON keeps as `null` ([`Error::Encode`], naming the path; nothing
/// is written).
///
/// The trait's items are functions (`key_prefix()`, `schema()`...), so a
/// field named `schema` or `key_prefix` gets its const (`SCHEMA`) and
/// shadows nothing.
///
/// See also [the crate's feature flags](crate#feature-flags) and the
/// README's *Quick start*.
pub use jobsess_derive::JobMetadata;

/// What the code that `#[derive(JobMetadata)]` generates needs. Not a public API.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
