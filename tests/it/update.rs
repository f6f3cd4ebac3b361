//! `update`: read-modify-write with no lost update, on the maps, on
//! `Mutex<HashMap>` shared by tasks, and on the Redis job store, directly
//! and over HTTP from two app instances.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use fred::prelude::*;
use jobsess::redis::{RedisJobStore, RedisJobs};
use jobsess::{AsyncJobSession, Error, JobMetadata, JobSession, Updated};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::{MemoryStore, SessionManagerLayer};

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone, Default)]
struct Job {
    status: String,
    #[serde(default)]
    counter: u32,
    #[serde(default)]
    log: Vec<String>,
}

fn running() -> Job {
    Job {
        status: "running".into(),
        ..Job::default()
    }
}

/// "done" only if it is running: the state machine's one transition.
fn finish(job: &mut Job) -> bool {
    if job.status != "running" {
        return false;
    }
    job.status = "done".into();
    true
}

#[test]
fn maps_update_whole_jobs_and_fields() {
    let mut session = HashMap::new();
    session.insert("other".to_owned(), json!("kept"));
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    jobs.store("a", &running()).unwrap();

    let job = jobs
        .update("a", |job| {
            job.counter += 2;
            job.log.push("two".into());
        })
        .unwrap();
    assert_eq!(job.counter, 2);
    assert_eq!(
        jobs.update_field("a", Job::COUNTER, |n| *n *= 10).unwrap(),
        20
    );
    assert_eq!(
        jobs.load("a").unwrap().unwrap(),
        Job {
            status: "running".into(),
            counter: 20,
            log: vec!["two".into()],
        }
    );

    // the conditional form: written once, then declined with the stored value
    assert!(jobs.update_if("a", finish).unwrap().is_written());
    let declined = jobs.update_if("a", finish).unwrap();
    assert_eq!(
        declined,
        Updated::Declined(jobs.load("a").unwrap().unwrap())
    );
    assert_eq!(declined.into_inner().status, "done");

    // a missing job is named, and nothing is created
    let err = jobs.update("b", |job| job.counter += 1).unwrap_err();
    assert!(
        matches!(err, Error::JobNotFound { ref key } if key == "job_b"),
        "{err}"
    );
    let err = jobs
        .update_field("b", Job::COUNTER, |n| *n += 1)
        .unwrap_err();
    assert!(matches!(err, Error::JobNotFound { .. }), "{err}");
    assert!(!jobs.contains("b").unwrap());
    assert_eq!(session["other"], json!("kept"));
}

#[test]
fn a_failed_update_writes_nothing() {
    let mut session = HashMap::new();
    session.insert("job_bad".to_owned(), json!({ "status": 7 }));
    session.insert(
        "job_a".to_owned(),
        json!({ "status": "running", "counter": 1 }),
    );
    let before = session.clone();

    let mut jobs = JobSession::<Job, _>::new(&mut session);
    let err = jobs.update("bad", |job| job.counter += 1).unwrap_err();
    assert!(
        err.to_string().starts_with("job_bad as Job: status"),
        "{err}"
    );
    // over its budget: refused before anything is written
    let mut budgeted = JobSession::<Job, _>::new(&mut session).with_budget(120);
    let err = budgeted
        .update("a", |job| job.log.push("x".repeat(200)))
        .unwrap_err();
    assert!(matches!(err, Error::OverBudget { .. }), "{err}");
    // a field that can't be decoded
    session.insert(
        "job_c".to_owned(),
        json!({ "status": "x", "counter": "many" }),
    );
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    let err = jobs
        .update_field("c", Job::COUNTER, |n| *n += 1)
        .unwrap_err();
    assert!(err.to_string().contains("counter"), "{err}");
    session.remove("job_c");
    assert_eq!(session, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_sharing_a_mutex_lose_no_update() {
    let jobs = Arc::new(AsyncJobSession::<Job, _>::new(Mutex::new(HashMap::new())));
    jobs.store("a", &running()).await.unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let jobs = Arc::clone(&jobs);
            tokio::spawn(async move {
                if i % 2 == 0 {
                    jobs.update("a", |job| job.counter += 1).await.unwrap();
                } else {
                    jobs.update_field("a", Job::COUNTER, |n| *n += 1)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(jobs.load("a").await.unwrap().unwrap().counter, 200);
}

// ---- Redis ------------------------------------------------------------------

async fn pool() -> Pool {
    let url = crate::common::redis_url();
    let pool = Pool::new(Config::from_url(&url).unwrap(), None, None, None, 4).unwrap();
    pool.init().await.unwrap();
    pool
}

/// A job store as one app instance has it: its own pool.
async fn job_store() -> RedisJobStore {
    RedisJobStore::new(pool().await)
        .with_namespace("jobsess-update-test")
        .with_ttl(Duration::from_secs(600))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_updates_from_two_pools_lose_nothing() {
    require!(crate::common::redis());
    let token = RedisJobStore::new_owner_token().unwrap();
    let a = AsyncJobSession::<Job, _>::new(job_store().await.owner(&token).unwrap());
    let b = AsyncJobSession::<Job, _>::new(job_store().await.owner(&token).unwrap());
    a.store("shared", &running()).await.unwrap();

    // 200 updates at once, half through each pool, while another field is
    // written by plain store_field calls in between
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let jobs = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                if i % 4 == 1 {
                    jobs.update_field("shared", Job::COUNTER, |n| *n += 1)
                        .await
                        .unwrap();
                } else {
                    jobs.update("shared", |job| job.counter += 1).await.unwrap();
                }
                if i % 10 == 0 {
                    jobs.store_field("shared", Job::LOG, &vec![format!("{i}")])
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let job = b.load("shared").await.unwrap().unwrap();
    assert_eq!(job.counter, 200);
    assert_eq!(job.status, "running");
    assert_eq!(job.log.len(), 1, "{job:?}");

    // conditional: exactly one of many concurrent "finish" calls writes
    let outcomes: Vec<_> = (0..20)
        .map(|i| {
            let jobs = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { jobs.update_if("shared", finish).await.unwrap() })
        })
        .collect();
    let mut written = 0;
    for outcome in outcomes {
        written += usize::from(outcome.await.unwrap().is_written());
    }
    assert_eq!(written, 1);
    assert!(a.delete("shared").await.unwrap());
    let err = a
        .update("shared", |job| job.counter += 1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::JobNotFound { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_conflicts_are_named_and_write_nothing() {
    require!(crate::common::redis());
    // one attempt each: under contention some updates give up, and the
    // counter is exactly the number that said they wrote
    let store = job_store().await.with_update_attempts(1);
    let token = RedisJobStore::new_owner_token().unwrap();
    let jobs = AsyncJobSession::<Job, _>::new(store.owner(&token).unwrap());
    jobs.store("hot", &running()).await.unwrap();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let jobs = jobs.clone();
            tokio::spawn(async move { jobs.update("hot", |job| job.counter += 1).await })
        })
        .collect();
    let (mut ok, mut conflicts) = (0u32, 0u32);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::Conflict { key, attempts }) => {
                assert_eq!((key.as_str(), attempts), ("job_hot", 1));
                conflicts += 1;
            }
            Err(err) => panic!("{err}"),
        }
    }
    assert_eq!(ok + conflicts, 100);
    assert!(conflicts > 0, "no update ever conflicted");
    assert_eq!(jobs.load("hot").await.unwrap().unwrap().counter, ok);
    let err = Error::Conflict {
        key: "job_hot".into(),
        attempts: 1,
    };
    assert_eq!(err.http_status(), 409);
    jobs.clear().await.unwrap();
}

#[tokio::test]
async fn redis_updates_jobs_of_the_earlier_release_and_expired_ones() {
    require!(crate::common::redis());
    let raw = pool().await;
    let store = job_store().await;
    let token = RedisJobStore::new_owner_token().unwrap();
    let set = format!("jobsess-update-test:{{{token}}}");
    // a hash with no marker, as the first release wrote it
    let _: i64 = raw
        .hset(
            format!("{set}:job_old"),
            [("status", r#""running""#), ("counter", "4")],
        )
        .await
        .unwrap();
    let _: i64 = raw.sadd(&set, "job_old").await.unwrap();
    let jobs = AsyncJobSession::<Job, _>::new(store.owner(&token).unwrap());
    assert_eq!(
        jobs.update("old", |job| job.counter += 1)
            .await
            .unwrap()
            .counter,
        5
    );
    assert_eq!(
        jobs.update("old", |job| job.counter += 1)
            .await
            .unwrap()
            .counter,
        6
    );

    // an expired job is not found, and not brought back
    let short = store.with_ttl(Duration::from_secs(1));
    let jobs = AsyncJobSession::<Job, _>::new(short.owner(&token).unwrap());
    jobs.store("brief", &running()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let err = jobs
        .update("brief", |job| job.counter += 1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::JobNotFound { .. }), "{err}");
    let exists: i64 = raw.exists(format!("{set}:job_brief")).await.unwrap();
    assert_eq!(exists, 0);
    jobs.clear().await.unwrap();
}

// ---- over HTTP: two app instances, one Redis --------------------------------

async fn start(jobs: RedisJobs<Job>, Path(id): Path<String>) -> Result<(), Error> {
    jobs.store(&id, &running()).await
}

async fn bump(jobs: RedisJobs<Job>, Path(id): Path<String>) -> Result<Json<u32>, Error> {
    let job = jobs.update(&id, |job| job.counter += 1).await?;
    Ok(Json(job.counter))
}

async fn show(jobs: RedisJobs<Job>, Path(id): Path<String>) -> Result<Json<Job>, Error> {
    jobs.load(&id)
        .await?
        .map(Json)
        .ok_or(Error::JobNotFound { key: id })
}

async fn instance(sessions: MemoryStore) -> String {
    let app = Router::new()
        .route("/jobs/{id}", post(start).get(show))
        .route("/jobs/{id}/bump", post(bump))
        .route("/", get(|| async { "ok" }))
        .layer(Extension(job_store().await))
        .layer(SessionManagerLayer::new(sessions).with_secure(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_and_200_concurrent_updates_over_http() {
    require!(crate::common::redis());
    let sessions = MemoryStore::default();
    let (a, b) = (instance(sessions.clone()).await, instance(sessions).await);
    let user = reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let status = user
        .post(format!("{a}/jobs/j1"))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "{status}");

    let requests: Vec<_> = (0..200)
        .map(|i| {
            let (user, base) = (user.clone(), if i % 2 == 0 { a.clone() } else { b.clone() });
            tokio::spawn(async move {
                let response = user
                    .post(format!("{base}/jobs/j1/bump"))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                response.json::<u32>().await.unwrap()
            })
        })
        .collect();
    let mut seen = Vec::new();
    for request in requests {
        seen.push(request.await.unwrap());
    }
    // every request saw its own increment: the values are 1..=200, each once
    seen.sort_unstable();
    assert_eq!(seen, (1..=200).collect::<Vec<u32>>());
    let job: Job = user
        .get(format!("{b}/jobs/j1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job.counter, 200);
}

/// A closure that changes its copy and then declines: `Declined` holds the
/// job as stored (what `load` gives), not the closure's changed copy, on
/// the sync handle, the async one, and the Redis job store.
#[tokio::test]
async fn a_declined_update_returns_the_stored_job() {
    fn change_then_decline(job: &mut Job) -> bool {
        job.status = "changed".into();
        job.counter += 1;
        false
    }

    let mut session = HashMap::new();
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    jobs.store("a", &running()).unwrap();
    let outcome = jobs.update_if("a", change_then_decline).unwrap();
    assert_eq!(outcome, Updated::Declined(running()));
    assert_eq!(jobs.load("a").unwrap(), Some(running()));

    let jobs = AsyncJobSession::<Job, _>::new(Arc::new(Mutex::new(HashMap::new())));
    jobs.store("a", &running()).await.unwrap();
    let outcome = jobs.update_if("a", change_then_decline).await.unwrap();
    assert_eq!(outcome, Updated::Declined(running()));
    assert_eq!(jobs.load("a").await.unwrap(), Some(running()));

    require!(crate::common::redis());
    let store = RedisJobStore::connect(&crate::common::redis_url())
        .await
        .unwrap()
        .with_namespace("jobsess-declined-test");
    let token = RedisJobStore::new_owner_token().unwrap();
    let jobs = AsyncJobSession::<Job, _>::new(store.owner(&token).unwrap());
    jobs.store("a", &running()).await.unwrap();
    let outcome = jobs.update_if("a", change_then_decline).await.unwrap();
    assert_eq!(outcome, Updated::Declined(running()));
    assert_eq!(jobs.load("a").await.unwrap(), Some(running()));
    jobs.clear().await.unwrap();
}
