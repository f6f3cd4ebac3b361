//! The jobs of one owner: [`SqliteOwnerJobs`], the backend whose every
//! operation is one statement on the store's pool.

use super::{sqlx, text};

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use self::sqlx::Row;
use self::sqlx::sqlite::SqliteRow;
use serde_json::Value;

use super::SqliteJobStore;
use super::sql::member_path;
use crate::AsyncSessionBackend;
use crate::backend::{FieldJson, FieldWrite, Increment, Incremented};
use crate::error::{Error, Op, Result};
use crate::model::field::FieldKeys;
use crate::store::rows::{one_prefix, split, split_for_write};
use crate::store::update::{Revised, optimistic};

/// What a write's deadline in the statement leaves for the trip of the
/// statement to SQLite's thread and back: SQLite refuses a write this long
/// before the client gives up on it.
const TRIP: Duration = Duration::from_millis(20);

/// The jobs of one owner in a [`SqliteJobStore`]: an
/// [`AsyncSessionBackend`] whose every operation is one statement (an
/// `update` one read and one revision-checked write). It is not a session:
/// the user's session holds only the owner's token.
#[derive(Clone)]
pub struct SqliteOwnerJobs {
    pub(super) store: SqliteJobStore,
    pub(super) owner: Arc<str>,
}

crate::store::store_owner!(SqliteOwnerJobs, SqliteJobStore, owner);

/// The error of an operation SQLite didn't answer in time.
pub(super) fn timed_out(timeout: Duration) -> String {
    format!(
        "SQLite did not answer within {timeout:?} (another process may hold the database's lock)"
    )
}

/// Now, in unix seconds, as the statements' `unixepoch('subsec')` reads it.
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

/// JSON text that SQLite returned, parsed.
fn parsed(op: Op, key: &str, json: &str) -> Result<Value> {
    serde_json::from_str(json).map_err(|err| {
        Error::store_backend(
            super::STORE,
            op,
            key,
            format!("the stored JSON is corrupt: {err}"),
        )
    })
}

/// A deadline, as a statement carries it.
struct Deadline {
    /// When the client gives up.
    at: Instant,
    /// When SQLite refuses the write, in unix seconds: [`TRIP`] earlier.
    unix: f64,
}

impl SqliteOwnerJobs {
    pub(super) fn new(store: SqliteJobStore, owner: &str) -> SqliteOwnerJobs {
        SqliteOwnerJobs {
            store,
            owner: Arc::from(owner),
        }
    }

    fn deadline(&self) -> Deadline {
        let timeout = self.store.timeout;
        Deadline {
            at: Instant::now() + timeout,
            unix: unix_now() + timeout.saturating_sub(TRIP).as_secs_f64(),
        }
    }

    /// The rows of `work`, a statement on the store's pool, by `deadline`.
    async fn rows<T>(
        &self,
        op: Op,
        key: &str,
        deadline: &Deadline,
        work: impl Future<Output = sqlx::Result<T>> + Send,
    ) -> Result<T> {
        let timeout = self.store.timeout;
        match self.store.deadlines.run(deadline.at, work).await {
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

    /// The rows of a write: a write that wrote nothing because it got
    /// SQLite's lock past its deadline fails as timed out (and so does one
    /// that found nothing to write that late: its client gave up on it).
    async fn written(
        &self,
        op: Op,
        key: &str,
        deadline: &Deadline,
        work: impl Future<Output = sqlx::Result<Vec<SqliteRow>>> + Send,
    ) -> Result<Vec<SqliteRow>> {
        let rows = self.rows(op, key, deadline, work).await?;
        if rows.is_empty() && unix_now() >= deadline.unix {
            return Err(Error::store_backend(
                super::STORE,
                op,
                key,
                timed_out(self.store.timeout),
            ));
        }
        Ok(rows)
    }

    fn column<'r, T>(row: &'r SqliteRow, i: usize, op: Op, key: &str) -> Result<T>
    where
        T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    {
        row.try_get(i)
            .map_err(|e| Error::store_backend(super::STORE, op, key, e))
    }

    /// The job under `key` and its revision.
    pub(super) async fn read(&self, key: &str) -> Result<Option<(i64, Value)>> {
        let Some((prefix, id)) = split(key) else {
            return Ok(None);
        };
        let deadline = self.deadline();
        let work = sqlx::query(text(&self.store.sql.get))
            .bind(&*self.owner)
            .bind(prefix)
            .bind(id)
            .fetch_all(&self.store.pool);
        let rows = self.rows(Op::Read, key, &deadline, work).await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let data: String = Self::column(row, 0, Op::Read, key)?;
        let revision: i64 = Self::column(row, 1, Op::Read, key)?;
        Ok(Some((revision, parsed(Op::Read, key, &data)?)))
    }

    /// How many of the jobs a `remove*.sql` statement removed (a row back
    /// for each) were live.
    fn live(key: &str, rows: &[SqliteRow]) -> Result<usize> {
        let mut live = 0;
        for row in rows {
            if Self::column::<bool>(row, 0, Op::Remove, key)? {
                live += 1;
            }
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

    /// A field write that no JSON path can spell (a field with aliases, or
    /// a name with `"`, `\` or a control character in it), made on the
    /// whole job: the read and the revision-checked write of an update.
    async fn set_field_whole(&self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        optimistic(self, key, |job| {
            let mut job = job.clone();
            write.clone().apply(key, &mut job)?;
            Ok(Some(job))
        })
        .await
    }
}

impl Revised for SqliteOwnerJobs {
    type Revision = i64;

    fn update_attempts(&self) -> u32 {
        self.store.settings.update_attempts()
    }

    /// Replaces (or creates) the job under `key`; with `version`, unless the
    /// live job there is newer. Whether a live job was there.
    async fn write_job(&self, key: &str, value: Value, version: Option<u32>) -> Result<bool> {
        let (prefix, id) = split_for_write(super::STORE, key)?;
        let sql = &self.store.sql;
        let deadline = self.deadline();
        let work = sqlx::query(text(&sql.insert))
            .bind(&*self.owner)
            .bind(prefix)
            .bind(id)
            .bind(value.to_string())
            .bind(self.store.settings.ttl_seconds())
            .bind(deadline.unix)
            .bind(version.map(i64::from))
            .fetch_all(&self.store.pool);
        let rows = self.written(Op::Write, key, &deadline, work).await?;
        if let Some(row) = rows.first() {
            return Self::column(row, 0, Op::Write, key);
        }
        // refused: the live job there is of a newer version; read which
        let deadline = self.deadline();
        let work = sqlx::query(text(&sql.version))
            .bind(&*self.owner)
            .bind(prefix)
            .bind(id)
            .fetch_all(&self.store.pool);
        let rows = self.rows(Op::Write, key, &deadline, work).await?;
        let found = match rows.first() {
            Some(row) => Self::column::<Option<String>>(row, 0, Op::Write, key)?
                .and_then(|json| serde_json::from_str::<Value>(&json).ok())
                .and_then(|found| found.as_u64()),
            None => None,
        };
        Err(crate::store::rows::refused(key, version, found))
    }

    async fn read_revised(&self, key: &str) -> Result<Option<(i64, Value)>> {
        self.read(key).await
    }

    async fn write_if_unchanged(&self, key: &str, revision: i64, new: Value) -> Result<bool> {
        let (prefix, id) = split_for_write(super::STORE, key)?;
        let deadline = self.deadline();
        let work = sqlx::query(text(&self.store.sql.update))
            .bind(&*self.owner)
            .bind(prefix)
            .bind(id)
            .bind(new.to_string())
            .bind(self.store.settings.ttl_seconds())
            .bind(deadline.unix)
            .bind(revision)
            .fetch_all(&self.store.pool);
        let rows = self.written(Op::Write, key, &deadline, work).await?;
        Ok(!rows.is_empty())
    }
}

impl AsyncSessionBackend for SqliteOwnerJobs {
    /// A field write binds the field's JSON text, which the statement
    /// parses with `json()`.
    const FIELD_TEXT: bool = true;

    crate::store::update::engine_methods!();

    async fn remove(&self, key: &str) -> Result<bool> {
        let Some((prefix, id)) = split(key) else {
            return Ok(false);
        };
        let deadline = self.deadline();
        let work = sqlx::query(text(&self.store.sql.remove))
            .bind(&*self.owner)
            .bind(prefix)
            .bind(id)
            .bind(deadline.unix)
            .fetch_all(&self.store.pool);
        let rows = self.written(Op::Remove, key, &deadline, work).await?;
        Ok(Self::live(key, &rows)? > 0)
    }

    /// One `SELECT`; a listing of one prefix (`prefix_`, as the handle
    /// asks) is served by the primary key.
    async fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        let sql = &self.store.sql;
        let deadline = self.deadline();
        let work = match one_prefix(start) {
            Some(prefix) => sqlx::query(text(&sql.ids)).bind(&*self.owner).bind(prefix),
            None => sqlx::query(text(&sql.ids_start))
                .bind(&*self.owner)
                .bind(start),
        }
        .fetch_all(&self.store.pool);
        let rows = self.rows(Op::List, start, &deadline, work).await?;
        rows.iter()
            .map(|row| Self::column(row, 0, Op::List, start))
            .collect()
    }

    /// One `SELECT` of the keys and their data; a row whose data is not
    /// JSON is that job's error.
    async fn entries_with_prefix(&self, start: &str) -> Result<Vec<(String, Result<Value>)>> {
        let sql = &self.store.sql;
        let deadline = self.deadline();
        let work = match one_prefix(start) {
            Some(prefix) => sqlx::query(text(&sql.entries))
                .bind(&*self.owner)
                .bind(prefix),
            None => sqlx::query(text(&sql.entries_start))
                .bind(&*self.owner)
                .bind(start),
        }
        .fetch_all(&self.store.pool);
        let rows = self.rows(Op::List, start, &deadline, work).await?;
        rows.iter()
            .map(|row| {
                let key: String = Self::column(row, 0, Op::List, start)?;
                let job = Self::column::<String>(row, 1, Op::Read, &key)
                    .and_then(|data| parsed(Op::Read, &key, &data));
                Ok((key, job))
            })
            .collect()
    }

    /// Two `DELETE`s: the expired jobs, then the live ones, whose count
    /// is the answer (no row back per job).
    async fn remove_with_prefix(&self, start: &str) -> Result<usize> {
        let sql = &self.store.sql;
        let deadline = self.deadline();
        let expired = sqlx::query(text(&sql.remove_expired))
            .bind(&*self.owner)
            .bind(start)
            .bind(deadline.unix)
            .execute(&self.store.pool);
        self.rows(Op::Remove, start, &deadline, expired).await?;
        let live = match one_prefix(start) {
            Some(prefix) => sqlx::query(text(&sql.remove_prefix))
                .bind(&*self.owner)
                .bind(prefix)
                .bind(deadline.unix),
            None => sqlx::query(text(&sql.remove_start))
                .bind(&*self.owner)
                .bind(start)
                .bind(deadline.unix),
        }
        .execute(&self.store.pool);
        let live = self
            .rows(Op::Remove, start, &deadline, live)
            .await?
            .rows_affected();
        if live == 0 && unix_now() >= deadline.unix {
            return Err(Error::store_backend(
                super::STORE,
                Op::Remove,
                start,
                timed_out(self.store.timeout),
            ));
        }
        Ok(usize::try_from(live).unwrap_or(usize::MAX))
    }

    /// One `SELECT` of the field's member and the version member, not the
    /// whole job; a field with aliases, or whose name no JSON path spells,
    /// reads the whole job.
    async fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Value>> {
        let path = member_path(keys.name()).filter(|_| keys.aliases().is_empty());
        let (Some(path), Some((prefix, id))) = (path, split(key)) else {
            return Ok(self.get(key).await?.map(|job| keys.pick(&job)));
        };
        let deadline = self.deadline();
        let work = sqlx::query(text(&self.store.sql.get_field))
            .bind(&*self.owner)
            .bind(prefix)
            .bind(id)
            .bind(path)
            .fetch_all(&self.store.pool);
        let rows = self.rows(Op::Read, key, &deadline, work).await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let column = |i| Self::column::<Option<String>>(row, i, Op::Read, key);
        if let Some(whole) = column(2)? {
            return parsed(Op::Read, key, &whole).map(Some);
        }
        let mut picked = serde_json::Map::new();
        if let Some(value) = column(0)? {
            picked.insert(keys.name().to_owned(), parsed(Op::Read, key, &value)?);
        }
        if let Some(version) = column(1)? {
            picked.insert(
                crate::VERSION_KEY.to_owned(),
                parsed(Op::Read, key, &version)?,
            );
        }
        Ok(Some(Value::Object(picked)))
    }

    /// One `UPDATE ... SET data = json_set(data, ...)` of a live job; it
    /// never creates one. A field with aliases, or whose name no JSON path
    /// spells, is written on the whole job, with the revision check of an
    /// update.
    async fn set_field(&self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        let (prefix, id) = split_for_write(super::STORE, key)?;
        let Some(path) = member_path(write.name).filter(|_| write.aliases.is_empty()) else {
            return self.set_field_whole(key, write).await;
        };
        let json = write.value.map(FieldJson::into_text);
        let job_type = write.job_type;
        let deadline = self.deadline();
        let work = sqlx::query(text(&self.store.sql.set_field))
            .bind(&*self.owner)
            .bind(prefix)
            .bind(id)
            .bind(path)
            .bind(json)
            .bind(self.store.settings.ttl_seconds())
            .bind(deadline.unix)
            .fetch_all(&self.store.pool);
        let rows = self.written(Op::Write, key, &deadline, work).await?;
        if rows.is_empty() {
            return self.why_not_written(key, job_type).await;
        }
        Ok(true)
    }

    /// One `UPDATE` with SQLite's arithmetic on the field; when it writes
    /// nothing, one read tells a missing job from a field the handle adds
    /// to itself.
    async fn increment_field(&self, key: &str, increment: Increment<'_>) -> Result<Incremented> {
        let (prefix, id) = split_for_write(super::STORE, key)?;
        let Some(path) = member_path(increment.name()).filter(|_| increment.aliases().is_empty())
        else {
            return Ok(Incremented::NotHere);
        };
        // the values the field may have for its sum to stay in the range
        let by = i128::from(increment.by());
        let (min, max) = (i128::from(increment.min()), i128::from(increment.max()));
        let low = i64::try_from(min.max(min - by)).unwrap_or(i64::MAX);
        let high = i64::try_from(max.min(max - by)).unwrap_or(i64::MIN);
        if low > high {
            return Ok(Incremented::NotHere);
        }
        let deadline = self.deadline();
        let work = sqlx::query(text(&self.store.sql.increment_field))
            .bind(&*self.owner)
            .bind(prefix)
            .bind(id)
            .bind(path)
            .bind(increment.by())
            .bind(low)
            .bind(high)
            .bind(increment.absent())
            .bind(self.store.settings.ttl_seconds())
            .bind(deadline.unix)
            .fetch_all(&self.store.pool);
        let rows = self.written(Op::Write, key, &deadline, work).await?;
        match rows.first() {
            Some(row) => Ok(Incremented::To(Self::column(row, 1, Op::Write, key)?)),
            None if self.read(key).await?.is_some() => Ok(Incremented::NotHere),
            None => Ok(Incremented::NoJob),
        }
    }
}
