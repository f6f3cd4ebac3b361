//! The Redis job store behind axum over real HTTP: concurrent requests of
//! one user, across two app instances, lose no job and no field.

use std::time::Duration;

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use fred::prelude::*;
use jobsess::JobMetadata;
use jobsess::redis::RedisJobStore;
use jobsess::redis::RedisJobs;
use serde::{Deserialize, Serialize};
use tower_sessions::{MemoryStore, SessionManagerLayer};

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq)]
#[job_metadata(prefix = "transcription")]
struct Job {
    file: String,
    #[serde(default)]
    progress: u8,
}

async fn start(jobs: RedisJobs<Job>, Path(id): Path<String>) -> Result<(), jobsess::Error> {
    jobs.store(
        &id,
        &Job {
            file: format!("{id}.mp3"),
            progress: 0,
        },
    )
    .await
}

async fn progress(
    jobs: RedisJobs<Job>,
    Path((id, p)): Path<(String, u8)>,
) -> Result<(), jobsess::Error> {
    jobs.store_field(&id, Job::PROGRESS, &p).await
}

async fn list(jobs: RedisJobs<Job>) -> Result<Json<Vec<(String, u8)>>, jobsess::Error> {
    let mut out = Vec::new();
    for (id, job) in jobs.entries().await? {
        out.push((id, job?.progress));
    }
    Ok(Json(out))
}

async fn clear(jobs: RedisJobs<Job>) -> Result<Json<usize>, jobsess::Error> {
    Ok(Json(jobs.clear().await?))
}

/// An app instance: sessions in `sessions` (shared by the instances, as a
/// shared session store would be), jobs in the Redis at `REDIS_URL`.
async fn instance(sessions: MemoryStore) -> String {
    let url = std::env::var("REDIS_URL").expect("REDIS_URL");
    let pool = Pool::new(Config::from_url(&url).unwrap(), None, None, None, 4).unwrap();
    pool.init().await.unwrap();
    let store = RedisJobStore::new(pool)
        .with_namespace("jobsess-http-test")
        .with_ttl(Duration::from_secs(600));
    let app = Router::new()
        .route("/jobs", get(list))
        .route("/jobs/clear", post(clear))
        .route("/jobs/{id}", post(start))
        .route("/jobs/{id}/progress/{p}", post(progress))
        .layer(Extension(store))
        .layer(SessionManagerLayer::new(sessions).with_secure(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn jobs_of(user: &reqwest::Client, base: &str) -> Vec<(String, u8)> {
    user.get(format!("{base}/jobs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(redis_url_set), ignore = "set REDIS_URL to run the Redis tests")]
async fn concurrent_requests_on_two_instances_lose_nothing() {
    let sessions = MemoryStore::default();
    let a = instance(sessions.clone()).await;
    let b = instance(sessions).await;
    let user = browser();
    assert!(jobs_of(&user, &a).await.is_empty()); // the session and its owner token

    // 20 jobs started at once, alternating between the instances
    let starts = (0..20).map(|i| {
        let (user, base) = (user.clone(), if i % 2 == 0 { a.clone() } else { b.clone() });
        async move {
            user.post(format!("{base}/jobs/job-{i:02}"))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    for status in futures_join(starts).await {
        assert!(status.is_success(), "{status}");
    }
    // then every job's progress set at once, twice over
    let updates = (0..40).map(|n| {
        let (user, base) = (user.clone(), if n % 2 == 0 { b.clone() } else { a.clone() });
        let i = n % 20;
        async move {
            user.post(format!("{base}/jobs/job-{i:02}/progress/{}", 50 + i))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    for status in futures_join(updates).await {
        assert!(status.is_success(), "{status}");
    }

    let expected: Vec<(String, u8)> = (0..20).map(|i| (format!("job-{i:02}"), 50 + i)).collect();
    assert_eq!(jobs_of(&user, &a).await, expected);
    assert_eq!(jobs_of(&user, &b).await, expected);
    // another user sees none of them, on either instance
    assert!(jobs_of(&browser(), &b).await.is_empty());
    let cleared: usize = user
        .post(format!("{a}/jobs/clear"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared, 20);
    assert!(jobs_of(&user, &b).await.is_empty());
}

#[tokio::test]
#[cfg_attr(not(redis_url_set), ignore = "set REDIS_URL to run the Redis tests")]
async fn a_missing_store_extension_is_a_plain_500() {
    let app = Router::new()
        .route("/jobs", get(list))
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let response = browser().get(format!("{base}/jobs")).send().await.unwrap();
    assert_eq!(
        response.status(),
        reqwest::StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(response.text().await.unwrap(), "internal server error");
}

/// Runs the futures concurrently and collects their outputs in order.
async fn futures_join<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

mod actix {
    use actix_session::SessionMiddleware;
    use actix_session::storage::CookieSessionStore;
    use actix_web::cookie::Key;
    use actix_web::{App, HttpResponse, HttpServer, web};
    use fred::prelude::*;
    use jobsess::redis::RedisJobStore;
    use jobsess::redis::RedisJobs;

    use super::{Job, browser, jobs_of};

    async fn start(
        jobs: RedisJobs<Job>,
        id: web::Path<String>,
    ) -> Result<HttpResponse, jobsess::Error> {
        // a 2 KB file name per job: far more, in all, than a 4 KB cookie holds
        let file = format!("{id}-{}.mp3", "x".repeat(2000));
        jobs.store(&id, &Job { file, progress: 0 }).await?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn progress(
        jobs: RedisJobs<Job>,
        path: web::Path<(String, u8)>,
    ) -> Result<HttpResponse, jobsess::Error> {
        jobs.store_field(&path.0, Job::PROGRESS, &path.1).await?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn list(jobs: RedisJobs<Job>) -> Result<HttpResponse, jobsess::Error> {
        let mut out = Vec::new();
        for (id, job) in jobs.entries().await? {
            out.push((id, job?.progress));
        }
        Ok(HttpResponse::Ok().json(out))
    }

    /// Cookie sessions hold only the owner token, so neither concurrency nor
    /// the number of jobs is limited by the cookie.
    #[actix_web::test]
    #[cfg_attr(not(redis_url_set), ignore = "set REDIS_URL to run the Redis tests")]
    async fn cookie_sessions_with_the_redis_store() {
        let url = std::env::var("REDIS_URL").expect("REDIS_URL");
        let pool = Pool::new(Config::from_url(&url).unwrap(), None, None, None, 2).unwrap();
        pool.init().await.unwrap();
        let store = RedisJobStore::new(pool)
            .with_namespace("jobsess-http-test")
            .with_ttl(std::time::Duration::from_secs(600));
        let key = Key::generate();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(
                    SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                        .cookie_secure(false)
                        .build(),
                )
                .app_data(store.clone())
                .route("/jobs", web::get().to(list))
                .route("/jobs/{id}", web::post().to(start))
                .route("/jobs/{id}/progress/{p}", web::post().to(progress))
        })
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);

        let user = browser();
        assert!(jobs_of(&user, &base).await.is_empty());
        let mut handles = Vec::new();
        for i in 0..30u8 {
            let (user, base) = (user.clone(), base.clone());
            handles.push(tokio::spawn(async move {
                let response = user
                    .post(format!("{base}/jobs/job-{i:02}"))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let listed = jobs_of(&user, &base).await;
        assert_eq!(listed.len(), 30);
        assert_eq!(listed[7].0, "job-07");
        let response = user
            .post(format!("{base}/jobs/job-07/progress/70"))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        assert_eq!(jobs_of(&user, &base).await[7].1, 70);
        assert!(jobs_of(&browser(), &base).await.is_empty());
    }
}
