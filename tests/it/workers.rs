//! Jobs that run elsewhere: a worker in a process of its own
//! (`examples/worker.rs`), given only a job reference and the store's URL,
//! advances a job that a second web instance streams live to its end, on
//! Redis, on PostgreSQL and on a SQLite file.

use std::process::{Command, Stdio};
use std::time::Duration;

use axum::extract::Path;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jobsess::store::{JobRef, JobStore, ServerJobs};
use jobsess::{Error, JobMetadata, Status};
use serde::{Deserialize, Serialize};
use tower_sessions::{MemoryStore, SessionManagerLayer};

/// The worker example's metadata type, as the web app declares it.
#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq)]
#[job_metadata(prefix = "export", status = status)]
struct ExportJob {
    file: String,
    #[serde(default)]
    progress: u8,
    #[serde(default)]
    status: Status,
}

/// Stores the job and answers the reference its worker gets.
async fn start<E: JobStore>(
    jobs: ServerJobs<ExportJob, E>,
    Path(id): Path<String>,
) -> Result<Json<JobRef>, Error> {
    let job = ExportJob {
        file: format!("{id}.csv"),
        progress: 0,
        status: Status::Queued,
    };
    jobs.store(&id, &job).await?;
    Ok(Json(jobs.reference(&id).await?))
}

async fn events<E: JobStore>(
    jobs: ServerJobs<ExportJob, E>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Error> {
    Ok(jobsess::axum::sse(jobs.watch(&id).await?))
}

/// A web instance on `store`, with `sessions` shared by every instance.
async fn instance<E: JobStore>(store: E, sessions: MemoryStore) -> String {
    let app = Router::new()
        .route("/jobs/{id}", post(start::<E>))
        .route("/jobs/{id}/events", get(events::<E>))
        .layer(Extension(store))
        .layer(SessionManagerLayer::new(sessions).with_secure(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// Runs `examples/worker.rs` on `reference` in a process of its own.
fn worker(reference: &str, url: &str, namespace: &str, fail_at: Option<u8>) -> std::process::Child {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let bin = bin
        .join("examples")
        .join(format!("worker{}", std::env::consts::EXE_SUFFIX));
    let mut command = Command::new(&bin);
    command
        .env("JOB_REF", reference)
        .env("STORE_URL", url)
        .env("STORE_NAMESPACE", namespace)
        .env("STEP_MS", "30")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(at) = fail_at {
        command.env("FAIL_AT", at.to_string());
    }
    command
        .spawn()
        .unwrap_or_else(|err| panic!("{} runs: {err}", bin.display()))
}

/// Instance A starts job `id` and gives its reference to a worker process;
/// the user's stream on instance B follows it to its end. What the last
/// two events say (their job JSON) is returned.
async fn a_worker_elsewhere_runs_the_job<E: JobStore>(
    store: E,
    url: &str,
    namespace: &str,
    id: &str,
    fail_at: Option<u8>,
) -> Vec<(String, serde_json::Value)> {
    let sessions = MemoryStore::default();
    let a = instance(store.clone(), sessions.clone()).await;
    let b = instance(store, sessions).await;
    let user = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let started = user.post(format!("{a}/jobs/{id}")).send().await.unwrap();
    assert_eq!(started.status(), 200);
    let reference = started.text().await.unwrap();
    let stream = user
        .get(format!("{b}/jobs/{id}/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut process = worker(&reference, url, namespace, fail_at);
    let events = crate::common::events_to_the_close(stream).await;
    let exit = tokio::task::spawn_blocking(move || process.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "the worker exits with {exit}");
    let jobs: Vec<(String, serde_json::Value)> = events
        .into_iter()
        .map(|(name, data)| {
            let change: serde_json::Value = serde_json::from_str(&data).unwrap();
            (name, change["job"].clone())
        })
        .collect();
    // the progress only goes up, the job's last state comes twice (its
    // event, then `done`), and nothing follows
    let progress: Vec<u64> = jobs
        .iter()
        .map(|(_, job)| job["progress"].as_u64().unwrap())
        .collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert!(jobs.len() >= 3, "{jobs:?}");
    let tail = jobs[jobs.len() - 2..].to_vec();
    assert_eq!(tail[0].0, "message");
    assert_eq!(tail[1].0, "done");
    assert_eq!(tail[0].1, tail[1].1);
    tail
}

fn finished_at_100(tail: &[(String, serde_json::Value)]) {
    assert_eq!(tail[1].1["progress"], 100);
    assert_eq!(
        tail[1].1["status"],
        serde_json::json!({ "state": "finished" })
    );
}

fn failed_at_50(tail: &[(String, serde_json::Value)]) {
    assert_eq!(tail[1].1["progress"], 40);
    assert_eq!(
        tail[1].1["status"],
        serde_json::json!({ "state": "failed", "reason": "the export broke at 50 %" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_runs_a_redis_job_to_its_end() {
    require!(crate::common::redis());
    let url = crate::common::redis_url();
    let namespace = "jobsess-workers-test";
    let store = jobsess::redis::RedisJobStore::connect(&url)
        .await
        .unwrap()
        .with_namespace(namespace)
        .with_ttl(Duration::from_secs(600));
    let tail = a_worker_elsewhere_runs_the_job(store.clone(), &url, namespace, "w1", None).await;
    finished_at_100(&tail);
    let tail = a_worker_elsewhere_runs_the_job(store, &url, namespace, "w2", Some(50)).await;
    failed_at_50(&tail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_runs_a_postgres_job_to_its_end() {
    require!(crate::common::postgres());
    let url = crate::common::database_url();
    let schema = format!(
        "jobsess_workers_{}",
        &jobsess::postgres::PostgresJobStore::new_owner_token().unwrap()[..12]
    );
    let store = jobsess::postgres::PostgresJobStore::connect(&url)
        .await
        .unwrap()
        .with_schema(&schema)
        .with_ttl(Duration::from_secs(600));
    store.migrate().await.unwrap();
    let tail = a_worker_elsewhere_runs_the_job(store.clone(), &url, &schema, "w1", None).await;
    finished_at_100(&tail);
    let tail = a_worker_elsewhere_runs_the_job(store, &url, &schema, "w2", Some(50)).await;
    failed_at_50(&tail);
}

/// On SQLite the worker is another process on the same file: its writes
/// reach this process's event stream through the change log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_runs_a_sqlite_job_to_its_end() {
    let path = crate::common::sqlite_path();
    let url = format!("sqlite://{}", path.display());
    let store = jobsess::sqlite::SqliteJobStore::open(&path)
        .await
        .unwrap()
        .with_ttl(Duration::from_secs(600));
    let table = "jobsess_jobs";
    let tail = a_worker_elsewhere_runs_the_job(store.clone(), &url, table, "w1", None).await;
    finished_at_100(&tail);
    let tail = a_worker_elsewhere_runs_the_job(store, &url, table, "w2", Some(50)).await;
    failed_at_50(&tail);
}
