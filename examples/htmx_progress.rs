//! A progress bar that moves live, with htmx and no JavaScript of its own:
//! htmx's SSE extension swaps in each `progress` event, an HTML fragment
//! that `jobsess::axum::sse_with` renders from the job's `progress` field.
//!
//! ```sh
//! cargo run --example htmx_progress   # then open http://127.0.0.1:3000
//! ```
//!
//! The jobs live in one in-process store, `Notifying<Mutex<HashMap>>`,
//! which every visitor shares. For per-user jobs across app instances, use
//! the Redis job store: its `RedisJobs<M>` extractor watches the same way
//! (`examples/redis_progress.rs`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use jobsess::watch::{Notifying, SseEvent};
use jobsess::{AsyncJobSession, JobMetadata};
use maud::{DOCTYPE, Markup, html};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(prefix = "export")]
struct ExportJob {
    file: String,
    #[serde(default)]
    progress: u8,
}

type Jobs = AsyncJobSession<ExportJob, Notifying<Mutex<HashMap<String, serde_json::Value>>>>;

/// The fragment the page starts with and every event replaces.
fn bar(progress: u8) -> Markup {
    html! { progress value=(progress) max="100" {} " " (progress) " %" }
}

fn layout(body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html { head {
                script src="https://unpkg.com/htmx.org@2.0.4" {}
                script src="https://unpkg.com/htmx-ext-sse@2.2.2/sse.js" {}
            } body { (body) } }
        }
        .into_string(),
    )
}

async fn home() -> Html<String> {
    layout(html! { form method="post" action="/jobs" { button { "Start an export" } } })
}

async fn start(State(jobs): State<Jobs>) -> Result<Redirect, jobsess::Error> {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed).to_string();
    let job = ExportJob {
        file: format!("export-{id}.csv"),
        progress: 0,
    };
    jobs.store(&id, &job).await?;
    tokio::spawn(run(jobs, id.clone()));
    Ok(Redirect::to(&format!("/jobs/{id}")))
}

/// The job's page: htmx opens the event stream and swaps each `progress`
/// event into the `div`.
async fn show(
    State(jobs): State<Jobs>,
    Path(id): Path<String>,
) -> Result<Html<String>, jobsess::Error> {
    let job = jobs.load(&id).await?.ok_or_else(|| jobs.not_found(&id))?;
    Ok(layout(html! {
        h1 { (job.file) }
        div hx-ext="sse" sse-connect=(format!("/jobs/{id}/events")) sse-swap="progress" {
            (bar(job.progress))
        }
    }))
}

async fn events(
    State(jobs): State<Jobs>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, jobsess::Error> {
    let progress = jobs.watch_field(&id, ExportJob::PROGRESS).await?;
    Ok(jobsess::axum::sse_with(progress, |p| {
        SseEvent::named("progress", bar(p).into_string())
    }))
}

/// The background job: it writes its progress, and the watchers see it.
async fn run(jobs: Jobs, id: String) {
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
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let jobs: Jobs = AsyncJobSession::new(Notifying::new(Mutex::new(HashMap::new())));
    let app = Router::new()
        .route("/", get(home))
        .route("/jobs", post(start))
        .route("/jobs/{id}", get(show))
        .route("/jobs/{id}/events", get(events))
        .with_state(jobs);
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
