//! The PostgreSQL store's own tests (`postgres_store.rs`) on sqlx 0.8
//! (`jobsess::postgres`): the same file, with this version's sqlx and store.

use ::sqlx;
use jobsess::postgres as pg;

/// A store in a fresh schema.
async fn postgres_store() -> pg::PostgresJobStore {
    crate::common::postgres_store().await
}

// the same file for both versions
#[allow(clippy::duplicate_mod)]
#[path = "postgres_store.rs"]
mod cases;
