//! Read-modify-write of one job: [`Updated`], and the steps both handles
//! hand to their backend's `update`.
//!
//! A step reads the stored job, runs the caller's closure on the decoded
//! value and gives back the JSON to write. The backend decides how the
//! read and the write are made one: a map through `&mut`, a `Mutex` under
//! one lock, the Redis job store by retrying when another writer got in
//! between. So a closure may run more than once, and should do nothing but
//! change the value it is given.

use serde_json::Value;

use crate::backend::FieldWrite;
use crate::error::Result;
use crate::model::codec;
use crate::model::field::Field;
use crate::model::metadata::JobMetadata;
use crate::model::version;

/// What a conditional update ([`JobSession::update_if`](crate::JobSession::update_if))
/// did: wrote the changed value, or left the job as it was, because the
/// closure said no.
///
/// ```
/// use jobsess::Updated;
/// let done = Updated::Written(3);
/// assert!(done.is_written());
/// assert_eq!(Updated::Declined(2).into_inner(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Updated<T> {
    /// The closure returned `true`: this value is stored now.
    Written(T),
    /// The closure returned `false`: nothing was written, and this is the
    /// value as stored.
    Declined(T),
}

impl<T> Updated<T> {
    /// Whether the new value was written.
    ///
    /// ```
    /// assert!(!jobsess::Updated::Declined(()).is_written());
    /// ```
    #[must_use]
    pub fn is_written(&self) -> bool {
        matches!(self, Updated::Written(_))
    }

    /// The value, written or as stored.
    ///
    /// ```
    /// assert_eq!(jobsess::Updated::Written("done").into_inner(), "done");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Updated::Written(value) | Updated::Declined(value) => value,
        }
    }
}

/// The step of a whole-job update under `key`: decode, run `f`, encode if
/// it said so. The outcome of the last run is left in `out`.
pub(crate) fn whole<'a, M: JobMetadata>(
    key: &'a str,
    mut f: impl FnMut(&mut M) -> bool + 'a,
    out: &'a mut Option<Updated<M>>,
) -> impl FnMut(&Value) -> Result<Option<Value>> + 'a {
    move |job| {
        let mut value: M = version::decode(key, job)?;
        if !f(&mut value) {
            // `f` may have changed its copy before it said no: the outcome
            // holds the job as stored
            *out = Some(Updated::Declined(version::decode(key, job)?));
            return Ok(None);
        }
        let json = version::encode(key, &value)?;
        *out = Some(Updated::Written(value));
        Ok(Some(json))
    }
}

/// The step of an update of one field: only that field is decoded and
/// written; every other field of the job keeps its stored JSON, also the
/// fields a newer release wrote. A job of an older version is migrated
/// first, and written whole at the current version.
pub(crate) fn field<'a, M: JobMetadata, T>(
    key: &'a str,
    field: &'a Field<M, T>,
    mut f: impl FnMut(&mut T) -> Result<()> + 'a,
    out: &'a mut Option<T>,
) -> impl FnMut(&Value) -> Result<Option<Value>> + 'a {
    move |job| {
        let current = version::current::<M>(key, job)?;
        let mut value = codec::decode_field(key, &current, field)?;
        f(&mut value)?;
        let write = codec::encode_field(key, field, &value, false)?;
        // copied only once there is something to write
        let mut job = current.into_owned();
        write.apply(key, &mut job)?;
        *out = Some(value);
        Ok(Some(job))
    }
}

/// The step of an update of one field made by the backend on the field's
/// members alone ([`AsyncSessionBackend::update_field`](crate::AsyncSessionBackend::update_field)):
/// for a job of the current version, the field is decoded, changed by `f`
/// and encoded as its write; any other version gives `None`, and the
/// caller falls back to [`field`], which migrates. The same result as
/// [`field`] on the whole job.
pub(crate) fn field_only<'a, M: JobMetadata, T>(
    key: &'a str,
    field: &'a Field<M, T>,
    mut f: impl FnMut(&mut T) -> Result<()> + 'a,
    out: &'a mut Option<T>,
    text: bool,
) -> impl FnMut(&Value) -> Result<Option<FieldWrite<'static>>> + 'a {
    move |members| {
        if version::compare::<M>(key, members)?.0 != std::cmp::Ordering::Equal {
            return Ok(None);
        }
        let mut value = codec::decode_field(key, members, field)?;
        f(&mut value)?;
        let write = codec::encode_field(key, field, &value, text)?;
        *out = Some(value);
        Ok(Some(write))
    }
}

/// The change of an increment by `by` of the field `name` of the job under
/// `key`, for [`field`] and [`field_only`]: [`Error::Overflow`](crate::Error::Overflow)
/// past the type's range, so nothing is written.
pub(crate) fn add<'a, T: crate::model::counter::Counter>(
    key: &'a str,
    name: &'a str,
    by: i64,
) -> impl FnMut(&mut T) -> Result<()> + Send + 'a {
    move |value| match value.plus(by) {
        Some(sum) => {
            *value = sum;
            Ok(())
        }
        None => Err(crate::error::Error::Overflow {
            key: key.to_owned(),
            field: name.to_owned(),
            by,
        }),
    }
}

/// The increment a backend can make in one atomic step for `field` of `M`,
/// if it can: a field of an unversioned type that goes through its type's
/// own serde impls, with no `skip_serializing_if`.
pub(crate) fn atomic_increment<M: JobMetadata, T: crate::model::counter::Counter>(
    field: &Field<M, T>,
    by: i64,
) -> Option<crate::backend::Increment<'static>> {
    let plain = field.codec.decode_text.is_some() && field.codec.skip_if.is_none();
    if !plain || M::schema().version.is_some() {
        return None;
    }
    let absent = match field.default_value() {
        Some(default) => Some(default.to_i64()?),
        None => None,
    };
    Some(
        crate::backend::Increment::new(field.name(), by)
            .within(T::MIN, T::MAX)
            .absent_as(absent)
            .with_aliases(field.aliases()),
    )
}

/// The step of a field write on a versioned type: as [`field`], with the
/// value given.
pub(crate) fn write<'a, M: JobMetadata>(
    key: &'a str,
    write: FieldWrite<'a>,
) -> impl FnMut(&Value) -> Result<Option<Value>> + 'a {
    move |job| {
        let mut job = version::current::<M>(key, job)?.into_owned();
        write.clone().apply(key, &mut job)?;
        Ok(Some(job))
    }
}
