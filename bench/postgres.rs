//! The PostgreSQL job store against the least hand-written sqlx statement
//! that does the same work, on the same pool, and against what a user
//! would use instead (tower-sessions-sqlx-store, the job in the session
//! record); then an axum route through each over real sockets.
//!
//! `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p jobsess-lab --bench postgres`
//! runs criterion groups; with `JOBSESS_BENCH_PAIRED=1` the pairs run in
//! alternating rounds instead (`benches/common/pairs.rs`), and
//! `JOBSESS_BENCH_HTTP=1` runs the HTTP comparison. BENCHMARKS.md has the
//! results.
//!
//! What the floors do, each in one statement with bind parameters: the
//! same row, the same live filter on `expires_at`, the same renewal of the
//! expiry and raise of the revision on a write. What they leave out is
//! what jobsess adds: the watch mark's check and NOTIFY, the write's
//! deadline, the version check of a whole write.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jobsess::postgres::PostgresJobStore;
use jobsess::{AsyncJobSession, JobMetadata};
use sqlx::types::Json;
use sqlx::{PgPool, Row};

#[allow(dead_code)] // the benches share `common`; this one uses a part of it
mod common;
use common::http::{compare, preferences_for, serve, through_jobsess};
use common::job::{ID, PluginInfo, TranscriptionJob, job_123};
use common::pairs::{self, Pair};

const TTL: f64 = 24.0 * 3600.0;
const SCHEMA: &str = "jobsess_bench";

/// The floors: the least statements that do each operation's work on the
/// store's own table, by hand (the raw owner's rows).
mod floor {
    pub const LOAD: &str = include_str!("floors/postgres/load.sql");
    pub const LOAD_FIELD: &str = include_str!("floors/postgres/load_field.sql");
    pub const STORE_FIELD: &str = include_str!("floors/postgres/store_field.sql");
    pub const STORE: &str = include_str!("floors/postgres/store.sql");
    pub const DELETE: &str = include_str!("floors/postgres/delete.sql");
    pub const IDS: &str = include_str!("floors/postgres/ids.sql");
    pub const READ_REVISION: &str = include_str!("floors/postgres/read_revision.sql");
    pub const WRITE_IF_REVISION: &str = include_str!("floors/postgres/write_if_revision.sql");
}

/// Everything a bench needs: the pool, the store on it, a jobsess owner
/// and a raw owner (the floors' rows), each with job-123 and 9 more jobs.
struct Setup {
    pool: PgPool,
    store: PostgresJobStore,
    jobs: AsyncJobSession<TranscriptionJob, jobsess::postgres::PostgresOwnerJobs>,
    raw_owner: String,
}

fn setup(rt: &tokio::runtime::Runtime, url: &str) -> Setup {
    rt.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect(url)
            .await
            .expect("PostgreSQL answers");
        let store = PostgresJobStore::new(pool.clone())
            .with_schema(SCHEMA)
            .with_ttl(Duration::from_secs_f64(TTL));
        store.migrate().await.expect("migrates");
        sqlx::query("TRUNCATE jobsess_bench.jobs")
            .execute(&pool)
            .await
            .expect("TRUNCATE");
        let token = PostgresJobStore::new_owner_token().expect("a token");
        let jobs = AsyncJobSession::new(store.owner(&token).expect("an owner"));
        let raw_owner = PostgresJobStore::new_owner_token().expect("a token");
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
                .bind(Json(&job))
                .bind(TTL)
                .execute(&pool)
                .await
                .expect("INSERT");
        }
        Setup {
            pool,
            store,
            jobs,
            raw_owner,
        }
    })
}

fn postgres_operations(c: &mut Criterion) {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("postgres_* groups skipped: set DATABASE_URL");
        return;
    };
    let rt = common::one_worker();
    let Setup {
        pool,
        store: _store,
        jobs,
        raw_owner,
    } = setup(&rt, &url);
    let (pool, jobs, raw_owner) = (&pool, &jobs, raw_owner.as_str());
    let prefix = TranscriptionJob::key_prefix();
    let job = &job_123();
    let prefs = &job.user_preferences;

    // the store's own field-write statement, run by hand: what its SQL
    // costs beside the floor's, without jobsess's Rust around it
    let set_field_sql = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../jobsess/src/postgres/sql/set_field.sql"
    ))
    .expect("the statement's file")
    .replace("{jobs}", "\"jobsess_bench\".\"jobs\"")
    .replace("{revisions}", "\"jobsess_bench\".\"jobs_revision\"");
    let set_field_sql = set_field_sql.as_str();
    // the floor of a field write, shared by two pairs
    let store_field_by_hand = move || async move {
        let done = sqlx::query(floor::STORE_FIELD)
            .bind(raw_owner)
            .bind(prefix)
            .bind(black_box(ID))
            .bind("user_preferences")
            .bind(Json(prefs))
            .bind(TTL)
            .execute(pool)
            .await
            .expect("UPDATE");
        assert_eq!(done.rows_affected(), 1);
    };
    let pairs = [
        Pair::new(
            "postgres_load",
            move || async move {
                let row = sqlx::query(floor::LOAD)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box(ID))
                    .fetch_optional(pool)
                    .await
                    .expect("SELECT")
                    .expect("a row");
                let Json(job): Json<TranscriptionJob> = row.get(0);
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
            "postgres_load_field",
            move || async move {
                let row = sqlx::query(floor::LOAD_FIELD)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box(ID))
                    .bind("plugin_info")
                    .fetch_optional(pool)
                    .await
                    .expect("SELECT")
                    .expect("a row");
                let Json(plugin): Json<PluginInfo> = row.get(0);
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
            "postgres_store_field",
            store_field_by_hand,
            move || async move {
                jobs.store_field(black_box(ID), TranscriptionJob::USER_PREFERENCES, prefs)
                    .await
                    .expect("stores");
            },
        ),
        Pair::new(
            "postgres_store",
            move || async move {
                sqlx::query(floor::STORE)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box(ID))
                    .bind(Json(job))
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
            "postgres_delete",
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
            "postgres_ids",
            move || async move {
                let ids: Vec<String> = sqlx::query_scalar(floor::IDS)
                    .bind(raw_owner)
                    .bind(prefix)
                    .fetch_all(pool)
                    .await
                    .expect("SELECT");
                assert_eq!(ids.len(), 10);
            },
            move || async move {
                assert_eq!(jobs.ids().await.expect("lists").len(), 10);
            },
        ),
        Pair::new(
            "postgres_update_field",
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
                let Json(mut job): Json<TranscriptionJob> = row.get(0);
                let revision: i64 = row.get(1);
                job.user_preferences.format = "vtt".into();
                let done = sqlx::query(floor::WRITE_IF_REVISION)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box(ID))
                    .bind(Json(&job))
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
        .chain([Pair::new(
            "postgres_store_field_statement",
            store_field_by_hand,
            move || async move {
                let rows = sqlx::query(set_field_sql)
                    .bind(raw_owner)
                    .bind(prefix)
                    .bind(black_box(ID))
                    .bind("user_preferences")
                    .bind(Json(prefs))
                    .bind(Vec::<String>::new())
                    .bind(TTL)
                    .bind(Duration::from_secs(2))
                    .bind("jobsess_bench")
                    .fetch_all(pool)
                    .await
                    .expect("UPDATE");
                assert_eq!(rows.len(), 1);
            },
        )
        .floor()])
        .collect();
    pairs::run(c, &rt, &pairs);
    instead_of(c, &rt, pool, jobs);
    if std::env::var_os("JOBSESS_BENCH_HTTP").is_some() {
        http(&rt, pool, &url);
    }
}

/// A one-field update of a job among 10, as a user would do it instead:
/// the 10 jobs in a tower-sessions session record in PostgreSQL
/// (tower-sessions-sqlx-store), see [`common::instead`].
fn instead_of(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    pool: &PgPool,
    jobs: &AsyncJobSession<TranscriptionJob, jobsess::postgres::PostgresOwnerJobs>,
) {
    use tower_sessions_sqlx_store::PostgresStore;
    let sessions = Arc::new(PostgresStore::new(pool.clone()));
    rt.block_on(sessions.migrate()).expect("migrates");
    common::instead::field_update_in_record(
        c,
        rt,
        "postgres_field_update_instead",
        &sessions,
        jobs,
    );
}

/// An axum route that reads one field and writes another through jobsess,
/// against the same route with raw sqlx statements (the floors), driven
/// over real sockets by [`compare`].
fn http(rt: &tokio::runtime::Runtime, pool: &PgPool, url: &str) {
    use axum::extract::{Path, State};
    use axum::routing::post;

    #[derive(Clone)]
    struct Raw {
        pool: PgPool,
        owner: String,
    }

    async fn by_hand(
        State(raw): State<Raw>,
        Path(id): Path<String>,
    ) -> Result<String, (axum::http::StatusCode, String)> {
        let failed = |e: sqlx::Error| (axum::http::StatusCode::SERVICE_UNAVAILABLE, e.to_string());
        let row = sqlx::query(floor::LOAD_FIELD)
            .bind(&raw.owner)
            .bind(TranscriptionJob::key_prefix())
            .bind(&id)
            .bind("plugin_info")
            .fetch_optional(&raw.pool)
            .await
            .map_err(failed)?
            .ok_or((axum::http::StatusCode::NOT_FOUND, String::new()))?;
        let Json(plugin): Json<PluginInfo> = row.get(0);
        let prefs = preferences_for(&plugin);
        sqlx::query(floor::STORE_FIELD)
            .bind(&raw.owner)
            .bind(TranscriptionJob::key_prefix())
            .bind(&id)
            .bind("user_preferences")
            .bind(Json(&prefs))
            .bind(TTL)
            .execute(&raw.pool)
            .await
            .map_err(failed)?;
        Ok(plugin.title)
    }

    let _ = url;
    let (raw_base, jobs_base) = rt.block_on(async {
        let setup = setup_http(pool).await;
        let raw_app = axum::Router::new()
            .route("/jobs/{id}", post(by_hand))
            .with_state(Raw {
                pool: pool.clone(),
                owner: setup.1,
            });
        let jobs_app = axum::Router::new()
            .route(
                "/jobs/{id}",
                post(through_jobsess::<jobsess::postgres::PostgresOwnerJobs>),
            )
            .with_state(setup.0);
        (serve(raw_app).await, serve(jobs_app).await)
    });
    compare(rt, "postgres_http", &raw_base, &jobs_base);
}

/// The jobsess handle and the raw owner of the HTTP bench, each with a job
/// per client of the most clients at once.
async fn setup_http(
    pool: &PgPool,
) -> (
    AsyncJobSession<TranscriptionJob, jobsess::postgres::PostgresOwnerJobs>,
    String,
) {
    let store = PostgresJobStore::new(pool.clone())
        .with_schema(SCHEMA)
        .with_ttl(Duration::from_secs_f64(TTL));
    let jobs = AsyncJobSession::new(
        store
            .owner(&PostgresJobStore::new_owner_token().expect("a token"))
            .expect("an owner"),
    );
    let raw_owner = PostgresJobStore::new_owner_token().expect("a token");
    for i in 0..common::http::CLIENTS {
        let id = format!("http-{i}");
        jobs.store(&id, &job_123()).await.expect("stores");
        sqlx::query(floor::STORE)
            .bind(&raw_owner)
            .bind(TranscriptionJob::key_prefix())
            .bind(&id)
            .bind(Json(job_123()))
            .bind(TTL)
            .execute(pool)
            .await
            .expect("INSERT");
    }
    (jobs, raw_owner)
}

criterion_group!(benches, postgres_operations);
criterion_main!(benches);
