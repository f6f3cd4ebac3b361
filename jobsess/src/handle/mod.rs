//! The typed handles: [`JobSession`] over a sync backend and
//! [`AsyncJobSession`] over an async one. A handle method is one set of
//! steps, written once and used by both: build the key (`key`), encode or
//! decode (`model`), one backend call of the same name on either contract.
//! The two handles differ in `.await`, and where the async contract does
//! more in one call: `update_field` and `increment_field` are one backend
//! call there (an atomic step in a server-side store), and a read-modify-write
//! of the whole job on the sync one. Here too: read-modify-write
//! ([`update`]), the end of a job (`finish`, `fail`) and the typed watch
//! streams (`watch`).
//!
//! It uses the model and backend layers.

mod async_job_session;
mod job_session;
mod status;
pub(crate) mod update;
#[cfg(feature = "watch")]
pub(crate) mod watch;

pub use async_job_session::AsyncJobSession;
pub use job_session::JobSession;

/// The methods both handles have that don't touch the session: making one,
/// its prefix and keys, and the session inside. `$new_session` makes an
/// empty session of the examples; `$is_empty` checks `jobs.session()`.
macro_rules! handle_accessors {
    ($handle:ident, $backend:ident, $new_session:literal, $is_empty:literal) => {
        impl<M: $crate::model::metadata::JobMetadata, S: $backend> $handle<M, S> {
            /// A handle on `session` for the prefix `M` was derived with.
            ///
            /// ```
            /// # use jobsess::JobMetadata;
            /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
            /// #[job_metadata(prefix = "render")]
            /// struct RenderJob { scene: String }
            ///
            #[doc = concat!("let jobs = jobsess::", stringify!($handle), "::<RenderJob, _>::new(", $new_session, ");")]
            /// assert_eq!(jobs.prefix(), "render");
            /// ```
            pub fn new(session: S) -> Self {
                $handle {
                    session,
                    keys: $crate::key::KeySpace::of(M::key_prefix()),
                    marker: ::std::marker::PhantomData,
                }
            }

            /// A handle on `session` that uses `prefix` instead of `M`'s.
            ///
            /// ```
            /// use jobsess::UntypedJob;
            #[doc = concat!("let jobs = jobsess::", stringify!($handle), "::<UntypedJob, _>::with_prefix(", $new_session, ", \"processing\")?;")]
            /// assert_eq!(jobs.key("task-001")?, "processing_task-001");
            #[doc = concat!("assert!(jobsess::", stringify!($handle), "::<UntypedJob, _>::with_prefix(", $new_session, ", \"bad_prefix\").is_err());")]
            /// # Ok::<(), jobsess::Error>(())
            /// ```
            ///
            /// # Errors
            /// [`Error::InvalidPrefix`](crate::Error::InvalidPrefix) if
            /// `prefix` breaks the [key rules](crate::key).
            pub fn with_prefix(
                session: S,
                prefix: impl Into<::std::borrow::Cow<'static, str>>,
            ) -> $crate::error::Result<Self> {
                Ok($handle {
                    session,
                    keys: $crate::key::KeySpace::checked(prefix)?,
                    marker: ::std::marker::PhantomData,
                })
            }

            /// The prefix of this handle's keys.
            ///
            /// ```
            #[doc = concat!("let jobs = jobsess::", stringify!($handle), "::<jobsess::UntypedJob, _>::new(", $new_session, ");")]
            /// assert_eq!(jobs.prefix(), "job");
            /// ```
            #[must_use]
            pub fn prefix(&self) -> &str {
                self.keys.prefix()
            }

            /// The session key of job `id`: `{prefix}_{id}`.
            ///
            /// ```
            #[doc = concat!("let jobs = jobsess::", stringify!($handle), "::<jobsess::UntypedJob, _>::new(", $new_session, ");")]
            /// assert_eq!(jobs.key("job-123")?, "job_job-123");
            /// assert!(jobs.key("").is_err());
            /// # Ok::<(), jobsess::Error>(())
            /// ```
            ///
            /// # Errors
            /// [`Error::InvalidJobId`](crate::Error::InvalidJobId) for an id
            /// that breaks the [key rules](crate::key).
            pub fn key(&self, id: &str) -> $crate::error::Result<String> {
                self.keys.job(id)
            }

            /// The error that answers "no such job" for job `id` (404 in a
            /// web handler): [`Error::JobNotFound`](crate::Error::JobNotFound)
            /// with its key, or the id's own error if it breaks the key
            /// rules. For a handler that found nothing:
            /// `jobs.load(&id)?.ok_or_else(|| jobs.not_found(&id))`.
            ///
            /// ```
            #[doc = concat!("let jobs = jobsess::", stringify!($handle), "::<jobsess::UntypedJob, _>::new(", $new_session, ");")]
            /// assert_eq!(jobs.not_found("a").to_string(), "job_a: no such job");
            /// assert_eq!(jobs.not_found("a").http_status(), 404);
            /// assert_eq!(jobs.not_found("").http_status(), 400);
            /// ```
            #[must_use]
            pub fn not_found(&self, id: &str) -> $crate::error::Error {
                match self.key(id) {
                    Ok(key) => $crate::error::Error::JobNotFound { key },
                    Err(err) => err,
                }
            }

            /// The session this handle works on.
            ///
            /// ```
            #[doc = concat!("let jobs = jobsess::", stringify!($handle), "::<jobsess::UntypedJob, _>::new(", $new_session, ");")]
            #[doc = concat!("assert!(", $is_empty, ");")]
            /// ```
            #[must_use]
            pub fn session(&self) -> &S {
                &self.session
            }

            /// Gives the session back.
            ///
            /// ```
            #[doc = concat!("let jobs = jobsess::", stringify!($handle), "::<jobsess::UntypedJob, _>::new(", $new_session, ");")]
            /// let session = jobs.into_inner();
            /// # let _ = session;
            /// ```
            pub fn into_inner(self) -> S {
                self.session
            }
        }
    };
}

use handle_accessors;
