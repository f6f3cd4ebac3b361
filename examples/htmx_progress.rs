//! A progress bar that moves live, with htmx 4 and no JavaScript of its
//! own. The page's `hx-sse:connect` opens the job's event stream; each
//! unnamed event is an HTML fragment of the bar, which htmx swaps in, and
//! `hx-sse:close="done"` closes the stream on the `done` event jobsess
//! sends once the job finished. A reload re-attaches to the running job,
//! and a browser that reconnects on its own sends `Last-Event-ID`: it gets
//! no state twice.
//!
//! ```sh
//! cargo run --example htmx_progress   # then open http://127.0.0.1:3000
//! ```
//!
//! Each visitor has their own jobs: the in-memory job store keeps them per
//! owner, and the visitor's session keeps only the owner token
//! (`MemoryJobs<M>`, the extractor). The job runs as a worker would: it
//! opens its job from a job reference, writes its progress, and finishes.
//!
//! On htmx 2 (`htmx.org@2` and `htmx-ext-sse@2`), the same page reads
//! `hx-ext="sse" sse-connect="..." sse-swap="progress" sse-close="done"`,
//! and the events are named: `SseEvent::named("progress", ...)`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::extract::Path;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Extension, Router};
use jobsess::store::{JobRef, JobStore, MemoryJobStore, MemoryJobs};
use jobsess::watch::{LastEventId, SseEvent};
use jobsess::{JobMetadata, Status};
use maud::{DOCTYPE, Markup, html};
use serde::{Deserialize, Serialize};
use tower_sessions::{MemoryStore, SessionManagerLayer};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(prefix = "export", status = status)]
struct ExportJob {
    file: String,
    #[serde(default)]
    progress: u8,
    #[serde(default)]
    status: Status,
}

/// The fragment the page starts with and every event replaces.
fn bar(progress: u8) -> Markup {
    html! { progress value=(progress) max="100" {} " " (progress) " %" }
}

fn layout(body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html { head {
                script src="https://unpkg.com/htmx.org@4.0.1/dist/htmx.min.js" {}
                script src="https://unpkg.com/htmx.org@4.0.1/dist/ext/hx-sse.js" {}
            } body { (body) } }
        }
        .into_string(),
    )
}

async fn home() -> Html<String> {
    layout(html! { form method="post" action="/jobs" { button { "Start an export" } } })
}

/// Starts a job of the visitor's, and its worker with a reference to it.
async fn start(
    jobs: MemoryJobs<ExportJob>,
    Extension(store): Extension<MemoryJobStore>,
) -> Result<Redirect, jobsess::Error> {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed).to_string();
    let job = ExportJob {
        file: format!("export-{id}.csv"),
        progress: 0,
        status: Status::Running,
    };
    jobs.store(&id, &job).await?;
    tokio::spawn(run(store, jobs.reference(&id).await?));
    Ok(Redirect::to(&format!("/jobs/{id}")))
}

/// The job's page: htmx opens the event stream, swaps each event into the
/// `div`, and closes the stream on `done`.
async fn show(
    jobs: MemoryJobs<ExportJob>,
    Path(id): Path<String>,
) -> Result<Html<String>, jobsess::Error> {
    let job = jobs.load(&id).await?.ok_or_else(|| jobs.not_found(&id))?;
    Ok(layout(html! {
        h1 { (job.file) }
        div hx-sse:connect=(format!("/jobs/{id}/events")) hx-sse:close="done" {
            (bar(job.progress))
        }
    }))
}

async fn events(
    jobs: MemoryJobs<ExportJob>,
    Path(id): Path<String>,
    last: LastEventId,
) -> Result<impl IntoResponse, jobsess::Error> {
    let progress = jobs.watch_field(&id, ExportJob::PROGRESS).await?;
    Ok(jobsess::axum::sse_with(progress.since(last), |p| {
        SseEvent::message(bar(p).into_string())
    }))
}

/// The worker: it opens its one job from the reference, writes its
/// progress (the page sees each step), and finishes it.
async fn run(store: MemoryJobStore, reference: JobRef) {
    let step: u64 = std::env::var("STEP_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let result = async {
        let job = store.open::<ExportJob>(&reference).await?;
        for progress in (10..=100).step_by(10) {
            tokio::time::sleep(Duration::from_millis(step)).await;
            job.store_field(ExportJob::PROGRESS, &progress).await?;
        }
        job.finish().await
    };
    if let Err(err) = result.await {
        eprintln!("job {}: {err}", reference.key());
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = Router::new()
        .route("/", get(home))
        .route("/jobs", post(start))
        .route("/jobs/{id}", get(show))
        .route("/jobs/{id}/events", get(events))
        .layer(Extension(MemoryJobStore::new()))
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
