//! Where a session's key/value pairs live: the layer under the handles.
//!
//! It owns the two contracts, [`SessionBackend`] (sync) and
//! [`AsyncSessionBackend`] (async): four required methods each, the rest
//! provided with bodies that are the fallbacks; the sync one has
//! `insert_encoded` (a session that keeps text encodes a job straight to
//! it), the async one `update_field` and `increment_field`, which a
//! server-side store does in one atomic step. It owns the in-memory maps
//! and the decorators. It uses the model layer only.
//!
//! There are three ways to become a backend, one for each kind of thing:
//! - **a store that can list its keys** (a map, a session, a server-side
//!   store): implement [`SessionBackend`] or [`AsyncSessionBackend`] — the
//!   four required methods, and any fallback it can do better;
//! - **a wrapper that adds a policy to another backend**: implement
//!   [`Forward`] or [`AsyncForward`] (the inner backend, and a check or a
//!   hook), and every method is forwarded: [`Budget`] (a size limit),
//!   `Notifying` (watchers, in `jobsess::watch`);
//! - **a store that can't list its keys** (a tower-sessions `Session`):
//!   implement [`AsyncKeyValue`] (get, insert, remove) and use it through
//!   [`Indexed`], which keeps an id index in it.
//!
//! `Mutex<B>` makes a sync backend an async one; `Arc<B>` and `&B` of an
//! async backend are backends too.
//!
//! A backend moves JSON values in and out under string keys. The handles
//! only build keys, encode and decode.
//!
//! A backend of your own, in a dozen lines:
//!
//! ```
//! use std::borrow::Cow;
//! use jobsess::{Error, JobSession, Op, Result, SessionBackend, UntypedJob};
//! use serde_json::Value;
//!
//! /// A session kept as a list of pairs.
//! #[derive(Default)]
//! struct Pairs(Vec<(String, Value)>);
//!
//! impl SessionBackend for Pairs {
//!     fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>> {
//!         Ok(self.0.iter().find(|(k, _)| k == key).map(|(_, v)| Cow::Borrowed(v)))
//!     }
//!     fn insert(&mut self, key: &str, value: Value) -> Result<bool> {
//!         let replaced = self.remove(key)?;
//!         self.0.push((key.to_owned(), value));
//!         Ok(replaced)
//!     }
//!     fn remove(&mut self, key: &str) -> Result<bool> {
//!         let before = self.0.len();
//!         self.0.retain(|(k, _)| k != key);
//!         Ok(self.0.len() != before)
//!     }
//!     fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
//!         Ok(self.0.iter().map(|(k, _)| k.clone()).filter(|k| k.starts_with(start)).collect())
//!     }
//! }
//!
//! let mut jobs = JobSession::<UntypedJob, _>::new(Pairs::default());
//! jobs.store("a", &UntypedJob::new())?;
//! assert_eq!(jobs.ids()?, ["a"]);
//! # let _ = (Error::backend(Op::Read, "k", "unused"),);
//! # Ok::<(), jobsess::Error>(())
//! ```

pub(crate) mod async_backend;
mod budget;
pub(crate) mod fallback;
mod forward;
mod indexed;
mod maps;
#[cfg(feature = "watch")]
pub(crate) mod notifying;
mod shared;

use std::borrow::Cow;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Result;
use crate::model::field::{Field, FieldKeys};
use crate::model::metadata::JobMetadata;

#[cfg(doc)]
use crate::error::Error;
pub use crate::model::counter::{Increment, Incremented};
pub use crate::model::field::{FieldJson, FieldWrite};
pub use async_backend::{AsyncKeyValue, AsyncSessionBackend};
pub use budget::{Budget, Measure};
pub use forward::{AsyncForward, Forward, Written};
pub use indexed::Indexed;
#[cfg(any(feature = "tower-sessions", feature = "tower-sessions-014"))]
pub(crate) use indexed::indexed_backend;

/// A synchronous session: string keys, JSON values.
///
/// Implemented for `HashMap<String, Value>`, `BTreeMap<String, Value>`,
/// `serde_json::Map<String, Value>`, for `&mut B` of any backend `B`, for
/// the [`Budget`] decorator, and behind cargo features for web frameworks'
/// sessions. The module docs show a backend of your own.
///
/// ```
/// use jobsess::SessionBackend;
/// use serde_json::json;
/// use std::collections::BTreeMap;
///
/// let mut session = BTreeMap::new();
/// session.insert("job_a".to_owned(), json!(1));
/// session.insert("other".to_owned(), json!(2));
/// assert_eq!(session.keys_with_prefix("job_").unwrap(), ["job_a"]);
/// assert!(SessionBackend::remove(&mut session, "other").unwrap());
/// ```
pub trait SessionBackend {
    /// The value under `key`, borrowed where the backend holds `Value`s.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::Read`](crate::Op::Read) if the backend fails.
    fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>>;

    /// Puts `value` under `key`; whether it replaced a value.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::Write`](crate::Op::Write) if the backend fails.
    fn insert(&mut self, key: &str, value: Value) -> Result<bool>;

    /// Removes `key`; whether it was there.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::Remove`](crate::Op::Remove) if the backend fails.
    fn remove(&mut self, key: &str) -> Result<bool>;

    /// Every key that starts with `start`, in any order.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::List`](crate::Op::List) if the backend fails.
    fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>>;

    /// The job under `key` decoded as a `T`; `None` if there is none. The
    /// fallback decodes what [`get`](Self::get) gives; a backend that holds
    /// JSON text decodes the text directly.
    ///
    /// # Errors
    /// As [`get`](Self::get); a job that is not an object or doesn't decode
    /// ([`Error::NotAnObject`], [`Error::Decode`] naming the path).
    fn get_decoded<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        fallback::get_decoded(self, key)
    }

    /// Encodes `value` and puts it under `key`; whether it replaced a value.
    /// The fallback encodes to a `Value` for [`insert`](Self::insert); a
    /// backend that holds JSON text writes the text directly.
    ///
    /// # Errors
    /// A value that can't be encoded ([`Error::Encode`]), or as
    /// [`insert`](Self::insert).
    fn insert_encoded<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<bool> {
        fallback::insert_encoded(self, key, value)
    }

    /// Puts `value`, a job at `version` of its metadata type, under `key`,
    /// unless the job there is of a newer version: then
    /// [`Error::NewerVersion`] and nothing is written. A value there that
    /// is no job object is replaced. The fallback reads the job first.
    ///
    /// ```
    /// use jobsess::{SessionBackend, VERSION_KEY};
    /// use serde_json::json;
    /// let mut session = std::collections::HashMap::new();
    /// session.insert("job_a".to_owned(), json!({ "n": 1, VERSION_KEY: 3 }));
    /// assert!(session.insert_versioned("job_a", json!({ "n": 2, VERSION_KEY: 2 }), 2).is_err());
    /// assert_eq!(session["job_a"]["n"], 1);
    /// ```
    ///
    /// # Errors
    /// [`Error::NewerVersion`], or as [`get`](Self::get) and [`insert`](Self::insert).
    fn insert_versioned(&mut self, key: &str, value: Value, version: u32) -> Result<bool> {
        fallback::insert_versioned(self, key, value, version)
    }

    /// The job under `key`, holding at least those of the
    /// [`members`](FieldKeys::members) of `keys` that it has (the field, its
    /// aliases and the version member); `None` if there is no such job. The fallback
    /// reads the whole job.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Cow<'_, Value>>> {
        let _ = keys;
        self.get(key)
    }

    /// Field `field` of the job under `key`, as the handles' `load_field`
    /// returns it: decoded through the field's codec, or its default (or
    /// serde's error) where the job lacks it; an older job migrated first, a
    /// newer one refused; `None` if there is no such job. The fallback reads
    /// the field with [`get_field`](Self::get_field), and an older job whole;
    /// a backend that keeps jobs as JSON text (actix-session) decodes the
    /// field straight from its text.
    ///
    /// ```
    /// use jobsess::{JobMetadata, SessionBackend};
    /// use serde_json::json;
    /// use std::collections::HashMap;
    ///
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// struct Job { file: String, #[serde(default)] progress: u8 }
    ///
    /// let mut session = HashMap::new();
    /// session.insert("job_a".to_owned(), json!({ "file": "a.mp3" }));
    /// assert_eq!(session.get_field_decoded("job_a", &Job::PROGRESS)?, Some(0));
    /// assert_eq!(session.get_field_decoded("job_b", &Job::FILE)?, None);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// A job that is not an object or whose field doesn't decode
    /// ([`Error::Decode`] naming the path), a newer or unmigratable job, or
    /// as [`get`](Self::get).
    fn get_field_decoded<M: JobMetadata, T>(
        &self,
        key: &str,
        field: &Field<M, T>,
    ) -> Result<Option<T>> {
        fallback::get_field_decoded(self, key, field)
    }

    /// Applies `write` to the job under `key`; `false`, and nothing
    /// written, if there is no such job. The fallback reads the job,
    /// patches it and writes it back.
    ///
    /// # Errors
    /// A stored job that is not an object, or as [`insert`](Self::insert).
    fn set_field(&mut self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        fallback::set_field(self, key, write)
    }

    /// Reads the job under `key`, hands it to `f`, and writes what `f`
    /// returns in its place (`None`: nothing is written); `false`, with `f`
    /// never called, if there is no such job. The fallback is a
    /// [`get`](Self::get) and an [`insert`](Self::insert), atomic because
    /// the backend is borrowed mutably throughout.
    ///
    /// ```
    /// use jobsess::SessionBackend;
    /// use serde_json::json;
    /// let mut session = std::collections::HashMap::new();
    /// session.insert("job_a".to_owned(), json!({ "n": 1 }));
    /// let found = session.update("job_a", |job| Ok(Some(json!({ "n": job["n"].as_i64().unwrap() + 1 }))))?;
    /// assert!(found);
    /// assert_eq!(session["job_a"], json!({ "n": 2 }));
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// What `f` returns (nothing is written), or as [`get`](Self::get) and
    /// [`insert`](Self::insert).
    fn update<F>(&mut self, key: &str, f: F) -> Result<bool>
    where
        F: FnMut(&Value) -> Result<Option<Value>>,
    {
        fallback::update(self, key, f)
    }

    /// Removes every key that starts with `start`; how many there were. The
    /// fallback lists the keys and removes them one by one.
    ///
    /// # Errors
    /// As [`keys_with_prefix`](Self::keys_with_prefix) and
    /// [`remove`](Self::remove); keys removed before a failure stay removed.
    fn remove_with_prefix(&mut self, start: &str) -> Result<usize> {
        fallback::remove_with_prefix(self, start)
    }
}
