//! A worker in a process of its own: given a job reference and the store's
//! URL, and nothing else, it opens the job and advances it to its end.
//! The web app that made the reference (and any other instance on the same
//! store) shows the progress live, and its event stream ends after `done`.
//!
//! ```sh
//! # a route made the reference with `jobs.reference(&id)` and queued it:
//! JOB_REF='{"job":"export_job-1","grant":"..."}' \
//! STORE_URL=redis://127.0.0.1:6379 cargo run --example worker
//! # or on PostgreSQL: STORE_URL=postgres://postgres@127.0.0.1:5432/test
//! # or on the app's SQLite file: STORE_URL=sqlite://jobs.db
//! ```
//!
//! `STORE_NAMESPACE` is the Redis store's namespace, the PostgreSQL
//! store's schema, or the SQLite store's table, if the app set one; `STEP_MS` the time between steps
//! (300 ms); `FAIL_AT` a progress at which the work fails, to see a failed
//! job end its page's stream too.

use std::time::Duration;

use jobsess::store::{JobRef, JobStore};
use jobsess::{JobMetadata, Status};
use serde::{Deserialize, Serialize};

/// The job's metadata, the same type as the web app's.
#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(prefix = "export", status = status)]
struct ExportJob {
    file: String,
    #[serde(default)]
    progress: u8,
    #[serde(default)]
    status: Status,
}

/// Runs the job `reference` names in `store`: running, ten steps of
/// progress, then finished; or failed at `fail_at`.
async fn work<E: JobStore>(
    store: E,
    reference: &JobRef,
    step: Duration,
    fail_at: Option<u8>,
) -> Result<(), jobsess::Error> {
    let job = store.open::<ExportJob>(reference).await?;
    job.store_field(ExportJob::STATUS, &Status::Running).await?;
    for progress in (10..=100).step_by(10) {
        tokio::time::sleep(step).await;
        if fail_at == Some(progress) {
            return job.fail(format!("the export broke at {progress} %")).await;
        }
        job.store_field(ExportJob::PROGRESS, &progress).await?;
    }
    job.finish().await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reference: JobRef = serde_json::from_str(&std::env::var("JOB_REF")?)?;
    let url = std::env::var("STORE_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let namespace = std::env::var("STORE_NAMESPACE").ok();
    let step = Duration::from_millis(
        std::env::var("STEP_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300),
    );
    let fail_at = std::env::var("FAIL_AT").ok().and_then(|s| s.parse().ok());
    if let Some(path) = url.strip_prefix("sqlite://") {
        let mut store = jobsess::sqlite::SqliteJobStore::open(path).await?;
        if let Some(table) = &namespace {
            store = store.with_table(table);
        }
        work(store, &reference, step, fail_at).await?;
    } else if url.starts_with("postgres") {
        let mut store = jobsess::postgres::PostgresJobStore::connect(&url).await?;
        if let Some(schema) = &namespace {
            store = store.with_schema(schema);
        }
        work(store, &reference, step, fail_at).await?;
    } else {
        let mut store = jobsess::redis::RedisJobStore::connect(&url).await?;
        if let Some(namespace) = &namespace {
            store = store.with_namespace(namespace);
        }
        work(store, &reference, step, fail_at).await?;
    }
    println!("job {} ran to its end", reference.id());
    Ok(())
}
