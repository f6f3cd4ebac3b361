//! A job monitor page worth copying, with htmx 4 and no JavaScript of its
//! own: one event stream updates the progress bar and the status line, and
//! once the job finished swaps its results into the page out of band
//! (`hx-swap-oob`). A reload in the middle re-attaches to the running job.
//! The cancel button sets a field the worker checks between steps: the
//! worker stops, and the page says "cancelled". The stream closes when the
//! job ends (`hx-sse:close="done"`), and the page doesn't connect again.
//!
//! ```sh
//! cargo run --example htmx_monitor   # then open http://127.0.0.1:3000
//! ```
//!
//! Each visitor's jobs are their own (the in-memory job store, the
//! `MemoryJobs<M>` extractor); the worker opens its job from a reference,
//! as one in another process would. `HTMX_DIR` serves htmx from a folder
//! (`htmx.min.js`, `sse.js`) instead of unpkg; `HTMX_VERSION=2` draws the
//! page for htmx 2 (`hx-ext="sse" sse-connect sse-swap="message"
//! sse-close="done"`: the same unnamed events).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::extract::Path;
use axum::http::StatusCode;
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
    /// Set by the cancel button; the worker checks it between steps.
    #[serde(default)]
    cancel: bool,
    /// The results, once the job finished.
    #[serde(default)]
    rows: Option<u32>,
}

/// The part of the page the stream redraws: the bar and the status line;
/// and, once the job finished, its results, swapped in out of band.
fn live(job: &ExportJob) -> Markup {
    let state = match &job.status {
        Status::Queued => "queued".to_owned(),
        Status::Running => format!("running: {} %", job.progress),
        Status::Finished => "finished".to_owned(),
        Status::Failed { reason } => format!("failed: {reason}"),
        Status::Cancelled => "cancelled".to_owned(),
        _ => "unknown".to_owned(),
    };
    html! {
        progress value=(job.progress) max="100" {}
        p #status { (state) }
        @if let Some(rows) = job.rows {
            div #results hx-swap-oob="true" { p { (rows) " rows exported to " (job.file) } }
        }
    }
}

/// Whether the page is drawn for htmx 2 (`HTMX_VERSION=2`).
fn htmx_2() -> bool {
    std::env::var("HTMX_VERSION").is_ok_and(|v| v.starts_with('2'))
}

fn page(body: Markup) -> Html<String> {
    let dir = std::env::var_os("HTMX_DIR").is_some();
    let (core, sse) = match (dir, htmx_2()) {
        (true, _) => ("/htmx/htmx.min.js", "/htmx/sse.js"),
        (false, false) => (
            "https://unpkg.com/htmx.org@4.0.1/dist/htmx.min.js",
            "https://unpkg.com/htmx.org@4.0.1/dist/ext/hx-sse.js",
        ),
        (false, true) => (
            "https://unpkg.com/htmx.org@2.0.4",
            "https://unpkg.com/htmx-ext-sse@2.2.2/sse.js",
        ),
    };
    Html(
        html! {
            (DOCTYPE)
            html { head { script src=(core) {} script src=(sse) {} } body { (body) } }
        }
        .into_string(),
    )
}

async fn home() -> Html<String> {
    page(html! { form method="post" action="/jobs" { button { "Start an export" } } })
}

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
        cancel: false,
        rows: None,
    };
    jobs.store(&id, &job).await?;
    tokio::spawn(work(store, jobs.reference(&id).await?));
    Ok(Redirect::to(&format!("/jobs/{id}")))
}

/// The monitor: drawn from the job as it is now, so a reload re-attaches.
async fn show(
    jobs: MemoryJobs<ExportJob>,
    Path(id): Path<String>,
) -> Result<Html<String>, jobsess::Error> {
    let job = jobs.load(&id).await?.ok_or_else(|| jobs.not_found(&id))?;
    let events = format!("/jobs/{id}/events");
    let live = if htmx_2() {
        html! {
            div #live hx-ext="sse" sse-connect=(events) sse-swap="message" sse-close="done" {
                (live(&job))
            }
        }
    } else {
        html! { div #live hx-sse:connect=(events) hx-sse:close="done" { (live(&job)) } }
    };
    Ok(page(html! {
        h1 { (job.file) }
        (live)
        div #results {}
        button hx-post=(format!("/jobs/{id}/cancel")) hx-swap="none" { "Cancel" }
    }))
}

async fn events(
    jobs: MemoryJobs<ExportJob>,
    Path(id): Path<String>,
    last: LastEventId,
) -> Result<impl IntoResponse, jobsess::Error> {
    let changes = jobs.watch(&id).await?.since(last);
    Ok(jobsess::axum::sse_with(changes, |change| match change {
        jobsess::watch::Change::Updated(job) => SseEvent::message(live(&job).into_string()),
        jobsess::watch::Change::Deleted => SseEvent::message("deleted"),
    }))
}

async fn cancel(
    jobs: MemoryJobs<ExportJob>,
    Path(id): Path<String>,
) -> Result<StatusCode, jobsess::Error> {
    jobs.store_field(&id, ExportJob::CANCEL, &true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The worker: a step at a time, unless the job was cancelled meanwhile.
async fn work(store: MemoryJobStore, reference: JobRef) {
    let step: u64 = std::env::var("STEP_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let result = async {
        let job = store.open::<ExportJob>(&reference).await?;
        for progress in (5..=100).step_by(5) {
            tokio::time::sleep(Duration::from_millis(step)).await;
            if job.load_field(ExportJob::CANCEL).await? == Some(true) {
                return job.store_field(ExportJob::STATUS, &Status::Cancelled).await;
            }
            job.store_field(ExportJob::PROGRESS, &progress).await?;
        }
        job.store_field(ExportJob::ROWS, &Some(1_000)).await?;
        job.finish().await
    };
    if let Err(err) = result.await {
        eprintln!("job {}: {err}", reference.key());
    }
}

/// htmx from `HTMX_DIR`, when it is set.
async fn script(Path(file): Path<String>) -> Result<impl IntoResponse, StatusCode> {
    let dir = std::env::var_os("HTMX_DIR").map(PathBuf::from);
    let dir = dir.ok_or(StatusCode::NOT_FOUND)?;
    if !["htmx.min.js", "sse.js"].contains(&file.as_str()) {
        return Err(StatusCode::NOT_FOUND);
    }
    let text = tokio::fs::read_to_string(dir.join(file)).await;
    let text = text.map_err(|_| StatusCode::NOT_FOUND)?;
    Ok(([("content-type", "text/javascript")], text))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = Router::new()
        .route("/", get(home))
        .route("/jobs", post(start))
        .route("/jobs/{id}", get(show))
        .route("/jobs/{id}/events", get(events))
        .route("/jobs/{id}/cancel", post(cancel))
        .route("/htmx/{file}", get(script))
        .layer(Extension(MemoryJobStore::new()))
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
