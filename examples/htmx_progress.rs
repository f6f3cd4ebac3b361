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
//! and the events are named: `SseEvent::named("progress", ...)`. Run it
//! with `HTMX_VERSION=2` to get that page. With `HTMX_DIR`, the app serves
//! htmx and its SSE extension from that folder (`htmx.min.js`, `sse.js`)
//! instead of loading them from unpkg. `CUT_STREAM_AFTER=n` (for the
//! browser test) ends a stream opened without `Last-Event-ID` after `n`
//! events, as a dropped connection would: the browser reconnects and
//! resumes.

use std::path::PathBuf;
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

/// Which htmx the pages load: 4, or 2 (`HTMX_VERSION=2`); from unpkg, or
/// from the files in `HTMX_DIR`.
#[derive(Clone)]
struct Htmx {
    two: bool,
    dir: Option<PathBuf>,
}

impl Htmx {
    fn from_env() -> Htmx {
        Htmx {
            two: std::env::var("HTMX_VERSION").is_ok_and(|v| v.starts_with('2')),
            dir: std::env::var_os("HTMX_DIR").map(PathBuf::from),
        }
    }

    /// The script URLs: htmx, then its SSE extension.
    fn scripts(&self) -> [&'static str; 2] {
        match (&self.dir, self.two) {
            (Some(_), _) => ["/htmx/htmx.min.js", "/htmx/sse.js"],
            (None, false) => [
                "https://unpkg.com/htmx.org@4.0.1/dist/htmx.min.js",
                "https://unpkg.com/htmx.org@4.0.1/dist/ext/hx-sse.js",
            ],
            (None, true) => [
                "https://unpkg.com/htmx.org@2.0.4",
                "https://unpkg.com/htmx-ext-sse@2.2.2/sse.js",
            ],
        }
    }
}

/// The fragment the page starts with and every event replaces.
fn bar(progress: u8) -> Markup {
    html! { progress value=(progress) max="100" {} " " (progress) " %" }
}

fn layout(htmx: &Htmx, body: Markup) -> Html<String> {
    let [core, sse] = htmx.scripts();
    Html(
        html! {
            (DOCTYPE)
            html { head {
                script src=(core) {}
                script src=(sse) {}
            } body { (body) } }
        }
        .into_string(),
    )
}

async fn home(Extension(htmx): Extension<Htmx>) -> Html<String> {
    layout(
        &htmx,
        html! { form method="post" action="/jobs" { button { "Start an export" } } },
    )
}

/// A file of `HTMX_DIR`, as JavaScript.
async fn script(
    Extension(htmx): Extension<Htmx>,
    Path(file): Path<String>,
) -> Result<impl IntoResponse, axum::http::StatusCode> {
    let not_found = axum::http::StatusCode::NOT_FOUND;
    let dir = htmx.dir.ok_or(not_found)?;
    if !["htmx.min.js", "sse.js"].contains(&file.as_str()) {
        return Err(not_found);
    }
    let text = tokio::fs::read_to_string(dir.join(file))
        .await
        .map_err(|_| not_found)?;
    Ok(([("content-type", "text/javascript")], text))
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
    Extension(htmx): Extension<Htmx>,
    Path(id): Path<String>,
) -> Result<Html<String>, jobsess::Error> {
    let job = jobs.load(&id).await?.ok_or_else(|| jobs.not_found(&id))?;
    let events = format!("/jobs/{id}/events");
    let live = if htmx.two {
        html! {
            div hx-ext="sse" sse-connect=(events) sse-swap="progress" sse-close="done" {
                (bar(job.progress))
            }
        }
    } else {
        html! { div hx-sse:connect=(events) hx-sse:close="done" { (bar(job.progress)) } }
    };
    Ok(layout(&htmx, html! { h1 { (job.file) } (live) }))
}

/// The bar after each change; htmx 4 swaps in unnamed events, htmx 2 the
/// events its `sse-swap` names.
async fn events(
    jobs: MemoryJobs<ExportJob>,
    Extension(htmx): Extension<Htmx>,
    Path(id): Path<String>,
    last: LastEventId,
) -> Result<axum::response::Response, jobsess::Error> {
    let first = last.0.is_none();
    let progress = jobs.watch_field(&id, ExportJob::PROGRESS).await?;
    let response = jobsess::axum::sse_with(progress.since(last), move |p| {
        let bar = bar(p).into_string();
        if htmx.two {
            SseEvent::named("progress", bar)
        } else {
            SseEvent::message(bar)
        }
    })
    .into_response();
    let cut = std::env::var("CUT_STREAM_AFTER")
        .ok()
        .and_then(|n| n.parse().ok());
    Ok(match cut {
        Some(events) if first => {
            use futures_util::StreamExt;
            let (parts, body) = response.into_parts();
            let cut = axum::body::Body::from_stream(body.into_data_stream().take(events));
            axum::response::Response::from_parts(parts, cut)
        }
        _ => response,
    })
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
        .route("/htmx/{file}", get(script))
        .layer(Extension(Htmx::from_env()))
        .layer(Extension(MemoryJobStore::new()))
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
