//! The tower-sessions operations of `benches/tower_sessions.rs`, each side run a
//! given number of times, to count instructions with callgrind, which
//! repeat exactly where wall-clock times on a shared machine don't:
//!
//! ```sh
//! cargo bench -p jobsess-lab --bench instructions --no-run
//! for n in 2000 4000; do
//!   valgrind --tool=callgrind --callgrind-out-file=cg.$n \
//!     target/release/deps/instructions-* tower_store_field jobsess $n
//! done
//! ```
//!
//! The difference of the two totals over 2,000 is one call's instructions,
//! the set-up taken out. Operations: `tower_store_get`, `tower_get`,
//! `tower_store_field`; sides: `floor` (written by hand on the same
//! `Session`, as in `benches/tower_sessions.rs`) and `jobsess`. And
//! `redis_store_field jobsess`: the client's instructions of a field write
//! to the Redis job store at `REDIS_URL` (the server's are not counted),
//! to compare two builds of jobsess.

use std::hint::black_box;
use std::sync::Arc;

use jobsess::AsyncJobSession;
use tower_sessions::{MemoryStore, Session};

#[path = "../benches/common/job.rs"]
mod job;
#[path = "../benches/common/tower_floor.rs"]
mod tower_floor;
use job::{ID, TranscriptionJob, job_123};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` runs every bench target with `--bench`: nothing to do
    let [op, side, calls] = args.as_slice() else {
        eprintln!("usage: instructions OPERATION floor|jobsess CALLS (see the file's header)");
        return;
    };
    let calls: u32 = calls.parse().expect("CALLS is a number");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let job = job_123();
    let prefs = job.user_preferences.clone();
    let session = Session::new(None, Arc::new(MemoryStore::default()), None);
    let jobs = AsyncJobSession::<TranscriptionJob, _>::new(session.clone());
    let mut redis_jobs = None;
    rt.block_on(async {
        // the job there already, as in the criterion groups after their first call
        jobs.store(ID, &job).await.expect("stores");
        for _ in 0..calls {
            match (op.as_str(), side.as_str()) {
                ("tower_store_get", "floor") => {
                    tower_floor::store_get_with_id_list(&session, black_box(ID), &job).await
                }
                ("tower_store_get", "jobsess") => {
                    jobs.store(black_box(ID), &job).await.expect("stores");
                    black_box(jobs.load(black_box(ID)).await.expect("loads"));
                }
                ("tower_get", "floor") => {
                    tower_floor::get::<TranscriptionJob>(&session, black_box(ID)).await
                }
                ("tower_get", "jobsess") => {
                    black_box(jobs.load(black_box(ID)).await.expect("loads"));
                }
                ("tower_store_field", "floor") => {
                    tower_floor::store_field(&session, black_box(ID), "user_preferences", &prefs)
                        .await;
                }
                ("tower_store_field", "jobsess") => {
                    jobs.store_field(black_box(ID), TranscriptionJob::USER_PREFERENCES, &prefs)
                        .await
                        .expect("stores");
                }
                ("redis_store_field", "jobsess") => {
                    let jobs = redis_jobs.get_or_insert(redis_jobs_of(&job).await);
                    jobs.store_field(black_box(ID), TranscriptionJob::USER_PREFERENCES, &prefs)
                        .await
                        .expect("stores");
                }
                _ => panic!("no operation {op} with side {side}"),
            }
        }
    });
}

/// A fresh owner's jobs in the Redis job store at `REDIS_URL`, holding
/// `job` under [`ID`].
async fn redis_jobs_of(
    job: &TranscriptionJob,
) -> AsyncJobSession<TranscriptionJob, jobsess::redis::RedisOwnerJobs> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let store = jobsess::redis::RedisJobStore::connect(&url)
        .await
        .expect("a Redis at REDIS_URL")
        .with_namespace("jobsess-instructions");
    let token = jobsess::redis::RedisJobStore::new_owner_token().expect("a token");
    let jobs = AsyncJobSession::new(store.owner(&token).expect("an owner"));
    jobs.store(ID, job).await.expect("stores");
    jobs
}
