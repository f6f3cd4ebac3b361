//! A route's cost against the user's job count: an axum route that reads
//! one field and one that writes one, for users with 1, 10 and 1,000 jobs,
//! on each backend: the tower-sessions session (memory store), and, with
//! only the owner's token in that session, the in-memory job store, Redis
//! (`REDIS_URL`) and PostgreSQL (`DATABASE_URL`). Real sockets and real
//! cookies: 16 clients, each its own user with its own session. Each line
//! is the median of three 2 s runs, the counts taking turns; the baseline
//! is the same backend with one job, in the same run.
//! `cargo bench -p jobsess-lab --bench routes`. BENCHMARKS.md has the results.

use std::time::{Duration, Instant};

use axum::extract::Path;
use axum::routing::{get, post};
use jobsess::store::{JobStore, ServerJobs};

#[allow(dead_code)] // the benches share `common`; this one uses a part of it
mod common;
use common::http::preferences_for;
use common::job::{TranscriptionJob, job_123};

/// The users' job counts.
const COUNTS: [usize; 3] = [1, 10, 1_000];
/// Clients at once, each a user of its own.
const CLIENTS: usize = 16;
/// Runs of each measure; the figure is their median.
const RUNS: usize = 3;
/// How long each run drives the route.
const LENGTH: Duration = Duration::from_secs(2);
/// The job every request reads or writes.
const JOB: &str = "job-0000";

/// Stores `n` jobs for the user; the route every client calls first.
async fn seed<B: jobsess::AsyncSessionBackend>(
    jobs: &jobsess::AsyncJobSession<TranscriptionJob, B>,
    n: usize,
) -> Result<(), jobsess::Error> {
    let job = job_123();
    for i in 0..n {
        jobs.store(&format!("job-{i:04}"), &job).await?;
    }
    Ok(())
}

/// The read: one field of one job.
async fn read<B: jobsess::AsyncSessionBackend>(
    jobs: &jobsess::AsyncJobSession<TranscriptionJob, B>,
) -> Result<String, jobsess::Error> {
    let plugin = jobs
        .load_field(JOB, TranscriptionJob::PLUGIN_INFO)
        .await?
        .ok_or(jobsess::Error::JobNotFound { key: JOB.into() })?;
    Ok(plugin.title)
}

/// The write: one field of one job.
async fn write<B: jobsess::AsyncSessionBackend>(
    jobs: &jobsess::AsyncJobSession<TranscriptionJob, B>,
) -> Result<&'static str, jobsess::Error> {
    let plugin = job_123().plugin_info;
    jobs.store_field(
        JOB,
        TranscriptionJob::USER_PREFERENCES,
        &preferences_for(&plugin),
    )
    .await?;
    Ok("ok")
}

/// The app whose jobs are in the tower-sessions session.
fn session_app() -> axum::Router {
    use jobsess::axum::Jobs;
    axum::Router::new()
        .route(
            "/seed/{n}",
            post(|jobs: Jobs<TranscriptionJob>, Path(n): Path<usize>| async move {
                seed(&jobs, n).await
            }),
        )
        .route(
            "/read",
            get(|jobs: Jobs<TranscriptionJob>| async move { read(&jobs).await }),
        )
        .route(
            "/write",
            post(|jobs: Jobs<TranscriptionJob>| async move { write(&jobs).await }),
        )
}

/// The app whose jobs are in `store`, the session holding the owner token.
fn server_app<E: JobStore + Clone + 'static>(store: E) -> axum::Router {
    axum::Router::new()
        .route(
            "/seed/{n}",
            post(
                |jobs: ServerJobs<TranscriptionJob, E>, Path(n): Path<usize>| async move {
                    seed(&jobs, n).await
                },
            ),
        )
        .route(
            "/read",
            get(|jobs: ServerJobs<TranscriptionJob, E>| async move { read(&jobs).await }),
        )
        .route(
            "/write",
            post(|jobs: ServerJobs<TranscriptionJob, E>| async move { write(&jobs).await }),
        )
        .layer(axum::Extension(store))
}

/// `app` behind a tower-sessions memory store, served on a free port.
async fn serve(app: axum::Router) -> String {
    let sessions = tower_sessions::SessionManagerLayer::new(tower_sessions::MemoryStore::default())
        .with_secure(false);
    common::http::serve(app.layer(sessions)).await
}

/// Requests per second of [`CLIENTS`] users calling `path` for [`LENGTH`].
async fn drive(users: &[reqwest::Client], base: &str, path: &str, write: bool) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for user in users {
        let (user, url) = (user.clone(), format!("{base}{path}"));
        tasks.push(tokio::spawn(async move {
            let mut done = 0u32;
            while started.elapsed() < LENGTH {
                let request = if write {
                    user.post(&url)
                } else {
                    user.get(&url)
                };
                let response = request.send().await.expect("answers");
                assert!(response.status().is_success(), "{}", response.status());
                let _ = response.bytes().await;
                done += 1;
            }
            done
        }));
    }
    let mut done = 0;
    for task in tasks {
        done += task.await.expect("a client");
    }
    f64::from(done) / started.elapsed().as_secs_f64()
}

/// The median of `values`.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Measures `app` for each job count: an app and fresh users a count,
/// seeded; then [`RUNS`] rounds that drive the read and the write of each
/// count in turn, the order rotated each round (no count always first);
/// prints a line a count, against one job.
async fn measure(backend: &str, app: impl Fn() -> axum::Router) {
    let mut sides = Vec::new();
    for count in COUNTS {
        let base = serve(app()).await;
        let users: Vec<reqwest::Client> = (0..CLIENTS)
            .map(|_| {
                reqwest::Client::builder()
                    .cookie_store(true)
                    .build()
                    .expect("a client")
            })
            .collect();
        for user in &users {
            let response = user
                .post(format!("{base}/seed/{count}"))
                .send()
                .await
                .expect("seeds");
            assert!(response.status().is_success(), "{}", response.status());
        }
        // warm-up: connections made, statements and scripts cached
        let _ = drive(&users, &base, "/read", false).await;
        sides.push((count, base, users, Vec::new(), Vec::new()));
    }
    for round in 0..RUNS {
        for k in 0..sides.len() {
            let at = (k + round) % sides.len();
            let (_, base, users, reads, writes) = &mut sides[at];
            reads.push(drive(users, base, "/read", false).await);
            writes.push(drive(users, base, "/write", true).await);
        }
    }
    let mut baseline = (0.0, 0.0);
    for (count, _, _, reads, writes) in sides {
        let (read, write) = (median(reads), median(writes));
        if count == 1 {
            baseline = (read, write);
        }
        println!(
            "routes_{backend}/{count}: read {read:.0} req/s ({:.2}x of one job), \
             write {write:.0} req/s ({:.2}x of one job)",
            read / baseline.0,
            write / baseline.1
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // only build
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        measure("tower_sessions", session_app).await;
        let memory = jobsess::store::MemoryJobStore::new();
        measure("memory_store", || server_app(memory.clone())).await;
        match std::env::var("REDIS_URL") {
            Ok(url) => {
                let store = jobsess::redis::RedisJobStore::connect(&url)
                    .await
                    .expect("Redis answers")
                    .with_namespace("jobsess-bench-routes")
                    .with_ttl(Duration::from_secs(600));
                measure("redis", || server_app(store.clone())).await;
            }
            Err(_) => println!("routes_redis: skipped: set REDIS_URL"),
        }
        match std::env::var("DATABASE_URL") {
            Ok(url) => {
                let store = jobsess::postgres::PostgresJobStore::connect(&url)
                    .await
                    .expect("PostgreSQL answers")
                    .with_schema("jobsess_bench_routes")
                    .with_ttl(Duration::from_secs(600));
                store.migrate().await.expect("migrates");
                measure("postgres", || server_app(store.clone())).await;
            }
            Err(_) => println!("routes_postgres: skipped: set DATABASE_URL"),
        }
    });
}
