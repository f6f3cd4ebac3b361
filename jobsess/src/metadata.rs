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
    fn schema() -> &'static Schema {
        &Schema {
            key_prefix: "job",
            type_name: "UntypedJob",
            field_keys: &[],
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
        crate::__private::default(crate::__private::field(name), null)
    }
}

fn null() -> Value {
    Value::Null
}
