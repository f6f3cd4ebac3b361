//! The smallest axum app with jobsess: typed job metadata in each user's
//! tower-sessions session, read and written one field at a time.
//!
//! ```sh
//! cargo run --example axum_minimal
//! curl -c c -b c -X POST 'localhost:3000/jobs/job-1?file=report.csv'
//! curl -c c -b c -X POST localhost:3000/jobs/job-1/progress/40
//! curl -c c -b c localhost:3000/jobs/job-1     # {"file":"report.csv","progress":40}
//! curl -c c -b c localhost:3000/jobs           # ["job-1"]
//! ```

use axum::extract::{Path, Query};
use axum::routing::{get, post};
use axum::{Json, Router};
use jobsess::JobMetadata;
use jobsess::axum::Jobs;
use serde::{Deserialize, Serialize};
use tower_sessions::{MemoryStore, SessionManagerLayer};

/// What the app remembers about each job.
#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(prefix = "export")]
struct ExportJob {
    file: String,
    #[serde(default)]
    progress: u8,
}

#[derive(Deserialize)]
struct Start {
    file: String,
}

async fn start(
    jobs: Jobs<ExportJob>,
    Path(id): Path<String>,
    Query(start): Query<Start>,
) -> Result<(), jobsess::Error> {
    jobs.store(
        &id,
        &ExportJob {
            file: start.file,
            progress: 0,
        },
    )
    .await
}

/// One field, typed: a misspelt field or a wrong type doesn't compile.
async fn set_progress(
    jobs: Jobs<ExportJob>,
    Path((id, progress)): Path<(String, u8)>,
) -> Result<(), jobsess::Error> {
    jobs.store_field(&id, ExportJob::PROGRESS, &progress).await
}

async fn show(
    jobs: Jobs<ExportJob>,
    Path(id): Path<String>,
) -> Result<Json<ExportJob>, jobsess::Error> {
    let job = jobs.load(&id).await?;
    job.map(Json).ok_or_else(|| jobs.not_found(&id))
}

async fn list(jobs: Jobs<ExportJob>) -> Result<Json<Vec<String>>, jobsess::Error> {
    Ok(Json(jobs.ids().await?))
}

/// Errors answer with their status: 404 here for a job that isn't there.
async fn delete(jobs: Jobs<ExportJob>, Path(id): Path<String>) -> Result<(), jobsess::Error> {
    if jobs.delete(&id).await? {
        Ok(())
    } else {
        Err(jobs.not_found(&id))
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = Router::new()
        .route("/jobs", get(list))
        .route("/jobs/{id}", post(start).get(show).delete(delete))
        .route("/jobs/{id}/progress/{progress}", post(set_progress))
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
