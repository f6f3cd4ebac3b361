//! The smallest actix-web app with jobsess: typed job metadata in each
//! user's actix-session cookie, kept under the cookie's size limit.
//!
//! ```sh
//! cargo run --example actix_minimal
//! curl -c c -b c -X POST 'localhost:3000/jobs/job-1?file=report.csv'
//! curl -c c -b c -X POST localhost:3000/jobs/job-1/progress/40
//! curl -c c -b c localhost:3000/jobs/job-1     # {"file":"report.csv","progress":40}
//! curl -c c -b c localhost:3000/jobs           # ["job-1"]
//! ```

use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::Key;
use actix_web::{App, HttpResponse, HttpServer, web};
use jobsess::JobMetadata;
use jobsess::actix::{CookieSecurity, Jobs, JobsConfig};
use serde::{Deserialize, Serialize};

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

/// `Jobs<M>` is a `JobSession` over the request's session: `mut` to write.
async fn start(
    mut jobs: Jobs<ExportJob>,
    id: web::Path<String>,
    start: web::Query<Start>,
) -> Result<HttpResponse, jobsess::Error> {
    let job = ExportJob {
        file: start.into_inner().file,
        progress: 0,
    };
    jobs.store(&id, &job)?;
    Ok(HttpResponse::Ok().finish())
}

/// One field, typed: a misspelt field or a wrong type doesn't compile.
async fn set_progress(
    mut jobs: Jobs<ExportJob>,
    path: web::Path<(String, u8)>,
) -> Result<HttpResponse, jobsess::Error> {
    let (id, progress) = path.into_inner();
    jobs.store_field(&id, ExportJob::PROGRESS, &progress)?;
    Ok(HttpResponse::Ok().finish())
}

async fn show(
    jobs: Jobs<ExportJob>,
    id: web::Path<String>,
) -> Result<HttpResponse, jobsess::Error> {
    match jobs.load(&id)? {
        Some(job) => Ok(HttpResponse::Ok().json(job)),
        None => Err(jobs.not_found(&id)),
    }
}

async fn list(jobs: Jobs<ExportJob>) -> Result<HttpResponse, jobsess::Error> {
    Ok(HttpResponse::Ok().json(jobs.ids()?))
}

/// Errors answer with their status: 404 here for a job that isn't there.
async fn delete(
    mut jobs: Jobs<ExportJob>,
    id: web::Path<String>,
) -> Result<HttpResponse, jobsess::Error> {
    if jobs.delete(&id)? {
        Ok(HttpResponse::Ok().finish())
    } else {
        Err(jobs.not_found(&id))
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let key = Key::generate();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let server = HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
            .cookie_secure(false)
            .build();
        App::new()
            .wrap(sessions)
            // writes that would outgrow the cookie fail with 413
            .app_data(JobsConfig::cookie(CookieSecurity::Private))
            .route("/jobs", web::get().to(list))
            .route("/jobs/{id}", web::post().to(start))
            .route("/jobs/{id}", web::get().to(show))
            .route("/jobs/{id}", web::delete().to(delete))
            .route(
                "/jobs/{id}/progress/{progress}",
                web::post().to(set_progress),
            )
    })
    .bind(("127.0.0.1", port))?;
    println!("listening on http://{}", server.addrs()[0]);
    server.run().await
}
