//! The transcription demo on axum and tower-sessions: the fixture of the
//! end-to-end and browser tests, every feature at once. To start an app of
//! your own, copy `axum_minimal.rs` (or `redis_progress.rs`,
//! `htmx_progress.rs`) instead. The routes, then `main`. The pages, the
//! metadata type and the stand-in transcriber are shared with the actix-web
//! demo (`src/demo/mod.rs`).
//!
//! ```sh
//! cargo run --example axum_app                        # sessions and jobs in memory, port 3000
//! cargo run --example axum_app -- --port 3001 --redis-url redis://127.0.0.1:6379
//! cargo run --example axum_app -- --port 3002 --database-url postgres://postgres@127.0.0.1:5432/test
//! cargo run --example axum_app -- --port 3003 --sqlite jobs.db   # no service at all
//! cargo run --example axum_app -- --help
//! ```
//!
//! With `--redis-url` (or `REDIS_URL`), sessions live in Redis and job
//! metadata in the Redis job store: the running job writes its progress
//! there one field at a time, so a second instance on another port shows
//! the same job's progress live. With `--database-url` the same holds over PostgreSQL alone: sessions in
//! tower-sessions-sqlx-store's Postgres store, job metadata in the
//! PostgreSQL job store, live progress over LISTEN/NOTIFY. With `--sqlite`
//! it holds over one SQLite file and nothing else: sessions in
//! tower-sessions-sqlx-store's SQLite store, job metadata in the SQLite job
//! store; jobs and their progress survive a restart of the app, and
//! instances (processes) on the same file show the same job live.

use std::ops::Deref;

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use axum::Extension;
use axum::extract::FromRequestParts;
use jobsess::axum::Jobs;
use jobsess::postgres::{PostgresJobStore, PostgresJobs};
use jobsess::redis::{RedisJobStore, RedisJobs, RedisOwnerJobs};
use jobsess::sqlite::{SqliteJobStore, SqliteJobs};
use jobsess::store::{JobStore, ServerJobs};
use jobsess::tower_sessions::AnySession;
use jobsess::{AsyncJobSession, AsyncSessionBackend};
use tower_sessions::{MemoryStore, SessionManagerLayer, SessionStore};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use jobsess_workspace::demo::{
    Runner, StartForm, Status, TranscriptionJob, current_progress, error_page, home_page,
    home_page_with, monitor_page, not_found_page, results_page, should_record, user_error,
};

type Result<T> = std::result::Result<T, PageError>;

/// An error of a page handler, answered with an HTML error page that has
/// the status, a message for the user and a link back.
struct PageError(jobsess::Error);

impl From<jobsess::Error> for PageError {
    fn from(err: jobsess::Error) -> Self {
        PageError(err)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = user_error(&self.0);
        if status >= 500 {
            tracing::error!(error = %self.0, "demo: request failed");
        }
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            Html(error_page(status.as_u16(), &message).into_string()),
        )
            .into_response()
    }
}
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the handlers need of a jobs extractor: the session-held `Jobs<M>`,
/// or `RedisJobs<M>`/`PostgresJobs<M>` of a server-side job store.
trait JobsOf:
    FromRequestParts<Runner, Rejection = Response>
    + Deref<Target = AsyncJobSession<TranscriptionJob, Self::Backend>>
    + Send
    + Sync
    + 'static
{
    /// The backend the handle works on.
    type Backend: AsyncSessionBackend + Clone + 'static;
    /// Whether the running job writes its progress into the store itself
    /// (so any instance reads it there), rather than pages copying it.
    const WRITES_PROGRESS: bool;
    /// Whether the monitor page follows `/jobs/{id}/events` rather than
    /// reloading itself.
    const LIVE: bool;
}

impl JobsOf for Jobs<TranscriptionJob> {
    type Backend = AnySession;
    const WRITES_PROGRESS: bool = false;
    const LIVE: bool = false;
}

impl JobsOf for RedisJobs<TranscriptionJob> {
    type Backend = RedisOwnerJobs;
    const WRITES_PROGRESS: bool = true;
    const LIVE: bool = true;
}

impl JobsOf for PostgresJobs<TranscriptionJob> {
    type Backend = jobsess::postgres::PostgresOwnerJobs;
    const WRITES_PROGRESS: bool = true;
    const LIVE: bool = true;
}

impl JobsOf for SqliteJobs<TranscriptionJob> {
    type Backend = jobsess::sqlite::SqliteOwnerJobs;
    const WRITES_PROGRESS: bool = true;
    const LIVE: bool = true;
}

/// The app's routes over any tower-sessions store, with job metadata
/// through `J`.
fn router<J: JobsOf, S: SessionStore + Clone>(
    store: S,
    runner: Runner,
    extra: Router<Runner>,
) -> Router {
    extra
        .route("/", get(home::<J>))
        .route("/jobs", post(start::<J>))
        .route("/jobs/clear", post(clear::<J>))
        .route("/jobs/{id}", get(monitor::<J>))
        .route("/jobs/{id}/status", get(status::<J>))
        .route("/jobs/{id}/results", get(results::<J>))
        .route("/jobs/{id}/delete", post(delete::<J>))
        .layer(SessionManagerLayer::new(store).with_secure(false))
        .with_state(runner)
}

/// The app with sessions and job metadata in memory.
fn memory_app(runner: Runner) -> Router {
    router::<Jobs<TranscriptionJob>, _>(MemoryStore::default(), runner, Router::new())
}

/// The app with sessions in the Redis at `url` and job metadata in the
/// Redis job store there: instances on one Redis share both, and a job's
/// progress, written by the job as it runs, shows on every instance.
///
/// # Errors
/// A bad URL or a Redis that doesn't answer.
async fn redis_app(url: &str, runner: Runner) -> std::result::Result<Router, BoxError> {
    // one pool for sessions and jobs, which reconnects after a Redis restart
    let pool = jobsess::redis::connect_pool(url, 4).await?;
    let jobs = RedisJobStore::new(pool.clone())
        .with_namespace("jobsess-demo")
        .with_ttl(std::time::Duration::from_secs(24 * 3600));
    Ok(router::<RedisJobs<TranscriptionJob>, _>(
        RedisStore::new(pool),
        runner,
        Router::new().route("/jobs/{id}/events", get(events::<RedisJobStore>)),
    )
    .layer(Extension(jobs)))
}

/// The app with sessions and job metadata in the PostgreSQL at `url`, on
/// one pool: instances on one database share both, and a job's progress
/// shows live on every instance (LISTEN/NOTIFY).
///
/// # Errors
/// A bad URL, a database that doesn't answer, or a failed migration.
async fn postgres_app(url: &str, runner: Runner) -> std::result::Result<Router, BoxError> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect(url)
        .await?;
    let sessions = PostgresStore::new(pool.clone());
    sessions.migrate().await?;
    let jobs = PostgresJobStore::new(pool).with_ttl(std::time::Duration::from_secs(24 * 3600));
    jobs.migrate().await?;
    let _sweeper = jobs.spawn_sweeper(std::time::Duration::from_secs(300));
    Ok(router::<PostgresJobs<TranscriptionJob>, _>(
        sessions,
        runner,
        Router::new().route("/jobs/{id}/events", get(events::<PostgresJobStore>)),
    )
    .layer(Extension(jobs)))
}

/// The app with sessions and job metadata in the SQLite file at `path`
/// (made if missing), on one pool: no service to run, jobs that survive a
/// restart, and progress live on every process that opens the same file.
///
/// # Errors
/// A file that can't be opened or made, or a failed migration.
async fn sqlite_app(path: &str, runner: Runner) -> std::result::Result<Router, BoxError> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_with(SqliteJobStore::connect_options(path))
        .await?;
    let sessions = SqliteStore::new(pool.clone());
    sessions.migrate().await?;
    let jobs = SqliteJobStore::new(pool).with_ttl(std::time::Duration::from_secs(24 * 3600));
    jobs.migrate().await?;
    let _sweeper = jobs.spawn_sweeper(std::time::Duration::from_secs(300));
    Ok(router::<SqliteJobs<TranscriptionJob>, _>(
        sessions,
        runner,
        Router::new().route("/jobs/{id}/events", get(events::<SqliteJobStore>)),
    )
    .layer(Extension(jobs)))
}

/// The job's progress as server-sent events, one number per change, from
/// whichever instance the job runs on.
async fn events<E: JobStore>(
    jobs: ServerJobs<TranscriptionJob, E>,
    Path(id): Path<String>,
) -> Result<Response> {
    let progress = jobs.watch_field(&id, TranscriptionJob::PROGRESS).await?;
    Ok(jobsess::axum::sse(progress).into_response())
}

async fn home<J: JobsOf>(jobs: J) -> Result<Html<String>> {
    let entries = jobs.entries().await?;
    Ok(Html(home_page(&entries).into_string()))
}

async fn start<J: JobsOf>(
    State(runner): State<Runner>,
    jobs: J,
    Form(form): Form<StartForm>,
) -> Result<Response> {
    let job = match form.into_job() {
        Ok(job) => job,
        Err(why) => {
            let page = home_page_with(&jobs.entries().await?, Some(why));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response());
        }
    };
    // stored first: if that fails, nothing runs, and the form says why
    let id = Runner::new_id();
    if let Err(err) = jobs.store(&id, &job).await {
        let (status, message) = user_error(&err);
        let page = home_page_with(&jobs.entries().await?, Some(&message));
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Ok((status, Html(page.into_string())).into_response());
    }
    runner.run(&id);
    if J::WRITES_PROGRESS {
        // the job writes its progress as it runs: one HSET per step
        let (jobs, id, step) = ((*jobs).clone(), id.clone(), runner.step());
        tokio::spawn(async move {
            for percent in (10..=100).step_by(10) {
                tokio::time::sleep(step).await;
                if let Err(err) = jobs
                    .store_field(&id, TranscriptionJob::PROGRESS, &percent)
                    .await
                {
                    tracing::warn!(%id, error = %err, "progress not recorded");
                }
            }
        });
    }
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}

/// Loads job `id` and its progress, copying a newer progress into the session.
async fn job_status<J: JobsOf>(
    runner: &Runner,
    jobs: &J,
    id: &str,
) -> Result<Option<(TranscriptionJob, Status)>> {
    let Some(job) = jobs.load(id).await? else {
        return Ok(None);
    };
    // with the Redis job store the running job writes its progress itself
    let progress = if J::WRITES_PROGRESS {
        job.progress
    } else {
        current_progress(runner, id, &job)
    };
    if !J::WRITES_PROGRESS && should_record(progress, &job) {
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

async fn monitor<J: JobsOf>(
    State(runner): State<Runner>,
    jobs: J,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(match job_status(&runner, &jobs, &id).await? {
        Some((_, status)) => Html(monitor_page(&status, J::LIVE).into_string()).into_response(),
        None => not_found(&id),
    })
}

/// The JSON endpoint answers errors in JSON too.
async fn status<J: JobsOf>(
    State(runner): State<Runner>,
    jobs: J,
    Path(id): Path<String>,
) -> Response {
    let json_error = |status: u16, message: String| {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    };
    match job_status(&runner, &jobs, &id).await {
        Ok(Some((_, status))) => Json(status).into_response(),
        Ok(None) => json_error(404, format!("Job {id} not found.")),
        Err(PageError(err)) => {
            let (status, message) = user_error(&err);
            json_error(status, message)
        }
    }
}

async fn results<J: JobsOf>(
    State(runner): State<Runner>,
    jobs: J,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(match job_status(&runner, &jobs, &id).await? {
        Some((job, status)) => {
            Html(results_page(&id, &job, status.done).into_string()).into_response()
        }
        None => not_found(&id),
    })
}

async fn delete<J: JobsOf>(jobs: J, Path(id): Path<String>) -> Result<Response> {
    Ok(if jobs.delete(&id).await? {
        Redirect::to("/").into_response()
    } else {
        not_found(&id)
    })
}

async fn clear<J: JobsOf>(jobs: J) -> Result<Redirect> {
    jobs.clear().await?;
    Ok(Redirect::to("/"))
}

/// The transcription demo on axum + tower-sessions.
#[derive(clap::Parser)]
#[command(version, about)]
struct Args {
    /// The port to listen on, on 127.0.0.1 (0: any free port).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// Keep sessions in this Redis and job metadata in its job store.
    #[arg(long, env = "REDIS_URL")]
    redis_url: Option<String>,
    /// Keep sessions and job metadata in this PostgreSQL (tables in the
    /// schemas `tower_sessions` and `jobsess`, made at start); it wins over
    /// a Redis URL.
    #[arg(long)]
    database_url: Option<String>,
    /// Keep sessions and job metadata in this SQLite file (made if
    /// missing): no service to run; it wins over the URLs.
    #[arg(long)]
    sqlite: Option<String>,
    /// Milliseconds each 10 % of a job takes.
    #[arg(long, default_value_t = 500)]
    step_ms: u64,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = <Args as clap::Parser>::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("axum_app: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A database URL without its password.
fn shown(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://{host}")
        }
        None => url.to_owned(),
    }
}

async fn run(args: Args) -> std::result::Result<(), BoxError> {
    let runner = Runner::new(std::time::Duration::from_millis(args.step_ms));
    let (app, kept) = match (&args.redis_url, &args.database_url) {
        _ if args.sqlite.is_some() => {
            let path = args.sqlite.as_deref().unwrap_or_default();
            (
                sqlite_app(path, runner)
                    .await
                    .map_err(|err| format!("can't use the SQLite file {path}: {err}"))?,
                format!("sessions and job metadata in the SQLite file {path}"),
            )
        }
        (_, Some(url)) => (
            postgres_app(url, runner)
                .await
                .map_err(|err| format!("can't use the PostgreSQL at {}: {err}", shown(url)))?,
            format!("sessions and job metadata in PostgreSQL at {}", shown(url)),
        ),
        (Some(url), None) => (
            redis_app(url, runner)
                .await
                .map_err(|err| format!("can't use the Redis at {url}: {err}"))?,
            format!("sessions in Redis at {url}, job metadata in the Redis job store"),
        ),
        (None, None) => (
            memory_app(runner),
            "sessions and job metadata in memory".to_owned(),
        ),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|err| format!("can't listen on 127.0.0.1:{}: {err}", args.port))?;
    println!("axum demo on http://{} ({kept})", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
