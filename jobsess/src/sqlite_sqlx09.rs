//! The server-side SQLite job store on sqlx **0.9** (feature
//! `sqlite-sqlx-09`): the same store as [`jobsess::sqlite`], with the same
//! types, statements and guarantees, on the app's sqlx 0.9 `SqlitePool`.
//! An app on sqlx 0.9 (apalis-sqlite 1.0) hands jobsess its pool; one on
//! sqlx 0.8 uses `jobsess::sqlite`. Both can be built into one app (they
//! link one SQLite), and share one database file: each reads and writes
//! what the other wrote, and each one's watchers see the other's writes.
//!
//! The examples in the items' docs are written for `jobsess::sqlite`;
//! here they read the same with `jobsess::sqlite_sqlx09` and sqlx 0.9.
//!
//! [`jobsess::sqlite`]: https://docs.rs/jobsess/latest/jobsess/sqlite/

/// The sqlx this build of the store is on (0.9), as its files name it.
mod sqlx_version {
    pub(crate) use ::sqlx_09 as sqlx;

    /// A statement's text, as sqlx 0.9 takes it: the store's statements
    /// are its own files, with the configured table quoted in, and every
    /// value a bind parameter.
    pub(crate) fn text(sql: &std::sync::Arc<str>) -> sqlx::AssertSqlSafe<std::sync::Arc<str>> {
        sqlx::AssertSqlSafe(std::sync::Arc::clone(sql))
    }
}

// the same files as `jobsess::sqlite`, built on this sqlx
#[allow(clippy::duplicate_mod)]
#[path = "sqlite/mod.rs"]
mod engine;

pub use engine::*;
