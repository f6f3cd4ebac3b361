//! The drift matrix: every backend × a job stored by an older, the current
//! and a newer release × every typed operation gives the same answer.
//!
//! The handle under test reads and writes version 2 of a job type. Each
//! cell seeds the backend with the raw JSON one release wrote, runs one
//! operation through the handle, then reads the job back through a handle
//! of version 3 (which reads every version), so a write that dropped a
//! newer job's fields, or a read that skipped the version check, shows as a
//! different answer on one backend. The expected answers are written out
//! below, not taken from any backend: reads and whole writes refuse a newer
//! job, field writes patch it and keep its unknown fields.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use jobsess::{AsyncJobSession, AsyncSessionBackend, JobMetadata, JobSession, SessionBackend};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "matrix", version = 1)]
struct V1 {
    file: String,
    #[serde(default)]
    progress: u8,
}

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "matrix", version = 2, migrate_from = V1)]
struct V2 {
    file: String,
    #[serde(default)]
    progress: u8,
    #[serde(default)]
    pages: u32,
}

impl From<V1> for V2 {
    fn from(v1: V1) -> Self {
        V2 {
            file: v1.file,
            progress: v1.progress,
            pages: 1,
        }
    }
}

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "matrix", version = 3, migrate_from = V2)]
struct V3 {
    file: String,
    #[serde(default)]
    progress: u8,
    #[serde(default)]
    pages: u32,
    #[serde(default)]
    owner: String,
}

impl From<V2> for V3 {
    fn from(v2: V2) -> Self {
        V3 {
            file: v2.file,
            progress: v2.progress,
            pages: v2.pages,
            owner: "migrated".into(),
        }
    }
}

/// The three releases' stored JSON of job `a`.
const RELEASES: [&str; 3] = ["older", "current", "newer"];

fn stored(release: &str) -> Value {
    match release {
        "older" => json!({ "file": "a.csv", "progress": 10 }),
        "current" => json!({ "file": "a.csv", "progress": 10, "pages": 4, "jobsess:version": 2 }),
        "newer" => json!({
            "file": "a.csv", "progress": 10, "pages": 4, "owner": "ann", "jobsess:version": 3
        }),
        other => unreachable!("{other}"),
    }
}

/// The operations, each through a version-2 handle.
const OPS: [&str; 6] = [
    "load",
    "load_field",
    "store_field",
    "update",
    "update_field",
    "increment_field",
];

/// What every backend must answer: the operation's result, then the job as
/// a version-3 handle reads it afterwards.
fn expected(release: &str, op: &str) -> String {
    const NEWER: &str = "Err(matrix_a: stored at version 3 of its metadata, newer than version 2, \
                         the newest this release knows; the job is left as it is)";
    let after = |progress: u8, pages: u32| {
        let owner = if release == "newer" {
            "ann"
        } else {
            "migrated"
        };
        format!(
            "Ok(Some(V3 {{ file: \"a.csv\", progress: {progress}, pages: {pages}, owner: {owner:?} }}))"
        )
    };
    let pages = if release == "older" { 1 } else { 4 };
    let untouched = after(10, pages);
    // a field write patches a newer job (its unknown fields stay); every
    // read of it, and a whole write, is refused
    let result = match (release, op) {
        ("newer", "load" | "load_field" | "update") => NEWER.to_owned(),
        (_, "load") => format!("Ok(Some(V2 {{ file: \"a.csv\", progress: 10, pages: {pages} }}))"),
        (_, "load_field") => "Ok(Some(10))".to_owned(),
        (_, "store_field") => "Ok(())".to_owned(),
        (_, "update") => format!("Ok(V2 {{ file: \"a.csv\", progress: 11, pages: {pages} }})"),
        (_, "update_field" | "increment_field") => "Ok(11)".to_owned(),
        other => unreachable!("{other:?}"),
    };
    let job = match (release, op) {
        ("newer", "update") | (_, "load" | "load_field") => untouched,
        (_, "store_field") => after(50, pages),
        _ => after(11, pages),
    };
    format!("{result} / {job}")
}

fn show<T: std::fmt::Debug>(result: jobsess::Result<T>) -> String {
    match result {
        Ok(value) => format!("Ok({value:?})"),
        Err(err) => format!("Err({err})"),
    }
}

/// One cell on a sync backend: `session` is fresh and holds nothing.
fn sync_cell<S: SessionBackend>(mut session: S, release: &str, op: &str) -> String {
    session.insert("matrix_a", stored(release)).unwrap();
    let result = {
        let mut jobs = JobSession::<V2, _>::new(&mut session);
        match op {
            "load" => show(jobs.load("a")),
            "load_field" => show(jobs.load_field("a", V2::PROGRESS)),
            "store_field" => show(jobs.store_field("a", V2::PROGRESS, &50)),
            "update" => show(jobs.update("a", |job| job.progress += 1)),
            "update_field" => show(jobs.update_field("a", V2::PROGRESS, |p| *p += 1)),
            "increment_field" => show(jobs.increment_field("a", V2::PROGRESS, 1)),
            other => unreachable!("{other}"),
        }
    };
    let after = show(JobSession::<V3, _>::new(&mut session).load("a"));
    format!("{result} / {after}")
}

/// One cell on an async backend: `session` is fresh and holds nothing.
async fn async_cell<S: AsyncSessionBackend>(session: S, release: &str, op: &str) -> String {
    session.insert("matrix_a", stored(release)).await.unwrap();
    let session = Arc::new(session);
    let jobs = AsyncJobSession::<V2, _>::new(Arc::clone(&session));
    let result = match op {
        "load" => show(jobs.load("a").await),
        "load_field" => show(jobs.load_field("a", V2::PROGRESS).await),
        "store_field" => show(jobs.store_field("a", V2::PROGRESS, &50).await),
        "update" => show(jobs.update("a", |job| job.progress += 1).await),
        "update_field" => show(jobs.update_field("a", V2::PROGRESS, |p| *p += 1).await),
        "increment_field" => show(jobs.increment_field("a", V2::PROGRESS, 1).await),
        other => unreachable!("{other}"),
    };
    let after = show(AsyncJobSession::<V3, _>::new(session).load("a").await);
    format!("{result} / {after}")
}

/// Runs every cell of one backend; `cell` runs one on a fresh session.
async fn check<F, Fut>(backend: &str, cell: F)
where
    F: Fn(&'static str, &'static str) -> Fut,
    Fut: Future<Output = String>,
{
    let mut wrong = Vec::new();
    for release in RELEASES {
        for op in OPS {
            let got = cell(release, op).await;
            let want = expected(release, op);
            if got != want {
                wrong.push(format!(
                    "{backend} × {release} × {op}:\n   got {got}\n  want {want}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn matrix_maps() {
    check(
        "HashMap",
        |r, o| async move { sync_cell(HashMap::new(), r, o) },
    )
    .await;
    check("BTreeMap", |r, o| async move {
        sync_cell(BTreeMap::new(), r, o)
    })
    .await;
    check("serde_json::Map", |r, o| async move {
        sync_cell(serde_json::Map::new(), r, o)
    })
    .await;
    check("Budget<HashMap>", |r, o| async move {
        sync_cell(jobsess::backend::Budget::new(HashMap::new(), 1 << 20), r, o)
    })
    .await;
}

#[tokio::test]
async fn matrix_shared_maps() {
    check("Mutex<HashMap>", |r, o| async move {
        async_cell(Mutex::new(HashMap::new()), r, o).await
    })
    .await;
    check("Arc<Mutex<BTreeMap>>", |r, o| async move {
        async_cell(Arc::new(Mutex::new(BTreeMap::new())), r, o).await
    })
    .await;
    check("Notifying<Mutex<HashMap>>", |r, o| async move {
        async_cell(
            jobsess::watch::Notifying::new(Mutex::new(HashMap::new())),
            r,
            o,
        )
        .await
    })
    .await;
}

#[tokio::test]
async fn matrix_tower_sessions() {
    check("tower-sessions 0.15", |r, o| async move {
        let store = Arc::new(tower_sessions_015::MemoryStore::default());
        async_cell(tower_sessions_015::Session::new(None, store, None), r, o).await
    })
    .await;
    check("tower-sessions 0.14", |r, o| async move {
        let store = Arc::new(tower_sessions::MemoryStore::default());
        async_cell(tower_sessions::Session::new(None, store, None), r, o).await
    })
    .await;
}

#[actix_web::test]
async fn matrix_actix_session() {
    use actix_session::SessionExt;
    check("actix-session", |r, o| async move {
        let request = actix_web::test::TestRequest::default().to_http_request();
        sync_cell(request.get_session(), r, o)
    })
    .await;
}

#[tokio::test]
async fn matrix_redis() {
    require!(crate::common::redis());
    let store = jobsess::redis::RedisJobStore::connect(&crate::common::redis_url())
        .await
        .unwrap()
        .with_namespace("jobsess-matrix-test")
        .with_ttl(std::time::Duration::from_secs(600));
    check("Redis", |r, o| {
        let store = store.clone();
        async move {
            // a fresh owner per cell: a fresh, empty session
            let token = jobsess::redis::RedisJobStore::new_owner_token().unwrap();
            async_cell(store.owner(&token).unwrap(), r, o).await
        }
    })
    .await;
}

#[tokio::test]
async fn matrix_postgres() {
    require!(crate::common::postgres());
    let store = crate::common::postgres_store()
        .await
        .with_ttl(std::time::Duration::from_secs(600));
    check("PostgreSQL", |r, o| {
        let store = store.clone();
        async move {
            // a fresh owner per cell: a fresh, empty session
            let token = jobsess::postgres::PostgresJobStore::new_owner_token().unwrap();
            async_cell(store.owner(&token).unwrap(), r, o).await
        }
    })
    .await;
}

#[tokio::test]
async fn matrix_postgres_sqlx09() {
    require!(crate::common::postgres());
    let store = crate::common::postgres_store_sqlx09()
        .await
        .with_ttl(std::time::Duration::from_secs(600));
    check("PostgreSQL on sqlx 0.9", |r, o| {
        let store = store.clone();
        async move {
            let token = jobsess::postgres::PostgresJobStore::new_owner_token().unwrap();
            async_cell(store.owner(&token).unwrap(), r, o).await
        }
    })
    .await;
}

#[tokio::test]
async fn matrix_sqlite() {
    let store = crate::common::sqlite_store()
        .await
        .with_ttl(std::time::Duration::from_secs(600));
    check("SQLite", |r, o| {
        let store = store.clone();
        async move {
            let token = jobsess::sqlite::SqliteJobStore::new_owner_token().unwrap();
            async_cell(store.owner(&token).unwrap(), r, o).await
        }
    })
    .await;
}

#[tokio::test]
async fn matrix_sqlite_sqlx09() {
    let store = crate::common::sqlite_store_sqlx09()
        .await
        .with_ttl(std::time::Duration::from_secs(600));
    check("SQLite on sqlx 0.9", |r, o| {
        let store = store.clone();
        async move {
            let token = jobsess::sqlite::SqliteJobStore::new_owner_token().unwrap();
            async_cell(store.owner(&token).unwrap(), r, o).await
        }
    })
    .await;
}

#[test]
fn the_expected_answers_differ_by_release() {
    // a guard on the table itself: the three releases don't all agree, and
    // a newer job is refused by every operation
    for op in OPS {
        assert_ne!(expected("older", op), expected("newer", op));
    }
    for op in ["load", "load_field", "update"] {
        assert!(expected("newer", op).starts_with("Err(matrix_a: stored at version 3"));
    }
}

/// A backend of a user's own: the four required methods, nothing else.
#[derive(Default)]
struct Pairs(Vec<(String, Value)>);

impl SessionBackend for Pairs {
    fn get(&self, key: &str) -> jobsess::Result<Option<std::borrow::Cow<'_, Value>>> {
        Ok(self
            .0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| std::borrow::Cow::Borrowed(v)))
    }
    fn insert(&mut self, key: &str, value: Value) -> jobsess::Result<bool> {
        let replaced = self.remove(key)?;
        self.0.push((key.to_owned(), value));
        Ok(replaced)
    }
    fn remove(&mut self, key: &str) -> jobsess::Result<bool> {
        let before = self.0.len();
        self.0.retain(|(k, _)| k != key);
        Ok(self.0.len() != before)
    }
    fn keys_with_prefix(&self, start: &str) -> jobsess::Result<Vec<String>> {
        Ok(self
            .0
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| k.starts_with(start))
            .collect())
    }
}

/// Wrappers of a user's own: the few methods of `Forward` or
/// `AsyncForward`, and every backend method is forwarded.
struct Audited<B> {
    inner: B,
    writes: std::sync::atomic::AtomicUsize,
}

impl<B: SessionBackend> jobsess::backend::Forward for Audited<B> {
    type Inner = B;
    fn inner(&self) -> &B {
        &self.inner
    }
    fn inner_mut(&mut self) -> &mut B {
        &mut self.inner
    }
}

impl<B: AsyncSessionBackend> jobsess::backend::AsyncForward for Audited<B> {
    type Inner = B;
    fn inner(&self) -> &B {
        &self.inner
    }
    fn written(&self, _: jobsess::backend::Written<'_>) {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn audited<B>(inner: B) -> Audited<B> {
    Audited {
        inner,
        writes: std::sync::atomic::AtomicUsize::new(0),
    }
}

#[tokio::test]
async fn matrix_backends_and_wrappers_of_your_own() {
    check("Pairs (4 methods)", |r, o| async move {
        sync_cell(Pairs::default(), r, o)
    })
    .await;
    check("Forward wrapper", |r, o| async move {
        sync_cell(audited(HashMap::new()), r, o)
    })
    .await;
    check("Forward wrapper of Pairs", |r, o| async move {
        sync_cell(audited(Pairs::default()), r, o)
    })
    .await;
    check("AsyncForward wrapper", |r, o| async move {
        async_cell(audited(Mutex::new(HashMap::new())), r, o).await
    })
    .await;
}

// ---- counters: increment_field on an unversioned type ----------------------
//
// The Redis and PostgreSQL stores add in one atomic step on the stored JSON;
// every other backend reads, adds and writes the field. Each cell seeds
// one stored job, adds, and reads the raw job back: both ways must give
// the same answer and leave the same JSON, whatever the job holds.

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "counter")]
struct Counted {
    file: String,
    #[serde(default, alias = "m")]
    n: u8,
}

/// One counter case: its name, the stored job (`None`: none), what is
/// added, the answer, and the job's JSON afterwards.
type CounterCase = (
    &'static str,
    Option<Value>,
    i64,
    &'static str,
    Option<Value>,
);

fn counter_cases() -> Vec<CounterCase> {
    let job = |n: Value| Some(json!({ "file": "a", "n": n }));
    let decode = |what: &str| -> &'static str {
        Box::leak(
            format!(
                "Err(counter_a as {}: n: {what}, expected u8)",
                std::any::type_name::<u8>()
            )
            .into_boxed_str(),
        )
    };
    vec![
        ("adds", job(json!(5)), 1, "Ok(6)", job(json!(6))),
        ("subtracts", job(json!(5)), -5, "Ok(0)", job(json!(0))),
        (
            "absent: the default",
            Some(json!({ "file": "a" })),
            2,
            "Ok(2)",
            job(json!(2)),
        ),
        (
            "past the top",
            job(json!(255)),
            1,
            "Err(counter_a: adding 1 to field \"n\" leaves the range of its type; nothing was written)",
            job(json!(255)),
        ),
        (
            "below the bottom",
            job(json!(0)),
            -1,
            "Err(counter_a: adding -1 to field \"n\" leaves the range of its type; nothing was written)",
            job(json!(0)),
        ),
        (
            "a stored value past the type",
            job(json!(-1)),
            1,
            decode("invalid value: integer `-1`"),
            job(json!(-1)),
        ),
        (
            "a string",
            job(json!("5")),
            1,
            decode("invalid type: string \"5\""),
            job(json!("5")),
        ),
        (
            "a float",
            job(json!(5.5)),
            1,
            decode("invalid type: floating point `5.5`"),
            job(json!(5.5)),
        ),
        (
            "under its alias",
            Some(json!({ "file": "a", "m": 7 })),
            1,
            "Ok(8)",
            job(json!(8)),
        ),
        ("no job", None, 1, "Err(counter_a: no such job)", None),
    ]
}

fn counter_answer(result: String, after: Option<Value>) -> String {
    format!("{result} / {after:?}")
}

/// Every counter case on one backend; `cell` runs one on a fresh session
/// and gives the answer with the job's JSON after it.
async fn check_counters<F, Fut>(backend: &str, cell: F)
where
    F: Fn(Option<Value>, i64) -> Fut,
    Fut: Future<Output = (String, Option<Value>)>,
{
    let mut wrong = Vec::new();
    for (case, stored, by, answer, after) in counter_cases() {
        let (got, got_after) = cell(stored, by).await;
        let (got, want) = (
            counter_answer(got, got_after),
            counter_answer(answer.to_owned(), after),
        );
        if got != want {
            wrong.push(format!("{backend} × {case}:\n   got {got}\n  want {want}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn sync_counter<S: SessionBackend>(
    mut session: S,
    stored: Option<Value>,
    by: i64,
) -> (String, Option<Value>) {
    if let Some(job) = stored {
        session.insert("counter_a", job).unwrap();
    }
    let result =
        show(JobSession::<Counted, _>::new(&mut session).increment_field("a", Counted::N, by));
    let after = session
        .get("counter_a")
        .unwrap()
        .map(std::borrow::Cow::into_owned);
    (result, after)
}

async fn async_counter<S: AsyncSessionBackend>(
    session: S,
    stored: Option<Value>,
    by: i64,
) -> (String, Option<Value>) {
    if let Some(job) = stored {
        session.insert("counter_a", job).await.unwrap();
    }
    let session = Arc::new(session);
    let jobs = AsyncJobSession::<Counted, _>::new(Arc::clone(&session));
    let result = show(jobs.increment_field("a", Counted::N, by).await);
    (result, session.get("counter_a").await.unwrap())
}

#[tokio::test]
async fn counters_on_every_backend() {
    check_counters("HashMap", |s, by| async move {
        sync_counter(HashMap::new(), s, by)
    })
    .await;
    check_counters("Pairs (4 methods)", |s, by| async move {
        sync_counter(Pairs::default(), s, by)
    })
    .await;
    check_counters("Mutex<HashMap>", |s, by| async move {
        async_counter(Mutex::new(HashMap::new()), s, by).await
    })
    .await;
    check_counters("Notifying<Mutex<HashMap>>", |s, by| async move {
        async_counter(
            jobsess::watch::Notifying::new(Mutex::new(HashMap::new())),
            s,
            by,
        )
        .await
    })
    .await;
    check_counters("AsyncForward wrapper", |s, by| async move {
        async_counter(audited(Mutex::new(HashMap::new())), s, by).await
    })
    .await;
    check_counters("tower-sessions 0.15", |s, by| async move {
        let store = Arc::new(tower_sessions_015::MemoryStore::default());
        async_counter(tower_sessions_015::Session::new(None, store, None), s, by).await
    })
    .await;
}

#[actix_web::test]
async fn counters_on_actix_session() {
    use actix_session::SessionExt;
    check_counters("actix-session", |s, by| async move {
        let request = actix_web::test::TestRequest::default().to_http_request();
        sync_counter(request.get_session(), s, by)
    })
    .await;
}

#[tokio::test]
async fn counters_on_redis() {
    require!(crate::common::redis());
    let store = jobsess::redis::RedisJobStore::connect(&crate::common::redis_url())
        .await
        .unwrap()
        .with_namespace("jobsess-matrix-test")
        .with_ttl(std::time::Duration::from_secs(600));
    check_counters("Redis", |s, by| {
        let store = store.clone();
        async move {
            let token = jobsess::redis::RedisJobStore::new_owner_token().unwrap();
            async_counter(store.owner(&token).unwrap(), s, by).await
        }
    })
    .await;
}

#[tokio::test]
async fn counters_on_postgres() {
    require!(crate::common::postgres());
    let store = crate::common::postgres_store()
        .await
        .with_ttl(std::time::Duration::from_secs(600));
    check_counters("PostgreSQL", |s, by| {
        let store = store.clone();
        async move {
            let token = jobsess::postgres::PostgresJobStore::new_owner_token().unwrap();
            async_counter(store.owner(&token).unwrap(), s, by).await
        }
    })
    .await;
}

#[tokio::test]
async fn counters_on_postgres_sqlx09() {
    require!(crate::common::postgres());
    let store = crate::common::postgres_store_sqlx09()
        .await
        .with_ttl(std::time::Duration::from_secs(600));
    check_counters("PostgreSQL on sqlx 0.9", |s, by| {
        let store = store.clone();
        async move {
            let token = jobsess::postgres::PostgresJobStore::new_owner_token().unwrap();
            async_counter(store.owner(&token).unwrap(), s, by).await
        }
    })
    .await;
}

#[tokio::test]
async fn counters_on_sqlite() {
    let store = crate::common::sqlite_store()
        .await
        .with_ttl(std::time::Duration::from_secs(600));
    check_counters("SQLite", |s, by| {
        let store = store.clone();
        async move {
            let token = jobsess::sqlite::SqliteJobStore::new_owner_token().unwrap();
            async_counter(store.owner(&token).unwrap(), s, by).await
        }
    })
    .await;
}

#[tokio::test]
async fn counters_on_sqlite_sqlx09() {
    let store = crate::common::sqlite_store_sqlx09()
        .await
        .with_ttl(std::time::Duration::from_secs(600));
    check_counters("SQLite on sqlx 0.9", |s, by| {
        let store = store.clone();
        async move {
            let token = jobsess::sqlite::SqliteJobStore::new_owner_token().unwrap();
            async_counter(store.owner(&token).unwrap(), s, by).await
        }
    })
    .await;
}

#[tokio::test]
async fn matrix_memory_store() {
    use jobsess::store::JobStore;
    let store = jobsess::store::MemoryJobStore::new();
    check("MemoryJobStore", |r, o| {
        let store = store.clone();
        async move {
            let token = jobsess::store::MemoryJobStore::new_owner_token().unwrap();
            async_cell(store.owner(&token).unwrap(), r, o).await
        }
    })
    .await;
    check_counters("MemoryJobStore", |s, by| {
        let store = store.clone();
        async move {
            let token = jobsess::store::MemoryJobStore::new_owner_token().unwrap();
            async_counter(store.owner(&token).unwrap(), s, by).await
        }
    })
    .await;
}
