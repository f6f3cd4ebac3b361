//! The demo app on actix-web, with actix-session's cookie store: the whole
//! session rides in a private cookie, so every handle gets the cookie budget.

use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::Key;
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, http::header, web};
use jobsess::actix::{CookieSecurity, Jobs, JobsConfig};

use super::{
    Runner, StartForm, Status, TranscriptionJob, current_progress, home_page, monitor_page,
    not_found_page, results_page, should_record,
};

type Result<T> = std::result::Result<T, jobsess::Error>;

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
        Err(why) => return Ok(HttpResponse::BadRequest().body(why)),
    };
    let id = runner.start();
    jobs.store(&id, &job)?;
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
    Ok(match job_status(&runner, &mut jobs, &id)? {
        Some((_, status)) => HttpResponse::Ok().json(status),
        None => not_found(&id),
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
