//! The conformance suite of server-side job stores: every engine that
//! implements `jobsess::store::JobStore` gives the same answers to the same
//! requests, through the typed handle only. Each case starts cold (a fresh
//! owner, no warm-up); `conformance!` runs every case against one engine.

use std::time::Duration;

use futures_util::StreamExt;
use jobsess::store::JobStore;
use jobsess::watch::Change;
use jobsess::{AsyncJobSession, End, Error, JobMetadata, Status};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone, Default)]
#[job_metadata(prefix = "conf", status = status)]
struct Job {
    file: String,
    #[serde(default)]
    status: Status,
    #[serde(default)]
    progress: u8,
    #[serde(default)]
    counter: u32,
    #[serde(default)]
    notes: Vec<String>,
}

fn job(file: &str) -> Job {
    Job {
        file: file.into(),
        ..Job::default()
    }
}

/// A fresh owner's jobs in `store`.
fn owner<E: JobStore>(store: &E) -> AsyncJobSession<Job, E::Owner> {
    let token = jobsess::redis::RedisJobStore::new_owner_token().unwrap();
    AsyncJobSession::new(store.owner(&token).unwrap())
}

/// The Python notebook's flow: store, store again (a replace), ids in
/// order, whole and per-field reads and writes, a missing job (`None`, and
/// a field write that recreates nothing), delete and clear.
pub(crate) async fn the_notebook_flow<E: JobStore>(store: E) {
    let jobs = owner(&store);
    jobs.store("job-2", &job("b.mp3")).await.unwrap();
    jobs.store("job-1", &job("a.mp3")).await.unwrap();
    jobs.store("job-1", &job("a2.mp3")).await.unwrap();
    assert_eq!(jobs.ids().await.unwrap(), ["job-1", "job-2"]);
    assert_eq!(jobs.load("job-1").await.unwrap(), Some(job("a2.mp3")));
    jobs.store_field("job-2", Job::PROGRESS, &50).await.unwrap();
    jobs.store_field("job-2", Job::NOTES, &vec!["en".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        jobs.load_field("job-2", Job::PROGRESS).await.unwrap(),
        Some(50)
    );
    assert_eq!(
        jobs.load_field("job-1", Job::NOTES).await.unwrap(),
        Some(Vec::new())
    );
    assert_eq!(
        jobs.load("job-2").await.unwrap(),
        Some(Job {
            progress: 50,
            notes: vec!["en".to_owned()],
            ..job("b.mp3")
        })
    );
    assert!(matches!(
        jobs.store_field("job-9", Job::PROGRESS, &1).await,
        Err(Error::JobNotFound { .. })
    ));
    assert_eq!(jobs.load("job-9").await.unwrap(), None);
    assert_eq!(jobs.load_field("job-9", Job::PROGRESS).await.unwrap(), None);
    assert!(jobs.delete("job-2").await.unwrap());
    assert!(!jobs.delete("job-2").await.unwrap());
    assert!(!jobs.contains("job-2").await.unwrap());
    assert_eq!(jobs.clear().await.unwrap(), 1);
    assert!(jobs.ids().await.unwrap().is_empty());
}

pub(crate) async fn owners_are_isolated<E: JobStore>(store: E) {
    let (alice, bob) = (owner(&store), owner(&store));
    alice.store("a", &job("alice.csv")).await.unwrap();
    assert_eq!(bob.load("a").await.unwrap(), None);
    assert!(bob.ids().await.unwrap().is_empty());
    assert_eq!(bob.clear().await.unwrap(), 0);
    let err = bob.store_field("a", Job::PROGRESS, &1).await.unwrap_err();
    assert!(matches!(err, Error::JobNotFound { .. }), "{err:?}");
    assert_eq!(alice.load("a").await.unwrap(), Some(job("alice.csv")));
    let err = store.owner("short").map(drop).unwrap_err();
    assert!(matches!(err, Error::InvalidOwner), "{err:?}");
    alice.clear().await.unwrap();
}

pub(crate) async fn a_field_write_never_recreates_a_job<E: JobStore>(store: E) {
    let jobs = owner(&store);
    let err = jobs
        .store_field("gone", Job::PROGRESS, &1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::JobNotFound { .. }), "{err:?}");
    // what a 404 says: no session holds a store's jobs
    assert_eq!(err.to_string(), "conf_gone: no such job");
    assert!(!jobs.contains("gone").await.unwrap());
    assert!(jobs.ids().await.unwrap().is_empty());
}

/// 20 tasks each write their own field of one job at once, and 50 tasks
/// each add one to a counter with `update`: nothing is lost.
pub(crate) async fn concurrent_writers_lose_nothing<E: JobStore>(store: E) {
    let jobs = owner(&store);
    jobs.store("a", &job("a.csv")).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..50u32 {
        let jobs = jobs.clone();
        tasks.push(tokio::spawn(async move {
            jobs.update("a", |job| job.counter += 1).await.unwrap();
            if i < 20 {
                let note = format!("note {i}");
                jobs.update_field("a", Job::NOTES, |notes| notes.push(note.clone()))
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stored = jobs.load("a").await.unwrap().unwrap();
    assert_eq!(stored.counter, 50);
    assert_eq!(stored.notes.len(), 20);
    jobs.clear().await.unwrap();
}

/// Concurrent first requests of one session, each with its own fresh
/// token, agree on the one claimed first.
pub(crate) async fn concurrent_claims_agree<E: JobStore>(store: E) {
    let claim = jobsess::redis::RedisJobStore::new_owner_token().unwrap();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (store, claim) = (store.clone(), claim.clone());
        tasks.push(tokio::spawn(async move {
            let fresh = jobsess::redis::RedisJobStore::new_owner_token().unwrap();
            store.claim(&claim, &fresh).await.unwrap()
        }));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
}

/// 50 concurrent first requests of one session that has no owner token
/// yet, each with its own copy of the session as a session store loads it
/// per request, each store a job under the token it gets, then save the
/// session: with `claimed_owner_token` every job is the session's owner's.
/// (`owner_token`, which claims nothing, lost most of them: each request
/// made its own token, and the session kept one.)
pub(crate) async fn concurrent_first_requests_lose_no_job<E: JobStore>(store: E) {
    use std::sync::Arc;
    use tower_sessions_015::{MemoryStore, Session};
    let sessions = Arc::new(MemoryStore::default());
    let first = Session::new(None, Arc::clone(&sessions), None);
    first.insert("visits", 1).await.unwrap();
    first.save().await.unwrap();
    let id = first.id().unwrap();
    let mut requests = Vec::new();
    for i in 0..50 {
        let (store, sessions) = (store.clone(), Arc::clone(&sessions));
        requests.push(tokio::spawn(async move {
            let session = Session::new(Some(id), sessions, None);
            let claim = id.to_string();
            let token = jobsess::store::claimed_owner_token(&store, &session, Some(&claim))
                .await
                .unwrap();
            let jobs = AsyncJobSession::<Job, _>::new(store.owner(&token).unwrap());
            jobs.store(&format!("j{i}"), &job("a.csv")).await.unwrap();
            session.save().await.unwrap();
        }));
    }
    for request in requests {
        request.await.unwrap();
    }
    let session = Session::new(Some(id), sessions, None);
    let token: String = session
        .get(jobsess::store::OWNER_KEY)
        .await
        .unwrap()
        .unwrap();
    let jobs = AsyncJobSession::<Job, _>::new(store.owner(&token).unwrap());
    assert_eq!(
        jobs.ids().await.unwrap().len(),
        50,
        "every request's job is the session's"
    );
    jobs.clear().await.unwrap();
}

/// A watcher gets the job as it is, each change in write order (it may
/// skip some, never the last), then `Deleted`.
pub(crate) async fn a_watcher_follows_the_job<E: JobStore>(store: E) {
    let jobs = owner(&store);
    jobs.store("a", &job("a.csv")).await.unwrap();
    let mut changes = Box::pin(jobs.watch("a").await.unwrap());
    let mut next = async || -> Change<Job> {
        tokio::time::timeout(Duration::from_secs(5), changes.next())
            .await
            .expect("a change within 5 s")
            .expect("the stream goes on")
            .unwrap()
    };
    assert_eq!(next().await, Change::Updated(job("a.csv")));
    for progress in [10u8, 20] {
        jobs.store_field("a", Job::PROGRESS, &progress)
            .await
            .unwrap();
    }
    // the last change by an update of the field
    let done = jobs.update_field("a", Job::PROGRESS, |p| *p += 10).await;
    assert_eq!(done.unwrap(), 30);
    let mut last = 0;
    while last < 30 {
        match next().await {
            Change::Updated(now) => {
                assert!(now.progress >= last, "{now:?} after {last}");
                last = now.progress;
            }
            Change::Deleted => panic!("deleted before it was"),
        }
    }
    // an increment is a change the watcher sees too
    assert_eq!(jobs.increment_field("a", Job::COUNTER, 5).await.unwrap(), 5);
    match next().await {
        Change::Updated(now) => assert_eq!((now.progress, now.counter), (30, 5)),
        Change::Deleted => panic!("deleted before it was"),
    }
    jobs.delete("a").await.unwrap();
    assert_eq!(next().await, Change::Deleted);
}

/// A job that ends ends its watchers: a watcher of the whole job gets the
/// finishing state, one of a field its value if it changed, then the end,
/// and each says how the job ended; a watcher that comes after the end gets the final state and the
/// end at once. A failed job ends them the same way.
pub(crate) async fn an_ended_job_ends_its_watchers<E: JobStore>(store: E) {
    let jobs = owner(&store);
    jobs.store("a", &job("a.csv")).await.unwrap();
    let mut whole = jobs.watch("a").await.unwrap();
    let mut progress = jobs.watch_field("a", Job::PROGRESS).await.unwrap();
    let within = Duration::from_secs(5);
    let first = tokio::time::timeout(within, whole.next()).await.unwrap();
    assert_eq!(first.unwrap().unwrap(), Change::Updated(job("a.csv")));
    let first = tokio::time::timeout(within, progress.next()).await.unwrap();
    assert_eq!(first.unwrap().unwrap(), 0);
    jobs.store_field("a", Job::PROGRESS, &100).await.unwrap();
    jobs.finish("a").await.unwrap();
    // the whole job: every state up to the finished one, then the end
    let mut last = None;
    while let Some(change) = tokio::time::timeout(within, whole.next()).await.unwrap() {
        last = Some(change.unwrap());
    }
    let finished = Job {
        progress: 100,
        status: Status::Finished,
        ..job("a.csv")
    };
    assert_eq!(last, Some(Change::Updated(finished.clone())));
    assert_eq!(whole.end(), Some(&End::Finished));
    // the field: up to 100, then the end (finishing left it as it was)
    let mut values = Vec::new();
    while let Some(value) = tokio::time::timeout(within, progress.next()).await.unwrap() {
        values.push(value.unwrap());
    }
    assert_eq!(values.last(), Some(&100), "{values:?}");
    assert_eq!(progress.end(), Some(&End::Finished));
    // a watcher that comes late: the final state, then the end
    let mut late = jobs.watch("a").await.unwrap();
    let state = tokio::time::timeout(within, late.next()).await.unwrap();
    assert_eq!(state.unwrap().unwrap(), Change::Updated(finished));
    assert!(
        tokio::time::timeout(within, late.next())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(late.end(), Some(&End::Finished));

    // a failed job, watched by its field
    jobs.store("b", &job("b.csv")).await.unwrap();
    let mut files = jobs.watch_field("b", Job::FILE).await.unwrap();
    let first = tokio::time::timeout(within, files.next()).await.unwrap();
    assert_eq!(first.unwrap().unwrap(), "b.csv");
    jobs.fail("b", "the codec crashed").await.unwrap();
    // the file didn't change: no value, the end
    assert!(
        tokio::time::timeout(within, files.next())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(files.end(), Some(&End::Failed("the codec crashed".into())));
    // a job that is deleted ends its watchers with no end
    jobs.store("c", &job("c.csv")).await.unwrap();
    let mut gone = jobs.watch("c").await.unwrap();
    tokio::time::timeout(within, gone.next()).await.unwrap();
    jobs.delete("c").await.unwrap();
    let deleted = tokio::time::timeout(within, gone.next()).await.unwrap();
    assert_eq!(deleted.unwrap().unwrap(), Change::Deleted);
    assert!(gone.next().await.is_none());
    assert_eq!(gone.end(), None);
    jobs.clear().await.unwrap();
}

/// A reference opens its own job and no other: a worker reads and writes
/// that job through it; the serialized reference holds no owner token; a
/// reference altered to name another job of the owner, or with another
/// grant, opens nothing, and the owner's other jobs are left untouched.
pub(crate) async fn a_reference_opens_its_job_and_no_other<E: JobStore>(store: E) {
    let token = jobsess::redis::RedisJobStore::new_owner_token().unwrap();
    let jobs = AsyncJobSession::<Job, _>::new(store.owner(&token).unwrap());
    jobs.store("a", &job("a.csv")).await.unwrap();
    jobs.store("b", &job("b.csv")).await.unwrap();
    let err = jobs.reference("nope").await.unwrap_err();
    assert!(matches!(err, Error::JobNotFound { .. }), "{err:?}");

    let reference = jobs.reference("a").await.unwrap();
    assert_eq!(
        jobs.reference("a").await.unwrap(),
        reference,
        "one reference per job"
    );
    let payload = serde_json::to_string(&reference).unwrap();
    assert!(!payload.contains(&token), "{payload}");
    assert!(!format!("{reference:?}").contains(&token));

    // the worker's side: only the payload and the store
    let reference: jobsess::store::JobRef = serde_json::from_str(&payload).unwrap();
    let worker = store.open::<Job>(&reference).await.unwrap();
    assert_eq!(worker.id(), "a");
    assert_eq!(worker.load().await.unwrap(), Some(job("a.csv")));
    worker.store_field(Job::PROGRESS, &50).await.unwrap();
    worker
        .update_field(Job::COUNTER, |c| *c += 2)
        .await
        .unwrap();
    worker
        .update(|job| job.notes.push("halfway".into()))
        .await
        .unwrap();
    assert_eq!(worker.load_field(Job::PROGRESS).await.unwrap(), Some(50));
    worker.finish().await.unwrap();
    let seen = jobs.load("a").await.unwrap().unwrap();
    assert_eq!((seen.progress, seen.counter), (50, 2));
    assert_eq!(seen.status, Status::Finished);

    // altered: another job of the owner with this grant, a changed grant,
    // a grant that is no digest, a key with no prefix
    let grant = payload
        .split("\"grant\":\"")
        .nth(1)
        .unwrap()
        .trim_end_matches("\"}")
        .to_owned();
    let mut flipped = grant.clone().into_bytes();
    flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    for (job_key, grant) in [
        ("conf_b", grant.as_str()),
        ("conf_a", flipped.as_str()),
        ("conf_a", "not-a-digest"),
        ("conf-a", grant.as_str()),
    ] {
        let altered = serde_json::json!({ "job": job_key, "grant": grant });
        let altered: jobsess::store::JobRef = serde_json::from_value(altered).unwrap();
        let err = store.open::<Job>(&altered).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidReference { job, .. } if job == job_key),
            "{job_key} {grant}: {err:?}"
        );
        assert_eq!(err.http_status(), 400);
    }
    // nothing else of the owner was touched
    assert_eq!(jobs.load("b").await.unwrap(), Some(job("b.csv")));
    assert_eq!(jobs.ids().await.unwrap(), ["a", "b"]);

    // a reference to a job that is gone opens, finds nothing, recreates nothing
    jobs.delete("a").await.unwrap();
    let worker = store.open::<Job>(&reference).await.unwrap();
    assert_eq!(worker.load().await.unwrap(), None);
    let err = worker.store_field(Job::PROGRESS, &60).await.unwrap_err();
    assert!(matches!(err, Error::JobNotFound { .. }), "{err:?}");
    assert_eq!(jobs.ids().await.unwrap(), ["b"]);
    jobs.clear().await.unwrap();
}

/// 8 workers, each with its own handle opened from the job's reference,
/// add 1 to one counter 1,000 times at once: it ends at exactly 8,000. The
/// engine adds in one atomic step (its own `increment_field` answers the
/// sum), not by the handle's read, add and write.
pub(crate) async fn eight_workers_count_to_8000<E: JobStore>(store: E) {
    use jobsess::AsyncSessionBackend;
    use jobsess::backend::{Increment, Incremented};
    let token = jobsess::redis::RedisJobStore::new_owner_token().unwrap();
    let owner = store.owner(&token).unwrap();
    let jobs = AsyncJobSession::<Job, _>::new(owner.clone());
    jobs.store("a", &job("a.csv")).await.unwrap();
    let reference = jobs.reference("a").await.unwrap();
    let mut workers = Vec::new();
    for _ in 0..8 {
        let worker = store.open::<Job>(&reference).await.unwrap();
        workers.push(tokio::spawn(async move {
            for _ in 0..1000 {
                worker.increment_field(Job::COUNTER, 1).await.unwrap();
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(
        jobs.load_field("a", Job::COUNTER).await.unwrap(),
        Some(8000)
    );
    let done = owner
        .increment_field(
            "conf_a",
            Increment::new("counter", 2).within(0, i64::from(u32::MAX)),
        )
        .await
        .unwrap();
    assert_eq!(done, Incremented::To(8002), "one atomic step in the engine");
    let none = owner
        .increment_field("conf_gone", Increment::new("counter", 1))
        .await
        .unwrap();
    assert_eq!(none, Incremented::NoJob);
    assert!(!jobs.contains("gone").await.unwrap());
    jobs.clear().await.unwrap();
}

/// An owner with 10,000 jobs: `ids()`, `entries()` (one listing, not a
/// read per job) and `clear()` each take them all at once, and another
/// owner's jobs stay. (Redis's `clear()` once failed here: its script
/// unpacked every key into one call, past Lua's limit.)
pub(crate) async fn an_owner_with_10_000_jobs<E: JobStore>(store: E) {
    const JOBS: usize = 10_000;
    let (many, other) = (owner(&store), owner(&store));
    other.store("kept", &job("kept.csv")).await.unwrap();
    let ids: Vec<String> = (0..JOBS).map(|i| format!("job-{i:05}")).collect();
    let stored: Vec<Result<(), Error>> = futures_util::stream::iter(&ids)
        .map(|id| {
            let many = &many;
            async move {
                let job = Job {
                    progress: u8::try_from(id.len()).unwrap(),
                    ..job(id)
                };
                many.store(id, &job).await
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(stored.iter().all(Result::is_ok));
    assert_eq!(many.ids().await.unwrap(), ids);
    let entries = many.entries().await.unwrap();
    assert_eq!(entries.len(), JOBS);
    for ((id, entry), expected) in entries.into_iter().zip(&ids) {
        assert_eq!(&id, expected);
        assert_eq!(entry.unwrap().file, id);
    }
    assert_eq!(many.clear().await.unwrap(), JOBS);
    assert!(many.ids().await.unwrap().is_empty());
    assert!(many.entries().await.unwrap().is_empty());
    assert_eq!(many.clear().await.unwrap(), 0);
    assert_eq!(other.load("kept").await.unwrap(), Some(job("kept.csv")));
    other.clear().await.unwrap();
}

/// One step of [`answers_as_an_in_memory_session`].
#[derive(Debug, Clone)]
enum Step {
    Store(usize, u8),
    StoreField(usize, u8),
    Notes(usize, Vec<String>),
    Update(usize),
    Increment(usize),
    Delete(usize),
    Clear,
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    let ids = 0..4usize;
    prop_oneof![
        (ids.clone(), any::<u8>()).prop_map(|(i, p)| Step::Store(i, p)),
        (ids.clone(), any::<u8>()).prop_map(|(i, p)| Step::StoreField(i, p)),
        (
            ids.clone(),
            proptest::collection::vec("[a-z'\"%_\\\\ $.\\[\\]é]{0,8}", 0..3)
        )
            .prop_map(|(i, n)| Step::Notes(i, n)),
        ids.clone().prop_map(Step::Update),
        ids.clone().prop_map(Step::Increment),
        ids.prop_map(Step::Delete),
        Just(Step::Clear),
    ]
}

/// Runs `step` on `jobs`, its answer as text (errors by kind).
async fn run_step<B: jobsess::AsyncSessionBackend>(
    jobs: &AsyncJobSession<Job, B>,
    step: &Step,
) -> String {
    let ids = ["a", "b", "c_d", "e%"];
    let shown = |result: Result<String, Error>| match result {
        Ok(text) => text,
        Err(Error::JobNotFound { .. }) => "not found".to_owned(),
        Err(err) => format!("error {err}"),
    };
    match step {
        Step::Store(i, p) => {
            let job = Job {
                progress: *p,
                ..job(ids[*i])
            };
            shown(jobs.store(ids[*i], &job).await.map(|()| "stored".into()))
        }
        Step::StoreField(i, p) => shown(
            jobs.store_field(ids[*i], Job::PROGRESS, p)
                .await
                .map(|()| "set".into()),
        ),
        Step::Notes(i, notes) => shown(
            jobs.store_field(ids[*i], Job::NOTES, notes)
                .await
                .map(|()| "noted".into()),
        ),
        Step::Update(i) => shown(
            jobs.update(ids[*i], |job| job.progress = job.progress.wrapping_add(1))
                .await
                .map(|job| format!("{job:?}")),
        ),
        Step::Increment(i) => shown(
            jobs.increment_field(ids[*i], Job::COUNTER, 1)
                .await
                .map(|n| n.to_string()),
        ),
        Step::Delete(i) => shown(jobs.delete(ids[*i]).await.map(|d| d.to_string())),
        Step::Clear => shown(jobs.clear().await.map(|n| n.to_string())),
    }
}

/// Random sequences of operations get the same answers from the engine as
/// from an in-memory session (a `HashMap` behind a `Mutex`), and leave the
/// same jobs: a property test, one backend against another. (No NUL in
/// the strings: PostgreSQL refuses it by design, `Error::Unstorable`,
/// which its own tests hold.)
pub(crate) async fn answers_as_an_in_memory_session<E: JobStore>(store: E) {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let runtime = tokio::runtime::Handle::current();
    let steps = proptest::collection::vec(step(), 1..24);
    let result = tokio::task::block_in_place(|| {
        runner.run(&steps, |steps| {
            runtime.block_on(async {
                let engine = owner(&store);
                let memory = AsyncJobSession::<Job, _>::new(std::sync::Mutex::new(
                    std::collections::HashMap::<String, serde_json::Value>::new(),
                ));
                for step in &steps {
                    let (answer, in_memory) =
                        (run_step(&engine, step).await, run_step(&memory, step).await);
                    assert_eq!(answer, in_memory, "{step:?} in {steps:?}");
                }
                assert_eq!(engine.ids().await.unwrap(), memory.ids().await.unwrap());
                // entries, one step on the engine, against the session's
                let shown = |entries: Vec<(String, Result<Job, Error>)>| -> Vec<_> {
                    entries
                        .into_iter()
                        .map(|(id, job)| (id, job.map_err(|e| e.to_string())))
                        .collect()
                };
                assert_eq!(
                    shown(engine.entries().await.unwrap()),
                    shown(memory.entries().await.unwrap())
                );
                for id in memory.ids().await.unwrap() {
                    assert_eq!(
                        engine.load(&id).await.unwrap(),
                        memory.load(&id).await.unwrap()
                    );
                }
            });
            Ok(())
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Runs every case against the engine `$make` builds (an async block
/// giving the engine; `$need` is `Some(why)` when its service is missing).
/// The list of cases is written here once, for every engine.
macro_rules! conformance {
    ($engine:ident, $need:expr, $make:expr) => {
        conformance!(@cases $engine, $need, $make, [
            the_notebook_flow,
            owners_are_isolated,
            a_field_write_never_recreates_a_job,
            concurrent_writers_lose_nothing,
            concurrent_claims_agree,
            a_watcher_follows_the_job,
            a_reference_opens_its_job_and_no_other,
            eight_workers_count_to_8000,
            concurrent_first_requests_lose_no_job,
            an_ended_job_ends_its_watchers,
            answers_as_an_in_memory_session,
            an_owner_with_10_000_jobs,
        ]);
    };
    (@cases $engine:ident, $need:expr, $make:expr, [$($case:ident),* $(,)?]) => {
        mod $engine {
            use super::super::store_conformance as cases;

            async fn store() -> Option<impl jobsess::store::JobStore> {
                if let Some(why) = $need {
                    crate::common::skipped(&why);
                    return None;
                }
                Some($make.await)
            }

            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(store) = store().await {
                        cases::$case(store).await;
                    }
                }
            )*
        }
    };
}

conformance!(redis, crate::common::redis(), async {
    jobsess::redis::RedisJobStore::connect(&crate::common::redis_url())
        .await
        .unwrap()
        .with_namespace("jobsess-conformance")
        .with_ttl(std::time::Duration::from_secs(600))
});

conformance!(postgres, crate::common::postgres(), async {
    crate::common::postgres_store()
        .await
        .with_ttl(std::time::Duration::from_secs(600))
});

conformance!(postgres_sqlx09, crate::common::postgres(), async {
    crate::common::postgres_store_sqlx09()
        .await
        .with_ttl(std::time::Duration::from_secs(600))
});

conformance!(sqlite, None::<String>, async {
    crate::common::sqlite_store()
        .await
        .with_ttl(std::time::Duration::from_secs(600))
});

conformance!(sqlite_sqlx09, None::<String>, async {
    crate::common::sqlite_store_sqlx09()
        .await
        .with_ttl(std::time::Duration::from_secs(600))
});

/// The store on sqlx 0.8 and the store on sqlx 0.9, on one table, read and
/// write the same jobs: an app can move from one to the other, or run both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlx_08_and_09_stores_share_one_table() {
    require!(crate::common::postgres());
    let schema = format!(
        "jobsess_test_{}",
        &jobsess::redis::RedisJobStore::new_owner_token().unwrap()[..12]
    );
    let old = jobsess::postgres::PostgresJobStore::connect(&crate::common::database_url())
        .await
        .unwrap()
        .with_schema(&schema);
    old.migrate().await.unwrap();
    let new = jobsess::postgres_sqlx09::PostgresJobStore::connect(&crate::common::database_url())
        .await
        .unwrap()
        .with_schema(&schema);
    new.migrate().await.unwrap();
    let token = jobsess::redis::RedisJobStore::new_owner_token().unwrap();
    let on_08 = AsyncJobSession::<Job, _>::new(old.owner(&token).unwrap());
    let on_09 = AsyncJobSession::<Job, _>::new(new.owner(&token).unwrap());
    on_08.store("a", &job("a.csv")).await.unwrap();
    assert_eq!(on_09.load("a").await.unwrap(), Some(job("a.csv")));
    on_09.increment_field("a", Job::COUNTER, 3).await.unwrap();
    on_08.increment_field("a", Job::COUNTER, 4).await.unwrap();
    assert_eq!(on_09.load_field("a", Job::COUNTER).await.unwrap(), Some(7));
    // a reference made on one opens on the other
    let reference = on_08.reference("a").await.unwrap();
    let worker = new.open::<Job>(&reference).await.unwrap();
    worker.finish().await.unwrap();
    assert_eq!(
        on_08.load_field("a", Job::STATUS).await.unwrap(),
        Some(Status::Finished)
    );
    // and a watcher on one sees the other's writes
    on_08.store("b", &job("b.csv")).await.unwrap();
    let mut progress = on_09.watch_field("b", Job::PROGRESS).await.unwrap();
    let within = Duration::from_secs(5);
    assert_eq!(
        tokio::time::timeout(within, progress.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap(),
        0
    );
    on_08.store_field("b", Job::PROGRESS, &60).await.unwrap();
    assert_eq!(
        tokio::time::timeout(within, progress.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap(),
        60
    );
    on_08.clear().await.unwrap();
}

/// The SQLite store on sqlx 0.8 and on sqlx 0.9, in one build (one
/// SQLite linked) and on one database file, read and write the same jobs,
/// and each one's watchers see the other's writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_stores_on_sqlx_08_and_09_share_one_file() {
    let path = crate::common::sqlite_path();
    let old = jobsess::sqlite::SqliteJobStore::open(&path).await.unwrap();
    let new = jobsess::sqlite_sqlx09::SqliteJobStore::open(&path)
        .await
        .unwrap();
    let token = jobsess::sqlite::SqliteJobStore::new_owner_token().unwrap();
    let on_08 = AsyncJobSession::<Job, _>::new(old.owner(&token).unwrap());
    let on_09 = AsyncJobSession::<Job, _>::new(new.owner(&token).unwrap());
    on_08.store("a", &job("a.csv")).await.unwrap();
    assert_eq!(on_09.load("a").await.unwrap(), Some(job("a.csv")));
    on_09.increment_field("a", Job::COUNTER, 3).await.unwrap();
    on_08.increment_field("a", Job::COUNTER, 4).await.unwrap();
    assert_eq!(on_09.load_field("a", Job::COUNTER).await.unwrap(), Some(7));
    let reference = on_08.reference("a").await.unwrap();
    new.open::<Job>(&reference)
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    assert_eq!(
        on_08.load_field("a", Job::STATUS).await.unwrap(),
        Some(Status::Finished)
    );
    // (a finished job's stream ends: watch another)
    on_08.store("b", &job("b.csv")).await.unwrap();
    let mut progress = on_09.watch_field("b", Job::PROGRESS).await.unwrap();
    let within = Duration::from_secs(5);
    let next = tokio::time::timeout(within, progress.next());
    assert_eq!(next.await.unwrap().unwrap().unwrap(), 0);
    on_08.store_field("b", Job::PROGRESS, &60).await.unwrap();
    let next = tokio::time::timeout(within, progress.next());
    assert_eq!(next.await.unwrap().unwrap().unwrap(), 60);
}

conformance!(memory, None::<String>, async {
    jobsess::store::MemoryJobStore::new()
});
