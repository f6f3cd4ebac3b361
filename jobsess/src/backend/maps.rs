//! The in-memory maps as backends: `HashMap`, `BTreeMap` and
//! `serde_json::Map` of `String` to `Value`, and their [`Measure`].

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use serde_json::{Map, Value};

use super::{FieldWrite, Measure, SessionBackend};
use crate::error::Result;

/// The bytes one `"key":value,` entry takes in a JSON object.
pub(crate) fn entry_len(key: &str, value: &Value) -> usize {
    json_len(key) + json_len(value) + 2
}

fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(0, |bytes| bytes.len())
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
