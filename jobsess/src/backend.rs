//! Where a session's key/value pairs live: the [`SessionBackend`] trait, its
//! implementations for in-memory maps, and the [`Budget`] decorator.
//!
//! A backend moves JSON values in and out under string keys. Four methods
//! are required; the others are provided, with bodies that are the
//! fallbacks built on the four, and a backend that can do better overrides
//! them (the maps patch a field in place and clear a prefix in one pass).
//! Policy that cuts across backends is a decorator around one: [`Budget`]
//! for a size limit, and, on the async side, `Indexed` for stores that can't
//! list their keys. The handles only build keys, encode and decode.
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

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::codec;
use crate::error::{Error, Result};
use crate::field::{Field, FieldKeys};
use crate::metadata::JobMetadata;
use crate::version::{self, FieldRead};

/// One write of one field of a stored job, as the handles hand it to a
/// backend: the field's key, its JSON (`None` when the field's
/// `skip_serializing_if` leaves it out, so the key is removed), and its
/// `alias` keys, which are removed so the job reads as a whole `store` of it.
///
/// ```
/// use jobsess::backend::FieldWrite;
/// use serde_json::json;
///
/// let mut job = json!({ "file": "a", "fileName": "old", "n": 1 });
/// let write = FieldWrite {
///     name: "file_name",
///     value: Some(json!("b")),
///     aliases: &["file", "fileName"],
///     job_type: "my_app::ExportJob",
/// };
/// write.apply("job_a", &mut job)?;
/// assert_eq!(job, json!({ "file_name": "b", "n": 1 }));
/// # Ok::<(), jobsess::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FieldWrite<'f> {
    /// The field's key.
    pub name: &'f str,
    /// The field's JSON, or `None` to remove the key.
    pub value: Option<Value>,
    /// Keys to remove: the field's aliases.
    pub aliases: &'f [&'f str],
    /// The job's Rust type, as `std::any::type_name` gives it, for errors.
    pub job_type: &'static str,
}

impl FieldWrite<'_> {
    /// Applies the write to `job`, the value stored under `key`, leaving its
    /// other fields as they are.
    ///
    /// # Errors
    /// [`Error::NotAnObject`] if `job` is not a JSON object; it is left as it was.
    pub fn apply(self, key: &str, job: &mut Value) -> Result<()> {
        codec::patch_field(key, job, self)
    }
}

/// [`SessionBackend::get_field_decoded`]'s fallback: the field through
/// [`SessionBackend::get_field`], and an older job read whole.
pub(crate) fn read_field<B: SessionBackend + ?Sized, M: JobMetadata, T>(
    backend: &B,
    key: &str,
    field: &Field<M, T>,
) -> Result<Option<T>> {
    let job = backend.get_field(key, field.keys())?;
    match version::read_field(key, job.as_deref(), field)? {
        FieldRead::Done(value) => Ok(value),
        FieldRead::Older => version::migrated_field(key, backend.get(key)?.as_deref(), field),
    }
}

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
        match self.get(key)? {
            Some(value) => codec::decode_job(key, &value).map(Some),
            None => Ok(None),
        }
    }

    /// Encodes `value` and puts it under `key`; whether it replaced a value.
    /// The fallback encodes to a `Value` for [`insert`](Self::insert); a
    /// backend that holds JSON text writes the text directly.
    ///
    /// # Errors
    /// A value that can't be encoded ([`Error::Encode`]), or as
    /// [`insert`](Self::insert).
    fn insert_encoded<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<bool> {
        let value = codec::encode(key, value)?;
        self.insert(key, value)
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
        if let Some(old) = self.get(key)? {
            crate::version::check_not_newer(key, &old, version)?;
        }
        self.insert(key, value)
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
        read_field(self, key, field)
    }

    /// Applies `write` to the job under `key`; `false`, and nothing
    /// written, if there is no such job. The fallback reads the job,
    /// patches it and writes it back.
    ///
    /// # Errors
    /// A stored job that is not an object, or as [`insert`](Self::insert).
    fn set_field(&mut self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        let Some(job) = self.get(key)? else {
            return Ok(false);
        };
        let mut job = job.into_owned();
        write.apply(key, &mut job)?;
        self.insert(key, job)?;
        Ok(true)
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
    fn update<F>(&mut self, key: &str, mut f: F) -> Result<bool>
    where
        F: FnMut(&Value) -> Result<Option<Value>>,
    {
        let Some(job) = self.get(key)? else {
            return Ok(false);
        };
        let new = f(&job)?;
        drop(job);
        if let Some(new) = new {
            self.insert(key, new)?;
        }
        Ok(true)
    }

    /// Removes every key that starts with `start`; how many there were. The
    /// fallback lists the keys and removes them one by one.
    ///
    /// # Errors
    /// As [`keys_with_prefix`](Self::keys_with_prefix) and
    /// [`remove`](Self::remove); keys removed before a failure stay removed.
    fn remove_with_prefix(&mut self, start: &str) -> Result<usize> {
        let mut removed = 0;
        for key in self.keys_with_prefix(start)? {
            removed += usize::from(self.remove(&key)?);
        }
        Ok(removed)
    }
}

/// A backend that can tell its own size, for a [`Budget`].
///
/// ```
/// use jobsess::backend::Measure;
/// use serde_json::json;
/// let mut session = std::collections::HashMap::new();
/// session.insert("a".to_owned(), json!(1));
/// assert_eq!(session.size_with("b", Some(&json!(2))).unwrap(), r#"{"a":1,"b":2}"#.len());
/// ```
pub trait Measure {
    /// The size in bytes the session would take where it is kept (as JSON,
    /// as a cookie...) with `value` under `key`, or without `key` for `None`.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::Measure`](crate::Op::Measure) if the backend fails.
    fn size_with(&self, key: &str, value: Option<&Value>) -> Result<usize>;
}

/// A size limit around a backend that can measure itself: a write that
/// would make the session larger than the budget fails with
/// [`Error::OverBudget`] before anything is written.
///
/// It is a sync backend, so it also works shared between tasks as
/// `Mutex<Budget<B>>`. For sessions that ride in a cookie see
/// `jobsess::actix::COOKIE_BUDGET`.
///
/// ```
/// use jobsess::{JobSession, UntypedJob, backend::Budget};
/// let mut session = std::collections::HashMap::new();
/// let mut jobs = JobSession::<UntypedJob, _>::new(Budget::new(&mut session, 64));
/// let big = serde_json::json!({ "notes": "x".repeat(100) });
/// let err = jobs.store("a", big.as_object().unwrap()).unwrap_err();
/// assert!(err.to_string().contains("over its budget of 64 bytes"));
/// assert!(session.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Budget<B> {
    inner: B,
    bytes: usize,
}

impl<B> Budget<B> {
    /// `inner`, limited to `bytes`; `usize::MAX` is no limit, and then
    /// nothing is measured.
    ///
    /// ```
    /// # use jobsess::backend::Budget;
    /// let session = Budget::new(std::collections::HashMap::<String, serde_json::Value>::new(), 2900);
    /// assert_eq!(session.bytes(), 2900);
    /// ```
    pub fn new(inner: B, bytes: usize) -> Self {
        Budget { inner, bytes }
    }

    /// The budget, in bytes.
    ///
    /// ```
    /// # use jobsess::backend::Budget;
    /// assert_eq!(Budget::new((), 10).bytes(), 10);
    /// ```
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The backend inside.
    ///
    /// ```
    /// # use jobsess::backend::Budget;
    /// assert!(Budget::new(std::collections::HashMap::<String, serde_json::Value>::new(), 10).into_inner().is_empty());
    /// ```
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B: SessionBackend + Measure> Budget<B> {
    fn check(&self, key: &str, value: &Value) -> Result<()> {
        if self.bytes == usize::MAX {
            return Ok(());
        }
        let size = self.inner.size_with(key, Some(value))?;
        if size > self.bytes {
            return Err(Error::OverBudget {
                key: key.to_owned(),
                size,
                budget: self.bytes,
            });
        }
        Ok(())
    }
}

impl<B: SessionBackend + Measure> SessionBackend for Budget<B> {
    fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>> {
        self.inner.get(key)
    }

    fn get_decoded<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        self.inner.get_decoded(key)
    }

    fn get_field_decoded<M: JobMetadata, T>(
        &self,
        key: &str,
        field: &Field<M, T>,
    ) -> Result<Option<T>> {
        self.inner.get_field_decoded(key, field)
    }

    /// With no limit, the inner backend's own path; else the value is
    /// measured before it is written.
    fn insert_encoded<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<bool> {
        if self.bytes == usize::MAX {
            return self.inner.insert_encoded(key, value);
        }
        let value = codec::encode(key, value)?;
        self.insert(key, value)
    }

    fn insert(&mut self, key: &str, value: Value) -> Result<bool> {
        self.check(key, &value)?;
        self.inner.insert(key, value)
    }

    fn remove(&mut self, key: &str) -> Result<bool> {
        self.inner.remove(key)
    }

    fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        self.inner.keys_with_prefix(start)
    }

    fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Cow<'_, Value>>> {
        self.inner.get_field(key, keys)
    }

    /// The patched job is measured before it is written.
    fn set_field(&mut self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        let Some(job) = self.inner.get(key)? else {
            return Ok(false);
        };
        let mut job = job.into_owned();
        write.apply(key, &mut job)?;
        self.check(key, &job)?;
        self.inner.insert(key, job)?;
        Ok(true)
    }

    fn remove_with_prefix(&mut self, start: &str) -> Result<usize> {
        self.inner.remove_with_prefix(start)
    }
}

impl<B: Measure> Measure for Budget<B> {
    fn size_with(&self, key: &str, value: Option<&Value>) -> Result<usize> {
        self.inner.size_with(key, value)
    }
}

/// The bytes one `"key":value,` entry takes in a JSON object.
pub(crate) fn entry_len(key: &str, value: &Value) -> usize {
    json_len(key) + json_len(value) + 2
}

fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(0, |bytes| bytes.len())
}

impl<B: SessionBackend + ?Sized> SessionBackend for &mut B {
    fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>> {
        (**self).get(key)
    }

    fn get_decoded<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        (**self).get_decoded(key)
    }

    fn get_field_decoded<M: JobMetadata, T>(
        &self,
        key: &str,
        field: &Field<M, T>,
    ) -> Result<Option<T>> {
        (**self).get_field_decoded(key, field)
    }

    fn insert_encoded<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<bool> {
        (**self).insert_encoded(key, value)
    }

    fn insert(&mut self, key: &str, value: Value) -> Result<bool> {
        (**self).insert(key, value)
    }

    fn remove(&mut self, key: &str) -> Result<bool> {
        (**self).remove(key)
    }

    fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        (**self).keys_with_prefix(start)
    }

    fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Cow<'_, Value>>> {
        (**self).get_field(key, keys)
    }

    fn set_field(&mut self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        (**self).set_field(key, write)
    }

    fn update<F>(&mut self, key: &str, f: F) -> Result<bool>
    where
        F: FnMut(&Value) -> Result<Option<Value>>,
    {
        (**self).update(key, f)
    }

    fn insert_versioned(&mut self, key: &str, value: Value, version: u32) -> Result<bool> {
        (**self).insert_versioned(key, value, version)
    }

    fn remove_with_prefix(&mut self, start: &str) -> Result<usize> {
        (**self).remove_with_prefix(start)
    }
}

impl<B: Measure + ?Sized> Measure for &mut B {
    fn size_with(&self, key: &str, value: Option<&Value>) -> Result<usize> {
        (**self).size_with(key, value)
    }
}

/// The three map types share one implementation: `$scan` lists the keys of
/// a prefix, `$remove` removes them.
macro_rules! map_backend {
    ($(#[$doc:meta])* [$($gen:tt)*] $map:ty, $scan:expr, $remove:expr) => {
        $(#[$doc])*
        impl<$($gen)*> SessionBackend for $map {
            fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>> {
                Ok(<$map>::get(self, key).map(Cow::Borrowed))
            }

            fn insert(&mut self, key: &str, value: Value) -> Result<bool> {
                Ok(<$map>::insert(self, key.to_owned(), value).is_some())
            }

            fn remove(&mut self, key: &str) -> Result<bool> {
                Ok(<$map>::remove(self, key).is_some())
            }

            fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
                let scan: fn(&Self, &str) -> Vec<String> = $scan;
                Ok(scan(self, start))
            }

            /// Patched in place: no copy of the job, the other fields untouched.
            fn set_field(&mut self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
                match <$map>::get_mut(self, key) {
                    Some(job) => write.apply(key, job).map(|()| true),
                    None => Ok(false),
                }
            }

            /// In place: the new value replaces the old under the same key.
            fn update<F>(&mut self, key: &str, mut f: F) -> Result<bool>
            where
                F: FnMut(&Value) -> Result<Option<Value>>,
            {
                let Some(job) = <$map>::get_mut(self, key) else {
                    return Ok(false);
                };
                if let Some(new) = f(job)? {
                    *job = new;
                }
                Ok(true)
            }

            /// One pass over the keys of the prefix.
            fn remove_with_prefix(&mut self, start: &str) -> Result<usize> {
                let remove: fn(&mut Self, &str) -> usize = $remove;
                Ok(remove(self, start))
            }
        }

        $(#[$doc])*
        impl<$($gen)*> Measure for $map {
            /// The length of the map's JSON.
            fn size_with(&self, key: &str, value: Option<&Value>) -> Result<usize> {
                let now = json_len(self);
                let old = <$map>::get(self, key).map_or(0, |old| entry_len(key, old));
                Ok(now - old + value.map_or(0, |value| entry_len(key, value)))
            }
        }
    };
}

map_backend!(
    /// Lists keys by a scan of the whole map.
    [H: BuildHasher] HashMap<String, Value, H>,
    |map, start| map.keys().filter(|k| k.starts_with(start)).cloned().collect(),
    |map, start| map.extract_if(|k, _| k.starts_with(start)).count()
);

map_backend!(
    /// Lists keys by a range scan: the cost follows the keys of that prefix,
    /// not the size of the session.
    [] BTreeMap<String, Value>,
    |map, start| {
        map.range::<str, _>((std::ops::Bound::Included(start), std::ops::Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(start))
            .cloned()
            .collect()
    },
    |map, start| match prefix_end(start) {
        // One cursor walks the keys of the prefix and takes them out.
        Some(end) => map.extract_if(start.to_owned()..end, |_, _| true).count(),
        None => map
            .extract_if(start.to_owned().., |k, _| k.starts_with(start))
            .count(),
    }
);

/// The smallest string above every string that starts with `start`.
fn prefix_end(start: &str) -> Option<String> {
    let mut chars = start.chars();
    let last = chars.next_back()?;
    let next = char::from_u32(u32::from(last) + 1)?;
    Some(format!("{}{next}", chars.as_str()))
}

map_backend!(
    /// Lists keys by a scan of the whole map: `serde_json::Map` has no range
    /// API, and with serde_json's `preserve_order` feature it is not sorted.
    [] Map<String, Value>,
    |map, start| map.keys().filter(|k| k.starts_with(start)).cloned().collect(),
    |map, start| {
        let before = map.len();
        map.retain(|k, _| !k.starts_with(start));
        before - map.len()
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end("job_").as_deref(), Some("job`"));
        assert_eq!(prefix_end(""), None);
        let end = prefix_end("a_").unwrap();
        for inside in ["a_", "a_\u{10FFFF}", "a_zzz"] {
            assert!(inside < end.as_str(), "{inside}");
        }
        assert!("a`" >= end.as_str());
    }

    #[test]
    fn remove_with_prefix_removes_exactly_the_prefix() {
        let keys = [
            "job", "job_", "job_a", "job_a_b", "jobs_a", "job-x_a", "joa", "job`",
        ];
        let mut btree: BTreeMap<String, Value> =
            keys.iter().map(|k| ((*k).to_owned(), json!(1))).collect();
        let mut hash: HashMap<String, Value> = btree.clone().into_iter().collect();
        let mut map: Map<String, Value> = btree.clone().into_iter().collect();
        assert_eq!(btree.remove_with_prefix("job_").unwrap(), 3);
        assert_eq!(hash.remove_with_prefix("job_").unwrap(), 3);
        assert_eq!(map.remove_with_prefix("job_").unwrap(), 3);
        let left = ["joa", "job", "job-x_a", "job`", "jobs_a"];
        assert_eq!(btree.keys().collect::<Vec<_>>(), left);
        let mut hash_left: Vec<_> = hash.keys().collect();
        hash_left.sort();
        assert_eq!(hash_left, left);
        assert_eq!(map.keys().collect::<Vec<_>>(), left);
    }
}
