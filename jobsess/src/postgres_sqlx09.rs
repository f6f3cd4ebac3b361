//! The server-side PostgreSQL job store on sqlx **0.9** (feature
//! `postgres-sqlx-09`): the same store as [`jobsess::postgres`], with the
//! same types, statements and guarantees, on the app's sqlx 0.9 `PgPool`
//! and transactions. An app on sqlx 0.9 (apalis-postgres 1.0, the newest
//! tower-sessions stores) hands jobsess its pool; one on sqlx 0.8 uses
//! `jobsess::postgres`. Both can be built into one app, and share one
//! table: each reads and writes what the other wrote.
//!
//! The examples in the items' docs are written for `jobsess::postgres`;
//! here they read the same with `jobsess::postgres_sqlx09` and sqlx 0.9.
//!
//! [`jobsess::postgres`]: https://docs.rs/jobsess/latest/jobsess/postgres/

/// The sqlx this build of the store is on (0.9), as its files name it.
mod sqlx_version {
    pub(crate) use ::sqlx_09 as sqlx;

    /// A statement's text, as sqlx 0.9 takes it: the store's statements
    /// are its own files, with the configured schema and table quoted in,
    /// and every value a bind parameter.
    pub(crate) fn text(sql: &std::sync::Arc<str>) -> sqlx::AssertSqlSafe<std::sync::Arc<str>> {
        sqlx::AssertSqlSafe(std::sync::Arc::clone(sql))
    }
}

// the same files as `jobsess::postgres`, built on this sqlx
#[allow(clippy::duplicate_mod)]
#[path = "postgres/mod.rs"]
mod engine;

pub use engine::*;
