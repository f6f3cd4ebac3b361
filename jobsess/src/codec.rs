//! Encoding, decoding and field access on stored values. Every backend and
//! both handles go through these functions; none of them does JSON itself.

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// `std::any::type_name` without module paths: `Option<PluginInfo>`, not
/// `core::option::Option<my_app::PluginInfo>`.
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment_start = 0;
    for (i, c) in full.char_indices() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            continue;
        }
        push_last_segment(&mut out, &full[segment_start..i]);
        out.push(c);
        segment_start = i + c.len_utf8();
    }
    push_last_segment(&mut out, &full[segment_start..]);
    out
}

fn push_last_segment(out: &mut String, path: &str) {
    out.push_str(path.rsplit("::").next().unwrap_or(path));
}

/// Encodes `value` for storage under `key`.
pub(crate) fn encode<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|source| Error::Encode {
        key: key.to_owned(),
        type_name: short_type_name::<T>(),
        source,
    })
}

/// Decodes the value stored under `key` as a `T`, naming the path on failure.
pub(crate) fn decode<T: DeserializeOwned>(key: &str, value: &Value) -> Result<T> {
    decode_at(key, "", value)
}

/// Decodes `value` (found at `field` of the job under `key`, or at its root
/// when `field` is empty). Success takes plain serde, with no overhead; only
/// a failure decodes again with path tracking, to name where it failed.
fn decode_at<T: DeserializeOwned>(key: &str, field: &str, value: &Value) -> Result<T> {
    T::deserialize(value).or_else(|_| {
        serde_path_to_error::deserialize(value).map_err(|err| decode_error::<T>(key, field, err))
    })
}

fn decode_error<T>(
    key: &str,
    field: &str,
    err: serde_path_to_error::Error<serde_json::Error>,
) -> Error {
    let inner = err.path().to_string();
    let path = match (field.is_empty(), inner == ".") {
        (true, _) => inner,
        (false, true) => field.to_owned(),
        (false, false) => format!("{field}.{inner}"),
    };
    Error::Decode {
        key: key.to_owned(),
        type_name: short_type_name::<T>(),
        path,
        source: err.into_inner(),
    }
}

/// The fields of the job object under `key`, or why it has none.
pub(crate) fn as_object<'v>(key: &str, value: &'v Value) -> Result<&'v Map<String, Value>> {
    value.as_object().ok_or_else(|| not_an_object(key, value))
}

fn not_an_object(key: &str, value: &Value) -> Error {
    Error::NotAnObject {
        key: key.to_owned(),
        found: match value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        },
    }
}

/// Decodes one field of the job object under `key` the way serde decodes it
/// as part of the whole struct: present, it is decoded; absent, it takes its
/// default, is `None` for an `Option`, or is a `missing field` error.
pub(crate) fn decode_field<T: DeserializeOwned>(
    key: &str,
    job: &Value,
    field: &'static str,
    default: Option<T>,
) -> Result<T> {
    let fields = as_object(key, job)?;
    match (fields.get(field), default) {
        (Some(value), _) => decode_at(key, field, value),
        (None, Some(default)) => Ok(default),
        (None, None) => T::deserialize(MissingField(field)).map_err(|source| Error::Decode {
            key: key.to_owned(),
            type_name: short_type_name::<T>(),
            path: field.to_owned(),
            source,
        }),
    }
}

/// Replaces one field of the job object under `key`, leaving the others as
/// they are.
pub(crate) fn patch_field(key: &str, job: &mut Value, field: &str, value: Value) -> Result<()> {
    match job {
        Value::Object(fields) => {
            fields.insert(field.to_owned(), value);
            Ok(())
        }
        other => Err(not_an_object(key, other)),
    }
}

/// The ids in an index value; entries that are not strings are dropped.
pub(crate) fn index_ids(index_key: &str, index: Option<&Value>) -> Result<Vec<String>> {
    match index {
        None => Ok(Vec::new()),
        Some(Value::Array(ids)) => Ok(ids
            .iter()
            .filter_map(|id| id.as_str().map(str::to_owned))
            .collect()),
        Some(other) => Err(Error::Decode {
            key: index_key.to_owned(),
            type_name: "job id index".to_owned(),
            path: ".".to_owned(),
            source: de::Error::invalid_type(unexpected(other), &"an array of job ids"),
        }),
    }
}

/// The index after adding `id`, or `None` if it already held it.
pub(crate) fn index_with(mut ids: Vec<String>, id: &str) -> Option<Vec<String>> {
    if ids.iter().any(|known| known == id) {
        return None;
    }
    ids.push(id.to_owned());
    Some(ids)
}

/// The ids of listed keys that start with `start`, sorted.
pub(crate) fn ids_of_keys(start: &str, keys: Vec<String>) -> Vec<String> {
    let mut ids: Vec<String> = keys
        .into_iter()
        .filter_map(|k| k.strip_prefix(start).map(str::to_owned))
        .collect();
    ids.sort_unstable();
    ids
}

/// The value of an index holding `ids`.
pub(crate) fn index_value(ids: &[String]) -> Value {
    Value::Array(ids.iter().cloned().map(Value::String).collect())
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

/// A deserializer for a field that is absent: `None` for an `Option`, a
/// `missing field` error for anything else, as serde does inside a struct.
struct MissingField(&'static str);

impl<'de> Deserializer<'de> for MissingField {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::missing_field(self.0))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_none()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_names() {
        assert_eq!(short_type_name::<Option<String>>(), "Option<String>");
        assert_eq!(
            short_type_name::<std::collections::HashMap<String, Vec<u8>>>(),
            "HashMap<String, Vec<u8>>"
        );
        assert_eq!(short_type_name::<u64>(), "u64");
    }

    #[test]
    fn decode_names_key_type_and_path() {
        let err = decode::<Vec<u32>>("job_a", &json!([1, "x"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"job_a as Vec<u32>: [1]: invalid type: string "x", expected u32"#
        );
    }

    #[test]
    fn field_paths_start_at_the_field() {
        let job = json!({"a": {"b": [true, 3]}});
        let err =
            decode_field::<std::collections::HashMap<String, Vec<bool>>>("job_x", &job, "a", None)
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "job_x as HashMap<String, Vec<bool>>: a.b[1]: invalid type: integer `3`, expected a boolean"
        );
        let err = decode_field::<u8>("job_x", &json!({"a": "no"}), "a", None).unwrap_err();
        assert!(
            err.to_string().starts_with("job_x as u8: a: invalid type"),
            "{err}"
        );
    }

    #[test]
    fn absent_fields_follow_serde() {
        let job = json!({});
        assert_eq!(
            decode_field::<Option<u8>>("k", &job, "f", None).unwrap(),
            None
        );
        assert_eq!(decode_field::<u8>("k", &job, "f", Some(7)).unwrap(), 7);
        let err = decode_field::<u8>("k", &job, "f", None).unwrap_err();
        assert_eq!(err.to_string(), "k as u8: f: missing field `f`");
    }

    #[test]
    fn non_objects_are_named() {
        let err = decode_field::<u8>("k", &json!("s"), "f", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "k: stored value is a string, expected a JSON object of job metadata"
        );
        let mut v = json!(null);
        assert!(patch_field("k", &mut v, "f", json!(1)).is_err());
        assert_eq!(v, json!(null));
    }

    #[test]
    fn patch_keeps_other_fields() {
        let mut v = json!({"a": {"x": [1, 2]}, "b": 1});
        patch_field("k", &mut v, "b", json!(2)).unwrap();
        assert_eq!(v, json!({"a": {"x": [1, 2]}, "b": 2}));
    }

    #[test]
    fn index_values() {
        assert!(index_ids("i", None).unwrap().is_empty());
        let ids = index_ids("i", Some(&json!(["a", 1, "b"]))).unwrap();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(index_value(&ids), json!(["a", "b"]));
        let err = index_ids("i", Some(&json!({"a": 1}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "i as job id index: .: invalid type: map, expected an array of job ids"
        );
    }
}
