//! [`Indexed`]: a store that can't list its keys (a tower-sessions
//! `Session`) made a backend, with an id index per prefix kept in the
//! store; and the index's format.

use serde::de;
use serde_json::Value;

use super::{AsyncKeyValue, AsyncSessionBackend, FieldWrite};
use crate::error::{Error, Op, Result};
use crate::key;

/// Makes a store that can't list its keys ([`AsyncKeyValue`]) a backend:
/// the ids of each prefix are kept in the store, in an index under
/// [`key::index_key`] (`__jobsess_index.{prefix}`), which no job key can equal.
///
/// The index can't lose a job and never stops the others:
/// - every `store` of a job that the index doesn't list adds it, so a job
///   the index lost (to a concurrent request's save, or to other code) is
///   listed again when it is next stored;
/// - an index that is not a list of ids is ignored with a logged warning and
///   rebuilt by the next stores; entries that are not strings are dropped;
/// - if the index can't be written after the job was, the error says the
///   job *is* stored ([`Op::UpdateIndex`]);
/// - listing checks each id's job, drops ids whose job is gone, never
///   repeats an id, and leaves out (with a warning) ids the handles would
///   reject; `clear()` removes those too.
///
/// `delete` leaves the id in the index; the next listing drops it.
#[derive(Debug, Clone, Default)]
pub struct Indexed<S>(S);

impl<S> Indexed<S> {
    /// Keeps an id index in `store`.
    ///
    /// ```
    /// # use jobsess::Indexed;
    /// let indexed = Indexed::new(());
    /// # let () = indexed.into_inner();
    /// ```
    pub fn new(store: S) -> Self {
        Indexed(store)
    }

    /// The store inside.
    ///
    /// ```
    /// # use jobsess::Indexed;
    /// assert_eq!(Indexed::new(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> S {
        self.0
    }
}

impl<S: AsyncKeyValue> Indexed<S> {
    /// The ids the index of `prefix` holds, each once, in index order.
    async fn indexed(&self, prefix: &str) -> Result<Vec<String>> {
        let index = key::index_key(prefix);
        Ok(index_ids(&index, self.0.get(&index).await?.as_ref()))
    }
}

impl<S: AsyncKeyValue> AsyncSessionBackend for Indexed<S> {
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        self.0.get(key).await
    }

    /// Writes the job, then adds its id to the index if the index doesn't
    /// list it.
    async fn insert(&self, key: &str, value: Value) -> Result<bool> {
        let replaced = self.0.insert(key, value).await?;
        let Some((prefix, id)) = key::split_job_key(key) else {
            return Ok(replaced);
        };
        let add = async {
            let index_key = key::index_key(prefix);
            let index = self.0.get(&index_key).await?;
            if !index_lists(index.as_ref(), id) {
                let mut ids = index_ids(&index_key, index.as_ref());
                ids.push(id.to_owned());
                self.0.insert(&index_key, index_value(&ids)).await?;
            }
            Ok::<_, Error>(())
        };
        add.await
            .map_err(|err| Error::backend(Op::UpdateIndex, key, err))?;
        Ok(replaced)
    }

    async fn remove(&self, key: &str) -> Result<bool> {
        self.0.remove(key).await
    }

    async fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        let Some(prefix) = start.strip_suffix(key::SEPARATOR) else {
            return Ok(Vec::new());
        };
        let indexed = self.indexed(prefix).await?;
        let mut live = Vec::with_capacity(indexed.len());
        for id in &indexed {
            let key = format!("{start}{id}");
            if self.0.get(&key).await?.is_some() {
                live.push(key);
            }
        }
        if live.len() < indexed.len() {
            // Pruning is upkeep: the listing is right without it.
            let ids: Vec<String> = live.iter().map(|k| k[start.len()..].to_owned()).collect();
            let index = key::index_key(prefix);
            if let Err(err) = self.0.insert(&index, index_value(&ids)).await {
                tracing::warn!(error = %err, "jobsess: could not prune the id index {index}");
            }
        }
        Ok(live)
    }

    /// Field writes patch an existing job, which the index lists already.
    async fn set_field(&self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        let Some(mut job) = self.0.get(key).await? else {
            return Ok(false);
        };
        write.apply(key, &mut job)?;
        self.0.insert(key, job).await?;
        Ok(true)
    }

    /// Removes every indexed job, valid id or not, then the index.
    async fn remove_with_prefix(&self, start: &str) -> Result<usize> {
        let Some(prefix) = start.strip_suffix(key::SEPARATOR) else {
            return Ok(0);
        };
        let mut removed = 0;
        for id in self.indexed(prefix).await? {
            removed += usize::from(self.0.remove(&format!("{start}{id}")).await?);
        }
        self.0.remove(&key::index_key(prefix)).await?;
        Ok(removed)
    }
}

/// The ids in an index value, each once. The index is one string of ids
/// separated by `\n`, which no id can hold (it is a control character), so
/// checking it costs one string copy however many jobs there are. A list of
/// ids (what earlier releases wrote) is read too, dropping entries that are
/// not strings; any other value is ignored with a warning (the next stores
/// rebuild it), so it never fails the other jobs.
fn index_ids(index_key: &str, index: Option<&Value>) -> Vec<String> {
    let mut ids: Vec<String> = match index {
        None => Vec::new(),
        Some(Value::String(ids)) => ids
            .split('\n')
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::Array(ids)) => ids
            .iter()
            .filter_map(|id| id.as_str().map(str::to_owned))
            .collect(),
        Some(other) => {
            let found = unexpected(other);
            tracing::warn!(%index_key, %found, "jobsess: the id index is not a list of ids; ignored, the next stores rebuild it");
            Vec::new()
        }
    };
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.retain(|id| seen.insert(id.clone()));
    ids
}

/// Whether an index value lists `id`.
fn index_lists(index: Option<&Value>, id: &str) -> bool {
    match index {
        Some(Value::String(ids)) => ids.split('\n').any(|listed| listed == id),
        Some(Value::Array(ids)) => ids.iter().any(|listed| listed.as_str() == Some(id)),
        _ => false,
    }
}

/// The value of an index holding `ids`: one string of ids joined by `\n`,
/// or, where an id can't stand in that string (an empty one, or one that
/// holds `\n`, which only other code can have written), the list form, so
/// that rewriting an index never changes which ids it lists.
fn index_value(ids: &[String]) -> Value {
    if ids.iter().any(|id| id.is_empty() || id.contains('\n')) {
        return Value::Array(ids.iter().cloned().map(Value::String).collect());
    }
    Value::String(ids.join("\n"))
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

/// Makes a store that can't list its keys, which implements
/// [`AsyncKeyValue`], an [`AsyncSessionBackend`] that answers as
/// [`Indexed`] over it: what `Indexed::new(store)` does, for a store that
/// must be a backend itself (a tower-sessions `Session`, which the handles
/// and extractors take as it is). The methods that keep the index go to
/// `Indexed`; a read or a removal goes straight to the store (`Indexed`
/// only forwards them), and every other method is the contract's
/// fallback on these, as it is for `Indexed`.
#[cfg(any(feature = "tower-sessions", feature = "tower-sessions-014"))]
macro_rules! indexed_backend {
    ($store:ty) => {
        impl $crate::backend::AsyncSessionBackend for $store {
            fn get(&self, key: &str) -> impl Future<Output = Result<Option<Value>>> + Send {
                AsyncKeyValue::get(self, key)
            }

            fn insert(&self, key: &str, value: Value) -> impl Future<Output = Result<bool>> + Send {
                async move { Indexed::new(self).insert(key, value).await }
            }

            fn remove(&self, key: &str) -> impl Future<Output = Result<bool>> + Send {
                AsyncKeyValue::remove(self, key)
            }

            fn keys_with_prefix(
                &self,
                start: &str,
            ) -> impl Future<Output = Result<Vec<String>>> + Send {
                async move { Indexed::new(self).keys_with_prefix(start).await }
            }

            fn set_field(
                &self,
                key: &str,
                write: $crate::backend::FieldWrite<'_>,
            ) -> impl Future<Output = Result<bool>> + Send {
                async move { Indexed::new(self).set_field(key, write).await }
            }

            fn remove_with_prefix(
                &self,
                start: &str,
            ) -> impl Future<Output = Result<usize>> + Send {
                async move { Indexed::new(self).remove_with_prefix(start).await }
            }
        }
    };
}
#[cfg(any(feature = "tower-sessions", feature = "tower-sessions-014"))]
pub(crate) use indexed_backend;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn index_values() {
        assert!(index_ids("i", None).is_empty());
        let ids = index_ids("i", Some(&json!(["a", 1, "b", "a"])));
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(index_value(&ids), json!("a\nb"));
        assert_eq!(index_ids("i", Some(&index_value(&ids))), ids);
        assert!(index_lists(Some(&json!("a\nb")), "b"));
        assert!(index_lists(Some(&json!(["a", "b"])), "b"));
        assert!(!index_lists(Some(&json!("ab")), "a"));
        assert!(index_ids("i", Some(&json!({"a": 1}))).is_empty());
    }

    #[test]
    fn ids_that_cant_be_joined_keep_the_list_form() {
        let ids = vec![String::new(), "a\nb".to_owned(), "c".to_owned()];
        assert_eq!(index_value(&ids), json!(["", "a\nb", "c"]));
        assert_eq!(index_ids("i", Some(&index_value(&ids))), ids);
    }
}
