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
//! `sqlite_increment floor|statement|jobsess`: a SQLite `increment_field`
//! (every thread's instructions, SQLite's worker thread included) against
//! the least statement, and the store's own statement run by hand. And
//! `redis_store_field jobsess`: the client's instructions of a field write
//! to the Redis job store at `REDIS_URL` (the server's are not counted),
//! to compare two builds of jobsess. And `sqlite_entries floor|jobsess`:
//! `entries()` of an owner with 1,000 jobs on SQLite against the least
//! statement (`floors/sqlite/owners_entries.sql`) with each job decoded
//! from its text.

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
    let mut sqlite = None;
    let mut sqlite_listing = None;
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
                ("sqlite_increment", side) => {
                    // made once: `get_or_insert` would make one per call
                    if sqlite.is_none() {
                        sqlite = Some(sqlite_tally().await);
                    }
                    sqlite.as_ref().expect("made").increment(side).await;
                }
                ("sqlite_entries", side) => {
                    if sqlite_listing.is_none() {
                        sqlite_listing = Some(sqlite_entries().await);
                    }
                    sqlite_listing.as_ref().expect("made").entries(side).await;
                }
                ("redis_store_field", "jobsess") => {
                    if redis_jobs.is_none() {
                        redis_jobs = Some(redis_jobs_of(&job).await);
                    }
                    let jobs = redis_jobs.as_ref().expect("made");
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

/// A counter job in a SQLite store, for `sqlite_increment`: jobsess's
/// owner and a raw owner with the same row.
struct SqliteTally {
    pool: sqlx::SqlitePool,
    jobs: AsyncJobSession<Tally, jobsess::sqlite::SqliteOwnerJobs>,
    raw_owner: String,
    statement: String,
}

#[derive(serde::Serialize, serde::Deserialize, jobsess::JobMetadata)]
#[job_metadata(prefix = "job")]
struct Tally {
    n: i64,
}

async fn sqlite_tally() -> SqliteTally {
    use jobsess::sqlite::SqliteJobStore;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-sqlite");
    std::fs::create_dir_all(&dir).expect("target/bench-sqlite");
    let path = dir.join("instructions.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = SqliteJobStore::open(&path).await.expect("opens");
    let token = SqliteJobStore::new_owner_token().expect("a token");
    let jobs = AsyncJobSession::new(store.owner(&token).expect("an owner"));
    jobs.store("tally", &Tally { n: 0 }).await.expect("stores");
    let raw_owner = SqliteJobStore::new_owner_token().expect("a token");
    let raw = AsyncJobSession::<Tally, _>::new(store.owner(&raw_owner).expect("an owner"));
    raw.store("tally", &Tally { n: 0 }).await.expect("stores");
    let statement = include_str!("../jobsess/src/sqlite/sql/increment_field.sql")
        .replace("{jobs}", "\"jobsess_jobs\"")
        .replace("{revisions}", "\"jobsess_jobs_revision\"");
    SqliteTally {
        pool: store.pool().clone(),
        jobs,
        raw_owner,
        statement,
    }
}

impl SqliteTally {
    /// One increment: `floor` (the least statement), `statement` (the
    /// store's own statement, by hand) or `jobsess`.
    async fn increment(&self, side: &str) {
        match side {
            "floor" => {
                let n: Vec<i64> =
                    sqlx::query_scalar(include_str!("floors/sqlite/increment_field.sql"))
                        .bind(&self.raw_owner)
                        .bind("job")
                        .bind(black_box("tally"))
                        .bind("$.\"n\"")
                        .bind(1)
                        .bind(86400.0)
                        .fetch_all(&self.pool)
                        .await
                        .expect("UPDATE");
                black_box(n);
            }
            "statement" => {
                let rows = sqlx::query(&self.statement)
                    .bind(&self.raw_owner)
                    .bind("job")
                    .bind(black_box("tally"))
                    .bind("$.\"n\"")
                    .bind(1i64)
                    .bind(i64::MIN)
                    .bind(i64::MAX - 1)
                    .bind(Some(0i64))
                    .bind(86400.0)
                    .bind(4e9)
                    .fetch_all(&self.pool)
                    .await
                    .expect("UPDATE");
                assert_eq!(rows.len(), 1);
            }
            "jobsess" => {
                let n = self
                    .jobs
                    .increment_field(black_box("tally"), Tally::N, 1)
                    .await;
                black_box(n.expect("adds"));
            }
            _ => panic!("no side {side} of sqlite_increment"),
        }
    }
}

/// An owner with 1,000 jobs on each side of a SQLite store, for
/// `sqlite_entries`.
struct SqliteListing {
    pool: sqlx::SqlitePool,
    jobs: AsyncJobSession<TranscriptionJob, jobsess::sqlite::SqliteOwnerJobs>,
    raw_owner: String,
}

async fn sqlite_entries() -> SqliteListing {
    use jobsess::sqlite::SqliteJobStore;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-sqlite");
    std::fs::create_dir_all(&dir).expect("target/bench-sqlite");
    let path = dir.join("instructions-entries.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = SqliteJobStore::open(&path).await.expect("opens");
    let token = SqliteJobStore::new_owner_token().expect("a token");
    let raw_owner = SqliteJobStore::new_owner_token().expect("a token");
    let jobs = AsyncJobSession::new(store.owner(&token).expect("an owner"));
    let raw =
        AsyncJobSession::<TranscriptionJob, _>::new(store.owner(&raw_owner).expect("an owner"));
    let job = job_123();
    for i in 0..1_000 {
        let id = format!("job-{i:05}");
        jobs.store(&id, &job).await.expect("stores");
        raw.store(&id, &job).await.expect("stores");
    }
    SqliteListing {
        pool: store.pool().clone(),
        jobs,
        raw_owner,
    }
}

impl SqliteListing {
    /// One listing: `floor` (the least statement, each job decoded from
    /// its text) or `jobsess`.
    async fn entries(&self, side: &str) {
        match side {
            "floor" => {
                let rows: Vec<(String, String)> =
                    sqlx::query_as(include_str!("floors/sqlite/owners_entries.sql"))
                        .bind(&self.raw_owner)
                        .bind(black_box("job"))
                        .fetch_all(&self.pool)
                        .await
                        .expect("SELECT");
                let entries: Vec<(String, TranscriptionJob)> = rows
                    .into_iter()
                    .map(|(id, data)| (id, serde_json::from_str(&data).expect("a job")))
                    .collect();
                assert_eq!(black_box(entries).len(), 1_000);
            }
            "jobsess" => {
                let entries = self.jobs.entries().await.expect("lists");
                assert_eq!(black_box(entries).len(), 1_000);
            }
            _ => panic!("no side {side} of sqlite_entries"),
        }
    }
}
