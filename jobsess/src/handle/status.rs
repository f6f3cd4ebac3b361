//! The end of a job through the typed handles: `finish` and `fail`, one
//! field write each, for metadata with a status field ([`HasStatus`]).

use crate::backend::{AsyncSessionBackend, SessionBackend};
use crate::error::Result;
use crate::handle::{AsyncJobSession, JobSession};
use crate::model::status::{HasStatus, JobStatus};

impl<M: HasStatus, S: AsyncSessionBackend> AsyncJobSession<M, S> {
    /// Marks job `id` finished: one write of its status field, as
    /// `store_field(id, M::STATUS, &JobStatus::finished())`. Its watch
    /// streams give this last state and end; the server-sent events
    /// helpers then send `done`.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, Status};
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// #[job_metadata(status = status)]
    /// struct Job { file: String, #[serde(default)] status: Status }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job { file: "a.csv".into(), status: Status::Running }).await?;
    /// jobs.finish("a").await?;
    /// assert_eq!(jobs.load_field("a", Job::STATUS).await?, Some(Status::Finished));
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`store_field`](Self::store_field): [`Error::JobNotFound`](crate::Error::JobNotFound)
    /// if there is no such job.
    pub async fn finish(&self, id: &str) -> Result<()> {
        self.store_field(id, M::STATUS, &M::Status::finished())
            .await
    }

    /// Marks job `id` failed for `reason`: one write of its status field,
    /// which ends its watch streams as [`finish`](Self::finish) does.
    ///
    /// ```
    /// # use jobsess::{AsyncJobSession, JobMetadata, Status};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # #[job_metadata(status = status)]
    /// # struct Job { file: String, #[serde(default)] status: Status }
    /// # tokio_test::block_on(async {
    /// let jobs = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    /// jobs.store("a", &Job { file: "a.csv".into(), status: Status::Running }).await?;
    /// jobs.fail("a", "the file is corrupt").await?;
    /// assert_eq!(jobs.load_field("a", Job::STATUS).await?, Some(Status::failed("the file is corrupt")));
    /// # Ok::<(), jobsess::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`finish`](Self::finish).
    pub async fn fail(&self, id: &str, reason: impl Into<String>) -> Result<()> {
        self.store_field(id, M::STATUS, &M::Status::failed(reason.into()))
            .await
    }
}

impl<M: HasStatus, S: SessionBackend> JobSession<M, S> {
    /// Marks job `id` finished: one write of its status field.
    ///
    /// ```
    /// # use jobsess::{JobSession, JobMetadata, Status};
    /// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// #[job_metadata(status = status)]
    /// struct Job { file: String, #[serde(default)] status: Status }
    ///
    /// let mut jobs = JobSession::<Job, _>::new(std::collections::HashMap::new());
    /// jobs.store("a", &Job { file: "a.csv".into(), status: Status::Running })?;
    /// jobs.finish("a")?;
    /// assert_eq!(jobs.load_field("a", Job::STATUS)?, Some(Status::Finished));
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`store_field`](Self::store_field).
    pub fn finish(&mut self, id: &str) -> Result<()> {
        self.store_field(id, M::STATUS, &M::Status::finished())
    }

    /// Marks job `id` failed for `reason`: one write of its status field.
    ///
    /// ```
    /// # use jobsess::{JobSession, JobMetadata, Status};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # #[job_metadata(status = status)]
    /// # struct Job { file: String, #[serde(default)] status: Status }
    /// let mut jobs = JobSession::<Job, _>::new(std::collections::HashMap::new());
    /// jobs.store("a", &Job { file: "a.csv".into(), status: Status::Running })?;
    /// jobs.fail("a", "out of memory")?;
    /// assert_eq!(jobs.load_field("a", Job::STATUS)?, Some(Status::failed("out of memory")));
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`store_field`](Self::store_field).
    pub fn fail(&mut self, id: &str, reason: impl Into<String>) -> Result<()> {
        self.store_field(id, M::STATUS, &M::Status::failed(reason.into()))
    }
}
