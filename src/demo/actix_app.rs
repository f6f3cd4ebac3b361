//! The demo app on actix-web, with actix-session's cookie store: the whole
//! session rides in a private cookie, so every handle gets the cookie budget.

use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::Key;
use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, http::header, web};
use jobsess::actix::{CookieSecurity, Jobs, JobsConfig};

use super::{
    Runner, StartForm, Status, TranscriptionJob, current_progress, error_page, home_page,
    home_page_with, monitor_page, not_found_page, results_page, should_record, user_error,
};

type Result<T> = std::result::Result<T, PageError>;

/// Registers the app's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
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
pub fn server(
    listener: std::net::TcpListener,
    key: Key,
    runner: Runner,
) -> std::io::Result<Server> {
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
pub struct PageError(jobsess::Error);

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
    // stored first: if the cookie is full, nothing runs
    let id = Runner::new_id();
    jobs.store(&id, &job)?;
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
        Some((_, status)) => html(&monitor_page(&status)),
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
