//! What a user would use instead: tower-sessions' and actix-session's
//! Redis stores.

use super::*;

/// A one-field update of a job among 10, as a user would do it instead,
/// against jobsess, with sessions in Redis on both sides (REDIS_URL):
///
/// - tower-sessions with its Redis store (tower-sessions-redis-store):
///   load the session record, change the job, save the record whole;
///   jobsess: load the same store's session (which holds only the owner
///   token), then one field write in the Redis job store.
/// - actix-session with its Redis store, a whole request through the
///   middleware (the session cookie in, the session loaded, the job
///   changed, the state written whole); jobsess: the same app and
///   session middleware, the `RedisJobs` extractor and one field write.
pub fn instead_on_redis(c: &mut Criterion) {
    use fred::prelude::{ClientLike, Config, Pool};
    use jobsess::redis::RedisJobStore;
    use tower_sessions_redis_store::RedisStore;

    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("redis_field_update_instead_* groups skipped: set REDIS_URL");
        return;
    };
    let rt = common::one_worker();
    let pool = rt.block_on(async {
        let pool =
            Pool::new(Config::from_url(&url).expect("a URL"), None, None, None, 1).expect("a pool");
        pool.init().await.expect("Redis answers");
        pool
    });
    let store = RedisJobStore::new(pool.clone()).with_namespace("jobsess-bench-instead");

    // tower-sessions with its Redis store
    let token = RedisJobStore::new_owner_token().expect("a token");
    let jobs = AsyncJobSession::<TranscriptionJob, _>::new(store.owner(&token).expect("an owner"));
    let sessions = Arc::new(RedisStore::new(pool.clone()));
    common::instead::field_update_in_record(
        c,
        &rt,
        "redis_field_update_instead_tower_sessions",
        &sessions,
        &jobs,
    );
    rt.block_on(jobs.clear()).expect("clears");
    drop(rt);

    instead_on_actix_redis(c, &url);
}

/// The actix-session half of [`instead_on_redis`].
fn instead_on_actix_redis(c: &mut Criterion, url: &str) {
    use actix_session::{Session as ActixSession, SessionMiddleware, storage::RedisSessionStore};
    use actix_web::{App, HttpResponse, test, web};
    use fred::prelude::{ClientLike, Config, Pool};
    use jobsess::redis::{RedisJobStore, RedisJobs};

    async fn seed_whole(session: ActixSession) -> Result<HttpResponse, actix_web::Error> {
        for i in 0..10 {
            session.insert(format!("transcription_job-{i}"), job_123())?;
        }
        Ok(HttpResponse::Ok().finish())
    }

    async fn write_whole(session: ActixSession) -> Result<HttpResponse, actix_web::Error> {
        let key = "transcription_job-3";
        let mut job: TranscriptionJob = session
            .get(key)?
            .ok_or_else(|| actix_web::error::ErrorNotFound(key))?;
        job.user_preferences = job_123().user_preferences;
        session.insert(key, job)?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn seed_jobs(jobs: RedisJobs<TranscriptionJob>) -> Result<HttpResponse, jobsess::Error> {
        for i in 0..10 {
            jobs.store(&format!("job-{i}"), &job_123()).await?;
        }
        Ok(HttpResponse::Ok().finish())
    }

    async fn write_jobs(jobs: RedisJobs<TranscriptionJob>) -> Result<HttpResponse, jobsess::Error> {
        jobs.store_field(
            "job-3",
            TranscriptionJob::USER_PREFERENCES,
            &job_123().user_preferences,
        )
        .await?;
        Ok(HttpResponse::Ok().finish())
    }

    let mut group = c.benchmark_group("redis_field_update_instead_actix_session");
    let key = actix_web::cookie::Key::generate();
    for name in ["actix_session_redis_store", "jobsess"] {
        let (key, url) = (key.clone(), url.to_owned());
        group.bench_function(name, move |b| {
            b.iter_custom(|iters| {
                let (key, url) = (key.clone(), url.clone());
                actix_web::rt::System::new().block_on(async move {
                    // the job store's pool runs on this runtime
                    let pool =
                        Pool::new(Config::from_url(&url).expect("a URL"), None, None, None, 1)
                            .expect("a pool");
                    pool.init().await.expect("Redis answers");
                    let store = RedisJobStore::new(pool).with_namespace("jobsess-bench-instead");
                    let sessions = RedisSessionStore::new(url).await.expect("Redis answers");
                    let app = test::init_service(
                        App::new()
                            .wrap(
                                SessionMiddleware::builder(sessions, key)
                                    .cookie_secure(false)
                                    .build(),
                            )
                            .app_data(store)
                            .route("/whole/seed", web::post().to(seed_whole))
                            .route("/whole/write", web::post().to(write_whole))
                            .route("/jobs/seed", web::post().to(seed_jobs))
                            .route("/jobs/write", web::post().to(write_jobs)),
                    )
                    .await;
                    let side = if name == "jobsess" { "jobs" } else { "whole" };
                    let call = async |request: test::TestRequest| {
                        test::call_service(&app, request.to_request()).await
                    };
                    seeded_writes(
                        call,
                        &format!("/{side}/seed"),
                        &format!("/{side}/write"),
                        iters,
                    )
                    .await
                })
            });
        });
    }
    group.finish();
}
