//! The [`JobMetadata`] trait and its untyped implementation.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::model::field::Field;

/// A type whose values are stored as the metadata of one job.
///
/// Implement it with `#[derive(JobMetadata)]`, which also makes one typed
/// [`Field`] const per stored field. The derive accepts structs with named
/// fields that derive serde's `Serialize` and `Deserialize`, and follows their
/// `#[serde(...)]` attributes for the stored keys.
///
/// The trait's items are functions with lower-case names, so that no field
/// const (`SCHEMA` for a field `schema`) can ever shadow one of them.
///
/// ```
/// use jobsess::JobMetadata;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, JobMetadata)]
/// #[job_metadata(prefix = "transcription")]
/// #[serde(rename_all = "camelCase")]
/// struct TranscriptionJob {
///     file_name: String,
///     #[serde(skip)]
///     cache: Vec<u8>,
/// }
///
/// assert_eq!(TranscriptionJob::key_prefix(), "transcription");
/// assert_eq!(TranscriptionJob::field_keys(), ["fileName"]);
/// assert_eq!(TranscriptionJob::FILE_NAME.name(), "fileName");
/// ```
///
/// # Versions
///
/// Metadata types change between releases. Give the type a version, keep
/// the previous version as a type of its own, and say how one becomes the
/// other: `From`, or `TryFrom` for a migration that can fail. Chains work:
/// each version names the one before it.
///
/// ```
/// use jobsess::{JobMetadata, JobSession};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, JobMetadata)]
/// #[job_metadata(prefix = "transcription", version = 1)]
/// struct TranscriptionJobV1 { file_name: String, language: String }
///
/// #[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq)]
/// #[job_metadata(prefix = "transcription", version = 2, migrate_from = TranscriptionJobV1)]
/// struct TranscriptionJob { file_name: String, languages: Vec<String> }
///
/// impl From<TranscriptionJobV1> for TranscriptionJob {
///     fn from(v1: TranscriptionJobV1) -> Self {
///         TranscriptionJob { file_name: v1.file_name, languages: vec![v1.language] }
///     }
/// }
///
/// let mut session = std::collections::HashMap::new();
/// let v1 = TranscriptionJobV1 { file_name: "a.mp3".into(), language: "en".into() };
/// JobSession::<TranscriptionJobV1, _>::new(&mut session).store("job-1", &v1)?;
///
/// let jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
/// assert_eq!(jobs.load("job-1")?.unwrap().languages, ["en"]);
/// assert_eq!(jobs.load_field("job-1", TranscriptionJob::LANGUAGES)?, Some(vec!["en".to_owned()]));
/// # Ok::<(), jobsess::Error>(())
/// ```
///
/// The rules:
/// - A job of version 2 or more stores its version in the member
///   [`VERSION_KEY`](crate::VERSION_KEY); version 1 stores none, so it
///   keeps the exact JSON of an unversioned type, and a job with no member
///   is of version 1. Unversioned types are never checked.
/// - Reading a job of an older version (`load`, `load_field`, `entries`)
///   migrates it in memory and does not write it back: a read never
///   writes. Writing one field of it (`store_field`, `update_field`) writes
///   the whole migrated job at the current version, in one
///   read-modify-write; so does `update`, and `store` replaces it.
/// - A job of a newer version (another release during a rolling deploy)
///   is refused by reads and by `update` with
///   [`Error::NewerVersion`](crate::Error::NewerVersion), naming the key
///   and both versions; `store` refuses to replace it
///   ([`store_forced`](crate::JobSession::store_forced) does); `store_field`
///   and `update_field` change their field and keep every other field,
///   including those this release doesn't know.
/// - A failed migration is [`Error::Migration`](crate::Error::Migration),
///   with the key, the type and both versions.
/// - At compile time: `version` is a whole number from 1 up; `migrate_from`
///   names a `JobMetadata` type of a lower version (so no chain can loop)
///   with a `From` or `TryFrom` impl into this one.
pub trait JobMetadata: Serialize + DeserializeOwned {
    /// What the derive knows of the type. The functions below read it; it is
    /// one item, not four, because each item an impl defines costs compile
    /// time in every crate that derives the trait.
    ///
    /// ```
    /// # use jobsess::JobMetadata;
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct RenderJob { scene: String }
    /// assert_eq!(RenderJob::schema().type_name, "RenderJob");
    /// ```
    fn schema() -> &'static Schema;

    /// The default prefix of this type's session keys (`job` unless the
    /// derive was given `#[job_metadata(prefix = "...")]`).
    ///
    /// ```
    /// # use jobsess::JobMetadata;
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct RenderJob { scene: String }
    /// assert_eq!(RenderJob::key_prefix(), "job");
    /// ```
    #[must_use]
    fn key_prefix() -> &'static str {
        Self::schema().key_prefix
    }

    /// The type's name, for error messages.
    ///
    /// ```
    /// # use jobsess::JobMetadata;
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct RenderJob { scene: String }
    /// assert_eq!(RenderJob::type_name(), "RenderJob");
    /// ```
    #[must_use]
    fn type_name() -> &'static str {
        Self::schema().type_name
    }

    /// The keys of the stored fields, as serde writes them, in declaration order.
    ///
    /// ```
    /// # use jobsess::JobMetadata;
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct RenderJob { scene: String, #[serde(rename = "fps")] frames: u32 }
    /// assert_eq!(RenderJob::field_keys(), ["scene", "fps"]);
    /// ```
    #[must_use]
    fn field_keys() -> &'static [&'static str] {
        Self::schema().field_keys
    }

    /// The version given with `#[job_metadata(version = N)]`, for the
    /// derive's compile-time checks of `migrate_from` (an upper-case name
    /// no field const can take: the derive refuses a field that would).
    #[doc(hidden)]
    const __JOBSESS_VERSION: u32 = 1;

    /// Reads the job under `key`, stored at the older version `found`, as
    /// this type: the derive's `migrate_from` chain.
    ///
    /// # Errors
    /// [`Error::Migration`](crate::Error::Migration) here, where no
    /// `migrate_from` is declared.
    #[doc(hidden)]
    fn __migrate(found: u32, key: &str, job: &Value) -> crate::error::Result<Self> {
        let _ = job;
        Err(no_migration::<Self>(found, key))
    }

    /// How the stored job `job` (under `key`, of this version) ended, as
    /// its status field says: the derive's `status`. `None` here, where no
    /// status field is named.
    #[doc(hidden)]
    fn __end(key: &str, job: &Value) -> Option<End> {
        let _ = (key, job);
        None
    }
}

/// How a job ended. A job whose status says it ended ends its `watch`
/// streams after that state, and the server-sent event helpers send one
/// last `done` event.
///
/// ```
/// use jobsess::{End, JobStatus, Status};
/// assert_eq!(Status::Running.end(), None);
/// assert_eq!(Status::Finished.end(), Some(End::Finished));
/// assert_eq!(Status::failed("disk full").end(), Some(End::Failed("disk full".into())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum End {
    /// The job did its work.
    Finished,
    /// The job failed, for the reason given.
    Failed(String),
    /// The job was cancelled before it could end otherwise.
    Cancelled,
}

/// The static description of a [`JobMetadata`] type.
///
/// ```
/// use jobsess::{JobMetadata, Schema};
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// #[job_metadata(prefix = "render")]
/// struct RenderJob { scene: String }
///
/// let schema: &Schema = RenderJob::schema();
/// assert_eq!(schema.key_prefix, "render");
/// assert_eq!(schema.type_name, "RenderJob");
/// assert_eq!(schema.field_keys, ["scene"]);
/// assert_eq!(schema.version, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Schema {
    /// The default prefix of the session keys.
    pub key_prefix: &'static str,
    /// The type's name, for error messages.
    pub type_name: &'static str,
    /// The keys of the stored fields, as serde writes them.
    pub field_keys: &'static [&'static str],
    /// The version of a type derived with `#[job_metadata(version = N)]`;
    /// `None` for an unversioned type, whose jobs are read and written with
    /// no version check.
    pub version: Option<u32>,
}

/// Metadata as a plain JSON object, with no fixed fields: the notebook's
/// `Dict[str, Any]`. Use it with [`JobSession::with_prefix`](crate::JobSession::with_prefix)
/// for any runtime prefix, and [`Field::untyped`] for its fields.
///
/// ```
/// use jobsess::{Field, JobSession, UntypedJob};
/// use serde_json::json;
///
/// let mut session = std::collections::HashMap::new();
/// let mut jobs = JobSession::<UntypedJob, _>::with_prefix(&mut session, "processing")?;
/// jobs.store("task-001", json!({ "status": "running" }).as_object().unwrap())?;
/// jobs.store_field("task-001", Field::untyped("status"), &json!("done"))?;
/// assert_eq!(session["processing_task-001"], json!({ "status": "done" }));
/// # Ok::<(), jobsess::Error>(())
/// ```
pub type UntypedJob = Map<String, Value>;

impl JobMetadata for UntypedJob {
    fn schema() -> &'static Schema {
        &Schema {
            key_prefix: "job",
            type_name: "UntypedJob",
            field_keys: &[],
            version: None,
        }
    }
}

impl Field<UntypedJob, Value> {
    /// The key of field `name` of untyped metadata. An absent field loads as
    /// `null`, as a dict's `.get(name)` gives `None`.
    ///
    /// ```
    /// use jobsess::Field;
    /// assert_eq!(Field::untyped("status").name(), "status");
    /// assert_eq!(Field::untyped("status").default_value(), Some(serde_json::Value::Null));
    /// ```
    #[must_use]
    pub const fn untyped(name: &'static str) -> Self {
        crate::model::codec::plain(name).set_default(null)
    }
}

fn null() -> Value {
    Value::Null
}

/// What a versioned type with no `migrate_from` does with an older job.
pub(crate) fn no_migration<M: JobMetadata>(found: u32, key: &str) -> crate::error::Error {
    crate::error::Error::Migration {
        key: key.to_owned(),
        type_name: M::type_name().to_owned(),
        from: found,
        to: M::schema().version.unwrap_or(1),
        source: "the type declares no `migrate_from`".into(),
    }
}
