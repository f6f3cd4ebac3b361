//! What a job is, knowing no backend: the [`JobMetadata`](metadata::JobMetadata)
//! trait and its schema, typed field keys ([`Field`](field::Field),
//! [`FieldKeys`](field::FieldKeys), [`FieldWrite`](field::FieldWrite)), the
//! JSON codec of jobs and fields (serde-faithful, refusing values that
//! would not read back), versions and migrations, and the end of a job
//! ([`status`]: a status field says when a job has ended).
//!
//! It uses only [`error`](crate::error) and the key rules of
//! [`key`](crate::key); every other layer uses it.

pub(crate) mod codec;
pub(crate) mod counter;
pub(crate) mod field;
pub(crate) mod finite;
pub(crate) mod metadata;
pub(crate) mod status;
pub(crate) mod version;
