//! The jobs of one owner: [`PostgresOwnerJobs`], the backend whose every
//! operation is one statement, on the store's pool or, through
//! [`PostgresOwnerJobs::in_transaction`], on the app's own transaction.

use super::{sqlx, text};

use std::sync::Arc;
use std::time::{Duration, Instant};

use self::sqlx::postgres::PgRow;
use self::sqlx::types::Json;
use self::sqlx::{PgConnection, PgPool, Row};
use serde_json::Value;

use super::PostgresJobStore;
pub use super::connection::{Connection, InTransaction};
use super::connection::{Statement, storable, storable_text};
use crate::backend::{FieldJson, FieldWrite, Increment, Incremented};
use crate::error::{Error, Op, Result};
use crate::model::field::FieldKeys;
use crate::model::metadata::JobMetadata;
use crate::store::rows::{one_prefix, split, split_for_write};
use crate::store::update::Revised;
use crate::{AsyncJobSession, AsyncSessionBackend};

/// The jobs of one owner in a [`PostgresJobStore`]: an
/// [`AsyncSessionBackend`] whose every operation is one statement (an
/// `update` one read and one revision-checked write). It is not a session:
/// the user's session holds only the owner's token.
///
/// `C` is where the statements run: the store's pool, or the app's
/// transaction ([`in_transaction`](Self::in_transaction)).
pub struct PostgresOwnerJobs<C: Connection = PgPool> {
    pub(super) store: PostgresJobStore,
    pub(super) owner: Arc<str>,
    conn: C,
}

impl Clone for PostgresOwnerJobs {
    fn clone(&self) -> Self {
        PostgresOwnerJobs {
            store: self.store.clone(),
            owner: Arc::clone(&self.owner),
            conn: self.conn.clone(),
        }
    }
}

crate::store::store_owner!(PostgresOwnerJobs, PostgresJobStore, owner);

impl PostgresOwnerJobs {
    pub(super) fn new(store: PostgresJobStore, owner: &str) -> PostgresOwnerJobs {
        let conn = store.pool.clone();
        PostgresOwnerJobs {
            store,
            owner: Arc::from(owner),
            conn,
        }
    }

    /// The same owner's jobs, read and written in the app's transaction
    /// `conn` (a `&mut sqlx::Transaction<Postgres>` derefs to one): they
    /// commit or roll back with the app's own rows. Watchers hear of a
    /// write when it commits.
    ///
    /// ```no_run
    /// use jobsess::{AsyncJobSession, JobMetadata};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct ExportJob { file: String, progress: u8 }
    /// # async fn run(store: jobsess::postgres::PostgresJobStore, token: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// let owner = store.owner(token)?;
    /// let mut tx = store.pool().begin().await?;
    /// sqlx::query("INSERT INTO exports (file) VALUES ($1)").bind("a.csv").execute(&mut *tx).await?;
    /// AsyncJobSession::<ExportJob, _>::new(owner.in_transaction(&mut tx))
    ///     .store("job-1", &ExportJob { file: "a.csv".into(), progress: 0 })
    ///     .await?;
    /// tx.commit().await?; // the export row and the job, or neither
    /// # Ok(()) }
    /// ```
    pub fn in_transaction<'c>(
        &self,
        conn: &'c mut PgConnection,
    ) -> PostgresOwnerJobs<InTransaction<'c>> {
        PostgresOwnerJobs {
            store: self.store.clone(),
            owner: Arc::clone(&self.owner),
            conn: InTransaction(tokio::sync::Mutex::new(conn)),
        }
    }
}

impl<M: JobMetadata> AsyncJobSession<M, PostgresOwnerJobs> {
    /// This handle (its prefix kept) on the app's transaction `conn`; see
    /// [`PostgresOwnerJobs::in_transaction`].
    ///
    /// ```no_run
    /// use jobsess::{JobMetadata, postgres::PostgresJobs};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct ExportJob { file: String, progress: u8 }
    /// async fn start(jobs: PostgresJobs<ExportJob>, pool: sqlx::PgPool) -> Result<(), Box<dyn std::error::Error>> {
    ///     let mut tx = pool.begin().await?;
    ///     jobs.in_transaction(&mut tx).store("job-1", &ExportJob { file: "a.csv".into(), progress: 0 }).await?;
    ///     tx.commit().await?;
    ///     Ok(())
    /// }
    /// ```
    pub fn in_transaction<'c>(
        &self,
        conn: &'c mut PgConnection,
    ) -> AsyncJobSession<M, PostgresOwnerJobs<InTransaction<'c>>> {
        self.with_session(self.session().in_transaction(conn))
    }
}

impl<M: JobMetadata> AsyncJobSession<M, PostgresOwnerJobs<InTransaction<'_>>> {
    /// A reference to job `id` for its worker, as
    /// [`AsyncJobSession::reference`] makes one, written in the app's
    /// transaction: a job stored in it (not yet committed) can have one,
    /// and the job, its reference and the app's queue task commit or roll
    /// back together.
    ///
    /// ```no_run
    /// use jobsess::{JobMetadata, postgres::PostgresJobs};
    /// # #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
    /// # struct ExportJob { file: String, progress: u8 }
    /// async fn start(jobs: PostgresJobs<ExportJob>, pool: sqlx::PgPool) -> Result<(), Box<dyn std::error::Error>> {
    ///     let mut tx = pool.begin().await?;
    ///     let in_tx = jobs.in_transaction(&mut tx);
    ///     in_tx.store("job-1", &ExportJob { file: "a.csv".into(), progress: 0 }).await?;
    ///     let reference = in_tx.reference("job-1").await?;
    ///     drop(in_tx);
    ///     sqlx::query("INSERT INTO tasks (payload) VALUES ($1)")
    ///         .bind(serde_json::to_value(&reference)?)
    ///         .execute(&mut *tx)
    ///         .await?;
    ///     tx.commit().await?; // the job, its reference and the task, or none
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    /// [`Error::JobNotFound`] if the transaction sees no such job; an
    /// invalid id; a failing database.
    pub async fn reference(&self, id: &str) -> Result<crate::store::JobRef> {
        let key = self.key(id)?;
        if !self.contains(id).await? {
            return Err(Error::JobNotFound { key });
        }
        let owner = self.session();
        let references = PostgresOwnerJobs {
            store: owner.store.clone(),
            owner: Arc::from(crate::store::REFERENCES_OWNER),
            conn: &owner.conn,
        };
        crate::store::make_reference(&references, &owner.owner, key).await
    }
}

/// The error of an operation PostgreSQL didn't answer in time.
pub(super) fn timed_out(timeout: Duration) -> String {
    format!("PostgreSQL did not answer within {timeout:?}")
}

impl<C: Connection> PostgresOwnerJobs<C> {
    /// The rows of the statement `build` makes, given the seconds left
    /// before the client gives up (less [`TRIP`]), on a connection taken
    /// for it; everything within the store's timeout.
    async fn fetch<'a>(
        &'a self,
        op: Op,
        key: &str,
        build: impl FnOnce(Duration) -> Statement<'a> + Send + 'a,
    ) -> Result<Vec<PgRow>> {
        let timeout = self.store.timeout;
        let deadline = Instant::now() + timeout;
        let work = super::connection::run(&self.conn, deadline, Box::new(build));
        match self.store.deadlines.run(deadline, work).await {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(err)) => Err(Error::store_backend(super::STORE, op, key, err)),
            Err(_) => Err(Error::store_backend(
                super::STORE,
                op,
                key,
                timed_out(timeout),
            )),
        }
    }

    /// The first row, if any, of the statement `build` makes.
    async fn row<'a>(
        &'a self,
        op: Op,
        key: &str,
        build: impl FnOnce(Duration) -> Statement<'a> + Send + 'a,
    ) -> Result<Option<PgRow>> {
        Ok(self.fetch(op, key, build).await?.into_iter().next())
    }

    /// The job under `key` and its revision.
    pub(super) async fn read(&self, key: &str) -> Result<Option<(i64, Value)>> {
        let Some((prefix, id)) = split(key) else {
            return Ok(None);
        };
        let row = self
            .row(Op::Read, key, |_| {
                sqlx::query(text(&self.store.sql.get))
                    .bind(&*self.owner)
                    .bind(prefix)
                    .bind(id)
            })
            .await?;
        row.map(|row| {
            let Json(data): Json<Value> = row
                .try_get(0)
                .map_err(|e| Error::store_backend(super::STORE, Op::Read, key, e))?;
            let revision: i64 = row
                .try_get(1)
                .map_err(|e| Error::store_backend(super::STORE, Op::Read, key, e))?;
            Ok((revision, data))
        })
        .transpose()
    }

    /// Removes the jobs one statement of `sql/remove*.sql` selects (one
    /// row back, their count); how many live ones there were.
    async fn remove_rows<'a>(
        &'a self,
        op_key: &str,
        build: impl FnOnce(Duration) -> Statement<'a> + Send + 'a,
    ) -> Result<usize> {
        let rows = self.fetch(Op::Remove, op_key, build).await?;
        let mut live = 0;
        for row in rows {
            let count: i64 = row
                .try_get("live")
                .map_err(|e| Error::store_backend(super::STORE, Op::Remove, op_key, e))?;
            live += usize::try_from(count).unwrap_or(0);
        }
        Ok(live)
    }

    /// Why a field write wrote nothing: no live job (`false`), or a job
    /// that is no object (the error that names it).
    async fn why_not_written(&self, key: &str, job_type: &'static str) -> Result<bool> {
        match self.read(key).await? {
            Some((_, job)) if !job.is_object() => {
                Err(crate::error::not_an_object_named(key, job_type, &job))
            }
            _ => Ok(false),
        }
    }
}

impl<C: Connection> Revised for PostgresOwnerJobs<C> {
    type Revision = i64;

    fn update_attempts(&self) -> u32 {
        self.store.settings.update_attempts()
    }

    /// Replaces (or creates) the job under `key`; with `version`, unless the
    /// live job there is newer. Whether a live job was there.
    async fn write_job(&self, key: &str, value: Value, version: Option<u32>) -> Result<bool> {
        let (prefix, id) = split_for_write(super::STORE, key)?;
        storable(key, "", &value)?;
        let sql = &self.store.sql;
        let row = self
            .row(Op::Write, key, |left| {
                sqlx::query(text(&sql.insert))
                    .bind(&*self.owner)
                    .bind(prefix)
                    .bind(id)
                    .bind(Json(value))
                    .bind(self.store.settings.ttl_seconds())
                    .bind(left)
                    .bind(&sql.channel)
                    .bind(version.map(i64::from))
            })
            .await?;
        if let Some(row) = row {
            let live: Option<bool> = row
                .try_get("live")
                .map_err(|e| Error::store_backend(super::STORE, Op::Write, key, e))?;
            return Ok(live == Some(true));
        }
        // refused: the live job there is of a newer version; read which
        let found = self
            .row(Op::Write, key, |_| {
                sqlx::query(text(&sql.version))
                    .bind(&*self.owner)
                    .bind(prefix)
                    .bind(id)
            })
            .await?
            .and_then(|row| row.try_get::<Option<Json<Value>>, _>(0).ok().flatten())
            .and_then(|Json(found)| found.as_u64());
        Err(crate::store::rows::refused(key, version, found))
    }

    async fn read_revised(&self, key: &str) -> Result<Option<(i64, Value)>> {
        self.read(key).await
    }

    async fn write_if_unchanged(&self, key: &str, revision: i64, new: Value) -> Result<bool> {
        let (prefix, id) = split_for_write(super::STORE, key)?;
        storable(key, "", &new)?;
        let sql = &self.store.sql;
        let written = self
            .row(Op::Write, key, |left| {
                sqlx::query(text(&sql.update))
                    .bind(&*self.owner)
                    .bind(prefix)
                    .bind(id)
                    .bind(Json(new))
                    .bind(self.store.settings.ttl_seconds())
                    .bind(left)
                    .bind(&sql.channel)
                    .bind(revision)
            })
            .await?;
        Ok(written.is_some())
    }
}

impl<C: Connection> AsyncSessionBackend for PostgresOwnerJobs<C> {
    /// A field write binds the field's JSON text, which the statement casts
    /// to `jsonb`.
    const FIELD_TEXT: bool = true;

    crate::store::update::engine_methods!();

    async fn remove(&self, key: &str) -> Result<bool> {
        let Some((prefix, id)) = split(key) else {
            return Ok(false);
        };
        let sql = &self.store.sql;
        let removed = self
            .remove_rows(key, |left| {
                sqlx::query(text(&sql.remove))
                    .bind(&*self.owner)
                    .bind(prefix)
                    .bind(id)
                    .bind(left)
                    .bind(&sql.channel)
            })
            .await?;
        Ok(removed > 0)
    }

    /// One `SELECT`; a listing of one prefix (`prefix_`, as the handle
    /// asks) is served by the primary key.
    async fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        let sql = &self.store.sql;
        let rows = self
            .fetch(Op::List, start, |_| match one_prefix(start) {
                Some(prefix) => sqlx::query(text(&sql.ids)).bind(&*self.owner).bind(prefix),
                None => sqlx::query(text(&sql.ids_start))
                    .bind(&*self.owner)
                    .bind(start),
            })
            .await?;
        rows.iter()
            .map(|row| {
                row.try_get(0)
                    .map_err(|e| Error::store_backend(super::STORE, Op::List, start, e))
            })
            .collect()
    }

    /// One `SELECT` of the keys and their data.
    async fn entries_with_prefix(&self, start: &str) -> Result<Vec<(String, Result<Value>)>> {
        let sql = &self.store.sql;
        let rows = self
            .fetch(Op::List, start, |_| match one_prefix(start) {
                Some(prefix) => sqlx::query(text(&sql.entries))
                    .bind(&*self.owner)
                    .bind(prefix),
                None => sqlx::query(text(&sql.entries_start))
                    .bind(&*self.owner)
                    .bind(start),
            })
            .await?;
        rows.iter()
            .map(|row| {
                let key: String = row
                    .try_get(0)
                    .map_err(|e| Error::store_backend(super::STORE, Op::List, start, e))?;
                let job = row
                    .try_get::<Json<Value>, _>(1)
                    .map(|Json(data)| data)
                    .map_err(|e| Error::store_backend(super::STORE, Op::Read, &key, e));
                Ok((key, job))
            })
            .collect()
    }

    /// One `DELETE`.
    async fn remove_with_prefix(&self, start: &str) -> Result<usize> {
        let sql = &self.store.sql;
        let removed = self
            .remove_rows(start, |left| match one_prefix(start) {
                Some(prefix) => sqlx::query(text(&sql.remove_prefix))
                    .bind(&*self.owner)
                    .bind(prefix)
                    .bind(left)
                    .bind(&sql.channel),
                None => sqlx::query(text(&sql.remove_start))
                    .bind(&*self.owner)
                    .bind(start)
                    .bind(left)
                    .bind(&sql.channel),
            })
            .await?;
        Ok(removed)
    }

    /// One `SELECT` of the field's member and the version member (with
    /// its aliases, if it has any), not the whole row.
    async fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Value>> {
        let Some((prefix, id)) = split(key) else {
            return Ok(None);
        };
        let sql = &self.store.sql;
        let failed = |e: sqlx::Error| Error::store_backend(super::STORE, Op::Read, key, e);
        if !keys.aliases().is_empty() {
            let members: Vec<&str> = keys.members().collect();
            let row = self
                .row(Op::Read, key, |_| {
                    sqlx::query(text(&sql.get_members))
                        .bind(&*self.owner)
                        .bind(prefix)
                        .bind(id)
                        .bind(members)
                })
                .await?;
            return row
                .map(|row| row.try_get::<Json<Value>, _>(0).map(|Json(picked)| picked))
                .transpose()
                .map_err(failed);
        }
        let row = self
            .row(Op::Read, key, |_| {
                sqlx::query(text(&sql.get_field))
                    .bind(&*self.owner)
                    .bind(prefix)
                    .bind(id)
                    .bind(keys.name())
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        let column = |i| row.try_get::<Option<Json<Value>>, _>(i).map_err(failed);
        if let Some(Json(whole)) = column(2)? {
            return Ok(Some(whole));
        }
        let mut picked = serde_json::Map::new();
        if let Some(Json(value)) = column(0)? {
            picked.insert(keys.name().to_owned(), value);
        }
        if let Some(Json(version)) = column(1)? {
            picked.insert(crate::VERSION_KEY.to_owned(), version);
        }
        Ok(Some(Value::Object(picked)))
    }

    /// One `UPDATE ... SET data = data || jsonb_build_object(...)` of a live
    /// job; it never creates one.
    async fn set_field(&self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        let (prefix, id) = split_for_write(super::STORE, key)?;
        // the field's JSON text, which the statement casts to jsonb
        let json = write.value.map(FieldJson::into_text);
        if let Some(text) = &json {
            storable_text(key, write.name, text)?;
        }
        let sql = &self.store.sql;
        let job_type = write.job_type;
        let written = self
            .row(Op::Write, key, |left| {
                sqlx::query(text(&sql.set_field))
                    .bind(&*self.owner)
                    .bind(prefix)
                    .bind(id)
                    .bind(write.name)
                    .bind(json)
                    .bind(write.aliases)
                    .bind(self.store.settings.ttl_seconds())
                    .bind(left)
                    .bind(&sql.channel)
            })
            .await?;
        match written {
            Some(_) => Ok(true),
            None => self.why_not_written(key, job_type).await,
        }
    }

    /// One `UPDATE` with jsonb arithmetic on the field; when it writes
    /// nothing, one read tells a missing job from a field the handle adds
    /// to itself.
    async fn increment_field(&self, key: &str, increment: Increment<'_>) -> Result<Incremented> {
        let (prefix, id) = split_for_write(super::STORE, key)?;
        let sql = &self.store.sql;
        let written = self
            .row(Op::Write, key, |left| {
                sqlx::query(text(&sql.increment_field))
                    .bind(&*self.owner)
                    .bind(prefix)
                    .bind(id)
                    .bind(increment.name())
                    .bind(increment.by())
                    .bind(increment.min())
                    .bind(increment.max())
                    .bind(increment.absent().map(|v| v.to_string()))
                    .bind(increment.aliases())
                    .bind(self.store.settings.ttl_seconds())
                    .bind(left)
                    .bind(&sql.channel)
            })
            .await?;
        match written {
            Some(row) => {
                let value: i64 = row
                    .try_get(2)
                    .map_err(|e| Error::store_backend(super::STORE, Op::Write, key, e))?;
                Ok(Incremented::To(value))
            }
            None if self.read(key).await?.is_some() => Ok(Incremented::NotHere),
            None => Ok(Incremented::NoJob),
        }
    }
}
