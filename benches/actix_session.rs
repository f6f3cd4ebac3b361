//! actix-session's `Session` through jobsess against the same calls by
//! hand, and the cookie budget over a whole request:
//! `cargo bench -p jobsess-benches --bench actix_session`. BENCHMARKS.md
//! has the results.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

#[allow(dead_code)] // the benches share `common`; this one uses a part of it
mod common;
use common::harness::{seeded_writes, sync_pair};
use common::job::{ID, TranscriptionJob, job_123};
use jobsess::{JobMetadata, JobSession};
use serde::{Deserialize, Serialize};

/// actix-session, on a request's session outside a server, against its own
/// `insert`/`get`.
fn actix_operations(c: &mut Criterion) {
    use actix_session::SessionExt;
    let job = job_123();
    let session = || {
        actix_web::test::TestRequest::default()
            .to_http_request()
            .get_session()
    };

    let raw = session();
    let mut jobs = JobSession::<TranscriptionJob, _>::new(session());
    sync_pair(
        c,
        "actix_store_get",
        || {
            let key = format!("job_{}", black_box(ID));
            raw.insert(&key, &job).expect("inserts");
            let back: Option<TranscriptionJob> = raw.get(&key).expect("gets");
            black_box(back);
        },
        || {
            jobs.store(black_box(ID), &job).expect("stores");
            black_box(jobs.load(black_box(ID)).expect("loads"));
        },
    );

    let raw = session();
    raw.insert("job_job-123", &job).expect("inserts");
    let jobs = JobSession::<TranscriptionJob, _>::new(raw.clone());
    sync_pair(
        c,
        "actix_load_field",
        || {
            let key = format!("job_{}", black_box(ID));
            let back: Option<TranscriptionJob> = raw.get(&key).expect("gets");
            black_box(back.map(|j| j.plugin_info));
        },
        || {
            black_box(jobs.load_field(black_box(ID), TranscriptionJob::PLUGIN_INFO)).ok();
        },
    );

    // A field write to a signed cookie session of 10 jobs, with a cookie
    // budget (the cookie measured before each write) and without one. The
    // notebook's job takes about 500 B of signed cookie, so 10 of them
    // pass `COOKIE_BUDGET`: the budget here is larger, and what is timed is
    // the measuring, which costs the same whatever the limit.
    use jobsess::actix::{CookieSecurity, CookieSession};
    use jobsess::backend::Budget;
    let ten = session();
    for i in 0..10 {
        ten.insert(format!("job_job-{i}"), &job).expect("inserts");
    }
    let [mut unlimited, mut budgeted] = [usize::MAX, 1 << 20].map(|bytes| {
        let cookie = CookieSession::new(ten.clone(), CookieSecurity::Signed);
        JobSession::<TranscriptionJob, _>::new(Budget::new(cookie, bytes))
    });
    let prefs = job.user_preferences.clone();
    let mut write = |jobs: &mut JobSession<TranscriptionJob, _>| {
        jobs.store_field(
            black_box("job-3"),
            TranscriptionJob::USER_PREFERENCES,
            &prefs,
        )
        .expect("stores");
    };
    let write = std::cell::RefCell::new(&mut write);
    sync_pair(
        c,
        "actix_cookie_budget_write_10_jobs",
        || (write.borrow_mut())(&mut unlimited),
        || (write.borrow_mut())(&mut budgeted),
    );
}

/// The same write over a whole request: an actix-web app with a signed
/// cookie session of 10 jobs (each request carries the cookie in, and a
/// new one goes out), a field write through `Jobs<M>` with the cookie
/// budget (`JobsConfig::cookie`) and without one (`JobsConfig::default`).
fn actix_cookie_budget_request(c: &mut Criterion) {
    use actix_session::SessionMiddleware;
    use actix_session::config::CookieContentSecurity;
    use actix_session::storage::CookieSessionStore;
    use actix_web::{App, HttpResponse, test, web};
    use jobsess::actix::{CookieSecurity, Jobs, JobsConfig};

    #[derive(Serialize, Deserialize, JobMetadata)]
    struct Small {
        file: String,
        progress: u8,
    }

    async fn seed(mut jobs: Jobs<Small>) -> Result<HttpResponse, jobsess::Error> {
        for i in 0..10 {
            let file = format!("/media/audio/recording-{i}.mp3");
            jobs.store(&format!("job-{i}"), &Small { file, progress: 0 })?;
        }
        Ok(HttpResponse::Ok().finish())
    }

    async fn write(mut jobs: Jobs<Small>) -> Result<HttpResponse, jobsess::Error> {
        jobs.store_field("job-3", Small::PROGRESS, &42)?;
        Ok(HttpResponse::Ok().finish())
    }

    let mut group = c.benchmark_group("actix_cookie_budget_request_10_jobs");
    let key = actix_web::cookie::Key::generate();
    for (name, config) in [
        (
            "baseline",
            JobsConfig {
                budget: None,
                security: CookieSecurity::Signed,
            },
        ),
        ("budget", JobsConfig::cookie(CookieSecurity::Signed)),
    ] {
        let key = key.clone();
        group.bench_function(name, move |b| {
            b.iter_custom(|iters| {
                let key = key.clone();
                actix_web::rt::System::new().block_on(async move {
                    let app = test::init_service(
                        App::new()
                            .wrap(
                                SessionMiddleware::builder(CookieSessionStore::default(), key)
                                    .cookie_content_security(CookieContentSecurity::Signed)
                                    .cookie_secure(false)
                                    .build(),
                            )
                            .app_data(config)
                            .route("/seed", web::post().to(seed))
                            .route("/write", web::post().to(write)),
                    )
                    .await;
                    let call = async |request: test::TestRequest| {
                        test::call_service(&app, request.to_request()).await
                    };
                    seeded_writes(call, "/seed", "/write", iters).await
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, actix_operations, actix_cookie_budget_request);
criterion_main!(benches);
