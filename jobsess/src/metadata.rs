//! The [`JobMetadata`] trait and its untyped implementation.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::field::Field;

/// A type whose values are stored as the metadata of one job.
///
/// Implement it with `#[derive(JobMetadata)]`, which also makes one typed
/// [`Field`] const per stored field. The derive accepts structs with named
/// fields that derive serde's `Serialize` and `Deserialize`, and follows their
/// `#[serde(...)]` attributes for the stored keys.
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
/// assert_eq!(TranscriptionJob::KEY_PREFIX, "transcription");
/// assert_eq!(TranscriptionJob::FIELD_KEYS, ["fileName"]);
/// assert_eq!(TranscriptionJob::FILE_NAME.name(), "fileName");
/// ```
pub trait JobMetadata: Serialize + DeserializeOwned {
    /// What the derive knows of the type. The consts below read it; it is
    /// one item, not three, because each item an impl defines costs compile
    /// time in every crate that derives the trait.
    const SCHEMA: Schema;

    /// The default prefix of this type's session keys (`job` unless the
    /// derive was given `#[job_metadata(prefix = "...")]`).
    const KEY_PREFIX: &'static str = Self::SCHEMA.key_prefix;

    /// The type's name, for error messages.
    const TYPE_NAME: &'static str = Self::SCHEMA.type_name;

    /// The keys of the stored fields, as serde writes them, in declaration order.
    const FIELD_KEYS: &'static [&'static str] = Self::SCHEMA.field_keys;
}

/// The static description of a [`JobMetadata`] type.
///
/// ```
/// use jobsess::{JobMetadata, Schema};
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// #[job_metadata(prefix = "render")]
/// struct RenderJob { scene: String }
///
/// let schema: Schema = RenderJob::SCHEMA;
/// assert_eq!(schema.key_prefix, "render");
/// assert_eq!(schema.type_name, "RenderJob");
/// assert_eq!(schema.field_keys, ["scene"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// The default prefix of the session keys.
    pub key_prefix: &'static str,
    /// The type's name, for error messages.
    pub type_name: &'static str,
    /// The keys of the stored fields, as serde writes them.
    pub field_keys: &'static [&'static str],
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
    const SCHEMA: Schema = Schema {
        key_prefix: "job",
        type_name: "UntypedJob",
        field_keys: &[],
    };
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
        Field::new(name, Some(null))
    }
}

fn null() -> Value {
    Value::Null
}
