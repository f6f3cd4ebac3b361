//! Versioned metadata: where a stored job keeps its version, and how a job
//! of another version is read.
//!
//! A type derived with `#[job_metadata(version = N)]` stores its jobs with
//! one more member, [`VERSION_KEY`], holding `N`; version 1 stores none, so
//! a type's first version keeps exactly the JSON an unversioned type
//! writes, and a job with no member is a version-1 job. Unversioned types
//! are not checked at all: they read and write exactly as before.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde::de::Error as _;
use serde_json::Value;

use crate::error::{BoxError, Error, Result};
use crate::model::codec;
use crate::model::field::Field;
use crate::model::field::VERSION_KEY;
use crate::model::metadata::JobMetadata;

/// The version the job under `key` was stored at: its [`VERSION_KEY`]
/// member, 1 if it has none.
pub(crate) fn stored<M: ?Sized>(key: &str, job: &Value) -> Result<u32> {
    let Value::Object(fields) = job else {
        return Err(crate::error::not_an_object::<M>(key, job));
    };
    match fields.get(VERSION_KEY) {
        None => Ok(1),
        Some(found) => found
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v >= 1)
            .ok_or_else(|| Error::Decode {
                key: key.to_owned(),
                type_name: "version".to_owned(),
                path: VERSION_KEY.to_owned(),
                source: serde_json::Error::custom(format_args!(
                    "expected a version from 1 up, found {found}"
                )),
            }),
    }
}

/// How the job under `key` stands to `M`'s version: `Equal` (or `M` is not
/// versioned), `Less` (older, to migrate) or `Greater` (newer), with the
/// version found.
pub(crate) fn compare<M: JobMetadata>(key: &str, job: &Value) -> Result<(Ordering, u32)> {
    let Some(known) = M::schema().version else {
        return Ok((Ordering::Equal, 1));
    };
    let found = stored::<M>(key, job)?;
    Ok((found.cmp(&known), found))
}

/// Refuses to replace `old`, the job under `key`, by a job of `version` if
/// it is of a newer one. A value that is no job object, or has no readable
/// version, is not refused: a whole write replaces it.
pub(crate) fn check_not_newer(key: &str, old: &Value, version: u32) -> Result<()> {
    // a value that is no job object is replaced: its error goes unused
    match stored::<Value>(key, old) {
        Ok(found) if found > version => Err(Error::NewerVersion {
            key: key.to_owned(),
            found,
            known: version,
        }),
        _ => Ok(()),
    }
}

/// The error for a job newer than `M` knows.
pub(crate) fn newer<M: JobMetadata>(key: &str, found: u32) -> Error {
    Error::NewerVersion {
        key: key.to_owned(),
        found,
        known: M::schema().version.unwrap_or(1),
    }
}

/// Decodes the job under `key` as `M`, migrating a job of an older version
/// and refusing one of a newer version.
pub(crate) fn decode<M: JobMetadata>(key: &str, job: &Value) -> Result<M> {
    match compare::<M>(key, job)? {
        (Ordering::Equal, _) => codec::decode_job(key, job),
        (Ordering::Greater, found) => Err(newer::<M>(key, found)),
        (Ordering::Less, found) => M::__migrate(found, key, job),
    }
}

/// The job under `key` as JSON of `M`'s version or newer: the job itself, or
/// for an older job, the migrated value encoded at the current version.
pub(crate) fn current<'j, M: JobMetadata>(key: &str, job: &'j Value) -> Result<Cow<'j, Value>> {
    match compare::<M>(key, job)? {
        (Ordering::Less, _) => encode(key, &decode::<M>(key, job)?).map(Cow::Owned),
        _ => Ok(Cow::Borrowed(job)),
    }
}

/// Encodes `value` for `key`, with its version member if `M` has one.
pub(crate) fn encode<M: JobMetadata>(key: &str, value: &M) -> Result<Value> {
    let mut json = codec::encode(key, value)?;
    if let Some(version) = M::schema().version.filter(|v| *v > 1)
        && let Value::Object(fields) = &mut json
    {
        fields.insert(VERSION_KEY.to_owned(), Value::from(version));
    }
    Ok(json)
}

/// The migration of `P`, one version back, to `M`: `M: From<P>`, or
/// `TryFrom<P>` for one that can fail. Implemented for every such pair;
/// the derive names it so that a missing impl is reported in these words.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be migrated from `{P}`",
    label = "`migrate_from` needs `impl From<{P}> for {Self}`",
    note = "implement `From<{P}> for {Self}`, or `TryFrom<{P}>` for a migration that can fail"
)]
pub trait MigrateFrom<P>: Sized {
    /// Migrates `previous`.
    ///
    /// # Errors
    /// What the `TryFrom` impl says.
    fn migrate_from(previous: P) -> Result<Self, BoxError>;
}

impl<P, M> MigrateFrom<P> for M
where
    M: TryFrom<P>,
    M::Error: Into<BoxError>,
{
    fn migrate_from(previous: P) -> Result<Self, BoxError> {
        M::try_from(previous).map_err(Into::into)
    }
}

/// Reads the job under `key`, stored at version `found`, as `P` (the
/// version before `M`'s, migrating further back itself), and migrates it
/// to `M`. What the derive's `__migrate` calls.
pub fn migrate<M, P>(found: u32, key: &str, job: &Value) -> Result<M>
where
    M: JobMetadata + MigrateFrom<P>,
    P: JobMetadata,
{
    let to = M::schema().version.unwrap_or(1);
    let failed = |source: BoxError| Error::Migration {
        key: key.to_owned(),
        type_name: M::type_name().to_owned(),
        from: found,
        to,
        source,
    };
    let previous = match decode::<P>(key, job) {
        Ok(previous) => previous,
        // a version between P's and M's: no type of it is in the chain
        Err(Error::NewerVersion { .. }) => {
            return Err(failed(
                format!(
                    "no type of version {found} in its `migrate_from` chain (the one before \
                     {to} is {} at version {})",
                    P::type_name(),
                    P::schema().version.unwrap_or(1)
                )
                .into(),
            ));
        }
        Err(err) => return Err(err),
    };
    M::migrate_from(previous).map_err(failed)
}

/// The first step of a field read, shared by both handles.
pub(crate) enum FieldRead<T> {
    /// The field (`None`: no such job), from a job of the current version.
    Done(Option<T>),
    /// The job is older: read it whole and take the field of its migration
    /// ([`migrated_field`]).
    Older,
}

/// Reads `field` from `job`, what the backend's `get_field` returned for
/// `key` (the members of [`Field::keys`], or the whole job), refusing a
/// newer job. Both handles' `load_field` start here.
pub(crate) fn read_field<M: JobMetadata, T>(
    key: &str,
    job: Option<&Value>,
    field: &Field<M, T>,
) -> Result<FieldRead<T>> {
    let Some(job) = job else {
        return Ok(FieldRead::Done(None));
    };
    match compare::<M>(key, job)? {
        (Ordering::Equal, _) => {
            codec::decode_field(key, job, field).map(|v| FieldRead::Done(Some(v)))
        }
        (Ordering::Greater, found) => Err(newer::<M>(key, found)),
        (Ordering::Less, _) => Ok(FieldRead::Older),
    }
}

/// `field` of the whole older job under `key` (`None`: gone since the first
/// read), once migrated: the second step of [`read_field`].
pub(crate) fn migrated_field<M: JobMetadata, T>(
    key: &str,
    whole: Option<&Value>,
    field: &Field<M, T>,
) -> Result<Option<T>> {
    let Some(whole) = whole else {
        return Ok(None);
    };
    let current = current::<M>(key, whole)?;
    codec::decode_field(key, &current, field).map(Some)
}
