//! The SQLite job store against the least hand-written sqlx statement that
//! does the same work, on the same pool and table; and, with
//! `JOBSESS_BENCH_WATCH=1`, how long a write in another process takes to
//! reach an SSE client, and what the watchers' poll costs an idle process.
//!
//! `cargo bench -p jobsess-lab --bench sqlite` runs criterion groups (no service: the
//! database is a file under `target/`); with `JOBSESS_BENCH_PAIRED=1` the
//! pairs run in alternating rounds instead (`benches/common/pairs.rs`).
//! BENCHMARKS.md has the results.
//!
//! What the floors do, each in one statement with bind parameters: the
//! same row, the same live filter on `expires_at`, the same renewal of the
//! expiry and new revision on a write (the store's triggers run for both
//! sides). What they leave out is what jobsess adds: the object check of
//! a field write, the write's deadline, the version check of a whole
//! write, and the `RETURNING` row that tells a missing job apart.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::Criterion;
use jobsess::sqlite::{SqliteJobStore, SqliteOwnerJobs};
use jobsess::{AsyncJobSession, JobMetadata};
use sqlx::{Row, SqlitePool};

#[allow(dead_code)] // the benches share `common`; this one uses a part of it
mod common;
use common::job::{ID, PluginInfo, TranscriptionJob, job_123};
use common::pairs::{self, Pair};

const TTL: f64 = 24.0 * 3600.0;

/// The floors: the least statements that do each operation's work on the
/// store's own table, by hand (the raw owner's rows).
mod floor {
    pub const INCREMENT: &str = include_str!("floors/sqlite/increment_field.sql");
    pub const LOAD: &str = include_str!("floors/sqlite/load.sql");
    pub const LOAD_FIELD: &str = include_str!("floors/sqlite/load_field.sql");
    pub const STORE_FIELD: &str = include_str!("floors/sqlite/store_field.sql");
    pub const STORE: &str = include_str!("floors/sqlite/store.sql");
    pub const DELETE: &str = include_str!("floors/sqlite/delete.sql");
    pub const IDS: &str = include_str!("floors/sqlite/ids.sql");
    pub const READ_REVISION: &str = include_str!("floors/sqlite/read_revision.sql");
    pub const WRITE_IF_REVISION: &str = include_str!("floors/sqlite/write_if_revision.sql");
}

/// A fresh database file under `target/`, its leftovers of an earlier run
/// removed.
fn fresh_file(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-sqlite");
    std::fs::create_dir_all(&dir).expect("target/bench-sqlite");
    let path = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

/// A counter job, for `increment_field`: the same prefix as the
/// workload's jobs, so that the floor's row is found the same way.
#[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
#[job_metadata(prefix = "job")]
struct Tally {
    n: i64,
}

/// The pool, a jobsess owner and a raw owner (the floors' rows), each
/// with job-123, 9 more jobs and a counter.
struct Setup {
    pool: SqlitePool,
    jobs: AsyncJobSession<TranscriptionJob, SqliteOwnerJobs>,
    tally: AsyncJobSession<Tally, SqliteOwnerJobs>,
    raw_owner: String,
}

fn setup(rt: &tokio::runtime::Runtime) -> Setup {
    rt.block_on(async {
        let store = SqliteJobStore::open(fresh_file("operations.db"))
            .await
            .expect("opens")
            .with_ttl(Duration::from_secs_f64(TTL));
        let pool = store.pool().clone();
        let token = SqliteJobStore::new_owner_token().expect("a token");
        let jobs = AsyncJobSession::new(store.owner(&token).expect("an owner"));
        let raw_owner = SqliteJobStore::new_owner_token().expect("a token");
        let job = job_123();
        for i in 0..10 {
            let id = if i == 0 {
                ID.to_owned()
            } else {
                format!("job-{i}")
            };
            jobs.store(&id, &job).await.expect("stores");
            sqlx::query(floor::STORE)
                .bind(&raw_owner)
                .bind(TranscriptionJob::key_prefix())
                .bind(&id)
                .bind(serde_json::to_string(&job).expect("JSON"))
                .bind(TTL)
                .execute(&pool)
                .await
                .expect("INSERT");
        }
        let tally = AsyncJobSession::new(store.owner(&token).expect("an owner"));
        tally.store("tally", &Tally { n: 0 }).await.expect("stores");
        sqlx::query(floor::STORE)
            .bind(&raw_owner)
            .bind(TranscriptionJob::key_prefix())
            .bind("tally")
            .bind("{\"n\":0}")
            .bind(TTL)
            .execute(&pool)
            .await
            .expect("INSERT");
        Setup {
            pool,
            jobs,
            tally,
            raw_owner,
        }
    })
}

fn sqlite_operations(c: &mut Criterion) {
    let rt = common::one_worker();
    let Setup {
        pool,
        jobs,
        tally,
        raw_owner,
    } = setup(&rt);
    let (pool, jobs, tally, raw_owner) = (&pool, &jobs, &tally, raw_owner.as_str());
    let prefix = TranscriptionJob::key_prefix();
    let job = &job_123();
    let prefs = &job.user_preferences;
    // the store's own removal statement, run by hand: what its SQL (the
    // deadline, the RETURNING row) costs beside the floor's, without
    // jobsess's Rust around it
    let remove_sql = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../jobsess/src/sqlite/sql/remove.sql"
    ))
    .expect("the statement's file")
    .replace("{jobs}", "\"jobsess_jobs\"");
    let remove_sql = remove_sql.as_str();
    let increment_sql = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../jobsess/src/sqlite/sql/increment_field.sql"
    ))
    .expect("the statement's file")
    .replace("{jobs}", "\"jobsess_jobs\"")
    .replace("{revisions}", "\"jobsess_jobs_revision\"");
    let increment_sql = increment_sql.as_str();
    let pairs = [
        Pair::new(
            "sqlite_load",
            move || async move {
                let row = sqlx::query(floor::LOAD)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box(ID))
                    .fetch_optional(pool)
                    .await
                    .expect("SELECT")
                    .expect("a row");
                let job: TranscriptionJob =
                    serde_json::from_str(row.get::<&str, _>(0)).expect("a job");
                black_box(job);
            },
            move || async move {
                black_box(
                    jobs.load(black_box(ID))
                        .await
                        .expect("loads")
                        .expect("a job"),
                );
            },
        ),
        Pair::new(
            "sqlite_load_field",
            move || async move {
                let row = sqlx::query(floor::LOAD_FIELD)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box(ID))
                    .bind("$.\"plugin_info\"")
                    .fetch_optional(pool)
                    .await
                    .expect("SELECT")
                    .expect("a row");
                let plugin: PluginInfo =
                    serde_json::from_str(row.get::<&str, _>(0)).expect("a field");
                black_box(plugin);
            },
            move || async move {
                black_box(
                    jobs.load_field(black_box(ID), TranscriptionJob::PLUGIN_INFO)
                        .await
                        .expect("loads"),
                );
            },
        ),
        Pair::new(
            "sqlite_store_field",
            move || async move {
                let done = sqlx::query(floor::STORE_FIELD)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box(ID))
                    .bind("$.\"user_preferences\"")
                    .bind(serde_json::to_string(prefs).expect("JSON"))
                    .bind(TTL)
                    .execute(pool)
                    .await
                    .expect("UPDATE");
                assert_eq!(done.rows_affected(), 1);
            },
            move || async move {
                jobs.store_field(black_box(ID), TranscriptionJob::USER_PREFERENCES, prefs)
                    .await
                    .expect("stores");
            },
        ),
        Pair::new(
            "sqlite_store",
            move || async move {
                sqlx::query(floor::STORE)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box(ID))
                    .bind(serde_json::to_string(job).expect("JSON"))
                    .bind(TTL)
                    .execute(pool)
                    .await
                    .expect("INSERT");
            },
            move || async move {
                jobs.store(black_box(ID), job).await.expect("stores");
            },
        ),
        Pair::new(
            "sqlite_delete",
            move || async move {
                sqlx::query(floor::DELETE)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box("gone"))
                    .execute(pool)
                    .await
                    .expect("DELETE");
            },
            move || async move {
                black_box(jobs.delete(black_box("gone")).await.expect("deletes"));
            },
        ),
        Pair::new(
            "sqlite_ids",
            move || async move {
                let ids: Vec<String> = sqlx::query_scalar(floor::IDS)
                    .bind(raw_owner)
                    .bind(prefix)
                    .fetch_all(pool)
                    .await
                    .expect("SELECT");
                // 9 jobs and the tally, and job-123 unless the delete
                // pair ran first
                assert!((10..=11).contains(&ids.len()), "{}", ids.len());
            },
            move || async move {
                let ids = jobs.ids().await.expect("lists");
                assert!((10..=11).contains(&ids.len()), "{}", ids.len());
            },
        ),
        Pair::new(
            "sqlite_increment_field",
            move || async move {
                let n: Vec<i64> = sqlx::query_scalar(floor::INCREMENT)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box("tally"))
                    .bind("$.\"n\"")
                    .bind(1)
                    .bind(TTL)
                    .fetch_all(pool)
                    .await
                    .expect("UPDATE");
                black_box(n);
            },
            move || async move {
                black_box(
                    tally
                        .increment_field(black_box("tally"), Tally::N, 1)
                        .await
                        .expect("adds"),
                );
            },
        ),
        Pair::new(
            "sqlite_update_field",
            move || async move {
                // read the job and its revision, change one field, write if
                // the revision is unchanged
                let row = sqlx::query(floor::READ_REVISION)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box(ID))
                    .fetch_one(pool)
                    .await
                    .expect("SELECT");
                let mut job: TranscriptionJob =
                    serde_json::from_str(row.get::<&str, _>(0)).expect("a job");
                let revision: i64 = row.get(1);
                job.user_preferences.format = "vtt".into();
                let done = sqlx::query(floor::WRITE_IF_REVISION)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box(ID))
                    .bind(serde_json::to_string(&job).expect("JSON"))
                    .bind(TTL)
                    .bind(revision)
                    .execute(pool)
                    .await
                    .expect("UPDATE");
                assert_eq!(done.rows_affected(), 1);
            },
            move || async move {
                jobs.update_field(black_box(ID), TranscriptionJob::USER_PREFERENCES, |p| {
                    p.format = "vtt".into();
                })
                .await
                .expect("updates");
            },
        ),
    ];
    let pairs: Vec<Pair<'_>> = pairs
        .into_iter()
        .chain([
            Pair::new(
                "sqlite_delete_statement",
                move || async move {
                    sqlx::query(floor::DELETE)
                        .bind(raw_owner)
                        .bind(prefix)
                        .bind(black_box("gone"))
                        .execute(pool)
                        .await
                        .expect("DELETE");
                },
                move || async move {
                    let deadline = unix_micros() as f64 / 1e6 + 2.0;
                    let rows = sqlx::query(remove_sql)
                        .bind(raw_owner)
                        .bind(prefix)
                        .bind(black_box("gone"))
                        .bind(deadline)
                        .fetch_all(pool)
                        .await
                        .expect("DELETE");
                    assert!(rows.is_empty());
                },
            )
            .floor(),
            Pair::new(
                "sqlite_increment_statement",
                move || async move {
                    let n: Vec<i64> = sqlx::query_scalar(floor::INCREMENT)
                        .bind(raw_owner)
                        .bind(prefix)
                        .bind(black_box("tally"))
                        .bind("$.\"n\"")
                        .bind(1)
                        .bind(TTL)
                        .fetch_all(pool)
                        .await
                        .expect("UPDATE");
                    black_box(n);
                },
                move || async move {
                    let deadline = unix_micros() as f64 / 1e6 + 2.0;
                    let rows = sqlx::query(increment_sql)
                        .bind(raw_owner)
                        .bind(prefix)
                        .bind(black_box("tally"))
                        .bind("$.\"n\"")
                        .bind(1i64)
                        .bind(i64::MIN)
                        .bind(i64::MAX)
                        .bind(Some(0i64))
                        .bind(TTL)
                        .bind(deadline)
                        .fetch_all(pool)
                        .await
                        .expect("UPDATE");
                    assert_eq!(rows.len(), 1);
                },
            )
            .floor(),
        ])
        .collect();
    pairs::run(c, &rt, &pairs);
}

/// What the writer process writes: when it wrote, in unix microseconds.
#[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
#[job_metadata(prefix = "probe")]
struct Probe {
    at: u64,
}

/// The owner of the probe job, in both processes.
const PROBE_OWNER: &str = "sqlite-bench-probe-owner";

/// How many writes the writer makes, and how often.
const WRITES: usize = 300;
const WRITE_EVERY: Duration = Duration::from_millis(20);

fn unix_micros() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    u64::try_from(since.as_micros()).expect("a u64")
}

/// The writer process: [`WRITES`] field writes of the time, to the probe
/// job in the file at `path`.
fn writer(path: &str) {
    let rt = common::one_worker();
    rt.block_on(async {
        let store = SqliteJobStore::open(path).await.expect("opens");
        let probe = AsyncJobSession::<Probe, _>::new(store.owner(PROBE_OWNER).expect("an owner"));
        for _ in 0..WRITES {
            tokio::time::sleep(WRITE_EVERY).await;
            probe
                .store_field("probe", Probe::AT, &unix_micros())
                .await
                .expect("writes");
        }
    });
}

/// This process's CPU time so far (user and system), from `/proc`.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("stat")
        .1
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15, in clock ticks (100 a second)
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}

/// A write in another process to an SSE client of this one: p50 and p99
/// over [`WRITES`] writes; then this process's CPU while idle, with the
/// watcher's poll running and without it.
fn cross_process_watch() {
    let rt = common::one_worker();
    let path = fresh_file("watch.db");
    rt.block_on(async {
        let store = SqliteJobStore::open(&path).await.expect("opens");
        let probe = AsyncJobSession::<Probe, _>::new(store.owner(PROBE_OWNER).expect("an owner"));
        // idle, no watcher: the baseline of the CPU figure
        let idle = Duration::from_secs(5);
        let before = cpu_time();
        tokio::time::sleep(idle).await;
        let unwatched = cpu_time() - before;

        probe.store("probe", &Probe { at: 0 }).await.expect("stores");
        let app = axum::Router::new().route(
            "/events",
            axum::routing::get(move || {
                let probe = probe.clone();
                async move {
                    let at = probe.watch_field("probe", Probe::AT).await.expect("watches");
                    jobsess::axum::sse(at)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let url = format!("http://{}/events", listener.local_addr().expect("an address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let mut events = reqwest::get(&url).await.expect("the stream opens");
        let mut child = std::process::Command::new(std::env::current_exe().expect("this bench"))
            .env("JOBSESS_SQLITE_WRITER", &path)
            .spawn()
            .expect("the writer starts");
        let mut latencies = Vec::new();
        let mut buffer = String::new();
        let until = Instant::now() + WRITE_EVERY * u32::try_from(WRITES).expect("few") + Duration::from_secs(10);
        while latencies.len() < WRITES && Instant::now() < until {
            let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(5), events.chunk()).await else {
                break;
            };
            let arrived = unix_micros();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                let at = event
                    .lines()
                    .find_map(|line| line.strip_prefix("data: "))
                    .and_then(|data| data.trim().parse::<u64>().ok());
                if let Some(at) = at.filter(|at| *at > 0) {
                    latencies.push(arrived.saturating_sub(at));
                }
            }
        }
        let _ = child.wait();
        latencies.sort_unstable();
        let at = |q: f64| {
            let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
            latencies.get(i).map_or(f64::NAN, |us| *us as f64 / 1000.0)
        };
        println!(
            "sqlite_watch_cross_process: {} of {WRITES} writes seen, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            latencies.len(),
            at(0.5),
            at(0.99),
            at(1.0)
        );
        // idle with the stream open: the poll runs every 10 ms
        let before = cpu_time();
        tokio::time::sleep(idle).await;
        let watched = cpu_time() - before;
        println!(
            "sqlite_watch_idle_cpu: {:.2} % of a core with a watcher (the poll), {:.2} % without",
            watched.as_secs_f64() / idle.as_secs_f64() * 100.0,
            unwatched.as_secs_f64() / idle.as_secs_f64() * 100.0
        );
        drop(events);
    });
}

fn main() {
    if let Ok(path) = std::env::var("JOBSESS_SQLITE_WRITER") {
        writer(&path);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    sqlite_operations(&mut c);
    if std::env::var_os("JOBSESS_BENCH_WATCH").is_some() {
        cross_process_watch();
    }
    c.final_summary();
}
