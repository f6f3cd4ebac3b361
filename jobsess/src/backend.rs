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

use crate::codec;
use crate::error::{BoxError, Error, Result};
use crate::session::backend_error;

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

    /// Removes every key that starts with `start` in one pass; how many there
    /// were, or `None` if this backend can't (then the handle lists the keys
    /// and removes them one by one). Only called when
    /// [`LISTS_KEYS`](Self::LISTS_KEYS) is true.
    ///
    /// # Errors
    /// Whatever the backend fails with.
    fn remove_with_prefix(&mut self, start: &str) -> Result<Option<usize>, BoxError> {
        let _ = start;
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

/// Applies one field write to the job under `key`; `false` (and nothing
/// written) if there is no such job. This is the one place a stored job is
/// patched, for the sync handle and for `Mutex<B>` async backends.
///
/// Without a budget, a backend that lends its values is patched in place: no
/// copy of the job, the other fields untouched. Otherwise the job is read,
/// patched, measured against the budget and written back; on any error the
/// session is as it was.
pub(crate) fn patch_stored<B: SessionBackend + ?Sized>(
    session: &mut B,
    key: &str,
    write: codec::FieldWrite<'_>,
    budget: Option<usize>,
) -> Result<bool> {
    if budget.is_none() {
        match session.value_mut(key) {
            Some(Some(job)) => return codec::patch_field(key, job, write).map(|()| true),
            Some(None) => return Ok(false),
            None => {}
        }
    }
    let job = session
        .get(key)
        .map_err(|source| backend_error("read", key, source))?;
    let Some(job) = job else {
        return Ok(false);
    };
    let mut job = job.into_owned();
    codec::patch_field(key, &mut job, write)?;
    check_budget(session, key, &job, budget)?;
    session
        .insert(key, job)
        .map_err(|source| backend_error("write", key, source))?;
    Ok(true)
}

/// `Err(OverBudget)` if putting `value` under `key` would make the session
/// larger than `budget` (when the backend can measure itself).
pub(crate) fn check_budget<B: SessionBackend + ?Sized>(
    session: &B,
    key: &str,
    value: &Value,
    budget: Option<usize>,
) -> Result<()> {
    let Some(budget) = budget else {
        return Ok(());
    };
    let size = session
        .size_with(key, value)
        .map_err(|source| backend_error("measure", key, source))?;
    match size {
        Some(size) if size > budget => Err(Error::OverBudget {
            key: key.to_owned(),
            size,
            budget,
        }),
        _ => Ok(()),
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

    fn remove_with_prefix(&mut self, start: &str) -> Result<Option<usize>, BoxError> {
        (**self).remove_with_prefix(start)
    }
}

/// The three map types share one implementation: `$scan` lists the keys of
/// a prefix, `$remove` removes them.
macro_rules! map_backend {
    ($(#[$doc:meta])* [$($gen:tt)*] $map:ty, $scan:expr, $remove:expr) => {
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

            fn remove_with_prefix(&mut self, start: &str) -> Result<Option<usize>, BoxError> {
                let remove: fn(&mut Self, &str) -> usize = $remove;
                Ok(Some(remove(self, start)))
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
        assert_eq!(btree.remove_with_prefix("job_").unwrap(), Some(3));
        assert_eq!(hash.remove_with_prefix("job_").unwrap(), Some(3));
        assert_eq!(map.remove_with_prefix("job_").unwrap(), Some(3));
        let left = ["joa", "job", "job-x_a", "job`", "jobs_a"];
        assert_eq!(btree.keys().collect::<Vec<_>>(), left);
        let mut hash_left: Vec<_> = hash.keys().collect();
        hash_left.sort();
        assert_eq!(hash_left, left);
        assert_eq!(map.keys().collect::<Vec<_>>(), left);
    }
}
