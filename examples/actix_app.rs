//! The transcription demo on actix-web and actix-session: the fixture of
//! the end-to-end tests, every feature at once. To start an app of your
//! own, copy `actix_minimal.rs` instead. The routes, then `main`. The whole
//! session rides in a private cookie, so the handles get the cookie budget.
//! The pages, the metadata type and the stand-in transcriber are shared
//! with the axum demo (`src/demo/mod.rs`).
//!
//! ```sh
//! cargo run --example actix_app                      # port 3000
//! cargo run --example actix_app -- --port 3001
//! cargo run --example actix_app -- --help
//! ```
//!
//! The cookie key is made anew at each start, so sessions end with the
//! process.

use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::Key;
use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, http::header, web};
use jobsess::actix::{CookieSecurity, Jobs, JobsConfig};

use jobsess_workspace::demo::{
    Runner, StartForm, Status, TranscriptionJob, current_progress, error_page, home_page,
    home_page_with, monitor_page, not_found_page, results_page, should_record, user_error,
};

type Result<T> = std::result::Result<T, PageError>;

/// Registers the app's routes.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/jobs", web::post().to(start))
        .route("/jobs/clear", web::post().to(clear))
        .route("/jobs/{id}", web::get().to(monitor))
        .route("/jobs/{id}/status", web::get().to(status))
        .route("/jobs/{id}/results", web::get().to(results))
        .route("/jobs/{id}/delete", web::post().to(delete));
}

/// The server on `listener`, with cookie sessions sealed by `key`. Run it
/// inside an actix (or tokio) runtime by awaiting it.
///
/// # Errors
/// An I/O error of the listener.
fn server(listener: std::net::TcpListener, key: Key, runner: Runner) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    .cookie_secure(false)
                    .build(),
            )
            // actix-session's default: a private (encrypted) cookie
            .app_data(JobsConfig::cookie(CookieSecurity::Private))
            .app_data(web::Data::new(runner.clone()))
            // room for an over-long file name, so the form says what is wrong
            .app_data(web::FormConfig::default().limit(64 * 1024))
            .configure(routes)
    })
    .workers(1)
    .listen(listener)?
    .run())
}

fn html(markup: &maud::Markup) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(markup.clone().into_string())
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// A JSON error for the JSON endpoint.
fn json_error(status: u16, message: String) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(serde_json::json!({ "error": message }))
}

/// An error of a page handler, answered with an HTML error page that has
/// the status, a message for the user and a link back.
#[derive(Debug)]
struct PageError(jobsess::Error);

impl From<jobsess::Error> for PageError {
    fn from(err: jobsess::Error) -> Self {
        PageError(err)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl actix_web::ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let (status, message) = user_error(&self.0);
        if status >= 500 {
            tracing::error!(error = %self.0, "demo: request failed");
        }
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(error_page(status, &message).into_string())
    }
}

fn not_found(id: &str) -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/html; charset=utf-8")
        .body(not_found_page(id).into_string())
}

async fn home(jobs: Jobs<TranscriptionJob>) -> Result<HttpResponse> {
    Ok(html(&home_page(&jobs.entries()?)))
}

async fn start(
    runner: web::Data<Runner>,
    mut jobs: Jobs<TranscriptionJob>,
    form: web::Form<StartForm>,
) -> Result<HttpResponse> {
    let job = match form.into_inner().into_job() {
        Ok(job) => job,
        Err(why) => {
            return Ok(HttpResponse::UnprocessableEntity()
                .content_type("text/html; charset=utf-8")
                .body(home_page_with(&jobs.entries()?, Some(why)).into_string()));
        }
    };
    // stored first: if the cookie is full, nothing runs, and the form says why
    let id = Runner::new_id();
    if let Err(err) = jobs.store(&id, &job) {
        let (status, message) = user_error(&err);
        return Ok(HttpResponse::build(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        )
        .content_type("text/html; charset=utf-8")
        .body(home_page_with(&jobs.entries()?, Some(&message)).into_string()));
    }
    runner.run(&id);
    Ok(see_other(&format!("/jobs/{id}")))
}

fn job_status(
    runner: &Runner,
    jobs: &mut Jobs<TranscriptionJob>,
    id: &str,
) -> Result<Option<(TranscriptionJob, Status)>> {
    let Some(job) = jobs.load(id)? else {
        return Ok(None);
    };
    let progress = current_progress(runner, id, &job);
    if should_record(progress, &job) {
        jobs.store_field(id, TranscriptionJob::PROGRESS, &progress)?;
    }
    let status = Status::of(id, &job, progress);
    Ok(Some((job, status)))
}

async fn monitor(
    runner: web::Data<Runner>,
    mut jobs: Jobs<TranscriptionJob>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    Ok(match job_status(&runner, &mut jobs, &id)? {
        Some((_, status)) => html(&monitor_page(&status, false)),
        None => not_found(&id),
    })
}

async fn status(
    runner: web::Data<Runner>,
    mut jobs: Jobs<TranscriptionJob>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    Ok(match job_status(&runner, &mut jobs, &id) {
        Ok(Some((_, status))) => HttpResponse::Ok().json(status),
        Ok(None) => json_error(404, format!("Job {id} not found.")),
        Err(PageError(err)) => {
            let (status, message) = user_error(&err);
            json_error(status, message)
        }
    })
}

async fn results(
    runner: web::Data<Runner>,
    mut jobs: Jobs<TranscriptionJob>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    Ok(match job_status(&runner, &mut jobs, &id)? {
        Some((job, status)) => html(&results_page(&id, &job, status.done)),
        None => not_found(&id),
    })
}

async fn delete(mut jobs: Jobs<TranscriptionJob>, id: web::Path<String>) -> Result<HttpResponse> {
    Ok(if jobs.delete(&id)? {
        see_other("/")
    } else {
        not_found(&id)
    })
}

async fn clear(mut jobs: Jobs<TranscriptionJob>) -> Result<HttpResponse> {
    jobs.clear()?;
    Ok(see_other("/"))
}

/// The transcription demo on actix-web + actix-session (cookie sessions).
#[derive(clap::Parser)]
#[command(version, about)]
struct Args {
    /// The port to listen on, on 127.0.0.1 (0: any free port).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// Milliseconds each 10 % of a job takes.
    #[arg(long, default_value_t = 500)]
    step_ms: u64,
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = <Args as clap::Parser>::parse();
    let serve = async {
        let listener = std::net::TcpListener::bind(("127.0.0.1", args.port))
            .map_err(|err| format!("can't listen on 127.0.0.1:{}: {err}", args.port))?;
        println!(
            "actix-web demo on http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let runner = Runner::new(std::time::Duration::from_millis(args.step_ms));
        server(listener, Key::generate(), runner)
            .map_err(|err| err.to_string())?
            .await
            .map_err(|err| err.to_string())
    };
    match serve.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("actix_app: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
