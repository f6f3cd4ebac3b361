//! The map backends (`HashMap`, `BTreeMap`, `serde_json::Map`, a
//! `Mutex<HashMap>`) against the same work written by hand on the same
//! map: `cargo bench -p jobsess-benches --bench maps`. BENCHMARKS.md has
//! the results.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

#[allow(dead_code)] // the benches share `common`; this one uses a part of it
mod common;
use common::harness::{floor, sync_pair, update_against_load_store};
use common::job::{ID, TranscriptionJob, UserPreferences, job_123};
use jobsess::{AsyncJobSession, JobSession, UntypedJob};
use serde_json::{Map, Value};

fn map_store_load(c: &mut Criterion) {
    let job = job_123();
    let (mut map, mut jobs_map) = (HashMap::new(), HashMap::new());
    sync_pair(
        c,
        "map_store_load",
        || {
            floor::store(&mut map, black_box(ID), black_box(&job));
            black_box(floor::load(&map, black_box(ID)));
        },
        || {
            let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut jobs_map);
            jobs.store(black_box(ID), black_box(&job)).expect("stores");
            black_box(jobs.load(black_box(ID)).expect("loads"));
        },
    );
}

fn map_load_field(c: &mut Criterion) {
    let mut map = HashMap::new();
    floor::store(&mut map, ID, &job_123());
    let shared = std::cell::RefCell::new(map);
    sync_pair(
        c,
        "map_load_field",
        || {
            black_box(floor::load_plugin(&shared.borrow(), black_box(ID)));
        },
        || {
            let mut map = shared.borrow_mut();
            let jobs = JobSession::<TranscriptionJob, _>::new(&mut *map);
            black_box(jobs.load_field(black_box(ID), TranscriptionJob::PLUGIN_INFO)).ok();
        },
    );
}

fn map_store_field(c: &mut Criterion) {
    let prefs = UserPreferences {
        language: "de".into(),
        format: "vtt".into(),
    };
    let mut map = HashMap::new();
    floor::store(&mut map, ID, &job_123());
    let shared = std::cell::RefCell::new(map);
    sync_pair(
        c,
        "map_store_field",
        || {
            let value = serde_json::to_value(black_box(&prefs)).expect("encodes");
            let mut map = shared.borrow_mut();
            let job = map
                .get_mut(&format!("job_{}", black_box(ID)))
                .expect("present");
            job.as_object_mut()
                .expect("an object")
                .insert("user_preferences".to_owned(), value);
        },
        || {
            let mut map = shared.borrow_mut();
            let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut *map);
            jobs.store_field(
                black_box(ID),
                TranscriptionJob::USER_PREFERENCES,
                black_box(&prefs),
            )
            .expect("stores");
        },
    );
}

/// `update` beside the `load` and `store` it replaces, on a map and on
/// `Mutex<HashMap>` (the target: ≤1.2×).
fn map_update(c: &mut Criterion) {
    let mut map = HashMap::new();
    floor::store(&mut map, ID, &job_123());
    let shared = std::cell::RefCell::new(map);
    sync_pair(
        c,
        "map_update",
        || {
            let mut map = shared.borrow_mut();
            let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut *map);
            let mut job = jobs.load(black_box(ID)).expect("loads").expect("a job");
            job.file_info.size += 1;
            jobs.store(black_box(ID), &job).expect("stores");
            black_box(job);
        },
        || {
            let mut map = shared.borrow_mut();
            let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut *map);
            black_box(
                jobs.update(black_box(ID), |job| job.file_info.size += 1)
                    .expect("updates"),
            );
        },
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let jobs = AsyncJobSession::<TranscriptionJob, _>::new(std::sync::Mutex::new(HashMap::new()));
    rt.block_on(jobs.store(ID, &job_123())).expect("stores");
    update_against_load_store(c, &rt, "mutex_update", &jobs);
}

/// A session of `unrelated` non-job keys (half sorting before `job_`, half
/// after) and ten jobs.
fn session_with<M: FromIterator<(String, Value)>>(unrelated: usize) -> M {
    let job = serde_json::to_value(job_123()).expect("encodes");
    (0..unrelated)
        .map(|i| {
            let key = if i % 2 == 0 {
                format!("analytics_{i}")
            } else {
                format!("user_{i}")
            };
            (key, Value::from(i))
        })
        .chain((0..10).map(|i| (format!("job_job-{i}"), job.clone())))
        .collect()
}

fn ordered_listing<S>(c: &mut Criterion, name: &str)
where
    S: FromIterator<(String, Value)> + Clone + jobsess::SessionBackend,
{
    for unrelated in [0, 10_000] {
        let mut group = c.benchmark_group(format!("{name}_ids_clear/{unrelated}_unrelated"));
        let session: S = session_with(unrelated);
        let mut for_ids = session.clone();
        group.bench_function("ids", |b| {
            b.iter(|| {
                let jobs = JobSession::<UntypedJob, _>::new(&mut for_ids);
                black_box(jobs.ids().expect("lists"))
            });
        });
        // Only `clear()` is timed: the copy it works on is made before the
        // clock starts and dropped after it stops.
        group.bench_function("clear", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut copy = session.clone();
                    let start = Instant::now();
                    let removed = JobSession::<UntypedJob, _>::new(&mut copy).clear();
                    total += start.elapsed();
                    assert_eq!(removed.expect("clears"), 10);
                    drop(black_box(copy));
                }
                total
            });
        });
        group.finish();
    }
}

fn ordered_maps(c: &mut Criterion) {
    ordered_listing::<BTreeMap<String, Value>>(c, "btree_map");
    ordered_listing::<Map<String, Value>>(c, "json_map");
}

criterion_group!(
    benches,
    map_store_load,
    map_load_field,
    map_store_field,
    map_update,
    ordered_maps
);
criterion_main!(benches);
