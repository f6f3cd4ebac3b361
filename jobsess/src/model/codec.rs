//! Encoding, decoding and field access on stored values. Every backend and
//! both handles go through these functions; none of them does JSON itself.

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserializer, Serialize, ser};
use serde_json::{Map, Value};

use crate::error::{Error, Result, not_an_object, short_type_name};
use crate::model::field::{Field, FieldJson, FieldWrite, PathError};
use crate::model::finite::Finite;

/// The serializer every stored value goes through: serde_json's, refusing
/// non-finite floats (see [`finite`](crate::model::finite)).
pub(crate) fn value_serializer() -> Finite<serde_json::value::Serializer> {
    Finite(serde_json::value::Serializer)
}

/// Encodes `value` with its own `Serialize` impl. Success takes one pass;
/// only a failure encodes again with path tracking, to name where it failed.
pub fn plain_encode<T: Serialize + ?Sized>(value: &T) -> Result<Value, PathError> {
    value.serialize(value_serializer()).map_err(|_| {
        match serde_path_to_error::serialize(value, value_serializer()) {
            Err(err) => PathError::new(err),
            // Not deterministic: report it as a failure at the root.
            Ok(_) => PathError {
                path: ".".to_owned(),
                source: ser::Error::custom("the value failed to encode once and not the next time"),
            },
        }
    })
}

/// Decodes `value` with `T`'s own `Deserialize` impl. Success takes plain
/// serde, with no overhead; only a failure decodes again with path tracking.
pub fn plain_decode<T: DeserializeOwned>(value: &Value) -> Result<T, PathError> {
    T::deserialize(value)
        .or_else(|_| serde_path_to_error::deserialize(value).map_err(PathError::new))
}

/// The key of a field that goes through its type's own serde impls: what
/// the derive makes for a field with no `with`, and [`Field::untyped`].
#[must_use]
pub const fn plain<M, T>(name: &'static str) -> crate::model::field::Field<M, T>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    crate::model::field::Field::new(
        name,
        plain_encode::<T>,
        plain_decode::<T>,
        Some(plain_missing::<T>),
    )
    .with_decode_text(decode_text::<T>)
    .with_encode_text(encode_text::<T>)
}

/// The JSON text of `value` with its own `Serialize` impl, through the
/// same checks as [`plain_encode`]; `None` on any error (the caller encodes
/// again through a `Value` to name it, so that errors read the same on
/// every backend).
pub(crate) fn encode_text<T: Serialize>(value: &T) -> Option<String> {
    let mut text = Vec::with_capacity(32);
    value
        .serialize(Finite(&mut serde_json::Serializer::new(&mut text)))
        .ok()?;
    // serde_json writes UTF-8 only
    String::from_utf8(text).ok()
}

/// `T` from JSON text with its own `Deserialize` impl; `None` on any error
/// (the caller decodes again through a `Value` to name it, so that errors
/// read the same on every backend).
pub(crate) fn decode_text<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_str(text).ok()
}

/// Encodes `value` for storage under `key`.
pub(crate) fn encode<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Value> {
    plain_encode(value).map_err(|err| encode_error::<T>(key, "", err))
}

fn encode_error<T: ?Sized>(key: &str, field: &str, err: PathError) -> Error {
    Error::Encode {
        key: key.to_owned(),
        type_name: short_type_name::<T>(),
        path: join_path(field, &err.path),
        source: err.source,
    }
}

/// The path of `inner` (`.` for the root) inside `field` (empty for the root).
fn join_path(field: &str, inner: &str) -> String {
    match (field.is_empty(), inner == ".") {
        (true, _) => inner.to_owned(),
        (false, true) => field.to_owned(),
        (false, false) if inner.starts_with('[') => format!("{field}{inner}"),
        (false, false) => format!("{field}.{inner}"),
    }
}

/// Decodes the job stored under `key` as an `M`, naming the path on failure.
///
/// A job is a JSON object. serde's derived `Deserialize` would also take a
/// JSON array of the fields in order, which per-field access can't read, so
/// an array is refused here as it is there: both ways agree on the shape.
pub(crate) fn decode_job<M: DeserializeOwned>(key: &str, value: &Value) -> Result<M> {
    as_object::<M>(key, value)?;
    decode(key, value)
}

/// Decodes the job under `key` from a value the backend handed over, moving
/// its strings rather than copying them. `Err(Some(_))` is a final error;
/// `Err(None)` is a failure whose value is gone with it, so the caller reads
/// the job again and decodes it with [`decode_job`], which names the path.
pub(crate) fn decode_job_owned<M: DeserializeOwned>(
    key: &str,
    value: Value,
) -> Result<M, Option<Error>> {
    as_object::<M>(key, &value).map_err(Some)?;
    M::deserialize(value).map_err(|_| None)
}

/// Decodes the job stored under `key` as the JSON text `json`, as
/// [`decode_job`] does, straight from the text.
#[cfg(feature = "actix-session")]
pub(crate) fn decode_job_str<M: DeserializeOwned>(key: &str, json: &str) -> Result<M> {
    if !json.trim_start().starts_with('{') {
        let value: Value = serde_json::from_str(json).map_err(|source| Error::Decode {
            key: key.to_owned(),
            type_name: short_type_name::<M>(),
            path: ".".to_owned(),
            source,
        })?;
        as_object::<M>(key, &value)?;
    }
    serde_json::from_str(json).or_else(|_| {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|err| decode_error::<M>(key, "", PathError::new(err)))
    })
}

/// Decodes the value stored under `key` as a `T`, naming the path on failure.
pub(crate) fn decode<T: DeserializeOwned>(key: &str, value: &Value) -> Result<T> {
    plain_decode(value).map_err(|err| decode_error::<T>(key, "", err))
}

fn decode_error<T>(key: &str, field: &str, err: PathError) -> Error {
    Error::Decode {
        key: key.to_owned(),
        type_name: short_type_name::<T>(),
        path: join_path(field, &err.path),
        source: err.source,
    }
}

/// The fields of the job object under `key`, or why it has none.
pub(crate) fn as_object<'v, M: ?Sized>(
    key: &str,
    value: &'v Value,
) -> Result<&'v Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| not_an_object::<M>(key, value))
}

/// Decodes one field of the job object under `key` the way serde decodes it
/// as part of the whole struct: present under its name or one of its
/// aliases, it is decoded through the field's codec; present more than once,
/// it is serde's `duplicate field` error; absent, it takes its default, is
/// `None` for an `Option`, or is a `missing field` error.
pub(crate) fn decode_field<M, T>(key: &str, job: &Value, field: &Field<M, T>) -> Result<T> {
    let fields = as_object::<M>(key, job)?;
    let found = std::iter::once(field.name())
        .chain(field.aliases().iter().copied())
        .filter_map(|name| fields.get(name));
    decode_entries(key, field, found, |value| (field.codec.decode)(value))
}

/// `field` of a job from its JSON text's entries for the field's name and
/// aliases (`found`, in any order), as [`decode_field`] reads it from a
/// `Value`: straight from the text where the field's codec can, else
/// through a `Value`, so that errors read the same.
#[cfg_attr(not(feature = "actix-session"), allow(dead_code))]
pub(crate) fn decode_field_text<'j, M, T>(
    key: &str,
    field: &Field<M, T>,
    found: impl Iterator<Item = &'j str>,
) -> Result<T> {
    decode_entries(key, field, found, |text| {
        if let Some(value) = field.codec.decode_text.and_then(|decode| decode(text)) {
            return Ok(value);
        }
        let value: Value = serde_json::from_str(text).map_err(|source| PathError {
            path: ".".to_owned(),
            source,
        })?;
        (field.codec.decode)(&value)
    })
}

/// `field` from the entries found under its name and aliases: the one entry
/// decoded with `decode`; more than one is serde's `duplicate field`; none
/// is the field's default, `None` for an `Option`, or `missing field`.
fn decode_entries<M, T, V>(
    key: &str,
    field: &Field<M, T>,
    mut found: impl Iterator<Item = V>,
    decode: impl FnOnce(V) -> Result<T, PathError>,
) -> Result<T> {
    let name = field.name();
    let first = found.next();
    if first.is_some() && found.next().is_some() {
        return Err(Error::Decode {
            key: key.to_owned(),
            type_name: short_type_name::<T>(),
            path: name.to_owned(),
            source: de::Error::duplicate_field(name),
        });
    }
    match (first, field.default_value()) {
        (Some(value), _) => decode(value).map_err(|err| decode_error::<T>(key, name, err)),
        (None, Some(default)) => Ok(default),
        (None, None) => {
            let missing = match field.codec.missing {
                Some(missing) => missing(name),
                // serde's derive makes an absent field with a
                // `deserialize_with` an error, whatever its type.
                None => Err(de::Error::missing_field(name)),
            };
            missing.map_err(|source| Error::Decode {
                key: key.to_owned(),
                type_name: short_type_name::<T>(),
                path: name.to_owned(),
                source,
            })
        }
    }
}

/// What serde's derive makes of an absent field of type `T` with no default
/// and no `deserialize_with`: `None` for an `Option`, else `missing field`.
pub fn plain_missing<T: DeserializeOwned>(name: &'static str) -> Result<T, serde_json::Error> {
    T::deserialize(MissingField(name))
}

/// Encodes `value` for `field` of the job under `key`, once: as JSON text
/// for a backend that keeps text (`text`), where the field goes through
/// its type's own impls; else as a `Value`.
pub(crate) fn encode_field<M, T>(
    key: &str,
    field: &Field<M, T>,
    value: &T,
    text: bool,
) -> Result<FieldWrite<'static>> {
    let codec = field.codec;
    let json = if codec.skip_if.is_some_and(|skip| skip(value)) {
        None
    } else if let Some(json) = codec
        .encode_text
        .filter(|_| text)
        .and_then(|encode| encode(value))
    {
        Some(FieldJson::Text(json))
    } else {
        let value =
            (codec.encode)(value).map_err(|err| encode_error::<T>(key, field.name(), err))?;
        Some(FieldJson::Value(value))
    };
    let mut write = FieldWrite::new(
        field.name(),
        None,
        field.aliases(),
        std::any::type_name::<M>(),
    );
    write.value = json;
    Ok(write)
}

/// The entries of a listing (each key under `start` with its value or the
/// error of its read), decoded as `M`s and sorted by id, as `entries()`
/// hands them out: a key whose id is no valid job id is left out, as
/// [`ids_of_keys`] leaves it out.
pub(crate) fn entries_of<M: crate::JobMetadata>(
    start: &str,
    listed: Vec<(String, Result<Value>)>,
) -> Vec<(String, Result<M>)> {
    let mut entries: Vec<(String, Result<M>)> = listed
        .into_iter()
        .filter_map(|(key, value)| {
            let id = key.strip_prefix(start)?;
            if let Err(err) = crate::key::validate_job_id(id) {
                tracing::warn!(key_start = start, error = %err, "jobsess: a key under the prefix holds no valid job id; left out of entries(), clear() removes it");
                return None;
            }
            let decoded = value.and_then(|job| {
                if M::schema().version.is_none() {
                    decode_job(&key, &job)
                } else {
                    crate::model::version::decode(&key, &job)
                }
            });
            Some((id.to_owned(), decoded))
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.dedup_by(|a, b| a.0 == b.0);
    entries
}

/// The ids of listed keys that start with `start`, sorted, each once, and
/// only those the handles accept: a key other code wrote under an id that
/// `load` or `delete` would reject is left out, with a warning.
pub(crate) fn ids_of_keys(start: &str, keys: Vec<String>) -> Vec<String> {
    let mut ids: Vec<String> = keys
        .into_iter()
        .filter_map(|k| k.strip_prefix(start).map(str::to_owned))
        .filter(|id| match crate::key::validate_job_id(id) {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(key_start = start, error = %err, "jobsess: a key under the prefix holds no valid job id; left out of ids(), clear() removes it");
                false
            }
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
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
    use crate::__private;
    use serde_json::json;

    fn key<T: Serialize + DeserializeOwned>(name: &'static str) -> Field<(), T> {
        __private::field(name)
    }

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
        let err = decode_field::<(), std::collections::HashMap<String, Vec<bool>>>(
            "job_x",
            &job,
            &key("a"),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "job_x as HashMap<String, Vec<bool>>: a.b[1]: invalid type: integer `3`, expected a boolean"
        );
        let err = decode_field::<(), u8>("job_x", &json!({"a": "no"}), &key("a")).unwrap_err();
        assert!(
            err.to_string().starts_with("job_x as u8: a: invalid type"),
            "{err}"
        );
    }

    #[test]
    fn absent_fields_follow_serde() {
        let job = json!({});
        assert_eq!(
            decode_field::<(), Option<u8>>("k", &job, &key("f")).unwrap(),
            None
        );
        let seven = __private::default(key::<u8>("f"), || 7);
        assert_eq!(decode_field("k", &job, &seven).unwrap(), 7);
        let err = decode_field::<(), u8>("k", &job, &key("f")).unwrap_err();
        assert_eq!(err.to_string(), "k as u8: f: missing field `f`");
    }

    #[test]
    fn aliases_are_read_as_serde_reads_them() {
        let field = __private::aliases(key::<u8>("f"), &["g", "h"]);
        assert_eq!(decode_field("k", &json!({"h": 3}), &field).unwrap(), 3);
        assert_eq!(
            decode_field("k", &json!({"f": 1, "x": 2}), &field).unwrap(),
            1
        );
        let err = decode_field("k", &json!({"g": 1, "f": 2}), &field).unwrap_err();
        assert_eq!(err.to_string(), "k as u8: f: duplicate field `f`");
        let mut job = json!({"g": 1, "h": 2, "x": 0});
        let write = encode_field("k", &field, &5, true).unwrap();
        write.apply("k", &mut job).unwrap();
        assert_eq!(job, json!({"f": 5, "x": 0}));
    }

    #[test]
    fn skipped_values_remove_the_key() {
        let field = __private::skip_if(key::<Option<u8>>("f"), Option::is_none);
        let mut job = json!({"f": 1, "x": 0});
        encode_field("k", &field, &None, true)
            .unwrap()
            .apply("k", &mut job)
            .unwrap();
        assert_eq!(job, json!({"x": 0}));
        encode_field("k", &field, &Some(2), true)
            .unwrap()
            .apply("k", &mut job)
            .unwrap();
        assert_eq!(job, json!({"f": 2, "x": 0}));
    }

    #[test]
    fn non_finite_floats_are_refused_with_their_path() {
        let err = encode("job_a", &json!({"a": 1})).map(drop);
        assert!(err.is_ok());
        let err = encode("job_a", &vec![(1.0, f64::NAN)]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("job_a as Vec<(f64, f64)>: [0][1]: cannot encode: a non-finite float"),
            "{err}"
        );
        let err = encode_field("job_a", &key::<Vec<f32>>("v"), &vec![f32::INFINITY], true)
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .starts_with("job_a as Vec<f32>: v[0]: cannot encode"),
            "{err}"
        );
    }

    #[test]
    fn arrays_are_not_jobs() {
        #[derive(serde::Deserialize, Debug)]
        struct Job {
            _a: u8,
        }
        let err = decode_job::<Job>("k", &json!([1])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "k as Job: stored value is an array, expected a JSON object of job metadata"
        );
    }

    #[test]
    fn non_objects_are_named() {
        let err = decode_field::<(), u8>("k", &json!("s"), &key("f")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "k as (): stored value is a string, expected a JSON object of job metadata"
        );
        let mut v = json!(null);
        let write = encode_field("k", &key::<u8>("f"), &1, false).unwrap();
        assert!(write.apply("k", &mut v).is_err());
        assert_eq!(v, json!(null));
    }

    #[test]
    fn patch_keeps_other_fields() {
        let mut v = json!({"a": {"x": [1, 2]}, "b": 1});
        let write = encode_field("k", &key::<u8>("b"), &2, true).unwrap();
        write.apply("k", &mut v).unwrap();
        assert_eq!(v, json!({"a": {"x": [1, 2]}, "b": 2}));
    }

    /// A field through its type's own impls is encoded once, straight to
    /// the form the backend keeps: text and value say the same, and what
    /// one refuses the other refuses with the same error.
    #[test]
    fn text_and_value_encodings_agree() {
        let field = key::<std::collections::BTreeMap<u32, Vec<Option<f64>>>>("m");
        let value = std::collections::BTreeMap::from([(7, vec![Some(1.5), None])]);
        let text = encode_field("k", &field, &value, true).unwrap();
        let plain = encode_field("k", &field, &value, false).unwrap();
        assert!(matches!(text.value, Some(FieldJson::Text(_))));
        assert!(matches!(plain.value, Some(FieldJson::Value(_))));
        assert_eq!(
            text.value.unwrap().into_value().unwrap(),
            plain.value.unwrap().into_value().unwrap()
        );
        for text in [true, false] {
            let err = encode_field("k", &key::<u128>("n"), &u128::MAX, text)
                .err()
                .unwrap();
            assert_eq!(
                err.to_string(),
                "k as u128: n: cannot encode: number out of range",
                "{text}"
            );
            let fits = encode_field("k", &key::<i128>("n"), &-5, text).unwrap();
            assert_eq!(fits.value.unwrap().into_value().unwrap(), json!(-5));
        }
    }
}
