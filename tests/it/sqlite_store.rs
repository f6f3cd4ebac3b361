//! The SQLite job store from outside: the rows it writes, expiry and the
//! sweep, hostile input, corrupt rows, concurrent migrations, the change
//! log and what it holds, watching across instances, and two processes
//! that count on one file. The cases every engine shares are in
//! `store_conformance.rs`, `faults.rs` and `matrix.rs`.

use std::time::{Duration, Instant};

use self::sqlx::Row;
use super::sq::SqliteJobStore;
use super::{sq, sqlx};
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
    SqliteJobStore::new_owner_token().unwrap()
}

fn jobs(store: &SqliteJobStore) -> (String, AsyncJobSession<Export, sq::SqliteOwnerJobs>) {
    let owner = token();
    let jobs = AsyncJobSession::new(store.owner(&owner).unwrap());
    (owner, jobs)
}

async fn row(store: &SqliteJobStore, owner: &str, id: &str) -> Option<sqlx::sqlite::SqliteRow> {
    sqlx::query(
        "SELECT owner, prefix, id, data, revision, expires_at IS NOT NULL AS expires \
         FROM jobsess_jobs WHERE owner = ?1 AND id = ?2",
    )
    .bind(owner.to_owned())
    .bind(id.to_owned())
    .fetch_optional(store.pool())
    .await
    .unwrap()
}

fn data(row: &sqlx::sqlite::SqliteRow) -> Value {
    serde_json::from_str(&row.get::<String, _>("data")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_one_row_and_a_field_write_changes_only_its_member() {
    let store = super::sqlite_store()
        .await
        .with_ttl(Duration::from_secs(600));
    let (owner, jobs) = jobs(&store);
    jobs.store("job-1", &export("a.csv")).await.unwrap();
    let first = row(&store, &owner, "job-1").await.expect("one row");
    assert_eq!(first.get::<String, _>("owner"), owner);
    assert_eq!(first.get::<String, _>("prefix"), "export");
    assert_eq!(first.get::<String, _>("id"), "job-1");
    assert!(first.get::<bool, _>("expires"));
    assert_eq!(
        data(&first),
        json!({ "file": "a.csv", "progress": 0, "note": null })
    );

    jobs.store_field("job-1", Export::PROGRESS, &40)
        .await
        .unwrap();
    // a None written as JSON null, not as SQL NULL
    jobs.store_field("job-1", Export::NOTE, &None)
        .await
        .unwrap();
    // skip_serializing_if leaves the member out: the write removes it
    jobs.store_field("job-1", Export::ERROR, &Some("disk full".into()))
        .await
        .unwrap();
    assert_eq!(
        data(&row(&store, &owner, "job-1").await.unwrap())["error"],
        "disk full"
    );
    jobs.store_field("job-1", Export::ERROR, &None)
        .await
        .unwrap();
    let second = row(&store, &owner, "job-1").await.unwrap();
    assert_eq!(
        data(&second),
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
    let store = super::sqlite_store().await.with_ttl(Duration::from_secs(1));
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
    let store = super::sqlite_store().await.with_ttl(Duration::from_secs(1));
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

/// Ids, field names and values that look like SQL or JSON paths are plain
/// text: names that no JSON path can spell (a `"`, a `\`, a line break)
/// are read and written through the whole job, and answer the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_ids_and_field_names_are_plain_values() {
    let store = super::sqlite_store().await;
    let owner = token();
    let untyped =
        AsyncJobSession::<UntypedJob, _>::with_prefix(store.owner(&owner).unwrap(), "x").unwrap();
    let hostile = [
        "'; DROP TABLE jobsess_jobs; --",
        "a\"b",
        "%",
        "_",
        "x_y",
        "Ünïcödé-✓",
        "?1",
        &"long".repeat(60),
    ];
    for id in hostile {
        let mut job = UntypedJob::new();
        job.insert("'); DELETE FROM jobsess_jobs; --".into(), json!(id));
        job.insert("data".into(), json!({ "nested": [id, "nul \u{0} inside"] }));
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

    let names = [
        "plain",
        "a.b",
        "$[0]",
        "say \"hi\"",
        "back\\slash",
        "line\nbreak",
        "jobsess:version2",
        "",
    ];
    use jobsess::AsyncSessionBackend;
    use jobsess::backend::{Increment, Incremented};
    let backend = store.owner(&owner).unwrap();
    let id = "%";
    let before = untyped.load(id).await.unwrap().unwrap();
    let mut whole = before.clone();
    for (i, name) in names.iter().enumerate() {
        let field = jobsess::Field::untyped(name);
        let value = json!({ "n": i, "text": format!("{name} \u{0}") });
        untyped.store_field(id, field, &value).await.unwrap();
        whole.insert((*name).to_owned(), value.clone());
        assert_eq!(
            untyped.load_field(id, field).await.unwrap(),
            Some(value),
            "{name:?}"
        );
        // an increment in SQL where a path spells the name; else the
        // handle's read-add-write (NotHere)
        let counter = format!("{name}#");
        let by = Increment::new(&counter, 2).absent_as(Some(0));
        let added = backend.increment_field("x_%", by).await.unwrap();
        let in_sql = !name.contains(['"', '\\', '\n']);
        let expected = if in_sql {
            Incremented::To(2)
        } else {
            Incremented::NotHere
        };
        assert_eq!(added, expected, "{name:?}");
        if in_sql {
            whole.insert(counter, json!(2));
        }
    }
    assert_eq!(untyped.load(id).await.unwrap(), Some(whole));
    assert_eq!(untyped.ids().await.unwrap().len(), hostile.len());
    assert_eq!(untyped.clear().await.unwrap(), hostile.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_row_is_named_and_nothing_else_is_lost() {
    let store = super::sqlite_store().await;
    let (owner, jobs) = jobs(&store);
    jobs.store("array", &export("a.csv")).await.unwrap();
    jobs.store("garbage", &export("b.csv")).await.unwrap();
    jobs.store("good", &export("c.csv")).await.unwrap();
    for (id, text) in [("array", "[1, 2]"), ("garbage", "{\"file\": \"b.c")] {
        sqlx::query("UPDATE jobsess_jobs SET data = ?1 WHERE owner = ?2 AND id = ?3")
            .bind(text)
            .bind(owner.clone())
            .bind(id)
            .execute(store.pool())
            .await
            .unwrap();
    }
    let load = jobs.load("array").await.unwrap_err();
    let field = jobs.load_field("array", Export::FILE).await.unwrap_err();
    let write = jobs
        .store_field("array", Export::PROGRESS, &1)
        .await
        .unwrap_err();
    for err in [load, field, write] {
        assert!(matches!(err, Error::NotAnObject { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("export_array") && text.contains("Export"),
            "{text}"
        );
    }
    // text that is no JSON at all: a store error that says so, naming the job
    let err = jobs.load("garbage").await.unwrap_err();
    assert!(matches!(err, Error::Backend { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("export_garbage") && text.contains("corrupt"),
        "{text}"
    );
    assert!(
        jobs.store_field("garbage", Export::PROGRESS, &1)
            .await
            .is_err()
    );
    // the bad rows are left as they were, the other job is whole
    assert_eq!(
        data(&row(&store, &owner, "array").await.unwrap()),
        json!([1, 2])
    );
    assert_eq!(jobs.load("good").await.unwrap(), Some(export("c.csv")));
    // entries (one statement) lists all three, each bad one with its error
    let entries = jobs.entries().await.unwrap();
    let ids: Vec<&str> = entries.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["array", "garbage", "good"]);
    assert!(
        matches!(entries[0].1, Err(Error::NotAnObject { .. })),
        "{entries:?}"
    );
    let text = entries[1].1.as_ref().unwrap_err().to_string();
    assert!(
        text.contains("export_garbage") && text.contains("corrupt"),
        "{text}"
    );
    assert_eq!(entries[2].1.as_ref().unwrap(), &export("c.csv"));
    // a whole store replaces them
    jobs.store("array", &export("d.csv")).await.unwrap();
    jobs.store("garbage", &export("e.csv")).await.unwrap();
    assert_eq!(jobs.load("array").await.unwrap(), Some(export("d.csv")));
    assert_eq!(jobs.load("garbage").await.unwrap(), Some(export("e.csv")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_take_turns_and_a_second_one_changes_nothing() {
    let store = super::sqlite_store().await;
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
    let other = AsyncJobSession::<Export, _>::new(fresh.owner(&token()).unwrap());
    other.store("b", &export("b.csv")).await.unwrap();
    assert_eq!(other.ids().await.unwrap(), ["b"]);
}

/// Only a watched job's writes log a change, and a change holds the job's
/// topic and revision, never its values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_watched_jobs_log_changes_and_never_their_values() {
    let store = super::sqlite_store().await;
    let (owner, jobs) = jobs(&store);
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM jobsess_jobs_changes")
            .fetch_one(store.pool())
            .await
            .unwrap()
    };
    jobs.store("a", &export("secret.csv")).await.unwrap();
    jobs.store_field("a", Export::PROGRESS, &1).await.unwrap();
    assert_eq!(count().await, 0, "an unwatched job logged a change");

    let mut changes = Box::pin(jobs.watch("a").await.unwrap());
    assert_eq!(
        changes.next().await.unwrap().unwrap(),
        Change::Updated(Export {
            progress: 1,
            ..export("secret.csv")
        })
    );
    jobs.store_field("a", Export::PROGRESS, &2).await.unwrap();
    let logged = sqlx::query("SELECT * FROM jobsess_jobs_changes")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(
        logged[0].get::<String, _>("topic"),
        format!("{owner}/export_a")
    );
    let revision: i64 = logged[0].get("revision");
    let row = row(&store, &owner, "a").await.unwrap();
    assert_eq!(revision, row.get::<i64, _>("revision"));
    for column in 0..logged[0].len() {
        let text: Option<String> = logged[0].try_get(column).ok();
        assert!(!text.unwrap_or_default().contains("secret"));
    }
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), changes.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap(),
        Change::Updated(Export {
            progress: 2,
            ..export("secret.csv")
        })
    );
}

/// Two stores on two pools on one file are two app instances (two
/// processes would be the same to SQLite): a watcher on one sees every
/// write made on the other, the last one always, and the removal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_on_one_instance_follows_writes_on_another() {
    let path = crate::common::sqlite_path();
    let one = SqliteJobStore::open(&path).await.unwrap();
    let other = SqliteJobStore::open(&path).await.unwrap();
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

/// The counter both processes of the test below add to.
#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq)]
#[job_metadata(prefix = "tally")]
struct Tally {
    n: u32,
}

/// How many increments each process makes at once.
const INCREMENTS: usize = 100;

/// 100 concurrent increments of job `count` of `owner` in `store`; the
/// errors, as text.
async fn increments(store: &SqliteJobStore, owner: &str) -> Vec<String> {
    let jobs = AsyncJobSession::<Tally, _>::new(store.owner(owner).unwrap());
    let tasks: Vec<_> = (0..INCREMENTS)
        .map(|_| {
            let jobs = jobs.clone();
            tokio::spawn(async move { jobs.increment_field("count", Tally::N, 1).await })
        })
        .collect();
    let mut errors = Vec::new();
    for task in tasks {
        if let Err(err) = task.await.unwrap() {
            errors.push(err.to_string());
        }
    }
    errors
}

/// The other process of the test below (this test binary, run again on
/// this one test): it opens the file the parent names, says it is ready,
/// waits for the start, makes its increments, and fails on any error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the other process of two_processes_count_to_200_on_one_file, which runs it"]
async fn increments_from_another_process() {
    let path = std::env::var("JOBSESS_SQLITE_FILE").expect("run by the two-process test");
    let owner = std::env::var("JOBSESS_SQLITE_OWNER").unwrap();
    let store = SqliteJobStore::open(&path).await.unwrap();
    std::fs::write(format!("{path}.ready"), "").unwrap();
    let go = std::path::PathBuf::from(format!("{path}.go"));
    while !go.exists() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let errors = increments(&store, &owner).await;
    assert!(errors.is_empty(), "{} failed: {errors:?}", errors.len());
}

/// Two processes on one database file, 100 concurrent increments each, end
/// at exactly 200, with no error: no "database is locked", no lost write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_count_to_200_on_one_file() {
    let path = crate::common::sqlite_path();
    let store = SqliteJobStore::open(&path).await.unwrap();
    let owner = token();
    let jobs = AsyncJobSession::<Tally, _>::new(store.owner(&owner).unwrap());
    jobs.store("count", &Tally { n: 0 }).await.unwrap();

    let test = format!("{}::increments_from_another_process", module_path!())
        .split_once("::")
        .unwrap()
        .1
        .to_owned();
    let mut other = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test.as_str(), "--exact", "--ignored", "--test-threads=1"])
        .env("JOBSESS_SQLITE_FILE", &path)
        .env("JOBSESS_SQLITE_OWNER", &owner)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let ready = std::path::PathBuf::from(format!("{}.ready", path.display()));
    let started = Instant::now();
    while !ready.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the other process never got ready"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    std::fs::write(format!("{}.go", path.display()), "").unwrap();
    let errors = increments(&store, &owner).await;
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut out = String::new();
        other
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        (other.wait().unwrap(), out)
    })
    .await
    .unwrap();
    assert!(output.0.success(), "the other process failed: {}", output.1);
    assert!(
        output.1.contains("1 passed"),
        "the other process ran its increments: {}",
        output.1
    );
    assert!(
        errors.is_empty(),
        "{} failed here: {errors:?}",
        errors.len()
    );
    assert_eq!(jobs.load_field("count", Tally::N).await.unwrap(), Some(200));
}
