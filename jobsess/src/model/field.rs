//! Typed field keys: [`Field<M, T>`] and the sealed [`FieldOf`] trait.

use std::fmt;
use std::marker::PhantomData;

use serde_json::Value;

use crate::error::Result;

/// The member of a stored job object that holds its version, for types
/// derived with `#[job_metadata(version = N)]` and `N` above 1. No field
/// can be stored under it: the derive refuses one.
///
/// ```
/// use jobsess::{JobMetadata, JobSession, VERSION_KEY};
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// #[job_metadata(version = 2)]
/// struct Job { file: String }
///
/// let mut session = std::collections::HashMap::new();
/// JobSession::<Job, _>::new(&mut session).store("a", &Job { file: "a.mp3".into() })?;
/// assert_eq!(session["job_a"], serde_json::json!({ "file": "a.mp3", VERSION_KEY: 2 }));
/// # Ok::<(), jobsess::Error>(())
/// ```
pub const VERSION_KEY: &str = "jobsess:version";

/// The typed key of one stored field of the metadata type `M`, whose value
/// is a `T`.
///
/// `#[derive(JobMetadata)]` makes one per stored field, as an associated
/// const named after the field in upper case (`TranscriptionJob::PLUGIN_INFO`),
/// so a misspelt field, a value of the wrong type or a field of another
/// metadata type is a compile error.
///
/// ```
/// use jobsess::{Field, JobMetadata};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, JobMetadata)]
/// struct ExportJob {
///     #[serde(rename = "fileName")]
///     file_name: String,
/// }
///
/// let key: Field<ExportJob, String> = ExportJob::FILE_NAME;
/// assert_eq!(key.name(), "fileName");
/// ```
pub struct Field<M, T> {
    name: &'static str,
    aliases: &'static [&'static str],
    default: Option<fn() -> T>,
    pub(crate) codec: Codec<T>,
    marker: PhantomData<fn() -> M>,
}

/// How one field's value goes to and from JSON: through the field type's
/// own serde impls, or through the functions of its `#[serde(with = "...")]`
/// (`serialize_with`, `deserialize_with`), exactly as the struct's derived
/// impls do; and when `#[serde(skip_serializing_if = "...")]` leaves it out.
pub(crate) struct Codec<T> {
    pub(crate) encode: EncodeFn<T>,
    pub(crate) decode: DecodeFn<T>,
    /// The value of an absent field with no default; `None` with a
    /// `deserialize_with`, for which serde makes that an error.
    pub(crate) missing: Option<MissingFn<T>>,
    pub(crate) skip_if: Option<fn(&T) -> bool>,
    /// For a field through its type's own impls: `T` straight from the
    /// field's JSON text, for backends that keep jobs as text; `None` on
    /// any error, which the `decode` path then names.
    pub(crate) decode_text: Option<fn(&str) -> Option<T>>,
    /// For a field through its type's own impls: the field's JSON text
    /// straight from `T`, for backends that keep jobs as text; `None` on
    /// any error, which the `encode` path then names.
    pub(crate) encode_text: Option<fn(&T) -> Option<String>>,
}

impl<T> Clone for Codec<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Codec<T> {}

/// Encodes one field's value.
pub(crate) type EncodeFn<T> = fn(&T) -> Result<Value, PathError>;
/// Decodes one field's value.
pub(crate) type DecodeFn<T> = fn(&Value) -> Result<T, PathError>;
/// The value of an absent field, named by its key.
#[doc(hidden)]
pub type MissingFn<T> = fn(&'static str) -> Result<T, serde_json::Error>;

/// A serde error and where in the value it happened (`.` for the root).
#[doc(hidden)]
#[derive(Debug)]
pub struct PathError {
    pub(crate) path: String,
    pub(crate) source: serde_json::Error,
}

impl PathError {
    pub(crate) fn new(err: serde_path_to_error::Error<serde_json::Error>) -> Self {
        PathError {
            path: err.path().to_string(),
            source: err.into_inner(),
        }
    }

    pub(crate) fn at(path: serde_path_to_error::Path, source: serde_json::Error) -> Self {
        PathError {
            path: path.to_string(),
            source,
        }
    }
}

impl<M, T> Field<M, T> {
    pub(crate) const fn new(
        name: &'static str,
        encode: EncodeFn<T>,
        decode: DecodeFn<T>,
        missing: Option<MissingFn<T>>,
    ) -> Self {
        Field {
            name,
            aliases: &[],
            default: None,
            codec: Codec {
                encode,
                decode,
                missing,
                skip_if: None,
                decode_text: None,
                encode_text: None,
            },
            marker: PhantomData,
        }
    }

    pub(crate) const fn with_decode_text(mut self, decode_text: fn(&str) -> Option<T>) -> Self {
        self.codec.decode_text = Some(decode_text);
        self
    }

    pub(crate) const fn with_encode_text(mut self, encode_text: fn(&T) -> Option<String>) -> Self {
        self.codec.encode_text = Some(encode_text);
        self
    }

    pub(crate) const fn set_default(mut self, default: fn() -> T) -> Self {
        self.default = Some(default);
        self
    }

    pub(crate) const fn set_aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    pub(crate) const fn set_skip_if(mut self, skip_if: fn(&T) -> bool) -> Self {
        self.codec.skip_if = Some(skip_if);
        self
    }

    /// The key of this field inside the stored JSON object, as serde writes it.
    ///
    /// ```
    /// # use jobsess::JobMetadata;
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct Job { plugin_info: String }
    /// assert_eq!(Job::PLUGIN_INFO.name(), "plugin_info");
    /// ```
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The other keys serde reads this field from (`#[serde(alias = "...")]`),
    /// in the order they were declared. A per-field read accepts them as
    /// serde does; a per-field write stores the field under
    /// [`name`](Self::name) and removes them.
    ///
    /// ```
    /// # use jobsess::JobMetadata;
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct Job { #[serde(alias = "fileName", alias = "file")] file_name: String }
    /// assert_eq!(Job::FILE_NAME.aliases(), ["fileName", "file"]);
    /// ```
    #[must_use]
    pub const fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }

    /// The members of a stored job that a read of this field needs, as a
    /// backend's `get_field` is handed them.
    ///
    /// ```
    /// # use jobsess::{JobMetadata, VERSION_KEY};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct Job { #[serde(alias = "file")] file_name: String }
    /// let keys = Job::FILE_NAME.keys();
    /// assert_eq!(keys.members().collect::<Vec<_>>(), ["file_name", "file", VERSION_KEY]);
    /// ```
    #[must_use]
    pub const fn keys(&self) -> FieldKeys<'static> {
        FieldKeys::new(self.name, self.aliases)
    }

    /// The value serde would use when the field is absent, if the field has a
    /// `#[serde(default)]` (its own or the container's).
    ///
    /// ```
    /// # use jobsess::JobMetadata;
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct Job { #[serde(default)] tags: Vec<String>, name: String }
    /// assert_eq!(Job::TAGS.default_value(), Some(Vec::new()));
    /// assert_eq!(Job::NAME.default_value(), None);
    /// ```
    #[must_use]
    pub fn default_value(&self) -> Option<T> {
        self.default.map(|make| make())
    }
}

impl<M, T> Clone for Field<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T> Copy for Field<M, T> {}

impl<M, T> fmt::Debug for Field<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("name", &self.name)
            .field("aliases", &self.aliases)
            .field("metadata", &crate::error::short_type_name::<M>())
            .field("value", &crate::error::short_type_name::<T>())
            .finish()
    }
}

mod sealed {
    pub trait Sealed {}
    impl<M, T> Sealed for super::Field<M, T> {}
}

/// Implemented by the field keys of the metadata type `M` and nothing else.
///
/// The handle methods that take a field (`load_field`, `store_field`) are
/// generic over it, so a field key of another metadata type is a compile
/// error that says so. It is sealed: only [`Field`] implements it.
///
/// ```
/// use jobsess::{FieldOf, JobMetadata};
/// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// # struct Job { plugin_info: String }
///
/// fn key_of<F: FieldOf<Job>>(field: F) -> &'static str {
///     field.name()
/// }
/// assert_eq!(key_of(Job::PLUGIN_INFO), "plugin_info");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a field of `{M}`",
    label = "this field key belongs to another metadata type",
    note = "use one of the field consts that `#[derive(JobMetadata)]` made on `{M}`"
)]
pub trait FieldOf<M>: sealed::Sealed + Copy {
    /// The type of the field's value.
    type Value;

    /// The key of the field inside the stored JSON object.
    fn name(&self) -> &'static str;

    /// The value serde uses when the field is absent, if it has a default.
    fn default_value(&self) -> Option<Self::Value>;

    /// The key itself; only the handles call it.
    #[doc(hidden)]
    fn field(&self) -> Field<M, Self::Value>;
}

impl<M, T> FieldOf<M> for Field<M, T> {
    type Value = T;

    fn name(&self) -> &'static str {
        self.name
    }

    fn default_value(&self) -> Option<T> {
        Field::default_value(self)
    }

    fn field(&self) -> Field<M, T> {
        *self
    }
}

/// The members of a stored job that a read of one field needs: the field's
/// key, its `alias` keys, and [`VERSION_KEY`](crate::VERSION_KEY), which
/// says whether the job must be migrated or refused. A backend's
/// `get_field` is handed this value and returns the members it lists, so no
/// backend can leave out the version member.
///
/// ```
/// use jobsess::{FieldKeys, VERSION_KEY};
/// let keys = FieldKeys::new("file", &["path"]);
/// assert!(keys.contains("path") && keys.contains(VERSION_KEY));
/// assert!(!keys.contains("progress"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldKeys<'f> {
    name: &'f str,
    aliases: &'f [&'f str],
}

impl<'f> FieldKeys<'f> {
    /// The keys of field `name` with its `aliases`.
    ///
    /// ```
    /// # use jobsess::FieldKeys;
    /// assert_eq!(FieldKeys::new("file", &[]).name(), "file");
    /// ```
    #[must_use]
    pub const fn new(name: &'f str, aliases: &'f [&'f str]) -> Self {
        FieldKeys { name, aliases }
    }

    /// The field's key.
    ///
    /// ```
    /// # use jobsess::FieldKeys;
    /// assert_eq!(FieldKeys::new("file", &["path"]).name(), "file");
    /// ```
    #[must_use]
    pub const fn name(&self) -> &'f str {
        self.name
    }

    /// The field's `alias` keys.
    ///
    /// ```
    /// # use jobsess::FieldKeys;
    /// assert_eq!(FieldKeys::new("file", &["path"]).aliases(), ["path"]);
    /// ```
    #[must_use]
    pub const fn aliases(&self) -> &'f [&'f str] {
        self.aliases
    }

    /// Every member to read: the key, the aliases, then the version member.
    ///
    /// ```
    /// # use jobsess::{FieldKeys, VERSION_KEY};
    /// let members: Vec<_> = FieldKeys::new("file", &["path"]).members().collect();
    /// assert_eq!(members, ["file", "path", VERSION_KEY]);
    /// ```
    pub fn members(&self) -> impl Iterator<Item = &'f str> + use<'f> {
        std::iter::once(self.name)
            .chain(self.aliases.iter().copied())
            .chain(std::iter::once(VERSION_KEY))
    }

    /// Whether `member` is one of [`members`](Self::members).
    ///
    /// ```
    /// # use jobsess::FieldKeys;
    /// assert!(!FieldKeys::new("file", &[]).contains("size"));
    /// ```
    #[must_use]
    pub fn contains(&self, member: &str) -> bool {
        member == self.name || member == VERSION_KEY || self.aliases.contains(&member)
    }

    /// The members of `job` that this read needs, copied out; a value that
    /// is no object is returned whole, for the handle to name what it is.
    ///
    /// ```
    /// # use jobsess::FieldKeys;
    /// # use serde_json::json;
    /// let job = json!({ "file": "a", "size": 3 });
    /// assert_eq!(FieldKeys::new("file", &[]).pick(&job), json!({ "file": "a" }));
    /// ```
    #[must_use]
    pub fn pick(&self, job: &Value) -> Value {
        match job.as_object() {
            Some(stored) => Value::Object(
                stored
                    .iter()
                    .filter(|(member, _)| self.contains(member))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            None => job.clone(),
        }
    }
}

/// The JSON of one field write, encoded once from the field's Rust value:
/// a [`Value`] for backends that keep values, or the JSON text itself for
/// backends that keep text (the Redis and PostgreSQL job stores, which set
/// [`AsyncSessionBackend::FIELD_TEXT`](crate::AsyncSessionBackend::FIELD_TEXT)).
/// A backend takes it in the form it needs with
/// [`into_value`](Self::into_value) or [`into_text`](Self::into_text).
///
/// ```
/// use jobsess::backend::FieldJson;
/// let text = FieldJson::Text("[1,2]".to_owned());
/// assert_eq!(text.clone().into_value()?, serde_json::json!([1, 2]));
/// assert_eq!(FieldJson::Value(serde_json::json!([1, 2])).into_text(), "[1,2]");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldJson {
    /// The field's value.
    Value(Value),
    /// The field's JSON text.
    Text(String),
}

impl FieldJson {
    /// The field's value (text is parsed).
    ///
    /// # Errors
    /// Text that is no JSON, which only a backend of one's own can have
    /// made: the handles make it with `serde_json`.
    pub fn into_value(self) -> Result<Value, serde_json::Error> {
        match self {
            FieldJson::Value(value) => Ok(value),
            FieldJson::Text(text) => serde_json::from_str(&text),
        }
    }

    /// The field's JSON text (a value is encoded).
    #[must_use]
    pub fn into_text(self) -> String {
        match self {
            FieldJson::Value(value) => value.to_string(),
            FieldJson::Text(text) => text,
        }
    }
}

/// One write of one field of a stored job, as the handles hand it to a
/// backend: the field's key, its JSON (`None` when the field's
/// `skip_serializing_if` leaves it out, so the key is removed), and its
/// `alias` keys, which are removed so the job reads as a whole `store` of it.
///
/// ```
/// use jobsess::backend::FieldWrite;
/// use serde_json::json;
///
/// let mut job = json!({ "file": "a", "fileName": "old", "n": 1 });
/// let write = FieldWrite::new("file_name", Some(json!("b")), &["file", "fileName"], "my_app::ExportJob");
/// write.apply("job_a", &mut job)?;
/// assert_eq!(job, json!({ "file_name": "b", "n": 1 }));
/// # Ok::<(), jobsess::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FieldWrite<'f> {
    /// The field's key.
    pub name: &'f str,
    /// The field's JSON, or `None` to remove the key.
    pub value: Option<FieldJson>,
    /// Keys to remove: the field's aliases.
    pub aliases: &'f [&'f str],
    /// The job's Rust type, as `std::any::type_name` gives it, for errors.
    pub job_type: &'static str,
}

impl<'f> FieldWrite<'f> {
    /// A write of `value` (`None`: remove the field) to the field `name`,
    /// removing its `aliases`, of a job of the Rust type `job_type`.
    ///
    /// ```
    /// let write = jobsess::backend::FieldWrite::new("n", None, &[], "my_app::Job");
    /// assert_eq!(write.value, None);
    /// ```
    #[must_use]
    pub fn new(
        name: &'f str,
        value: Option<Value>,
        aliases: &'f [&'f str],
        job_type: &'static str,
    ) -> Self {
        FieldWrite {
            name,
            value: value.map(FieldJson::Value),
            aliases,
            job_type,
        }
    }
}

impl FieldWrite<'_> {
    /// Applies the write to `job`, the value stored under `key`, leaving its
    /// other fields as they are.
    ///
    /// # Errors
    /// [`Error::NotAnObject`](crate::Error::NotAnObject) if `job` is not a JSON object; it is left as it was.
    pub fn apply(self, key: &str, job: &mut Value) -> Result<()> {
        let Value::Object(fields) = job else {
            return Err(crate::error::not_an_object_named(key, self.job_type, job));
        };
        let value = self
            .value
            .map(FieldJson::into_value)
            .transpose()
            .map_err(|err| crate::error::Error::backend(crate::error::Op::Write, key, err))?;
        for alias in self.aliases {
            fields.remove(*alias);
        }
        match value {
            Some(value) => {
                fields.insert(self.name.to_owned(), value);
            }
            None => {
                fields.remove(self.name);
            }
        }
        Ok(())
    }
}
