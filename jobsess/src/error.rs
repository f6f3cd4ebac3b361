//! The error type of every jobsess operation.

/// A boxed error from a session backend (tower-sessions, actix-session, Redis...).
///
/// ```
/// let err: jobsess::BoxError = "connection refused".into();
/// assert_eq!(err.to_string(), "connection refused");
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`] as its error type.
///
/// ```
/// fn id_ok(id: &str) -> jobsess::Result<()> {
///     jobsess::key::validate_job_id(id)
/// }
/// assert!(id_ok("job-1").is_ok());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in a jobsess operation.
///
/// Every variant names the session key it was about, and decoding errors
/// also name the Rust type and the path inside the stored value:
///
/// ```
/// use jobsess::{JobMetadata, JobSession};
/// use serde::{Deserialize, Serialize};
/// use std::collections::HashMap;
///
/// #[derive(Serialize, Deserialize, JobMetadata)]
/// #[job_metadata(prefix = "transcription")]
/// struct TranscriptionJob {
///     file_info: FileInfo,
/// }
/// #[derive(Serialize, Deserialize)]
/// struct FileInfo {
///     size: u64,
/// }
///
/// let mut session = HashMap::new();
/// session.insert(
///     "transcription_job-123".to_owned(),
///     serde_json::json!({ "file_info": { "size": "big" } }),
/// );
/// let jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
/// let err = jobs.load("job-123").err().expect("the entry is corrupt");
/// assert_eq!(
///     err.to_string(),
///     r#"transcription_job-123 as TranscriptionJob: file_info.size: invalid type: string "big", expected u64"#
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key prefix that is empty, too long, or not made of ASCII letters,
    /// digits and `-`.
    #[error("invalid job prefix {prefix:?}: {reason}")]
    InvalidPrefix {
        /// The rejected prefix.
        prefix: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// A job id that is empty, too long, or holds control characters.
    #[error("invalid job id {id:?}: {reason}")]
    InvalidJobId {
        /// The rejected id (cut to a readable length).
        id: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// The value stored under `key` could not be decoded as `type_name`.
    #[error("{key} as {type_name}: {path}: {source}")]
    Decode {
        /// The session key.
        key: String,
        /// The Rust type it was decoded as.
        type_name: String,
        /// Where in the value decoding failed (`file_info.size`, `.` for the root).
        path: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },

    /// A value could not be encoded as JSON, or would not read back as
    /// itself (a NaN or infinite float, which JSON keeps as `null`). Nothing
    /// was written.
    #[error("{key} as {type_name}: {path}: cannot encode: {source}")]
    Encode {
        /// The session key.
        key: String,
        /// The Rust type that was encoded.
        type_name: String,
        /// Where in the value encoding failed (`progress`, `.` for the root).
        path: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },

    /// The value under `key` is not a JSON object, so it has no fields.
    #[error(
        "{key} as {type_name}: stored value is {found}, expected a JSON object of job metadata"
    )]
    NotAnObject {
        /// The session key.
        key: String,
        /// The Rust type the job was read or written as.
        type_name: String,
        /// The JSON kind found instead (`a string`, `null`...).
        found: &'static str,
    },

    /// A field was written to a job that is not there (in the session, or
    /// in the job store).
    #[error("{key}: no such job")]
    JobNotFound {
        /// The session key.
        key: String,
    },

    /// A write would make the session larger than the budget it was given.
    #[error(
        "{key}: storing it would make the session {size} bytes, over its budget of {budget} bytes"
    )]
    OverBudget {
        /// The session key.
        key: String,
        /// The size the session would have had.
        size: usize,
        /// The budget.
        budget: usize,
    },

    /// An [`update`](crate::JobSession::update) found the job changed by
    /// another writer between its read and its write, `attempts` times in a
    /// row, and gave up; nothing was written by it. Only backends that
    /// update optimistically (the Redis job store) return it.
    #[error("{key}: changed by another writer during each of {attempts} update attempts")]
    Conflict {
        /// The session key.
        key: String,
        /// How many times the update was tried.
        attempts: u32,
    },

    /// The job under `key` was written by a newer release, at a version of
    /// its metadata type above the one this release knows: a rolling
    /// deploy. It is left as it is; reads and whole writes refuse it, field
    /// writes keep the fields this release doesn't know.
    #[error(
        "{key}: stored at version {found} of its metadata, newer than version {known}, the newest this release knows; the job is left as it is"
    )]
    NewerVersion {
        /// The session key.
        key: String,
        /// The version the job was stored at.
        found: u32,
        /// The newest version this release knows.
        known: u32,
    },

    /// A job stored at an older version of `type_name` could not be migrated
    /// to the current one: a `TryFrom` migration said no, or no type of that
    /// version is in the `migrate_from` chain.
    #[error("{key}: migrating {type_name} from version {from} to version {to} failed: {source}")]
    Migration {
        /// The session key.
        key: String,
        /// The type migrated to.
        type_name: String,
        /// The version the job was stored at.
        from: u32,
        /// The version migrated to.
        to: u32,
        /// Why it failed.
        #[source]
        source: BoxError,
    },

    /// An owner token of a server-side job store that is not 16 to 128
    /// ASCII letters, digits, `-` or `_`.
    #[error("invalid job owner token")]
    InvalidOwner,

    /// A value the store can't keep, refused before anything was written:
    /// PostgreSQL's `jsonb` holds no NUL character (`\u0000`) in a string
    /// or a key. The client's input, not a failing store: 422.
    #[error("{key}: {path}: {reason}; nothing was written")]
    Unstorable {
        /// The session key.
        key: String,
        /// Where in the job the value is (`file_name`, `notes[2]`...).
        path: String,
        /// What the store can't keep.
        reason: &'static str,
    },

    /// An increment ([`increment_field`](crate::AsyncJobSession::increment_field))
    /// whose sum the field's type can't hold; nothing was written.
    #[error(
        "{key}: adding {by} to field {field:?} leaves the range of its type; nothing was written"
    )]
    Overflow {
        /// The session key.
        key: String,
        /// The field's key.
        field: String,
        /// What was to be added.
        by: i64,
    },

    /// A job reference (`jobsess::store::JobRef`) that opens no job:
    /// malformed, altered, expired, or made by another store. 400.
    #[error("job reference to {job:?} opens nothing: {reason}")]
    InvalidReference {
        /// The job the reference names (its key, as the reference gives it).
        job: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The backend failed: the session's store, or a server-side job
    /// store, which it names.
    #[error("{backend} failed to {op} {key}: {source}")]
    Backend {
        /// Which backend: `session backend`, `the Redis job store`, `the
        /// PostgreSQL job store`.
        backend: &'static str,
        /// What was attempted.
        op: Op,
        /// The session key (or prefix, for `list`).
        key: String,
        /// The backend's own error.
        #[source]
        source: BoxError,
    },
}

/// What a backend was doing when it failed, for [`Error::Backend`].
///
/// ```
/// assert_eq!(jobsess::Op::Write.to_string(), "write");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Reading a value.
    Read,
    /// Writing a value.
    Write,
    /// Removing a value.
    Remove,
    /// Listing keys.
    List,
    /// Measuring the session, for a size budget.
    Measure,
    /// Updating the id index after the job itself was written: the job *is*
    /// stored, only the index doesn't list it yet.
    UpdateIndex,
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Op::Read => "read",
            Op::Write => "write",
            Op::Remove => "remove",
            Op::List => "list",
            Op::Measure => "measure",
            Op::UpdateIndex => "add to the id index (the job itself is stored)",
        })
    }
}

impl Error {
    /// The error of a backend that failed to do `op` on `key`: the one
    /// constructor every backend uses, this crate's and third parties'.
    ///
    /// ```
    /// use jobsess::{Error, Op};
    /// let err = Error::backend(Op::Read, "job_a", "connection refused");
    /// assert_eq!(err.to_string(), "session backend failed to read job_a: connection refused");
    /// ```
    pub fn backend(op: Op, key: &str, source: impl Into<BoxError>) -> Error {
        Error::Backend {
            backend: "session backend",
            op,
            key: key.to_owned(),
            source: source.into(),
        }
    }

    /// The error of the server-side job store `store` (`the Redis job
    /// store`...), which failed to do `op` on `key`: as
    /// [`backend`](Self::backend), naming the store, since no session
    /// holds its jobs.
    ///
    /// ```
    /// use jobsess::{Error, Op};
    /// let err = Error::store_backend("the Redis job store", Op::Write, "job_a", "timed out");
    /// assert_eq!(err.to_string(), "the Redis job store failed to write job_a: timed out");
    /// ```
    pub fn store_backend(
        store: &'static str,
        op: Op,
        key: &str,
        source: impl Into<BoxError>,
    ) -> Error {
        Error::Backend {
            backend: store,
            op,
            key: key.to_owned(),
            source: source.into(),
        }
    }

    /// The session key this error is about, if it is about one.
    ///
    /// ```
    /// let err = jobsess::Error::JobNotFound { key: "job_a".into() };
    /// assert_eq!(err.key(), Some("job_a"));
    /// ```
    #[must_use]
    pub fn key(&self) -> Option<&str> {
        match self {
            Error::Decode { key, .. }
            | Error::Encode { key, .. }
            | Error::NotAnObject { key, .. }
            | Error::JobNotFound { key }
            | Error::OverBudget { key, .. }
            | Error::Conflict { key, .. }
            | Error::NewerVersion { key, .. }
            | Error::Migration { key, .. }
            | Error::Backend { key, .. } => Some(key),
            Error::InvalidReference { job, .. } => Some(job),
            Error::Overflow { key, .. } | Error::Unstorable { key, .. } => Some(key),
            Error::InvalidPrefix { .. } | Error::InvalidJobId { .. } | Error::InvalidOwner => None,
        }
    }

    /// The same error with `prefix` taken off the front of its key: what a
    /// backend that keeps its jobs under longer keys of its own gives back.
    #[cfg(feature = "memory-store")]
    pub(crate) fn without_key_prefix(mut self, prefix: &str) -> Error {
        match &mut self {
            Error::Decode { key, .. }
            | Error::Encode { key, .. }
            | Error::NotAnObject { key, .. }
            | Error::JobNotFound { key }
            | Error::OverBudget { key, .. }
            | Error::Conflict { key, .. }
            | Error::NewerVersion { key, .. }
            | Error::Migration { key, .. }
            | Error::Backend { key, .. }
            | Error::Overflow { key, .. }
            | Error::Unstorable { key, .. } => {
                if let Some(rest) = key.strip_prefix(prefix) {
                    *key = rest.to_owned();
                }
            }
            Error::InvalidReference { .. }
            | Error::InvalidPrefix { .. }
            | Error::InvalidJobId { .. }
            | Error::InvalidOwner => {}
        }
        self
    }

    /// The HTTP status code that answers this error in a web handler: 400
    /// for a bad id or prefix, 404 for a missing job, 413 for a session over
    /// its budget, 422 for a value the store can't keep, 503 for a backend
    /// that failed (a store that is down or timed out: the request can be
    /// retried; the web integrations add `Retry-After: 1`), 409 for an
    /// update that kept losing to other writers or an increment past its
    /// field type's range, 503 for a job written by a newer release (during
    /// a rolling deploy, an instance of that release can serve it), 500 for stored
    /// data that doesn't decode or migrate.
    ///
    /// ```
    /// let err = jobsess::Error::JobNotFound { key: "job_a".into() };
    /// assert_eq!(err.http_status(), 404);
    /// ```
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            Error::InvalidPrefix { .. }
            | Error::InvalidJobId { .. }
            | Error::InvalidReference { .. } => 400,
            Error::InvalidOwner => 500,
            Error::JobNotFound { .. } => 404,
            Error::OverBudget { .. } => 413,
            Error::Unstorable { .. } => 422,
            Error::Conflict { .. } | Error::Overflow { .. } => 409,
            Error::Backend { .. } | Error::NewerVersion { .. } => 503,
            Error::Decode { .. }
            | Error::Encode { .. }
            | Error::NotAnObject { .. }
            | Error::Migration { .. } => 500,
        }
    }

    /// Whether the caller's input was at fault (a bad id or prefix, a job that
    /// does not exist, a value over budget), as opposed to the stored data or the
    /// backend. Web integrations answer these with a 4xx status.
    ///
    /// ```
    /// let err = jobsess::Error::JobNotFound { key: "job_a".into() };
    /// assert!(err.is_client_error());
    /// ```
    #[must_use]
    pub fn is_client_error(&self) -> bool {
        self.http_status() < 500
    }
}

/// `std::any::type_name` without module paths: `Option<PluginInfo>`, not
/// `core::option::Option<my_app::PluginInfo>`.
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    short_name(std::any::type_name::<T>())
}

/// A full type name (`std::any::type_name`) without module paths.
pub(crate) fn short_name(full: &str) -> String {
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

/// The error for the value under `key`, read or written as an `M`, that is
/// no JSON object.
pub(crate) fn not_an_object<M: ?Sized>(key: &str, value: &serde_json::Value) -> Error {
    not_an_object_named(key, std::any::type_name::<M>(), value)
}

/// [`not_an_object`] for a type known by its full name.
pub(crate) fn not_an_object_named(key: &str, type_name: &str, value: &serde_json::Value) -> Error {
    use serde_json::Value;
    Error::NotAnObject {
        key: key.to_owned(),
        type_name: short_name(type_name),
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
