//! One owner with many jobs: `ids()`, `entries()` and `clear()` of an
//! owner with 100, 1,000 and 10,000 jobs, against the least statement
//! that does the same work on the same table, on SQLite (a file under
//! `target/`), with `REDIS_URL` Redis (a namespace of the bench's own)
//! and, with `DATABASE_URL`, PostgreSQL (a schema of the bench's own).
//! Prints one line per engine, operation and size: the median of five
//! runs of each side, and their ratio.
//! `cargo bench -p jobsess-lab --bench owners`. BENCHMARKS.md has the
//! results.

use std::time::{Duration, Instant};

use jobsess::{AsyncJobSession, JobMetadata};

#[allow(dead_code)] // the benches share `common`; this one uses a part of it
mod common;
use common::job::{TranscriptionJob, job_123};

/// How many jobs the owner has.
const SIZES: [usize; 3] = [100, 1_000, 10_000];
/// Runs of each side; the figure is their median.
const RUNS: usize = 5;

/// The median of `times`.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// One line of the report.
fn report(engine: &str, op: &str, size: usize, floor: Duration, jobsess: Duration) {
    println!(
        "owners_{engine}_{op}/{size}: floor {:.2} ms, jobsess {:.2} ms, ratio {:.2}x",
        floor.as_secs_f64() * 1e3,
        jobsess.as_secs_f64() * 1e3,
        jobsess.as_secs_f64() / floor.as_secs_f64()
    );
}

/// Stores `size` jobs for `jobs`' owner.
async fn seed<B: jobsess::AsyncSessionBackend>(
    jobs: &AsyncJobSession<TranscriptionJob, B>,
    size: usize,
) {
    let job = job_123();
    for i in 0..size {
        jobs.store(&format!("job-{i:05}"), &job)
            .await
            .expect("stores");
    }
}

/// The SQLite floors, on the store's own table.
mod sqlite_floor {
    pub const IDS: &str = include_str!("floors/sqlite/ids.sql");
    pub const ENTRIES: &str = include_str!("floors/sqlite/owners_entries.sql");
    pub const CLEAR: &str = include_str!("floors/sqlite/owners_clear.sql");
}

/// The PostgreSQL floors, on the store's own table.
mod postgres_floor {
    pub const IDS: &str = include_str!("floors/postgres/owners_ids.sql");
    pub const ENTRIES: &str = include_str!("floors/postgres/owners_entries.sql");
    pub const CLEAR: &str = include_str!("floors/postgres/owners_clear.sql");
}

async fn sqlite() {
    use jobsess::sqlite::SqliteJobStore;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-sqlite");
    std::fs::create_dir_all(&dir).expect("target/bench-sqlite");
    let path = dir.join("owners.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = SqliteJobStore::open(&path).await.expect("opens");
    let pool = store.pool().clone();
    let prefix = TranscriptionJob::key_prefix();
    for size in SIZES {
        let token = SqliteJobStore::new_owner_token().expect("a token");
        let raw_owner = SqliteJobStore::new_owner_token().expect("a token");
        let jobs = AsyncJobSession::new(store.owner(&token).expect("an owner"));
        let raw = AsyncJobSession::new(store.owner(&raw_owner).expect("an owner"));
        seed(&jobs, size).await;
        seed(&raw, size).await;
        let (mut floor, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let started = Instant::now();
            let ids: Vec<String> = sqlx::query_scalar(sqlite_floor::IDS)
                .bind(&raw_owner)
                .bind(prefix)
                .fetch_all(&pool)
                .await
                .expect("SELECT");
            floor.push(started.elapsed());
            assert_eq!(ids.len(), size);
            let started = Instant::now();
            assert_eq!(jobs.ids().await.expect("lists").len(), size);
            ours.push(started.elapsed());
        }
        report("sqlite", "ids", size, median(floor), median(ours));
        let (mut floor, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let started = Instant::now();
            let rows: Vec<(String, String)> = sqlx::query_as(sqlite_floor::ENTRIES)
                .bind(&raw_owner)
                .bind(prefix)
                .fetch_all(&pool)
                .await
                .expect("SELECT");
            let entries: Vec<(String, TranscriptionJob)> = rows
                .into_iter()
                .map(|(id, data)| (id, serde_json::from_str(&data).expect("a job")))
                .collect();
            floor.push(started.elapsed());
            assert_eq!(entries.len(), size);
            let started = Instant::now();
            assert_eq!(jobs.entries().await.expect("lists").len(), size);
            ours.push(started.elapsed());
        }
        report("sqlite", "entries", size, median(floor), median(ours));
        let (mut floor, mut ours) = (Vec::new(), Vec::new());
        for run in 0..RUNS {
            if run > 0 {
                seed(&jobs, size).await;
                seed(&raw, size).await;
            }
            let started = Instant::now();
            let done = sqlx::query(sqlite_floor::CLEAR)
                .bind(&raw_owner)
                .bind(prefix)
                .execute(&pool)
                .await
                .expect("DELETE");
            floor.push(started.elapsed());
            assert_eq!(done.rows_affected(), size as u64);
            let started = Instant::now();
            assert_eq!(jobs.clear().await.expect("clears"), size);
            ours.push(started.elapsed());
        }
        report("sqlite", "clear", size, median(floor), median(ours));
    }
}

async fn postgres(url: &str) {
    use jobsess::postgres::PostgresJobStore;
    use sqlx::types::Json;
    let store = PostgresJobStore::connect(url)
        .await
        .expect("PostgreSQL answers")
        .with_schema("jobsess_bench_owners");
    store.migrate().await.expect("migrates");
    let pool = store.pool().clone();
    sqlx::query("TRUNCATE jobsess_bench_owners.jobs")
        .execute(&pool)
        .await
        .expect("TRUNCATE");
    let prefix = TranscriptionJob::key_prefix();
    for size in SIZES {
        let token = PostgresJobStore::new_owner_token().expect("a token");
        let raw_owner = PostgresJobStore::new_owner_token().expect("a token");
        let jobs = AsyncJobSession::new(store.owner(&token).expect("an owner"));
        let raw = AsyncJobSession::new(store.owner(&raw_owner).expect("an owner"));
        seed(&jobs, size).await;
        seed(&raw, size).await;
        let (mut floor, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let started = Instant::now();
            let ids: Vec<String> = sqlx::query_scalar(postgres_floor::IDS)
                .bind(&raw_owner)
                .bind(prefix)
                .fetch_all(&pool)
                .await
                .expect("SELECT");
            floor.push(started.elapsed());
            assert_eq!(ids.len(), size);
            let started = Instant::now();
            assert_eq!(jobs.ids().await.expect("lists").len(), size);
            ours.push(started.elapsed());
        }
        report("postgres", "ids", size, median(floor), median(ours));
        let (mut floor, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let started = Instant::now();
            let rows: Vec<(String, Json<TranscriptionJob>)> =
                sqlx::query_as(postgres_floor::ENTRIES)
                    .bind(&raw_owner)
                    .bind(prefix)
                    .fetch_all(&pool)
                    .await
                    .expect("SELECT");
            floor.push(started.elapsed());
            assert_eq!(rows.len(), size);
            let started = Instant::now();
            assert_eq!(jobs.entries().await.expect("lists").len(), size);
            ours.push(started.elapsed());
        }
        report("postgres", "entries", size, median(floor), median(ours));
        let (mut floor, mut ours) = (Vec::new(), Vec::new());
        for run in 0..RUNS {
            if run > 0 {
                seed(&jobs, size).await;
                seed(&raw, size).await;
            }
            let started = Instant::now();
            let done = sqlx::query(postgres_floor::CLEAR)
                .bind(&raw_owner)
                .bind(prefix)
                .execute(&pool)
                .await
                .expect("DELETE");
            floor.push(started.elapsed());
            assert_eq!(done.rows_affected(), size as u64);
            let started = Instant::now();
            assert_eq!(jobs.clear().await.expect("clears"), size);
            ours.push(started.elapsed());
        }
        report("postgres", "clear", size, median(floor), median(ours));
    }
}

/// The job a hash's fields spell, by hand: each field's JSON, less the
/// store's own members (named with a leading NUL).
fn job_of_hash(pairs: Vec<(String, String)>) -> TranscriptionJob {
    let object: serde_json::Map<String, serde_json::Value> = pairs
        .into_iter()
        .filter(|(field, _)| !field.starts_with('\0'))
        .map(|(field, json)| (field, serde_json::from_str(&json).expect("JSON")))
        .collect();
    serde_json::from_value(serde_json::Value::Object(object)).expect("a job")
}

/// Redis: the floors are the plain commands on the store's own keys (the
/// owner's index, `ZRANGE`; its job hashes, `HGETALL` in one pipeline;
/// `DEL` of them all), on a namespace of the bench's own.
async fn redis(url: &str) {
    use fred::interfaces::{ClientLike, HashesInterface, KeysInterface, SortedSetsInterface};
    use jobsess::redis::RedisJobStore;
    let store = RedisJobStore::connect(url)
        .await
        .expect("Redis answers")
        .with_namespace("jobsess-bench-owners");
    let raw = fred::clients::Client::new(
        fred::types::config::Config::from_url(url).expect("a Redis URL"),
        None,
        None,
        None,
    );
    raw.init().await.expect("Redis answers");
    for size in SIZES {
        let token = RedisJobStore::new_owner_token().expect("a token");
        let raw_owner = RedisJobStore::new_owner_token().expect("a token");
        let jobs = AsyncJobSession::new(store.owner(&token).expect("an owner"));
        let raw_jobs = AsyncJobSession::new(store.owner(&raw_owner).expect("an owner"));
        let index = format!("jobsess-bench-owners:{{{raw_owner}}}");
        seed(&jobs, size).await;
        seed(&raw_jobs, size).await;
        let (mut floor, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let started = Instant::now();
            let mut ids: Vec<String> = raw
                .zrange(&index, 0, -1, None, false, None, false)
                .await
                .expect("ZRANGE");
            // sorted, as `ids()` answers (the SQL floors `ORDER BY id`)
            ids.sort_unstable();
            floor.push(started.elapsed());
            assert_eq!(ids.len(), size);
            let started = Instant::now();
            assert_eq!(jobs.ids().await.expect("lists").len(), size);
            ours.push(started.elapsed());
        }
        report("redis", "ids", size, median(floor), median(ours));
        let (mut floor, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let started = Instant::now();
            let mut keys: Vec<String> = raw
                .zrange(&index, 0, -1, None, false, None, false)
                .await
                .expect("ZRANGE");
            keys.sort_unstable();
            let pipeline = raw.pipeline();
            for key in &keys {
                let () = pipeline
                    .hgetall(format!("{index}:{key}"))
                    .await
                    .expect("queued");
            }
            let hashes: Vec<Vec<(String, String)>> = pipeline.all().await.expect("HGETALL");
            let entries: Vec<(String, TranscriptionJob)> = keys
                .into_iter()
                .zip(hashes)
                .map(|(key, pairs)| (key, job_of_hash(pairs)))
                .collect();
            floor.push(started.elapsed());
            assert_eq!(entries.len(), size);
            let started = Instant::now();
            assert_eq!(jobs.entries().await.expect("lists").len(), size);
            ours.push(started.elapsed());
        }
        report("redis", "entries", size, median(floor), median(ours));
        let (mut floor, mut ours) = (Vec::new(), Vec::new());
        for run in 0..RUNS {
            if run > 0 {
                seed(&jobs, size).await;
                seed(&raw_jobs, size).await;
            }
            let started = Instant::now();
            let keys: Vec<String> = raw
                .zrange(&index, 0, -1, None, false, None, false)
                .await
                .expect("ZRANGE");
            let mut doomed: Vec<String> = keys.iter().map(|key| format!("{index}:{key}")).collect();
            doomed.push(index.clone());
            let removed: i64 = raw.del(doomed).await.expect("DEL");
            floor.push(started.elapsed());
            assert_eq!(removed, size as i64 + 1);
            let started = Instant::now();
            assert_eq!(jobs.clear().await.expect("clears"), size);
            ours.push(started.elapsed());
        }
        report("redis", "clear", size, median(floor), median(ours));
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // only build
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let rt = common::one_worker();
    rt.block_on(async {
        match std::env::var("REDIS_URL") {
            Ok(url) => redis(&url).await,
            Err(_) => println!("owners_redis_*: skipped: set REDIS_URL"),
        }
        sqlite().await;
        match std::env::var("DATABASE_URL") {
            Ok(url) => postgres(&url).await,
            Err(_) => println!("owners_postgres_*: skipped: set DATABASE_URL"),
        }
    });
}
