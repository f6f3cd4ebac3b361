//! apalis 1.0 on SQLite, end to end, with one database file and no service:
//! a route stores a job's metadata and pushes an apalis task that carries
//! the job's reference; an apalis worker, in a process of its own, opens
//! the reference and writes the progress; any web process on the same
//! file streams it, then `done`, whether the task finished or failed.
//!
//! ```sh
//! cargo run --example apalis_sqlite -- web        # PORT (3000), DB (exports.db)
//! cargo run --example apalis_sqlite -- worker     # in another terminal
//! curl -c c -b c -X POST localhost:3000/exports/report
//! curl -c c -b c -N localhost:3000/exports/report/events
//! curl -c c -b c -X POST 'localhost:3000/exports/broken?fail_at=50'
//! ```
//!
//! The file holds everything: the apalis queue (apalis-sqlite, on sqlx
//! 0.9), the jobs' metadata (`jobsess::sqlite_sqlx09`, on the same pool),
//! and the sessions (tower-sessions-sqlx-store, on sqlx 0.8). One SQLite
//! is linked for all three. `QUEUE` names the apalis queue (`exports`);
//! `STEP_MS` is the time per 10 %.
//!
//! What the worker adds to an apalis handler to report progress is the
//! first and the last line of `export` below: open the reference, end the
//! job with the handler's outcome.

use std::time::Duration;

use apalis::prelude::{BoxDynError, Data, TaskBuilder, TaskSink, WorkerBuilder};
use apalis_sqlite::{Config, SqlitePool, SqlitePoolOptions, SqliteStorage};
use axum::extract::{Path, Query};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jobsess::sqlite_sqlx09::{SqliteJobStore, SqliteJobs, SqliteOwnerJobs};
use jobsess::store::{JobRef, JobStore, WorkerJob};
use jobsess::{Error, JobMetadata, Status};
use serde::{Deserialize, Serialize};
use tower_sessions::SessionManagerLayer;
use tower_sessions_sqlx_store::SqliteStore;

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

/// The apalis task: the job's reference, and what the work needs.
#[derive(Serialize, Deserialize, Debug, Clone)]
struct ExportTask {
    job: JobRef,
    /// Where the export breaks, to see a failed task end its page too.
    fail_at: Option<u8>,
}

// ---- the web side --------------------------------------------------------

#[derive(Deserialize)]
struct Start {
    fail_at: Option<u8>,
}

/// Stores the job and pushes its task: the task's payload holds the job's
/// reference, which opens this job and no other.
async fn start(
    jobs: SqliteJobs<ExportJob>,
    Extension(queue): Extension<SqliteStorage<ExportTask>>,
    Path(id): Path<String>,
    Query(start): Query<Start>,
) -> Result<Json<JobRef>, Error> {
    let job = ExportJob {
        file: format!("{id}.csv"),
        progress: 0,
        status: Status::Queued,
    };
    jobs.store(&id, &job).await?;
    let reference = jobs.reference(&id).await?;
    let task = ExportTask {
        job: reference.clone(),
        fail_at: start.fail_at,
    };
    // one attempt: a failed export ends its job as failed (apalis-sqlite
    // tries a task 25 times by default, each starting the work over)
    let task = TaskBuilder::new(task).max_attempts(1).build();
    if let Err(err) = queue.clone().push_task(task).await {
        // the task never got queued: say so on the job's page too
        jobs.fail(&id, "the export could not be queued").await?;
        return Err(Error::backend(
            jobsess::Op::Write,
            "exports queue",
            err.to_string(),
        ));
    }
    Ok(Json(reference))
}

/// The job as server-sent events, up to `done`.
async fn events(
    jobs: SqliteJobs<ExportJob>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Error> {
    Ok(jobsess::axum::sse(jobs.watch(&id).await?))
}

async fn web(
    path: &str,
    tasks: SqliteStorage<ExportTask>,
    store: SqliteJobStore,
) -> Result<(), BoxDynError> {
    // the sessions' store is on sqlx 0.8, on the same file
    let sessions_pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(jobsess::sqlite::SqliteJobStore::connect_options(path))
        .await?;
    let sessions = SqliteStore::new(sessions_pool);
    sessions.migrate().await?;
    let app = Router::new()
        .route("/exports/{id}", post(start))
        .route("/exports/{id}/events", get(events))
        .layer(Extension(store))
        .layer(Extension(tasks))
        .layer(SessionManagerLayer::new(sessions).with_secure(false));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

// ---- the worker side -----------------------------------------------------

/// The apalis handler: open the job, do the work, end the job with the
/// work's outcome (finished, or failed with the error's text).
async fn export(task: ExportTask, store: Data<SqliteJobStore>) -> Result<(), BoxDynError> {
    let job = store.open::<ExportJob>(&task.job).await?;
    let outcome = run(&job, task.fail_at).await;
    job.end(&outcome).await?;
    outcome
}

/// The work itself, reporting its progress.
async fn run(
    job: &WorkerJob<ExportJob, SqliteOwnerJobs>,
    fail_at: Option<u8>,
) -> Result<(), BoxDynError> {
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

async fn worker(
    queue: &str,
    tasks: SqliteStorage<ExportTask>,
    store: SqliteJobStore,
) -> Result<(), BoxDynError> {
    println!("worker on queue {queue}");
    WorkerBuilder::new(format!("{queue}-worker"))
        .backend(tasks)
        .data(store)
        .build(export)
        .run()
        .await?;
    Ok(())
}

/// The pool of the queue and the jobs (sqlx 0.9), with the options the
/// job store needs (WAL, a busy timeout), and both migrated.
async fn pool(path: &str) -> Result<SqlitePool, BoxDynError> {
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(SqliteJobStore::connect_options(path))
        .await?;
    SqliteStorage::<()>::setup(&pool).await?;
    Ok(pool)
}

#[tokio::main]
async fn main() -> Result<(), BoxDynError> {
    let path = std::env::var("DB").unwrap_or_else(|_| "exports.db".into());
    let queue = std::env::var("QUEUE").unwrap_or_else(|_| "exports".into());
    let pool = pool(&path).await?;
    let store = SqliteJobStore::new(pool.clone()).with_ttl(Duration::from_secs(24 * 3600));
    store.migrate().await?;
    // the worker looks for tasks at each heartbeat (30 s by default)
    let config = Config::default()
        .queue(&queue)
        .heartbeat_interval(Duration::from_millis(200));
    let tasks = SqliteStorage::new(&pool).with_config(config);
    match std::env::args().nth(1).as_deref() {
        Some("web") => web(&path, tasks, store).await,
        Some("worker") => worker(&queue, tasks, store).await,
        _ => Err("usage: apalis_sqlite web|worker".into()),
    }
}
