//! tower-sessions' `Session` (memory store) through jobsess against the
//! same calls written by hand on the same `Session`:
//! `cargo bench -p jobsess-benches --bench tower_sessions`. BENCHMARKS.md
//! has the results.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};

#[allow(dead_code)] // the benches share `common`; this one uses a part of it
mod common;
use common::harness::{async_pair, floor, runtime, sync_pair};
use common::job::{ID, TranscriptionJob, job_123};
use common::tower_floor;
use jobsess::{AsyncJobSession, JobSession};
use serde_json::Value;
use tower_sessions::{MemoryStore, Session};

fn new_session() -> Session {
    Session::new(None, Arc::new(MemoryStore::default()), None)
}

fn tower_sessions(c: &mut Criterion) {
    let rt = runtime();
    let job = job_123();
    let (session, jobs) = (
        new_session(),
        AsyncJobSession::<TranscriptionJob, _>::new(new_session()),
    );
    async_pair(
        c,
        &rt,
        "tower_store_load_delete",
        || async {
            session.insert("job_job-123", &job).await.expect("inserts");
            let back: Option<TranscriptionJob> = session.get("job_job-123").await.expect("gets");
            let gone: Option<Value> = session.remove("job_job-123").await.expect("removes");
            black_box((back, gone));
        },
        || async {
            jobs.store(black_box(ID), &job).await.expect("stores");
            let back = jobs.load(black_box(ID)).await.expect("loads");
            let gone = jobs.delete(black_box(ID)).await.expect("deletes");
            black_box((back, gone));
        },
    );

    // the floor: tower-sessions' `get` of the whole job, then the field
    let session = new_session();
    rt.block_on(session.insert("job_job-123", &job))
        .expect("inserts");
    let jobs = AsyncJobSession::<TranscriptionJob, _>::new(session.clone());
    async_pair(
        c,
        &rt,
        "tower_load_field",
        || async {
            let whole: Option<TranscriptionJob> = session.get("job_job-123").await.expect("gets");
            black_box(whole.map(|j| j.plugin_info));
        },
        || async {
            black_box(
                jobs.load_field(black_box(ID), TranscriptionJob::PLUGIN_INFO)
                    .await,
            )
            .ok();
        },
    );

    // The peer for one field on an embedded map: tower-sessions-style get of the
    // whole value (clone, then decode all) versus jobsess on the same map.
    let mut map = HashMap::new();
    floor::store(&mut map, ID, &job);
    let shared = std::cell::RefCell::new(map);
    sync_pair(
        c,
        "map_load_field_peer",
        || {
            let whole = shared
                .borrow()
                .get("job_job-123")
                .cloned()
                .expect("present");
            let job: TranscriptionJob = serde_json::from_value(whole).expect("decodes");
            black_box(job.plugin_info);
        },
        || {
            let mut map = shared.borrow_mut();
            let jobs = JobSession::<TranscriptionJob, _>::new(&mut *map);
            black_box(jobs.load_field(black_box(ID), TranscriptionJob::PLUGIN_INFO)).ok();
        },
    );
}

/// tower-sessions, one operation per group, against the same calls written
/// by hand on the same `Session`.
fn tower_operations(c: &mut Criterion) {
    let rt = runtime();
    let job = job_123();

    // the floor keeps a list of ids under one key by hand, as a store that
    // can't list its keys needs (what jobsess does for `ids()`): read the
    // list, add the id if it is missing, then the job
    let (session, jobs) = (
        new_session(),
        AsyncJobSession::<TranscriptionJob, _>::new(new_session()),
    );
    let jobs_store_load = || async {
        jobs.store(black_box(ID), &job).await.expect("stores");
        black_box(jobs.load(black_box(ID)).await.expect("loads"));
    };
    async_pair(
        c,
        &rt,
        "tower_store_get",
        || tower_floor::store_get_with_id_list(&session, black_box(ID), &job),
        jobs_store_load,
    );
    // the plain floor, which keeps no id list and so can't answer `ids()`
    let session = new_session();
    async_pair(
        c,
        &rt,
        "tower_store_get_no_id_list",
        || async {
            let key = format!("job_{}", black_box(ID));
            session.insert(&key, &job).await.expect("inserts");
            let back: Option<TranscriptionJob> = session.get(&key).await.expect("gets");
            black_box(back);
        },
        jobs_store_load,
    );

    let session = new_session();
    rt.block_on(session.insert("job_job-123", &job))
        .expect("inserts");
    let jobs = AsyncJobSession::<TranscriptionJob, _>::new(session.clone());
    async_pair(
        c,
        &rt,
        "tower_get",
        || tower_floor::get::<TranscriptionJob>(&session, black_box(ID)),
        || async {
            black_box(jobs.load(black_box(ID)).await.expect("loads"));
        },
    );

    let prefs = job.user_preferences.clone();
    let session = new_session();
    rt.block_on(session.insert("job_job-123", &job))
        .expect("inserts");
    let jobs = AsyncJobSession::<TranscriptionJob, _>::new(session.clone());
    async_pair(
        c,
        &rt,
        "tower_store_field",
        || tower_floor::store_field(&session, black_box(ID), "user_preferences", &prefs),
        || async {
            jobs.store_field(black_box(ID), TranscriptionJob::USER_PREFERENCES, &prefs)
                .await
                .expect("stores");
        },
    );

    // Ten jobs. The hand-written floor keeps its own list of ids and checks
    // each listed job is still there, as a listing that shows no ghosts must.
    let session = new_session();
    let ids: Vec<String> = (0..10).map(|i| format!("job-{i}")).collect();
    let jobs = AsyncJobSession::<TranscriptionJob, _>::new(new_session());
    rt.block_on(async {
        for id in &ids {
            session
                .insert(&format!("job_{id}"), &job)
                .await
                .expect("inserts");
            jobs.store(id, &job).await.expect("stores");
        }
        session.insert("my_index", &ids).await.expect("inserts");
    });
    async_pair(
        c,
        &rt,
        "tower_ids",
        || async {
            let listed: Vec<String> = session
                .get("my_index")
                .await
                .expect("gets")
                .expect("present");
            let mut live = Vec::with_capacity(listed.len());
            for id in listed {
                if session
                    .get_value(&format!("job_{id}"))
                    .await
                    .expect("gets")
                    .is_some()
                {
                    live.push(id);
                }
            }
            live.sort_unstable();
            black_box(live);
        },
        || async {
            black_box(jobs.ids().await.expect("lists"));
        },
    );
}

criterion_group!(benches, tower_sessions, tower_operations);
criterion_main!(benches);
