//! The server-side job stores (Redis, PostgreSQL) behind axum and
//! actix-web over real HTTP with real cookies: concurrent requests of one
//! user, across two app instances, lose no job and no field. Each case is
//! generic over the engine; `engines!` runs it on each.

use std::time::Duration;

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jobsess::JobMetadata;
use jobsess::redis::RedisJobStore;
use jobsess::store::{JobStore, ServerJobs};
use serde::{Deserialize, Serialize};
use tower_sessions::{MemoryStore, SessionManagerLayer};

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq)]
#[job_metadata(prefix = "transcription")]
struct Job {
    file: String,
    #[serde(default)]
    progress: u8,
}

async fn start<E: JobStore>(
    jobs: ServerJobs<Job, E>,
    Path(id): Path<String>,
) -> Result<(), jobsess::Error> {
    jobs.store(
        &id,
        &Job {
            file: format!("{id}.mp3"),
            progress: 0,
        },
    )
    .await
}

async fn progress<E: JobStore>(
    jobs: ServerJobs<Job, E>,
    Path((id, p)): Path<(String, u8)>,
) -> Result<(), jobsess::Error> {
    jobs.store_field(&id, Job::PROGRESS, &p).await
}

async fn list<E: JobStore>(
    jobs: ServerJobs<Job, E>,
) -> Result<Json<Vec<(String, u8)>>, jobsess::Error> {
    let mut out = Vec::new();
    for (id, job) in jobs.entries().await? {
        out.push((id, job?.progress));
    }
    Ok(Json(out))
}

async fn clear<E: JobStore>(jobs: ServerJobs<Job, E>) -> Result<Json<usize>, jobsess::Error> {
    Ok(Json(jobs.clear().await?))
}

/// What a login does: the session gets a user, and no job or owner token.
async fn login(session: tower_sessions::Session) -> Result<(), String> {
    session
        .insert("user", "someone")
        .await
        .map_err(|e| e.to_string())
}

/// The Redis job store of these tests, on the Redis at `REDIS_URL`.
pub(crate) async fn redis_store() -> RedisJobStore {
    RedisJobStore::connect(&crate::common::redis_url())
        .await
        .unwrap()
        .with_namespace("jobsess-http-test")
        .with_ttl(Duration::from_secs(600))
}

/// The PostgreSQL job store of these tests, in a schema of its own.
pub(crate) async fn postgres_store() -> jobsess::postgres::PostgresJobStore {
    crate::common::postgres_store()
        .await
        .with_ttl(Duration::from_secs(600))
}

/// An app instance: sessions in `sessions` (shared by the instances, as a
/// shared session store would be), jobs in `store`.
async fn instance<E: JobStore>(sessions: MemoryStore, store: E) -> String {
    let app = Router::new()
        .route("/jobs", get(list::<E>))
        .route("/jobs/clear", post(clear::<E>))
        .route("/jobs/{id}", post(start::<E>))
        .route("/jobs/{id}/progress/{p}", post(progress::<E>))
        .route("/login", post(login))
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

pub(crate) async fn concurrent_requests_on_two_instances_lose_nothing<E: JobStore>(store: E) {
    let sessions = MemoryStore::default();
    let a = instance(sessions.clone(), store.clone()).await;
    let b = instance(sessions, store).await;
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

pub(crate) async fn a_missing_store_extension_is_a_plain_500<E: JobStore>(_store: E) {
    let app = Router::new()
        .route("/jobs", get(list::<E>))
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

/// Starts `per_user` jobs per user at once, alternating between the two
/// instances, and checks every user then lists exactly their jobs.
async fn concurrent_first_starts(users: &[reqwest::Client], per_user: usize, a: &str, b: &str) {
    let starts = users.iter().enumerate().flat_map(|(u, user)| {
        (0..per_user).map(move |i| {
            let user = user.clone();
            let base = if (u + i) % 2 == 0 {
                a.to_owned()
            } else {
                b.to_owned()
            };
            async move {
                user.post(format!("{base}/jobs/u{u:02}-{i:03}"))
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        })
    });
    for status in futures_join(starts.collect::<Vec<_>>().into_iter()).await {
        assert!(status.is_success(), "{status}");
    }
    let mut lost = 0;
    for (u, user) in users.iter().enumerate() {
        let listed = jobs_of(user, a).await;
        let expected: Vec<String> = (0..per_user).map(|i| format!("u{u:02}-{i:03}")).collect();
        let ids: Vec<String> = listed.into_iter().map(|(id, _)| id).collect();
        lost += expected.iter().filter(|id| !ids.contains(id)).count();
        assert!(
            ids.iter().all(|id| expected.contains(id)),
            "user {u} sees {ids:?}"
        );
    }
    assert_eq!(
        lost,
        0,
        "{lost} of {} acknowledged jobs lost",
        users.len() * per_user
    );
}

/// No warm-up: logged-in users whose session has no owner token yet fire
/// their first job starts all at once, across two instances. They must
/// agree on one owner per session, so no acknowledged job is unreachable.
pub(crate) async fn first_concurrent_requests_of_a_session_agree_on_one_owner<E: JobStore>(
    store: E,
) {
    let sessions = MemoryStore::default();
    let a = instance(sessions.clone(), store.clone()).await;
    let b = instance(sessions, store).await;
    // 50 users × 4
    let users: Vec<reqwest::Client> = (0..50).map(|_| browser()).collect();
    for user in &users {
        let response = user.post(format!("{a}/login")).send().await.unwrap();
        assert!(response.status().is_success());
    }
    concurrent_first_starts(&users, 4, &a, &b).await;
    // 1 user × 100
    let user = vec![browser()];
    user[0].post(format!("{b}/login")).send().await.unwrap();
    concurrent_first_starts(&user, 100, &a, &b).await;
}

/// With the app's own user identity (`OwnerId`, put in the request by an
/// auth layer), a user's jobs follow them to another session or device.
pub(crate) async fn an_app_user_id_owns_jobs_across_sessions<E: JobStore>(store: E) {
    use axum::extract::Request;
    use axum::middleware::{Next, from_fn};
    use jobsess::store::OwnerId;

    /// The stand-in for an auth layer: the user is the `x-user` header.
    async fn auth(mut req: Request, next: Next) -> axum::response::Response {
        let user = req
            .headers()
            .get("x-user")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(user) = user {
            req.extensions_mut().insert(OwnerId(user));
        }
        next.run(req).await
    }

    let app = Router::new()
        .route("/jobs", get(list::<E>))
        .route("/jobs/clear", post(clear::<E>))
        .route("/jobs/{id}", post(start::<E>))
        .layer(from_fn(auth))
        .layer(Extension(store))
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let user = format!("user-{}", RedisJobStore::new_owner_token().unwrap());
    let laptop = browser();
    let phone = browser();
    let send = |client: &reqwest::Client, method: reqwest::Method, path: &str, who: &str| {
        client
            .request(method, format!("{base}{path}"))
            .header("x-user", who)
            .send()
    };
    let response = send(&laptop, reqwest::Method::POST, "/jobs/report", &user)
        .await
        .unwrap();
    assert!(response.status().is_success());
    let on_phone: Vec<(String, u8)> = send(&phone, reqwest::Method::GET, "/jobs", &user)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(on_phone, [("report".to_owned(), 0)]);
    let other: Vec<(String, u8)> = send(&phone, reqwest::Method::GET, "/jobs", "someone-else")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(other.is_empty());
    send(&phone, reqwest::Method::POST, "/jobs/clear", &user)
        .await
        .unwrap();
}

pub(crate) mod actix {
    use actix_session::SessionMiddleware;
    use actix_session::storage::CookieSessionStore;
    use actix_web::cookie::Key;
    use actix_web::{App, HttpResponse, HttpServer, web};
    use jobsess::store::{JobStore, ServerJobs};

    use super::{Job, browser, jobs_of};

    /// Starts the jobs `ids` all at once, each answered with success.
    async fn start_all(user: &reqwest::Client, base: &str, ids: impl Iterator<Item = String>) {
        let handles: Vec<_> = ids
            .map(|id| {
                let (user, base) = (user.clone(), base.to_owned());
                tokio::spawn(async move {
                    let response = user.post(format!("{base}/jobs/{id}")).send().await.unwrap();
                    assert!(response.status().is_success(), "{}", response.status());
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    }

    async fn login(session: actix_session::Session) -> Result<HttpResponse, actix_web::Error> {
        session.insert("user", "someone")?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn start<E: JobStore>(
        jobs: ServerJobs<Job, E>,
        id: web::Path<String>,
    ) -> Result<HttpResponse, jobsess::Error> {
        // a 2 KB file name per job: far more, in all, than a 4 KB cookie holds
        let file = format!("{id}-{}.mp3", "x".repeat(2000));
        jobs.store(&id, &Job { file, progress: 0 }).await?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn progress<E: JobStore>(
        jobs: ServerJobs<Job, E>,
        path: web::Path<(String, u8)>,
    ) -> Result<HttpResponse, jobsess::Error> {
        jobs.store_field(&path.0, Job::PROGRESS, &path.1).await?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn list<E: JobStore>(jobs: ServerJobs<Job, E>) -> Result<HttpResponse, jobsess::Error> {
        let mut out = Vec::new();
        for (id, job) in jobs.entries().await? {
            out.push((id, job?.progress));
        }
        Ok(HttpResponse::Ok().json(out))
    }

    /// Cookie sessions hold only the owner token, so neither concurrency nor
    /// the number of jobs is limited by the cookie.
    pub(crate) async fn cookie_sessions_with_a_server_store<E: JobStore>(store: E) {
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
                .route("/jobs", web::get().to(list::<E>))
                .route("/jobs/{id}", web::post().to(start::<E>))
                .route("/jobs/{id}/progress/{p}", web::post().to(progress::<E>))
                .route("/login", web::post().to(login))
        })
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);

        // No warm-up: a logged-in user with no owner token yet starts 8
        // jobs at once; every request claims the same owner.
        let first = browser();
        first.post(format!("{base}/login")).send().await.unwrap();
        start_all(&first, &base, (0..8).map(|i| format!("first-{i}"))).await;
        assert_eq!(
            jobs_of(&first, &base).await.len(),
            8,
            "a first request's jobs were lost"
        );

        let user = browser();
        assert!(jobs_of(&user, &base).await.is_empty());
        start_all(&user, &base, (0..30).map(|i| format!("job-{i:02}"))).await;
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

/// Runs every case against the engine `$make` builds (an async block),
/// when `$need` (`Option<why>`) says its service is there. The list of
/// cases is written here once, for every engine.
macro_rules! engines {
    ($engine:ident, $need:expr, $make:expr) => {
        engines!(@cases $engine, $need, $make, [
            concurrent_requests_on_two_instances_lose_nothing,
            a_missing_store_extension_is_a_plain_500,
            first_concurrent_requests_of_a_session_agree_on_one_owner,
            an_app_user_id_owns_jobs_across_sessions,
        ]);
    };
    (@cases $engine:ident, $need:expr, $make:expr, [$($case:ident),* $(,)?]) => {
        mod $engine {
            use super::super::server_http as cases;

            async fn store() -> Option<impl jobsess::store::JobStore> {
                if let Some(why) = $need {
                    crate::common::skipped(&why);
                    return None;
                }
                Some($make.await)
            }

            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(store) = store().await {
                        cases::$case(store).await;
                    }
                }
            )*

            /// Cookie sessions on actix-web hold only the owner token.
            #[actix_web::test]
            async fn actix_cookie_sessions() {
                if let Some(store) = store().await {
                    cases::actix::cookie_sessions_with_a_server_store(store).await;
                }
            }
        }
    };
}

engines!(redis, crate::common::redis(), super::redis_store());
engines!(postgres, crate::common::postgres(), super::postgres_store());
engines!(sqlite, None::<String>, async {
    crate::common::sqlite_store()
        .await
        .with_ttl(std::time::Duration::from_secs(600))
});
engines!(memory, None::<String>, async {
    jobsess::store::MemoryJobStore::new()
});
