//! Where an [`PostgresOwnerJobs`](super::PostgresOwnerJobs)(super::PostgresOwnerJobs)' statements run
//! ([`Connection`]: the store's pool, or the app's transaction), with the
//! time a write has left; and what PostgreSQL can't store.

use super::sqlx;

use std::time::{Duration, Instant};

use self::sqlx::postgres::{PgArguments, PgRow};
use self::sqlx::query::Query;
use self::sqlx::{PgConnection, PgPool, Postgres};
use serde_json::Value;

use crate::error::{Error, Result};

/// What a write's deadline on the server leaves for the trip of the
/// statement to it: the database refuses a write this long before the
/// client gives up on it.
const TRIP: Duration = Duration::from_millis(50);

/// Where the statements of an [`PostgresOwnerJobs`](super::PostgresOwnerJobs) run: the store's pool
/// (`PgPool`), or the app's transaction ([`InTransaction`]). Sealed: these
/// two are all there is, and how they run a statement is jobsess's own (no
/// sqlx query, argument or row type is in jobsess's API).
pub trait Connection: Send + Sync + sealed::Run {}

impl Connection for PgPool {}
impl Connection for InTransaction<'_> {}
/// A borrowed connection: another owner's jobs on the same transaction.
impl<C: Connection> Connection for &C {}

/// What makes a statement, given the time a write has left.
type Build<'a> = Box<dyn FnOnce(Duration) -> Statement<'a> + Send + 'a>;

/// The rows of a statement, on their way.
type Fetched<'a> = futures_util::future::BoxFuture<'a, sqlx::Result<Vec<PgRow>>>;

/// Runs the statement `build` makes on `conn` (see [`sealed::Run`]).
pub(super) fn run<'a, C: Connection>(
    conn: &'a C,
    deadline: Instant,
    build: Build<'a>,
) -> Fetched<'a> {
    sealed::Run::fetch_all(conn, deadline, build)
}

mod sealed {
    use super::{Build, Fetched, InTransaction, Instant, PgPool, left};

    /// How a [`Connection`](super::Connection) runs a statement: private,
    /// so that no one else implements it, nor sees sqlx's types in it.
    pub trait Run {
        /// Runs the statement `build` makes, on a connection taken for
        /// it, given the time left until `deadline` (less the trip to the
        /// database) once it has the connection.
        fn fetch_all<'a>(&'a self, deadline: Instant, build: Build<'a>) -> Fetched<'a>;
    }

    impl Run for PgPool {
        fn fetch_all<'a>(&'a self, deadline: Instant, build: Build<'a>) -> Fetched<'a> {
            Box::pin(async move {
                let mut conn = self.acquire().await?;
                build(left(deadline)).fetch_all(&mut *conn).await
            })
        }
    }

    impl Run for InTransaction<'_> {
        fn fetch_all<'a>(&'a self, deadline: Instant, build: Build<'a>) -> Fetched<'a> {
            Box::pin(async move {
                let mut conn = self.0.lock().await;
                build(left(deadline)).fetch_all(&mut **conn).await
            })
        }
    }

    impl<C: Run> Run for &C {
        fn fetch_all<'a>(&'a self, deadline: Instant, build: Build<'a>) -> Fetched<'a> {
            (**self).fetch_all(deadline, build)
        }
    }
}

/// The time a write has left until `deadline`, less [`TRIP`], in whole
/// microseconds (an `interval`'s precision).
fn left(deadline: Instant) -> Duration {
    let left = deadline
        .saturating_duration_since(Instant::now())
        .saturating_sub(TRIP);
    Duration::from_micros(u64::try_from(left.as_micros()).unwrap_or(u64::MAX))
}

/// The app's own transaction (or connection), which an [`PostgresOwnerJobs`](super::PostgresOwnerJobs) from
/// [`PostgresOwnerJobs::in_transaction`](super::PostgresOwnerJobs::in_transaction) runs its statements on: they commit or
/// roll back with the app's.
pub struct InTransaction<'c>(pub(super) tokio::sync::Mutex<&'c mut PgConnection>);

/// A statement with its parameters bound.
pub(super) type Statement<'q> = Query<'q, Postgres, PgArguments>;

/// [`storable`] for a value as JSON text: only text that holds an escaped
/// NUL (`\u0000`) is read, to name where it is.
pub(super) fn storable_text(key: &str, at: &str, text: &str) -> Result<()> {
    if !text.contains("\\u0000") {
        return Ok(());
    }
    match serde_json::from_str(text) {
        Ok(value) => storable(key, at, &value),
        Err(_) => Ok(()),
    }
}

/// Refuses a value PostgreSQL's `jsonb` can't hold: a NUL character in a
/// string or a key, which no retry would ever store. `at` is where `value`
/// is in the job (empty: the job itself).
pub(super) fn storable(key: &str, at: &str, value: &Value) -> Result<()> {
    fn nul_at(value: &Value, path: &mut String) -> bool {
        let len = path.len();
        let found = match value {
            Value::String(text) => text.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                path.truncate(len);
                path.push_str(&format!("[{i}]"));
                nul_at(item, path)
            }),
            Value::Object(fields) => fields.iter().any(|(name, item)| {
                path.truncate(len);
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&name.replace('\0', "\\u0000"));
                name.contains('\0') || nul_at(item, path)
            }),
            _ => false,
        };
        if !found {
            path.truncate(len);
        }
        found
    }
    let mut path = at.to_owned();
    if nul_at(value, &mut path) {
        return Err(Error::Unstorable {
            key: key.to_owned(),
            path: if path.is_empty() {
                ".".to_owned()
            } else {
                path
            },
            reason: "PostgreSQL can't store a NUL character (\\u0000) in a JSON string or key",
        });
    }
    Ok(())
}
