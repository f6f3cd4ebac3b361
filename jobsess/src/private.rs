//! What the code that `#[derive(JobMetadata)]` generates needs, and
//! nothing else. Not a public API.

pub use serde;
pub use serde_json;

pub use crate::model::codec::{plain_decode, plain_encode, plain_missing};
use crate::model::field::Field;
pub use crate::model::field::PathError;
pub use crate::model::metadata::End;
pub use crate::model::status::status_end;
pub use crate::model::version::{MigrateFrom, migrate};
use serde_json::Value;

/// The serializer a `serialize_with` function is handed: serde_json's,
/// refusing non-finite floats, tracking the path of an error.
pub type Serializer<'a> = serde_path_to_error::Serializer<
    'a,
    'a,
    crate::model::finite::Finite<serde_json::value::Serializer>,
>;

/// The deserializer a `deserialize_with` function is handed: the stored
/// JSON, tracking the path of an error.
pub type Deserializer<'a> = serde_path_to_error::Deserializer<'a, 'a, &'a Value>;

/// The key of a field that goes through its type's own serde impls.
pub use crate::model::codec::plain as field;

/// A type's [`Schema`](crate::Schema), as the derive makes it.
#[must_use]
pub const fn schema(
    key_prefix: &'static str,
    type_name: &'static str,
    field_keys: &'static [&'static str],
    version: Option<u32>,
) -> crate::model::metadata::Schema {
    crate::model::metadata::Schema {
        key_prefix,
        type_name,
        field_keys,
        version,
    }
}

/// The key of a field with `with`, `serialize_with` or
/// `deserialize_with`: the derive passes the functions of each direction.
#[must_use]
pub const fn field_with<M, T>(
    name: &'static str,
    encode: fn(&T) -> Result<Value, PathError>,
    decode: fn(&Value) -> Result<T, PathError>,
    missing: Option<crate::model::field::MissingFn<T>>,
) -> Field<M, T> {
    Field::new(name, encode, decode, missing)
}

/// `field` with serde's default for an absent field.
#[must_use]
pub const fn default<M, T>(field: Field<M, T>, default: fn() -> T) -> Field<M, T> {
    field.set_default(default)
}

/// `field` with `#[serde(alias = "...")]` keys.
#[must_use]
pub const fn aliases<M, T>(field: Field<M, T>, aliases: &'static [&'static str]) -> Field<M, T> {
    field.set_aliases(aliases)
}

/// `field` with `#[serde(skip_serializing_if = "...")]`.
#[must_use]
pub const fn skip_if<M, T>(field: Field<M, T>, skip_if: fn(&T) -> bool) -> Field<M, T> {
    field.set_skip_if(skip_if)
}

/// Encodes through a `serialize_with` function, called by `encode`.
///
/// # Errors
/// What the function fails with, and where.
pub fn encode_with(
    encode: impl for<'a> FnOnce(Serializer<'a>) -> Result<Value, serde_json::Error>,
) -> Result<Value, PathError> {
    let mut track = serde_path_to_error::Track::new();
    let result = encode(serde_path_to_error::Serializer::new(
        crate::model::codec::value_serializer(),
        &mut track,
    ));
    result.map_err(|source| PathError::at(track.path(), source))
}

/// Decodes `value` through a `deserialize_with` function, called by `decode`.
///
/// # Errors
/// What the function fails with, and where.
pub fn decode_with<T>(
    value: &Value,
    decode: impl for<'a> FnOnce(Deserializer<'a>) -> Result<T, serde_json::Error>,
) -> Result<T, PathError> {
    let mut track = serde_path_to_error::Track::new();
    let result = decode(serde_path_to_error::Deserializer::new(value, &mut track));
    result.map_err(|source| PathError::at(track.path(), source))
}
