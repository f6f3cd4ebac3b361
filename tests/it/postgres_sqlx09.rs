//! The PostgreSQL store's own tests (`postgres_store.rs`) on sqlx 0.9
//! (`jobsess::postgres_sqlx09`): the same file, with this version's sqlx and store.

use ::sqlx_09 as sqlx;
use jobsess::postgres_sqlx09 as pg;

/// A store in a fresh schema.
async fn postgres_store() -> pg::PostgresJobStore {
    crate::common::postgres_store_sqlx09().await
}

// the same file for both versions
#[allow(clippy::duplicate_mod)]
#[path = "postgres_store.rs"]
mod cases;
