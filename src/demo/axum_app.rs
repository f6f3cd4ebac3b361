//! The demo app on axum, with tower-sessions: in memory by default, in
//! Redis when given a URL, so several instances share sessions.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jobsess::axum::Jobs;
use tower_sessions::{MemoryStore, SessionManagerLayer, SessionStore};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};

use super::{
    Runner, StartForm, Status, TranscriptionJob, current_progress, home_page, monitor_page,
    not_found_page, results_page, should_record,
};

type Result<T> = std::result::Result<T, jobsess::Error>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The app's routes over any tower-sessions store.
pub fn router<S: SessionStore + Clone>(store: S, runner: Runner) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/jobs", post(start))
        .route("/jobs/clear", post(clear))
        .route("/jobs/{id}", get(monitor))
        .route("/jobs/{id}/status", get(status))
        .route("/jobs/{id}/results", get(results))
        .route("/jobs/{id}/delete", post(delete))
        .layer(SessionManagerLayer::new(store).with_secure(false))
        .with_state(runner)
}

/// The app with sessions in memory.
pub fn memory_app(runner: Runner) -> Router {
    router(MemoryStore::default(), runner)
}

/// The app with sessions in the Redis at `url`.
///
/// # Errors
/// A bad URL or a Redis that doesn't answer.
pub async fn redis_app(url: &str, runner: Runner) -> std::result::Result<Router, BoxError> {
    let pool = Pool::new(Config::from_url(url)?, None, None, None, 2)?;
    pool.init().await?;
    Ok(router(RedisStore::new(pool), runner))
}

/// Serves `app` on `listener` until the process ends.
///
/// # Errors
/// An I/O error of the listener.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(listener, app).await
}

async fn home(jobs: Jobs<TranscriptionJob>) -> Result<Html<String>> {
    let entries = jobs.entries().await?;
    Ok(Html(home_page(&entries).into_string()))
}

async fn start(
    State(runner): State<Runner>,
    jobs: Jobs<TranscriptionJob>,
    Form(form): Form<StartForm>,
) -> Result<Response> {
    let job = match form.into_job() {
        Ok(job) => job,
        Err(why) => return Ok((StatusCode::BAD_REQUEST, why).into_response()),
    };
    let id = runner.start();
    jobs.store(&id, &job).await?;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}

/// Loads job `id` and its progress, copying a newer progress into the session.
async fn job_status(
    runner: &Runner,
    jobs: &Jobs<TranscriptionJob>,
    id: &str,
) -> Result<Option<(TranscriptionJob, Status)>> {
    let Some(job) = jobs.load(id).await? else {
        return Ok(None);
    };
    let progress = current_progress(runner, id, &job);
    if should_record(progress, &job) {
        jobs.store_field(id, TranscriptionJob::PROGRESS, &progress)
            .await?;
    }
    let status = Status::of(id, &job, progress);
    Ok(Some((job, status)))
}

fn not_found(id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(not_found_page(id).into_string()),
    )
        .into_response()
}

async fn monitor(
    State(runner): State<Runner>,
    jobs: Jobs<TranscriptionJob>,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(match job_status(&runner, &jobs, &id).await? {
        Some((_, status)) => Html(monitor_page(&status).into_string()).into_response(),
        None => not_found(&id),
    })
}

async fn status(
    State(runner): State<Runner>,
    jobs: Jobs<TranscriptionJob>,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(match job_status(&runner, &jobs, &id).await? {
        Some((_, status)) => Json(status).into_response(),
        None => not_found(&id),
    })
}

async fn results(
    State(runner): State<Runner>,
    jobs: Jobs<TranscriptionJob>,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(match job_status(&runner, &jobs, &id).await? {
        Some((job, status)) => {
            Html(results_page(&id, &job, status.done).into_string()).into_response()
        }
        None => not_found(&id),
    })
}

async fn delete(jobs: Jobs<TranscriptionJob>, Path(id): Path<String>) -> Result<Response> {
    Ok(if jobs.delete(&id).await? {
        Redirect::to("/").into_response()
    } else {
        not_found(&id)
    })
}

async fn clear(jobs: Jobs<TranscriptionJob>) -> Result<Redirect> {
    jobs.clear().await?;
    Ok(Redirect::to("/"))
}
