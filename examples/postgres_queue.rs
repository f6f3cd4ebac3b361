//! A PostgreSQL job queue in the app's own transaction: underway 0.2 on
//! the app's sqlx 0.8 pool. A route stores a job's metadata, makes its
//! reference and enqueues the task that carries it, all in one
//! transaction: the job and its task commit together or not at all. An
//! underway worker, in a process of its own, opens the reference and
//! writes the progress; any web instance streams it, then `done`.
//!
//! ```sh
//! cargo run --example postgres_queue -- web      # PORT (3000), DATABASE_URL
//! cargo run --example postgres_queue -- worker   # in another terminal
//! curl -c c -b c -X POST localhost:3000/exports/report
//! curl -c c -b c -N localhost:3000/exports/report/events
//! curl -c c -b c -X POST 'localhost:3000/exports/broken?fail_at=50'
//! ```
//!
//! `DATABASE_URL` defaults to `postgres://postgres@127.0.0.1:5432/test`;
//! `QUEUE` names the underway queue and the jobsess schema (`exports`);
//! `STEP_MS` is the time per 10 %. Sessions are kept in the same database
//! (tower-sessions-sqlx-store).

use std::time::Duration;

use axum::extract::{Path, Query};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jobsess::postgres::{PostgresJobStore, PostgresJobs};
use jobsess::store::{JobRef, JobStore};
use jobsess::{Error, JobMetadata, Op, Status};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tower_sessions::SessionManagerLayer;
use tower_sessions_sqlx_store::PostgresStore;
use underway::{Job, To};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the app shows about an export.
#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(prefix = "export", status = status)]
struct ExportJob {
    file: String,
    #[serde(default)]
    progress: u8,
    #[serde(default)]
    status: Status,
}

/// The queue's task: the job's reference, and what the work needs.
#[derive(Serialize, Deserialize, Debug, Clone)]
struct ExportTask {
    job: JobRef,
    /// Where the export breaks, to see a failed task end its page too.
    fail_at: Option<u8>,
}

/// The underway job of exports: one step, run by the worker.
async fn exports(
    pool: PgPool,
    queue: &str,
    store: PostgresJobStore,
) -> Result<Job<ExportTask, ()>, BoxError> {
    let job = Job::builder()
        .step(move |_cx, task: ExportTask| {
            let store = store.clone();
            async move {
                // what a worker adds to report progress: open, then end
                let job = store
                    .open::<ExportJob>(&task.job)
                    .await
                    .map_err(|err| underway::task::Error::Retryable(err.to_string()))?;
                let outcome = export(&job, task.fail_at).await;
                job.end(&outcome)
                    .await
                    .map_err(|err| underway::task::Error::Retryable(err.to_string()))?;
                // a broken export is not tried again
                outcome.map_err(|err| underway::task::Error::Fatal(err.to_string()))?;
                To::done()
            }
        })
        .name(queue)
        .pool(pool)
        .build()
        .await?;
    Ok(job)
}

/// The work itself, reporting its progress.
async fn export(
    job: &jobsess::store::WorkerJob<ExportJob, jobsess::postgres::PostgresOwnerJobs>,
    fail_at: Option<u8>,
) -> Result<(), BoxError> {
    let step = Duration::from_millis(
        std::env::var("STEP_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300),
    );
    job.store_field(ExportJob::STATUS, &Status::Running).await?;
    for progress in (10..=100).step_by(10) {
        tokio::time::sleep(step).await;
        if fail_at == Some(progress) {
            return Err(format!("the export broke at {progress} %").into());
        }
        job.store_field(ExportJob::PROGRESS, &progress).await?;
    }
    Ok(())
}

// ---- the web side --------------------------------------------------------

#[derive(Deserialize)]
struct Start {
    fail_at: Option<u8>,
}

/// A failure of the queue or of the transaction, as jobsess answers one.
fn queue_error(err: impl std::fmt::Display) -> Error {
    Error::backend(Op::Write, "exports queue", err.to_string())
}

/// Stores the job, makes its reference and enqueues its task in one
/// transaction.
async fn start(
    jobs: PostgresJobs<ExportJob>,
    Extension(pool): Extension<PgPool>,
    Extension(queue): Extension<std::sync::Arc<Job<ExportTask, ()>>>,
    Path(id): Path<String>,
    Query(start): Query<Start>,
) -> Result<Json<JobRef>, Error> {
    let mut tx = pool.begin().await.map_err(queue_error)?;
    let in_tx = jobs.in_transaction(&mut tx);
    let job = ExportJob {
        file: format!("{id}.csv"),
        progress: 0,
        status: Status::Queued,
    };
    in_tx.store(&id, &job).await?;
    let reference = in_tx.reference(&id).await?;
    drop(in_tx);
    let task = ExportTask {
        job: reference.clone(),
        fail_at: start.fail_at,
    };
    queue
        .enqueue_using(&mut *tx, &task)
        .await
        .map_err(queue_error)?;
    tx.commit().await.map_err(queue_error)?;
    Ok(Json(reference))
}

/// The job as server-sent events, up to `done`.
async fn events(
    jobs: PostgresJobs<ExportJob>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Error> {
    Ok(jobsess::axum::sse(jobs.watch(&id).await?))
}

async fn web(pool: PgPool, queue: &str, store: PostgresJobStore) -> Result<(), BoxError> {
    let sessions = PostgresStore::new(pool.clone());
    sessions.migrate().await?;
    let tasks = exports(pool.clone(), queue, store.clone()).await?;
    let app = Router::new()
        .route("/exports/{id}", post(start))
        .route("/exports/{id}/events", get(events))
        .layer(Extension(store))
        .layer(Extension(pool))
        .layer(Extension(std::sync::Arc::new(tasks)))
        .layer(SessionManagerLayer::new(sessions).with_secure(false));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

// ---- the worker side -----------------------------------------------------

async fn worker(pool: PgPool, queue: &str, store: PostgresJobStore) -> Result<(), BoxError> {
    let tasks = exports(pool, queue, store).await?;
    println!("worker on queue {queue}");
    tasks.run().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let queue = std::env::var("QUEUE").unwrap_or_else(|_| "exports".into());
    // the app's pool: a request waits 2 s at most for a connection, not
    // sqlx's default 30 s, so a database outage answers 503 at once
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(2))
        .connect(&url)
        .await?;
    underway::run_migrations(&pool).await?;
    let store = PostgresJobStore::new(pool.clone())
        .with_schema(&queue)
        .with_ttl(Duration::from_secs(24 * 3600));
    store.migrate().await?;
    match std::env::args().nth(1).as_deref() {
        Some("web") => web(pool, &queue, store).await,
        Some("worker") => worker(pool, &queue, store).await,
        _ => Err("usage: postgres_queue web|worker".into()),
    }
}
