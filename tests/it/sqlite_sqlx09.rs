//! The SQLite store's own tests (`sqlite_store.rs`) on sqlx 0.9
//! (`jobsess::sqlite_sqlx09`): the same file, with this version's sqlx and
//! store.

use ::sqlx_09 as sqlx;
use jobsess::sqlite_sqlx09 as sq;

/// A store on a fresh database file.
async fn sqlite_store() -> sq::SqliteJobStore {
    crate::common::sqlite_store_sqlx09().await
}

// the same file for both versions
#[allow(clippy::duplicate_mod)]
#[path = "sqlite_store.rs"]
mod cases;
