//! The PostgreSQL job store from outside: the rows it writes, expiry and
//! the sweep, hostile input, corrupt rows, the app's transaction, watching
//! across instances and what NOTIFY carries, and a listener killed in a
//! loop. The cases every engine shares are in `store_conformance.rs`,
//! `faults.rs` and `matrix.rs`.

use std::time::{Duration, Instant};

use self::sqlx::Row;
use super::pg::PostgresJobStore;
use super::{pg, sqlx};
use futures_util::StreamExt;
use jobsess::watch::Change;
use jobsess::{AsyncJobSession, Error, JobMetadata, UntypedJob};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone, Default)]
#[job_metadata(prefix = "export")]
struct Export {
    file: String,
    #[serde(default)]
    progress: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

fn export(file: &str) -> Export {
    Export {
        file: file.into(),
        ..Export::default()
    }
}

fn token() -> String {
    PostgresJobStore::new_owner_token().unwrap()
}

fn jobs(store: &PostgresJobStore) -> (String, AsyncJobSession<Export, pg::PostgresOwnerJobs>) {
    let owner = token();
    let jobs = AsyncJobSession::new(store.owner(&owner).unwrap());
    (owner, jobs)
}

/// The schema the store's table is in (the tests give each its own).
async fn schema_of(store: &PostgresJobStore) -> String {
    // the store's Debug names its table as schema.table
    let shown = format!("{store:?}");
    let table = shown.split('"').nth(1).unwrap().to_owned();
    table.split_once('.').unwrap().0.to_owned()
}

async fn row(store: &PostgresJobStore, owner: &str, id: &str) -> Option<sqlx::postgres::PgRow> {
    let schema = schema_of(store).await;
    sqlx::query(q(format!(
        "SELECT owner, prefix, id, data, revision, expires_at IS NOT NULL AS expires \
         FROM \"{schema}\".jobs WHERE owner = $1 AND id = $2"
    )))
    .bind(owner)
    .bind(id)
    .fetch_optional(store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_one_row_and_a_field_write_changes_only_its_member() {
    require!(crate::common::postgres());
    let store = super::postgres_store()
        .await
        .with_ttl(Duration::from_secs(600));
    let (owner, jobs) = jobs(&store);
    jobs.store("job-1", &export("a.csv")).await.unwrap();
    let first = row(&store, &owner, "job-1").await.expect("one row");
    assert_eq!(first.get::<String, _>("owner"), owner);
    assert_eq!(first.get::<String, _>("prefix"), "export");
    assert_eq!(first.get::<String, _>("id"), "job-1");
    assert!(first.get::<bool, _>("expires"));
    let data: Value = first.get::<sqlx::types::Json<Value>, _>("data").0;
    assert_eq!(
        data,
        json!({ "file": "a.csv", "progress": 0, "note": null })
    );

    jobs.store_field("job-1", Export::PROGRESS, &40)
        .await
        .unwrap();
    // a None written as JSON null, not as SQL NULL (which jsonb_set would
    // turn into a NULL row)
    jobs.store_field("job-1", Export::NOTE, &None)
        .await
        .unwrap();
    // skip_serializing_if leaves the member out: the write removes it
    jobs.store_field("job-1", Export::ERROR, &Some("disk full".into()))
        .await
        .unwrap();
    jobs.store_field("job-1", Export::ERROR, &None)
        .await
        .unwrap();
    let second = row(&store, &owner, "job-1").await.unwrap();
    let data: Value = second.get::<sqlx::types::Json<Value>, _>("data").0;
    assert_eq!(
        data,
        json!({ "file": "a.csv", "progress": 40, "note": null })
    );
    assert!(second.get::<i64, _>("revision") > first.get::<i64, _>("revision"));
    assert_eq!(
        jobs.load("job-1").await.unwrap(),
        Some(Export {
            progress: 40,
            ..export("a.csv")
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_job_is_gone_for_every_operation_and_the_sweep_deletes_its_row() {
    require!(crate::common::postgres());
    let store = super::postgres_store()
        .await
        .with_ttl(Duration::from_secs(1));
    let (owner, jobs) = jobs(&store);
    jobs.store("old", &export("a.csv")).await.unwrap();
    jobs.store("kept", &export("b.csv")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    // a write renews the job's expiry
    jobs.store_field("kept", Export::PROGRESS, &1)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(jobs.load("old").await.unwrap(), None);
    assert_eq!(jobs.load_field("old", Export::FILE).await.unwrap(), None);
    assert_eq!(jobs.ids().await.unwrap(), ["kept"]);
    let err = jobs
        .store_field("old", Export::PROGRESS, &2)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::JobNotFound { .. }), "{err:?}");
    let err = jobs
        .update("old", |job| job.progress = 3)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::JobNotFound { .. }), "{err:?}");
    assert!(
        !jobs.delete("old").await.unwrap(),
        "an expired job was not there"
    );
    // the row of "old" was removed by the delete; expire "kept" too
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(row(&store, &owner, "kept").await.is_some(), "not swept yet");
    assert_eq!(store.sweep().await.unwrap(), 1);
    assert!(row(&store, &owner, "kept").await.is_none());
    assert_eq!(store.sweep().await.unwrap(), 0);
    // a store over an expired row makes a fresh job
    jobs.store("old", &export("c.csv")).await.unwrap();
    assert_eq!(jobs.load("old").await.unwrap(), Some(export("c.csv")));
}

/// A whole write answers whether it replaced a live job: not a new one,
/// nor one that expired and was not swept yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_write_says_whether_it_replaced_a_live_job() {
    use jobsess::AsyncSessionBackend;
    require!(crate::common::postgres());
    let store = super::postgres_store()
        .await
        .with_ttl(Duration::from_secs(1));
    let owner = store.owner(&token()).unwrap();
    assert!(
        !owner.insert("x_a", json!({ "n": 1 })).await.unwrap(),
        "new"
    );
    assert!(
        owner.insert("x_a", json!({ "n": 2 })).await.unwrap(),
        "live"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        !owner.insert("x_a", json!({ "n": 3 })).await.unwrap(),
        "expired"
    );
    assert_eq!(owner.get("x_a").await.unwrap(), Some(json!({ "n": 3 })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_task_deletes_expired_rows_in_batches() {
    require!(crate::common::postgres());
    let store = super::postgres_store()
        .await
        .with_ttl(Duration::from_secs(1));
    let (owner, jobs) = jobs(&store);
    for i in 0..1500 {
        jobs.store(&format!("j{i}"), &export("a.csv"))
            .await
            .unwrap();
    }
    let sweeper = store.spawn_sweeper(Duration::from_millis(200));
    let schema = schema_of(&store).await;
    let count = format!("SELECT count(*) FROM \"{schema}\".jobs WHERE owner = $1");
    let started = Instant::now();
    loop {
        let left: i64 = sqlx::query_scalar(q(count.clone()))
            .bind(&owner)
            .fetch_one(store.pool())
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{left} rows left"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sweeper.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_ids_and_field_names_are_plain_values() {
    require!(crate::common::postgres());
    let store = super::postgres_store().await;
    let owner = token();
    let untyped =
        AsyncJobSession::<UntypedJob, _>::with_prefix(store.owner(&owner).unwrap(), "x").unwrap();
    let hostile = [
        "'; DROP TABLE jobs; --",
        "a\"b",
        "%",
        "_",
        "x_y",
        "Ünïcödé-✓",
        "$1",
        &"long".repeat(60),
    ];
    for id in hostile {
        let mut job = UntypedJob::new();
        job.insert("'); DELETE FROM jobs; --".into(), json!(id));
        job.insert("data".into(), json!({ "nested": [id] }));
        untyped.store(id, &job).await.unwrap();
        assert_eq!(untyped.load(id).await.unwrap(), Some(job), "{id:?}");
    }
    let mut ids = untyped.ids().await.unwrap();
    ids.sort();
    let mut expected: Vec<String> = hostile.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(ids, expected);
    // `%` and `_` list only themselves: a prefix is no LIKE pattern
    let other =
        AsyncJobSession::<UntypedJob, _>::with_prefix(store.owner(&owner).unwrap(), "xy").unwrap();
    assert!(other.ids().await.unwrap().is_empty());
    // text PostgreSQL can't hold (a NUL) is the client's bad input: 422,
    // naming the job and where the NUL is; nothing is written, no retry
    // would help, and nothing else is lost
    let unstorable = |err: &Error, path: &str| {
        assert!(
            matches!(err, Error::Unstorable { key, path: at, .. } if key == "x_%" && at == path),
            "{err:?}"
        );
        assert_eq!(err.http_status(), 422, "{err}");
        assert!(
            err.to_string().starts_with(&format!("x_%: {path}: ")),
            "{err}"
        );
    };
    let mut bad = UntypedJob::new();
    bad.insert("file".into(), json!("a\u{0}b"));
    unstorable(&untyped.store("%", &bad).await.unwrap_err(), "file");
    let mut nested = UntypedJob::new();
    nested.insert("data".into(), json!({ "nested": ["ok", "b\u{0}"] }));
    unstorable(
        &untyped.store("%", &nested).await.unwrap_err(),
        "data.nested[1]",
    );
    let before = untyped.load("%").await.unwrap();
    let field = jobsess::Field::untyped("file");
    let err = untyped
        .store_field("%", field, &json!("c\u{0}"))
        .await
        .unwrap_err();
    unstorable(&err, "file");
    let err = untyped
        .update("%", |job| {
            job.insert("k\u{0}".into(), json!(1));
        })
        .await
        .unwrap_err();
    unstorable(&err, "k\\u0000");
    assert_eq!(untyped.load("%").await.unwrap(), before);
    assert_eq!(untyped.ids().await.unwrap().len(), hostile.len());
    assert_eq!(untyped.clear().await.unwrap(), hostile.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_that_is_no_object_is_named_and_nothing_else_is_lost() {
    require!(crate::common::postgres());
    let store = super::postgres_store().await;
    let (owner, jobs) = jobs(&store);
    jobs.store("bad", &export("a.csv")).await.unwrap();
    jobs.store("good", &export("b.csv")).await.unwrap();
    let schema = schema_of(&store).await;
    sqlx::query(q(format!(
        "UPDATE \"{schema}\".jobs SET data = '[1, 2]' WHERE owner = $1 AND id = 'bad'"
    )))
    .bind(&owner)
    .execute(store.pool())
    .await
    .unwrap();
    let load = jobs.load("bad").await.unwrap_err();
    let field = jobs.load_field("bad", Export::FILE).await.unwrap_err();
    let write = jobs
        .store_field("bad", Export::PROGRESS, &1)
        .await
        .unwrap_err();
    for err in [load, field, write] {
        assert!(matches!(err, Error::NotAnObject { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("export_bad") && text.contains("Export"),
            "{text}"
        );
    }
    // the bad row is left as it was, the other job is whole
    let data: Value = row(&store, &owner, "bad")
        .await
        .unwrap()
        .get::<sqlx::types::Json<Value>, _>("data")
        .0;
    assert_eq!(data, json!([1, 2]));
    assert_eq!(jobs.load("good").await.unwrap(), Some(export("b.csv")));
    // entries (one statement) lists both: the bad one with its error
    let entries = jobs.entries().await.unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries[0].0 == "bad" && matches!(entries[0].1, Err(Error::NotAnObject { .. })),
        "{entries:?}"
    );
    assert_eq!(entries[1].0, "good");
    assert_eq!(entries[1].1.as_ref().unwrap(), &export("b.csv"));
    // a whole store replaces it
    jobs.store("bad", &export("c.csv")).await.unwrap();
    assert_eq!(jobs.load("bad").await.unwrap(), Some(export("c.csv")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_commits_and_rolls_back_with_the_apps_transaction() {
    require!(crate::common::postgres());
    let store = super::postgres_store().await;
    let schema = schema_of(&store).await;
    let queue = format!("\"{schema}\".queue");
    sqlx::query(q(format!("CREATE TABLE {queue} (job text PRIMARY KEY)")))
        .execute(store.pool())
        .await
        .unwrap();
    let (_, jobs) = jobs(&store);
    for (id, commit) in [("kept", true), ("undone", false)] {
        let mut tx = store.pool().begin().await.unwrap();
        sqlx::query(q(format!("INSERT INTO {queue} (job) VALUES ($1)")))
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        {
            let in_tx = jobs.in_transaction(&mut tx);
            in_tx.store(id, &export("a.csv")).await.unwrap();
            in_tx.store_field(id, Export::PROGRESS, &5).await.unwrap();
            // the transaction sees its own write, the pool not yet
            assert_eq!(
                in_tx.load_field(id, Export::PROGRESS).await.unwrap(),
                Some(5)
            );
            assert_eq!(jobs.load(id).await.unwrap(), None);
        }
        if commit {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await.unwrap();
        }
    }
    let queued: Vec<String> = sqlx::query_scalar(q(format!("SELECT job FROM {queue}")))
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(queued, ["kept"]);
    assert_eq!(jobs.ids().await.unwrap(), ["kept"]);
    assert_eq!(
        jobs.load_field("kept", Export::PROGRESS).await.unwrap(),
        Some(5)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_take_turns_and_a_second_one_changes_nothing() {
    require!(crate::common::postgres());
    let store = super::postgres_store().await;
    let (_, jobs) = jobs(&store);
    jobs.store("a", &export("a.csv")).await.unwrap();
    let fresh = store.clone().with_table("other");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, fresh) = (store.clone(), fresh.clone());
        tasks.push(tokio::spawn(async move {
            store.migrate().await.unwrap();
            fresh.migrate().await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(jobs.load("a").await.unwrap(), Some(export("a.csv")));
}

/// A table made by an earlier version (without the `replaced_live`
/// column), holding a job: `migrate` brings it up to date, and the job
/// is still there and can be written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_updates_a_table_an_earlier_version_made() {
    require!(crate::common::postgres());
    let schema = format!("jobsess_test_{}", &token()[..12]);
    let store = PostgresJobStore::connect(&crate::common::database_url())
        .await
        .unwrap()
        .with_schema(&schema);
    let owner = token();
    sqlx::raw_sql(q(format!(
        "CREATE SCHEMA \"{schema}\";
         CREATE SEQUENCE \"{schema}\".jobs_revision;
         CREATE TABLE \"{schema}\".jobs (owner text NOT NULL, prefix text NOT NULL, id text NOT NULL,
             data jsonb NOT NULL, revision bigint NOT NULL, expires_at timestamptz,
             watched_until timestamptz, PRIMARY KEY (owner, prefix, id));
         INSERT INTO \"{schema}\".jobs VALUES ('{owner}', 'export', 'old', '{{\"file\": \"a.csv\"}}', 1, NULL, NULL);"
    )))
    .execute(store.pool())
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let jobs = AsyncJobSession::<Export, _>::new(store.owner(&owner).unwrap());
    assert_eq!(jobs.load("old").await.unwrap(), Some(export("a.csv")));
    jobs.store("old", &export("b.csv")).await.unwrap();
    jobs.store_field("old", Export::PROGRESS, &3).await.unwrap();
    assert_eq!(
        jobs.load("old").await.unwrap(),
        Some(Export {
            progress: 3,
            ..export("b.csv")
        })
    );
}

/// Only a watched job's writes NOTIFY, and a notification carries the
/// job's digest and revision, never its owner's token or its values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_watched_jobs_notify_and_never_with_their_values() {
    require!(crate::common::postgres());
    let store = super::postgres_store().await;
    let (owner, jobs) = jobs(&store);
    let channel = {
        // the channel is the store's: listen to every channel jobsess uses
        let schema = schema_of(&store).await;
        let table = format!("{schema}.jobs");
        format!("jobsess_{}", &sha256_hex(&table)[..16])
    };
    let mut listener = sqlx::postgres::PgListener::connect_with(store.pool())
        .await
        .unwrap();
    listener.listen(&channel).await.unwrap();
    jobs.store("a", &export("secret.csv")).await.unwrap();
    jobs.store_field("a", Export::PROGRESS, &1).await.unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(300), listener.recv()).await;
    assert!(quiet.is_err(), "an unwatched job notified: {quiet:?}");

    let mut changes = Box::pin(jobs.watch("a").await.unwrap());
    assert_eq!(
        changes.next().await.unwrap().unwrap(),
        Change::Updated(Export {
            progress: 1,
            ..export("secret.csv")
        })
    );
    jobs.store_field("a", Export::PROGRESS, &2).await.unwrap();
    let note = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .expect("a watched job notifies")
        .unwrap();
    let payload = note.payload();
    assert!(
        !payload.contains(&owner) && !payload.contains("secret"),
        "{payload}"
    );
    let parts: Vec<&str> = payload.split(' ').collect();
    assert_eq!(parts[0], sha256_hex(&format!("{owner}/export_a")));
    assert!(parts[1].parse::<i64>().is_ok(), "{payload}");
    assert_eq!(parts[2], "progress");
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Two stores on two pools are two app instances: a watcher on one sees
/// every write made on the other, the last one always.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_on_one_instance_follows_writes_on_another() {
    require!(crate::common::postgres());
    let one = super::postgres_store().await;
    let schema = schema_of(&one).await;
    let other = PostgresJobStore::connect(&crate::common::database_url())
        .await
        .unwrap()
        .with_schema(&schema);
    let owner = token();
    let writer = AsyncJobSession::<Export, _>::new(one.owner(&owner).unwrap());
    let reader = AsyncJobSession::<Export, _>::new(other.owner(&owner).unwrap());
    writer.store("a", &export("a.csv")).await.unwrap();
    // 20 watchers at once, cold
    let mut streams = Vec::new();
    for _ in 0..20 {
        streams.push(Box::pin(reader.watch("a").await.unwrap()));
    }
    for progress in 1..=50u8 {
        writer
            .store_field("a", Export::PROGRESS, &progress)
            .await
            .unwrap();
    }
    for stream in &mut streams {
        let mut last = 0;
        while last < 50 {
            let change = tokio::time::timeout(Duration::from_secs(5), stream.next())
                .await
                .expect("a change within 5 s")
                .unwrap()
                .unwrap();
            match change {
                Change::Updated(job) => {
                    assert!(job.progress >= last, "{} after {last}", job.progress);
                    last = job.progress;
                }
                Change::Deleted => panic!("deleted"),
            }
        }
    }
    writer.delete("a").await.unwrap();
    for stream in &mut streams {
        let change = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("the deletion within 5 s")
            .unwrap()
            .unwrap();
        assert_eq!(change, Change::Deleted);
    }
}

/// A statement's text that sqlx 0.8 and 0.9 both take: 0.9 takes dynamic
/// SQL only as a `&'static str` or audited, and these are a test's own.
fn q(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// The listener's connection, killed as soon as it appears, again and
/// again: it comes back after a growing wait, not at once (which made
/// about 90 connections a second, each re-reading every watched job), and
/// the watcher gets the next write once the kills stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_killed_in_a_loop_reconnects_with_back_off() {
    require!(crate::common::postgres());
    let store = super::postgres_store().await;
    let (_, jobs) = jobs(&store);
    jobs.store("a", &export("a.csv")).await.unwrap();
    let mut progress = jobs.watch_field("a", Export::PROGRESS).await.unwrap();
    assert_eq!(progress.next().await.unwrap().unwrap(), 0);
    let schema = schema_of(&store).await;
    let channel = format!("jobsess_{}", &sha256_hex(&format!("{schema}.jobs"))[..16]);
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&crate::common::database_url())
        .await
        .unwrap();
    let find = q(format!(
        "SELECT pid FROM pg_stat_activity \
         WHERE query LIKE 'LISTEN%{channel}%' AND pid <> pg_backend_pid()"
    ));
    let mut seen = std::collections::HashSet::new();
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let pids: Vec<i32> = sqlx::query_scalar(find).fetch_all(&admin).await.unwrap();
        for pid in pids {
            if seen.insert(pid) {
                sqlx::query("SELECT pg_terminate_backend($1)")
                    .bind(pid)
                    .execute(&admin)
                    .await
                    .unwrap();
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(seen.len() >= 3, "the listener came back: {seen:?}");
    assert!(
        seen.len() <= 12,
        "{} listener connections in 3 s of kills: no back-off",
        seen.len()
    );
    // the kills stop: the watcher hears of the next write
    jobs.store_field("a", Export::PROGRESS, &70).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(value) = progress.next().await {
            if value.unwrap() == 70 {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(heard, Ok(true), "the watcher got the write after the kills");
}
