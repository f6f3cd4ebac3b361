//! The fallbacks of [`SessionBackend`]'s provided methods, built on its
//! four required ones. The trait's provided methods call them, and so does
//! a [`Forward`](super::Forward) wrapper whose writes must pass a check, so
//! that each of its writes ends in one checked [`insert`](SessionBackend::insert).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{FieldWrite, SessionBackend};
use crate::error::Result;
use crate::model::codec;
use crate::model::field::Field;
use crate::model::metadata::JobMetadata;
use crate::model::version::{self, FieldRead};

/// Decodes what [`get`](SessionBackend::get) gives.
pub(crate) fn get_decoded<B, T>(backend: &B, key: &str) -> Result<Option<T>>
where
    B: SessionBackend + ?Sized,
    T: DeserializeOwned,
{
    match backend.get(key)? {
        Some(value) => codec::decode_job(key, &value).map(Some),
        None => Ok(None),
    }
}

/// Encodes to a `Value` for [`insert`](SessionBackend::insert).
pub(crate) fn insert_encoded<B, T>(backend: &mut B, key: &str, value: &T) -> Result<bool>
where
    B: SessionBackend + ?Sized,
    T: Serialize + ?Sized,
{
    let value = codec::encode(key, value)?;
    backend.insert(key, value)
}

/// Reads the job first, and refuses to replace a newer one.
pub(crate) fn insert_versioned<B: SessionBackend + ?Sized>(
    backend: &mut B,
    key: &str,
    value: Value,
    version: u32,
) -> Result<bool> {
    if let Some(old) = backend.get(key)? {
        version::check_not_newer(key, &old, version)?;
    }
    backend.insert(key, value)
}

/// The field through [`get_field`](SessionBackend::get_field), and an
/// older job read whole: the handles' one way of reading a field.
pub(crate) fn get_field_decoded<B: SessionBackend + ?Sized, M: JobMetadata, T>(
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

/// Reads the job, patches it and writes it back.
pub(crate) fn set_field<B: SessionBackend + ?Sized>(
    backend: &mut B,
    key: &str,
    write: FieldWrite<'_>,
) -> Result<bool> {
    let Some(job) = backend.get(key)? else {
        return Ok(false);
    };
    let mut job = job.into_owned();
    write.apply(key, &mut job)?;
    backend.insert(key, job)?;
    Ok(true)
}

/// A [`get`](SessionBackend::get) and an [`insert`](SessionBackend::insert),
/// atomic because the backend is borrowed mutably throughout.
pub(crate) fn update<B, F>(backend: &mut B, key: &str, mut f: F) -> Result<bool>
where
    B: SessionBackend + ?Sized,
    F: FnMut(&Value) -> Result<Option<Value>>,
{
    let Some(job) = backend.get(key)? else {
        return Ok(false);
    };
    let new = f(&job)?;
    drop(job);
    if let Some(new) = new {
        backend.insert(key, new)?;
    }
    Ok(true)
}

/// Lists the keys and removes them one by one.
pub(crate) fn remove_with_prefix<B: SessionBackend + ?Sized>(
    backend: &mut B,
    start: &str,
) -> Result<usize> {
    let mut removed = 0;
    for key in backend.keys_with_prefix(start)? {
        removed += usize::from(backend.remove(&key)?);
    }
    Ok(removed)
}
