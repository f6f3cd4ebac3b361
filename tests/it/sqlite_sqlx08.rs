//! The SQLite store's own tests (`sqlite_store.rs`) on sqlx 0.8
//! (`jobsess::sqlite`): the same file, with this version's sqlx and store.

use ::sqlx;
use jobsess::sqlite as sq;

/// A store on a fresh database file.
async fn sqlite_store() -> sq::SqliteJobStore {
    crate::common::sqlite_store().await
}

// the same file for both versions
#[allow(clippy::duplicate_mod)]
#[path = "sqlite_store.rs"]
mod cases;
