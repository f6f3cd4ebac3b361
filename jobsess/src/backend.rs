//! Where a session's key/value pairs live: the [`SessionBackend`] trait and
//! its implementations for in-memory maps.
//!
//! A backend only moves JSON values in and out under string keys. Key
//! building, validation, encoding, decoding and the id index are done once,
//! by the [`JobSession`](crate::JobSession) handle, for every backend.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use serde_json::{Map, Value};

use crate::error::BoxError;

/// A synchronous session: string keys, JSON values.
///
/// Implemented for `HashMap<String, Value>`, `BTreeMap<String, Value>`,
/// `serde_json::Map<String, Value>`, for `&mut B` of any backend `B`, and
/// behind cargo features for web frameworks' sessions.
///
/// ```
/// use jobsess::SessionBackend;
/// use serde_json::json;
/// use std::collections::BTreeMap;
///
/// let mut session = BTreeMap::new();
/// session.insert("job_a", json!(1));
/// session.insert("other", json!(2));
/// let mut session: BTreeMap<String, _> =
///     session.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
/// assert_eq!(session.keys_with_prefix("job_").unwrap(), ["job_a"]);
/// assert!(SessionBackend::remove(&mut session, "other").unwrap());
/// ```
pub trait SessionBackend {
    /// Whether [`keys_with_prefix`](Self::keys_with_prefix) can see every key.
    /// When it can't, the handle keeps a per-prefix index of job ids in the
    /// session, under [`key::index_key`](crate::key::index_key).
    const LISTS_KEYS: bool;

    /// The value under `key`, borrowed where the backend holds `Value`s.
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>, BoxError>;

    /// Puts `value` under `key`; whether it replaced a value.
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn insert(&mut self, key: &str, value: Value) -> Result<bool, BoxError>;

    /// Removes `key`; whether it was there.
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn remove(&mut self, key: &str) -> Result<bool, BoxError>;

    /// Every key that starts with `start`, in any order. Only called when
    /// [`LISTS_KEYS`](Self::LISTS_KEYS) is true.
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>, BoxError>;

    /// The size in bytes the session would have with `value` under `key`, as
    /// the JSON its store writes; `None` if this backend can't tell. Used by
    /// [`JobSession::with_budget`](crate::JobSession::with_budget).
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn size_with(&self, key: &str, value: &Value) -> Result<Option<usize>, BoxError> {
        let _ = (key, value);
        Ok(None)
    }

    /// The value under `key`, lent for changing in place: `Some(None)` if
    /// there is none, `None` if this backend doesn't lend its values (then
    /// the handle reads, changes and writes back).
    fn value_mut(&mut self, key: &str) -> Option<Option<&mut Value>> {
        let _ = key;
        None
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
    const LISTS_KEYS: bool = B::LISTS_KEYS;

    fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>, BoxError> {
        (**self).get(key)
    }

    fn insert(&mut self, key: &str, value: Value) -> Result<bool, BoxError> {
        (**self).insert(key, value)
    }

    fn remove(&mut self, key: &str) -> Result<bool, BoxError> {
        (**self).remove(key)
    }

    fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>, BoxError> {
        (**self).keys_with_prefix(start)
    }

    fn size_with(&self, key: &str, value: &Value) -> Result<Option<usize>, BoxError> {
        (**self).size_with(key, value)
    }

    fn value_mut(&mut self, key: &str) -> Option<Option<&mut Value>> {
        (**self).value_mut(key)
    }
}

/// The three map types share one implementation: `$scan` lists the keys.
macro_rules! map_backend {
    ($(#[$doc:meta])* [$($gen:tt)*] $map:ty, $scan:expr) => {
        $(#[$doc])*
        impl<$($gen)*> SessionBackend for $map {
            const LISTS_KEYS: bool = true;

            fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>, BoxError> {
                Ok(<$map>::get(self, key).map(Cow::Borrowed))
            }

            fn insert(&mut self, key: &str, value: Value) -> Result<bool, BoxError> {
                Ok(<$map>::insert(self, key.to_owned(), value).is_some())
            }

            fn remove(&mut self, key: &str) -> Result<bool, BoxError> {
                Ok(<$map>::remove(self, key).is_some())
            }

            fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>, BoxError> {
                let scan: fn(&Self, &str) -> Vec<String> = $scan;
                Ok(scan(self, start))
            }

            fn value_mut(&mut self, key: &str) -> Option<Option<&mut Value>> {
                Some(<$map>::get_mut(self, key))
            }

            fn size_with(&self, key: &str, value: &Value) -> Result<Option<usize>, BoxError> {
                let now = json_len(self);
                let old = <$map>::get(self, key).map_or(0, |old| entry_len(key, old));
                Ok(Some(now - old + entry_len(key, value)))
            }
        }
    };
}

map_backend!(
    /// Lists keys by a scan of the whole map.
    [H: BuildHasher] HashMap<String, Value, H>,
    |map, start| map.keys().filter(|k| k.starts_with(start)).cloned().collect()
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
    }
);

map_backend!(
    /// Lists keys by a scan of the whole map: `serde_json::Map` has no range
    /// API, and with serde_json's `preserve_order` feature it is not sorted.
    [] Map<String, Value>,
    |map, start| map.keys().filter(|k| k.starts_with(start)).cloned().collect()
);
