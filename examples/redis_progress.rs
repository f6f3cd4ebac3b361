//! Jobs in the Redis job store, their progress served live as server-sent
//! events: a background task writes the job's progress, one `HSET` per
//! step, and every instance of the app on the same Redis streams it.
//!
//! ```sh
//! cargo run --example redis_progress            # REDIS_URL, default redis://127.0.0.1:6379
//! curl -c c -b c -X POST localhost:3000/jobs/job-1
//! curl -c c -b c -N localhost:3000/jobs/job-1/events
//! ```
//!
//! At 100 % the task marks the job finished: the event stream sends the
//! last progress, then an event named `done`, and ends, so `curl -N`
//! returns by itself. Asked again later, it sends the final progress and
//! `done` at once.
//!
//! The session keeps only an opaque owner token; each job is a Redis hash
//! with one field per metadata field, and expires a day after its last write.

use std::time::Duration;

use axum::extract::Path;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jobsess::JobMetadata;
use jobsess::redis::{RedisJobStore, RedisJobs, RedisOwnerJobs};
use jobsess::{AsyncJobSession, Error, Status};
use serde::{Deserialize, Serialize};
use tower_sessions::{MemoryStore, SessionManagerLayer};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(prefix = "export", status = status)]
struct ExportJob {
    file: String,
    #[serde(default)]
    progress: u8,
    /// Queued, running, finished or failed: once it ended, the job's
    /// event streams end too.
    #[serde(default)]
    status: Status,
}

/// Starts a job: its metadata, then a task that advances it. The task
/// keeps its own handle on the owner's jobs, so it outlives the request.
async fn start(jobs: RedisJobs<ExportJob>, Path(id): Path<String>) -> Result<(), Error> {
    let job = ExportJob {
        file: format!("{id}.csv"),
        progress: 0,
        status: Status::Running,
    };
    jobs.store(&id, &job).await?;
    tokio::spawn(run(jobs.0.clone(), id));
    Ok(())
}

async fn run(jobs: AsyncJobSession<ExportJob, RedisOwnerJobs>, id: String) {
    let step: u64 = std::env::var("STEP_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    for progress in (10..=100).step_by(10) {
        tokio::time::sleep(Duration::from_millis(step)).await;
        if let Err(err) = jobs.store_field(&id, ExportJob::PROGRESS, &progress).await {
            eprintln!("job {id}: {err}");
            return;
        }
    }
    if let Err(err) = jobs.finish(&id).await {
        eprintln!("job {id}: {err}");
    }
}

async fn show(
    jobs: RedisJobs<ExportJob>,
    Path(id): Path<String>,
) -> Result<Json<ExportJob>, Error> {
    let job = jobs.load(&id).await?;
    job.map(Json).ok_or_else(|| jobs.not_found(&id))
}

/// The progress as server-sent events: the current value, then each
/// change, one JSON number per `message` event; once the job finished, a
/// `done` event, and the end of the response.
async fn events(
    jobs: RedisJobs<ExportJob>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Error> {
    let progress = jobs.watch_field(&id, ExportJob::PROGRESS).await?;
    Ok(jobsess::axum::sse(progress))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let store = RedisJobStore::connect(&url)
        .await?
        .with_namespace("jobsess-example")
        .with_ttl(Duration::from_secs(24 * 3600));
    let app = Router::new()
        .route("/jobs/{id}", post(start).get(show))
        .route("/jobs/{id}/events", get(events))
        .layer(Extension(store))
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
