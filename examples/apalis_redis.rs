//! apalis 1.0 on Redis, end to end: a route stores a job's metadata and
//! pushes an apalis task that carries the job's reference (never the
//! user's owner token); an apalis worker, in a process of its own, opens
//! the reference and writes the progress; any web instance streams it,
//! then `done`, whether the task finished or failed.
//!
//! ```sh
//! cargo run --example apalis_redis -- web        # PORT (3000), REDIS_URL
//! cargo run --example apalis_redis -- worker     # in another terminal
//! curl -c c -b c -X POST localhost:3000/exports/report
//! curl -c c -b c -N localhost:3000/exports/report/events
//! curl -c c -b c -X POST 'localhost:3000/exports/broken?fail_at=50'
//! ```
//!
//! Sessions live in Redis too (tower-sessions-redis-store), so any number
//! of web instances serve the same users. `QUEUE` names the apalis queue
//! and the jobsess namespace (`exports`); `STEP_MS` is the time per 10 %.
//!
//! What the worker adds to an apalis handler to report progress is the
//! first and the last line of `export` below: open the reference, end the
//! job with the handler's outcome.

use std::time::Duration;

use apalis::prelude::{BoxDynError, Data, TaskSink, WorkerBuilder};
use apalis_redis::{Config, RedisStorage};
use axum::extract::{Path, Query};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jobsess::redis::{RedisJobStore, RedisJobs, RedisOwnerJobs};
use jobsess::store::{JobRef, JobStore, WorkerJob};
use jobsess::{Error, JobMetadata, Status};
use serde::{Deserialize, Serialize};
use tower_sessions::SessionManagerLayer;
use tower_sessions_redis_store::RedisStore;

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
    jobs: RedisJobs<ExportJob>,
    Extension(queue): Extension<RedisStorage<ExportTask>>,
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
    if let Err(err) = queue.clone().push(task).await {
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
    jobs: RedisJobs<ExportJob>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Error> {
    Ok(jobsess::axum::sse(jobs.watch(&id).await?))
}

async fn web(url: &str, queue: &str, store: RedisJobStore) -> Result<(), BoxDynError> {
    let tasks = tasks(url, queue).await?;
    let sessions =
        fred::clients::Pool::new(fred::prelude::Config::from_url(url)?, None, None, None, 2)?;
    fred::interfaces::ClientLike::init(&sessions).await?;
    let app = Router::new()
        .route("/exports/{id}", post(start))
        .route("/exports/{id}/events", get(events))
        .layer(Extension(store))
        .layer(Extension(tasks))
        .layer(SessionManagerLayer::new(RedisStore::new(sessions)).with_secure(false));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

// ---- the worker side -----------------------------------------------------

/// The apalis handler: open the job, do the work, end the job with the
/// work's outcome (finished, or failed with the error's text).
async fn export(task: ExportTask, store: Data<RedisJobStore>) -> Result<(), BoxDynError> {
    let job = store.open::<ExportJob>(&task.job).await?;
    let outcome = run(&job, task.fail_at).await;
    job.end(&outcome).await?;
    outcome
}

/// The work itself, reporting its progress.
async fn run(
    job: &WorkerJob<ExportJob, RedisOwnerJobs>,
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

async fn worker(url: &str, queue: &str, store: RedisJobStore) -> Result<(), BoxDynError> {
    let tasks = tasks(url, queue).await?;
    println!("worker on queue {queue}");
    WorkerBuilder::new(format!("{queue}-worker"))
        .backend(tasks)
        .data(store)
        .build(export)
        .run()
        .await?;
    Ok(())
}

/// The apalis queue of export tasks.
async fn tasks(url: &str, queue: &str) -> Result<RedisStorage<ExportTask>, BoxDynError> {
    let conn = apalis_redis::connect(url).await?;
    let config = Config::default()
        .queue(queue)
        .heartbeat_interval(Duration::from_millis(200));
    Ok(RedisStorage::new(conn).with_config(config))
}

#[tokio::main]
async fn main() -> Result<(), BoxDynError> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let queue = std::env::var("QUEUE").unwrap_or_else(|_| "exports".into());
    let store = RedisJobStore::connect(&url)
        .await?
        .with_namespace(&queue)
        .with_ttl(Duration::from_secs(24 * 3600));
    match std::env::args().nth(1).as_deref() {
        Some("web") => web(&url, &queue, store).await,
        Some("worker") => worker(&url, &queue, store).await,
        _ => Err("usage: apalis_redis web|worker".into()),
    }
}
