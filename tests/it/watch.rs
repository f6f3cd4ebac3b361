//! `watch`: live job changes, in one process (`Notifying`) and across
//! instances (the Redis job store), and as server-sent events over HTTP.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::Path;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Router};
use fred::prelude::*;
use futures_util::StreamExt;
use jobsess::redis::{RedisJobStore, RedisJobs};
use jobsess::watch::{Change, Notifying};
use jobsess::{AsyncJobSession, Error, JobMetadata};
use serde::{Deserialize, Serialize};
use tower_sessions::{MemoryStore, SessionManagerLayer};

use crate::common::{Job, job};

/// The next item, or a failure after 10 s.
async fn next<S: futures_util::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event within 10 s")
}

#[tokio::test]
async fn in_process_changes_arrive_in_order_then_the_deletion() {
    let jobs = AsyncJobSession::<Job, _>::new(Notifying::new(Mutex::new(HashMap::new())));
    jobs.store("a", &job("a.mp3")).await.unwrap();
    let mut changes = Box::pin(jobs.watch("a").await.unwrap());
    let mut progress = Box::pin(jobs.watch_field("a", Job::PROGRESS).await.unwrap());
    // both start with the current state
    assert_eq!(
        next(&mut changes).await.unwrap().unwrap(),
        Change::Updated(job("a.mp3"))
    );
    assert_eq!(next(&mut progress).await.unwrap().unwrap(), 0);
    for p in [10, 20, 30] {
        jobs.store_field("a", Job::PROGRESS, &p).await.unwrap();
        let Change::Updated(now) = next(&mut changes).await.unwrap().unwrap() else {
            panic!("deleted too early");
        };
        assert_eq!(now.progress, p);
        assert_eq!(next(&mut progress).await.unwrap().unwrap(), p);
    }
    // another field's change: a whole-job event, no field event
    jobs.store_field("a", Job::FILE, &"b.mp3".to_owned())
        .await
        .unwrap();
    jobs.update("a", |job| job.progress = 40).await.unwrap();
    assert_eq!(next(&mut progress).await.unwrap().unwrap(), 40);
    // two writes before the watcher looked: it may skip the first, never the last
    let mut last = next(&mut changes).await.unwrap().unwrap();
    if last
        == Change::Updated(Job {
            file: "b.mp3".into(),
            progress: 30,
        })
    {
        last = next(&mut changes).await.unwrap().unwrap();
    }
    assert_eq!(
        last,
        Change::Updated(Job {
            file: "b.mp3".into(),
            progress: 40
        })
    );
    assert!(jobs.delete("a").await.unwrap());
    assert_eq!(next(&mut changes).await.unwrap().unwrap(), Change::Deleted);
    assert!(next(&mut changes).await.is_none());
    assert!(next(&mut progress).await.is_none());
    // no such job: refused
    assert!(matches!(
        jobs.watch("a").await.err(),
        Some(Error::JobNotFound { .. })
    ));
}

#[tokio::test]
async fn a_slow_watcher_skips_states_but_gets_the_last() {
    let jobs = AsyncJobSession::<Job, _>::new(Notifying::new(Mutex::new(HashMap::new())));
    jobs.store("a", &job("a")).await.unwrap();
    let mut progress = Box::pin(jobs.watch_field("a", Job::PROGRESS).await.unwrap());
    assert_eq!(next(&mut progress).await.unwrap().unwrap(), 0);
    // the writer never waits for the watcher, which reads nothing meanwhile
    for p in 1..=100 {
        jobs.store_field("a", Job::PROGRESS, &p).await.unwrap();
    }
    let mut seen = Vec::new();
    while let Some(p) = tokio::time::timeout(Duration::from_millis(200), progress.next())
        .await
        .ok()
        .flatten()
    {
        seen.push(p.unwrap());
    }
    assert_eq!(seen.last(), Some(&100), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
}

// ---- Redis: across instances --------------------------------------------------

/// A job store as one app instance has it: its own pool and subscriber.
async fn instance_store(ttl: Duration) -> RedisJobStore {
    let url = crate::common::redis_url();
    let pool = Pool::new(Config::from_url(&url).unwrap(), None, None, None, 2).unwrap();
    pool.init().await.unwrap();
    RedisJobStore::new(pool)
        .with_namespace("jobsess-watch-test")
        .with_ttl(ttl)
}

async fn subscribers(channel: &str) -> i64 {
    let url = crate::common::redis_url();
    let client = Client::new(Config::from_url(&url).unwrap(), None, None, None);
    client.init().await.unwrap();
    let counts: Vec<Value> = client.pubsub_numsub(channel).await.unwrap();
    counts.get(1).and_then(Value::as_i64).unwrap_or(0)
}

/// How many channels of this test's namespace ending in `suffix` have a
/// subscriber.
async fn watched_channels(suffix: &str) -> usize {
    let url = crate::common::redis_url();
    let client = Client::new(Config::from_url(&url).unwrap(), None, None, None);
    client.init().await.unwrap();
    let channels: Vec<String> = client
        .pubsub_channels("jobsess-watch-test:*")
        .await
        .unwrap();
    channels.iter().filter(|c| c.ends_with(suffix)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_written_on_one_instance_is_watched_on_another() {
    require!(crate::common::redis());
    let token = RedisJobStore::new_owner_token().unwrap();
    let a =
        AsyncJobSession::<Job, _>::new(instance_store(Duration::ZERO).await.owner(&token).unwrap());
    let b =
        AsyncJobSession::<Job, _>::new(instance_store(Duration::ZERO).await.owner(&token).unwrap());
    a.store("j", &job("j.mp3")).await.unwrap();

    let mut progress = Box::pin(b.watch_field("j", Job::PROGRESS).await.unwrap());
    let mut whole = Box::pin(b.watch("j").await.unwrap());
    let channel = format!("jobsess-watch-test:{{{token}}}:job_j");
    assert_eq!(
        subscribers(&channel).await,
        1,
        "one subscription per process"
    );
    assert_eq!(next(&mut progress).await.unwrap().unwrap(), 0);
    assert_eq!(
        next(&mut whole).await.unwrap().unwrap(),
        Change::Updated(job("j.mp3"))
    );

    let writer = tokio::spawn(async move {
        for p in (5..=100).step_by(5) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            a.store_field("j", Job::PROGRESS, &p).await.unwrap();
        }
        a
    });
    let mut seen = Vec::new();
    while seen.last() != Some(&100) {
        seen.push(next(&mut progress).await.unwrap().unwrap());
    }
    let a = writer.await.unwrap();
    // every step, in order (a consumer as fast as the writer skips none)
    assert_eq!(seen, (5..=100).step_by(5).collect::<Vec<u8>>());
    // the whole-job watcher ends at the same state
    let mut last = None;
    while let Ok(Some(change)) =
        tokio::time::timeout(Duration::from_millis(300), whole.next()).await
    {
        last = Some(change.unwrap());
    }
    assert_eq!(
        last,
        Some(Change::Updated(Job {
            file: "j.mp3".into(),
            progress: 100
        }))
    );

    // a whole store and an update are seen too, then the deletion ends both
    a.store("j", &job("other.mp3")).await.unwrap();
    assert_eq!(
        next(&mut whole).await.unwrap().unwrap(),
        Change::Updated(job("other.mp3"))
    );
    a.update("j", |job| job.progress = 7).await.unwrap();
    assert_eq!(
        next(&mut whole).await.unwrap().unwrap().clone(),
        Change::Updated(Job {
            file: "other.mp3".into(),
            progress: 7
        })
    );
    assert!(a.delete("j").await.unwrap());
    assert_eq!(next(&mut whole).await.unwrap().unwrap(), Change::Deleted);
    assert!(next(&mut whole).await.is_none());
    // progress: 0 (the store), then 7, then the end
    let mut rest = Vec::new();
    while let Some(p) = next(&mut progress).await {
        rest.push(p.unwrap());
    }
    assert_eq!(rest, [0, 7]);
    drop((progress, whole));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        subscribers(&channel).await,
        0,
        "the last watcher gone, unsubscribed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_watches_and_expiry_ends_the_stream() {
    require!(crate::common::redis());
    let store = instance_store(Duration::from_secs(1)).await;
    let owner = RedisJobStore::new_owner_token().unwrap();
    let jobs = AsyncJobSession::<Job, _>::new(store.owner(&owner).unwrap());
    jobs.store("mine", &job("mine")).await.unwrap();
    let stranger = RedisJobStore::new_owner_token().unwrap();
    let theirs = AsyncJobSession::<Job, _>::new(store.owner(&stranger).unwrap());
    let err = theirs.watch("mine").await.expect_err("refused");
    assert!(matches!(err, Error::JobNotFound { .. }), "{err}");

    let mut changes = Box::pin(jobs.watch("mine").await.unwrap());
    assert!(matches!(
        next(&mut changes).await,
        Some(Ok(Change::Updated(_)))
    ));
    // no write: the job expires after 1 s, and the stream says so and ends
    assert_eq!(next(&mut changes).await.unwrap().unwrap(), Change::Deleted);
    assert!(next(&mut changes).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_watchers_all_see_the_last_value() {
    require!(crate::common::redis());
    let token = RedisJobStore::new_owner_token().unwrap();
    let writer =
        AsyncJobSession::<Job, _>::new(instance_store(Duration::ZERO).await.owner(&token).unwrap());
    let watching =
        AsyncJobSession::<Job, _>::new(instance_store(Duration::ZERO).await.owner(&token).unwrap());
    writer.store("busy", &job("busy")).await.unwrap();
    let mut watchers = Vec::new();
    for _ in 0..200 {
        let mut stream = Box::pin(watching.watch_field("busy", Job::PROGRESS).await.unwrap());
        assert_eq!(next(&mut stream).await.unwrap().unwrap(), 0);
        watchers.push(tokio::spawn(async move {
            let mut last = 0;
            while last != 100 {
                last = next(&mut stream).await.unwrap().unwrap();
            }
            last
        }));
    }
    for p in 1..=100 {
        writer.store_field("busy", Job::PROGRESS, &p).await.unwrap();
    }
    for watcher in watchers {
        assert_eq!(watcher.await.unwrap(), 100);
    }
    writer.delete("busy").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_watched_jobs_publish_their_writes() {
    require!(crate::common::redis());
    let url = crate::common::redis_url();
    let token = RedisJobStore::new_owner_token().unwrap();
    let jobs =
        AsyncJobSession::<Job, _>::new(instance_store(Duration::ZERO).await.owner(&token).unwrap());
    jobs.store("quiet", &job("quiet")).await.unwrap();
    // a plain subscriber on the job's channel
    let listener = Builder::from_config(Config::from_url(&url).unwrap())
        .build_subscriber_client()
        .unwrap();
    listener.init().await.unwrap();
    let mut messages = listener.message_rx();
    listener
        .subscribe(format!("jobsess-watch-test:{{{token}}}:job_quiet"))
        .await
        .unwrap();
    jobs.store_field("quiet", Job::PROGRESS, &1).await.unwrap();
    let nothing = tokio::time::timeout(Duration::from_millis(300), messages.recv()).await;
    assert!(nothing.is_err(), "an unwatched job published {nothing:?}");

    // watched: each write publishes, and the mark is not part of the job
    let mut changes = Box::pin(jobs.watch("quiet").await.unwrap());
    assert_eq!(
        next(&mut changes).await.unwrap().unwrap(),
        Change::Updated(Job {
            file: "quiet".into(),
            progress: 1
        })
    );
    jobs.store_field("quiet", Job::PROGRESS, &2).await.unwrap();
    let message = tokio::time::timeout(Duration::from_secs(5), messages.recv())
        .await
        .expect("a message once watched")
        .unwrap();
    assert!(
        message.value.as_str().unwrap().starts_with(r#"["f","#),
        "{message:?}"
    );
    jobs.store("quiet", &job("again")).await.unwrap();
    assert_eq!(jobs.load("quiet").await.unwrap().unwrap(), job("again"));
    assert_eq!(
        next(&mut changes).await.unwrap().unwrap(),
        Change::Updated(Job {
            file: "quiet".into(),
            progress: 2
        })
    );
    assert_eq!(
        next(&mut changes).await.unwrap().unwrap(),
        Change::Updated(job("again"))
    );
    jobs.delete("quiet").await.unwrap();
}

// ---- over HTTP: server-sent events ------------------------------------------

async fn start(jobs: RedisJobs<Job>, Path(id): Path<String>) -> Result<(), Error> {
    jobs.store(&id, &job(&id)).await
}

async fn step(jobs: RedisJobs<Job>, Path((id, p)): Path<(String, u8)>) -> Result<(), Error> {
    jobs.store_field(&id, Job::PROGRESS, &p).await
}

async fn events(jobs: RedisJobs<Job>, Path(id): Path<String>) -> Result<impl IntoResponse, Error> {
    Ok(jobsess::axum::sse(
        jobs.watch_field(&id, Job::PROGRESS).await?,
    ))
}

async fn axum_instance(sessions: MemoryStore) -> String {
    let app = Router::new()
        .route("/jobs/{id}", post(start))
        .route("/jobs/{id}/progress/{p}", post(step))
        .route("/jobs/{id}/events", get(events))
        .layer(Extension(instance_store(Duration::ZERO).await))
        .layer(SessionManagerLayer::new(sessions).with_secure(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// The `data:` lines of an event stream as they arrive, until `until` says stop.
async fn read_events(response: reqwest::Response, until: impl Fn(&str) -> bool) -> Vec<String> {
    let mut response = response;
    let (mut buffer, mut data) = (String::new(), Vec::new());
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), response.chunk())
        .await
        .expect("an event within 10 s")
        .unwrap()
    {
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            for line in event.lines() {
                if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.trim().to_owned());
                }
            }
        }
        if data.last().is_some_and(|d| until(d)) {
            break;
        }
    }
    data
}

/// Starts job `id` on the app at `start_at`, then opens its event stream
/// on the app at `listen_at` (200 expected).
async fn start_and_listen(
    user: &reqwest::Client,
    start_at: &str,
    listen_at: &str,
    id: &str,
) -> reqwest::Response {
    let started = user
        .post(format!("{start_at}/jobs/{id}"))
        .send()
        .await
        .unwrap();
    assert!(started.status().is_success());
    let response = user
        .get(format!("{listen_at}/jobs/{id}/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_on_instance_b_follows_progress_written_on_instance_a() {
    require!(crate::common::redis());
    let sessions = MemoryStore::default();
    let (a, b) = (
        axum_instance(sessions.clone()).await,
        axum_instance(sessions).await,
    );
    let user = browser();
    let response = start_and_listen(&user, &a, &b, "t1").await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let writer = {
        let (user, a) = (user.clone(), a.clone());
        tokio::spawn(async move {
            // the first event (the current value) is on its way before any write
            tokio::time::sleep(Duration::from_millis(200)).await;
            for p in (10..=100).step_by(10) {
                tokio::time::sleep(Duration::from_millis(30)).await;
                let status = user
                    .post(format!("{a}/jobs/t1/progress/{p}"))
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert!(status.is_success(), "{status}");
            }
        })
    };
    assert_eq!(
        watched_channels(":job_t1").await,
        1,
        "subscribed while the client reads"
    );
    let data = read_events(response, |d| d == "100").await;
    writer.await.unwrap();
    let expected: Vec<String> = (0..=100).step_by(10).map(|p| p.to_string()).collect();
    assert_eq!(data, expected);
    // the client went away (its response dropped): so is the subscription
    let gone = std::time::Instant::now();
    while watched_channels(":job_t1").await > 0 {
        assert!(gone.elapsed() < Duration::from_secs(5), "still subscribed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // another user's events for that job: 404, on either instance
    let stranger = browser();
    let status = stranger
        .get(format!("{b}/jobs/t1/events"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);
}

mod actix {
    use super::*;
    use actix_session::SessionMiddleware;
    use actix_session::storage::CookieSessionStore;
    use actix_web::cookie::Key;
    use actix_web::{App, HttpResponse, HttpServer, Responder, web};

    async fn start(jobs: RedisJobs<Job>, id: web::Path<String>) -> Result<HttpResponse, Error> {
        jobs.store(&id, &job(&id)).await?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn step(
        jobs: RedisJobs<Job>,
        path: web::Path<(String, u8)>,
    ) -> Result<HttpResponse, Error> {
        jobs.store_field(&path.0, Job::PROGRESS, &path.1).await?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn events(jobs: RedisJobs<Job>, id: web::Path<String>) -> Result<impl Responder, Error> {
        Ok(jobsess::actix::sse(jobs.watch(&id).await?))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn actix_serves_the_same_events() {
        require!(crate::common::redis());
        let store = instance_store(Duration::ZERO).await;
        let key = Key::generate();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(store.clone())
                .wrap(
                    SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                        .cookie_secure(false)
                        .build(),
                )
                .route("/jobs/{id}", web::post().to(start))
                .route("/jobs/{id}/progress/{p}", web::post().to(step))
                .route("/jobs/{id}/events", web::get().to(events))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let base = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);

        let user = browser();
        let response = start_and_listen(&user, &base, &base, "x").await;
        let writer = {
            let (user, base) = (user.clone(), base.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                for p in [50, 100] {
                    user.post(format!("{base}/jobs/x/progress/{p}"))
                        .send()
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        };
        let data = read_events(response, |d| d.contains("100")).await;
        writer.await.unwrap();
        assert_eq!(
            data,
            [
                r#"{"change":"updated","job":{"file":"x","progress":0}}"#,
                r#"{"change":"updated","job":{"file":"x","progress":50}}"#,
                r#"{"change":"updated","job":{"file":"x","progress":100}}"#,
            ]
        );
        handle.stop(false).await;
    }
}

// ---- the end of a job, over HTTP ---------------------------------------------

/// A job with a status: its streams end once it finished or failed.
#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "ending", status = status)]
struct Ending {
    progress: u8,
    #[serde(default)]
    status: jobsess::Status,
}

/// Checks an ended job's events on the app at `base` (its routes: start,
/// step, finish, fail, events): the stream ends by itself after `done`,
/// a late client gets the final state and `done` at once, and so does
/// one of a failed job.
async fn an_ended_job_closes_its_stream(base: &str) {
    let user = browser();
    let response = start_and_listen(&user, base, base, "e1").await;
    let writer = {
        let (user, base) = (user.clone(), base.to_owned());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            for path in ["progress/50", "progress/100", "finish"] {
                let status = user
                    .post(format!("{base}/jobs/e1/{path}"))
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert!(status.is_success(), "{path}: {status}");
            }
        })
    };
    let events = crate::common::events_to_the_close(response).await;
    writer.await.unwrap();
    let finished = r#"{"change":"updated","job":{"progress":100,"status":{"state":"finished"}}}"#;
    let tail: Vec<(&str, &str)> = events
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|(n, d)| (n.as_str(), d.as_str()))
        .collect();
    assert_eq!(
        tail,
        [("message", finished), ("done", finished)],
        "{events:?}"
    );
    assert_eq!(events.iter().filter(|(n, _)| n == "done").count(), 1);

    // a client that comes after the end: the final state, done, the close
    let late = user
        .get(format!("{base}/jobs/e1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 200);
    let events = crate::common::events_to_the_close(late).await;
    let expected = [
        ("message".to_owned(), finished.to_owned()),
        ("done".to_owned(), finished.to_owned()),
    ];
    assert_eq!(events, expected);

    // a failed job ends its stream the same way
    let response = start_and_listen(&user, base, base, "e2").await;
    let failed = user
        .post(format!("{base}/jobs/e2/fail"))
        .send()
        .await
        .unwrap();
    assert!(failed.status().is_success());
    let events = crate::common::events_to_the_close(response).await;
    let failed = r#"{"change":"updated","job":{"progress":0,"status":{"state":"failed","reason":"the worker gave up"}}}"#;
    assert_eq!(
        events.last().map(|(n, d)| (n.as_str(), d.as_str())),
        Some(("done", failed))
    );
}

/// The next event of an open stream, as `(name, data, id)`, or `None` if
/// none comes within `within` (keep-alive comments are no events). What
/// follows it stays in `buffer`; every block read is added to `seen`.
async fn next_event_seen(
    response: &mut reqwest::Response,
    buffer: &mut String,
    within: Duration,
    seen: &mut String,
) -> Option<(String, String, Option<u64>)> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            seen.push_str(&block);
            let (mut name, mut data, mut id) = ("message".to_owned(), None, None);
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data = Some(value.trim().to_owned());
                } else if let Some(value) = line.strip_prefix("id:") {
                    id = value.trim().parse().ok();
                }
            }
            if let Some(data) = data {
                return Some((name, data, id));
            }
        }
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .ok()?;
        buffer.push_str(std::str::from_utf8(&chunk.unwrap()?).unwrap());
    }
}

/// [`next_event_seen`], the blocks read left out.
async fn next_event(
    response: &mut reqwest::Response,
    buffer: &mut String,
    within: Duration,
) -> Option<(String, String, Option<u64>)> {
    next_event_seen(response, buffer, within, &mut String::new()).await
}

/// A browser that reconnects to a job's events with `Last-Event-ID` (on
/// the app at `base`, routes as for [`an_ended_job_closes_its_stream`])
/// gets no state it has: the current state only if it is newer, then the
/// changes after it; the final state and `done` if the job ended while it
/// was away; `done` alone if it had the final state.
async fn a_browser_that_reconnects_gets_no_state_twice(base: &str) {
    let user = browser();
    let post = |path: String| {
        let user = user.clone();
        async move {
            let status = user.post(path).send().await.unwrap().status();
            assert!(status.is_success(), "{status}");
        }
    };
    let listen = |last: Option<u64>| {
        let mut request = user.get(format!("{base}/jobs/r1/events"));
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last.to_string());
        }
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response
        }
    };
    let within = Duration::from_secs(10);
    post(format!("{base}/jobs/r1")).await;
    post(format!("{base}/jobs/r1/progress/10")).await;
    let mut response = listen(None).await;
    let (mut buffer, mut seen) = (String::new(), String::new());
    let (name, data, first) = next_event_seen(&mut response, &mut buffer, within, &mut seen)
        .await
        .unwrap();
    // the browser's wait before a reconnect, sent with the first event
    assert!(
        seen.lines()
            .any(|line| line.replace(' ', "") == "retry:2000"),
        "{seen}"
    );
    assert_eq!(name, "message");
    assert!(data.contains(r#""progress":10"#), "{data}");
    let first = first.expect("a state's event has an id");
    assert!(
        buffer.is_empty() || !buffer.contains("data:"),
        "one state so far"
    );
    drop(response);

    // a write while it was away: the newer state, with a newer id
    post(format!("{base}/jobs/r1/progress/20")).await;
    let mut response = listen(Some(first)).await;
    let mut buffer = String::new();
    let (_, data, second) = next_event(&mut response, &mut buffer, within)
        .await
        .unwrap();
    assert!(data.contains(r#""progress":20"#), "{data}");
    let second = second.unwrap();
    assert!(second > first, "{second} after {first}");
    drop(response);

    // nothing new: the state it has is not sent again, the next change is
    let mut response = listen(Some(second)).await;
    let mut buffer = String::new();
    assert_eq!(
        next_event(&mut response, &mut buffer, Duration::from_millis(700)).await,
        None,
        "a state the browser has was sent again"
    );
    post(format!("{base}/jobs/r1/progress/30")).await;
    let (_, data, third) = next_event(&mut response, &mut buffer, within)
        .await
        .unwrap();
    assert!(data.contains(r#""progress":30"#), "{data}");
    let third = third.unwrap();
    assert!(third > second);
    drop(response);

    // the job ended while it was away: the final state, then done
    post(format!("{base}/jobs/r1/finish")).await;
    let events = crate::common::events_to_the_close(listen(Some(third)).await).await;
    let finished = r#"{"change":"updated","job":{"progress":30,"status":{"state":"finished"}}}"#;
    let expected = [
        ("message".to_owned(), finished.to_owned()),
        ("done".to_owned(), finished.to_owned()),
    ];
    assert_eq!(events, expected);
    // it had the final state already: done alone, and the close
    let mut response = listen(None).await;
    let mut buffer = String::new();
    let (_, _, last) = next_event(&mut response, &mut buffer, within)
        .await
        .unwrap();
    drop(response);
    let events = crate::common::events_to_the_close(listen(last).await).await;
    assert_eq!(events, [("done".to_owned(), "finished".to_owned())]);
}

mod ending_axum {
    use super::*;
    use jobsess::store::{JobStore, ServerJobs};
    use jobsess::watch::LastEventId;

    async fn start<E: JobStore>(
        jobs: ServerJobs<Ending, E>,
        Path(id): Path<String>,
    ) -> Result<(), Error> {
        let job = Ending {
            progress: 0,
            status: jobsess::Status::Running,
        };
        jobs.store(&id, &job).await
    }

    async fn step<E: JobStore>(
        jobs: ServerJobs<Ending, E>,
        Path((id, p)): Path<(String, u8)>,
    ) -> Result<(), Error> {
        jobs.store_field(&id, Ending::PROGRESS, &p).await
    }

    async fn finish<E: JobStore>(
        jobs: ServerJobs<Ending, E>,
        Path(id): Path<String>,
    ) -> Result<(), Error> {
        jobs.finish(&id).await
    }

    async fn fail<E: JobStore>(
        jobs: ServerJobs<Ending, E>,
        Path(id): Path<String>,
    ) -> Result<(), Error> {
        jobs.fail(&id, "the worker gave up").await
    }

    async fn events<E: JobStore>(
        jobs: ServerJobs<Ending, E>,
        Path(id): Path<String>,
        last: LastEventId,
    ) -> Result<impl IntoResponse, Error> {
        Ok(jobsess::axum::sse(jobs.watch(&id).await?.since(last)))
    }

    /// The app on `store`, serving on a free port; its base URL.
    pub(super) async fn serve<E: JobStore>(store: E) -> String {
        let app = Router::new()
            .route("/jobs/{id}", post(start::<E>))
            .route("/jobs/{id}/progress/{p}", post(step::<E>))
            .route("/jobs/{id}/finish", post(finish::<E>))
            .route("/jobs/{id}/fail", post(fail::<E>))
            .route("/jobs/{id}/events", get(events::<E>))
            .layer(Extension(store))
            .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        base
    }
}

mod ending_actix {
    use super::*;
    use actix_session::SessionMiddleware;
    use actix_session::storage::CookieSessionStore;
    use actix_web::cookie::Key;
    use actix_web::{App, HttpResponse, HttpServer, Responder, web};
    use jobsess::store::{JobStore, ServerJobs};
    use jobsess::watch::LastEventId;

    async fn start<E: JobStore>(
        jobs: ServerJobs<Ending, E>,
        id: web::Path<String>,
    ) -> Result<HttpResponse, Error> {
        let job = Ending {
            progress: 0,
            status: jobsess::Status::Running,
        };
        jobs.store(&id, &job).await?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn step<E: JobStore>(
        jobs: ServerJobs<Ending, E>,
        path: web::Path<(String, u8)>,
    ) -> Result<HttpResponse, Error> {
        jobs.store_field(&path.0, Ending::PROGRESS, &path.1).await?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn finish<E: JobStore>(
        jobs: ServerJobs<Ending, E>,
        id: web::Path<String>,
    ) -> Result<HttpResponse, Error> {
        jobs.finish(&id).await?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn fail<E: JobStore>(
        jobs: ServerJobs<Ending, E>,
        id: web::Path<String>,
    ) -> Result<HttpResponse, Error> {
        jobs.fail(&id, "the worker gave up").await?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn events<E: JobStore>(
        jobs: ServerJobs<Ending, E>,
        id: web::Path<String>,
        last: LastEventId,
    ) -> Result<impl Responder, Error> {
        Ok(jobsess::actix::sse(jobs.watch(&id).await?.since(last)))
    }

    /// The app on `store`, serving on a free port: its base URL, and the
    /// handle that stops it.
    pub(super) fn serve<E: JobStore>(store: E) -> (String, actix_web::dev::ServerHandle) {
        let key = Key::generate();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(store.clone())
                .wrap(
                    SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                        .cookie_secure(false)
                        .build(),
                )
                .route("/jobs/{id}", web::post().to(start::<E>))
                .route("/jobs/{id}/progress/{p}", web::post().to(step::<E>))
                .route("/jobs/{id}/finish", web::post().to(finish::<E>))
                .route("/jobs/{id}/fail", web::post().to(fail::<E>))
                .route("/jobs/{id}/events", web::get().to(events::<E>))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let base = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        (base, handle)
    }
}

/// An ended job's stream, and a browser that reconnects, on axum and
/// actix-web, on every engine that can watch across processes and on the
/// in-memory one.
macro_rules! ending_on {
    ($engine:ident, $need:expr, $make:expr) => {
        mod $engine {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn axum_ends_streams_and_resumes_them() {
                require!($need);
                let base = super::ending_axum::serve($make.await).await;
                super::an_ended_job_closes_its_stream(&base).await;
                super::a_browser_that_reconnects_gets_no_state_twice(&base).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn actix_ends_streams_and_resumes_them() {
                require!($need);
                let (base, handle) = super::ending_actix::serve($make.await);
                super::an_ended_job_closes_its_stream(&base).await;
                super::a_browser_that_reconnects_gets_no_state_twice(&base).await;
                handle.stop(false).await;
            }
        }
    };
}

ending_on!(
    on_redis,
    crate::common::redis(),
    super::instance_store(std::time::Duration::ZERO)
);
ending_on!(
    on_postgres,
    crate::common::postgres(),
    crate::common::postgres_store()
);
ending_on!(on_sqlite, None::<String>, crate::common::sqlite_store());
ending_on!(on_memory, None::<String>, async {
    jobsess::store::MemoryJobStore::new()
});

/// In one process (`Notifying`, the session kind that can watch), states
/// carry revisions that never go back, also across jobs and watchers, and
/// a consumer that comes back with the revision it has gets no state it
/// had: the current one only if it is newer.
#[tokio::test]
async fn in_process_states_resume_from_their_revision() {
    let jobs = AsyncJobSession::<Job, _>::new(Notifying::new(Mutex::new(HashMap::new())));
    jobs.store("a", &job("a.mp3")).await.unwrap();
    jobs.store("b", &job("b.mp3")).await.unwrap();
    let mut first = jobs.watch_field("a", Job::PROGRESS).await.unwrap();
    assert_eq!(next(&mut first).await.unwrap().unwrap(), 0);
    let seen = first.id().expect("a state's revision");
    drop(first);
    // another job's writes move the count on, not this job's state
    jobs.store_field("b", Job::PROGRESS, &5).await.unwrap();
    let mut again = jobs
        .watch_field("a", Job::PROGRESS)
        .await
        .unwrap()
        .since(seen);
    assert!(
        tokio::time::timeout(Duration::from_millis(200), again.next())
            .await
            .is_err(),
        "a state the consumer has was given again"
    );
    jobs.store_field("a", Job::PROGRESS, &7).await.unwrap();
    assert_eq!(next(&mut again).await.unwrap().unwrap(), 7);
    let later = again.id().unwrap();
    assert!(later > seen, "{later} after {seen}");
    // from an older revision: the current state, which is newer
    let mut behind = jobs
        .watch_field("a", Job::PROGRESS)
        .await
        .unwrap()
        .since(seen);
    assert_eq!(next(&mut behind).await.unwrap().unwrap(), 7);
    assert_eq!(behind.id(), Some(later));
}
