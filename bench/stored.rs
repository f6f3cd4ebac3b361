//! A million stored jobs: what jobsess's layout costs in Redis memory and
//! PostgreSQL disk, beside the same data stored by hand, each on a server
//! of the bench's own (a `redis-server` and an `initdb` cluster on free
//! ports, never the shared ones). The jobs are the demo's metadata
//! (job-123), ten to an owner, with the demo's 24 h expiry on both sides.
//! - Redis: `used_memory` (`INFO memory`) grown by the jobs, over their
//!   count. The floor is one hash per job (a field per member, its JSON,
//!   as jobsess keeps them), with the same key and expiry, and no index.
//! - PostgreSQL: the table's size with its indexes and TOAST
//!   (`pg_total_relation_size`) after `VACUUM`, over the count. The floor
//!   is one row per job: owner, id and a `jsonb` column, its primary key
//!   on (owner, id).
//!
//! `cargo bench -p jobsess-lab --bench stored`; `JOBSESS_STORED_JOBS=N`
//! stores N jobs instead of 1,000,000. BENCHMARKS.md has the results.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use jobsess::AsyncJobSession;
use jobsess::store::JobStore;

#[allow(dead_code)] // the benches share `common`; this one uses a part of it
mod common;
#[allow(dead_code)] // the tests' servers of their own; this bench starts two
#[path = "../tests/it/servers.rs"]
mod servers;

use common::job::{TranscriptionJob, job_123};

/// The demo's expiry.
const TTL: Duration = Duration::from_secs(24 * 3600);
/// Jobs an owner.
const PER_OWNER: usize = 10;

/// Owner `o`'s token.
fn token(o: usize) -> String {
    format!("owner-of-stored-{o:07}")
}

/// Job `j`'s id (of its owner's ten).
fn id(j: usize) -> String {
    format!("job-{j}")
}

/// Stores `count` jobs, ten to an owner, through `store`, 32 at a time.
async fn seed<E: JobStore>(store: &E, count: usize) {
    let job = job_123();
    let started = Instant::now();
    let owners = count.div_ceil(PER_OWNER);
    futures_util::stream::iter(0..owners)
        .map(|o| {
            let job = &job;
            async move {
                let jobs = AsyncJobSession::<TranscriptionJob, _>::new(
                    store.owner(&token(o)).expect("an owner"),
                );
                for j in 0..PER_OWNER.min(count - o * PER_OWNER) {
                    jobs.store(&id(j), job).await.expect("stores");
                }
            }
        })
        .buffer_unordered(32)
        .collect::<()>()
        .await;
    eprintln!(
        "stored {count} jobs in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// `used_memory` of the Redis `client` talks to.
async fn used_memory(client: &fred::clients::Client) -> u64 {
    use fred::interfaces::ClientLike;
    let info: String = client
        .info(Some(fred::types::InfoKind::Memory))
        .await
        .expect("INFO");
    info.lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("used_memory")
}

/// The floor's hash of a job: each member's JSON, as jobsess keeps it.
fn members() -> Vec<(String, String)> {
    let serde_json::Value::Object(members) = serde_json::to_value(job_123()).expect("JSON") else {
        unreachable!("a struct is an object")
    };
    members
        .into_iter()
        .map(|(name, value)| (name, value.to_string()))
        .collect()
}

#[allow(clippy::cast_precision_loss)]
fn per_job(bytes: u64, count: usize) -> f64 {
    bytes as f64 / count as f64
}

async fn redis(count: usize) {
    use fred::interfaces::{ClientLike, HashesInterface, KeysInterface, MemoryInterface};
    let Some(server) = servers::OwnRedis::start() else {
        println!("stored_redis: skipped: no redis-server on the PATH");
        return;
    };
    let url = format!("redis://127.0.0.1:{}", server.1);
    let raw = fred::clients::Client::new(
        fred::types::config::Config::from_url(&url).expect("a URL"),
        None,
        None,
        None,
    );
    raw.init().await.expect("Redis answers");
    let namespace = "jobsess";
    let store = jobsess::redis::RedisJobStore::connect(&url)
        .await
        .expect("Redis answers")
        .with_namespace(namespace)
        .with_ttl(TTL);

    let empty = used_memory(&raw).await;
    seed(&store, count).await;
    let ours = used_memory(&raw).await - empty;
    let key = |o: usize, j: usize| format!("{namespace}:{{{}}}:job_{}", token(o), id(j));
    let hash_ours: u64 = raw
        .memory_usage(key(0, 0), Some(0))
        .await
        .expect("MEMORY USAGE");
    let index_ours: u64 = raw
        .memory_usage(format!("{namespace}:{{{}}}", token(0)), Some(0))
        .await
        .expect("MEMORY USAGE");
    let () = raw.flushall(false).await.expect("FLUSHALL");

    // the floor: the same keys, one hash each, the same expiry; pipelined
    let empty = used_memory(&raw).await;
    let members = members();
    let started = Instant::now();
    for start in (0..count).step_by(1_000) {
        let pipeline = raw.pipeline();
        for n in start..(start + 1_000).min(count) {
            let k = key(n / PER_OWNER, n % PER_OWNER);
            let () = pipeline.hset(&k, members.clone()).await.expect("queued");
            let () = pipeline
                .expire(&k, TTL.as_secs() as i64, None)
                .await
                .expect("queued");
        }
        let _: Vec<fred::types::Value> = pipeline.all().await.expect("HSET");
    }
    eprintln!(
        "stored {count} hashes by hand in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let floor = used_memory(&raw).await - empty;
    let hash_floor: u64 = raw
        .memory_usage(key(0, 0), Some(0))
        .await
        .expect("MEMORY USAGE");
    println!(
        "stored_redis/{count}: floor {:.0} B a job, jobsess {:.0} B a job, ratio {:.2}x \
         (a job's hash: floor {hash_floor} B, jobsess {hash_ours} B; an owner's index of {PER_OWNER}: {index_ours} B)",
        per_job(floor, count),
        per_job(ours, count),
        ours as f64 / floor as f64
    );
}

async fn postgres(count: usize) {
    if servers::no_postgres_bin().is_some() {
        println!("stored_postgres: skipped: no initdb and pg_ctl");
        return;
    }
    let server = servers::OwnPostgres::start();
    let store = jobsess::postgres::PostgresJobStore::connect(&server.url())
        .await
        .expect("PostgreSQL answers")
        .with_ttl(TTL);
    store.migrate().await.expect("migrates");
    let pool = store.pool().clone();
    seed(&store, count).await;
    // the floor: the same data, one row a job with a jsonb column
    sqlx::query(
        "CREATE TABLE floor (owner text NOT NULL, id text NOT NULL, data jsonb NOT NULL, \
         PRIMARY KEY (owner, id))",
    )
    .execute(&pool)
    .await
    .expect("CREATE TABLE");
    sqlx::query("INSERT INTO floor SELECT owner, prefix || '_' || id, data FROM jobsess.jobs")
        .execute(&pool)
        .await
        .expect("INSERT");
    sqlx::query("VACUUM ANALYZE")
        .execute(&pool)
        .await
        .expect("VACUUM");
    let size = |table: &'static str| {
        let pool = pool.clone();
        async move {
            let (total, heap): (i64, i64) = sqlx::query_as(
                "SELECT pg_total_relation_size($1::regclass), pg_relation_size($1::regclass)",
            )
            .bind(table)
            .fetch_one(&pool)
            .await
            .expect("sizes");
            (
                u64::try_from(total).expect("a size"),
                u64::try_from(heap).expect("a size"),
            )
        }
    };
    let ((ours, ours_heap), (floor, floor_heap)) =
        (size("jobsess.jobs").await, size("floor").await);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM floor")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(rows, count as i64);
    println!(
        "stored_postgres/{count}: floor {:.0} B a job, jobsess {:.0} B a job, ratio {:.2}x \
         (the heap alone: floor {:.0} B, jobsess {:.0} B; indexes and TOAST: floor {:.0} B, jobsess {:.0} B)",
        per_job(floor, count),
        per_job(ours, count),
        ours as f64 / floor as f64,
        per_job(floor_heap, count),
        per_job(ours_heap, count),
        per_job(floor - floor_heap, count),
        per_job(ours - ours_heap, count),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // only build
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let count: usize = std::env::var("JOBSESS_STORED_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        redis(count).await;
        postgres(count).await;
    });
}
