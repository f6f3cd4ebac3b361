//! A serializer that refuses what would not read back as itself.
//!
//! serde_json writes a NaN or an infinite float as `null`, so a job holding
//! `f64::NAN` would load back as `None`, or fail to load. [`Finite`] wraps
//! any serializer and passes everything through to it, except a non-finite
//! float, which is an error. Compound values wrap each of their elements in
//! [`Checked`], so the check reaches every level of a value in the same
//! single pass that builds the JSON.

use serde::ser::{self, Serialize, Serializer};

/// The message of the error for a non-finite float.
pub(crate) const NON_FINITE: &str =
    "a non-finite float (NaN or infinity) can't be stored: JSON would keep it as null";

/// Wraps a serializer; see the module docs.
pub struct Finite<S>(pub S);

/// A value whose serialization goes through [`Finite`].
pub(crate) struct Checked<'a, T: ?Sized>(pub &'a T);

impl<T: Serialize + ?Sized> Serialize for Checked<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Finite(serializer))
    }
}

fn finite<E: ser::Error>(ok: bool) -> Result<(), E> {
    if ok {
        Ok(())
    } else {
        Err(E::custom(NON_FINITE))
    }
}

/// Forwards methods that take no value to check.
macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $name(self, $($arg: $ty),*) -> Result<S::Ok, S::Error> {
                self.0.$name($($arg),*)
            }
        )*
    };
}

impl<S: Serializer> Serializer for Finite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Finite<S::SerializeSeq>;
    type SerializeTuple = Finite<S::SerializeTuple>;
    type SerializeTupleStruct = Finite<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Finite<S::SerializeTupleVariant>;
    type SerializeMap = Finite<S::SerializeMap>;
    type SerializeStruct = Finite<S::SerializeStruct>;
    type SerializeStructVariant = Finite<S::SerializeStructVariant>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    /// As serde_json's `Value` does, whatever the serializer: a 128-bit
    /// integer is stored only if it fits in 64 bits, so a job reads the
    /// same from a backend that keeps values and one that keeps text.
    fn serialize_i128(self, v: i128) -> Result<S::Ok, S::Error> {
        match (u64::try_from(v), i64::try_from(v)) {
            (Ok(v), _) => self.0.serialize_u64(v),
            (_, Ok(v)) => self.0.serialize_i64(v),
            _ => Err(ser::Error::custom("number out of range")),
        }
    }

    fn serialize_u128(self, v: u128) -> Result<S::Ok, S::Error> {
        match u64::try_from(v) {
            Ok(v) => self.0.serialize_u64(v),
            Err(_) => Err(ser::Error::custom("number out of range")),
        }
    }

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        finite(v.is_finite())?;
        self.0.serialize_f32(v)
    }

    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        finite(v.is_finite())?;
        self.0.serialize_f64(v)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Checked(value))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Checked(value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Checked(value))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Finite)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Finite)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Finite)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(Finite)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Finite)
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(Finite)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(Finite)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// The compound serializers: each element goes through [`Checked`].
macro_rules! compound {
    ($trait:ident, $method:ident) => {
        impl<S: ser::$trait> ser::$trait for Finite<S> {
            type Ok = S::Ok;
            type Error = S::Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
                self.0.$method(&Checked(value))
            }

            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    };
    ($trait:ident, $method:ident, keyed) => {
        impl<S: ser::$trait> ser::$trait for Finite<S> {
            type Ok = S::Ok;
            type Error = S::Error;

            fn $method<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), S::Error> {
                self.0.$method(key, &Checked(value))
            }

            fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
                self.0.skip_field(key)
            }

            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    };
}

compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);
compound!(SerializeStruct, serialize_field, keyed);
compound!(SerializeStructVariant, serialize_field, keyed);

impl<S: ser::SerializeMap> ser::SerializeMap for Finite<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        self.0.serialize_key(&Checked(key))
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_value(&Checked(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn to_value<T: Serialize>(value: &T) -> Result<serde_json::Value, serde_json::Error> {
        value.serialize(Finite(serde_json::value::Serializer))
    }

    #[test]
    fn finite_values_pass_through_unchanged() {
        #[derive(serde::Serialize)]
        enum E {
            N(f32),
            S { x: f64 },
            T(f64, f64),
        }
        let value = (
            1.5_f64,
            Some(2.0_f32),
            vec![E::N(1.0), E::S { x: -0.0 }, E::T(3.0, 4.0)],
            BTreeMap::from([("k", 1.25_f64)]),
        );
        assert_eq!(
            to_value(&value).unwrap(),
            serde_json::to_value(&value).unwrap()
        );
        assert_eq!(
            to_value(&json!({"a": [1, "b"]})).unwrap(),
            json!({"a": [1, "b"]})
        );
    }

    #[test]
    fn non_finite_floats_are_refused_at_every_level() {
        #[derive(serde::Serialize)]
        struct Inner {
            v: Vec<Option<f64>>,
        }
        #[derive(serde::Serialize)]
        struct Outer {
            inner: Inner,
        }
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(to_value(&bad).is_err());
            assert!(to_value(&Some(bad)).is_err());
            assert!(to_value(&(1, bad)).is_err());
            assert!(to_value(&BTreeMap::from([("k", bad)])).is_err());
            let err = to_value(&Outer {
                inner: Inner {
                    v: vec![Some(1.0), Some(bad)],
                },
            })
            .unwrap_err();
            assert_eq!(err.to_string(), NON_FINITE);
        }
        assert!(to_value(&f32::NAN).is_err());
    }
}
