//! The end of a job: the [`JobStatus`] a status field's type
//! implements, jobsess's own [`Status`], and [`HasStatus`], what the derive
//! implements for a type with `#[job_metadata(status = field)]`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::codec;
use crate::model::field::Field;
use crate::model::metadata::{End, JobMetadata};

/// The type of a status field: a value that tells whether its job has
/// ended, and the values a worker writes to finish or fail one. Implement
/// it for an enum of your own, or use jobsess's [`Status`].
///
/// ```
/// use jobsess::{End, JobStatus};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// enum Phase { Uploading, Transcribing, Done, Broken(String) }
///
/// impl JobStatus for Phase {
///     fn end(&self) -> Option<End> {
///         match self {
///             Phase::Done => Some(End::Finished),
///             Phase::Broken(why) => Some(End::Failed(why.clone())),
///             _ => None,
///         }
///     }
///     fn finished() -> Self { Phase::Done }
///     fn failed(reason: String) -> Self { Phase::Broken(reason) }
/// }
/// assert_eq!(Phase::failed("no space".into()).end(), Some(End::Failed("no space".into())));
/// ```
pub trait JobStatus: Serialize + DeserializeOwned {
    /// How the job ended; `None` while it has not.
    fn end(&self) -> Option<End>;
    /// The value that says the job finished.
    fn finished() -> Self;
    /// The value that says the job failed for `reason`.
    fn failed(reason: String) -> Self;
}

/// A job's status as jobsess spells it, for a field marked
/// `#[job_metadata(status = ...)]`. As JSON: `{"state":"running"}`,
/// `{"state":"failed","reason":"disk full"}`...
///
/// ```
/// use jobsess::Status;
/// assert_eq!(serde_json::to_value(Status::Running)?, serde_json::json!({ "state": "running" }));
/// assert_eq!(
///     serde_json::to_value(Status::Failed { reason: "disk full".into() })?,
///     serde_json::json!({ "state": "failed", "reason": "disk full" }),
/// );
/// assert_eq!(Status::default(), Status::Queued);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Waiting for a worker.
    #[default]
    Queued,
    /// A worker has it.
    Running,
    /// It did its work: it has ended.
    Finished,
    /// It failed: it has ended.
    Failed {
        /// Why, as the worker put it.
        reason: String,
    },
    /// It was cancelled: it has ended.
    Cancelled,
}

impl Status {
    /// A failed status for `reason`.
    ///
    /// ```
    /// assert!(matches!(jobsess::Status::failed("x"), jobsess::Status::Failed { .. }));
    /// ```
    #[must_use]
    pub fn failed(reason: impl Into<String>) -> Self {
        Status::Failed {
            reason: reason.into(),
        }
    }
}

impl JobStatus for Status {
    fn end(&self) -> Option<End> {
        match self {
            Status::Queued | Status::Running => None,
            Status::Finished => Some(End::Finished),
            Status::Failed { reason } => Some(End::Failed(reason.clone())),
            Status::Cancelled => Some(End::Cancelled),
        }
    }

    fn finished() -> Self {
        Status::Finished
    }

    fn failed(reason: String) -> Self {
        Status::Failed { reason }
    }
}

/// A metadata type with a status field, the one named by
/// `#[job_metadata(status = field)]`: the derive implements it. Its jobs
/// can be finished and failed in one call
/// ([`AsyncJobSession::finish`](crate::AsyncJobSession::finish),
/// [`fail`](crate::AsyncJobSession::fail)), and their watch streams end
/// once the status says the job ended.
///
/// ```
/// use jobsess::{HasStatus, JobMetadata, Status};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// #[job_metadata(status = status)]
/// struct ExportJob {
///     file: String,
///     #[serde(default)]
///     status: Status,
/// }
/// assert_eq!(<ExportJob as HasStatus>::STATUS.name(), "status");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no status field",
    label = "a job of `{Self}` can't be finished or failed",
    note = "name one with `#[job_metadata(status = field)]`; its type implements `jobsess::JobStatus` (as `jobsess::Status` does)"
)]
pub trait HasStatus: JobMetadata {
    /// The status field's type.
    type Status: JobStatus;
    /// The status field's key.
    const STATUS: Field<Self, Self::Status>;
}

/// How the stored job under `key` ended, as its status field says; `None`
/// while it has not, for a type with no status field, or for a status
/// that doesn't decode (its error comes with the job's own decoding).
#[cfg(feature = "watch")]
pub(crate) fn end_of<M: JobMetadata>(key: &str, job: &Value) -> Option<End> {
    let current = crate::model::version::current::<M>(key, job).ok()?;
    M::__end(key, &current)
}

/// The end of a job of `M`, a type with a status field: what the derive's
/// `__end` calls.
pub fn status_end<M: HasStatus>(key: &str, job: &Value) -> Option<End> {
    codec::decode_field(key, job, &M::STATUS)
        .ok()
        .and_then(|status| status.end())
}
